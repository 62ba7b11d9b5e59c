// Preflight's planning figures as sentences, the same for the job summary and the CLI: the partition profile,
// and for a Cosmos destination the request-unit estimate with its basis.
import type { PreflightResult } from "../engine/check/preflight.js";
import { timeLeft } from "./progress.js";

function n(x: number): string {
  return x.toLocaleString("en-US");
}

export function planningLines(p: PreflightResult): string[] {
  const lines: string[] = [];
  const profile = p.partitionProfile;
  if (profile) {
    lines.push(
      `Entities per partition: median ${n(profile.median)}, 99th percentile ${n(profile.p99)}; ${Math.round(profile.singleEntityShare * 1000) / 10} % of the partitions hold a single entity (a transaction holds one partition's entities, so small partitions mean small requests).`,
    );
  }
  const e = p.cosmosEstimate;
  if (e) {
    lines.push(
      `Estimate: the full sync's writes spend about ${n(e.requestUnits)} RU; at ${n(e.ruPerSecond)} RU/s (ru-per-second) that is at least ${timeLeft(e.seconds)}. Basis: ${e.basis}.`,
    );
  }
  return lines;
}
