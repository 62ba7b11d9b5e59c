// The status step: where the migration stands, per table, from the state alone (and the source's clock when
// the source is given, for the lag as it is now). It writes nothing: not the state, not a table.
import type { SyncConfig } from "../../config/schema.js";
import { decodeHistory, type HistoryPoint } from "../../state/history.js";
import { parseTableKey, tableKey } from "../../state/table-key.js";
import type { State, TableState } from "../../state/state.js";
import type { StateStore } from "../../state/store.js";
import type { SideConfig } from "../wire/connection.js";
import type { RetryOptions } from "../wire/http.js";
import { serverClock } from "../copy/post-switch.js";
import { connectSource } from "../copy/connect.js";
import { describeError } from "../wire/errors.js";

export const PHASES = [
  "not started",
  "full sync in progress",
  "full sync done",
  "backfilling",
  "switched",
] as const;
export type Phase = (typeof PHASES)[number];

export interface TableStatus {
  source: string;
  destination: string;
  phase: Phase;
  /** Entities the full sync copied (while it runs: up to its checkpoint). */
  entitiesCopied?: number;
  /** The table's size as preflight or the last full sync counted it. */
  size?: { entities: number; by: string; at: string };
  /** While a full sync runs: its resume point (the count before it, and when it was saved). */
  checkpoint?: { read: number; written: number; at: string };
  watermark?: string;
  /** Now (the source's clock) minus the watermark, when the source was given. */
  lagNowSeconds?: number;
  /** The last backfills, oldest first. */
  history: HistoryPoint[];
  switchedAt?: string;
  /** What to run next, one sentence. */
  next: string;
}

export interface StatusResult {
  mode: "status";
  /** The store the state was read from. */
  state: string;
  /** The source's clock when the status was taken (when the source was given and answered). */
  sourceClock?: string;
  tables: TableStatus[];
  notices: string[];
  ok: boolean;
  failure?: string;
}

export interface StatusDeps {
  store?: StateStore;
  /** The source, for its clock; without a connection string or endpoint the lag now is not shown. */
  source?: SideConfig;
  retry?: Partial<RetryOptions>;
  signal?: AbortSignal;
}

function sum(values: (number | undefined)[]): number | undefined {
  const present = values.filter((v): v is number => v !== undefined);
  return present.length ? present.reduce((a, b) => a + b, 0) : undefined;
}

/** The full sync's resume point: the table's own, or the sum over its shards (a matrix or read-ranges). */
function checkpointOf(entry: TableState): TableStatus["checkpoint"] | undefined {
  const own = entry.checkpoint?.mode === "full-sync" ? entry.checkpoint : undefined;
  if (own) return { read: own.read, written: own.written ?? own.read, at: own.at };
  const shards = Object.values(entry.shards ?? {}).filter(
    (s) => s.checkpoint?.mode === "full-sync" && (!entry.shardPlan || s.plan === entry.shardPlan.id),
  );
  if (!shards.length || entry.watermark) return undefined;
  return {
    read: sum(shards.map((s) => s.checkpoint?.read)) ?? 0,
    written: sum(shards.map((s) => s.checkpoint?.written ?? s.checkpoint?.read)) ?? 0,
    at: shards.map((s) => s.checkpoint?.at ?? "").sort()[shards.length - 1],
  };
}

function phaseOf(entry: TableState | undefined, history: HistoryPoint[]): Phase {
  if (!entry) return "not started";
  if (entry.switchedAt) return "switched";
  if (checkpointOf(entry)) return "full sync in progress";
  if (history.length || entry.lastSuccess?.mode === "backfill") return "backfilling";
  if (entry.watermark) return "full sync done";
  return "not started";
}

function nextStep(t: Omit<TableStatus, "next">): string {
  switch (t.phase) {
    case "not started":
      return "Run preflight (it also records the table's size for the full sync's ETA), then full-sync.";
    case "full sync in progress":
      return `Run full-sync again with the same inputs and state: it resumes after the first ${t.checkpoint?.read ?? 0} entities.`;
    case "full sync done":
      return "Start the backfill schedule (mode: backfill every 10 minutes, examples/workflows/backfill.yml).";
    case "backfilling": {
      const last = t.history.at(-1);
      const figures = last
        ? `: the last backfill left ${last.lagSeconds} s of lag with ${last.changed} entities changed`
        : "";
      return `Keep the backfills running, and switch (verify, then mode: switch) once lag and changes stay small${figures}.`;
    }
    case "switched":
      return "Keep the backfill running after the switch until the old store gets no more writes; then stop the schedule.";
  }
}

export function tableStatus(
  state: State,
  spec: { source: string; destination: string },
  sourceClock?: Date,
): TableStatus {
  const entry = state.tables[tableKey(spec)];
  const history = decodeHistory(entry?.history);
  const phase = phaseOf(entry, history);
  const checkpoint = phase === "full sync in progress" && entry ? checkpointOf(entry) : undefined;
  const fullSyncCount =
    entry?.size?.by === "full-sync"
      ? entry.size.entities
      : entry?.lastSuccess?.mode === "full-sync"
        ? entry.lastSuccess.written
        : undefined;
  const watermark = entry?.watermark;
  const lag =
    sourceClock && watermark
      ? Math.max(0, Math.round((sourceClock.getTime() - Date.parse(watermark)) / 1000))
      : undefined;
  const status: Omit<TableStatus, "next"> = {
    source: spec.source,
    destination: spec.destination,
    phase,
    entitiesCopied: checkpoint ? checkpoint.written : fullSyncCount,
    size: entry?.size,
    checkpoint,
    watermark,
    lagNowSeconds: lag,
    history,
    switchedAt: entry?.switchedAt,
  };
  return { ...status, next: nextStep(status) };
}

/** Status of the tables given (or of every table in the state). Reads only. */
export async function runStatus(config: SyncConfig, deps: StatusDeps): Promise<StatusResult> {
  const where = deps.store?.describe() ?? "no state store";
  const state = deps.store ? await deps.store.load() : undefined;
  const empty = { mode: "status" as const, state: where, tables: [], notices: [] };
  if (!state) {
    return {
      ...empty,
      ok: false,
      failure: `No state was found in ${where}: run full-sync first, or give this step the state-store and state-key the migration's other steps use.`,
    };
  }
  const specs = config.tables.length
    ? config.tables
    : Object.keys(state.tables)
        .sort()
        .map((k) => parseTableKey(k));
  const notices: string[] = [];
  let clock: Date | undefined;
  if (deps.source && (deps.source.connectionString || deps.source.endpoint)) {
    try {
      clock = await serverClock(
        connectSource({ source: deps.source, retry: deps.retry }, deps.signal),
        "source",
      );
    } catch (err) {
      notices.push(
        `The source's clock could not be read (${describeError(err).replace(/\.$/, "")}), so the lag now is not shown.`,
      );
    }
  } else {
    notices.push("No source was given, so the lag now (on the source's clock) is not shown.");
  }
  if (specs.length === 0) notices.push(`The state in ${where} has no tables yet.`);
  const open = state.fullSync
    ? ` A full sync started at ${state.fullSync.startedAt} has not completed every table.`
    : "";
  if (open) notices.push(open.trim());
  return {
    ...empty,
    sourceClock: clock?.toISOString(),
    tables: specs.map((s) => tableStatus(state, s, clock)),
    notices,
    ok: true,
  };
}
