// verify, switch and preflight: progress lines, the text report, the JSON report, the exit code.
import type { SyncConfig } from "../config/schema.js";
import type { EngineConfig, TableSpec } from "../engine/copy/run-config.js";
import {
  cancelledCheck,
  runPreflight,
  runSwitch,
  runVerify,
  writeCheckReport,
  type CheckEvents,
  type CheckResult,
} from "../engine/steps/index.js";
import type { StateStore } from "../state/store.js";
import { duration, num } from "../present/figures.js";
import { EXIT_FAILED, EXIT_OK, cancelExitCode } from "./exit-codes.js";
import { formatCheck } from "./check-report.js";
import { reportWriteFailure } from "./report-path.js";
import { everyProgressInterval, type RunContext } from "./run-context.js";

export async function runCheckCommand(
  config: SyncConfig,
  engine: EngineConfig,
  store: StateStore | undefined,
  reportPath: string,
  ctx: RunContext,
): Promise<number> {
  const { err, deps } = ctx;
  const command = config.mode as "verify" | "switch" | "preflight";
  let current: { table: string; what: string; started: number; text?: string } | undefined;
  const stopProgress = everyProgressInterval(ctx, () => {
    if (current?.text) {
      err(
        `[${current.table}] ${current.what}: ${current.text}, ${duration(Date.now() - current.started)} elapsed\n`,
      );
    }
  });
  const checkDeps = { store, source: engine.source, destination: engine.destination, retry: engine.retry };
  const events: CheckEvents = {
    signal: deps.signal,
    onTableStart: (spec: TableSpec, what: string) => {
      current = { table: spec.source, what, started: Date.now() };
      err(`[${spec.source}] ${what}…\n`);
    },
    onProgress: (text: string) => {
      if (!current) return;
      // "orders: scan, 12000 source / 11000 destination entities" → "scan, 12,000 source / 11,000 destination entities"
      const own = `${current.table}: `;
      current.text = (text.startsWith(own) ? text.slice(own.length) : text).replace(/\b\d{4,}\b/g, (n) =>
        num(Number(n)),
      );
    },
    onTableEnd: () => {
      current = undefined;
    },
  };
  let result: CheckResult;
  try {
    result =
      command === "verify"
        ? await runVerify(config, checkDeps, events)
        : command === "switch"
          ? await runSwitch(config, checkDeps, events)
          : await runPreflight(config, checkDeps, events);
  } finally {
    stopProgress();
  }
  // A cancel gives no verdict, unless the switch was already recorded when it came.
  const report = cancelledCheck(result, deps.signal);
  const cancelled = report.cancelled === true;
  let writeError: unknown;
  try {
    await writeCheckReport(reportPath, report);
  } catch (e) {
    writeError = e;
  }
  if (ctx.json) ctx.out(JSON.stringify(report, null, 2) + "\n");
  (ctx.json ? err : ctx.out)(
    "\n" + formatCheck(result, writeError === undefined ? reportPath : undefined, { cancelled }),
  );
  if (writeError !== undefined) err(`table-sync: ${reportWriteFailure(reportPath, writeError)}\n`);
  if (deps.signal?.aborted) {
    if (!cancelled) err(`The cancel came after switched-at was recorded: the switch stands.\n`);
    return cancelExitCode(deps.cancel);
  }
  if (writeError !== undefined) return EXIT_FAILED;
  return result.ok ? EXIT_OK : EXIT_FAILED;
}
