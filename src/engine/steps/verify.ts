// The verify step: compare every table's destination with its source, repair the differences when asked,
// and remember repair's writes after a switch.
import type { SyncConfig } from "../../config/schema.js";
import { StateError } from "../../state/state.js";
import type { StateStore } from "../../state/store.js";
import { tableKey } from "../../state/table-key.js";
import type { VerifyResult } from "../check/verify.js";
import { connect } from "../copy/connect.js";
import { MAX_OUR_WRITES, type SwitchGuard } from "../copy/post-switch.js";
import { differencesOf, type CheckEvents, type CheckResult } from "./check-result.js";
import { engineConfigOf, type MigrationDeps } from "./engine-config.js";
import { verifyAll } from "./verify-tables.js";

/** Repair's writes after a switch, remembered so the next backfill does not take them for the app's. */
async function rememberOurWrites(
  store: StateStore | undefined,
  guards: Map<string, SwitchGuard>,
): Promise<void> {
  if (!store || guards.size === 0) return;
  const state = await store.load();
  if (!state) return;
  let changed = false;
  const tables = { ...state.tables };
  for (const [key, guard] of guards) {
    const entry = tables[key];
    // `ours` began as the stored ids: no more of them means repair wrote nothing.
    if (!entry || guard.ours.size === (entry.postSwitchWrites ?? []).length) continue;
    tables[key] = { ...entry, postSwitchWrites: [...guard.ours].slice(-MAX_OUR_WRITES) };
    changed = true;
  }
  if (changed) await store.save({ ...state, tables });
}

export async function runVerify(
  config: SyncConfig,
  deps: MigrationDeps,
  events: CheckEvents = {},
): Promise<CheckResult> {
  const started = Date.now();
  const state = deps.store ? await deps.store.load() : undefined;
  if (config.deleteExtra && !config.repair) {
    throw new StateError("Input 'delete-extra' only works with 'repair: true'; set both, or neither.");
  }
  if (config.deleteExtra) {
    const switched = config.tables.find((t) => state?.tables[tableKey(t)]?.switchedAt);
    if (switched) {
      throw new StateError(
        `delete-extra is refused for table ${switched.source}: a switch was recorded at ${state?.tables[tableKey(switched)]?.switchedAt}, so an entity only the destination holds is probably a new write by the app; run verify with repair but without delete-extra.`,
      );
    }
  }
  const conn = connect(engineConfigOf(config, deps), events.signal);
  const guards = new Map<string, SwitchGuard>();
  const verify = await verifyAll(config, conn, events, {
    repair: config.repair,
    deleteExtra: config.deleteExtra,
    state,
    guards,
  });
  await rememberOurWrites(deps.store, guards);
  const differences = verify.reduce((n, v) => n + differencesOf(v), 0);
  const inSync = verify.every((v) => v.inSync && !v.error);
  // Repaired only when nothing is left: no failure, no conflict kept, no extra entity left in place.
  const extrasLeft = (v: VerifyResult) => (config.deleteExtra ? 0 : (v.extra ?? 0));
  const fullyRepaired = (v: VerifyResult) =>
    !!v.repair?.complete && v.repair.conflicts === 0 && extrasLeft(v) === 0;
  const repaired = config.repair && verify.every((v) => !v.error && (v.inSync || fullyRepaired(v)));
  const errors = verify.filter((v) => v.error);
  const ok = errors.length === 0 && (inSync || repaired || !config.failOnDifference);
  const left = (f: (v: VerifyResult) => number) => verify.reduce((n, v) => n + (v.inSync ? 0 : f(v)), 0);
  const stillDiffer = () => {
    const copied = left((v) => v.repair?.copied ?? 0);
    const deleted = left((v) => v.repair?.deleted ?? 0);
    const parts = [
      [left(extrasLeft), "only on the destination (add 'delete-extra: true' to remove them)"],
      [left((v) => v.repair?.conflicts ?? 0), "changed by the app after the switch, kept (conflict: skip)"],
      [left((v) => v.repair?.failed ?? 0), "could not be written (see the report)"],
    ] as const;
    const what = parts
      .filter(([n]) => n > 0)
      .map(([n, text]) => `${n} ${n === 1 ? "entity" : "entities"} ${text}`);
    return `Repair copied ${copied} ${copied === 1 ? "entity" : "entities"} and deleted ${deleted}, but the tables still differ: ${what.join("; ") || "see the report"}.`;
  };
  return {
    mode: "verify",
    verify,
    preflight: [],
    inSync,
    differences,
    repaired: !inSync && repaired,
    notices: [],
    ok,
    failure: ok
      ? undefined
      : errors.length
        ? `${errors.length} of ${verify.length} tables could not be verified: ${errors[0].error}`
        : config.repair
          ? stillDiffer()
          : `The destination differs from the source in ${differences} ${differences === 1 ? "entity" : "entities"}; run verify with 'repair: true' to copy them (and 'delete-extra: true' to remove entities the source no longer has).`,
    durationMs: Date.now() - started,
  };
}
