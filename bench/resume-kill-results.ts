// The kill -9 resume bench's results (bench/RESULTS-resume.md by default): each run's section is put
// first, under the file's header, above the sections of the runs before it.
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { measuredCommit, repoRoot } from "./common.js";
import { fmtDigits, secs } from "./format.js";
import { ALLOWED_SECONDS, PAGE, TARGET_OVERHEAD, type Options } from "./resume-kill-options.js";
import type { ShapeResult, Variant } from "./resume-kill-shape.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = repoRoot(here);

/** This run's section of the results file, and whether every target was met. */
export function resultLines(
  opts: Options,
  shapes: ShapeResult[],
  loadAtStart: number,
): { lines: string[]; pass: boolean } {
  const ratio = (s: ShapeResult, against: Variant) => {
    const a = s.best[against];
    const b = s.best["1 s"];
    return a && b ? a.elapsedMs / b.elapsedMs : 0;
  };
  const killsPass = shapes.every((s) => s.kills.every((k) => k.pass));
  const killed = shapes.some((s) => s.kills.length > 0);
  const overheadPass = shapes.every((s) => ratio(s, "none") >= TARGET_OVERHEAD);
  const overheadOk = shapes.every((s) => s.overhead.every((r) => r.ok));

  const killRows = shapes.flatMap((s) =>
    s.kills.map(
      (k) =>
        `| ${s.perPartition} | ${(k.fraction * 100).toFixed(0)} % (${secs(k.killedAtMs)} s) | ${fmtDigits(k.landed)} | ${k.checkpointRead === undefined ? "none" : fmtDigits(k.checkpointRead)} | ${k.checkpointAgeMs === undefined ? "–" : fmtDigits(k.checkpointAgeMs)} | ${fmtDigits(k.resumedRead)} | **${fmtDigits(k.reread)}** | **${k.rereadSeconds.toFixed(2)} s** | ${fmtDigits(k.allowed)} | ${k.gap} | ${k.verified} | ${k.pass ? "pass" : "**FAIL**"} |`,
    ),
  );
  const overheadRows = shapes.map((s) => {
    const cell = (v: Variant) => {
      const b = s.best[v];
      return b ? `${secs(b.elapsedMs)} s (${fmtDigits(b.rate)}/s)` : "failed";
    };
    const all = (v: Variant) =>
      s.overhead
        .filter((r) => r.variant === v)
        .map((r) => (r.ok ? secs(r.elapsedMs) : "failed"))
        .join(", ");
    const r = ratio(s, "none");
    return `| ${s.perPartition} | ${cell("none")} | ${cell("huge")} | ${cell("1 s")} | **${r.toFixed(3)}** ${r >= TARGET_OVERHEAD ? "met" : "NOT met"} | ${ratio(s, "huge").toFixed(3)} | ${all("none")} / ${all("huge")} / ${all("1 s")} |`;
  });

  const lines = [
    `## ${new Date().toISOString()} — commit ${measuredCommit(root)}`,
    "",
    `- machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, ${fmtDigits(totalmem() / 2 ** 30, 1)} GiB, node ${process.version}; load average ${loadAtStart.toFixed(2)} at the start, ${loadavg()[0].toFixed(2)} at the end (the machine is shared); ${opts.pin ? "pinned: the destination server on CPU 1, the CLI and the source server on CPU 0" : "not pinned"}`,
    `- shapes: ${shapes.map((s) => `${fmtDigits(s.layout.entities)} entities in ${fmtDigits(s.layout.partitions)} partitions (${fmtDigits(s.perPartition)} per partition)`).join("; ")}; entities of ~1 KB (bench/data.ts: every EDM type; row keys unique in the table, see entityAt); Azurite in memory, a fresh destination server for every run; the CLI as a user runs it: \`node build/src/cli/index.js full-sync --tables … --json\` (through build/bench/run-cli.js, which records its time without node's start-up), default settings (concurrency auto)`,
    ...(opts.note ? [`- ${opts.note}`] : []),
    `- kills at ${opts.kills.join(", ") || "none"} of the 1 s runs' median duration, each moved by up to ±${opts.jitter} (seed ${opts.seed}); allowed re-read = ${ALLOWED_SECONDS} s × the run's rate (the best 1 s run) + ${fmtDigits(PAGE)} (one page)`,
    "",
    ...(killed
      ? [
          "### Kill -9, then run again",
          "",
          "| per partition | kill at | landed at the kill | resume point (read) | state file last written, ms before the kill | resumed run read | re-read that had landed | in seconds of work | allowed | not landed before the resume point | destination after the resume | |",
          "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
          ...killRows,
          "",
        ]
      : []),
    "### Overhead of checkpoints every second (best of each)",
    "",
    `| per partition | no state file | state file, checkpoint every day | --checkpoint-seconds 1 | none ÷ 1 s (target ≥ ${TARGET_OVERHEAD}) | day ÷ 1 s | every run, s (none / day / 1 s) |`,
    "|---:|---:|---:|---:|---:|---:|---|",
    ...overheadRows,
    "",
    `Targets: kills ${killed ? (killsPass ? "met" : "NOT met") : "not measured"}; overhead ${overheadPass ? "met" : "NOT met"}${overheadOk ? "" : " (some runs failed)"}.`,
  ];
  return { lines, pass: killsPass && overheadPass && overheadOk };
}

/** Write the results file: its header, then this run's section above the earlier runs' sections. */
export function prependResults(file: string, lines: string[]): void {
  const header = [
    "# Kill -9 resume benchmark results",
    "",
    "Written by `node build/bench/resume-kill.js` (bench/resume-kill.ts; `npm run bench` runs it). Issue 11:",
    "with `--checkpoint-seconds 1`, a kill -9 at any moment re-reads at most ~2 s of work plus one page, and a",
    "run with checkpoints every second is ≥ 0.95 × as fast as one without.",
    "",
    "Method: a source table seeded once per shape; every run into a fresh in-memory Azurite destination. The CLI",
    "runs in a child process that is killed with SIGKILL at the given moment (from its spawn); then the",
    "destination's keys are read every 0.5 s until two reads agree (requests it had received still land). The",
    "same command then",
    "runs to completion: it reads the last R entities of the sorted source (R = what its `--json` result says it",
    "read, which must equal the table size less the saved resume point's `read`). *Re-read that had landed* = the",
    "entities among those R that were already at the destination when the CLI was killed: work done twice. It is",
    "converted to seconds at the best `--checkpoint-seconds 1` run's rate. *Not landed before the resume point*",
    "must be 0 (every entity before a resume point is written), and the destination must end equal to the source,",
    "entity by entity with exact wire types (bench/common.ts compareTables). Overhead: the same full sync without",
    "a state file, with one but a checkpoint interval of a day, and with `--checkpoint-seconds 1`, in rotating",
    "order, best of each; the ratio is the time without a state file over the time with checkpoints every second.",
    "",
  ];
  let previous = "";
  try {
    previous = readFileSync(file, "utf8");
  } catch {
    /* first run */
  }
  const firstRun = previous.indexOf("\n## ");
  const body = firstRun >= 0 ? previous.slice(firstRun + 1) : "";
  writeFileSync(file, `${header.join("\n")}\n${lines.join("\n")}\n${body ? `\n${body}` : ""}`);
}
