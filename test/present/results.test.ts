// The sentences both doors say about a result, each door with its own figures.
import { describe, expect, it } from "vitest";
import { totals } from "../../src/engine/copy/result.js";
import { emptyResult } from "../../src/engine/copy/copy-table.js";
import { num } from "../../src/present/figures.js";
import { finalBackfillLine, isCancelledError, lagSentence } from "../../src/present/results.js";

describe("results", () => {
  it("knows the engine's cancel from other errors", () => {
    expect(isCancelledError("the run was cancelled")).toBe(true);
    expect(isCancelledError("Table t: The run was cancelled.")).toBe(true);
    expect(isCancelledError("HTTP 500")).toBe(false);
    expect(isCancelledError(undefined)).toBe(false);
  });

  it("says a final backfill and a lag with the door's figures", () => {
    const t = totals([{ ...emptyResult({ source: "a", destination: "a" }), read: 1500, written: 1500 }], 10);
    expect(finalBackfillLine(t)).toBe("Final backfill: 1500 read, 1500 written, 0 failed, 0 conflicts.");
    expect(finalBackfillLine(t, num)).toBe(
      "Final backfill: 1,500 read, 1,500 written, 0 failed, 0 conflicts.",
    );
    expect(lagSentence("4", "1,200")).toBe(
      "the destination trails the source by about 4 s (source clock); 1,200 entities changed in the window.",
    );
  });
});
