// What main() is handed besides argv and the environment: where it prints, and what tests (and the process's
// signal handlers, index.ts) put in place of the real credential, state file, clock and timers.
import type { TokenCredential } from "@azure/core-auth";
import type { SyncConfig } from "../config/schema.js";
import type { RetryOptions } from "../engine/wire/http.js";
import type { StateStore } from "../state/store.js";

export interface Output {
  write(chunk: string): unknown;
}

export interface CliIO {
  stdout: Output;
  stderr: Output;
}

/** Shared with the process's signal handlers (src/cli/index.ts). */
export interface CancelState {
  /** The signal that cancelled the run: SIGTERM exits 143, anything else (SIGINT) 130. */
  by?: NodeJS.Signals;
  /** What a second Ctrl+C prints before quitting at once; main() sets it once the command is known. */
  quitLine: string;
}

export interface CliDeps {
  /** Where `.env` is looked for; defaults to the process's working directory. */
  cwd?: string;
  /** Aborted on Ctrl+C: the run stops after the current page and still prints its summary. */
  signal?: AbortSignal;
  /** Which signal aborted `signal` (for the exit code), and the line a second Ctrl+C prints. */
  cancel?: CancelState;
  /** Milliseconds between progress lines; overrides --progress-seconds (tests use a few ms). */
  progressIntervalMs?: number;
  /** The Entra ID credential for endpoints; defaults to DefaultAzureCredential. */
  credential?: (auth: SyncConfig["auth"]) => TokenCredential | Promise<TokenCredential>;
  /** The store behind --state-file; defaults to the JSON file at that path. */
  openState?: (config: SyncConfig) => StateStore;
  /** Milliseconds between full-sync checkpoints; overrides --checkpoint-seconds (tests use a few ms). */
  checkpointIntervalMs?: number;
  /** Engine retry settings (tests shorten them). */
  retry?: Partial<RetryOptions>;
  now?: () => Date;
}
