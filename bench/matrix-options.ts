// The bench matrix's command line (matrix.ts): every option also read from a MATRIX_* environment
// variable.
import { cpus } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { benchArgs, numberOption, optionError, optionOrEnv } from "./args.js";
import { canPin, repoRoot } from "./common.js";
export interface Options {
  entities: number;
  shapes: number[];
  rtts: number[];
  rounds: number;
  /** The unsorted (Cosmos as the source) row: entities per partition and round trip; undefined: none. */
  unsorted?: { perPartition: number; rttMs: number };
  maxSeconds: number;
  /** Only our CLI, no yardsticks. */
  onlyOurs: boolean;
  pin: boolean;
  cli: "build" | "dist";
  results: string;
}

const here = dirname(fileURLToPath(import.meta.url));

export function options(usage: string): Options {
  const values = benchArgs(usage, {
    entities: { type: "string" },
    shapes: { type: "string" },
    rtts: { type: "string" },
    rounds: { type: "string" },
    unsorted: { type: "string" },
    "max-seconds": { type: "string" },
    pin: { type: "string" },
    cli: { type: "string" },
    only: { type: "string" },
    results: { type: "string" },
  });
  const pick = optionOrEnv(values, "MATRIX");
  const int = (text: string, what: string, min: number): number =>
    numberOption(text, what.replace(/^--/, ""), { min });
  const list = (name: keyof typeof values, fallback: string, min: number): number[] =>
    (pick(name) ?? fallback).split(",").map((s) => int(s.trim(), `--${name}`, min));
  const entities = int(pick("entities") ?? "200000", "--entities", 1);
  const unsortedText = pick("unsorted") ?? "10:20";
  let unsorted: Options["unsorted"];
  if (unsortedText !== "off") {
    const m = /^(\d+):(\d+)$/.exec(unsortedText);
    if (!m)
      optionError(`--unsorted must be <entities per partition>:<round trip ms> or off, not ${unsortedText}`);
    unsorted = { perPartition: int(m[1], "--unsorted", 1), rttMs: int(m[2], "--unsorted", 0) };
  }
  const pinSetting = pick("pin") ?? "auto";
  if (!["auto", "on", "off"].includes(pinSetting))
    optionError(`--pin must be auto, on or off, not ${pinSetting}`);
  const only = pick("only");
  if (only !== undefined && only !== "ours") optionError(`--only takes ours, not ${only}`);
  const cli = pick("cli") ?? "build";
  if (cli !== "build" && cli !== "dist") optionError(`--cli must be build or dist, not ${cli}`);
  return {
    entities,
    // `--shapes none`: the unsorted row alone.
    shapes: pick("shapes") === "none" ? [] : list("shapes", "1,10,1000", 1),
    rtts: list("rtts", "0,20,100", 0),
    rounds: int(pick("rounds") ?? "1", "--rounds", 1),
    unsorted,
    maxSeconds: int(pick("max-seconds") ?? "120", "--max-seconds", 1),
    onlyOurs: only === "ours",
    pin: pinSetting === "on" || (pinSetting === "auto" && cpus().length >= 2 && canPin()),
    cli,
    results: resolve(pick("results") ?? join(repoRoot(here), "bench", "RESULTS.md")),
  };
}
