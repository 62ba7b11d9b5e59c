// The scale bench's third part: the peak RSS of one full sync of a million entities, in a child process
// of its own (run-sync.ts) that reports its maxRSS.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cpuDelta, cpuOf, startServer } from "./azurite-server.js";
import { countEntities, runChild, seedTable } from "./common.js";
import { partitionKey, type Layout } from "./data.js";
import { fmt, secs } from "./format.js";
import { SOURCE_TABLE, type Options } from "./scale-options.js";

const here = dirname(fileURLToPath(import.meta.url));

export interface RssResult {
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

export async function measureRss(opts: Options): Promise<RssResult> {
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
