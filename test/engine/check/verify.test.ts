import { readdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import type { WireEntity } from "../../../src/engine/wire/edm.js";
import { canonicalValue, inSample, propertiesDigest } from "../../../src/engine/check/entity-digest.js";
import { verifyTable } from "../../../src/engine/check/verify.js";
import { wireValuesEqual, type WireValue } from "../../../src/engine/wire/edm.js";
import { runSync } from "../../../src/engine/copy/run-sync.js";
import { syncConfig } from "../../support/sync.js";
import {
  createTable,
  httpFor,
  insertRaw,
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
const keys = (list: { partitionKey: string; rowKey: string }[]) =>
  list.map((k) => `${k.partitionKey}/${k.rowKey}`).sort();

const temp = mkdtempSync(join(tmpdir(), "verify-test-"));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

function many(n: number, partitions: number): WireEntity[] {
  return Array.from({ length: n }, (_, i) =>
    simpleEntity(`p${i % partitions}`, `r${String(i).padStart(5, "0")}`, {
      n: i,
      s: `value ${i}`,
      ok: i % 2 === 0,
      d: i + 0.5,
    }),
  );
}

describe("canonical digest", () => {
  const v = (type: WireValue["type"], value: string | boolean): WireValue => ({ type, value });
  it("gives equal values the same text and different ones different texts", () => {
    const pairs: [WireValue, WireValue][] = [
      [v("Edm.Double", "1"), v("Edm.Double", "1.0")],
      [v("Edm.Double", "1e3"), v("Edm.Double", "1000.0")],
      [v("Edm.Double", "NaN"), v("Edm.Double", "NaN")],
      [v("Edm.Int64", "007"), v("Edm.Int64", "7")],
      [
        v("Edm.Guid", "A0000000-0000-0000-0000-000000000000"),
        v("Edm.Guid", "a0000000-0000-0000-0000-000000000000"),
      ],
      [v("Edm.DateTime", "2024-01-01T00:00:00Z"), v("Edm.DateTime", "2024-01-01T00:00:00.0000000Z")],
      [v("Edm.Double", "0"), v("Edm.Double", "-0")],
      [v("Edm.Double", "1e400"), v("Edm.Double", "Infinity")],
      [v("Edm.DateTime", "2024-01-01T00:00:00.1234567Z"), v("Edm.DateTime", "2024-01-01T00:00:00.1234568Z")],
      [v("Edm.Int32", "1"), v("Edm.Double", "1.0")],
    ];
    for (const [a, b] of pairs) {
      const same = canonicalValue(a) === canonicalValue(b) && a.type === b.type;
      expect(same, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(wireValuesEqual(a, b));
    }
  });

  it("ignores property order but not names or types", () => {
    const a: WireEntity = {
      partitionKey: "p",
      rowKey: "r",
      properties: new Map([
        ["x", v("Edm.Int32", "1")],
        ["y", v("Edm.String", "s")],
      ]),
    };
    const b: WireEntity = {
      partitionKey: "p",
      rowKey: "r",
      properties: new Map([
        ["y", v("Edm.String", "s")],
        ["x", v("Edm.Int32", "1")],
      ]),
    };
    const c: WireEntity = {
      partitionKey: "p",
      rowKey: "r",
      properties: new Map([
        ["x", v("Edm.Double", "1.0")],
        ["y", v("Edm.String", "s")],
      ]),
    };
    expect(propertiesDigest(a)).toBe(propertiesDigest(b));
    expect(propertiesDigest(a)).not.toBe(propertiesDigest(c));
  });
});

describe("verify (full)", () => {
  it("finds two identical tables in sync, and leaves no temp files behind", async () => {
    const table = uniqueTable("vsync");
    const entities = many(300, 7);
    await Promise.all([seedEntities(src, table, entities), seedEntities(dst, table, entities)]);
    const dir = mkdtempSync(join(temp, "run-"));
    const r = await verifyTable(conn(), { source: table, destination: table }, { renames: [], tempDir: dir });
    expect(r).toMatchObject({
      sampled: false,
      sourceCount: 300,
      destinationCount: 300,
      checked: 300,
      missing: 0,
      extra: 0,
      different: 0,
      untransformable: 0,
      inSync: true,
    });
    expect(r.error).toBeUndefined();
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("counts missing, extra and different entities, naming the properties with exact types", async () => {
    const table = uniqueTable("vdiff");
    await createTable(src, table);
    await createTable(dst, table);
    await insertRaw(src, table, [
      `{"PartitionKey":"p","RowKey":"same","n":1,"d":2.5,"d@odata.type":"Edm.Double","s":"x"}`,
      `{"PartitionKey":"p","RowKey":"int-vs-double","n":1,"s":"x"}`,
      `{"PartitionKey":"p","RowKey":"ticks","t":"2024-05-01T10:00:00.1234567Z","t@odata.type":"Edm.DateTime","s":"x"}`,
      `{"PartitionKey":"p","RowKey":"missing","s":"x"}`,
      `{"PartitionKey":"q","RowKey":"extra-prop","s":"x"}`,
      `{"PartitionKey":"q","RowKey":"double-text","d":1.0,"d@odata.type":"Edm.Double"}`,
      `{"PartitionKey":"it's:é","RowKey":"12:ü 'x'","g":"0000000a-0000-0000-0000-000000000000","g@odata.type":"Edm.Guid"}`,
      `{"PartitionKey":"3:ab","RowKey":"c","s":"x"}`,
    ]);
    await insertRaw(dst, table, [
      `{"PartitionKey":"p","RowKey":"same","s":"x","d":2.50,"d@odata.type":"Edm.Double","n":1}`,
      `{"PartitionKey":"p","RowKey":"int-vs-double","n":1.0,"n@odata.type":"Edm.Double","s":"x"}`,
      `{"PartitionKey":"p","RowKey":"ticks","t":"2024-05-01T10:00:00.1234568Z","t@odata.type":"Edm.DateTime","s":"x"}`,
      `{"PartitionKey":"q","RowKey":"extra-prop","s":"x","more":true}`,
      `{"PartitionKey":"q","RowKey":"double-text","d":1,"d@odata.type":"Edm.Double"}`,
      `{"PartitionKey":"z","RowKey":"extra","s":"x"}`,
      `{"PartitionKey":"it's:é","RowKey":"12:ü 'x'","g":"0000000b-0000-0000-0000-000000000000","g@odata.type":"Edm.Guid"}`,
    ]);
    const r = await verifyTable(conn(), { source: table, destination: table }, { renames: [] });
    expect(r).toMatchObject({
      sourceCount: 8,
      destinationCount: 7,
      missing: 2,
      extra: 1,
      different: 4,
      inSync: false,
    });
    // Keys with quotes, colons and non-ASCII characters survive the spill files and the point reads.
    expect(keys(r.missingSamples)).toEqual(["3:ab/c", "p/missing"]);
    expect(keys(r.extraSamples)).toEqual(["z/extra"]);
    const diff = new Map(r.differentSamples.map((d) => [`${d.partitionKey}/${d.rowKey}`, d]));
    expect([...diff.keys()].sort()).toEqual([
      "it's:é/12:ü 'x'",
      "p/int-vs-double",
      "p/ticks",
      "q/extra-prop",
    ]);
    expect(diff.get("it's:é/12:ü 'x'")?.properties).toEqual(["g"]);
    expect(diff.get("p/int-vs-double")).toEqual({
      partitionKey: "p",
      rowKey: "int-vs-double",
      properties: ["n"],
    });
    expect(diff.get("p/ticks")?.properties).toEqual(["t"]);
    expect(diff.get("q/extra-prop")?.properties).toEqual(["more"]);
  });

  it("keeps the first samples and counts all", async () => {
    const table = uniqueTable("vmany");
    const entities = many(120, 4);
    await seedEntities(src, table, entities);
    await seedEntities(dst, table, entities.slice(0, 50));
    const r = await verifyTable(
      conn(),
      { source: table, destination: table },
      { renames: [], maxSamples: 5 },
    );
    expect(r).toMatchObject({ missing: 70, extra: 0, different: 0, inSync: false });
    expect(r.missingSamples).toHaveLength(5);
  });

  it("gives the same answer when buckets are split again on disk", async () => {
    const table = uniqueTable("vsplit");
    const entities = many(400, 3);
    const changed = entities.map((e, i) =>
      i % 50 === 0
        ? {
            ...e,
            properties: new Map([...e.properties, ["n", { type: "Edm.Int64" as const, value: String(i) }]]),
          }
        : e,
    );
    await seedEntities(src, table, entities);
    await seedEntities(
      dst,
      table,
      changed.filter((_, i) => i % 40 !== 1),
    );
    const dir = mkdtempSync(join(temp, "split-"));
    const r = await verifyTable(
      conn(),
      { source: table, destination: table },
      {
        renames: [],
        buckets: 2,
        maxBucketBytes: 1024,
        tempDir: dir,
      },
    );
    expect(r).toMatchObject({ sourceCount: 400, destinationCount: 390, missing: 10, extra: 0, different: 8 });
    for (const d of r.differentSamples) expect(d.properties).toEqual(["n"]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("compares after table and property renames", async () => {
    const from = uniqueTable("vren");
    const to = uniqueTable("vrento");
    const original = [
      simpleEntity("p", "1", { customerId: "c1", name: "a" }),
      simpleEntity("p", "2", { customerId: "c2", name: "b" }),
    ];
    const renamed = [
      simpleEntity("p", "1", { name: "a", clientId: "c1" }),
      simpleEntity("p", "2", { name: "b", clientId: "c2" }),
    ];
    await seedEntities(src, from, original);
    await seedEntities(dst, to, renamed);
    const spec = { source: from, destination: to };
    const ok = await verifyTable(conn(), spec, { renames: [{ from: "customerId", to: "clientId" }] });
    expect(ok).toMatchObject({ sourceCount: 2, destinationCount: 2, inSync: true });
    const without = await verifyTable(conn(), spec, { renames: [] });
    expect(without).toMatchObject({ different: 2, inSync: false });
    expect(without.differentSamples[0].properties.sort()).toEqual(["clientId", "customerId"]);
  });

  it("reports a destination table that does not exist as all missing", async () => {
    const table = uniqueTable("vnodst");
    await seedEntities(src, table, many(10, 2));
    const r = await verifyTable(conn(), { source: table, destination: table }, { renames: [] });
    expect(r).toMatchObject({ sourceCount: 10, destinationCount: 0, missing: 10, inSync: false });
    expect(r.error).toBeUndefined();
    expect(r.notes.join(" ")).toContain("does not exist on the destination");
  });

  it("reports a missing source table as an error", async () => {
    const table = uniqueTable("vnosrc");
    const r = await verifyTable(conn(), { source: table, destination: table }, { renames: [] });
    expect(r.inSync).toBe(false);
    expect(r.error).toContain(`Table ${table} does not exist on the source`);
  });

  it("verifies a sync into Azurite playing Cosmos, with reserved names renamed", async () => {
    const table = uniqueTable("vcosmos");
    await seedEntities(src, table, [
      simpleEntity("p", "1", { id: "a", n: 1 }),
      simpleEntity("p", "2", { ETag: "b", n: 2.5 }),
      simpleEntity("p", "3", { n: 3 }),
    ]);
    const renames = [
      { from: "id", to: "entityId" },
      { from: "ETag", to: "entityETag" },
    ];
    const sync = await runSync(
      syncConfig(src, dst, [table], {
        destination: { connectionString: dst, kind: "cosmos" },
        propertyRenames: renames,
      }),
    );
    expect(sync.tables[0]).toMatchObject({ read: 3, written: 3, failed: 0 });
    const ok = await verifyTable(conn("cosmos"), { source: table, destination: table }, { renames });
    expect(ok).toMatchObject({ sourceCount: 3, destinationCount: 3, inSync: true });

    // Without the renames the sync could not write two of them: verify says so instead of "missing".
    const refused = await verifyTable(conn("cosmos"), { source: table, destination: table }, { renames: [] });
    expect(refused).toMatchObject({ untransformable: 2, missing: 0, extra: 0, different: 0, inSync: false });
    expect(refused.untransformableSamples.map((u) => u.message).join("\n")).toContain(
      "add the rename 'id:entityId' to property-renames",
    );
  });
});

describe("verify (sample)", () => {
  it("checks a seeded fraction by point reads and does not count extras", async () => {
    const table = uniqueTable("vsample");
    const entities = many(200, 5);
    await seedEntities(src, table, entities);
    const dstEntities = entities
      .filter((_, i) => i % 10 !== 3)
      .map((e, i) =>
        i % 25 === 0
          ? {
              ...e,
              properties: new Map([
                ...e.properties,
                ["s", { type: "Edm.String" as const, value: "changed" }],
              ]),
            }
          : e,
      );
    await seedEntities(dst, table, [...dstEntities, simpleEntity("zz", "extra", { s: "x" })]);

    const seed = "fixed-seed";
    const chosen = entities.filter((e) => inSample(seed, 0.5, e));
    const expectMissing = chosen.filter(
      (e) => !dstEntities.some((d) => d.partitionKey === e.partitionKey && d.rowKey === e.rowKey),
    );
    const expectDifferent = chosen.filter((e) =>
      dstEntities.some(
        (d) =>
          d.partitionKey === e.partitionKey &&
          d.rowKey === e.rowKey &&
          d.properties.get("s")?.value === "changed",
      ),
    );
    expect(chosen.length).toBeGreaterThan(60);
    expect(chosen.length).toBeLessThan(140);

    const r = await verifyTable(
      conn(),
      { source: table, destination: table },
      { renames: [], sample: 0.5, seed, maxSamples: 100 },
    );
    expect(r).toMatchObject({
      sampled: true,
      sampleFraction: 0.5,
      sampleSeed: seed,
      sourceCount: 200,
      destinationCount: null,
      extra: null,
      checked: chosen.length,
      missing: expectMissing.length,
      different: expectDifferent.length,
      inSync: false,
    });
    expect(expectMissing.length + expectDifferent.length).toBeGreaterThan(0);
    for (const d of r.differentSamples) expect(d.properties).toEqual(["s"]);
    expect(r.notes[0]).toContain("extra");

    const again = await verifyTable(
      conn(),
      { source: table, destination: table },
      { renames: [], sample: 0.5, seed },
    );
    expect(again.checked).toBe(r.checked);
    const fresh = await verifyTable(
      conn(),
      { source: table, destination: table },
      { renames: [], sample: 0.2 },
    );
    expect(fresh.sampleSeed).toMatch(/^[0-9a-f]{12}$/);
  });

  it("rejects a sample outside (0, 1]", async () => {
    await expect(
      verifyTable(conn(), { source: "a", destination: "a" }, { renames: [], sample: 0 }),
    ).rejects.toThrow(RangeError);
    await expect(
      verifyTable(conn(), { source: "a", destination: "a" }, { renames: [], sample: 1.5 }),
    ).rejects.toThrow(RangeError);
  });
});
