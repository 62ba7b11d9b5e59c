// How many requests may be in flight to one destination: the `concurrency` input, or `auto`.
//
// A fixed number of transactions in flight caps a copy at (window × entities per request) per round
// trip: 8 one-entity requests over a 100 ms link are 80 entities/s, while the services take 20,000.
// `auto` therefore starts modestly and, like a transport's congestion control, grows while growing
// helps: each round (as many completions as the window holds) in which the window was full, it doubles
// (slow start) or, after any back-off, grows by an eighth — but only while the round's mean latency stays
// near the least seen. When the service queues our requests its latency rises: more in flight would
// only wait longer, so the window holds there. A number given by the user is the cap (and the start:
// that is the behaviour they asked for); both shrink on 429, 503, 500 and dropped connections.

/** Where `auto` starts: enough for a transaction-sized table on a near link, little for any service. */
export const AUTO_START = 16;
/** Most requests `auto` keeps in flight: covers one-entity requests at 20,000/s over a 100 ms link. */
export const AUTO_MAX = 2_048;
/** A round whose mean latency is below this multiple of the least round latency seen is "not queueing". */
const QUEUEING = 1.5;

export type ConcurrencySetting = number | "auto";

export class AdaptiveWindow {
  /** Requests allowed in flight now. */
  size: number;
  readonly max: number;
  private readonly adaptive: boolean;
  private slowStart: boolean;
  /** Completions and their summed latency in the current round. */
  private roundDone = 0;
  private roundLatency = 0;
  /** Whether a request had to wait for the window during this round. */
  private limited = false;
  /** The least mean round latency seen: the link's and the service's own time, without queueing. */
  private baseLatency = Infinity;

  constructor(setting: ConcurrencySetting) {
    this.adaptive = setting === "auto";
    this.max = setting === "auto" ? AUTO_MAX : Math.max(1, Math.floor(setting));
    this.size = setting === "auto" ? AUTO_START : this.max;
    this.slowStart = this.adaptive;
  }

  /** A request waited because the window was full. */
  markLimited(): void {
    this.limited = true;
  }

  /** A request finished after `latencyMs`; returns true when the window grew. */
  completed(latencyMs: number): boolean {
    this.roundDone++;
    this.roundLatency += latencyMs;
    if (this.roundDone < this.size) return false;
    const mean = this.roundLatency / this.roundDone;
    const limited = this.limited;
    this.roundDone = 0;
    this.roundLatency = 0;
    this.limited = false;
    this.baseLatency = Math.min(this.baseLatency, mean);
    if (!this.adaptive || !limited || this.size >= this.max) return false;
    if (mean > this.baseLatency * QUEUEING) {
      // The service is queueing: this is as much as it takes at once.
      this.slowStart = false;
      return false;
    }
    const next = this.slowStart ? this.size * 2 : this.size + Math.max(1, Math.floor(this.size / 8));
    this.size = Math.min(this.max, next);
    return true;
  }

  /** The service pushed back: halve (never below 1), and grow only cautiously from here on. */
  decrease(): void {
    this.size = Math.max(1, Math.floor(this.size / 2));
    this.slowStart = false;
    this.roundDone = 0;
    this.roundLatency = 0;
    this.limited = false;
  }

  /** One step back up after a quiet spell (the fixed window's recovery: one per quiet second). */
  recover(): boolean {
    if (this.adaptive || this.size >= this.max) return false;
    this.size++;
    return true;
  }
}
