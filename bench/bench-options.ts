// The benchmark's command line (bench.ts), every option also read from a BENCH_* environment variable,
// and the CPU each process gets when pinned.
import { cpus } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { benchArgs, numberOption, optionError, optionOrEnv } from "./args.js";
import { canPin, repoRoot } from "./common.js";
import type { Layout } from "./data.js";
export interface Options extends Layout {
  concurrency: number;
  rounds: number;
  perEntityLimit: number;
  perEntityConcurrency: number;
  seedConcurrency: number;
  verify: "full" | "count";
  pin: boolean;
  results: string;
}

const here = dirname(fileURLToPath(import.meta.url));

export function options(usage: string): Options {
  const values = benchArgs(usage, {
    entities: { type: "string" },
    partitions: { type: "string" },
    concurrency: { type: "string" },
    rounds: { type: "string" },
    "per-entity-limit": { type: "string" },
    "per-entity-concurrency": { type: "string" },
    "seed-concurrency": { type: "string" },
    verify: { type: "string" },
    pin: { type: "string" },
    results: { type: "string" },
  });
  const pick = optionOrEnv(values, "BENCH");
  const int = (name: keyof typeof values & string, fallback: number, min = 1): number => {
    const raw = pick(name);
    return raw === undefined ? fallback : numberOption(raw, name, { min });
  };
  const entityCount = int("entities", 100_000);
  const verify = pick("verify") ?? "full";
  if (verify !== "full" && verify !== "count") optionError(`--verify must be full or count, not ${verify}`);
  const pinSetting = pick("pin") ?? "auto";
  if (!["auto", "on", "off"].includes(pinSetting))
    optionError(`--pin must be auto, on or off, not ${pinSetting}`);
  const pinning = pinSetting === "on" || (pinSetting === "auto" && cpus().length >= 2 && canPin());
  return {
    entities: entityCount,
    partitions: Math.min(int("partitions", 100), entityCount),
    concurrency: int("concurrency", 8),
    rounds: int("rounds", 5),
    perEntityLimit: Math.min(int("per-entity-limit", 20_000), entityCount),
    perEntityConcurrency: int("per-entity-concurrency", 10),
    seedConcurrency: int("seed-concurrency", 16),
    verify,
    pin: pinning,
    results: resolve(pick("results") ?? join(repoRoot(here), "bench", "RESULTS.md")),
  };
}

/** CPUs when pinning: the destination alone on one; the tool and the source on another (or a third). */
export function cpuPlan(opts: Options): { tool?: number; source?: number; destination?: number } {
  if (!opts.pin) return {};
  return { tool: 0, destination: 1, source: cpus().length >= 3 ? 2 : 0 };
}
