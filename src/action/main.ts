// The GitHub Action: inputs → one validated config → the engine's migration step, with watermarks in
// a state store, one log group per phase, a job summary and outputs. Knows nothing of how entities move.
import * as core from "@actions/core";
import { buildConfig, ConfigError, type RawInputs, type SyncConfig } from "../config/schema.js";
import { mergeInputs, readDmtFile } from "../config/dmt.js";
import { ConnectionError } from "../engine/wire/connection.js";
import { redact, secretsOf } from "../engine/wire/redact.js";
import { entitiesPerSecond } from "../engine/copy/result.js";
import {
  cancelledCheck,
  runCopy,
  runPreflight,
  runSwitch,
  runVerify,
  writeCheckReport,
  type CheckEvents,
  type CheckResult,
  type MigrationDeps,
  type MigrationResult,
} from "../engine/steps/index.js";
import type { TableResult } from "../engine/copy/result.js";
import { StateError, tableKey } from "../state/state.js";
import { decodeHistory } from "../state/history.js";
import { runStatus } from "../engine/steps/index.js";
import { etaText } from "../present/progress.js";
import { buildStatusSummary } from "./status-summary.js";
import type { StateStore } from "../state/store.js";
import { createStateStore } from "./stores.js";
import { authProblem, createCredential } from "./credentials.js";
import { Inputs, Outputs } from "./constants.js";
import { PhaseGroups, ProgressThrottle, tag } from "./log.js";
import { reportPathOf, reportPathProblem, reportWriteFailure } from "./report-path.js";
import { buildCheckSummary, buildSummary, passedWithDifferences, type SummaryInput } from "./summary.js";
import { counted, tablesCount } from "../present/figures.js";
import { entityMessage, tableLabel, tableMessage } from "../present/names.js";

const PROGRESS_INTERVAL_MS = 10_000;

function readInputs(): RawInputs {
  const raw: RawInputs = {};
  for (const name of Object.values(Inputs)) {
    // Multiline inputs (tables, renames) keep their newlines; splitting is the config's job.
    (raw as Record<string, string>)[name] = core.getInput(name);
  }
  return raw;
}

/** Mask every credential before anything can print it. */
function maskSecrets(raw: RawInputs): string[] {
  const secrets = [
    ...secretsOf(raw[Inputs.SourceConnectionString]),
    ...secretsOf(raw[Inputs.DestinationConnectionString]),
    ...(raw[Inputs.GithubToken] ? [raw[Inputs.GithubToken]] : []),
  ].filter((s): s is string => !!s);
  const unique = [...new Set(secrets)];
  for (const s of unique) core.setSecret(s);
  return unique;
}

function sides(config: SyncConfig): Pick<MigrationDeps, "source" | "destination"> {
  const credential =
    config.source.endpoint || config.destination.endpoint ? createCredential(config.auth) : undefined;
  return {
    source: { ...config.source, credential },
    destination: { ...config.destination, credential },
  };
}

export interface RunDeps {
  /** Tests hand in a store; the action builds one from its inputs. */
  store?: StateStore;
  env?: NodeJS.ProcessEnv;
  /** Aborted on SIGINT/SIGTERM (cancel, time-out): the copy stops after the current page and checkpoints. */
  signal?: AbortSignal;
}

/** The copy's outputs: full-sync, backfill, and the final backfill of a switch. */
function setCopyOutputs(result: MigrationResult): void {
  core.setOutput(Outputs.LastSyncUtc, result.lastSyncUtc ?? "");
  core.setOutput(Outputs.EntitiesRead, String(result.totals.read));
  core.setOutput(Outputs.EntitiesWritten, String(result.totals.written));
  core.setOutput(Outputs.EntitiesFailed, String(result.totals.failed));
  if (result.lagSeconds !== undefined) core.setOutput(Outputs.LagSeconds, String(result.lagSeconds));
  if (result.changedEntities !== undefined)
    core.setOutput(Outputs.ChangedEntities, String(result.changedEntities));
}

function resultJson(result: MigrationResult): string {
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

/** The engine's copy of a table ended (a switch's final backfill hands its CheckEvents the TableResult). */
function isTableResult(x: unknown): x is TableResult {
  const r = x as Partial<TableResult>;
  return typeof r?.read === "number" && Array.isArray(r.failures) && Array.isArray(r.conflictDetails);
}

/** A table's last line: `[orders] done: 250 read, 250 written, … in 1.2 s (208/s).` */
function endLine(r: TableResult, what?: string): string {
  const figures = `${r.read} read, ${r.written} written, ${r.skipped} skipped, ${r.failed} failed${r.conflicts ? `, ${r.conflicts} conflicts kept` : ""} in ${(r.durationMs / 1000).toFixed(1)} s (${entitiesPerSecond(r.read, r.durationMs)}/s)`;
  const label = what ? `${what} ` : "";
  return r.error
    ? `${tag(r)} ${label}did not complete: ${figures}; see the error below.`
    : `${tag(r)} ${label}done: ${figures}.`;
}

/** A copied table's annotations: its error, its first failed entities and the conflicts kept. */
function annotateTable(r: TableResult, clean: (s: string) => string): void {
  if (r.error) core.error(clean(tableMessage(r.source, r.error)), { title: `table-sync: ${r.source}` });
  for (const f of r.failures.slice(0, 10)) {
    core.error(clean(entityMessage(r.source, f.partitionKey, f.rowKey, f.message)), {
      title: "table-sync: entity not written",
    });
  }
  for (const c of r.conflictDetails.slice(0, 10)) {
    core.warning(clean(entityMessage(r.source, c.partitionKey, c.rowKey, c.message)), {
      title: "table-sync: conflict kept",
    });
  }
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export async function run(deps: RunDeps = {}): Promise<void> {
  const env = deps.env ?? process.env;
  let secrets: string[] = [];
  const clean = (s: string) => redact(s, secrets);
  /** A copy of `value` with every secret scrubbed (before Markdown escaping could hide one from `clean`). */
  const scrub = <T>(value: T): T => JSON.parse(clean(JSON.stringify(value))) as T;
  const groups = new PhaseGroups();
  try {
    let raw = readInputs();
    secrets = maskSecrets(raw);
    const notices: string[] = [];
    const configFile = raw[Inputs.ConfigFile]?.trim();
    if (configFile) {
      const dmt = readDmtFile(configFile);
      secrets.push(...maskSecrets(dmt.inputs));
      raw = mergeInputs(raw, dmt.inputs);
      notices.push(...dmt.notices);
    }
    const config = buildConfig(raw);
    const auth = authProblem(config.auth, !!(config.source.endpoint || config.destination.endpoint), env);
    if (auth) throw new ConfigError(auth);
    const checking = config.mode === "verify" || config.mode === "switch" || config.mode === "preflight";
    // Checked before any work: found out at the end, a switch would already be recorded.
    const reportPath = checking ? reportPathOf(config, env) : undefined;
    const reportProblem = reportPath && reportPathProblem(reportPath, config.reportPath);
    if (reportProblem) throw new ConfigError(reportProblem);
    const store = deps.store ?? createStateStore(config, env, notices);
    for (const n of notices) core.notice(clean(n));

    if (config.mode === "status") {
      // Reads the state (and the source's clock); writes nothing.
      const status = await runStatus(config, { store, source: sides(config).source, signal: deps.signal });
      status.notices.unshift(...notices);
      core.setOutput(Outputs.ResultJson, clean(JSON.stringify(status)));
      await core.summary.addRaw(clean(buildStatusSummary(scrub(status)))).write();
      if (!status.ok) core.setFailed(clean(status.failure ?? "No state was found."));
      return;
    }
    if (reportPath) {
      await runCheck(
        config,
        { store, ...sides(config) },
        { reportPath, notices, clean, scrub, groups, signal: deps.signal },
      );
      return;
    }
    const throttle = new ProgressThrottle(PROGRESS_INTERVAL_MS);
    const specOf = (source: string) =>
      config.tables.find((t) => t.source === source) ?? { source, destination: source };
    const inRanges = !config.shard && config.readRanges > 1;
    groups.phase(
      `${config.mode === "full-sync" ? "Full sync" : "Backfill"}${config.shard ? ` (shard ${config.shard.index}/${config.shard.count})` : ""}: ${tablesCount(config.tables.length)}`,
    );
    let result: MigrationResult;
    try {
      result = await runCopy(
        config,
        { store, ...sides(config) },
        {
          signal: deps.signal,
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
            const rate = p.eta
              ? `: ${etaText(p.eta)}`
              : p.perSecond !== undefined
                ? `, ${p.perSecond}/s`
                : "";
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
        },
      );
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
  } catch (err) {
    groups.close();
    const known = err instanceof ConfigError || err instanceof StateError || err instanceof ConnectionError;
    const message = known ? err.message : describe(err);
    // Whatever stopped half-way after a cancel is the cancel's doing: said as such, with no verdict.
    core.setFailed(
      clean(deps.signal?.aborted ? `Cancelled before the step finished (${message}).` : message),
    );
  }
}

interface CheckContext {
  reportPath: string;
  notices: string[];
  clean: (s: string) => string;
  scrub: <T>(value: T) => T;
  groups: PhaseGroups;
  signal?: AbortSignal;
}

/** The outputs of verify, switch and preflight; `reportPath` is empty when the report could not be written. */
function setCheckOutputs(result: CheckResult, reportPath: string, clean: (s: string) => string): void {
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

async function runCheck(config: SyncConfig, deps: MigrationDeps, ctx: CheckContext): Promise<void> {
  const { reportPath, notices, clean, scrub, groups } = ctx;
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
  for (const v of result.verify) {
    for (const d of v.differentSamples.slice(0, 10)) {
      core.warning(
        clean(
          `Table ${v.source}, PartitionKey '${d.partitionKey}', RowKey '${d.rowKey}' differs in ${d.properties.join(", ")}.`,
        ),
        {
          title: "table-sync: different",
        },
      );
    }
  }
  for (const p of result.preflight)
    for (const b of p.blocking) core.error(clean(b), { title: `table-sync preflight: ${p.table}` });
  if (passedWithDifferences(result)) {
    const n = result.differences ?? 0;
    const entities = counted(n, "entity", "entities");
    core.warning(
      clean(
        config.repair
          ? `The tables still differ after repair (${entities} differed before it; see the job summary); the step passes only because fail-on-difference is false.`
          : `The destination differs from the source in ${entities}; the step passes only because fail-on-difference is false (run verify with 'repair: true' to copy them).`,
      ),
      { title: "table-sync: tables differ" },
    );
  }
  await core.summary
    .addRaw(clean(buildCheckSummary(scrubbed, reportProblem ? undefined : reportPath, reportProblem)))
    .write();
  if (!result.ok) core.setFailed(clean(result.failure ?? `${result.mode} failed.`));
  if (reportProblem) core.setFailed(reportProblem);
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message.split("\n")[0];
  return String(err);
}
