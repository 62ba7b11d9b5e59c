// Whether one sorted scan has become the copy's limit: the lanes gate (lane-reader.ts) asks first from the
// first page alone, but a source can slow down later (a throttled account, a link that degrades, a runner
// that starts with a warm cache). Watched from the consumer's side, so it costs no request: the time the
// copy waits for each next page of the scan. When, over the last WINDOW pages, it waited for at least half of
// the time and pages came no faster than one per `slowMs`, the scan starves the writer and the lanes are
// worth asking about again. After a "no", the next question waits twice as many pages (a service where
// lanes do not pay is not probed all the time; each question is five one-entity queries).

/** Pages watched at once. */
export const WINDOW = 8;

export class ScanWatch {
  /** Per page of the window: when it was asked for, and how long the copy waited for it. */
  private readonly asked: number[] = [];
  private readonly waited: number[] = [];
  /** Pages to watch before the next question. */
  private every = WINDOW;
  private seen = 0;
  /** Milliseconds per page over the last full window. */
  pageMs = 0;

  constructor(private readonly slowMs: number) {}

  /**
   * One page arrived: asked for at `askedAt` (the copy was waiting from then), here at `now`. True when the
   * scan starves the copy and it is time to ask; then the window starts afresh.
   */
  page(askedAt: number, now: number): boolean {
    this.asked.push(askedAt);
    this.waited.push(now - askedAt);
    if (this.asked.length > WINDOW) {
      this.asked.shift();
      this.waited.shift();
    }
    this.seen++;
    if (this.seen < this.every || this.asked.length < WINDOW) return false;
    const span = now - this.asked[0];
    const waited = this.waited.reduce((a, b) => a + b, 0);
    this.pageMs = span / WINDOW;
    if (span <= 0 || waited < span / 2 || this.pageMs < this.slowMs) return false;
    this.seen = 0;
    this.every *= 2;
    return true;
  }
}
