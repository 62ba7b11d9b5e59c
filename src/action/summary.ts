// The job summary: one row per table and the first failures. Built as Markdown so it is testable
// without the runner, then written once through core.summary.
import { entitiesPerSecond } from "../engine/result.js";
import type { TableReport } from "../engine/migrate.js";

export interface SummaryInput {
  mode: string;
  dryRun: boolean;
  tables: TableReport[];
  notices: string[];
  lagSeconds?: number;
  stateDescription?: string;
}

const MAX_FAILURE_ROWS = 50;

export function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

/** Markdown table cells must not break the row. */
export function cell(s: string | number | undefined): string {
  return String(s ?? "")
    .replace(/\|/g, "\\|")
    .replace(/\r?\n/g, " ");
}

export function buildSummary(input: SummaryInput): string {
  const lines: string[] = [];
  const failed = input.tables.filter((t) => t.result.error || t.result.failed > 0).length;
  const icon = failed ? "❌" : "✅";
  lines.push(`## ${icon} table-sync ${input.mode}${input.dryRun ? " (dry run: nothing written)" : ""}`, "");
  for (const n of input.notices) lines.push(`> ${cell(n)}`, "");
  if (input.lagSeconds !== undefined) {
    const changed = input.tables.reduce((n, t) => n + t.result.read, 0);
    lines.push(
      `**Lag:** the destination trails the source by about ${input.lagSeconds} s (source clock); ${changed} entities changed in the window.`,
      "",
    );
  }
  lines.push(
    "| table | read | written | skipped | failed | duration | entities/s | watermark before → after |",
    "|---|---:|---:|---:|---:|---:|---:|---|",
  );
  for (const t of input.tables) {
    const r = t.result;
    const name = r.source === r.destination ? r.source : `${r.source} → ${r.destination}`;
    const wm = `${t.watermarkBefore ?? "—"} → ${t.watermarkAfter ?? "—"}${t.note ? ` (${t.note})` : ""}`;
    lines.push(
      `| ${cell(name)}${r.error ? " ⚠️" : ""} | ${r.read} | ${r.written} | ${r.skipped} | ${r.failed} | ${seconds(r.durationMs)} | ${entitiesPerSecond(r.read, r.durationMs)} | ${cell(wm)} |`,
    );
  }
  const errors = input.tables.filter((t) => t.result.error);
  if (errors.length) {
    lines.push("", "### Tables that did not complete", "");
    for (const t of errors) lines.push(`- **${cell(t.result.source)}**: ${cell(t.result.error)}`);
  }
  const failures = input.tables.flatMap((t) =>
    t.result.failures.map((f) => ({ table: t.result.source, ...f })),
  );
  if (failures.length) {
    const total = input.tables.reduce((n, t) => n + t.result.failed, 0);
    lines.push("", `### First failures (${Math.min(failures.length, MAX_FAILURE_ROWS)} of ${total})`, "");
    lines.push("| table | PartitionKey | RowKey | error |", "|---|---|---|---|");
    for (const f of failures.slice(0, MAX_FAILURE_ROWS)) {
      lines.push(`| ${cell(f.table)} | ${cell(f.partitionKey)} | ${cell(f.rowKey)} | ${cell(f.message)} |`);
    }
  }
  const conflicts = input.tables.flatMap((t) => t.result.conflictDetails.map((c) => ({ table: t.result.source, ...c })));
  if (conflicts.length) {
    const total = input.tables.reduce((n, t) => n + t.result.conflicts, 0);
    lines.push("", `### Conflicts kept safe (${Math.min(conflicts.length, MAX_FAILURE_ROWS)} of ${total})`, "");
    lines.push(
      "The app changed these entities on the destination after the switch; the source's older version was not written.",
      "",
      "| table | PartitionKey | RowKey | why |",
      "|---|---|---|---|",
    );
    for (const c of conflicts.slice(0, MAX_FAILURE_ROWS)) {
      lines.push(`| ${cell(c.table)} | ${cell(c.partitionKey)} | ${cell(c.rowKey)} | ${cell(c.message)} |`);
    }
  }
  if (input.stateDescription) lines.push("", `State: ${cell(input.stateDescription)}`);
  return lines.join("\n") + "\n";
}
