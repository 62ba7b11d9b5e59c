// The fault proxy itself: transparent when idle, and each rule and fault does what it says.
import { afterEach, describe, expect, inject, it } from "vitest";
import { TableWriter } from "../../src/engine/copy/writer.js";
import {
  BATCH,
  faults,
  odataError,
  startFaultProxy,
  type FaultProxy,
  type FaultRule,
} from "./fault-proxy.js";
import { httpFor, readAll, simpleEntity, uniqueTable } from "./tables.js";
import { ensureTable } from "../../src/engine/wire/tables.js";

const dst = inject("destinationConnectionString");
const dstPort = inject("destinationPort");

let proxy: FaultProxy | undefined;
afterEach(async () => {
  await proxy?.stop();
  proxy = undefined;
});

async function start(rules: FaultRule[] = [], seed?: number): Promise<FaultProxy> {
  proxy = await startFaultProxy({ target: `http://127.0.0.1:${dstPort}/devstoreaccount1`, rules, seed });
  return proxy;
}

/** An unsigned request straight at the proxy (Azurite answers it 403, which is fine: only faults matter). */
function get(p: FaultProxy, path = "/devstoreaccount1/Tables", init: RequestInit = {}): Promise<Response> {
  return fetch(`http://127.0.0.1:${p.port}${path}`, init);
}

describe("fault proxy", () => {
  it("is transparent for signed table requests, and counts them", async () => {
    const p = await start();
    expect(p.url).toBe(`http://127.0.0.1:${p.port}/devstoreaccount1`);
    expect(p.connectionString()).toContain(`TableEndpoint=http://127.0.0.1:${p.port}/devstoreaccount1;`);
    const table = uniqueTable("proxyT");
    const http = httpFor(p.connectionString());
    await ensureTable(http, table);
    const writer = new TableWriter(http, table, { concurrency: 2, maxFailuresKept: 5, sortedSource: true });
    for (let i = 0; i < 150; i++) await writer.add("upsert-replace", simpleEntity("p", `r${i}`, { i }));
    expect(await writer.flush()).toMatchObject({ written: 150, failed: 0, transactions: 2 });
    expect(await readAll(p.connectionString(), table)).toHaveLength(150);
    expect(await readAll(dst, table)).toHaveLength(150);
    expect(p.stats).toMatchObject({ requests: 4, forwarded: 4, faults: 0, byFault: {} });
    expect(p.requests("POST", BATCH.path).map((e) => e.status)).toEqual([202, 202]);
  });

  it("accepts a port, a URL or a connection string as target", async () => {
    for (const target of [dstPort, `http://127.0.0.1:${dstPort}`, dst]) {
      const p = await startFaultProxy({ target });
      try {
        const table = uniqueTable("proxyTarget");
        await ensureTable(httpFor(p.connectionString()), table);
        expect(await readAll(p.connectionString(), table)).toEqual([]);
      } finally {
        await p.stop();
      }
    }
  });

  it("injects a status with the given headers and an OData error body", async () => {
    const p = await start([
      { nth: [1], fault: faults.status(429, { "x-ms-retry-after-ms": "25", "Retry-After": "1" }) },
    ]);
    const res = await get(p);
    expect(res.status).toBe(429);
    expect(res.headers.get("x-ms-retry-after-ms")).toBe("25");
    expect(res.headers.get("retry-after")).toBe("1");
    expect(res.headers.get("x-ms-error-code")).toBe("TooManyRequests");
    const body = (await res.json()) as { "odata.error": { code: string; message: { value: string } } };
    expect(body["odata.error"].code).toBe("TooManyRequests");
    expect(body["odata.error"].message.value).toContain("injected 429");
    expect((await get(p)).status).toBe(403); // the 2nd request reaches Azurite (unsigned: refused)
    expect(p.stats).toMatchObject({ requests: 2, forwarded: 1, faults: 1, byFault: { "status:429": 1 } });
    expect(p.stats.log.map((e) => [e.seq, e.fault, e.status])).toEqual([
      [1, "status:429", 429],
      [2, undefined, 403],
    ]);
  });

  it("filters by method and path, counts nth per rule, honours limit, first firing rule wins", async () => {
    const p = await start([
      { name: "posts", method: "post", path: /\/Tables$/, nth: [2], fault: faults.status(503) },
      { name: "all-gets", method: ["GET"], limit: 2, fault: faults.status(500) },
      { name: "every-other", nth: [1, 3, 5, 7], fault: faults.status(408) },
    ]);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await get(p)).status);
    for (let i = 0; i < 2; i++)
      statuses.push((await get(p, "/devstoreaccount1/Tables", { method: "POST", body: "{}" })).status);
    // GETs 1–2: all-gets (limit 2); GET 3: every-other's 3rd; GET 4: through.
    // POST 1 (every-other's 5th): 408; POST 2: posts' 2nd (and every-other's 6th).
    expect(statuses).toEqual([500, 500, 408, 403, 408, 503]);
    expect(p.stats.byRule).toEqual({ "all-gets": 2, "every-other": 2, posts: 1 });
    expect(p.stats.faults).toBe(5);
  });

  it("is deterministic for a seed", async () => {
    const pattern = async (seed: number) => {
      const p = await startFaultProxy({
        target: dstPort,
        seed,
        rules: [{ probability: 0.5, fault: faults.status(503) }],
      });
      const out: number[] = [];
      for (let i = 0; i < 40; i++) out.push((await get(p)).status);
      await p.stop();
      return out.map((s) => (s === 503 ? 1 : 0)).join("");
    };
    const a = await pattern(42);
    expect(await pattern(42)).toBe(a);
    expect(await pattern(43)).not.toBe(a);
    expect(a).toMatch(/1/);
    expect(a).toMatch(/0/);
  });

  it("setRules starts the counts again; resetStats clears the statistics", async () => {
    const p = await start([{ nth: [1], fault: faults.status(503) }]);
    expect((await get(p)).status).toBe(503);
    expect((await get(p)).status).toBe(403);
    p.setRules([{ nth: [1], fault: faults.status(500) }]);
    expect((await get(p)).status).toBe(500);
    p.resetStats();
    expect(p.stats).toEqual({ requests: 0, forwarded: 0, faults: 0, byFault: {}, byRule: {}, log: [] });
    p.setRules([]);
    expect((await get(p)).status).toBe(403);
  });

  it("resets connections", async () => {
    const p = await start([{ nth: [1], fault: faults.reset() }]);
    await expect(get(p)).rejects.toThrow();
    expect((await get(p)).status).toBe(403);
    expect(p.stats.byFault).toEqual({ reset: 1 });
  });

  it("stalls: past a client's timeout, then hangs up or forwards late", async () => {
    const p = await start([
      { nth: [1], fault: faults.stall(5_000) },
      { nth: [2], fault: faults.stall(150, "forward") },
    ]);
    const t0 = Date.now();
    await expect(get(p, undefined, { signal: AbortSignal.timeout(100) })).rejects.toThrow();
    expect(Date.now() - t0).toBeLessThan(2_000);
    const t1 = Date.now();
    const res = await get(p);
    expect(res.status).toBe(403);
    expect(Date.now() - t1).toBeGreaterThanOrEqual(140);
    expect(p.stats.byFault).toEqual({ stall: 2 });
  });

  it("truncates a response body after announcing its full length", async () => {
    const p = await start([{ nth: [1], fault: faults.truncate(0.5) }]);
    const first = await get(p);
    expect(first.status).toBe(403);
    await expect(first.text()).rejects.toThrow();
    const second = await get(p);
    expect((await second.text()).length).toBeGreaterThan(0);
    expect(p.stats.byFault).toEqual({ truncate: 1 });
  });

  it("keeps request bodies when asked, and stops promptly with a stalled request pending", async () => {
    proxy = await startFaultProxy({
      target: dstPort,
      keepBodies: true,
      rules: [{ method: "PUT", fault: faults.stall(60_000) }],
    });
    const p = proxy;
    await get(p, "/devstoreaccount1/Tables", { method: "POST", body: '{"x":1}' });
    expect(p.stats.log[0]).toMatchObject({ method: "POST", bytes: 7, body: '{"x":1}' });
    const pending = get(p, "/devstoreaccount1/Tables", { method: "PUT", body: "x" }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    const t = Date.now();
    await p.stop();
    proxy = undefined;
    expect(await pending).toBeInstanceOf(Error);
    expect(Date.now() - t).toBeLessThan(2_000);
  });

  it("builds OData error bodies", () => {
    expect(JSON.parse(odataError("ServerBusy", "busy"))).toEqual({
      "odata.error": { code: "ServerBusy", message: { lang: "en-US", value: "busy" } },
    });
  });
});
