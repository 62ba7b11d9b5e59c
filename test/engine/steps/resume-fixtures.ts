// What the full-sync resume tests (resume.test.ts, full-sync-checkpoints.test.ts) share: tables of entities
// in key order, a full sync's configuration and deps with a state store, and Azurite's continuation tokens.
import { expect, inject } from "vitest";
import { buildConfig } from "../../../src/config/schema.js";
import type { MigrationDeps } from "../../../src/engine/steps/engine-config.js";
import type { MemoryStateStore } from "../../../src/state/store.js";
import type { WireEntity } from "../../../src/engine/wire/edm.js";
import { FAST_RETRY, rawDifferences, rawEntities } from "../../support/sync.js";
import { simpleEntity } from "../../support/tables.js";

export const src = inject("sourceConnectionString");
export const dst = inject("destinationConnectionString");

/** `count` entities in key order. Azurite's pages hold 1 000. */
export function entities(
  count: number,
  extra: (i: number) => Record<string, string | number> = () => ({}),
): WireEntity[] {
  return Array.from({ length: count }, (_, i) =>
    simpleEntity(`p${String(Math.floor(i / 700)).padStart(3, "0")}`, `r${String(i).padStart(6, "0")}`, {
      i,
      ...extra(i),
    }),
  );
}

/**
 * Checkpoints are saved in the background while the copy goes on: tests that cancel at the first one cap
 * the copy so that the cancel lands before its last page, however fast the machine.
 */
export const SLOW = "3000";

export function fullSync(tables: string[], extra: Record<string, string> = {}) {
  return buildConfig({
    mode: "full-sync",
    tables: tables.join(","),
    "source-connection-string": src,
    "destination-connection-string": dst,
    "state-store": "file",
    ...extra,
  });
}

export function deps(store: MemoryStateStore, checkpointIntervalMs?: number): MigrationDeps {
  return {
    store,
    source: { connectionString: src },
    destination: { connectionString: dst },
    retry: FAST_RETRY,
    checkpointIntervalMs,
  };
}

export function azuriteToken(pk: string, rk: string) {
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  return { nextPartitionKey: b64(pk), nextRowKey: b64(rk) };
}

export async function expectExact(table: string): Promise<void> {
  expect(rawDifferences(await rawEntities(src, table), await rawEntities(dst, table))).toEqual([]);
}
