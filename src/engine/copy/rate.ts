// Flow control shared by every writer of one run (one per destination): a hard cap on entities per
// second, and an adaptive limit that backs off when the destination throttles (HTTP 429) and climbs
// again while it does not.
//
// Two adaptive limits work together:
// - a window of requests in flight (window.ts): `auto` grows it while that helps, a number caps it;
//   halved when the service is busy (503, 500, dropped connections); and the bytes in flight are bounded
//   whatever the window, so memory stays flat on any table shape;
// - a send rate in entities per second: unlimited until the first 429, then seeded from what was
//   accepted over the last second, multiplied by DECREASE on every throttling episode; between episodes
//   it climbs quickly back to just below the rate that was refused, then probes above it, slowly at first
//   and faster the longer no 429 comes (a fixed budget is met rarely, a raised one found soon). A window
//   alone cannot hold a budget that a single transaction in flight already exceeds; the rate can.
// A 429 counts once per episode (a burst of 429s from the transactions in flight lowers the limits
// once), and it pauses every new send and every retry until the service's retry-after hint has passed.
// A refused request gives its slot back and queues for one like a new send, so requests refused together
// do not all come back together.

import { Meter, Pacer } from "./pacing.js";
import { AdaptiveWindow, type ConcurrencySetting } from "./window.js";

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface FlowOptions {
  /** Requests in flight: `auto`, or a number that caps the window (and is where it starts). */
  concurrency: ConcurrencySetting;
  /** Most request body bytes in flight (default MAX_BYTES_IN_FLIGHT). */
  maxBytesInFlight?: number;
  /** A hard cap: entities sent per second, never exceeded; undefined = no cap. */
  maxEntitiesPerSecond?: number;
  clock?: Clock;
  /** Rate factor on each throttling episode (default 0.85). */
  decrease?: number;
  /** Per quiet second, the rate grows by this share of the rate set at the last decrease (default 0.015). */
  increase?: number;
  /** A pause when a 429 carries no hint, ms (default 200). */
  defaultPauseMs?: number;
}

export interface FlowStats {
  /** 429s reported. */
  throttled: number;
  /** Other push-back reported: 503, 500, time-outs, dropped connections. */
  busy: number;
  /** Throttling episodes: times the limits were lowered. */
  decreases: number;
  /** The adaptive rate now, entities/s (Infinity before the first 429). */
  rate: number;
  /** Transactions allowed in flight now. */
  window: number;
}

/**
 * Request bodies in flight at most: 32 MiB is 300 full transactions or 20,000 one-entity requests, far
 * more than any link needs, and keeps a copy's memory flat.
 */
export const MAX_BYTES_IN_FLIGHT = 32 * 1024 * 1024;

/**
 * Operations in flight at most: 4,096 is 20,000 entities/s (Table Storage's account limit) over a 200 ms
 * round trip. More only queues at the service while costing us memory and CPU: a shuffled table of a
 * hundred per partition, its window grown by early requests of five, had 256 transactions of
 * a hundred in flight, answered after 220 ms instead of 20 (CPU 47 µs an entity against 40).
 */
export const MAX_OPS_IN_FLIGHT = 4_096;

/** Two 429s closer than this (or the hint they carry) belong to one episode. */
const EPISODE_MS = 150;
/** No increase until this long after the last 429. */
const HOLD_MS = 500;
/** An episode this soon after the previous one means the last decrease was not enough. */
const PHASE_MS = 1_000;
/** After a decrease the rate climbs back to this share of the rate that was refused, */
const NEAR_CEILING = 0.92;
/** closing the gap by 1 − 1/e every this many seconds, */
const CLIMB_SECONDS = 2;
/** then probes above it, the step growing by its own size every this many quiet seconds. */
const PROBE_DOUBLING_SECONDS = 8;

export class FlowControl {
  private readonly clock: Clock;
  private readonly win: AdaptiveWindow;
  private readonly maxBytes: number;
  private bytesInFlight = 0;
  private opsInFlight = 0;
  private readonly cap?: number;
  private readonly decrease: number;
  private readonly increase: number;
  private readonly defaultPauseMs: number;
  private readonly capPacer = new Pacer(0);
  private readonly ratePacer = new Pacer(50);
  private inFlight = 0;
  private rate = Infinity;
  /** The rate set at the last decrease: the additive step is a share of it. */
  private base = 0;
  /** The rate the last throttling episode met. */
  private ceiling = 0;
  /** Seconds spent probing above NEAR_CEILING since the last episode. */
  private probing = 0;
  /** Throttled for the first time: no sends until what is in flight has settled, which seeds the rate. */
  private seedPending = false;
  private pausedUntil = -Infinity;
  private lastThrottle = -Infinity;
  private episodeUntil = -Infinity;
  private busyUntil = -Infinity;
  /** Episodes in a row, each starting within PHASE_MS of the one before. */
  private streak = 0;
  private lastEpisode = -Infinity;
  private lastGrow = 0;
  private windowGrownAt = 0;
  /** Completed entities with their times, for the throughput meter. */
  private readonly done = new Meter();
  private readonly waiters: (() => void)[] = [];
  readonly stats: FlowStats;

  constructor(opts: FlowOptions) {
    this.clock = opts.clock ?? systemClock;
    this.win = new AdaptiveWindow(opts.concurrency);
    this.maxBytes = opts.maxBytesInFlight ?? MAX_BYTES_IN_FLIGHT;
    this.cap = opts.maxEntitiesPerSecond;
    this.decrease = opts.decrease ?? 0.85;
    this.increase = opts.increase ?? 0.015;
    this.defaultPauseMs = opts.defaultPauseMs ?? 200;
    this.stats = { throttled: 0, busy: 0, decreases: 0, rate: Infinity, window: this.win.size };
  }

  /**
   * Wait for room for a request of `n` operations and `bytes` of body; pair with `release(bytes, start)`,
   * where `start` is what this returns (when the request went out, for the window's latency).
   */
  async acquire(n: number, bytes = 0): Promise<number> {
    const now = this.tryAcquire(n, bytes);
    if (now !== undefined) return now;
    while (!this.fits(bytes, n)) {
      if (this.inFlight >= this.win.size) this.win.markLimited();
      else if (!this.seedPending && this.opsInFlight + n > MAX_OPS_IN_FLIGHT) {
        // The operations, not the window, held it back (as every transaction of 100 does past 40): that
        // many is the window. Not the bytes: large entities pass, and the window must still hold the
        // small ones after them.
        this.win.capped(this.inFlight);
        this.syncStats();
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    this.inFlight++;
    this.bytesInFlight += bytes;
    this.opsInFlight += n;
    try {
      await this.pace(n);
    } catch (err) {
      this.release(bytes, undefined, n);
      throw err;
    }
    return this.clock.now();
  }

  /**
   * `acquire` without waiting: the start time when the request may go now, undefined when it must wait
   * (then call `acquire`). Most requests need not wait, and a copy sends one per entity of a table with
   * one entity per partition: no promise for them.
   */
  tryAcquire(n: number, bytes = 0): number | undefined {
    if (this.waiters.length > 0 || !this.fits(bytes, n)) return undefined;
    const now = this.clock.now();
    if (this.paceWait(now) > 0) return undefined;
    this.inFlight++;
    this.bytesInFlight += bytes;
    this.opsInFlight += n;
    this.commitPace(now, n);
    return now;
  }

  /**
   * Requests that could go now without waiting: 0 while anything (the window, the bytes in flight, a
   * pause or the pace) would make one wait. For work that may go now or later (an unsorted source's
   * partial transactions), sent only into room nobody else needs.
   */
  room(): number {
    if (this.waiters.length > 0 || !this.fits(0, 1) || this.paceWait(this.clock.now()) > 0) return 0;
    return this.win.size - this.inFlight;
  }

  /** Work that could go was left for want of room: the window is what limits (it may grow). */
  markLimited(): void {
    this.win.markLimited();
  }

  private fits(bytes: number, ops: number): boolean {
    if (this.inFlight >= this.win.size) return false;
    if (this.seedPending && this.inFlight > 0) return false;
    // One request always fits, however large: a transaction is at most 4 MiB.
    if (this.inFlight === 0) return true;
    return this.bytesInFlight + bytes <= this.maxBytes && this.opsInFlight + ops <= MAX_OPS_IN_FLIGHT;
  }

  /**
   * Before resending a throttled transaction of `n` operations: its slot goes back and is taken again
   * under the window as it is now, after the pause and the rate. Requests refused together would
   * otherwise all come back together into a budget that just refused them (a first burst of 16
   * transactions met by a token bucket's credit for 5 was refused 20 times over). Its bytes stay counted.
   */
  async retry(n: number): Promise<void> {
    this.release(0, undefined, n);
    try {
      await this.acquire(n);
    } catch (err) {
      // The caller still releases this request's slot and its operations.
      this.inFlight++;
      this.opsInFlight += n;
      throw err;
    }
  }

  /**
   * A request of `ops` operations acquired earlier is done (whatever its outcome); `start` is what
   * `acquire` returned.
   */
  release(bytes = 0, start?: number, ops = 0): void {
    this.inFlight--;
    this.bytesInFlight -= bytes;
    this.opsInFlight -= ops;
    if (this.seedPending && this.inFlight === 0) this.seed();
    if (start !== undefined) {
      const now = this.clock.now();
      if (this.win.completed(now - start, now, Math.max(1, ops))) this.syncStats();
    }
    this.wake();
  }

  /** The service is overloaded (503, 500, a time-out, a dropped connection): fewer in flight, once per episode. */
  busy(): void {
    const now = this.clock.now();
    this.stats.busy++;
    if (now < this.busyUntil) return;
    this.busyUntil = now + 1_000;
    this.win.decrease(now);
    this.windowGrownAt = now;
    this.syncStats();
  }

  /** Operations the destination accepted (for the throughput meter). */
  completed(n: number): void {
    const now = this.clock.now();
    this.done.push(now, n);
    this.trim(now);
    this.grow(now);
  }

  /** The destination answered 429; `hintMs` is its retry-after hint, if it gave one. */
  throttled(hintMs?: number): void {
    const now = this.clock.now();
    this.stats.throttled++;
    const pause = hintMs ?? this.defaultPauseMs;
    this.pausedUntil = Math.max(this.pausedUntil, now + pause);
    this.lastThrottle = now;
    if (now < this.episodeUntil) return;
    // A new episode: lower both limits once.
    this.episodeUntil = now + Math.max(EPISODE_MS, pause);
    this.streak = now - this.lastEpisode < PHASE_MS ? this.streak + 1 : 1;
    this.lastEpisode = now;
    this.stats.decreases++;
    this.trim(now);
    if (!Number.isFinite(this.rate)) this.seed();
    else {
      // The rate that met the push-back: the next climb returns quickly to just below it, then probes.
      this.ceiling = this.rate;
      let rate = this.rate * this.decrease ** Math.min(this.streak, 2);
      // Throttled again right after a decrease: that one was not enough; what the service accepted over
      // the last second is, under steady push-back, its budget.
      const accepted = this.done.perSecond();
      if (this.streak > 1 && accepted > 0) rate = Math.min(rate, accepted);
      this.setRate(rate);
    }
    // The window stays: the rate spaces the sends, and a halved window would take many rounds to regrow
    // on a table with one entity per partition, where a long link needs hundreds in flight.
    this.lastGrow = now;
    this.syncStats();
  }

  /**
   * The first episode seeds the rate from what was accepted over the last whole second: a token bucket's
   * starting credit (Cosmos DB grants about one second of it) inflates a shorter measure many times over.
   * Refusals come back at once while the accepted requests are still being written, so nothing more is
   * sent until every request in flight has settled (one round trip, once); then the second is measured.
   */
  private seed(): void {
    const accepted = this.done.perSecond();
    this.seedPending = accepted === 0 || this.inFlight > 0;
    if (this.seedPending) return;
    this.ceiling = accepted;
    this.setRate(accepted * this.decrease);
  }

  private setRate(rate: number): void {
    this.rate = Math.max(1, rate);
    this.base = this.rate;
    this.probing = 0;
    this.syncStats();
  }

  private async pace(n: number): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      const wait = this.paceWait(now);
      if (wait <= 0) {
        this.commitPace(now, n);
        return;
      }
      await this.clock.sleep(Math.ceil(wait));
    }
  }

  /** Ms until a send may start (a pause after a 429, the cap, the adaptive rate); 0: now. */
  private paceWait(now: number): number {
    this.grow(now);
    return Math.max(
      this.pausedUntil - now,
      this.cap === undefined ? 0 : this.capPacer.wait(now, this.cap),
      this.ratePacer.wait(now, this.rate),
    );
  }

  private commitPace(now: number, n: number): void {
    if (this.cap !== undefined) this.capPacer.commit(now, n, this.cap);
    this.ratePacer.commit(now, n, this.rate);
  }

  /** Additive increase while no 429 comes. */
  private grow(now: number): void {
    if (now - this.lastThrottle < HOLD_MS) {
      this.lastGrow = now;
      return;
    }
    const dt = (now - this.lastGrow) / 1000;
    this.lastGrow = now;
    if (Number.isFinite(this.rate) && dt > 0) {
      const near = this.ceiling * NEAR_CEILING;
      if (this.rate < near) {
        // Back quickly to just below the rate that was refused: most of the gap within a few seconds.
        const step = Math.max(
          (near - this.rate) * (1 - Math.exp(-dt / CLIMB_SECONDS)),
          this.base * this.increase * dt,
        );
        this.rate = Math.min(near, this.rate + step);
      } else {
        // Then probe: slowly at first (a fixed budget refuses again only after many quiet seconds), faster
        // the longer it stays quiet (the budget may have been raised, or the first seed was too low).
        this.probing += dt;
        this.rate += this.base * this.increase * dt * (1 + this.probing / PROBE_DOUBLING_SECONDS);
      }
      // Never run far ahead of what is actually sent, or the next decrease starts from a fiction.
      const measured = this.throughput(now);
      if (measured > 0 && this.rate > measured * 2 && this.rate > this.base) {
        this.rate = Math.max(this.base, measured * 2);
      }
    }
    if (now - this.windowGrownAt >= 1000 && this.win.recover()) {
      this.windowGrownAt = now;
      this.wake();
    }
    this.syncStats();
  }

  /** Entities accepted per second over the last second (or since the first, if sooner). */
  private throughput(now: number): number {
    return this.done.rate(now);
  }

  private trim(now: number): void {
    this.done.trim(now);
  }

  private wake(): void {
    // Everyone waiting looks again (a woken request that still does not fit waits anew): a large
    // request must not hold back small ones behind it forever, nor they it.
    if (this.waiters.length === 0 || !this.fits(0, 1)) return;
    const woken = this.waiters.splice(0, Math.max(1, this.win.size - this.inFlight));
    for (const w of woken) w();
  }

  private syncStats(): void {
    this.stats.rate = this.rate;
    this.stats.window = this.win.size;
  }
}
