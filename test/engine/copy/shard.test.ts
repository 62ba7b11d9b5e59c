// Sharding: n jobs share one table by partition-key ranges sampled from the actual keys, agree on them through
// the state store, keep their own checkpoints and watermarks, and together cover every key exactly once.
import { describe, expect, inject, it } from "vitest";
import { buildConfig } from "../../../src/config/schema.js";
import { runCopy } from "../../../src/engine/steps/full-sync.js";
import type { MigrationDeps } from "../../../src/engine/steps/engine-config.js";
import { tableKey } from "../../../src/state/table-key.js";
import { MemoryStateStore } from "../../../src/state/store.js";
import type { WireEntity } from "../../../src/engine/wire/edm.js";
import { rawDifferences, rawEntities, stepConfig, stepDeps } from "../../support/sync.js";
import { startFaultProxy } from "../../support/fault-proxy.js";
import { seedEntities, simpleEntity, uniqueTable } from "../../support/tables.js";

const src = inject("sourceConnectionString");
const dst = inject("destinationConnectionString");

const config = stepConfig;

function deps(store: MemoryStateStore, extra: Partial<MigrationDeps> = {}): MigrationDeps {
  return stepDeps(store, { shardSettleMs: 200, shardPollMs: 50, shardHeartbeatMs: 200, ...extra });
}

/**
 * Skewed keys, as real tables have them: many small partitions under "a…", a few big ones under "m…", one
 * awkward key with a quote. An alphabetical split would put nearly everything in one shard.
 */
function skewed(): WireEntity[] {
  const out: WireEntity[] = [];
  for (let p = 0; p < 60; p++)
    for (let r = 0; r < 10; r++) out.push(simpleEntity(`a${String(p).padStart(3, "0")}`, `r${r}`, { p, r }));
  for (let p = 0; p < 4; p++)
    for (let r = 0; r < 450; r++) out.push(simpleEntity(`m${p}`, `r${String(r).padStart(4, "0")}`, { p, r }));
  for (let r = 0; r < 5; r++) out.push(simpleEntity(`o'brien`, `r${r}`, { r }));
  return out;
}

async function expectExact(table: string): Promise<void> {
  expect(rawDifferences(await rawEntities(src, table), await rawEntities(dst, table))).toEqual([]);
}

describe("sharded copies", () => {
  it("n shards at once cover every key exactly once, evenly, and then a plain backfill takes over", async () => {
    const t = uniqueTable("shard");
    const all = skewed();
    await seedEntities(src, t, all);
    await new Promise((r) => setTimeout(r, 1_100)); // the source clock has 1 s resolution
    const store = new MemoryStateStore();
    const n = 4;
    const runs = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        runCopy(config("full-sync", t, { shard: `${i + 1}/${n}` }), deps(store)),
      ),
    );
    for (const r of runs) expect(r.ok, JSON.stringify(r.tables.map((x) => x.result.error))).toBe(true);
    const reads = runs.map((r) => r.tables[0].result.read);
    // Every key exactly once: the reads add up to the table, and the destination is exact.
    expect(reads.reduce((a, b) => a + b, 0)).toBe(all.length);
    await expectExact(t);
    // Sampled, not alphabetical: no shard holds much more than its share (a partition is never split, and
    // the big partitions here hold 450 of 2 405 entities each).
    expect(Math.max(...reads)).toBeLessThanOrEqual(all.length / n + 450);
    expect(Math.min(...reads)).toBeGreaterThan(0);
    // Each shard recorded its own watermark under the one plan; the table's is the oldest of them.
    const state = (await store.load())!;
    const entry = state.tables[tableKey({ source: t, destination: t })];
    expect(entry.shardPlan?.count).toBe(n);
    const marks = Object.values(entry.shards ?? {}).map((s) => s.watermark!);
    expect(marks).toHaveLength(n);
    expect(new Set(Object.values(entry.shards ?? {}).map((s) => s.plan))).toEqual(
      new Set([entry.shardPlan!.id]),
    );
    expect(entry.watermark).toBe(marks.sort()[0]);
    expect(state.fullSyncShards).toBeUndefined();
    // The notices say which range each shard read.
    expect(runs[0].notices.join("\n")).toMatch(
      /Shard 1\/4 of table \w+ reads PartitionKey from the start up to/,
    );

    // Changes after the sharded full sync reach the destination through an ordinary backfill.
    await new Promise((r) => setTimeout(r, 1_100));
    await seedEntities(src, t, [
      simpleEntity("a001", "r0", { changed: 1 }),
      simpleEntity("zz", "new", { x: 1 }),
    ]);
    const back = await runCopy(config("backfill", t, { "overlap-seconds": "0" }), deps(store));
    expect(back.ok, back.failure).toBe(true);
    expect(back.tables[0].result.read).toBe(2);
    await expectExact(t);
  });

  it("shards starting together scan the keys once: the others wait for the sampler's plan", async () => {
    const t = uniqueTable("shardOnce");
    const all = skewed();
    await seedEntities(src, t, all);
    const proxy = await startFaultProxy({ target: src });
    try {
      const store = new MemoryStateStore();
      const through = (shard: string) =>
        buildConfig({
          mode: "full-sync",
          tables: t,
          "source-connection-string": proxy.connectionString(),
          "destination-connection-string": dst,
          "state-store": "file",
          shard,
        });
      const viaProxy = { ...deps(store), source: { connectionString: proxy.connectionString() } };
      const first = runCopy(through("1/3"), viaProxy);
      await new Promise((r) => setTimeout(r, 30)); // shard 1 announces itself first
      const runs = await Promise.all([
        first,
        runCopy(through("2/3"), viaProxy),
        runCopy(through("3/3"), viaProxy),
      ]);
      for (const r of runs) expect(r.ok, r.failure).toBe(true);
      expect(runs.reduce((n, r) => n + r.tables[0].result.read, 0)).toBe(all.length);
      // One projection scan of the keys (its first page has no continuation parameters), not three.
      const scans = proxy
        .requests("GET", /select=PartitionKey/)
        .filter((e) => !/NextPartitionKey/.test(e.path));
      expect(scans).toHaveLength(1);
      const state = (await store.load())!;
      expect(state.tables[tableKey({ source: t, destination: t })].shardSampling).toBeUndefined();
      await expectExact(t);
    } finally {
      await proxy.stop();
    }
  });

  it("a shard resumes from its own checkpoint; the plan stays; other shards are untouched", async () => {
    const t = uniqueTable("shardRes");
    // 3 000 entities, three pages, per shard: the cancel after the first checkpoint lands before the last page.
    const all = Array.from({ length: 6_000 }, (_, i) =>
      simpleEntity(`p${String(Math.floor(i / 300)).padStart(2, "0")}`, `r${String(i).padStart(5, "0")}`, {
        i,
      }),
    );
    await seedEntities(src, t, all);
    const store = new MemoryStateStore();
    const first = await runCopy(config("full-sync", t, { shard: "1/2" }), deps(store));
    expect(first.ok, first.failure).toBe(true);
    // Shard 2 is cancelled after its first checkpoint. Checkpoints are saved in the background while
    // the copy goes on: the cap keeps the copy slow enough for the cancel to land before the last page.
    const abort = new AbortController();
    const second = await runCopy(
      config("full-sync", t, { shard: "2/2", "max-entities-per-second": "3000" }),
      deps(store, { checkpointIntervalMs: 1 }),
      { signal: abort.signal, onCheckpoint: () => abort.abort() },
    );
    expect(second.ok).toBe(false);
    const key = tableKey({ source: t, destination: t });
    let state = (await store.load())!;
    const cp = state.tables[key].shards?.["2/2"]?.checkpoint;
    expect(cp?.read).toBeGreaterThan(0);
    expect(state.tables[key].watermark).toBeUndefined(); // not every shard is done
    expect(state.fullSyncShards?.["2/2"]).toBeDefined();
    const plan = state.tables[key].shardPlan!.id;
    const again = await runCopy(config("full-sync", t, { shard: "2/2" }), deps(store));
    expect(again.ok, again.failure).toBe(true);
    expect(again.notices.join(" ")).toContain("Resuming the full sync");
    // Only what came after the checkpoint was read again, and together the shards read the table once.
    expect(cp!.read + again.tables[0].result.read).toBe(all.length - first.tables[0].result.read);
    await expectExact(t);
    state = (await store.load())!;
    expect(state.tables[key].shardPlan!.id).toBe(plan);
    expect(state.tables[key].watermark).toBeDefined();
    expect(state.tables[key].shards?.["1/2"]?.watermark).toBe(first.tables[0].watermarkAfter);
  });

  it("shards whose plans were sampled apart still agree: the first plan stored wins", async () => {
    const t = uniqueTable("shardRace");
    await seedEntities(src, t, skewed());
    const store = new MemoryStateStore();
    // Two shards sample while a writer adds partitions, so their samples differ; both must read by one plan.
    const writer = (async () => {
      for (let i = 0; i < 20; i++)
        await seedEntities(src, t, [simpleEntity(`b${String(i).padStart(2, "0")}`, "r", { i })]);
    })();
    const runs = await Promise.all([
      runCopy(config("full-sync", t, { shard: "1/2" }), deps(store)),
      runCopy(config("full-sync", t, { shard: "2/2" }), deps(store)),
    ]);
    await writer;
    for (const r of runs) expect(r.ok, r.failure).toBe(true);
    const state = (await store.load())!;
    const entry = state.tables[tableKey({ source: t, destination: t })];
    expect(entry.shards?.["1/2"]?.plan).toBe(entry.shardPlan?.id);
    expect(entry.shards?.["2/2"]?.plan).toBe(entry.shardPlan?.id);
    // The writes during the run are after the watermark: a backfill brings them over.
    const back = await runCopy(config("backfill", t), deps(store));
    expect(back.ok, back.failure).toBe(true);
    await expectExact(t);
  });

  it("a sharded backfill reads only its range of the changes", async () => {
    const t = uniqueTable("shardBf");
    await seedEntities(src, t, skewed());
    await new Promise((r) => setTimeout(r, 1_100)); // the source clock has 1 s resolution
    const store = new MemoryStateStore();
    for (const i of [1, 2]) {
      const r = await runCopy(config("full-sync", t, { shard: `${i}/2` }), deps(store));
      expect(r.ok, r.failure).toBe(true);
    }
    await new Promise((r) => setTimeout(r, 1_100));
    await seedEntities(src, t, [simpleEntity("a000", "new", { x: 1 }), simpleEntity("zzz", "new", { x: 2 })]);
    const reads: number[] = [];
    for (const i of [1, 2]) {
      const r = await runCopy(
        config("backfill", t, { shard: `${i}/2`, "overlap-seconds": "0" }),
        deps(store),
      );
      expect(r.ok, r.failure).toBe(true);
      expect(r.tables[0].result.filter).toMatch(/^\(Timestamp ge datetime'.*'\) and \(|PartitionKey/);
      reads.push(r.tables[0].result.read);
    }
    expect(reads).toEqual([1, 1]);
    await expectExact(t);
  });

  it("a dry-run shard reads and counts its range and leaves the state as it was", async () => {
    const t = uniqueTable("shardDry");
    const all = skewed();
    await seedEntities(src, t, all);
    const store = new MemoryStateStore();
    const reads: number[] = [];
    for (const i of [1, 2]) {
      const r = await runCopy(config("full-sync", t, { shard: `${i}/2`, "dry-run": "true" }), deps(store));
      expect(r.ok, r.failure).toBe(true);
      reads.push(r.tables[0].result.read);
    }
    expect(reads[0] + reads[1]).toBe(all.length);
    expect(reads[0]).toBeGreaterThan(0);
    expect(store.saved).toEqual([]);
  });

  it("without a state store a shard is refused with the reason", async () => {
    const t = uniqueTable("shardNo");
    await expect(
      runCopy(config("full-sync", t, { shard: "1/2" }), {
        ...deps(new MemoryStateStore()),
        store: undefined,
      }),
    ).rejects.toThrow(/Input 'shard' needs a state store shared by the shards/);
  });

  it("read-ranges: one job reads a table through k ranges at once, exactly once, and keeps one watermark", async () => {
    const t = uniqueTable("ranges");
    const all = skewed();
    await seedEntities(src, t, all);
    await new Promise((r) => setTimeout(r, 1_100)); // the source clock has 1 s resolution
    const store = new MemoryStateStore();
    const seen: number[] = [];
    const r = await runCopy(config("full-sync", t, { "read-ranges": "3", concurrency: "6" }), deps(store), {
      onProgress: (p) => seen.push(p.read),
    });
    expect(r.ok, r.failure).toBe(true);
    expect(r.tables).toHaveLength(1);
    expect(r.tables[0].result).toMatchObject({ read: all.length, written: all.length, failed: 0 });
    expect(r.notices.filter((n) => n.startsWith("Range "))).toHaveLength(3);
    // Progress is the sum over the ranges, so it never goes backwards.
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    await expectExact(t);
    const key = tableKey({ source: t, destination: t });
    const state = (await store.load())!;
    expect(Object.keys(state.tables[key].shards ?? {}).sort()).toEqual(["1/3", "2/3", "3/3"]);
    expect(r.tables[0].watermarkAfter).toBe(state.tables[key].watermark);
    expect(r.lastSyncUtc).toBe(state.tables[key].watermark);
    // An ordinary backfill takes over from the table's watermark.
    await seedEntities(src, t, [simpleEntity("zz", "x", { n: 1 })]);
    const back = await runCopy(config("backfill", t, { "overlap-seconds": "0" }), deps(store));
    expect(back.ok, back.failure).toBe(true);
    expect(back.tables[0].result.read).toBe(1);
    await expectExact(t);
  });

  it("read-ranges without a state store (the CLI without --state-file) still copies everything once", async () => {
    const t = uniqueTable("rangesNo");
    const all = skewed();
    await seedEntities(src, t, all);
    const r = await runCopy(config("full-sync", t, { "read-ranges": "4" }), {
      ...deps(new MemoryStateStore()),
      store: undefined,
    });
    expect(r.ok, r.failure).toBe(true);
    expect(r.tables[0].result.read).toBe(all.length);
    await expectExact(t);
  });
});
