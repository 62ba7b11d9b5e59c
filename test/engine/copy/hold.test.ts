import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { Hold, SQUEEZE_ABOVE, heldOperation, holdMs } from "../../../src/engine/copy/hold.js";
import { entityJson, hasOnlyKeys, parseEntityPage, type WireEntity } from "../../../src/engine/wire/edm.js";
import type { Operation } from "../../../src/engine/wire/batch.js";

describe("heldOperation", () => {
  it("keeps the entity's JSON and keys, and not its page's text", () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    // A 4 MB page; the parser's strings of 13 characters or more are slices of it.
    const page = () =>
      JSON.stringify({
        value: Array.from({ length: 2000 }, (_, i) => ({
          PartitionKey: `partition-${i}-of-the-page`,
          RowKey: "row-key-long-enough",
          Text: String(i).padEnd(2000, "x"),
          "Count@odata.type": "Edm.Int64",
          Count: "12345678901234567",
        })),
      });
    let expected = "";
    const heldBy = (keep: (e: WireEntity) => unknown): { held: number; kept: unknown } => {
      gc();
      const before = process.memoryUsage().heapUsed;
      // Parsed in a call of its own: nothing but what `keep` returns outlives it.
      const kept = ((parsed: WireEntity) => {
        expected = entityJson(parsed);
        return keep(parsed);
      })(parseEntityPage(page())[0]);
      // A regular expression remembers the last string it ran on (RegExp.input): one of the page's.
      /x/.test("");
      gc();
      return { held: process.memoryUsage().heapUsed - before, kept };
    };
    expect(heldBy((e) => e).held).toBeGreaterThan(3_000_000); // the parsed entity holds the whole page
    const { held, kept } = heldBy((e) => heldOperation("upsert-replace", e, undefined, undefined));
    expect(held).toBeLessThan(500_000);
    const { op, bytes } = kept as { op: Operation; bytes: number };
    expect(op.json).toBe(expected);
    expect(op.entity).toMatchObject({
      partitionKey: "partition-0-of-the-page",
      rowKey: "row-key-long-enough",
    });
    expect(hasOnlyKeys(op.entity)).toBe(true);
    expect(bytes).toBeGreaterThan(Buffer.byteLength(expected));
  });

  it("carries the kind, the ETag to match and the sender's tag; a delete has no body", () => {
    const e: WireEntity = {
      partitionKey: "p",
      rowKey: "r",
      properties: new Map([["s", { type: "Edm.String", value: "é" }]]),
    };
    const mark = {};
    const { op } = heldOperation("update-merge", e, 'W/"1"', mark);
    expect(op).toMatchObject({
      kind: "update-merge",
      ifMatch: 'W/"1"',
      json: '{"PartitionKey":"p","RowKey":"r","s":"é"}',
    });
    expect(op.mark).toBe(mark);
    expect(heldOperation("delete", e, "*", undefined).op.json).toBe("");
  });

  it("waits as long as the checkpoint interval, two to thirty seconds", () => {
    expect(holdMs(1_000)).toBe(2_000);
    expect(holdMs(10_000)).toBe(10_000);
    expect(holdMs(60_000)).toBe(30_000);
    expect(holdMs(undefined)).toBe(30_000);
  });

  it("shrinks its memory bound while resident memory is high, and lets it grow back", () => {
    let rss = 100 * 2 ** 20;
    const hold = new Hold({ maxBytes: 32 * 2 ** 20, memory: () => rss });
    hold.bytes = 20 * 2 ** 20;
    const look = () => {
      for (let i = 0; i < 256; i++) hold.due(undefined);
    };
    look();
    expect(hold.limit).toBe(32 * 2 ** 20);
    rss = SQUEEZE_ABOVE + 1;
    look();
    // A quarter below what was held: some must go now.
    expect(hold.limit).toBe(15 * 2 ** 20);
    expect(hold.due(undefined)).toBe(true);
    for (let i = 0; i < 20; i++) look();
    expect(hold.limit).toBe(4 * 2 ** 20); // never below 4 MiB
    rss = 100 * 2 ** 20;
    for (let i = 0; i < 20; i++) look();
    expect(hold.limit).toBe(32 * 2 ** 20);
  });

  it("lets go of what waited the hold time first, then of the fullest while over its bound", () => {
    let clock = 0;
    const hold = new Hold({ maxBytes: 1_000, maxMs: 100, now: () => clock, memory: () => 0 });
    const open = new Map([
      ["old", { ops: [1], bornAt: 0 }],
      ["small", { ops: [1, 2], bornAt: 50 }],
      ["big", { ops: [1, 2, 3, 4, 5], bornAt: 60 }],
      ["mid", { ops: [1, 2, 3], bornAt: 70 }],
    ]);
    const cost = new Map([
      ["old", 100],
      ["small", 200],
      ["big", 500],
      ["mid", 300],
    ]);
    clock = 120;
    hold.bytes = 1_200;
    expect(hold.due(open.get("old"))).toBe(true);
    const sent: string[] = [];
    for (const key of hold.release(() => open.entries())) {
      sent.push(key);
      hold.bytes -= cost.get(key)!;
      open.delete(key);
    }
    // "old" waited 120 ms; then 1,100 bytes were still held (over the bound): the fullest, down to 750.
    expect(sent).toEqual(["old", "big"]);
  });

  it("holds less while what it lets go averages under two entities a transaction, more once it pays", () => {
    const hold = new Hold({ maxBytes: 64 * 2 ** 20, memory: () => 0 });
    /** Fill the hold past its bound with `count` partitions of `size` entities of 1 KiB, and release. */
    const overflow = (size: number, count: number) => {
      const open = new Map<string, { ops: number[]; bornAt: number }>();
      for (let i = 0; i < count; i++)
        open.set(`p${i}`, { ops: Array<number>(size).fill(0), bornAt: Infinity });
      hold.bytes = hold.limit + 1;
      for (const key of hold.release(() => open.entries())) {
        hold.bytes -= open.get(key)!.ops.length * 1024;
        open.delete(key);
      }
    };
    // A table too large for its partitions to meet: transactions of one. Each release shrinks the bound
    // by a quarter, down to 4 MiB.
    overflow(1, 100_000);
    expect(hold.limit).toBe(48 * 2 ** 20);
    for (let i = 0; i < 10; i++) overflow(1, 100_000);
    expect(hold.limit).toBe(4 * 2 ** 20);
    // Partitions that do meet: the bound grows back.
    for (let i = 0; i < 20; i++) overflow(10, 10_000);
    expect(hold.limit).toBe(64 * 2 ** 20);
  });
});
