// One run: every table of the config, several at once, sharing the run's flow control.
import { describeError } from "../wire/errors.js";
import { totals, type TableResult } from "./result.js";
import { connect } from "./connect.js";
import { copyTable, emptyResult } from "./copy-table.js";
import { MemoryBudget } from "./memory.js";
import {
  DEFAULT_TABLES_AT_ONCE,
  type EngineConfig,
  type RunHooks,
  type RunResult,
  type TablePlan,
  type TableSpec,
} from "./run-config.js";

/** Copy every table of the config. A failure in one table never stops the others. */
export async function runSync(config: EngineConfig, hooks: RunHooks = {}): Promise<RunResult> {
  const started = Date.now();
  // Requests in flight finish (for a grace period) after the signal, so the pages read can be written
  // and checkpointed; the engine itself stops after the current page.
  const http = new AbortController();
  const signal = hooks.signal;
  let grace: NodeJS.Timeout | undefined;
  const onAbort = () => {
    grace ??= setTimeout(() => http.abort(), config.cancelGraceMs ?? 5_000);
    grace.unref?.();
  };
  if (signal?.aborted) onAbort();
  else signal?.addEventListener("abort", onAbort, { once: true });
  const memory = new MemoryBudget();
  memory.start();
  try {
    return await runTables(config, hooks, http.signal, started);
  } finally {
    memory.stop();
    signal?.removeEventListener("abort", onAbort);
    if (grace) clearTimeout(grace);
  }
}

async function runTables(
  config: EngineConfig,
  hooks: RunHooks,
  httpSignal: AbortSignal,
  started: number,
): Promise<RunResult> {
  const conn = connect(config, httpSignal);
  const results: (TableResult | undefined)[] = new Array(config.tables.length);
  /** Plan, copy and hand over one table. A failure in one table never stops the others. */
  const one = async (spec: TableSpec, i: number) => {
    let plan: TablePlan | null;
    try {
      plan = hooks.plan
        ? await hooks.plan(spec, { sourceKind: conn.source.kind })
        : { filter: config.queryFilter };
    } catch (err) {
      // A table that cannot be planned (e.g. a backfill without a watermark) fails alone.
      const result = { ...emptyResult(spec), error: describeError(err) };
      results[i] = result;
      await hooks.onTableEnd?.(result);
      return;
    }
    if (plan === null) return;
    hooks.onTableStart?.(spec, plan);
    const result = await copyTable(conn, config, spec, plan, hooks);
    results[i] = result;
    await hooks.onTableEnd?.(result);
  };
  // Several tables at once: they share the run's flow control, so together they keep `concurrency`
  // transactions in flight (a small table no longer leaves the destination idle while the next one starts).
  const width = Math.max(1, Math.min(config.tables.length, config.tablesAtOnce ?? DEFAULT_TABLES_AT_ONCE));
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < config.tables.length && !hooks.signal?.aborted) {
        const i = next++;
        await one(config.tables[i], i);
      }
    }),
  );
  const done = results.filter((r): r is TableResult => r !== undefined);
  return {
    tables: done,
    totals: totals(done, Date.now() - started),
    sourceKind: conn.source.kind,
    destinationKind: conn.destination.kind,
  };
}
