// Numbers, counts and durations as both doors say them.
import { describe, expect, it } from "vitest";
import { counted, duration, num, tablesCount, timeLeft } from "../../src/present/figures.js";

describe("figures", () => {
  it("groups thousands and counts with the right noun", () => {
    expect(num(1234567)).toBe("1,234,567");
    // Whole numbers are grouped without Intl; every one of these as Intl groups it.
    for (const n of [
      0,
      7,
      -7,
      999,
      1000,
      -1000,
      12345,
      123456,
      -1234567,
      2 ** 53 - 1,
      -0,
      1.5,
      1234.5678,
      NaN,
      1e21,
    ])
      expect(num(n), String(n)).toBe(n.toLocaleString("en-US"));
    expect(tablesCount(1)).toBe("1 table");
    expect(tablesCount(2)).toBe("2 tables");
    expect(counted(1, "entity", "entities")).toBe("1 entity");
    expect(counted(12000, "entity", "entities", num)).toBe("12,000 entities");
    expect(counted(12000, "entity", "entities")).toBe("12000 entities");
  });

  it("says a duration with a decimal under a minute, then as time left", () => {
    expect(duration(2500)).toBe("2.5 s");
    expect(duration(59_940)).toBe("59.9 s");
    expect(duration(60_000)).toBe("1 min 00 s");
    expect(duration(125_000)).toBe("2 min 05 s");
    expect(duration(3_725_000)).toBe("1 h 02 min");
    expect(timeLeft(12.4)).toBe("12 s");
    expect(timeLeft(-3)).toBe("0 s");
    expect(timeLeft(12_000)).toBe("3 h 20 min");
  });
});
