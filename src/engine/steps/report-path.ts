// Where the JSON report of verify, switch and preflight goes is checked before the run starts, so a path that
// cannot be written fails at once instead of after the work (a switch would already be recorded). Missing
// directories are fine (writeCheckReport creates them); the nearest existing one must be a writable directory.
// The adapters word the problem for their own input (`--report-path`, `report-path`).
import { accessSync, constants, statSync } from "node:fs";
import { dirname } from "node:path";

export type ReportPathProblem =
  /** The path itself could not be examined. */
  | { kind: "unchecked"; code: string }
  | { kind: "directory" }
  | { kind: "unwritable"; code: string }
  /** The nearest existing ancestor `dir` could not be examined. */
  | { kind: "parent-unchecked"; dir: string; code: string }
  | { kind: "parent-file"; dir: string }
  | { kind: "parent-unwritable"; dir: string; code: string };

function code(err: unknown): string {
  return (err as { code?: string }).code ?? "unknown error";
}

/** What keeps `path` (absolute) from taking the report, or undefined when it can. */
export function reportPathProblem(path: string): ReportPathProblem | undefined {
  let stat;
  try {
    stat = statSync(path);
  } catch (err) {
    const c = code(err);
    if (c !== "ENOENT" && c !== "ENOTDIR") return { kind: "unchecked", code: c };
  }
  if (stat) {
    if (stat.isDirectory()) return { kind: "directory" };
    try {
      accessSync(path, constants.W_OK);
    } catch (err) {
      return { kind: "unwritable", code: code(err) };
    }
    return undefined;
  }
  // The file does not exist yet: the nearest existing ancestor must be a directory we may create files in.
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    let parent;
    try {
      parent = statSync(dir);
    } catch (err) {
      const c = code(err);
      if ((c === "ENOENT" || c === "ENOTDIR") && dirname(dir) !== dir) continue;
      return { kind: "parent-unchecked", dir, code: c };
    }
    if (!parent.isDirectory()) return { kind: "parent-file", dir };
    try {
      accessSync(dir, constants.W_OK | constants.X_OK);
    } catch (err) {
      return { kind: "parent-unwritable", dir, code: code(err) };
    }
    return undefined;
  }
}

/** The reason a write failed, short: "ENOSPC: no space left on device, write" → "ENOSPC: no space left on device". */
export function writeFailureReason(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split(",")[0].replace(/\s+/g, " ").trim();
}
