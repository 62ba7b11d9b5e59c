// The writer against a real table server. An unsorted source (Cosmos): partitions arrive interleaved, so
// partial transactions wait for more of their partition — but never for the table's end. A one-entity
// request: once built, the operation keeps only its keys.
import { describe, expect, inject, it } from "vitest";
import { TableWriter } from "../../../src/engine/copy/writer.js";
import { ensureTable } from "../../../src/engine/wire/tables.js";
import { httpFor, readAll, simpleEntity, uniqueTable } from "../../support/tables.js";

const dst = inject("destinationConnectionString");

describe("TableWriter on an unsorted source", () => {
  it("sends a partition's lone entity once the buffers have turned over, not behind fuller partitions until the end", async () => {
    const http = httpFor(dst);
    const table = uniqueTable("writerAge");
    await ensureTable(http, table);
    const settled: string[] = [];
    const writer = new TableWriter(http, table, {
      concurrency: 8,
      maxFailuresKept: 10,
      sortedSource: false,
      maxBuffered: 20,
      onSettled: (op) => settled.push(op.entity.partitionKey),
    });
    // One entity of its partition, then 100 partitions of two: every partial transaction but the lone
    // one is fuller, so "send the fullest" alone would keep it (and its page's resume point) to the end.
    await writer.add("upsert-replace", simpleEntity("lone", "r0", { i: 0 }));
    for (let p = 0; p < 100; p++) {
      for (let r = 0; r < 2; r++)
        await writer.add("upsert-replace", simpleEntity(`p${p}`, `r${r}`, { i: r }));
    }
    const counters = await writer.flush();
    expect(counters).toMatchObject({ written: 201, failed: 0 });
    // Sent at the first turnover (after ~20 more entities), long before the last of the 201.
    expect(settled.indexOf("lone")).toBeGreaterThanOrEqual(0);
    expect(settled.indexOf("lone")).toBeLessThan(60);
    expect((await readAll(dst, table)).length).toBe(201);
  });
});

describe("TableWriter's one-entity requests", () => {
  it("write every property, then keep only the entity's keys while the answer is awaited", async () => {
    const http = httpFor(dst);
    const table = uniqueTable("writerKeys");
    await ensureTable(http, table);
    const landed: { keys: string; properties: number }[] = [];
    const writer = new TableWriter(http, table, {
      concurrency: 8,
      maxFailuresKept: 10,
      sortedSource: true,
      // The post-switch guard's hook: it is told of every landed write, with what the writer still holds.
      onLanded: (op) =>
        landed.push({
          keys: `${op.entity.partitionKey}/${op.entity.rowKey}`,
          properties: op.entity.properties.size,
        }),
    });
    const entities = Array.from({ length: 20 }, (_, i) => simpleEntity(`p${i}`, "r", { i, s: `v${i}` }));
    for (const e of entities) await writer.add("upsert-replace", e);
    expect(await writer.flush()).toMatchObject({ written: 20, failed: 0, transactions: 20 });
    expect(landed.map((l) => l.keys).sort()).toEqual(entities.map((e) => `${e.partitionKey}/r`).sort());
    expect(landed.every((l) => l.properties === 0)).toBe(true);
    // The caller's entities are left as they were; the destination got all of each.
    expect(entities.every((e) => e.properties.size === 2)).toBe(true);
    const written = await readAll(dst, table);
    expect(written.map((e) => [e.partitionKey, e.properties.get("s")?.value]).sort()).toEqual(
      entities.map((e) => [e.partitionKey, e.properties.get("s")?.value]).sort(),
    );
  });
});
