// The adaptive window while the process's own CPU is what queues the answers (a copy's first seconds, the
// JIT warming up), over the modelled destination (modelled-link.ts), with the window's CPU probe reading it.
import { describe, expect, it } from "vitest";
import { AUTO_MAX, AUTO_START, AdaptiveWindow } from "../../../src/engine/copy/window.js";
import { idleCpu, Link, sizes } from "./modelled-link.js";

/** A window whose CPU probe reads `used` off the link it runs on. */
function onOwnCpu(used: (link: Link) => number): { w: AdaptiveWindow; link: Link } {
  const probe: { link?: Link } = {};
  const w = new AdaptiveWindow(
    "auto",
    () => 0,
    () => used(probe.link!),
  );
  probe.link = new Link(w);
  return { w, link: probe.link };
}

describe("AdaptiveWindow (auto) while its own CPU is the limit", () => {
  // Our process at 0 ms: what queues the answers is our own CPU, whose speed climbs ten-fold in the
  // first seconds of a run (the JIT) whatever the window: 12,000 requests/s once warm.
  const warmingUp = { rttMs: 0.2, capacity: 12_000, cpuBound: { warmUpMs: 1_000 } };

  it("holds slow start while the CPU is busy and answers queue: the warm-up's gain is not the window's", () => {
    const { link } = onOwnCpu((l) => l.cpuMs);
    const { changes } = link.run(warmingUp, 4_000);
    // 12,000/s at 0.2 ms needs 3 in flight: more are only queued CPU work (each a connection). It held at
    // 32 through the warm-up and doubled twice at its end (answers no longer twice the quickest, the cold
    // first one).
    expect(Math.max(...sizes(changes))).toBeLessThanOrEqual(8 * AUTO_START);
    // Judged without the CPU (as before), every doubling paid with the warm-up and the window ran to the
    // cap, 1,024 connections (on the bench a third more CPU per request: 80–87 µs against 66–70), until
    // tries of smaller windows brought it back.
    const blind = new AdaptiveWindow("auto", () => 0, idleCpu);
    expect(Math.max(...sizes(new Link(blind).run(warmingUp, 4_000).changes))).toBe(AUTO_MAX);
  });

  it("over 20 ms, grows as the warm-up gives the CPU room, to what the link needs", () => {
    // The hold must not keep the window small once the warm-up is over: over a link, the CPU soon has room
    // at a small window, answers stop queueing, and slow start goes on to what the link needs.
    const overLink = { ...warmingUp, rttMs: 20 };
    const { w, link } = onOwnCpu((l) => l.cpuMs);
    link.run(overLink, 3_000);
    // 12,000/s over 20 ms needs 240 in flight.
    expect(w.size).toBeGreaterThanOrEqual(240);
    expect(link.run(overLink, 2_000).rate).toBeGreaterThan(0.95 * 12_000);
  });

  it("does not hold over a long link where answers come as fast as ever, busy or not", () => {
    // 100 ms, the CPU busy warming up but not what queues the answers (the link is): the CPU share is
    // high, yet answers take the round trip, so slow start goes on quadrupling.
    const { link } = onOwnCpu((l) => l.now);
    const { changes } = link.run({ rttMs: 100, capacity: 20_000 }, 3_000);
    expect(sizes(changes)).toEqual([64, 256, AUTO_MAX]);
  });
});
