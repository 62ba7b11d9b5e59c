// What the CLI prints for verify, switch and preflight: each table's figures, samples of what differs, the
// preflight's findings, and the verdict with where the JSON report went.
import type { CheckResult } from "../engine/steps/index.js";
import { planningLines } from "../present/preflight.js";
import { counted, duration, num, tablesCount } from "../present/figures.js";
import { entityReason, tableLabel } from "../present/names.js";
import { finalBackfillLine, isCancelledError } from "../present/results.js";
import { cliMessage } from "./args.js";
import { columns } from "./columns.js";

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
      ...columns([header, ...rows], [false, true, true, true, true, true, true, true, false]).map(
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
