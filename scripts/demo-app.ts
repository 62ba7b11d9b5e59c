// The application's side of the demo (demo.ts): its own requests to either server, and both sides
// compared at wire level.
import { keyUrl } from "../src/engine/wire/batch.js";
import { differingProperties, entityJson, type WireEntity, type WireValue } from "../src/engine/wire/edm.js";
import { readDestinationEntity } from "../src/engine/copy/post-switch.js";
import type { AzuriteServer } from "../test/support/azurite.js";
import { byKey, httpFor, readAll } from "../test/support/tables.js";
import { keyText, type Key } from "./demo-data.js";
import type { Servers } from "./demo-cli.js";
import { expect } from "./demo-print.js";

// ---- the application's own requests (not the CLI's) ----

/** An upsert as the app would send it (PUT, replace), straight to one of the servers. */
export async function appWrite(server: AzuriteServer, table: string, e: WireEntity): Promise<void> {
  const http = httpFor(server.connectionString);
  const res = await http.send({
    method: "PUT",
    url: keyUrl(`${http.url}/${table}`, e.partitionKey, e.rowKey),
    headers: { "Content-Type": "application/json", Accept: "application/json;odata=nometadata" },
    body: entityJson(e),
  });
  expect(res.status === 204, `the app's write to ${table} got HTTP ${res.status}`);
}

/** A delete as the app would send it: DELETE with If-Match * (whatever the entity's version). */
export async function appDelete(server: AzuriteServer, table: string, key: Key): Promise<void> {
  const http = httpFor(server.connectionString);
  const res = await http.send({
    method: "DELETE",
    url: keyUrl(`${http.url}/${table}`, key.partitionKey, key.rowKey),
    headers: { "If-Match": "*", Accept: "application/json;odata=nometadata" },
  });
  expect(res.status === 204, `the app's delete in ${table} got HTTP ${res.status}`);
}

export async function readEntity(server: AzuriteServer, table: string, key: Key) {
  return await readDestinationEntity(httpFor(server.connectionString), table, key.partitionKey, key.rowKey);
}

/** Source and destination compared entity by entity at wire level (with the demo's property rename). */
export async function compareWire(
  s: Servers,
  from: string,
  to: string,
): Promise<{ count: number; dest: Map<string, WireEntity>; diffs: (Key & { properties: string[] })[] }> {
  const [a, b] = await Promise.all([
    readAll(s.source.connectionString, from),
    readAll(s.destination.connectionString, to),
  ]);
  const dest = byKey(b);
  expect(a.length === b.length, `${to} has ${b.length} entities, the source ${from} has ${a.length}`);
  const diffs: (Key & { properties: string[] })[] = [];
  for (const e of a) {
    const renamed: WireEntity = {
      ...e,
      properties: new Map([...e.properties].map(([k, v]) => [k === "id" ? "entityId" : k, v])),
    };
    const other = dest.get(`${e.partitionKey}\u0000${e.rowKey}`);
    expect(other, `${to} lacks ${keyText(e)}`);
    const properties = differingProperties(renamed, other);
    if (properties.length) diffs.push({ partitionKey: e.partitionKey, rowKey: e.rowKey, properties });
  }
  return { count: a.length, dest, diffs };
}

export function show(name: string, v: WireValue | undefined): string {
  return v ? `${name.padEnd(9)} ${v.type.padEnd(12)} ${String(v.value)}` : `${name} missing`;
}
