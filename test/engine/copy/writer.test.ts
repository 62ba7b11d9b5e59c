// The writer's buffers for an unsorted source (Cosmos), against a real table server: partitions arrive
// interleaved, so partial transactions wait for more of their partition — but never for the table's end.
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
