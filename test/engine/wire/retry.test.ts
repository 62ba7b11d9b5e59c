// Throttling, server errors and network faults injected between the engine and real table servers:
// the destination must end exact and the counts must be exact.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { runSync } from "../../../src/engine/copy/run-sync.js";
import {
  BATCH,
  QUERY,
  faults,
  startFaultProxy,
  type FaultProxy,
  type FaultRule,
} from "../../support/fault-proxy.js";
import { FAST_RETRY, rawDifferences, rawEntities, syncConfig } from "../../support/sync.js";
import { seedEntities, simpleEntity, uniqueTable } from "../../support/tables.js";

const src = inject("sourceConnectionString");
const dst = inject("destinationConnectionString");

const rk = (i: number) => `r${String(i).padStart(4, "0")}`;

/** 250 entities in three partitions: 2 + 1 + 1 = 4 transactions. */
const SIZES = { p0: 120, p1: 80, p2: 50 };
const TRANSACTIONS = 4;
const source = uniqueTable("retrySrc");

let proxy: FaultProxy;

beforeAll(async () => {
  await seedEntities(
    src,
    source,
    Object.entries(SIZES).flatMap(([pk, n]) =>
      Array.from({ length: n }, (_, i) => simpleEntity(pk, rk(i), { pk, i, half: i + 0.5 })),
    ),
  );
  proxy = await startFaultProxy({ target: dst, seed: 7 });
});

afterAll(async () => {
  await proxy.stop();
});

async function copyThrough(rules: FaultRule[], overrides: Parameters<typeof syncConfig>[3] = {}) {
  proxy.setRules(rules);
  proxy.resetStats();
  const dest = uniqueTable("retryDst");
  const result = await runSync(syncConfig(src, proxy.connectionString(), [[source, dest]], overrides));
  const diffs = rawDifferences(await rawEntities(src, source), await rawEntities(dst, dest));
  return { table: result.tables[0], diffs, batches: proxy.requests("POST", BATCH.path) };
}

const HINTS: [string, Record<string, string>][] = [
  ["no retry header", {}],
  ["x-ms-retry-after-ms", { "x-ms-retry-after-ms": "15" }],
  ["retry-after-ms", { "retry-after-ms": "15" }],
  ["Retry-After (seconds)", { "Retry-After": "1" }],
];

describe.each([429, 503])("HTTP %i on transactions", (status) => {
  it.each(HINTS)("with %s: retried, destination exact, counts exact", async (_name, headers) => {
    // The 1st, 3rd and 4th transaction requests are refused (the 3rd and 4th back to back).
    const { table, diffs, batches } = await copyThrough([
      { ...BATCH, nth: [1, 3, 4], fault: faults.status(status, headers) },
    ]);
    expect(diffs).toEqual([]);
    expect(table).toMatchObject({
      read: 250,
      written: 250,
      failed: 0,
      skipped: 0,
      transactions: TRANSACTIONS,
      retries: 3,
      throttled: status === 429 ? 3 : 0,
    });
    expect(table.error).toBeUndefined();
    expect(proxy.stats.byFault).toEqual({ [`status:${status}`]: 3 });
    expect(batches).toHaveLength(TRANSACTIONS + 3);
  });
});

describe.each([500, 408])("HTTP %i on transactions", (status) => {
  it("is retried with backoff; destination exact", async () => {
    const { table, diffs, batches } = await copyThrough([
      { ...BATCH, nth: [2, 3], fault: faults.status(status) },
    ]);
    expect(diffs).toEqual([]);
    expect(table).toMatchObject({
      read: 250,
      written: 250,
      failed: 0,
      transactions: TRANSACTIONS,
      retries: 2,
      throttled: 0,
    });
    expect(batches).toHaveLength(TRANSACTIONS + 2);
  });
});

describe("waiting before a retry", () => {
  // One transaction at a time, so each request after a fault is that fault's retry.
  const one = uniqueTable("retryOne");
  beforeAll(async () => {
    await seedEntities(
      src,
      one,
      Array.from({ length: 10 }, (_, i) => simpleEntity("p", rk(i), { i })),
    );
  });

  async function gaps(fault: FaultRule["fault"], count: number): Promise<number[]> {
    proxy.setRules([{ ...BATCH, nth: Array.from({ length: count }, (_, i) => i + 1), fault }]);
    proxy.resetStats();
    const dest = uniqueTable("retryOneDst");
    const result = await runSync(
      syncConfig(src, proxy.connectionString(), [[one, dest]], { concurrency: 1 }),
    );
    expect(result.tables[0]).toMatchObject({
      read: 10,
      written: 10,
      failed: 0,
      transactions: 1,
      retries: count,
    });
    const at = proxy.requests("POST", BATCH.path).map((e) => e.at);
    expect(at).toHaveLength(count + 1);
    return at.slice(1).map((t, i) => t - at[i]);
  }

  it("a 429 without a retry header is retried with exponential backoff", async () => {
    // baseDelayMs 20: attempt n waits between 20·2ⁿ/2 and 20·2ⁿ ms.
    const g = await gaps(faults.status(429), 3);
    expect(g[0]).toBeGreaterThanOrEqual(10 - 1);
    expect(g[1]).toBeGreaterThanOrEqual(20 - 1);
    expect(g[2]).toBeGreaterThanOrEqual(40 - 1);
  });

  it.each([["x-ms-retry-after-ms"], ["retry-after-ms"]])(
    "waits for %s rather than its own backoff",
    async (header) => {
      // Backoff alone would wait at most 20 ms before the first retry.
      const [g] = await gaps(faults.status(429, { [header]: "150" }), 1);
      expect(g).toBeGreaterThanOrEqual(150 - 1);
    },
  );

  it("waits for Retry-After in seconds and as an HTTP date, capped at twice maxDelayMs", async () => {
    const cap = FAST_RETRY.maxDelayMs * 2;
    const [seconds] = await gaps(faults.status(503, { "Retry-After": "1" }), 1);
    expect(seconds).toBeGreaterThanOrEqual(cap - 1);
    const date = new Date(Date.now() + 3000).toUTCString();
    const [httpDate] = await gaps(faults.status(503, { "Retry-After": date }), 1);
    expect(httpDate).toBeGreaterThanOrEqual(cap - 1);
  });
});

describe("network faults", () => {
  it("connection resets are retried", async () => {
    const { table, diffs } = await copyThrough([{ ...BATCH, nth: [1, 2, 5], fault: faults.reset() }]);
    expect(diffs).toEqual([]);
    expect(table).toMatchObject({
      read: 250,
      written: 250,
      failed: 0,
      transactions: TRANSACTIONS,
      retries: 3,
    });
    expect(proxy.stats.byFault).toEqual({ reset: 3 });
  });

  it("a stalled request is abandoned after requestTimeoutMs and retried", async () => {
    const { table, diffs } = await copyThrough(
      [
        { ...BATCH, nth: [1], fault: faults.stall(2_000, "reset") },
        // This one reaches the server after the client gave up: the retry writes the same again.
        { ...BATCH, nth: [3], fault: faults.stall(600, "forward") },
      ],
      { retry: { ...FAST_RETRY, requestTimeoutMs: 300 } },
    );
    expect(diffs).toEqual([]);
    expect(table).toMatchObject({
      read: 250,
      written: 250,
      failed: 0,
      transactions: TRANSACTIONS,
      retries: 2,
    });
    expect(proxy.stats.byFault).toEqual({ stall: 2 });
  });

  it("a truncated transaction response is retried (replace is idempotent)", async () => {
    const { table, diffs } = await copyThrough([{ ...BATCH, nth: [1, 2], fault: faults.truncate() }]);
    expect(diffs).toEqual([]);
    expect(table).toMatchObject({
      read: 250,
      written: 250,
      failed: 0,
      transactions: TRANSACTIONS,
      retries: 2,
    });
    expect(proxy.stats.byFault).toEqual({ truncate: 2 });
  });

  it("in insert mode a retried transaction that had landed still leaves the destination exact", async () => {
    const { table, diffs } = await copyThrough([{ ...BATCH, nth: [1], fault: faults.truncate() }], {
      writeMode: "insert",
    });
    expect(diffs).toEqual([]);
    expect(table.failed).toBe(0);
    // The lost answer hides that the first attempt landed: its entities may count as skipped.
    expect(table.written + table.skipped).toBe(250);
  });

  it("faults on a share of requests (seeded) all end in an exact destination", async () => {
    const { table, diffs, batches } = await copyThrough([
      { ...BATCH, probability: 0.3, fault: faults.status(503, { "retry-after-ms": "5" }) },
      { ...BATCH, probability: 0.1, fault: faults.reset() },
    ]);
    expect(diffs).toEqual([]);
    expect(proxy.stats.faults).toBeGreaterThan(0);
    expect(table).toMatchObject({
      read: 250,
      written: 250,
      failed: 0,
      transactions: TRANSACTIONS,
      retries: proxy.stats.faults,
    });
    expect(batches).toHaveLength(TRANSACTIONS + proxy.stats.faults);
  });

  it("throttled table creation is retried", async () => {
    const { table, diffs } = await copyThrough([
      {
        method: "POST",
        path: /\/Tables$/,
        nth: [1, 2],
        fault: faults.status(429, { "x-ms-retry-after-ms": "5" }),
      },
    ]);
    expect(diffs).toEqual([]);
    expect(table).toMatchObject({ written: 250, failed: 0, throttled: 2, retries: 2 });
  });
});

describe("reading through faults", () => {
  // 2,100 entities: three pages of up to 1,000.
  const big = uniqueTable("retryRead");
  let reader: FaultProxy;
  beforeAll(async () => {
    await seedEntities(
      src,
      big,
      Array.from({ length: 2100 }, (_, i) => simpleEntity(`p${i % 3}`, rk(i), { i })),
    );
    reader = await startFaultProxy({ target: src });
  });
  afterAll(async () => {
    await reader.stop();
  });

  it("pages that fail, reset or arrive truncated are fetched again: nothing lost, nothing doubled", async () => {
    reader.setRules([
      { ...QUERY, nth: [1], fault: faults.status(503) },
      { ...QUERY, nth: [2], fault: faults.truncate(0.6) },
      { ...QUERY, nth: [4], fault: faults.reset() },
      { ...QUERY, nth: [5], fault: faults.status(429, { "x-ms-retry-after-ms": "5" }) },
    ]);
    const dest = uniqueTable("retryReadDst");
    // One plain scan, whose requests this counts: the faults slow its first page, which with a slow probe
    // would turn lanes on (lane-reader.ts), and the probe would meet the faults meant for pages.
    const result = await runSync(syncConfig(reader.connectionString(), dst, [[big, dest]], { lanes: 1 }));
    expect(result.tables[0]).toMatchObject({
      read: 2100,
      written: 2100,
      failed: 0,
      retries: 4,
      throttled: 1,
    });
    expect(reader.stats.faults).toBe(4);
    const pages = reader.requests("GET", QUERY.path).filter((e) => !e.fault);
    expect(pages).toHaveLength(3);
    expect(rawDifferences(await rawEntities(src, big), await rawEntities(dst, dest))).toEqual([]);
  });
});

describe("giving up", () => {
  it("after maxRetries the transaction fails with the service's answer, in bounded time", async () => {
    const started = Date.now();
    const { table, batches } = await copyThrough([{ ...BATCH, fault: faults.status(503) }], {
      retry: { ...FAST_RETRY, maxRetries: 2 },
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(table).toMatchObject({ read: 250, written: 0, failed: 250, transactions: TRANSACTIONS });
    expect(batches).toHaveLength(TRANSACTIONS * 3);
    expect(table.failures[0]).toMatchObject({ status: 503, code: "ServerBusy" });
    expect(table.failures[0].message).toMatch(/^HTTP 503 ServerBusy: fault proxy: injected 503/);
  });

  it("after maxNetworkRetries resets the transaction fails with the network error", async () => {
    const { table, batches } = await copyThrough([{ ...BATCH, fault: faults.reset() }], {
      retry: { ...FAST_RETRY, maxNetworkRetries: 2 },
    });
    expect(table).toMatchObject({ read: 250, written: 0, failed: 250, transactions: TRANSACTIONS });
    expect(batches).toHaveLength(TRANSACTIONS * 3);
    expect(table.failures[0].message).toMatch(/ECONNRESET|socket hang up/);
  });
});
