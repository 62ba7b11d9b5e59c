// When one scan starves the copy (scan-watch.ts): only after a full window of pages the copy mostly waited
// for, each slower than the gate's page time; and each "ask" waits twice as many pages as the last.
import { describe, expect, it } from "vitest";
import { ScanWatch, WINDOW } from "../../../src/engine/copy/scan-watch.js";

/** Feed `n` pages `everyMs` apart, the copy waiting `waitMs` of each; the page numbers that said "ask". */
function feed(watch: ScanWatch, n: number, everyMs: number, waitMs: number, start = 0): number[] {
  const asks: number[] = [];
  for (let i = 0; i < n; i++) {
    const arrived = start + (i + 1) * everyMs;
    if (watch.page(arrived - waitMs, arrived)) asks.push(i + 1);
  }
  return asks;
}

describe("ScanWatch", () => {
  it("asks when the copy waits for slow pages, after a full window, then twice as rarely", () => {
    const watch = new ScanWatch(60);
    expect(feed(watch, 40, 100, 90)).toEqual([WINDOW, 3 * WINDOW]);
    // From the first page's request to the last page's arrival, per page.
    expect(watch.pageMs).toBeGreaterThan(95);
    expect(watch.pageMs).toBeLessThanOrEqual(100);
  });

  it("does not ask when the pages are fast, or when the copy hardly waits for them", () => {
    expect(feed(new ScanWatch(60), 50, 30, 30)).toEqual([]); // a near source: pages faster than the gate
    expect(feed(new ScanWatch(60), 50, 100, 20)).toEqual([]); // a slow writer: the scan keeps ahead
  });

  it("asks once a source slows down, judged on the last window only", () => {
    const watch = new ScanWatch(60);
    expect(feed(watch, 20, 10, 1)).toEqual([]);
    const asks = feed(watch, 12, 120, 110, 200);
    // The window holds some fast pages until enough slow ones are in.
    expect(asks.length).toBe(1);
    expect(asks[0]).toBeGreaterThan(1);
    expect(asks[0]).toBeLessThanOrEqual(WINDOW);
  });
});
