// The preflight step: scan each source table for what would make a full sync fail, without writing, and
// keep the tables' sizes for the full sync's ETA.
import type { SyncConfig } from "../../config/schema.js";
import { rememberSizes } from "../../state/records.js";
import { tableKey } from "../../state/table-key.js";
import { preflightTable, type PreflightResult } from "../check/preflight.js";
import { connect, connectSource } from "../copy/connect.js";
import type { CheckEvents, CheckResult } from "./check-result.js";
import { engineConfigOf, type MigrationDeps } from "./engine-config.js";

export async function runPreflight(
  config: SyncConfig,
  deps: MigrationDeps,
  events: CheckEvents = {},
): Promise<CheckResult> {
  const started = Date.now();
  // Preflight reads the source only: without a destination, destination-kind says what to check for.
  const engine = engineConfigOf(config, deps);
  const { connectionString, endpoint, kind } = engine.destination;
  const conn = connectionString || endpoint ? connect(engine, events.signal) : undefined;
  const source = conn?.source ?? connectSource(engine, events.signal);
  const destinationKind = conn?.destination.kind ?? (kind === "cosmos" ? "cosmos" : "table");
  const preflight: PreflightResult[] = [];
  for (const spec of config.tables) {
    events.onTableStart?.(spec, "preflight");
    preflight.push(
      await preflightTable(source, spec.source, {
        destinationKind,
        renames: config.propertyRenames,
        maxSamples: Math.max(1, Math.min(config.maxFailuresKept, 50)),
        signal: events.signal,
        onProgress: (n) => events.onProgress?.(`${spec.source}: ${n} entities scanned`),
        ruPerSecond: config.ruPerSecond,
      }),
    );
    events.onTableEnd?.(spec);
  }
  // Kept for the full sync's ETA (the whole table's count; a scan cut short counts nothing).
  const counted = preflight.flatMap((p, i) =>
    p.error ? [] : [{ key: tableKey(config.tables[i]), entities: p.entities }],
  );
  const kept = events.signal?.aborted ? undefined : await rememberSizes(deps.store, counted);
  const blocking = preflight.flatMap((p) => [...p.blocking, ...(p.error ? [p.error] : [])]);
  return {
    mode: "preflight",
    verify: [],
    preflight,
    notices: kept ? [kept] : [],
    ok: blocking.length === 0,
    failure: blocking.length
      ? `A full sync would fail: ${blocking[0]}${blocking.length > 1 ? ` (and ${blocking.length - 1} more)` : ""}`
      : undefined,
    durationMs: Date.now() - started,
  };
}
