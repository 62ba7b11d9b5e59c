// What the matrix prints under each measurement, to see where a cell's CPU goes: per entity, the servers'
// CPU and what crossed each link (harness.ts), and our process's time in the kernel, in the garbage
// collector and by thread, and how long its event loop was held (run-cli.ts writes these on exit). And
// BENCH_PROF=<dir>: V8 CPU profiles of our CLI and of the servers' process, to read with any profile viewer.
import type { HarnessStats } from "./harness.js";

/** Per entity: the servers' CPU, and the chunks and bytes each link carried up and down. */
export function wireNote(stats: HarnessStats, serversCpuMs: number, entities: number): string {
  if (entities <= 0) return "";
  const per = (n: number) => (n / entities).toFixed(n / entities < 10 ? 2 : 0);
  const link = (name: string, l: HarnessStats["sinkLink"]) =>
    l.chunksUp + l.chunksDown === 0
      ? ""
      : ` ${name} ${per(l.chunksUp)}/${per(l.chunksDown)} chunks ${per(l.bytesUp)}/${per(l.bytesDown)} B up/down`;
  return `servers ${Math.round((serversCpuMs * 1000) / entities)} µs/entity;${link("source", stats.sourceLink)}${link("sink", stats.sinkLink)}; ${stats.sinkLink.connections} sink connections`;
}

/**
 * With BENCH_PROF=<dir>, our CLI and the servers' process write V8 CPU profiles there (NODE_OPTIONS may not
 * carry --cpu-prof): where the CPU of a cell goes, on each side. The servers' profile spans the whole run.
 */
export function profileFlags(who: "ours" | "servers"): string[] {
  const dir = process.env.BENCH_PROF;
  return dir
    ? ["--cpu-prof", `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${who}-${Date.now()}.cpuprofile`]
    : [];
}

export interface Usage {
  exitCode: number;
  elapsedMs: number;
  cpuMs: number;
  systemMs?: number;
  maxRssKb: number;
  gcMs?: { minor: number; major: number; other: number };
  loopDelayMs?: { p50: number; p99: number; max: number };
  threadsMs?: Record<string, number>;
}

/** Our CPU per entity in the kernel and in the garbage collector (console only). */
export function usageNote(usage: Usage | undefined, entities: number): string {
  if (!usage || entities <= 0) return "";
  const us = (ms: number) => ((ms * 1000) / entities).toFixed(1);
  const gc = usage.gcMs;
  return (
    `; ours: system ${usage.systemMs === undefined ? "?" : us(usage.systemMs)} µs/entity` +
    (gc ? `, GC ${us(gc.minor)} minor + ${us(gc.major)} major + ${us(gc.other)} other µs/entity` : "") +
    (usage.loopDelayMs
      ? `, event loop delay p50 ${usage.loopDelayMs.p50.toFixed(1)} / p99 ${usage.loopDelayMs.p99.toFixed(1)} / max ${usage.loopDelayMs.max.toFixed(0)} ms`
      : "") +
    (usage.threadsMs
      ? `; threads µs/entity: ${Object.entries(usage.threadsMs)
          .filter(([, ms]) => ms > 0)
          .map(([name, ms]) => `${name} ${us(ms)}`)
          .join(", ")}`
      : "")
  );
}
