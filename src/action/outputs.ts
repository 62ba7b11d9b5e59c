// The step's outputs (the names in action.yml): a copy's figures, a check's verdict, and result-json.
import * as core from "@actions/core";
import type { CheckResult, MigrationResult } from "../engine/steps/index.js";
import { Outputs } from "./constants.js";

/** The copy's outputs: full-sync, backfill, and the final backfill of a switch. */
export function setCopyOutputs(result: MigrationResult): void {
  core.setOutput(Outputs.LastSyncUtc, result.lastSyncUtc ?? "");
  core.setOutput(Outputs.EntitiesRead, String(result.totals.read));
  core.setOutput(Outputs.EntitiesWritten, String(result.totals.written));
  core.setOutput(Outputs.EntitiesFailed, String(result.totals.failed));
  if (result.lagSeconds !== undefined) core.setOutput(Outputs.LagSeconds, String(result.lagSeconds));
  if (result.changedEntities !== undefined)
    core.setOutput(Outputs.ChangedEntities, String(result.changedEntities));
}

/** result-json of a copy: the result with every table's watermarks and lag spelled out (null when none). */
export function resultJson(result: MigrationResult): string {
  return JSON.stringify({
    mode: result.mode,
    dryRun: result.dryRun,
    lastSyncUtc: result.lastSyncUtc ?? null,
    lagSeconds: result.lagSeconds ?? null,
    changedEntities: result.changedEntities ?? null,
    totals: result.totals,
    tables: result.tables.map((r) => ({
      ...r.result,
      watermarkBefore: r.watermarkBefore ?? null,
      watermarkAfter: r.watermarkAfter ?? null,
      lagSeconds: r.lagSeconds ?? null,
    })),
  });
}

/** The outputs of verify, switch and preflight; `reportPath` is empty when the report could not be written. */
export function setCheckOutputs(result: CheckResult, reportPath: string, clean: (s: string) => string): void {
  core.setOutput(Outputs.ReportPath, reportPath);
  // They describe a verify this run made: not set when it verified nothing (a switch recorded before, or
  // one whose final backfill failed) or was cancelled, rather than claiming "not in sync, 0 differences".
  if (result.verify.length && !result.cancelled) {
    core.setOutput(Outputs.InSync, String(result.inSync ?? false));
    core.setOutput(Outputs.Differences, String(result.differences ?? 0));
  }
  if (result.mode === "verify" && !result.cancelled)
    core.setOutput(Outputs.Repaired, String(result.repaired ?? false));
  if (result.mode === "switch") {
    core.setOutput(Outputs.Ready, String(result.ready ?? false));
    core.setOutput(Outputs.SwitchedAt, result.switchedAt ?? "");
    // A switch runs a backfill first: its figures, as a backfill step would give them.
    if (result.backfill) setCopyOutputs(result.backfill);
  }
  core.setOutput(Outputs.ResultJson, clean(JSON.stringify(result)));
}
