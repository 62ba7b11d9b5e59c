// Scale-out benchmark: shard speed-up (n CLI processes, `full-sync --shard i/n`), the cost of resuming a
// killed full sync from its checkpoint, and the peak RSS of one full sync of 1,000,000 entities. Every
// sync goes through the real CLI (build/src/cli/index.js) except the RSS one (bench/run-sync.ts, a child
// of its own that reports its maxRSS). Prints the figures and writes them to bench/RESULTS-scale.md
// (rewritten after every part, so an interrupted run still leaves what it measured).
//
//   npm run build && node build/bench/scale.js [--entities 200000] [--partitions 100] [--shards 1,2,4]
//        [--concurrency 8] [--rss-entities 1000000] [--parts shard,resume,rss] [--seed-concurrency 16]
//        [--results bench/RESULTS-scale.md]
//
// Two in-memory Azurite servers (source, destination) on this machine; a fresh destination server for
// every measurement, so none inherits another's data.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, platform, release, tmpdir, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startAzurite, type AzuriteServer } from "../test/support/azurite.js";
import {
  azuriteVersion,
  childPids,
  compareTables,
  countEntities,
  processCpuSeconds,
  repoRoot,
  runChild,
  seedTable,
} from "./common.js";
import { partitionKey, partitionSize, type Layout } from "./data.js";

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, "..", "src", "cli", "index.js");
const SOURCE_TABLE = "scalesource";

type Part = "shard" | "resume" | "rss";

interface Options {
  entities: number;
  partitions: number;
  shards: number[];
  concurrency: number;
  rssEntities: number;
  parts: Part[];
  seedConcurrency: number;
  results: string;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      entities: { type: "string" },
      partitions: { type: "string" },
      shards: { type: "string" },
      concurrency: { type: "string" },
      "rss-entities": { type: "string" },
      parts: { type: "string" },
      "seed-concurrency": { type: "string" },
      results: { type: "string" },
    },
    strict: true,
  });
  const int = (raw: string | undefined, name: string, fallback: number, min = 1): number => {
    if (raw === undefined) return fallback;
    const n = Number(raw.replace(/_/g, ""));
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, not ${raw}`);
    return n;
  };
  const entityCount = int(values.entities, "entities", 200_000);
  const shards = (values.shards ?? "1,2,4").split(",").map((s) => int(s.trim(), "shards", 1));
  const parts = (values.parts ?? "shard,resume,rss").split(",").map((s) => s.trim());
  for (const p of parts)
    if (!["shard", "resume", "rss"].includes(p)) throw new Error(`--parts: unknown part ${p}`);
  const rssEntities = int(values["rss-entities"], "rss-entities", 1_000_000, 0);
  return {
    entities: entityCount,
    partitions: Math.min(int(values.partitions, "partitions", 100), entityCount),
    shards,
    concurrency: int(values.concurrency, "concurrency", 8),
    rssEntities,
    parts: (parts as Part[]).filter((p) => p !== "rss" || rssEntities > 0),
    seedConcurrency: int(values["seed-concurrency"], "seed-concurrency", 16),
    results: resolve(values.results ?? join(repoRoot(here), "bench", "RESULTS-scale.md")),
  };
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const secs = (ms: number) => (ms / 1000).toFixed(1);
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

interface Server {
  server: AzuriteServer;
  pid?: number;
}

/** Start Azurite and learn its process id (to read its CPU time), as bench.ts does. */
async function startServer(): Promise<Server> {
  const before = new Set(childPids());
  const server = await startAzurite();
  const pid = childPids().find((p) => !before.has(p));
  return { server, pid };
}

const cpuOf = (s: Server) => (s.pid === undefined ? undefined : processCpuSeconds(s.pid));
const cpuDelta = (a?: number, b?: number) => (a !== undefined && b !== undefined ? b - a : undefined);
const cpuText = (x?: number) => (x === undefined ? "–" : x.toFixed(1));

interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** ms from the measurement's start. */
  startedAt: number;
  endedAt: number;
  /** The parsed --json result, if the process printed one. */
  json?: { tables: { read: number; written: number; failed: number; error?: string }[] };
  /** stderr lines, each with ms since the measurement's start. */
  lines: { at: number; text: string }[];
  /** The process's own CPU seconds, read from /proc just before it was reaped (undefined elsewhere). */
  cpuS?: number;
}

/**
 * Start one CLI process (cwd: its own temp dir, so no .env is read; connection strings from the environment).
 * `onLine` sees every stderr line as it comes and may kill the process.
 */
function startCli(
  args: string[],
  env: { source: string; destination: string },
  cwd: string,
  t0: number,
  onLine?: (text: string, kill: () => void) => void,
): Promise<CliRun> {
  const startedAt = performance.now() - t0;
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd,
    env: {
      ...process.env,
      SOURCE_CONNECTION_STRING: env.source,
      DESTINATION_CONNECTION_STRING: env.destination,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let errBuf = "";
  const lines: CliRun["lines"] = [];
  let cpuS: number | undefined;
  const poll = setInterval(() => {
    if (child.pid !== undefined) cpuS = processCpuSeconds(child.pid) ?? cpuS;
  }, 250);
  const kill = () => {
    if (child.pid !== undefined) cpuS = processCpuSeconds(child.pid) ?? cpuS;
    child.kill("SIGKILL");
  };
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  child.stdout.on("data", (s: string) => (out += s));
  child.stderr.on("data", (s: string) => {
    errBuf += s;
    let i;
    while ((i = errBuf.indexOf("\n")) >= 0) {
      const text = errBuf.slice(0, i);
      errBuf = errBuf.slice(i + 1);
      lines.push({ at: performance.now() - t0, text });
      onLine?.(text, kill);
    }
  });
  return new Promise((resolveRun) => {
    child.on("close", (code, signal) => {
      clearInterval(poll);
      if (errBuf) lines.push({ at: performance.now() - t0, text: errBuf });
      let json: CliRun["json"];
      const start = out.indexOf("{");
      if (start >= 0) {
        try {
          json = JSON.parse(out.slice(start)) as CliRun["json"];
        } catch {
          /* no JSON result */
        }
      }
      resolveRun({ code, signal, startedAt, endedAt: performance.now() - t0, json, lines, cpuS });
    });
  });
}

const readOf = (r: CliRun) => r.json?.tables.reduce((s, t) => s + t.read, 0);
const failedOf = (r: CliRun) => r.json?.tables.reduce((s, t) => s + t.failed + (t.error ? 1 : 0), 0);

// ---------------------------------------------------------------------------------------------------------

interface ShardRow {
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

async function measureShards(opts: Options, src: Server, partitions: string[]): Promise<ShardRow[]> {
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

// ---------------------------------------------------------------------------------------------------------

interface ResumeResult {
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

async function measureResume(opts: Options, src: Server, partitions: string[]): Promise<ResumeResult> {
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

// ---------------------------------------------------------------------------------------------------------

interface RssResult {
  entities: number;
  seedMs: number;
  elapsedMs: number;
  cpuMs: number;
  maxRssKb: number;
  written: number;
  count: number;
  failed: number;
  error?: string;
  sourceCpuS?: number;
  destinationCpuS?: number;
  ok: boolean;
}

async function measureRss(opts: Options): Promise<RssResult> {
  const layout: Layout = {
    entities: opts.rssEntities,
    partitions: Math.min(opts.partitions, opts.rssEntities),
  };
  const src = await startServer();
  const dst = await startServer();
  try {
    const seedMs = await seedTable(src.server.connectionString, SOURCE_TABLE, layout, opts.seedConcurrency);
    console.log(`rss: seeded ${fmt(layout.entities)} entities in ${secs(seedMs)} s (not measured)`);
    const cpu0 = [cpuOf(src), cpuOf(dst)];
    const m = await runChild(join(here, "run-sync.js"), {
      source: src.server.connectionString,
      destination: dst.server.connectionString,
      sourceTable: SOURCE_TABLE,
      destinationTable: "scalerss",
      concurrency: opts.concurrency,
    });
    const cpu1 = [cpuOf(src), cpuOf(dst)];
    const partitions = Array.from({ length: layout.partitions }, (_, p) => partitionKey(p));
    const count = await countEntities(dst.server.connectionString, "scalerss", partitions);
    const ok = count === layout.entities && m.failed === 0 && !m.error && m.maxRssKb <= 256 * 1024;
    const r: RssResult = {
      entities: layout.entities,
      seedMs,
      elapsedMs: m.elapsedMs,
      cpuMs: m.cpuMs,
      maxRssKb: m.maxRssKb,
      written: m.entities,
      count,
      failed: m.failed,
      error: m.error,
      sourceCpuS: cpuDelta(cpu0[0], cpu1[0]),
      destinationCpuS: cpuDelta(cpu0[1], cpu1[1]),
      ok,
    };
    console.log(
      `rss: full sync of ${fmt(layout.entities)}: peak RSS ${(m.maxRssKb / 1024).toFixed(0)} MB ` +
        `(target ≤ 256 MB: ${m.maxRssKb <= 256 * 1024 ? "met" : "NOT met"}), ${secs(m.elapsedMs)} s = ` +
        `${fmt((m.entities * 1000) / m.elapsedMs)} entities/s, cpu ${secs(m.cpuMs)} s; destination count ${fmt(count)}` +
        `${count === layout.entities ? " ok" : " MISMATCH"}${m.failed || m.error ? `; ${m.failed} failed ${m.error ?? ""}` : ""}`,
    );
    return r;
  } finally {
    await Promise.all([src.server.stop(), dst.server.stop()]);
  }
}

// ---------------------------------------------------------------------------------------------------------

function gitCommit(): string {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], {
      cwd: repoRoot(here),
      encoding: "utf8",
    }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src"], {
      cwd: repoRoot(here),
      encoding: "utf8",
    }).trim();
    return dirty ? `${head} plus uncommitted changes in src/ (built from the working tree)` : head;
  } catch {
    return "?";
  }
}

interface Results {
  startedAt: string;
  /** The commit (and whether src/ had uncommitted changes) when the run began: what build/ was compiled from. */
  commit: string;
  loadAtStart: number[];
  seedMs?: number;
  shards?: ShardRow[];
  resume?: ResumeResult;
  rss?: RssResult;
  log: string[];
}

function markdown(opts: Options, r: Results): string {
  const cpu = cpus();
  const L: string[] = [
    "# Scale-out benchmark results",
    "",
    "Written by `node build/bench/scale.js` (bench/scale.ts); each run overwrites this file.",
    "",
    `- date: ${r.startedAt} (start), ${new Date().toISOString()} (this file written)`,
    `- machine: ${cpu.length} cores (${cpu[0]?.model.trim() ?? "?"}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${platform()} ${release()}; ` +
      `load average (1/5/15 min) ${r.loadAtStart.map((x) => x.toFixed(2)).join(" / ")} at the start, ` +
      `${loadavg()
        .map((x) => x.toFixed(2))
        .join(
          " / ",
        )} at the end — the machine is shared with other work, and the two Azurite servers run here too`,
    `- node ${process.version}, Azurite ${azuriteVersion()} (in memory, one server per side), commit ${r.commit} at the start${gitCommit() === r.commit ? "" : ` (${gitCommit()} when this file was written: others committed meanwhile; the measurements ran the build made at the start)`}`,
    `- data: bench/data.ts entities (~1.1 KB of JSON each, every EDM type), ${opts.partitions} partitions; ` +
      `concurrency ${opts.concurrency} per process; nothing pinned`,
    `- command: \`npm run build && node build/bench/scale.js ${process.argv.slice(2).join(" ")}\``.replace(
      / `$/,
      "`",
    ),
    "",
  ];
  if (r.shards) {
    L.push(
      `## 1. Shard speed-up (${fmt(opts.entities)} entities${r.seedMs !== undefined ? `, seeded in ${secs(r.seedMs)} s, not measured` : ""})`,
      "",
      "n CLI processes (`full-sync --shard i/n --state-file <shared> --json`) started at once against one source and one fresh destination server; wall time from the first start to the last exit (it includes each process's start-up, key sampling and plan agreement). n = 1 runs without `--shard`.",
      "",
      "| n | wall s | entities/s | speed-up | per-shard read | per-shard range | range known after (s) | copy phase s (entities/s) | per-shard copy s | source Azurite CPU s | destination Azurite CPU s | CLI CPU s | check |",
      "| ---: | ---: | ---: | ---: | --- | --- | --- | --- | --- | ---: | ---: | --- | --- |",
      ...r.shards.map(
        (s) =>
          `| ${s.n} | ${secs(s.wallMs)} | ${fmt(s.rate)} | ${s.speedUp === undefined ? "–" : `${s.speedUp.toFixed(2)}×`} | ` +
          `${s.reads.map((x) => (x === undefined ? "?" : fmt(x))).join(" / ")} | ${s.ranges.join("; ")} | ` +
          `${s.n > 1 ? s.planMs.map((m) => (m === undefined ? "?" : secs(m))).join(" / ") : "–"} | ` +
          `${s.copyPhaseMs === undefined ? "–" : `${secs(s.copyPhaseMs)} (${fmt((opts.entities * 1000) / s.copyPhaseMs)})`} | ` +
          `${s.copyMs.map((m) => (m === undefined ? "?" : secs(m))).join(" / ")} | ${cpuText(s.sourceCpuS)} | ` +
          `${cpuText(s.destinationCpuS)} | ${s.cliCpuS.map(cpuText).join(" / ")} | ${s.verified} |`,
      ),
      "",
      "- *range known after*: seconds from a shard's start until it printed its key range — sampling the table's PartitionKeys (a projection scan of the whole table, done by every shard that finds no stored plan) plus the wait for the shards to agree on one plan.",
      "- *copy phase*: from the first shard's `[table] copying to …` line to the last exit; *per-shard copy*: from each shard's own `copying to` line to its exit (a sharded run also waits 3–6 s for the other shards' state saves before it exits).",
      "- *CLI CPU s*: each CLI process's CPU time (from /proc, sampled every 250 ms, so a little low).",
      "- *check*: the sum of the shards' `read` (their `--json` output) against N — every key read exactly once — and an entity-by-entity comparison of the whole destination with the source (exact wire types).",
      "",
    );
  }
  if (r.resume) {
    const x = r.resume;
    const N = opts.entities;
    L.push(
      `## 2. Resume overhead (${fmt(N)} entities)`,
      "",
      "The same CLI command (`full-sync --state-file <fresh> --checkpoint-seconds 1 --progress-seconds 1 --json`) three times, each against a fresh destination: once uninterrupted; once killed with SIGKILL as soon as a progress line on stderr showed ≥ 50 % read; then again to completion (it resumes from the checkpoint in the state file).",
      "",
      "```",
      `uninterrupted run            ${secs(x.uninterruptedMs)} s (${fmt(x.uninterruptedRead ?? 0)} read)`,
      `first run (SIGKILL)          ${secs(x.firstMs)} s; last progress line ${fmt(x.killedAtRead)} read; ${fmt(x.writtenAtKill)} on the destination after the kill`,
      `checkpoint in the state file ${x.checkpointRead === undefined ? "none" : `${fmt(x.checkpointRead)} read, ${fmt(x.checkpointWritten ?? 0)} written`}`,
      `second run (resumed)         ${secs(x.secondMs)} s; ${x.secondRead === undefined ? "?" : fmt(x.secondRead)} read` +
        (x.checkpointRead !== undefined ? ` (N − checkpoint = ${fmt(N - x.checkpointRead)})` : ""),
      `re-read (Σ read − N)         ≥ ${x.reReadLowerBound === undefined ? "?" : `${fmt(x.reReadLowerBound)} = ${pct(x.reReadLowerBound / N)} of N (target < 10 %: ${x.reReadLowerBound / N < 0.1 ? "met" : "NOT met"})`}`,
      `both runs vs uninterrupted   ${secs(x.firstMs + x.secondMs)} s vs ${secs(x.uninterruptedMs)} s: overhead ${pct(x.overhead)}`,
      `destination                  ${x.verified}`,
      "```",
      "",
      ...(x.resumeNotice ? [`The second run said: “${x.resumeNotice.trim()}”`, ""] : []),
      "- The first run's read count is only known up to its last progress line (SIGKILL leaves no summary), so Σ read − N uses max(last progress figure, entities on the destination after the kill) for it: a lower bound, short by at most the pages read in the moment between that line and the kill.",
      "- The second run's read should be exactly N − the checkpoint's read (it resumes at the checkpoint's continuation); the work lost is what the first run read after its last checkpoint (≤ ~1 s of reading with `--checkpoint-seconds 1`).",
      "- Overhead includes the second process's start-up and the kill's lost work; both runs' wall times are summed.",
      "",
    );
  }
  if (r.rss) {
    const x = r.rss;
    L.push(
      `## 3. Peak RSS of one full sync of ${fmt(x.entities)} entities`,
      "",
      "`runSync` (replace mode) in a child process of its own (bench/run-sync.ts), which reports its `maxRSS` over its whole life; fresh source (seeded with transactions, 16 in flight, not measured) and destination servers; the destination then counted partition by partition.",
      "",
      "```",
      `seeding                      ${secs(x.seedMs)} s (not measured)`,
      `full sync                    ${secs(x.elapsedMs)} s = ${fmt((x.written * 1000) / x.elapsedMs)} entities/s, its CPU ${secs(x.cpuMs)} s; source Azurite CPU ${cpuText(x.sourceCpuS)} s, destination Azurite CPU ${cpuText(x.destinationCpuS)} s`,
      `peak RSS                     ${(x.maxRssKb / 1024).toFixed(0)} MB (target ≤ 256 MB: ${x.maxRssKb <= 256 * 1024 ? "met" : "NOT met"})`,
      `destination count            ${fmt(x.count)} of ${fmt(x.entities)} ${x.count === x.entities ? "ok" : "MISMATCH"}; ${x.failed} failed${x.error ? ` (${x.error})` : ""}`,
      "```",
      "",
    );
  }
  const missing = opts.parts.filter((p) => (p === "shard" ? !r.shards : p === "resume" ? !r.resume : !r.rss));
  if (missing.length) L.push(`Not (yet) measured in this run: ${missing.join(", ")}.`, "");
  L.push("## Output", "", "```", ...r.log, "```", "");
  return L.join("\n");
}

async function main(): Promise<void> {
  const opts = options();
  const log: string[] = [];
  const print = console.log.bind(console);
  console.log = (...a: unknown[]) => {
    const s = a.map(String).join(" ");
    log.push(s);
    print(s);
  };
  const results: Results = {
    startedAt: new Date().toISOString(),
    commit: gitCommit(),
    loadAtStart: loadavg(),
    log,
  };
  // Formatted as `prettier --check .` (the lint) expects; plain if prettier is not installed.
  const save = async () => {
    let text = markdown(opts, results);
    try {
      const prettier = await import("prettier");
      const config = (await prettier.resolveConfig(opts.results)) ?? {};
      text = await prettier.format(text, { ...config, filepath: opts.results });
    } catch {
      /* keep it unformatted */
    }
    writeFileSync(opts.results, text);
  };
  console.log(
    `scale: ${fmt(opts.entities)} entities in ${opts.partitions} partitions, shards ${opts.shards.join(",")}, ` +
      `concurrency ${opts.concurrency}, parts ${opts.parts.join(",")}` +
      (opts.parts.includes("rss") ? `, RSS at ${fmt(opts.rssEntities)}` : "") +
      `; ${cpus().length} cores, load average ${results.loadAtStart.map((x) => x.toFixed(2)).join(" ")}`,
  );
  if (opts.parts.includes("shard") || opts.parts.includes("resume")) {
    const src = await startServer();
    try {
      const layout: Layout = { entities: opts.entities, partitions: opts.partitions };
      results.seedMs = await seedTable(
        src.server.connectionString,
        SOURCE_TABLE,
        layout,
        opts.seedConcurrency,
      );
      console.log(`seeded ${fmt(opts.entities)} entities in ${secs(results.seedMs)} s (not measured)`);
      const partitions = Array.from({ length: opts.partitions }, (_, p) => partitionKey(p));
      // Sanity: the layout's sizes add up to N.
      const total = partitions.reduce((s, _, p) => s + partitionSize(layout, p), 0);
      if (total !== opts.entities) throw new Error(`layout sums to ${total}`);
      if (opts.parts.includes("shard")) {
        results.shards = await measureShards(opts, src, partitions);
        await save();
      }
      if (opts.parts.includes("resume")) {
        results.resume = await measureResume(opts, src, partitions);
        await save();
      }
    } finally {
      await src.server.stop();
    }
  }
  if (opts.parts.includes("rss")) {
    results.rss = await measureRss(opts);
  }
  console.log(
    `load average at the end ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
  );
  await save();
  print(`\nwritten to ${opts.results}`);
  const ok =
    (results.shards ?? []).every((s) => s.ok) && (results.resume?.ok ?? true) && (results.rss?.ok ?? true);
  if (!ok) process.exitCode = 1;
}

await main();
