// The processes the kill -9 resume bench starts: Azurite servers and runs of the CLI (through run-cli.ts,
// killed with SIGKILL when asked), each ended if the bench itself is interrupted.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { AzuriteServer } from "../test/support/azurite.js";
import { startServer as startPinnedServer } from "./azurite-server.js";
import { CPU_TOOL } from "./resume-kill-options.js";

const here = dirname(fileURLToPath(import.meta.url));

/** What this process started and must end if it is interrupted (Ctrl+C, SIGTERM). */
const running = { servers: new Set<AzuriteServer>(), children: new Set<ChildProcess>() };
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    for (const child of running.children) child.kill("SIGKILL");
    void Promise.all([...running.servers].map((s) => s.stop().catch(() => undefined))).then(() =>
      process.exit(signal === "SIGINT" ? 130 : 143),
    );
  });
}

/** Start Azurite (pinned to `cpu` if given), to be stopped if the bench is interrupted. */
export async function startServer(cpu: number | undefined): Promise<AzuriteServer> {
  const { server: started } = await startPinnedServer(cpu);
  const server: AzuriteServer = {
    ...started,
    stop: async () => {
      running.servers.delete(server);
      await started.stop();
    },
  };
  running.servers.add(server);
  return server;
}

export interface CliRun {
  /** Exit code, or the signal that ended it. */
  exit: number | string;
  /** From spawn to exit (ms). */
  wallMs: number;
  /** The run itself, without node's start-up and module loading (run-cli.ts), when it exited by itself. */
  elapsedMs?: number;
  cpuMs?: number;
  maxRssKb?: number;
  /** The CLI's --json result. */
  read?: number;
  written?: number;
  failed?: number;
  stderrTail: string;
}

interface CliResultJson {
  tables?: { read: number; written: number; failed: number; error?: string }[];
}

/**
 * `table-sync full-sync` as a user runs it (build/bench/run-cli.js loads build/src/cli/index.js and records
 * its resource use), in a scratch directory with no .env; killed with SIGKILL after `killAfterMs`.
 */
export async function runCli(
  args: string[],
  env: Record<string, string>,
  opts: { pin: boolean; killAfterMs?: number },
): Promise<CliRun & { killedAtMs?: number }> {
  const cwd = mkdtempSync(join(tmpdir(), "resume-kill-cli-"));
  const usageFile = join(cwd, "usage.json");
  // The CLI of the same build as this script (build/bench/run-cli.js loads build/src/cli/index.js).
  const script = join(here, "run-cli.js");
  const argv = [script, "full-sync", ...args, "--json", "--progress-seconds", "0"];
  const childEnv = { ...process.env, ...env, BENCH_USAGE_FILE: usageFile, BENCH_CLI: "build" };
  const started = performance.now();
  const child = opts.pin
    ? spawn("taskset", ["-c", String(CPU_TOOL), process.execPath, ...argv], {
        cwd,
        env: childEnv,
        stdio: ["ignore", "pipe", "pipe"],
      })
    : spawn(process.execPath, argv, { cwd, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
  running.children.add(child);
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
  child.stderr.setEncoding("utf8").on("data", (s: string) => (err = (err + s).slice(-4000)));
  let killedAtMs: number | undefined;
  const timer =
    opts.killAfterMs === undefined
      ? undefined
      : setTimeout(() => {
          killedAtMs = performance.now() - started;
          // taskset execs node, so the child's pid is node's either way.
          child.kill("SIGKILL");
        }, opts.killAfterMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((r) =>
    child.on("close", (c, s) => r([c, s])),
  );
  const wallMs = performance.now() - started;
  running.children.delete(child);
  if (timer) clearTimeout(timer);
  const run: CliRun & { killedAtMs?: number } = {
    exit: signal ?? code ?? -1,
    wallMs,
    stderrTail: err.slice(-2000),
    killedAtMs,
  };
  try {
    const usage = JSON.parse(readFileSync(usageFile, "utf8")) as {
      elapsedMs: number;
      cpuMs: number;
      maxRssKb: number;
    };
    run.elapsedMs = usage.elapsedMs;
    run.cpuMs = usage.cpuMs;
    run.maxRssKb = usage.maxRssKb;
  } catch {
    /* killed: no usage written */
  }
  const json = out.indexOf("{");
  if (json >= 0) {
    try {
      const t = (JSON.parse(out.slice(json)) as CliResultJson).tables?.[0];
      if (t) {
        run.read = t.read;
        run.written = t.written;
        run.failed = t.failed + (t.error ? 1 : 0);
      }
    } catch {
      /* killed mid-output, or no JSON */
    }
  }
  rmSync(cwd, { recursive: true, force: true });
  return run;
}
