// The bench's replayed source: it records a table's pages through itself, then serves exactly those
// answers at the recorded pace, and sends anything it did not record to the real server (counted).
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ReplaySource } from "../../bench/replay-source.js";
import { TableReader } from "../../src/engine/copy/reader.js";
import { runSync } from "../../src/engine/copy/run-sync.js";
import { rawDifferences, rawEntities, syncConfig } from "../support/sync.js";
import { httpFor, seedEntities, simpleEntity, uniqueTable } from "../support/tables.js";

const src = inject("sourceConnectionString");
const dst = inject("destinationConnectionString");

describe("the replayed source", () => {
  let replay: ReplaySource;
  const table = uniqueTable("replay");
  beforeAll(async () => {
    await seedEntities(
      src,
      table,
      Array.from({ length: 2_300 }, (_, i) =>
        simpleEntity(`p${i % 3}`, `r${String(i).padStart(5, "0")}`, { i }),
      ),
    );
    replay = await ReplaySource.start(src);
  });
  afterAll(async () => {
    await replay.stop();
  });

  it("serves the recorded pages byte for byte, at the recorded pace, and counts what it lacks", async () => {
    const through = httpFor(replay.connectionString(src));
    const read = async () => {
      const pages: { keys: string[]; next?: unknown }[] = [];
      const reader = new TableReader(through, table, { readAhead: 1 });
      for await (const page of reader.pages())
        pages.push({ keys: Array.from(page.entities, (e) => e.rowKey), next: page.continuation });
      return pages;
    };
    const recorded = await read();
    expect(recorded.map((p) => p.keys.length)).toEqual([1_000, 1_000, 300]);
    expect(replay.recorded).toBe(3);
    replay.replay();

    // The source changes after the recording: the replay still answers what was recorded.
    await seedEntities(src, table, [
      simpleEntity("p0", "r00000", { i: -1 }),
      simpleEntity("p9", "later", {}),
    ]);
    const started = performance.now();
    const replayed = await read();
    expect(replayed).toEqual(recorded);
    expect(replay.unrecorded).toBe(0);
    // A replayed page is never quicker than the recorded one was (4 pages, each at least 1 ms).
    expect(performance.now() - started).toBeGreaterThanOrEqual(4);

    // A page it never recorded (another filter) goes to the real server, which sees the change.
    const other = new TableReader(through, table, { filter: "PartitionKey eq 'p9'" });
    const keys: string[] = [];
    for await (const page of other.pages()) for (const e of page.entities) keys.push(e.rowKey);
    expect(keys).toEqual(["later"]);
    expect(replay.unrecorded).toBe(1);
  });

  it("a sync from the replay copies the recorded table exactly", async () => {
    const t = uniqueTable("replaySync");
    await seedEntities(
      src,
      t,
      Array.from({ length: 1_200 }, (_, i) => simpleEntity(`p${i % 2}`, `r${i}`, { i, s: "é😀'" })),
    );
    const own = await ReplaySource.start(src);
    try {
      const via = own.connectionString(src);
      for await (const page of new TableReader(httpFor(via), t, {
        readAhead: 1,
      }).pages())
        void page;
      own.replay();
      // One plain scan, the requests it recorded (lanes, lane-reader.ts, ask queries of their own).
      const result = await runSync(syncConfig(via, dst, [t], { lanes: 1 }));
      expect(result.tables[0]).toMatchObject({ read: 1_200, written: 1_200, failed: 0 });
      expect(own.unrecorded).toBe(0);
      expect(rawDifferences(await rawEntities(src, t), await rawEntities(dst, t))).toEqual([]);
    } finally {
      await own.stop();
    }
  });
});
