// The bounds of the in-flight window (window.ts): where `auto` starts and how far it goes, the memory at
// which it stops growing and steps back, the largest number a user may set, and the CPU clock it reads.

/** `concurrency`: a number (the cap, and the start) or `auto`. */
export type ConcurrencySetting = number | "auto";

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
export const MEMORY_HOLD = 200 * 2 ** 20;
/**
 * Resident memory above which `auto` steps back by an eighth each round: every request in flight holds a
 * connection, its entity and its body, and a copy must stay within 256 MB (an unsorted source's copy once
 * reached 265 MB at ~600 in flight).
 */
export const MEMORY_SHRINK = 232 * 2 ** 20;
/** The largest number `concurrency` takes (a user who sets it accepts the memory). */
export const MAX_CONCURRENCY = 2_048;

/** CPU the process has used, ms (user and system, every thread). */
export function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
