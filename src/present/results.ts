// Sentences both doors say about a step's result. The figures come formatted by the door (the CLI groups
// thousands, the job summary does not), so each door says the same words with its own numbers.
import type { RunTotals } from "../engine/copy/result.js";
import { CANCELLED } from "../engine/copy/run-config.js";

const CANCELLED_ERROR = new RegExp(`\\b${CANCELLED}\\b`, "i");

/** A table-level error that only says the run was cancelled (the engine's wording). */
export function isCancelledError(error: string | undefined): boolean {
  return error !== undefined && CANCELLED_ERROR.test(error);
}

/** A switch's final backfill: `Final backfill: 250 read, 250 written, 0 failed, 0 conflicts.` */
export function finalBackfillLine(t: RunTotals, shown: (n: number) => string = String): string {
  return `Final backfill: ${shown(t.read)} read, ${shown(t.written)} written, ${shown(t.failed)} failed, ${shown(t.conflicts)} conflicts.`;
}

/** A backfill's lag, after "Lag: ": how far the destination trails the source and how much changed since. */
export function lagSentence(lagSeconds: string, changedEntities: string): string {
  return `the destination trails the source by about ${lagSeconds} s (source clock); ${changedEntities} entities changed in the window.`;
}
