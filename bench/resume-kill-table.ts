// The kill -9 resume bench's tables: the source's entities and keys, what had landed at the destination,
// and the checkpoint a killed run left in its state file.
import { readFileSync, statSync } from "node:fs";
import { TableMissingError } from "../src/engine/wire/errors.js";
import { TableReader } from "../src/engine/copy/reader.js";
import type { WireEntity } from "../src/engine/wire/edm.js";
import { ensureTable } from "../src/engine/wire/tables.js";
import { TableWriter } from "../src/engine/copy/writer.js";
import { httpFor, writeLayout } from "./common.js";
import { makeEntity, partitionKey, partitionSize, rowKey, type Layout } from "./data.js";
import { SOURCE_TABLE } from "./resume-kill-options.js";
/**
 * Row `r` of partition `p`: bench/data.ts's entity (~1 KB, every EDM type), its row key made unique in the
 * table. Azurite finds an entity through an index on RowKey first: with the same row key in every
 * partition (r00000000 in a table of one entity per partition) each write scans the whole table, and the
 * copy slows down as the table fills (365 → 71 writes/s from 2,000 to 8,000 entities, measured). Within a
 * partition the keys still sort as numbered.
 */
export function entityAt(p: number, r: number): WireEntity {
  return { ...makeEntity(p, r), rowKey: rowKeyAt(p, r) };
}

function rowKeyAt(p: number, r: number): string {
  return `${rowKey(r)}-${partitionKey(p)}`;
}

/** The source's keys in the service's order. */
export function sourceKeys(layout: Layout): string[] {
  const keys: string[] = [];
  for (let p = 0; p < layout.partitions; p++) {
    const n = partitionSize(layout, p);
    for (let r = 0; r < n; r++) keys.push(`${partitionKey(p)}\u0000${rowKeyAt(p, r)}`);
  }
  return keys;
}

/** Fill the source table (not measured): transactions or single writes through the engine's writer. */
export async function seedSource(connectionString: string, layout: Layout): Promise<number> {
  const started = performance.now();
  const http = httpFor(connectionString);
  await ensureTable(http, SOURCE_TABLE);
  const writer = new TableWriter(http, SOURCE_TABLE, {
    concurrency: 32,
    maxFailuresKept: 5,
    sortedSource: true,
  });
  return writeLayout(writer, layout, entityAt, started);
}

/** Every key at the destination (keys only on the wire). */
export async function destinationKeys(connectionString: string, table: string): Promise<Set<string>> {
  const keys = new Set<string>();
  const reader = new TableReader(httpFor(connectionString), table, { select: ["PartitionKey", "RowKey"] });
  try {
    for await (const page of reader.pages())
      for (const e of page.entities) keys.add(`${e.partitionKey}\u0000${e.rowKey}`);
  } catch (err) {
    // Killed before the table was created: nothing landed.
    if (!(err instanceof TableMissingError)) throw err;
  }
  return keys;
}

export interface StateCheckpoint {
  read: number;
  written?: number;
  at: string;
}

/** The checkpoint the killed run left in the state file (undefined: none saved yet). */
export function savedCheckpoint(stateFile: string): { checkpoint?: StateCheckpoint; savedAgoMs?: number } {
  let text: string;
  try {
    text = readFileSync(stateFile, "utf8");
  } catch {
    return {};
  }
  const state = JSON.parse(text) as { tables?: Record<string, { checkpoint?: StateCheckpoint }> };
  const checkpoint = Object.values(state.tables ?? {}).find((t) => t.checkpoint)?.checkpoint;
  return { checkpoint, savedAgoMs: Date.now() - statSync(stateFile).mtimeMs };
}
