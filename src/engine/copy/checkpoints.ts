// Resume points without draining the pipeline: each page read counts its entities still being written;
// a page becomes a resume point once every entity of it and of every page before it has been written
// (or skipped, or found in conflict). A failed entity stops the resume point short of its page for the
// rest of the run, so a resumed copy never passes an entity that did not land. What waits beyond the
// point is bounded too (ResumeTracker.stalled): a kill repeats about one checkpoint interval of work.
//
// The old way waited for every transaction in flight before each checkpoint: the destination idled
// for a round trip each time, and a kill between checkpoints lost seconds of work.
import type { Continuation } from "./reader.js";

/** One page's entities still on their way to the destination. */
export interface PageMark {
  /** Operations handed to the writer and not yet settled. */
  pending: number;
  written: number;
  failed: boolean;
  /** Every entity of the page has been handed over (or failed before it could be). */
  closed: boolean;
  read: number;
  /** Where the page after this one starts; undefined on the last page. */
  continuation?: Continuation;
}

export interface ResumePoint {
  continuation: Continuation;
  /** Entities read before `continuation` (this run only). */
  read: number;
  /** Entities written before `continuation` (this run only). */
  written: number;
}

/** Entities beyond the resume point that never stall the copy (`stalled`): a few pages. */
export const MIN_BEYOND = 5_000;

export class ResumeTracker {
  /** Pages not yet part of the resume point, in reading order. */
  private readonly open: PageMark[] = [];
  private read = 0;
  private written = 0;
  /** A failed entity: no resume point past its page in this run. */
  private stuck = false;
  /** The furthest resume point: every entity before it is settled and none failed. */
  latest?: ResumePoint;
  /** Told each time `latest` moves (the Checkpointer saves it as soon as its interval allows). */
  onAdvance?: () => void;
  /** Entities settled so far, and samples of it ([ms, count]) over the last lag limit (`stalled`). */
  private settled = 0;
  private readonly samples: [number, number][] = [];
  private movers: (() => void)[] = [];

  /**
   * Whether more entities wait beyond the resume point than land in `ms` (at least MIN_BEYOND): a
   * request the service holds far longer than the others (Azurite answered a few transactions in 5 s
   * while the rest took 0.3 s) holds the point back while everything after it lands, and a kill would
   * copy all that again. The copy then reads no further until the point moves (moved()), so what a kill
   * repeats stays within about `ms` of work. Never after a failed entity: the point stays there for good.
   */
  stalled(ms: number): boolean {
    if (this.stuck || this.open.length === 0) return false;
    const now = performance.now();
    const samples = this.samples;
    samples.push([now, this.settled]);
    while (samples.length > 2 && samples[1][0] <= now - ms) samples.shift();
    const span = now - samples[0][0];
    // Over a span shorter than `ms` (the first pages), what landed so far, not extrapolated from a burst.
    const landed = (this.settled - samples[0][1]) * Math.min(1, ms / Math.max(1, span));
    let beyond = 0;
    for (const page of this.open) beyond += page.read;
    return beyond > Math.max(MIN_BEYOND, landed);
  }

  /** Resolves once the resume point moves, or can never move again (a failed entity). */
  moved(): Promise<void> {
    if (this.stuck) return Promise.resolve();
    return new Promise((resolve) => this.movers.push(resolve));
  }

  /** A page starts: its entities will be counted against this mark. */
  page(): PageMark {
    const mark: PageMark = { pending: 0, written: 0, failed: false, closed: false, read: 0 };
    this.open.push(mark);
    return mark;
  }

  /** Every entity of the page has been handed over; `continuation` is where the next page starts. */
  close(mark: PageMark, read: number, continuation: Continuation | undefined): void {
    mark.closed = true;
    mark.read = read;
    mark.continuation = continuation;
    this.advance();
  }

  /** One of the page's operations is done: landed (`written`), skipped or in conflict, or failed. */
  settle(mark: PageMark, outcome: "written" | "skipped" | "failed"): void {
    mark.pending--;
    this.settled++;
    if (outcome === "written") mark.written++;
    else if (outcome === "failed") mark.failed = true;
    this.advance();
  }

  private advance(): void {
    const before = this.latest;
    const wasStuck = this.stuck;
    this.settleFront();
    if (this.latest !== before) this.onAdvance?.();
    if (this.movers.length > 0 && (this.latest !== before || this.stuck !== wasStuck)) {
      for (const resolve of this.movers.splice(0)) resolve();
    }
  }

  private settleFront(): void {
    while (!this.stuck && this.open.length > 0) {
      const first = this.open[0];
      if (!first.closed || first.pending > 0) return;
      if (first.failed) {
        this.stuck = true;
        return;
      }
      this.open.shift();
      this.read += first.read;
      this.written += first.written;
      if (first.continuation) {
        this.latest = { continuation: first.continuation, read: this.read, written: this.written };
      }
    }
  }
}

/**
 * Saves the tracker's latest resume point in the background: as soon as it moves, but no sooner than
 * `intervalMs` after the save before (a point that moves while a save is under way, or too soon after one,
 * is saved when the interval is up). The copy never waits for a save, saves never overlap, and a point
 * already saved is not saved again. On a fixed timer instead, a point that moved just after a tick waited
 * a whole interval: a kill -9 then copied that second of work again.
 */
export class Checkpointer {
  private timer?: NodeJS.Timeout;
  private saving?: Promise<void>;
  private saved?: ResumePoint;
  private lastSaveAt = -Infinity;
  private stopped = false;

  constructor(
    private readonly tracker: ResumeTracker,
    private readonly save: (point: ResumePoint) => Promise<void> | void,
    private readonly intervalMs: number | undefined,
  ) {
    if (intervalMs !== undefined) tracker.onAdvance = () => this.due();
  }

  /** The point moved, or a save ended: save now if the interval allows, or when it does. */
  private due(): void {
    if (this.stopped || this.saving || this.timer || this.intervalMs === undefined) return;
    if (this.tracker.latest === this.saved) return;
    const wait = this.lastSaveAt + this.intervalMs - performance.now();
    if (wait <= 0) {
      void this.saveLatest()
        .catch(() => undefined)
        .then(() => this.due());
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.due();
    }, wait);
    this.timer.unref?.();
  }

  /** Save the latest resume point now (after any save under way); a failure to save is the caller's. */
  async saveLatest(): Promise<void> {
    while (this.saving) await this.saving.catch(() => undefined);
    const point = this.tracker.latest;
    if (!point || point === this.saved) return;
    this.lastSaveAt = performance.now();
    this.saving = Promise.resolve(this.save(point)).then(() => {
      this.saved = point;
    });
    try {
      await this.saving;
    } finally {
      this.saving = undefined;
    }
  }

  /** No more saves; waits for one under way, so nothing lands after the caller's own final save. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.tracker.onAdvance = undefined;
    while (this.saving) await this.saving.catch(() => undefined);
  }
}
