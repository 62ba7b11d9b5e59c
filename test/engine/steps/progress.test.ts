// A full sync's progress against the table's known size (preflight's count, or the last complete full sync's,
// kept in the state): percent, rate and time left; without a known size, entities and rate as before.
import { describe, expect, inject, it } from "vitest";
import { runCopy } from "../../../src/engine/steps/full-sync.js";
import { runPreflight } from "../../../src/engine/steps/preflight.js";
import type { MeteredProgress } from "../../../src/engine/steps/progress.js";
import { etaText } from "../../../src/present/progress.js";
import { tableKey } from "../../../src/state/table-key.js";
import { MemoryStateStore } from "../../../src/state/store.js";
import { stepConfig, stepDeps } from "../../support/sync.js";
import { seedEntities, simpleEntity, uniqueTable } from "../../support/tables.js";

const COUNT = 4_000;

async function seeded(prefix: string): Promise<string> {
  const t = uniqueTable(prefix);
  await seedEntities(
    inject("sourceConnectionString"),
    t,
    Array.from({ length: COUNT }, (_, i) =>
      simpleEntity(`p${Math.floor(i / 900)}`, `r${String(i).padStart(5, "0")}`, { i }),
    ),
  );
  return t;
}

async function fullSync(t: string, store: MemoryStateStore, extra: Record<string, string> = {}) {
  const seen: MeteredProgress[] = [];
  const result = await runCopy(stepConfig("full-sync", t, extra), stepDeps(store), {
    onProgress: (p) => seen.push(p),
  });
  expect(result.ok, result.failure).toBe(true);
  return { result, seen };
}

describe("progress", () => {
  it("with the size preflight counted: percent, rate and time left, ending at 100 %", async () => {
    const t = await seeded("etaPre");
    const store = new MemoryStateStore();
    const pre = await runPreflight(stepConfig("preflight", t), stepDeps(store));
    expect(pre.ok, pre.failure).toBe(true);
    const { result, seen } = await fullSync(t, store);
    expect(seen.length).toBeGreaterThanOrEqual(4); // a line per page of 1,000 at least
    for (const p of seen) {
      expect(p.eta).toMatchObject({ expected: COUNT, sizeBy: "preflight", done: p.read });
      expect(p.eta?.percent).toBe(Math.round((p.read * 1000) / COUNT) / 10);
    }
    const percents = seen.map((p) => p.eta?.percent ?? -1);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    const last = seen[seen.length - 1];
    expect(last.eta).toMatchObject({ percent: 100, secondsLeft: 0 });
    // Part-way, time left is what is left at the run's rate.
    const mid = seen.find((p) => p.read > 0 && p.read < COUNT && (p.perSecond ?? 0) > 0);
    expect(mid?.eta?.secondsLeft).toBe(Math.ceil((COUNT - (mid?.read ?? 0)) / (mid?.perSecond ?? 1)));
    expect(etaText(last.eta!)).toMatch(
      /^100\.0 % of 4,000 entities \(counted by preflight\), [\d,]+\/s, nothing left$/,
    );
    // The summary gets the table's last figures.
    expect(result.tables[0].eta).toEqual(last.eta);
    // The complete full sync records its own count for the next one.
    const size = (await store.load())?.tables[tableKey({ source: t, destination: t })]?.size;
    expect(size).toMatchObject({ entities: COUNT, by: "full-sync" });
  });

  it("with the size the last full sync counted", async () => {
    const t = await seeded("etaLast");
    const store = new MemoryStateStore();
    await fullSync(t, store);
    const { seen } = await fullSync(t, store);
    expect(seen.every((p) => p.eta?.expected === COUNT && p.eta.sizeBy === "full-sync")).toBe(true);
  });

  it("without a known size: entities and rate only", async () => {
    const t = await seeded("etaNone");
    const { result, seen } = await fullSync(t, new MemoryStateStore());
    expect(seen.length).toBeGreaterThan(0);
    for (const p of seen) {
      expect(p.eta).toBeUndefined();
      expect(p.perSecond).toBeGreaterThanOrEqual(0);
    }
    expect(result.tables[0].eta).toBeUndefined();
  });

  it("a full sync with a query-filter reads part of the table: its size does not apply", async () => {
    const t = await seeded("etaFilter");
    const store = new MemoryStateStore();
    await runPreflight(stepConfig("preflight", t), stepDeps(store));
    const { seen } = await fullSync(t, store, { "query-filter": "PartitionKey ge 'p2'" });
    expect(seen.every((p) => p.eta === undefined)).toBe(true);
  });
});
