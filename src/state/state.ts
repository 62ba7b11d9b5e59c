// The state document: per table pair, the watermark (the source server's clock when the last successful scan
// began) and what the last successful run did. Versioned, compact JSON, validated on every load: a corrupt or
// foreign document is an error, never an empty state. Everything here is pure; the stores do the I/O.
// The rules that change it live beside it: watermark.ts, shard-view.ts; the table keys: table-key.ts.
import { z } from "zod";
import { pack, unpack } from "./compact.js";
import { keepLast, MAX_HISTORY_POINTS } from "./history.js";
import { earlier } from "./time-order.js";

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
  continuation: z.union([
    z.object({ nextPartitionKey: z.string(), nextRowKey: z.string().optional() }),
    // A read by key ranges (an unsorted source): every partition before this key is written. A field of its
    // own, not `nextPartitionKey`: a release before ranged reads must refuse it, not send it as a token.
    z.object({ rangedFrom: z.string() }),
  ]),
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

export function emptyState(): State {
  return { format: STATE_FORMAT, version: STATE_VERSION, tables: {} };
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
