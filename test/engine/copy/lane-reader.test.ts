// Reading a sorted source through lanes of key ranges, against Azurite: every entity comes exactly once and
// in key order (the writer sees one sorted scan), the ranges follow each other with no gap whatever the keys
// look like, a range's end resumes at exactly its key, and a fast source is read as one plain scan.
import { describe, expect, inject, it } from "vitest";
import { LatencyLink } from "../../../bench/latency-link.js";
import { LaneReader, type LaneReadOptions } from "../../../src/engine/copy/lane-reader.js";
import type { ReadPage } from "../../../src/engine/copy/reader.js";
import { httpFor, seedEntities, simpleEntity, uniqueTable } from "../../support/tables.js";

const src = inject("sourceConnectionString");
const port = inject("sourcePort");
const http = httpFor(src, "table");

/** Lanes on whatever the source's speed, ranges of about 300 entities. */
const FORCED: LaneReadOptions = { slowPageMs: 0, rangeEntities: 300 };

async function readAll(reader: LaneReader): Promise<{ pages: ReadPage[]; keys: string[] }> {
  const pages: ReadPage[] = [];
  const keys: string[] = [];
  for await (const page of reader.pages()) {
    pages.push(page);
    for (const e of page.entities) keys.push(`${e.partitionKey}\u0000${e.rowKey}`);
  }
  return { pages, keys };
}

const keyOf = (e: { partitionKey: string; rowKey: string }) => `${e.partitionKey}\u0000${e.rowKey}`;
const ordinal = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Tables of 2,500 entities whose keys nobody here chose the spread of. */
const shapes: Record<string, () => { pk: string; rk: string }[]> = {
  "one per partition, hex keys": () =>
    Array.from({ length: 2_500 }, (_, i) => ({
      pk: ((i * 2_654_435_761) >>> 0).toString(16).padStart(8, "0"),
      rk: "",
    })),
  "one per partition, numbered keys": () =>
    Array.from({ length: 2_500 }, (_, i) => ({ pk: `user-${String(i).padStart(7, "0")}`, rk: "r" })),
  "1,200 in one partition, then small ones": () =>
    Array.from({ length: 2_500 }, (_, i) =>
      i < 1_200 ? { pk: "big", rk: String(i).padStart(5, "0") } : { pk: `p${i}`, rk: "x" },
    ),
  "seven per partition, clustered at both ends of the key space": () =>
    Array.from({ length: 2_500 }, (_, i) => ({
      pk: i < 1_250 ? `A${Math.floor(i / 7)}` : `~~zz${Math.floor(i / 7)}`,
      rk: `r${i % 7}`,
    })),
  "long shared prefix, spaces, quotes and non-ASCII": () =>
    Array.from({ length: 2_500 }, (_, i) => ({
      pk: `tenant-contoso-device-${i % 3 === 0 ? "é" : i % 3 === 1 ? "o'k " : "z"}${i}`,
      rk: `${i}`,
    })),
};

describe("LaneReader", () => {
  for (const [name, make] of Object.entries(shapes)) {
    it(`reads every entity once, in key order, through ranges with no gap: ${name}`, async () => {
      const t = uniqueTable("lanes");
      const entities = make().map((k, i) => simpleEntity(k.pk, k.rk, { n: i }));
      await seedEntities(src, t, entities);
      const reader = new LaneReader(http, t, FORCED);
      const { pages, keys } = await readAll(reader);
      // In key order, each once: the sorted scan the writer expects.
      expect(keys).toEqual(entities.map(keyOf).sort(ordinal));

      const ranges = reader.ranges;
      expect(ranges.length).toBeGreaterThan(2);
      // The first page is one scan's (a resume point with the service's token); the lanes go on from the
      // partition it ended in: first the rest of that partition, then ranges from the key after it.
      expect(pages[0].inRange).toBeFalsy();
      expect(pages[0].continuation?.ranged).toBeFalsy();
      const firstPageKeys = [...pages[0].entities].map((e) => e.partitionKey);
      expect(ranges[0]).toEqual({ from: firstPageKeys.at(-1), to: `${firstPageKeys.at(-1)} ` });
      expect(ranges.at(-1)?.to).toBeUndefined();
      for (let i = 1; i < ranges.length; i++) {
        expect(ranges[i].from).toBe(ranges[i - 1].to);
        if (i < ranges.length - 1) expect(ordinal(ranges[i].to!, ranges[i].from!)).toBe(1);
      }
      // A range's end is a resume point at the next range's start; pages inside one are not.
      const ends = pages.filter((p) => p.endsRange);
      expect(ends).toHaveLength(ranges.length);
      expect(ends.slice(0, -1).map((p) => p.continuation)).toEqual(
        ranges.slice(1).map((r) => ({ nextPartitionKey: r.from, ranged: true })),
      );
      expect(ends.at(-1)?.continuation).toBeUndefined();
      expect(
        pages
          .slice(1)
          .filter((p) => !p.endsRange)
          .every((p) => p.inRange && p.continuation),
      ).toBe(true);
    });
  }

  it("resumes from a range's end with exactly the partitions from its key on", async () => {
    const t = uniqueTable("lanesResume");
    const entities = shapes["one per partition, numbered keys"]().map((k, i) =>
      simpleEntity(k.pk, k.rk, { n: i }),
    );
    await seedEntities(src, t, entities);
    const first = await readAll(new LaneReader(http, t, FORCED));
    const points = first.pages.filter((p) => p.endsRange && p.continuation).map((p) => p.continuation!);
    expect(points.length).toBeGreaterThan(3);
    for (const at of [points[1], points.at(-1)!]) {
      // Resumed where the source is fast too: a ranged point is still read by ranges (a plain scan under
      // the range's filter would leave continuations no later run could use).
      const resumed = new LaneReader(http, t, { ...FORCED, slowPageMs: 60_000, continuation: at });
      const { keys, pages } = await readAll(resumed);
      expect(keys).toEqual(
        entities
          .filter((e) => e.partitionKey >= at.nextPartitionKey)
          .map(keyOf)
          .sort(ordinal),
      );
      expect(pages.every((p) => !p.continuation || p.inRange || p.continuation.ranged)).toBe(true);
    }
  });

  it("resumes from a plain scan's page and goes on by lanes where they pay", async () => {
    const t = uniqueTable("lanesPlainResume");
    const entities = shapes["seven per partition, clustered at both ends of the key space"]().map((k, i) =>
      simpleEntity(k.pk, k.rk, { n: i }),
    );
    await seedEntities(src, t, entities);
    const plain = await readAll(new LaneReader(http, t, { slowPageMs: 60_000 }));
    const at = plain.pages[0].continuation!;
    expect(at.ranged).toBeFalsy();
    const resumed = new LaneReader(http, t, { ...FORCED, continuation: at });
    const { keys, pages } = await readAll(resumed);
    const all = entities.map(keyOf).sort(ordinal);
    expect(keys).toEqual(all.slice(all.length - keys.length));
    expect(keys.length).toBe(all.length - [...plain.pages[0].entities].length);
    // The token's page first (a plain resume point), then ranges.
    expect(pages[0].inRange).toBeFalsy();
    expect(resumed.ranges.length).toBeGreaterThan(0);
  });

  it("reads a fast source as one plain scan, whose pages are resume points", async () => {
    const t = uniqueTable("lanesFast");
    const entities = shapes["one per partition, hex keys"]().map((k, i) =>
      simpleEntity(k.pk, k.rk, { n: i }),
    );
    await seedEntities(src, t, entities);
    const reader = new LaneReader(http, t, { slowPageMs: 60_000 });
    const { pages, keys } = await readAll(reader);
    expect(keys).toEqual(entities.map(keyOf).sort(ordinal));
    expect(reader.ranges).toEqual([]);
    expect(pages).toHaveLength(3);
    expect(pages.every((p) => !p.inRange && !p.continuation?.ranged)).toBe(true);
  });

  it("reads a one-page table as that page", async () => {
    const t = uniqueTable("lanesSmall");
    const entities = Array.from({ length: 20 }, (_, i) => simpleEntity(`p${i}`, "r", { n: i }));
    await seedEntities(src, t, entities);
    const reader = new LaneReader(http, t, FORCED);
    const { pages, keys } = await readAll(reader);
    expect(keys).toHaveLength(20);
    expect(pages).toHaveLength(1);
    expect(reader.ranges).toEqual([]);
  });

  it("keeps the user's filter in every range", async () => {
    const t = uniqueTable("lanesFilter");
    const entities = shapes["one per partition, numbered keys"]().map((k, i) =>
      simpleEntity(k.pk, k.rk, { n: i }),
    );
    await seedEntities(src, t, entities);
    const reader = new LaneReader(http, t, { ...FORCED, filter: "n ge 500" });
    const { keys } = await readAll(reader);
    expect(keys).toEqual(
      entities
        .filter((e) => Number(e.properties.get("n")?.value) >= 500)
        .map(keyOf)
        .sort(ordinal),
    );
    expect(reader.ranges.length).toBeGreaterThan(2);
  });

  describe("by itself (no forcing), behind a 100 ms link", () => {
    /** Read the table through a link that adds a 100 ms round trip to Azurite. */
    async function readFar(t: string) {
      const link = await LatencyLink.start(port, 100);
      try {
        const far = httpFor(src.replace(`:${port}/`, `:${link.port}/`), "table");
        const reader = new LaneReader(far, t);
        return { reader, ...(await readAll(reader)) };
      } finally {
        await link.stop();
      }
    }

    it("reads a table of five entities a partition by lanes, from the end of its first page", async () => {
      const t = uniqueTable("lanesFar");
      const entities = Array.from({ length: 4_000 }, (_, i) =>
        simpleEntity(`d${String(Math.floor(i / 5)).padStart(5, "0")}`, `r${i % 5}`, { n: i }),
      );
      await seedEntities(src, t, entities);
      const { reader, keys, pages } = await readFar(t);
      expect(keys).toEqual(entities.map(keyOf).sort(ordinal));
      expect(reader.ranges.length).toBeGreaterThan(1);
      // Each entity once (above), the first page one scan's: the lanes took up after it.
      expect(pages[0].inRange).toBeFalsy();
    });

    it("turns to lanes later when the source slows down after a fast first page", async () => {
      const t = uniqueTable("lanesLater");
      const entities = Array.from({ length: 14_000 }, (_, i) =>
        simpleEntity(`d${String(Math.floor(i / 5)).padStart(5, "0")}`, `r${i % 5}`, { n: i }),
      );
      await seedEntities(src, t, entities);
      const link = await LatencyLink.start(port, 0);
      try {
        const far = httpFor(src.replace(`:${port}/`, `:${link.port}/`), "table");
        const reader = new LaneReader(far, t);
        const pages: ReadPage[] = [];
        const keys: string[] = [];
        for await (const page of reader.pages()) {
          // The link turns far once the first page (fast: no lanes from it) is in.
          link.rttMs = 100;
          pages.push(page);
          for (const e of page.entities) keys.push(keyOf(e));
        }
        expect(keys).toEqual(entities.map(keyOf).sort(ordinal));
        // One scan for the first pages (each a resume point), lanes after the watch saw the copy wait.
        expect(pages.slice(0, 9).every((p) => !p.inRange)).toBe(true);
        expect(reader.ranges.length).toBeGreaterThan(0);
      } finally {
        await link.stop();
      }
    });

    it("reads a table of one entity a partition as one scan (the window caps it as a scan does)", async () => {
      const t = uniqueTable("lanesFarOne");
      const entities = Array.from({ length: 2_500 }, (_, i) =>
        simpleEntity(`u${String(i).padStart(6, "0")}`, "", { n: i }),
      );
      await seedEntities(src, t, entities);
      const { reader, keys } = await readFar(t);
      expect(keys).toEqual(entities.map(keyOf).sort(ordinal));
      expect(reader.ranges).toEqual([]);
    });
  });
});
