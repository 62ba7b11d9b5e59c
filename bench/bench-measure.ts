// One measurement of the benchmark (bench.ts): our sync, the sink's ceiling or the per-entity copy, in a
// child process of its own writing into a fresh destination server, and what it is checked against.
import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureTable } from "../src/engine/wire/tables.js";
import type { AzuriteServer } from "../test/support/azurite.js";
import { startServer, type Server } from "./azurite-server.js";
import {
  compareTables,
  countEntities,
  httpFor,
  processCpuSeconds,
  runChild,
  type Measured,
} from "./common.js";
import type { Layout } from "./data.js";
import { fmt, mb, secs } from "./format.js";
import type { cpuPlan, Options } from "./bench-options.js";
import type { ReplaySource } from "./replay-source.js";

const here = dirname(fileURLToPath(import.meta.url));

/**
 * sync: our full sync reading the replayed source (Azurite's recorded pages at Azurite's pace, served off
 * the tool's CPU budget); sync-shared-cpu: the same sync reading the Azurite server itself, which shares
 * the tool's CPU.
 */
export type Kind = "sync" | "sync-shared-cpu" | "ceiling" | "ceiling-busy" | "per-entity";

export interface Row extends Measured {
  kind: Kind;
  round: number;
  rate: number;
  sourceCpuS?: number;
  destinationCpuS?: number;
  verified: string;
}

/** What every measurement shares: the settings, the source and its recording. */
export interface Bench {
  opts: Options;
  layout: Layout;
  /** Bytes of JSON of an average entity. */
  avgBytes: number;
  plan: ReturnType<typeof cpuPlan>;
  src: Server;
  /** The servers running now (the source and a measurement's destination): stopped on Ctrl+C. */
  servers: AzuriteServer[];
  sourceTable: string;
  partitionKeys: string[];
  replaying: ReplaySource;
  replayConnectionString: string;
}

/** A process that keeps one CPU busy at the lowest priority (nice 19) until killed. */
function startBurner(cpu: number | undefined): ChildProcess | undefined {
  if (cpu === undefined) return undefined;
  return spawn("taskset", ["-c", String(cpu), "nice", "-n", "19", process.execPath, "-e", "for (;;);"], {
    stdio: "ignore",
  });
}

/** Share of the measurement's wall time the destination server spent on a CPU. */
export const busy = (r: Row) =>
  r.destinationCpuS === undefined ? "–" : `${Math.round((r.destinationCpuS * 100_000) / r.elapsedMs)}%`;

/** One measurement of `kind` into a fresh destination server, checked afterwards. */
export async function measure(bench: Bench, kind: Kind, round: number): Promise<Row> {
  const { opts, layout, avgBytes, plan, src, servers, sourceTable, partitionKeys, replaying } = bench;
  const { replayConnectionString } = bench;
  const dst = await startServer(plan.destination);
  servers.push(dst.server);
  try {
    const table = `bench${kind.replace(/-/g, "")}${round}`;
    await ensureTable(httpFor(dst.server.connectionString), table);
    const cpu0 = [src.pid, dst.pid].map((p) => (p ? processCpuSeconds(p) : undefined));
    let m: Measured;
    if (kind === "sync" || kind === "sync-shared-cpu") {
      m = await runChild(
        join(here, "run-sync.js"),
        {
          source: kind === "sync" ? replayConnectionString : src.server.connectionString,
          destination: dst.server.connectionString,
          sourceTable,
          destinationTable: table,
          concurrency: opts.concurrency,
        },
        [],
        plan.tool,
      );
    } else if (kind === "ceiling" || kind === "ceiling-busy") {
      // Every transaction body is held in memory before the clock starts: give the heap room.
      const heapMb = Math.max(4096, Math.ceil((opts.entities * avgBytes * 4) / 1e6));
      // ceiling-busy: the tool's CPU kept busy at the lowest priority, as the source server and the
      // tool keep it busy during a sync (the ceiling child itself still gets that CPU first).
      const burner = kind === "ceiling-busy" ? startBurner(plan.tool) : undefined;
      try {
        m = await runChild(
          join(here, "run-baseline.js"),
          {
            mode: "ceiling",
            destination: dst.server.connectionString,
            table,
            ...layout,
            concurrency: opts.concurrency,
          },
          [`--max-old-space-size=${heapMb}`],
          plan.tool,
        );
      } finally {
        burner?.kill();
      }
    } else {
      m = await runChild(
        join(here, "run-baseline.js"),
        {
          mode: "per-entity",
          source: replayConnectionString,
          sourceTable,
          destination: dst.server.connectionString,
          table,
          concurrency: opts.perEntityConcurrency,
          limit: opts.perEntityLimit,
        },
        [],
        plan.tool,
      );
    }
    const cpu1 = [src.pid, dst.pid].map((p) => (p ? processCpuSeconds(p) : undefined));
    const used = (i: number) => {
      const [a, b] = [cpu0[i], cpu1[i]];
      return a !== undefined && b !== undefined ? b - a : undefined;
    };
    const expected = kind === "per-entity" ? opts.perEntityLimit : opts.entities;
    let verified: string;
    if ((kind === "sync" || kind === "sync-shared-cpu") && opts.verify === "full") {
      const cmp = await compareTables(
        { connectionString: src.server.connectionString, table: sourceTable },
        { connectionString: dst.server.connectionString, table },
        partitionKeys,
      );
      verified =
        cmp.mismatches === 0 && cmp.destination === opts.entities
          ? `all ${fmt(cmp.destination)} entities identical`
          : `MISMATCH: ${cmp.mismatches} (source ${cmp.source}, destination ${cmp.destination}; ${cmp.firstMismatch ?? ""})`;
    } else {
      const count = await countEntities(dst.server.connectionString, table, partitionKeys);
      verified = count === expected ? `count ${fmt(count)} ok` : `MISMATCH: ${count} of ${expected}`;
    }
    if (m.failed > 0 || m.error) verified += `; ${m.failed} failed: ${m.error ?? ""}`;
    if (replaying.unrecorded > 0) {
      verified += `; MISMATCH: ${replaying.unrecorded} source requests had no recording`;
      replaying.unrecorded = 0;
    }
    const row: Row = {
      ...m,
      kind,
      round,
      rate: (m.entities * 1000) / m.elapsedMs,
      sourceCpuS: kind === "ceiling" || kind === "ceiling-busy" ? undefined : used(0),
      destinationCpuS: used(1),
      verified,
    };
    console.log(
      `${kind.padEnd(10)} #${round + 1}: ${fmt(m.entities)} in ${secs(m.elapsedMs)} s = ${fmt(row.rate)} entities/s, ` +
        `cpu ${secs(m.cpuMs)} s, peak RSS ${mb(m.maxRssKb)} MB` +
        (row.sourceCpuS !== undefined ? `, source Azurite cpu ${row.sourceCpuS.toFixed(1)} s` : "") +
        (row.destinationCpuS !== undefined
          ? `, destination Azurite cpu ${row.destinationCpuS.toFixed(1)} s (busy ${busy(row)})`
          : "") +
        ` — ${verified}`,
    );
    return row;
  } finally {
    await dst.server.stop();
    servers.splice(servers.indexOf(dst.server), 1);
  }
}
