// full-sync and backfill: the copy step with progress lines on stderr, the summary (or --json) on stdout, each
// backfilled table's lag line, and the exit code.
import type { SyncConfig } from "../config/schema.js";
import { normalizeEndpoint, parseConnectionString } from "../engine/wire/connection.js";
import type { EngineConfig, TableSpec } from "../engine/copy/run-config.js";
import { runCopy, type MeteredProgress, type MigrationResult } from "../engine/steps/index.js";
import { tableKey } from "../state/table-key.js";
import type { StateStore } from "../state/store.js";
import { tablesCount } from "../present/figures.js";
import { cliMessage } from "./args.js";
import { cancelledWhy } from "./cancel.js";
import { EXIT_FAILED, EXIT_OK, cancelExitCode } from "./exit-codes.js";
import {
  formatSummary,
  isoSeconds,
  nextSince,
  progressLine,
  tableDoneLine,
  type RunResult,
} from "./report.js";
import { everyProgressInterval, type RunContext } from "./run-context.js";
import { lagLine } from "./status.js";

function sideUrl(side: SyncConfig["source"]): string {
  if (side.connectionString) return parseConnectionString(side.connectionString).url;
  return normalizeEndpoint(side.endpoint ?? "");
}

/** After a switch, what a copy does with the app's writes on the destination (--conflict). */
export function guardLine(guard: { switchedAt: string; policy: string }): string {
  return guard.policy === "source-wins"
    ? `switched at ${guard.switchedAt}: --conflict source-wins, so the source's version overwrites what the app wrote on the destination since.`
    : `switched at ${guard.switchedAt}: the app's writes on the destination are kept (--conflict skip).`;
}

export async function runCopyCommand(
  config: SyncConfig,
  engine: EngineConfig,
  store: StateStore | undefined,
  ctx: RunContext,
): Promise<number> {
  const { err, deps } = ctx;
  const command = config.mode;
  err(
    `${command}: ${tablesCount(config.tables.length)} from ${sideUrl(config.source)} to ${sideUrl(config.destination)}` +
      `${config.dryRun ? " (dry run: nothing is written)" : ""}.\n`,
  );

  let current: { spec: TableSpec; started: number; progress: MeteredProgress } | undefined;
  const stopProgress = everyProgressInterval(ctx, () => {
    if (current) err(progressLine(current.progress, Date.now() - current.started) + "\n");
  });

  let migration: MigrationResult;
  try {
    // The same step as the action: the same plan, watermark and post-switch rules.
    migration = await runCopy(
      config,
      {
        store,
        source: engine.source,
        destination: engine.destination,
        retry: engine.retry,
        checkpointIntervalMs: deps.checkpointIntervalMs,
      },
      {
        signal: deps.signal,
        onNotice: (text) => err(cliMessage(text) + "\n"),
        onTableStart: (spec, plan) => {
          current = {
            spec,
            started: Date.now(),
            progress: { table: spec.source, read: 0, written: 0, skipped: 0, failed: 0 },
          };
          err(
            `[${spec.source}] copying to ${spec.destination}${plan.filter ? ` where ${plan.filter}` : ""}…\n`,
          );
          if (plan.guard) err(`[${spec.source}] ${guardLine(plan.guard)}\n`);
        },
        onProgress: (p) => {
          if (current) current.progress = p;
        },
        onTableEnd: (report) => {
          current = undefined;
          err(tableDoneLine(report.result) + "\n");
        },
      },
    );
  } finally {
    stopProgress();
  }
  const result: RunResult = {
    tables: migration.tables.map((r) => r.result),
    totals: migration.totals,
    lagSeconds: migration.lagSeconds,
    changedEntities: migration.changedEntities,
    watermark: migration.lastSyncUtc,
  };

  const cancelled = deps.signal?.aborted ?? false;
  const summary = formatSummary(result, {
    command,
    dryRun: config.dryRun,
    overlapSeconds: config.overlapSeconds,
    cancelled,
  });
  if (ctx.json) {
    const since = cancelled || config.dryRun ? undefined : nextSince(result);
    ctx.out(
      JSON.stringify({ command, ...result, ...(since ? { nextSince: isoSeconds(since) } : {}) }, null, 2) +
        "\n",
    );
    err("\n" + summary);
  } else {
    ctx.out("\n" + summary);
  }
  if (command === "backfill" && store && !config.dryRun) {
    // Each table's lag over its last backfills (this one included), as the status command shows it.
    const saved = await store.load().catch(() => undefined);
    const lines = config.tables.flatMap((t) => lagLine(t, saved?.tables[tableKey(t)]?.history));
    if (lines.length) (ctx.json ? err : ctx.out)(lines.join("\n") + "\n");
  }
  if (cancelled) {
    const why = cancelledWhy(config, store) ?? migration.failure;
    if (why) err(`table-sync: ${cliMessage(why)}\n`);
    return cancelExitCode(deps.cancel);
  }
  return result.totals.failed > 0 || result.totals.tablesFailed > 0 ? EXIT_FAILED : EXIT_OK;
}
