// Resume: a full sync checkpoints every table (only past fully written pages), a cancelled run saves one last
// checkpoint, and the next full sync skips the finished tables and resumes the others from their checkpoints.
import { describe, expect, it } from "vitest";
import { buildConfig } from "../../../src/config/schema.js";
import { runCopy } from "../../../src/engine/steps/full-sync.js";
import { tableKey } from "../../../src/state/table-key.js";
import { MemoryStateStore } from "../../../src/state/store.js";
import { readAll, seedEntities, uniqueTable } from "../../support/tables.js";
import { deps, dst, entities, expectExact, fullSync, SLOW, src } from "./resume-fixtures.js";

describe("resume", () => {
  it("a cancelled full sync checkpoints; the next one reads only from there and keeps the first scan's clock", async () => {
    const t = uniqueTable("resume");
    await seedEntities(src, t, entities(5_000));
    const store = new MemoryStateStore();
    const controller = new AbortController();
    const first = await runCopy(fullSync([t]), deps(store), {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.read >= 3_000) controller.abort();
      },
    });
    expect(first.ok).toBe(false);
    expect(first.failure).toBe(
      `The run was cancelled; a checkpoint was saved: the next full sync resumes table ${t} after its first 3000 entities.`,
    );
    const key = tableKey({ source: t, destination: t });
    const saved = (await store.load())!;
    const cp = saved.tables[key].checkpoint!;
    expect(cp).toMatchObject({ mode: "full-sync", read: 3_000, written: 3_000 });
    expect(cp.sourceClockAtStart).toBe(first.tables[0].result.sourceClockAtStart);
    expect(saved.tables[key].watermark).toBeUndefined();
    expect(saved.fullSync?.done).toEqual([]);

    // Later, so the second scan's clock is a different second than the first's.
    await new Promise((r) => setTimeout(r, 1_100));
    const notices: string[] = [];
    const second = await runCopy(fullSync([t]), deps(store), { onNotice: (n) => notices.push(n) });
    expect(second.ok, second.failure).toBe(true);
    expect(notices).toEqual([
      expect.stringMatching(
        new RegExp(
          `^Resuming the full sync started at .*: 0 of 1 table already done, table ${t} after its first 3000 entities from its checkpoint\\.$`,
        ),
      ),
    ]);
    expect(second.notices).toEqual(notices);
    const r = second.tables[0].result;
    expect(r.read).toBe(2_000);
    expect(Date.parse(r.sourceClockAtStart!)).toBeGreaterThan(Date.parse(cp.sourceClockAtStart));
    await expectExact(t);
    const after = (await store.load())!;
    // The changes since the first scan began are still ahead: the watermark is that scan's clock.
    expect(after.tables[key].watermark).toBe(cp.sourceClockAtStart);
    expect(after.tables[key].checkpoint).toBeUndefined();
    expect(after.fullSync).toBeUndefined();

    // A full sync after a completed one starts from the beginning again.
    const third = await runCopy(fullSync([t]), deps(store));
    expect(third.tables[0].result.read).toBe(5_000);
    expect(third.notices).toEqual([]);
  });

  it("does not copy the tables an interrupted full sync finished", async () => {
    const a = uniqueTable("resumeA");
    const b = uniqueTable("resumeB");
    const c = uniqueTable("resumeC");
    const BIG = 16_000;
    await seedEntities(src, a, entities(1_500));
    await seedEntities(src, b, entities(BIG));
    await seedEntities(src, c, entities(200));
    const store = new MemoryStateStore();
    const controller = new AbortController();
    // The tables are copied at once (the small ones sometimes finish after several of the big one's pages).
    // Cancel once 3 000 of the big one's entities have landed (so its first two pages surely have: what is
    // in flight at the cancel may miss the grace period on a loaded machine) and the small ones have
    // finished, whichever comes last: which of those happens first is the scheduler's business, not the test's.
    const ended = new Set<string>();
    let bWritten = 0;
    const maybeCancel = () => {
      if (bWritten >= 3_000 && ended.has(a) && ended.has(c)) controller.abort();
    };
    // Capped so that the big table is still being copied when the small ones are done, however fast (or
    // loaded: the small ones once took 3 s) the machine: the cap is shared by the three tables, so the big
    // one takes at least 8 s.
    const first = await runCopy(fullSync([a, b, c], { "max-entities-per-second": "2000" }), deps(store), {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.table === b) bWritten = p.written;
        maybeCancel();
      },
      onTableEnd: (r) => {
        ended.add(r.result.source);
        maybeCancel();
      },
    });
    expect(first.ok).toBe(false);
    expect(first.tables.map((r) => r.result.source)).toEqual([a, b, c]);
    // Checkpoints sit at page ends: 1 000, 2 000, …
    const cpRead =
      (await store.load())!.tables[tableKey({ source: b, destination: b })].checkpoint?.read ?? 0;
    expect(cpRead).toBeGreaterThanOrEqual(2_000);
    expect(cpRead).toBeLessThan(BIG);
    expect(cpRead % 1_000).toBe(0);
    expect(first.failure).toContain(`resumes table ${b} after its first ${cpRead} entities`);
    expect(first.failure).toContain("and skips the 2 finished tables");

    const second = await runCopy(fullSync([a, b, c]), deps(store));
    expect(second.ok, second.failure).toBe(true);
    expect(second.notices[0]).toMatch(/: 2 of 3 tables already done, table .* from its checkpoint\.$/);
    expect(second.tables.map((r) => [r.result.source, r.result.read])).toEqual([[b, BIG - cpRead]]);
    for (const t of [a, b, c]) await expectExact(t);
    const state = (await store.load())!;
    expect(state.fullSync).toBeUndefined();
    expect(second.lastSyncUtc).toBeDefined();
  });

  it("a cancel during the first page checkpoints it; the finished table is skipped next time", async () => {
    const t = uniqueTable("resumeNone");
    const big = uniqueTable("resumeNoneBig");
    await seedEntities(src, t, entities(10));
    await seedEntities(src, big, entities(3_000));
    const store = new MemoryStateStore();
    const controller = new AbortController();
    const first = await runCopy(fullSync([t, big]), deps(store), {
      signal: controller.signal,
      // Cancelled while the big table's first page is read, before any checkpoint.
      onTableStart: (spec) => {
        if (spec.source === big) controller.abort();
      },
    });
    // The one-page table completed even though the run was cancelled.
    expect(first.ok).toBe(false);
    expect(first.tables.map((r) => [r.result.source, r.result.read])).toEqual([
      [t, 10],
      [big, 1_000],
    ]);
    expect(first.failure).toContain(
      `resumes table ${big} after its first 1000 entities and skips the 1 finished tables`,
    );
  });

  it("a checkpoint saved with another query-filter is not resumed: the table is copied from the start", async () => {
    const t = uniqueTable("resumeFilter");
    await seedEntities(src, t, entities(4_000));
    const store = new MemoryStateStore();
    const controller = new AbortController();
    const first = await runCopy(
      fullSync([t], { "query-filter": "PartitionKey ge 'p001'", "max-entities-per-second": SLOW }),
      deps(store, 1),
      {
        signal: controller.signal,
        onCheckpoint: () => controller.abort(),
      },
    );
    expect(first.ok).toBe(false);
    expect(
      (await store.load())!.tables[tableKey({ source: t, destination: t })].checkpoint?.queryFilter,
    ).toBe("PartitionKey ge 'p001'");
    const second = await runCopy(fullSync([t]), deps(store));
    expect(second.ok, second.failure).toBe(true);
    expect(second.notices.join(" ")).toContain(
      "was saved with another query-filter, so the table is copied from the start",
    );
    expect(second.tables[0].result.read).toBe(4_000);
    await expectExact(t);
  });

  it("a checkpoint saved with other property-renames is not resumed: the table is copied from the start", async () => {
    const t = uniqueTable("resumeRen");
    await seedEntities(
      src,
      t,
      entities(4_000, () => ({ name: "n" })),
    );
    const store = new MemoryStateStore();
    const controller = new AbortController();
    const first = await runCopy(fullSync([t], { "max-entities-per-second": SLOW }), deps(store, 1), {
      signal: controller.signal,
      onCheckpoint: () => controller.abort(),
    });
    expect(first.ok).toBe(false);
    const second = await runCopy(fullSync([t], { "property-renames": "name:fullName" }), deps(store));
    expect(second.ok, second.failure).toBe(true);
    expect(second.notices.join(" ")).toContain(
      "was saved with another property-renames, so the table is copied from the start",
    );
    expect(second.tables[0].result.read).toBe(4_000);
    // Every entity the second run wrote has the renamed property (the first run's are all replaced).
    const written = await readAll(dst, t);
    expect(written.filter((e) => e.properties.has("fullName"))).toHaveLength(4_000);
    expect(written.filter((e) => e.properties.has("name"))).toHaveLength(0);
  });

  it("a backfill between an interrupted full sync and its resume leaves the checkpoint in place", async () => {
    const t = uniqueTable("resumeBf");
    await seedEntities(src, t, entities(5_000));
    const store = new MemoryStateStore();
    const controller = new AbortController();
    await runCopy(fullSync([t], { "max-entities-per-second": SLOW }), deps(store, 1), {
      signal: controller.signal,
      onCheckpoint: () => controller.abort(),
    });
    const key = tableKey({ source: t, destination: t });
    const cp = (await store.load())!.tables[key].checkpoint!;
    const back = await runCopy(
      buildConfig({
        mode: "backfill",
        tables: t,
        "source-connection-string": src,
        "destination-connection-string": dst,
        since: new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, "Z"),
      }),
      deps(store),
    );
    expect(back.ok, back.failure).toBe(true);
    expect((await store.load())!.tables[key].checkpoint).toEqual(cp);
    const resumed = await runCopy(fullSync([t]), deps(store));
    expect(resumed.ok, resumed.failure).toBe(true);
    expect(resumed.tables[0].result.read).toBe(5_000 - cp.read);
    await expectExact(t);
  });

  it("a run cancelled before it began copies nothing", async () => {
    const t = uniqueTable("resumeNever");
    await seedEntities(src, t, entities(10));
    const controller = new AbortController();
    controller.abort();
    const first = await runCopy(fullSync([t]), deps(new MemoryStateStore()), { signal: controller.signal });
    expect(first.ok).toBe(false);
    expect(first.tables).toHaveLength(0);
    expect(first.failure).toContain("before a checkpoint was saved");
  });
});
