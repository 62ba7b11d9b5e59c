// What Cosmos DB for Table refuses or throttles, met by the engine through the Cosmos double
// (test/support/cosmos-double.ts): a reserved property name and empty keys fail their entity only, 429s
// without a retry hint are waited out with nothing lost, a transaction above 2 MB is split until it
// lands, and merges never go out as PATCH.
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import type { WireEntity } from "../../../src/engine/wire/edm.js";
import { runCopy } from "../../../src/engine/steps/full-sync.js";
import { runVerify } from "../../../src/engine/steps/verify.js";
import type { MigrationDeps } from "../../../src/engine/steps/engine-config.js";
import { MemoryStateStore } from "../../../src/state/store.js";
import { startCosmosDouble, type CosmosDouble } from "../../support/cosmos-double.js";
import { sampleEntities } from "../../support/sample-entities.js";
import { rawDifferences, rawEntities, stepConfig, stepDeps } from "../../support/sync.js";
import { byKey, insertRaw, readAll, seedEntities, simpleEntity, uniqueTable } from "../../support/tables.js";

const src = inject("sourceConnectionString");
const dst = inject("destinationConnectionString");
const dstPort = inject("destinationPort");

let cosmos: CosmosDouble;
beforeAll(async () => {
  cosmos = await startCosmosDouble({ target: dstPort, pageSize: 300, windowSize: 900 });
});
afterAll(async () => {
  await cosmos.stop();
});
afterEach(() => {
  cosmos.configure({ throttle: undefined });
});

/** A step from Storage to the double; `kind` is what the engine is told the destination is. */
function step(mode: string, table: string, extra: Record<string, string> = {}, kind = "cosmos") {
  return stepConfig(mode, table, {
    "destination-connection-string": cosmos.connectionString(),
    "destination-kind": kind,
    ...extra,
  });
}

function deps(kind: "cosmos" | "table" = "cosmos"): MigrationDeps {
  return stepDeps(new MemoryStateStore(), {
    destination: { connectionString: cosmos.connectionString(), kind },
  });
}

/** Log entries since `seq` that the double refused or throttled. */
const refusedSince = (seq: number) =>
  cosmos.stats.log.filter((e) => e.seq > seq && (e.status ?? 0) >= 400 && e.method !== "GET");

describe("refused entities fail alone", () => {
  it("a property named ETag is reported for its entity, naming the property; the rest of the table lands", async () => {
    const t = uniqueTable("cwfEtag");
    await seedEntities(src, t, sampleEntities(150, 3));
    await insertRaw(src, t, [
      '{"PartitionKey":"p01","RowKey":"r000004x","ETag":"from-the-app","n":1}',
      '{"PartitionKey":"lonely","RowKey":"e","etag":"lower-case"}',
    ]);
    const run = await runCopy(step("full-sync", t), deps());
    const r = run.tables[0].result;
    expect(r.error).toBeUndefined();
    expect(r).toMatchObject({ read: 152, written: 150, failed: 2 });
    expect(r.failures.map((f) => `${f.partitionKey}/${f.rowKey}`).sort()).toEqual([
      "lonely/e",
      "p01/r000004x",
    ]);
    for (const f of r.failures) expect(f.message).toMatch(/'(ETag|etag)'/);
    expect(run.ok).toBe(false);
    expect(run.failure).toMatch(/^2 entities failed/);
    const landed = byKey(await readAll(dst, t));
    expect(landed.size).toBe(150);
    expect(landed.has("p01\u0000r000004x")).toBe(false);
    expect(cosmos.stats.events.reserved).toBeUndefined(); // refused before the wire, not by Cosmos
  });

  it("an empty PartitionKey or RowKey is refused by Cosmos (400 PropertiesNeedValue) for that entity only", async () => {
    const t = uniqueTable("cwfEmpty");
    // An empty RowKey sorts first in its partition: the transaction fails at index 0 ("0:").
    await seedEntities(src, t, [
      simpleEntity("p", "", { v: "empty row key" }),
      ...Array.from({ length: 30 }, (_, i) => simpleEntity("p", `r${i}`, { i })),
      simpleEntity("", "a", { v: "empty partition key" }),
      simpleEntity("", "b", { v: "empty partition key" }),
      simpleEntity("q", "one", { i: 1 }),
    ]);
    const since = cosmos.stats.requests;
    const run = await runCopy(step("full-sync", t), deps());
    const r = run.tables[0].result;
    expect(r.error).toBeUndefined();
    expect(r).toMatchObject({ read: 34, written: 31, failed: 3 });
    expect(r.failures.map((f) => `${f.partitionKey}/${f.rowKey}`).sort()).toEqual(["/a", "/b", "p/"]);
    for (const f of r.failures) {
      expect(f).toMatchObject({ status: 400, code: "PropertiesNeedValue" });
      expect(f.message).toContain("PartitionKey/RowKey cannot be empty");
      // The service's request and activity ids are no use to the user.
      expect(f.message).not.toMatch(/RequestId|ActivityId|documentdb-dotnet-sdk/i);
    }
    const landed = byKey(await readAll(dst, t));
    expect(landed.size).toBe(31);
    expect(landed.has("q\u0000one")).toBe(true);
    // Cosmos said which: the batch with the empty RowKey failed at index 0, then the others went again.
    const refused = refusedSince(since);
    expect(refused.some((e) => e.note === "empty-key")).toBe(true);
    expect(cosmos.stats.log.filter((e) => e.seq > since && e.method === "PATCH")).toEqual([]);
  });
});

describe("throttling without a retry hint", () => {
  it("429s on reads and writes are waited out: nothing lost, the throttles counted", async () => {
    const t = uniqueTable("cwf429");
    const entities: WireEntity[] = [
      ...sampleEntities(400, 5),
      ...Array.from({ length: 12 }, (_, i) => simpleEntity(`s${i}`, "x", { i })),
    ];
    await seedEntities(src, t, entities);
    cosmos.configure({ throttle: { everyNth: 4 } });
    const since = cosmos.stats.requests;
    const run = await runCopy(step("full-sync", t), deps());
    expect(run.ok, run.failure).toBe(true);
    expect(run.tables[0].result).toMatchObject({ read: 412, written: 412, failed: 0 });
    expect(run.tables[0].result.throttled).toBeGreaterThan(0);
    const writes = cosmos.stats.log.filter((e) => e.seq > since && e.status === 429 && e.method !== "GET");
    expect(writes.length).toBeGreaterThan(0);
    expect(rawDifferences(await rawEntities(src, t), await rawEntities(dst, t))).toEqual([]);
    // A verify through the same throttling: its scan of Cosmos is throttled too, and reads every page.
    cosmos.configure({ throttle: { everyNth: 2 } });
    const before = cosmos.stats.requests;
    const verified = await runVerify(step("verify", t), deps());
    expect(verified.ok, verified.failure).toBe(true);
    expect(verified.verify[0]).toMatchObject({ inSync: true, sourceCount: 412, destinationCount: 412 });
    const reads = cosmos.stats.log.filter((e) => e.seq > before && e.status === 429 && e.method === "GET");
    expect(reads.length).toBeGreaterThan(0);
  });

  it("a 429 inside the changeset (a 202 whose part says 0:…429) is retried too", async () => {
    const t = uniqueTable("cwf429cs");
    await seedEntities(src, t, sampleEntities(300, 3));
    cosmos.configure({
      throttle: { everyNth: 2, inChangeset: true, match: (r) => /\/\$batch$/.test(r.path) },
    });
    const since = cosmos.stats.requests;
    const run = await runCopy(step("full-sync", t), deps());
    expect(run.ok, run.failure).toBe(true);
    expect(run.tables[0].result).toMatchObject({ read: 300, written: 300, failed: 0 });
    expect(run.tables[0].result.throttled).toBeGreaterThan(0);
    expect(cosmos.stats.log.filter((e) => e.seq > since && e.note === "throttled").length).toBeGreaterThan(0);
    expect(rawDifferences(await rawEntities(src, t), await rawEntities(dst, t))).toEqual([]);
  });
});

describe("transactions above 2 MB", () => {
  /** 130 entities of ~30 KB in one partition: a Storage-sized transaction of 100 is ~3 MB. */
  const large = () =>
    Array.from({ length: 130 }, (_, i) =>
      simpleEntity("big", `r${String(i).padStart(3, "0")}`, { s: `${i}:${"x".repeat(30_000)}` }),
    );

  it("told it writes to Table Storage (4 MiB), the engine meets 413 and splits until every part lands", async () => {
    const t = uniqueTable("cwf413");
    await seedEntities(src, t, large());
    const since = cosmos.stats.requests;
    const run = await runCopy(step("full-sync", t, {}, "table"), deps("table"));
    expect(run.ok, run.failure).toBe(true);
    expect(run.tables[0].result).toMatchObject({ read: 130, written: 130, failed: 0 });
    const log = cosmos.stats.log.filter((e) => e.seq > since && /\/\$batch$/.test(e.path));
    const tooLarge = log.filter((e) => e.status === 413);
    expect(tooLarge.length).toBeGreaterThanOrEqual(1);
    expect(tooLarge.every((e) => e.bytes > 2 * 1024 * 1024)).toBe(true);
    expect(log.filter((e) => e.status === 202).every((e) => e.bytes <= 2 * 1024 * 1024)).toBe(true);
    expect(rawDifferences(await rawEntities(src, t), await rawEntities(dst, t))).toEqual([]);
  });

  it("told it writes to Cosmos, the engine never sends a request above 2 MB", async () => {
    const t = uniqueTable("cwf2mb");
    await seedEntities(src, t, large());
    const since = cosmos.stats.requests;
    const run = await runCopy(step("full-sync", t), deps());
    expect(run.ok, run.failure).toBe(true);
    expect(run.tables[0].result).toMatchObject({ written: 130, failed: 0 });
    const log = cosmos.stats.log.filter((e) => e.seq > since);
    expect(log.filter((e) => e.status === 413)).toEqual([]);
    expect(Math.max(...log.map((e) => e.bytes))).toBeLessThanOrEqual(2 * 1024 * 1024);
    expect(log.filter((e) => /\/\$batch$/.test(e.path) && e.bytes > 1_000_000).length).toBeGreaterThan(0);
  });
});

describe("merge", () => {
  it("write-mode merge keeps Cosmos's other properties and never sends PATCH", async () => {
    const t = uniqueTable("cwfMerge");
    const keys = [
      ...Array.from({ length: 40 }, (_, i) => ["m", `r${i}`] as const),
      ...Array.from({ length: 8 }, (_, i) => [`solo${i}`, "x"] as const),
    ];
    // Cosmos already holds every entity with a property the source lacks.
    await seedEntities(
      dst,
      t,
      keys.map(([pk, rk]) => simpleEntity(pk, rk, { keep: "cosmos", v: "old" })),
    );
    await seedEntities(
      src,
      t,
      keys.map(([pk, rk]) => simpleEntity(pk, rk, { v: "new" })),
    );
    const since = cosmos.stats.requests;
    const run = await runCopy(step("full-sync", t, { "write-mode": "merge" }), deps());
    expect(run.ok, run.failure).toBe(true);
    expect(run.tables[0].result).toMatchObject({ written: 48, failed: 0 });
    for (const e of await readAll(dst, t)) {
      expect(e.properties.get("keep")?.value).toBe("cosmos");
      expect(e.properties.get("v")?.value).toBe("new");
    }
    const log = cosmos.stats.log.filter((e) => e.seq > since);
    expect(log.filter((e) => e.method === "PATCH" || e.status === 405)).toEqual([]);
    expect(refusedSince(since)).toEqual([]);
  });
});
