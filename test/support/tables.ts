// Helpers to seed and read tables at wire level, bypassing the SDK's type conversion.
import { createServiceClient } from "../../src/engine/wire/connection.js";
import { parseEntityPage, type WireEntity } from "../../src/engine/wire/edm.js";
import { TableHttp } from "../../src/engine/wire/http.js";
import { TableReader } from "../../src/engine/copy/reader.js";
import { ensureTable } from "../../src/engine/wire/tables.js";
import { TableWriter } from "../../src/engine/copy/writer.js";
import { randomUUID } from "node:crypto";

let counter = 0;
/** A table name no other test uses (Azure: letters and digits, starting with a letter). */
export function uniqueTable(prefix = "t"): string {
  counter++;
  return `${prefix}${randomUUID().replace(/-/g, "").slice(0, 10)}${counter}`.replace(/[^A-Za-z0-9]/g, "");
}

export function httpFor(connectionString: string, kind: "auto" | "cosmos" | "table" = "auto"): TableHttp {
  return new TableHttp(createServiceClient({ connectionString, kind }, "test"));
}

export async function createTable(connectionString: string, table: string): Promise<void> {
  await ensureTable(httpFor(connectionString), table);
}

/** Insert raw entity JSON bodies (exactly as given) one by one. */
export async function insertRaw(connectionString: string, table: string, bodies: string[]): Promise<void> {
  const http = httpFor(connectionString);
  for (const body of bodies) {
    const res = await http.send({
      method: "POST",
      url: `${http.url}/${table}`,
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json;odata=nometadata",
        Prefer: "return-no-content",
      },
      body,
    });
    if (res.status >= 300) throw new Error(`insert failed: ${res.status} ${res.body}`);
  }
}

/** Write entities through our own transactional writer (fast seeding of many entities). */
export async function seedEntities(
  connectionString: string,
  table: string,
  entities: WireEntity[],
): Promise<void> {
  const http = httpFor(connectionString);
  await ensureTable(http, table);
  const writer = new TableWriter(http, table, { concurrency: 8, maxFailuresKept: 10, sortedSource: false });
  for (const e of entities) await writer.add("upsert-replace", e);
  const c = await writer.flush();
  if (c.failed) throw new Error(`seeding failed: ${JSON.stringify(c.failures.slice(0, 3))}`);
}

/** The raw JSON text of every entity, keyed by PartitionKey/RowKey. */
export async function readRawBodies(connectionString: string, table: string): Promise<string> {
  const http = httpFor(connectionString);
  const res = await http.send({
    method: "GET",
    url: `${http.url}/${table}()`,
    headers: { Accept: "application/json;odata=minimalmetadata" },
  });
  return res.body;
}

/** Every entity of a table, with exact wire types (all pages). */
export async function readAll(
  connectionString: string,
  table: string,
  filter?: string,
): Promise<WireEntity[]> {
  const reader = new TableReader(httpFor(connectionString), table, { filter });
  const out: WireEntity[] = [];
  for await (const page of reader.pages()) out.push(...page.entities);
  return out;
}

export function byKey(entities: WireEntity[]): Map<string, WireEntity> {
  return new Map(entities.map((e) => [`${e.partitionKey}\u0000${e.rowKey}`, e]));
}

export { parseEntityPage };

/** A simple entity with string/int properties. */
export function simpleEntity(
  pk: string,
  rk: string,
  extra: Record<string, string | number | boolean> = {},
): WireEntity {
  const properties = new Map<
    string,
    { type: "Edm.String" | "Edm.Int32" | "Edm.Boolean" | "Edm.Double"; value: string | boolean }
  >();
  for (const [k, v] of Object.entries(extra)) {
    if (typeof v === "string") properties.set(k, { type: "Edm.String", value: v });
    else if (typeof v === "boolean") properties.set(k, { type: "Edm.Boolean", value: v });
    else if (Number.isInteger(v)) properties.set(k, { type: "Edm.Int32", value: String(v) });
    else properties.set(k, { type: "Edm.Double", value: String(v) });
  }
  return { partitionKey: pk, rowKey: rk, properties };
}
