// What the CLI prints: progress lines while a table is copied, and the per-table summary at the end.
import type { MeteredProgress } from "../engine/steps/index.js";
import { etaText } from "../present/progress.js";
import { planningLines } from "../present/preflight.js";
import { counted, duration, num, tablesCount } from "../present/figures.js";
import { entityReason, tableLabel } from "../present/names.js";
import { finalBackfillLine, isCancelledError, lagSentence } from "../present/results.js";
import { entitiesPerSecond, tableSucceeded, type TableResult } from "../engine/copy/result.js";
import type { CheckResult } from "../engine/steps/index.js";
import type { RunTotals } from "../engine/copy/result.js";
import { cliMessage } from "./args.js";

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
 * The --since for the next backfill: the earliest source clock at which a table's scan began, less the
 * overlap. Only when every table completed without failures (otherwise a rerun is the next step).
 */
/** The earliest source clock at which a table's scan began: the watermark the next backfill starts from. */
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

function pad(cells: string[][], rightAlign: boolean[]): string[] {
  const widths = cells[0].map((_, i) => Math.max(...cells.map((row) => [...row[i]].length)));
  return cells.map((row) =>
    row
      .map((c, i) => {
        const fill = " ".repeat(widths[i] - [...c].length);
        return rightAlign[i] ? fill + c : c + fill;
      })
      .join("  ")
      .trimEnd(),
  );
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
    ...pad([header, ...rows], [false, true, true, true, true, true, true, false]).map((l) => `  ${l}`),
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

/**
 * The text report of verify, switch and preflight. `reportPath` undefined: the JSON report could not be
 * written. A cancelled check shows only the tables it finished, and no verdict.
 */
export function formatCheck(
  full: CheckResult,
  reportPath: string | undefined,
  opts: { cancelled?: boolean } = {},
): string {
  const cancelled = opts.cancelled ?? false;
  const result: CheckResult = cancelled
    ? {
        ...full,
        verify: full.verify.filter((v) => !isCancelledError(v.error)),
        preflight: full.preflight.filter((p) => !isCancelledError(p.error)),
      }
    : full;
  const lines: string[] = [];
  if (result.backfill) {
    lines.push(finalBackfillLine(result.backfill.totals, num));
  }
  if (result.verify.length) {
    const header = [
      "Table",
      "Checked",
      "Source",
      "Destination",
      "Missing",
      "Extra",
      "Different",
      "Repaired",
      "In sync",
    ];
    const rows = result.verify.map((v) => [
      tableLabel(v),
      num(v.checked),
      num(v.sourceCount),
      v.destinationCount === null ? "—" : num(v.destinationCount),
      num(v.missing),
      v.extra === null ? "—" : num(v.extra),
      num(v.different + v.untransformable),
      v.repair ? `${num(v.repair.copied)}+${num(v.repair.deleted)} deleted` : "—",
      v.error ? "error" : v.inSync ? "yes" : "no",
    ]);
    lines.push(
      "",
      ...pad([header, ...rows], [false, true, true, true, true, true, true, true, false]).map(
        (l) => `  ${l}`,
      ),
    );
    for (const v of result.verify) {
      for (const m of v.missingSamples)
        lines.push(`  ${v.source}: missing PartitionKey '${m.partitionKey}', RowKey '${m.rowKey}'`);
      for (const m of v.extraSamples)
        lines.push(`  ${v.source}: extra PartitionKey '${m.partitionKey}', RowKey '${m.rowKey}'`);
      for (const d of v.differentSamples) {
        lines.push(
          `  ${v.source}: different PartitionKey '${d.partitionKey}', RowKey '${d.rowKey}': ${d.properties.join(", ")}`,
        );
      }
      for (const u of v.untransformableSamples) {
        lines.push(
          `  ${v.source}: PartitionKey '${u.partitionKey}', RowKey '${u.rowKey}': ${entityReason(v.source, u.partitionKey, u.rowKey, u.message)}`,
        );
      }
      for (const n of v.notes) lines.push(`  ${v.source}: ${cliMessage(n)}`);
      if (v.error) lines.push(`  ${v.source}: ${cliMessage(v.error)}`);
    }
  }
  for (const p of result.preflight) {
    lines.push(
      "",
      `${p.table}: ${num(p.entities)} entities in ${num(p.partitions)} partitions; ` +
        `largest partition ${p.largestPartition ? `'${p.largestPartition.partitionKey}' (${num(p.largestPartition.entities)})` : "—"}; ` +
        `largest entity ${p.largestEntity ? `${num(p.largestEntity.bytes)} bytes` : "—"}; ` +
        `scanned at ${num(p.scanEntitiesPerSecond)} entities/s, so a full sync takes at least ${duration(p.fullSyncAtLeastMs)}.`,
    );
    for (const r of p.reservedProperties) {
      lines.push(
        `  reserved property '${r.name}' in ${num(r.entities)} entities${r.renamedTo ? ` → renamed to '${r.renamedTo}'` : ""}`,
      );
    }
    if (p.badKeys) lines.push(`  ${num(p.badKeys)} keys the destination refuses`);
    if (p.oversized) lines.push(`  ${num(p.oversized)} entities over ${num(p.oversizedLimitBytes)} bytes`);
    for (const l of planningLines(p)) lines.push(`  ${l}`);
    for (const b of p.blocking) lines.push(`  BLOCKING: ${cliMessage(b)}`);
    for (const w of p.warnings) lines.push(`  note: ${cliMessage(w)}`);
    if (p.error) lines.push(`  ${cliMessage(p.error)}`);
  }
  if (cancelled) {
    const total = full.mode === "preflight" ? full.preflight.length : full.verify.length;
    const done = result.mode === "preflight" ? result.preflight.length : result.verify.length;
    const what = full.mode === "preflight" ? "scanned" : "compared";
    lines.push(
      "",
      `${full.mode} cancelled: no verdict` +
        (full.mode === "switch" ? "; switched-at was not recorded" : "") +
        (total ? ` (${done} of ${tablesCount(total)} ${what} before the cancel).` : "."),
    );
    for (const n of result.notices) lines.push(cliMessage(n));
    lines.push(reportPath ? `Report (marked cancelled): ${reportPath}` : "Report: not written.");
    return lines.join("\n") + "\n";
  }
  const verdict =
    result.mode === "switch"
      ? result.ready
        ? `switch: ready; switched-at ${result.switchedAt} recorded (destination clock).`
        : "switch: not ready."
      : result.mode === "verify"
        ? result.inSync
          ? "verify: in sync."
          : result.repaired
            ? `verify: ${counted(result.differences ?? 0, "difference", "differences", num)} found and repaired; the tables are now in sync.`
            : `verify: ${counted(result.differences ?? 0, "difference", "differences", num)}.`
        : result.ok
          ? "preflight: nothing blocks a full sync."
          : "preflight: a full sync would fail.";
  lines.push("", verdict);
  for (const n of result.notices) lines.push(cliMessage(n));
  if (result.failure) lines.push(cliMessage(result.failure));
  lines.push(reportPath ? `Report: ${reportPath}` : "Report: not written.");
  return lines.join("\n") + "\n";
}
