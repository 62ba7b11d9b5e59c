// `table-sync status`: the status step's result as text, one block per table, the lag history as a sparkline.
import type { StatusResult, TableStatus } from "../engine/steps/index.js";
import { sparkline } from "../present/lag.js";
import { counted, num } from "../present/figures.js";
import { tableLabel } from "../present/names.js";
import { decodeHistory } from "../state/history.js";

/** Changed counts of the last backfills printed (the sparkline shows every kept point). */
const LAST_CHANGED = 5;

function block(t: TableStatus): string[] {
  const lines = [`${tableLabel(t)}: ${t.phase}`];
  if (t.entitiesCopied !== undefined) {
    const of = t.size && t.phase === "full sync in progress" ? ` of ${num(t.size.entities)}` : "";
    lines.push(`  entities copied: ${num(t.entitiesCopied)}${of}`);
  }
  if (t.checkpoint)
    lines.push(`  checkpoint: after ${num(t.checkpoint.read)} entities, saved ${t.checkpoint.at}`);
  if (t.watermark) {
    const lag = t.lagNowSeconds === undefined ? "" : `, lag now ${num(t.lagNowSeconds)} s (source clock)`;
    lines.push(`  watermark: ${t.watermark}${lag}`);
  }
  const h = t.history;
  if (h.length) {
    const first = h[0].lagSeconds;
    const last = h[h.length - 1].lagSeconds;
    const changed = h
      .slice(-LAST_CHANGED)
      .map((p) => num(p.changed))
      .join(", ");
    lines.push(
      `  lag over the last ${counted(h.length, "backfill")}: ${sparkline(h)}  ${num(first)} s → ${num(last)} s; changed (latest last): ${changed}`,
    );
  }
  if (t.switchedAt) lines.push(`  switched-at: ${t.switchedAt}`);
  lines.push(`  next: ${t.next}`);
  return lines;
}

export function formatStatus(result: StatusResult): string {
  const lines = [
    `table-sync status — state: ${result.state}${result.sourceClock ? `; source clock ${result.sourceClock}` : ""}`,
  ];
  for (const n of result.notices) lines.push(`note: ${n}`);
  for (const t of result.tables) lines.push("", ...block(t));
  return lines.join("\n") + "\n";
}

/** `[orders] lag over the last 3 backfills: ▁▂█  0 s → 4 s`, or nothing when the table has no history. */
export function lagLine(spec: { source: string }, history: string | undefined): string[] {
  const h = decodeHistory(history);
  if (!h.length) return [];
  const n = h.length;
  return [
    `[${spec.source}] lag over the last ${counted(n, "backfill")}: ${sparkline(h)}  ${num(h[0].lagSeconds)} s → ${num(h[n - 1].lagSeconds)} s`,
  ];
}
