// Verify's memory bound, measured: seed N entities (the bench's ~1 KB entities) into two Azurite
// servers with a few known differences, run a full verify in a child process of its own, and print
// the child's peak RSS and time. Only the child's memory counts: Azurite holds the data in its own
// processes.
//
//   npm run build && node build/bench/verify-memory.js [--entities 1000000] [--partitions 100]
//        [--differences 30] [--concurrency 8] [--limit-mb 512]
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { WireEntity } from "../src/engine/wire/edm.js";
import { ensureTable } from "../src/engine/wire/tables.js";
import { verifyTable, type VerifyResult } from "../src/engine/check/verify.js";
import { TableWriter } from "../src/engine/copy/writer.js";
import { startAzurite, type AzuriteServer } from "../test/support/azurite.js";
import { benchArgs, numberOption } from "./args.js";
import { httpFor } from "./common.js";
import { entities } from "./data.js";

/** The synopsis above, printed by --help and after a refused option. */
const USAGE = `
npm run build && node build/bench/verify-memory.js [--entities 1000000] [--partitions 100]
     [--differences 30] [--concurrency 8] [--limit-mb 512]
`;

interface ChildInput {
  source: string;
  destination: string;
  table: string;
  concurrency: number;
}

interface ChildOutput {
  elapsedMs: number;
  cpuMs: number;
  maxRssKb: number;
  result: Omit<
    VerifyResult,
    "missingSamples" | "extraSamples" | "differentSamples" | "untransformableSamples"
  >;
}

async function child(input: ChildInput): Promise<void> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await verifyTable(
    { source: httpFor(input.source), destination: httpFor(input.destination) },
    { source: input.table, destination: input.table },
    { renames: [], concurrency: input.concurrency },
  );
  const elapsedMs = Math.round(performance.now() - started);
  const used = process.cpuUsage(cpu);
  const {
    missingSamples: _m,
    extraSamples: _e,
    differentSamples: _d,
    untransformableSamples: _u,
    ...counts
  } = result;
  const out: ChildOutput = {
    elapsedMs,
    cpuMs: Math.round((used.user + used.system) / 1000),
    maxRssKb: process.resourceUsage().maxRSS,
    result: counts,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

/** Which entity (by position) gets which difference on the destination. */
function differencePlan(n: number, differences: number): Map<number, "missing" | "different" | "extra"> {
  const plan = new Map<number, "missing" | "different" | "extra">();
  const kinds = ["missing", "different", "extra"] as const;
  for (let k = 0; k < differences; k++) plan.set(Math.floor(((k + 0.5) * n) / differences), kinds[k % 3]);
  return plan;
}

async function seed(
  connectionString: string,
  table: string,
  layout: { entities: number; partitions: number },
  plan: Map<number, string> | undefined,
  label: string,
): Promise<void> {
  const http = httpFor(connectionString);
  await ensureTable(http, table);
  const writer = new TableWriter(http, table, { concurrency: 8, maxFailuresKept: 5, sortedSource: true });
  let i = 0;
  const started = Date.now();
  for (const e of entities(layout)) {
    const change = plan?.get(i);
    i++;
    if (i % 100_000 === 0) {
      process.stderr.write(
        `  ${label}: ${i} entities seeded (${Math.round((i * 1000) / (Date.now() - started))}/s)\n`,
      );
    }
    if (change === "missing") continue;
    if (change === "different") {
      const count = e.properties.get("Count");
      e.properties.set("Count", { type: "Edm.Int32", value: String(Number(count?.value ?? 0) + 1) });
    }
    if (change === "extra") {
      const extra: WireEntity = { ...e, rowKey: `${e.rowKey}-extra` };
      await writer.add("upsert-replace", extra);
    }
    await writer.add("upsert-replace", e);
  }
  const c = await writer.flush();
  if (c.failed > 0) throw new Error(`seeding ${label} failed: ${JSON.stringify(c.failures.slice(0, 3))}`);
}

async function runChild(input: ChildInput): Promise<ChildOutput> {
  const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), "--child", JSON.stringify(input)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  proc.stdout.setEncoding("utf8");
  proc.stdout.on("data", (s: string) => (out += s));
  const code = await new Promise<number | null>((resolve) => proc.on("close", resolve));
  const last = out.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(last) as ChildOutput;
  } catch {
    throw new Error(`the verify child exited with ${code} without a result: ${out.slice(-2000)}`);
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === "--child") {
    await child(JSON.parse(process.argv[3] ?? "{}") as ChildInput);
    return;
  }
  const values = benchArgs(USAGE, {
    entities: { type: "string", default: "1000000" },
    partitions: { type: "string", default: "100" },
    differences: { type: "string", default: "30" },
    concurrency: { type: "string", default: "8" },
    "limit-mb": { type: "string", default: "512" },
  });
  const layout = {
    entities: numberOption(values.entities, "entities"),
    partitions: numberOption(values.partitions, "partitions"),
  };
  const differences = numberOption(values.differences, "differences", { min: 0 });
  const limitMb = numberOption(values["limit-mb"], "limit-mb");
  const plan = differencePlan(layout.entities, differences);
  const expected = { missing: 0, different: 0, extra: 0 };
  for (const kind of plan.values()) expected[kind]++;

  const servers: AzuriteServer[] = await Promise.all([startAzurite(), startAzurite()]);
  try {
    const [source, destination] = servers;
    const table = "verifybench";
    process.stderr.write(
      `Seeding ${layout.entities} entities in ${layout.partitions} partitions into both servers…\n`,
    );
    const seedStart = Date.now();
    await Promise.all([
      seed(source.connectionString, table, layout, undefined, "source"),
      seed(destination.connectionString, table, layout, plan, "destination"),
    ]);
    process.stderr.write(
      `Seeded in ${Math.round((Date.now() - seedStart) / 1000)} s. Verifying in a child process…\n`,
    );

    const m = await runChild({
      source: source.connectionString,
      destination: destination.connectionString,
      table,
      concurrency: numberOption(values.concurrency, "concurrency"),
    });
    const r = m.result;
    const rssMb = m.maxRssKb / 1024;
    const rate = m.elapsedMs > 0 ? Math.round((r.sourceCount * 1000) / m.elapsedMs) : 0;
    const countsOk =
      !r.error &&
      r.sourceCount === layout.entities &&
      r.missing === expected.missing &&
      r.different === expected.different &&
      r.extra === expected.extra;
    const lines = [
      `verify of ${r.sourceCount} source / ${r.destinationCount} destination entities`,
      `  time:      ${(m.elapsedMs / 1000).toFixed(1)} s (${rate} source entities/s, both sides scanned in parallel), CPU ${(m.cpuMs / 1000).toFixed(1)} s`,
      `  peak RSS:  ${rssMb.toFixed(0)} MB (limit ${limitMb} MB): ${rssMb <= limitMb ? "within" : "OVER"}`,
      `  found:     missing ${r.missing}, different ${r.different}, extra ${r.extra} ` +
        `(seeded ${expected.missing}/${expected.different}/${expected.extra}): ${countsOk ? "correct" : "WRONG"}`,
    ];
    if (r.error) lines.push(`  error:     ${r.error}`);
    process.stdout.write(`${lines.join("\n")}\n`);
    process.stdout.write(`${JSON.stringify({ ...m, limitMb, expected })}\n`);
    if (!countsOk || rssMb > limitMb) process.exitCode = 1;
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

await main();
