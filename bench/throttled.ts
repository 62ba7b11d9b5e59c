// The rate-control benchmark: a full sync into a destination that throttles like Cosmos DB (the
// throttle proxy of test/support: a token bucket of N RU/s, write cost growing with the payload, 429
// with x-ms-retry-after-ms when empty), with a budget well below what the sink could take, so the
// budget is the bottleneck. Reports the budget used and the share of throttled requests, checks the
// destination entity by entity, and appends the figures to bench/RESULTS-throttled.md.
//
//   npm run build && node build/bench/throttled.js [--entities 60000] [--partitions 60]
//       [--ru-per-second 6000] [--concurrency 8] [--unthrottled] [--results bench/RESULTS-throttled.md]
//
// `--unthrottled` first measures the same sync without a budget (through a proxy of unlimited budget),
// to show that the budget, not the sink, is the bottleneck.
import { appendFileSync, existsSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { runSync } from "../src/engine/sync.js";
import { startAzurite, type AzuriteServer } from "../test/support/azurite.js";
import { startThrottleProxy } from "../test/support/throttle-proxy.js";
import { compareTables, repoRoot, seedTable } from "./common.js";
import { partitionKey } from "./data.js";

const TARGET_USED = 0.9;
const TARGET_THROTTLED = 0.05;

const here = dirname(fileURLToPath(import.meta.url));

const { values } = parseArgs({
  options: {
    entities: { type: "string" },
    partitions: { type: "string" },
    "ru-per-second": { type: "string" },
    concurrency: { type: "string" },
    unthrottled: { type: "boolean" },
    results: { type: "string" },
  },
  strict: true,
});
const int = (raw: string | undefined, fallback: number): number => {
  if (raw === undefined) return fallback;
  const n = Number(raw.replace(/_/g, ""));
  if (!Number.isInteger(n) || n < 1) throw new Error(`expected a whole number ≥ 1, not ${raw}`);
  return n;
};
const opts = {
  entities: int(values.entities, 60_000),
  partitions: int(values.partitions, 60),
  ruPerSecond: int(values["ru-per-second"], 6_000),
  concurrency: int(values.concurrency, 8),
  unthrottled: values.unthrottled ?? false,
  results: resolve(values.results ?? join(repoRoot(here), "bench", "RESULTS-throttled.md")),
};

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

interface Run {
  label: string;
  ruPerSecond: number;
  elapsedMs: number;
  written: number;
  failed: number;
  requests: number;
  throttled: number;
  consumedRu: number;
  budgetUsed: number;
  budgetUsedWithCredit: number;
  throttledShare: number;
  verified: string;
  ok: boolean;
}

const servers: AzuriteServer[] = [];
try {
  const [src, dst] = await Promise.all([startAzurite(), startAzurite()]);
  servers.push(src, dst);
  const layout = { entities: opts.entities, partitions: Math.min(opts.partitions, opts.entities) };
  const sourceTable = "throttledsource";
  const seedMs = await seedTable(src.connectionString, sourceTable, layout, 16);
  console.log(`seeded ${fmt(layout.entities)} entities in ${(seedMs / 1000).toFixed(1)} s`);
  const partitionKeys = Array.from({ length: layout.partitions }, (_, p) => partitionKey(p));

  const measure = async (label: string, ruPerSecond: number): Promise<Run> => {
    const proxy = await startThrottleProxy({ target: dst.connectionString, ruPerSecond });
    try {
      const table = `throttled${label.replace(/[^a-z0-9]/gi, "")}`;
      const started = performance.now();
      const result = await runSync({
        source: { connectionString: src.connectionString },
        destination: { connectionString: proxy.connectionString() },
        tables: [{ source: sourceTable, destination: table }],
        writeMode: "replace",
        propertyRenames: [],
        concurrency: opts.concurrency,
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
      const exact = cmp.mismatches === 0 && cmp.destination === opts.entities;
      const s = proxy.stats;
      return {
        label,
        ruPerSecond,
        elapsedMs,
        written: t?.written ?? 0,
        failed: (t?.failed ?? 0) + (t?.error ? 1 : 0),
        requests: s.requests,
        throttled: s.throttled,
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
    }
  };

  const runs: Run[] = [];
  if (opts.unthrottled) {
    const r = await measure("unlimited", 1e9);
    runs.push(r);
    console.log(
      `unthrottled: ${fmt(r.written)} entities in ${(r.elapsedMs / 1000).toFixed(1)} s = ${fmt(r.written / (r.elapsedMs / 1000))} entities/s, ${fmt(r.consumedRu / (r.elapsedMs / 1000))} RU/s would be needed; ${r.verified}`,
    );
  }
  const r = await measure("budget", opts.ruPerSecond);
  runs.push(r);
  const met = r.budgetUsed >= TARGET_USED && r.throttledShare <= TARGET_THROTTLED && r.ok;
  const lines = [
    `budget              ${fmt(r.ruPerSecond)} RU/s`,
    `RU consumed         ${fmt(r.consumedRu)} RU`,
    `elapsed             ${(r.elapsedMs / 1000).toFixed(1)} s`,
    `budget used         ${pct(r.budgetUsed)}  (target ≥ ${TARGET_USED * 100} %: ${r.budgetUsed >= TARGET_USED ? "met" : "NOT met"})`,
    `  with the credit    ${pct(r.budgetUsedWithCredit)}  (counting the bucket's initial second of credit as budget too)`,
    `requests            ${fmt(r.requests)}`,
    `429s                ${fmt(r.throttled)}`,
    `throttled share     ${pct(r.throttledShare)}  (target ≤ ${TARGET_THROTTLED * 100} %: ${r.throttledShare <= TARGET_THROTTLED ? "met" : "NOT met"})`,
    `entities/s          ${fmt(r.written / (r.elapsedMs / 1000))}`,
    `written / failed    ${fmt(r.written)} / ${fmt(r.failed)}`,
    `destination         ${r.verified}`,
    `targets             ${met ? "met" : "NOT met"}`,
  ];
  console.log(lines.join("\n"));

  const unlimited = runs.find((x) => x.label === "unlimited");
  const section = [
    "",
    `## ${new Date().toISOString()} — ${fmt(opts.entities)} entities, ${fmt(opts.ruPerSecond)} RU/s, concurrency ${opts.concurrency}`,
    "",
    `- machine: ${cpus().length} cores, load average ${loadavg()[0].toFixed(2)} at the end; node ${process.version}; one process runs the sync and the proxy, Azurite in memory`,
    ...(unlimited
      ? [
          `- the same sync without a budget: ${(unlimited.elapsedMs / 1000).toFixed(1)} s, ${fmt(unlimited.written / (unlimited.elapsedMs / 1000))} entities/s (it would need ${fmt(unlimited.consumedRu / (unlimited.elapsedMs / 1000))} RU/s); ${unlimited.verified}`,
        ]
      : []),
    "",
    "```",
    ...lines,
    "```",
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
  process.exitCode = met ? 0 : 1;
} finally {
  await Promise.all(servers.map((s) => s.stop().catch(() => undefined)));
}
