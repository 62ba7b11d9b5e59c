// How the steps name a table and a checkpoint in the sentences they tell the user (a resumed or cancelled
// full sync, the shards' ranges).
import type { Checkpoint } from "../../state/state.js";
import { parseTableKey, tableKey } from "../../state/table-key.js";
import type { TableSpec } from "../copy/run-config.js";

/** A table as the user spelled it in `tables` (keys are lower case), or as its key says. */
export function describeTable(key: string, specs: TableSpec[]): string {
  const { source, destination } = specs.find((s) => tableKey(s) === key) ?? parseTableKey(key);
  return source === destination ? source : `${source} → ${destination}`;
}

export function describeCheckpoint(key: string, cp: Checkpoint, specs: TableSpec[]): string {
  // Continuation tokens are opaque (the service may encode them): name the position by its count.
  return `table ${describeTable(key, specs)} after its first ${cp.read} entities`;
}
