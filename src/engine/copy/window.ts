// How many requests may be in flight to one destination: the `concurrency` input, or `auto`.
//
// A fixed number of transactions in flight caps a copy at (window × entities per request) per round
// trip: 8 one-entity requests over a 100 ms link are 80 entities/s, while the services take 20,000.
// `auto` therefore starts modestly and, like a transport's congestion control, grows while growing
// helps. Each round (as many completions as the window holds) in which the window was full is compared
// with the round before: during slow start the window doubles while each doubling brings at least a
// quarter more throughput; after that it steps up by an eighth while each step brings 5 % more, as long
// as the round's mean latency stays near the least seen (a service that queues our requests answers
// slower: more in flight would only wait longer). Throughput, not latency, is the evidence: when a copy
// is limited by something else (our CPU, the source), answers stay as fast as ever, more in flight brings
// nothing, and the window stays where it is. After PROBE_ROUNDS quiet
// rounds it tries one step again, in case the service got faster. A number given by the user is the
// cap (and the start: that is the behaviour they asked for); both shrink on 503, 500, time-outs and
// dropped connections (429s lower the send rate instead, see rate.ts).

/** Where `auto` starts: enough for a transaction-sized table on a near link, little for any service. */
export const AUTO_START = 16;
/**
 * Most requests `auto` keeps in flight: one-entity requests at 10,000/s over a 100 ms link. Each is a
 * connection of its own (with its parser and buffers): at 2,048 a one-entity-per-partition copy went
 * past 256 MB of peak RSS, at 1,024 it stays near 210 MB.
 */
export const AUTO_MAX = 1_024;
/**
 * Resident memory above which `auto` grows no further: a copy's peak must stay within 256 MB (1,000,000
 * one-entity requests crept to 261 MB with 1,024 in flight).
 */
const MEMORY_HOLD = 200 * 2 ** 20;
/** The largest number `concurrency` takes (a user who sets it accepts the memory). */
export const MAX_CONCURRENCY = 2_048;
/** A round whose mean latency is below this multiple of the least round latency seen is "not queueing". */
const QUEUEING = 2;
/** Throughput a doubling must add to go on doubling, and a step must add to go on stepping. */
const SLOW_START_GAIN = 1.25;
const STEP_GAIN = 1.05;
/**
 * No growth while answers take longer than this on average, and shrinking past twice it: requests in
 * flight are work a kill would repeat (checkpoints count only what landed), so about a second of it.
 */
const SLOW_MS = 1_000;
/** The shortest round, ms. */
const MIN_ROUND_MS = 200;
/** Rounds without growth after which one step is tried again. */
const PROBE_ROUNDS = 8;

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
  /** After a step of an eighth: the throughput of the round before it, to judge it by. */
  private steppedFrom?: number;
  /** Slow start's rounds in a row whose doubling did not pay. */
  private misses = 0;

  /**
   * `memory` reports the process's resident memory in bytes (default: process.memoryUsage.rss): `auto`
   * grows no further above MEMORY_HOLD, so a long copy of one-entity requests (a connection each) stays
   * within its memory budget whatever the machine.
   */
  constructor(
    setting: ConcurrencySetting,
    private readonly memory: () => number = () => process.memoryUsage.rss(),
  ) {
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
    if (!this.adaptive) return false;
    if (mean > SLOW_MS * 2 && this.size > AUTO_START) {
      // Answers take seconds: the service queues what we send. What is in flight is not yet a resume
      // point (a kill would copy it again), so keep about a second's worth of it, no more.
      this.size = Math.max(AUTO_START, Math.floor(this.size * 0.75));
      this.slowStart = false;
      this.steppedFrom = undefined;
      return false;
    }
    if (!limited || this.size >= this.max || mean > SLOW_MS) return false;
    // Asked only when the window would grow (at most once a round): reading the resident size is a system
    // call. It holds, never shrinks: what fills memory may be entities waiting to be sent (an unsorted
    // source's partitions being gathered), and fewer in flight would only keep them longer.
    if (this.memory() > MEMORY_HOLD) return false;
    const before = this.rateBefore;
    this.rateBefore = rate;
    if (this.slowStart) {
      // The first measured round, or a doubling that paid: double again. Latency alone says nothing: with
      // our own CPU (or the source) the limit, answers stay as fast as ever while more in flight brings
      // nothing but connections and memory. Slow start ends after two rounds in a row that did not pay
      // (one can be noise: new connections' first requests pay for connecting, and a copy hands over its
      // entities a page at a time).
      if (before === 0 || rate >= before * SLOW_START_GAIN) {
        this.misses = 0;
        return this.grow(this.size * 2);
      }
      if (++this.misses >= 2) this.slowStart = false;
      this.rateBefore = before; // judge the next round against the rate before the doubling too
      return false;
    }
    // A step is judged by the round after it: it paid, and the next is tried, or the window holds until
    // the next probe.
    const stepped = this.steppedFrom;
    this.steppedFrom = undefined;
    const paid = stepped !== undefined && rate >= stepped * STEP_GAIN;
    const probe = stepped === undefined && ++this.quietRounds >= PROBE_ROUNDS;
    if (mean <= this.baseLatency * QUEUEING && (paid || probe)) {
      this.steppedFrom = rate;
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
    this.steppedFrom = undefined;
    this.misses = 0;
  }

  /** One step back up after a quiet spell (the fixed window's recovery: one per quiet second). */
  recover(): boolean {
    if (this.adaptive || this.size >= this.max) return false;
    this.size++;
    return true;
  }
}
