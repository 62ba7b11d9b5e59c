// What each step's runner gets from run(): the notices gathered before it, how to scrub secrets, the log's
// phase groups and the cancel signal.
import type { PhaseGroups } from "./log.js";

export interface StepContext {
  /** The config file's and the state store's notices: first in the summary and result-json. */
  notices: string[];
  /** A line with every secret scrubbed. */
  clean: (s: string) => string;
  /** A copy of `value` with every secret scrubbed (before Markdown escaping could hide one from `clean`). */
  scrub: <T>(value: T) => T;
  groups: PhaseGroups;
  /** Aborted on SIGINT/SIGTERM (cancel, time-out): the step stops after the current page. */
  signal?: AbortSignal;
}
