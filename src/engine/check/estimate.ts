// The planning figures preflight adds to its counts: how entities spread over partitions (a transaction
// holds one partition's entities, so many tiny partitions mean many small requests), and what a full sync
// into Cosmos DB for Table will cost in request units and take at a given RU/s. Estimates, stated with
// their basis; the service's own bill decides.

/**
 * Cosmos DB's published write costs by item size (REFERENCE.md, "Throughput and cost": general Cosmos
 * figures from "Request units"), as [bytes, RU per write].
 */
export const COSMOS_WRITE_RU: readonly (readonly [number, number])[] = [
  [1024, 4.95],
  [2048, 6.29],
  [4096, 6.67],
  [8192, 7.04],
];

export const RU_BASIS =
  "Cosmos DB's published write costs (≈ 4.95 RU for a 1 KB item, 6.29 for 2 KB, 6.67 for 4 KB, 7.04 for 8 KB; " +
  "interpolated on the size of each entity as JSON, beyond 8 KB extended at the same rate per doubling). " +
  "More indexed properties cost more; 429 answers cost nothing";

/** RU for writing one item of `bytes`: the published figure, interpolated on log2 of the size. */
export function writeRequestUnits(bytes: number): number {
  const table = COSMOS_WRITE_RU;
  if (bytes <= table[0][0]) return table[0][1];
  let i = table.findIndex(([size]) => size >= bytes);
  // Beyond the last figure: the slope of the last two points, per doubling.
  if (i < 0) i = table.length - 1;
  const [s0, r0] = table[i - 1];
  const [s1, r1] = table[i];
  const perDoubling = (r1 - r0) / Math.log2(s1 / s0);
  return r0 + perDoubling * Math.log2(bytes / s0);
}

export interface PartitionProfile {
  /** Entities per partition: the median and the 99th percentile (nearest rank). */
  median: number;
  p99: number;
  /** Partitions holding exactly one entity, as a share of all partitions (0–1). */
  singleEntityShare: number;
}

/** Entities per partition as a histogram (entities → partitions): memory stays small for millions of partitions. */
export class PartitionCounter {
  private readonly histogram = new Map<number, number>();
  private partitions = 0;

  add(entities: number): void {
    this.histogram.set(entities, (this.histogram.get(entities) ?? 0) + 1);
    this.partitions++;
  }

  profile(): PartitionProfile | null {
    if (this.partitions === 0) return null;
    const sizes = [...this.histogram.keys()].sort((a, b) => a - b);
    const rank = (p: number) => {
      const wanted = Math.max(1, Math.ceil(p * this.partitions));
      let seen = 0;
      for (const s of sizes) {
        seen += this.histogram.get(s) ?? 0;
        if (seen >= wanted) return s;
      }
      return sizes[sizes.length - 1];
    };
    return {
      median: rank(0.5),
      p99: rank(0.99),
      singleEntityShare: (this.histogram.get(1) ?? 0) / this.partitions,
    };
  }
}

export interface CostEstimate {
  /** Request units the full sync's writes will spend (one write per entity). */
  requestUnits: number;
  ruPerSecond: number;
  /** requestUnits / ruPerSecond: the least time the writes take when they use the whole budget. */
  seconds: number;
  basis: string;
}

export function costEstimate(requestUnits: number, ruPerSecond: number): CostEstimate {
  const ru = Math.round(requestUnits);
  return { requestUnits: ru, ruPerSecond, seconds: Math.ceil(ru / ruPerSecond), basis: RU_BASIS };
}
