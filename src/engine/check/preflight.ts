// Preflight: read the source once and say what a full sync will meet — size, partitions, the largest
// entity, property names the destination reserves, keys and entities over the destination's limits —
// and how long reading alone took. `blocking` lists, one sentence each with its fix, what would make
// a full sync fail.
import type { ServiceKind } from "../wire/service-kind.js";
import { entityBytes, type WireEntity, type WireValue } from "../wire/edm.js";
import type { TableHttp } from "../wire/http.js";
import { TableReader } from "../copy/reader.js";
import { entitiesPerSecond } from "../copy/result.js";
import { describeError } from "../wire/errors.js";
import {
  costEstimate,
  PartitionCounter,
  writeRequestUnits,
  type CostEstimate,
  type PartitionProfile,
} from "./estimate.js";
import { isCosmosReserved, suggestName, type Rename } from "../copy/transform.js";

export interface PreflightOptions {
  destinationKind: ServiceKind;
  renames: Rename[];
  /** Entities kept per problem kind in the result; all are counted. Default 10. */
  maxSamples?: number;
  signal?: AbortSignal;
  onProgress?(entities: number): void;
  /** The destination's RU/s the Cosmos estimate's time assumes (default 10,000). */
  ruPerSecond?: number;
}

export interface KeyProblem {
  partitionKey: string;
  rowKey: string;
  problems: string[];
}

export interface SizedEntity {
  partitionKey: string;
  rowKey: string;
  /** Bytes of the entity's JSON as the sync sends it (renames applied; Binary already base64, i.e. ~4/3 of its raw size). */
  bytes: number;
}

export interface ReservedProperty {
  /** The name as the source spells it. */
  name: string;
  /** Entities that have it. */
  entities: number;
  /** The rename that moves it out of the way, if property-renames has one. */
  renamedTo: string | null;
}

export interface PreflightResult {
  table: string;
  destinationKind: ServiceKind;
  entities: number;
  partitions: number;
  /** The partition with the most entities (its JSON bytes too: Cosmos caps a logical partition at 20 GB). */
  largestPartition: { partitionKey: string; entities: number; bytes: number } | null;
  largestEntity: SizedEntity | null;
  /** Total JSON bytes of all entities as the sync would send them. */
  totalBytes: number;
  /** Property names the destination reserves (Cosmos: id, etag, rid, ResourceId, any case). */
  reservedProperties: ReservedProperty[];
  /** Renames whose target already exists next to the source property in some entities. */
  renameCollisions: { from: string; to: string; entities: number }[];
  /** Keys the destination refuses (Cosmos: RowKey > 255 bytes, PartitionKey > 1 KB; forbidden characters). */
  badKeys: number;
  badKeySamples: KeyProblem[];
  /** Entities over the destination's entity size (Cosmos: 2 MB). */
  oversized: number;
  oversizedSamples: SizedEntity[];
  oversizedLimitBytes: number;
  /** Time to read the whole table, and the entity rate of that read. */
  scanMs: number;
  scanEntitiesPerSecond: number;
  /**
   * A full sync reads the same pages, so it takes at least this long: a lower bound, not a forecast.
   * Writing (the destination's ingest rate; RU/s on Cosmos) is usually slower and then decides.
   */
  fullSyncAtLeastMs: number;
  /** Entities per partition (null for an empty table): how well writes group into transactions. */
  partitionProfile: PartitionProfile | null;
  /** Cosmos destination: the request units the full sync's writes will spend, and the time at `ruPerSecond`. */
  cosmosEstimate?: CostEstimate;
  /** One sentence each, naming the fix; a full sync would fail while this is not empty. */
  blocking: string[];
  /** Things worth knowing that do not stop a full sync. */
  warnings: string[];
  /** The scan did not complete (e.g. the table does not exist); the figures are partial. */
  error?: string;
}

export const COSMOS_MAX_ROWKEY_BYTES = 255;
export const COSMOS_MAX_PARTITIONKEY_BYTES = 1024;
export const COSMOS_MAX_ENTITY_BYTES = 2 * 1024 * 1024;
export const COSMOS_MAX_PARTITION_BYTES = 20 * 1024 ** 3;
export const TABLE_MAX_ENTITY_BYTES = 1024 * 1024;

// Table Storage and Cosmos DB for Table both refuse these in keys (control characters included, on purpose).
// eslint-disable-next-line no-control-regex
const FORBIDDEN_KEY_CHARS = /[/\\#?\u0000-\u001f\u007f-\u009f]/;

function describeChar(c: string): string {
  const code = c.charCodeAt(0);
  return code < 0x20 || (code >= 0x7f && code <= 0x9f)
    ? `U+${code.toString(16).toUpperCase().padStart(4, "0")}`
    : `'${c}'`;
}

/** What is wrong with these keys for the destination (empty when nothing is). */
export function keyProblems(partitionKey: string, rowKey: string, destinationKind: ServiceKind): string[] {
  const problems: string[] = [];
  for (const [name, value] of [
    ["PartitionKey", partitionKey],
    ["RowKey", rowKey],
  ] as const) {
    const bad = FORBIDDEN_KEY_CHARS.exec(value);
    if (bad) problems.push(`${name} contains ${describeChar(bad[0])}, which is not allowed in keys`);
  }
  if (destinationKind === "cosmos") {
    const rk = Buffer.byteLength(rowKey);
    if (rk > COSMOS_MAX_ROWKEY_BYTES) problems.push(`RowKey is ${rk} bytes, over ${COSMOS_MAX_ROWKEY_BYTES}`);
    const pk = Buffer.byteLength(partitionKey);
    if (pk > COSMOS_MAX_PARTITIONKEY_BYTES) {
      problems.push(`PartitionKey is ${pk} bytes, over ${COSMOS_MAX_PARTITIONKEY_BYTES}`);
    }
  }
  return problems;
}

function shortKey(s: string): string {
  return s.length > 40 ? `${s.slice(0, 37)}…` : s;
}

function keyText(k: { partitionKey: string; rowKey: string }): string {
  return `PartitionKey '${shortKey(k.partitionKey)}', RowKey '${shortKey(k.rowKey)}'`;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(2)} MB`;
}

interface PartitionTally {
  partitionKey: string;
  entities: number;
  bytes: number;
}

/** Read the source table once and report what a full sync into `destinationKind` will meet. */
export async function preflightTable(
  sourceHttp: TableHttp,
  table: string,
  opts: PreflightOptions,
): Promise<PreflightResult> {
  const started = Date.now();
  const maxSamples = opts.maxSamples ?? 10;
  const cosmos = opts.destinationKind === "cosmos";
  const renames = new Map(opts.renames.map((r) => [r.from, r.to]));
  const result: PreflightResult = {
    table,
    destinationKind: opts.destinationKind,
    entities: 0,
    partitions: 0,
    largestPartition: null,
    largestEntity: null,
    totalBytes: 0,
    reservedProperties: [],
    renameCollisions: [],
    badKeys: 0,
    badKeySamples: [],
    oversized: 0,
    oversizedSamples: [],
    oversizedLimitBytes: cosmos ? COSMOS_MAX_ENTITY_BYTES : TABLE_MAX_ENTITY_BYTES,
    scanMs: 0,
    scanEntitiesPerSecond: 0,
    fullSyncAtLeastMs: 0,
    partitionProfile: null,
    blocking: [],
    warnings: [],
  };
  const reserved = new Map<string, number>();
  const renamedSeen = new Map<string, number>();
  const collisions = new Map<string, number>();
  const overPartitionLimit: PartitionTally[] = [];
  // Table Storage returns partitions in order, so one running tally is enough; Cosmos does not sort.
  const sorted = sourceHttp.kind === "table";
  const tallies = new Map<string, PartitionTally>();
  let current: PartitionTally | undefined;
  const counter = new PartitionCounter();
  let requestUnits = 0;

  const closePartition = (p: PartitionTally) => {
    counter.add(p.entities);
    if (!result.largestPartition || p.entities > result.largestPartition.entities)
      result.largestPartition = { ...p };
    if (cosmos && p.bytes > COSMOS_MAX_PARTITION_BYTES && overPartitionLimit.length < maxSamples) {
      overPartitionLimit.push({ ...p });
    }
  };

  const visit = (entity: WireEntity) => {
    result.entities++;
    const out = new Map<string, WireValue>();
    for (const [name, value] of entity.properties) {
      const to = renames.get(name);
      if (to !== undefined) {
        renamedSeen.set(name, (renamedSeen.get(name) ?? 0) + 1);
        if (entity.properties.has(to) && !renames.has(to)) {
          const k = `${name}\u0000${to}`;
          collisions.set(k, (collisions.get(k) ?? 0) + 1);
        }
      }
      if (isCosmosReserved(name)) reserved.set(name, (reserved.get(name) ?? 0) + 1);
      out.set(to ?? name, value);
    }
    const bytes = entityBytes({ partitionKey: entity.partitionKey, rowKey: entity.rowKey, properties: out });
    result.totalBytes += bytes;
    if (cosmos) requestUnits += writeRequestUnits(bytes);
    const key = { partitionKey: entity.partitionKey, rowKey: entity.rowKey };
    if (!result.largestEntity || bytes > result.largestEntity.bytes) result.largestEntity = { ...key, bytes };
    if (bytes > result.oversizedLimitBytes) {
      result.oversized++;
      if (result.oversizedSamples.length < maxSamples) result.oversizedSamples.push({ ...key, bytes });
    }
    const problems = keyProblems(entity.partitionKey, entity.rowKey, opts.destinationKind);
    if (problems.length > 0) {
      result.badKeys++;
      if (result.badKeySamples.length < maxSamples) result.badKeySamples.push({ ...key, problems });
    }
    if (sorted) {
      if (current?.partitionKey !== entity.partitionKey) {
        if (current) closePartition(current);
        current = { partitionKey: entity.partitionKey, entities: 0, bytes: 0 };
        result.partitions++;
      }
      current.entities++;
      current.bytes += bytes;
    } else {
      let t = tallies.get(entity.partitionKey);
      if (!t) {
        t = { partitionKey: entity.partitionKey, entities: 0, bytes: 0 };
        tallies.set(entity.partitionKey, t);
        result.partitions++;
      }
      t.entities++;
      t.bytes += bytes;
    }
  };

  try {
    const reader = new TableReader(sourceHttp, table);
    for await (const page of reader.pages()) {
      for (const entity of page.entities) visit(entity);
      opts.onProgress?.(result.entities);
      if (opts.signal?.aborted) throw new Error("the run was cancelled");
    }
  } catch (err) {
    result.error = describeError(err);
  }
  if (current) closePartition(current);
  for (const t of tallies.values()) closePartition(t);
  tallies.clear();

  result.scanMs = Date.now() - started;
  result.scanEntitiesPerSecond = entitiesPerSecond(result.entities, result.scanMs);
  result.fullSyncAtLeastMs = result.scanMs;
  result.partitionProfile = counter.profile();
  if (cosmos) result.cosmosEstimate = costEstimate(requestUnits, opts.ruPerSecond ?? 10_000);
  const profile = result.partitionProfile;
  if (profile && profile.singleEntityShare >= 0.5) {
    result.warnings.push(
      `Table ${table}: ${Math.round(profile.singleEntityShare * 100)} % of its partitions hold one entity (median ${profile.median} per partition): a transaction holds one partition's entities, so most writes go one entity per request and the copy is slower than for large partitions; give it more concurrency.`,
    );
  }

  // ---- what blocks a full sync, one sentence each with its fix ----
  const b = result.blocking;
  for (const [name, entities] of reserved) {
    const renamedTo = renames.get(name) ?? null;
    result.reservedProperties.push({ name, entities, renamedTo });
    if (cosmos && renamedTo === null) {
      b.push(
        `Table ${table}: property '${name}' (${entities} entities) is reserved by Cosmos DB for Table; ` +
          `add the rename '${name}:${suggestName(name)}' to property-renames.`,
      );
    }
  }
  for (const [from, to] of renames) {
    const seen = renamedSeen.get(from) ?? 0;
    if (cosmos && seen > 0 && isCosmosReserved(to)) {
      b.push(
        `Table ${table}: the rename '${from}:${to}' gives ${seen} entities a property Cosmos DB for Table reserves; ` +
          `choose another target name in property-renames.`,
      );
    }
  }
  for (const [k, entities] of collisions) {
    const [from, to] = k.split("\u0000");
    result.renameCollisions.push({ from, to, entities });
    b.push(
      `Table ${table}: ${entities} entities have both '${from}' and '${to}', so the rename '${from}:${to}' would ` +
        `overwrite '${to}'; choose a target name no entity uses in property-renames.`,
    );
  }
  if (result.badKeys > 0) {
    const first = result.badKeySamples[0];
    b.push(
      `Table ${table}: ${result.badKeys} entities have keys ${cosmos ? "Cosmos DB for Table" : "the destination"} refuses ` +
        `(first: ${keyText(first)}: ${first.problems.join("; ")}); change those keys in the source, or leave ` +
        `those entities out with query-filter.`,
    );
  }
  if (result.oversized > 0) {
    const first = result.oversizedSamples[0];
    const text =
      `Table ${table}: ${result.oversized} entities are over ${megabytes(result.oversizedLimitBytes)} as JSON ` +
      `(first: ${keyText(first)}, ${megabytes(first.bytes)})`;
    if (cosmos) {
      b.push(
        `${text}, more than Cosmos DB for Table stores in one item; shrink them (e.g. move large Binary values ` +
          `to Blob Storage) or leave them out with query-filter.`,
      );
    } else {
      result.warnings.push(
        `${text}; Table Storage may refuse them (it counts entity size its own way, limit 1 MiB).`,
      );
    }
  }
  for (const p of overPartitionLimit) {
    b.push(
      `Table ${table}: partition '${shortKey(p.partitionKey)}' holds ${(p.bytes / 1024 ** 3).toFixed(1)} GB, over ` +
        `Cosmos DB for Table's 20 GB per partition key; spread its entities over more PartitionKeys in the source first.`,
    );
  }
  if (!sorted && result.partitions > 0) {
    result.warnings.push("The source does not sort by PartitionKey: partitions were counted in memory.");
  }
  return result;
}
