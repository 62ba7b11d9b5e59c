// Entity group transactions: ≤ 100 operations of one partition, ≤ 4 MiB on Table Storage, ≤ 2 MB on
// Cosmos; partitions are never mixed; one operation goes as a plain entity request, not a transaction.
// Sizes are measured on the wire, through the proxy.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { WireEntity, WireValue } from "../../../src/engine/wire/edm.js";
import { runSync } from "../../../src/engine/copy/run-sync.js";
import { BATCH, startFaultProxy, type FaultProxy } from "../../support/fault-proxy.js";
import { rawDifferences, rawEntities, syncConfig } from "../../support/sync.js";
import { seedEntities, simpleEntity, uniqueTable } from "../../support/tables.js";

const src = inject("sourceConnectionString");
const dst = inject("destinationConnectionString");

/** Operations in a $batch body: one `application/http` part each. */
function operationsIn(body: string): number {
  return body.split("Content-Type: application/http").length - 1;
}

/** Every write request: $batch transactions, and entity PUTs (a partition's lone entity). */
function writeRequests(proxy: FaultProxy) {
  return [...proxy.requests("POST", BATCH.path), ...proxy.requests("PUT", /\(PartitionKey=/)];
}

/** Operations a write request carries: its `application/http` parts, or 1 for an entity request. */
function operationsOf(w: { method: string; body?: string }): number {
  return w.method === "PUT" ? 1 : operationsIn(w.body!);
}

/** PartitionKeys named in a $batch body. */
function partitionsIn(body: string): Set<string> {
  return new Set(
    [...body.matchAll(/"PartitionKey":("(?:[^"\\]|\\.)*")/g)].map((m) => JSON.parse(m[1]) as string),
  );
}

function bigEntity(pk: string, i: number, props: number): WireEntity {
  const properties = new Map<string, WireValue>();
  for (let j = 0; j < props; j++) {
    properties.set(`s${j}`, {
      type: "Edm.String",
      value: String.fromCharCode(97 + ((i + j) % 26)).repeat(30_000),
    });
  }
  return { partitionKey: pk, rowKey: `r${String(i).padStart(3, "0")}`, properties };
}

describe("batching", () => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await startFaultProxy({ target: dst, keepBodies: true });
  });
  afterAll(async () => {
    await proxy.stop();
  });

  it("sends 101 entities of one partition as one transaction of 100 and one entity request", async () => {
    const table = uniqueTable("batch101");
    await seedEntities(
      src,
      table,
      Array.from({ length: 101 }, (_, i) => simpleEntity("p", `r${String(i).padStart(3, "0")}`, { n: i })),
    );
    proxy.resetStats();
    const result = await runSync(syncConfig(src, proxy.connectionString(), [table]));
    expect(result.tables[0]).toMatchObject({ read: 101, written: 101, failed: 0, transactions: 2 });
    expect(proxy.requests("POST", BATCH.path).map((b) => operationsIn(b.body!))).toEqual([100]);
    const single = proxy.requests("PUT", /\(PartitionKey=/);
    expect(single).toHaveLength(1);
    expect(single[0].path).toContain("RowKey='r100'");
    expect(rawDifferences(await rawEntities(src, table), await rawEntities(dst, table))).toEqual([]);
  });

  it("sends exactly 100 entities as one transaction", async () => {
    const table = uniqueTable("batch100");
    await seedEntities(
      src,
      table,
      Array.from({ length: 100 }, (_, i) => simpleEntity("p", `r${String(i).padStart(3, "0")}`, { n: i })),
    );
    const result = await runSync(syncConfig(src, dst, [table]));
    expect(result.tables[0]).toMatchObject({ read: 100, written: 100, failed: 0, transactions: 1 });
  });

  it("never mixes partitions, and groups each partition into full transactions", async () => {
    const table = uniqueTable("batchMixed");
    const sizes: Record<string, number> = { a: 150, b: 1, c: 100, d: 99, e: 201 };
    const entities = Object.entries(sizes).flatMap(([pk, n]) =>
      Array.from({ length: n }, (_, i) => simpleEntity(pk, `r${String(i).padStart(3, "0")}`, { pk, i })),
    );
    await seedEntities(src, table, entities);
    const expected = 2 + 1 + 1 + 1 + 3;
    for (const kind of ["table", "cosmos"] as const) {
      // As a Cosmos source, pages are not assumed sorted: partitions are buffered and grouped anyway.
      proxy.resetStats();
      const dest = uniqueTable("batchMixedDst");
      const result = await runSync(
        syncConfig(src, proxy.connectionString(), [[table, dest]], {
          source: { connectionString: src, kind },
          destination: { connectionString: proxy.connectionString(), kind: "table" },
        }),
      );
      expect(result.tables[0], kind).toMatchObject({
        read: 551,
        written: 551,
        failed: 0,
        transactions: expected,
      });
      const batches = writeRequests(proxy);
      expect(batches).toHaveLength(expected);
      for (const b of batches) expect(partitionsIn(b.body!).size).toBe(1);
      // Only partitions' lone entities go as entity requests.
      for (const b of batches)
        if (b.method === "PUT") expect(["b", "e"]).toContain([...partitionsIn(b.body!)][0]);
      const perPartition = new Map<string, number[]>();
      for (const b of batches) {
        const [pk] = partitionsIn(b.body!);
        perPartition.set(
          pk,
          [...(perPartition.get(pk) ?? []), operationsOf(b)].sort((x, y) => y - x),
        );
      }
      expect(Object.fromEntries(perPartition)).toEqual({
        a: [100, 50],
        b: [1],
        c: [100],
        d: [99],
        e: [100, 100, 1],
      });
      expect(rawDifferences(await rawEntities(src, table), await rawEntities(dst, dest))).toEqual([]);
    }
  });

  describe("large entities", () => {
    // 20 entities × 8 × 30,000 characters ≈ 4.8 MB in one partition.
    const table = uniqueTable("batchBig");
    const entities = Array.from({ length: 20 }, (_, i) => bigEntity("big", i, 8));
    beforeAll(async () => {
      await seedEntities(src, table, entities);
    });

    it("splits a partition over 4 MiB into transactions under 4 MiB on Table Storage", async () => {
      proxy.resetStats();
      const dest = uniqueTable("batchBigT");
      const result = await runSync(syncConfig(src, proxy.connectionString(), [[table, dest]]));
      const batches = writeRequests(proxy);
      expect(result.tables[0]).toMatchObject({
        read: 20,
        written: 20,
        failed: 0,
        transactions: batches.length,
      });
      expect(batches.length).toBeGreaterThanOrEqual(2);
      for (const b of batches) expect(b.bytes).toBeLessThan(4 * 1024 * 1024);
      expect(batches.reduce((n, b) => n + operationsOf(b), 0)).toBe(20);
      expect(rawDifferences(await rawEntities(src, table), await rawEntities(dst, dest))).toEqual([]);
    });

    it("keeps transactions under 2 MB for a Cosmos destination", async () => {
      proxy.resetStats();
      const dest = uniqueTable("batchBigC");
      const result = await runSync(
        syncConfig(src, proxy.connectionString(), [[table, dest]], {
          destination: { connectionString: proxy.connectionString(), kind: "cosmos" },
        }),
      );
      expect(result.destinationKind).toBe("cosmos");
      const batches = writeRequests(proxy);
      expect(result.tables[0]).toMatchObject({
        read: 20,
        written: 20,
        failed: 0,
        transactions: batches.length,
      });
      expect(batches.length).toBeGreaterThanOrEqual(3);
      for (const b of batches) expect(b.bytes).toBeLessThan(2_000_000);
      expect(batches.reduce((n, b) => n + operationsOf(b), 0)).toBe(20);
      expect(rawDifferences(await rawEntities(src, table), await rawEntities(dst, dest))).toEqual([]);
    });
  });
});
