// Resume points without draining the pipeline: each page read counts its entities still being written;
// a page becomes a resume point once every entity of it and of every page before it has been written
// (or skipped, or found in conflict). A failed entity stops the resume point short of its page for the
// rest of the run, so a resumed copy never passes an entity that did not land.
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

export class ResumeTracker {
  /** Pages not yet part of the resume point, in reading order. */
  private readonly open: PageMark[] = [];
  private read = 0;
  private written = 0;
  /** A failed entity: no resume point past its page in this run. */
  private stuck = false;
  /** The furthest resume point: every entity before it is settled and none failed. */
  latest?: ResumePoint;

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
    if (outcome === "written") mark.written++;
    else if (outcome === "failed") mark.failed = true;
    this.advance();
  }

  private advance(): void {
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
 * Saves the tracker's latest resume point every `intervalMs`, in the background: the copy never waits
 * for a save, saves never overlap, and a point already saved is not saved again.
 */
export class Checkpointer {
  private timer?: NodeJS.Timeout;
  private saving?: Promise<void>;
  private saved?: ResumePoint;

  constructor(
    private readonly tracker: ResumeTracker,
    private readonly save: (point: ResumePoint) => Promise<void> | void,
    intervalMs: number | undefined,
  ) {
    if (intervalMs !== undefined) {
      this.timer = setInterval(() => {
        if (!this.saving) void this.saveLatest().catch(() => undefined);
      }, intervalMs);
      this.timer.unref?.();
    }
  }

  /** Save the latest resume point now (after any save under way); a failure to save is the caller's. */
  async saveLatest(): Promise<void> {
    while (this.saving) await this.saving.catch(() => undefined);
    const point = this.tracker.latest;
    if (!point || point === this.saved) return;
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
    clearInterval(this.timer);
    this.timer = undefined;
    while (this.saving) await this.saving.catch(() => undefined);
  }
}
