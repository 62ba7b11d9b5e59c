// The GitHub Action: inputs → one validated config → the engine, with watermarks kept in a state
// store, each table in a log group, a job summary and outputs. Knows nothing of how entities move.
import * as core from "@actions/core";
import { buildConfig, ConfigError, type RawInputs, type SyncConfig } from "../config/schema.js";
import { mergeInputs, readDmtFile } from "../config/dmt.js";
import { redact, secretsOf } from "../engine/redact.js";
import { entitiesPerSecond, tableSucceeded, type TableResult } from "../engine/result.js";
import { runSync, type EngineConfig, type TableSpec } from "../engine/sync.js";
import { planTable } from "../engine/plan.js";
import {
  advanceWatermark,
  emptyState,
  oldestWatermark,
  StateError,
  tableKey,
  type State,
} from "../state/state.js";
import type { StateStore } from "../state/store.js";
import { createStateStore } from "./stores.js";
import { createCredential } from "./credentials.js";
import { Inputs, Outputs } from "./constants.js";
import { buildSummary, type TableReport } from "./summary.js";

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

function engineConfig(config: SyncConfig): EngineConfig {
  const credential =
    config.source.endpoint || config.destination.endpoint ? createCredential(config.auth) : undefined;
  return {
    source: { ...config.source, credential },
    destination: { ...config.destination, credential },
    tables: config.tables,
    writeMode: config.writeMode,
    propertyRenames: config.propertyRenames,
    queryFilter: config.queryFilter,
    concurrency: config.concurrency,
    createTables: config.createTables,
    dryRun: config.dryRun,
    maxFailuresKept: config.maxFailuresKept,
  };
}

export interface RunDeps {
  /** Tests hand in a store; the action builds one from its inputs. */
  store?: StateStore;
  env?: NodeJS.ProcessEnv;
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

    let state: State = (await store.load()) ?? emptyState();

    const reports: TableReport[] = [];
    let lastProgress = 0;
    const result = await runSync(engineConfig(config), {
      // A table without a watermark fails alone (with the sentence saying what to do); the others go on.
      plan: (spec: TableSpec) => planTable(config, state, spec),
      onTableStart: (spec, plan) => {
        core.startGroup(`${spec.source}${spec.destination !== spec.source ? ` → ${spec.destination}` : ""}`);
        core.info(plan.filter ? `Filter: ${plan.filter}` : "Reading the whole table.");
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
      onTableEnd: async (r: TableResult) => {
        const key = tableKey(r);
        const before = state.tables[key]?.watermark;
        const report: TableReport = { result: r, watermarkBefore: before };
        core.info(
          `${r.read} read, ${r.written} written, ${r.skipped} skipped, ${r.failed} failed in ${(r.durationMs / 1000).toFixed(1)} s (${entitiesPerSecond(r.read, r.durationMs)}/s).`,
        );
        if (r.error) core.error(clean(`Table ${r.source}: ${r.error}`), { title: `table-sync: ${r.source}` });
        for (const f of r.failures.slice(0, 10)) {
          core.error(
            clean(`Table ${r.source}, PartitionKey '${f.partitionKey}', RowKey '${f.rowKey}': ${f.message}`),
            {
              title: `table-sync: entity not written`,
            },
          );
        }
        if (config.dryRun) {
          report.watermarkAfter = before;
          report.note = "dry run";
        } else {
          const next = advanceWatermark(state, key, r, { mode: config.mode });
          report.watermarkAfter = next.tables[key]?.watermark;
          report.note = tableSucceeded(r) ? undefined : "kept: the table had failures";
          // Saved after each table that moved, so a failure later keeps this table's progress.
          if (next !== state) {
            state = next;
            await store.save(state);
          }
        }
        reports.push(report);
        core.endGroup();
      },
    });

    const lastSync = oldestWatermark(
      state,
      config.tables.map((t) => tableKey(t)),
    );
    core.setOutput(Outputs.LastSyncUtc, lastSync ?? "");
    core.setOutput(Outputs.EntitiesRead, String(result.totals.read));
    core.setOutput(Outputs.EntitiesWritten, String(result.totals.written));
    core.setOutput(Outputs.EntitiesFailed, String(result.totals.failed));
    core.setOutput(
      Outputs.ResultJson,
      clean(
        JSON.stringify({
          mode: config.mode,
          dryRun: config.dryRun,
          lastSyncUtc: lastSync ?? null,
          totals: result.totals,
          tables: reports.map((r) => ({
            ...r.result,
            watermarkBefore: r.watermarkBefore ?? null,
            watermarkAfter: r.watermarkAfter ?? null,
          })),
        }),
      ),
    );
    await core.summary
      .addRaw(
        clean(
          buildSummary({
            mode: config.mode,
            dryRun: config.dryRun,
            tables: reports,
            notices,
            stateDescription: store.describe(),
          }),
        ),
      )
      .write();
    if (result.totals.tablesFailed > 0) {
      core.setFailed(
        clean(
          `${result.totals.failed} entities failed and ${result.totals.tablesFailed} of ${result.totals.tables} tables did not complete; their watermarks were not advanced (see the job summary).`,
        ),
      );
    }
  } catch (err) {
    const message = err instanceof ConfigError || err instanceof StateError ? err.message : describe(err);
    core.setFailed(clean(message));
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
