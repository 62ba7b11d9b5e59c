// Child process of the matrix: our CLI exactly as a user runs it (`table-sync full-sync …`, arguments and
// environment passed through), with its resource use written to $BENCH_USAGE_FILE when the process exits.
// The CLI's modules are loaded before the clock starts, so the figures are the run's, not node's start-up.
//
// BENCH_CLI picks the entry: `build` (default, build/src/cli/index.js, the current source compiled by
// `npm run build`) or `dist` (dist/cli/index.js, the bundle bin/table-sync.js runs).
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";

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
    }),
  );
});
await import(entry);
