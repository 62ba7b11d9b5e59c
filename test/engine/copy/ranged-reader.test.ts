// Reading an unsorted source by key ranges, against the Cosmos DB for Table double (a proxy before Azurite)
// with its whole table shuffled: every entity comes exactly once, the ranges follow each other with no gap,
// and a ranged read's resume point goes on from exactly where the finished ranges end.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { RangedReader } from "../../../src/engine/copy/ranged-reader.js";
import type { ReadPage } from "../../../src/engine/copy/reader.js";
import { runCopy } from "../../../src/engine/steps/full-sync.js";
import { MemoryStateStore } from "../../../src/state/store.js";
import { startCosmosDouble, type CosmosDouble } from "../../support/cosmos-double.js";
import { orderSafe } from "../../../src/engine/copy/shard.js";
import { startFaultProxy } from "../../support/fault-proxy.js";
import { rawDifferences, rawEntities, stepConfig, stepDeps } from "../../support/sync.js";
import { httpFor, seedEntities, simpleEntity, uniqueTable } from "../../support/tables.js";

const port = inject("sourcePort");
const src = inject("sourceConnectionString");
const dst = inject("destinationConnectionString");

let cosmos: CosmosDouble;
beforeAll(async () => {
  // Pages of 40, the whole table's order mixed (windows larger than any table here).
  cosmos = await startCosmosDouble({ target: port, pageSize: 40, windowSize: 10_000, seed: "ranged" });
});
afterAll(async () => {
  await cosmos.stop();
});

/** `partitions` partitions of `perPartition` entities, keys of varied length so ranges fall unevenly. */
function table(partitions: number, perPartition: number) {
  const out = [];
  for (let p = 0; p < partitions; p++) {
    const pk = `pk${(p * 7919) % 10_007}`.padEnd(3 + (p % 5), "x");
    for (let r = 0; r < perPartition; r++) out.push(simpleEntity(pk, `r${r}`, { n: p * 100 + r }));
  }
  return out;
}

async function readAll(reader: RangedReader): Promise<{ pages: ReadPage[]; keys: string[] }> {
  const pages: ReadPage[] = [];
  const keys: string[] = [];
  for await (const page of reader.pages()) {
    pages.push(page);
    for (const e of page.entities) keys.push(`${e.partitionKey}/${e.rowKey}`);
  }
  return { pages, keys };
}

const keyOf = (e: { partitionKey: string; rowKey: string }) => `${e.partitionKey}/${e.rowKey}`;

describe("RangedReader", () => {
  it("reads every entity once, range after range with no gap, each partition inside one range", async () => {
    const t = uniqueTable("ranged");
    const entities = table(150, 4);
    await seedEntities(src, t, entities);
    // About 60 entities a range: ten or so ranges.
    const reader = new RangedReader(httpFor(cosmos.connectionString(), "cosmos"), t, {
      rangeBytes: 60 * 350,
    });
    const { pages, keys } = await readAll(reader);
    expect(keys.sort()).toEqual(entities.map(keyOf).sort());

    const ranges = reader.ranges;
    expect(ranges.length).toBeGreaterThan(4);
    expect(ranges[0].from).toBeUndefined();
    expect(ranges.at(-1)?.to).toBeUndefined();
    for (let i = 1; i < ranges.length; i++) expect(ranges[i].from).toBe(ranges[i - 1].to);

    // Every range's last page says so; all but the last name where the next range starts.
    const ends = pages.filter((p) => p.endsRange);
    expect(ends).toHaveLength(ranges.length);
    expect(ends.slice(0, -1).map((p) => p.continuation)).toEqual(
      ranges.slice(1).map((r) => ({ nextPartitionKey: r.from, ranged: true })),
    );
    expect(ends.at(-1)?.continuation).toBeUndefined();
    // Pages inside a range carry the service's token, which is no resume point.
    expect(pages.filter((p) => !p.endsRange).every((p) => p.inRange && p.continuation)).toBe(true);

    // Each partition's entities all came within one range.
    let range = 0;
    const rangeOf = new Map<string, number>();
    for (const page of pages) {
      for (const e of page.entities) {
        const seen = rangeOf.get(e.partitionKey);
        expect(seen === undefined || seen === range).toBe(true);
        rangeOf.set(e.partitionKey, range);
      }
      if (page.endsRange) range++;
    }
    expect(rangeOf.size).toBe(150);
    // The requests: the sample page, then each range's pages, every one with its key range.
    const gets = cosmos.requests("GET", new RegExp(`/${t}\\(\\)`));
    expect(gets.slice(1).every((g) => /PartitionKey (ge|lt) '/.test(decodeURIComponent(g.path)))).toBe(true);
  });

  it("resumes from a ranged continuation with exactly the partitions from its key on", async () => {
    const t = uniqueTable("rangedResume");
    const entities = table(120, 3);
    await seedEntities(src, t, entities);
    const http = httpFor(cosmos.connectionString(), "cosmos");
    const first = await readAll(new RangedReader(http, t, { rangeBytes: 50 * 350 }));
    const resumeAt = first.pages.filter((p) => p.endsRange && p.continuation)[2].continuation!;
    expect(resumeAt.ranged).toBe(true);
    const resumed = await readAll(
      new RangedReader(http, t, { continuation: resumeAt, rangeBytes: 50 * 350 }),
    );
    const from = resumeAt.nextPartitionKey;
    expect(resumed.keys.sort()).toEqual(
      entities
        .filter((e) => e.partitionKey >= from)
        .map(keyOf)
        .sort(),
    );
  });

  it("takes its sample from the first page with entities when Cosmos answers empty pages first", async () => {
    const t = uniqueTable("rangedEmptyFirst");
    const entities = table(100, 3);
    await seedEntities(src, t, entities);
    const double = await startCosmosDouble({
      target: port,
      pageSize: 40,
      windowSize: 10_000,
      emptyPages: true,
    });
    try {
      const reader = new RangedReader(httpFor(double.connectionString(), "cosmos"), t, {
        rangeBytes: 60 * 350,
      });
      const { keys } = await readAll(reader);
      expect(double.stats.events["empty-page"]).toBeGreaterThan(0);
      expect(reader.ranges.length).toBeGreaterThan(2);
      expect(keys.sort()).toEqual(entities.map(keyOf).sort());
    } finally {
      await double.stop();
    }
  });

  it("a page that fails while the copy is busy with the one before fails the read, not the process", async () => {
    const t = uniqueTable("rangedGone");
    await seedEntities(src, t, table(100, 3));
    // The second range's first page is refused as if the table had gone; it is asked for at the first
    // range's last page, and fails while the copy is still busy with that page (nobody awaits it yet).
    const proxy = await startFaultProxy({
      target: cosmos.port,
      rules: [
        {
          match: (r) => r.path.includes("PartitionKey%20ge") && !r.path.includes("NextPartitionKey"),
          limit: 1,
          fault: {
            kind: "status",
            status: 404,
            headers: { "content-type": "application/json" },
            body: '{"odata.error":{"code":"TableNotFound","message":{"lang":"en-us","value":"gone"}}}',
          },
        },
      ],
    });
    try {
      const reader = new RangedReader(httpFor(proxy.connectionString(), "cosmos"), t, {
        rangeBytes: 60 * 350,
      });
      const pages = reader.pages();
      for (;;) {
        const step = await pages.next();
        expect(step.done).toBe(false);
        if (step.value?.endsRange) break;
      }
      await new Promise((r) => setTimeout(r, 200));
      expect(proxy.stats.faults).toBeGreaterThan(0);
      await expect(pages.next()).rejects.toThrow(/does not exist/);
    } finally {
      await proxy.stop();
    }
  });

  it("cuts the key space only at keys every string order sorts alike", async () => {
    const t = uniqueTable("rangedOrder");
    const entities = [];
    const firsts = ["a", "é", "😀", "！", "\uFFFD", "z", "~", "ÿ", "中"];
    for (let p = 0; p < 180; p++) {
      const pk = `${firsts[p % firsts.length]}${p}`;
      for (let r = 0; r < 2; r++) entities.push(simpleEntity(pk, `r${r}`, { p }));
    }
    await seedEntities(src, t, entities);
    const reader = new RangedReader(httpFor(cosmos.connectionString(), "cosmos"), t, {
      rangeBytes: 40 * 350,
    });
    const { keys } = await readAll(reader);
    expect(keys.sort()).toEqual(entities.map(keyOf).sort());
    expect(reader.ranges.length).toBeGreaterThan(2);
    const cuts = reader.ranges.flatMap((r) => [r.from, r.to]).filter((k): k is string => k !== undefined);
    expect(cuts.every(orderSafe)).toBe(true);
    expect(["abc", "é", "中", "\uD7FF"].every(orderSafe)).toBe(true);
    expect(["😀", "！", "\uFFFD", "a\uE000"].some(orderSafe)).toBe(false);
  });

  it("a read of one page is handed on as it is", async () => {
    const t = uniqueTable("rangedSmall");
    const entities = table(10, 2);
    await seedEntities(src, t, entities);
    const reader = new RangedReader(httpFor(cosmos.connectionString(), "cosmos"), t);
    const { pages, keys } = await readAll(reader);
    expect(pages).toHaveLength(1);
    expect(pages[0]).toMatchObject({ endsRange: true });
    expect(pages[0].continuation).toBeUndefined();
    expect(keys.sort()).toEqual(entities.map(keyOf).sort());
    expect(reader.ranges).toEqual([]);
  });

  it("an empty table is one empty page", async () => {
    const t = uniqueTable("rangedEmpty");
    await seedEntities(src, t, []);
    const { pages, keys } = await readAll(new RangedReader(httpFor(cosmos.connectionString(), "cosmos"), t));
    expect(keys).toEqual([]);
    expect(pages.length).toBeGreaterThanOrEqual(1);
  });
});

describe("a copy from a shuffled source, by key ranges", () => {
  it("sends every partition whole, in one transaction, and lands every entity exactly", async () => {
    const t = uniqueTable("rangedCopy");
    const entities = table(200, 6);
    await seedEntities(src, t, entities);
    const run = await runCopy(
      stepConfig("full-sync", t, {
        "source-connection-string": cosmos.connectionString(),
        "source-kind": "cosmos",
        "destination-kind": "table",
      }),
      stepDeps(new MemoryStateStore(), {
        source: { connectionString: cosmos.connectionString(), kind: "cosmos" },
        destination: { connectionString: dst, kind: "table" },
        // Some 150 entities a range: several ranges, each partition inside one.
        rangeBytes: 150 * 350,
      }),
    );
    expect(run.ok, run.failure).toBe(true);
    expect(run.tables[0].result).toMatchObject({ read: 1_200, written: 1_200, failed: 0, transactions: 200 });
    expect(rawDifferences(await rawEntities(dst, t), await rawEntities(src, t))).toEqual([]);
    // Read as ranges (the sample page and more than one range's first page carry no token).
    const starts = cosmos
      .requests("GET", new RegExp(`/${t}\\(\\)`))
      .filter((g) => !g.path.includes("NextPartitionKey="));
    expect(starts.length).toBeGreaterThan(3);
  });
});
