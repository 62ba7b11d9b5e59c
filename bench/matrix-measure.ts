// One measurement of a bench matrix cell: our CLI copying the free source to the free sink (run-cli.ts), or
// one of the yardsticks the ceiling is made of (run-ceiling.ts), each in a child process of its own.
import { readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { AZURITE_KEY } from "../test/support/azurite.js";
import { processCpuSeconds } from "./common.js";
import { ACCOUNT } from "./free-wire.js";
import { fmt } from "./format.js";
import type { Harness, HarnessStats } from "./harness.js";
import { profileFlags, usageNote, wireNote, type Usage } from "./cell-notes.js";
import type { Options } from "./matrix-options.js";
import { peakRssKb, runNode } from "./node-process.js";
import type { CeilingInput, CeilingOutput } from "./run-ceiling.js";

export const SOURCE_TABLE = "benchsource";
export const DESTINATION_TABLE = "benchdest";

export interface Cell {
  perPartition: number;
  rttMs: number;
  unsorted: boolean;
}

export interface Measurement {
  cell: Cell;
  kind: "ours" | "scan" | "writes";
  round: number;
  /** Entities done (for ours, acknowledged by the sink: distinct keys). */
  entities: number;
  elapsedMs: number;
  rate: number;
  cpuMs: number;
  maxRssKb: number;
  /** Share of the wall time the server process spent on a CPU. */
  harnessBusy: number;
  requests: number;
  inflight?: number;
  timedOut?: boolean;
  verified: string;
  ok: boolean;
  /** The machine's 1-minute load average right after the measurement. */
  load?: number;
  /** What crossed the links per entity, and the servers' CPU per entity (console only). */
  wire?: string;
}

const here = dirname(fileURLToPath(import.meta.url));

function connectionString(endpoint: string): string {
  return `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${AZURITE_KEY};TableEndpoint=${endpoint};`;
}

async function harnessCpu(harness: Harness): Promise<{ cpuMs: number; stats: HarnessStats }> {
  const stats = await harness.stats();
  return { cpuMs: stats.cpuMs, stats };
}

export async function measureYardstick(
  opts: Options,
  harness: Harness,
  cell: Cell,
  round: number,
  kind: "scan" | "writes",
  cpu: number | undefined,
): Promise<Measurement> {
  await harness.reset();
  const before = await harnessCpu(harness);
  const input: CeilingInput = {
    mode: kind,
    endpoint: kind === "scan" ? harness.sourceUrl : harness.sinkUrl,
    table: kind === "scan" ? SOURCE_TABLE : DESTINATION_TABLE,
    entities: opts.entities,
    perPartition: cell.perPartition,
    rttMs: cell.rttMs,
  };
  // Every write is held in memory before the clock starts: give the heap room.
  const run = await runNode(
    [
      `--max-old-space-size=${Math.max(2048, Math.ceil(opts.entities / 100))}`,
      join(here, "run-ceiling.js"),
      JSON.stringify(input),
    ],
    { cpu },
  );
  const after = await harnessCpu(harness);
  let out: CeilingOutput;
  try {
    out = JSON.parse(run.stdout.trim().split("\n").pop() ?? "") as CeilingOutput;
  } catch {
    throw new Error(
      `run-ceiling (${kind}) exited with ${run.code} without a result: ${run.stderr.slice(-2000)}`,
    );
  }
  const sink = after.stats.sink;
  let ok: boolean;
  let verified: string;
  if (kind === "scan") {
    ok = out.entities === opts.entities && after.stats.source.unexpected === 0;
    verified = ok
      ? `read all ${fmt(out.entities)} in ${out.requests} pages`
      : `MISMATCH: read ${out.entities} of ${opts.entities}`;
  } else {
    ok = out.failed === 0 && sink.distinct === opts.entities && sink.unexpected === 0;
    verified = ok
      ? `sink got all ${fmt(sink.distinct)} in ${fmt(out.requests)} requests`
      : `MISMATCH: sink got ${sink.distinct} of ${opts.entities}, ${out.failed} failed${out.error ? `: ${out.error}` : ""}`;
  }
  return {
    cell,
    kind,
    round,
    entities: out.entities,
    elapsedMs: out.elapsedMs,
    rate: (out.entities * 1000) / out.elapsedMs,
    cpuMs: out.cpuMs,
    maxRssKb: out.maxRssKb,
    harnessBusy: (after.cpuMs - before.cpuMs) / out.elapsedMs,
    wire: wireNote(after.stats, after.cpuMs - before.cpuMs, out.entities),
    requests: out.requests,
    inflight: out.inflight,
    verified,
    ok,
  };
}

export async function measureOurs(
  opts: Options,
  harness: Harness,
  cell: Cell,
  round: number,
  cpu: number | undefined,
  work: string,
): Promise<Measurement> {
  await harness.reset();
  const before = await harnessCpu(harness);
  const usageFile = join(work, `usage-${Date.now()}.json`);
  rmSync(usageFile, { force: true });
  const args = [
    ...profileFlags("ours"),
    // BENCH_OURS_NODE_ARGS: node's own flags for our process (e.g. `--max-semi-space-size=32`).
    ...(process.env.BENCH_OURS_NODE_ARGS?.split(" ").filter(Boolean) ?? []),
    join(here, "run-cli.js"),
    "full-sync",
    "--tables",
    `${SOURCE_TABLE}:${DESTINATION_TABLE}`,
    "--source-kind",
    cell.unsorted ? "cosmos" : "table",
    "--destination-kind",
    "table",
    // More of our CLI's options (e.g. `--concurrency 64`), to compare a setting with the defaults.
    ...(process.env.BENCH_OURS_ARGS?.split(" ").filter(Boolean) ?? []),
  ];
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    SOURCE_CONNECTION_STRING: connectionString(harness.sourceUrl),
    DESTINATION_CONNECTION_STRING: connectionString(harness.sinkUrl),
    BENCH_USAGE_FILE: usageFile,
    BENCH_CLI: opts.cli,
    // A CPU profile of our CLI's run, written there (run-cli.ts): to see where its time goes.
    ...(process.env.BENCH_CPU_PROFILE ? { BENCH_CPU_PROFILE: process.env.BENCH_CPU_PROFILE } : {}),
  };
  const started = performance.now();
  let atTimeout: { elapsedMs: number; entities: number; cpuMs: number; maxRssKb: number } | undefined;
  const run = await runNode(args, {
    cpu,
    env,
    cwd: work,
    maxMs: opts.maxSeconds * 1000,
    onTimeout: async (pid) => {
      const elapsedMs = performance.now() - started;
      const cpuS = processCpuSeconds(pid);
      const stats = await harness.stats();
      atTimeout = {
        elapsedMs,
        entities: stats.sink.distinct,
        cpuMs: (cpuS ?? 0) * 1000,
        maxRssKb: peakRssKb(pid),
      };
    },
  });
  const after = await harnessCpu(harness);
  const sink = after.stats.sink;
  const source = after.stats.source;
  let usage: Usage | undefined;
  try {
    usage = JSON.parse(readFileSync(usageFile, "utf8")) as Usage;
  } catch {
    usage = undefined;
  }
  const problems: string[] = [];
  if (sink.unexpected > 0) problems.push(`sink answered 501 to ${sink.unexpectedSeen.join("; ")}`);
  if (source.unexpected > 0) problems.push(`source answered 501 to ${source.unexpectedSeen.join("; ")}`);
  if (atTimeout) {
    const t = atTimeout;
    return {
      cell,
      kind: "ours",
      round,
      entities: t.entities,
      elapsedMs: t.elapsedMs,
      rate: (t.entities * 1000) / t.elapsedMs,
      cpuMs: t.cpuMs,
      maxRssKb: t.maxRssKb,
      harnessBusy: (after.cpuMs - before.cpuMs) / (performance.now() - started),
      requests: sink.batches + sink.singleWrites,
      timedOut: true,
      verified: `timed out after ${opts.maxSeconds} s: ${fmt(t.entities)} of ${fmt(opts.entities)} written${problems.length ? `; ${problems.join("; ")}` : ""}`,
      ok: false,
    };
  }
  const elapsedMs = usage?.elapsedMs ?? performance.now() - started;
  if (run.code !== 0)
    problems.push(
      `exit ${run.code ?? run.signal}: ${(run.stderr || run.stdout).trim().split("\n").slice(-3).join(" | ")}`,
    );
  if (sink.distinct !== opts.entities)
    problems.push(`sink got ${fmt(sink.distinct)} of ${fmt(opts.entities)}`);
  if (!usage) problems.push("no resource usage reported");
  const ok = problems.length === 0;
  return {
    cell,
    kind: "ours",
    round,
    entities: sink.distinct,
    elapsedMs,
    rate: (sink.distinct * 1000) / elapsedMs,
    cpuMs: usage?.cpuMs ?? 0,
    maxRssKb: usage?.maxRssKb ?? 0,
    harnessBusy: (after.cpuMs - before.cpuMs) / elapsedMs,
    wire: wireNote(after.stats, after.cpuMs - before.cpuMs, sink.distinct) + usageNote(usage, sink.distinct),
    requests: sink.batches + sink.singleWrites,
    verified: ok
      ? `sink got all ${fmt(sink.distinct)} (${fmt(sink.batches)} transactions, ${fmt(sink.singleWrites)} single writes${sink.acknowledged > sink.distinct ? `, ${fmt(sink.acknowledged - sink.distinct)} written twice` : ""})`
      : `MISMATCH: ${problems.join("; ")}`,
    ok,
  };
}
