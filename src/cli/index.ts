#!/usr/bin/env node
// The `table-sync` process: argv and environment into main(), its result into the exit code.
// Ctrl+C or SIGTERM (a CI cancel or time-out) stops after the current page, saves a full sync's checkpoint
// and still prints the summary; Ctrl+C twice quits at once.
import { EXIT_CANCELLED, main } from "./main.js";

const controller = new AbortController();
const stop = (signal: NodeJS.Signals) => {
  if (controller.signal.aborted) {
    if (signal === "SIGINT") process.exit(EXIT_CANCELLED);
    return; // a second SIGTERM: the checkpoint is being saved; SIGKILL, if it comes, is safe too
  }
  process.stderr.write(
    `\n${signal === "SIGINT" ? "Stopping" : `${signal}: stopping`} after the current page and saving a checkpoint` +
      `${signal === "SIGINT" ? " (Ctrl+C again to quit now)" : ""}…\n`,
  );
  controller.abort();
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);

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
