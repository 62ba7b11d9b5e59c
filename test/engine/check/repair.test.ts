import { describe, expect, inject, it } from "vitest";
import { differingProperties, type WireEntity } from "../../../src/engine/wire/edm.js";
import { runSync } from "../../../src/engine/copy/run-sync.js";
import { verifyTable } from "../../../src/engine/check/verify.js";
import { syncConfig } from "../../support/sync.js";
import {
  byKey,
  httpFor,
  insertRaw,
  readAll,
  seedEntities,
  simpleEntity,
  uniqueTable,
} from "../../support/tables.js";

const src = inject("sourceConnectionString");
const dst = inject("destinationConnectionString");

const conn = (kind: "table" | "cosmos" = "table") => ({
  source: httpFor(src),
  destination: httpFor(dst, kind),
});

function many(n: number, partitions: number): WireEntity[] {
  return Array.from({ length: n }, (_, i) =>
    simpleEntity(`p${i % partitions}`, `r${String(i).padStart(4, "0")}`, { n: i, s: `value ${i}` }),
  );
}

async function deleteEntity(connectionString: string, table: string, pk: string, rk: string): Promise<void> {
  const http = httpFor(connectionString);
  const res = await http.send({
    method: "DELETE",
    url: `${http.url}/${table}(PartitionKey='${pk}',RowKey='${rk}')`,
    headers: { "If-Match": "*" },
  });
  expect(res.status).toBe(204);
}

async function expectSame(srcTable: string, dstTable: string): Promise<void> {
  const a = byKey(await readAll(src, srcTable));
  const b = byKey(await readAll(dst, dstTable));
  expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
  for (const [k, e] of a) expect(differingProperties(e, b.get(k)!), k).toEqual([]);
}

describe("repair", () => {
  it("copies missing and different entities, and leaves extras alone without deleteExtra", async () => {
    const table = uniqueTable("rcopy");
    const entities = many(150, 3);
    await seedEntities(src, table, entities);
    const onDst = entities
      .filter((_, i) => i % 7 !== 0)
      .map((e, i) =>
        i % 11 === 0
          ? { ...e, properties: new Map([["n", { type: "Edm.Double" as const, value: "1.5" }]]) }
          : e,
      );
    await seedEntities(dst, table, [...onDst, simpleEntity("p9", "extra", { s: "only here" })]);

    const r = await verifyTable(conn(), { source: table, destination: table }, { renames: [], repair: true });
    const missing = 150 - onDst.length;
    const different = onDst.filter((_, i) => i % 11 === 0).length;
    expect(r).toMatchObject({ missing, different, extra: 1, inSync: false });
    expect(r.repair).toEqual({
      copied: missing + different,
      deleted: 0,
      skipped: 0,
      failed: 0,
      failures: [],
      conflicts: 0,
      conflictDetails: [],
      complete: true,
    });

    const after = await verifyTable(conn(), { source: table, destination: table }, { renames: [] });
    expect(after).toMatchObject({ missing: 0, different: 0, extra: 1 });
    expect(after.extraSamples).toEqual([{ partitionKey: "p9", rowKey: "extra" }]);
  });

  it("brings a delete made on the source after the full sync to the destination (deleteExtra)", async () => {
    const table = uniqueTable("rdelete");
    await seedEntities(src, table, many(60, 2));
    const sync = await runSync(syncConfig(src, dst, [table]));
    expect(sync.tables[0]).toMatchObject({ read: 60, written: 60, failed: 0 });

    // The app deletes an entity and changes another on the old store before the switch; a Timestamp
    // backfill can see the change but never the delete.
    await deleteEntity(src, table, "p1", "r0005");
    await insertRaw(src, table, [`{"PartitionKey":"p0","RowKey":"new","s":"written later"}`]);

    const found = await verifyTable(conn(), { source: table, destination: table }, { renames: [] });
    expect(found).toMatchObject({
      sourceCount: 60,
      destinationCount: 60,
      missing: 1,
      extra: 1,
      inSync: false,
    });
    expect(found.extraSamples).toEqual([{ partitionKey: "p1", rowKey: "r0005" }]);

    const repaired = await verifyTable(
      conn(),
      { source: table, destination: table },
      {
        renames: [],
        repair: true,
        deleteExtra: true,
      },
    );
    expect(repaired.repair).toMatchObject({ copied: 1, deleted: 1, skipped: 0, failed: 0, complete: true });
    const after = await verifyTable(conn(), { source: table, destination: table }, { renames: [] });
    expect(after).toMatchObject({ sourceCount: 60, destinationCount: 60, inSync: true });
    await expectSame(table, table);
  });

  it("re-reads the source before acting: no delete of an entity the source now holds, no copy of one it lost", async () => {
    const table = uniqueTable("rrace");
    await seedEntities(src, table, many(10, 1));
    await seedEntities(dst, table, [...many(10, 1).slice(1), simpleEntity("p0", "late", { s: "x" })]);
    // Between verify's scan and its repair, the app writes "late" and deletes r0000 on the source.
    const source = httpFor(src);
    const send = source.send.bind(source);
    source.send = async (spec) => {
      if (spec.method === "GET" && spec.url.includes("RowKey='late')")) {
        await seedEntities(src, table, [simpleEntity("p0", "late", { s: "x" })]);
      }
      if (spec.method === "GET" && spec.url.includes("RowKey='r0000')"))
        await deleteEntity(src, table, "p0", "r0000");
      return send(spec);
    };
    const r = await verifyTable(
      { source, destination: httpFor(dst) },
      { source: table, destination: table },
      {
        renames: [],
        repair: true,
        deleteExtra: true,
      },
    );
    expect(r).toMatchObject({ missing: 1, extra: 1, inSync: false });
    expect(r.repair).toMatchObject({ copied: 0, deleted: 0, skipped: 2, failed: 0, complete: true });
    const after = await verifyTable(conn(), { source: table, destination: table }, { renames: [] });
    expect(after).toMatchObject({ sourceCount: 10, destinationCount: 10, inSync: true });
  });

  it("writes repaired entities with the renames, into a table that did not exist", async () => {
    const from = uniqueTable("rren");
    const to = uniqueTable("rrento");
    await seedEntities(src, from, [
      simpleEntity("p", "1", { id: "a", v: 1 }),
      simpleEntity("p", "2", { id: "b", v: 2.25 }),
    ]);
    const renames = [{ from: "id", to: "entityId" }];
    const r = await verifyTable(conn("cosmos"), { source: from, destination: to }, { renames, repair: true });
    expect(r).toMatchObject({ missing: 2, destinationCount: 0 });
    expect(r.repair).toMatchObject({ copied: 2, failed: 0, complete: true });
    const written = byKey(await readAll(dst, to));
    expect(written.get("p\u00001")?.properties.get("entityId")).toEqual({ type: "Edm.String", value: "a" });
    expect(written.get("p\u00002")?.properties.get("v")).toEqual({ type: "Edm.Double", value: "2.25" });
    expect(written.get("p\u00001")?.properties.has("id")).toBe(false);
    const after = await verifyTable(conn("cosmos"), { source: from, destination: to }, { renames });
    expect(after.inSync).toBe(true);
  });

  it("repairs what a sample finds, and says delete-extra needs a full verify", async () => {
    const table = uniqueTable("rsample");
    const entities = many(80, 4);
    await seedEntities(src, table, entities);
    await seedEntities(dst, table, [...entities.slice(0, 40), simpleEntity("zz", "extra", { s: "x" })]);
    const r = await verifyTable(
      conn(),
      { source: table, destination: table },
      {
        renames: [],
        sample: 0.5,
        seed: "s1",
        repair: true,
        deleteExtra: true,
      },
    );
    expect(r.missing).toBeGreaterThan(0);
    expect(r.repair).toMatchObject({ copied: r.missing, deleted: 0, failed: 0 });
    expect(r.notes.join(" ")).toContain("delete-extra needs a full verify");
    const again = await verifyTable(
      conn(),
      { source: table, destination: table },
      { renames: [], sample: 0.5, seed: "s1" },
    );
    expect(again).toMatchObject({ missing: 0, different: 0, inSync: true });
    const full = await verifyTable(conn(), { source: table, destination: table }, { renames: [] });
    expect(full).toMatchObject({ missing: 40 - r.missing, extra: 1 });
  });
});
