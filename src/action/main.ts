// The GitHub Action: inputs → one validated config → the engine's migration step, with watermarks in
// a state store, each table in a log group, a job summary and outputs. Knows nothing of how entities move.
import * as core from "@actions/core";
import { buildConfig, ConfigError, type RawInputs, type SyncConfig } from "../config/schema.js";
import { mergeInputs, readDmtFile } from "../config/dmt.js";
import { ConnectionError } from "../engine/connection.js";
import { redact, secretsOf } from "../engine/redact.js";
import { entitiesPerSecond } from "../engine/result.js";
import {
  runCopy,
  runPreflight,
  runSwitch,
  runVerify,
  writeCheckReport,
  type CheckResult,
  type MigrationDeps,
  type MigrationResult,
} from "../engine/migrate.js";
import { join, resolve } from "node:path";
import { StateError } from "../state/state.js";
import type { StateStore } from "../state/store.js";
import { createStateStore } from "./stores.js";
import { createCredential } from "./credentials.js";
import { Inputs, Outputs } from "./constants.js";
import { buildCheckSummary, buildSummary } from "./summary.js";

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

function setOutputs(result: MigrationResult): void {
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

export async function run(deps: RunDeps = {}): Promise<void> {
  const env = deps.env ?? process.env;
  let secrets: string[] = [];
  const clean = (s: string) => redact(s, secrets);
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
    const store = deps.store ?? createStateStore(config, env, notices);
    for (const n of notices) core.notice(clean(n));

    if (config.mode === "verify" || config.mode === "switch" || config.mode === "preflight") {
      await runCheck(config, { store, ...sides(config) }, env, notices, clean);
      return;
    }
    let lastProgress = 0;
    let groupOpen = false;
    const result = await runCopy(
      config,
      { store, ...sides(config) },
      {
        signal: deps.signal,
        onNotice: (text) => core.info(clean(text)),
        onCheckpoint: (spec, cp) =>
          core.debug(`${spec.source}: checkpoint at ${cp.continuation.nextPartitionKey} (${cp.read} read)`),
        onTableStart: (spec, plan) => {
          core.startGroup(
            `${spec.source}${spec.destination !== spec.source ? ` → ${spec.destination}` : ""}`,
          );
          groupOpen = true;
          core.info(plan.filter ? `Filter: ${plan.filter}` : "Reading the whole table.");
          if (plan.guard)
            core.info(`Switched at ${plan.guard.switchedAt}: the app's writes on the destination are kept.`);
          lastProgress = Date.now();
        },
        onProgress: (p) => {
          const now = Date.now();
          if (now - lastProgress < PROGRESS_INTERVAL_MS) return;
          lastProgress = now;
          core.info(
            `${p.table}: ${p.read} read, ${p.written} written, ${p.skipped} skipped, ${p.failed} failed`,
          );
        },
        onTableEnd: (report) => {
          const r = report.result;
          if (groupOpen) {
            core.info(
              `${r.read} read, ${r.written} written, ${r.skipped} skipped, ${r.failed} failed in ${(r.durationMs / 1000).toFixed(1)} s (${entitiesPerSecond(r.read, r.durationMs)}/s).`,
            );
          }
          if (r.error)
            core.error(clean(`Table ${r.source}: ${r.error}`), { title: `table-sync: ${r.source}` });
          for (const f of r.failures.slice(0, 10)) {
            core.error(
              clean(
                `Table ${r.source}, PartitionKey '${f.partitionKey}', RowKey '${f.rowKey}': ${f.message}`,
              ),
              {
                title: "table-sync: entity not written",
              },
            );
          }
          for (const c of r.conflictDetails.slice(0, 10)) {
            core.warning(
              clean(
                `Table ${r.source}, PartitionKey '${c.partitionKey}', RowKey '${c.rowKey}': ${c.message}`,
              ),
              {
                title: "table-sync: conflict kept",
              },
            );
          }
          if (groupOpen) core.endGroup();
          groupOpen = false;
        },
      },
    );
    result.notices.unshift(...notices);
    setOutputs(result);
    core.setOutput(Outputs.ResultJson, clean(resultJson(result)));
    await core.summary
      .addRaw(
        clean(
          buildSummary({
            mode: result.mode,
            dryRun: result.dryRun,
            tables: result.tables,
            notices: result.notices,
            lagSeconds: result.lagSeconds,
            stateDescription: store.describe(),
          }),
        ),
      )
      .write();
    if (!result.ok) core.setFailed(clean(`${result.failure ?? "The run failed."} See the job summary.`));
  } catch (err) {
    const known = err instanceof ConfigError || err instanceof StateError || err instanceof ConnectionError;
    core.setFailed(clean(known ? err.message : describe(err)));
  }
}

async function runCheck(
  config: SyncConfig,
  deps: MigrationDeps,
  env: NodeJS.ProcessEnv,
  notices: string[],
  clean: (s: string) => string,
): Promise<void> {
  let lastProgress = 0;
  const events = {
    onTableStart: (spec: { source: string; destination: string }, what: string) => {
      core.startGroup(
        `${what}: ${spec.source}${spec.destination !== spec.source ? ` → ${spec.destination}` : ""}`,
      );
      lastProgress = Date.now();
    },
    onTableEnd: () => core.endGroup(),
    onProgress: (text: string) => {
      if (Date.now() - lastProgress < PROGRESS_INTERVAL_MS) return;
      lastProgress = Date.now();
      core.info(text);
    },
  };
  const result: CheckResult =
    config.mode === "verify"
      ? await runVerify(config, deps, events)
      : config.mode === "switch"
        ? await runSwitch(config, deps, events)
        : await runPreflight(config, deps, events);
  result.notices.unshift(...notices);
  const reportPath = resolve(config.reportPath ?? join(env.RUNNER_TEMP || ".", "table-sync-report.json"));
  await writeCheckReport(reportPath, JSON.parse(clean(JSON.stringify(result))) as CheckResult);
  core.setOutput(Outputs.ReportPath, reportPath);
  if (result.mode !== "preflight") {
    core.setOutput(Outputs.InSync, String(result.inSync ?? false));
    core.setOutput(Outputs.Differences, String(result.differences ?? 0));
  }
  if (result.mode === "switch") {
    core.setOutput(Outputs.Ready, String(result.ready ?? false));
    core.setOutput(Outputs.SwitchedAt, result.switchedAt ?? "");
  }
  core.setOutput(Outputs.ResultJson, clean(JSON.stringify(result)));
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
  await core.summary.addRaw(clean(buildCheckSummary(result, reportPath))).write();
  if (!result.ok) core.setFailed(clean(result.failure ?? `${result.mode} failed.`));
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message.split("\n")[0];
  return String(err);
}
