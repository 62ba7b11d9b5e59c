// What the CLI prints for a copy (full-sync, backfill): progress lines while a table is copied, and the
// per-table summary at the end. The report of verify, switch and preflight is check-report.ts.
import type { MeteredProgress } from "../engine/steps/index.js";
import {
  entitiesPerSecond,
  tableSucceeded,
  type RunTotals,
  type TableResult,
} from "../engine/copy/result.js";
import { etaText } from "../present/progress.js";
import { counted, duration, num, tablesCount } from "../present/figures.js";
import { entityReason, tableLabel } from "../present/names.js";
import { lagSentence } from "../present/results.js";
import { cliMessage } from "./args.js";
import { columns } from "./columns.js";

/** What the CLI reports: every table's result and the totals (plus a backfill's lag). */
export interface RunResult {
  tables: TableResult[];
  totals: RunTotals;
  lagSeconds?: number;
  changedEntities?: number;
  /** The oldest stored watermark of the run's tables (with a state store): where the next backfill starts. */
  watermark?: string;
}

/** `2024-05-01T12:00:00.000Z` → `2024-05-01T12:00:00Z` (a whole second, as the server's Date header gives). */
export function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.000Z$/, "Z");
}

export function progressLine(p: MeteredProgress, elapsedMs: number): string {
  const parts = [`${num(p.read)} read`, `${num(p.written)} written`];
  if (p.skipped) parts.push(`${num(p.skipped)} skipped`);
  if (p.failed) parts.push(`${num(p.failed)} failed`);
  // With the table's size known: percent, rate and time left (the rate is this run's, as below).
  if (p.eta) parts.push(etaText(p.eta));
  else parts.push(`${num(entitiesPerSecond(p.read, elapsedMs))} entities/s`);
  parts.push(`${duration(elapsedMs)} elapsed`);
  return `[${p.table}] ${parts.join(", ")}`;
}

export function tableDoneLine(r: TableResult): string {
  const status = r.error ? "stopped" : r.failed ? "done with failures" : "done";
  return (
    `[${r.source}] ${status}: ${num(r.read)} read, ${num(r.written)} written` +
    (r.skipped ? `, ${num(r.skipped)} skipped` : "") +
    (r.failed ? `, ${num(r.failed)} failed` : "") +
    (r.conflicts ? `, ${counted(r.conflicts, "conflict", "conflicts", num)} kept safe` : "") +
    ` in ${duration(r.durationMs)}` +
    (r.error ? ` — ${cliMessage(r.error.split("\n")[0])}` : "")
  );
}

/**
 * The earliest source clock at which a table's scan began: the watermark the next backfill starts from (it
 * applies the overlap itself). Only when every table completed without failures (otherwise a rerun is next).
 */
export function nextSince(result: RunResult): Date | undefined {
  if (result.tables.length === 0 || !result.tables.every(tableSucceeded)) return undefined;
  // A resumed full sync earns the clock of the scan it resumed, which the stored watermark holds.
  if (result.watermark && Number.isFinite(Date.parse(result.watermark))) return new Date(result.watermark);
  let earliest: number | undefined;
  for (const t of result.tables) {
    const ms = Date.parse(t.sourceClockAtStart ?? "");
    if (!Number.isFinite(ms)) return undefined;
    earliest = earliest === undefined ? ms : Math.min(earliest, ms);
  }
  return earliest === undefined ? undefined : new Date(earliest);
}

export interface SummaryOptions {
  command: string;
  dryRun: boolean;
  overlapSeconds: number;
  cancelled?: boolean;
}

export function formatSummary(result: RunResult, opts: SummaryOptions): string {
  const t = result.totals;
  const lines: string[] = [];
  const failedTables = result.tables.filter((r) => !tableSucceeded(r));
  const verdict = opts.cancelled
    ? "cancelled"
    : failedTables.length === 0
      ? opts.dryRun
        ? "finished (dry run: nothing written)"
        : "finished"
      : `finished with failures in ${failedTables.length} of ${tablesCount(t.tables)}`;
  lines.push(
    `${opts.command} ${verdict}: ${tablesCount(t.tables)}, ${num(t.read)} read, ` +
      `${num(t.written)} written, ${num(t.skipped)} skipped, ${num(t.failed)} failed in ${duration(t.durationMs)} ` +
      `(${num(entitiesPerSecond(t.read, t.durationMs))} entities/s).`,
  );
  if (result.tables.length === 0) return lines.join("\n") + "\n";

  const filters = new Set(result.tables.map((r) => r.filter ?? ""));
  if (filters.size === 1 && [...filters][0] !== "") lines.push(`Filter: ${[...filters][0]}`);

  const header = [
    "Table",
    "Read",
    "Written",
    "Skipped",
    "Failed",
    "Duration",
    "Entities/s",
    "Source clock at start",
  ];
  const rows = result.tables.map((r) => [
    tableLabel(r),
    num(r.read),
    num(r.written),
    num(r.skipped),
    num(r.failed),
    duration(r.durationMs),
    num(entitiesPerSecond(r.read, r.durationMs)),
    r.sourceClockAtStart ?? "—",
  ]);
  lines.push(
    "",
    ...columns([header, ...rows], [false, true, true, true, true, true, true, false]).map((l) => `  ${l}`),
  );

  for (const r of result.tables) {
    if (filters.size > 1 && r.filter) lines.push(`  ${r.source}: filter ${r.filter}`);
  }
  for (const r of result.tables) {
    if (r.error) {
      const [first, ...more] = cliMessage(r.error.trimEnd()).split("\n");
      lines.push(
        "",
        `${r.source}: the table did not complete: ${first}`,
        ...more.map((l) => `  ${l.trim()}`),
      );
    }
    if (r.failed) {
      const shown = r.failures.length;
      lines.push(
        "",
        `${r.source}: ${counted(r.failed, "entity", "entities", num)} failed` +
          (shown === 0 ? "." : shown < r.failed ? `; the first ${shown}:` : ":"),
      );
      for (const f of r.failures) {
        const message = entityReason(r.source, f.partitionKey, f.rowKey, f.message);
        const status = f.status && !message.includes(`HTTP ${f.status}`) ? ` (HTTP ${f.status})` : "";
        lines.push(`  PartitionKey '${f.partitionKey}', RowKey '${f.rowKey}': ${message}${status}`);
      }
    }
  }
  for (const r of result.tables) {
    if (!r.conflicts) continue;
    lines.push(
      "",
      `${r.source}: ${counted(r.conflicts, "conflict", "conflicts", num)} kept safe — the app changed ${r.conflicts === 1 ? "it" : "them"} on the destination after the switch; the source's version was not written:`,
    );
    for (const c of r.conflictDetails)
      lines.push(`  PartitionKey '${c.partitionKey}', RowKey '${c.rowKey}': ${c.message}`);
  }
  if (result.lagSeconds !== undefined) {
    lines.push("", `Lag: ${lagSentence(num(result.lagSeconds), num(result.changedEntities ?? 0))}`);
  }
  if (result.tables.some((r) => r.throttled > 0)) {
    const throttled = result.tables.reduce((s, r) => s + r.throttled, 0);
    lines.push("", `The services throttled ${num(throttled)} requests (HTTP 429); they were retried.`);
  }

  const since = opts.cancelled || opts.dryRun ? undefined : nextSince(result);
  if (since) {
    lines.push(
      "",
      `Next backfill: table-sync backfill --since ${isoSeconds(since)} … ` +
        `(the source clock when this copy's scan began; the backfill re-reads ${opts.overlapSeconds} s before it).`,
    );
  } else if (failedTables.length > 0 && !opts.cancelled) {
    lines.push(
      "",
      `Fix the cause and run the same command again for the failed ${failedTables.length === 1 ? "table" : "tables"}.`,
    );
  }
  return lines.join("\n") + "\n";
}
