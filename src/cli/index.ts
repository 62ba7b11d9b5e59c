#!/usr/bin/env node
// The `table-sync` process: argv and environment into main(), its result into the exit code.
// Ctrl+C once stops after the current page (the summary still prints); twice quits at once.
import { EXIT_CANCELLED, main } from "./main.js";

const controller = new AbortController();
process.once("SIGINT", () => {
  process.stderr.write("\nStopping after the current page (Ctrl+C again to quit now)…\n");
  controller.abort();
  process.once("SIGINT", () => process.exit(EXIT_CANCELLED));
});

main(
  process.argv.slice(2),
  process.env,
  { stdout: process.stdout, stderr: process.stderr },
  { signal: controller.signal },
).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // main() reports its own errors; this is a last resort and still prints no stack.
    process.stderr.write(`table-sync: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
