// --report-path is checked before verify, switch or preflight start, so a path that cannot be written fails in
// one sentence at once instead of after the whole run. Missing directories are fine: they are created when the
// report is written (as the README says); what must hold is that the nearest existing one is a writable directory.
import { accessSync, constants, statSync } from "node:fs";
import { dirname, join } from "node:path";

function code(err: unknown): string {
  return (err as { code?: string }).code ?? "unknown error";
}

/** Why `path` (absolute) cannot take the report, as one sentence, or undefined when it can. */
export function reportPathProblem(path: string, given: string | undefined): string | undefined {
  const option = `Option --report-path is '${given ?? path}'`;
  let stat;
  try {
    stat = statSync(path);
  } catch (err) {
    const c = code(err);
    if (c !== "ENOENT" && c !== "ENOTDIR") {
      return `${option}, which cannot be checked (${c}); give a file path you can write to.`;
    }
  }
  if (stat) {
    if (stat.isDirectory()) {
      return `${option}, which is a directory; give a file path, e.g. ${join(path, "table-sync-report.json")}.`;
    }
    try {
      accessSync(path, constants.W_OK);
    } catch (err) {
      return `${option}, which cannot be written (${code(err)}); give a file path you can write to.`;
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
      return `${option}, but ${dir} cannot be checked (${c}); give a file path you can write to.`;
    }
    if (!parent.isDirectory()) {
      return `${option}, but ${dir} is a file, not a directory; give a path inside a directory.`;
    }
    try {
      accessSync(dir, constants.W_OK | constants.X_OK);
    } catch (err) {
      return `${option}, but the directory ${dir} cannot be written (${code(err)}); give a path you can write to.`;
    }
    return undefined;
  }
}

/** The sentence for a report that could not be written after the run (the outcome is printed already). */
export function reportWriteFailure(path: string, err: unknown): string {
  // "ENOSPC: no space left on device, write" → "ENOSPC: no space left on device"
  const reason = err instanceof Error ? err.message.split(",")[0] : String(err);
  return `The JSON report could not be written to ${path} (${reason.replace(/\s+/g, " ").trim()}); the result above stands, but give --report-path a file you can write to.`;
}
