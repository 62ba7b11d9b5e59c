// Shards: several jobs (`shard: i/n`) share one state document. Each job works on a *view* of the state in which
// its shard's entry stands in for the table's own fields, so watermarks, checkpoints and resume work exactly as
// for a whole table; saving merges the view back into the latest stored document, touching only that shard's
// entry, so shards saving at the same time never undo each other's progress for long.
import type { ShardState, State, TableState } from "./state.js";
import { later } from "./time-order.js";
import { combinedWatermark } from "./watermark.js";

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
