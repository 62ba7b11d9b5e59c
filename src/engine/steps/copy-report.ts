// What a copy step (full-sync, backfill) reports per table and in all, and the events it sends while it runs.
import type { SyncConfig } from "../../config/schema.js";
import type { Checkpoint } from "../../state/state.js";
import type { RunTotals, TableResult } from "../copy/result.js";
import type { TablePlan, TableSpec } from "../copy/run-config.js";
import type { Eta, MeteredProgress } from "./progress.js";

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

/** How far the destination trails the source: the watermark's age on the source clock at the table's end. */
export function lagOf(result: TableResult, watermark: string | undefined): number | undefined {
  const end = Date.parse(result.sourceClockAtEnd ?? "");
  const wm = Date.parse(watermark ?? "");
  if (!Number.isFinite(end) || !Number.isFinite(wm)) return undefined;
  return Math.max(0, Math.round((end - wm) / 1000));
}
