// One migration step, whatever door it came through: load the state, plan each table, run, move the
// watermarks by the rules, save after each table. The action and the CLI only present the result.
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { SyncConfig } from "../../config/schema.js";
import { advanceWatermark, oldestWatermark } from "../../state/watermark.js";
import { emptyState, StateError, type Checkpoint, type FullSyncRun, type State } from "../../state/state.js";
import { parseTableKey, tableKey } from "../../state/table-key.js";
import { mergeShardView, shardRecords, shardView, type ShardPlans } from "../../state/shard-view.js";
import { MemoryStateStore, type StateStore } from "../../state/store.js";
import type { SideConfig } from "../wire/connection.js";
import { planTable, switchGuard } from "./plan.js";
import { SerialQueue } from "../copy/pool.js";
import {
  rangeFilter,
  sampleShardPlan,
  shardId,
  shardRange,
  type KeyRange,
  type Shard,
  type ShardPlan,
} from "../copy/shard.js";
import { MAX_OUR_WRITES, type SwitchGuard } from "../copy/post-switch.js";
import { tableSucceeded, totals, type RunTotals, type TableResult } from "../copy/result.js";
import { andFilters } from "../wire/odata.js";
import { connect, connectSource, type Connected } from "../copy/connect.js";
import { runSync } from "../copy/run-sync.js";
import { type EngineConfig, type Progress, type TablePlan, type TableSpec } from "../copy/run-config.js";
import { verifyTable, type VerifyResult } from "../check/verify.js";
import { preflightTable, type PreflightResult } from "../check/preflight.js";
import { serverClock } from "../copy/post-switch.js";
import type { Eta, MeteredProgress } from "./progress.js";
import { recordRangedBackfills, RunRecords } from "./run-records.js";
import { rememberSizes } from "../../state/records.js";

export interface TableReport {
  result: TableResult;
  watermarkBefore?: string;
  watermarkAfter?: string;
  /** Why the watermark did or did not move, in a few words. */
  note?: string;
  /** How far the destination trails the source after this run: the new watermark's age on the source clock. */
  lagSeconds?: number;
  /** A full sync of a table of known size: how far it got, how fast, and how long was left. */
  eta?: Eta;
}

export interface MigrationResult {
  mode: SyncConfig["mode"];
  dryRun: boolean;
  tables: TableReport[];
  totals: RunTotals;
  /** The oldest table watermark after the run (undefined while a table has none). */
  lastSyncUtc?: string;
  /** Backfill: the largest lag over the tables, and the entities changed in the window. */
  lagSeconds?: number;
  changedEntities?: number;
  notices: string[];
  /** Exit 0? */
  ok: boolean;
  /** When not ok: one sentence for the user. */
  failure?: string;
}

export interface MigrationEvents {
  onTableStart?(spec: TableSpec, plan: TablePlan): void;
  onProgress?(progress: MeteredProgress): void;
  onTableEnd?(report: TableReport): void;
  /** A sentence for the user as soon as it is known (e.g. that a full sync resumes); also in `notices`. */
  onNotice?(text: string): void;
  /** After a checkpoint was saved. */
  onCheckpoint?(spec: TableSpec, checkpoint: Checkpoint): void;
  signal?: AbortSignal;
}

export interface MigrationDeps {
  /** Where watermarks live; without one (the CLI without --state-file) nothing is remembered. */
  store?: StateStore;
  /** The engine's view of the two sides (with credentials filled in by the door). */
  source: SideConfig;
  destination: SideConfig;
  retry?: EngineConfig["retry"];
  /** Overrides `checkpointSeconds` (tests use a few milliseconds). */
  checkpointIntervalMs?: number;
  /** Sharded runs: how long to wait for a concurrent shard's plan to land in the store (default 3 000 ms). */
  shardSettleMs?: number;
  /** Sharded runs: how often a shard waiting for another's key sample looks at the store (default 5 000 ms). */
  shardPollMs?: number;
  /** Sharded runs: how often a shard sampling the keys says so in the store (default 20 000 ms). */
  shardHeartbeatMs?: number;
  /** The shards are key ranges of one job (`read-ranges`), saving through one queue: no other process races them. */
  inProcessShards?: boolean;
}

export function engineConfigOf(config: SyncConfig, deps: MigrationDeps): EngineConfig {
  return {
    source: deps.source,
    destination: deps.destination,
    tables: config.tables,
    writeMode: config.writeMode,
    propertyRenames: config.propertyRenames,
    queryFilter: config.queryFilter,
    concurrency: config.concurrency,
    maxEntitiesPerSecond: config.maxEntitiesPerSecond,
    createTables: config.createTables,
    dryRun: config.dryRun,
    maxFailuresKept: config.maxFailuresKept,
    retry: deps.retry,
    checkpointIntervalMs: deps.checkpointIntervalMs ?? config.checkpointSeconds * 1000,
  };
}

/**
 * A `since` after the source's clock reads nothing, and the run would still move the watermark to that clock:
 * the changes before it would never be copied. The runner's clock may be wrong, so the source's decides.
 */
async function refuseFutureSince(
  config: SyncConfig,
  deps: MigrationDeps,
  signal?: AbortSignal,
): Promise<void> {
  const since = config.since;
  if (!since) return;
  const clock = await serverClock(connectSource(engineConfigOf(config, deps), signal), "source");
  // The Date header has whole seconds.
  if (since.getTime() > clock.getTime() + 1_000) {
    throw new StateError(
      `Input 'since' is ${since.toISOString()}, later than the source's clock (${clock.toISOString()}): the backfill would copy nothing and move the watermarks past changes it never read; use a time before ${clock.toISOString()}.`,
    );
  }
}

/** The first table-level error of a run, as ": table x: …" (the reason a user needs first), or "". */
function firstTableError(run: MigrationResult): string {
  const failed = run.tables.find((r) => r.result.error);
  return failed ? `: table ${failed.result.source}: ${failed.result.error?.replace(/\.$/, "")}` : "";
}

/** The run's property renames as a checkpoint records them (`from:to,…`; empty when none). */
function renamesText(config: SyncConfig): string {
  return config.propertyRenames.map((r) => `${r.from}:${r.to}`).join(",");
}

/** A table as the user spelled it in `tables` (keys are lower case), or as its key says. */
function describeTable(key: string, specs: TableSpec[]): string {
  const { source, destination } = specs.find((s) => tableKey(s) === key) ?? parseTableKey(key);
  return source === destination ? source : `${source} → ${destination}`;
}

function describeCheckpoint(key: string, cp: Checkpoint, specs: TableSpec[]): string {
  // Continuation tokens are opaque (the service may encode them): name the position by its count.
  return `table ${describeTable(key, specs)} after its first ${cp.read} entities`;
}

function lagOf(result: TableResult, watermark: string | undefined): number | undefined {
  const end = Date.parse(result.sourceClockAtEnd ?? "");
  const wm = Date.parse(watermark ?? "");
  if (!Number.isFinite(end) || !Number.isFinite(wm)) return undefined;
  return Math.max(0, Math.round((end - wm) / 1000));
}

/** full-sync and backfill. */
export async function runCopy(
  config: SyncConfig,
  deps: MigrationDeps,
  events: MigrationEvents = {},
): Promise<MigrationResult> {
  if (config.mode !== "full-sync" && config.mode !== "backfill") {
    throw new StateError(`Mode '${config.mode}' does not copy tables; it has its own step.`);
  }
  if (config.mode === "backfill" && config.since) await refuseFutureSince(config, deps, events.signal);
  if (!config.shard && config.readRanges > 1) return runRanges(config, deps, events);
  const store = deps.store;
  let state: State = (store ? await store.load() : undefined) ?? emptyState();
  if (config.mode === "backfill" && !store && !config.since) {
    throw new StateError(
      "A backfill needs the watermarks a full sync recorded (a state store) or 'since' (an ISO-8601 UTC time).",
    );
  }
  const reports: TableReport[] = [];
  const notices: string[] = [];
  const notice = (text: string) => {
    notices.push(text);
    events.onNotice?.(text);
  };
  // A shard works on its view of the shared state, and each save merges that view into the latest document.
  const sharded = config.shard ? await prepareShards(config, config.shard, deps, store, notice) : undefined;
  if (sharded) state = shardView(sharded.latest, sharded.sid, sharded.plans);
  // Tables are copied several at once: their saves go one after another, each storing the state as it is then.
  const saves = new SerialQueue();
  const persist = () => saves.push(() => save(state));
  const save = async (next: State) => {
    if (!store) return;
    if (!sharded) return store.save(next);
    return storeQueue(store).push(() => mergeSave(next));
  };
  const mergeSave = async (next: State) => {
    if (!store || !sharded) return;
    // Another shard may save between our load and our save: read back, and merge again until ours is there.
    for (let attempt = 0; ; attempt++) {
      const latest = (await store.load()) ?? emptyState();
      const merged = mergeShardView(latest, next, sharded.sid, sharded.plans, sharded.carry, MAX_OUR_WRITES);
      await store.save(merged);
      sharded.carry = merged;
      const stored = await store.load();
      const mine = shardRecords(merged, sharded.sid, sharded.plans);
      if (shardRecords(stored, sharded.sid, sharded.plans) === mine || attempt >= 4) return;
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 200));
    }
  };
  /**
   * Before a shard exits: another shard that loaded before our last save may still overwrite it. Wait longer
   * than such a load-and-save takes, then check that our records are stored, and save them again if not.
   */
  const confirm = async () => {
    if (!store || !sharded?.carry || deps.inProcessShards) return;
    for (let attempt = 0; attempt < 5; attempt++) {
      await new Promise((r) => setTimeout(r, (deps.shardSettleMs ?? 3_000) * (1 + Math.random())));
      const stored = await store.load();
      if (
        shardRecords(stored, sharded.sid, sharded.plans) ===
        shardRecords(sharded.carry, sharded.sid, sharded.plans)
      )
        return;
      await persist();
    }
  };
  // A full sync with a state store resumes the one a cancel, a time-out or a crash interrupted: the tables
  // it finished are not copied again, and a checkpointed table goes on from its checkpoint.
  const keys = config.tables.map(tableKey);
  const resumable = config.mode === "full-sync" && !!store && !config.dryRun;
  // A continuation belongs to the query that produced it: with another query-filter it could skip entities.
  // And the entities before it were written with the run's renames: with others, the destination would
  // hold two shapes of one table.
  const renames = renamesText(config);
  // A record of a full sync answers only for the copy it describes (copy-id.ts).
  const records = new RunRecords(config, deps);
  if (resumable) {
    const bound = records.bind(state, (k) => describeTable(k, config.tables));
    state = bound.state;
    bound.notices.forEach(notice);
  }
  let marker: FullSyncRun | undefined;
  if (resumable) {
    const previous = state.fullSync;
    marker = previous
      ? { ...previous, done: previous.done.filter((k) => keys.includes(k)) }
      : { startedAt: new Date().toISOString(), done: [] };
    if (previous) {
      const checkpointed = keys.filter(
        (k) => !marker?.done.includes(k) && state.tables[k]?.checkpoint?.mode === "full-sync",
      );
      const parts = [
        `${marker.done.length} of ${keys.length} ${keys.length === 1 ? "table" : "tables"} already done`,
        ...checkpointed.map(
          (k) => `${describeCheckpoint(k, state.tables[k].checkpoint!, config.tables)} from its checkpoint`,
        ),
      ];
      notice(`Resuming the full sync started at ${previous.startedAt}: ${parts.join(", ")}.`);
    }
  }
  const done = new Set(marker?.done ?? []);
  const checkpoints = new Map<string, Checkpoint>();
  let completed = false;
  const withMarker = (s: State): State => (marker ? { ...s, fullSync: marker } : s);
  const run = await runSync(engineConfigOf(config, deps), {
    signal: events.signal,
    // A table without a watermark fails alone (with the sentence saying what to do); the others go on.
    plan: (spec, ctx) => {
      const key = tableKey(spec);
      if (done.has(key)) return null;
      if (!sharded) return planTable(config, state, spec, ctx);
      const failure = sharded.failures.get(key);
      if (failure) throw failure;
      const plan = planTable(config, state, spec, ctx);
      return { ...plan, filter: andFilters(rangeFilter(sharded.ranges.get(key) ?? {}), plan.filter) };
    },
    onTableStart: (spec, plan) => {
      records.start(spec, plan, state);
      events.onTableStart?.(spec, plan);
    },
    onProgress: (p) => events.onProgress?.(records.progress(p)),
    onCheckpoint: resumable
      ? async (spec, info) => {
          const key = tableKey(spec);
          const cp: Checkpoint = {
            continuation: { ...info.continuation },
            sourceClockAtStart: info.sourceClockAtStart,
            mode: config.mode,
            // In the schema's key order: a shard compares its saved records with the stored ones as text.
            read: info.read,
            ...(config.queryFilter && { queryFilter: config.queryFilter }),
            ...(renames && { propertyRenames: renames }),
            written: info.written,
            copy: records.id(key),
            at: new Date().toISOString(),
          };
          state = withMarker({
            ...state,
            tables: { ...state.tables, [key]: { ...state.tables[key], checkpoint: cp } },
          });
          await persist();
          checkpoints.set(key, cp);
          events.onCheckpoint?.(spec, cp);
        }
      : undefined,
    onTableEnd: async (r) => {
      const key = tableKey(r);
      const before = state.tables[key]?.watermark;
      const report: TableReport = { result: r, watermarkBefore: before, watermarkAfter: before };
      report.eta = records.eta(r.source);
      if (config.dryRun) report.note = "dry run";
      else if (store) {
        let next = records.ended(advanceWatermark(state, key, r, { mode: config.mode }), key, r);
        const ours = r.ourWrites;
        if (ours && ours.length) {
          // Our own post-switch writes, so the next backfill does not take them for the app's.
          const table = next.tables[key] ?? {};
          next = {
            ...next,
            tables: { ...next.tables, [key]: { ...table, postSwitchWrites: ours.slice(-MAX_OUR_WRITES) } },
          };
        }
        report.watermarkAfter = next.tables[key]?.watermark;
        if (!tableSucceeded(r)) report.note = "kept: the table did not complete";
        else if (marker) {
          // The run marker lists the finished tables; once every table is done, the full sync is complete.
          marker = records.done(marker, key);
          const all = keys.every((k) => marker?.done.includes(k));
          if (all) {
            const rest = { ...next };
            delete rest.fullSync;
            next = rest;
            marker = undefined;
            completed = true;
          } else next = withMarker(next);
        }
        // Saved after each table that moved, so a failure later keeps this table's progress.
        if (next !== state) {
          state = next;
          await persist();
        }
      }
      if (config.mode === "backfill") report.lagSeconds = lagOf(r, report.watermarkAfter);
      reports.push(report);
      events.onTableEnd?.(report);
    },
  });
  // Not when cancelled: the runner kills the job seconds after its signal, and the checkpoint is saved.
  if (!events.signal?.aborted) await confirm();
  // In the order the tables were given, whichever finished first.
  reports.sort((a, b) => keys.indexOf(tableKey(a.result)) - keys.indexOf(tableKey(b.result)));
  const t = totals(
    reports.map((r) => r.result),
    run.totals.durationMs,
  );
  const lags = reports.map((r) => r.lagSeconds).filter((n): n is number => n !== undefined);
  const result: MigrationResult = {
    mode: config.mode,
    dryRun: config.dryRun,
    tables: reports,
    totals: t,
    lastSyncUtc: oldestWatermark(state, config.tables),
    notices,
    ok: t.tablesFailed === 0 && !events.signal?.aborted,
  };
  if (config.mode === "backfill") {
    result.lagSeconds = lags.length === reports.length && lags.length ? Math.max(...lags) : undefined;
    result.changedEntities = t.read;
  }
  if (events.signal?.aborted) {
    result.failure = cancelledMessage(config, keys, state, checkpoints, resumable, completed);
  } else if (!result.ok) {
    result.failure = `${t.failed} entities failed and ${t.tablesFailed} of ${t.tables} tables did not complete; their watermarks were not advanced.`;
  }
  return result;
}

const queues = new WeakMap<StateStore, SerialQueue>();

/** One queue per store: shards of one process load, merge and save one after another. */
function storeQueue(store: StateStore): SerialQueue {
  let q = queues.get(store);
  if (!q) queues.set(store, (q = new SerialQueue()));
  return q;
}

/**
 * `read-ranges: k`: each table is read through k key ranges at once — the same ranges, plan and per-range
 * records as k matrix shards, run inside this job and sharing its `concurrency`. The figures come back as one
 * report per table.
 */
async function runRanges(
  config: SyncConfig,
  deps: MigrationDeps,
  events: MigrationEvents,
): Promise<MigrationResult> {
  const k = config.readRanges;
  // Without a state store the ranges still need somewhere to agree; nothing of it outlives the run.
  const store = deps.store ?? new MemoryStateStore();
  const laneDeps: MigrationDeps = { ...deps, store, shardSettleMs: 0, inProcessShards: true };
  // Each range adapts its own window under `auto`; a number is shared out.
  const perLane = config.concurrency === "auto" ? "auto" : Math.max(1, Math.floor(config.concurrency / k));
  const progress = new Map<string, Progress[]>();
  // One sample of the keys for all ranges (the ranges then find the stored plan).
  await prepareShards(config, { index: 1, count: k }, laneDeps, store, () => undefined);
  const lanes = await Promise.all(
    Array.from({ length: k }, (_, i) =>
      runCopy(
        { ...config, shard: { index: i + 1, count: k }, readRanges: 1, concurrency: perLane },
        laneDeps,
        {
          ...events,
          onTableStart: i === 0 ? events.onTableStart : undefined,
          onTableEnd: undefined,
          onProgress: (p) => {
            // One progress line per table: the sum over its ranges.
            const all = progress.get(p.table) ?? new Array<Progress>(k);
            all[i] = p;
            progress.set(p.table, all);
            const sum = { table: p.table, read: 0, written: 0, skipped: 0, failed: 0 };
            for (const q of all) {
              if (!q) continue;
              sum.read += q.read;
              sum.written += q.written;
              sum.skipped += q.skipped;
              sum.failed += q.failed;
            }
            events.onProgress?.(sum);
          },
        },
      ),
    ),
  );
  const state = deps.store ? await deps.store.load() : undefined;
  const tables: TableReport[] = config.tables.map((spec) => {
    const key = tableKey(spec);
    const parts = lanes.map((l) => l.tables.find((t) => tableKey(t.result) === key)).filter((t) => !!t);
    const results = parts.map((p) => p.result);
    const result: TableResult = {
      ...results[0],
      filter: results.length > 1 ? config.queryFilter : results[0]?.filter,
      read: sumOf(results, "read"),
      written: sumOf(results, "written"),
      skipped: sumOf(results, "skipped"),
      failed: sumOf(results, "failed"),
      conflicts: sumOf(results, "conflicts"),
      transactions: sumOf(results, "transactions"),
      throttled: sumOf(results, "throttled"),
      retries: sumOf(results, "retries"),
      durationMs: Math.max(0, ...results.map((r) => r.durationMs)),
      failures: results.flatMap((r) => r.failures).slice(0, config.maxFailuresKept),
      conflictDetails: results.flatMap((r) => r.conflictDetails).slice(0, config.maxFailuresKept),
      error: results.find((r) => r.error)?.error,
      sourceClockAtStart: earliest(results.map((r) => r.sourceClockAtStart)),
      sourceClockAtEnd: latestOf(results.map((r) => r.sourceClockAtEnd)),
    };
    const watermarkAfter = state?.tables[key]?.watermark;
    const report: TableReport = {
      result,
      watermarkBefore: parts[0]?.watermarkBefore,
      watermarkAfter,
      note: parts.find((p) => p.note)?.note,
    };
    if (config.mode === "backfill") report.lagSeconds = lagOf(result, watermarkAfter);
    events.onTableEnd?.(report);
    return report;
  });
  const t = totals(
    tables.map((r) => r.result),
    Math.max(...lanes.map((l) => l.totals.durationMs)),
  );
  const failed = lanes.find((l) => !l.ok);
  // Each range keeps its own records; the table's lag history gets one point for the whole backfill.
  if (config.mode === "backfill" && !config.dryRun) await recordRangedBackfills(deps.store, tables);
  const lags = tables.map((r) => r.lagSeconds).filter((n): n is number => n !== undefined);
  return {
    mode: config.mode,
    dryRun: config.dryRun,
    tables,
    totals: t,
    lastSyncUtc: oldestWatermark(state, config.tables),
    notices: lanes.flatMap((l) => l.notices),
    ok: !failed && t.tablesFailed === 0,
    failure: failed?.failure,
    ...(config.mode === "backfill" && {
      lagSeconds: lags.length === tables.length && lags.length ? Math.max(...lags) : undefined,
      changedEntities: t.read,
    }),
  };
}

function sumOf(
  results: TableResult[],
  field: "read" | "written" | "skipped" | "failed" | "conflicts" | "transactions" | "throttled" | "retries",
): number {
  return results.reduce((a, r) => a + r[field], 0);
}

function earliest(times: (string | undefined)[]): string | undefined {
  const present = times.filter((x): x is string => !!x);
  return present.length ? present.reduce((a, b) => (Date.parse(b) < Date.parse(a) ? b : a)) : undefined;
}

function latestOf(times: (string | undefined)[]): string | undefined {
  const present = times.filter((x): x is string => !!x);
  return present.length ? present.reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a)) : undefined;
}

interface ShardSetup {
  sid: string;
  /** The stored document when the run began (the view is made from it). */
  latest: State;
  /** Per table key: the plan id this shard reads by, and its key range. */
  plans: ShardPlans;
  ranges: Map<string, KeyRange>;
  /** Tables whose keys could not be sampled (e.g. a missing source table): they fail alone. */
  failures: Map<string, Error>;
  /** The document this shard saved last. */
  carry?: State;
}

/**
 * Agree on each table's shard plan with the other shards: use the stored plan for this n, or sample the keys and
 * store ours unless another shard stored one first; then, after a pause long enough for a concurrent save to
 * land, read the plans back and take what is stored. Should two shards still read by different plans, no table
 * watermark is derived from them (see `combinedWatermark`), so nothing a backfill relies on can be missed.
 */
async function prepareShards(
  config: SyncConfig,
  shard: Shard,
  deps: MigrationDeps,
  store: StateStore | undefined,
  notice: (text: string) => void,
): Promise<ShardSetup> {
  if (!store) {
    throw new StateError(
      "Input 'shard' needs a state store shared by the shards (the cache or a repository variable, or --state-file for the CLI): the shards agree on their key ranges and each keeps its own checkpoint and watermark there.",
    );
  }
  const sid = shardId(shard);
  const conn = connect({ source: deps.source, destination: deps.destination, retry: deps.retry });
  const failures = new Map<string, Error>();
  const sampled = new Map<string, ShardPlan>();
  let latest = (await store.load()) ?? emptyState();
  const storedPlan = (s: State, key: string) => {
    const p = s.tables[key]?.shardPlan;
    return p && p.count === shard.count ? p : undefined;
  };
  const pollMs = deps.shardPollMs ?? 5_000;
  const beatMs = deps.shardHeartbeatMs ?? 20_000;
  /**
   * While another shard samples the table (its heartbeat in the state keeps changing), wait for its plan
   * rather than scanning the keys once more; a heartbeat still for three beats means it stopped. Only
   * changes are compared, never the other runner's clock.
   */
  const awaitSampler = async (key: string): Promise<State> => {
    let seen: string | undefined;
    let changedAt = Date.now();
    for (;;) {
      const s = (await store.load()) ?? emptyState();
      const m = s.tables[key]?.shardSampling;
      if (storedPlan(s, key) || !m || m.count !== shard.count || m.by === sid) return s;
      const beat = `${m.by}#${m.beat}`;
      if (beat !== seen) {
        seen = beat;
        changedAt = Date.now();
      } else if (Date.now() - changedAt > 3 * beatMs) return s;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  };
  const announce = async (key: string, beat: number) => {
    if (config.dryRun) return; // a dry run leaves the state as it is
    const s = (await store.load()) ?? emptyState();
    if (storedPlan(s, key)) return;
    const entry = { ...s.tables[key], shardSampling: { count: shard.count, by: sid, beat } };
    await store.save({ ...s, tables: { ...s.tables, [key]: entry } });
  };
  for (const spec of config.tables) {
    const key = tableKey(spec);
    if (storedPlan(latest, key)) continue;
    if (!config.dryRun) latest = await awaitSampler(key);
    if (storedPlan(latest, key)) continue;
    // Our turn to scan the keys: say so, and keep saying so while the scan runs.
    const beats = new SerialQueue();
    let beat = 1;
    await beats.push(() => announce(key, beat)).catch(() => undefined);
    const timer = setInterval(
      () => void beats.push(() => announce(key, ++beat)).catch(() => undefined),
      beatMs,
    );
    try {
      sampled.set(
        key,
        await sampleShardPlan(conn.source, spec.source, shard.count, { filter: config.queryFilter }),
      );
    } catch (err) {
      failures.set(key, err instanceof Error ? err : new Error(String(err)));
    } finally {
      clearInterval(timer);
      await beats.push(async () => undefined);
    }
    if (failures.has(key)) {
      // Do not keep the other shards waiting for a plan that will not come.
      const s = (await store.load()) ?? emptyState();
      if (s.tables[key]?.shardSampling?.by === sid) {
        const entry = { ...s.tables[key] };
        delete entry.shardSampling;
        await store.save({ ...s, tables: { ...s.tables, [key]: entry } });
      }
    }
  }
  if (sampled.size > 0 && config.dryRun) {
    // A dry run stores nothing: it counts by its own sample (shards sampling apart may then overlap a little).
    const tables = { ...latest.tables };
    for (const [key, plan] of sampled)
      tables[key] = { ...tables[key], shardPlan: { ...plan, at: new Date().toISOString() } };
    latest = { ...latest, tables };
  } else if (sampled.size > 0) {
    // First plan stored wins: reload right before saving, keep any plan another shard stored meanwhile.
    const now = (await store.load()) ?? emptyState();
    const tables = { ...now.tables };
    let changed = false;
    for (const [key, plan] of sampled) {
      if (storedPlan(now, key)) continue;
      const entry = { ...tables[key], shardPlan: { ...plan, at: new Date().toISOString() } };
      delete entry.shardSampling;
      tables[key] = entry;
      changed = true;
    }
    if (changed) await store.save({ ...now, tables });
    await new Promise((r) => setTimeout(r, deps.shardSettleMs ?? 3_000));
    latest = (await store.load()) ?? emptyState();
  }
  const plans: ShardPlans = new Map();
  const ranges = new Map<string, KeyRange>();
  for (const spec of config.tables) {
    const key = tableKey(spec);
    if (failures.has(key)) continue;
    const plan = storedPlan(latest, key);
    if (!plan) {
      failures.set(
        key,
        new StateError(
          `Table ${describeTable(key, config.tables)}: the shard plan could not be stored in ${store.describe()}; run the shard again.`,
        ),
      );
      continue;
    }
    plans.set(key, plan.id);
    const range = shardRange(plan, shard.index);
    ranges.set(key, range);
    notice(
      `${deps.inProcessShards ? "Range" : "Shard"} ${sid} of table ${describeTable(key, config.tables)} reads PartitionKey ${describeRange(range)} (plan ${plan.id}, sampled from ${plan.sampledFrom} entities).`,
    );
  }
  return { sid, latest, plans, ranges, failures };
}

function describeRange(range: KeyRange): string {
  const from = range.from === undefined ? "from the start" : `from '${range.from}'`;
  const to = range.to === undefined ? "to the end" : `up to (not including) '${range.to}'`;
  return `${from} ${to}`;
}

function cancelledMessage(
  config: SyncConfig,
  keys: string[],
  state: State,
  saved: Map<string, Checkpoint>,
  resumable: boolean,
  completed: boolean,
): string {
  if (!resumable) {
    return "The run was cancelled; the watermarks of the tables it did not complete were not advanced.";
  }
  if (completed) return "The run was cancelled after every table was copied.";
  const done = state.fullSync?.done ?? [];
  const open = keys.filter((k) => !done.includes(k) && state.tables[k]?.checkpoint?.mode === "full-sync");
  const fresh = open.filter((k) => saved.has(k));
  if (open.length === 0) {
    return `The run was cancelled before a checkpoint was saved; the next full sync ${done.length ? `skips the ${done.length} finished tables and ` : ""}copies the others from the start.`;
  }
  const shown = (fresh.length ? fresh : open).map((k) =>
    describeCheckpoint(k, state.tables[k].checkpoint!, config.tables),
  );
  return `The run was cancelled; a checkpoint was saved: the next full sync resumes ${shown.join(", ")}${done.length ? ` and skips the ${done.length} finished tables` : ""}.`;
}

// ---------------------------------------------------------------------------------------------
// verify, switch, preflight

export interface CheckResult {
  mode: "verify" | "switch" | "preflight";
  verify: VerifyResult[];
  preflight: PreflightResult[];
  /** The final backfill of a switch. */
  backfill?: MigrationResult;
  inSync?: boolean;
  /** Missing + extra + different + untransformable, over all tables (before any repair). */
  differences?: number;
  /** verify with repair: every difference found was repaired, so the tables are now in sync. */
  repaired?: boolean;
  ready?: boolean;
  switchedAt?: string;
  notices: string[];
  ok: boolean;
  failure?: string;
  /** A cancel cut the check short: no verdict (see cancelledCheck). */
  cancelled?: boolean;
  durationMs: number;
}

export interface CheckEvents {
  onTableStart?(spec: TableSpec, what: string): void;
  onTableEnd?(spec: TableSpec): void;
  onProgress?(text: string): void;
  signal?: AbortSignal;
}

/**
 * A check cut short by a cancel gives no verdict: what it saw before the cancel may look in sync (or not)
 * only because it stopped. A switch recorded before the cancel came still stands, and says so.
 */
export function cancelledCheck(result: CheckResult, signal: AbortSignal | undefined): CheckResult {
  if (!signal?.aborted || (result.mode === "switch" && result.ready)) return result;
  return {
    ...result,
    inSync: undefined,
    differences: undefined,
    repaired: undefined,
    ready: result.mode === "switch" ? false : undefined,
    ok: false,
    failure: `The ${result.mode} was cancelled; it gives no verdict.`,
    cancelled: true,
  };
}

export function differencesOf(v: VerifyResult): number {
  return v.missing + (v.extra ?? 0) + v.different + v.untransformable;
}

async function verifyAll(
  config: SyncConfig,
  conn: Connected,
  events: CheckEvents,
  opts: { repair: boolean; deleteExtra: boolean; state?: State; guards?: Map<string, SwitchGuard> },
): Promise<VerifyResult[]> {
  const results: VerifyResult[] = [];
  for (const spec of config.tables) {
    events.onTableStart?.(spec, config.sample < 1 ? `verify (sample ${config.sample})` : "verify");
    // After a switch, repair keeps the app's writes; the guards come back with our writes' ids.
    const guard = opts.repair ? switchGuard(opts.state, spec, config.conflict) : undefined;
    if (guard) opts.guards?.set(tableKey(spec), guard);
    const r = await verifyTable(conn, spec, {
      renames: config.propertyRenames,
      sample: config.sample < 1 ? config.sample : undefined,
      repair: opts.repair,
      deleteExtra: opts.deleteExtra,
      guard,
      concurrency: config.concurrency,
      maxSamples: Math.max(1, Math.min(config.maxFailuresKept, 200)),
      signal: events.signal,
      onProgress: (p) =>
        events.onProgress?.(
          `${p.table}: ${p.phase}, ${p.source} source / ${p.destination} destination entities`,
        ),
    });
    results.push(r);
    events.onTableEnd?.(spec);
  }
  return results;
}

/** Repair's writes after a switch, remembered so the next backfill does not take them for the app's. */
async function rememberOurWrites(
  store: StateStore | undefined,
  guards: Map<string, SwitchGuard>,
): Promise<void> {
  if (!store || guards.size === 0) return;
  const state = await store.load();
  if (!state) return;
  let changed = false;
  const tables = { ...state.tables };
  for (const [key, guard] of guards) {
    const entry = tables[key];
    // `ours` began as the stored ids: no more of them means repair wrote nothing.
    if (!entry || guard.ours.size === (entry.postSwitchWrites ?? []).length) continue;
    tables[key] = { ...entry, postSwitchWrites: [...guard.ours].slice(-MAX_OUR_WRITES) };
    changed = true;
  }
  if (changed) await store.save({ ...state, tables });
}

export async function runVerify(
  config: SyncConfig,
  deps: MigrationDeps,
  events: CheckEvents = {},
): Promise<CheckResult> {
  const started = Date.now();
  const state = deps.store ? await deps.store.load() : undefined;
  if (config.deleteExtra && !config.repair) {
    throw new StateError("Input 'delete-extra' only works with 'repair: true'; set both, or neither.");
  }
  if (config.deleteExtra) {
    const switched = config.tables.find((t) => state?.tables[tableKey(t)]?.switchedAt);
    if (switched) {
      throw new StateError(
        `delete-extra is refused for table ${switched.source}: a switch was recorded at ${state?.tables[tableKey(switched)]?.switchedAt}, so an entity only the destination holds is probably a new write by the app; run verify with repair but without delete-extra.`,
      );
    }
  }
  const conn = connect(engineConfigOf(config, deps), events.signal);
  const guards = new Map<string, SwitchGuard>();
  const verify = await verifyAll(config, conn, events, {
    repair: config.repair,
    deleteExtra: config.deleteExtra,
    state,
    guards,
  });
  await rememberOurWrites(deps.store, guards);
  const differences = verify.reduce((n, v) => n + differencesOf(v), 0);
  const inSync = verify.every((v) => v.inSync && !v.error);
  // Repaired only when nothing is left: no failure, no conflict kept, no extra entity left in place.
  const extrasLeft = (v: VerifyResult) => (config.deleteExtra ? 0 : (v.extra ?? 0));
  const fullyRepaired = (v: VerifyResult) =>
    !!v.repair?.complete && v.repair.conflicts === 0 && extrasLeft(v) === 0;
  const repaired = config.repair && verify.every((v) => !v.error && (v.inSync || fullyRepaired(v)));
  const errors = verify.filter((v) => v.error);
  const ok = errors.length === 0 && (inSync || repaired || !config.failOnDifference);
  const left = (f: (v: VerifyResult) => number) => verify.reduce((n, v) => n + (v.inSync ? 0 : f(v)), 0);
  const stillDiffer = () => {
    const copied = left((v) => v.repair?.copied ?? 0);
    const deleted = left((v) => v.repair?.deleted ?? 0);
    const parts = [
      [left(extrasLeft), "only on the destination (add 'delete-extra: true' to remove them)"],
      [left((v) => v.repair?.conflicts ?? 0), "changed by the app after the switch, kept (conflict: skip)"],
      [left((v) => v.repair?.failed ?? 0), "could not be written (see the report)"],
    ] as const;
    const what = parts
      .filter(([n]) => n > 0)
      .map(([n, text]) => `${n} ${n === 1 ? "entity" : "entities"} ${text}`);
    return `Repair copied ${copied} ${copied === 1 ? "entity" : "entities"} and deleted ${deleted}, but the tables still differ: ${what.join("; ") || "see the report"}.`;
  };
  return {
    mode: "verify",
    verify,
    preflight: [],
    inSync,
    differences,
    repaired: !inSync && repaired,
    notices: [],
    ok,
    failure: ok
      ? undefined
      : errors.length
        ? `${errors.length} of ${verify.length} tables could not be verified: ${errors[0].error}`
        : config.repair
          ? stillDiffer()
          : `The destination differs from the source in ${differences} ${differences === 1 ? "entity" : "entities"}; run verify with 'repair: true' to copy them (and 'delete-extra: true' to remove entities the source no longer has).`,
    durationMs: Date.now() - started,
  };
}

export async function runSwitch(
  config: SyncConfig,
  deps: MigrationDeps,
  events: CheckEvents = {},
): Promise<CheckResult> {
  const started = Date.now();
  const done = (
    fields: Omit<CheckResult, "mode" | "preflight" | "durationMs" | "notices" | "verify"> &
      Partial<CheckResult>,
  ): CheckResult => ({
    mode: "switch",
    verify: [],
    preflight: [],
    notices: [],
    durationMs: Date.now() - started,
    ...fields,
  });
  const store = deps.store;
  if (!store) {
    throw new StateError(
      "Mode 'switch' records switched-at in the state: give a state store (the CLI: --state-file).",
    );
  }
  let state: State = (await store.load()) ?? emptyState();
  const already = config.tables.map((t) => state.tables[tableKey(t)]?.switchedAt);
  if (already.every((a) => a)) {
    const at = already.sort()[0];
    return done({
      ready: true,
      switchedAt: at,
      notices: [
        `The switch was already recorded at ${at}; nothing was changed. Backfills keep the app's writes on the destination.`,
      ],
      ok: true,
    });
  }
  // 1. A final backfill: everything the source changed until now.
  const backfill = await runCopy({ ...config, mode: "backfill" }, deps, {
    signal: events.signal,
    onTableStart: (spec) => events.onTableStart?.(spec, "final backfill"),
    onProgress: (p) =>
      events.onProgress?.(`${p.table}: final backfill, ${p.read} read, ${p.written} written`),
    onTableEnd: (r) => events.onTableEnd?.(r.result),
  });
  if (!backfill.ok) {
    return done({
      backfill,
      ready: false,
      ok: false,
      failure: `Not ready to switch: the final backfill failed (${backfill.failure?.replace(/\.$/, "")})${firstTableError(backfill)}.`,
    });
  }
  // 2. Verify (full, or a sample): the destination must hold what the source holds.
  const conn = connect(engineConfigOf(config, deps), events.signal);
  const verify = await verifyAll(config, conn, events, { repair: false, deleteExtra: false });
  const differences = verify.reduce((n, v) => n + differencesOf(v), 0);
  const inSync = verify.every((v) => v.inSync && !v.error);
  if (!inSync) {
    return done({
      verify,
      backfill,
      inSync,
      differences,
      ready: false,
      ok: false,
      failure: `Not ready to switch: the destination differs from the source in ${differences} entities (or a table could not be verified); run verify with 'repair: true', then switch again.`,
    });
  }
  // 3. Record switched-at on the destination's clock: the clock its Timestamps are compared with later.
  // Its Timestamps (and the Date header) have 1 s resolution, and a write in the switch's second counts
  // as the app's: wait past the second of our own last write first, so none of ours looks like theirs.
  await new Promise((r) => setTimeout(r, 1_100));
  const at = (await serverClock(conn.destination)).toISOString();
  state = (await store.load()) ?? state;
  const tables = { ...state.tables };
  for (const spec of config.tables) {
    const key = tableKey(spec);
    tables[key] = { ...tables[key], switchedAt: tables[key]?.switchedAt ?? at };
  }
  state = { ...state, tables };
  await store.save(state);
  return done({ verify, backfill, inSync, differences, ready: true, switchedAt: at, ok: true });
}

export async function runPreflight(
  config: SyncConfig,
  deps: MigrationDeps,
  events: CheckEvents = {},
): Promise<CheckResult> {
  const started = Date.now();
  // Preflight reads the source only: without a destination, destination-kind says what to check for.
  const engine = engineConfigOf(config, deps);
  const { connectionString, endpoint, kind } = engine.destination;
  const conn = connectionString || endpoint ? connect(engine, events.signal) : undefined;
  const source = conn?.source ?? connectSource(engine, events.signal);
  const destinationKind = conn?.destination.kind ?? (kind === "cosmos" ? "cosmos" : "table");
  const preflight: PreflightResult[] = [];
  for (const spec of config.tables) {
    events.onTableStart?.(spec, "preflight");
    preflight.push(
      await preflightTable(source, spec.source, {
        destinationKind,
        renames: config.propertyRenames,
        maxSamples: Math.max(1, Math.min(config.maxFailuresKept, 50)),
        signal: events.signal,
        onProgress: (n) => events.onProgress?.(`${spec.source}: ${n} entities scanned`),
        ruPerSecond: config.ruPerSecond,
      }),
    );
    events.onTableEnd?.(spec);
  }
  // Kept for the full sync's ETA (the whole table's count; a scan cut short counts nothing).
  const counted = preflight.flatMap((p, i) =>
    p.error ? [] : [{ key: tableKey(config.tables[i]), entities: p.entities }],
  );
  const kept = events.signal?.aborted ? undefined : await rememberSizes(deps.store, counted);
  const blocking = preflight.flatMap((p) => [...p.blocking, ...(p.error ? [p.error] : [])]);
  return {
    mode: "preflight",
    verify: [],
    preflight,
    notices: kept ? [kept] : [],
    ok: blocking.length === 0,
    failure: blocking.length
      ? `A full sync would fail: ${blocking[0]}${blocking.length > 1 ? ` (and ${blocking.length - 1} more)` : ""}`
      : undefined,
    durationMs: Date.now() - started,
  };
}

/** The JSON report of verify, switch and preflight, for tools and for the record. */
export async function writeCheckReport(path: string, result: CheckResult): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify({ generatedBy: "azure-table-sync", ...result }, null, 2) + "\n");
}
