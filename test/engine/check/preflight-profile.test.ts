// Preflight's planning figures on tables of known shape: entities per partition (median, 99th percentile,
// share of single-entity partitions) and, for a Cosmos destination, the request units the full sync's writes
// will spend (the published per-write costs by size) and the time they take at ru-per-second.
import { describe, expect, inject, it } from "vitest";
import { entityBytes, type WireEntity } from "../../../src/engine/wire/edm.js";
import { writeRequestUnits } from "../../../src/engine/check/estimate.js";
import { preflightTable } from "../../../src/engine/check/preflight.js";
import { runPreflight } from "../../../src/engine/steps/preflight.js";
import { StateError } from "../../../src/state/state.js";
import { tableKey } from "../../../src/state/table-key.js";
import { MemoryStateStore, type StateStore } from "../../../src/state/store.js";
import { stepConfig, stepDeps } from "../../support/sync.js";
import { httpFor, seedEntities, simpleEntity, uniqueTable } from "../../support/tables.js";

const src = inject("sourceConnectionString");

/** An entity whose JSON, as the sync sends it, is exactly `bytes` long. */
function sized(pk: string, rk: string, bytes: number): WireEntity {
  const e = simpleEntity(pk, rk, { pad: "" });
  const base = entityBytes(e);
  return simpleEntity(pk, rk, { pad: "x".repeat(bytes - base) });
}

describe("the published write costs", () => {
  it("are used as published at 1, 2, 4 and 8 KB, interpolated between and extended beyond", () => {
    expect(writeRequestUnits(100)).toBe(4.95);
    expect(writeRequestUnits(1024)).toBe(4.95);
    expect(writeRequestUnits(2048)).toBeCloseTo(6.29, 10);
    expect(writeRequestUnits(4096)).toBeCloseTo(6.67, 10);
    expect(writeRequestUnits(8192)).toBeCloseTo(7.04, 10);
    // Halfway (on log2 of the size) between 1 and 2 KB: halfway between their costs.
    expect(writeRequestUnits(Math.round(1024 * Math.SQRT2))).toBeCloseTo((4.95 + 6.29) / 2, 2);
    // 16 KB: one more doubling at the 4→8 KB rate.
    expect(writeRequestUnits(16_384)).toBeCloseTo(7.04 + 0.37, 10);
  });
});

describe("preflight on tables of known shape", () => {
  it("profiles the partitions: 10 of 100 entities and 90 of one", async () => {
    const table = uniqueTable("pfShape");
    const entities: WireEntity[] = [];
    for (let p = 0; p < 10; p++)
      for (let r = 0; r < 100; r++) entities.push(simpleEntity(`big${p}`, `r${r}`, { n: r }));
    for (let p = 0; p < 90; p++)
      entities.push(simpleEntity(`one${String(p).padStart(2, "0")}`, "r", { n: p }));
    await seedEntities(src, table, entities);
    const r = await preflightTable(httpFor(src), table, { destinationKind: "table", renames: [] });
    expect(r.error).toBeUndefined();
    expect(r.partitions).toBe(100);
    // 100 partitions by size: 90 of 1 then 10 of 100. Median (rank 50): 1; 99th percentile (rank 99): 100.
    expect(r.partitionProfile).toEqual({ median: 1, p99: 100, singleEntityShare: 0.9 });
    expect(r.warnings.join(" ")).toContain("90 % of its partitions hold one entity");
    // Table Storage destination: no request units to estimate.
    expect(r.cosmosEstimate).toBeUndefined();
  });

  it("estimates request units and time for Cosmos from the entities' sizes", async () => {
    const table = uniqueTable("pfRu");
    const entities: WireEntity[] = [];
    for (let i = 0; i < 300; i++) entities.push(sized("small", `s${String(i).padStart(3, "0")}`, 600));
    for (let i = 0; i < 200; i++) entities.push(sized("two", `t${String(i).padStart(3, "0")}`, 2048));
    for (let i = 0; i < 100; i++) entities.push(sized("four", `f${String(i).padStart(3, "0")}`, 4096));
    await seedEntities(src, table, entities);
    const r = await preflightTable(httpFor(src), table, {
      destinationKind: "cosmos",
      renames: [],
      ruPerSecond: 1_000,
    });
    expect(r.error).toBeUndefined();
    // 300 × 4.95 + 200 × 6.29 + 100 × 6.67 = 1,485 + 1,258 + 667 = 3,410 RU; at 1,000 RU/s, 4 s (3.41 up).
    expect(r.cosmosEstimate).toMatchObject({ requestUnits: 3_410, ruPerSecond: 1_000, seconds: 4 });
    expect(r.cosmosEstimate?.basis).toMatch(/published write costs.*4\.95 RU for a 1 KB item/);
    expect(r.partitionProfile).toEqual({ median: 200, p99: 300, singleEntityShare: 0 });
  });

  it("keeps each table's size in the state when a store is given, for the full sync's ETA", async () => {
    const table = uniqueTable("pfSize");
    await seedEntities(
      src,
      table,
      Array.from({ length: 250 }, (_, i) => simpleEntity(`p${i % 5}`, `r${i}`, { i })),
    );
    const store = new MemoryStateStore();
    const config = stepConfig("preflight", table, { "destination-kind": "cosmos", "ru-per-second": "500" });
    const result = await runPreflight(
      config,
      stepDeps(store, {
        destination: { connectionString: inject("destinationConnectionString"), kind: "cosmos" },
      }),
    );
    expect(result.ok, result.failure).toBe(true);
    expect(result.preflight[0].cosmosEstimate?.ruPerSecond).toBe(500);
    const size = (await store.load())?.tables[tableKey({ source: table, destination: table })]?.size;
    expect(size).toMatchObject({ entities: 250, by: "preflight" });
  });

  it("a state it cannot save does not fail preflight (it only reads the source): it says the ETA will be missing", async () => {
    const table = uniqueTable("pfNoSave");
    await seedEntities(src, table, [simpleEntity("a", "1")]);
    const refusing: StateStore = {
      load: async () => undefined,
      save: async () => {
        throw new StateError("The cache service refused the save.");
      },
      describe: () => "the Actions cache",
    };
    const result = await runPreflight(stepConfig("preflight", table), stepDeps(refusing));
    expect(result.ok, result.failure).toBe(true);
    expect(result.notices).toEqual([
      "The tables' sizes could not be kept in the Actions cache (The cache service refused the save), so the full sync's progress will show no ETA.",
    ]);
  });
});
