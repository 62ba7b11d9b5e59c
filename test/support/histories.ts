// Lag histories of known shape for the tests: the backfills of one table, and a whole migration's state.
import { MAX_HISTORY_POINTS, type HistoryPoint } from "../../src/state/history.js";
import { withBackfill } from "../../src/state/records.js";
import { emptyState, type State } from "../../src/state/state.js";
import { tableKey } from "../../src/state/table-key.js";
import { prng } from "./prng.js";

export const START = Date.parse("2026-11-30T00:00:00Z");

/** `n` backfills every 10 minutes (plus a schedule's delay), with lags and changed counts of a busy table. */
export function backfills(n: number, seed: number): HistoryPoint[] {
  const random = prng(seed);
  let t = START;
  return Array.from({ length: n }, () => {
    t += 600_000 + Math.floor(random() * 180) * 1000;
    return {
      at: new Date(Math.floor(t / 60_000) * 60_000).toISOString(),
      lagSeconds: Math.floor(random() * 300),
      changed: Math.floor(Math.exp(random() * Math.log(50_000))),
    };
  });
}

/**
 * 200 tables as a migration leaves them after 8 hours of backfills every 10 minutes: watermark, last backfill,
 * size, 48 points each. The tables are backfilled by one workflow, so they share its runs (each finishing
 * within a minute or two of the run's start); a table's lag is its scan time, steady around its own level
 * (2 s to 4 min by table) with ±30 % noise; its changes per window vary ±60 % around its own rate (1 to
 * 20,000 by table).
 */
export function busyState(tables = 200): State {
  let state = emptyState();
  const runs = backfills(MAX_HISTORY_POINTS, 7).map((p) => Date.parse(p.at));
  for (let i = 0; i < tables; i++) {
    const random = prng(100 + i);
    const name = `ledger${String(i).padStart(4, "0")}`;
    const key = tableKey({ source: name, destination: name });
    const lagLevel = 2 + random() * 240;
    const rate = Math.exp(random() * Math.log(20_000));
    const points = runs.map((run) => ({
      at: new Date(run + Math.floor(random() * 120) * 1000).toISOString(),
      lagSeconds: Math.round(lagLevel * (0.7 + random() * 0.6)),
      changed: Math.round(rate * (0.4 + random() * 1.2)),
    }));
    state = withHistory(state, key, points, i);
  }
  return state;
}

/** Table `i` of a busy state: its watermark, last backfill and size as `points` (its backfills) leave them. */
export function withHistory(state: State, key: string, points: HistoryPoint[], i: number): State {
  const last = points[points.length - 1];
  state.tables[key] = {
    watermark: new Date(Date.parse(last.at) - last.lagSeconds * 1000).toISOString(),
    lastSuccess: { mode: "backfill", at: last.at, read: last.changed, written: last.changed, skipped: 0 },
    size: { entities: 1_000_000 + i * 7_919, by: "full-sync", at: "2026-11-29T23:00:00.000Z" },
  };
  for (const p of points) state = withBackfill(state, key, p);
  return state;
}
