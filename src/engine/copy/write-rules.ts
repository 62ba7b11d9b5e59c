// The rules of writing that do not depend on a writer's state: which operation a write-mode means, how big
// a transaction may be, and how a refused operation counts (skipped, conflict or failed).
import type { Operation, OperationKind } from "../wire/batch.js";
import type { ServiceKind } from "../wire/service-kind.js";
import type { HoldLimits } from "./hold.js";
import type { FlowControl } from "./rate.js";
import type { ConcurrencySetting } from "./window.js";

export type WriteMode = "replace" | "merge" | "insert";

export const MAX_OPERATIONS = 100;
/** Table Storage: 4 MiB per transaction; Cosmos: 2 MB. A margin covers the outer multipart framing. */
export function maxTransactionBytes(kind: ServiceKind): number {
  return kind === "cosmos" ? 2_000_000 - 16_384 : 4 * 1024 * 1024 - 16_384;
}

export function operationFor(mode: WriteMode): OperationKind {
  return mode === "insert" ? "insert" : mode === "merge" ? "upsert-merge" : "upsert-replace";
}

export interface WriteFailure {
  partitionKey: string;
  rowKey: string;
  status?: number;
  code?: string;
  message: string;
}

export interface WriteCounters {
  written: number;
  skipped: number;
  failed: number;
  conflicts: number;
  transactions: number;
  failures: WriteFailure[];
}

/** How to count an operation the service refused: `skipped` (insert of an existing entity), `conflict`, or `failed`. */
export type RejectionVerdict = "skipped" | "conflict" | "failed";

export function defaultClassify(op: Operation, status: number, code: string | undefined): RejectionVerdict {
  if (op.kind === "insert" && status === 409 && (code === undefined || code === "EntityAlreadyExists"))
    return "skipped";
  if (
    (op.kind === "update-replace" || op.kind === "update-merge" || op.kind === "delete") &&
    status === 412
  ) {
    return "conflict";
  }
  if (op.kind === "delete" && status === 404) return "skipped";
  return "failed";
}

/** How a TableWriter (writer.ts) writes one table. */
export interface WriterOptions {
  /** Requests in flight when no shared flow control is given (`flow`); also sizes the buffers. */
  concurrency: ConcurrencySetting;
  maxFailuresKept: number;
  /** Source pages arrive sorted by PartitionKey (Table Storage): a partition is complete when the key changes. */
  sortedSource: boolean;
  /** Unsorted source read by key ranges (ranged-reader.ts): partitions complete at each range's end (rangeEnded), so none goes early. */
  byRanges?: boolean;
  /** Unsorted source: how long and in how much memory partial transactions wait (hold.ts). */
  hold?: HoldLimits;
  maxOperations?: number;
  maxBytes?: number;
  classifyRejection?: (op: Operation, status: number, code: string | undefined) => RejectionVerdict;
  /** Called for each operation that landed, with the ETag the service returned. */
  onLanded?: (op: Operation, etag: string | undefined) => void;
  onConflict?: (op: Operation, status: number, message: string) => void;
  /** Called once per operation when it is done: landed, skipped (or in conflict), or failed. */
  onSettled?: (op: Operation, outcome: "written" | "skipped" | "failed") => void;
  /**
   * The run's flow control (shared by every writer to one destination): it decides when a transaction
   * may be sent (rate cap, adaptive rate and window); `concurrency` then only sizes the buffers.
   */
  flow?: FlowControl;
}
