// The JSON report of verify, switch and preflight. Its path is checked before the run starts, so a path that
// cannot be written fails in one sentence at once instead of after the work (a switch would already be recorded).
// Missing directories are fine (the report's writer creates them); the nearest existing one must be a directory.
import { join, resolve } from "node:path";
import type { SyncConfig } from "../config/schema.js";
import { reportPathProblem as inspect, writeFailureReason } from "../engine/steps/index.js";

export const DEFAULT_REPORT_NAME = "table-sync-report.json";

/** The absolute report path: the 'report-path' input, or table-sync-report.json in RUNNER_TEMP. */
export function reportPathOf(config: Pick<SyncConfig, "reportPath">, env: NodeJS.ProcessEnv): string {
  return resolve(config.reportPath ?? join(env.RUNNER_TEMP || ".", DEFAULT_REPORT_NAME));
}

/** Why `path` (absolute) cannot take the report, as one sentence naming 'report-path', or undefined. */
export function reportPathProblem(path: string, given: string | undefined): string | undefined {
  const what = given ? `Input 'report-path' is '${given}'` : `The default report path is '${path}'`;
  const fix = "set 'report-path' to a file path you can write to";
  const problem = inspect(path);
  if (!problem) return undefined;
  switch (problem.kind) {
    case "unchecked":
      return `${what}, which cannot be checked (${problem.code}); ${fix}.`;
    case "directory":
      return `${what}, which is a directory; set 'report-path' to a file in it, e.g. '${join(path, DEFAULT_REPORT_NAME)}'.`;
    case "unwritable":
      return `${what}, which cannot be written (${problem.code}); ${fix}.`;
    case "parent-unchecked":
      return `${what}, but '${problem.dir}' cannot be checked (${problem.code}); ${fix}.`;
    case "parent-file":
      return `${what}, but '${problem.dir}' is a file, not a directory; set 'report-path' to a path inside a directory.`;
    case "parent-unwritable":
      return `${what}, but the directory '${problem.dir}' cannot be written (${problem.code}); ${fix}.`;
  }
}

/** The sentence for a report that could not be written after the run (outputs and summary are set anyway). */
export function reportWriteFailure(path: string, err: unknown): string {
  return `The JSON report could not be written to '${path}' (${writeFailureReason(err)}); the outputs and the job summary stand, but set 'report-path' to a file you can write to.`;
}
