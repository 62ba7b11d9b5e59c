// --report-path is checked before verify, switch or preflight start, so a path that cannot be written fails in
// one sentence at once instead of after the whole run. Missing directories are fine: they are created when the
// report is written (as the README says); what must hold is that the nearest existing one is a writable directory.
import { join, resolve } from "node:path";
import { ConfigError } from "../config/schema.js";
import { reportPathProblem as inspect, writeFailureReason } from "../engine/steps/index.js";

/** Where the JSON report goes (--report-path, relative to `cwd`), checked before any work: a report that
 * cannot be written must not cost the whole run first. */
export function checkedReportPath(given: string | undefined, cwd: string): string {
  const path = resolve(cwd, given ?? "table-sync-report.json");
  const problem = reportPathProblem(path, given);
  if (problem) throw new ConfigError(problem);
  return path;
}

/** Why `path` (absolute) cannot take the report, as one sentence, or undefined when it can. */
export function reportPathProblem(path: string, given: string | undefined): string | undefined {
  const option = `Option --report-path is '${given ?? path}'`;
  const problem = inspect(path);
  if (!problem) return undefined;
  switch (problem.kind) {
    case "unchecked":
      return `${option}, which cannot be checked (${problem.code}); give a file path you can write to.`;
    case "directory":
      return `${option}, which is a directory; give a file path, e.g. ${join(path, "table-sync-report.json")}.`;
    case "unwritable":
      return `${option}, which cannot be written (${problem.code}); give a file path you can write to.`;
    case "parent-unchecked":
      return `${option}, but ${problem.dir} cannot be checked (${problem.code}); give a file path you can write to.`;
    case "parent-file":
      return `${option}, but ${problem.dir} is a file, not a directory; give a path inside a directory.`;
    case "parent-unwritable":
      return `${option}, but the directory ${problem.dir} cannot be written (${problem.code}); give a path you can write to.`;
  }
}

/** The sentence for a report that could not be written after the run (the outcome is printed already). */
export function reportWriteFailure(path: string, err: unknown): string {
  return `The JSON report could not be written to ${path} (${writeFailureReason(err)}); the result above stands, but give --report-path a file you can write to.`;
}
