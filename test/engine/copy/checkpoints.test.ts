// Resume points without draining: a page counts once it and every page before it have landed, whatever
// order the answers come in; never past a failed entity; saved in the background, never twice, never
// after the copy has stopped them.
import { describe, expect, it } from "vitest";
import {
  Checkpointer,
  MIN_BEYOND,
  ResumeTracker,
  type PageMark,
} from "../../../src/engine/copy/checkpoints.js";

const at = (n: number) => ({ nextPartitionKey: `p${n}`, nextRowKey: `r${n}` });

/** A page of `n` entities handed to the writer, then closed with the continuation to page `next`. */
function page(t: ResumeTracker, n: number, next: number | undefined): PageMark {
  const mark = t.page();
  mark.pending += n;
  t.close(mark, n, next === undefined ? undefined : at(next));
  return mark;
}

describe("ResumeTracker", () => {
  it("moves only as far as the first page with entities still in flight", () => {
    const t = new ResumeTracker();
    const a = page(t, 2, 1);
    const b = page(t, 2, 2);
    const c = page(t, 1, 3);
    t.settle(b, "written");
    t.settle(b, "written");
    t.settle(c, "written");
    expect(t.latest).toBeUndefined(); // page a still has both entities in flight
    t.settle(a, "written");
    expect(t.latest).toBeUndefined();
    t.settle(a, "skipped"); // skipped (or in conflict) counts as settled, not as written
    expect(t.latest).toEqual({ continuation: at(3), read: 5, written: 4 });
  });

  it("counts an empty page (a continuation without entities) at once", () => {
    const t = new ResumeTracker();
    page(t, 0, 1);
    expect(t.latest).toEqual({ continuation: at(1), read: 0, written: 0 });
  });

  it("waits for a page to be closed: entities may still be handed over", () => {
    const t = new ResumeTracker();
    const a = t.page();
    a.pending++;
    t.settle(a, "written");
    expect(t.latest).toBeUndefined();
    t.close(a, 1, at(1));
    expect(t.latest).toEqual({ continuation: at(1), read: 1, written: 1 });
  });

  it("never points past a page with a failed entity, for the rest of the run", () => {
    const t = new ResumeTracker();
    const a = page(t, 1, 1);
    const b = page(t, 2, 2);
    const c = page(t, 1, 3);
    t.settle(a, "written");
    t.settle(b, "written");
    t.settle(b, "failed");
    t.settle(c, "written");
    expect(t.latest).toEqual({ continuation: at(1), read: 1, written: 1 });
    const d = page(t, 1, 4);
    t.settle(d, "written");
    expect(t.latest).toEqual({ continuation: at(1), read: 1, written: 1 });
  });

  it("a page whose entity failed before reaching the writer (a transform error) stops it too", () => {
    const t = new ResumeTracker();
    const a = t.page();
    a.failed = true;
    t.close(a, 1, at(1));
    expect(t.latest).toBeUndefined();
  });

  it("the last page (no continuation) is no resume point: the table is complete", () => {
    const t = new ResumeTracker();
    const a = page(t, 1, 1);
    const b = page(t, 1, undefined);
    t.settle(a, "written");
    t.settle(b, "written");
    expect(t.latest).toEqual({ continuation: at(1), read: 1, written: 1 });
  });
});

describe("Checkpointer", () => {
  it("stalls while more waits beyond the resume point than landed in the interval, until the point moves", async () => {
    const t = new ResumeTracker();
    // A straggler holds the first page; six more pages wait behind it (MIN_BEYOND is 5 000).
    const first = page(t, 1_000, 1);
    const rest = [2, 3, 4, 5, 6, 7].map((n) => page(t, 1_000, n));
    expect(MIN_BEYOND).toBe(5_000);
    expect(t.stalled(1_000)).toBe(true); // 7 000 beyond, nothing landed
    for (const m of rest) for (let i = 0; i < 1_000; i++) t.settle(m, "written");
    // 6 000 landed meanwhile, but all 7 000 still wait beyond the point.
    expect(t.stalled(1_000)).toBe(true);
    let moved = false;
    const waiting = t.moved().then(() => (moved = true));
    for (let i = 0; i < 999; i++) t.settle(first, "written");
    await Promise.resolve();
    expect(moved).toBe(false);
    t.settle(first, "written");
    await waiting;
    expect(t.latest).toMatchObject({ read: 7_000, written: 7_000 });
    expect(t.stalled(1_000)).toBe(false); // nothing waits beyond it
  });

  it("does not stall while what waits beyond the point is no more than lands in the interval", () => {
    const t = new ResumeTracker();
    const first = page(t, 1_000, 1);
    expect(t.stalled(60_000)).toBe(false); // the first look: 1 000 beyond, at most MIN_BEYOND never stalls
    // A copy going well: ten pages landed (the point moved past them), six in flight beyond it.
    for (let i = 0; i < 1_000; i++) t.settle(first, "written");
    for (let n = 2; n <= 10; n++) {
      const m = page(t, 1_000, n);
      for (let i = 0; i < 1_000; i++) t.settle(m, "written");
    }
    for (let n = 11; n <= 16; n++) page(t, 1_000, n);
    expect(t.stalled(60_000)).toBe(false); // 6 000 beyond, 10 000 landed since the first look
    for (let n = 17; n <= 27; n++) page(t, 1_000, n);
    expect(t.stalled(60_000)).toBe(true); // 17 000 beyond: more than landed
  });

  it("never stalls after a failed entity (the point can never move again), and wakes who waits", async () => {
    const t = new ResumeTracker();
    const first = page(t, 1, 1);
    for (let n = 2; n <= 8; n++) page(t, 1_000, n);
    expect(t.stalled(1_000)).toBe(true);
    const waiting = t.moved();
    t.settle(first, "failed");
    await waiting;
    expect(t.stalled(1_000)).toBe(false);
    await t.moved(); // resolves at once
  });

  it("saves a point as soon as it moves, and one that moves too soon after a save once the interval is up", async () => {
    const t = new ResumeTracker();
    const saved: { read: number; at: number }[] = [];
    const started = performance.now();
    const cp = new Checkpointer(
      t,
      (p) => void saved.push({ read: p.read, at: performance.now() - started }),
      300,
    );
    t.settle(page(t, 1, 1), "written");
    await new Promise((r) => setTimeout(r, 20));
    expect(saved.map((s) => s.read)).toEqual([1]); // at once: no save before it
    expect(saved[0].at).toBeLessThan(100);
    t.settle(page(t, 1, 2), "written");
    t.settle(page(t, 1, 3), "written");
    await new Promise((r) => setTimeout(r, 100));
    expect(saved.map((s) => s.read)).toEqual([1]); // too soon after the first
    await new Promise((r) => setTimeout(r, 400));
    expect(saved.map((s) => s.read)).toEqual([1, 3]); // the latest, once the interval was up
    expect(saved[1].at).toBeGreaterThanOrEqual(290);
    await cp.stop();
  });

  it("saves each new resume point once, in the background, and nothing after stop", async () => {
    const t = new ResumeTracker();
    const saved: number[] = [];
    const cp = new Checkpointer(
      t,
      async (p) => {
        await new Promise((r) => setTimeout(r, 5));
        saved.push(p.read);
      },
      2,
    );
    const a = page(t, 1, 1);
    t.settle(a, "written");
    await new Promise((r) => setTimeout(r, 40));
    expect(saved).toEqual([1]); // saved once, though the timer fired many times
    const b = page(t, 1, 2);
    t.settle(b, "written");
    await cp.saveLatest();
    expect(saved).toEqual([1, 2]);
    await cp.stop();
    const c = page(t, 1, 3);
    t.settle(c, "written");
    await new Promise((r) => setTimeout(r, 20));
    expect(saved).toEqual([1, 2]);
  });

  it("stop waits for a save under way", async () => {
    const t = new ResumeTracker();
    let finished = false;
    const cp = new Checkpointer(
      t,
      async () => {
        await new Promise((r) => setTimeout(r, 30));
        finished = true;
      },
      1,
    );
    const a = page(t, 1, 1);
    t.settle(a, "written");
    await new Promise((r) => setTimeout(r, 5)); // the timer has started a save
    await cp.stop();
    expect(finished).toBe(true);
  });
});
