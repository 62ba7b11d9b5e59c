// The CLI's exit codes, and the last line of a run that stopped on an error: a usage error (2), a failure (1),
// or a cancel (130 for Ctrl+C, 143 for SIGTERM), each said in one line on stderr.
import { ConfigError } from "../config/schema.js";
import { ConnectionError } from "../engine/wire/connection.js";
import { StateError } from "../state/state.js";
import { cliMessage } from "./args.js";
import type { CancelState } from "./deps.js";
import { SignInError } from "./sign-in.js";

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
/** Cancelled by SIGINT (Ctrl+C): 128 + 2, as shells report it. */
export const EXIT_CANCELLED = 130;
/** Cancelled by SIGTERM (a CI cancel or time-out): 128 + 15. */
export const EXIT_TERMINATED = 143;

export function cancelExitCode(cancel: CancelState | undefined): number {
  return cancel?.by === "SIGTERM" ? EXIT_TERMINATED : EXIT_CANCELLED;
}

export function oneLine(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}

/** What stopped the run, printed through `err`, and the exit code it earns. */
export function errorExit(
  e: unknown,
  run: { command?: string; started: boolean; signal?: AbortSignal; cancel?: CancelState },
  err: (text: string) => void,
): number {
  if (run.started && run.command && run.signal?.aborted) {
    // Whatever stopped half-way after a cancel is the cancel's doing, not a failure to report as one.
    err(
      `table-sync: ${run.command} cancelled: ${cliMessage(oneLine(e instanceof Error ? e.message : String(e)))}\n`,
    );
    return cancelExitCode(run.cancel);
  }
  if (e instanceof ConfigError || e instanceof ConnectionError || e instanceof StateError) {
    err(`table-sync: ${cliMessage(oneLine(e.message))}\n`);
    return EXIT_USAGE;
  }
  if (e instanceof SignInError) {
    err(`table-sync: ${e.message}\n`);
    return EXIT_FAILED;
  }
  err(`table-sync: ${oneLine(e instanceof Error ? e.message : String(e))}\n`);
  return EXIT_FAILED;
}
