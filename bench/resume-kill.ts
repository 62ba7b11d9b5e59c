// The kill -9 resume benchmark (issue 11): a full sync with `--checkpoint-seconds 1`, killed with SIGKILL
// at a few moments, then run again to completion, exactly as a user would (the compiled CLI in a child
// process, two in-memory Azurite servers). Measures how much work the resumed run does again, and what
// checkpoints every second cost against a run without any.
//
//   npm run build && node build/bench/resume-kill.js [--shapes 1000:60000,1:20000] [--entities 60000]
//       [--kills 0.2,0.5,0.8|none] [--jitter 0.1] [--seed 11] [--rounds 3] [--pin off|on] [--note <text>]
//       [--results bench/RESULTS-resume.md]
//
// A shape is `entities per partition[:entities]` (without a count: --entities). One entity per partition is
// one request per entity, which Azurite takes at a few hundred a second on a shared 2-core machine: its
// default table is smaller so the bench stays within minutes.
//
// For each shape it seeds a source table once, then:
// 1. Overhead: the same full sync into a fresh destination server, `rounds` times in rotating order:
//    without a state file ("none"), with a state file and a checkpoint interval of a day ("huge"), and
//    with `--checkpoint-seconds 1` ("1 s"). The best run of each is compared (noise only ever slows a
//    run down); the 1 s run's rate is the run's rate used below.
// 2. Kills: for each moment f (jittered by ±jitter with the seed) a fresh destination and state file;
//    the CLI is started and killed with SIGKILL at f × the 1 s runs' median duration (from spawn). Once
//    the requests the destination had already received are done, the destination's keys are read: what
//    had landed. Then the same command runs to completion. It reads the source from the saved resume
//    point on, i.e. the last R entities of the (sorted) source, R being what it reports as read; of
//    those, the ones that had already landed before the kill are the work done again. Target: at most
//    2 s of work at the run's rate plus one page (1,000 entities). Everything before the resume point
//    must have landed (the resume point's promise), and the destination must end equal to the source,
//    entity by entity with exact wire types.
import { cpus, loadavg } from "node:os";
import { prng } from "../test/support/prng.js";
import { pin } from "./common.js";
import { fmtDigits } from "./format.js";
import { CPU_TOOL, options } from "./resume-kill-options.js";
import { prependResults, resultLines } from "./resume-kill-results.js";
import { measureShape, type ShapeResult } from "./resume-kill-shape.js";

/** The synopsis above, printed by --help and after a refused option. */
const USAGE = `
npm run build && node build/bench/resume-kill.js [--shapes 1000:60000,1:20000] [--entities 60000]
    [--kills 0.2,0.5,0.8|none] [--jitter 0.1] [--seed 11] [--rounds 3] [--pin off|on] [--note <text>]
    [--results bench/RESULTS-resume.md]
`;

async function main(): Promise<void> {
  const opts = options(USAGE);
  const rand = prng(opts.seed);
  const loadAtStart = loadavg()[0];
  console.log(
    `resume-kill: shapes ${opts.shapes.map((s) => `${fmtDigits(s.entities)} entities, ${fmtDigits(s.perPartition)} per partition`).join("; ")}, kills at ${opts.kills.join(", ")} ±${opts.jitter} (seed ${opts.seed}), ` +
      `${opts.rounds} overhead rounds; ${cpus().length} cores, node ${process.version}, load ${loadAtStart.toFixed(2)}; ${opts.pin ? "pinned" : "not pinned"}`,
  );
  if (opts.pin) pin(process.pid, CPU_TOOL);
  const shapes: ShapeResult[] = [];
  for (const shape of opts.shapes) shapes.push(await measureShape(opts, shape, rand));

  const { lines, pass } = resultLines(opts, shapes, loadAtStart);
  console.log(`\n${lines.join("\n")}`);
  prependResults(opts.results, lines);
  console.log(`written to ${opts.results}`);
  process.exitCode = pass ? 0 : 1;
}

await main();
