// Sharding: split one table's partition-key space into n ranges so n jobs (a GitHub job matrix) share it.
//
// The boundaries come from the table's actual keys, not from the alphabet: a scan of the PartitionKeys keeps a
// deterministic systematic sample (every k-th entity, k doubling as the sample fills), and the boundaries are
// the sample's n-quantiles, so each range holds about the same number of entities. A boundary is always a
// partition key, so a partition never straddles two shards (transactions stay within one partition).
//
// Coverage does not depend on the sample being right: ranges [b₀,b₁), [b₁,b₂), … [bₙ₋₁,∞) with b₀ = −∞ cover
// every key for *any* boundaries (a key belongs to the range of the last boundary ≤ it). What matters is that
// the n shards use the same boundaries: the plan is stored in the shared state and the first plan stored wins
// (see engine/steps/shards.ts), and a table's watermark is derived only when every shard of one plan has
// completed.
import type { TableHttp } from "../wire/http.js";
import { TableReader } from "./reader.js";
import { createHash } from "node:crypto";

export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

/** The state's name for a shard: `i/n`. */
export function shardId(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}

/** A partition-key range: `from` inclusive (absent = from the start), `to` exclusive (absent = to the end). */
export interface KeyRange {
  from?: string;
  to?: string;
}

export interface ShardPlan {
  count: number;
  /** n − 1 partition keys: shard i reads [boundaries[i−2], boundaries[i−1]). */
  boundaries: string[];
  /** Identifies the plan, so shard results made under another plan are never combined with this one's. */
  id: string;
  /** Entities the sample scan saw (informational). */
  sampledFrom: number;
}

export function planId(count: number, boundaries: string[]): string {
  return createHash("sha256")
    .update(JSON.stringify([count, boundaries]))
    .digest("base64url")
    .slice(0, 12);
}

/** The key range of shard `index` (1-based) under `plan`. */
export function shardRange(plan: Pick<ShardPlan, "boundaries">, index: number): KeyRange {
  const range: KeyRange = {};
  if (index >= 2) range.from = plan.boundaries[index - 2];
  if (index <= plan.boundaries.length) range.to = plan.boundaries[index - 1];
  return range;
}

/** An OData string literal: single quotes doubled. */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** The OData filter selecting `range`, or undefined for the whole table. */
export function rangeFilter(range: KeyRange): string | undefined {
  const parts: string[] = [];
  if (range.from !== undefined) parts.push(`PartitionKey ge ${odataString(range.from)}`);
  if (range.to !== undefined) parts.push(`PartitionKey lt ${odataString(range.to)}`);
  return parts.length ? parts.join(" and ") : undefined;
}

/** Keeps every k-th item, doubling k (and halving the sample) whenever it would exceed `capacity`. */
export class SystematicSample {
  readonly items: string[] = [];
  private step = 1;
  private seen = 0;

  constructor(private readonly capacity = 4096) {}

  add(item: string): void {
    if (this.seen++ % this.step !== 0) return;
    this.items.push(item);
    if (this.items.length > this.capacity) {
      // Keep the items at even positions: exactly every (2k)-th item of the stream.
      let w = 0;
      for (let r = 0; r < this.items.length; r += 2) this.items[w++] = this.items[r];
      this.items.length = w;
      this.step *= 2;
    }
  }

  get count(): number {
    return this.seen;
  }
}

/**
 * Whether every order a service may compare strings in — UTF-16 code units, code points, UTF-8 bytes — sorts
 * this key alike against any other such key: no character at or above U+D800 (surrogates, and the
 * U+E000–U+FFFF the code-unit order puts after them). Only such keys become boundaries: boundaries the
 * service saw in another order than ours would let a key fall in two ranges.
 */
export function orderSafe(key: string): boolean {
  return !/[\uD800-\uFFFF]/.test(key);
}

/** Ordinal comparison (UTF-16 code units), the order the services compare string keys in for ASCII keys. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The n-quantile boundaries of a sample of partition keys (n − 1 keys, ascending, possibly repeated). A boundary
 * is the start of a partition: of the partition holding the quantile and the one after it, the start nearer to
 * the quantile, so a partition goes to whichever shard keeps the split closer to even.
 */
export function boundariesOf(sample: readonly string[], count: number): string[] {
  if (count <= 1) return [];
  const sorted = [...sample].sort(compareKeys);
  if (sorted.length === 0) return [];
  const out: string[] = [];
  for (let j = 1; j < count; j++) {
    const q = Math.min(sorted.length - 1, Math.floor((j * sorted.length) / count));
    const key = sorted[q];
    let start = q;
    while (start > 0 && sorted[start - 1] === key) start--;
    let next = q;
    while (next < sorted.length && sorted[next] === key) next++;
    out.push(next < sorted.length && next - q < q - start ? sorted[next] : key);
  }
  return out;
}

/**
 * Sample a table's partition keys (a projection scan: only PartitionKey comes back) and return the plan for
 * `count` shards. An empty table gives no boundaries: shard 1 then reads everything, the others nothing.
 */
export async function sampleShardPlan(
  http: TableHttp,
  table: string,
  count: number,
  opts: { filter?: string } = {},
): Promise<ShardPlan> {
  const sample = new SystematicSample();
  // Only the keys come back: the reader's paging, retries and error messages, with a projection.
  const reader = new TableReader(http, table, { filter: opts.filter, select: ["PartitionKey", "RowKey"] });
  for await (const page of reader.pages()) {
    for (const e of page.entities) if (orderSafe(e.partitionKey)) sample.add(e.partitionKey);
  }
  const boundaries = boundariesOf(sample.items, count);
  return { count, boundaries, id: planId(count, boundaries), sampledFrom: sample.count };
}
