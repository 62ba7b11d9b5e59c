// The scale bench's results file (bench/RESULTS-scale.md by default): every part measured so far, the
// machine and the commit, and the run's console output.
import { cpus, loadavg, platform, release, totalmem } from "node:os";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { azuriteVersion, measuredCommit, repoRoot } from "./common.js";
import { cpuText, fmt, pct, secs } from "./format.js";
import type { Options } from "./scale-options.js";
import type { ResumeResult } from "./scale-resume.js";
import type { RssResult } from "./scale-rss.js";
import type { ShardRow } from "./scale-shards.js";

const here = dirname(fileURLToPath(import.meta.url));

export interface Results {
  startedAt: string;
  /** The commit (and whether src/ had uncommitted changes) when the run began: what build/ was compiled from. */
  commit: string;
  loadAtStart: number[];
  seedMs?: number;
  shards?: ShardRow[];
  resume?: ResumeResult;
  rss?: RssResult;
  log: string[];
}

export function markdown(opts: Options, r: Results): string {
  const cpu = cpus();
  const L: string[] = [
    "# Scale-out benchmark results",
    "",
    "Written by `node build/bench/scale.js` (bench/scale.ts); each run overwrites this file.",
    "",
    `- date: ${r.startedAt} (start), ${new Date().toISOString()} (this file written)`,
    `- machine: ${cpu.length} cores (${cpu[0]?.model.trim() ?? "?"}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${platform()} ${release()}; ` +
      `load average (1/5/15 min) ${r.loadAtStart.map((x) => x.toFixed(2)).join(" / ")} at the start, ` +
      `${loadavg()
        .map((x) => x.toFixed(2))
        .join(
          " / ",
        )} at the end — the machine is shared with other work, and the two Azurite servers run here too`,
    `- node ${process.version}, Azurite ${azuriteVersion()} (in memory, one server per side), commit ${r.commit} at the start${measuredCommit(repoRoot(here)) === r.commit ? "" : ` (${measuredCommit(repoRoot(here))} when this file was written: others committed meanwhile; the measurements ran the build made at the start)`}`,
    `- data: bench/data.ts entities (~1.1 KB of JSON each, every EDM type), ${opts.partitions} partitions; ` +
      `concurrency ${opts.concurrency} per process; nothing pinned`,
    `- command: \`npm run build && node build/bench/scale.js ${process.argv.slice(2).join(" ")}\``.replace(
      / `$/,
      "`",
    ),
    "",
  ];
  if (r.shards) {
    L.push(
      `## 1. Shard speed-up (${fmt(opts.entities)} entities${r.seedMs !== undefined ? `, seeded in ${secs(r.seedMs)} s, not measured` : ""})`,
      "",
      "n CLI processes (`full-sync --shard i/n --state-file <shared> --json`) started at once against one source and one fresh destination server; wall time from the first start to the last exit (it includes each process's start-up, key sampling and plan agreement). n = 1 runs without `--shard`.",
      "",
      "| n | wall s | entities/s | speed-up | per-shard read | per-shard range | range known after (s) | copy phase s (entities/s) | per-shard copy s | source Azurite CPU s | destination Azurite CPU s | CLI CPU s | check |",
      "| ---: | ---: | ---: | ---: | --- | --- | --- | --- | --- | ---: | ---: | --- | --- |",
      ...r.shards.map(
        (s) =>
          `| ${s.n} | ${secs(s.wallMs)} | ${fmt(s.rate)} | ${s.speedUp === undefined ? "–" : `${s.speedUp.toFixed(2)}×`} | ` +
          `${s.reads.map((x) => (x === undefined ? "?" : fmt(x))).join(" / ")} | ${s.ranges.join("; ")} | ` +
          `${s.n > 1 ? s.planMs.map((m) => (m === undefined ? "?" : secs(m))).join(" / ") : "–"} | ` +
          `${s.copyPhaseMs === undefined ? "–" : `${secs(s.copyPhaseMs)} (${fmt((opts.entities * 1000) / s.copyPhaseMs)})`} | ` +
          `${s.copyMs.map((m) => (m === undefined ? "?" : secs(m))).join(" / ")} | ${cpuText(s.sourceCpuS)} | ` +
          `${cpuText(s.destinationCpuS)} | ${s.cliCpuS.map(cpuText).join(" / ")} | ${s.verified} |`,
      ),
      "",
      "- *range known after*: seconds from a shard's start until it printed its key range — sampling the table's PartitionKeys (a projection scan of the whole table, done by every shard that finds no stored plan) plus the wait for the shards to agree on one plan.",
      "- *copy phase*: from the first shard's `[table] copying to …` line to the last exit; *per-shard copy*: from each shard's own `copying to` line to its exit (a sharded run also waits 3–6 s for the other shards' state saves before it exits).",
      "- *CLI CPU s*: each CLI process's CPU time (from /proc, sampled every 250 ms, so a little low).",
      "- *check*: the sum of the shards' `read` (their `--json` output) against N — every key read exactly once — and an entity-by-entity comparison of the whole destination with the source (exact wire types).",
      "",
    );
  }
  if (r.resume) {
    const x = r.resume;
    const N = opts.entities;
    L.push(
      `## 2. Resume overhead (${fmt(N)} entities)`,
      "",
      "The same CLI command (`full-sync --state-file <fresh> --checkpoint-seconds 1 --progress-seconds 1 --json`) three times, each against a fresh destination: once uninterrupted; once killed with SIGKILL as soon as a progress line on stderr showed ≥ 50 % read; then again to completion (it resumes from the checkpoint in the state file).",
      "",
      "```",
      `uninterrupted run            ${secs(x.uninterruptedMs)} s (${fmt(x.uninterruptedRead ?? 0)} read)`,
      `first run (SIGKILL)          ${secs(x.firstMs)} s; last progress line ${fmt(x.killedAtRead)} read; ${fmt(x.writtenAtKill)} on the destination after the kill`,
      `checkpoint in the state file ${x.checkpointRead === undefined ? "none" : `${fmt(x.checkpointRead)} read, ${fmt(x.checkpointWritten ?? 0)} written`}`,
      `second run (resumed)         ${secs(x.secondMs)} s; ${x.secondRead === undefined ? "?" : fmt(x.secondRead)} read` +
        (x.checkpointRead !== undefined ? ` (N − checkpoint = ${fmt(N - x.checkpointRead)})` : ""),
      `re-read (Σ read − N)         ≥ ${x.reReadLowerBound === undefined ? "?" : `${fmt(x.reReadLowerBound)} = ${pct(x.reReadLowerBound / N)} of N (target < 10 %: ${x.reReadLowerBound / N < 0.1 ? "met" : "NOT met"})`}`,
      `both runs vs uninterrupted   ${secs(x.firstMs + x.secondMs)} s vs ${secs(x.uninterruptedMs)} s: overhead ${pct(x.overhead)}`,
      `destination                  ${x.verified}`,
      "```",
      "",
      ...(x.resumeNotice ? [`The second run said: “${x.resumeNotice.trim()}”`, ""] : []),
      "- The first run's read count is only known up to its last progress line (SIGKILL leaves no summary), so Σ read − N uses max(last progress figure, entities on the destination after the kill) for it: a lower bound, short by at most the pages read in the moment between that line and the kill.",
      "- The second run's read should be exactly N − the checkpoint's read (it resumes at the checkpoint's continuation); the work lost is what the first run read after its last checkpoint (≤ ~1 s of reading with `--checkpoint-seconds 1`).",
      "- Overhead includes the second process's start-up and the kill's lost work; both runs' wall times are summed.",
      "",
    );
  }
  if (r.rss) {
    const x = r.rss;
    L.push(
      `## 3. Peak RSS of one full sync of ${fmt(x.entities)} entities`,
      "",
      "`runSync` (replace mode) in a child process of its own (bench/run-sync.ts), which reports its `maxRSS` over its whole life; fresh source (seeded with transactions, 16 in flight, not measured) and destination servers; the destination then counted partition by partition.",
      "",
      "```",
      `seeding                      ${secs(x.seedMs)} s (not measured)`,
      `full sync                    ${secs(x.elapsedMs)} s = ${fmt((x.written * 1000) / x.elapsedMs)} entities/s, its CPU ${secs(x.cpuMs)} s; source Azurite CPU ${cpuText(x.sourceCpuS)} s, destination Azurite CPU ${cpuText(x.destinationCpuS)} s`,
      `peak RSS                     ${(x.maxRssKb / 1024).toFixed(0)} MB (target ≤ 256 MB: ${x.maxRssKb <= 256 * 1024 ? "met" : "NOT met"})`,
      `destination count            ${fmt(x.count)} of ${fmt(x.entities)} ${x.count === x.entities ? "ok" : "MISMATCH"}; ${x.failed} failed${x.error ? ` (${x.error})` : ""}`,
      "```",
      "",
    );
  }
  const missing = opts.parts.filter((p) => (p === "shard" ? !r.shards : p === "resume" ? !r.resume : !r.rss));
  if (missing.length) L.push(`Not (yet) measured in this run: ${missing.join(", ")}.`, "");
  L.push("## Output", "", "```", ...r.log, "```", "");
  return L.join("\n");
}
