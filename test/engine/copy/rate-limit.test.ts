// Rate control against real table servers: a Cosmos-like throttling proxy (a token bucket of RU/s,
// 429 with x-ms-retry-after-ms) in front of the destination, and the max-entities-per-second cap.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { runSync } from "../../../src/engine/copy/run-sync.js";
import { startThrottleProxy, type ThrottleProxy } from "../../support/throttle-proxy.js";
import { rawDifferences, rawEntities, syncConfig } from "../../support/sync.js";
import { seedEntities, simpleEntity, uniqueTable } from "../../support/tables.js";

const src = inject("sourceConnectionString");
const dst = inject("destinationConnectionString");

const rk = (i: number) => `r${String(i).padStart(5, "0")}`;
const PARTITIONS = 12;
const PER_PARTITION = 500;
const ENTITIES = PARTITIONS * PER_PARTITION;
const source = uniqueTable("rateSrc");

beforeAll(async () => {
  await seedEntities(
    src,
    source,
    Array.from({ length: PARTITIONS }, (_, p) =>
      Array.from({ length: PER_PARTITION }, (_, i) =>
        simpleEntity(`p${p}`, rk(i), { p, i, text: "x".repeat(200 + (i % 50)) }),
      ),
    ).flat(),
  );
});

describe("a throttling destination (token bucket of RU/s)", () => {
  let proxy: ThrottleProxy;
  // ~5.3 RU per entity (5 per operation + its ~0.3 KiB): 4 000 RU per second let ~750 entities/s through, far
  // below what Azurite takes, so the budget is the bottleneck and 429s must come.
  const RU_PER_SECOND = 4_000;

  beforeAll(async () => {
    proxy = await startThrottleProxy({ target: dst, ruPerSecond: RU_PER_SECOND });
  });
  afterAll(async () => {
    await proxy.stop();
  });

  it("copies every entity exactly, backing off on 429 with a small share of throttled requests", async () => {
    const dest = uniqueTable("rateDst");
    const result = await runSync(
      syncConfig(src, proxy.connectionString(), [[source, dest]], { concurrency: 8 }),
    );
    const table = result.tables[0];
    expect(table.error).toBeUndefined();
    expect(table).toMatchObject({ read: ENTITIES, written: ENTITIES, failed: 0 });
    expect(rawDifferences(await rawEntities(src, source), await rawEntities(dst, dest))).toEqual([]);
    const { stats } = proxy;
    expect(stats.throttled).toBeGreaterThan(0);
    expect(table.throttled).toBe(stats.throttled);
    // A short run spends a larger share finding the budget than a long one (see bench/throttled.ts).
    expect(proxy.throttledShare()).toBeLessThanOrEqual(0.25);
    expect(proxy.budgetUsed()).toBeGreaterThan(0.6);
    console.log(
      `throttle proxy: ${stats.requests} requests, ${stats.throttled} throttled (${(proxy.throttledShare() * 100).toFixed(1)} %), budget used ${(proxy.budgetUsed() * 100).toFixed(1)} %, ${table.durationMs} ms`,
    );
  });
});

describe("max-entities-per-second", () => {
  it("caps the rate at which entities are written", async () => {
    const dest = uniqueTable("capDst");
    const cap = 2_000;
    const started = performance.now();
    const result = await runSync(
      syncConfig(src, dst, [[source, dest]], { concurrency: 8, maxEntitiesPerSecond: cap }),
    );
    const elapsed = performance.now() - started;
    expect(result.tables[0]).toMatchObject({ written: ENTITIES, failed: 0 });
    expect(elapsed).toBeGreaterThanOrEqual((ENTITIES / cap) * 1000 * 0.8);
  });
});
