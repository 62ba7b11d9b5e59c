// The flow control's logic with a fake clock: the hard cap, the window, and AIMD on 429s.
import { describe, expect, it } from "vitest";
import { FlowControl, type Clock } from "../../src/engine/rate.js";

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
    expect(flow.stats.window).toBe(4);
    const before = clock.t;
    await flow.acquire(100);
    expect(clock.t - before).toBeGreaterThanOrEqual(100); // the hint passed first
    flow.release();
  });

  it("cuts deeper when throttled again right after a decrease, never below 1 in flight", async () => {
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
    expect(flow.stats.window).toBe(1);
    expect(flow.stats.decreases).toBe(3);
  });

  it("climbs again while no 429 comes: additive rate increase and one more in flight per quiet second", async () => {
    const clock = fakeClock();
    const flow = new FlowControl({ concurrency: 4, clock, increase: 0.05 });
    for (let i = 0; i < 10; i++) {
      clock.t += 100;
      flow.completed(100);
    }
    flow.throttled(10);
    const low = flow.stats.rate;
    const window = flow.stats.window;
    // Ten quiet seconds of sending at the allowed rate.
    const until = clock.t + 10_000;
    while (clock.t < until) {
      await flow.acquire(50);
      flow.completed(50);
      flow.release();
    }
    expect(flow.stats.rate).toBeGreaterThan(low * 1.3);
    expect(flow.stats.rate).toBeLessThan(low * 1.6);
    expect(flow.stats.window).toBe(4);
    expect(window).toBe(2);
  });

  it("a retry waits for the pause and the rate like a new send, keeping its slot", async () => {
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
});
