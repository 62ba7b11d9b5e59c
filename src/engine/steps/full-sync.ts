// The copy step, full-sync and backfill, whatever door it came through: load the state, plan each table, run,
// move the watermarks by the rules, save after each table. The action and the CLI only present the result.
import type { SyncConfig } from "../../config/schema.js";
import { shardView } from "../../state/shard-view.js";
import { emptyState, StateError, type Checkpoint, type FullSyncRun, type State } from "../../state/state.js";
import { tableKey } from "../../state/table-key.js";
import { storedContinuation } from "../copy/reader.js";
import { advanceWatermark, oldestWatermark } from "../../state/watermark.js";
import { connectSource } from "../copy/connect.js";
import { MAX_OUR_WRITES, serverClock } from "../copy/post-switch.js";
import { tableSucceeded, totals } from "../copy/result.js";
import { runSync } from "../copy/run-sync.js";
import { rangeFilter } from "../copy/shard.js";
import { andFilters } from "../wire/odata.js";
import { lagOf, type MigrationEvents, type MigrationResult, type TableReport } from "./copy-report.js";
import { engineConfigOf, type MigrationDeps } from "./engine-config.js";
import { describeCheckpoint, describeTable } from "./messages.js";
import { planTable } from "./plan.js";
import { runRanges } from "./read-ranges.js";
import { RunRecords } from "./run-records.js";
import { prepareShards } from "./shards.js";
import { stateSaves } from "./state-saves.js";

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

/** The run's property renames as a checkpoint records them (`from:to,…`; empty when none). */
function renamesText(config: SyncConfig): string {
  return config.propertyRenames.map((r) => `${r.from}:${r.to}`).join(",");
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
  if (!config.shard && config.readRanges > 1) return runRanges(config, deps, events, runCopy);
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
  const { persist, confirm } = stateSaves(store, sharded, deps, () => state);
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
            continuation: storedContinuation(info.continuation),
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
