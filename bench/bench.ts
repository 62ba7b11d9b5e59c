// The benchmark: our full sync against the sink's ceiling and against a per-entity copy, on two real
// Azurite table servers. Prints the figures and writes them to bench/RESULTS.md.
//
//   npm run bench -- [--entities 100000] [--partitions 100] [--concurrency 8] [--rounds 5]
//                    [--per-entity-limit 20000] [--per-entity-concurrency 10] [--verify full|count]
//                    [--pin auto|on|off] [--results bench/RESULTS.md]
//
// Every option can also be given as an environment variable: BENCH_ENTITIES, BENCH_PARTITIONS, …
//
// Fairness: each measurement runs in its own child process and writes into a fresh destination
// server (a new Azurite), so no measurement inherits another's data, connections or garbage. The
// sync and the ceiling are measured `rounds` times in alternating order (ceiling first in odd rounds,
// sync first in even ones), and the best of each is compared: on a shared machine noise only ever
// slows a run down.
//
// The source: the sync reads a replay of Azurite's own pages at Azurite's own pace (replay-source.ts), so
// the source's CPU is not taken from the tool's core; the same sync reading Azurite directly is measured
// too (sync-shared-cpu) and shown beside it.
//
// Pinning (default where `taskset` works and there are 2+ cores): the destination server gets a CPU of
// its own, the tool and the source server share another. A real sink's capacity does not shrink when
// the tool or the source is busy; unpinned on 2 cores, the three processes would take CPU from each
// other, and the ceiling (which has no source to read) would be measured with more CPU than the sync.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus, totalmem, release, platform, loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ensureTable } from "../src/engine/wire/tables.js";
import { TableReader } from "../src/engine/copy/reader.js";
import { ReplaySource } from "./replay-source.js";
import { startAzurite, type AzuriteServer } from "../test/support/azurite.js";
import {
  canPin,
  childPids,
  compareTables,
  countEntities,
  httpFor,
  pin,
  processCpuSeconds,
  runChild,
  type Measured,
  azuriteVersion,
  repoRoot,
  seedTable,
} from "./common.js";
import { entities, partitionKey, type Layout } from "./data.js";
import { entityJson } from "../src/engine/wire/edm.js";
import { keepMatrixSection } from "./results-section.js";

/**
 * sync: our full sync reading the replayed source (Azurite's recorded pages at Azurite's pace, served off
 * the tool's CPU budget); sync-shared-cpu: the same sync reading the Azurite server itself, which shares
 * the tool's CPU.
 */
type Kind = "sync" | "sync-shared-cpu" | "ceiling" | "ceiling-busy" | "per-entity";

interface Options extends Layout {
  concurrency: number;
  rounds: number;
  perEntityLimit: number;
  perEntityConcurrency: number;
  seedConcurrency: number;
  verify: "full" | "count";
  pin: boolean;
  results: string;
}

interface Row extends Measured {
  kind: Kind;
  round: number;
  rate: number;
  sourceCpuS?: number;
  destinationCpuS?: number;
  verified: string;
}

const here = dirname(fileURLToPath(import.meta.url));

function options(): Options {
  const { values } = parseArgs({
    options: {
      entities: { type: "string" },
      partitions: { type: "string" },
      concurrency: { type: "string" },
      rounds: { type: "string" },
      "per-entity-limit": { type: "string" },
      "per-entity-concurrency": { type: "string" },
      "seed-concurrency": { type: "string" },
      verify: { type: "string" },
      pin: { type: "string" },
      results: { type: "string" },
    },
    strict: true,
  });
  const pick = (name: keyof typeof values): string | undefined => {
    const env = `BENCH_${name.toUpperCase().replace(/-/g, "_")}`;
    const v = values[name] ?? process.env[env];
    return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
  };
  const int = (name: keyof typeof values, fallback: number, min = 1): number => {
    const raw = pick(name);
    if (raw === undefined) return fallback;
    const n = Number(raw.replace(/_/g, ""));
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, not ${raw}`);
    return n;
  };
  const entityCount = int("entities", 100_000);
  const verify = pick("verify") ?? "full";
  if (verify !== "full" && verify !== "count")
    throw new Error(`--verify must be full or count, not ${verify}`);
  const pinSetting = pick("pin") ?? "auto";
  if (!["auto", "on", "off"].includes(pinSetting))
    throw new Error(`--pin must be auto, on or off, not ${pinSetting}`);
  const pinning = pinSetting === "on" || (pinSetting === "auto" && cpus().length >= 2 && canPin());
  return {
    entities: entityCount,
    partitions: Math.min(int("partitions", 100), entityCount),
    concurrency: int("concurrency", 8),
    rounds: int("rounds", 5),
    perEntityLimit: Math.min(int("per-entity-limit", 20_000), entityCount),
    perEntityConcurrency: int("per-entity-concurrency", 10),
    seedConcurrency: int("seed-concurrency", 16),
    verify,
    pin: pinning,
    results: resolve(pick("results") ?? join(repoRoot(here), "bench", "RESULTS.md")),
  };
}

/** Start Azurite, learn its process id (to read its CPU time) and pin it to `cpu` if given. */
async function startServer(cpu?: number): Promise<{ server: AzuriteServer; pid?: number }> {
  const before = new Set(childPids());
  const server = await startAzurite();
  const pid = childPids().find((p) => !before.has(p));
  if (cpu !== undefined) {
    if (pid === undefined) throw new Error("cannot pin Azurite: its process id is unknown (use --pin off)");
    pin(pid, cpu);
  }
  return { server, pid };
}

/** CPUs when pinning: the destination alone on one; the tool and the source on another (or a third). */
function cpuPlan(opts: Options): { tool?: number; source?: number; destination?: number } {
  if (!opts.pin) return {};
  return { tool: 0, destination: 1, source: cpus().length >= 3 ? 2 : 0 };
}

/** A process that keeps one CPU busy at the lowest priority (nice 19) until killed. */
function startBurner(cpu: number | undefined): ChildProcess | undefined {
  if (cpu === undefined) return undefined;
  return spawn("taskset", ["-c", String(cpu), "nice", "-n", "19", process.execPath, "-e", "for (;;);"], {
    stdio: "ignore",
  });
}

/** Share of the measurement's wall time the destination server spent on a CPU. */
const busy = (r: Row) =>
  r.destinationCpuS === undefined ? "–" : `${Math.round((r.destinationCpuS * 100_000) / r.elapsedMs)}%`;

/** The sync's destination-busy share over the ceiling's: near 1, the sync kept the sink as busy as it can be. */
const busyShare = (sync: Row, ceiling: Row) =>
  sync.destinationCpuS === undefined || ceiling.destinationCpuS === undefined
    ? "–"
    : (sync.destinationCpuS / sync.elapsedMs / (ceiling.destinationCpuS / ceiling.elapsedMs)).toFixed(3);

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const secs = (ms: number) => (ms / 1000).toFixed(1);
const mb = (kb: number) => (kb / 1024).toFixed(0);

async function main(): Promise<void> {
  const opts = options();
  const layout: Layout = { entities: opts.entities, partitions: opts.partitions };
  let avgBytes = 0;
  {
    let n = 0;
    for (const e of entities({ entities: Math.min(1000, opts.entities), partitions: 1 })) {
      avgBytes += Buffer.byteLength(entityJson(e));
      n++;
    }
    avgBytes = Math.round(avgBytes / n);
  }
  const plan = cpuPlan(opts);
  const loadAtStart = loadavg()[0];
  console.log(
    `bench: ${fmt(opts.entities)} entities (~${avgBytes} B of JSON each) in ${opts.partitions} partitions, ` +
      `concurrency ${opts.concurrency}, ${opts.rounds} round(s); ${cpus().length} cores, node ${process.version}, ` +
      `load average ${loadAtStart.toFixed(2)}; ` +
      (opts.pin
        ? `pinned: destination on CPU ${plan.destination}, tool and source on CPU ${plan.tool}`
        : "not pinned"),
  );

  // This process serves the replayed source (see replay-source.ts): on the tool's CPU, where a source
  // that shares the machine would run, never on the destination's.
  if (plan.tool !== undefined) pin(process.pid, plan.tool);
  const src = await startServer(plan.source);
  const servers: AzuriteServer[] = [src.server];
  let replay: ReplaySource | undefined;
  const cleanup = async () => {
    await Promise.all(servers.map((s) => s.stop().catch(() => undefined)));
    await replay?.stop().catch(() => undefined);
  };
  process.once("SIGINT", () => void cleanup().then(() => process.exit(130)));
  const rows: Row[] = [];
  let sourceScanRate = 0;
  try {
    // Seed the source (not measured): transactions through the engine's writer, many in flight.
    const sourceTable = "benchsource";
    const seedMs = await seedTable(src.server.connectionString, sourceTable, layout, opts.seedConcurrency);
    console.log(`seeded ${fmt(opts.entities)} entities in ${secs(seedMs)} s (not measured)`);

    // Checked partition by partition (Azurite reads a large table far faster that way).
    const partitionKeys = Array.from({ length: opts.partitions }, (_, p) => partitionKey(p));
    const sourceCount = await countEntities(src.server.connectionString, sourceTable, partitionKeys);
    if (sourceCount !== opts.entities)
      throw new Error(`the source holds ${sourceCount} of ${opts.entities} entities`);
    // Warm Azurite up first with one whole-table read, not recorded: a real source service is not a
    // process that has never served a query. Recorded cold, the first few dozen pages took 2–3 times
    // their steady time (JIT warm-up), and every replayed sync then starved the destination for its
    // first seconds, a cost of the bench, not of the sync.
    const warmStart = performance.now();
    let warmed = 0;
    for await (const page of new TableReader(httpFor(src.server.connectionString), sourceTable, {
      readAhead: 1,
    }).pages())
      warmed += page.entities.length;
    if (warmed !== opts.entities)
      throw new Error(`warming the source read ${warmed} of ${opts.entities} entities`);
    console.log(`warmed the source up in ${secs(performance.now() - warmStart)} s (not measured)`);
    // Record the pages a sync asks for, one request at a time so each one's time is Azurite's alone
    // (see replay-source.ts).
    const recordStart = performance.now();
    const replaying = await ReplaySource.start(src.server.connectionString);
    replay = replaying;
    const replayConnectionString = replaying.connectionString(src.server.connectionString);
    let recordedEntities = 0;
    const recorder = new TableReader(httpFor(replayConnectionString), sourceTable, {
      readAhead: 1,
    });
    for await (const page of recorder.pages()) recordedEntities += page.entities.length;
    if (recordedEntities !== opts.entities)
      throw new Error(`recording the source read ${recordedEntities} of ${opts.entities} entities`);
    replaying.replay();
    sourceScanRate = (opts.entities * 1000) / replaying.recordedServiceMs;
    console.log(
      `recorded the source's ${replaying.recorded} pages in ${secs(performance.now() - recordStart)} s (not measured); ` +
        `Azurite served them at ${fmt(sourceScanRate)} entities/s, the fastest a sync can read them one page after another`,
    );
    const measure = async (kind: Kind, round: number): Promise<Row> => {
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
    };

    // The busy-core ceiling only means something when the tool has a CPU of its own to keep busy.
    const ceilings: Kind[] = opts.pin ? ["ceiling", "ceiling-busy"] : ["ceiling"];
    for (let round = 0; round < opts.rounds; round++) {
      const syncs: Kind[] = ["sync", "sync-shared-cpu"];
      const order: Kind[] =
        round % 2 === 0 ? [...ceilings, ...syncs] : [...syncs.toReversed(), ...ceilings.toReversed()];
      for (const kind of order) rows.push(await measure(kind, round));
    }
    rows.push(await measure("per-entity", 0));
  } finally {
    await cleanup();
  }

  const best = (kind: Kind) =>
    rows
      .filter((r) => r.kind === kind)
      .reduce<Row | undefined>((b, r) => (!b || r.rate > b.rate ? r : b), undefined);
  const sync = best("sync");
  const syncShared = best("sync-shared-cpu");
  const ceiling = best("ceiling");
  const ceilingBusy = best("ceiling-busy");
  const perEntity = best("per-entity");
  if (!sync || !syncShared || !ceiling || !perEntity) throw new Error("a measurement is missing");
  const peakRssKb = Math.max(
    ...rows.filter((r) => r.kind === "sync" || r.kind === "sync-shared-cpu").map((r) => r.maxRssKb),
  );
  const vsCeiling = sync.rate / ceiling.rate;
  const vsCeilingBusy = ceilingBusy ? sync.rate / ceilingBusy.rate : undefined;
  const vsPerEntity = sync.rate / perEntity.rate;
  const sharedVsCeiling = syncShared.rate / ceiling.rate;
  const sharedVsCeilingBusy = ceilingBusy ? syncShared.rate / ceilingBusy.rate : undefined;
  // Paired: each round's sync against the same round's ceiling, measured minutes apart at most, so a
  // slow or fast spell of the machine that spans the round cancels out; the median round is shown.
  const paired = (ceilingKind: Kind): number | undefined => {
    const ratios: number[] = [];
    for (let round = 0; round < opts.rounds; round++) {
      const s = rows.find((r) => r.kind === "sync" && r.round === round);
      const c = rows.find((r) => r.kind === ceilingKind && r.round === round);
      if (s && c) ratios.push(s.rate / c.rate);
    }
    if (ratios.length === 0) return undefined;
    ratios.sort((a, b) => a - b);
    const mid = Math.floor(ratios.length / 2);
    return ratios.length % 2 === 1 ? ratios[mid] : (ratios[mid - 1] + ratios[mid]) / 2;
  };
  const pairedCeiling = paired("ceiling");
  const pairedCeilingBusy = paired("ceiling-busy");
  const allVerified = rows.every((r) => !r.verified.includes("MISMATCH") && r.failed === 0 && !r.error);
  const pass = (ok: boolean) => (ok ? "met" : "NOT met");
  const summary = [
    `our full sync                   ${fmt(sync.rate)} entities/s  (destination busy ${busy(sync)})`,
    `  source sharing the tool's CPU ${fmt(syncShared.rate)} entities/s  (destination busy ${busy(syncShared)})`,
    `sink ceiling                    ${fmt(ceiling.rate)} entities/s  (destination busy ${busy(ceiling)})`,
    ...(ceilingBusy
      ? [
          `sink ceiling, tool's CPU busy   ${fmt(ceilingBusy.rate)} entities/s  (destination busy ${busy(ceilingBusy)})`,
        ]
      : []),
    `per-entity copy                 ${fmt(perEntity.rate)} entities/s` +
      (opts.perEntityLimit < opts.entities ? ` (first ${fmt(opts.perEntityLimit)} entities)` : ""),
    `ours / ceiling                  ${vsCeiling.toFixed(3)}  (target ≥ 0.95: ${pass(vsCeiling >= 0.95)})`,
    ...(vsCeilingBusy !== undefined
      ? [
          `ours / ceiling, tool's CPU busy ${vsCeilingBusy.toFixed(3)}  (target ≥ 0.95: ${pass(vsCeilingBusy >= 0.95)})`,
        ]
      : []),
    `  median round, paired          ${pairedCeiling?.toFixed(3) ?? "–"} / ${pairedCeilingBusy?.toFixed(3) ?? "–"} (each round's sync ÷ that round's ceiling / tool's CPU busy; shown, not a target)`,
    `  destination busy, ours ÷ ceiling ${busyShare(sync, ceiling)} (how much of the sink's capacity the sync used; machine speed cancels out)`,
    `  source sharing the tool's CPU ${sharedVsCeiling.toFixed(3)} / ${sharedVsCeilingBusy?.toFixed(3) ?? "–"} (ceiling / tool's CPU busy; shown, not a target)`,
    `ours / per-entity               ${vsPerEntity.toFixed(2)}  (target ≥ 5: ${pass(vsPerEntity >= 5)})`,
    `source, one scan               ${fmt(sourceScanRate)} entities/s  (Azurite's time for every page, one after another)`,
    `peak RSS of sync                ${mb(peakRssKb)} MB` +
      (opts.entities >= 1_000_000
        ? `  (target ≤ 256 MB at 1 000 000: ${pass(peakRssKb <= 256 * 1024)})`
        : ""),
    `data verified                   ${allVerified ? "yes" : "NO — see the rows above"}`,
  ];
  console.log(`\n${summary.join("\n")}`);
  // The matrix (matrix.ts) keeps its own section in the same file: carried over.
  writeFileSync(
    opts.results,
    keepMatrixSection(opts.results, resultsMarkdown(opts, avgBytes, rows, summary, loadAtStart)),
  );
  console.log(`\nwritten to ${opts.results}`);
  if (!allVerified) process.exitCode = 1;
}

function gitCommit(): string {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], {
      cwd: repoRoot(here),
      encoding: "utf8",
    }).trim();
  } catch {
    return "?";
  }
}

function resultsMarkdown(
  opts: Options,
  avgBytes: number,
  rows: Row[],
  summary: string[],
  loadAtStart: number,
): string {
  const cpu = cpus();
  const plan = cpuPlan(opts);
  const lines = [
    "# Benchmark results",
    "",
    "Written by `npm run bench` (bench/bench.ts); each run overwrites this file.",
    "",
    `- date: ${new Date().toISOString()}`,
    `- entities: ${fmt(opts.entities)} (~${avgBytes} bytes of JSON each: strings, Int32, Int64, Double, DateTime, Guid, Binary, Boolean) in ${opts.partitions} partitions`,
    `- concurrency: ${opts.concurrency} transactions in flight (sync and ceiling); per-entity copy: ${opts.perEntityConcurrency} requests in flight` +
      (opts.perEntityLimit < opts.entities ? `, first ${fmt(opts.perEntityLimit)} entities` : ""),
    `- machine: ${cpu.length} cores (${cpu[0]?.model.trim() ?? "?"}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${platform()} ${release()}, 1-minute load average ${loadAtStart.toFixed(2)} at the start and ${loadavg()[0].toFixed(2)} at the end (other work on the machine)`,
    opts.pin
      ? `- pinned: the destination server on CPU ${plan.destination}; the tool (each measurement's process), the replayed source (the bench's own process) and the source server on CPU ${plan.tool === plan.source ? plan.tool : `${plan.tool} and ${plan.source}`}`
      : "- not pinned: all processes share all cores",
    `- node ${process.version}, Azurite ${azuriteVersion()} (in memory, one server per side), commit ${gitCommit()}`,
    "",
    "## Summary",
    "",
    "Best run of each kind (noise on a shared machine only slows a run down):",
    "",
    "```",
    ...summary,
    "```",
    "",
    "## Every measurement",
    "",
    "| measurement | entities | seconds | entities/s | its CPU s | its page faults | source Azurite CPU s | destination Azurite CPU s | destination busy | peak RSS MB | check |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ...rows.map(
      (r) =>
        `| ${r.kind} #${r.round + 1} | ${fmt(r.entities)} | ${secs(r.elapsedMs)} | ${fmt(r.rate)} | ${secs(r.cpuMs)} | ${r.pageFaults === undefined ? "–" : fmt(r.pageFaults)} | ${r.sourceCpuS?.toFixed(1) ?? "–"} | ${r.destinationCpuS?.toFixed(1) ?? "–"} | ${busy(r)} | ${mb(r.maxRssKb)} | ${r.verified} |`,
    ),
    "",
    "## Method",
    "",
    "- Two in-memory Azurite table servers on this machine: the source (seeded once, not timed) and a fresh destination server for every measurement.",
    "- **sync**: `runSync` (replace mode) in its own child process; the time covers the whole copy (reading, transforming, writing); peak RSS is that process's `maxRSS` over its whole life. After each sync, source and destination are compared entity by entity with exact wire types (partition by partition, which Azurite serves much faster than one scan of a large table); the other measurements' destinations are counted.",
    "- **The source a sync reads** (bench/replay-source.ts): before anything is timed, the bench reads the source table once to warm Azurite up (recorded cold, the first pages took 2–3 times their steady time), then once more through a recording proxy, page by page as a sync asks for them, one request at a time. The **sync** then reads that recording: every page is Azurite's own answer (the same bytes and continuation headers), sent after as long as Azurite took to produce it. So the source is exactly as fast as Azurite, but its work no longer lands on the tool's CPU: serving 100,000 entities costs Azurite about 7 CPU seconds, more than the whole sync costs the tool, and a real source (Table Storage) costs the runner nothing. **sync-shared-cpu** is the same sync reading the Azurite server itself on the tool's CPU; it is shown for comparison and is not the target's figure. A page the recording lacks would go to Azurite and fail the check (none do).",
    "- **ceiling**: the same entities as 100-operation transactions, all bodies built before the clock starts, sent to the destination with the same concurrency through the same HTTP stack; the responses are checked as the writer checks them.",
    "- **ceiling-busy** (when pinned): the same ceiling while a lowest-priority (nice 19) busy loop keeps the tool's CPU occupied, as the source server and the tool occupy it during a sync. On this virtual machine a busy second CPU slows the destination down (other processes move to its CPU, and the two virtual CPUs share hardware), so the idle-CPU ceiling is one no pipeline on this machine can reach; the busy one is the like-for-like yardstick. Both are reported.",
    "- **destination busy**: the destination server's CPU time over the measurement's wall time. Near the ceiling's, the sink is the bottleneck in both; far below it, the sync starves the sink. Their ratio (best sync's over best ceiling's) does not depend on how fast the machine happened to be, which moves the rates by ±15 % between measurements here; what it leaves out is the sink working slower per entity while the tool's CPU is busy (see ceiling-busy).",
    "- **per-entity**: read the (replayed) source page by page, one upsert (PUT) per entity, a fixed number in flight, like the Data Migration Tool's Table sink.",
    "- The sync and the ceiling alternate order round by round so warm-up does not favour either; the best of each is compared. Beside it, the median of each round's sync ÷ the same round's ceiling (paired): a slow or fast spell of the machine that spans a round cancels out in it. **source, one scan** is how fast Azurite served the recorded pages one after another; a sync reads the pages of one table in order (each needs the previous one's continuation), so it cannot copy faster than that, and the target is only meaningful while it is above the ceiling. CPU seconds and page faults are per measurement; the source Azurite works only in sync-shared-cpu, the one measurement that reads it rather than its replay.",
    "- Pinning gives the destination server a CPU of its own in every measurement, as a real sink's capacity does not depend on the tool; the tool and the source server share the other. Unpinned on 2 cores, the source server and the tool take CPU from the destination in the sync but not in the ceiling, and the ratio then reflects the CPU each needs in total rather than the sink's speed.",
    "",
  ];
  return lines.join("\n");
}

await main();
