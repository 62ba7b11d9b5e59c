// The job summary of the status step: one row per table (phase, figures, what to run next) and, for each table
// with backfills, its lag chart with the numbers beneath. Also the lag section the backfill's summary adds.
import type { StatusResult, TableStatus } from "../engine/steps/index.js";
import { tableLabel } from "../present/names.js";
import { cell, lagSections } from "./summary.js";

/** Changed counts of the last backfills shown in the table row (the chart's table has them all). */
const LAST_CHANGED = 5;

const PHASE_ICON: Record<TableStatus["phase"], string> = {
  "not started": "⚪",
  "full sync in progress": "🔄",
  "full sync done": "🟦",
  backfilling: "🔁",
  switched: "✅",
};

function copied(t: TableStatus): string {
  if (t.entitiesCopied === undefined) return "—";
  const size = t.size && t.phase === "full sync in progress" ? t.size.entities : undefined;
  return size
    ? `${t.entitiesCopied} of ${size} (${Math.min(100, Math.round((t.entitiesCopied * 100) / size))} %)`
    : String(t.entitiesCopied);
}

export function buildStatusSummary(result: StatusResult): string {
  const lines: string[] = [`## ${result.ok ? "📋" : "❌"} table-sync status`, ""];
  for (const n of result.notices) lines.push(`> ${cell(n)}`, "");
  if (result.failure) {
    lines.push(`**${cell(result.failure)}**`, "");
    return lines.join("\n") + "\n";
  }
  lines.push(
    `State: ${cell(result.state)}${result.sourceClock ? `; source clock ${result.sourceClock}` : ""}.`,
    "",
    "| table | phase | entities copied | checkpoint | watermark | lag now | last backfills: changed | switched-at | next |",
    "|---|---|---:|---|---|---:|---|---|---|",
  );
  for (const t of result.tables) {
    const cp = t.checkpoint ? `after ${t.checkpoint.read} entities, saved ${t.checkpoint.at}` : "—";
    const changed = t.history.length
      ? t.history
          .slice(-LAST_CHANGED)
          .map((p) => p.changed)
          .join(", ")
      : "—";
    lines.push(
      `| ${cell(tableLabel(t))} | ${PHASE_ICON[t.phase]} ${t.phase} | ${copied(t)} | ${cp} | ${t.watermark ?? "—"} | ${t.lagNowSeconds === undefined ? "—" : `${t.lagNowSeconds} s`} | ${changed} | ${t.switchedAt ?? "—"} | ${cell(t.next)} |`,
    );
  }
  const charts = lagSections(result.tables.map((t) => ({ table: tableLabel(t), points: t.history })));
  if (charts) lines.push("", charts);
  return lines.join("\n") + "\n";
}
