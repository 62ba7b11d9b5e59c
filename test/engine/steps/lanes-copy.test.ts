// A full sync of a sorted source read through lanes of key ranges (lane-reader.ts), end to end on Azurite:
// every entity exact, resume points (after the first page, one scan's) only where a range ends, and a cancelled run's next run goes on from
// exactly the key its last finished range ends at; a run resumed from one scan's checkpoint goes on by lanes.
import { describe, expect, inject, it } from "vitest";
import { buildConfig } from "../../../src/config/schema.js";
import { runCopy } from "../../../src/engine/steps/full-sync.js";
import { MemoryStateStore } from "../../../src/state/store.js";
import { tableKey } from "../../../src/state/table-key.js";
import { rawDifferences, rawEntities, stepDeps } from "../../support/sync.js";
import { seedEntities, simpleEntity, uniqueTable } from "../../support/tables.js";

const src = inject("sourceConnectionString");
const dst = inject("destinationConnectionString");

/** Lanes whatever the source's speed, ranges of about 300 entities. */
const LANES = { lanes: 4, slowPageMs: 0, rangeEntities: 300 };

function fullSync(table: string) {
  return buildConfig({
    mode: "full-sync",
    tables: table,
    "source-connection-string": src,
    "destination-connection-string": dst,
    "state-store": "file",
  });
}

/** 3,000 entities: one per partition for the first 1,500, then partitions of five. */
function entities() {
  return Array.from({ length: 3_000 }, (_, i) =>
    i < 1_500
      ? simpleEntity(`dev-${String(i * 37).padStart(6, "0")}`, "", { i, d: i / 4 })
      : simpleEntity(`grp-${String(Math.floor(i / 5)).padStart(4, "0")}`, `r${i % 5}`, { i }),
  );
}

describe("a full sync by lanes", () => {
  it("copies every entity exactly, checkpointing only where ranges end", async () => {
    const t = uniqueTable("lanesSync");
    await seedEntities(src, t, entities());
    const store = new MemoryStateStore();
    const run = await runCopy(fullSync(t), stepDeps(store, { ...LANES, checkpointIntervalMs: 1 }));
    expect(run.ok, run.failure).toBe(true);
    expect(run.tables[0].result).toMatchObject({ read: 3_000, written: 3_000, failed: 0 });
    expect(rawDifferences(await rawEntities(src, t), await rawEntities(dst, t))).toEqual([]);
    const points = store.saved
      .map(
        (s) =>
          (JSON.parse(s) as { tables: Record<string, { checkpoint?: { continuation: object } }> }).tables,
      )
      .map((tables) => tables[tableKey({ source: t, destination: t })]?.checkpoint?.continuation)
      .filter((c) => c !== undefined);
    // The first page is one scan's (its token may be saved); after it, only ranges' ends.
    const ranged = points.filter((c) => "rangedFrom" in c);
    expect(ranged.length).toBeGreaterThan(0);
    expect(points.length - ranged.length).toBeLessThanOrEqual(1);
    expect(points.findIndex((c) => "rangedFrom" in c)).toBe(points.length - ranged.length);
  });

  it("cancelled, goes on from where its last finished range ends", async () => {
    const t = uniqueTable("lanesResume");
    const all = entities();
    await seedEntities(src, t, all);
    const store = new MemoryStateStore();
    const controller = new AbortController();
    const first = await runCopy(fullSync(t), stepDeps(store, { ...LANES, checkpointIntervalMs: 1 }), {
      signal: controller.signal,
      onProgress: (p) => p.read >= 1_200 && controller.abort(),
    });
    expect(first.ok).toBe(false);
    const cp = (await store.load())?.tables[tableKey({ source: t, destination: t })]?.checkpoint;
    const stored = cp?.continuation;
    expect(stored && "rangedFrom" in stored).toBe(true);
    const from = stored && "rangedFrom" in stored ? stored.rangedFrom : "";
    // Exactly the partitions before the resume key were counted before it.
    const before = all.filter((e) => e.partitionKey < from).length;
    expect(cp?.read).toBe(before);
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(3_000);
    // Resumed where the source is fast: a ranged point still goes on by ranges, and reads only what is left.
    const second = await runCopy(fullSync(t), stepDeps(store, { ...LANES, slowPageMs: 60_000 }));
    expect(second.ok, second.failure).toBe(true);
    expect(second.tables[0].result.read).toBe(3_000 - before);
    expect(rawDifferences(await rawEntities(src, t), await rawEntities(dst, t))).toEqual([]);
  });

  it("resumed from one scan's checkpoint, goes on by lanes and ends exact", async () => {
    const t = uniqueTable("lanesPlainResume");
    await seedEntities(src, t, entities());
    const store = new MemoryStateStore();
    const controller = new AbortController();
    // One scan (a near source), cancelled part way: its resume point is a plain token.
    const first = await runCopy(fullSync(t), stepDeps(store, { lanes: 1, checkpointIntervalMs: 1 }), {
      signal: controller.signal,
      onProgress: (p) => p.read >= 1_000 && controller.abort(),
    });
    expect(first.ok).toBe(false);
    const cp = (await store.load())?.tables[tableKey({ source: t, destination: t })]?.checkpoint;
    expect(cp && !("rangedFrom" in cp.continuation)).toBe(true);
    const before = cp?.read ?? 0;
    expect(before).toBeGreaterThan(0);
    // Resumed where lanes pay: the token's page, then ranges; every entity exact, each read once.
    const saved = store.saved.length;
    const second = await runCopy(fullSync(t), stepDeps(store, { ...LANES, checkpointIntervalMs: 1 }));
    expect(second.ok, second.failure).toBe(true);
    expect(second.tables[0].result.read).toBe(3_000 - before);
    expect(rawDifferences(await rawEntities(src, t), await rawEntities(dst, t))).toEqual([]);
    const later = store.saved
      .slice(saved)
      .map(
        (s) =>
          (JSON.parse(s) as { tables: Record<string, { checkpoint?: { continuation: object } }> }).tables,
      )
      .map((tables) => tables[tableKey({ source: t, destination: t })]?.checkpoint?.continuation)
      .filter((c) => c !== undefined);
    expect(later.some((c) => "rangedFrom" in c)).toBe(true);
  });
});
