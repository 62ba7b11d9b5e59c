// Shared by the bench and its child processes: what a measurement reports, running a child, and
// checking what landed.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createServiceClient } from "../src/engine/wire/connection.js";
import { differingProperties, type WireEntity } from "../src/engine/wire/edm.js";
import { TableHttp } from "../src/engine/wire/http.js";
import { TableReader } from "../src/engine/copy/reader.js";
import { ensureTable } from "../src/engine/wire/tables.js";
import { TableWriter } from "../src/engine/copy/writer.js";
import { entities, partitionSize, type Layout } from "./data.js";

/** What every measuring child prints as its last line of output (JSON). */
export interface Measured {
  /** Entities the measurement wrote. */
  entities: number;
  /** Wall time of the measured part only (no start-up, no preparation). */
  elapsedMs: number;
  /** CPU time of the child during the measured part. */
  cpuMs: number;
  /** Of which in the kernel (system time). */
  systemMs?: number;
  /** Minor page faults during the measured part (fresh memory is expensive on some VMs). */
  pageFaults?: number;
  /** Peak resident set size of the child over its whole life, in kilobytes. */
  maxRssKb: number;
  failed: number;
  requests: number;
  error?: string;
  /** Time spent preparing before the clock started (the ceiling's pre-built transactions). */
  prepareMs?: number;
}

export function httpFor(connectionString: string): TableHttp {
  return new TableHttp(createServiceClient({ connectionString }, "bench"));
}

/** Print the child's result as the last line on stdout. */
export function report(m: Measured): void {
  process.stdout.write(`${JSON.stringify(m)}\n`);
}

/** A point to measure CPU time and page faults from. */
export function usageMark(): NodeJS.ResourceUsage {
  return process.resourceUsage();
}

/** CPU time, system time and minor page faults since `start`, and the peak RSS so far. */
export function usageSince(
  start: NodeJS.ResourceUsage,
): Pick<Measured, "cpuMs" | "systemMs" | "pageFaults" | "maxRssKb"> {
  const now = process.resourceUsage();
  return {
    cpuMs: Math.round((now.userCPUTime - start.userCPUTime + now.systemCPUTime - start.systemCPUTime) / 1000),
    systemMs: Math.round((now.systemCPUTime - start.systemCPUTime) / 1000),
    pageFaults: now.minorPageFault - start.minorPageFault,
    maxRssKb: now.maxRSS,
  };
}

/** Run `node [flags] script json` (on CPU `cpu` only, if given) and return the JSON it printed last. */
export async function runChild(
  script: string,
  input: unknown,
  nodeFlags: string[] = [],
  cpu?: number,
): Promise<Measured> {
  const args = [...nodeFlags, script, JSON.stringify(input)];
  const child =
    cpu === undefined
      ? spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] })
      : spawn("taskset", ["-c", String(cpu), process.execPath, ...args], {
          stdio: ["ignore", "pipe", "inherit"],
        });
  let out = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (s: string) => (out += s));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  const last = out.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(last) as Measured;
  } catch {
    throw new Error(`${script} exited with ${code} without a result: ${out.slice(-2000)}`);
  }
}

/**
 * Fill `table` with the bench's entities (not measured): transactions through the engine's writer, many in
 * flight. Throws unless every entity landed; returns the milliseconds it took.
 */
export async function seedTable(
  connectionString: string,
  table: string,
  layout: Layout,
  concurrency: number,
): Promise<number> {
  const started = performance.now();
  const http = httpFor(connectionString);
  await ensureTable(http, table);
  const writer = new TableWriter(http, table, { concurrency, maxFailuresKept: 5, sortedSource: true });
  for (const e of entities(layout)) await writer.add("upsert-replace", e);
  const seeded = await writer.flush();
  if (seeded.failed > 0 || seeded.written !== layout.entities)
    throw new Error(
      `seeding failed: ${seeded.written} written, ${JSON.stringify(seeded.failures.slice(0, 3))}`,
    );
  return performance.now() - started;
}

/** The OData filter for one partition. */
function partitionFilter(partitionKey: string): string {
  return `PartitionKey eq '${partitionKey.replace(/'/g, "''")}'`;
}

/**
 * Entities in a table (keys only on the wire), partition by partition when the partitions are given:
 * Azurite sorts what is left of the whole table for every unfiltered page, which makes reading a
 * million entities take many minutes; per partition it sorts only that partition.
 */
export async function countEntities(
  connectionString: string,
  table: string,
  partitions?: string[],
): Promise<number> {
  let n = 0;
  for (const filter of partitions ? partitions.map(partitionFilter) : [undefined]) {
    const reader = new TableReader(httpFor(connectionString), table, {
      select: ["PartitionKey", "RowKey"],
      filter,
    });
    for await (const page of reader.pages()) n += page.entities.length;
  }
  return n;
}

async function* entitiesOf(
  connectionString: string,
  table: string,
  partitions?: string[],
): AsyncGenerator<WireEntity> {
  for (const filter of partitions ? partitions.map(partitionFilter) : [undefined]) {
    for await (const page of new TableReader(httpFor(connectionString), table, { filter }).pages())
      yield* page.entities;
  }
}

export interface Comparison {
  source: number;
  destination: number;
  /** Keys missing on either side, or entities whose typed properties differ. */
  mismatches: number;
  firstMismatch?: string;
}

/**
 * Walk both tables in key order side by side and compare every entity with its exact wire types; with
 * `partitions` (sorted), only those partitions, one after the other (see countEntities).
 */
export async function compareTables(
  source: { connectionString: string; table: string },
  destination: { connectionString: string; table: string },
  partitions?: string[],
): Promise<Comparison> {
  const a = entitiesOf(source.connectionString, source.table, partitions);
  const b = entitiesOf(destination.connectionString, destination.table, partitions);
  const result: Comparison = { source: 0, destination: 0, mismatches: 0 };
  const key = (e: WireEntity) => `${e.partitionKey}\u0000${e.rowKey}`;
  const miss = (what: string) => {
    result.mismatches++;
    result.firstMismatch ??= what;
  };
  let x = await a.next();
  let y = await b.next();
  while (!x.done || !y.done) {
    if (x.done || (!y.done && key(y.value) < key(x.value))) {
      result.destination++;
      miss(`extra on the destination: ${key(y.value as WireEntity)}`);
      y = await b.next();
      continue;
    }
    if (y.done || key(x.value) < key(y.value)) {
      result.source++;
      miss(`missing on the destination: ${key(x.value)}`);
      x = await a.next();
      continue;
    }
    result.source++;
    result.destination++;
    const diff = differingProperties(x.value, y.value);
    if (diff.length > 0) miss(`${key(x.value)} differs in ${diff.join(", ")}`);
    [x, y] = await Promise.all([a.next(), b.next()]);
  }
  return result;
}

/** CPU seconds used so far by a process (Linux /proc; undefined elsewhere). */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** Direct child processes of this one (Linux /proc; empty elsewhere). */
export function childPids(): number[] {
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return pids;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === process.pid) pids.push(Number(name));
    } catch {
      /* the process ended meanwhile */
    }
  }
  return pids;
}

/** Whether processes can be pinned to CPUs here (Linux `taskset`). */
export function canPin(): boolean {
  try {
    execFileSync("taskset", ["-p", String(process.pid)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Pin a running process, all its threads, to one CPU. */
export function pin(pid: number, cpu: number): void {
  execFileSync("taskset", ["-a", "-p", "-c", String(cpu), String(pid)], { stdio: "ignore" });
}

/** The repository root (where package.json and bench/ are), from a bench script's own directory. */
export function repoRoot(from: string): string {
  let dir = from;
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "bench"))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

/** The Azurite version the bench ran against. */
export function azuriteVersion(): string {
  try {
    const pkg = JSON.parse(
      readFileSync(
        join(repoRoot(dirname(fileURLToPath(import.meta.url))), "node_modules", "azurite", "package.json"),
        "utf8",
      ),
    ) as { version?: string };
    return pkg.version ?? "?";
  } catch {
    return "?";
  }
}

/**
 * The commit measured: BENCH_COMMIT (a build made from an exported tree), else the repository's short HEAD,
 * marked "(src/ modified)" when src/ has changes not committed (new files included): build/ was compiled
 * from the working tree, not from that commit. "?" without git.
 */
export function measuredCommit(root: string): string {
  if (process.env.BENCH_COMMIT) return process.env.BENCH_COMMIT;
  try {
    const sha = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
    const changed = execFileSync("git", ["status", "--porcelain", "--", "src"], {
      cwd: root,
      encoding: "utf8",
    }).trim();
    return changed ? `${sha} (src/ modified)` : sha;
  } catch {
    return "?";
  }
}

/**
 * Write every entity of `layout` (`entityAt(partition, row)`) through `writer` and flush: a bench's source,
 * filled before anything is measured. Returns the ms it took since `started`.
 */
export async function writeLayout(
  writer: TableWriter,
  layout: Layout,
  entityAt: (p: number, r: number) => WireEntity,
  started: number,
): Promise<number> {
  for (let p = 0; p < layout.partitions; p++) {
    for (let r = 0, n = partitionSize(layout, p); r < n; r++) {
      const wait = writer.add("upsert-replace", entityAt(p, r));
      if (wait) await wait;
    }
  }
  const seeded = await writer.flush();
  if (seeded.failed > 0 || seeded.written !== layout.entities)
    throw new Error(
      `seeding failed: ${seeded.written} written, ${JSON.stringify(seeded.failures.slice(0, 3))}`,
    );
  return performance.now() - started;
}
