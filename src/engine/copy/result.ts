// What a run reports per table. Plain data: the CLI, the action and the state store all read it.
import type { WriteFailure } from "./write-rules.js";

export interface TableResult {
  source: string;
  destination: string;
  /** The OData filter the scan used, if any. */
  filter?: string;
  read: number;
  written: number;
  skipped: number;
  failed: number;
  conflicts: number;
  transactions: number;
  durationMs: number;
  /** The source server's clock when this table's scan began (ISO-8601 UTC), from its `Date` header. */
  sourceClockAtStart?: string;
  /** The first failures (up to the configured number); `failed` counts all of them. */
  failures: WriteFailure[];
  /** After the switch: entities the app changed on the destination, left alone (first N kept). */
  conflictDetails: { partitionKey: string; rowKey: string; message: string }[];
  /** After the switch: ids of every post-switch write of ours (see post-switch.ts), for the state. */
  ourWrites?: string[];
  /** The source clock when the scan ended (the `Date` of its last response): the lag's reference. */
  sourceClockAtEnd?: string;
  /** A table-level error (missing table, refused credential, …): the table did not complete. */
  error?: string;
  /** Requests answered 429 and retries made, for rate reporting. */
  throttled: number;
  retries: number;
}

export function tableSucceeded(r: TableResult): boolean {
  return !r.error && r.failed === 0;
}

export interface RunTotals {
  tables: number;
  read: number;
  written: number;
  skipped: number;
  failed: number;
  conflicts: number;
  tablesFailed: number;
  durationMs: number;
}

export function totals(results: TableResult[], durationMs: number): RunTotals {
  const t: RunTotals = {
    tables: results.length,
    read: 0,
    written: 0,
    skipped: 0,
    failed: 0,
    conflicts: 0,
    tablesFailed: 0,
    durationMs,
  };
  for (const r of results) {
    t.read += r.read;
    t.written += r.written;
    t.skipped += r.skipped;
    t.failed += r.failed;
    t.conflicts += r.conflicts;
    if (!tableSucceeded(r)) t.tablesFailed++;
  }
  return t;
}

export function entitiesPerSecond(count: number, ms: number): number {
  return ms > 0 ? Math.round((count * 1000) / ms) : 0;
}
