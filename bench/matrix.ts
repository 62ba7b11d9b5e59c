// The bench matrix (issue 11): our CLI copying tables of 1, 10 and 1,000 entities per partition through
// round trips of 0, 20 and 100 ms, from a free source to a free sink behind a latency link, each cell
// against the harness ceiling measured in the same run. Prints the figures and writes them into
// bench/RESULTS.md between `<!-- matrix:start -->` and `<!-- matrix:end -->`.
//
//   node build/bench/matrix.js [--entities 200000] [--shapes 1,10,1000|none] [--rtts 0,20,100] [--rounds 1]
//                              [--unsorted 10:20|off] [--max-seconds 120] [--pin auto|on|off]
//                              [--cli build|dist] [--only ours] [--results bench/RESULTS.md]
//
// 200,000 entities a cell by default: every run of our CLI begins with a second or two in which the JIT
// warms up and our own CPU is the limit whatever the window (one entity per partition: 1.0 of a core,
// the rate climbing from 1,200 to 10,000/s at a constant window). A cell of 50,000 lasts 4–5 s, a third
// of it warm-up, and measured that rather than the copy: one entity per partition over 0 and 20 ms gave
// 0.62 and 0.71 of the ceiling where 200,000 gave 0.81 and 0.85 in the same hour. Users copy millions; pass
// `--entities 50000` to see the short-table figure.
//
// `--only ours` skips the yardsticks (no ceiling, no ratio): for our peak RSS at 1,000,000 entities,
// where a pre-built-writes yardstick alone holds gigabytes of requests.
//
// Every option can also be given as an environment variable: MATRIX_ENTITIES, MATRIX_SHAPES, …
// BENCH_OURS_ARGS adds options to our CLI's command line (e.g. `--concurrency 64`, to compare a setting
// with the defaults), BENCH_OURS_NODE_ARGS node's own flags for it; BENCH_CPU_PROFILE=<file> writes the CPU
// profile of our CLI's run (run-cli.ts), BENCH_PROF=<dir> that of our CLI and of the servers (cell-notes.ts).
//
// Per cell: ours — `table-sync full-sync` with default settings, in a child process, as a user runs it
// (run-cli.ts); scan — one plain sequential scan of the source; writes — every entity as pre-built
// requests of the table's shape, ample requests in flight (ceiling-client.ts); ceiling = min(scan, writes,
// 20,000/s, Table Storage's per-account target). The servers (free-source.ts, free-sink.ts and a
// latency-link.ts in front of each) run in a process of their own (harness-child.ts); pinned, they and
// this process share CPU 1 and the tool or the yardstick being measured has CPU 0 to itself.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pin } from "./common.js";
import { fmt, mb, wholePct } from "./format.js";
import { Harness } from "./harness.js";
import { profileFlags } from "./cell-notes.js";
import { markdown } from "./matrix-markdown.js";
import {
  measureOurs,
  measureYardstick,
  SOURCE_TABLE,
  type Cell,
  type Measurement,
} from "./matrix-measure.js";
import { options } from "./matrix-options.js";
import { consoleTable, shapeName, summarize } from "./matrix-summary.js";
import { withSection, MATRIX_END, MATRIX_START } from "./results-section.js";

/** The synopsis above, printed by --help and after a refused option. */
const USAGE = `
node build/bench/matrix.js [--entities 200000] [--shapes 1,10,1000|none] [--rtts 0,20,100] [--rounds 1]
                           [--unsorted 10:20|off] [--max-seconds 120] [--pin auto|on|off]
                           [--cli build|dist] [--only ours] [--results bench/RESULTS.md]
`;

async function main(): Promise<void> {
  const opts = options(USAGE);
  const cpu: { tool?: number; servers?: number } = opts.pin ? { tool: 0, servers: 1 } : {};
  if (cpu.servers !== undefined) pin(process.pid, cpu.servers);
  const loadAtStart = loadavg()[0];
  // The harness holds every page of the source, rendered, and what the sink counted: room for 1,000,000.
  const harness = await Harness.start([
    `--max-old-space-size=${Math.max(4096, Math.ceil(opts.entities / 100))}`,
    ...profileFlags("servers"),
  ]);
  if (cpu.servers !== undefined && harness.pid !== undefined) pin(harness.pid, cpu.servers);
  console.log(
    `matrix: ${fmt(opts.entities)} entities per cell, shapes ${opts.shapes.join(", ")} per partition × round trips ` +
      `${opts.rtts.join(", ")} ms${opts.unsorted ? ` + unsorted ${opts.unsorted.perPartition} per partition at ${opts.unsorted.rttMs} ms` : ""}, ` +
      `${opts.rounds} round(s), ours timed out after ${opts.maxSeconds} s; ${cpus().length} cores, node ${process.version}, ` +
      `load average ${loadAtStart.toFixed(2)}; ` +
      (opts.pin
        ? `pinned: tool and yardsticks on CPU ${cpu.tool}, servers and links on CPU ${cpu.servers}`
        : "not pinned"),
  );
  const work = mkdtempSync(join(tmpdir(), "matrix-"));
  const measurements: Measurement[] = [];
  process.once("SIGINT", () => {
    void harness.stop().finally(() => process.exit(130));
  });
  try {
    const cells: Cell[] = [];
    for (const perPartition of opts.shapes)
      for (const rttMs of opts.rtts) cells.push({ perPartition, rttMs, unsorted: false });
    if (opts.unsorted) cells.push({ ...opts.unsorted, unsorted: true });
    let loaded = "";
    for (const cell of cells) {
      const key = `${cell.perPartition}/${cell.unsorted}`;
      if (key !== loaded) {
        const ms = await harness.load({
          table: SOURCE_TABLE,
          entities: opts.entities,
          perPartition: cell.perPartition,
          unsorted: cell.unsorted,
        });
        loaded = key;
        console.log(
          `\nsource: ${fmt(opts.entities)} entities, ${shapeName(cell)}, pages rendered in ${(ms / 1000).toFixed(1)} s (not measured)`,
        );
      }
      await harness.setRtt(cell.rttMs);
      for (let round = 0; round < opts.rounds; round++) {
        const yardsticks = opts.onlyOurs ? [] : (["scan", "writes"] as const);
        const order = round % 2 === 0 ? [...yardsticks, "ours" as const] : ["ours" as const, ...yardsticks];
        for (const kind of order) {
          const m =
            kind === "ours"
              ? await measureOurs(opts, harness, cell, round, cpu.tool, work)
              : await measureYardstick(opts, harness, cell, round, kind, cpu.tool);
          m.load = loadavg()[0];
          measurements.push(m);
          console.log(
            `  ${shapeName(cell)}, ${cell.rttMs} ms, ${kind.padEnd(6)} #${round + 1}: ${fmt(m.entities)} in ${(m.elapsedMs / 1000).toFixed(1)} s = ${fmt(m.rate)}/s, ` +
              `cpu ${(m.cpuMs / 1000).toFixed(1)} s (${m.entities > 0 ? fmt((m.cpuMs * 1000) / m.entities) : "–"} µs/entity), ` +
              `peak RSS ${mb(m.maxRssKb)} MB, servers busy ${wholePct(m.harnessBusy)}${m.inflight ? `, ${m.inflight} in flight` : ""}, load ${m.load.toFixed(1)} — ${m.verified}`,
          );
          if (m.wire) console.log(`    ${m.wire}`);
        }
      }
    }
  } finally {
    await harness.stop();
    rmSync(work, { recursive: true, force: true });
  }
  const rows = summarize(opts, measurements);
  console.log(`\n${consoleTable(rows).join("\n")}`);
  const section = markdown(opts, rows, measurements, loadAtStart);
  const existing = existsSync(opts.results) ? readFileSync(opts.results, "utf8") : "# Benchmark results\n";
  writeFileSync(opts.results, withSection(existing, section));
  console.log(`\nwritten to ${opts.results} (between ${MATRIX_START} and ${MATRIX_END})`);
  if (!measurements.every((m) => m.ok || m.timedOut)) process.exitCode = 1;
}

await main();
