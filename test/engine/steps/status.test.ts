// The status step against Azurite: one table walked through every phase of a migration (not started, full
// sync in progress, full sync done, backfilling, switched), the status taken at each, and nothing written by
// it; without a state it fails with one sentence.
import { describe, expect, inject, it } from "vitest";
import { buildConfig } from "../../../src/config/schema.js";
import { runCopy } from "../../../src/engine/steps/full-sync.js";
import { runSwitch } from "../../../src/engine/steps/switch.js";
import { runStatus } from "../../../src/engine/steps/status.js";
import { MemoryStateStore } from "../../../src/state/store.js";
import { FAST_RETRY, stepConfig, stepDeps } from "../../support/sync.js";
import { seedEntities, simpleEntity, uniqueTable } from "../../support/tables.js";

const src = inject("sourceConnectionString");
const COUNT = 3_000;

function status(tables: string, source = true) {
  return buildConfig({
    mode: "status",
    tables,
    ...(source && { "source-connection-string": src }),
    "state-store": "file",
  });
}

async function statusOf(store: MemoryStateStore, tables: string, source = true) {
  const before = store.saved.length;
  const result = await runStatus(status(tables, source), {
    store,
    source: source ? { connectionString: src } : undefined,
    retry: FAST_RETRY,
  });
  // The status step writes nothing.
  expect(store.saved.length).toBe(before);
  return result;
}

describe("status", () => {
  it("without a state: not ok, one sentence naming the store and what to run", async () => {
    const result = await statusOf(new MemoryStateStore(), "orders");
    expect(result.ok).toBe(false);
    expect(result.failure).toBe(
      "No state was found in memory: run full-sync first, or give this step the state-store and state-key the migration's other steps use.",
    );
  });

  it("follows one table through every phase", async () => {
    const t = uniqueTable("status");
    const other = uniqueTable("statusOther");
    await seedEntities(
      src,
      t,
      Array.from({ length: COUNT }, (_, i) =>
        simpleEntity(`p${Math.floor(i / 700)}`, `r${String(i).padStart(5, "0")}`, { i }),
      ),
    );
    await seedEntities(src, other, [simpleEntity("a", "b")]);
    const store = new MemoryStateStore();
    await runCopy(stepConfig("full-sync", other), stepDeps(store));

    // Not started: the state knows another table only.
    let s = await statusOf(store, t);
    expect(s.ok).toBe(true);
    expect(s.tables[0]).toMatchObject({ source: t, phase: "not started", history: [] });
    expect(s.tables[0].next).toMatch(/^Run preflight .*then full-sync\.$/);
    // Without 'tables': every table in the state.
    expect((await statusOf(store, "")).tables.map((x) => x.source)).toEqual([other.toLowerCase()]);

    // Full sync in progress: cancelled at its first checkpoint.
    const controller = new AbortController();
    const cut = await runCopy(
      stepConfig("full-sync", t, { "max-entities-per-second": "2000" }),
      stepDeps(store, { checkpointIntervalMs: 1 }),
      { signal: controller.signal, onCheckpoint: () => controller.abort() },
    );
    expect(cut.ok).toBe(false);
    s = await statusOf(store, t);
    const cp = s.tables[0].checkpoint;
    expect(s.tables[0].phase).toBe("full sync in progress");
    expect(cp?.read).toBeGreaterThan(0);
    expect(cp?.read).toBeLessThan(COUNT);
    expect(s.tables[0].entitiesCopied).toBe(cp?.written);
    expect(s.tables[0].next).toBe(
      `Run full-sync again with the same inputs and state: it resumes after the first ${cp?.read} entities.`,
    );

    // Full sync done.
    const done = await runCopy(stepConfig("full-sync", t), stepDeps(store));
    expect(done.ok, done.failure).toBe(true);
    s = await statusOf(store, t);
    expect(s.tables[0]).toMatchObject({
      phase: "full sync done",
      entitiesCopied: COUNT,
      checkpoint: undefined,
    });
    expect(s.tables[0].watermark).toBe(done.lastSyncUtc);
    // Lag now on the source's clock: from the watermark to the source's Date header.
    expect(s.sourceClock).toBeDefined();
    expect(s.tables[0].lagNowSeconds).toBe(
      Math.round((Date.parse(s.sourceClock!) - Date.parse(s.tables[0].watermark!)) / 1000),
    );
    expect(s.tables[0].next).toMatch(/^Start the backfill schedule/);

    // Backfilling: three backfills, each a point in the history with its changed count.
    const changed: number[] = [];
    for (const n of [2, 0, 5]) {
      if (n)
        await seedEntities(
          src,
          t,
          Array.from({ length: n }, (_, i) => simpleEntity("new", `n${changed.length}-${i}`)),
        );
      const b = await runCopy(stepConfig("backfill", t, { "overlap-seconds": "0" }), stepDeps(store));
      expect(b.ok, b.failure).toBe(true);
      changed.push(b.changedEntities ?? -1);
    }
    s = await statusOf(store, t);
    expect(s.tables[0].phase).toBe("backfilling");
    expect(s.tables[0].history.map((p) => p.changed)).toEqual(changed);
    expect(s.tables[0].next).toMatch(
      /^Keep the backfills running, and switch .*: the last backfill left \d+ s of lag with \d+ entities changed\.$/,
    );

    // Switched.
    const sw = await runSwitch(stepConfig("switch", t), stepDeps(store));
    expect(sw.ok, sw.failure).toBe(true);
    s = await statusOf(store, t);
    expect(s.tables[0]).toMatchObject({ phase: "switched", switchedAt: sw.switchedAt });
    // The switch's final backfill is a backfill too: one more point.
    expect(s.tables[0].history).toHaveLength(4);

    // Without the source: the same phases, no lag now, and a sentence saying why.
    const offline = await statusOf(store, t, false);
    expect(offline.tables[0].lagNowSeconds).toBeUndefined();
    expect(offline.notices).toContain(
      "No source was given, so the lag now (on the source's clock) is not shown.",
    );
  });

  it("a backfill read through key ranges (read-ranges) adds one point per table, not one per range", async () => {
    const t = uniqueTable("statusRanges");
    await seedEntities(
      src,
      t,
      Array.from({ length: 400 }, (_, i) => simpleEntity(`p${String(i % 8)}`, `r${i}`, { i })),
    );
    const store = new MemoryStateStore();
    expect((await runCopy(stepConfig("full-sync", t), stepDeps(store))).ok).toBe(true);
    await seedEntities(src, t, [simpleEntity("p1", "new"), simpleEntity("p6", "new")]);
    const b = await runCopy(
      stepConfig("backfill", t, { "overlap-seconds": "0", "read-ranges": "2" }),
      stepDeps(store),
    );
    expect(b.ok, b.failure).toBe(true);
    const s = await statusOf(store, t);
    expect(s.tables[0].phase).toBe("backfilling");
    expect(s.tables[0].history).toEqual([
      { at: expect.any(String), lagSeconds: b.tables[0].lagSeconds, changed: b.tables[0].result.read },
    ]);
  });
});
