// A small bound on concurrent async work (point reads): at most `limit` tasks run at once, and the
// first failure is kept and rethrown to the caller.
export class TaskPool {
  private readonly running = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(private readonly limit: number) {}

  /** Start `task` once there is room; rethrows an earlier task's failure. */
  async run(task: () => Promise<void>): Promise<void> {
    while (this.running.size >= this.limit) await Promise.race(this.running);
    this.throwIfFailed();
    const p: Promise<void> = task()
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => this.running.delete(p));
    this.running.add(p);
  }

  /** Wait for every started task; rethrows the first failure. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.race(this.running);
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
