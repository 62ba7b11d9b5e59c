// The switch step: a final backfill, a verify that finds no difference, then switched-at recorded on the
// destination's clock, from which on every copy keeps the app's writes.
import type { SyncConfig } from "../../config/schema.js";
import { emptyState, StateError, type State } from "../../state/state.js";
import { tableKey } from "../../state/table-key.js";
import { connect } from "../copy/connect.js";
import { serverClock } from "../copy/post-switch.js";
import { differencesOf, type CheckEvents, type CheckResult } from "./check-result.js";
import type { MigrationResult } from "./copy-report.js";
import { engineConfigOf, type MigrationDeps } from "./engine-config.js";
import { runCopy } from "./full-sync.js";
import { verifyAll } from "./verify-tables.js";

/** The first table-level error of a run, as ": table x: …" (the reason a user needs first), or "". */
function firstTableError(run: MigrationResult): string {
  const failed = run.tables.find((r) => r.result.error);
  return failed ? `: table ${failed.result.source}: ${failed.result.error?.replace(/\.$/, "")}` : "";
}

export async function runSwitch(
  config: SyncConfig,
  deps: MigrationDeps,
  events: CheckEvents = {},
): Promise<CheckResult> {
  const started = Date.now();
  const done = (
    fields: Omit<CheckResult, "mode" | "preflight" | "durationMs" | "notices" | "verify"> &
      Partial<CheckResult>,
  ): CheckResult => ({
    mode: "switch",
    verify: [],
    preflight: [],
    notices: [],
    durationMs: Date.now() - started,
    ...fields,
  });
  const store = deps.store;
  if (!store) {
    throw new StateError(
      "Mode 'switch' records switched-at in the state: give a state store (the CLI: --state-file).",
    );
  }
  let state: State = (await store.load()) ?? emptyState();
  const already = config.tables.map((t) => state.tables[tableKey(t)]?.switchedAt);
  if (already.every((a) => a)) {
    const at = already.sort()[0];
    return done({
      ready: true,
      switchedAt: at,
      notices: [
        `The switch was already recorded at ${at}; nothing was changed. Backfills keep the app's writes on the destination.`,
      ],
      ok: true,
    });
  }
  // 1. A final backfill: everything the source changed until now.
  const backfill = await runCopy({ ...config, mode: "backfill" }, deps, {
    signal: events.signal,
    onTableStart: (spec) => events.onTableStart?.(spec, "final backfill"),
    onProgress: (p) =>
      events.onProgress?.(`${p.table}: final backfill, ${p.read} read, ${p.written} written`),
    onTableEnd: (r) => events.onTableEnd?.(r.result),
  });
  if (!backfill.ok) {
    return done({
      backfill,
      ready: false,
      ok: false,
      failure: `Not ready to switch: the final backfill failed (${backfill.failure?.replace(/\.$/, "")})${firstTableError(backfill)}.`,
    });
  }
  // 2. Verify (full, or a sample): the destination must hold what the source holds.
  const conn = connect(engineConfigOf(config, deps), events.signal);
  const verify = await verifyAll(config, conn, events, { repair: false, deleteExtra: false });
  const differences = verify.reduce((n, v) => n + differencesOf(v), 0);
  const inSync = verify.every((v) => v.inSync && !v.error);
  if (!inSync) {
    return done({
      verify,
      backfill,
      inSync,
      differences,
      ready: false,
      ok: false,
      failure: `Not ready to switch: the destination differs from the source in ${differences} entities (or a table could not be verified); run verify with 'repair: true', then switch again.`,
    });
  }
  // 3. Record switched-at on the destination's clock: the clock its Timestamps are compared with later.
  // Its Timestamps (and the Date header) have 1 s resolution, and a write in the switch's second counts
  // as the app's: wait past the second of our own last write first, so none of ours looks like theirs.
  await new Promise((r) => setTimeout(r, 1_100));
  const at = (await serverClock(conn.destination)).toISOString();
  state = (await store.load()) ?? state;
  const tables = { ...state.tables };
  for (const spec of config.tables) {
    const key = tableKey(spec);
    tables[key] = { ...tables[key], switchedAt: tables[key]?.switchedAt ?? at };
  }
  state = { ...state, tables };
  await store.save(state);
  return done({ verify, backfill, inSync, differences, ready: true, switchedAt: at, ok: true });
}
