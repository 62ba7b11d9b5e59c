// The double's limits at wire level: a body above 2 MB refused 413, 429s every Nth request, inside a
// changeset or by an RU budget (no retry header, nothing written), and its counters and log.
import { describe, expect, it } from "vitest";
import { COSMOS_MAX_REQUEST_BYTES, TOO_MANY_REQUESTS } from "../cosmos-double.js";
import { uniqueTable } from "../tables.js";
import {
  batchOf,
  cosmosError,
  json,
  keyPath,
  type Entity,
  type Op,
  type Reply,
  useCosmosDouble,
} from "./harness.js";

const cosmos = useCosmosDouble();
const { call, createTable, sendBatch } = cosmos;

describe("limits and throttling", () => {
  it("refuses a body above 2 MB (a single entity or a $batch) with 413 RequestEntityTooLarge; just below passes", async () => {
    const t = uniqueTable("cdLarge");
    await createTable(t);
    const big = JSON.stringify({ PartitionKey: "p", RowKey: "r", s: "x".repeat(COSMOS_MAX_REQUEST_BYTES) });
    const single = await call("PUT", keyPath(t, "p", "r"), { headers: json, body: big });
    expect(single.status).toBe(413);
    expect(cosmosError(single)).toMatchObject({
      code: "RequestEntityTooLarge",
      value: expect.stringContaining("ActivityId: "),
    });
    // 45 entities of ~48 KB: about 2.2 MB refused; 40 of them (~1.95 MB) accepted.
    const ops = (n: number): Op[] =>
      Array.from({ length: n }, (_, i) => ({
        method: "PUT",
        keys: ["p", `r${i}`],
        body: { PartitionKey: "p", RowKey: `r${i}`, s: "y".repeat(48_000) },
      }));
    const tooLarge = batchOf(cosmos.double.port, t, ops(45));
    expect(Buffer.byteLength(tooLarge.body)).toBeGreaterThan(COSMOS_MAX_REQUEST_BYTES);
    const refused = await sendBatch(t, ops(45));
    expect(refused.status).toBe(413);
    expect(cosmosError(refused).code).toBe("RequestEntityTooLarge");
    const fits = batchOf(cosmos.double.port, t, ops(40));
    expect(Buffer.byteLength(fits.body)).toBeLessThan(COSMOS_MAX_REQUEST_BYTES);
    expect((await sendBatch(t, ops(40))).status).toBe(202);
    expect(cosmos.double.stats.events["too-large"]).toBeGreaterThanOrEqual(2);
  });

  it("throttles every Nth request: 429 TooManyRequests without any retry header, nothing written", async () => {
    const t = uniqueTable("cdThrottle");
    await createTable(t);
    cosmos.double.configure({ throttle: { everyNth: 3 } });
    const statuses: number[] = [];
    let throttled: Reply | undefined;
    for (let i = 0; i < 6; i++) {
      const r = await call("PUT", keyPath(t, "p", `r${i}`), {
        headers: json,
        body: JSON.stringify({ PartitionKey: "p", RowKey: `r${i}` }),
      });
      statuses.push(r.status);
      if (r.status === 429) throttled ??= r;
    }
    expect(statuses).toEqual([204, 204, 429, 204, 204, 429]);
    const r = throttled as Reply;
    for (const h of ["retry-after", "retry-after-ms", "x-ms-retry-after-ms"])
      expect(r.headers[h]).toBeUndefined();
    const e = cosmosError(r);
    expect(e.code).toBe("TooManyRequests");
    expect(e.value.startsWith(`Message: {"Errors":["${TOO_MANY_REQUESTS}"]}\r\nActivityId: `)).toBe(true);
    expect(e.value).toContain("RequestStartTime: ");
    cosmos.double.configure({ throttle: undefined });
    const list = JSON.parse((await call("GET", `${t}()`)).body) as { value: Entity[] };
    expect(list.value.map((x) => x.RowKey).sort()).toEqual(["r0", "r1", "r3", "r4"]);
  });

  it("throttles a $batch inside the changeset when asked, and by an RU budget", async () => {
    const t = uniqueTable("cdThrottleBatch");
    await createTable(t);
    cosmos.double.configure({
      throttle: { everyNth: 1, inChangeset: true, match: (r) => r.method === "POST" },
    });
    const r = await sendBatch(t, [
      { method: "PUT", keys: ["p", "a"], body: { PartitionKey: "p", RowKey: "a" } },
    ]);
    expect(r.status).toBe(202);
    expect(r.body).toContain("HTTP/1.1 429 Too Many Requests\r\n");
    expect(r.body).toMatch(/"value":"0:Message: \{\\"Errors\\":\[\\"Request rate is large/);
    expect(r.headers["x-ms-retry-after-ms"]).toBeUndefined();
    // A budget of 20 RU/s: a burst of writes is throttled after the first second's worth.
    cosmos.double.configure({ throttle: { ruPerSecond: 20 } });
    const burst = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        call("PUT", keyPath(t, "q", `r${i}`), {
          headers: json,
          body: JSON.stringify({ PartitionKey: "q", RowKey: `r${i}` }),
        }),
      ),
    );
    const codes = burst.map((b) => b.status);
    expect(codes.filter((c) => c === 429).length).toBeGreaterThanOrEqual(6);
    expect(codes.filter((c) => c === 204).length).toBeGreaterThanOrEqual(2);
    expect(burst.every((b) => b.headers["x-ms-retry-after-ms"] === undefined)).toBe(true);
  });
});

describe("stats", () => {
  it("counts requests by method and status, and logs what the double did itself", async () => {
    const t = uniqueTable("cdStats");
    await createTable(t);
    cosmos.double.resetStats();
    await call("PATCH", keyPath(t, "p", "r"), { headers: json, body: "{}" });
    await call("GET", `${t}()`);
    expect(cosmos.double.stats).toMatchObject({
      requests: 2,
      byMethod: { PATCH: 1, GET: 1 },
      byStatus: { 405: 1, 200: 1 },
      pages: 1,
    });
    expect(cosmos.double.requests("PATCH").map((e) => [e.status, e.note])).toEqual([[405, "patch"]]);
  });
});
