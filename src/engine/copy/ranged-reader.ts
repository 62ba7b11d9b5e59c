// Reading an unsorted source (Cosmos DB for Table: a rollback) by partition-key ranges, one after another,
// so that each partition's entities meet in the writer's hold and leave as transactions.
//
// A plain scan of an unsorted source spreads every partition over the whole table. The hold keeps what it
// can (hold.ts), but a table larger than the hold's memory cannot meet there: in the matrix's shuffled
// table of 200,000 entities, ten a partition, 121,428 went one request each (0.47–0.54 of the ceiling).
// Read by ranges small enough for the hold, every partition of a range has arrived when the range's last
// page has, and the writer sends them whole while the next range is read.
//
// The ranges come from the keys of the read's first page, which serves as a sample: Cosmos spreads
// partitions over its physical partitions by a hash, so any page holds keys from across the key space.
// The page itself is dropped (its range reads it again), and the sample's distinct keys cut the key
// space into buckets. Ranges are runs of buckets sized from what the ranges before them held, aiming at
// RANGE_BYTES of held entities. Coverage never depends on the sample: consecutive ranges [a, b), [b, c), …
// from the read's start to no end cover every key, however the buckets fall, as long as the cuts ascend in
// the service's order too: only keys every order sorts alike are cuts (orderSafe). A range that comes out too
// large only holds more than planned, and the hold's memory rules then send its fullest partitions early.
import { andFilters } from "../wire/odata.js";
import type { TableHttp } from "../wire/http.js";
import { entityJson } from "../wire/edm.js";
import { compareKeys, orderSafe, rangeFilter, type KeyRange } from "./shard.js";
import { TableReader, type Continuation, type ReadPage } from "./reader.js";
import { RangeReads } from "./range-reads.js";
import { HOLD_BYTES, heldBytes } from "./hold.js";

/**
 * What a range should hold: with the range before it still being sent and the next one read, two ranges
 * are in memory at once, well within HOLD_BYTES.
 */
export const RANGE_BYTES = Math.floor(HOLD_BYTES * 0.25);

/** The first range's share of the buckets, before anything says how many entities a bucket holds. */
const FIRST_SHARE = 1 / 32;

export interface RangedReadOptions {
  filter?: string;
  /** A ranged read's resume point: the read goes on from its `nextPartitionKey`. */
  continuation?: Continuation;
  /** Bytes a range should hold (default RANGE_BYTES). */
  rangeBytes?: number;
}

export class RangedReader extends RangeReads {
  constructor(
    private readonly http: TableHttp,
    readonly table: string,
    private readonly opts: RangedReadOptions = {},
  ) {
    super();
  }

  private reader(range: KeyRange): TableReader {
    return new TableReader(this.http, this.table, {
      filter: andFilters(rangeFilter(range), this.opts.filter),
      forCopy: true,
      stats: this.httpStats,
    });
  }

  async *pages(): AsyncGenerator<ReadPage> {
    const start = this.opts.continuation?.ranged ? this.opts.continuation.nextPartitionKey : undefined;
    const sampler = this.reader({ from: start });
    // Cosmos may answer pages with no entities and a continuation: the sample is the first that has some.
    let first = await sampler.page();
    while (first.entities.length === 0 && first.continuation) first = await sampler.page(first.continuation);
    this.clocks(sampler);
    if (!first.continuation) {
      // The whole read is one page: nothing to range.
      yield { ...first, endsRange: true };
      return;
    }
    // The sample: the first page's distinct keys cut the rest of the key space into buckets
    // [start, k₀), [k₀, k₁), …, [kₘ₋₁, ∞).
    const keys = new Set<string>();
    let bytes = 0;
    let sampled = 0;
    for (const e of first.entities) {
      if ((start === undefined || e.partitionKey > start) && orderSafe(e.partitionKey))
        keys.add(e.partitionKey);
      bytes += heldBytes(e, entityJson(e));
      sampled++;
    }
    const cuts = [...keys].sort(compareKeys);
    const buckets = cuts.length + 1;
    // `sampled` > 0: the first page has entities, or it would be the last.
    const target = Math.max(1, (this.opts.rangeBytes ?? RANGE_BYTES) / (bytes / sampled));
    let done = 0; // buckets read
    let read = 0; // entities in them
    const rangeAt = (width: number): KeyRange => {
      const range: KeyRange = {};
      const from = done === 0 ? start : cuts[done - 1];
      if (from !== undefined) range.from = from;
      if (done + width < buckets) range.to = cuts[done + width - 1];
      return range;
    };
    // The first range takes the bucket before the sample's least key (which holds about as many as any) and
    // at least one more, so what it finds says how full a bucket is. Later ones grow at most fourfold: a
    // few buckets are a noisy measure.
    let width = 0;
    const nextWidth = () =>
      done === 0
        ? Math.min(buckets, Math.max(2, Math.ceil(buckets * FIRST_SHARE)))
        : Math.min(buckets - done, 4 * width, Math.max(1, Math.floor(target / (read / done))));
    width = nextWidth();
    let range = rangeAt(width);
    this.ranges.push(range);
    let current = this.reader(range);
    let pages = current.pages();
    // The next page is asked for before this one is handed on; its failure is met when it is awaited, not
    // while the copy is busy with the page before (an unhandled rejection would end the whole process).
    const next = () => {
      const p = pages.next();
      p.catch(() => undefined);
      return p;
    };
    let ahead = next();
    for (;;) {
      const step = await ahead;
      this.clocks(current);
      if (step.done) throw new Error("A ranged read's range ended without a last page.");
      const page = step.value;
      read += page.entities.length;
      if (page.continuation) {
        ahead = next();
        yield { ...page, inRange: true };
        continue;
      }
      // The range's last page: the next range is asked for before this page is handed on, so the source
      // works on it while the writer takes this one.
      done += width;
      if (done >= buckets) {
        yield { ...page, endsRange: true };
        return;
      }
      width = nextWidth();
      range = rangeAt(width);
      this.ranges.push(range);
      current = this.reader(range);
      pages = current.pages();
      ahead = next();
      yield { ...page, endsRange: true, continuation: { nextPartitionKey: range.from!, ranged: true } };
    }
  }
}
