// The writer against a real table server. An unsorted source (Cosmos): partitions arrive interleaved, so
// partial transactions wait for more of their partition — but never for the table's end. A one-entity
// request: once built, the operation keeps only its keys.
import { describe, expect, inject, it, vi } from "vitest";
import { FlowControl } from "../../../src/engine/copy/rate.js";
import { TableWriter } from "../../../src/engine/copy/writer.js";
import { ensureTable } from "../../../src/engine/wire/tables.js";
import { BATCH, faults, startFaultProxy } from "../../support/fault-proxy.js";
import { prng } from "../../support/prng.js";
import { httpFor, readAll, simpleEntity, uniqueTable } from "../../support/tables.js";

const dst = inject("destinationConnectionString");

describe("TableWriter on an unsorted source", () => {
  it("sends a partition's lone entity once it has waited the hold time, not behind fuller partitions until the end", async () => {
    const http = httpFor(dst);
    const table = uniqueTable("writerAge");
    await ensureTable(http, table);
    const settled: string[] = [];
    let clock = 0;
    const writer = new TableWriter(http, table, {
      concurrency: 8,
      maxFailuresKept: 10,
      sortedSource: false,
      hold: { maxMs: 1_000, now: () => clock },
      onSettled: (op) => settled.push(op.entity.partitionKey),
    });
    // One entity of its partition, then 100 partitions of two, 8 ms apart (a partition's second entity
    // 800 ms after its first): every partial transaction but the lone one is fuller, so "send the fullest"
    // alone would keep it (and its page's resume point) to the end.
    await writer.add("upsert-replace", simpleEntity("lone", "r0", { i: 0 }));
    let firstSentAt = -1;
    for (let r = 0; r < 2; r++) {
      for (let p = 0; p < 100; p++) {
        clock += 8;
        await writer.add("upsert-replace", simpleEntity(`p${p}`, `r${r}`, { i: r }));
        if (firstSentAt < 0 && writer.counters.transactions > 0) firstSentAt = clock;
      }
    }
    const counters = await writer.flush();
    expect(counters).toMatchObject({ written: 201, failed: 0 });
    // The first request went when the lone one's second had passed (125 entities later, long before the
    // table's end), when no other partition had waited that long: it was the lone one.
    expect(firstSentAt).toBe(1_000);
    expect(settled).toContain("lone");
    // Each partition's second entity came within the hold time: transactions of two.
    expect(counters.transactions).toBe(101);
    expect((await readAll(dst, table)).length).toBe(201);
  });

  it("gathers a shuffled table's partitions, sending the fullest early, each at most once, while the destination idles", async () => {
    const http = httpFor(dst);
    const table = uniqueTable("writerGather");
    await ensureTable(http, table);
    const entities = Array.from({ length: 300 }, (_, i) =>
      simpleEntity(`p${i % 30}`, `r${String(i).padStart(3, "0")}`, { i, s: "v".repeat(100) }),
    );
    const next = prng(3);
    for (let j = entities.length - 1; j > 0; j--) {
      const k = Math.floor(next() * (j + 1));
      [entities[j], entities[k]] = [entities[k], entities[j]];
    }
    // Each request's operations settle together, after the writer counted them all as written: a new
    // count starts a new request.
    const runs: { pk: string; n: number; early: boolean }[] = [];
    let flushing = false;
    let counted = -1;
    const writer: TableWriter = new TableWriter(http, table, {
      concurrency: 8,
      maxFailuresKept: 10,
      sortedSource: false,
      onSettled: (op) => {
        const sameRequest = writer.counters.written === counted;
        counted = writer.counters.written;
        const last = runs.at(-1);
        if (sameRequest && last) last.n++;
        else runs.push({ pk: op.entity.partitionKey, n: 1, early: !flushing });
      },
    });
    for (const e of entities) await writer.add("upsert-replace", e);
    // The destination had room all along: partitions of five or more went before the table's end.
    const early = writer.counters.transactions;
    expect(early).toBeGreaterThan(0);
    await vi.waitFor(() => expect(runs.length).toBe(early), { timeout: 10_000 });
    flushing = true;
    expect(await writer.flush()).toMatchObject({ written: 300, failed: 0 });
    // Early ones were the fullest (five at least: fewer would cost a request for little), and a partition
    // went early once, the rest of it at the end: two transactions at most, never one per entity.
    const earlyRuns = runs.filter((r) => r.early);
    expect(earlyRuns.length).toBeGreaterThan(0);
    for (const r of earlyRuns) expect(r.n).toBeGreaterThanOrEqual(5);
    const perPartition = new Map<string, number>();
    for (const r of runs) perPartition.set(r.pk, (perPartition.get(r.pk) ?? 0) + 1);
    expect(Math.max(...perPartition.values())).toBeLessThanOrEqual(2);
    expect(writer.counters.transactions).toBe(runs.length);
    expect(writer.counters.transactions).toBeLessThanOrEqual(30 + early);
    const written = await readAll(dst, table);
    expect(
      written.map((e) => `${e.partitionKey}/${e.rowKey}/${e.properties.get("i")?.value}`).sort(),
    ).toEqual(entities.map((e) => `${e.partitionKey}/${e.rowKey}/${e.properties.get("i")?.value}`).sort());
  });

  it("holds everything while the destination has no room to spare", async () => {
    const http = httpFor(dst);
    const table = uniqueTable("writerNoRoom");
    await ensureTable(http, table);
    // A cap of one entity a second: the pace leaves no room, so nothing goes early and each partition
    // goes whole at the end (30 transactions of ten).
    const flow = new FlowControl({ concurrency: 8, maxEntitiesPerSecond: 1 });
    await flow.acquire(1);
    flow.release();
    const writer = new TableWriter(http, table, {
      concurrency: 8,
      maxFailuresKept: 10,
      sortedSource: false,
      flow,
    });
    for (let i = 0; i < 300; i++)
      await writer.add("upsert-replace", simpleEntity(`p${i % 30}`, `r${String(i).padStart(3, "0")}`, { i }));
    expect(writer.counters.transactions).toBe(0);
    expect(flow.room()).toBe(0);
  });

  it("sends the fullest partial transactions first when the hold is over its memory bound", async () => {
    const http = httpFor(dst);
    const table = uniqueTable("writerBound");
    await ensureTable(http, table);
    const settled: string[] = [];
    const writer = new TableWriter(http, table, {
      // One request at a time: answers then settle in the order they were sent (with several in flight, a
      // transaction of 20 once settled after a later one of 10 and the single writes sent meanwhile).
      concurrency: 1,
      maxFailuresKept: 10,
      sortedSource: false,
      // About 40 held entities of ~1 KB; the hold time (2 s by default) plays no part, even if the test
      // process stalls.
      hold: { maxBytes: 40 * 1_300, maxMs: 60_000 },
      onSettled: (op) => settled.push(op.entity.partitionKey),
    });
    // Partition "big" gathers 30 entities among 40 partitions of one.
    for (let i = 0; i < 40; i++) {
      await writer.add("upsert-replace", simpleEntity(`small${i}`, "r", { pad: "x".repeat(1_000) }));
      if (i < 30)
        await writer.add("upsert-replace", simpleEntity("big", `r${i}`, { pad: "x".repeat(1_000) }));
    }
    // The bound was passed: transactions went before the table's end.
    const early = writer.counters.transactions;
    expect(early).toBeGreaterThanOrEqual(1);
    expect(await writer.flush()).toMatchObject({ written: 70, failed: 0 });
    // The first was the fullest, "big", with the 15 or more of it then held (one request for all of them).
    expect(settled.slice(0, 15)).toEqual(Array(15).fill("big"));
    expect(writer.counters.transactions).toBeLessThan(70 - 15);
    expect((await readAll(dst, table)).length).toBe(70);
  });
});

describe("TableWriter's held operations", () => {
  it("send their whole entities when a transaction is refused and split", async () => {
    const table = uniqueTable("writerHeldSplit");
    await ensureTable(httpFor(dst), table);
    // A stand-in for a service whose request limit is lower than ours: anything over 30 kB is refused.
    const proxy = await startFaultProxy({
      target: dst,
      rules: [{ ...BATCH, match: (r) => r.body.length > 30_000, fault: faults.status(413) }],
    });
    try {
      const writer = new TableWriter(httpFor(proxy.connectionString()), table, {
        concurrency: 4,
        maxFailuresKept: 10,
        sortedSource: false,
      });
      const entities = Array.from({ length: 100 }, (_, i) =>
        simpleEntity("p", `r${String(i).padStart(3, "0")}`, { i, pad: "z".repeat(1_000) }),
      );
      for (const e of entities) await writer.add("upsert-replace", e);
      expect(await writer.flush()).toMatchObject({ written: 100, failed: 0 });
      expect(proxy.stats.byFault["status:413"]).toBeGreaterThan(0);
      const written = await readAll(dst, table);
      expect(
        written.map((e) => [e.rowKey, e.properties.get("i")?.value, e.properties.get("pad")?.value]),
      ).toEqual(
        entities.map((e) => [e.rowKey, e.properties.get("i")?.value, e.properties.get("pad")?.value]),
      );
    } finally {
      await proxy.stop();
    }
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
