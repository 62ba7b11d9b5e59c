// The kill -9 resume benchmark (issue 11): a full sync with `--checkpoint-seconds 1`, killed with SIGKILL
// at a few moments, then run again to completion, exactly as a user would (the compiled CLI in a child
// process, two in-memory Azurite servers). Measures how much work the resumed run does again, and what
// checkpoints every second cost against a run without any.
//
//   npm run build && node build/bench/resume-kill.js [--shapes 1000:60000,1:20000] [--entities 60000]
//       [--kills 0.2,0.5,0.8|none] [--jitter 0.1] [--seed 11] [--rounds 3] [--pin off|on] [--note <text>]
//       [--results bench/RESULTS-resume.md]
//
// A shape is `entities per partition[:entities]` (without a count: --entities). One entity per partition is
// one request per entity, which Azurite takes at a few hundred a second on a shared 2-core machine: its
// default table is smaller so the bench stays within minutes.
//
// For each shape it seeds a source table once, then:
// 1. Overhead: the same full sync into a fresh destination server, `rounds` times in rotating order:
//    without a state file ("none"), with a state file and a checkpoint interval of a day ("huge"), and
//    with `--checkpoint-seconds 1` ("1 s"). The best run of each is compared (noise only ever slows a
//    run down); the 1 s run's rate is the run's rate used below.
// 2. Kills: for each moment f (jittered by ±jitter with the seed) a fresh destination and state file;
//    the CLI is started and killed with SIGKILL at f × the 1 s runs' median duration (from spawn). Once
//    the requests the destination had already received are done, the destination's keys are read: what
//    had landed. Then the same command runs to completion. It reads the source from the saved resume
//    point on, i.e. the last R entities of the (sorted) source, R being what it reports as read; of
//    those, the ones that had already landed before the kill are the work done again. Target: at most
//    2 s of work at the run's rate plus one page (1,000 entities). Everything before the resume point
//    must have landed (the resume point's promise), and the destination must end equal to the source,
//    entity by entity with exact wire types.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { TableMissingError } from "../src/engine/wire/errors.js";
import { TableReader } from "../src/engine/copy/reader.js";
import { prng } from "../test/support/prng.js";
import { startAzurite, type AzuriteServer } from "../test/support/azurite.js";
import type { WireEntity } from "../src/engine/wire/edm.js";
import { ensureTable } from "../src/engine/wire/tables.js";
import { TableWriter } from "../src/engine/copy/writer.js";
import {
  canPin,
  childPids,
  compareTables,
  httpFor,
  measuredCommit,
  pin,
  repoRoot,
  writeLayout,
} from "./common.js";
import { makeEntity, partitionKey, partitionSize, rowKey, type Layout } from "./data.js";

const PAGE = 1_000;
const ALLOWED_SECONDS = 2;
const TARGET_OVERHEAD = 0.95;
const SOURCE_TABLE = "resumesource";

const here = dirname(fileURLToPath(import.meta.url));
const root = repoRoot(here);

interface Shape {
  perPartition: number;
  entities: number;
}

interface Options {
  shapes: Shape[];
  kills: number[];
  jitter: number;
  seed: number;
  rounds: number;
  pin: boolean;
  note?: string;
  results: string;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      entities: { type: "string" },
      shapes: { type: "string" },
      kills: { type: "string" },
      jitter: { type: "string" },
      seed: { type: "string" },
      rounds: { type: "string" },
      pin: { type: "string" },
      note: { type: "string" },
      results: { type: "string" },
    },
    strict: true,
  });
  const num = (raw: string, what: string, min: number, max: number, integer: boolean): number => {
    const n = Number(raw.trim().replace(/_/g, ""));
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n)))
      throw new Error(
        `--${what}: expected ${integer ? "a whole number" : "a number"} in ${min}…${max}, not ${raw}`,
      );
    return n;
  };
  const list = (raw: string, what: string, min: number, max: number, integer: boolean) =>
    raw.split(",").map((s) => num(s, what, min, max, integer));
  const pinSetting = values.pin ?? "off";
  if (!["auto", "on", "off"].includes(pinSetting))
    throw new Error(`--pin must be auto, on or off, not ${pinSetting}`);
  const entities = num(values.entities ?? "60000", "entities", 2 * PAGE, 10_000_000, true);
  const shapes = (values.shapes ?? "1000:60000,1:20000").split(",").map((item): Shape => {
    const [per, count] = item.split(":");
    return {
      perPartition: num(per, "shapes", 1, 1_000_000, true),
      entities: count === undefined ? entities : num(count, "shapes", 2 * PAGE, 10_000_000, true),
    };
  });
  return {
    shapes,
    kills: values.kills === "none" ? [] : list(values.kills ?? "0.2,0.5,0.8", "kills", 0.01, 0.99, false),
    jitter: num(values.jitter ?? "0.1", "jitter", 0, 0.5, false),
    seed: num(values.seed ?? "11", "seed", 0, 2 ** 31, true),
    rounds: num(values.rounds ?? "3", "rounds", 1, 50, true),
    pin: pinSetting === "on" || (pinSetting === "auto" && cpus().length >= 2 && canPin()),
    note: values.note,
    results: resolve(values.results ?? join(root, "bench", "RESULTS-resume.md")),
  };
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const secs = (ms: number) => (ms / 1000).toFixed(1);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Pinning: the destination server alone on CPU 1; the CLI and the source server on CPU 0. */
const CPU_TOOL = 0;
const CPU_DESTINATION = 1;

/** What this process started and must end if it is interrupted (Ctrl+C, SIGTERM). */
const running = { servers: new Set<AzuriteServer>(), children: new Set<ChildProcess>() };
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    for (const child of running.children) child.kill("SIGKILL");
    void Promise.all([...running.servers].map((s) => s.stop().catch(() => undefined))).then(() =>
      process.exit(signal === "SIGINT" ? 130 : 143),
    );
  });
}

async function startServer(cpu: number | undefined): Promise<AzuriteServer> {
  const before = new Set(childPids());
  const started = await startAzurite();
  const server: AzuriteServer = {
    ...started,
    stop: async () => {
      running.servers.delete(server);
      await started.stop();
    },
  };
  running.servers.add(server);
  if (cpu !== undefined) {
    const pid = childPids().find((p) => !before.has(p));
    if (pid === undefined) throw new Error("cannot pin Azurite: its process id is unknown (use --pin off)");
    pin(pid, cpu);
  }
  return server;
}

interface CliRun {
  /** Exit code, or the signal that ended it. */
  exit: number | string;
  /** From spawn to exit (ms). */
  wallMs: number;
  /** The run itself, without node's start-up and module loading (run-cli.ts), when it exited by itself. */
  elapsedMs?: number;
  cpuMs?: number;
  maxRssKb?: number;
  /** The CLI's --json result. */
  read?: number;
  written?: number;
  failed?: number;
  stderrTail: string;
}

interface CliResultJson {
  tables?: { read: number; written: number; failed: number; error?: string }[];
}

/**
 * `table-sync full-sync` as a user runs it (build/bench/run-cli.js loads build/src/cli/index.js and records
 * its resource use), in a scratch directory with no .env; killed with SIGKILL after `killAfterMs`.
 */
async function runCli(
  args: string[],
  env: Record<string, string>,
  opts: { pin: boolean; killAfterMs?: number },
): Promise<CliRun & { killedAtMs?: number }> {
  const cwd = mkdtempSync(join(tmpdir(), "resume-kill-cli-"));
  const usageFile = join(cwd, "usage.json");
  // The CLI of the same build as this script (build/bench/run-cli.js loads build/src/cli/index.js).
  const script = join(here, "run-cli.js");
  const argv = [script, "full-sync", ...args, "--json", "--progress-seconds", "0"];
  const childEnv = { ...process.env, ...env, BENCH_USAGE_FILE: usageFile, BENCH_CLI: "build" };
  const started = performance.now();
  const child = opts.pin
    ? spawn("taskset", ["-c", String(CPU_TOOL), process.execPath, ...argv], {
        cwd,
        env: childEnv,
        stdio: ["ignore", "pipe", "pipe"],
      })
    : spawn(process.execPath, argv, { cwd, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
  running.children.add(child);
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
  child.stderr.setEncoding("utf8").on("data", (s: string) => (err = (err + s).slice(-4000)));
  let killedAtMs: number | undefined;
  const timer =
    opts.killAfterMs === undefined
      ? undefined
      : setTimeout(() => {
          killedAtMs = performance.now() - started;
          // taskset execs node, so the child's pid is node's either way.
          child.kill("SIGKILL");
        }, opts.killAfterMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((r) =>
    child.on("close", (c, s) => r([c, s])),
  );
  const wallMs = performance.now() - started;
  running.children.delete(child);
  if (timer) clearTimeout(timer);
  const run: CliRun & { killedAtMs?: number } = {
    exit: signal ?? code ?? -1,
    wallMs,
    stderrTail: err.slice(-2000),
    killedAtMs,
  };
  try {
    const usage = JSON.parse(readFileSync(usageFile, "utf8")) as {
      elapsedMs: number;
      cpuMs: number;
      maxRssKb: number;
    };
    run.elapsedMs = usage.elapsedMs;
    run.cpuMs = usage.cpuMs;
    run.maxRssKb = usage.maxRssKb;
  } catch {
    /* killed: no usage written */
  }
  const json = out.indexOf("{");
  if (json >= 0) {
    try {
      const t = (JSON.parse(out.slice(json)) as CliResultJson).tables?.[0];
      if (t) {
        run.read = t.read;
        run.written = t.written;
        run.failed = t.failed + (t.error ? 1 : 0);
      }
    } catch {
      /* killed mid-output, or no JSON */
    }
  }
  rmSync(cwd, { recursive: true, force: true });
  return run;
}

/**
 * Row `r` of partition `p`: bench/data.ts's entity (~1 KB, every EDM type), its row key made unique in the
 * table. Azurite finds an entity through an index on RowKey first: with the same row key in every
 * partition (r00000000 in a table of one entity per partition) each write scans the whole table, and the
 * copy slows down as the table fills (365 → 71 writes/s from 2,000 to 8,000 entities, measured). Within a
 * partition the keys still sort as numbered.
 */
function entityAt(p: number, r: number): WireEntity {
  return { ...makeEntity(p, r), rowKey: rowKeyAt(p, r) };
}

function rowKeyAt(p: number, r: number): string {
  return `${rowKey(r)}-${partitionKey(p)}`;
}

/** The source's keys in the service's order. */
function sourceKeys(layout: Layout): string[] {
  const keys: string[] = [];
  for (let p = 0; p < layout.partitions; p++) {
    const n = partitionSize(layout, p);
    for (let r = 0; r < n; r++) keys.push(`${partitionKey(p)}\u0000${rowKeyAt(p, r)}`);
  }
  return keys;
}

/** Fill the source table (not measured): transactions or single writes through the engine's writer. */
async function seedSource(connectionString: string, layout: Layout): Promise<number> {
  const started = performance.now();
  const http = httpFor(connectionString);
  await ensureTable(http, SOURCE_TABLE);
  const writer = new TableWriter(http, SOURCE_TABLE, {
    concurrency: 32,
    maxFailuresKept: 5,
    sortedSource: true,
  });
  return writeLayout(writer, layout, entityAt, started);
}

/** Every key at the destination (keys only on the wire). */
async function destinationKeys(connectionString: string, table: string): Promise<Set<string>> {
  const keys = new Set<string>();
  const reader = new TableReader(httpFor(connectionString), table, { select: ["PartitionKey", "RowKey"] });
  try {
    for await (const page of reader.pages())
      for (const e of page.entities) keys.add(`${e.partitionKey}\u0000${e.rowKey}`);
  } catch (err) {
    // Killed before the table was created: nothing landed.
    if (!(err instanceof TableMissingError)) throw err;
  }
  return keys;
}

interface StateCheckpoint {
  read: number;
  written?: number;
  at: string;
}

/** The checkpoint the killed run left in the state file (undefined: none saved yet). */
function savedCheckpoint(stateFile: string): { checkpoint?: StateCheckpoint; savedAgoMs?: number } {
  let text: string;
  try {
    text = readFileSync(stateFile, "utf8");
  } catch {
    return {};
  }
  const state = JSON.parse(text) as { tables?: Record<string, { checkpoint?: StateCheckpoint }> };
  const checkpoint = Object.values(state.tables ?? {}).find((t) => t.checkpoint)?.checkpoint;
  return { checkpoint, savedAgoMs: Date.now() - statSync(stateFile).mtimeMs };
}

type Variant = "none" | "huge" | "1 s";

interface OverheadRun {
  variant: Variant;
  round: number;
  elapsedMs: number;
  wallMs: number;
  cpuMs: number;
  rate: number;
  ok: boolean;
  note: string;
}

interface KillRun {
  fraction: number;
  killAtMs: number;
  killedAtMs: number;
  landed: number;
  checkpointRead?: number;
  checkpointAgeMs?: number;
  resumedRead: number;
  /** Entities before the resume point that had NOT landed (must be 0). */
  gap: number;
  reread: number;
  rereadSeconds: number;
  allowed: number;
  resumeMs: number;
  verified: string;
  pass: boolean;
}

interface ShapeResult {
  perPartition: number;
  layout: Layout;
  seedMs: number;
  overhead: OverheadRun[];
  best: Record<Variant, OverheadRun | undefined>;
  rate: number;
  expectedWallMs: number;
  kills: KillRun[];
}

async function measureShape(opts: Options, shape: Shape, rand: () => number): Promise<ShapeResult> {
  const perPartition = shape.perPartition;
  const layout: Layout = {
    entities: shape.entities,
    partitions: Math.max(1, Math.ceil(shape.entities / perPartition)),
  };
  const tool = opts.pin ? CPU_TOOL : undefined;
  const dstCpu = opts.pin ? CPU_DESTINATION : undefined;
  const src = await startServer(tool);
  try {
    const seedMs = await seedSource(src.connectionString, layout);
    console.log(
      `\n[${perPartition}/partition] seeded ${fmt(layout.entities)} entities in ${fmt(layout.partitions)} partitions in ${secs(seedMs)} s`,
    );
    const keys = sourceKeys(layout);
    const scratch = mkdtempSync(join(tmpdir(), "resume-kill-"));
    let runNo = 0;
    /** `fn` with a fresh destination server (stopped afterwards), a table name and a state file path. */
    const withDestination = async <T>(
      fn: (dst: AzuriteServer, table: string, stateFile: string) => Promise<T>,
    ) => {
      const dst = await startServer(dstCpu);
      try {
        runNo++;
        return await fn(dst, `resumedest${runNo}`, join(scratch, `state-${runNo}.json`));
      } finally {
        await dst.stop().catch(() => undefined);
      }
    };
    const envFor = (dst: AzuriteServer) => ({
      SOURCE_CONNECTION_STRING: src.connectionString,
      DESTINATION_CONNECTION_STRING: dst.connectionString,
    });

    // 1. Overhead, rotating the order each round.
    const variants: Variant[] = ["none", "huge", "1 s"];
    const overhead: OverheadRun[] = [];
    for (let round = 1; round <= opts.rounds; round++) {
      const order = variants.map((_, i) => variants[(i + round - 1) % variants.length]);
      for (const variant of order) {
        const run = await withDestination(async (dst, table, stateFile) => {
          const args = [`--tables`, `${SOURCE_TABLE}:${table}`];
          if (variant !== "none")
            args.push("--state-file", stateFile, "--checkpoint-seconds", variant === "huge" ? "86400" : "1");
          const r = await runCli(args, envFor(dst), { pin: opts.pin });
          const ok = r.exit === 0 && r.written === layout.entities && r.failed === 0;
          const elapsedMs = r.elapsedMs ?? r.wallMs;
          return {
            variant,
            round,
            elapsedMs,
            wallMs: r.wallMs,
            cpuMs: r.cpuMs ?? 0,
            rate: layout.entities / (elapsedMs / 1000),
            ok,
            note: ok ? "" : `exit ${r.exit}, written ${r.written}, failed ${r.failed}: ${r.stderrTail}`,
          };
        });
        overhead.push(run);
        console.log(
          `  round ${round} ${variant.padEnd(4)} ${secs(run.elapsedMs)} s  ${fmt(run.rate)} entities/s  cpu ${secs(run.cpuMs)} s${run.ok ? "" : `  FAILED ${run.note}`}`,
        );
      }
    }
    const bestOf = (v: Variant) =>
      overhead.filter((r) => r.variant === v && r.ok).sort((a, b) => a.elapsedMs - b.elapsedMs)[0];
    const best = { none: bestOf("none"), huge: bestOf("huge"), "1 s": bestOf("1 s") };
    const oneSecond = overhead.filter((r) => r.variant === "1 s" && r.ok);
    if (oneSecond.length === 0) throw new Error("no full sync with --checkpoint-seconds 1 completed");
    const rate = best["1 s"]?.rate ?? 0;
    const expectedWallMs = median(oneSecond.map((r) => r.wallMs));

    // 2. Kills.
    const kills: KillRun[] = [];
    for (const base of opts.kills) {
      const fraction = Math.min(0.98, Math.max(0.02, base + (rand() * 2 - 1) * opts.jitter));
      let killAtMs = Math.round(fraction * expectedWallMs);
      let kill: KillRun | undefined;
      for (let attempt = 1; !kill; attempt++) {
        kill = await withDestination(async (dst, table, stateFile): Promise<KillRun | undefined> => {
          const args = [
            "--tables",
            `${SOURCE_TABLE}:${table}`,
            "--state-file",
            stateFile,
            "--checkpoint-seconds",
            "1",
          ];
          const killed = await runCli(args, envFor(dst), { pin: opts.pin, killAfterMs: killAtMs });
          if (killed.exit === 0 && attempt < 3) {
            // Faster than the runs before it: kill the same share of this run's time, into a fresh destination.
            console.log(
              `  the run ended after ${secs(killed.wallMs)} s, before the kill at ${secs(killAtMs)} s: again`,
            );
            killAtMs = Math.round(fraction * killed.wallMs);
            return undefined;
          }
          if (killed.exit !== "SIGKILL")
            throw new Error(
              `the run ended (exit ${killed.exit}) before the kill at ${killAtMs} ms: ${killed.stderrTail}`,
            );
          const { checkpoint, savedAgoMs } = savedCheckpoint(stateFile);
          // Requests the destination had received before the kill still complete there: read until two
          // reads half a second apart agree.
          let landedKeys = new Set<string>();
          for (let i = 0; i < 10; i++) {
            await sleep(500);
            const now = await destinationKeys(dst.connectionString, table);
            if (i > 0 && now.size === landedKeys.size) break;
            landedKeys = now;
          }
          const resumed = await runCli(args, envFor(dst), { pin: opts.pin });
          if (resumed.exit !== 0 || resumed.read === undefined)
            throw new Error(`the resumed run failed (exit ${resumed.exit}): ${resumed.stderrTail}`);
          // The resumed run read the last `resumed.read` entities of the sorted source.
          const from = layout.entities - resumed.read;
          let reread = 0;
          let landedBefore = 0;
          for (let i = 0; i < keys.length; i++) {
            if (!landedKeys.has(keys[i])) continue;
            if (i >= from) reread++;
            else landedBefore++;
          }
          const cmp = await compareTables(
            { connectionString: src.connectionString, table: SOURCE_TABLE },
            { connectionString: dst.connectionString, table },
            layout.partitions <= 1_000
              ? Array.from({ length: layout.partitions }, (_, p) => partitionKey(p))
              : undefined,
          );
          const exact =
            cmp.mismatches === 0 && cmp.destination === layout.entities && cmp.source === layout.entities;
          const allowed = ALLOWED_SECONDS * rate + PAGE;
          const gap = from - landedBefore;
          const consistent = checkpoint ? checkpoint.read === from : from === 0;
          const run: KillRun = {
            fraction,
            killAtMs,
            killedAtMs: killed.killedAtMs ?? killAtMs,
            landed: landedKeys.size,
            checkpointRead: checkpoint?.read,
            checkpointAgeMs: checkpoint ? savedAgoMs : undefined,
            resumedRead: resumed.read,
            gap,
            reread,
            rereadSeconds: rate > 0 ? reread / rate : 0,
            allowed,
            resumeMs: resumed.elapsedMs ?? resumed.wallMs,
            verified: exact
              ? `all ${fmt(cmp.destination)} identical`
              : `MISMATCH ${cmp.mismatches} (destination ${cmp.destination}; ${cmp.firstMismatch ?? ""})`,
            pass: exact && gap === 0 && consistent && reread <= allowed,
          };
          if (!consistent)
            run.verified += `; resumed from ${from}, checkpoint said ${checkpoint?.read ?? "none"}`;
          return run;
        });
      }
      kills.push(kill);
      console.log(
        `  kill at ${(kill.fraction * 100).toFixed(0)} % (${secs(kill.killedAtMs)} s): ${fmt(kill.landed)} landed, resume point ${fmt(kill.checkpointRead ?? 0)}` +
          `${kill.checkpointAgeMs !== undefined ? ` (state file written ${fmt(kill.checkpointAgeMs)} ms before)` : ""}; resumed run read ${fmt(kill.resumedRead)}, ` +
          `of which ${fmt(kill.reread)} had landed = ${kill.rereadSeconds.toFixed(2)} s of work (allowed ${fmt(kill.allowed)}); gap ${kill.gap}; ${kill.verified}; ${kill.pass ? "pass" : "FAIL"}`,
      );
    }
    rmSync(scratch, { recursive: true, force: true });
    return { perPartition, layout, seedMs, overhead, best, rate, expectedWallMs, kills };
  } finally {
    await src.stop().catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const opts = options();
  const rand = prng(opts.seed);
  const loadAtStart = loadavg()[0];
  console.log(
    `resume-kill: shapes ${opts.shapes.map((s) => `${fmt(s.entities)} entities, ${fmt(s.perPartition)} per partition`).join("; ")}, kills at ${opts.kills.join(", ")} ±${opts.jitter} (seed ${opts.seed}), ` +
      `${opts.rounds} overhead rounds; ${cpus().length} cores, node ${process.version}, load ${loadAtStart.toFixed(2)}; ${opts.pin ? "pinned" : "not pinned"}`,
  );
  if (opts.pin) pin(process.pid, CPU_TOOL);
  const shapes: ShapeResult[] = [];
  for (const shape of opts.shapes) shapes.push(await measureShape(opts, shape, rand));

  const ratio = (s: ShapeResult, against: Variant) => {
    const a = s.best[against];
    const b = s.best["1 s"];
    return a && b ? a.elapsedMs / b.elapsedMs : 0;
  };
  const killsPass = shapes.every((s) => s.kills.every((k) => k.pass));
  const killed = shapes.some((s) => s.kills.length > 0);
  const overheadPass = shapes.every((s) => ratio(s, "none") >= TARGET_OVERHEAD);
  const overheadOk = shapes.every((s) => s.overhead.every((r) => r.ok));

  const killRows = shapes.flatMap((s) =>
    s.kills.map(
      (k) =>
        `| ${s.perPartition} | ${(k.fraction * 100).toFixed(0)} % (${secs(k.killedAtMs)} s) | ${fmt(k.landed)} | ${k.checkpointRead === undefined ? "none" : fmt(k.checkpointRead)} | ${k.checkpointAgeMs === undefined ? "–" : fmt(k.checkpointAgeMs)} | ${fmt(k.resumedRead)} | **${fmt(k.reread)}** | **${k.rereadSeconds.toFixed(2)} s** | ${fmt(k.allowed)} | ${k.gap} | ${k.verified} | ${k.pass ? "pass" : "**FAIL**"} |`,
    ),
  );
  const overheadRows = shapes.map((s) => {
    const cell = (v: Variant) => {
      const b = s.best[v];
      return b ? `${secs(b.elapsedMs)} s (${fmt(b.rate)}/s)` : "failed";
    };
    const all = (v: Variant) =>
      s.overhead
        .filter((r) => r.variant === v)
        .map((r) => (r.ok ? secs(r.elapsedMs) : "failed"))
        .join(", ");
    const r = ratio(s, "none");
    return `| ${s.perPartition} | ${cell("none")} | ${cell("huge")} | ${cell("1 s")} | **${r.toFixed(3)}** ${r >= TARGET_OVERHEAD ? "met" : "NOT met"} | ${ratio(s, "huge").toFixed(3)} | ${all("none")} / ${all("huge")} / ${all("1 s")} |`;
  });

  const lines = [
    `## ${new Date().toISOString()} — commit ${measuredCommit(root)}`,
    "",
    `- machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, ${fmt(totalmem() / 2 ** 30, 1)} GiB, node ${process.version}; load average ${loadAtStart.toFixed(2)} at the start, ${loadavg()[0].toFixed(2)} at the end (the machine is shared); ${opts.pin ? "pinned: the destination server on CPU 1, the CLI and the source server on CPU 0" : "not pinned"}`,
    `- shapes: ${shapes.map((s) => `${fmt(s.layout.entities)} entities in ${fmt(s.layout.partitions)} partitions (${fmt(s.perPartition)} per partition)`).join("; ")}; entities of ~1 KB (bench/data.ts: every EDM type; row keys unique in the table, see entityAt); Azurite in memory, a fresh destination server for every run; the CLI as a user runs it: \`node build/src/cli/index.js full-sync --tables … --json\` (through build/bench/run-cli.js, which records its time without node's start-up), default settings (concurrency auto)`,
    ...(opts.note ? [`- ${opts.note}`] : []),
    `- kills at ${opts.kills.join(", ") || "none"} of the 1 s runs' median duration, each moved by up to ±${opts.jitter} (seed ${opts.seed}); allowed re-read = ${ALLOWED_SECONDS} s × the run's rate (the best 1 s run) + ${fmt(PAGE)} (one page)`,
    "",
    ...(killed
      ? [
          "### Kill -9, then run again",
          "",
          "| per partition | kill at | landed at the kill | resume point (read) | state file last written, ms before the kill | resumed run read | re-read that had landed | in seconds of work | allowed | not landed before the resume point | destination after the resume | |",
          "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
          ...killRows,
          "",
        ]
      : []),
    "### Overhead of checkpoints every second (best of each)",
    "",
    `| per partition | no state file | state file, checkpoint every day | --checkpoint-seconds 1 | none ÷ 1 s (target ≥ ${TARGET_OVERHEAD}) | day ÷ 1 s | every run, s (none / day / 1 s) |`,
    "|---:|---:|---:|---:|---:|---:|---|",
    ...overheadRows,
    "",
    `Targets: kills ${killed ? (killsPass ? "met" : "NOT met") : "not measured"}; overhead ${overheadPass ? "met" : "NOT met"}${overheadOk ? "" : " (some runs failed)"}.`,
  ];
  console.log(`\n${lines.join("\n")}`);

  const header = [
    "# Kill -9 resume benchmark results",
    "",
    "Written by `node build/bench/resume-kill.js` (bench/resume-kill.ts; `npm run bench` runs it). Issue 11:",
    "with `--checkpoint-seconds 1`, a kill -9 at any moment re-reads at most ~2 s of work plus one page, and a",
    "run with checkpoints every second is ≥ 0.95 × as fast as one without.",
    "",
    "Method: a source table seeded once per shape; every run into a fresh in-memory Azurite destination. The CLI",
    "runs in a child process that is killed with SIGKILL at the given moment (from its spawn); then the",
    "destination's keys are read every 0.5 s until two reads agree (requests it had received still land). The",
    "same command then",
    "runs to completion: it reads the last R entities of the sorted source (R = what its `--json` result says it",
    "read, which must equal the table size less the saved resume point's `read`). *Re-read that had landed* = the",
    "entities among those R that were already at the destination when the CLI was killed: work done twice. It is",
    "converted to seconds at the best `--checkpoint-seconds 1` run's rate. *Not landed before the resume point*",
    "must be 0 (every entity before a resume point is written), and the destination must end equal to the source,",
    "entity by entity with exact wire types (bench/common.ts compareTables). Overhead: the same full sync without",
    "a state file, with one but a checkpoint interval of a day, and with `--checkpoint-seconds 1`, in rotating",
    "order, best of each; the ratio is the time without a state file over the time with checkpoints every second.",
    "",
  ];
  let previous = "";
  try {
    previous = readFileSync(opts.results, "utf8");
  } catch {
    /* first run */
  }
  const firstRun = previous.indexOf("\n## ");
  const body = firstRun >= 0 ? previous.slice(firstRun + 1) : "";
  writeFileSync(opts.results, `${header.join("\n")}\n${lines.join("\n")}\n${body ? `\n${body}` : ""}`);
  console.log(`written to ${opts.results}`);
  process.exitCode = killsPass && overheadPass && overheadOk ? 0 : 1;
}

await main();
