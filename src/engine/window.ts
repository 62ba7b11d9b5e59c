// How many requests may be in flight to one destination: the `concurrency` input, or `auto`.
//
// A fixed number of transactions in flight caps a copy at (window × entities per request) per round
// trip: 8 one-entity requests over a 100 ms link are 80 entities/s, while the services take 20,000.
// `auto` therefore starts modestly and, like a transport's congestion control, grows while growing
// helps. Each round (as many completions as the window holds) in which the window was full is compared
// with the round before: during slow start the window doubles while each doubling brings at least a
// quarter more throughput; after that it grows by an eighth while throughput still grows and the
// round's mean latency stays near the least seen (a service that queues our requests answers slower:
// more in flight would only wait longer). When a copy is limited by something else (our CPU, the
// source), more in flight brings nothing and the window stays where it is. Every PROBE_ROUNDS quiet
// rounds it tries one step again, in case the service got faster. A number given by the user is the
// cap (and the start: that is the behaviour they asked for); both shrink on 429, 503, 500 and dropped
// connections.

/** Where `auto` starts: enough for a transaction-sized table on a near link, little for any service. */
export const AUTO_START = 16;
/** Most requests `auto` keeps in flight: covers one-entity requests at 20,000/s over a 100 ms link. */
export const AUTO_MAX = 2_048;
/** A round whose mean latency is below this multiple of the least round latency seen is "not queueing". */
const QUEUEING = 1.5;
/** Throughput a doubling must add to go on doubling, and a step must add to go on stepping. */
const SLOW_START_GAIN = 1.25;
const STEP_GAIN = 1.05;
/** The shortest round, ms. */
const MIN_ROUND_MS = 200;
/** Rounds without growth after which one step is tried again. */
const PROBE_ROUNDS = 16;

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
  /** When the current round began, and the throughput (completions per ms) of the round before. */
  private roundStart?: number;
  private rateBefore = 0;
  /** Rounds since the window last grew. */
  private quietRounds = 0;

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

  /** A request finished after `latencyMs`, at `now` (ms); returns true when the window grew. */
  completed(latencyMs: number, now: number): boolean {
    this.roundDone++;
    this.roundLatency += latencyMs;
    this.roundStart ??= now;
    // A round is the window's worth of answers, and at least MIN_ROUND_MS: a copy hands the writer a page
    // at a time, so shorter spans measure the pages' rhythm rather than the service.
    if (this.roundDone < this.size || now - this.roundStart < MIN_ROUND_MS) return false;
    const mean = this.roundLatency / this.roundDone;
    const rate = this.roundDone / Math.max(1, now - this.roundStart);
    const limited = this.limited;
    this.roundStart = now;
    this.roundDone = 0;
    this.roundLatency = 0;
    this.limited = false;
    this.baseLatency = Math.min(this.baseLatency, mean);
    if (!this.adaptive || !limited || this.size >= this.max) return false;
    const before = this.rateBefore;
    this.rateBefore = rate;
    if (this.slowStart) {
      // The first measured round, or a doubling that paid: double again.
      if (before === 0 || rate >= before * SLOW_START_GAIN) return this.grow(this.size * 2);
      this.slowStart = false;
      return false;
    }
    const gained = before > 0 && rate >= before * STEP_GAIN;
    const probe = ++this.quietRounds >= PROBE_ROUNDS;
    if (mean <= this.baseLatency * QUEUEING && (gained || probe)) {
      return this.grow(this.size + Math.max(1, Math.floor(this.size / 8)));
    }
    return false;
  }

  private grow(size: number): boolean {
    this.size = Math.min(this.max, size);
    this.quietRounds = 0;
    return true;
  }

  /** The service pushed back: halve (never below 1), and grow only cautiously from here on. */
  decrease(): void {
    this.size = Math.max(1, Math.floor(this.size / 2));
    this.slowStart = false;
    this.roundDone = 0;
    this.roundLatency = 0;
    this.limited = false;
    this.roundStart = undefined;
    this.rateBefore = 0;
    this.quietRounds = 0;
  }

  /** One step back up after a quiet spell (the fixed window's recovery: one per quiet second). */
  recover(): boolean {
    if (this.adaptive || this.size >= this.max) return false;
    this.size++;
    return true;
  }
}
