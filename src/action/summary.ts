// The job summary: one row per table and the first failures. Built as Markdown so it is testable
// without the runner, then written once through core.summary.
import { entitiesPerSecond } from "../engine/copy/result.js";
import type { CheckResult, TableReport } from "../engine/steps/index.js";
import type { HistoryPoint } from "../state/history.js";
import { etaText } from "../present/progress.js";
import { planningLines } from "../present/preflight.js";
import { lagSection } from "../present/lag.js";
import { entityReason, tableLabel, tableReason } from "../present/names.js";
import { finalBackfillLine, lagSentence } from "../present/results.js";

export interface SummaryInput {
  mode: string;
  dryRun: boolean;
  tables: TableReport[];
  notices: string[];
  lagSeconds?: number;
  stateDescription?: string;
  /** Backfill: each table's lag history as stored after the run (drawn as a chart). */
  lagHistories?: { table: string; points: HistoryPoint[] }[];
}

const MAX_FAILURE_ROWS = 50;

export function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "`": "&#96;" };

/**
 * Text from the data (keys, messages, table names) as inert Markdown: it must not break a table row, and
 * must not become HTML, a code span, a link, emphasis, or (at the start of a line) a heading, list or quote.
 * GitHub renders entities and backslash escapes back to the characters they stand for.
 */
export function cell(s: string | number | undefined): string {
  return (
    String(s ?? "")
      .replace(/\r\n|\r|\n/g, " ")
      .replace(/[&<>`]/g, (c) => ENTITIES[c])
      // Inline Markdown: emphasis, links and images, strikethrough; `|` would end the table cell.
      .replace(/[\\*_[\]~|]/g, (c) => `\\${c}`)
      // Block Markdown where the text begins: headings, list items, setext underlines, ordered lists.
      .replace(/^(\s*)([#+=-])/, "$1\\$2")
      .replace(/^(\s*\d+)([.)])/, "$1\\$2")
  );
}

/** A code span holding `s` literally, whatever backticks it contains. */
export function code(s: string): string {
  const text = s.replace(/\r\n|\r|\n/g, " ");
  const fence = "`".repeat(Math.max(0, ...(text.match(/`+/g) ?? []).map((r) => r.length)) + 1);
  const pad = text.startsWith("`") || text.endsWith("`") ? " " : "";
  return `${fence}${pad}${text}${pad}${fence}`;
}

export function buildSummary(input: SummaryInput): string {
  const lines: string[] = [];
  const failed = input.tables.filter((t) => t.result.error || t.result.failed > 0).length;
  const icon = failed ? "❌" : "✅";
  lines.push(`## ${icon} table-sync ${input.mode}${input.dryRun ? " (dry run: nothing written)" : ""}`, "");
  for (const n of input.notices) lines.push(`> ${cell(n)}`, "");
  if (input.lagSeconds !== undefined) {
    const changed = input.tables.reduce((n, t) => n + t.result.read, 0);
    lines.push(`**Lag:** ${lagSentence(String(input.lagSeconds), String(changed))}`, "");
  }
  lines.push(
    "| table | read | written | skipped | failed | duration | entities/s | watermark before → after |",
    "|---|---:|---:|---:|---:|---:|---:|---|",
  );
  for (const t of input.tables) {
    const r = t.result;
    const name = tableLabel(r);
    const wm = `${t.watermarkBefore ?? "—"} → ${t.watermarkAfter ?? "—"}${t.note ? ` (${t.note})` : ""}`;
    lines.push(
      `| ${cell(name)}${r.error ? " ⚠️" : ""} | ${r.read} | ${r.written} | ${r.skipped} | ${r.failed} | ${seconds(r.durationMs)} | ${entitiesPerSecond(r.read, r.durationMs)} | ${cell(wm)} |`,
    );
  }
  const etas = input.tables.filter((t) => t.eta);
  if (etas.length) {
    lines.push("", "**Progress against the known size:**", "");
    // etaText is our own words and figures (no data from the tables): nothing to escape.
    for (const t of etas) if (t.eta) lines.push(`- ${cell(t.result.source)}: ${etaText(t.eta)}`);
  }
  const charts = lagSections(input.lagHistories ?? []);
  if (charts) lines.push("", charts);
  const throttled = input.tables.reduce((n, t) => n + (t.result.throttled ?? 0), 0);
  if (throttled > 0) {
    const retries = input.tables.reduce((n, t) => n + (t.result.retries ?? 0), 0);
    lines.push(
      "",
      `**Throttled:** the services answered ${throttled} requests with HTTP 429 (${retries} retries in all); the writers slowed down and retried them.`,
    );
  }
  const errors = input.tables.filter((t) => t.result.error);
  if (errors.length) {
    lines.push("", "### Tables that did not complete", "");
    for (const t of errors) {
      const reason = tableReason(t.result.source, t.result.error ?? "");
      lines.push(`- **${cell(t.result.source)}**: ${cell(reason)}`);
    }
  }
  const failures = input.tables.flatMap((t) =>
    t.result.failures.map((f) => ({ table: t.result.source, ...f })),
  );
  if (failures.length) {
    const total = input.tables.reduce((n, t) => n + t.result.failed, 0);
    lines.push("", `### First failures (${Math.min(failures.length, MAX_FAILURE_ROWS)} of ${total})`, "");
    lines.push("| table | PartitionKey | RowKey | error |", "|---|---|---|---|");
    for (const f of failures.slice(0, MAX_FAILURE_ROWS)) {
      const reason = entityReason(f.table, f.partitionKey, f.rowKey, f.message);
      lines.push(`| ${cell(f.table)} | ${cell(f.partitionKey)} | ${cell(f.rowKey)} | ${cell(reason)} |`);
    }
  }
  const conflicts = input.tables.flatMap((t) =>
    t.result.conflictDetails.map((c) => ({ table: t.result.source, ...c })),
  );
  if (conflicts.length) {
    const total = input.tables.reduce((n, t) => n + t.result.conflicts, 0);
    lines.push(
      "",
      `### Conflicts kept safe (${Math.min(conflicts.length, MAX_FAILURE_ROWS)} of ${total})`,
      "",
    );
    lines.push(
      "The app changed these entities on the destination after the switch; the source's older version was not written.",
      "",
      "| table | PartitionKey | RowKey | why |",
      "|---|---|---|---|",
    );
    for (const c of conflicts.slice(0, MAX_FAILURE_ROWS)) {
      const reason = entityReason(c.table, c.partitionKey, c.rowKey, c.message);
      lines.push(`| ${cell(c.table)} | ${cell(c.partitionKey)} | ${cell(c.rowKey)} | ${cell(reason)} |`);
    }
  }
  if (input.stateDescription) lines.push("", `State: ${cell(input.stateDescription)}`);
  return lines.join("\n") + "\n";
}

/** A verify that found differences (and did not repair them all) yet passes: fail-on-difference is false. */
export function passedWithDifferences(result: CheckResult): boolean {
  return result.mode === "verify" && result.ok && result.inSync === false && !result.repaired;
}

/** The job summary of verify, switch and preflight. */
export function buildCheckSummary(result: CheckResult, reportPath?: string, reportProblem?: string): string {
  const lines: string[] = [];
  const icon = !result.ok ? "❌" : passedWithDifferences(result) ? "⚠️" : "✅";
  const title = result.cancelled
    ? `${result.mode}: cancelled, no verdict`
    : result.mode === "switch"
      ? result.ready
        ? `switch: ready, switched-at ${result.switchedAt}`
        : "switch: not ready"
      : result.mode === "verify"
        ? result.inSync
          ? "verify: in sync"
          : result.repaired
            ? `verify: ${result.differences} difference(s) found and repaired`
            : passedWithDifferences(result)
              ? `verify: ${result.differences} difference(s), passed because fail-on-difference is false`
              : `verify: ${result.differences} difference(s)`
        : result.ok
          ? "preflight: a full sync can start"
          : "preflight: a full sync would fail";
  lines.push(`## ${icon} table-sync ${title}`, "");
  for (const n of result.notices) lines.push(`> ${cell(n)}`, "");
  if (result.failure) lines.push(`**${cell(result.failure)}**`, "");
  if (result.backfill) {
    lines.push(finalBackfillLine(result.backfill.totals), "");
  }
  if (result.verify.length) {
    lines.push(
      "| table | checked | source | destination | missing | extra | different | untransformable | repaired | deleted | in sync |",
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    );
    for (const v of result.verify) {
      lines.push(
        `| ${cell(tableLabel(v))}${v.sampled ? ` (sample ${v.sampleFraction})` : ""} | ${v.checked} | ${v.sourceCount} | ${v.destinationCount ?? "—"} | ${v.missing} | ${v.extra ?? "—"} | ${v.different} | ${v.untransformable} | ${v.repair?.copied ?? "—"} | ${v.repair?.deleted ?? "—"} | ${v.error ? "⚠️ error" : v.inSync ? "yes" : "no"} |`,
      );
    }
    const rows: string[] = [];
    for (const v of result.verify) {
      for (const m of v.missingSamples)
        rows.push(`| ${cell(v.source)} | missing | ${cell(m.partitionKey)} | ${cell(m.rowKey)} | |`);
      for (const m of v.extraSamples)
        rows.push(`| ${cell(v.source)} | extra | ${cell(m.partitionKey)} | ${cell(m.rowKey)} | |`);
      for (const d of v.differentSamples) {
        rows.push(
          `| ${cell(v.source)} | different | ${cell(d.partitionKey)} | ${cell(d.rowKey)} | ${cell(d.properties.join(", "))} |`,
        );
      }
      for (const u of v.untransformableSamples) {
        rows.push(
          `| ${cell(v.source)} | untransformable | ${cell(u.partitionKey)} | ${cell(u.rowKey)} | ${cell(entityReason(v.source, u.partitionKey, u.rowKey, u.message))} |`,
        );
      }
      for (const n of v.notes) lines.push("", `> ${cell(v.source)}: ${cell(n)}`);
      if (v.error) lines.push("", `> ${cell(v.source)}: ${cell(v.error)}`);
    }
    if (rows.length) {
      lines.push(
        "",
        "### First differences",
        "",
        "| table | kind | PartitionKey | RowKey | properties |",
        "|---|---|---|---|---|",
      );
      lines.push(...rows.slice(0, MAX_FAILURE_ROWS));
    }
  }
  if (result.preflight.length) {
    lines.push(
      "| table | entities | partitions | largest partition | largest entity | reserved names | bad keys | over 2 MB | scan rate | full sync at least |",
      "|---|---:|---:|---|---|---|---:|---:|---:|---:|",
    );
    for (const p of result.preflight) {
      const lp = p.largestPartition
        ? `${cell(p.largestPartition.partitionKey)} (${p.largestPartition.entities})`
        : "—";
      const le = p.largestEntity ? `${p.largestEntity.bytes} B` : "—";
      const reserved =
        p.reservedProperties.map((r) => `${r.name}${r.renamedTo ? ` → ${r.renamedTo}` : " ⚠️"}`).join(", ") ||
        "—";
      lines.push(
        `| ${cell(p.table)} | ${p.entities} | ${p.partitions} | ${lp} | ${le} | ${cell(reserved)} | ${p.badKeys} | ${p.oversized} | ${p.scanEntitiesPerSecond}/s | ${seconds(p.fullSyncAtLeastMs)} |`,
      );
    }
    const planning = result.preflight.flatMap((p) =>
      planningLines(p).map((l) => `- **${cell(p.table)}**: ${cell(l)}`),
    );
    if (planning.length) lines.push("", "### Planning (estimates)", "", ...planning);
    const blocking = result.preflight.flatMap((p) => [...p.blocking, ...(p.error ? [p.error] : [])]);
    const warnings = result.preflight.flatMap((p) => p.warnings);
    if (blocking.length) lines.push("", "### Blocking", "", ...blocking.map((b) => `- ${cell(b)}`));
    if (warnings.length) lines.push("", "### Worth knowing", "", ...warnings.map((w) => `- ${cell(w)}`));
  }
  if (reportPath) lines.push("", `Report: ${code(reportPath)}`);
  if (reportProblem) lines.push("", `**Report not written:** ${cell(reportProblem)}`);
  return lines.join("\n") + "\n";
}

/** Every table's lag chart and numbers (tables without backfills are left out), or "" when none has any. */
export function lagSections(histories: { table: string; points: HistoryPoint[] }[]): string {
  const shown = histories.filter((h) => h.points.length > 0);
  if (!shown.length) return "";
  return [
    "### Lag after each backfill",
    "",
    ...shown.map((h) => lagSection(cell(h.table), h.points) + "\n"),
  ].join("\n");
}
