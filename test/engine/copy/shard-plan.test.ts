// Shard plans (src/engine/copy/shard.ts): a deterministic sample of the keys, boundaries at its quantiles,
// ranges and their filters, the table's watermark from every shard of one plan, the shards' records merged
// in the state, and the 'shard' input's checks. No copying: sharded copies are in shard.test.ts.
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/config/schema.js";
import {
  boundariesOf,
  odataString,
  planId,
  rangeFilter,
  shardRange,
  SystematicSample,
} from "../../../src/engine/copy/shard.js";
import { combinedWatermark } from "../../../src/state/watermark.js";
import { mergeShardView, shardView } from "../../../src/state/shard-view.js";
import type { State } from "../../../src/state/state.js";
import { stepConfig } from "../../support/sync.js";

const config = stepConfig;

describe("shard plans", () => {
  it("a systematic sample keeps every k-th key, deterministically", () => {
    const a = new SystematicSample(8);
    const b = new SystematicSample(8);
    for (let i = 0; i < 100; i++) {
      a.add(`k${String(i).padStart(3, "0")}`);
      b.add(`k${String(i).padStart(3, "0")}`);
    }
    expect(a.items).toEqual(b.items);
    expect(a.items.length).toBeLessThanOrEqual(8);
    expect(a.items[0]).toBe("k000");
    // Evenly spaced over the whole stream, not the first keys.
    expect(a.items.at(-1)! > "k080").toBe(true);
    expect(a.count).toBe(100);
  });

  it("boundaries are the sample's quantiles by entity count", () => {
    const sample = [...Array(90).fill("a"), ...Array(5).fill("b"), ...Array(5).fill("c")];
    // A partition holding the quantile goes to the side that keeps the split nearer to even.
    expect(boundariesOf(sample, 2)).toEqual(["b"]);
    const tens = Array.from({ length: 1000 }, (_, i) => `p${String(Math.floor(i / 10)).padStart(2, "0")}`);
    expect(boundariesOf(tens, 2)).toEqual(["p50"]);
    expect(boundariesOf(tens, 4)).toEqual(["p25", "p50", "p75"]);
    const threes = Array.from({ length: 99 }, (_, i) => `p${String(Math.floor(i / 3)).padStart(2, "0")}`);
    expect(boundariesOf(threes, 2)).toEqual(["p16"]); // 48 | 51, not 51 | 48 — either is one partition off
    const keys = Array.from({ length: 100 }, (_, i) => `k${String(i).padStart(2, "0")}`);
    expect(boundariesOf(keys, 4)).toEqual(["k25", "k50", "k75"]);
    expect(boundariesOf([], 4)).toEqual([]);
    expect(boundariesOf(keys, 1)).toEqual([]);
  });

  it("ranges chain boundary to boundary and filters quote keys", () => {
    const plan = { boundaries: ["b", "d", "f"] };
    expect([1, 2, 3, 4].map((i) => shardRange(plan, i))).toEqual([
      { to: "b" },
      { from: "b", to: "d" },
      { from: "d", to: "f" },
      { from: "f" },
    ]);
    expect(rangeFilter({ from: "o'b", to: "z" })).toBe("PartitionKey ge 'o''b' and PartitionKey lt 'z'");
    expect(rangeFilter({})).toBeUndefined();
    expect(odataString("it's")).toBe("'it''s'");
    // No boundaries (an empty table): shard 1 reads everything, the others nothing beyond it.
    expect(shardRange({ boundaries: [] }, 1)).toEqual({});
  });

  it("a table watermark needs every shard of one plan", () => {
    const plan = {
      count: 2,
      boundaries: ["m"],
      id: planId(2, ["m"]),
      sampledFrom: 10,
      at: "2026-01-01T00:00:00.000Z",
    };
    const entry: State["tables"][string] = {
      shardPlan: plan,
      shards: { "1/2": { plan: plan.id, watermark: "2026-01-02T00:00:00.000Z" } },
    };
    expect(combinedWatermark(entry)).toBeUndefined();
    // A shard that read by another plan (a race lost) does not count: its range may not match.
    entry.shards!["2/2"] = { plan: "other", watermark: "2026-01-01T12:00:00.000Z" };
    expect(combinedWatermark(entry)).toBeUndefined();
    entry.shards!["2/2"] = { plan: plan.id, watermark: "2026-01-01T12:00:00.000Z" };
    expect(combinedWatermark(entry)).toBe("2026-01-01T12:00:00.000Z");
  });

  it("merging keeps every shard's newest record and our post-switch writes at the table", () => {
    const key = "t→t";
    const plans = new Map([[key, "P"]]);
    const base: State = {
      format: "azure-table-sync/state",
      version: 1,
      tables: { [key]: { postSwitchWrites: ["a"], shards: { "2/2": { plan: "P", seq: 3 } } } },
    };
    const view = shardView(base, "1/2", plans);
    expect(view.tables[key].postSwitchWrites).toEqual(["a"]);
    view.tables[key] = {
      ...view.tables[key],
      postSwitchWrites: ["a", "b"],
      watermark: "2026-01-01T00:00:00.000Z",
    };
    // Shard 2 saved a newer record meanwhile, but the latest document we load lost it (a racing save):
    // the version we carried is kept, and our own record gets the next number.
    const carry: State = { ...base, tables: { [key]: { shards: { "2/2": { plan: "P", seq: 4 } } } } };
    const merged = mergeShardView(base, view, "1/2", plans, carry);
    expect(merged.tables[key].shards?.["2/2"]?.seq).toBe(4);
    expect(merged.tables[key].shards?.["1/2"]).toMatchObject({
      plan: "P",
      seq: 1,
      watermark: "2026-01-01T00:00:00.000Z",
    });
    expect(merged.tables[key].postSwitchWrites).toEqual(["a", "b"]);
  });

  it("'shard' is validated: syntax, range, modes", () => {
    const bad = (shard: string, mode = "full-sync") => {
      try {
        config(mode, "tbl", { shard });
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
      throw new Error(`'${shard}' was accepted`);
    };
    expect(bad("0/4")).toContain("out of range; the shard i must be from 1 to 4");
    expect(bad("5/4")).toContain("out of range");
    expect(bad("two")).toContain("write i/n");
    expect(bad("1/0")).toContain("must be from 1 to 64");
    expect(bad("1/2", "verify")).toContain("applies to the modes full-sync and backfill");
    expect(config("full-sync", "tbl", { shard: " 3 / 4 " }).shard).toEqual({ index: 3, count: 4 });
    expect(config("full-sync", "tbl", { shard: "1/1" }).shard).toBeUndefined();
  });
});
