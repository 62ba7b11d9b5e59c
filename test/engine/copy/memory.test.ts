// The copy's memory budget: full collections while resident memory is above the mark, none below.
import { afterEach, describe, expect, it, vi } from "vitest";
import { MemoryBudget, fullCollection } from "../../../src/engine/copy/memory.js";

describe("MemoryBudget", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("collects every period while resident memory is above the mark, and not below it", () => {
    vi.useFakeTimers();
    let rss = 100;
    const collect = vi.fn();
    const budget = new MemoryBudget({ rss: () => rss, collect, everyMs: 1_000, above: 200, now: Date.now });
    budget.start();
    vi.advanceTimersByTime(5_000);
    expect(collect).not.toHaveBeenCalled();
    rss = 300;
    vi.advanceTimersByTime(3_000);
    expect(collect).toHaveBeenCalledTimes(3);
    expect(budget.collections).toBe(3);
    budget.stop();
    vi.advanceTimersByTime(5_000);
    expect(collect).toHaveBeenCalledTimes(3);
  });

  it("collects every few seconds above the mark, and at each check above the urgent one", () => {
    vi.useFakeTimers();
    let rss = 250;
    const collect = vi.fn();
    const budget = new MemoryBudget({
      rss: () => rss,
      collect,
      above: 200,
      urgentAbove: 300,
      everyMs: 3_000,
      checkMs: 1_000,
      now: Date.now,
    });
    budget.start();
    vi.advanceTimersByTime(9_000); // checks at 1…9 s: collections at 1, 4 and 7 s
    expect(collect).toHaveBeenCalledTimes(3);
    rss = 350;
    vi.advanceTimersByTime(4_000); // every check
    expect(collect).toHaveBeenCalledTimes(7);
    rss = 150;
    vi.advanceTimersByTime(4_000);
    expect(collect).toHaveBeenCalledTimes(7);
    budget.stop();
  });

  it("does nothing where no full collection can be had", () => {
    vi.useFakeTimers();
    const rss = vi.fn(() => 1e12);
    const budget = new MemoryBudget({ rss, collect: null, everyMs: 1_000 });
    budget.start();
    vi.advanceTimersByTime(5_000);
    expect(rss).not.toHaveBeenCalled();
    budget.stop();
  });

  it("gets V8's full collection without the --expose-gc flag, and it frees what nothing holds", async () => {
    const gc = fullCollection();
    expect(gc).toBeTypeOf("function");
    // A WeakRef's target stays alive until the end of the job that made it: look in a later one.
    const ref = new WeakRef({ payload: new Array(1_000).fill(1) });
    await new Promise((resolve) => setImmediate(resolve));
    gc!();
    expect(ref.deref()).toBeUndefined();
  });
});
