// Reading a sorted source (Table Storage) through several key ranges at once when one scan is the limit.
//
// A scan is a chain: each page names where the next starts, so one scan reads at most a page (1,000
// entities) per round trip — about 9,000 entities a second over 100 ms, whatever the destination could
// take. When the first page and a one-entity query both take that long (SLOW_PAGE_MS: a round trip, not a
// slow or retried page), four such queries at once take about as long as one (the service answers them
// side by side), and the partitions hold two entities or more (so the writer could outrun one scan),
// the key space ahead is cut into consecutive ranges of about RANGE_ENTITIES each and LANES of them are read
// at once; the pages are still handed on in key order, so the writer sees the table as one sorted scan
// (partitions whole, in order). A source that slows down after a fast first page is asked about again
// when the copy is seen waiting for the scan (scan-watch.ts).
//
// Nothing says how the keys are spread, so the cuts are guesses (key-space.ts): the first page's keys give
// a density, and each finished range corrects it. A guess only makes a range larger or smaller than
// planned. Coverage never depends on it: ranges [c₀, c₁), [c₁, c₂), … with ascending cuts and a last range
// with no end cover every key. Where the table ends is asked, not guessed: before a range is planned past a
// cut, one `$top=1` query asks for the first key at or after it; when there is none, the range from that
// cut on has no end (so even an entity written there since is read).
//
// Resume points: a service's continuation is only valid with the filter it was given for, so a page inside
// a range is no place to resume from. A range's end is: every partition before the next cut is done, and
// a resumed run reads on from that key (a "ranged" continuation, as the unsorted reader stores).
import { andFilters } from "../wire/odata.js";
import type { TableHttp } from "../wire/http.js";
import { KeySpace, keyAfter } from "./key-space.js";
import { odataString, orderSafe, rangeFilter, type KeyRange } from "./shard.js";
import { TableReader, type Continuation, type ReadPage } from "./reader.js";
import { RangeReads } from "./range-reads.js";
import { ScanWatch } from "./scan-watch.js";

/** A first page slower than this (request to last byte) means one scan would starve the writer. */
export const SLOW_PAGE_MS = 60;
/** Ranges read at once. */
export const LANES = 4;
/** What a range should hold: a few pages, so a kill repeats little (its end is the resume point). */
export const RANGE_ENTITIES = 4_000;
/** Pages each range reads ahead of the copy: about a whole range (pages of 1,000). */
const RANGE_PAGES_AHEAD = 5;

export interface LaneReadOptions {
  filter?: string;
  /** Resume from here: a plain continuation (one scan, no lanes) or a ranged one (lanes from its key). */
  continuation?: Continuation;
  /** Ranges at once; 1 is one plain scan (default LANES). */
  lanes?: number;
  /** Lanes only when the first page and a probe took at least this long (default SLOW_PAGE_MS; 0: always, whatever the table's shape). */
  slowPageMs?: number;
  /** Entities a range should hold (default RANGE_ENTITIES). */
  rangeEntities?: number;
}

interface Lane {
  range: KeyRange;
  reader: TableReader;
  pages: AsyncGenerator<ReadPage>;
  /** Its next page, asked for ahead of the consumer. */
  ahead?: Promise<IteratorResult<ReadPage>>;
  /** Where its keys begin in the key space (past a gap the probe found, not its cut). */
  low: bigint;
  /** Entities it has handed on. */
  count: number;
}

export class LaneReader extends RangeReads {
  constructor(
    private readonly http: TableHttp,
    readonly table: string,
    private readonly opts: LaneReadOptions = {},
  ) {
    super();
  }

  private reader(
    range: KeyRange,
    {
      rowsAfter,
      ...extra
    }: {
      continuation?: Continuation;
      select?: string[];
      top?: number;
      readAhead?: number;
      /** Only rows after this RowKey (the rest of one partition, `range` holding just it). */
      rowsAfter?: string;
    } = {},
  ) {
    const rows = rowsAfter === undefined ? undefined : `RowKey gt ${odataString(rowsAfter)}`;
    const keys =
      rows && range.from !== undefined
        ? `PartitionKey eq ${odataString(range.from)} and ${rows}`
        : rangeFilter(range);
    return new TableReader(this.http, this.table, {
      filter: andFilters(keys, this.opts.filter),
      forCopy: !extra.select,
      stats: this.httpStats,
      ...extra,
    });
  }

  async *pages(): AsyncGenerator<ReadPage> {
    const c = this.opts.continuation;
    const start = c?.ranged ? c.nextPartitionKey : undefined;
    const first = this.reader({ from: start }, c && !c.ranged ? { continuation: c } : {});
    const scan = first.pages();
    const began = performance.now();
    const step = await scan.next();
    this.clocks(first);
    if (step.done) return;
    const page = step.value;
    const lanes = this.opts.lanes ?? LANES;
    if (c?.ranged) {
      // After a ranged resume point, always by lanes: a scan under the range's filter would leave
      // continuations no later run could use. Its first page is the sample, which its range reads again.
      const keys = lanes > 1 && page.continuation ? sampleKeys(page) : undefined;
      if (keys) {
        void scan.return(undefined).catch(() => undefined);
        yield* this.byLanes(start, keys, lanes);
        return;
      }
    }
    // One scan; where lanes pay (worthLanes, asked while the scan goes on: a service that does not pay is
    // not kept waiting), it goes on by lanes from the end of the page it has handed on last — also after a
    // plain resume point: its token reads the first page, the lanes start from that page's last key, so a
    // long copy resumed over a far link is as fast as it was. Not inside a range (see above).
    const mayLanes = lanes > 1 && !c?.ranged;
    let sample = mayLanes && page.continuation ? sampleKeys(page) : undefined;
    let switchTo = false;
    let asking = false;
    const ask = (about: Sample, pageMs: number) => {
      asking = true;
      void this.worthLanes(about, pageMs).then(
        (yes) => ((switchTo = yes), (asking = false)),
        () => (asking = false), // a failed probe leaves one scan; the scan meets any lasting failure itself
      );
    };
    if (sample) ask(sample, performance.now() - began);
    // Asked again when the scan becomes the limit later (scan-watch.ts), with the keys of the page then.
    const watch = new ScanWatch(this.opts.slowPageMs ?? SLOW_PAGE_MS);
    // After a ranged resume point it runs under the range's filter: no page of it is a place to resume from
    // but the last.
    const inRange = c?.ranged === true;
    for (let p: ReadPage | undefined = page; p;) {
      yield inRange && p.continuation ? { ...p, inRange } : p;
      if (switchTo && sample && p.continuation) {
        const last = lastEntity(p);
        // Its key becomes a cut: only one every order sorts alike (else the next page's may).
        if (last && orderSafe(last.partitionKey)) {
          void scan.return(undefined).catch(() => undefined);
          yield* this.byLanes(keyAfter(last.partitionKey), sample, lanes, last);
          return;
        }
      }
      const asked = performance.now();
      const next = await scan.next();
      this.clocks(first);
      p = next.done ? undefined : next.value;
      const about = p?.continuation && mayLanes && !switchTo && !asking ? p : undefined;
      if (about && watch.page(asked, performance.now())) {
        sample = sampleKeys(about) ?? sample;
        if (sample) ask(sample, watch.pageMs);
      }
    }
  }

  /**
   * The rest of the table by lanes, from `start` (undefined: the table's start). Going on from a scan, the
   * rest of the partition its last page ended in (`after`: keys after that entity's) is the first range.
   */
  private async *byLanes(
    start: string | undefined,
    sample: Sample,
    lanes: number,
    after?: { partitionKey: string; rowKey: string },
  ): AsyncGenerator<ReadPage> {
    const target = BigInt(this.opts.rangeEntities ?? RANGE_ENTITIES);
    const space = KeySpace.of(sample.keys);
    // Entities per unit of key space: the sample's until a range has been read, then the ranges read.
    // Unknown while the sample holds one partition: then the gap to the next key stands for one
    // partition's worth.
    let entities = BigInt(sample.count);
    let span = space.valueOf(sample.last) - space.valueOf(sample.first);
    let measured = false;
    let width = 0n;
    const widthFor = () => {
      const w = span > 0n ? (span * target) / (entities > 0n ? entities : 1n) : 1n;
      // At most four times the last width: a few ranges are a noisy measure.
      width = width > 0n && w > 4n * width ? 4n * width : w < 1n ? 1n : w;
      return width;
    };
    // Where the keys of the range being planned begin (the sample's first key; past a gap, the probe's).
    let low =
      start !== undefined && start > sample.first ? space.valueOf(start) : space.valueOf(sample.first);
    // The first cut: past the sample's keys and the start (its range holds them), as far as the density says.
    const floor = start !== undefined && start > sample.last ? start : sample.last;
    const guess = span > 0n ? space.keyAt(low + widthFor()) : "";
    let cut = guess > floor ? guess : keyAfter(floor);
    let from = start;
    const queue: Lane[] = [];
    let planned = false; // the last range (no end) is planned
    let planning: Promise<void> | undefined;
    const add = (range: KeyRange, lowValue: bigint, rowsAfter?: string) => {
      // A whole range asked for ahead (a range's pages are a chain of their own): a lane that read only
      // two pages ahead would leave the rest of its chain for when the copy reaches it.
      const reader = this.reader(range, { readAhead: RANGE_PAGES_AHEAD, rowsAfter });
      this.ranges.push(range);
      // The rest of a partition measures nothing of the key space (-1: no density from it).
      const lane: Lane = {
        range,
        reader,
        pages: reader.pages(),
        low: rowsAfter === undefined ? lowValue : -1n,
        count: 0,
      };
      queue.push(lane);
      // Read from now if it is among the first `lanes`: not only once the probe after it has answered.
      if (queue.length <= lanes) lane.ahead = ahead(lane);
    };
    /** Plan the range up to the cut, and find out whether the table goes on past it. */
    const plan = async (): Promise<void> => {
      const at = cut;
      add({ ...(from !== undefined && { from }), to: at }, low);
      const next = await this.firstKeyFrom(at);
      if (next === undefined) {
        add({ from: at }, space.valueOf(at));
        planned = true;
        return;
      }
      if (span <= 0n) {
        span = space.valueOf(next) - space.valueOf(sample.last);
        if (span <= 0n) span = 1n;
      }
      from = at;
      low = bigMax(space.valueOf(at), space.valueOf(next));
      cut = space.keyAt(bigMax(low + widthFor(), space.valueOf(at) + 1n));
      if (cut <= at) {
        // Past the last key this space can name (the keys ahead are outside its alphabets, or every digit
        // is at its largest): the rest is one range.
        add({ from: at }, low);
        planned = true;
      }
    };
    // Going on from a scan: first the rest of the partition its last page ended in.
    if (after && start !== undefined) add({ from: after.partitionKey, to: start }, low, after.rowKey);
    /** A probe that failed (after the reader's retries): the read fails with it, as with a page. */
    const probe: { failed: boolean; error?: unknown } = { failed: false };
    const fill = () => {
      // Keep `lanes` ranges reading (the one handed on now among them) and as many more planned.
      for (const lane of queue.slice(0, lanes)) lane.ahead ??= ahead(lane);
      if (!planned && !planning && !probe.failed && queue.length < 2 * lanes) {
        planning = plan().then(
          () => {
            planning = undefined;
            fill();
          },
          (error: unknown) => {
            planning = undefined;
            probe.failed = true;
            probe.error = error;
          },
        );
      }
    };
    fill();
    for (;;) {
      if (probe.failed) throw probe.error;
      while (queue.length === 0) {
        if (planned) return;
        if (probe.failed) throw probe.error;
        await planning;
      }
      const lane = queue[0];
      lane.ahead ??= ahead(lane);
      const step = await lane.ahead;
      this.clocks(lane.reader);
      if (step.done) throw new Error("A lane's range ended without a last page.");
      const page = step.value;
      lane.count += page.entities.length;
      if (page.continuation) {
        lane.ahead = ahead(lane);
        yield { ...page, inRange: true };
        continue;
      }
      queue.shift();
      const to = lane.range.to;
      if (to !== undefined) {
        // What this range held corrects the density for the ranges planned after it.
        const held = space.valueOf(to) - lane.low;
        if (lane.low >= 0n && held > 0n) {
          if (!measured) [entities, span, measured] = [0n, 0n, true];
          entities += BigInt(lane.count);
          span += held;
        }
      }
      fill();
      if (to === undefined) {
        yield { ...page, endsRange: true };
        return;
      }
      yield { ...page, endsRange: true, continuation: { nextPartitionKey: to, ranged: true } };
    }
  }

  /**
   * Whether lanes pay here. Its partitions hold two entities or more on average: a table of one entity per
   * partition writes one request per entity, and the window's largest size (a thousand requests per round
   * trip) caps it about where one scan does. The first page came slowly, and so does a one-entity query (a
   * round trip, not a page that was slow to serve or was retried, or a connection being opened). And
   * queries go at once: four asked together take about as long as one. A service that answers one query
   * at a time (Azurite: a page of 1,000 took 70 ms there, a one-entity query as long) would only queue the
   * ranges' pages behind each other.
   */
  private async worthLanes(sample: Sample, firstPageMs: number): Promise<boolean> {
    const slowMs = this.opts.slowPageMs ?? SLOW_PAGE_MS;
    if (slowMs <= 0) return true;
    if (firstPageMs < slowMs || sample.count < 2 * sample.keys.length) return false;
    const at = keyAfter(sample.last);
    const timed = async (n: number) => {
      const began = performance.now();
      await Promise.all(Array.from({ length: n }, () => this.firstKeyFrom(at)));
      return performance.now() - began;
    };
    const one = await timed(1);
    return one >= slowMs && (await timed(LANES)) < 1.6 * one;
  }

  /** The first partition key at or after `key` (undefined: none), by a one-entity query of the keys. */
  private async firstKeyFrom(key: string): Promise<string | undefined> {
    const probe = this.reader({ from: key }, { select: ["PartitionKey", "RowKey"], top: 1 });
    for await (const page of probe.pages()) {
      for (const e of page.entities) return e.partitionKey;
    }
    return undefined;
  }
}

interface Sample {
  /** Its partition keys, in order (repeats dropped). */
  keys: string[];
  first: string;
  last: string;
  count: number;
}

/**
 * The first page's partition keys (its entities are parsed for it); undefined when it has none, or when its
 * last key is one services may order differently (surrogates, U+E000 and above: shard.ts, orderSafe).
 */
function sampleKeys(page: ReadPage): Sample | undefined {
  const keys: string[] = [];
  let count = 0;
  for (const e of page.entities) {
    if (keys.at(-1) !== e.partitionKey) keys.push(e.partitionKey);
    count++;
  }
  const first = keys[0];
  const last = keys.at(-1);
  if (first === undefined || last === undefined || !orderSafe(last)) return undefined;
  return { keys, first, last, count };
}

/** A page's last entity's keys (its entities are parsed again for it). */
function lastEntity(page: ReadPage): { partitionKey: string; rowKey: string } | undefined {
  let last: { partitionKey: string; rowKey: string } | undefined;
  for (const e of page.entities) last = e;
  return last && { partitionKey: last.partitionKey, rowKey: last.rowKey };
}

function ahead(lane: Lane): Promise<IteratorResult<ReadPage>> {
  const p = lane.pages.next();
  // Met when awaited, not while the copy is busy with pages before it (an unhandled rejection would end
  // the process).
  p.catch(() => undefined);
  return p;
}

function bigMax(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
