// The copy's memory budget (issue 11: at most 256 MB of peak RSS at 1,000,000 entities).
//
// V8 lets its heap grow with the allocation rate: a long copy's live objects stay near 60 MB, but the heap
// kept for them crept from 80 to 150 MB over a million one-entity requests, taking the process to 267 MB.
// The action runs as `node dist/index.js` (no --max-old-space-size to pass), so the run bounds it itself:
// while resident memory is above COLLECT_ABOVE, a full collection every few seconds hands the slack back.
// Measured over a 20 ms link: 200,000 one-entity requests peaked at 208–211 MB against 226–232 MB without
// it, at no measurable cost in speed; a million at 245–247 MB (267 MB before). With the resident size
// looked at four times a second and an urgent collection above URGENT_ABOVE: a million at 232 MB (one
// entity per partition) and 238 MB (an unsorted source, 277 MB before).
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** Resident memory above which the heap is collected: the window stops growing at 200 MiB. */
export const COLLECT_ABOVE = 192 * 2 ** 20;
/**
 * Above this, collect at once rather than every EVERY_MS: an unsorted source's copy (entities held in
 * partial transactions, promoted and dropped, besides hundreds of requests in flight) climbs 20–40 MB a
 * second, and reached 246–267 MB with collections every 3 s only.
 */
export const URGENT_ABOVE = 224 * 2 ** 20;
const EVERY_MS = 3_000;
/**
 * How often resident memory is looked at (a few µs each time). Four times a second catches that climb
 * near URGENT_ABOVE: 300,000 entities from an unsorted source peaked at 229–232 MB, against 238–248 MB
 * looking once a second (collecting every second instead cost a tenth of the speed).
 */
const CHECK_MS = 250;

/**
 * How long a reading of resident memory is used again. Reading it is a system call and a parse of
 * /proc/self/stat, and on the bench's machine it took 90–450 µs: an unsorted source's hold looking every
 * 256 entities spent 2.5 % of the copy's CPU on it. Memory grows 20–40 MB a second at most here, so a
 * reading 100 ms old is within a few MB.
 */
const RESIDENT_FRESH_MS = 100;
let residentAt = -Infinity;
let resident = 0;

/** The process's resident memory in bytes, read at most RESIDENT_FRESH_MS ago. */
export function residentMemory(): number {
  const now = performance.now();
  if (now - residentAt >= RESIDENT_FRESH_MS) {
    resident = process.memoryUsage.rss();
    residentAt = now;
  }
  return resident;
}

let collector: (() => void) | null | undefined;

/** V8's full collection, or null where it cannot be had. */
export function fullCollection(): (() => void) | null {
  if (collector === undefined) {
    const exposed: unknown = (globalThis as { gc?: unknown }).gc;
    if (typeof exposed === "function") collector = exposed as () => void;
    else {
      try {
        // The flag applies to contexts made after it: one made for the purpose hands over `gc`.
        setFlagsFromString("--expose-gc");
        const gc: unknown = runInNewContext("gc");
        collector = typeof gc === "function" ? (gc as () => void) : null;
      } catch {
        collector = null;
      }
    }
  }
  return collector;
}

export interface MemoryBudgetOptions {
  /** Resident memory in bytes (default: residentMemory). */
  rss?: () => number;
  /** A full collection (default: V8's, see fullCollection). */
  collect?: (() => void) | null;
  everyMs?: number;
  above?: number;
  urgentAbove?: number;
  /** How often resident memory is looked at (default CHECK_MS). */
  checkMs?: number;
  /** The clock, ms (default performance.now). */
  now?: () => number;
}

export class MemoryBudget {
  private timer?: NodeJS.Timeout;
  /** Full collections run so far. */
  collections = 0;

  constructor(private readonly opts: MemoryBudgetOptions = {}) {}

  start(): void {
    const collect = this.opts.collect === undefined ? fullCollection() : this.opts.collect;
    if (!collect || this.timer) return;
    const rss = this.opts.rss ?? residentMemory;
    const above = this.opts.above ?? COLLECT_ABOVE;
    const urgent = this.opts.urgentAbove ?? URGENT_ABOVE;
    const every = this.opts.everyMs ?? EVERY_MS;
    const now = this.opts.now ?? (() => performance.now());
    let last = -Infinity;
    this.timer = setInterval(() => {
      const resident = rss();
      if (resident <= above) return;
      if (resident <= urgent && now() - last < every) return;
      collect();
      last = now();
      this.collections++;
    }, this.opts.checkMs ?? CHECK_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
