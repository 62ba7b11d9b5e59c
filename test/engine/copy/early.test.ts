// Which of an unsorted source's partial transactions may go early: the fullest, and only those fuller
// than the table's partitions have been on average so far (never under EARLY_MIN).
import { describe, expect, it } from "vitest";
import { EARLY_MIN, EarlySends } from "../../../src/engine/copy/early.js";

/** Place `n` operations of partition `key`, growing its partial transaction from `from`. */
function place(early: EarlySends, key: string, n: number, from = 0): void {
  for (let i = 1; i <= n; i++) {
    early.placed(key);
    early.grew(key, from + i);
  }
}

describe("EarlySends", () => {
  it("counts the partitions seen to within a few per cent (the mean partition size)", () => {
    const early = new EarlySends();
    for (let round = 0; round < 10; round++)
      for (let p = 0; p < 20_000; p++) early.placed(`device-${p.toString(36)}-${p % 7}`);
    expect(early.meanSize()).toBeGreaterThan(9.7);
    expect(early.meanSize()).toBeLessThan(10.3);
  });

  it("offers nothing under EARLY_MIN, and the fullest first", () => {
    const early = new EarlySends();
    place(early, "a", EARLY_MIN - 1);
    expect([...early.fullest()]).toEqual([]);
    place(early, "b", 7);
    place(early, "c", EARLY_MIN);
    place(early, "d", 12);
    // Four partitions, 28 operations: a mean of 7, so c (five) waits; the rest go fullest first.
    expect([...early.fullest()]).toEqual(["d", "b"]);
    early.gone("d", 12);
    expect([...early.fullest()]).toEqual(["b"]);
  });

  it("lets a partition of a hundred go in a few large parts, not in fives", () => {
    // A shuffled table of 50 partitions of 100: each time one is sent early, it starts again from none,
    // while the mean it must beat keeps growing.
    const early = new EarlySends();
    const open = new Map<string, number>();
    let sends = 0;
    const order = Array.from({ length: 5_000 }, (_, i) => `p${i % 50}`);
    let seed = 7;
    for (let j = order.length - 1; j > 0; j--) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      const k = seed % (j + 1);
      [order[j], order[k]] = [order[k], order[j]];
    }
    for (const [i, key] of order.entries()) {
      const size = (open.get(key) ?? 0) + 1;
      open.set(key, size);
      early.placed(key);
      early.grew(key, size);
      if (i % 16 !== 15) continue;
      // Room for one request each time.
      for (const sent of early.fullest()) {
        early.gone(sent, open.get(sent)!);
        open.delete(sent);
        sends++;
        break;
      }
    }
    // Every entity went early or waits for the end: at most about three requests per partition.
    expect(sends).toBeGreaterThan(0);
    expect(sends + open.size).toBeLessThanOrEqual(50 * 3.5);
  });
});
