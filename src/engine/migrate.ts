// One migration step, whatever door it came through: load the state, plan each table, run, move the
// watermarks by the rules, save after each table. The action and the CLI only present the result.
import type { SyncConfig } from "../config/schema.js";
import {
  advanceWatermark,
  emptyState,
  oldestWatermark,
  StateError,
  tableKey,
  type State,
} from "../state/state.js";
import type { StateStore } from "../state/store.js";
import type { SideConfig } from "./connection.js";
import { planTable } from "./plan.js";
import { MAX_OUR_WRITES } from "./post-switch.js";
import { tableSucceeded, totals, type RunTotals, type TableResult } from "./result.js";
import { runSync, type EngineConfig, type Progress, type TablePlan, type TableSpec } from "./sync.js";

export interface TableReport {
  result: TableResult;
  watermarkBefore?: string;
  watermarkAfter?: string;
  /** Why the watermark did or did not move, in a few words. */
  note?: string;
  /** How far the destination trails the source after this run: the new watermark's age on the source clock. */
  lagSeconds?: number;
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
  onProgress?(progress: Progress): void;
  onTableEnd?(report: TableReport): void;
  signal?: AbortSignal;
}

export interface MigrationDeps {
  /** Where watermarks live; without one (the CLI without --state-file) nothing is remembered. */
  store?: StateStore;
  /** The engine's view of the two sides (with credentials filled in by the door). */
  source: SideConfig;
  destination: SideConfig;
  retry?: EngineConfig["retry"];
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
    createTables: config.createTables,
    dryRun: config.dryRun,
    maxFailuresKept: config.maxFailuresKept,
    retry: deps.retry,
  };
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
  const store = deps.store;
  let state: State = (store ? await store.load() : undefined) ?? emptyState();
  if (config.mode === "backfill" && !store && !config.since) {
    throw new StateError(
      "A backfill needs the watermarks a full sync recorded (a state store) or 'since' (an ISO-8601 UTC time).",
    );
  }
  const reports: TableReport[] = [];
  const run = await runSync(engineConfigOf(config, deps), {
    signal: events.signal,
    // A table without a watermark fails alone (with the sentence saying what to do); the others go on.
    plan: (spec, ctx) => planTable(config, state, spec, ctx),
    onTableStart: events.onTableStart,
    onProgress: events.onProgress,
    onTableEnd: async (r) => {
      const key = tableKey(r);
      const before = state.tables[key]?.watermark;
      const report: TableReport = { result: r, watermarkBefore: before, watermarkAfter: before };
      if (config.dryRun) report.note = "dry run";
      else if (store) {
        let next = advanceWatermark(state, key, r, { mode: config.mode });
        const ours = r.ourWrites;
        if (ours && ours.length) {
          // Our own post-switch writes, so the next backfill does not take them for the app's.
          const table = next.tables[key] ?? {};
          next = { ...next, tables: { ...next.tables, [key]: { ...table, postSwitchWrites: ours.slice(-MAX_OUR_WRITES) } } };
        }
        report.watermarkAfter = next.tables[key]?.watermark;
        if (!tableSucceeded(r)) report.note = "kept: the table did not complete";
        // Saved after each table that moved, so a failure later keeps this table's progress.
        if (next !== state) {
          state = next;
          await store.save(state);
        }
      }
      if (config.mode === "backfill") report.lagSeconds = lagOf(r, report.watermarkAfter);
      reports.push(report);
      events.onTableEnd?.(report);
    },
  });
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
    notices: [],
    ok: t.tablesFailed === 0,
  };
  if (config.mode === "backfill") {
    result.lagSeconds = lags.length === reports.length && lags.length ? Math.max(...lags) : undefined;
    result.changedEntities = t.read;
  }
  if (!result.ok) {
    result.failure = `${t.failed} entities failed and ${t.tablesFailed} of ${t.tables} tables did not complete; their watermarks were not advanced.`;
  }
  return result;
}
