// verify, switch and preflight: one log group per phase (a switch: final backfill, then verify), the JSON
// report, the outputs, the annotations and the job summary. A cancel gives no verdict.
import * as core from "@actions/core";
import type { SyncConfig } from "../config/schema.js";
import type { TableResult } from "../engine/copy/result.js";
import {
  cancelledCheck,
  runPreflight,
  runSwitch,
  runVerify,
  writeCheckReport,
  type CheckEvents,
  type CheckResult,
  type MigrationDeps,
} from "../engine/steps/index.js";
import { tablesCount } from "../present/figures.js";
import { annotateCheck, annotateTable } from "./annotations.js";
import { PROGRESS_INTERVAL_MS, ProgressThrottle, endLine, tag } from "./log.js";
import { setCheckOutputs } from "./outputs.js";
import { reportWriteFailure } from "./report-path.js";
import type { StepContext } from "./step-context.js";
import { buildCheckSummary } from "./summary.js";

/** The engine's copy of a table ended (a switch's final backfill hands its CheckEvents the TableResult). */
function isTableResult(x: unknown): x is TableResult {
  const r = x as Partial<TableResult>;
  return typeof r?.read === "number" && Array.isArray(r.failures) && Array.isArray(r.conflictDetails);
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export async function runCheckStep(
  config: SyncConfig,
  deps: MigrationDeps,
  reportPath: string,
  ctx: StepContext,
): Promise<void> {
  const { notices, clean, scrub, groups } = ctx;
  const throttle = new ProgressThrottle(PROGRESS_INTERVAL_MS);
  // What each table is doing (a switch: final backfill, then verify), for its end line.
  const doing = new Map<string, string>();
  const events: CheckEvents = {
    // A cancel (or the job's time-out) stops the check between pages instead of the runner killing it.
    signal: ctx.signal,
    onTableStart: (spec, what) => {
      groups.phase(`${capitalize(what)}: ${tablesCount(config.tables.length)}`);
      doing.set(tag(spec), what);
      throttle.start("check");
      groups.line(clean(`${tag(spec)} ${what} started.`));
    },
    onTableEnd: (spec) => {
      const what = doing.get(tag(spec)) ?? config.mode;
      if (isTableResult(spec)) {
        groups.line(clean(endLine(spec, what)));
        annotateTable(spec, clean);
      } else groups.line(clean(`${tag(spec)} ${what} done.`));
    },
    onProgress: (text) => {
      if (throttle.due("check")) groups.line(clean(text));
    },
  };
  let checked: CheckResult;
  try {
    checked =
      config.mode === "verify"
        ? await runVerify(config, deps, events)
        : config.mode === "switch"
          ? await runSwitch(config, deps, events)
          : await runPreflight(config, deps, events);
  } finally {
    groups.close();
  }
  // Cancelled: no verdict, unless the switch was recorded before the cancel came.
  const result = cancelledCheck(checked, ctx.signal);
  if (ctx.signal?.aborted && !result.cancelled)
    core.warning("The cancel came after switched-at was recorded: the switch stands.");
  result.notices.unshift(...notices);
  const scrubbed = scrub(result);
  let reportProblem: string | undefined;
  try {
    await writeCheckReport(reportPath, scrubbed);
  } catch (err) {
    // Outputs and summary still come: a switch that is recorded must not lose its ready/switched-at.
    reportProblem = clean(reportWriteFailure(reportPath, err));
  }
  setCheckOutputs(result, reportProblem ? "" : reportPath, clean);
  annotateCheck(result, config.repair, clean);
  await core.summary
    .addRaw(clean(buildCheckSummary(scrubbed, reportProblem ? undefined : reportPath, reportProblem)))
    .write();
  if (!result.ok) core.setFailed(clean(result.failure ?? `${result.mode} failed.`));
  if (reportProblem) core.setFailed(reportProblem);
}
