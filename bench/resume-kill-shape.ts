// One table shape of the kill -9 resume bench: the overhead of checkpoints every second (best of the
// rounds), then each kill followed by the resumed run, its re-read work counted and its result checked.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AzuriteServer } from "../test/support/azurite.js";
import { compareTables } from "./common.js";
import { partitionKey, type Layout } from "./data.js";
import { fmtDigits, secs } from "./format.js";
import { runCli, startServer } from "./resume-kill-cli.js";
import {
  ALLOWED_SECONDS,
  CPU_DESTINATION,
  CPU_TOOL,
  PAGE,
  SOURCE_TABLE,
  type Options,
  type Shape,
} from "./resume-kill-options.js";
import { destinationKeys, savedCheckpoint, seedSource, sourceKeys } from "./resume-kill-table.js";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export type Variant = "none" | "huge" | "1 s";

export interface OverheadRun {
  variant: Variant;
  round: number;
  elapsedMs: number;
  wallMs: number;
  cpuMs: number;
  rate: number;
  ok: boolean;
  note: string;
}

export interface KillRun {
  fraction: number;
  killAtMs: number;
  killedAtMs: number;
  landed: number;
  checkpointRead?: number;
  checkpointAgeMs?: number;
  resumedRead: number;
  /** Entities before the resume point that had NOT landed (must be 0). */
  gap: number;
  reread: number;
  rereadSeconds: number;
  allowed: number;
  resumeMs: number;
  verified: string;
  pass: boolean;
}

export interface ShapeResult {
  perPartition: number;
  layout: Layout;
  seedMs: number;
  overhead: OverheadRun[];
  best: Record<Variant, OverheadRun | undefined>;
  rate: number;
  expectedWallMs: number;
  kills: KillRun[];
}

export async function measureShape(opts: Options, shape: Shape, rand: () => number): Promise<ShapeResult> {
  const perPartition = shape.perPartition;
  const layout: Layout = {
    entities: shape.entities,
    partitions: Math.max(1, Math.ceil(shape.entities / perPartition)),
  };
  const tool = opts.pin ? CPU_TOOL : undefined;
  const dstCpu = opts.pin ? CPU_DESTINATION : undefined;
  const src = await startServer(tool);
  try {
    const seedMs = await seedSource(src.connectionString, layout);
    console.log(
      `\n[${perPartition}/partition] seeded ${fmtDigits(layout.entities)} entities in ${fmtDigits(layout.partitions)} partitions in ${secs(seedMs)} s`,
    );
    const keys = sourceKeys(layout);
    const scratch = mkdtempSync(join(tmpdir(), "resume-kill-"));
    let runNo = 0;
    /** `fn` with a fresh destination server (stopped afterwards), a table name and a state file path. */
    const withDestination = async <T>(
      fn: (dst: AzuriteServer, table: string, stateFile: string) => Promise<T>,
    ) => {
      const dst = await startServer(dstCpu);
      try {
        runNo++;
        return await fn(dst, `resumedest${runNo}`, join(scratch, `state-${runNo}.json`));
      } finally {
        await dst.stop().catch(() => undefined);
      }
    };
    const envFor = (dst: AzuriteServer) => ({
      SOURCE_CONNECTION_STRING: src.connectionString,
      DESTINATION_CONNECTION_STRING: dst.connectionString,
    });

    // 1. Overhead, rotating the order each round.
    const variants: Variant[] = ["none", "huge", "1 s"];
    const overhead: OverheadRun[] = [];
    for (let round = 1; round <= opts.rounds; round++) {
      const order = variants.map((_, i) => variants[(i + round - 1) % variants.length]);
      for (const variant of order) {
        const run = await withDestination(async (dst, table, stateFile) => {
          const args = [`--tables`, `${SOURCE_TABLE}:${table}`];
          if (variant !== "none")
            args.push("--state-file", stateFile, "--checkpoint-seconds", variant === "huge" ? "86400" : "1");
          const r = await runCli(args, envFor(dst), { pin: opts.pin });
          const ok = r.exit === 0 && r.written === layout.entities && r.failed === 0;
          const elapsedMs = r.elapsedMs ?? r.wallMs;
          return {
            variant,
            round,
            elapsedMs,
            wallMs: r.wallMs,
            cpuMs: r.cpuMs ?? 0,
            rate: layout.entities / (elapsedMs / 1000),
            ok,
            note: ok ? "" : `exit ${r.exit}, written ${r.written}, failed ${r.failed}: ${r.stderrTail}`,
          };
        });
        overhead.push(run);
        console.log(
          `  round ${round} ${variant.padEnd(4)} ${secs(run.elapsedMs)} s  ${fmtDigits(run.rate)} entities/s  cpu ${secs(run.cpuMs)} s${run.ok ? "" : `  FAILED ${run.note}`}`,
        );
      }
    }
    const bestOf = (v: Variant) =>
      overhead.filter((r) => r.variant === v && r.ok).sort((a, b) => a.elapsedMs - b.elapsedMs)[0];
    const best = { none: bestOf("none"), huge: bestOf("huge"), "1 s": bestOf("1 s") };
    const oneSecond = overhead.filter((r) => r.variant === "1 s" && r.ok);
    if (oneSecond.length === 0) throw new Error("no full sync with --checkpoint-seconds 1 completed");
    const rate = best["1 s"]?.rate ?? 0;
    const expectedWallMs = median(oneSecond.map((r) => r.wallMs));

    // 2. Kills.
    const kills: KillRun[] = [];
    for (const base of opts.kills) {
      const fraction = Math.min(0.98, Math.max(0.02, base + (rand() * 2 - 1) * opts.jitter));
      let killAtMs = Math.round(fraction * expectedWallMs);
      let kill: KillRun | undefined;
      for (let attempt = 1; !kill; attempt++) {
        kill = await withDestination(async (dst, table, stateFile): Promise<KillRun | undefined> => {
          const args = [
            "--tables",
            `${SOURCE_TABLE}:${table}`,
            "--state-file",
            stateFile,
            "--checkpoint-seconds",
            "1",
          ];
          const killed = await runCli(args, envFor(dst), { pin: opts.pin, killAfterMs: killAtMs });
          if (killed.exit === 0 && attempt < 3) {
            // Faster than the runs before it: kill the same share of this run's time, into a fresh destination.
            console.log(
              `  the run ended after ${secs(killed.wallMs)} s, before the kill at ${secs(killAtMs)} s: again`,
            );
            killAtMs = Math.round(fraction * killed.wallMs);
            return undefined;
          }
          if (killed.exit !== "SIGKILL")
            throw new Error(
              `the run ended (exit ${killed.exit}) before the kill at ${killAtMs} ms: ${killed.stderrTail}`,
            );
          const { checkpoint, savedAgoMs } = savedCheckpoint(stateFile);
          // Requests the destination had received before the kill still complete there: read until two
          // reads half a second apart agree.
          let landedKeys = new Set<string>();
          for (let i = 0; i < 10; i++) {
            await sleep(500);
            const now = await destinationKeys(dst.connectionString, table);
            if (i > 0 && now.size === landedKeys.size) break;
            landedKeys = now;
          }
          const resumed = await runCli(args, envFor(dst), { pin: opts.pin });
          if (resumed.exit !== 0 || resumed.read === undefined)
            throw new Error(`the resumed run failed (exit ${resumed.exit}): ${resumed.stderrTail}`);
          // The resumed run read the last `resumed.read` entities of the sorted source.
          const from = layout.entities - resumed.read;
          let reread = 0;
          let landedBefore = 0;
          for (let i = 0; i < keys.length; i++) {
            if (!landedKeys.has(keys[i])) continue;
            if (i >= from) reread++;
            else landedBefore++;
          }
          const cmp = await compareTables(
            { connectionString: src.connectionString, table: SOURCE_TABLE },
            { connectionString: dst.connectionString, table },
            layout.partitions <= 1_000
              ? Array.from({ length: layout.partitions }, (_, p) => partitionKey(p))
              : undefined,
          );
          const exact =
            cmp.mismatches === 0 && cmp.destination === layout.entities && cmp.source === layout.entities;
          const allowed = ALLOWED_SECONDS * rate + PAGE;
          const gap = from - landedBefore;
          const consistent = checkpoint ? checkpoint.read === from : from === 0;
          const run: KillRun = {
            fraction,
            killAtMs,
            killedAtMs: killed.killedAtMs ?? killAtMs,
            landed: landedKeys.size,
            checkpointRead: checkpoint?.read,
            checkpointAgeMs: checkpoint ? savedAgoMs : undefined,
            resumedRead: resumed.read,
            gap,
            reread,
            rereadSeconds: rate > 0 ? reread / rate : 0,
            allowed,
            resumeMs: resumed.elapsedMs ?? resumed.wallMs,
            verified: exact
              ? `all ${fmtDigits(cmp.destination)} identical`
              : `MISMATCH ${cmp.mismatches} (destination ${cmp.destination}; ${cmp.firstMismatch ?? ""})`,
            pass: exact && gap === 0 && consistent && reread <= allowed,
          };
          if (!consistent)
            run.verified += `; resumed from ${from}, checkpoint said ${checkpoint?.read ?? "none"}`;
          return run;
        });
      }
      kills.push(kill);
      console.log(
        `  kill at ${(kill.fraction * 100).toFixed(0)} % (${secs(kill.killedAtMs)} s): ${fmtDigits(kill.landed)} landed, resume point ${fmtDigits(kill.checkpointRead ?? 0)}` +
          `${kill.checkpointAgeMs !== undefined ? ` (state file written ${fmtDigits(kill.checkpointAgeMs)} ms before)` : ""}; resumed run read ${fmtDigits(kill.resumedRead)}, ` +
          `of which ${fmtDigits(kill.reread)} had landed = ${kill.rereadSeconds.toFixed(2)} s of work (allowed ${fmtDigits(kill.allowed)}); gap ${kill.gap}; ${kill.verified}; ${kill.pass ? "pass" : "FAIL"}`,
      );
    }
    rmSync(scratch, { recursive: true, force: true });
    return { perPartition, layout, seedMs, overhead, best, rate, expectedWallMs, kills };
  } finally {
    await src.stop().catch(() => undefined);
  }
}
