// Per table: what to read. A full sync reads everything; a backfill reads what changed since the
// table's watermark minus the overlap (or since `since`), on the source server's clock.
import { backfillStart, tableKey, type State } from "../state/state.js";
import { andFilters, sinceFilter, type TablePlan, type TableSpec } from "./sync.js";

export interface PlanInputs {
  mode: string;
  queryFilter?: string;
  since?: Date;
  overlapSeconds: number;
}

/** Throws MissingWatermarkError for a backfill with neither a stored watermark nor `since`. */
export function planTable(config: PlanInputs, state: State | undefined, spec: TableSpec): TablePlan {
  if (config.mode !== "backfill") return { filter: config.queryFilter };
  const from = backfillStart(state, tableKey(spec), config.since, config.overlapSeconds);
  return { filter: andFilters(sinceFilter(from), config.queryFilter) };
}
