// Helpers for engine tests: a default run configuration and wire-level table comparisons.
import { inject } from "vitest";
import { buildConfig, type SyncConfig } from "../../src/config/schema.js";
import type { MigrationDeps } from "../../src/engine/steps/engine-config.js";
import { parseRawJson, RawNumber, type RawJson } from "../../src/engine/wire/raw-json.js";
import type { EngineConfig } from "../../src/engine/copy/run-config.js";
import type { StateStore } from "../../src/state/store.js";
import { httpFor } from "./tables.js";

/** Fast retries for tests: hints and backoff stay in tens of milliseconds. */
export const FAST_RETRY = { baseDelayMs: 20, maxDelayMs: 200 };

/** A migration step's inputs from the test source to the test destination (`tables` as the input takes it). */
export function stepConfig(mode: string, tables: string, extra: Record<string, string> = {}): SyncConfig {
  return buildConfig({
    mode,
    tables,
    "source-connection-string": inject("sourceConnectionString"),
    "destination-connection-string": inject("destinationConnectionString"),
    "state-store": "file",
    ...extra,
  });
}

/** What a step runs with: the two test servers, a state store (usually a MemoryStateStore), fast retries. */
export function stepDeps(store: StateStore | undefined, extra: Partial<MigrationDeps> = {}): MigrationDeps {
  return {
    store,
    source: { connectionString: inject("sourceConnectionString") },
    destination: { connectionString: inject("destinationConnectionString") },
    retry: FAST_RETRY,
    ...extra,
  };
}

export function syncConfig(
  source: string,
  destination: string,
  tables: (string | [string, string])[],
  overrides: Partial<EngineConfig> = {},
): EngineConfig {
  return {
    source: { connectionString: source },
    destination: { connectionString: destination },
    tables: tables.map((t) =>
      typeof t === "string" ? { source: t, destination: t } : { source: t[0], destination: t[1] },
    ),
    writeMode: "replace",
    propertyRenames: [],
    concurrency: 4,
    createTables: true,
    dryRun: false,
    maxFailuresKept: 50,
    retry: FAST_RETRY,
    ...overrides,
  };
}

/** JSON text with every number literal exactly as it was received. */
export function rawText(value: RawJson): string {
  if (value instanceof RawNumber) return value.raw;
  if (value instanceof Map) {
    return `{${[...value].map(([k, v]) => `${JSON.stringify(k)}:${rawText(v)}`).join(",")}}`;
  }
  if (Array.isArray(value)) return `[${value.map(rawText).join(",")}]`;
  return JSON.stringify(value);
}

/** What the server set, not the writer: left out of comparisons. */
const SERVER_SET = new Set(["odata.etag", "Timestamp", "Timestamp@odata.type", "odata.metadata"]);

/**
 * Every entity of a table as the raw JSON text the server sent (minimal metadata), without the
 * server-set Timestamp and ETag and with properties sorted by name, keyed by PartitionKey + NUL + RowKey.
 */
export async function rawEntities(connectionString: string, table: string): Promise<Map<string, string>> {
  const http = httpFor(connectionString);
  const out = new Map<string, string>();
  let next: { pk: string; rk?: string } | undefined;
  do {
    const params = new URLSearchParams();
    if (next) {
      params.set("NextPartitionKey", next.pk);
      if (next.rk !== undefined) params.set("NextRowKey", next.rk);
    }
    const qs = params.toString();
    const res = await http.send({
      method: "GET",
      url: `${http.url}/${table}()${qs ? `?${qs}` : ""}`,
      headers: { Accept: "application/json;odata=minimalmetadata" },
    });
    if (res.status !== 200) throw new Error(`reading ${table}: HTTP ${res.status} ${res.body.slice(0, 300)}`);
    const page = parseRawJson(res.body);
    if (!(page instanceof Map) || !Array.isArray(page.get("value"))) throw new Error("not a query response");
    for (const item of page.get("value") as RawJson[]) {
      if (!(item instanceof Map)) throw new Error("not an entity");
      const kept = [...item]
        .filter(([k]) => !SERVER_SET.has(k))
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const key = `${String(item.get("PartitionKey"))}\u0000${String(item.get("RowKey"))}`;
      out.set(key, rawText(new Map(kept)));
    }
    const npk = res.headers["x-ms-continuation-nextpartitionkey"];
    next = npk ? { pk: npk, rk: res.headers["x-ms-continuation-nextrowkey"] } : undefined;
  } while (next);
  return out;
}

/** Keys whose raw text differs between two tables (missing on either side included). */
export function rawDifferences(a: Map<string, string>, b: Map<string, string>): string[] {
  const diffs: string[] = [];
  for (const [k, v] of a) if (b.get(k) !== v) diffs.push(k.replace("\u0000", " / "));
  for (const k of b.keys()) if (!a.has(k)) diffs.push(k.replace("\u0000", " / "));
  return diffs;
}

export function key(pk: string, rk: string): string {
  return `${pk}\u0000${rk}`;
}
