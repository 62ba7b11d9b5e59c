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
import { writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { TableReader } from "../src/engine/copy/reader.js";
import { entityJson } from "../src/engine/wire/edm.js";
import type { AzuriteServer } from "../test/support/azurite.js";
import { startServer } from "./azurite-server.js";
import { countEntities, httpFor, pin, seedTable } from "./common.js";
import { entities, partitionKey, type Layout } from "./data.js";
import { fmt, secs } from "./format.js";
import { resultsMarkdown } from "./bench-markdown.js";
import { measure, type Bench, type Kind, type Row } from "./bench-measure.js";
import { cpuPlan, options } from "./bench-options.js";
import { summarize } from "./bench-summary.js";
import { ReplaySource } from "./replay-source.js";
import { keepMatrixSection } from "./results-section.js";

/** The synopsis above, printed by --help and after a refused option. */
const USAGE = `
npm run bench -- [--entities 100000] [--partitions 100] [--concurrency 8] [--rounds 5]
                 [--per-entity-limit 20000] [--per-entity-concurrency 10] [--verify full|count]
                 [--pin auto|on|off] [--results bench/RESULTS.md]
`;

async function main(): Promise<void> {
  const opts = options(USAGE);
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
    const bench: Bench = {
      opts,
      layout,
      avgBytes,
      plan,
      src,
      servers,
      sourceTable,
      partitionKeys,
      replaying,
      replayConnectionString,
    };

    // The busy-core ceiling only means something when the tool has a CPU of its own to keep busy.
    const ceilings: Kind[] = opts.pin ? ["ceiling", "ceiling-busy"] : ["ceiling"];
    for (let round = 0; round < opts.rounds; round++) {
      const syncs: Kind[] = ["sync", "sync-shared-cpu"];
      const order: Kind[] =
        round % 2 === 0 ? [...ceilings, ...syncs] : [...syncs.toReversed(), ...ceilings.toReversed()];
      for (const kind of order) rows.push(await measure(bench, kind, round));
    }
    rows.push(await measure(bench, "per-entity", 0));
  } finally {
    await cleanup();
  }

  const { summary, allVerified } = summarize(opts, rows, sourceScanRate);
  console.log(`\n${summary.join("\n")}`);
  // The matrix (matrix.ts) keeps its own section in the same file: carried over.
  writeFileSync(
    opts.results,
    keepMatrixSection(opts.results, resultsMarkdown(opts, avgBytes, rows, summary, loadAtStart)),
  );
  console.log(`\nwritten to ${opts.results}`);
  if (!allVerified) process.exitCode = 1;
}

await main();
