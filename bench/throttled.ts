// The rate-control benchmark: a full sync into a destination that throttles like Cosmos DB (the
// throttle proxy of test/support: a token bucket of N RU/s, write cost growing with the payload, 429
// with x-ms-retry-after-ms when empty), with a budget well below what the sink could take, so the
// budget is the bottleneck. Reports the budget used and the share of throttled requests, checks the
// destination entity by entity, and appends the figures to bench/RESULTS-throttled.md.
//
//   npm run build && node build/bench/throttled.js [--entities 30000] [--per-partition 1000,1]
//       [--ru-per-second 3000] [--concurrency auto|<n>] [--max-entities-per-second <n>] [--unthrottled]
//       [--results bench/RESULTS-throttled.md]
//
// Issue 11's target: a 30,000-entity run behind a 3,000 RU/s budget, default settings (concurrency
// auto): ≥ 90 % of the budget used, ≤ 5 % of requests throttled, nothing lost. Each table shape
// (entities per partition) is measured: 1,000 per partition writes transactions of 100, 1 per
// partition one plain PUT per entity.
//
// `--unthrottled` first measures the same sync without a budget (through a proxy of unlimited budget),
// to show that the budget, not the sink, is the bottleneck.
import { appendFileSync, existsSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { WireEntity } from "../src/engine/wire/edm.js";
import { ensureTable } from "../src/engine/wire/tables.js";
import { runSync } from "../src/engine/copy/run-sync.js";
import { TableWriter } from "../src/engine/copy/writer.js";
import type { ConcurrencySetting } from "../src/engine/copy/window.js";
import { startAzurite, type AzuriteServer } from "../test/support/azurite.js";
import { startThrottleProxy } from "../test/support/throttle-proxy.js";
import { benchArgs, numberOption } from "./args.js";
import { compareTables, httpFor, measuredCommit, repoRoot, writeLayout } from "./common.js";
import { makeEntity, partitionKey, rowKey, type Layout } from "./data.js";

const TARGET_USED = 0.9;
const TARGET_THROTTLED = 0.05;
/** The sink without a budget must take this multiple of the budget for the budget to be the bottleneck. */
const SINK_MARGIN = 1.2;

const here = dirname(fileURLToPath(import.meta.url));
const root = repoRoot(here);

/** The synopsis above, printed by --help and after a refused option. */
const USAGE = `
npm run build && node build/bench/throttled.js [--entities 30000] [--per-partition 1000,1]
    [--ru-per-second 3000] [--concurrency auto|<n>] [--max-entities-per-second <n>] [--unthrottled]
    [--results bench/RESULTS-throttled.md]
`;

const values = benchArgs(USAGE, {
  entities: { type: "string" },
  "per-partition": { type: "string" },
  partitions: { type: "string" },
  "ru-per-second": { type: "string" },
  concurrency: { type: "string" },
  "max-entities-per-second": { type: "string" },
  unthrottled: { type: "boolean" },
  results: { type: "string" },
});
const int = (raw: string | undefined, name: string, fallback: number): number =>
  raw === undefined ? fallback : numberOption(raw, name);
const entityCount = int(values.entities, "entities", 30_000);
const opts = {
  entities: entityCount,
  // `--partitions n` (one shape, as before) or `--per-partition a,b,…` (entities per partition).
  layouts: (values.partitions !== undefined
    ? [Math.min(int(values.partitions, "partitions", 1), entityCount)]
    : (values["per-partition"] ?? "1000,1")
        .split(",")
        .map((s) => Math.max(1, Math.round(entityCount / Math.min(int(s, "per-partition", 1), entityCount))))
  ).map((partitions): Layout => ({ entities: entityCount, partitions })),
  ruPerSecond: int(values["ru-per-second"], "ru-per-second", 3_000),
  concurrency: (values.concurrency === undefined || values.concurrency === "auto"
    ? "auto"
    : int(values.concurrency, "concurrency", 1)) as ConcurrencySetting,
  maxEntitiesPerSecond:
    values["max-entities-per-second"] === undefined
      ? undefined
      : int(values["max-entities-per-second"], "max-entities-per-second", 1),
  unthrottled: values.unthrottled ?? false,
  results: resolve(values.results ?? join(root, "bench", "RESULTS-throttled.md")),
};

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const perPartition = (l: Layout) => Math.round(l.entities / l.partitions);

/**
 * Row `r` of partition `p`: bench/data.ts's entity with a row key unique in the table. Azurite looks an
 * entity up through its RowKey index first: with the same row key in every partition (a table of one
 * entity per partition) each write would scan the whole table, and the sink, not the budget, would be the
 * bottleneck.
 */
function entityAt(p: number, r: number): WireEntity {
  return { ...makeEntity(p, r), rowKey: `${rowKey(r)}-${partitionKey(p)}` };
}

async function seed(connectionString: string, table: string, layout: Layout): Promise<number> {
  const started = performance.now();
  const http = httpFor(connectionString);
  await ensureTable(http, table);
  const writer = new TableWriter(http, table, { concurrency: 32, maxFailuresKept: 5, sortedSource: true });
  return writeLayout(writer, layout, entityAt, started);
}

interface Run {
  label: string;
  ruPerSecond: number;
  elapsedMs: number;
  written: number;
  failed: number;
  requests: number;
  throttled: number;
  /** 429s and retries as the sync counted them. */
  syncThrottled: number;
  syncRetries: number;
  consumedRu: number;
  budgetUsed: number;
  budgetUsedWithCredit: number;
  throttledShare: number;
  verified: string;
  ok: boolean;
}

const servers: AzuriteServer[] = [];
// Interrupted (Ctrl+C, SIGTERM): stop the servers this process started.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void Promise.all(servers.map((s) => s.stop().catch(() => undefined))).then(() =>
      process.exit(signal === "SIGINT" ? 130 : 143),
    );
  });
}
try {
  const src = await startAzurite();
  servers.push(src);
  const sections: string[] = [];
  let allMet = true;
  for (const [shape, layout] of opts.layouts.entries()) {
    const sourceTable = `throttledsource${shape}`;
    const seedMs = await seed(src.connectionString, sourceTable, layout);
    const per = perPartition(layout);
    console.log(
      `\n[${fmt(per)} per partition] seeded ${fmt(layout.entities)} entities in ${fmt(layout.partitions)} partitions in ${(seedMs / 1000).toFixed(1)} s`,
    );
    const partitionKeys =
      layout.partitions <= 1_000
        ? Array.from({ length: layout.partitions }, (_, p) => partitionKey(p))
        : undefined;

    const measure = async (label: string, ruPerSecond: number): Promise<Run> => {
      // A fresh destination server for every measurement: an in-memory Azurite slows down as it fills (a
      // one-entity-per-partition copy behind the budget fell from 500 to 200 writes/s, window and rate
      // unchanged, into a server that already held the unthrottled run's 30,000 entities).
      const dst = await startAzurite();
      servers.push(dst);
      const proxy = await startThrottleProxy({ target: dst.connectionString, ruPerSecond });
      try {
        const table = `throttled${shape}${label.replace(/[^a-z0-9]/gi, "")}`;
        const started = performance.now();
        const result = await runSync({
          source: { connectionString: src.connectionString },
          destination: { connectionString: proxy.connectionString() },
          tables: [{ source: sourceTable, destination: table }],
          writeMode: "replace",
          propertyRenames: [],
          concurrency: opts.concurrency,
          maxEntitiesPerSecond: opts.maxEntitiesPerSecond,
          createTables: true,
          dryRun: false,
          maxFailuresKept: 5,
        });
        const elapsedMs = performance.now() - started;
        const t = result.tables[0];
        const cmp = await compareTables(
          { connectionString: src.connectionString, table: sourceTable },
          { connectionString: dst.connectionString, table },
          partitionKeys,
        );
        const exact =
          cmp.mismatches === 0 && cmp.destination === opts.entities && cmp.source === opts.entities;
        const s = proxy.stats;
        return {
          label,
          ruPerSecond,
          elapsedMs,
          written: t?.written ?? 0,
          failed: (t?.failed ?? 0) + (t?.error ? 1 : 0),
          requests: s.requests,
          throttled: s.throttled,
          syncThrottled: t?.throttled ?? 0,
          syncRetries: t?.retries ?? 0,
          consumedRu: s.consumedRu,
          budgetUsed: proxy.budgetUsed(),
          budgetUsedWithCredit: proxy.budgetUsedWithCredit(),
          throttledShare: proxy.throttledShare(),
          verified: exact
            ? `all ${fmt(cmp.destination)} entities identical`
            : `MISMATCH: ${cmp.mismatches} (destination ${cmp.destination}; ${cmp.firstMismatch ?? t?.error ?? ""})`,
          ok: exact && t?.failed === 0 && !t?.error,
        };
      } finally {
        await proxy.stop();
        servers.splice(servers.indexOf(dst), 1);
        await dst.stop().catch(() => undefined);
      }
    };

    let unlimited: Run | undefined;
    if (opts.unthrottled) {
      unlimited = await measure("unlimited", 1e9);
      const r = unlimited;
      console.log(
        `unthrottled: ${fmt(r.written)} entities in ${(r.elapsedMs / 1000).toFixed(1)} s = ${fmt(r.written / (r.elapsedMs / 1000))} entities/s, ${fmt(r.consumedRu / (r.elapsedMs / 1000))} RU/s would be needed; ${r.verified}`,
      );
    }
    const r = await measure("budget", opts.ruPerSecond);
    const met = r.budgetUsed >= TARGET_USED && r.throttledShare <= TARGET_THROTTLED && r.ok;
    // Without a budget the sink itself must be clearly faster than the budget, or the budget used measures
    // the sink (a busy machine: Azurite takes one-entity requests at a few hundred a second).
    const sinkRu = unlimited ? unlimited.consumedRu / (unlimited.elapsedMs / 1000) : undefined;
    const sinkLimited = sinkRu !== undefined && sinkRu < SINK_MARGIN * opts.ruPerSecond;
    allMet &&= met;
    const lines = [
      `budget              ${fmt(r.ruPerSecond)} RU/s`,
      `RU consumed         ${fmt(r.consumedRu)} RU`,
      `elapsed             ${(r.elapsedMs / 1000).toFixed(1)} s`,
      `budget used         ${pct(r.budgetUsed)}  (target ≥ ${TARGET_USED * 100} %: ${r.budgetUsed >= TARGET_USED ? "met" : "NOT met"})${sinkLimited ? `  — the sink alone took only ${fmt(sinkRu ?? 0)} RU/s: it, not the budget, is the limit` : ""}`,
      `  with the credit    ${pct(r.budgetUsedWithCredit)}  (counting the bucket's initial second of credit as budget too)`,
      `requests            ${fmt(r.requests)}`,
      `429s                ${fmt(r.throttled)}  (the sync counted ${fmt(r.syncThrottled)}, ${fmt(r.syncRetries)} retries)`,
      `throttled share     ${pct(r.throttledShare)}  (target ≤ ${TARGET_THROTTLED * 100} %: ${r.throttledShare <= TARGET_THROTTLED ? "met" : "NOT met"})`,
      `entities/s          ${fmt(r.written / (r.elapsedMs / 1000))}`,
      `written / failed    ${fmt(r.written)} / ${fmt(r.failed)}`,
      `destination         ${r.verified}`,
      `targets             ${met ? "met" : "NOT met"}`,
    ];
    console.log(lines.join("\n"));
    sections.push(
      "",
      `### ${fmt(per)} per partition (${fmt(layout.partitions)} partitions)`,
      "",
      ...(unlimited
        ? [
            `- the same sync without a budget: ${(unlimited.elapsedMs / 1000).toFixed(1)} s, ${fmt(unlimited.written / (unlimited.elapsedMs / 1000))} entities/s (it would need ${fmt(unlimited.consumedRu / (unlimited.elapsedMs / 1000))} RU/s); ${unlimited.verified}`,
            "",
          ]
        : []),
      "```",
      ...lines,
      "```",
    );
  }

  const section = [
    "",
    `## ${new Date().toISOString()} — ${fmt(opts.entities)} entities, ${fmt(opts.ruPerSecond)} RU/s, concurrency ${opts.concurrency}${opts.maxEntitiesPerSecond ? `, max-entities-per-second ${fmt(opts.maxEntitiesPerSecond)}` : ""}, commit ${measuredCommit(root)}`,
    "",
    `- machine: ${cpus().length} cores, load average ${loadavg()[0].toFixed(2)} at the end; node ${process.version}; one process runs the sync and the proxy, Azurite in memory (a fresh destination server for each measurement); row keys unique in the table (see entityAt)`,
    ...sections,
  ];
  if (!existsSync(opts.results)) {
    writeFileSync(
      opts.results,
      [
        "# Rate-control benchmark results",
        "",
        "Appended by `node build/bench/throttled.js` (bench/throttled.ts). The destination is an Azurite table server",
        "behind test/support/throttle-proxy.ts: a token bucket of N RU/s holding one second of budget (full at the start);",
        "a write costs 5 RU per operation plus 1 RU per KiB of its request body, a read 1 RU per KiB of its response (at",
        "least 1); a request the bucket cannot pay for is answered 429 with `x-ms-retry-after-ms` and never reaches the",
        "server. Budget used = RU consumed ÷ (N × seconds from the first request to the last response); throttled share =",
        "429s ÷ requests at the proxy. Targets: ≥ 90 % of the budget used, ≤ 5 % of requests throttled, nothing lost.",
        "",
      ].join("\n"),
    );
  }
  appendFileSync(opts.results, `${section.join("\n")}\n`);
  console.log(`appended to ${opts.results}`);
  process.exitCode = allMet ? 0 : 1;
} finally {
  await Promise.all(servers.map((s) => s.stop().catch(() => undefined)));
}
