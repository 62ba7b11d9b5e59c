// The CLI's report of a run: the copy summary, progress lines and durations (src/cli/report.ts), and the
// checks on --report-path before and after the run (src/cli/report-path.ts).
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { reportPathProblem, reportWriteFailure } from "../../src/cli/report-path.js";
import { formatSummary, nextSince, progressLine } from "../../src/cli/report.js";
import { duration } from "../../src/present/figures.js";
import type { RunResult } from "../../src/cli/report.js";
import { emptyResult } from "../../src/engine/copy/copy-table.js";
import { totals } from "../../src/engine/copy/result.js";
import { removeTmpDirs, tmp } from "./temp-dirs.js";

afterAll(removeTmpDirs);

describe("report", () => {
  const base = (over: Partial<ReturnType<typeof emptyResult>> = {}) => ({
    ...emptyResult({ source: "orders", destination: "orders2" }),
    read: 2000,
    written: 1999,
    failed: 1,
    durationMs: 2000,
    sourceClockAtStart: "2024-05-01T12:00:00.000Z",
    failures: [
      { partitionKey: "p", rowKey: "r", message: "Table orders, PartitionKey 'p', RowKey 'r': bad" },
    ],
    ...over,
  });

  it("formats the summary with failures", () => {
    const tables = [base()];
    const result: RunResult = {
      tables,
      totals: totals(tables, 2100),
    };
    const text = formatSummary(result, { command: "full-sync", dryRun: false, overlapSeconds: 120 });
    expect(text).toContain("full-sync finished with failures in 1 of 1 table");
    expect(text).toMatch(
      /orders → orders2\s+2,000\s+1,999\s+0\s+1\s+2\.0 s\s+1,000\s+2024-05-01T12:00:00\.000Z/,
    );
    expect(text).toContain("  PartitionKey 'p', RowKey 'r': bad\n");
    expect(text).not.toContain("Next backfill");
  });

  it("suggests the next --since: the earliest source clock (the backfill applies the overlap itself)", () => {
    const tables = [
      base({ failed: 0, failures: [] }),
      base({ source: "b", sourceClockAtStart: "2024-05-01T11:00:00.000Z", failed: 0, failures: [] }),
    ];
    const result: RunResult = {
      tables,
      totals: totals(tables, 4000),
    };
    expect(nextSince(result)?.toISOString()).toBe("2024-05-01T11:00:00.000Z");
    expect(formatSummary(result, { command: "full-sync", dryRun: false, overlapSeconds: 60 })).toContain(
      "Next backfill: table-sync backfill --since 2024-05-01T11:00:00Z",
    );
  });

  it("formats progress and durations", () => {
    expect(progressLine({ table: "t", read: 12345, written: 12000, skipped: 0, failed: 2 }, 3000)).toBe(
      "[t] 12,345 read, 12,000 written, 2 failed, 4,115 entities/s, 3.0 s elapsed",
    );
    expect(duration(125_000)).toBe("2 min 05 s");
    expect(duration(3_725_000)).toBe("1 h 02 min");
  });
});

describe("report path", () => {
  it("accepts a writable file or a path whose directories are missing", () => {
    const d = tmp();
    expect(reportPathProblem(join(d, "r.json"), "r.json")).toBeUndefined();
    expect(reportPathProblem(join(d, "new", "deeper", "r.json"), undefined)).toBeUndefined();
    writeFileSync(join(d, "exists.json"), "{}");
    expect(reportPathProblem(join(d, "exists.json"), undefined)).toBeUndefined();
  });

  it("names a directory, a file in the way, and an unwritable place", () => {
    const d = tmp();
    expect(reportPathProblem(d, d)).toBe(
      `Option --report-path is '${d}', which is a directory; give a file path, e.g. ${join(d, "table-sync-report.json")}.`,
    );
    writeFileSync(join(d, "afile"), "");
    expect(reportPathProblem(join(d, "afile", "x", "r.json"), "given.json")).toBe(
      `Option --report-path is 'given.json', but ${join(d, "afile")} is a file, not a directory; give a path inside a directory.`,
    );
    if (process.getuid?.() !== 0) {
      const locked = join(d, "locked");
      mkdirSync(locked);
      chmodSync(locked, 0o500);
      expect(reportPathProblem(join(locked, "r.json"), undefined)).toMatch(/cannot be written \(EACCES\)/);
      chmodSync(locked, 0o700);
    }
    expect(
      reportWriteFailure(
        "/dev/full",
        Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" }),
      ),
    ).toBe(
      "The JSON report could not be written to /dev/full (ENOSPC: no space left on device); the result above stands, but give --report-path a file you can write to.",
    );
  });
});
