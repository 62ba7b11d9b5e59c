// full-sync and backfill: the copy step in one log group (a line per table's start, progress and end, its
// annotations), then the outputs and the job summary (with a backfill's lag history as stored after it).
import * as core from "@actions/core";
import type { SyncConfig } from "../config/schema.js";
import { runCopy, type MigrationDeps, type MigrationResult } from "../engine/steps/index.js";
import { decodeHistory } from "../state/history.js";
import { tableKey } from "../state/table-key.js";
import type { StateStore } from "../state/store.js";
import { tablesCount } from "../present/figures.js";
import { tableLabel } from "../present/names.js";
import { etaText } from "../present/progress.js";
import { annotateTable } from "./annotations.js";
import { Outputs } from "./constants.js";
import { PROGRESS_INTERVAL_MS, ProgressThrottle, endLine, tag } from "./log.js";
import { resultJson, setCopyOutputs } from "./outputs.js";
import type { StepContext } from "./step-context.js";
import { buildSummary, type SummaryInput } from "./summary.js";

export async function runCopyStep(
  config: SyncConfig,
  deps: MigrationDeps & { store: StateStore },
  ctx: StepContext,
): Promise<void> {
  const { clean, scrub, groups, notices } = ctx;
  const { store } = deps;
  const throttle = new ProgressThrottle(PROGRESS_INTERVAL_MS);
  const specOf = (source: string) =>
    config.tables.find((t) => t.source === source) ?? { source, destination: source };
  const inRanges = !config.shard && config.readRanges > 1;
  groups.phase(
    `${config.mode === "full-sync" ? "Full sync" : "Backfill"}${config.shard ? ` (shard ${config.shard.index}/${config.shard.count})` : ""}: ${tablesCount(config.tables.length)}`,
  );
  let result: MigrationResult;
  try {
    result = await runCopy(config, deps, {
      signal: ctx.signal,
      onNotice: (text) => groups.line(clean(text)),
      // The continuation token is opaque (and may carry keys): name the position by its count.
      onCheckpoint: (spec, cp) =>
        core.debug(
          clean(
            `${tag(spec)} checkpoint saved after ${cp.read} entities read${inRanges ? " in one of its key ranges" : ""}; a resumed full sync goes on from there.`,
          ),
        ),
      onTableStart: (spec, plan) => {
        throttle.start(spec.source);
        const resume = plan.resume ? `resuming after its first ${plan.resume.read} entities, ` : "";
        const what = plan.filter ? `filter ${plan.filter}` : "reading the whole table";
        groups.line(clean(`${tag(spec)} started: ${resume}${what}.`));
        if (plan.guard) {
          groups.line(
            clean(
              `${tag(spec)} switched at ${plan.guard.switchedAt}: the app's writes on the destination are kept.`,
            ),
          );
        }
      },
      onProgress: (p) => {
        if (!throttle.due(p.table)) return;
        const rate = p.eta ? `: ${etaText(p.eta)}` : p.perSecond !== undefined ? `, ${p.perSecond}/s` : "";
        groups.line(
          clean(
            `${tag(specOf(p.table))} ${p.read} read, ${p.written} written, ${p.skipped} skipped, ${p.failed} failed${rate}`,
          ),
        );
      },
      onTableEnd: (report) => {
        groups.line(clean(endLine(report.result)));
        annotateTable(report.result, clean);
      },
    });
  } finally {
    groups.close();
  }
  result.notices.unshift(...notices);
  setCopyOutputs(result);
  core.setOutput(Outputs.ResultJson, clean(resultJson(result)));
  const summary: SummaryInput = {
    mode: result.mode,
    dryRun: result.dryRun,
    tables: result.tables,
    notices: result.notices,
    lagSeconds: result.lagSeconds,
    stateDescription: store.describe(),
  };
  if (result.mode === "backfill" && !result.dryRun) {
    // The lag history as stored after this run (one more point per table that completed).
    const saved = await store.load().catch(() => undefined);
    summary.lagHistories = config.tables.map((t) => ({
      table: tableLabel(t),
      points: decodeHistory(saved?.tables[tableKey(t)]?.history),
    }));
  }
  await core.summary.addRaw(clean(buildSummary(scrub(summary)))).write();
  if (!result.ok) core.setFailed(clean(`${result.failure ?? "The run failed."} See the job summary.`));
}
