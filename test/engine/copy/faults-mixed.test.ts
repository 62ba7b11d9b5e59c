// Every kind of fault at once, on a share of both reads and writes, through proxies on both sides:
// a network fault costs time, never data — the destination ends exact and the counts are exact.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { runSync } from "../../../src/engine/copy/run-sync.js";
import { BATCH, QUERY, faults, startFaultProxy, type FaultProxy } from "../../support/fault-proxy.js";
import { rawDifferences, rawEntities, syncConfig } from "../../support/sync.js";
import { seedEntities, simpleEntity, uniqueTable } from "../../support/tables.js";

const src = inject("sourceConnectionString");
const dst = inject("destinationConnectionString");

describe("a run through a mix of faults", () => {
  let sourceProxy: FaultProxy;
  let destinationProxy: FaultProxy;
  const table = uniqueTable("mixSrc");

  beforeAll(async () => {
    // 2,400 entities in 8 partitions: 3 pages of up to 1,000, 24 transactions.
    await seedEntities(
      src,
      table,
      Array.from({ length: 2400 }, (_, i) =>
        simpleEntity(`p${i % 8}`, `r${String(i).padStart(5, "0")}`, { i, d: i + 0.25 }),
      ),
    );
    const shared = [
      { probability: 0.08, fault: faults.status(429) },
      { probability: 0.06, fault: faults.status(503, { "x-ms-retry-after-ms": "10" }) },
      { probability: 0.05, fault: faults.status(500) },
      { probability: 0.05, fault: faults.reset() },
      { probability: 0.03, fault: faults.stall(1_500) },
      { probability: 0.05, fault: faults.truncate(0.5) },
    ];
    sourceProxy = await startFaultProxy({
      target: src,
      seed: 11,
      rules: shared.map((r) => ({ ...QUERY, ...r })),
    });
    destinationProxy = await startFaultProxy({
      target: dst,
      seed: 13,
      rules: shared.map((r) => ({ ...BATCH, ...r })),
    });
  });

  afterAll(async () => {
    await sourceProxy.stop();
    await destinationProxy.stop();
  });

  it("ends with an exact destination and exact counts", async () => {
    const dest = uniqueTable("mixDst");
    const result = await runSync(
      syncConfig(sourceProxy.connectionString(), destinationProxy.connectionString(), [[table, dest]], {
        retry: {
          baseDelayMs: 20,
          maxDelayMs: 200,
          requestTimeoutMs: 1_000,
          maxRetries: 30,
          maxNetworkRetries: 30,
        },
      }),
    );
    const t = result.tables[0];
    expect(t.error).toBeUndefined();
    expect(t).toMatchObject({ read: 2400, written: 2400, failed: 0, skipped: 0 });
    expect(rawDifferences(await rawEntities(src, table), await rawEntities(dst, dest))).toEqual([]);
    // The faults really happened, of every kind, on both sides.
    const kinds = new Set([
      ...Object.keys(sourceProxy.stats.byFault),
      ...Object.keys(destinationProxy.stats.byFault),
    ]);
    expect(sourceProxy.stats.faults + destinationProxy.stats.faults).toBeGreaterThan(5);
    expect(kinds.size).toBeGreaterThanOrEqual(4);
    expect(t.retries).toBeGreaterThanOrEqual(destinationProxy.stats.faults);
  });
});
