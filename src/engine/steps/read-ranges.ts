// `read-ranges: k` without `shard`: k key ranges of each table read at once inside this job, as k shards that
// share one plan and the job's concurrency; their figures are summed into one report per table.
import type { SyncConfig } from "../../config/schema.js";
import { MemoryStateStore } from "../../state/store.js";
import { tableKey } from "../../state/table-key.js";
import { oldestWatermark } from "../../state/watermark.js";
import { totals, type TableResult } from "../copy/result.js";
import type { Progress } from "../copy/run-config.js";
import { lagOf, type MigrationEvents, type MigrationResult, type TableReport } from "./copy-report.js";
import type { MigrationDeps } from "./engine-config.js";
import { recordRangedBackfills } from "./run-records.js";
import { prepareShards } from "./shards.js";

/** How one range runs: the copy step itself (passed in by it, so this module does not import its caller). */
export type CopyStep = (
  config: SyncConfig,
  deps: MigrationDeps,
  events: MigrationEvents,
) => Promise<MigrationResult>;

/**
 * `read-ranges: k`: each table is read through k key ranges at once — the same ranges, plan and per-range
 * records as k matrix shards, run inside this job and sharing its `concurrency`. The figures come back as one
 * report per table.
 */
export async function runRanges(
  config: SyncConfig,
  deps: MigrationDeps,
  events: MigrationEvents,
  runCopy: CopyStep,
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
