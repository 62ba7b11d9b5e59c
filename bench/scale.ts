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
import { writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { startServer } from "./azurite-server.js";
import { measuredCommit, repoRoot, seedTable } from "./common.js";
import { partitionKey, partitionSize, type Layout } from "./data.js";
import { fmt, secs } from "./format.js";
import { options, SOURCE_TABLE } from "./scale-options.js";
import { measureResume } from "./scale-resume.js";
import { markdown, type Results } from "./scale-results.js";
import { measureRss } from "./scale-rss.js";
import { measureShards } from "./scale-shards.js";

const here = dirname(fileURLToPath(import.meta.url));

/** The synopsis above, printed by --help and after a refused option. */
const USAGE = `
npm run build && node build/bench/scale.js [--entities 200000] [--partitions 100] [--shards 1,2,4]
     [--concurrency 8] [--rss-entities 1000000] [--parts shard,resume,rss] [--seed-concurrency 16]
     [--results bench/RESULTS-scale.md]
`;

async function main(): Promise<void> {
  const opts = options(USAGE);
  const log: string[] = [];
  const print = console.log.bind(console);
  console.log = (...a: unknown[]) => {
    const s = a.map(String).join(" ");
    log.push(s);
    print(s);
  };
  const results: Results = {
    startedAt: new Date().toISOString(),
    commit: measuredCommit(repoRoot(here)),
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
