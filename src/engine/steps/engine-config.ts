// What a step is handed besides the user's config: the store, both sides with the door's credentials filled
// in, and the knobs tests turn; and the engine's config made of the two.
import type { SyncConfig } from "../../config/schema.js";
import type { StateStore } from "../../state/store.js";
import type { SideConfig } from "../wire/connection.js";
import type { EngineConfig } from "../copy/run-config.js";

export interface MigrationDeps {
  /** Where watermarks live; without one (the CLI without --state-file) nothing is remembered. */
  store?: StateStore;
  /** The engine's view of the two sides (with credentials filled in by the door). */
  source: SideConfig;
  destination: SideConfig;
  retry?: EngineConfig["retry"];
  /** Overrides `checkpointSeconds` (tests use a few milliseconds). */
  checkpointIntervalMs?: number;
  /** What each key range of an unsorted source should hold (ranged-reader.ts; tests use little, to see many). */
  rangeBytes?: number;
  /** A sorted source's lanes (lane-reader.ts): tests force them on small, fast tables. */
  lanes?: EngineConfig["lanes"];
  slowPageMs?: EngineConfig["slowPageMs"];
  rangeEntities?: EngineConfig["rangeEntities"];
  /** Sharded runs: how long to wait for a concurrent shard's plan to land in the store (default 3 000 ms). */
  shardSettleMs?: number;
  /** Sharded runs: how often a shard waiting for another's key sample looks at the store (default 5 000 ms). */
  shardPollMs?: number;
  /** Sharded runs: how often a shard sampling the keys says so in the store (default 20 000 ms). */
  shardHeartbeatMs?: number;
  /** The shards are key ranges of one job (`read-ranges`), saving through one queue: no other process races them. */
  inProcessShards?: boolean;
}

export function engineConfigOf(config: SyncConfig, deps: MigrationDeps): EngineConfig {
  return {
    source: deps.source,
    destination: deps.destination,
    tables: config.tables,
    writeMode: config.writeMode,
    propertyRenames: config.propertyRenames,
    queryFilter: config.queryFilter,
    concurrency: config.concurrency,
    maxEntitiesPerSecond: config.maxEntitiesPerSecond,
    createTables: config.createTables,
    dryRun: config.dryRun,
    maxFailuresKept: config.maxFailuresKept,
    retry: deps.retry,
    checkpointIntervalMs: deps.checkpointIntervalMs ?? config.checkpointSeconds * 1000,
    rangeBytes: deps.rangeBytes,
    lanes: deps.lanes,
    slowPageMs: deps.slowPageMs,
    rangeEntities: deps.rangeEntities,
  };
}
