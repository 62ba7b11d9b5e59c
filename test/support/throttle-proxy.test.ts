// The throttling proxy itself: cost model, token bucket, 429 with a retry hint, and its stats.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { buildBatchBytes } from "../../src/engine/wire/batch.js";
import { ensureTable } from "../../src/engine/wire/tables.js";
import { startThrottleProxy, TokenBucket, writeCost, type ThrottleProxy } from "./throttle-proxy.js";
import { httpFor, simpleEntity, uniqueTable } from "./tables.js";

const dst = inject("destinationConnectionString");

describe("writeCost", () => {
  it("costs 5 RU per operation plus 1 RU per KiB of the body", () => {
    expect(writeCost(Buffer.alloc(2048), false)).toEqual({ ru: 7, operations: 1 });
    const ops = Array.from({ length: 10 }, (_, i) => ({
      kind: "upsert-replace" as const,
      entity: simpleEntity("p", `r${i}`, { text: "x".repeat(500) }),
    }));
    const batch = buildBatchBytes("http://h/acct/t", ops);
    const cost = writeCost(Buffer.from(batch.body), true);
    expect(cost.operations).toBe(10);
    expect(cost.ru).toBeCloseTo(50 + batch.body.length / 1024, 5);
  });
});

describe("TokenBucket", () => {
  it("starts full, refills at its rate, and says how long until a request can be paid", () => {
    let t = 0;
    const bucket = new TokenBucket(100, 100, () => t);
    expect(bucket.take(80)).toBe(0);
    expect(bucket.take(50)).toBe(300); // 20 left, 30 more needed at 100/s
    t += 300;
    expect(bucket.take(50)).toBe(0);
    t += 10_000;
    expect(bucket.level()).toBe(100); // never above one second of budget
  });
});

describe("the throttle proxy", () => {
  let proxy: ThrottleProxy;
  beforeAll(async () => {
    proxy = await startThrottleProxy({ target: dst, ruPerSecond: 50 });
  });
  afterAll(async () => {
    await proxy.stop();
  });

  it("forwards what the bucket can pay for and answers 429 with x-ms-retry-after-ms when it cannot", async () => {
    const table = uniqueTable("thr");
    await ensureTable(httpFor(dst), table);
    proxy.reset();
    const http = httpFor(proxy.connectionString());
    const put = (rk: string) =>
      http.send({
        method: "PUT",
        url: `${http.url}/${table}(PartitionKey='p',RowKey='${rk}')`,
        headers: { "Content-Type": "application/json", Accept: "application/json;odata=nometadata" },
        body: JSON.stringify({ PartitionKey: "p", RowKey: rk, text: "x".repeat(30 * 1024) }),
      });
    // Each PUT costs 5 + ~30 = ~35 RU; the bucket holds 50: the first passes, the second is refused.
    const ok = await put("a");
    expect(ok.status).toBe(204);
    expect(Number(ok.headers["x-ms-request-charge"])).toBeCloseTo(35, 0);
    // Unsigned, so that TableHttp does not retry it; refused before any signature is checked.
    const raw = await fetch(`${http.url}/${table}(PartitionKey='p',RowKey='b')`, {
      method: "PUT",
      body: "x".repeat(30 * 1024),
    });
    expect(raw.status).toBe(429);
    const hint = Number(raw.headers.get("x-ms-retry-after-ms"));
    expect(hint).toBeGreaterThan(0);
    expect(hint).toBeLessThanOrEqual(1_000);
    expect(JSON.parse(await raw.text())).toMatchObject({ "odata.error": { code: "TooManyRequests" } });
    expect(proxy.stats).toMatchObject({ requests: 2, accepted: 1, throttled: 1 });
    expect(proxy.stats.consumedRu).toBeCloseTo(35, 0);
    expect(proxy.throttledShare()).toBe(0.5);
    // TableHttp waits out the hint and retries: the write lands.
    const retried = await put("b");
    expect(retried.status).toBe(204);
    expect(http.stats.throttled).toBeGreaterThanOrEqual(1);
    expect(proxy.budgetUsed()).toBeGreaterThan(0);
  });

  it("charges reads by their response size (at least 1 RU)", async () => {
    proxy.reset();
    const http = httpFor(proxy.connectionString());
    const res = await http.send({
      method: "GET",
      url: `${http.url}/Tables`,
      headers: { Accept: "application/json;odata=nometadata" },
    });
    expect(res.status).toBe(200);
    expect(proxy.stats.consumedRu).toBeGreaterThanOrEqual(1);
    expect(proxy.stats.throttled).toBe(0);
  });
});
