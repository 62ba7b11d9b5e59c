import { describe, expect, inject, it } from "vitest";
import { runSync } from "../../../src/engine/copy/run-sync.js";
import { differingProperties } from "../../../src/engine/wire/edm.js";
import { byKey, insertRaw, createTable, readAll, uniqueTable } from "../../support/tables.js";

describe("smoke", () => {
  it("copies typed entities exactly", async () => {
    const src = inject("sourceConnectionString");
    const dst = inject("destinationConnectionString");
    const table = uniqueTable("smoke");
    await createTable(src, table);
    await insertRaw(src, table, [
      `{"PartitionKey":"p","RowKey":"1","d":1.0,"d@odata.type":"Edm.Double","big":"9223372036854775807","big@odata.type":"Edm.Int64","dt":"9999-12-31T23:59:59.9999999Z","dt@odata.type":"Edm.DateTime"}`,
    ]);
    const result = await runSync({
      source: { connectionString: src },
      destination: { connectionString: dst },
      tables: [{ source: table, destination: table }],
      writeMode: "replace",
      propertyRenames: [],
      concurrency: 4,
      createTables: true,
      dryRun: false,
      maxFailuresKept: 10,
    });
    expect(result.tables[0]).toMatchObject({ read: 1, written: 1, failed: 0 });
    const a = byKey(await readAll(src, table));
    const b = byKey(await readAll(dst, table));
    for (const [k, e] of a) expect(differingProperties(e, b.get(k)!)).toEqual([]);
    expect(b.get("p\u00001")!.properties.get("d")).toEqual({ type: "Edm.Double", value: "1.0" });
  });
});
