// What each command's runner gets from main(): where to print, the test hooks, --json and --progress-seconds.
import type { CliDeps } from "./deps.js";

export interface RunContext {
  out: (text: string) => void;
  err: (text: string) => void;
  deps: CliDeps;
  json: boolean;
  progressSeconds?: number;
}

/** Calls `tick` every --progress-seconds (5 by default; none at 0) until the returned stop is called. */
export function everyProgressInterval(ctx: RunContext, tick: () => void): () => void {
  const intervalMs = ctx.deps.progressIntervalMs ?? (ctx.progressSeconds ?? 5) * 1000;
  const timer = intervalMs > 0 ? setInterval(tick, intervalMs) : undefined;
  return () => {
    if (timer) clearInterval(timer);
  };
}
