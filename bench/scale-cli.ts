// One run of the real CLI (build/src/cli/index.js) for the scale bench: started as a user starts it, its
// stderr lines timed as they come, its --json result and its own CPU time read when it ends.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { processCpuSeconds } from "./common.js";

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, "..", "src", "cli", "index.js");

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** ms from the measurement's start. */
  startedAt: number;
  endedAt: number;
  /** The parsed --json result, if the process printed one. */
  json?: { tables: { read: number; written: number; failed: number; error?: string }[] };
  /** stderr lines, each with ms since the measurement's start. */
  lines: { at: number; text: string }[];
  /** The process's own CPU seconds, read from /proc just before it was reaped (undefined elsewhere). */
  cpuS?: number;
}

/**
 * Start one CLI process (cwd: its own temp dir, so no .env is read; connection strings from the environment).
 * `onLine` sees every stderr line as it comes and may kill the process.
 */
export function startCli(
  args: string[],
  env: { source: string; destination: string },
  cwd: string,
  t0: number,
  onLine?: (text: string, kill: () => void) => void,
): Promise<CliRun> {
  const startedAt = performance.now() - t0;
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd,
    env: {
      ...process.env,
      SOURCE_CONNECTION_STRING: env.source,
      DESTINATION_CONNECTION_STRING: env.destination,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let errBuf = "";
  const lines: CliRun["lines"] = [];
  let cpuS: number | undefined;
  const poll = setInterval(() => {
    if (child.pid !== undefined) cpuS = processCpuSeconds(child.pid) ?? cpuS;
  }, 250);
  const kill = () => {
    if (child.pid !== undefined) cpuS = processCpuSeconds(child.pid) ?? cpuS;
    child.kill("SIGKILL");
  };
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  child.stdout.on("data", (s: string) => (out += s));
  child.stderr.on("data", (s: string) => {
    errBuf += s;
    let i;
    while ((i = errBuf.indexOf("\n")) >= 0) {
      const text = errBuf.slice(0, i);
      errBuf = errBuf.slice(i + 1);
      lines.push({ at: performance.now() - t0, text });
      onLine?.(text, kill);
    }
  });
  return new Promise((resolveRun) => {
    child.on("close", (code, signal) => {
      clearInterval(poll);
      if (errBuf) lines.push({ at: performance.now() - t0, text: errBuf });
      let json: CliRun["json"];
      const start = out.indexOf("{");
      if (start >= 0) {
        try {
          json = JSON.parse(out.slice(start)) as CliRun["json"];
        } catch {
          /* no JSON result */
        }
      }
      resolveRun({ code, signal, startedAt, endedAt: performance.now() - t0, json, lines, cpuS });
    });
  });
}

export const readOf = (r: CliRun) => r.json?.tables.reduce((s, t) => s + t.read, 0);
export const failedOf = (r: CliRun) => r.json?.tables.reduce((s, t) => s + t.failed + (t.error ? 1 : 0), 0);
