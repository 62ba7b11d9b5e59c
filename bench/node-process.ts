// A node child process of the bench matrix's: run on a CPU of its own if asked, stopped after a time-out,
// and the peak RSS of one still running.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
/** Run `node [args]` on CPU `cpu` (if given); resolves with its exit code and the tails of its output. */
export function runNode(
  args: string[],
  opts: {
    cpu?: number;
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    maxMs?: number;
    onTimeout?: (pid: number) => Promise<void>;
  },
): Promise<{
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}> {
  const child =
    opts.cpu === undefined
      ? spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env: opts.env, cwd: opts.cwd })
      : spawn("taskset", ["-c", String(opts.cpu), process.execPath, ...args], {
          stdio: ["ignore", "pipe", "pipe"],
          env: opts.env,
          cwd: opts.cwd,
        });
  let stdout = "";
  let stderr = "";
  const keep = (s: string, more: string) => (s + more).slice(-20_000);
  child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout = keep(stdout, s)));
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr = keep(stderr, s)));
  let timedOut = false;
  let killer: NodeJS.Timeout | undefined;
  const timer =
    opts.maxMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          void (async () => {
            if (child.pid !== undefined) await opts.onTimeout?.(child.pid);
            child.kill("SIGTERM");
            killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
          })();
        }, opts.maxMs);
  return new Promise((resolveRun) => {
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      if (killer) clearTimeout(killer);
      resolveRun({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/** Peak RSS of a running process in kilobytes (Linux /proc; 0 elsewhere). */
export function peakRssKb(pid: number): number {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
}
