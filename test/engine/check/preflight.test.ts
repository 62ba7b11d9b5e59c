import { describe, expect, inject, it } from "vitest";
import { entityBytes, entityJson, type WireEntity } from "../../../src/engine/wire/edm.js";
import { keyProblems, preflightTable } from "../../../src/engine/check/preflight.js";
import { httpFor, insertRaw, seedEntities, simpleEntity, uniqueTable } from "../../support/tables.js";

const src = inject("sourceConnectionString");

function binaryEntity(pk: string, rk: string, properties: number, bytesEach: number): WireEntity {
  const e = simpleEntity(pk, rk, { name: "binary" });
  for (let i = 0; i < properties; i++) {
    e.properties.set(`b${i}`, { type: "Edm.Binary", value: Buffer.alloc(bytesEach, i).toString("base64") });
  }
  return e;
}

describe("preflight", () => {
  it("reports entities, partitions, the largest partition and entity, and the scan rate", async () => {
    const table = uniqueTable("pfig");
    const entities: WireEntity[] = [];
    for (const [pk, n] of [
      ["a", 5],
      ["b", 12],
      ["c", 3],
    ] as const) {
      for (let i = 0; i < n; i++) entities.push(simpleEntity(pk, `r${i}`, { n: i, s: "x".repeat(20) }));
    }
    const big = binaryEntity("c", "big", 1, 48_000);
    entities.push(big);
    await seedEntities(src, table, entities);

    const r = await preflightTable(httpFor(src), table, { destinationKind: "cosmos", renames: [] });
    expect(r.error).toBeUndefined();
    expect(r).toMatchObject({
      table,
      destinationKind: "cosmos",
      entities: 21,
      partitions: 3,
      largestPartition: { partitionKey: "b", entities: 12 },
      largestEntity: { partitionKey: "c", rowKey: "big", bytes: entityBytes(big) },
      reservedProperties: [],
      badKeys: 0,
      oversized: 0,
      blocking: [],
    });
    // Binary travels as base64: the JSON size counts ~4/3 of the raw bytes, as Cosmos does.
    expect(r.largestEntity!.bytes).toBeGreaterThan(64_000);
    expect(r.largestPartition!.bytes).toBe(
      entities.filter((e) => e.partitionKey === "b").reduce((sum, e) => sum + entityBytes(e), 0),
    );
    expect(r.totalBytes).toBe(entities.reduce((sum, e) => sum + entityBytes(e), 0));
    expect(r.scanEntitiesPerSecond).toBeGreaterThan(0);
    expect(r.fullSyncAtLeastMs).toBe(r.scanMs);
  });

  it("blocks on reserved property names without a rename, naming the rename to add", async () => {
    const table = uniqueTable("pres");
    await seedEntities(src, table, [
      simpleEntity("p", "1", { Id: "a" }),
      simpleEntity("p", "2", { Id: "b", rid: "x" }),
      simpleEntity("p", "3", { etag: "e", entityEtag: "already there" }),
      simpleEntity("p", "4", { key: "k" }),
      simpleEntity("p", "5", { n: 1 }),
    ]);
    const renames = [
      { from: "rid", to: "entityRid" },
      { from: "etag", to: "entityEtag" },
      { from: "key", to: "ResourceId" },
    ];
    const r = await preflightTable(httpFor(src), table, { destinationKind: "cosmos", renames });
    expect(r.reservedProperties).toEqual([
      { name: "Id", entities: 2, renamedTo: null },
      { name: "rid", entities: 1, renamedTo: "entityRid" },
      { name: "etag", entities: 1, renamedTo: "entityEtag" },
    ]);
    expect(r.renameCollisions).toEqual([{ from: "etag", to: "entityEtag", entities: 1 }]);
    expect(r.blocking).toEqual([
      `Table ${table}: property 'Id' (2 entities) is reserved by Cosmos DB for Table; add the rename 'Id:entityId' to property-renames.`,
      `Table ${table}: the rename 'key:ResourceId' gives 1 entities a property Cosmos DB for Table reserves; choose another target name in property-renames.`,
      `Table ${table}: 1 entities have both 'etag' and 'entityEtag', so the rename 'etag:entityEtag' would overwrite 'entityEtag'; choose a target name no entity uses in property-renames.`,
    ]);

    // Table Storage reserves none of them.
    const toTable = await preflightTable(httpFor(src), table, { destinationKind: "table", renames: [] });
    expect(toTable.blocking).toEqual([]);
    expect(toTable.reservedProperties.map((p) => p.name)).toEqual(["Id", "rid", "etag"]);
  });

  it("blocks on keys over Cosmos limits and entities over 2 MB", async () => {
    const table = uniqueTable("plim");
    const longRowKey = "é".repeat(130); // 130 characters, 260 bytes in UTF-8
    const huge = binaryEntity("p", "huge", 30, 65_536); // ~1.9 MB raw, ~2.6 MB as base64 JSON
    await seedEntities(src, table, [
      simpleEntity("p", "ok", { n: 1 }),
      simpleEntity("p", longRowKey, { n: 2 }),
    ]);
    // Azurite refuses it inside a transaction (1 MB there) but stores it from a single insert.
    await insertRaw(src, table, [entityJson(huge)]);

    const r = await preflightTable(httpFor(src), table, { destinationKind: "cosmos", renames: [] });
    expect(r).toMatchObject({ entities: 3, badKeys: 1, oversized: 1, oversizedLimitBytes: 2 * 1024 * 1024 });
    expect(r.badKeySamples).toEqual([
      { partitionKey: "p", rowKey: longRowKey, problems: ["RowKey is 260 bytes, over 255"] },
    ]);
    expect(r.oversizedSamples).toEqual([{ partitionKey: "p", rowKey: "huge", bytes: entityBytes(huge) }]);
    expect(r.blocking).toHaveLength(2);
    expect(r.blocking[0]).toBe(
      `Table ${table}: 1 entities have keys Cosmos DB for Table refuses (first: PartitionKey 'p', RowKey '${"é".repeat(37)}…': ` +
        `RowKey is 260 bytes, over 255); change those keys in the source, or leave those entities out with query-filter.`,
    );
    expect(r.blocking[1]).toMatch(
      new RegExp(
        `^Table ${table}: 1 entities are over 2\\.00 MB as JSON \\(first: PartitionKey 'p', RowKey 'huge', 2\\.\\d\\d MB\\), ` +
          `more than Cosmos DB for Table stores in one item; shrink them \\(e\\.g\\. move large Binary values to Blob Storage\\) ` +
          `or leave them out with query-filter\\.$`,
      ),
    );

    // Into Table Storage: the keys are fine and size is a warning, not a block.
    const toTable = await preflightTable(httpFor(src), table, { destinationKind: "table", renames: [] });
    expect(toTable.blocking).toEqual([]);
    expect(toTable.oversized).toBe(1);
    expect(toTable.warnings[0]).toContain("Table Storage may refuse them");
  });

  it("names forbidden characters and over-long PartitionKeys (which Azurite itself refuses to store)", () => {
    expect(keyProblems("p", "ok", "cosmos")).toEqual([]);
    expect(keyProblems("a/b", "c#d", "cosmos")).toEqual([
      "PartitionKey contains '/', which is not allowed in keys",
      "RowKey contains '#', which is not allowed in keys",
    ]);
    expect(keyProblems("p", "x\\y?", "table")).toEqual([
      "RowKey contains '\\', which is not allowed in keys",
    ]);
    expect(keyProblems("p\u0001", "r\u0085", "table")).toEqual([
      "PartitionKey contains U+0001, which is not allowed in keys",
      "RowKey contains U+0085, which is not allowed in keys",
    ]);
    expect(keyProblems("p".repeat(1025), "r".repeat(255), "cosmos")).toEqual([
      "PartitionKey is 1025 bytes, over 1024",
    ]);
    expect(keyProblems("p".repeat(1025), "r".repeat(256), "table")).toEqual([]);
  });

  it("reports a table that does not exist as an error", async () => {
    const table = uniqueTable("pmissing");
    const r = await preflightTable(httpFor(src), table, { destinationKind: "cosmos", renames: [] });
    expect(r.error).toContain(`Table ${table} does not exist`);
    expect(r.entities).toBe(0);
  });
});
