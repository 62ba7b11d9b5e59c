// Resume points without draining: a page counts once it and every page before it have landed, whatever
// order the answers come in; never past a failed entity; saved in the background, never twice, never
// after the copy has stopped them.
import { describe, expect, it } from "vitest";
import { Checkpointer, ResumeTracker, type PageMark } from "../../../src/engine/copy/checkpoints.js";

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
