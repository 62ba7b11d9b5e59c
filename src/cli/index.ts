#!/usr/bin/env node
// The `table-sync` process: argv and environment into main(), its result into the exit code.
// Ctrl+C or SIGTERM (a CI cancel or time-out) stops the run the way its command can stop (a full sync with
// --state-file after the current page, saving a checkpoint; a verify without a verdict), says so, and exits
// 128 + the signal's number: 130 for SIGINT, 143 for SIGTERM. Ctrl+C twice quits at once (130).
import type { CancelState } from "./deps.js";
import { EXIT_CANCELLED } from "./exit-codes.js";
import { main } from "./main.js";

const controller = new AbortController();
// main() says what the cancel does (it knows the command) and sets the line a second Ctrl+C prints.
const cancel: CancelState = { quitLine: "Stopped at once." };
const stop = (signal: NodeJS.Signals) => {
  if (controller.signal.aborted) {
    if (signal === "SIGINT") {
      process.stderr.write(`\n${cancel.quitLine}\n`);
      process.exit(EXIT_CANCELLED);
    }
    return; // a second SIGTERM: the checkpoint is being saved; SIGKILL, if it comes, is safe too
  }
  cancel.by = signal;
  controller.abort();
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);

main(
  process.argv.slice(2),
  process.env,
  { stdout: process.stdout, stderr: process.stderr },
  { signal: controller.signal, cancel },
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
