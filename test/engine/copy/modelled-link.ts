// A modelled destination for the adaptive window's tests (window*.test.ts): a link of `rttMs` in front of
// a service that takes at most `capacity` requests per second, one after another, queueing the rest.
// Every request's answer comes back when the service has done it plus the way back, so a grown window
// shows only after a round trip, and answers to the requests sent before a change still arrive after it,
// as on a real link.
import type { AdaptiveWindow } from "../../../src/engine/copy/window.js";
import { prng } from "../../support/prng.js";

export interface Service {
  rttMs: number;
  /** Requests per second it can take; above it, requests queue (latency grows). */
  capacity: number;
  /** Each answer is late by up to this much more (uniform, seeded): answers then come in bursts and gaps. */
  jitterMs?: number;
  /**
   * The "service" is our own process's CPU (a copy's first seconds: the JIT compiling, the first pages):
   * its busy time is what the window's CPU probe reads, and it takes `capacity` only after `warmUpMs`:
   * a 32nd of it at first, doubling every 200 ms in the last second (on the bench, the rate climbed from
   * 1,200 to 10,000/s in 0.7 s at 0 ms).
   */
  cpuBound?: { warmUpMs: number };
  /**
   * The share of `capacity` it takes with `inFlight` requests in flight (default all of it): a process
   * whose work per request shrinks a little with more at once (fewer, fuller turns of its event loop).
   */
  share?: (inFlight: number) => number;
  /** Operations per request (default 1; a transaction of a full partition is 100). */
  ops?: number;
  /** Operations in flight at most, whatever the window (the flow control's bound, rate.ts). */
  maxOps?: number;
}

/** Answers in flight, the earliest due first (a binary heap on `due`). */
class InFlight {
  private readonly heap: { sent: number; due: number }[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(sent: number, due: number): void {
    const h = this.heap;
    h.push({ sent, due });
    for (let i = h.length - 1; i > 0;) {
      const up = (i - 1) >> 1;
      if (h[up].due <= h[i].due) break;
      [h[up], h[i]] = [h[i], h[up]];
      i = up;
    }
  }

  pop(): { sent: number; due: number } {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l].due < h[m].due) m = l;
        if (r < h.length && h[r].due < h[m].due) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i], h[m]];
        i = m;
      }
    }
    return top;
  }
}

/** A copy with always more to send than fits, through `service`; keeps its state between runs. */
export class Link {
  now = 0;
  /** CPU work the modelled process was given, ms (only a cpuBound service is any). */
  private cpuWork = 0;
  private serviceFree = 0;
  private readonly inFlight = new InFlight();
  private readonly jitter: () => number;

  constructor(
    private readonly w: AdaptiveWindow,
    seed = 1,
  ) {
    this.jitter = prng(seed);
  }

  /** CPU the modelled process has used by now, ms: the work given it, less what still waits. */
  get cpuMs(): number {
    return this.cpuWork - Math.max(0, this.serviceFree - this.now);
  }

  /**
   * Run for `ms` of modelled time: fill the window, take the next answer, repeat. Returns every size
   * change as [ms, size] and the answers per second.
   */
  run(service: Service, ms: number): { changes: [number, number][]; rate: number } {
    const end = this.now + ms;
    const changes: [number, number][] = [];
    let answers = 0;
    while (this.now < end) {
      while (this.inFlight.size < this.w.size) {
        if (service.maxOps && (this.inFlight.size + 1) * (service.ops ?? 1) > service.maxOps) {
          this.w.capped(this.inFlight.size);
          break;
        }
        const start = Math.max(this.now + service.rttMs / 2, this.serviceFree);
        const warm = service.cpuBound
          ? Math.max(1 / 32, Math.min(1, 2 ** ((start - service.cpuBound.warmUpMs) / 200)))
          : 1;
        const cost = 1000 / (service.capacity * warm * (service.share?.(this.w.size) ?? 1));
        this.serviceFree = start + cost;
        if (service.cpuBound) this.cpuWork += cost;
        const late = (service.jitterMs ?? 0) * this.jitter();
        this.inFlight.push(this.now, this.serviceFree + service.rttMs / 2 + late);
      }
      this.w.markLimited(); // more was waiting than the window took
      const answer = this.inFlight.pop();
      this.now = answer.due;
      const before = this.w.size;
      this.w.completed(this.now - answer.sent, this.now, service.ops);
      answers++;
      if (this.w.size !== before) changes.push([this.now, this.w.size]);
    }
    return { changes, rate: (answers * 1000) / ms };
  }
}

export const sizes = (changes: [number, number][]) => changes.map(([, size]) => size);
/** A process whose CPU is never the limit (the window's CPU probe reads nothing used). */
export const idleCpu = () => 0;
