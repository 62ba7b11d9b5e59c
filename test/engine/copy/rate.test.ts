// The flow control's logic with a fake clock: the hard cap, the window, and AIMD on 429s.
import { describe, expect, it } from "vitest";
import { FlowControl, MAX_OPS_IN_FLIGHT, type Clock } from "../../../src/engine/copy/rate.js";

/** A clock that only moves when a sleeper asks it to (every sleep returns at once, time jumps). */
function fakeClock(): Clock & { t: number } {
  const clock = {
    t: 0,
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.t += ms;
      await Promise.resolve();
    },
  };
  return clock;
}

/** Send `count` transactions of `n` one after another, each completing at once. */
async function sendSerially(flow: FlowControl, count: number, n: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await flow.acquire(n);
    flow.completed(n);
    flow.release();
  }
}

describe("FlowControl", () => {
  it("without a cap or a 429, never waits", async () => {
    const clock = fakeClock();
    const flow = new FlowControl({ concurrency: 4, clock });
    await sendSerially(flow, 50, 100);
    expect(clock.t).toBe(0);
    expect(flow.stats.rate).toBe(Infinity);
  });

  it("caps entities per second: 5 000 entities at 1 000/s take about 5 s", async () => {
    const clock = fakeClock();
    const flow = new FlowControl({ concurrency: 8, maxEntitiesPerSecond: 1_000, clock });
    await sendSerially(flow, 50, 100);
    // The first transaction goes at once; the other 49 each wait for their 100 entities' time.
    expect(clock.t).toBeGreaterThanOrEqual(4_900);
    expect(clock.t).toBeLessThanOrEqual(5_000);
  });

  it("holds at most `window` transactions in flight", async () => {
    const clock = fakeClock();
    const flow = new FlowControl({ concurrency: 2, clock });
    await flow.acquire(1);
    await flow.acquire(1);
    let third = false;
    const p = flow.acquire(1).then(() => (third = true));
    await Promise.resolve();
    await Promise.resolve();
    expect(third).toBe(false);
    flow.release();
    await p;
    expect(third).toBe(true);
  });

  it("keeps at most MAX_OPS_IN_FLIGHT operations in flight, one request always", async () => {
    const clock = fakeClock();
    const flow = new FlowControl({ concurrency: 1_000, clock });
    // 40 transactions of 100 and one of 96 fill it; another, even of one entity, waits for room.
    for (let i = 0; i < 40; i++) expect(flow.tryAcquire(100)).toBeDefined();
    expect(flow.tryAcquire(MAX_OPS_IN_FLIGHT - 4_000)).toBeDefined();
    expect(flow.tryAcquire(1)).toBeUndefined();
    expect(flow.room()).toBe(0);
    let next = false;
    const p = flow.acquire(100).then(() => (next = true));
    await Promise.resolve();
    expect(next).toBe(false);
    flow.release(0, undefined, 100);
    await p;
    expect(next).toBe(true);
    // Released down to nothing in flight: a request larger than the bound still goes.
    for (let i = 0; i < 40; i++) flow.release(0, undefined, 100);
    flow.release(0, undefined, MAX_OPS_IN_FLIGHT - 4_000);
    expect(flow.tryAcquire(MAX_OPS_IN_FLIGHT + 1)).toBeDefined();
  });

  it("auto: where the operations in flight, not the window, hold a request back, that many is the window", async () => {
    const clock = fakeClock();
    const flow = new FlowControl({ concurrency: "auto", clock });
    expect(flow.stats.window).toBe(16);
    // Requests of 300 operations: 13 fit in MAX_OPS_IN_FLIGHT, fewer than the window of 16.
    for (let i = 0; i < 13; i++) expect(flow.tryAcquire(300)).toBeDefined();
    expect(flow.tryAcquire(300)).toBeUndefined();
    const waiting = flow.acquire(300);
    await Promise.resolve();
    expect(flow.stats.window).toBe(13);
    flow.release(0, undefined, 300);
    await waiting;
    // Bytes are another matter: large entities pass, and the window still holds the small ones after them.
    const bytes = new FlowControl({ concurrency: "auto", clock, maxBytesInFlight: 4_000 });
    for (let i = 0; i < 4; i++) expect(bytes.tryAcquire(1, 1_000)).toBeDefined();
    const large = bytes.acquire(1, 1_000);
    await Promise.resolve();
    expect(bytes.stats.window).toBe(16);
    bytes.release(1_000, undefined, 1);
    await large;
    // A user's number is left as it is: it is their cap, not a measurement.
    const fixed = new FlowControl({ concurrency: 64, clock });
    for (let i = 0; i < 40; i++) expect(fixed.tryAcquire(100)).toBeDefined();
    const held = fixed.acquire(100);
    await Promise.resolve();
    expect(fixed.stats.window).toBe(64);
    fixed.release(0, undefined, 100);
    await held;
  });

  it("lowers the rate once per burst of 429s, pauses for the hint, and seeds the rate from the throughput", async () => {
    const clock = fakeClock();
    const flow = new FlowControl({ concurrency: 8, clock });
    // 2 000 entities accepted over one second.
    for (let i = 0; i < 20; i++) {
      clock.t += 50;
      flow.completed(100);
    }
    for (let i = 0; i < 5; i++) flow.throttled(100); // one burst: five transactions in flight refused
    expect(flow.stats.decreases).toBe(1);
    expect(flow.stats.throttled).toBe(5);
    expect(flow.stats.rate).toBeGreaterThan(2_000 * 0.8);
    expect(flow.stats.rate).toBeLessThan(2_000 * 0.95);
    expect(flow.stats.window).toBe(8); // the rate spaces the sends; the window stays
    const before = clock.t;
    await flow.acquire(100);
    expect(clock.t - before).toBeGreaterThanOrEqual(100); // the hint passed first
    flow.release();
  });

  it("cuts deeper when throttled again right after a decrease, leaving the window as it is", async () => {
    const clock = fakeClock();
    const flow = new FlowControl({ concurrency: 4, clock });
    for (let i = 0; i < 10; i++) {
      clock.t += 100;
      flow.completed(100);
    }
    flow.throttled(10);
    const first = flow.stats.rate;
    clock.t += 300;
    flow.throttled(10);
    expect(flow.stats.rate).toBeCloseTo(first * 0.85 ** 2, 5);
    clock.t += 300;
    flow.throttled(10);
    expect(flow.stats.rate).toBeCloseTo(first * 0.85 ** 4, 5);
    expect(flow.stats.window).toBe(4);
    expect(flow.stats.decreases).toBe(3);
  });

  it("climbs again while no 429 comes: quickly to just below the refused rate, then probing above it ever faster", async () => {
    const clock = fakeClock();
    const flow = new FlowControl({ concurrency: 4, clock });
    for (let i = 0; i < 10; i++) {
      clock.t += 100;
      flow.completed(100);
    }
    // Refused after 1 000 entities accepted over the last second: seeded at 1 000 × 0.85, climbing back
    // to 92 % of the 1 000.
    flow.throttled(10);
    const near = 1_000 * 0.92;
    expect(flow.stats.rate).toBeCloseTo(850, 0);
    const rateAfter = async (seconds: number) => {
      const until = clock.t + seconds * 1_000;
      while (clock.t < until) {
        await flow.acquire(50);
        flow.completed(50);
        flow.release();
      }
      return flow.stats.rate;
    };
    // Three quiet seconds: most of the way back, not yet past the rate that was refused.
    const back = await rateAfter(3);
    expect(back).toBeGreaterThan(850 + 0.6 * (near - 850)); // most of the gap closed
    expect(back).toBeLessThanOrEqual(near + 1e-9);
    // Probing: slow at first (a fixed budget is met again only after a while), then faster.
    const probe5 = await rateAfter(5);
    const probe10 = await rateAfter(5);
    expect(probe5).toBeGreaterThan(near);
    expect(probe5).toBeLessThan(near * 1.1);
    expect(probe10 - probe5).toBeGreaterThan((probe5 - near) * 1.5);
  });

  it("a retry waits for the pause and the rate like a new send, and for a slot in the window as it is now", async () => {
    const clock = fakeClock();
    const flow = new FlowControl({ concurrency: 1, clock });
    for (let i = 0; i < 10; i++) {
      clock.t += 100;
      flow.completed(100);
    }
    await flow.acquire(100);
    flow.throttled(250);
    const before = clock.t;
    await flow.retry(100);
    expect(clock.t - before).toBeGreaterThanOrEqual(250);
    flow.release();
  });

  it("requests refused together come back spaced by the rate, not all at once", async () => {
    const clock = fakeClock();
    const flow = new FlowControl({ concurrency: 8, clock });
    for (let i = 0; i < 10; i++) {
      clock.t += 100;
      flow.completed(100);
    }
    for (let i = 0; i < 8; i++) await flow.acquire(100);
    for (let i = 0; i < 8; i++) flow.throttled(100);
    for (let i = 0; i < 8; i++) flow.release(); // their slots go back (a retry queues for one anew)
    // Seeded from the 1 000 accepted over the last second: 850/s, one transaction of 100 per ~118 ms.
    expect(flow.stats.rate).toBeCloseTo(850, 5);
    expect(flow.tryAcquire(100)).toBeUndefined(); // the hint has not passed
    clock.t += 100;
    expect(flow.tryAcquire(100)).toBeDefined();
    expect(flow.tryAcquire(100)).toBeUndefined(); // room in the window, but not yet in the rate
    clock.t += 120;
    expect(flow.tryAcquire(100)).toBeDefined();
    flow.release();
    flow.release();
  });

  it("refused while accepted requests are still being written: sends nothing more until they land, then seeds from the last second", async () => {
    const clock = fakeClock();
    const flow = new FlowControl({ concurrency: 16, clock });
    for (let i = 0; i < 16; i++) await flow.acquire(100);
    // The bucket's credit paid for 5; the other 11 come back refused at once.
    for (let i = 0; i < 11; i++) flow.throttled(50);
    let resent = 0;
    const retries = Array.from({ length: 11 }, () => flow.retry(100).then(() => resent++));
    clock.t += 300;
    for (let i = 0; i < 20; i++) await Promise.resolve();
    expect(resent).toBe(0); // five still in flight
    expect(flow.stats.rate).toBe(Infinity);
    for (let i = 0; i < 5; i++) {
      flow.completed(100);
      flow.release();
    }
    // 500 accepted over the last second: 425/s after the decrease; the retries now go, paced.
    expect(flow.stats.rate).toBeCloseTo(425, 0);
    for (let i = 0; i < 20; i++) await Promise.resolve();
    expect(resent).toBeGreaterThan(0);
    for (let i = 0; i < 11; i++) {
      while (resent <= i) await Promise.resolve();
      flow.release();
    }
    await Promise.all(retries);
  });
});
