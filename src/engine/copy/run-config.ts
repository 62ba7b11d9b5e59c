// What one copy run is given and reports: the tables, the engine's settings, each table's plan and the
// hooks through which the steps above plan tables, save checkpoints and watch progress.
import type { SideConfig } from "../wire/connection.js";
import type { ServiceKind } from "../wire/service-kind.js";
import type { RetryOptions } from "../wire/http.js";
import type { Continuation } from "./reader.js";
import type { LaneReadOptions } from "./lane-reader.js";
import type { RunTotals, TableResult } from "./result.js";
import type { Rename } from "./transform.js";
import type { WriteMode } from "./write-rules.js";
import type { ConcurrencySetting } from "./window.js";
import type { SwitchGuard } from "./post-switch.js";

export interface TableSpec {
  source: string;
  destination: string;
}

export interface EngineConfig {
  source: SideConfig;
  destination: SideConfig;
  tables: TableSpec[];
  writeMode: WriteMode;
  propertyRenames: Rename[];
  /** An extra OData filter for every table (ANDed with a backfill's watermark filter by the caller). */
  queryFilter?: string;
  /**
   * Requests in flight to the destination over the run (every table and key range shares them): `auto`
   * adapts the window (window.ts), a number caps it.
   */
  concurrency: ConcurrencySetting;
  /** Tables copied at the same time (default 4); they share the transactions in flight. */
  tablesAtOnce?: number;
  /** A hard cap on entities written per second over the whole run; undefined = none. */
  maxEntitiesPerSecond?: number;
  /** Create destination tables that do not exist. */
  createTables: boolean;
  /** Read and count only; write nothing. */
  dryRun: boolean;
  /** Failures kept per table for the report (all are counted). */
  maxFailuresKept: number;
  retry?: Partial<RetryOptions>;
  /**
   * With an `onCheckpoint` hook: milliseconds between checkpoints (a full sync's resume points). Undefined
   * checkpoints only when the run is cancelled.
   */
  checkpointIntervalMs?: number;
  /** What each key range of an unsorted source should hold (default RANGE_BYTES, ranged-reader.ts). */
  rangeBytes?: number;
  /** How a sorted source is read when one scan is slow (lane-reader.ts; defaults there, tests force them). */
  lanes?: LaneReadOptions["lanes"];
  slowPageMs?: LaneReadOptions["slowPageMs"];
  rangeEntities?: LaneReadOptions["rangeEntities"];
  /**
   * After the run's signal fires, how long requests already in flight may still finish (so the last pages can
   * be written and checkpointed) before they are aborted too. Default 5 000 ms: GitHub sends SIGKILL 10 s
   * after its first signal.
   */
  cancelGraceMs?: number;
}

/** A resume point: every entity before `continuation` is written. */
export interface CheckpointInfo {
  /** Where the next page starts. */
  continuation: Continuation;
  /** The source clock when the (first, for a resumed scan) scan began. */
  sourceClockAtStart: string;
  /** Entities read (and written, skipped or conflicting) before `continuation`, over every resumed run. */
  read: number;
  written: number;
}

export interface Progress {
  table: string;
  read: number;
  written: number;
  skipped: number;
  failed: number;
}

export interface TablePlan {
  /** The OData filter for this table's scan; undefined reads everything. */
  filter?: string;
  continuation?: Continuation;
  /** Resuming a checkpointed scan at `continuation`: when that scan began and what it had read. */
  resume?: { sourceClockAtStart: string; read: number; written: number };
  /** After the switch: read the destination first and never overwrite the app's writes. */
  guard?: SwitchGuard;
}

export interface RunHooks {
  /** Decide the filter for a table (watermarks live outside the engine). Return null to skip the table. */
  plan?(spec: TableSpec, ctx: { sourceKind: ServiceKind }): Promise<TablePlan | null> | TablePlan | null;
  onTableStart?(spec: TableSpec, plan: TablePlan): void;
  /** Called when a table is done, before the next starts: the place to save per-table state. */
  onTableEnd?(result: TableResult): Promise<void> | void;
  onProgress?(progress: Progress): void;
  /**
   * Save a resume point (awaited before the copy reads on). Called every `checkpointIntervalMs` and when the run
   * is cancelled, only after every entity before the continuation is written, never past a failed entity.
   */
  onCheckpoint?(spec: TableSpec, checkpoint: CheckpointInfo): Promise<void> | void;
  /** Stops the run after the current page (the table then ends with an error, after a last checkpoint). */
  signal?: AbortSignal;
}

export const CANCELLED = "the run was cancelled";

export const DEFAULT_TABLES_AT_ONCE = 4;

export interface RunResult {
  tables: TableResult[];
  totals: RunTotals;
  sourceKind: ServiceKind;
  destinationKind: ServiceKind;
}
