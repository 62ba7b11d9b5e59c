// The state document: per table pair, the watermark (the source server's clock when the last successful scan
// began) and what the last successful run did. Versioned, compact JSON, validated on every load: a corrupt or
// foreign document is an error, never an empty state. Everything here is pure; the stores do the I/O.
import { z } from "zod";
import { pack, unpack } from "./compact.js";
import { keepLast, MAX_HISTORY_POINTS } from "./history.js";

/** Marks the document as ours, so a foreign JSON file or variable is refused rather than overwritten. */
export const STATE_FORMAT = "azure-table-sync/state";
export const STATE_VERSION = 1;
/**
 * The largest serialized state any store accepts, in UTF-8 bytes: a repository variable holds at most 48 KB,
 * and we count KB as 1,000 bytes to stay clear of the limit whichever way GitHub counts it.
 */
export const MAX_STATE_BYTES = 48_000;

/** A state problem the user must act on: one sentence, no stack needed. */
export class StateError extends Error {
  override name = "StateError";
}

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

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?Z$/;
const isoUtc = z.string().refine((s) => ISO_UTC.test(s) && Number.isFinite(Date.parse(s)), {
  message: "expected an ISO-8601 UTC time such as 2024-05-01T12:00:00.000Z",
});
const count = z.number().int().nonnegative();

const RunSummarySchema = z.looseObject({
  /** `full-sync`, `backfill`, … */
  mode: z.string().min(1),
  /** When the run finished (informational; never used to pick a filter). */
  at: isoUtc,
  read: count,
  written: count,
  skipped: count,
});

const CheckpointSchema = z.looseObject({
  /** Where the interrupted scan resumes (the reader's `Continuation`). */
  continuation: z.object({ nextPartitionKey: z.string(), nextRowKey: z.string().optional() }),
  /** The source clock when the interrupted scan began: the watermark the scan earns once it completes. */
  sourceClockAtStart: isoUtc,
  mode: z.string().min(1),
  read: count,
  /** The run's query-filter: a continuation is only valid for the query that produced it. */
  queryFilter: z.string().optional(),
  /** The run's property renames (`from:to,…`): entities before the continuation were written with them. */
  propertyRenames: z.string().optional(),
  /** Entities written before the continuation (over every resumed run). */
  written: count.optional(),
  /** The copy the checkpoint belongs to (engine/copy-id.ts): digests only, no secrets. */
  copy: z.string().optional(),
  at: isoUtc,
});

/** A full sync in progress: set by its first save, cleared once every table of the run completed. */
const FullSyncRunSchema = z.looseObject({
  /** When the interrupted full sync started (the runner's clock; informational). */
  startedAt: isoUtc,
  /** Table keys the run already completed: a resumed run does not copy them again. */
  done: z.array(z.string().min(1)),
  /** Per done table key: the copy (engine/copy-id.ts) it was done by; a different copy is not "done". */
  copies: z.record(z.string(), z.string()).optional(),
  /** Sharded runs: the shard's save number, and false once the run completed (kept, so a merge cannot revive it). */
  seq: count.optional(),
  open: z.boolean().optional(),
});

const TableStateSchema = z.looseObject({
  /** The source server's clock when the last successful scan began. */
  watermark: isoUtc.optional(),
  lastSuccess: RunSummarySchema.optional(),
  /** When the app's endpoint moved to the destination (a later mode records it). */
  switchedAt: isoUtc.optional(),
  /** A full sync's resume point: every entity before `continuation` is written. */
  checkpoint: CheckpointSchema.optional(),
  /** Ids of our own writes after the switch, so a later backfill does not take them for the app's. */
  postSwitchWrites: z.array(z.string()).optional(),
  /** The last backfills (time, lag, changed entities) in the compact form of state/history.ts. */
  history: z.string().optional(),
  /** How many entities the table holds, as preflight or the last complete full sync counted them. */
  size: z.looseObject({ entities: count, by: z.string().min(1), at: isoUtc }).optional(),
  /** How `shard: i/n` splits this table: the first plan stored for an n wins, so every shard reads the same ranges. */
  shardPlan: z
    .looseObject({
      count: z.number().int().min(2),
      boundaries: z.array(z.string()),
      id: z.string().min(1),
      sampledFrom: count,
      at: isoUtc,
    })
    .optional(),
  /** A shard is scanning the keys for a plan of `count` shards; `beat` changes while it is alive. */
  shardSampling: z.looseObject({ count: z.number().int().min(2), by: z.string(), beat: count }).optional(),
  /**
   * Per shard (`i/n`): its own watermark, checkpoint and last success, under the plan it read by. The table's
   * watermark is derived once every shard of one plan has one.
   */
  shards: z
    .record(
      z.string().regex(/^\d+\/\d+$/),
      z.looseObject({
        plan: z.string().min(1),
        /** Numbers this shard's saves, so a merge keeps the newest version of each shard's record. */
        seq: count.optional(),
        watermark: isoUtc.optional(),
        lastSuccess: RunSummarySchema.optional(),
        checkpoint: CheckpointSchema.optional(),
        postSwitchWrites: z.array(z.string()).optional(),
      }),
    )
    .optional(),
});

const StateSchema = z.looseObject({
  format: z.literal(STATE_FORMAT),
  version: z.literal(STATE_VERSION),
  tables: z.record(z.string().min(1), TableStateSchema),
  /** A full sync that has not completed every table yet (see `FullSyncRunSchema`). */
  fullSync: FullSyncRunSchema.optional(),
  /** The same per shard (`i/n`) of a sharded full sync. */
  fullSyncShards: z.record(z.string(), FullSyncRunSchema).optional(),
});

export type RunSummary = z.infer<typeof RunSummarySchema>;
export type Checkpoint = z.infer<typeof CheckpointSchema>;
export type FullSyncRun = z.infer<typeof FullSyncRunSchema>;
export type TableState = z.infer<typeof TableStateSchema>;
export type ShardState = NonNullable<TableState["shards"]>[string];
export type StoredShardPlan = NonNullable<TableState["shardPlan"]>;
export type State = z.infer<typeof StateSchema>;

/** What `advanceWatermark` needs to know about the run besides the table's result. */
export interface RunInfo {
  mode: string;
  /** When the table finished (informational). Defaults to the source clock at start plus the table's duration. */
  finishedAt?: Date | string;
  /** A dry run wrote nothing, so it must not move anything. */
  dryRun?: boolean;
}

const ARROW = "→";

/** The state's key for a table pair: `source→destination`. */
export function tableKey(spec: { source: string; destination: string }): string {
  // Table names are case-insensitive in both services: `Users` and `users` are one table, so one entry
  // (its watermark and, above all, its switched-at must not be escaped by a change of case).
  return `${spec.source}${ARROW}${spec.destination}`.toLowerCase();
}

/**
 * One entry out of two stored for the same table under keys that differ only in case (states written
 * before keys were case-insensitive): never less safe than either. The older watermark (more is read
 * again), the earlier switch (more is guarded), every post-switch write of ours; two checkpoints cannot
 * both be right, so the full sync starts that table again.
 */
function mergeEntries(a: TableState, b: TableState): TableState {
  const merged: TableState = { ...b, ...a };
  const either = (x: string | undefined, y: string | undefined) => (x === undefined ? y : earlier(x, y));
  const watermark = either(a.watermark, b.watermark);
  const switchedAt = either(a.switchedAt, b.switchedAt);
  if (watermark) merged.watermark = watermark;
  if (switchedAt) merged.switchedAt = switchedAt;
  if (a.postSwitchWrites || b.postSwitchWrites) {
    merged.postSwitchWrites = [...new Set([...(b.postSwitchWrites ?? []), ...(a.postSwitchWrites ?? [])])];
  }
  if (a.checkpoint && b.checkpoint) delete merged.checkpoint;
  return merged;
}

/** The state with every table key in the case `tableKey` makes (entries that collide are merged). */
function withCaseInsensitiveKeys(state: State): State {
  const keys = Object.keys(state.tables);
  const lowerDone = (run: FullSyncRun): FullSyncRun => ({
    ...run,
    done: [...new Set(run.done.map((k) => k.toLowerCase()))],
  });
  if (
    keys.every((k) => k === k.toLowerCase()) &&
    (state.fullSync?.done ?? []).every((k) => k === k.toLowerCase()) &&
    Object.values(state.fullSyncShards ?? {}).every((r) => r.done.every((k) => k === k.toLowerCase()))
  ) {
    return state;
  }
  const tables: Record<string, TableState> = {};
  for (const key of keys) {
    const lower = key.toLowerCase();
    const entry = state.tables[key];
    tables[lower] = tables[lower] ? mergeEntries(tables[lower], entry) : entry;
  }
  const next: State = { ...state, tables };
  if (state.fullSync) next.fullSync = lowerDone(state.fullSync);
  if (state.fullSyncShards) {
    next.fullSyncShards = Object.fromEntries(
      Object.entries(state.fullSyncShards).map(([sid, run]) => [sid, lowerDone(run)]),
    );
  }
  return next;
}

/** The table pair of a key made by `tableKey`. */
export function parseTableKey(key: string): { source: string; destination: string } {
  const i = key.indexOf(ARROW);
  return i < 0
    ? { source: key, destination: key }
    : { source: key.slice(0, i), destination: key.slice(i + 1) };
}

function describeKey(key: string): string {
  const { source, destination } = parseTableKey(key);
  return source === destination ? `'${source}'` : `'${source}' → '${destination}'`;
}

export function emptyState(): State {
  return { format: STATE_FORMAT, version: STATE_VERSION, tables: {} };
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

function earlier(a: string, b: string | undefined): string {
  return b !== undefined && Date.parse(b) < Date.parse(a) ? b : a;
}

function later(a: string, b: string | undefined): string {
  return b !== undefined && Date.parse(b) > Date.parse(a) ? b : a;
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

/** Compact JSON for a store; throws when it would not fit the 48 KB a repository variable holds. */
export function serializeState(state: State): string {
  const checked = StateSchema.safeParse(state);
  if (!checked.success) {
    throw new StateError(`Refusing to save an invalid state: ${formatIssues(checked.error)}.`);
  }
  let text = JSON.stringify(checked.data);
  // Too big as plain JSON: deflated; still too big, the oldest backfill history goes first (it only draws
  // the lag chart), half of what is left each time, before a save would fail.
  for (let keep = MAX_HISTORY_POINTS; Buffer.byteLength(text, "utf8") > MAX_STATE_BYTES; keep >>= 1) {
    const data = keep === MAX_HISTORY_POINTS ? checked.data : withHistoriesCut(checked.data, keep);
    text = pack(JSON.stringify(data), STATE_FORMAT);
    if (keep === 0) break;
  }
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_STATE_BYTES) {
    throw new StateError(
      `The state is ${bytes} bytes, more than the ${MAX_STATE_BYTES} bytes a state may hold ` +
        `(${Object.keys(state.tables).length} tables); split the tables over several state keys.`,
    );
  }
  return text;
}

/** Every table's backfill history cut to its last `keep` points. */
function withHistoriesCut(state: State, keep: number): State {
  const tables: Record<string, TableState> = {};
  for (const [key, entry] of Object.entries(state.tables)) {
    const history = entry.history === undefined ? undefined : keepLast(entry.history, keep);
    const next = { ...entry };
    if (history) next.history = history;
    else delete next.history;
    tables[key] = next;
  }
  return { ...state, tables };
}

/** Parse and validate a stored state. `where` names the store in the error ("the file x", "the variable Y"). */
export function parseState(text: string, where: string): State {
  let json: unknown;
  try {
    json = JSON.parse(text);
    const o = json as Record<string, unknown>;
    const inner = o && typeof o === "object" && o.format === STATE_FORMAT ? unpack(o) : undefined;
    if (inner !== undefined) json = JSON.parse(inner);
  } catch (err) {
    throw new StateError(
      `The state in ${where} is not valid JSON (${(err as Error).message}); fix or delete it, then run 'full-sync'.`,
    );
  }
  if (typeof json === "object" && json !== null && !Array.isArray(json)) {
    const o = json as Record<string, unknown>;
    if (o.format === STATE_FORMAT && typeof o.version === "number" && o.version > STATE_VERSION) {
      throw new StateError(
        `The state in ${where} has version ${o.version}, written by a newer azure-table-sync; ` +
          `use that version or newer (this one reads version ${STATE_VERSION}).`,
      );
    }
    if (o.format !== STATE_FORMAT) {
      throw new StateError(
        `The state in ${where} is not an azure-table-sync state (no "format": "${STATE_FORMAT}"); ` +
          `point the state store at its own location instead of overwriting someone else's data.`,
      );
    }
  } else {
    throw new StateError(`The state in ${where} is not an azure-table-sync state (not a JSON object).`);
  }
  const parsed = StateSchema.safeParse(json);
  if (!parsed.success) {
    throw new StateError(
      `The state in ${where} is damaged: ${formatIssues(parsed.error)}; fix or delete it, then run 'full-sync'.`,
    );
  }
  return withCaseInsensitiveKeys(parsed.data);
}

function formatIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`)
    .join("; ");
}

// ---------------------------------------------------------------------------------------------
// Shards: several jobs (`shard: i/n`) share one state document. Each job works on a *view* of the state in which
// its shard's entry stands in for the table's own fields, so watermarks, checkpoints and resume work exactly as
// for a whole table; saving merges the view back into the latest stored document, touching only that shard's
// entry, so shards saving at the same time never undo each other's progress for long.

/** For each table key: the plan id the shard reads by. */
export type ShardPlans = Map<string, string>;

/** The state as shard `sid` sees it: its own watermark (never older than the table's), checkpoint and run marker. */
export function shardView(state: State, sid: string, plans: ShardPlans): State {
  const tables = { ...state.tables };
  for (const [key, plan] of plans) {
    const entry = state.tables[key];
    const own = entry?.shards?.[sid];
    const mine = own && own.plan === plan ? own : undefined;
    const view: TableState = { ...entry };
    delete view.shards;
    delete view.checkpoint;
    delete view.lastSuccess;
    const watermark = mine?.watermark ? later(mine.watermark, entry?.watermark) : entry?.watermark;
    if (watermark) view.watermark = watermark;
    if (mine?.checkpoint) view.checkpoint = mine.checkpoint;
    if (mine?.lastSuccess) view.lastSuccess = mine.lastSuccess;
    tables[key] = view;
  }
  const view: State = { ...state, tables };
  delete view.fullSync;
  const marker = state.fullSyncShards?.[sid];
  if (marker && marker.open !== false) {
    const m = { ...marker };
    delete m.seq;
    delete m.open;
    view.fullSync = m;
  }
  return view;
}

/** Of two versions of one shard's record, the later one (each shard numbers its own saves). */
function newer<T extends { seq?: number }>(a: T | undefined, b: T | undefined): T | undefined {
  if (!a) return b;
  if (!b) return a;
  return (b.seq ?? 0) > (a.seq ?? 0) ? b : a;
}

/**
 * Merge shard `sid`'s view into `latest` (the document as stored now). Only that shard's records change (with
 * a higher sequence number); every other shard's record is the newest version seen in `latest` or in `carry`
 * (the document this shard saved last), so a save that raced another shard's does not undo it for good. The
 * table's watermark moves once every shard of the table's plan has one (the oldest of them: each is valid for
 * its own range, so the oldest is valid for the whole table).
 */
export function mergeShardView(
  latest: State,
  view: State,
  sid: string,
  plans: ShardPlans,
  carry?: State,
  /** Most post-switch write ids kept per table. */
  maxOurWrites = 1_000,
): State {
  const tables = { ...latest.tables };
  for (const [key, plan] of plans) {
    const v = view.tables[key] ?? {};
    const before = carry?.tables[key];
    const entry: TableState = { ...tables[key] };
    if (!entry.shardPlan && before?.shardPlan) entry.shardPlan = before.shardPlan;
    const shards: NonNullable<TableState["shards"]> = {};
    for (const id of new Set([...Object.keys(entry.shards ?? {}), ...Object.keys(before?.shards ?? {})])) {
      const pick = newer(entry.shards?.[id], before?.shards?.[id]);
      if (pick) shards[id] = pick;
    }
    const own: ShardState = { plan, seq: (shards[sid]?.seq ?? 0) + 1 };
    if (v.watermark) own.watermark = v.watermark;
    if (v.lastSuccess) own.lastSuccess = v.lastSuccess;
    if (v.checkpoint) own.checkpoint = v.checkpoint;
    shards[sid] = own;
    // Our post-switch writes live at the table (a later backfill without 'shard' must know them too), as
    // the union of every shard's: each merge adds what this shard wrote.
    if (v.postSwitchWrites?.length) {
      const ours = [...new Set([...(entry.postSwitchWrites ?? []), ...v.postSwitchWrites])];
      entry.postSwitchWrites = ours.slice(-maxOurWrites);
    }
    entry.shards = shards;
    if (v.switchedAt && !entry.switchedAt) entry.switchedAt = v.switchedAt;
    const derived = combinedWatermark(entry);
    if (derived) entry.watermark = later(derived, entry.watermark);
    tables[key] = entry;
  }
  const next: State = { ...latest, tables };
  const markers: NonNullable<State["fullSyncShards"]> = {};
  const ids = new Set([
    ...Object.keys(latest.fullSyncShards ?? {}),
    ...Object.keys(carry?.fullSyncShards ?? {}),
  ]);
  for (const id of ids) {
    const pick = newer(latest.fullSyncShards?.[id], carry?.fullSyncShards?.[id]);
    if (pick) markers[id] = pick;
  }
  const seq = (markers[sid]?.seq ?? 0) + 1;
  if (view.fullSync) markers[sid] = { ...view.fullSync, seq, open: true };
  else if (markers[sid]) markers[sid] = { ...markers[sid], seq, open: false };
  if (Object.keys(markers).length) next.fullSyncShards = markers;
  else delete next.fullSyncShards;
  return next;
}

/** This shard's own records in a document, to check that a save of ours is (still) what is stored. */
export function shardRecords(state: State | undefined, sid: string, plans: ShardPlans): string {
  return JSON.stringify([
    ...[...plans.keys()].map((k) => state?.tables[k]?.shards?.[sid] ?? null),
    state?.fullSyncShards?.[sid] ?? null,
  ]);
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
