// The JSON report of verify, switch and preflight. Its path is checked before the run starts, so a path that
// cannot be written fails in one sentence at once instead of after the work (a switch would already be recorded).
// Missing directories are fine (the report's writer creates them); the nearest existing one must be a directory.
import { accessSync, constants, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { SyncConfig } from "../config/schema.js";

export const DEFAULT_REPORT_NAME = "table-sync-report.json";

/** The absolute report path: the 'report-path' input, or table-sync-report.json in RUNNER_TEMP. */
export function reportPathOf(config: Pick<SyncConfig, "reportPath">, env: NodeJS.ProcessEnv): string {
  return resolve(config.reportPath ?? join(env.RUNNER_TEMP || ".", DEFAULT_REPORT_NAME));
}

function code(err: unknown): string {
  return (err as { code?: string }).code ?? "unknown error";
}

/** Why `path` (absolute) cannot take the report, as one sentence naming 'report-path', or undefined. */
export function reportPathProblem(path: string, given: string | undefined): string | undefined {
  const what = given ? `Input 'report-path' is '${given}'` : `The default report path is '${path}'`;
  const fix = "set 'report-path' to a file path you can write to";
  let stat;
  try {
    stat = statSync(path);
  } catch (err) {
    const c = code(err);
    if (c !== "ENOENT" && c !== "ENOTDIR") return `${what}, which cannot be checked (${c}); ${fix}.`;
  }
  if (stat) {
    if (stat.isDirectory()) {
      return `${what}, which is a directory; set 'report-path' to a file in it, e.g. '${join(path, DEFAULT_REPORT_NAME)}'.`;
    }
    try {
      accessSync(path, constants.W_OK);
    } catch (err) {
      return `${what}, which cannot be written (${code(err)}); ${fix}.`;
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
      return `${what}, but '${dir}' cannot be checked (${c}); ${fix}.`;
    }
    if (!parent.isDirectory()) {
      return `${what}, but '${dir}' is a file, not a directory; set 'report-path' to a path inside a directory.`;
    }
    try {
      accessSync(dir, constants.W_OK | constants.X_OK);
    } catch (err) {
      return `${what}, but the directory '${dir}' cannot be written (${code(err)}); ${fix}.`;
    }
    return undefined;
  }
}

/** The sentence for a report that could not be written after the run (outputs and summary are set anyway). */
export function reportWriteFailure(path: string, err: unknown): string {
  // "ENOSPC: no space left on device, write" → "ENOSPC: no space left on device"
  const reason = (err instanceof Error ? err.message : String(err)).split(",")[0].replace(/\s+/g, " ").trim();
  return `The JSON report could not be written to '${path}' (${reason}); the outputs and the job summary stand, but set 'report-path' to a file you can write to.`;
}
