// The scale bench's first part: the speed-up of n CLI processes (`full-sync --shard i/n`) started at once
// against one source, each n into a fresh destination server, checked entity by entity.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cpuDelta, cpuOf, startServer, type Server } from "./azurite-server.js";
import { compareTables } from "./common.js";
import { cpuText, fmt, secs } from "./format.js";
import { failedOf, readOf, startCli } from "./scale-cli.js";
import { SOURCE_TABLE, type Options } from "./scale-options.js";
export interface ShardRow {
  n: number;
  wallMs: number;
  rate: number;
  speedUp?: number;
  reads: (number | undefined)[];
  readSum: number;
  /** Per shard: ms from its start until it printed its range (sampling the keys + agreeing on the plan). */
  planMs: (number | undefined)[];
  /** Per shard: ms from its "copying to" line to its exit (the copy itself). */
  copyMs: (number | undefined)[];
  /** ms from the first shard's "copying to" line to the last exit: the copy phase of all shards. */
  copyPhaseMs?: number;
  ranges: string[];
  sourceCpuS?: number;
  destinationCpuS?: number;
  cliCpuS: (number | undefined)[];
  exitCodes: (number | null)[];
  verified: string;
  ok: boolean;
}

export async function measureShards(opts: Options, src: Server, partitions: string[]): Promise<ShardRow[]> {
  const rows: ShardRow[] = [];
  for (const n of opts.shards) {
    const dst = await startServer();
    const dir = mkdtempSync(join(tmpdir(), "scale-shard-"));
    try {
      const table = `scaleshard${n}`;
      const cpu0 = [cpuOf(src), cpuOf(dst)];
      const t0 = performance.now();
      const runs = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          startCli(
            [
              "full-sync",
              "--tables",
              `${SOURCE_TABLE}:${table}`,
              "--state-file",
              join(dir, "state.json"),
              ...(n > 1 ? ["--shard", `${i + 1}/${n}`] : []),
              "--concurrency",
              String(opts.concurrency),
              "--progress-seconds",
              "0",
              "--json",
            ],
            { source: src.server.connectionString, destination: dst.server.connectionString },
            dir,
            t0,
          ),
        ),
      );
      const wallMs = Math.max(...runs.map((r) => r.endedAt)) - Math.min(...runs.map((r) => r.startedAt));
      const cpu1 = [cpuOf(src), cpuOf(dst)];
      const reads = runs.map(readOf);
      const readSum = reads.reduce<number>((s, r) => s + (r ?? 0), 0);
      const planLines = runs.map((r) => r.lines.find((l) => /reads PartitionKey/.test(l.text)));
      const planMs = runs.map((r, i) => {
        const l = planLines[i];
        return l ? l.at - r.startedAt : undefined;
      });
      const copyAt = runs.map((r) => r.lines.find((l) => /\] copying to /.test(l.text))?.at);
      const copyMs = runs.map((r, i) => {
        const at = copyAt[i];
        return at === undefined ? undefined : r.endedAt - at;
      });
      const copyStarts = copyAt.filter((x): x is number => x !== undefined);
      const copyPhaseMs = copyStarts.length
        ? Math.max(...runs.map((r) => r.endedAt)) - Math.min(...copyStarts)
        : undefined;
      const ranges = planLines.map((l) => {
        const m = l ? /reads PartitionKey (.*?) \(plan/.exec(l.text) : null;
        return m ? m[1] : n === 1 ? "all" : "?";
      });
      const cmp = await compareTables(
        { connectionString: src.server.connectionString, table: SOURCE_TABLE },
        { connectionString: dst.server.connectionString, table },
        partitions,
      );
      const failures = runs.reduce((s, r) => s + (failedOf(r) ?? 1), 0);
      const exact = cmp.mismatches === 0 && cmp.destination === opts.entities;
      let verified =
        (readSum === opts.entities
          ? `Σ read = ${fmt(readSum)} = N`
          : `Σ read = ${fmt(readSum)} ≠ N = ${fmt(opts.entities)}`) +
        "; " +
        (exact
          ? `destination identical (${fmt(cmp.destination)})`
          : `MISMATCH: ${cmp.mismatches} (source ${cmp.source}, destination ${cmp.destination}; ${cmp.firstMismatch ?? ""})`);
      if (failures > 0 || runs.some((r) => r.code !== 0)) {
        verified += `; exit codes ${runs.map((r) => r.code).join(",")}, failures ${failures}`;
        for (const r of runs) {
          if (r.code !== 0) console.log(r.lines.map((l) => `    ${l.text}`).join("\n"));
        }
      }
      const row: ShardRow = {
        n,
        wallMs,
        rate: (opts.entities * 1000) / wallMs,
        reads,
        readSum,
        planMs,
        copyMs,
        copyPhaseMs,
        ranges,
        sourceCpuS: cpuDelta(cpu0[0], cpu1[0]),
        destinationCpuS: cpuDelta(cpu0[1], cpu1[1]),
        cliCpuS: runs.map((r) => r.cpuS),
        exitCodes: runs.map((r) => r.code),
        verified,
        ok: exact && readSum === opts.entities && failures === 0 && runs.every((r) => r.code === 0),
      };
      const base = rows.find((r) => r.n === 1);
      if (base) row.speedUp = row.rate / base.rate;
      else if (n === 1) row.speedUp = 1;
      rows.push(row);
      console.log(
        `shards n=${n}: ${fmt(opts.entities)} in ${secs(wallMs)} s = ${fmt(row.rate)} entities/s` +
          (row.speedUp !== undefined ? `, speed-up ${row.speedUp.toFixed(2)}×` : "") +
          `; per-shard read ${reads.map((r) => (r === undefined ? "?" : fmt(r))).join(" / ")}` +
          (n > 1
            ? `; range+sampling ${planMs.map((m) => (m === undefined ? "?" : secs(m))).join(" / ")} s`
            : "") +
          (copyPhaseMs !== undefined
            ? `; copy phase ${secs(copyPhaseMs)} s = ${fmt((opts.entities * 1000) / copyPhaseMs)} entities/s ` +
              `(per shard ${copyMs.map((m) => (m === undefined ? "?" : secs(m))).join(" / ")} s)`
            : "") +
          `; CPU s: source Azurite ${cpuText(row.sourceCpuS)}, destination Azurite ${cpuText(row.destinationCpuS)}, ` +
          `CLI ${row.cliCpuS.map(cpuText).join(" / ")} — ${verified}`,
      );
    } finally {
      await dst.server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}
