// Repair after a verify: copy the entities the destination lacks or holds differently (upsert replace,
// renamed as the sync renames them), and delete the ones that no longer exist in the source.
//
// Every candidate is re-read from the source by a point read just before it is acted on, so an entity
// that changed or vanished since the verify's scan is copied as it is now, or left alone. A delete
// goes out only when the source still lacks the entity. (Refusing `deleteExtra` once a switch is
// recorded is the caller's job: after the switch a destination-only entity is probably the app's.)
// After a switch, a copy goes through the same guard as a post-switch backfill: the destination is read
// first, an entity the app changed since the switch is a conflict and is left alone (unless the policy
// is source-wins), and the write carries the ETag read, so an app write racing it is a conflict too.
// Point reads make repair cheap for a few differences; when most of a table is missing, a full sync
// is faster.
import type { WireEntity } from "../wire/edm.js";
import { readEntity, type EntityKey } from "../wire/point-read.js";
import type { TableHttp } from "../wire/http.js";
import { SerialQueue, TaskPool } from "../copy/pool.js";
import type { ConcurrencySetting } from "../copy/window.js";
import { classifyGuarded, decide, ourWriteId, type Conflict, type SwitchGuard } from "../copy/post-switch.js";
import { describeError } from "../wire/errors.js";
import { ensureTable } from "../wire/tables.js";
import { type TableSpec } from "../copy/run-config.js";
import type { Transformer } from "../copy/transform.js";
import { TableWriter } from "../copy/writer.js";
import { type WriteFailure } from "../copy/write-rules.js";

export interface RepairResult {
  /** Missing or different entities written from the source (upsert replace). */
  copied: number;
  /** Destination-only entities deleted (only with `deleteExtra`). */
  deleted: number;
  /**
   * Candidates left alone because the source changed since the scan: a missing/different entity no
   * longer in the source, or an extra entity that the source now holds (a later backfill copies it).
   */
  skipped: number;
  failed: number;
  /** The first failures (up to the kept number); `failed` counts all of them. */
  failures: WriteFailure[];
  /** After a switch: entities the app changed on the destination, left alone (all counted, first N kept). */
  conflicts: number;
  conflictDetails: Conflict[];
  /** No failure: every difference found was repaired or had resolved itself. */
  complete: boolean;
}

export interface RepairerOptions {
  /** Point reads and transactions in flight. */
  concurrency: ConcurrencySetting;
  maxFailuresKept: number;
  /** Once a switch is recorded: keep the app's writes (its `ours` gains the ids of our writes). */
  guard?: SwitchGuard;
}

/** Takes repair work one entity at a time (with backpressure) and writes it in transactions. */
export class Repairer {
  readonly result: RepairResult = {
    copied: 0,
    deleted: 0,
    skipped: 0,
    failed: 0,
    failures: [],
    conflicts: 0,
    conflictDetails: [],
    complete: true,
  };
  private readonly writer: TableWriter;
  private readonly queue = new SerialQueue();
  private readonly pool: TaskPool;
  private tableReady: Promise<void> | undefined;

  constructor(
    private readonly source: TableHttp,
    private readonly destination: TableHttp,
    private readonly spec: TableSpec,
    private readonly transformer: Transformer,
    private readonly opts: RepairerOptions,
  ) {
    this.pool = new TaskPool(opts.concurrency);
    this.writer = new TableWriter(destination, spec.destination, {
      concurrency: opts.concurrency,
      maxFailuresKept: opts.maxFailuresKept,
      sortedSource: false,
      onLanded: (op, etag) => {
        if (op.kind === "delete") this.result.deleted++;
        else this.result.copied++;
        if (opts.guard && etag)
          opts.guard.ours.add(ourWriteId(op.entity.partitionKey, op.entity.rowKey, etag));
      },
      ...(opts.guard && {
        classifyRejection: classifyGuarded,
        onConflict: (op, status, message) =>
          this.conflict(op.entity, `the destination changed while we wrote it (HTTP ${status}: ${message})`),
      }),
    });
  }

  /** The destination table must exist before we write to it (verify may have found it missing). */
  createTableFirst(): void {
    this.tableReady ??= ensureTable(this.destination, this.spec.destination);
  }

  /** Copy the source entity with these keys (re-read now), or the source entity given. */
  async copy(key: EntityKey, current?: WireEntity): Promise<void> {
    await this.pool.run(async () => {
      const entity = current ?? (await readEntity(this.source, this.spec.source, key, "source"));
      if (!entity) {
        this.result.skipped++;
        return;
      }
      let out: WireEntity;
      try {
        out = this.transformer.apply(entity);
      } catch (err) {
        this.fail(key, describeError(err));
        return;
      }
      const guard = this.opts.guard;
      if (!guard) {
        await this.write(() => this.writer.add("upsert-replace", out));
        return;
      }
      const there = await readEntity(this.destination, this.spec.destination, key, "destination");
      const d = decide(guard, "replace", there, out);
      if (d.conflict) this.conflict(out, d.conflict);
      else if (d.op) {
        const op = d.op;
        await this.write(() => this.writer.add(op.kind, out, op.ifMatch));
      } else this.result.skipped++; // already what the source holds
    });
  }

  private conflict(key: EntityKey, message: string): void {
    this.result.conflicts++;
    if (this.result.conflictDetails.length < this.opts.maxFailuresKept) {
      this.result.conflictDetails.push({ partitionKey: key.partitionKey, rowKey: key.rowKey, message });
    }
  }

  /** Delete the destination entity with these keys, unless the source holds it (again). */
  async remove(key: EntityKey): Promise<void> {
    await this.pool.run(async () => {
      if (await readEntity(this.source, this.spec.source, key, "source")) {
        this.result.skipped++;
        return;
      }
      const tombstone: WireEntity = {
        partitionKey: key.partitionKey,
        rowKey: key.rowKey,
        properties: new Map(),
      };
      await this.write(() => this.writer.add("delete", tombstone, "*"));
    });
  }

  private async write(step: () => Promise<void> | void): Promise<void> {
    if (this.tableReady) await this.tableReady;
    await this.queue.push(async () => step());
  }

  private fail(key: EntityKey, message: string): void {
    this.result.failed++;
    if (this.result.failures.length < this.opts.maxFailuresKept)
      this.result.failures.push({ ...key, message });
  }

  /** Wait for every read and transaction; the counts are final afterwards. */
  async finish(): Promise<RepairResult> {
    let error: unknown;
    try {
      await this.pool.drain();
    } catch (err) {
      error = err;
    }
    await this.queue.push(async () => undefined);
    const counters = await this.writer.flush();
    this.result.skipped += counters.skipped;
    this.result.failed += counters.failed;
    for (const f of counters.failures) {
      if (this.result.failures.length < this.opts.maxFailuresKept) this.result.failures.push(f);
    }
    this.result.complete = this.result.failed === 0 && error === undefined;
    if (error !== undefined) throw error;
    return this.result;
  }
}
