// The adaptive window against a modelled service: a link of `rttMs` and a service (or a client CPU) that
// takes at most `capacity` requests per second, queueing the rest.
import { describe, expect, it } from "vitest";
import { AUTO_MAX, AUTO_START, AdaptiveWindow } from "../../../src/engine/copy/window.js";

interface Service {
  rttMs: number;
  /** Requests per second it can take; above it, requests queue (latency grows). */
  capacity: number;
}

/**
 * Run `rounds` rounds of a window that is always full (a copy with more to send than fits): each
 * request's latency is the round trip plus the queueing a full window causes, and answers arrive evenly
 * over the round. Returns the window size after each round.
 */
function drive(w: AdaptiveWindow, service: Service, rounds: number, clock = { t: 0 }): number[] {
  const sizes: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const size = w.size;
    const throughput = Math.min(size / (service.rttMs / 1000), service.capacity); // per second
    const latency = (size / throughput) * 1000; // Little's law, ms
    const roundMs = Math.max(250, (size / throughput) * 1000);
    const answers = Math.max(size, Math.ceil((throughput * roundMs) / 1000));
    for (let i = 0; i < answers; i++) {
      w.markLimited();
      clock.t += roundMs / answers;
      w.completed(latency, clock.t);
    }
    sizes.push(w.size);
  }
  return sizes;
}

describe("AdaptiveWindow (auto)", () => {
  it("starts at AUTO_START and doubles while the link, not the service, is the limit", () => {
    const w = new AdaptiveWindow("auto", () => 0);
    expect(w.size).toBe(AUTO_START);
    // 100 ms round trip, a service taking 20,000/s: 2,000 in flight are needed.
    const sizes = drive(w, { rttMs: 100, capacity: 20_000 }, 12);
    expect(sizes.slice(0, 4)).toEqual([32, 64, 128, 256]);
    expect(Math.max(...sizes)).toBeGreaterThanOrEqual(1_024);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(AUTO_MAX);
  });

  it("stops growing where more in flight brings no more throughput", () => {
    const w = new AdaptiveWindow("auto", () => 0);
    // 20 ms round trip, 2,000/s: 40 in flight suffice; the window may overshoot by one doubling.
    const sizes = drive(w, { rttMs: 20, capacity: 2_000 }, 40);
    const final = sizes.at(-1)!;
    expect(final).toBeGreaterThanOrEqual(40);
    expect(final).toBeLessThanOrEqual(160);
  });

  it("keeps about a second's worth in flight when the service slows down and queues", () => {
    const w = new AdaptiveWindow("auto", () => 0);
    const clock = { t: 0 };
    drive(w, { rttMs: 100, capacity: 20_000 }, 10, clock);
    expect(w.size).toBeGreaterThanOrEqual(512);
    // The service now takes 100 requests/s: a window of W answers in W/100 s.
    const sizes = drive(w, { rttMs: 100, capacity: 100 }, 30, clock);
    const final = sizes.at(-1)!;
    expect(final).toBeLessThanOrEqual(200); // at most ~2 s of answers in flight
    expect(final).toBeGreaterThanOrEqual(AUTO_START);
  });

  it("grows no further while the process holds 200 MiB, and never shrinks for it", () => {
    let rss = 0;
    const w = new AdaptiveWindow("auto", () => rss);
    const clock = { t: 0 };
    drive(w, { rttMs: 100, capacity: 20_000 }, 3, clock);
    const grown = w.size;
    expect(grown).toBe(128);
    rss = 230 * 2 ** 20;
    expect(drive(w, { rttMs: 100, capacity: 20_000 }, 10, clock).every((s) => s === grown)).toBe(true);
    rss = 0;
    expect(drive(w, { rttMs: 100, capacity: 20_000 }, 1, clock)[0]).toBe(grown * 2);
  });

  it("never grows while the window is not full (something else is the limit)", () => {
    const w = new AdaptiveWindow("auto", () => 0);
    let t = 0;
    for (let i = 0; i < 10_000; i++) w.completed(10, (t += 1));
    expect(w.size).toBe(AUTO_START);
  });

  it("halves on push-back, never below 1, and then grows by steps of an eighth, not doubling", () => {
    const w = new AdaptiveWindow("auto", () => 0);
    drive(w, { rttMs: 100, capacity: 20_000 }, 8);
    const before = w.size;
    w.decrease();
    expect(w.size).toBe(Math.floor(before / 2));
    for (let i = 0; i < 20; i++) w.decrease();
    expect(w.size).toBe(1);
    const sizes = drive(w, { rttMs: 100, capacity: 20_000 }, 40);
    // No more doubling: steps of an eighth (at least one) per round of at least 200 ms, so at most two
    // steps per 250 ms of the model.
    for (let i = 1; i < sizes.length; i++) {
      const step = (s: number) => s + Math.max(1, Math.floor(s / 8));
      expect(sizes[i]).toBeLessThanOrEqual(step(step(sizes[i - 1])));
    }
    expect(sizes.at(-1)).toBeGreaterThan(1);
  });
});

describe("AdaptiveWindow (a number)", () => {
  it("starts at the number, which is its cap, and recovers one step at a time after a back-off", () => {
    const w = new AdaptiveWindow(8);
    expect(w.size).toBe(8);
    drive(w, { rttMs: 100, capacity: 20_000 }, 10);
    expect(w.size).toBe(8); // the cap
    w.decrease();
    expect(w.size).toBe(4);
    expect(w.recover()).toBe(true);
    expect(w.size).toBe(5);
    for (let i = 0; i < 10; i++) w.recover();
    expect(w.size).toBe(8);
  });

  it("auto does not use the fixed window's one-step recovery", () => {
    const w = new AdaptiveWindow("auto", () => 0);
    w.decrease();
    expect(w.recover()).toBe(false);
  });
});
