// How many requests may be in flight to one destination: the `concurrency` input, or `auto`.
//
// A fixed number of transactions in flight caps a copy at (window × entities per request) per round
// trip: 8 one-entity requests over a 100 ms link are 80 entities/s, while the services take 20,000.
// `auto` therefore starts modestly and, like a transport's congestion control, grows while growing
// helps. Slow start doubles the window once a round (a window's worth of answers, about a round trip;
// quadruples once the quickest answer took 80 ms or more) while a doubling brings a quarter more
// throughput, or its answers come back as fast as ever with some gain: the link is the limit. Three
// rounds in a row without that end it; a doubling that brought nothing at all (our CPU or the source is
// the limit) is undone, since every request in flight is a connection that costs CPU. A round in which
// our own CPU was busy and the answers queued (the JIT's warm-up, the first seconds of every run) judges
// nothing: slow start holds through it (CPU_BUSY). After that it steps up by an eighth, then a quarter,
// then a half while each step brings 5 % more (by eighths only after push-back), judged by a round of
// at least MIN_ROUND_MS and a round trip of answers to requests sent after the step, as long as the
// round's mean latency stays near the least seen (a service that queues our requests answers slower:
// more in flight would only wait longer).
// Throughput, not latency alone, is the evidence: when the source is the limit, answers stay as fast as
// ever, more in flight brings nothing, and the window stays where it is. After PROBE_ROUNDS quiet rounds
// it tries one step again, in case the service got faster. Where answers wait far longer than the
// quickest one (queueing in the service or in our own process, not the link), it tries a smaller window
// and keeps it if the rate holds (tryShrink). Where the operations in flight bound it, that many is
// the window (capped). Above MEMORY_HOLD of resident memory it grows no further, above MEMORY_SHRINK it
// steps back. A number given by the user is the cap (and the start: that is what they asked for); both
// shrink on 503, 500, time-outs and dropped connections (429s lower the send rate instead, rate.ts).

import { residentMemory } from "./memory.js";
import {
  AUTO_MAX,
  AUTO_START,
  MEMORY_HOLD,
  MEMORY_SHRINK,
  processCpuMs,
  type ConcurrencySetting,
} from "./window-bounds.js";
export { AUTO_MAX, AUTO_START, MAX_CONCURRENCY, type ConcurrencySetting } from "./window-bounds.js";

/** A round whose mean latency is below this multiple of the least round latency seen is "not queueing". */
const QUEUEING = 2;
/**
 * A slow-start round whose mean latency is within this multiple of the least seen: the answers come as
 * fast as ever with twice as many in flight, so the link, not the service or our CPU, is the limit.
 */
const FLAT = 1.25;
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
/**
 * The shortest round during slow start, ms. Each doubling is judged by one window's worth of answers
 * (about a round trip), not by a fixed span: at 200 ms a round, a one-entity-per-partition copy over a
 * 100 ms link spent 2.8 s of a 9.5 s run reaching its window. Long enough that a near link's rounds
 * hold a few hundred answers, not the gap between two pages.
 */
const START_ROUND_MS = 50;
/**
 * Slow start's rounds in a row without a paying doubling that end it (as BBR's startup ends after three
 * rounds without 25 % more bandwidth): a round is short and the first ones are noisy (new connections
 * cost CPU, pages arrive in bursts), and two such rounds once ended it at 128 over a 20 ms link.
 */
const SLOW_START_MISSES = 3;
/**
 * From this round trip on (the quickest answer seen, ms), slow start quadruples instead of doubling.
 * Each round lasts a round trip: over 100 ms, doubling from 16 to 1,024 took 1.3 s of a 7 s
 * one-entity-per-partition copy, with the scan waiting for the writer all the while (the scan is the
 * limit there, so what it waits is never made up). Quadrupling takes three rounds: 6,638 → 6,895
 * entities/s in eight alternating pairs (six won). A near link's rounds are short enough to double. The
 * quickest answer, not a round's mean: in slow start every round opens new connections (a round trip
 * more each) while our CPU is busy, and over a 20 ms link rounds averaged over 80 ms.
 */
const LONG_ROUND_TRIP_MS = 80;

/** Rounds without growth after which one step is tried again. */
const PROBE_ROUNDS = 8;
/**
 * A smaller window is kept when its round carries at least this share of the rate before it (rounds are
 * noisy: at 10,000 answers/s over loopback, ±10 % from one round to the next).
 */
const SHRINK_KEEP = 0.95;
/**
 * Tries of a smaller window keep this many operations in flight (and AUTO_START requests): below it fewer
 * connections save no CPU worth a loss (one-entity writes over loopback: 53 µs an entity and 15,760–
 * 15,961/s at 64 in flight, 55 µs and 15,266–15,663/s at 16).
 */
const SHRINK_FLOOR_OPS = 64;
/** Rounds between tries of a smaller window, at most, after tries that did not pay (doubling each time). */
const SHRINK_WAIT_MAX = 64;
/**
 * A slow-start round in which the process used at least this share of a core of CPU, while its answers
 * queued (mean above QUEUEING × the quickest), says nothing about the window: our own CPU is the limit.
 * The first second or two of every run is such a round after round (the JIT compiling, the first pages
 * and connections): measured with the bench's matrix, 1.00 of a core over 0, 20 and 100 ms alike while
 * the rate climbed ten-fold at a constant window. Judged as usual, those rounds sent a near link's window
 * to 1,024 (every doubling "paid", the warm-up's gain) and ended slow start over 20 ms at 256 (three
 * doublings that could not pay while the CPU was busy). Such a round holds: no growth and no miss.
 */
const CPU_BUSY = 0.9;

export class AdaptiveWindow {
  /** Requests allowed in flight now. */
  size: number;
  readonly max: number;
  private readonly adaptive: boolean;
  private slowStart: boolean;
  /** Completions, their summed latency and their operations in the current round. */
  private roundDone = 0;
  private roundOps = 0;
  private roundLatency = 0;
  /** Operations per request in the last round (entities: 1 for a plain request, up to 100 a transaction). */
  private opsPerRequest = 1;
  /** Whether a request had to wait for the window during this round. */
  private limited = false;
  /** The least mean round latency seen: the link's and the service's own time, without queueing. */
  private baseLatency = Infinity;
  /** The quickest answer seen: the round trip, at most. */
  private quickest = Infinity;
  /** When the current round began, and the throughput (completions per ms) of the round before. */
  private roundStart?: number;
  private rateBefore = 0;
  /** Rounds since the window last grew. */
  private quietRounds = 0;
  /** After a step of an eighth: the throughput of the round before it, to judge it by. */
  private steppedFrom?: number;
  /** Slow start's rounds in a row whose doubling did not pay, and the best rate they reached. */
  private misses = 0;
  private missRate = 0;
  /**
   * The next step is size / 2^stepShift: an eighth, a quarter after a step that paid, a half after two.
   * After push-back (503, time-outs) steps stay an eighth: the service said it had enough.
   */
  private stepShift = 3;
  private pushedBack = false;
  /** The size before slow start's last growth (what undoing it goes back to). */
  private grownFrom = AUTO_START;
  /**
   * When the size last changed: answers to requests sent before it measure the old window (the new ones
   * have not had a round trip yet), so a step's round counts only answers to requests sent after it.
   */
  private changedAt = -Infinity;
  /** The round's rate before this one (a try of a smaller window is judged against the two). */
  private lastRate = 0;
  /** A smaller window being tried: the size and rate it is judged against. */
  private shrunkFrom?: { size: number; rate: number };
  /**
   * The best rate a kept try was judged against, and so every later one: tries lose 1 − SHRINK_KEEP of
   * the rate in all, not at every step (tries each keeping 95 % once took a copy from 64 to 16 in three).
   */
  private shrinkRef = 0;
  /** Rounds until the next try of a smaller window, and the wait after one that did not pay. */
  private shrinkIn = 1;
  private shrinkWait = PROBE_ROUNDS;
  /** CPU used and the time at the last round's end (ms): a round's share of a core. */
  private cpuAt = 0;
  private cpuWallAt = -Infinity;

  /**
   * `memory` reports the process's resident memory in bytes (default: residentMemory, memory.ts): `auto`
   * grows no further above MEMORY_HOLD, so a long copy of one-entity requests (a connection each) stays
   * within its memory budget whatever the machine. `cpu` reports the CPU the process has used, ms
   * (default: process.cpuUsage): slow start holds while our own CPU is the limit (CPU_BUSY).
   */
  constructor(
    setting: ConcurrencySetting,
    private readonly memory: () => number = residentMemory,
    private readonly cpu: () => number = processCpuMs,
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

  /**
   * A request waited with only `inFlight` out: the operations in flight (rate.ts) were the bound, so that
   * is the window in effect (and slow start has nothing left to try). Left above it, the window judged
   * nothing: Azurite kept 40 transactions of 100, some answered after 5 s instead of 0.3.
   */
  capped(inFlight: number): void {
    if (!this.adaptive || inFlight <= 0) return;
    this.limited = true;
    this.slowStart = false;
    if (inFlight < this.size) this.size = inFlight;
  }

  /**
   * A request of `ops` operations finished after `latencyMs`, at `now` (ms); returns true when the window
   * grew.
   */
  completed(latencyMs: number, now: number, ops = 1): boolean {
    // A step is judged by answers to requests sent after it. (Slow start judges by latency too, which the
    // old window's answers show as well as the new ones'; so does a service slowing down.)
    const judging = this.steppedFrom !== undefined || this.shrunkFrom !== undefined;
    if (judging && now - latencyMs < this.changedAt) {
      // Its round begins with the first answer that counts: timed from the step, a round trip of old
      // answers left out would halve the rate it shows (over 100 ms, every step looked like a loss).
      if (this.roundDone === 0) this.roundStart = undefined;
      return false;
    }
    this.roundDone++;
    this.roundOps += ops;
    this.roundLatency += latencyMs;
    if (latencyMs < this.quickest) this.quickest = latencyMs;
    this.roundStart ??= now;
    const mean = this.roundLatency / this.roundDone;
    // A round is the window's worth of answers, at least MIN_ROUND_MS (START_ROUND_MS in slow start) and at
    // least its answers' mean latency (a round trip): a copy hands the writer a page at a time, and the
    // first answers come back in a burst, so shorter spans measure the pages' rhythm or the burst, not
    // the service (16 answers in 55 ms over a 100 ms link read as 290/s, and the 320/s of the doubling
    // after them as a loss).
    const minRound = Math.max(this.slowStart ? START_ROUND_MS : MIN_ROUND_MS, mean);
    if (this.roundDone < this.size || now - this.roundStart < minRound) return false;
    const rate = this.roundDone / Math.max(1, now - this.roundStart);
    const limited = this.limited;
    this.opsPerRequest = Math.max(1, this.roundOps / this.roundDone);
    this.roundStart = now;
    this.roundDone = 0;
    this.roundOps = 0;
    this.roundLatency = 0;
    this.limited = false;
    this.baseLatency = Math.min(this.baseLatency, mean);
    if (!this.adaptive) return false;
    const cpuNow = this.cpu();
    const cpuShare = (cpuNow - this.cpuAt) / Math.max(1, now - this.cpuWallAt);
    this.cpuAt = cpuNow;
    this.cpuWallAt = now;
    // Once a round (reading the resident size is a system call, a few µs).
    if (this.size > AUTO_START && this.memory() > MEMORY_SHRINK) {
      this.resize(Math.max(AUTO_START, this.size - Math.floor(this.size / 8)), now);
      this.slowStart = false;
      this.steppedFrom = undefined;
      return false;
    }
    if (mean > SLOW_MS * 2 && this.size > AUTO_START) {
      // Answers take seconds: the service queues what we send. What is in flight is not yet a resume
      // point (a kill would copy it again), so keep about a second's worth of it, no more.
      this.resize(Math.max(AUTO_START, Math.floor(this.size * 0.75)), now);
      this.slowStart = false;
      this.steppedFrom = undefined;
      return false;
    }
    const lastRate = this.lastRate;
    this.lastRate = rate;
    if (this.shrunkFrom) return this.judgeShrink(rate, limited, now);
    if (!limited) return false;
    if (!this.slowStart && this.steppedFrom === undefined && this.tryShrink(rate, lastRate, mean, now)) {
      return false;
    }
    // No growth at the cap or while answers take over a second; slow start still judges its last growth
    // there (a quadrupling to the cap that brought nothing is undone like any other).
    const room = this.size < this.max && mean <= SLOW_MS;
    if (!room && !this.slowStart) return false;
    // Above MEMORY_HOLD the window holds; above MEMORY_SHRINK (at each round's end, above) it steps back.
    // Entities waiting in partial transactions are bounded by the writer's buffers, not by the window, so
    // fewer in flight means less memory, not more entities waiting.
    if (this.memory() > MEMORY_HOLD) return false;
    // Our CPU is the limit (see CPU_BUSY): a doubling still to be judged waits for a round that can show
    // it, and the next one is not judged against the warm-up's rate.
    if (this.slowStart && cpuShare >= CPU_BUSY && mean > this.quickest * QUEUEING) return false;
    const before = this.rateBefore;
    this.rateBefore = rate;
    if (this.slowStart) {
      // The first measured round, or a doubling that paid: double again. A round is about one round trip,
      // so it still holds answers to the smaller window's requests: a doubling whose answers come as fast
      // as ever pays, even if its round shows only part of the gain. Latency alone says nothing: with the
      // source the limit, answers stay as fast as ever while more in flight brings nothing but
      // connections and memory. Slow start ends after SLOW_START_MISSES rounds in a row that did not pay
      // (one or two can be noise: new connections' first requests pay for connecting, and a copy hands
      // over its entities a page at a time).
      const flat = mean <= this.baseLatency * FLAT && rate >= before * STEP_GAIN;
      if (before === 0 || rate >= before * SLOW_START_GAIN || flat) {
        this.misses = 0;
        this.missRate = 0;
        if (!room) {
          // It paid, and there is no more to try.
          if (this.size >= this.max) this.slowStart = false;
          return false;
        }
        // Quadruple over a long round trip while the answers come as fast as ever (the link is the
        // limit); answers slowing down say the service or our CPU is near its limit: double.
        const fast = this.quickest >= LONG_ROUND_TRIP_MS && mean <= this.baseLatency * FLAT;
        this.grownFrom = this.size;
        return this.grow(this.size * (fast ? 4 : 2), now);
      }
      this.missRate = Math.max(this.missRate, rate);
      this.rateBefore = before; // judge the next round against the rate before the doubling too
      if (++this.misses < SLOW_START_MISSES) return false;
      this.slowStart = false;
      // A doubling (or quadrupling) that brought nothing at all (our CPU or the source is the limit) is
      // undone: every request in flight is a connection, and a thousand of them cost a third more CPU per
      // request than a hundred. One that brought a little is kept.
      if (this.missRate < before * STEP_GAIN) this.resize(Math.max(AUTO_START, this.grownFrom), now);
      return false;
    }
    // A step is judged by the round after it: it paid, and the next is tried, or the window holds until
    // the next probe.
    const stepped = this.steppedFrom;
    this.steppedFrom = undefined;
    const paid = stepped !== undefined && rate >= stepped * STEP_GAIN;
    const probe = stepped === undefined && ++this.quietRounds >= PROBE_ROUNDS;
    // Steps that keep paying grow (an eighth, a quarter, a half): slow start can end far below what the
    // link takes (its rounds are short and noisy), and from 64 to 1,024 by eighths is 24 steps, ten
    // seconds over a 20 ms link.
    this.stepShift = paid && !this.pushedBack ? Math.max(1, this.stepShift - 1) : 3;
    if (mean <= this.baseLatency * QUEUEING && (paid || probe)) {
      this.steppedFrom = rate;
      return this.grow(this.size + Math.max(1, Math.floor(this.size / 2 ** this.stepShift)), now);
    }
    return false;
  }

  /**
   * Queueing, not the link: slow start grows while a doubling pays, and early in a run it pays for other
   * reasons (new connections warming up, the JIT): over loopback it reached 1,024 in flight where 16 carry
   * as much, and every request in flight is a connection that costs CPU (one-entity writes: 80–87 µs an
   * entity at 1,024, 66–70 at 16–128). Little's law: the answers' mean latency is the window over the
   * rate, and the link's share of it at most the quickest answer; twice the rate times the quickest
   * answer covers the link with room to spare. So where the mean is more than twice the quickest, try
   * that (no less than a quarter of the window at once, nor below SHRINK_FLOOR_OPS in flight), and keep it
   * if the rate holds (against the best rate a kept try had: see shrinkRef). Over a long link answers take
   * about the round trip: no try.
   */
  private tryShrink(rate: number, lastRate: number, mean: number, now: number): boolean {
    const floor = Math.max(AUTO_START, Math.ceil(SHRINK_FLOOR_OPS / this.opsPerRequest));
    if (this.size <= floor || --this.shrinkIn > 0) return false;
    this.shrinkIn = 1;
    const target = Math.max(floor, this.size >> 2, Math.ceil((2 * this.size * this.quickest) / mean));
    if (target > this.size * 0.875) return false;
    const measured = lastRate > 0 ? (rate + lastRate) / 2 : rate;
    this.shrunkFrom = { size: this.size, rate: Math.max(measured, this.shrinkRef) };
    this.resize(target, now);
    return true;
  }

  /** The round after a try of a smaller window: keep it if the rate held, or go back and wait longer. */
  private judgeShrink(rate: number, limited: boolean, now: number): boolean {
    const from = this.shrunkFrom!;
    this.shrunkFrom = undefined;
    if (limited && rate < from.rate * SHRINK_KEEP) {
      this.resize(from.size, now);
      this.shrinkIn = this.shrinkWait;
      this.shrinkWait = Math.min(SHRINK_WAIT_MAX, this.shrinkWait * 2);
      this.quietRounds = 0;
      return true;
    }
    this.shrinkRef = from.rate;
    this.stepShift = 3;
    this.quietRounds = 0;
    return false;
  }

  private grow(size: number, now: number): boolean {
    this.resize(Math.min(this.max, size), now);
    this.quietRounds = 0;
    return true;
  }

  private resize(size: number, now: number): void {
    this.size = Math.floor(size);
    this.changedAt = now;
  }

  /**
   * The service pushed back (at `now`, ms): halve (never below 1), and grow only cautiously from here on.
   */
  decrease(now = -Infinity): void {
    this.resize(Math.max(1, Math.floor(this.size / 2)), now);
    this.slowStart = false;
    this.roundDone = 0;
    this.roundOps = 0;
    this.roundLatency = 0;
    this.limited = false;
    this.roundStart = undefined;
    this.rateBefore = 0;
    this.quietRounds = 0;
    this.steppedFrom = undefined;
    this.shrunkFrom = undefined;
    this.shrinkRef = 0;
    this.misses = 0;
    this.missRate = 0;
    this.stepShift = 3;
    this.pushedBack = true;
  }

  /** One step back up after a quiet spell (the fixed window's recovery: one per quiet second). */
  recover(): boolean {
    if (this.adaptive || this.size >= this.max) return false;
    this.size++;
    return true;
  }
}
