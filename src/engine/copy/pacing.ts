// The two measures the flow control (rate.ts) keeps: when the next send may start at a given rate, and
// how many entities completed over the last second.

/** Window of throughput measurement, ms. */
const METER_MS = 1_000;

/**
 * Paces sends at `rate` per second (generic cell rate): a send of `n` may start when the previous
 * sends' time is used up; `burst` seconds of unused time may be saved.
 */
export class Pacer {
  /** When the sends so far are paid for (ms). */
  private tat = -Infinity;

  constructor(private readonly burstMs: number) {}

  /** Ms until `n` may be sent at `rate` (0: now). */
  wait(now: number, rate: number): number {
    if (!Number.isFinite(rate)) return 0;
    return Math.max(0, this.tat - now);
  }

  commit(now: number, n: number, rate: number): void {
    if (!Number.isFinite(rate)) return;
    this.tat = Math.max(this.tat, now - this.burstMs) + (n / rate) * 1000;
  }
}

/**
 * Entities completed over the last METER_MS: a queue with a moving head and a running sum, so each
 * completion costs O(1) (a copy completes thousands of requests a second).
 */
export class Meter {
  private at: number[] = [];
  private n: number[] = [];
  private head = 0;
  private sum = 0;

  push(at: number, n: number): void {
    this.at.push(at);
    this.n.push(n);
    this.sum += n;
  }

  trim(now: number): void {
    while (this.head < this.at.length && now - this.at[this.head] > METER_MS) this.sum -= this.n[this.head++];
    if (this.head > 1024 && this.head * 2 > this.at.length) {
      this.at = this.at.slice(this.head);
      this.n = this.n.slice(this.head);
      this.head = 0;
    }
  }

  /** Entities completed over the last whole METER_MS, per second (0 when none). */
  perSecond(): number {
    return this.head >= this.at.length ? 0 : (this.sum / METER_MS) * 1000;
  }

  /** Entities per second over the window (or since the first, if sooner); 0 when none. */
  rate(now: number): number {
    if (this.head >= this.at.length) return 0;
    const span = Math.max(100, Math.min(METER_MS, now - this.at[this.head]));
    return (this.sum / span) * 1000;
  }
}
