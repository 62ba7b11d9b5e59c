// Verify every table of the config in turn, with or without repair: the verify step's work, and the
// switch's check that the destination holds what the source holds.
import type { SyncConfig } from "../../config/schema.js";
import type { State } from "../../state/state.js";
import { tableKey } from "../../state/table-key.js";
import { verifyTable, type VerifyResult } from "../check/verify.js";
import type { Connected } from "../copy/connect.js";
import type { SwitchGuard } from "../copy/post-switch.js";
import type { CheckEvents } from "./check-result.js";
import { switchGuard } from "./plan.js";

export async function verifyAll(
  config: SyncConfig,
  conn: Connected,
  events: CheckEvents,
  opts: { repair: boolean; deleteExtra: boolean; state?: State; guards?: Map<string, SwitchGuard> },
): Promise<VerifyResult[]> {
  const results: VerifyResult[] = [];
  for (const spec of config.tables) {
    events.onTableStart?.(spec, config.sample < 1 ? `verify (sample ${config.sample})` : "verify");
    // After a switch, repair keeps the app's writes; the guards come back with our writes' ids.
    const guard = opts.repair ? switchGuard(opts.state, spec, config.conflict) : undefined;
    if (guard) opts.guards?.set(tableKey(spec), guard);
    const r = await verifyTable(conn, spec, {
      renames: config.propertyRenames,
      sample: config.sample < 1 ? config.sample : undefined,
      repair: opts.repair,
      deleteExtra: opts.deleteExtra,
      guard,
      concurrency: config.concurrency,
      maxSamples: Math.max(1, Math.min(config.maxFailuresKept, 200)),
      signal: events.signal,
      onProgress: (p) =>
        events.onProgress?.(
          `${p.table}: ${p.phase}, ${p.source} source / ${p.destination} destination entities`,
        ),
    });
    results.push(r);
    events.onTableEnd?.(spec);
  }
  return results;
}
