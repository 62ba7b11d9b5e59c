// Per table: what to read, and how to write. A full sync reads everything; a backfill reads what
// changed since the table's watermark minus the overlap (or since `since`), on the source server's
// clock; a full sync resumes from a stored checkpoint. Once a switch is recorded, every copy reads the destination first and keeps the app's writes.
import { backfillStart } from "../../state/watermark.js";
import { StateError, type State } from "../../state/state.js";
import { tableKey } from "../../state/table-key.js";
import { continuationFrom } from "../copy/reader.js";
import type { ServiceKind } from "../wire/service-kind.js";
import type { ConflictPolicy, SwitchGuard } from "../copy/post-switch.js";
import { andFilters, sinceFilter } from "../wire/odata.js";
import { type TablePlan, type TableSpec } from "../copy/run-config.js";

export interface PlanInputs {
  mode: string;
  queryFilter?: string;
  since?: Date;
  overlapSeconds: number;
  conflict?: ConflictPolicy;
}

export interface PlanContext {
  sourceKind: ServiceKind;
}

/** Throws MissingWatermarkError for a backfill with neither a stored watermark nor `since`. */
export function planTable(
  config: PlanInputs,
  state: State | undefined,
  spec: TableSpec,
  ctx: PlanContext = { sourceKind: "table" },
): TablePlan {
  const key = tableKey(spec);
  const stored = state?.tables[key];
  const guard = switchGuard(state, spec, config.conflict);
  if (config.mode !== "backfill") {
    // A full sync resumes the scan a cancelled or killed full sync checkpointed.
    const cp = stored?.checkpoint;
    if (config.mode === "full-sync" && cp && cp.mode === "full-sync") {
      return {
        filter: config.queryFilter,
        guard,
        continuation: continuationFrom(cp.continuation),
        resume: { sourceClockAtStart: cp.sourceClockAtStart, read: cp.read, written: cp.written ?? 0 },
      };
    }
    return { filter: config.queryFilter, guard };
  }
  if (ctx.sourceKind === "cosmos") {
    throw new StateError(
      `Table ${spec.source}: a backfill cannot read from Cosmos DB for Table, which silently returns no rows for Timestamp filters; use mode 'full-sync', or 'verify' with 'repair: true'.`,
    );
  }
  const from = backfillStart(state, key, config.since, config.overlapSeconds);
  return { filter: andFilters(sinceFilter(from), config.queryFilter), guard };
}

/** Once a switch is recorded for the table, what every write to it must respect (the app's writes). */
export function switchGuard(
  state: State | undefined,
  spec: TableSpec,
  conflict: ConflictPolicy | undefined,
): SwitchGuard | undefined {
  const stored = state?.tables[tableKey(spec)];
  if (!stored?.switchedAt) return undefined;
  return {
    switchedAt: stored.switchedAt,
    ours: new Set(stored.postSwitchWrites ?? []),
    policy: conflict ?? "skip",
  };
}
