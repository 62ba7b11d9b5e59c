// The annotations a run leaves on the workflow: a table's error, its first failed entities and the conflicts
// kept; after a check, the first differing entities, the preflight's blockers, and a verify that passes only
// because fail-on-difference is false.
import * as core from "@actions/core";
import type { TableResult } from "../engine/copy/result.js";
import type { CheckResult } from "../engine/steps/index.js";
import { counted } from "../present/figures.js";
import { entityMessage, tableMessage } from "../present/names.js";
import { passedWithDifferences } from "./summary.js";

/** A copied table's annotations: its error, its first failed entities and the conflicts kept. */
export function annotateTable(r: TableResult, clean: (s: string) => string): void {
  if (r.error) core.error(clean(tableMessage(r.source, r.error)), { title: `table-sync: ${r.source}` });
  for (const f of r.failures.slice(0, 10)) {
    core.error(clean(entityMessage(r.source, f.partitionKey, f.rowKey, f.message)), {
      title: "table-sync: entity not written",
    });
  }
  for (const c of r.conflictDetails.slice(0, 10)) {
    core.warning(clean(entityMessage(r.source, c.partitionKey, c.rowKey, c.message)), {
      title: "table-sync: conflict kept",
    });
  }
}

/** A check's annotations; `repair` is the step's repair input (it changes what the warning advises). */
export function annotateCheck(result: CheckResult, repair: boolean, clean: (s: string) => string): void {
  for (const v of result.verify) {
    for (const d of v.differentSamples.slice(0, 10)) {
      core.warning(
        clean(
          `Table ${v.source}, PartitionKey '${d.partitionKey}', RowKey '${d.rowKey}' differs in ${d.properties.join(", ")}.`,
        ),
        {
          title: "table-sync: different",
        },
      );
    }
  }
  for (const p of result.preflight)
    for (const b of p.blocking) core.error(clean(b), { title: `table-sync preflight: ${p.table}` });
  if (passedWithDifferences(result)) {
    const n = result.differences ?? 0;
    const entities = counted(n, "entity", "entities");
    core.warning(
      clean(
        repair
          ? `The tables still differ after repair (${entities} differed before it; see the job summary); the step passes only because fail-on-difference is false.`
          : `The destination differs from the source in ${entities}; the step passes only because fail-on-difference is false (run verify with 'repair: true' to copy them).`,
      ),
      { title: "table-sync: tables differ" },
    );
  }
}
