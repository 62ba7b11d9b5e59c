// The scale bench's command line (scale.ts): what to measure, how much of it, and where to write it.
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { benchArgs, numberOption, optionError } from "./args.js";
import { repoRoot } from "./common.js";

const here = dirname(fileURLToPath(import.meta.url));

/** The table every part of the scale bench seeds and copies from. */
export const SOURCE_TABLE = "scalesource";

export type Part = "shard" | "resume" | "rss";

export interface Options {
  entities: number;
  partitions: number;
  shards: number[];
  concurrency: number;
  rssEntities: number;
  parts: Part[];
  seedConcurrency: number;
  results: string;
}

export function options(usage: string): Options {
  const values = benchArgs(usage, {
    entities: { type: "string" },
    partitions: { type: "string" },
    shards: { type: "string" },
    concurrency: { type: "string" },
    "rss-entities": { type: "string" },
    parts: { type: "string" },
    "seed-concurrency": { type: "string" },
    results: { type: "string" },
  });
  const int = (raw: string | undefined, name: string, fallback: number, min = 1): number =>
    raw === undefined ? fallback : numberOption(raw, name, { min });
  const entityCount = int(values.entities, "entities", 200_000);
  const shards = (values.shards ?? "1,2,4").split(",").map((s) => int(s.trim(), "shards", 1));
  const parts = (values.parts ?? "shard,resume,rss").split(",").map((s) => s.trim());
  for (const p of parts)
    if (!["shard", "resume", "rss"].includes(p)) optionError(`--parts: unknown part ${p}`);
  const rssEntities = int(values["rss-entities"], "rss-entities", 1_000_000, 0);
  return {
    entities: entityCount,
    partitions: Math.min(int(values.partitions, "partitions", 100), entityCount),
    shards,
    concurrency: int(values.concurrency, "concurrency", 8),
    rssEntities,
    parts: (parts as Part[]).filter((p) => p !== "rss" || rssEntities > 0),
    seedConcurrency: int(values["seed-concurrency"], "seed-concurrency", 16),
    results: resolve(values.results ?? join(repoRoot(here), "bench", "RESULTS-scale.md")),
  };
}
