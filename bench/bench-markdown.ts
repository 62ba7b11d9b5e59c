// The benchmark's results file (bench/RESULTS.md by default): the summary, every measurement and the
// method, written around the matrix's section (which bench.ts carries over).
import { cpus, loadavg, platform, release, totalmem } from "node:os";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { azuriteVersion, measuredCommit, repoRoot } from "./common.js";
import { fmt, mb, secs } from "./format.js";
import { busy, type Row } from "./bench-measure.js";
import { cpuPlan, type Options } from "./bench-options.js";

const here = dirname(fileURLToPath(import.meta.url));

export function resultsMarkdown(
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
    `- node ${process.version}, Azurite ${azuriteVersion()} (in memory, one server per side), commit ${measuredCommit(repoRoot(here))}`,
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
