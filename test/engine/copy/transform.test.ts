// Property renames, and the guard against property names Cosmos DB for Table reserves.
import { describe, expect, inject, it } from "vitest";
import { propertyNames, type WireEntity, type WireValue } from "../../../src/engine/wire/edm.js";
import { readCopyPage } from "../../../src/engine/wire/entity-page.js";
import { runSync } from "../../../src/engine/copy/run-sync.js";
import {
  createTransformer,
  isCosmosReserved,
  suggestName,
  TransformError,
} from "../../../src/engine/copy/transform.js";
import { key, syncConfig } from "../../support/sync.js";
import {
  byKey,
  createTable,
  insertRaw,
  readAll,
  seedEntities,
  simpleEntity,
  uniqueTable,
} from "../../support/tables.js";

const src = inject("sourceConnectionString");
const dst = inject("destinationConnectionString");

function entity(pk: string, rk: string, props: [string, WireValue][]): WireEntity {
  return { partitionKey: pk, rowKey: rk, properties: new Map(props) };
}

const str = (value: string): WireValue => ({ type: "Edm.String", value });

describe("createTransformer", () => {
  it("returns the entity itself when there is nothing to do", () => {
    const t = createTransformer({ renames: [], destinationKind: "table", sourceTable: "t" });
    const e = entity("p", "r", [["id", str("x")]]);
    expect(t.apply(e)).toBe(e);
  });

  it("renames in place, keeping order, types and values", () => {
    const t = createTransformer({
      renames: [{ from: "b", to: "beta" }],
      destinationKind: "table",
      sourceTable: "t",
    });
    const out = t.apply(
      entity("p", "r", [
        ["a", str("1")],
        ["b", { type: "Edm.Int64", value: "9007199254740993" }],
        ["c", { type: "Edm.Double", value: "1.0" }],
      ]),
    );
    expect([...out.properties]).toEqual([
      ["a", str("1")],
      ["beta", { type: "Edm.Int64", value: "9007199254740993" }],
      ["c", { type: "Edm.Double", value: "1.0" }],
    ]);
  });

  it("allows swapping two names, refuses a collision with a property that stays", () => {
    const swap = createTransformer({
      renames: [
        { from: "x", to: "y" },
        { from: "y", to: "x" },
      ],
      destinationKind: "table",
      sourceTable: "t",
    });
    const out = swap.apply(
      entity("p", "r", [
        ["x", str("was x")],
        ["y", str("was y")],
      ]),
    );
    expect(Object.fromEntries(out.properties)).toEqual({ y: str("was x"), x: str("was y") });
    const collide = createTransformer({
      renames: [{ from: "x", to: "y" }],
      destinationKind: "table",
      sourceTable: "t",
    });
    expect(() =>
      collide.apply(
        entity("p", "r", [
          ["x", str("1")],
          ["y", str("2")],
        ]),
      ),
    ).toThrow(/renaming property 'x' to 'y' collides with an existing property 'y'/);
  });

  it("knows Cosmos' reserved names case-insensitively", () => {
    for (const n of ["id", "ID", "Id", "etag", "ETag", "rid", "RID", "ResourceId", "resourceid"]) {
      expect(isCosmosReserved(n), n).toBe(true);
    }
    for (const n of ["ids", "entityId", "Timestamp", "PartitionKey", "_rid", "e_tag"]) {
      expect(isCosmosReserved(n), n).toBe(false);
    }
    expect(suggestName("id")).toBe("entityId");
    expect(suggestName("ETag")).toBe("entityETag");
  });

  it("throws a TransformError naming table, keys, property and the rename to add", () => {
    const t = createTransformer({ renames: [], destinationKind: "cosmos", sourceTable: "orders" });
    expect(() => t.apply(entity("pk1", "rk1", [["ETag", str("x")]]))).toThrow(TransformError);
    expect(() => t.apply(entity("pk1", "rk1", [["ETag", str("x")]]))).toThrow(
      "Table orders, PartitionKey 'pk1', RowKey 'rk1': property 'ETag' is reserved by Cosmos DB for Table; " +
        "add the rename 'ETag:entityETag' to property-renames.",
    );
  });

  it("checks an entity cut from a page by its names, the same way, and passes it on as it is", () => {
    const t = createTransformer({ renames: [], destinationKind: "cosmos", sourceTable: "orders" });
    const page =
      '{"value":[{"PartitionKey":"pk1","RowKey":"rk1","Name":"a","Id":null},' +
      '{"PartitionKey":"pk1","RowKey":"rk2","Name":"b","Id@odata.type":"Edm.Int64","Id":"7"}]}';
    const [clean, reserved] = readCopyPage(page);
    // A null value is no property (the parsed entity has none): nothing to refuse.
    expect(t.apply(clean)).toBe(clean);
    expect(() => t.apply(reserved)).toThrow(
      "Table orders, PartitionKey 'pk1', RowKey 'rk2': property 'Id' is reserved by Cosmos DB for Table; " +
        "add the rename 'Id:entityId' to property-renames.",
    );
    expect([...propertyNames(reserved)]).toEqual([...reserved.properties.keys()]);
  });
});

describe("renames in a run", () => {
  it("renames properties on the way, keeping exact types", async () => {
    const table = uniqueTable("renames");
    await createTable(src, table);
    await insertRaw(
      src,
      table,
      Array.from(
        { length: 5 },
        (_, i) =>
          `{"PartitionKey":"p","RowKey":"r${i}","a":"v${i}","big@odata.type":"Edm.Int64","big":"-9223372036854775808",` +
          `"d@odata.type":"Edm.Double","d":${i}.0,"x":"was x","y":"was y"}`,
      ),
    );
    const result = await runSync(
      syncConfig(src, dst, [table], {
        propertyRenames: [
          { from: "a", to: "alpha" },
          { from: "big", to: "bigNumber" },
          { from: "x", to: "y" },
          { from: "y", to: "x" },
        ],
      }),
    );
    expect(result.tables[0]).toMatchObject({ read: 5, written: 5, failed: 0 });
    const out = await readAll(dst, table);
    expect(out).toHaveLength(5);
    for (const e of out) {
      const i = e.rowKey.slice(1);
      expect(Object.fromEntries(e.properties)).toEqual({
        alpha: str(`v${i}`),
        bigNumber: { type: "Edm.Int64", value: "-9223372036854775808" },
        d: { type: "Edm.Double", value: `${i}.0` },
        x: str("was y"),
        y: str("was x"),
      });
    }
  });

  it("fails only the entity whose rename collides", async () => {
    const table = uniqueTable("renameCollide");
    await seedEntities(src, table, [
      simpleEntity("p", "ok1", { a: "1" }),
      simpleEntity("p", "clash", { a: "1", b: "2" }),
      simpleEntity("p", "ok2", { a: "3" }),
    ]);
    const result = await runSync(
      syncConfig(src, dst, [table], { propertyRenames: [{ from: "a", to: "b" }] }),
    );
    expect(result.tables[0]).toMatchObject({ read: 3, written: 2, failed: 1 });
    expect(result.tables[0].failures).toEqual([
      {
        partitionKey: "p",
        rowKey: "clash",
        message: expect.stringContaining(
          "renaming property 'a' to 'b' collides with an existing property 'b'",
        ),
      },
    ]);
    expect([...byKey(await readAll(dst, table)).keys()].sort()).toEqual([key("p", "ok1"), key("p", "ok2")]);
  });
});

describe("Cosmos reserved names", () => {
  const reserved: [string, string][] = [
    ["withId", "id"],
    ["withETag", "ETag"],
    ["withEtagLower", "etag"],
    ["withRid", "Rid"],
    ["withResourceId", "resourceId"],
  ];

  async function seed(): Promise<string> {
    const table = uniqueTable("reserved");
    const entities = Array.from({ length: 100 }, (_, i) =>
      simpleEntity("p", `ok${String(i).padStart(3, "0")}`, { v: i }),
    );
    for (const [rk, name] of reserved)
      entities.push(simpleEntity("p", rk, { [name]: `value of ${name}`, v: 1 }));
    await seedEntities(src, table, entities);
    return table;
  }

  it("fails each entity with a reserved name, says which rename to add, and writes the others", async () => {
    const table = await seed();
    const result = await runSync(
      syncConfig(src, dst, [table], { destination: { connectionString: dst, kind: "cosmos" } }),
    );
    const t = result.tables[0];
    expect(result.destinationKind).toBe("cosmos");
    expect(t).toMatchObject({ read: 105, written: 100, failed: 5 });
    expect(t.error).toBeUndefined();
    const byRow = new Map(t.failures.map((f) => [f.rowKey, f]));
    expect([...byRow.keys()].sort()).toEqual(reserved.map(([rk]) => rk).sort());
    for (const [rk, name] of reserved) {
      const f = byRow.get(rk)!;
      expect(f.partitionKey).toBe("p");
      expect(f.message).toBe(
        `Table ${table}, PartitionKey 'p', RowKey '${rk}': property '${name}' is reserved by Cosmos DB for Table; ` +
          `add the rename '${name}:${suggestName(name)}' to property-renames.`,
      );
    }
    const written = byKey(await readAll(dst, table));
    expect(written.size).toBe(100);
    for (const [rk] of reserved) expect(written.has(key("p", rk))).toBe(false);
  });

  it("writes them all once the renames are given", async () => {
    const table = await seed();
    const result = await runSync(
      syncConfig(src, dst, [table], {
        destination: { connectionString: dst, kind: "cosmos" },
        propertyRenames: reserved.map(([, name]) => ({ from: name, to: suggestName(name) })),
      }),
    );
    expect(result.tables[0]).toMatchObject({ read: 105, written: 105, failed: 0 });
    const written = byKey(await readAll(dst, table));
    for (const [rk, name] of reserved) {
      const props = written.get(key("p", rk))!.properties;
      expect(props.get(suggestName(name))).toEqual(str(`value of ${name}`));
      expect(props.has(name)).toBe(false);
    }
  });

  it("refuses a rename whose target is reserved", async () => {
    const table = uniqueTable("reservedTarget");
    await seedEntities(src, table, [simpleEntity("p", "r", { key: "k" })]);
    const result = await runSync(
      syncConfig(src, dst, [table], {
        destination: { connectionString: dst, kind: "cosmos" },
        propertyRenames: [{ from: "key", to: "ID" }],
      }),
    );
    // Once for the table, before anything is read: not once per entity.
    expect(result.tables[0]).toMatchObject({ read: 0, written: 0 });
    expect(result.tables[0].error).toContain(
      "property-renames maps 'key' to 'ID', which Cosmos DB for Table reserves; choose another name (e.g. 'key:entityID').",
    );
  });

  it("copies reserved names unchanged to a Table Storage destination", async () => {
    const table = await seed();
    const result = await runSync(syncConfig(src, dst, [table]));
    expect(result.tables[0]).toMatchObject({ read: 105, written: 105, failed: 0 });
    const written = byKey(await readAll(dst, table));
    expect(written.get(key("p", "withETag"))!.properties.get("ETag")).toEqual(str("value of ETag"));
  });
});
