// A bound on concurrent async work (point reads): an adaptive window of tasks at once (window.ts: `auto`
// grows it while the round trip stays flat, a number caps it), and the first failure is kept and
// rethrown to the caller.
import { AdaptiveWindow, type ConcurrencySetting } from "./window.js";

export class TaskPool {
  private running = 0;
  private readonly waiters: (() => void)[] = [];
  private readonly idle: (() => void)[] = [];
  private failure: { error: unknown } | undefined;
  private readonly window: AdaptiveWindow;

  constructor(limit: ConcurrencySetting) {
    this.window = new AdaptiveWindow(limit);
  }

  /** Start `task` once there is room; rethrows an earlier task's failure. */
  async run(task: () => Promise<void>): Promise<void> {
    while (this.running >= this.window.size) {
      this.window.markLimited();
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    this.throwIfFailed();
    this.running++;
    const start = performance.now();
    void task()
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => {
        this.running--;
        const now = performance.now();
        this.window.completed(now - start, now);
        // A grown window has room for more than the one that left.
        const room = Math.max(1, this.window.size - this.running);
        for (const w of this.waiters.splice(0, room)) w();
        if (this.running === 0) for (const w of this.idle.splice(0)) w();
      });
  }

  /**
   * Start `task` once there is room, and hand back its outcome (wrapped, so waiting for room is not
   * waiting for the task): for callers that need each result, in their own order.
   */
  async start<T>(task: () => Promise<T>): Promise<{ outcome: Promise<T> }> {
    let outcome!: Promise<T>;
    await this.run(() => {
      outcome = task();
      return outcome.then(
        () => undefined,
        () => undefined, // the caller meets the failure through `outcome`
      );
    });
    return { outcome };
  }

  /** Wait for every started task; rethrows the first failure. */
  async drain(): Promise<void> {
    while (this.running > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }
}

/** Runs async steps one after another in call order (TableWriter.add must not interleave with itself). */
export class SerialQueue {
  private tail: Promise<void> = Promise.resolve();

  push(step: () => Promise<void>): Promise<void> {
    const p = this.tail.then(step);
    this.tail = p.catch(() => undefined);
    return p;
  }
}
