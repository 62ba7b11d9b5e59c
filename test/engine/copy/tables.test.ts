// Several tables in one run, renamed destinations, a missing source table, paging, filters, dry runs.
import { describe, expect, inject, it } from "vitest";
import type { TableResult } from "../../../src/engine/copy/result.js";
import { runSync } from "../../../src/engine/copy/run-sync.js";
import { tableExists } from "../../../src/engine/wire/tables.js";
import { TableReader } from "../../../src/engine/copy/reader.js";
import { key, rawDifferences, rawEntities, syncConfig } from "../../support/sync.js";
import { byKey, httpFor, readAll, seedEntities, simpleEntity, uniqueTable } from "../../support/tables.js";

const src = inject("sourceConnectionString");
const dst = inject("destinationConnectionString");

async function exists(connectionString: string, table: string): Promise<boolean | undefined> {
  return await tableExists(httpFor(connectionString), table);
}

describe("several tables", () => {
  it("copies each to its destination (source:destination), fails a missing source table alone", async () => {
    const a = uniqueTable("multiA");
    const b = uniqueTable("multiB");
    const missing = uniqueTable("multiMissing");
    const aDest = uniqueTable("multiADest");
    await seedEntities(
      src,
      a,
      Array.from({ length: 120 }, (_, i) => simpleEntity(`p${i % 2}`, `r${i}`, { table: "a", i })),
    );
    await seedEntities(
      src,
      b,
      Array.from({ length: 30 }, (_, i) => simpleEntity("p", `r${i}`, { table: "b", i })),
    );
    const ended: TableResult[] = [];
    const result = await runSync(syncConfig(src, dst, [[a, aDest], missing, b]), {
      onTableEnd: (r) => {
        ended.push(r);
      },
    });

    expect(result.tables.map((t) => [t.source, t.destination])).toEqual([
      [a, aDest],
      [missing, missing],
      [b, b],
    ]);
    const [ta, tm, tb] = result.tables;
    expect(ta).toMatchObject({ read: 120, written: 120, failed: 0 });
    expect(ta.error).toBeUndefined();
    expect(tb).toMatchObject({ read: 30, written: 30, failed: 0 });
    expect(tb.error).toBeUndefined();
    expect(tm).toMatchObject({ read: 0, written: 0 });
    expect(tm.error).toBe(`Table ${missing} does not exist on the source.`);
    expect(result.totals).toMatchObject({ tables: 3, read: 150, written: 150, failed: 0, tablesFailed: 1 });
    // Copied at once: they end in any order, and the result keeps the order they were given in.
    expect(ended.map((r) => r.source).sort()).toEqual([a, missing, b].sort());

    expect(rawDifferences(await rawEntities(src, a), await rawEntities(dst, aDest))).toEqual([]);
    expect(rawDifferences(await rawEntities(src, b), await rawEntities(dst, b))).toEqual([]);
    // The renamed table went only where it was told to, and a missing source table made none.
    expect(await exists(dst, a)).toBe(false);
    expect(await exists(dst, missing)).toBe(false);
  });

  it("copies several tables at once, or one after another with tablesAtOnce 1", async () => {
    const tables = [uniqueTable("conA"), uniqueTable("conB"), uniqueTable("conC")];
    for (const t of tables)
      await seedEntities(
        src,
        t,
        Array.from({ length: 1_500 }, (_, i) => simpleEntity(`p${i % 5}`, `r${i}`, { t, i })),
      );
    for (const tablesAtOnce of [undefined, 1]) {
      const events: string[] = [];
      const result = await runSync(syncConfig(src, dst, tables, { tablesAtOnce }), {
        onTableStart: (spec) => events.push(`start ${spec.source}`),
        onTableEnd: (r) => {
          events.push(`end ${r.source}`);
        },
      });
      expect(result.totals).toMatchObject({ tables: 3, read: 4_500, written: 4_500, failed: 0 });
      const firstEnd = events.findIndex((e) => e.startsWith("end"));
      if (tablesAtOnce === 1) expect(events.slice(0, 2)).toEqual([`start ${tables[0]}`, `end ${tables[0]}`]);
      else expect(events.slice(0, firstEnd)).toHaveLength(3); // all three started before the first ended
      for (const t of tables)
        expect(rawDifferences(await rawEntities(src, t), await rawEntities(dst, t))).toEqual([]);
    }
  });

  it("reads up to two pages ahead of a slow consumer, and no further", async () => {
    const t = uniqueTable("ahead");
    await seedEntities(
      src,
      t,
      Array.from({ length: 5_500 }, (_, i) =>
        simpleEntity(`p${i % 3}`, `r${String(i).padStart(5, "0")}`, { i }),
      ),
    );
    const reader = new TableReader(httpFor(src), t);
    const pages = reader.pages();
    await pages.next(); // the consumer holds the first page …
    await new Promise((r) => setTimeout(r, 500));
    expect(reader.httpStats.requests).toBe(3); // … while two more wait
    let entities = 0;
    for await (const page of pages) entities += page.entities.length;
    expect(entities + 1_000).toBe(5_500);
  });

  it("many transactions in flight on one cancellable run: no listener-leak warning", async () => {
    const t = uniqueTable("wide");
    await seedEntities(
      src,
      t,
      Array.from({ length: 4_000 }, (_, i) => simpleEntity(`p${i % 40}`, `r${i}`, { i })),
    );
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on("warning", onWarning);
    try {
      const result = await runSync(syncConfig(src, dst, [t], { concurrency: 32 }), {
        signal: new AbortController().signal,
      });
      expect(result.tables[0]).toMatchObject({ read: 4_000, written: 4_000, failed: 0 });
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings).not.toContain("MaxListenersExceededWarning");
  });

  it("writes into a destination table that already exists", async () => {
    const table = uniqueTable("exists");
    await seedEntities(src, table, [simpleEntity("p", "new", { v: 1 })]);
    await seedEntities(dst, table, [simpleEntity("p", "old", { v: 0 })]);
    const result = await runSync(syncConfig(src, dst, [table]));
    expect(result.tables[0]).toMatchObject({ read: 1, written: 1, failed: 0 });
    expect(result.tables[0].error).toBeUndefined();
    expect([...byKey(await readAll(dst, table)).keys()].sort()).toEqual([key("p", "new"), key("p", "old")]);
  });
});

describe("paging", () => {
  it("follows continuations across pages with awkward keys: nothing lost, nothing doubled", async () => {
    const table = uniqueTable("paging");
    const pks = ["a b", "ü中😀", "O'Brien", "100%+", ""];
    const entities = Array.from({ length: 2500 }, (_, i) =>
      simpleEntity(pks[i % pks.length], `it's ${String(i).padStart(4, "0")} é`, { i }),
    );
    await seedEntities(src, table, entities);
    const result = await runSync(syncConfig(src, dst, [table]));
    expect(result.tables[0]).toMatchObject({ read: 2500, written: 2500, failed: 0 });
    const copied = byKey(await readAll(dst, table));
    expect(copied.size).toBe(2500);
    for (const e of entities) expect(copied.has(key(e.partitionKey, e.rowKey))).toBe(true);
    expect(rawDifferences(await rawEntities(src, table), await rawEntities(dst, table))).toEqual([]);
  });

  it("pages on past an empty PartitionKey with more than one page of entities", async () => {
    // Azurite then sends only x-ms-continuation-NextRowKey: that header alone must mean "more".
    const table = uniqueTable("emptypk");
    const entities = [
      ...Array.from({ length: 1_500 }, (_, i) => simpleEntity("", `r${String(i).padStart(5, "0")}`, { i })),
      ...Array.from({ length: 300 }, (_, i) => simpleEntity("z", `r${i}`, { i })),
    ];
    await seedEntities(src, table, entities);
    const reader = new TableReader(httpFor(src), table);
    const sizes: number[] = [];
    for await (const page of reader.pages()) sizes.push(page.entities.length);
    expect(sizes).toEqual([1_000, 800]);
    const result = await runSync(syncConfig(src, dst, [table]));
    expect(result.tables[0]).toMatchObject({ read: 1_800, written: 1_800, failed: 0 });
    expect(rawDifferences(await rawEntities(src, table), await rawEntities(dst, table))).toEqual([]);
  });

  it("pages as large as the service gives", async () => {
    const table = uniqueTable("firstpage");
    await seedEntities(
      src,
      table,
      Array.from({ length: 2_345 }, (_, i) =>
        simpleEntity(`p${i % 4}`, `r${String(i).padStart(5, "0")}`, { i }),
      ),
    );
    const sizes: number[] = [];
    for await (const page of new TableReader(httpFor(src), table).pages()) sizes.push(page.entities.length);
    expect(sizes).toEqual([1_000, 1_000, 345]);
    const result = await runSync(syncConfig(src, dst, [table]));
    expect(result.tables[0]).toMatchObject({ read: 2_345, written: 2_345, failed: 0 });
    expect(rawDifferences(await rawEntities(src, table), await rawEntities(dst, table))).toEqual([]);
  });
});

describe("filters and dry runs", () => {
  it("copies only what query-filter selects", async () => {
    const table = uniqueTable("filter");
    await seedEntities(
      src,
      table,
      Array.from({ length: 60 }, (_, i) => simpleEntity(["a", "b", "c"][i % 3], `r${i}`, { i })),
    );
    const result = await runSync(
      syncConfig(src, dst, [table], { queryFilter: "PartitionKey eq 'b' and i lt 30" }),
    );
    expect(result.tables[0]).toMatchObject({
      read: 10,
      written: 10,
      failed: 0,
      filter: "PartitionKey eq 'b' and i lt 30",
    });
    const copied = await readAll(dst, table);
    expect(copied).toHaveLength(10);
    for (const e of copied) {
      expect(e.partitionKey).toBe("b");
      expect(Number(e.properties.get("i")!.value)).toBeLessThan(30);
    }
  });

  it("a dry run reads and counts but writes nothing and creates no table", async () => {
    const table = uniqueTable("dry");
    await seedEntities(
      src,
      table,
      Array.from({ length: 42 }, (_, i) => simpleEntity("p", `r${i}`, { i })),
    );
    const result = await runSync(syncConfig(src, dst, [table], { dryRun: true }));
    expect(result.tables[0]).toMatchObject({ read: 42, written: 0, failed: 0, transactions: 0 });
    expect(result.tables[0].error).toBeUndefined();
    expect(await exists(dst, table)).toBe(false);
  });
});
