// The migration's steps against the Cosmos DB for Table double (test/support/cosmos-double.ts): a full
// sync from Storage, a backfill, verify (full and sampled, with repair), the switch, the backfill after
// the switch, and a rollback that reads Cosmos (unsorted pages, JSON continuation tokens) back into
// Storage. Every entity is compared at wire level, and the double's log shows what the engine sent.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { SideConfig } from "../../../src/engine/wire/connection.js";
import type { WireEntity } from "../../../src/engine/wire/edm.js";
import { runCopy } from "../../../src/engine/steps/full-sync.js";
import { runSwitch } from "../../../src/engine/steps/switch.js";
import { runVerify } from "../../../src/engine/steps/verify.js";
import type { MigrationDeps } from "../../../src/engine/steps/engine-config.js";
import { tableKey } from "../../../src/state/table-key.js";
import { MemoryStateStore } from "../../../src/state/store.js";
import { signedRequest, startCosmosDouble, type CosmosDouble } from "../../support/cosmos-double.js";
import { sampleEntities } from "../../support/sample-entities.js";
import { rawDifferences, rawEntities, stepConfig, stepDeps } from "../../support/sync.js";
import { byKey, readAll, seedEntities, simpleEntity, uniqueTable } from "../../support/tables.js";

const src = inject("sourceConnectionString");
const dst = inject("destinationConnectionString");
const dstPort = inject("destinationPort");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Cosmos, as the destination of the migration (a double in front of the destination Azurite). */
let cosmos: CosmosDouble;
beforeAll(async () => {
  // Pages of at most 250 entities mixed over windows of 700; a whole Double sent without its `.0`
  // would come back an Int32 (and the exact comparisons below would see it).
  cosmos = await startCosmosDouble({
    target: dstPort,
    pageSize: 250,
    windowSize: 700,
    wholeDoubles: "int32",
  });
});
afterAll(async () => {
  await cosmos.stop();
});

const cosmosSide = (double = cosmos): SideConfig => ({
  connectionString: double.connectionString(),
  kind: "cosmos",
});

/** Inputs of a step from Storage to the Cosmos double. */
function toCosmos(mode: string, table: string, extra: Record<string, string> = {}) {
  return stepConfig(mode, table, {
    "destination-connection-string": cosmos.connectionString(),
    "destination-kind": "cosmos",
    ...extra,
  });
}

function toCosmosDeps(store: MemoryStateStore, extra: Partial<MigrationDeps> = {}): MigrationDeps {
  return stepDeps(store, { destination: cosmosSide(), ...extra });
}

/**
 * Nothing the engine sent was refused: no PATCH, no 405/413/500, no reserved name or empty key. (A GET may
 * find nothing: the table before it is created, an entity before it is copied.)
 */
function expectCleanWire(double: CosmosDouble, since = 0): void {
  const log = double.stats.log.filter((e) => e.seq > since);
  expect(log.filter((e) => e.method === "PATCH")).toEqual([]);
  const refused = log.filter((e) => (e.status ?? 0) >= 400 && !(e.status === 404 && e.method === "GET"));
  expect(refused.map((e) => `${e.method} ${e.path} ${e.status} ${e.note ?? ""}`)).toEqual([]);
}

/** A signed request through the double, as the app writes after the switch. */
async function appPut(double: CosmosDouble, table: string, pk: string, rk: string, v: string): Promise<void> {
  const r = await signedRequest(
    double.port,
    "PUT",
    `/devstoreaccount1/${table}(PartitionKey='${pk}',RowKey='${rk}')`,
    {
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ PartitionKey: pk, RowKey: rk, v }),
    },
  );
  expect(r.status).toBe(204);
}

const v = (e: WireEntity | undefined) => e?.properties.get("v")?.value;

/** 600 entities of every EDM type in 8 partitions, and 25 partitions of one entity each. */
function mixedTable(): WireEntity[] {
  return [
    ...sampleEntities(600, 8),
    ...Array.from({ length: 25 }, (_, i) =>
      simpleEntity(`solo${String(i).padStart(2, "0")}`, "only", { i, d: i + 0.5 }),
    ),
  ];
}

describe("Storage → Cosmos double", () => {
  it("full sync: every entity lands exactly, read back through Cosmos's unsorted pages; nothing refused", async () => {
    const t = uniqueTable("cwFull");
    const entities = mixedTable();
    await seedEntities(src, t, entities);
    const store = new MemoryStateStore();
    const since = cosmos.stats.requests;
    const run = await runCopy(toCosmos("full-sync", t), toCosmosDeps(store));
    expect(run.ok, run.failure).toBe(true);
    expect(run.tables[0].result).toMatchObject({
      read: entities.length,
      written: entities.length,
      failed: 0,
    });
    expect(run.tables[0].watermarkAfter).toBeDefined();
    // Exact at wire level: behind the double, and as Cosmos serves it (pages of ≤ 250 in no key order).
    const source = await rawEntities(src, t);
    expect(source.size).toBe(entities.length);
    expect(rawDifferences(source, await rawEntities(dst, t))).toEqual([]);
    const pagesBefore = cosmos.stats.pages;
    expect(rawDifferences(source, await rawEntities(cosmos.connectionString(), t))).toEqual([]);
    expect(cosmos.stats.pages - pagesBefore).toBeGreaterThanOrEqual(3);
    expectCleanWire(cosmos, since);
    const writes = cosmos.stats.log.filter((e) => e.seq > since && e.method !== "GET");
    expect(writes.some((e) => /\/\$batch$/.test(e.path))).toBe(true);
  });

  it("backfill copies what changed after the watermark; verify, full and sampled, finds the tables equal", async () => {
    const t = uniqueTable("cwBackfill");
    await seedEntities(src, t, sampleEntities(300, 6));
    await sleep(1_100); // the seed's second is before the full sync's clock
    const store = new MemoryStateStore();
    const full = await runCopy(toCosmos("full-sync", t), toCosmosDeps(store));
    expect(full.ok, full.failure).toBe(true);
    await sleep(1_100);
    const since = cosmos.stats.requests;
    await seedEntities(src, t, [
      ...sampleEntities(5, 6, 10).map((e) => ({
        ...e,
        properties: new Map([...e.properties, ["changed", { type: "Edm.Boolean" as const, value: true }]]),
      })),
      ...sampleEntities(5, 6, 300),
    ]);
    const back = await runCopy(toCosmos("backfill", t, { "overlap-seconds": "0" }), toCosmosDeps(store));
    expect(back.ok, back.failure).toBe(true);
    expect(back.tables[0].result).toMatchObject({ read: 10, written: 10, failed: 0 });
    expect(rawDifferences(await rawEntities(src, t), await rawEntities(dst, t))).toEqual([]);

    const verified = await runVerify(toCosmos("verify", t), toCosmosDeps(store));
    expect(verified.ok, verified.failure).toBe(true);
    expect(verified.verify[0]).toMatchObject({
      inSync: true,
      sourceCount: 305,
      destinationCount: 305,
      missing: 0,
      extra: 0,
      different: 0,
    });
    const reads = cosmos.requests("GET", /RowKey=/).length;
    const sampled = await runVerify(toCosmos("verify", t, { sample: "0.3" }), toCosmosDeps(store));
    expect(sampled.ok, sampled.failure).toBe(true);
    expect(sampled.verify[0]).toMatchObject({
      sampled: true,
      inSync: true,
      sourceCount: 305,
      missing: 0,
      different: 0,
    });
    expect(sampled.verify[0].checked).toBeGreaterThan(50);
    expect(sampled.verify[0].checked).toBeLessThan(200);
    // The sample's point reads went to Cosmos (one each, and a retry where the connection dropped under load).
    const pointReads = cosmos.requests("GET", /RowKey=/).length - reads;
    expect(pointReads).toBeGreaterThanOrEqual(sampled.verify[0].checked);
    expect(pointReads).toBeLessThanOrEqual(sampled.verify[0].checked + 5);
    expectCleanWire(cosmos, since);
  });

  it("verify finds what differs on Cosmos, and repair mends it through the double", async () => {
    const t = uniqueTable("cwRepair");
    await seedEntities(src, t, sampleEntities(120, 4));
    const store = new MemoryStateStore();
    expect((await runCopy(toCosmos("full-sync", t), toCosmosDeps(store))).ok).toBe(true);
    // Behind the migration's back: one entity changed, one deleted, one only on Cosmos.
    await appPut(cosmos, t, "p01", "r000001", "changed");
    const del = await signedRequest(
      cosmos.port,
      "DELETE",
      `/devstoreaccount1/${t}(PartitionKey='p02',RowKey='r000002')`,
      {
        headers: { "If-Match": "*" },
      },
    );
    expect(del.status).toBe(204);
    await appPut(cosmos, t, "p09", "extra", "x");
    const found = await runVerify(toCosmos("verify", t), toCosmosDeps(store));
    expect(found.ok).toBe(false);
    expect(found.verify[0]).toMatchObject({ missing: 1, extra: 1, different: 1 });
    expect(found.verify[0].missingSamples).toEqual([{ partitionKey: "p02", rowKey: "r000002" }]);
    expect(found.verify[0].extraSamples).toEqual([{ partitionKey: "p09", rowKey: "extra" }]);
    expect(found.verify[0].differentSamples[0]).toMatchObject({ partitionKey: "p01", rowKey: "r000001" });
    expect(found.verify[0].differentSamples[0].properties).toContain("v");
    const since = cosmos.stats.requests;
    const repaired = await runVerify(
      toCosmos("verify", t, { repair: "true", "delete-extra": "true" }),
      toCosmosDeps(store),
    );
    expect(repaired.ok, repaired.failure).toBe(true);
    expect(repaired.verify[0].repair).toMatchObject({ copied: 2, deleted: 1, failed: 0 });
    expect(rawDifferences(await rawEntities(src, t), await rawEntities(dst, t))).toEqual([]);
    expectCleanWire(cosmos, since);
  });

  it("switch on Cosmos's clock; the backfill after it keeps the app's writes and lands the stragglers", async () => {
    const t = uniqueTable("cwSwitch");
    await seedEntities(src, t, [
      simpleEntity("p", "x", { v: "v1" }),
      simpleEntity("p", "z", { v: "v1" }),
      ...sampleEntities(60, 3),
    ]);
    const store = new MemoryStateStore();
    expect((await runCopy(toCosmos("full-sync", t), toCosmosDeps(store))).ok).toBe(true);
    await seedEntities(src, t, [simpleEntity("p", "z", { v: "v2" })]); // the final backfill's work
    const sw = await runSwitch(toCosmos("switch", t), toCosmosDeps(store));
    expect(sw.ok, sw.failure).toBe(true);
    expect(sw).toMatchObject({ ready: true, inSync: true });
    expect(sw.backfill?.tables[0].result.written).toBeGreaterThanOrEqual(1);
    expect(Date.parse(sw.switchedAt ?? "")).toBeGreaterThan(Date.now() - 60_000);

    // The app now writes to Cosmos; late writes to Storage change x (the app's too) and add y.
    await sleep(1_100);
    await appPut(cosmos, t, "p", "x", "app");
    await seedEntities(src, t, [
      simpleEntity("p", "x", { v: "straggler" }),
      simpleEntity("p", "y", { v: "v1" }),
    ]);
    const since = cosmos.stats.requests;
    const back = await runCopy(toCosmos("backfill", t), toCosmosDeps(store));
    expect(back.ok, back.failure).toBe(true);
    expect(back.tables[0].result).toMatchObject({ conflicts: 1, failed: 0 });
    expect(back.tables[0].result.conflictDetails[0]).toMatchObject({ partitionKey: "p", rowKey: "x" });
    let d = byKey(await readAll(dst, t));
    expect(v(d.get("p\u0000x"))).toBe("app");
    expect(v(d.get("p\u0000y"))).toBe("v1");
    expect(v(d.get("p\u0000z"))).toBe("v2");

    // Our own post-switch write of y (its ETag from the double's answer) is not taken for the app's.
    await sleep(1_100);
    await seedEntities(src, t, [simpleEntity("p", "y", { v: "v2" })]);
    const again = await runCopy(toCosmos("backfill", t), toCosmosDeps(store));
    expect(again.ok, again.failure).toBe(true);
    expect(again.tables[0].result).toMatchObject({ conflicts: 1, failed: 0 });
    d = byKey(await readAll(dst, t));
    expect(v(d.get("p\u0000y"))).toBe("v2");
    expect(v(d.get("p\u0000x"))).toBe("app");
    expectCleanWire(cosmos, since);
  });
});

describe("rollback: Cosmos double → Storage", () => {
  /** Cosmos as the source: small pages, so the scan follows many tokens through mixed windows (and empty pages). */
  let source: CosmosDouble;
  beforeAll(async () => {
    source = await startCosmosDouble({
      target: dstPort,
      pageSize: 97,
      windowSize: 300,
      seed: "rollback",
      emptyPages: true,
    });
  });
  afterAll(async () => {
    await source.stop();
  });

  const fromCosmos = (mode: string, table: string, extra: Record<string, string> = {}) =>
    stepConfig(mode, table, {
      "source-connection-string": source.connectionString(),
      "source-kind": "cosmos",
      "destination-connection-string": src,
      "destination-kind": "table",
      ...extra,
    });
  const fromCosmosDeps = (store: MemoryStateStore): MigrationDeps =>
    stepDeps(store, { source: cosmosSide(source), destination: { connectionString: src, kind: "table" } });

  it("a full sync from Cosmos follows every token to the end and leaves Storage exactly as Cosmos", async () => {
    const t = uniqueTable("cwRollback");
    const entities = mixedTable();
    await seedEntities(src, t, entities);
    expect((await runCopy(toCosmos("full-sync", t), toCosmosDeps(new MemoryStateStore()))).ok).toBe(true);
    // After the switch the app wrote on Cosmos: new entities and changed ones, in old and new partitions.
    for (let i = 0; i < 12; i++) await appPut(cosmos, t, i % 2 ? "p03" : `new${i}`, `app${i}`, `a${i}`);
    await appPut(cosmos, t, "p05", "r000005", "changed-by-app");

    const store = new MemoryStateStore();
    const run = await runCopy(fromCosmos("full-sync", t), fromCosmosDeps(store));
    expect(run.ok, run.failure).toBe(true);
    const n = entities.length + 12;
    expect(run.tables[0].result).toMatchObject({ read: n, written: n, failed: 0 });
    const onCosmos = await rawEntities(dst, t);
    expect(onCosmos.size).toBe(n);
    expect(rawDifferences(onCosmos, await rawEntities(src, t))).toEqual([]);
    // The scan was Cosmos's, by key ranges (ranged-reader.ts): a first page for a sample of the keys, then
    // each range from its start, every later page of it asked for with the token the page before gave.
    const scans = source.requests("GET", new RegExp(`/${t}\\(\\)`)).map((e) => decodeURIComponent(e.path));
    expect(scans.length).toBeGreaterThanOrEqual(Math.ceil(n / 97));
    const starts = scans.filter((path) => !path.includes("NextPartitionKey="));
    expect(starts[0]).not.toContain("$filter");
    expect(starts.slice(1).every((path) => /\$filter=.*PartitionKey (ge|lt) '/.test(path))).toBe(true);
    const tokened = scans.filter((path) => /NextPartitionKey=[^&]*token[^&]*&NextRowKey=NA/.test(path));
    expect(tokened.length + starts.length).toBe(scans.length);
    expect(source.stats.events["bad-token"]).toBeUndefined();
    expectCleanWire(source);

    // Verify reads Cosmos as the source too (its pages in no order, compared by key).
    const verified = await runVerify(fromCosmos("verify", t), fromCosmosDeps(store));
    expect(verified.ok, verified.failure).toBe(true);
    expect(verified.verify[0]).toMatchObject({ inSync: true, sourceCount: n, destinationCount: n });
  });

  it("a cancelled rollback checkpoints where its finished key ranges end; the next run goes on from there", async () => {
    const t = uniqueTable("cwResume");
    const entities = sampleEntities(800, 8);
    await seedEntities(dst, t, entities); // on Cosmos
    const store = new MemoryStateStore();
    const controller = new AbortController();
    // Key ranges of some 60 entities, so the run is cancelled with several behind it.
    const deps = { ...fromCosmosDeps(store), checkpointIntervalMs: 1, rangeBytes: 40_000 };
    const first = await runCopy(fromCosmos("full-sync", t), deps, {
      signal: controller.signal,
      onProgress: (p) => p.read >= 300 && controller.abort(),
    });
    expect(first.ok).toBe(false);
    const cp = (await store.load())?.tables[tableKey({ source: t, destination: t })]?.checkpoint;
    const stored = cp?.continuation;
    expect(stored && "rangedFrom" in stored).toBe(true);
    const from = stored && "rangedFrom" in stored ? stored.rangedFrom : "";
    // Exactly the partitions before the resume key were read before it.
    const read = cp?.read ?? 0;
    expect(read).toBe(entities.filter((e) => e.partitionKey < from).length);
    expect(read).toBeGreaterThan(100);
    expect(read).toBeLessThan(800);
    const since = source.stats.requests;
    const second = await runCopy(fromCosmos("full-sync", t), {
      ...fromCosmosDeps(store),
      rangeBytes: 40_000,
    });
    expect(second.ok, second.failure).toBe(true);
    expect(second.tables[0].result.read).toBe(800 - read);
    const resumed = source.stats.log.find(
      (e) => e.seq > since && e.method === "GET" && e.path.includes(`/${t}()`),
    );
    expect(decodeURIComponent(resumed?.path ?? "")).toContain(
      `PartitionKey ge '${from.replace(/'/g, "''")}'`,
    );
    expect(rawDifferences(await rawEntities(dst, t), await rawEntities(src, t))).toEqual([]);
  });

  it("a backfill from Cosmos is refused: its Timestamp filters answer no rows", async () => {
    const t = uniqueTable("cwNoBackfill");
    await seedEntities(dst, t, sampleEntities(20, 2));
    const direct = await readAll(source.connectionString(), t, "Timestamp ge datetime'2000-01-01T00:00:00Z'");
    expect(direct).toEqual([]);
    expect(await readAll(source.connectionString(), t)).toHaveLength(20);
    const back = await runCopy(
      fromCosmos("backfill", t, { since: "2000-01-01T00:00:00Z" }),
      fromCosmosDeps(new MemoryStateStore()),
    );
    expect(back.ok).toBe(false);
    expect(back.tables[0].result.error).toMatch(/cannot read from Cosmos DB for Table.*Timestamp/);
    expect(back.tables[0].result.written).toBe(0);
  });
});
