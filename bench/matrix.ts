// The bench matrix (issue 11): our CLI copying tables of 1, 10 and 1,000 entities per partition through
// round trips of 0, 20 and 100 ms, from a free source to a free sink behind a latency link, each cell
// against the harness ceiling measured in the same run. Prints the figures and writes them into
// bench/RESULTS.md between `<!-- matrix:start -->` and `<!-- matrix:end -->`.
//
//   node build/bench/matrix.js [--entities 200000] [--shapes 1,10,1000|none] [--rtts 0,20,100] [--rounds 1]
//                              [--unsorted 10:20|off] [--max-seconds 120] [--pin auto|on|off]
//                              [--cli build|dist] [--only ours] [--results bench/RESULTS.md]
//
// 200,000 entities a cell by default: every run of our CLI begins with a second or two in which the JIT
// warms up and our own CPU is the limit whatever the window (one entity per partition: 1.0 of a core,
// the rate climbing from 1,200 to 10,000/s at a constant window). A cell of 50,000 lasts 4–5 s, a third
// of it warm-up, and measured that rather than the copy: one entity per partition over 0 and 20 ms gave
// 0.62 and 0.71 of the ceiling where 200,000 gave 0.81 and 0.85 in the same hour. Users copy millions; pass
// `--entities 50000` to see the short-table figure.
//
// `--only ours` skips the yardsticks (no ceiling, no ratio): for our peak RSS at 1,000,000 entities,
// where a pre-built-writes yardstick alone holds gigabytes of requests.
//
// Every option can also be given as an environment variable: MATRIX_ENTITIES, MATRIX_SHAPES, …
// BENCH_OURS_ARGS adds options to our CLI's command line (e.g. `--concurrency 64`, to compare a setting
// with the defaults), BENCH_OURS_NODE_ARGS node's own flags for it; BENCH_CPU_PROFILE=<file> writes the CPU
// profile of our CLI's run (run-cli.ts), BENCH_PROF=<dir> that of our CLI and of the servers (cell-notes.ts).
//
// Per cell: ours — `table-sync full-sync` with default settings, in a child process, as a user runs it
// (run-cli.ts); scan — one plain sequential scan of the source; writes — every entity as pre-built
// requests of the table's shape, ample requests in flight (ceiling-client.ts); ceiling = min(scan, writes,
// 20,000/s, Table Storage's per-account target). The servers (free-source.ts, free-sink.ts and a
// latency-link.ts in front of each) run in a process of their own (harness-child.ts); pinned, they and
// this process share CPU 1 and the tool or the yardstick being measured has CPU 0 to itself.
import { spawn } from "node:child_process";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { cpus, loadavg, platform, release, tmpdir, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { canPin, pin, processCpuSeconds, repoRoot } from "./common.js";
import { ACCOUNT } from "./free-wire.js";
import { Harness, type HarnessStats } from "./harness.js";
import { profileFlags, usageNote, wireNote, type Usage } from "./cell-notes.js";
import { withSection, MATRIX_END, MATRIX_START } from "./results-section.js";
import type { CeilingInput, CeilingOutput } from "./run-ceiling.js";

/** Table Storage's scalability target per account: no copy is faster than this. */
const ACCOUNT_TARGET = 20_000;
const AZURITE_KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const SOURCE_TABLE = "benchsource";
const DESTINATION_TABLE = "benchdest";

interface Options {
  entities: number;
  shapes: number[];
  rtts: number[];
  rounds: number;
  /** The unsorted (Cosmos as the source) row: entities per partition and round trip; undefined: none. */
  unsorted?: { perPartition: number; rttMs: number };
  maxSeconds: number;
  /** Only our CLI, no yardsticks. */
  onlyOurs: boolean;
  pin: boolean;
  cli: "build" | "dist";
  results: string;
}

interface Cell {
  perPartition: number;
  rttMs: number;
  unsorted: boolean;
}

interface Measurement {
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

function options(): Options {
  const { values } = parseArgs({
    options: {
      entities: { type: "string" },
      shapes: { type: "string" },
      rtts: { type: "string" },
      rounds: { type: "string" },
      unsorted: { type: "string" },
      "max-seconds": { type: "string" },
      pin: { type: "string" },
      cli: { type: "string" },
      only: { type: "string" },
      results: { type: "string" },
    },
    strict: true,
  });
  const pick = (name: keyof typeof values): string | undefined => {
    const env = `MATRIX_${name.toUpperCase().replace(/-/g, "_")}`;
    const v = values[name] ?? process.env[env];
    return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
  };
  const int = (text: string, what: string, min: number): number => {
    const n = Number(text.replace(/_/g, ""));
    if (!Number.isInteger(n) || n < min) throw new Error(`${what} must be an integer ≥ ${min}, not ${text}`);
    return n;
  };
  const list = (name: keyof typeof values, fallback: string, min: number): number[] =>
    (pick(name) ?? fallback).split(",").map((s) => int(s.trim(), `--${name}`, min));
  const entities = int(pick("entities") ?? "200000", "--entities", 1);
  const unsortedText = pick("unsorted") ?? "10:20";
  let unsorted: Options["unsorted"];
  if (unsortedText !== "off") {
    const m = /^(\d+):(\d+)$/.exec(unsortedText);
    if (!m)
      throw new Error(
        `--unsorted must be <entities per partition>:<round trip ms> or off, not ${unsortedText}`,
      );
    unsorted = { perPartition: int(m[1], "--unsorted", 1), rttMs: int(m[2], "--unsorted", 0) };
  }
  const pinSetting = pick("pin") ?? "auto";
  if (!["auto", "on", "off"].includes(pinSetting))
    throw new Error(`--pin must be auto, on or off, not ${pinSetting}`);
  const only = pick("only");
  if (only !== undefined && only !== "ours") throw new Error(`--only takes ours, not ${only}`);
  const cli = pick("cli") ?? "build";
  if (cli !== "build" && cli !== "dist") throw new Error(`--cli must be build or dist, not ${cli}`);
  return {
    entities,
    // `--shapes none`: the unsorted row alone.
    shapes: pick("shapes") === "none" ? [] : list("shapes", "1,10,1000", 1),
    rtts: list("rtts", "0,20,100", 0),
    rounds: int(pick("rounds") ?? "1", "--rounds", 1),
    unsorted,
    maxSeconds: int(pick("max-seconds") ?? "120", "--max-seconds", 1),
    onlyOurs: only === "ours",
    pin: pinSetting === "on" || (pinSetting === "auto" && cpus().length >= 2 && canPin()),
    cli,
    results: resolve(pick("results") ?? join(repoRoot(here), "bench", "RESULTS.md")),
  };
}

function connectionString(endpoint: string): string {
  return `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${AZURITE_KEY};TableEndpoint=${endpoint};`;
}

/** Run `node [args]` on CPU `cpu` (if given); resolves with its exit code and the tails of its output. */
function runNode(
  args: string[],
  opts: {
    cpu?: number;
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    maxMs?: number;
    onTimeout?: (pid: number) => Promise<void>;
  },
): Promise<{
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}> {
  const child =
    opts.cpu === undefined
      ? spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env: opts.env, cwd: opts.cwd })
      : spawn("taskset", ["-c", String(opts.cpu), process.execPath, ...args], {
          stdio: ["ignore", "pipe", "pipe"],
          env: opts.env,
          cwd: opts.cwd,
        });
  let stdout = "";
  let stderr = "";
  const keep = (s: string, more: string) => (s + more).slice(-20_000);
  child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout = keep(stdout, s)));
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr = keep(stderr, s)));
  let timedOut = false;
  let killer: NodeJS.Timeout | undefined;
  const timer =
    opts.maxMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          void (async () => {
            if (child.pid !== undefined) await opts.onTimeout?.(child.pid);
            child.kill("SIGTERM");
            killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
          })();
        }, opts.maxMs);
  return new Promise((resolveRun) => {
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      if (killer) clearTimeout(killer);
      resolveRun({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/** Peak RSS of a running process in kilobytes (Linux /proc; 0 elsewhere). */
function peakRssKb(pid: number): number {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const mb = (kb: number) => (kb / 1024).toFixed(0);
const pct = (x: number) => `${Math.round(x * 100)}%`;
const shapeName = (c: Cell) =>
  `${c.unsorted ? "unsorted (Cosmos source), " : ""}${fmt(c.perPartition)} per partition`;

async function main(): Promise<void> {
  const opts = options();
  const cpu: { tool?: number; servers?: number } = opts.pin ? { tool: 0, servers: 1 } : {};
  if (cpu.servers !== undefined) pin(process.pid, cpu.servers);
  const loadAtStart = loadavg()[0];
  // The harness holds every page of the source, rendered, and what the sink counted: room for 1,000,000.
  const harness = await Harness.start([
    `--max-old-space-size=${Math.max(4096, Math.ceil(opts.entities / 100))}`,
    ...profileFlags("servers"),
  ]);
  if (cpu.servers !== undefined && harness.pid !== undefined) pin(harness.pid, cpu.servers);
  console.log(
    `matrix: ${fmt(opts.entities)} entities per cell, shapes ${opts.shapes.join(", ")} per partition × round trips ` +
      `${opts.rtts.join(", ")} ms${opts.unsorted ? ` + unsorted ${opts.unsorted.perPartition} per partition at ${opts.unsorted.rttMs} ms` : ""}, ` +
      `${opts.rounds} round(s), ours timed out after ${opts.maxSeconds} s; ${cpus().length} cores, node ${process.version}, ` +
      `load average ${loadAtStart.toFixed(2)}; ` +
      (opts.pin
        ? `pinned: tool and yardsticks on CPU ${cpu.tool}, servers and links on CPU ${cpu.servers}`
        : "not pinned"),
  );
  const work = mkdtempSync(join(tmpdir(), "matrix-"));
  const measurements: Measurement[] = [];
  process.once("SIGINT", () => {
    void harness.stop().finally(() => process.exit(130));
  });
  try {
    const cells: Cell[] = [];
    for (const perPartition of opts.shapes)
      for (const rttMs of opts.rtts) cells.push({ perPartition, rttMs, unsorted: false });
    if (opts.unsorted) cells.push({ ...opts.unsorted, unsorted: true });
    let loaded = "";
    for (const cell of cells) {
      const key = `${cell.perPartition}/${cell.unsorted}`;
      if (key !== loaded) {
        const ms = await harness.load({
          table: SOURCE_TABLE,
          entities: opts.entities,
          perPartition: cell.perPartition,
          unsorted: cell.unsorted,
        });
        loaded = key;
        console.log(
          `\nsource: ${fmt(opts.entities)} entities, ${shapeName(cell)}, pages rendered in ${(ms / 1000).toFixed(1)} s (not measured)`,
        );
      }
      await harness.setRtt(cell.rttMs);
      for (let round = 0; round < opts.rounds; round++) {
        const yardsticks = opts.onlyOurs ? [] : (["scan", "writes"] as const);
        const order = round % 2 === 0 ? [...yardsticks, "ours" as const] : ["ours" as const, ...yardsticks];
        for (const kind of order) {
          const m =
            kind === "ours"
              ? await measureOurs(opts, harness, cell, round, cpu.tool, work)
              : await measureYardstick(opts, harness, cell, round, kind, cpu.tool);
          m.load = loadavg()[0];
          measurements.push(m);
          console.log(
            `  ${shapeName(cell)}, ${cell.rttMs} ms, ${kind.padEnd(6)} #${round + 1}: ${fmt(m.entities)} in ${(m.elapsedMs / 1000).toFixed(1)} s = ${fmt(m.rate)}/s, ` +
              `cpu ${(m.cpuMs / 1000).toFixed(1)} s (${m.entities > 0 ? fmt((m.cpuMs * 1000) / m.entities) : "–"} µs/entity), ` +
              `peak RSS ${mb(m.maxRssKb)} MB, servers busy ${pct(m.harnessBusy)}${m.inflight ? `, ${m.inflight} in flight` : ""}, load ${m.load.toFixed(1)} — ${m.verified}`,
          );
          if (m.wire) console.log(`    ${m.wire}`);
        }
      }
    }
  } finally {
    await harness.stop();
    rmSync(work, { recursive: true, force: true });
  }
  const rows = summarize(opts, measurements);
  console.log(`\n${consoleTable(rows).join("\n")}`);
  const section = markdown(opts, rows, measurements, loadAtStart);
  const existing = existsSync(opts.results) ? readFileSync(opts.results, "utf8") : "# Benchmark results\n";
  writeFileSync(opts.results, withSection(existing, section));
  console.log(`\nwritten to ${opts.results} (between ${MATRIX_START} and ${MATRIX_END})`);
  if (!measurements.every((m) => m.ok || m.timedOut)) process.exitCode = 1;
}

async function harnessCpu(harness: Harness): Promise<{ cpuMs: number; stats: HarnessStats }> {
  const stats = await harness.stats();
  return { cpuMs: stats.cpuMs, stats };
}

async function measureYardstick(
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

async function measureOurs(
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

interface Row {
  cell: Cell;
  ours?: Measurement;
  scan?: Measurement;
  writes?: Measurement;
  ceiling: number;
  ratio: number;
}

/** Best of each kind per cell (noise on a shared machine only slows a run down). */
function summarize(opts: Options, ms: Measurement[]): Row[] {
  const rows: Row[] = [];
  const cells = new Map<string, Cell>();
  for (const m of ms) cells.set(`${m.cell.perPartition}/${m.cell.rttMs}/${m.cell.unsorted}`, m.cell);
  for (const cell of cells.values()) {
    const of = (kind: Measurement["kind"]) =>
      ms
        .filter((m) => m.cell === cell && m.kind === kind)
        .reduce<Measurement | undefined>((b, m) => (!b || m.rate > b.rate ? m : b), undefined);
    const ours = of("ours");
    const scan = of("scan");
    const writes = of("writes");
    const ceiling = Math.min(scan?.rate ?? Infinity, writes?.rate ?? Infinity, ACCOUNT_TARGET);
    rows.push({ cell, ours, scan, writes, ceiling, ratio: ours ? ours.rate / ceiling : 0 });
  }
  void opts;
  return rows;
}

const cpuPerEntity = (m?: Measurement) => (m && m.entities > 0 ? fmt((m.cpuMs * 1000) / m.entities) : "–");
const check = (r: Row) =>
  !r.ours
    ? "–"
    : r.ours.timedOut
      ? `timed out (${fmt(r.ours.entities)} copied)`
      : r.ours.ok && r.scan?.ok !== false && r.writes?.ok !== false
        ? "all entities"
        : "MISMATCH";

function consoleTable(rows: Row[]): string[] {
  const head = [
    "shape",
    "rtt",
    "ours/s",
    "scan/s",
    "writes/s",
    "ceiling/s",
    "ratio",
    "CPU µs/e",
    "RSS MB",
    "verified",
  ];
  const body = rows.map((r) => [
    r.cell.unsorted ? `${r.cell.perPartition}/part unsorted` : `${r.cell.perPartition}/part`,
    `${r.cell.rttMs} ms`,
    r.ours ? fmt(r.ours.rate) : "–",
    r.scan ? fmt(r.scan.rate) : "–",
    r.writes ? fmt(r.writes.rate) : "–",
    fmt(r.ceiling),
    `${r.ratio.toFixed(2)}${r.ratio >= 0.8 ? "" : " ✗"}`,
    cpuPerEntity(r.ours),
    r.ours ? mb(r.ours.maxRssKb) : "–",
    check(r),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 2 || i === 9 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(head), ...body.map(line)];
}

function gitCommit(): string {
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], {
      cwd: repoRoot(here),
      encoding: "utf8",
    }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no", "src"], {
      cwd: repoRoot(here),
      encoding: "utf8",
    }).trim();
    return dirty ? `${commit} (with uncommitted changes in src/)` : commit;
  } catch {
    return "?";
  }
}

function markdown(opts: Options, rows: Row[], ms: Measurement[], loadAtStart: number): string {
  const cpu = cpus();
  const met = rows.filter((r) => r.ratio >= 0.8).length;
  const lines = [
    MATRIX_START,
    "",
    "## Matrix: table shape × round trip",
    "",
    "Written by `node build/bench/matrix.js` (bench/matrix.ts, the last step of `npm run bench`); each run replaces this section, and bench.ts keeps it when it rewrites the file.",
    "",
    `- date: ${new Date().toISOString()}, commit ${gitCommit()}, CLI: ${opts.cli === "dist" ? "dist/cli (the bundle bin/table-sync.js runs)" : "build/src/cli (the current source, compiled)"}`,
    `- ${fmt(opts.entities)} entities per cell (~1.1 KB of JSON each, every EDM type), best of ${opts.rounds} round(s); ours stopped after ${opts.maxSeconds} s`,
    `- machine: ${cpu.length} cores (${cpu[0]?.model.trim() ?? "?"}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${platform()} ${release()}, node ${process.version}; 1-minute load average ${loadAtStart.toFixed(2)} at the start, ${loadavg()[0].toFixed(2)} at the end (other work shares the machine)`,
    opts.pin
      ? "- pinned: the tool (or the yardstick being measured) on CPU 0; the source, the sink, both links and the bench on CPU 1"
      : "- not pinned: every process shares every core",
    "",
    `**Target (issue 11): every cell ≥ 0.8 × its ceiling. Met in ${met} of ${rows.length}.**`,
    "",
    "| table shape | round trip | ours /s | one scan /s | pre-built writes /s | ceiling /s | ours ÷ ceiling | our CPU µs/entity | our peak RSS MB | check |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ...rows.map(
      (r) =>
        `| ${shapeName(r.cell)} | ${r.cell.rttMs} ms | ${r.ours ? fmt(r.ours.rate) : "–"} | ${r.scan ? fmt(r.scan.rate) : "–"} | ${r.writes ? fmt(r.writes.rate) : "–"} | ${fmt(r.ceiling)} | ${r.ratio >= 0.8 ? r.ratio.toFixed(2) : `**${r.ratio.toFixed(2)}**`} | ${cpuPerEntity(r.ours)} | ${r.ours ? mb(r.ours.maxRssKb) : "–"} | ${check(r)} |`,
    ),
    "",
    "### Method",
    "",
    "- **Harness** (all in `bench/`, started by the bench in a process of its own): a free source (free-source.ts) that serves the table from memory as Table Storage does — pages of 1,000 entities sorted by PartitionKey and RowKey, minimal-metadata JSON with the services' annotations, ETags and 7-digit Timestamps, continuation in `x-ms-continuation-NextPartitionKey/NextRowKey` — every page of a plain scan rendered to a Buffer before anything is timed; a free sink (free-sink.ts) that acknowledges each `$batch` (202 with one `204 No Content` part per operation, as Table Storage answers) and each single-entity write (204 with an ETag) at once, counting the distinct keys it acknowledged; and a latency link (latency-link.ts) in front of each, a TCP forwarder that holds every chunk for half the round trip in each direction. Source and sink speak HTTP/1.1 through a minimal server on node:net (raw-http.ts), several times cheaper per request than node:http's. The unsorted row serves the same table as Cosmos DB for Table does: shuffled across the whole table, JSON continuation tokens with `NextRowKey: NA`, no `x-ms-version`; ours runs with `--source-kind cosmos`. A `$filter` on a PartitionKey range (how ours reads such a source: key ranges in turn, src/engine/copy/ranged-reader.ts) is answered from a key index — the range's rows in the shuffled scan's order — and rendered as asked, not kept.",
    "- **ours**: `table-sync full-sync --tables benchsource:benchdest` with default settings (connection strings in `SOURCE_CONNECTION_STRING`/`DESTINATION_CONNECTION_STRING`, shared-key signed, over http on loopback), in a child process (run-cli.ts loads the CLI's modules, then runs it; wall time, CPU time and peak RSS are the run's, without node's start-up). Its rate is the entities the sink acknowledged (distinct keys) over that time; a run still going after the time-out is stopped and its rate is what the sink had by then.",
    "- **one scan**: one client GETs every page in turn with the previous page's continuation and reads the body without parsing it (node:http, keep-alive; entities counted by a byte search for `\"odata.etag\"`). A copy reads a table's pages in this order, so one scan is as fast as a plain reader gets through the link.",
    "- **pre-built writes**: every entity of the table in requests of its shape — one entity per partition: a plain PUT each; 10 per partition: transactions of 10; 1,000: transactions of 100 — every request's bytes built before the clock starts and sent by a raw HTTP/1.1 client on node:net (the least CPU a client can spend per request), with enough requests in flight to cover the round trip at 25,000 entities/s (at most 2,048, one keep-alive connection each). Every answer is checked (204, or 202 with a 204 part per operation) and the sink must hold every key.",
    opts.onlyOurs
      ? `- **--only ours**: no yardsticks were run, so the ceiling is ${fmt(ACCOUNT_TARGET)}/s (Table Storage's target per account) alone — this run measures our rate, CPU and peak RSS, not the ratio.`
      : `- **ceiling** = min(one scan, pre-built writes, ${fmt(ACCOUNT_TARGET)}/s — Table Storage's target per account), all measured in the same run and cell; the ratio is ours over it. Best of each kind over the rounds (the order alternates round by round).`,
    `- **servers busy**: the harness process's CPU time over the measurement's wall time (below): near 100 %, the harness itself was the limit, and the ceiling is the harness's, not the service's. **load**: the machine's 1-minute load average after the measurement; above ${cpu.length} (the core count), other work was taking CPU from the tool, the yardsticks and the servers alike, and every figure of that measurement is lower than the machine can do.`,
    "",
    "### Every measurement",
    "",
    "| cell | measurement | entities | seconds | entities/s | its CPU s | µs/entity | peak RSS MB | servers busy | in flight | load | check |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ...ms.map(
      (m) =>
        `| ${shapeName(m.cell)}, ${m.cell.rttMs} ms | ${m.kind} #${m.round + 1} | ${fmt(m.entities)} | ${(m.elapsedMs / 1000).toFixed(1)} | ${fmt(m.rate)} | ${(m.cpuMs / 1000).toFixed(1)} | ${cpuPerEntity(m)} | ${mb(m.maxRssKb)} | ${pct(m.harnessBusy)} | ${m.inflight ?? "–"} | ${m.load?.toFixed(1) ?? "–"} | ${m.verified} |`,
    ),
    "",
    MATRIX_END,
  ];
  return lines.join("\n");
}

await main();
