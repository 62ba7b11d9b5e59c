// The kill -9 resume bench's settings (resume-kill.ts): its command line, its targets and where each
// process runs when pinned.
import { cpus } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { benchArgs, numberOption, optionError } from "./args.js";
import { canPin, repoRoot } from "./common.js";

export const PAGE = 1_000;
export const ALLOWED_SECONDS = 2;
export const TARGET_OVERHEAD = 0.95;
export const SOURCE_TABLE = "resumesource";

const here = dirname(fileURLToPath(import.meta.url));
const root = repoRoot(here);

/** Pinning: the destination server alone on CPU 1; the CLI and the source server on CPU 0. */
export const CPU_TOOL = 0;
export const CPU_DESTINATION = 1;

export interface Shape {
  perPartition: number;
  entities: number;
}

export interface Options {
  shapes: Shape[];
  kills: number[];
  jitter: number;
  seed: number;
  rounds: number;
  pin: boolean;
  note?: string;
  results: string;
}

export function options(usage: string): Options {
  const values = benchArgs(usage, {
    entities: { type: "string" },
    shapes: { type: "string" },
    kills: { type: "string" },
    jitter: { type: "string" },
    seed: { type: "string" },
    rounds: { type: "string" },
    pin: { type: "string" },
    note: { type: "string" },
    results: { type: "string" },
  });
  const num = (raw: string, what: string, min: number, max: number, integer: boolean): number =>
    numberOption(raw, what, { min, max, integer });
  const list = (raw: string, what: string, min: number, max: number, integer: boolean) =>
    raw.split(",").map((s) => num(s, what, min, max, integer));
  const pinSetting = values.pin ?? "off";
  if (!["auto", "on", "off"].includes(pinSetting))
    optionError(`--pin must be auto, on or off, not ${pinSetting}`);
  const entities = num(values.entities ?? "60000", "entities", 2 * PAGE, 10_000_000, true);
  const shapes = (values.shapes ?? "1000:60000,1:20000").split(",").map((item): Shape => {
    const [per, count] = item.split(":");
    return {
      perPartition: num(per, "shapes", 1, 1_000_000, true),
      entities: count === undefined ? entities : num(count, "shapes", 2 * PAGE, 10_000_000, true),
    };
  });
  return {
    shapes,
    kills: values.kills === "none" ? [] : list(values.kills ?? "0.2,0.5,0.8", "kills", 0.01, 0.99, false),
    jitter: num(values.jitter ?? "0.1", "jitter", 0, 0.5, false),
    seed: num(values.seed ?? "11", "seed", 0, 2 ** 31, true),
    rounds: num(values.rounds ?? "3", "rounds", 1, 50, true),
    pin: pinSetting === "on" || (pinSetting === "auto" && cpus().length >= 2 && canPin()),
    note: values.note,
    results: resolve(values.results ?? join(root, "bench", "RESULTS-resume.md")),
  };
}
