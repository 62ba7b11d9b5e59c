// What a run leaves in the state for people watching the migration (state/history.ts, the status step):
// each backfill's point in the table's lag history, and the table's size as last counted.
import { appendHistory } from "./history.js";
import { emptyState, type State } from "./state.js";
import type { StateStore } from "./store.js";

/** The state with one more backfill in the table's history. */
export function withBackfill(
  state: State,
  key: string,
  point: { at: Date | string; lagSeconds: number; changed: number },
): State {
  const entry = state.tables[key] ?? {};
  const at = new Date(point.at).toISOString();
  const history = appendHistory(entry.history, { ...point, at });
  return { ...state, tables: { ...state.tables, [key]: { ...entry, history } } };
}

/** The state with the table's entity count, as `by` (preflight, full-sync) counted it at `at`. */
export function withSize(state: State, key: string, entities: number, by: string, at: Date | string): State {
  const entry = state.tables[key] ?? {};
  const size = { entities, by, at: new Date(at).toISOString() };
  return { ...state, tables: { ...state.tables, [key]: { ...entry, size } } };
}

/**
 * Preflight's counts, kept so the full sync's progress can show an ETA (nothing is saved without a store).
 * Preflight only reads the source: a state it cannot save does not fail it, it says so (the returned sentence).
 */
export async function rememberSizes(
  store: StateStore | undefined,
  counts: { key: string; entities: number }[],
  at: Date = new Date(),
): Promise<string | undefined> {
  if (!store || counts.length === 0) return undefined;
  try {
    let state = (await store.load()) ?? emptyState();
    for (const c of counts) state = withSize(state, c.key, c.entities, "preflight", at);
    await store.save(state);
    return undefined;
  } catch (err) {
    const why = (err instanceof Error ? err.message : String(err)).replace(/\.$/, "");
    return `The tables' sizes could not be kept in ${store.describe()} (${why}), so the full sync's progress will show no ETA.`;
  }
}
