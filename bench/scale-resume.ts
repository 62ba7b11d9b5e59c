// The scale bench's second part: what resuming a full sync killed with SIGKILL half-way costs, against
// the same sync uninterrupted, each into a fresh destination server.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, type Server } from "./azurite-server.js";
import { compareTables, countEntities } from "./common.js";
import { fmt, pct, secs } from "./format.js";
import { readOf, startCli } from "./scale-cli.js";
import { SOURCE_TABLE, type Options } from "./scale-options.js";
export interface ResumeResult {
  uninterruptedMs: number;
  uninterruptedRead?: number;
  firstMs: number;
  killedAtRead: number;
  writtenAtKill: number;
  checkpointRead?: number;
  checkpointWritten?: number;
  secondMs: number;
  secondRead?: number;
  reRead?: number;
  reReadLowerBound?: number;
  overhead: number;
  verified: string;
  resumeNotice?: string;
  ok: boolean;
}

export async function measureResume(opts: Options, src: Server, partitions: string[]): Promise<ResumeResult> {
  const N = opts.entities;
  const common = (table: string, dir: string) => [
    "full-sync",
    "--tables",
    `${SOURCE_TABLE}:${table}`,
    "--state-file",
    join(dir, "state.json"),
    "--checkpoint-seconds",
    "1",
    "--progress-seconds",
    "1",
    "--concurrency",
    String(opts.concurrency),
    "--json",
  ];

  // The uninterrupted run, on a destination server of its own.
  let uninterruptedMs: number;
  let uninterruptedRead: number | undefined;
  {
    const dst = await startServer();
    const dir = mkdtempSync(join(tmpdir(), "scale-resume-"));
    try {
      const t0 = performance.now();
      const r = await startCli(
        common("scaleonce", dir),
        { source: src.server.connectionString, destination: dst.server.connectionString },
        dir,
        t0,
      );
      uninterruptedMs = r.endedAt - r.startedAt;
      uninterruptedRead = readOf(r);
      if (r.code !== 0) throw new Error(`the uninterrupted run exited with ${r.code}`);
      console.log(
        `resume: uninterrupted run ${secs(uninterruptedMs)} s (${fmt(uninterruptedRead ?? 0)} read)`,
      );
    } finally {
      await dst.server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const dst = await startServer();
  const dir = mkdtempSync(join(tmpdir(), "scale-resume-"));
  try {
    const table = "scaleresumed";
    const env = { source: src.server.connectionString, destination: dst.server.connectionString };
    let killedAtRead = 0;
    const t0 = performance.now();
    const first = await startCli(common(table, dir), env, dir, t0, (text, kill) => {
      const m = new RegExp(`^\\[${SOURCE_TABLE}\\] ([\\d,]+) read`).exec(text);
      if (!m || killedAtRead) return;
      const read = Number(m[1].replace(/,/g, ""));
      if (read >= N / 2) {
        killedAtRead = read;
        kill();
      }
    });
    const firstMs = first.endedAt - first.startedAt;
    if (first.signal !== "SIGKILL")
      throw new Error(
        `the first run was not killed (exit ${first.code}); N too small for 1 s progress lines?`,
      );
    const writtenAtKill = await countEntities(dst.server.connectionString, table, partitions);
    let checkpointRead: number | undefined;
    let checkpointWritten: number | undefined;
    try {
      const state = JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as {
        tables?: Record<string, { checkpoint?: { read: number; written?: number } }>;
      };
      const cp = Object.values(state.tables ?? {}).find((t) => t.checkpoint)?.checkpoint;
      checkpointRead = cp?.read;
      checkpointWritten = cp?.written;
    } catch {
      /* no state file: no checkpoint was saved */
    }
    console.log(
      `resume: killed (SIGKILL) after ${secs(firstMs)} s at ${fmt(killedAtRead)} read (last progress line), ` +
        `${fmt(writtenAtKill)} on the destination, checkpoint at ${checkpointRead === undefined ? "none" : fmt(checkpointRead)} read`,
    );
    const t1 = performance.now();
    const second = await startCli(common(table, dir), env, dir, t1);
    const secondMs = second.endedAt - second.startedAt;
    const secondRead = readOf(second);
    const resumeNotice = second.lines.find((l) => /resum/i.test(l.text))?.text;
    const cmp = await compareTables(
      { connectionString: src.server.connectionString, table: SOURCE_TABLE },
      { connectionString: dst.server.connectionString, table },
      partitions,
    );
    const exact = cmp.mismatches === 0 && cmp.destination === N;
    // Read in the first run: at least the last progress line's figure and at least what had been written.
    const firstReadLowerBound = Math.max(killedAtRead, writtenAtKill);
    const reReadLowerBound = secondRead === undefined ? undefined : firstReadLowerBound + secondRead - N;
    // What the second run read again of what the first had already read, if it started at the checkpoint:
    const reRead = checkpointRead === undefined ? undefined : firstReadLowerBound - checkpointRead;
    const overhead = (firstMs + secondMs) / uninterruptedMs - 1;
    const verified = exact
      ? `destination identical (${fmt(cmp.destination)})`
      : `MISMATCH: ${cmp.mismatches} (source ${cmp.source}, destination ${cmp.destination}; ${cmp.firstMismatch ?? ""})`;
    const ok =
      exact &&
      second.code === 0 &&
      secondRead !== undefined &&
      checkpointRead !== undefined &&
      secondRead === N - checkpointRead;
    console.log(
      `resume: second run ${secs(secondMs)} s, ${fmt(secondRead ?? 0)} read (exit ${second.code}); ` +
        `re-read ≥ ${reReadLowerBound === undefined ? "?" : `${fmt(reReadLowerBound)} = ${pct(reReadLowerBound / N)} of N`}; ` +
        `both runs ${secs(firstMs + secondMs)} s vs ${secs(uninterruptedMs)} s uninterrupted (overhead ${pct(overhead)}) — ${verified}`,
    );
    return {
      uninterruptedMs,
      uninterruptedRead,
      firstMs,
      killedAtRead,
      writtenAtKill,
      checkpointRead,
      checkpointWritten,
      secondMs,
      secondRead,
      reRead,
      reReadLowerBound,
      overhead,
      verified,
      resumeNotice,
      ok,
    };
  } finally {
    await dst.server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
