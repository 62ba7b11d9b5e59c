// One run: for each table, read pages from the source, transform, and write transactions to the
// destination, reading ahead while earlier transactions are still in flight.
import { createServiceClient, type SideConfig, type ServiceKind } from "./connection.js";
import { ServiceError, TableMissingError } from "./errors.js";
import { DEFAULT_RETRY, TableHttp, type HttpResponse, type HttpStats, type RetryOptions } from "./http.js";
import { TableReader, type Continuation } from "./reader.js";
import { totals, type RunTotals, type TableResult } from "./result.js";
import { createTransformer, TransformError, type Rename, type Transformer } from "./transform.js";
import { operationFor, TableWriter, type WriteMode } from "./writer.js";
import { FlowControl } from "./rate.js";
import type { ConcurrencySetting } from "./window.js";
import { TaskPool } from "./pool.js";
import { Checkpointer, ResumeTracker, type PageMark } from "./checkpoints.js";
import {
  classifyGuarded,
  decide,
  ourWriteId,
  readDestinationEntity,
  type SwitchGuard,
} from "./post-switch.js";
import type { WireEntity } from "./edm.js";

export interface TableSpec {
  source: string;
  destination: string;
}

export interface EngineConfig {
  source: SideConfig;
  destination: SideConfig;
  tables: TableSpec[];
  writeMode: WriteMode;
  propertyRenames: Rename[];
  /** An extra OData filter for every table (ANDed with a backfill's watermark filter by the caller). */
  queryFilter?: string;
  /**
   * Requests in flight to the destination over the run (every table and key range shares them): `auto`
   * adapts the window (window.ts), a number caps it.
   */
  concurrency: ConcurrencySetting;
  /** Tables copied at the same time (default 4); they share the transactions in flight. */
  tablesAtOnce?: number;
  /** A hard cap on entities written per second over the whole run; undefined = none. */
  maxEntitiesPerSecond?: number;
  /** Create destination tables that do not exist. */
  createTables: boolean;
  /** Read and count only; write nothing. */
  dryRun: boolean;
  /** Failures kept per table for the report (all are counted). */
  maxFailuresKept: number;
  retry?: Partial<RetryOptions>;
  /**
   * With an `onCheckpoint` hook: milliseconds between checkpoints (a full sync's resume points). Undefined
   * checkpoints only when the run is cancelled.
   */
  checkpointIntervalMs?: number;
  /**
   * After the run's signal fires, how long requests already in flight may still finish (so the last pages can
   * be written and checkpointed) before they are aborted too. Default 5 000 ms: GitHub sends SIGKILL 10 s
   * after its first signal.
   */
  cancelGraceMs?: number;
}

/** A resume point: every entity before `continuation` is written. */
export interface CheckpointInfo {
  /** Where the next page starts. */
  continuation: Continuation;
  /** The source clock when the (first, for a resumed scan) scan began. */
  sourceClockAtStart: string;
  /** Entities read (and written, skipped or conflicting) before `continuation`, over every resumed run. */
  read: number;
  written: number;
}

export interface Progress {
  table: string;
  read: number;
  written: number;
  skipped: number;
  failed: number;
}

export interface TablePlan {
  /** The OData filter for this table's scan; undefined reads everything. */
  filter?: string;
  continuation?: Continuation;
  /** Resuming a checkpointed scan at `continuation`: when that scan began and what it had read. */
  resume?: { sourceClockAtStart: string; read: number; written: number };
  /** After the switch: read the destination first and never overwrite the app's writes. */
  guard?: SwitchGuard;
}

export interface RunHooks {
  /** Decide the filter for a table (watermarks live outside the engine). Return null to skip the table. */
  plan?(spec: TableSpec, ctx: { sourceKind: ServiceKind }): Promise<TablePlan | null> | TablePlan | null;
  onTableStart?(spec: TableSpec, plan: TablePlan): void;
  /** Called when a table is done, before the next starts: the place to save per-table state. */
  onTableEnd?(result: TableResult): Promise<void> | void;
  onProgress?(progress: Progress): void;
  /**
   * Save a resume point (awaited before the copy reads on). Called every `checkpointIntervalMs` and when the run
   * is cancelled, only after every entity before the continuation is written, never past a failed entity.
   */
  onCheckpoint?(spec: TableSpec, checkpoint: CheckpointInfo): Promise<void> | void;
  /** Stops the run after the current page (the table then ends with an error, after a last checkpoint). */
  signal?: AbortSignal;
}

export const CANCELLED = "the run was cancelled";

export const DEFAULT_TABLES_AT_ONCE = 4;

export interface RunResult {
  tables: TableResult[];
  totals: RunTotals;
  sourceKind: ServiceKind;
  destinationKind: ServiceKind;
}

export interface Connected {
  source: TableHttp;
  destination: TableHttp;
  secrets: string[];
  /** The run's flow control for writes to the destination (rate cap, back-off on 429), given a concurrency. */
  flow?: FlowControl;
}

export function connect(
  config: Pick<EngineConfig, "source" | "destination" | "retry"> &
    Partial<Pick<EngineConfig, "concurrency" | "maxEntitiesPerSecond">>,
  signal?: AbortSignal,
): Connected {
  const retry = { ...DEFAULT_RETRY, ...config.retry };
  const src = createServiceClient(config.source, "source");
  const dst = createServiceClient(config.destination, "destination");
  const destination = new TableHttp(dst, retry, signal);
  const flow =
    config.concurrency === undefined
      ? undefined
      : new FlowControl({
          concurrency: config.concurrency,
          maxEntitiesPerSecond: config.maxEntitiesPerSecond,
        });
  if (flow) {
    destination.onThrottle = (hintMs) => flow.throttled(hintMs);
    destination.onBusy = () => flow.busy();
  }
  return {
    source: new TableHttp(src, retry, signal),
    destination,
    secrets: [...src.secrets, ...dst.secrets],
    flow,
  };
}

/** The source alone (preflight needs no destination). */
export function connectSource(
  config: Pick<EngineConfig, "source" | "retry">,
  signal?: AbortSignal,
): TableHttp {
  return new TableHttp(
    createServiceClient(config.source, "source"),
    { ...DEFAULT_RETRY, ...config.retry },
    signal,
  );
}

/** Create the table unless it exists. */
export async function ensureTable(http: TableHttp, table: string, stats?: HttpStats): Promise<void> {
  const res = await http.send({
    stats,
    method: "POST",
    url: `${http.url}/Tables`,
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json;odata=nometadata",
      Prefer: "return-no-content",
    },
    body: JSON.stringify({ TableName: table }),
  });
  if (res.status === 409 || (res.status >= 200 && res.status < 300)) return;
  throw ServiceError.from(res, `Creating destination table ${table}`, http.label);
}

/**
 * Whether the destination table exists: true, false, or undefined when the answer is unclear (the caller
 * then creates or checks it the usual way). A read, without side effects.
 */
export async function tableExists(
  http: TableHttp,
  table: string,
  stats?: HttpStats,
): Promise<boolean | undefined> {
  const res = await getTable(http, table, stats);
  return res.status === 200 ? true : res.status === 404 ? false : undefined;
}

function getTable(http: TableHttp, table: string, stats?: HttpStats): Promise<HttpResponse> {
  return http.send({
    stats,
    method: "GET",
    url: `${http.url}/Tables('${table}')`,
    headers: { Accept: "application/json;odata=nometadata" },
  });
}

/** With create-tables off, a missing destination table is one clear table error, not N failed entities. */
export async function requireTable(http: TableHttp, table: string, stats?: HttpStats): Promise<void> {
  const res = await getTable(http, table, stats);
  if (res.status === 404) {
    throw new ServiceError(
      `Destination table ${table} does not exist and create-tables is off; create it (with enough throughput) or set create-tables to true.`,
      404,
      "TableNotFound",
    );
  }
  if (res.status >= 300) throw ServiceError.from(res, `Checking destination table ${table}`, http.label);
}

export function emptyResult(spec: TableSpec, filter?: string): TableResult {
  return {
    source: spec.source,
    destination: spec.destination,
    filter,
    read: 0,
    written: 0,
    skipped: 0,
    failed: 0,
    conflicts: 0,
    transactions: 0,
    durationMs: 0,
    failures: [],
    conflictDetails: [],
    throttled: 0,
    retries: 0,
  };
}

export function describeError(err: unknown): string {
  if (err instanceof ServiceError || err instanceof TransformError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

export async function copyTable(
  conn: Connected,
  config: EngineConfig,
  spec: TableSpec,
  plan: TablePlan,
  hooks: RunHooks = {},
): Promise<TableResult> {
  const started = Date.now();
  const result = emptyResult(spec, plan.filter);
  const reader = new TableReader(conn.source, spec.source, {
    filter: plan.filter,
    // No small first page ($top): the next page is asked for on a page's headers, so a first page of
    // 100 would only delay the second by its own service time, and 100 entities keep one of the
    // destination's transaction slots busy, not all of them. Measured: the destination is idle longer
    // at the start with it.
    continuation: plan.continuation,
  });
  let transformer: Transformer;
  try {
    transformer = createTransformer({
      renames: config.propertyRenames,
      destinationKind: conn.destination.kind,
      sourceTable: spec.source,
    });
  } catch (err) {
    // Renames the destination cannot take: one table error before anything is read, not one per entity.
    result.error = `Table ${spec.source}: ${describeError(err)}`;
    result.durationMs = Date.now() - started;
    return result;
  }
  const guard = plan.guard;
  // Resume points without draining the writer: a page counts once it and every page before it landed.
  const tracker = new ResumeTracker();
  const writer = new TableWriter(conn.destination, spec.destination, {
    onSettled: (op, outcome) => {
      if (op.mark) tracker.settle(op.mark, outcome);
    },
    concurrency: config.concurrency,
    maxFailuresKept: config.maxFailuresKept,
    sortedSource: conn.source.kind === "table",
    flow: conn.flow,
    ...(guard && {
      classifyRejection: classifyGuarded,
      onConflict: (op, status, message) =>
        conflict(op.entity, `the destination changed while we wrote it (HTTP ${status}: ${message})`),
      onLanded: (op, etag) => {
        if (etag) guard.ours.add(ourWriteId(op.entity.partitionKey, op.entity.rowKey, etag));
      },
    }),
  });
  const conflict = (e: WireEntity, message: string) => {
    if (result.conflictDetails.length < config.maxFailuresKept) {
      result.conflictDetails.push({ partitionKey: e.partitionKey, rowKey: e.rowKey, message });
    }
  };
  let guardConflicts = 0;
  let guardSkipped = 0;
  // The guard's point reads, counted with this table's requests like the reader's and the writer's.
  const guardStats: HttpStats = { requests: 0, throttled: 0, retries: 0 };
  // As many point reads in flight as the destination takes (window.ts), like the writes.
  const guardReads = new TaskPool(config.concurrency);
  /** Post-switch: read each destination entity first, then write only what the app has not changed. */
  const writeGuarded = async (g: SwitchGuard, entities: WireEntity[], mark: PageMark) => {
    const reads: { outcome: Promise<WireEntity | undefined> }[] = [];
    for (const e of entities) {
      reads.push(
        await guardReads.start(() =>
          readDestinationEntity(conn.destination, spec.destination, e.partitionKey, e.rowKey, guardStats),
        ),
      );
    }
    for (let j = 0; j < entities.length; j++) {
      const d = decide(g, config.writeMode, await reads[j].outcome, entities[j]);
      if (d.conflict) {
        guardConflicts++;
        conflict(entities[j], d.conflict);
      } else if (d.op) {
        const wait = writer.add(d.op.kind, entities[j], d.op.ifMatch, mark);
        if (wait) await wait;
      } else guardSkipped++;
    }
  };
  const kind = operationFor(config.writeMode);
  const base = plan.resume ?? { read: 0, written: 0 };
  const clock = () => plan.resume?.sourceClockAtStart ?? result.sourceClockAtStart;
  const checkpoints =
    hooks.onCheckpoint && !config.dryRun
      ? new Checkpointer(
          tracker,
          async (point) => {
            const sourceClockAtStart = clock();
            if (!sourceClockAtStart) return;
            await hooks.onCheckpoint?.(spec, {
              continuation: point.continuation,
              sourceClockAtStart,
              read: base.read + point.read,
              written: base.written + point.written,
            });
          },
          config.checkpointIntervalMs,
        )
      : undefined;
  const report = () =>
    hooks.onProgress?.({
      table: spec.source,
      read: result.read,
      written: writer.counters.written,
      skipped: writer.counters.skipped,
      failed: writer.counters.failed + result.failed,
    });
  // Asked while the first page is read: when the table is there (every backfill), nothing else is needed
  // before the first transaction. A failure waits for then (an unreachable destination fails the table
  // with its own error, after its retries), and is never met when the source fails first.
  const destinationExists = config.dryRun
    ? undefined
    : tableExists(conn.destination, spec.destination, writer.httpStats).then(
        (exists) => ({ exists }),
        (error: unknown) => ({ error }),
      );
  try {
    let destinationReady = config.dryRun;
    for await (const page of reader.pages()) {
      // Created only once the source answered: a missing source table must not leave an empty
      // destination table.
      if (!destinationReady) {
        const check = await destinationExists;
        if (check && "error" in check) throw check.error;
        if (check?.exists !== true) {
          if (config.createTables) await ensureTable(conn.destination, spec.destination, writer.httpStats);
          else await requireTable(conn.destination, spec.destination, writer.httpStats);
        }
        destinationReady = true;
      }
      if (!result.sourceClockAtStart && reader.serverClock)
        result.sourceClockAtStart = reader.serverClock.toISOString();
      const guarded: WireEntity[] = [];
      const mark = tracker.page();
      for (const entity of page.entities) {
        result.read++;
        let out;
        try {
          out = transformer.apply(entity);
        } catch (err) {
          result.failed++;
          mark.failed = true;
          if (result.failures.length < config.maxFailuresKept) {
            result.failures.push({
              partitionKey: entity.partitionKey,
              rowKey: entity.rowKey,
              message: describeError(err),
            });
          }
          continue;
        }
        if (config.dryRun) continue;
        if (guard) guarded.push(out);
        else {
          // Awaited only when the writer has no room: no promise per entity otherwise.
          const wait = writer.add(kind, out, undefined, mark);
          if (wait) await wait;
        }
      }
      if (guard && guarded.length) await writeGuarded(guard, guarded, mark);
      tracker.close(mark, page.entities.length, page.continuation);
      report();
      if (!page.continuation) continue; // the last page: the table is complete, even when cancelled
      if (hooks.signal?.aborted) {
        // Everything read is written first, so the last resume point is the last page read.
        await writer.flush();
        await checkpoints?.saveLatest();
        throw new Error(CANCELLED);
      }
    }
    if (!result.sourceClockAtStart && reader.serverClock)
      result.sourceClockAtStart = reader.serverClock.toISOString();
  } catch (err) {
    result.error = err instanceof TableMissingError ? err.message : describeError(err);
  }
  const counters = await writer.flush();
  // A table that ends short (an error, a failed entity) keeps the furthest resume point it reached, not
  // whichever one the timer happened to save last.
  if (result.error || result.failed + counters.failed > 0)
    await checkpoints?.saveLatest().catch(() => undefined);
  // A save under way must not land after the table's end is recorded (it would reopen the table).
  await checkpoints?.stop();
  result.written = counters.written;
  result.skipped = counters.skipped + guardSkipped;
  result.conflicts = counters.conflicts + guardConflicts;
  if (reader.lastServerClock) result.sourceClockAtEnd = reader.lastServerClock.toISOString();
  if (guard) result.ourWrites = [...guard.ours];
  result.transactions = counters.transactions;
  result.failed += counters.failed;
  for (const f of counters.failures) {
    if (result.failures.length < config.maxFailuresKept) result.failures.push(f);
  }
  result.durationMs = Date.now() - started;
  // Counted per reader and writer: tables copied at once share the connections.
  const counted = [writer.httpStats, reader.httpStats, guardStats];
  result.throttled = counted.reduce((n, s) => n + s.throttled, 0);
  result.retries = counted.reduce((n, s) => n + s.retries, 0);
  report();
  return result;
}

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
  try {
    return await runTables(config, hooks, http.signal, started);
  } finally {
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

/** AND two OData filters, either of which may be absent. */
export function andFilters(...filters: (string | undefined)[]): string | undefined {
  const present = filters.map((f) => f?.trim()).filter((f): f is string => !!f);
  if (present.length === 0) return undefined;
  if (present.length === 1) return present[0];
  return present.map((f) => `(${f})`).join(" and ");
}

/** The backfill filter: `Timestamp ge datetime'…'` on the source's clock. */
export function sinceFilter(since: Date): string {
  return `Timestamp ge datetime'${since.toISOString()}'`;
}
