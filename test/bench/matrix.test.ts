// The bench matrix's harness: the free source (sorted like Table Storage, or unsorted like Cosmos DB for
// Table), the free sink and the latency link, checked with the engine and with plain requests.
import { request, Agent } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { batchResponse, FreeSink } from "../../bench/free-sink.js";
import { FreeSource } from "../../bench/free-source.js";
import { LatencyLink } from "../../bench/latency-link.js";
import { inflightFor, plainScan, prebuildWrites, sendAll } from "../../bench/ceiling-client.js";
import { parseBatchResponse } from "../../src/engine/wire/batch.js";
import { TableReader } from "../../src/engine/copy/reader.js";
import { runSync } from "../../src/engine/copy/run-sync.js";
import { connectionStringFor } from "../support/azurite.js";
import { syncConfig } from "../support/sync.js";
import { httpFor } from "../support/tables.js";

const RTT = 20;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request with node:http (no signing: the free servers do not check it). */
function send(
  agent: Agent,
  port: number,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
) {
  return new Promise<Answer>((resolve, reject) => {
    const req = request({ agent, host: "127.0.0.1", port, method, path, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (s: string) => (text += s));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("the matrix harness", () => {
  let source: FreeSource;
  let sink: FreeSink;
  let sourceLink: LatencyLink;
  let sinkLink: LatencyLink;
  beforeAll(async () => {
    source = await FreeSource.start({ entities: 2_000, perPartition: 10 });
    sink = await FreeSink.start();
    sourceLink = await LatencyLink.start(source.port, RTT);
    sinkLink = await LatencyLink.start(sink.port, RTT);
  });
  afterAll(async () => {
    await Promise.all([sourceLink.stop(), sinkLink.stop()]);
    await Promise.all([source.stop(), sink.stop()]);
  });

  it("a full sync through a 20 ms link writes every entity of the source to the sink", async () => {
    sink.reset();
    source.resetStats();
    const result = await runSync(
      syncConfig(
        connectionStringFor(sourceLink.port),
        connectionStringFor(sinkLink.port),
        [["benchsource", "benchdest"]],
        // One plain scan, whose pages this counts (lanes would read the first again: lane-reader.ts).
        { lanes: 1 },
      ),
    );
    expect(result.tables[0]).toMatchObject({ read: 2_000, written: 2_000, failed: 0 });
    expect(result.tables[0].error).toBeUndefined();
    expect(source.stats.entitiesServed).toBe(2_000);
    expect(source.stats.pages).toBe(2);
    expect(sink.stats.distinct).toBe(2_000);
    for (const e of source.entities()) expect(sink.has(e.partitionKey, e.rowKey)).toBe(true);
    expect(source.stats.unexpected + sink.stats.unexpected).toBe(0);
    // Went through the links, both ways.
    expect(sourceLink.stats.bytesDown).toBeGreaterThan(2_000 * 1_000);
    expect(sinkLink.stats.bytesUp).toBeGreaterThan(2_000 * 1_000);
  });

  it("the link holds every request and every answer: each round trip takes at least the round trip time", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const times: number[] = [];
      for (let i = 0; i < 4; i++) {
        const started = performance.now();
        const res = await send(agent, sourceLink.port, "GET", "/devstoreaccount1/Tables('benchsource')");
        times.push(performance.now() - started);
        expect(res.status).toBe(200);
        expect(JSON.parse(res.body)).toEqual({ TableName: "benchsource" });
      }
      // The same keep-alive connection every time: the delay is per chunk, not per connection.
      expect(sourceLink.stats.connections).toBeGreaterThanOrEqual(1);
      for (const t of times) expect(t).toBeGreaterThanOrEqual(RTT - 1);
    } finally {
      agent.destroy();
    }
    // Straight to the server, a round trip is far shorter (a generous bound on a busy machine).
    const direct = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      await send(direct, source.port, "GET", "/devstoreaccount1/Tables('benchsource')");
      const started = performance.now();
      await send(direct, source.port, "GET", "/devstoreaccount1/Tables('benchsource')");
      expect(performance.now() - started).toBeLessThan(RTT);
    } finally {
      direct.destroy();
    }
  });

  it("the unsorted source serves every entity exactly once across pages, as Cosmos does", async () => {
    const cosmos = await FreeSource.start({ entities: 2_500, perPartition: 10, unsorted: true });
    try {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const keys: string[] = [];
      let query = "";
      let pages = 0;
      try {
        for (;;) {
          const res = await send(agent, cosmos.port, "GET", `/devstoreaccount1/benchsource()${query}`);
          expect(res.status).toBe(200);
          expect(res.headers["x-ms-version"]).toBeUndefined();
          expect(res.headers["content-type"]).toBe("application/json; odata=minimalmetadata");
          pages++;
          const page = JSON.parse(res.body) as {
            value: { PartitionKey: string; RowKey: string; Timestamp: string }[];
          };
          for (const e of page.value) {
            expect(e.Timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
            keys.push(`${e.PartitionKey}/${e.RowKey}`);
          }
          const npk = res.headers["x-ms-continuation-nextpartitionkey"];
          if (npk === undefined) break;
          expect(res.headers["x-ms-continuation-nextrowkey"]).toBe("NA");
          expect(JSON.parse(String(npk))).toMatchObject({
            token: expect.any(String),
            range: { min: "", max: "FF" },
          });
          query = `?NextPartitionKey=${encodeURIComponent(String(npk))}&NextRowKey=NA`;
        }
      } finally {
        agent.destroy();
      }
      expect(pages).toBe(3);
      expect(keys).toHaveLength(2_500);
      expect(new Set(keys).size).toBe(2_500);
      expect(new Set(keys)).toEqual(new Set(cosmos.entities().map((e) => `${e.partitionKey}/${e.rowKey}`)));
      // Not in key order: far from it (shuffled over the whole table).
      const outOfOrder = keys.filter((k, i) => i > 0 && k < keys[i - 1]).length;
      expect(outOfOrder).toBeGreaterThan(500);

      // The engine's reader pages through it too, and a key-range filter selects exactly its range.
      const http = httpFor(connectionStringFor(cosmos.port));
      let read = 0;
      for await (const page of new TableReader(http, "benchsource").pages()) read += page.entities.length;
      expect(read).toBe(2_500);
      const ranged: string[] = [];
      const filter = "PartitionKey ge 'p00010' and PartitionKey lt 'p00020'";
      for await (const page of new TableReader(http, "benchsource", { filter }).pages())
        for (const e of page.entities) ranged.push(e.partitionKey);
      expect(ranged).toHaveLength(100);
      expect(ranged.every((pk) => pk >= "p00010" && pk < "p00020")).toBe(true);
      // A range over several pages: each of its entities once, in the order the plain scan serves them.
      const wide: string[] = [];
      let widePages = 0;
      const wideFilter = "PartitionKey ge 'p00020' and PartitionKey lt 'p00170'";
      for await (const page of new TableReader(http, "benchsource", { filter: wideFilter }).pages()) {
        widePages++;
        for (const e of page.entities) wide.push(`${e.partitionKey}/${e.rowKey}`);
      }
      expect(widePages).toBe(2);
      expect(wide).toEqual(keys.filter((k) => k >= "p00020" && k < "p00170"));
    } finally {
      await cosmos.stop();
    }
  });

  it("the yardsticks: one plain scan reads every entity; pre-built writes land every key", async () => {
    const scan = await plainScan(`http://127.0.0.1:${sourceLink.port}/devstoreaccount1`, "benchsource");
    expect(scan).toMatchObject({ entities: 2_000, pages: 2 });
    // Two pages one after the other: at least two round trips.
    expect(scan.elapsedMs).toBeGreaterThanOrEqual(2 * RTT - 1);

    for (const perPartition of [1, 10]) {
      sink.reset();
      const endpoint = `http://127.0.0.1:${sinkLink.port}/devstoreaccount1`;
      const requests = prebuildWrites(endpoint, "benchdest", source.entities(), perPartition);
      expect(requests).toHaveLength(perPartition === 1 ? 2_000 : 200);
      const written = await sendAll(endpoint, requests, inflightFor(RTT, perPartition));
      expect(written).toMatchObject({ entities: 2_000, failed: 0 });
      expect(sink.stats.distinct).toBe(2_000);
      expect(perPartition === 1 ? sink.stats.singleWrites : sink.stats.batches).toBe(requests.length);
    }
  });

  it("the sink answers as Table Storage does", async () => {
    sink.reset();
    const parsed = parseBatchResponse(
      batchResponse(3, "2026-01-15T10:00:00.1234567Z").body.toString("utf8"),
      3,
    );
    expect(parsed).toMatchObject({ ok: true, statuses: [204, 204, 204] });
    expect(parsed.etags).toEqual(Array(3).fill(`W/"datetime'2026-01-15T10%3A00%3A00.1234567Z'"`));

    const agent = new Agent({ keepAlive: true });
    try {
      const at = (pk: string, rk: string) =>
        `/devstoreaccount1/t1(PartitionKey='${encodeURIComponent(pk.replace(/'/g, "''"))}',RowKey='${rk}')`;
      const body = JSON.stringify({ PartitionKey: "a'b", RowKey: "1", x: 1 });
      const put = await send(agent, sink.port, "PUT", at("a'b", "1"), body, {
        "Content-Type": "application/json",
      });
      expect(put.status).toBe(204);
      expect(put.headers.etag).toMatch(/^W\/"datetime'.+'"$/);
      const merge = await send(agent, sink.port, "POST", at("a", "2"), "{}", { "X-HTTP-Method": "MERGE" });
      expect(merge.status).toBe(204);
      const insert = await send(
        agent,
        sink.port,
        "POST",
        "/devstoreaccount1/t1",
        JSON.stringify({ PartitionKey: "c", RowKey: "3" }),
      );
      expect(insert.status).toBe(204);
      expect(sink.stats).toMatchObject({ singleWrites: 3, distinct: 3 });
      expect(sink.has("a'b", "1") && sink.has("a", "2") && sink.has("c", "3")).toBe(true);
      const read = await send(agent, sink.port, "GET", at("a", "2"));
      expect(read.status).toBe(404);
      expect(JSON.parse(read.body)["odata.error"].code).toBe("ResourceNotFound");
      expect((await send(agent, sink.port, "GET", "/devstoreaccount1/Tables('t1')")).status).toBe(200);
      const create = () =>
        send(agent, sink.port, "POST", "/devstoreaccount1/Tables", JSON.stringify({ TableName: "t2" }));
      expect((await create()).status).toBe(204);
      expect((await create()).status).toBe(409);
      const odd = await send(agent, sink.port, "OPTIONS", "/devstoreaccount1/t1");
      expect(odd.status).toBe(501);
      expect(sink.stats.unexpected).toBe(1);
    } finally {
      agent.destroy();
    }
  });
});
