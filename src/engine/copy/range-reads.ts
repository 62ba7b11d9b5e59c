// What the readers by key ranges (ranged-reader.ts, lane-reader.ts) share: the source's clocks as their
// ranges' readers saw them, one count of their requests, and the ranges they read.
import type { HttpStats } from "../wire/http.js";
import type { KeyRange } from "./shard.js";
import type { PageSource, ReadPage, TableReader } from "./reader.js";

export abstract class RangeReads implements PageSource {
  /** The source's clock at the first answer of any range's reader. */
  serverClock?: Date;
  /** The source's clock at the latest answer. */
  lastServerClock?: Date;
  /** Every range's requests, 429s and retries. */
  readonly httpStats: HttpStats = { requests: 0, throttled: 0, retries: 0 };
  /** The ranges read so far (for tests and the bench). */
  readonly ranges: KeyRange[] = [];

  abstract pages(): AsyncGenerator<ReadPage>;

  /** Take up what a range's reader saw of the source's clock. */
  protected clocks(r: TableReader): void {
    this.serverClock ??= r.serverClock;
    if (r.lastServerClock) this.lastServerClock = r.lastServerClock;
  }
}
