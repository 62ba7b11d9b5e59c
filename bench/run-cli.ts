// Child process of the matrix: our CLI exactly as a user runs it (`table-sync full-sync …`, arguments and
// environment passed through), with its resource use written to $BENCH_USAGE_FILE when the process exits.
// The CLI's modules are loaded before the clock starts, so the figures are the run's, not node's start-up.
//
// BENCH_CLI picks the entry: `build` (default, build/src/cli/index.js, the current source compiled by
// `npm run build`) or `dist` (dist/cli/index.js, the bundle bin/table-sync.js runs).
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { PerformanceObserver, constants, monitorEventLoopDelay } from "node:perf_hooks";

const usageFile = process.env.BENCH_USAGE_FILE;
const entry = process.env.BENCH_CLI === "dist" ? "../../dist/cli/index.js" : "../src/cli/index.js";
// Load what the CLI imports first (the bundle has nothing to preload: it is one module).
if (process.env.BENCH_CLI !== "dist") await import("../src/cli/main.js");
// BENCH_CPU_PROFILE=<file>: the run's CPU profile (as `--cpu-prof` writes it), without node's start-up.
const profileFile = process.env.BENCH_CPU_PROFILE;
const session = profileFile ? new Session() : undefined;
if (session) {
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.start");
}
// Time in the garbage collector, by kind: what allocation costs the run (with one request per entity, a
// large share of its CPU).
const gcMs = { minor: 0, major: 0, other: 0 };
const gc = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MINOR) gcMs.minor += e.duration;
    else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) gcMs.major += e.duration;
    else gcMs.other += e.duration;
  }
});
gc.observe({ entryTypes: ["gc"] });
// How long the event loop was held at a time: work done in one go delays every answer and page behind it.
// Sampled every 10 ms (node's default): a finer timer would wake the measured process a thousand times a
// second and take its share of the CPU being measured.
const LOOP_SAMPLE_MS = 10;
const loopDelay = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
/** A histogram value (ns, the sampling interval included) as the delay beyond the interval, ms. */
const late = (ns: number) => Math.max(0, ns / 1e6 - LOOP_SAMPLE_MS);
loopDelay.enable();
/** CPU ms of each of the process's threads by name (Linux): the main thread's share against V8's and libuv's. */
function threadCpuMs(): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    const tick = 10; // USER_HZ 100
    for (const task of readdirSync("/proc/self/task")) {
      const stat = readFileSync(`/proc/self/task/${task}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const name = stat.slice(stat.indexOf("(") + 1, close);
      const fields = stat.slice(close + 2).split(" ");
      // utime and stime are fields 14 and 15 of stat; fields[0] here is field 3.
      out[name] = (out[name] ?? 0) + (Number(fields[11]) + Number(fields[12])) * tick;
    }
  } catch {
    // Not Linux: no per-thread figures.
  }
  return out;
}
const threadsAtStart = threadCpuMs();
const start = process.resourceUsage();
const started = performance.now();
process.on("exit", (code) => {
  // An in-process session answers at once: the profile is written before the process ends.
  session?.post("Profiler.stop", (err, res) => {
    if (!err && profileFile) writeFileSync(profileFile, JSON.stringify(res.profile));
  });
  if (!usageFile) return;
  const now = process.resourceUsage();
  writeFileSync(
    usageFile,
    JSON.stringify({
      exitCode: code,
      elapsedMs: performance.now() - started,
      cpuMs: (now.userCPUTime - start.userCPUTime + now.systemCPUTime - start.systemCPUTime) / 1000,
      systemMs: (now.systemCPUTime - start.systemCPUTime) / 1000,
      maxRssKb: now.maxRSS,
      gcMs,
      threadsMs: Object.fromEntries(
        Object.entries(threadCpuMs()).map(([name, ms]) => [name, ms - (threadsAtStart[name] ?? 0)]),
      ),
      loopDelayMs: {
        p50: late(loopDelay.percentile(50)),
        p99: late(loopDelay.percentile(99)),
        max: late(loopDelay.max),
      },
    }),
  );
});
await import(entry);
