import { tableSucceeded } from "../../../src/engine/copy/result.js";
// One entity the service refuses fails alone; a table that cannot be reached or written fails with a
// clear message while the others complete.
import { describe, expect, inject, it } from "vitest";
import { runSync } from "../../../src/engine/copy/run-sync.js";
import { AZURITE_ACCOUNT, freePort } from "../../support/azurite.js";
import { BATCH, QUERY, faults, startFaultProxy } from "../../support/fault-proxy.js";
import { key, rawDifferences, rawEntities, syncConfig } from "../../support/sync.js";
import {
  byKey,
  createTable,
  httpFor,
  insertRaw,
  readAll,
  seedEntities,
  simpleEntity,
  uniqueTable,
} from "../../support/tables.js";

const src = inject("sourceConnectionString");
const dst = inject("destinationConnectionString");

const rk = (i: number) => `r${String(i).padStart(3, "0")}`;

/**
 * An entity of about 1.2 MB. Azurite's single-entity insert only checks the 4 MiB body limit, so the
 * source takes it; inside a transaction an upsert is checked against the 1 MiB entity limit and the
 * destination refuses it with EntityTooLarge — the one bad entity of its transaction.
 */
function oversizedBody(pk: string, rowKey: string): string {
  const props: Record<string, string> = { PartitionKey: pk, RowKey: rowKey };
  for (let i = 0; i < 40; i++) props[`s${i}`] = "y".repeat(30_000);
  return JSON.stringify(props);
}

describe("a bad entity", () => {
  it("fails alone: the other 99 of its transaction land, other partitions and tables are unaffected", async () => {
    const table = uniqueTable("badOne");
    const other = uniqueTable("badOther");
    await seedEntities(src, table, [
      ...Array.from({ length: 100 }, (_, i) => simpleEntity("p", rk(i), { i })).filter(
        (e) => e.rowKey !== rk(50),
      ),
      ...Array.from({ length: 30 }, (_, i) => simpleEntity("q", rk(i), { i })),
    ]);
    await insertRaw(src, table, [oversizedBody("p", rk(50))]);
    await seedEntities(
      src,
      other,
      Array.from({ length: 20 }, (_, i) => simpleEntity("p", rk(i), { i })),
    );

    for (const writeMode of ["replace", "merge"] as const) {
      const dest = uniqueTable("badOneDst");
      const result = await runSync(syncConfig(src, dst, [[table, dest], other], { writeMode }));
      const [t, o] = result.tables;
      // One transaction refused for one entity, then the same transaction without it, then partition q.
      expect(t, writeMode).toMatchObject({ read: 130, written: 129, failed: 1, transactions: 3 });
      expect(t.error).toBeUndefined();
      expect(t.failures).toEqual([
        {
          partitionKey: "p",
          rowKey: rk(50),
          status: 400,
          code: "EntityTooLarge",
          message: "The entity is larger than the maximum allowed size (1MB).",
        },
      ]);
      expect(o).toMatchObject({ read: 20, written: 20, failed: 0 });
      expect(o.error).toBeUndefined();
      expect(result.totals).toMatchObject({ read: 150, written: 149, failed: 1, tablesFailed: 1 });

      const written = byKey(await readAll(dst, dest));
      expect(written.size).toBe(129);
      expect(written.has(key("p", rk(50)))).toBe(false);
      for (let i = 0; i < 100; i++) if (i !== 50) expect(written.has(key("p", rk(i)))).toBe(true);
      for (let i = 0; i < 30; i++) expect(written.has(key("q", rk(i)))).toBe(true);
    }
  });

  it("a transaction refused as a whole (413) is halved until the parts are accepted", async () => {
    const table = uniqueTable("halve");
    await seedEntities(
      src,
      table,
      Array.from({ length: 100 }, (_, i) => simpleEntity("p", rk(i), { pad: "z".repeat(1000), i })),
    );
    // A stand-in for a service whose request limit is lower than ours: anything over 30 kB is refused.
    const proxy = await startFaultProxy({
      target: dst,
      rules: [{ ...BATCH, match: (r) => r.body.length > 30_000, fault: faults.status(413) }],
    });
    try {
      const result = await runSync(syncConfig(src, proxy.connectionString(), [table]));
      expect(result.tables[0]).toMatchObject({ read: 100, written: 100, failed: 0 });
      const accepted = proxy.requests("POST", BATCH.path).filter((e) => !e.fault);
      expect(accepted.length).toBeGreaterThanOrEqual(4);
      for (const e of accepted) expect(e.bytes).toBeLessThanOrEqual(30_000);
      expect(proxy.stats.byFault["status:413"]).toBeGreaterThan(0);
      expect(rawDifferences(await rawEntities(src, table), await rawEntities(dst, table))).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });

  it("a transaction of one refused entity is reported once, not retried", async () => {
    const table = uniqueTable("badAlone");
    await createTable(src, table);
    await insertRaw(src, table, [oversizedBody("only", "one")]);
    const result = await runSync(syncConfig(src, dst, [table]));
    expect(result.tables[0]).toMatchObject({ read: 1, written: 0, failed: 1, transactions: 1 });
    expect(result.tables[0].failures[0]).toMatchObject({
      partitionKey: "only",
      rowKey: "one",
      code: "EntityTooLarge",
    });
  });
});

describe("an entity that is not a table entity", () => {
  it("fails the table with what is wrong, after the entities before it landed", async () => {
    const table = uniqueTable("badType");
    await createTable(src, table);
    const entities = ["a", "b", "c"].map((r) => `{"PartitionKey":"p","RowKey":"${r}","n":1}`);
    entities[2] = '{"PartitionKey":"p","RowKey":"c","x@odata.type":"Edm.Decimal","x":"1.5"}';
    // A source answering a page whose third entity has a type no table has.
    const proxy = await startFaultProxy({
      target: src,
      rules: [
        {
          ...QUERY,
          fault: {
            kind: "status",
            status: 200,
            headers: { "content-type": "application/json;odata=minimalmetadata" },
            body: `{"odata.metadata":"m","value":[${entities.join(",")}]}`,
          },
        },
      ],
    });
    try {
      const result = await runSync(syncConfig(proxy.connectionString(), dst, [table]));
      expect(result.tables[0].error).toBe(
        `Table ${table}: the source sent an entity that cannot be copied exactly (property x has unknown type Edm.Decimal).`,
      );
      // Parsed as the copy reaches them: the two before it were written; the page was asked for once.
      expect(result.tables[0]).toMatchObject({ read: 2, written: 2 });
      expect((await readAll(dst, table)).map((e) => e.rowKey).sort()).toEqual(["a", "b"]);
      expect(proxy.stats.byFault["status:200"]).toBe(1);
    } finally {
      await proxy.stop();
    }
  });
});

describe("an unusable table", () => {
  it("a missing source table fails alone and leaves no empty table on the destination", async () => {
    const missing = uniqueTable("noSrc");
    const result = await runSync(syncConfig(src, dst, [missing]));
    expect(result.tables[0].error).toBe(`Table ${missing} does not exist on the source.`);
    const http = httpFor(dst);
    const res = await http.send({
      method: "GET",
      url: `${http.url}/Tables('${missing}')`,
      headers: { Accept: "application/json" },
    });
    expect(res.status).toBe(404);
  });

  it("a missing destination table (create-tables off) fails the table with one clear error, before any write", async () => {
    const table = uniqueTable("noDest");
    await seedEntities(
      src,
      table,
      Array.from({ length: 150 }, (_, i) => simpleEntity("p", rk(i), { i })),
    );
    const result = await runSync(syncConfig(src, dst, [table], { createTables: false }));
    const t = result.tables[0];
    expect(t).toMatchObject({ written: 0, transactions: 0 });
    expect(t.error).toBe(
      `Destination table ${table} does not exist and create-tables is off; create it (with enough throughput) or set create-tables to true.`,
    );
    expect(tableSucceeded(t)).toBe(false);
  });

  it("a refused destination credential fails the table with a clear error; the others complete", async () => {
    const good = uniqueTable("credGood");
    const table = uniqueTable("credBad");
    await seedEntities(src, table, [simpleEntity("p", "r", { v: 1 })]);
    await seedEntities(src, good, [simpleEntity("p", "r", { v: 1 })]);
    const wrongKey = dst.replace(
      /AccountKey=[^;]+/,
      `AccountKey=${Buffer.from("not the key").toString("base64")}`,
    );
    const result = await runSync(syncConfig(src, wrongKey, [table]));
    expect(result.tables[0].written).toBe(0);
    expect(result.tables[0].error).toMatch(/^Creating destination table \w+ was refused \(HTTP 403/);
    expect(result.tables[0].error).toContain(
      "the key, SAS or identity for the destination account was rejected",
    );
    expect(result.tables[0].error).not.toContain(Buffer.from("not the key").toString("base64"));
    const ok = await runSync(syncConfig(src, dst, [good]));
    expect(ok.tables[0]).toMatchObject({ read: 1, written: 1, failed: 0 });
  });

  it("an unreachable destination fails in bounded time with the network error", async () => {
    const table = uniqueTable("unreachable");
    await seedEntities(src, table, [simpleEntity("p", "r", { v: 1 })]);
    const port = await freePort();
    const nowhere = dst.replace(
      /TableEndpoint=[^;]+/,
      `TableEndpoint=http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`,
    );
    const started = Date.now();
    const result = await runSync(
      syncConfig(src, nowhere, [table], {
        retry: { baseDelayMs: 10, maxDelayMs: 50, maxNetworkRetries: 2 },
      }),
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.tables[0].error).toMatch(/ECONNREFUSED/);
    expect(result.tables[0].written).toBe(0);
    expect(result.tables[0].retries).toBe(2);
  });
});
