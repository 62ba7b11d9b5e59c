// The watermark rules: when a table's watermark moves (a complete scan, only forwards, to the source's clock
// at the scan's start), where a backfill starts from it, and the watermark of several tables or of a table's
// shards together. Everything here is pure.
import { StateError, type State, type TableState } from "./state.js";
import { parseTableKey, tableKey } from "./table-key.js";
import { earlier, later } from "./time-order.js";

/** `backfill` found neither a stored watermark nor `since` for a table. */
export class MissingWatermarkError extends StateError {
  override name = "MissingWatermarkError";
  constructor(readonly tableKey: string) {
    super(
      `No watermark is stored for table ${describeKey(tableKey)}, so a backfill does not know where to start: ` +
        `run 'full-sync' first, or set 'since' to the UTC time from which changes should be copied.`,
    );
  }
}

function describeKey(key: string): string {
  const { source, destination } = parseTableKey(key);
  return source === destination ? `'${source}'` : `'${source}' → '${destination}'`;
}

/** What `advanceWatermark` needs to know about the run besides the table's result. */
export interface RunInfo {
  mode: string;
  /** When the table finished (informational). Defaults to the source clock at start plus the table's duration. */
  finishedAt?: Date | string;
  /** A dry run wrote nothing, so it must not move anything. */
  dryRun?: boolean;
}

/** What a table's run reports that the watermark rules read (the engine's TableResult has it all). */
export interface ScanOutcome {
  error?: string;
  failed: number;
  read: number;
  written: number;
  skipped: number;
  durationMs: number;
  /** The source server's clock when the scan began (ISO-8601 UTC). */
  sourceClockAtStart?: string;
}

export function watermarkOf(state: State | undefined, key: string): string | undefined {
  return state?.tables[key]?.watermark;
}

function toIso(value: Date | string, what: string): string {
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  if (!Number.isFinite(ms)) throw new StateError(`${what} '${String(value)}' is not a valid time.`);
  return new Date(ms).toISOString();
}

/**
 * The state after one table's run. The watermark moves only when the run read the table completely and wrote
 * every entity (zero failed, no table error), only forwards, and only to the source server's clock at the start
 * of the scan (`result.sourceClockAtStart`, or the stored checkpoint's clock if earlier: a resumed scan began when
 * the checkpointed one did) — never the runner's clock. Returns the same object when nothing
 * changes (a failed table, a dry run, a successful run without a source clock).
 */
export function advanceWatermark(state: State, key: string, result: ScanOutcome, run: RunInfo): State {
  if (run.dryRun) return state;
  if (result.error || result.failed !== 0) return state;
  if (!result.sourceClockAtStart) return state;
  const clock = toIso(result.sourceClockAtStart, "The source clock");
  const previous = state.tables[key] ?? {};
  // A scan resumed from a checkpoint began when the checkpointed scan began: take the earlier clock. Only a
  // run of the checkpoint's mode resumes it (or supersedes it); a backfill in between leaves it in place.
  const resumed = previous.checkpoint?.mode === run.mode ? previous.checkpoint : undefined;
  const began = earlier(clock, resumed?.sourceClockAtStart);
  const watermark = later(began, previous.watermark);
  const at = run.finishedAt
    ? toIso(run.finishedAt, "The finish time")
    : new Date(Date.parse(clock) + Math.max(0, result.durationMs)).toISOString();
  const next: TableState = {
    ...previous,
    watermark,
    lastSuccess: { mode: run.mode, at, read: result.read, written: result.written, skipped: result.skipped },
  };
  // A completed scan supersedes any resume point it came from.
  if (resumed) delete next.checkpoint;
  return { ...state, tables: { ...state.tables, [key]: next } };
}

/**
 * The oldest watermark among the given tables (ISO UTC), or undefined when any of them has none: until every
 * table has been synced once, there is no time up to which "everything" is copied.
 */
export function oldestWatermark(
  state: State | undefined,
  tables: Array<string | { source: string; destination: string }>,
): string | undefined {
  if (!state || tables.length === 0) return undefined;
  let oldest: string | undefined;
  for (const t of tables) {
    const w = watermarkOf(state, typeof t === "string" ? t : tableKey(t));
    if (!w) return undefined;
    if (!oldest || Date.parse(w) < Date.parse(oldest)) oldest = w;
  }
  return oldest;
}

/**
 * Where a backfill's `Timestamp ge` filter starts: (`since` ?? the stored watermark) − overlap. Throws
 * `MissingWatermarkError` when neither exists: never a silent full copy, never a silent no-op.
 */
export function backfillStart(
  state: State | undefined,
  key: string,
  since: Date | string | undefined,
  overlapSeconds: number,
): Date {
  if (!Number.isFinite(overlapSeconds) || overlapSeconds < 0) {
    throw new StateError(`The overlap must be zero or more seconds, not ${overlapSeconds}.`);
  }
  const base = since !== undefined ? toIso(since, "'since'") : watermarkOf(state, key);
  if (!base) throw new MissingWatermarkError(key);
  return new Date(Date.parse(base) - overlapSeconds * 1000);
}

/** The oldest shard watermark when every shard of the table's plan has completed under it; else undefined. */
export function combinedWatermark(entry: TableState): string | undefined {
  const plan = entry.shardPlan;
  if (!plan) return undefined;
  let oldest: string | undefined;
  for (let i = 1; i <= plan.count; i++) {
    const s = entry.shards?.[`${i}/${plan.count}`];
    if (!s || s.plan !== plan.id || !s.watermark) return undefined;
    if (!oldest || Date.parse(s.watermark) < Date.parse(oldest)) oldest = s.watermark;
  }
  return oldest;
}
