// One table: read pages from the source, transform, and write transactions to the destination, reading
// ahead while earlier transactions are still in flight; resume points are saved without draining.
import { TableMissingError, describeError } from "../wire/errors.js";
import type { HttpStats } from "../wire/http.js";
import { TableReader, type PageSource } from "./reader.js";
import { RangedReader } from "./ranged-reader.js";
import { LaneReader } from "./lane-reader.js";
import type { TableResult } from "./result.js";
import { createTransformer, type Transformer } from "./transform.js";
import { operationFor } from "./write-rules.js";
import { TableWriter } from "./writer.js";
import { holdMs } from "./hold.js";
import { TaskPool } from "./pool.js";
import { Checkpointer, ResumeTracker, type PageMark } from "./checkpoints.js";
import {
  classifyGuarded,
  decide,
  ourWriteId,
  readDestinationEntity,
  type SwitchGuard,
} from "./post-switch.js";
import { EntityFormatError, type WireEntity } from "../wire/edm.js";
import type { Connected } from "./connect.js";
import { ensureTable, requireTable, tableExists } from "../wire/tables.js";
import type { EngineConfig, RunHooks, TablePlan, TableSpec } from "./run-config.js";
import { CANCELLED } from "./run-config.js";

/**
 * Entities handed to the writer between two looks at the sockets. A page is 1,000 entities and about
 * 10 ms of CPU to transform and frame; done in one go, the answers and the next page's bytes wait in the
 * socket buffers meanwhile, and a full receive buffer stalls the source's sending (TCP flow control) for
 * a round trip. Measured through the bench's 20 ms link: 1,000 per partition 15,300 → 18,000/s, 10 per
 * partition 12,700 → 15,200/s.
 */
const YIELD_EVERY = 100;

/** Let pending I/O (answers, page bytes) be handled before going on. */
function yieldToIo(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
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

export async function copyTable(
  conn: Connected,
  config: EngineConfig,
  spec: TableSpec,
  plan: TablePlan,
  hooks: RunHooks = {},
): Promise<TableResult> {
  const started = Date.now();
  const result = emptyResult(spec, plan.filter);
  // An unsorted source is read by key ranges (ranged-reader.ts), unless resuming a plain scan's checkpoint;
  // a sorted one as one scan, or by lanes of key ranges when that scan is slow (lane-reader.ts), which also
  // take up a ranged checkpoint of a sorted source.
  const sorted = conn.source.kind === "table";
  const byRanges = !sorted && (plan.continuation?.ranged === true || !plan.continuation);
  const reader: PageSource = byRanges
    ? new RangedReader(conn.source, spec.source, {
        filter: plan.filter,
        continuation: plan.continuation,
        rangeBytes: config.rangeBytes,
      })
    : sorted
      ? new LaneReader(conn.source, spec.source, {
          filter: plan.filter,
          continuation: plan.continuation,
          lanes: config.lanes,
          slowPageMs: config.slowPageMs,
          rangeEntities: config.rangeEntities,
        })
      : new TableReader(conn.source, spec.source, {
          filter: plan.filter,
          // No small first page ($top): the next page is asked for on a page's headers, so a first page of
          // 100 would only delay the second by its own service time, and 100 entities keep one of the
          // destination's transaction slots busy, not all of them. Measured: the destination is idle longer
          // at the start with it.
          continuation: plan.continuation,
          forCopy: true,
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
      if (op.mark) tracker.settle(op.mark as PageMark, outcome);
    },
    concurrency: config.concurrency,
    maxFailuresKept: config.maxFailuresKept,
    sortedSource: conn.source.kind === "table",
    byRanges,
    hold: { maxMs: holdMs(config.checkpointIntervalMs) },
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
  const lagLimitMs = checkpoints && sorted ? config.checkpointIntervalMs : undefined;
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
    let atResumePoint = true;
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
      // Read no further while a straggler holds the resume point (checkpoints.ts, stalled): first sending
      // what waits for more of its partition, which the point may be waiting for. Not for an unsorted
      // source, whose partial transactions are held on purpose (hold.ts) and whose key ranges count whole.
      // Only where the page before was a resume point: inside a key range (lane-reader.ts) the point moves
      // at the range's end, which waiting here would never reach.
      if (lagLimitMs !== undefined && atResumePoint && tracker.stalled(lagLimitMs)) {
        await writer.sendBuffered();
        // Checked again each time: the point may have moved meanwhile, and then no later move need come.
        while (tracker.stalled(lagLimitMs)) await tracker.moved();
      }
      const guarded: WireEntity[] = [];
      const mark = tracker.page();
      let handled = 0;
      for (const entity of page.entities) {
        if (++handled % YIELD_EVERY === 0) await yieldToIo();
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
      tracker.close(mark, page.entities.length, page.inRange ? undefined : page.continuation);
      if (page.endsRange) await writer.rangeEnded();
      atResumePoint = !page.inRange;
      report();
      if (!page.continuation) continue; // the last page: the table is complete, even when cancelled
      if (hooks.signal?.aborted) {
        // Everything read is written first, so the last resume point is the last page read (read by key
        // ranges: the last range read whole; the next run reads the rest of this one again).
        await writer.flush();
        await checkpoints?.saveLatest();
        throw new Error(CANCELLED);
      }
    }
    if (!result.sourceClockAtStart && reader.serverClock)
      result.sourceClockAtStart = reader.serverClock.toISOString();
  } catch (err) {
    result.error =
      err instanceof TableMissingError
        ? err.message
        : err instanceof EntityFormatError
          ? // Met while the page is read (entities are parsed as they are reached): what came before it landed.
            `Table ${spec.source}: the source sent an entity that cannot be copied exactly (${err.message}).`
          : describeError(err);
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
