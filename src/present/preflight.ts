// Preflight's planning figures as sentences, the same for the job summary and the CLI: the partition profile,
// and for a Cosmos destination the request-unit estimate with its basis.
import type { PreflightResult } from "../engine/check/preflight.js";
import { num, timeLeft } from "./figures.js";

export function planningLines(p: PreflightResult): string[] {
  const lines: string[] = [];
  const profile = p.partitionProfile;
  if (profile) {
    lines.push(
      `Entities per partition: median ${num(profile.median)}, 99th percentile ${num(profile.p99)}; ${Math.round(profile.singleEntityShare * 1000) / 10} % of the partitions hold a single entity (a transaction holds one partition's entities, so small partitions mean small requests).`,
    );
  }
  const e = p.cosmosEstimate;
  if (e) {
    lines.push(
      `Estimate: the full sync's writes spend about ${num(e.requestUnits)} RU; at ${num(e.ruPerSecond)} RU/s (ru-per-second) that is at least ${timeLeft(e.seconds)}. Basis: ${e.basis}.`,
    );
  }
  return lines;
}
