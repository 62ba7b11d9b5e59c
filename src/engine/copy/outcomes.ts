// What became of each operation the writer sent: counted, told to the copy (its resume points, the
// post-switch guard) and, for failures, kept for the report up to the run's limit.
import type { Operation } from "../wire/batch.js";
import { defaultClassify, type WriteCounters, type WriterOptions } from "./write-rules.js";

export class Outcomes {
  readonly counters: WriteCounters = {
    written: 0,
    skipped: 0,
    failed: 0,
    conflicts: 0,
    transactions: 0,
    failures: [],
  };
  private readonly classify: NonNullable<WriterOptions["classifyRejection"]>;

  constructor(private readonly opts: WriterOptions) {
    this.classify = opts.classifyRejection ?? defaultClassify;
  }

  /** The operations landed; `etags[i]` is the destination's ETag for `ops[i]` when the answer gave one. */
  landed(ops: Operation[], etags?: readonly (string | undefined)[]): void {
    this.counters.written += ops.length;
    const { onLanded, onSettled } = this.opts;
    if (onLanded) ops.forEach((op, i) => onLanded(op, etags?.[i]));
    if (onSettled) for (const op of ops) onSettled(op, "written");
  }

  fail(ops: Operation[], message: string, status?: number, code?: string): void {
    for (const op of ops) {
      this.counters.failed++;
      this.opts.onSettled?.(op, "failed");
      if (this.counters.failures.length < this.opts.maxFailuresKept) {
        this.counters.failures.push({
          partitionKey: op.entity.partitionKey,
          rowKey: op.entity.rowKey,
          status,
          code,
          message,
        });
      }
    }
  }

  /** The service refused the operation itself: a failure, or (by the copy's rules) skipped or a conflict. */
  reject(op: Operation, status: number, code: string | undefined, message: string): void {
    const verdict = this.classify(op, status, code);
    if (verdict === "failed") return this.fail([op], message, status, code);
    if (verdict === "skipped") this.counters.skipped++;
    else {
      this.counters.conflicts++;
      this.opts.onConflict?.(op, status, message);
    }
    this.opts.onSettled?.(op, "skipped");
  }
}
