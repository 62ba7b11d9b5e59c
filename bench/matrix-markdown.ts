// The bench matrix's section of bench/RESULTS.md (between its markers): the cells against their ceilings,
// the method, and every measurement.
import { cpus, loadavg, platform, release, totalmem } from "node:os";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { measuredCommit, repoRoot } from "./common.js";
import { fmt, mb, wholePct } from "./format.js";
import type { Measurement } from "./matrix-measure.js";
import type { Options } from "./matrix-options.js";
import { ACCOUNT_TARGET, check, cpuPerEntity, shapeName, type Row } from "./matrix-summary.js";
import { MATRIX_END, MATRIX_START } from "./results-section.js";

const here = dirname(fileURLToPath(import.meta.url));

export function markdown(opts: Options, rows: Row[], ms: Measurement[], loadAtStart: number): string {
  const cpu = cpus();
  const met = rows.filter((r) => r.ratio >= 0.8).length;
  const lines = [
    MATRIX_START,
    "",
    "## Matrix: table shape × round trip",
    "",
    "Written by `node build/bench/matrix.js` (bench/matrix.ts, the last step of `npm run bench`); each run replaces this section, and bench.ts keeps it when it rewrites the file.",
    "",
    `- date: ${new Date().toISOString()}, commit ${measuredCommit(repoRoot(here))}, CLI: ${opts.cli === "dist" ? "dist/cli (the bundle bin/table-sync.js runs)" : "build/src/cli (the current source, compiled)"}`,
    `- ${fmt(opts.entities)} entities per cell (~1.1 KB of JSON each, every EDM type), best of ${opts.rounds} round(s); ours stopped after ${opts.maxSeconds} s`,
    `- machine: ${cpu.length} cores (${cpu[0]?.model.trim() ?? "?"}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${platform()} ${release()}, node ${process.version}; 1-minute load average ${loadAtStart.toFixed(2)} at the start, ${loadavg()[0].toFixed(2)} at the end (other work shares the machine)`,
    opts.pin
      ? "- pinned: the tool (or the yardstick being measured) on CPU 0; the source, the sink, both links and the bench on CPU 1"
      : "- not pinned: every process shares every core",
    "",
    `**Target (issue 11): every cell ≥ 0.8 × its ceiling. Met in ${met} of ${rows.length}.**`,
    "",
    "| table shape | round trip | ours /s | one scan /s | pre-built writes /s | ceiling /s | ours ÷ ceiling | our CPU µs/entity | our peak RSS MB | check |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ...rows.map(
      (r) =>
        `| ${shapeName(r.cell)} | ${r.cell.rttMs} ms | ${r.ours ? fmt(r.ours.rate) : "–"} | ${r.scan ? fmt(r.scan.rate) : "–"} | ${r.writes ? fmt(r.writes.rate) : "–"} | ${fmt(r.ceiling)} | ${r.ratio >= 0.8 ? r.ratio.toFixed(2) : `**${r.ratio.toFixed(2)}**`} | ${cpuPerEntity(r.ours)} | ${r.ours ? mb(r.ours.maxRssKb) : "–"} | ${check(r)} |`,
    ),
    "",
    "### Method",
    "",
    "- **Harness** (all in `bench/`, started by the bench in a process of its own): a free source (free-source.ts) that serves the table from memory as Table Storage does — pages of 1,000 entities sorted by PartitionKey and RowKey, minimal-metadata JSON with the services' annotations, ETags and 7-digit Timestamps, continuation in `x-ms-continuation-NextPartitionKey/NextRowKey` — every page of a plain scan rendered to a Buffer before anything is timed; a free sink (free-sink.ts) that acknowledges each `$batch` (202 with one `204 No Content` part per operation, as Table Storage answers) and each single-entity write (204 with an ETag) at once, counting the distinct keys it acknowledged; and a latency link (latency-link.ts) in front of each, a TCP forwarder that holds every chunk for half the round trip in each direction. Source and sink speak HTTP/1.1 through a minimal server on node:net (raw-http.ts), several times cheaper per request than node:http's. The unsorted row serves the same table as Cosmos DB for Table does: shuffled across the whole table, JSON continuation tokens with `NextRowKey: NA`, no `x-ms-version`; ours runs with `--source-kind cosmos`. A `$filter` on a PartitionKey range (how ours reads such a source: key ranges in turn, src/engine/copy/ranged-reader.ts) is answered from a key index — the range's rows in the shuffled scan's order — and rendered as asked, not kept.",
    "- **ours**: `table-sync full-sync --tables benchsource:benchdest` with default settings (connection strings in `SOURCE_CONNECTION_STRING`/`DESTINATION_CONNECTION_STRING`, shared-key signed, over http on loopback), in a child process (run-cli.ts loads the CLI's modules, then runs it; wall time, CPU time and peak RSS are the run's, without node's start-up). Its rate is the entities the sink acknowledged (distinct keys) over that time; a run still going after the time-out is stopped and its rate is what the sink had by then.",
    "- **one scan**: one client GETs every page in turn with the previous page's continuation and reads the body without parsing it (node:http, keep-alive; entities counted by a byte search for `\"odata.etag\"`). A copy reads a table's pages in this order, so one scan is as fast as a plain reader gets through the link.",
    "- **pre-built writes**: every entity of the table in requests of its shape — one entity per partition: a plain PUT each; 10 per partition: transactions of 10; 1,000: transactions of 100 — every request's bytes built before the clock starts and sent by a raw HTTP/1.1 client on node:net (the least CPU a client can spend per request), with enough requests in flight to cover the round trip at 25,000 entities/s (at most 2,048, one keep-alive connection each). Every answer is checked (204, or 202 with a 204 part per operation) and the sink must hold every key.",
    opts.onlyOurs
      ? `- **--only ours**: no yardsticks were run, so the ceiling is ${fmt(ACCOUNT_TARGET)}/s (Table Storage's target per account) alone — this run measures our rate, CPU and peak RSS, not the ratio.`
      : `- **ceiling** = min(one scan, pre-built writes, ${fmt(ACCOUNT_TARGET)}/s — Table Storage's target per account), all measured in the same run and cell; the ratio is ours over it. Best of each kind over the rounds (the order alternates round by round).`,
    `- **servers busy**: the harness process's CPU time over the measurement's wall time (below): near 100 %, the harness itself was the limit, and the ceiling is the harness's, not the service's. **load**: the machine's 1-minute load average after the measurement; above ${cpu.length} (the core count), other work was taking CPU from the tool, the yardsticks and the servers alike, and every figure of that measurement is lower than the machine can do.`,
    "",
    "### Every measurement",
    "",
    "| cell | measurement | entities | seconds | entities/s | its CPU s | µs/entity | peak RSS MB | servers busy | in flight | load | check |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ...ms.map(
      (m) =>
        `| ${shapeName(m.cell)}, ${m.cell.rttMs} ms | ${m.kind} #${m.round + 1} | ${fmt(m.entities)} | ${(m.elapsedMs / 1000).toFixed(1)} | ${fmt(m.rate)} | ${(m.cpuMs / 1000).toFixed(1)} | ${cpuPerEntity(m)} | ${mb(m.maxRssKb)} | ${wholePct(m.harnessBusy)} | ${m.inflight ?? "–"} | ${m.load?.toFixed(1) ?? "–"} | ${m.verified} |`,
    ),
    "",
    MATRIX_END,
  ];
  return lines.join("\n");
}
