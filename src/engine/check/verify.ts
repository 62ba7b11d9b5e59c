// Verify: does the destination hold exactly what the source holds, after table and property renames?
//
// Full mode scans both tables (in parallel, in whatever order each returns: Cosmos does not sort, and
// a Timestamp filter means nothing there) and spills a compact record per entity — its keys and a
// 16-byte digest of its canonical typed properties — into bucket files on disk, chosen by a hash of
// the PartitionKey. Buckets are then compared one at a time in memory, so memory stays bounded by a
// bucket, not by the table; a bucket that grew too large is split again by the full key. Keys whose
// digests differ are point-read on both sides to name the properties that differ.
//
// Sample mode scans only the source, picks a fraction of its entities by a seeded hash of the keys,
// and point-reads those on the destination: quick, but it cannot see entities only the destination
// holds (extra).
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { differingProperties, type WireEntity } from "../wire/edm.js";
import { inSample, mapKey, propertiesDigest, unmapKey } from "./entity-digest.js";
import { describeError, TableMissingError } from "../wire/errors.js";
import type { TableHttp } from "../wire/http.js";
import { TaskPool } from "../copy/pool.js";
import { TableReader } from "../copy/reader.js";
import { readEntity, type EntityKey } from "../wire/point-read.js";
import { Repairer } from "./repair.js";
import { DIGEST_BYTES, fileBytes, hashString, readRecords, SpillFiles, type KeyRecord } from "./spill.js";
import { type TableSpec } from "../copy/run-config.js";
import { createTransformer, type Transformer } from "../copy/transform.js";
import type { DifferentEntity, VerifyOptions, VerifyProgress, VerifyResult } from "./verify-result.js";

export type { EntityKey } from "../wire/point-read.js";
export type { RepairResult } from "./repair.js";
export type {
  DifferentEntity,
  UntransformableEntity,
  VerifyOptions,
  VerifyProgress,
  VerifyResult,
} from "./verify-result.js";

const UNTRANSFORMABLE = 1;
const MAX_SPLIT_LEVEL = 4;
const SPLIT_FANOUT = 64;

function cancelled(): Error {
  return new Error("the run was cancelled");
}

class TableVerifier {
  readonly result: VerifyResult;
  private readonly maxSamples: number;
  private readonly transformer: Transformer;
  private readonly pool: TaskPool;
  private readonly repairer: Repairer | undefined;
  private differentNamed = 0;
  private splits = 0;
  /** Set when one side's scan failed: the other stops at its next page. */
  private stopped = false;
  private dir = "";

  constructor(
    private readonly source: TableHttp,
    private readonly destination: TableHttp,
    private readonly spec: TableSpec,
    private readonly opts: VerifyOptions,
  ) {
    this.maxSamples = opts.maxSamples ?? 20;
    const concurrency = opts.concurrency ?? "auto";
    this.pool = new TaskPool(concurrency);
    this.transformer = createTransformer({
      renames: opts.renames,
      destinationKind: destination.kind,
      sourceTable: spec.source,
    });
    const sampled = opts.sample !== undefined && opts.sample < 1;
    this.result = {
      source: spec.source,
      destination: spec.destination,
      sampled,
      sourceCount: 0,
      destinationCount: sampled ? null : 0,
      checked: 0,
      missing: 0,
      extra: sampled ? null : 0,
      different: 0,
      untransformable: 0,
      missingSamples: [],
      extraSamples: [],
      differentSamples: [],
      untransformableSamples: [],
      inSync: false,
      durationMs: 0,
      notes: [],
    };
    if (opts.repair) {
      this.repairer = new Repairer(source, destination, spec, this.transformer, {
        concurrency,
        maxFailuresKept: this.maxSamples,
        guard: opts.guard,
      });
    }
  }

  private progress(phase: VerifyProgress["phase"]): void {
    this.opts.onProgress?.({
      table: this.spec.source,
      phase,
      source: this.result.sourceCount,
      destination: this.result.destinationCount ?? 0,
    });
  }

  private keep<T>(list: T[], item: T): void {
    if (list.length < this.maxSamples) list.push(item);
  }

  /** The entity as the sync would write it, or undefined (counted and kept) when the sync would refuse it. */
  private transform(entity: WireEntity): WireEntity | undefined {
    try {
      return this.transformer.apply(entity);
    } catch (err) {
      this.result.untransformable++;
      this.keep(this.result.untransformableSamples, {
        partitionKey: entity.partitionKey,
        rowKey: entity.rowKey,
        message: describeError(err),
      });
      return undefined;
    }
  }

  private async scan(
    http: TableHttp,
    table: string,
    onEntity: (e: WireEntity) => Promise<void> | void,
  ): Promise<void> {
    const reader = new TableReader(http, table);
    try {
      for await (const page of reader.pages()) {
        for (const entity of page.entities) await onEntity(entity);
        if (this.opts.signal?.aborted) throw cancelled();
        if (this.stopped) return;
        this.progress("scan");
      }
    } catch (err) {
      // The other side's scan need not run on for nothing (a missing destination table is no failure).
      if (!(http === this.destination && err instanceof TableMissingError)) this.stopped = true;
      throw err;
    }
  }

  async run(): Promise<void> {
    try {
      if (this.result.sampled) await this.runSample();
      else await this.runFull();
      await this.pool.drain();
    } catch (err) {
      this.result.error = describeError(err);
      await this.pool.drain().catch(() => undefined);
    }
    if (this.repairer) {
      try {
        this.result.repair = await this.repairer.finish();
      } catch (err) {
        this.result.repair = this.repairer.result;
        this.result.error ??= `Repair: ${describeError(err)}`;
      }
    }
    const r = this.result;
    r.inSync =
      !r.error && r.missing === 0 && r.different === 0 && r.untransformable === 0 && (r.extra ?? 0) === 0;
  }

  // ---- sample mode -------------------------------------------------------------------------------

  private async runSample(): Promise<void> {
    const fraction = this.opts.sample as number;
    const seed = this.opts.seed ?? randomBytes(6).toString("hex");
    this.result.sampleFraction = fraction;
    this.result.sampleSeed = seed;
    this.repairer?.createTableFirst();
    await this.scan(this.source, this.spec.source, async (entity) => {
      this.result.sourceCount++;
      if (!inSample(seed, fraction, entity)) return;
      this.result.checked++;
      const out = this.transform(entity);
      if (!out) return;
      await this.pool.run(async () => {
        const key = { partitionKey: entity.partitionKey, rowKey: entity.rowKey };
        const found = await readEntity(this.destination, this.spec.destination, key, "destination");
        if (!found) {
          this.result.missing++;
          this.keep(this.result.missingSamples, key);
          await this.repairer?.copy(key, entity);
          return;
        }
        const properties = differingProperties(out, found);
        if (properties.length === 0) return;
        this.result.different++;
        this.keep(this.result.differentSamples, { ...key, properties });
        await this.repairer?.copy(key, entity);
      });
    });
    this.result.notes.push(
      `Sample: ${this.result.checked} of ${this.result.sourceCount} source entities (fraction ${fraction}, seed ${seed}) ` +
        `were checked by point reads; the destination was not scanned, so entities only the destination holds (extra) are not counted.`,
    );
    if (this.opts.repair && this.opts.deleteExtra) {
      this.result.notes.push("delete-extra needs a full verify (no sample): nothing was deleted.");
    }
  }

  // ---- full mode ---------------------------------------------------------------------------------

  private async runFull(): Promise<void> {
    const buckets = this.opts.buckets ?? 256;
    this.dir = mkdtempSync(join(this.opts.tempDir ?? tmpdir(), "table-verify-"));
    try {
      const src = new SpillFiles(this.dir, "s", buckets);
      const dst = new SpillFiles(this.dir, "d", buckets);
      const bucketOf = (pk: string) => hashString(pk, 0) % buckets;
      const scans = await Promise.allSettled([
        this.scan(this.source, this.spec.source, (entity) => {
          this.result.sourceCount++;
          const out = this.transform(entity);
          src.add(bucketOf(entity.partitionKey), {
            partitionKey: entity.partitionKey,
            rowKey: entity.rowKey,
            flag: out ? 0 : UNTRANSFORMABLE,
            digest: out ? propertiesDigest(out) : "\0".repeat(DIGEST_BYTES),
          });
        }),
        this.scan(this.destination, this.spec.destination, (entity) => {
          this.result.destinationCount = (this.result.destinationCount ?? 0) + 1;
          dst.add(bucketOf(entity.partitionKey), {
            partitionKey: entity.partitionKey,
            rowKey: entity.rowKey,
            flag: 0,
            digest: propertiesDigest(entity),
          });
        }),
      ]);
      if (scans[0].status === "rejected") throw scans[0].reason;
      if (scans[1].status === "rejected") {
        if (!(scans[1].reason instanceof TableMissingError)) throw scans[1].reason;
        this.result.notes.push(
          `Table ${this.spec.destination} does not exist on the destination: every source entity is missing.`,
        );
        this.repairer?.createTableFirst();
      }
      src.flush();
      dst.flush();
      for (let b = 0; b < buckets; b++) {
        await this.compareBucket(src.path(b), dst.path(b), 0);
        if (this.opts.signal?.aborted) throw cancelled();
        this.progress("compare");
      }
      this.result.checked = this.result.sourceCount;
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  /** Split a bucket's two files into SPLIT_FANOUT smaller ones by a hash of the full key. */
  private split(path: string, level: number): SpillFiles {
    const files = new SpillFiles(this.dir, `x${++this.splits}`, SPLIT_FANOUT);
    for (const rec of readRecords(path)) {
      files.add(hashString(`${rec.partitionKey}\u0000${rec.rowKey}`, level + 1) % SPLIT_FANOUT, rec);
    }
    files.flush();
    rmSync(path, { force: true });
    return files;
  }

  private async compareBucket(srcPath: string, dstPath: string, level: number): Promise<void> {
    const maxBytes = this.opts.maxBucketBytes ?? 32 * 1024 * 1024;
    if (level < MAX_SPLIT_LEVEL && fileBytes(srcPath) + fileBytes(dstPath) > maxBytes) {
      const s = this.split(srcPath, level);
      const d = this.split(dstPath, level);
      for (let i = 0; i < SPLIT_FANOUT; i++) await this.compareBucket(s.path(i), d.path(i), level + 1);
      return;
    }
    // key → digest; "" marks a source entity the sync cannot write (neither missing nor different).
    const sources = new Map<string, string>();
    for (const rec of readRecords(srcPath)) {
      sources.set(mapKey(rec.partitionKey, rec.rowKey), rec.flag === UNTRANSFORMABLE ? "" : rec.digest);
    }
    const different: KeyRecord[] = [];
    const extra: EntityKey[] = [];
    for (const rec of readRecords(dstPath)) {
      const k = mapKey(rec.partitionKey, rec.rowKey);
      const digest = sources.get(k);
      if (digest === undefined) {
        extra.push({ partitionKey: rec.partitionKey, rowKey: rec.rowKey });
        continue;
      }
      sources.delete(k);
      if (digest !== "" && digest !== rec.digest) different.push(rec);
    }
    rmSync(srcPath, { force: true });
    rmSync(dstPath, { force: true });
    const missing: EntityKey[] = [];
    for (const [k, digest] of sources) if (digest !== "") missing.push(unmapKey(k));
    sources.clear();

    // Transactions group by partition: hand repairs over partition by partition.
    const byPartition = (a: EntityKey, b: EntityKey) =>
      a.partitionKey < b.partitionKey ? -1 : a.partitionKey > b.partitionKey ? 1 : 0;
    missing.sort(byPartition);
    different.sort(byPartition);
    extra.sort(byPartition);

    for (const key of missing) {
      this.result.missing++;
      this.keep(this.result.missingSamples, key);
      await this.repairer?.copy(key);
    }
    for (const key of extra) {
      this.result.extra = (this.result.extra ?? 0) + 1;
      this.keep(this.result.extraSamples, key);
      if (this.opts.deleteExtra) await this.repairer?.remove(key);
    }
    for (const rec of different) {
      this.result.different++;
      const key: EntityKey = { partitionKey: rec.partitionKey, rowKey: rec.rowKey };
      const name = this.differentNamed < this.maxSamples;
      if (name) this.differentNamed++;
      if (!name) {
        await this.repairer?.copy(key);
        continue;
      }
      await this.pool.run(async () => {
        const [now, there] = await Promise.all([
          readEntity(this.source, this.spec.source, key, "source"),
          readEntity(this.destination, this.spec.destination, key, "destination"),
        ]);
        this.result.differentSamples.push(this.describeDifference(key, now, there));
        if (this.repairer) await this.repairer.copy(key, now ?? undefined);
      });
    }
  }

  private describeDifference(
    key: EntityKey,
    now: WireEntity | undefined,
    there: WireEntity | undefined,
  ): DifferentEntity {
    if (!now) return { ...key, properties: [], note: "no longer in the source when re-read" };
    if (!there) return { ...key, properties: [], note: "no longer in the destination when re-read" };
    let out: WireEntity;
    try {
      out = this.transformer.apply(now);
    } catch (err) {
      return { ...key, properties: [], note: describeError(err) };
    }
    const properties = differingProperties(out, there);
    return properties.length > 0
      ? { ...key, properties }
      : { ...key, properties, note: "equal when re-read: changed during the verify" };
  }
}

/**
 * Compare a source table with its destination (after renames): counts, missing, extra and different
 * entities with the properties that differ; optionally repair. Never throws for a table-level
 * problem: it is reported in `error`.
 */
export async function verifyTable(
  conn: { source: TableHttp; destination: TableHttp },
  spec: TableSpec,
  opts: VerifyOptions,
): Promise<VerifyResult> {
  const started = Date.now();
  if (opts.sample !== undefined && !(opts.sample > 0 && opts.sample <= 1)) {
    throw new RangeError(`sample must be a fraction above 0 and at most 1, not ${opts.sample}.`);
  }
  const verifier = new TableVerifier(conn.source, conn.destination, spec, opts);
  await verifier.run();
  verifier.result.durationMs = Date.now() - started;
  return verifier.result;
}
