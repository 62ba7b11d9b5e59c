// A table's last backfills — when each ran, the lag it left and how many entities had changed — in a form
// small enough that 200 tables with full histories still fit the 48 KB of a repository variable (with the
// state's deflate envelope, state/compact.ts).
//
// One string per table: the format letter `a`, then three columns of whole numbers — per point the minutes
// since the previous point (the first: minutes since 1970), then every lag in seconds, then every changed
// count — each number a variable-length run of base-64 digits (a digit below 32 ends a number, 32 and up
// carry 5 more bits). A backfill every 10 minutes with a lag under 17 minutes and fewer than 1,024 changes
// takes 5 characters. Columns, not points, because the tables of one backfill workflow are backfilled in the
// same runs: their time columns are alike, and deflate (state/compact.ts) stores the repeats almost for free.

/** Backfills kept per table: a day and a bit at 30-minute intervals, 8 hours at 10. */
export const MAX_HISTORY_POINTS = 48;

export interface HistoryPoint {
  /** When the backfill finished (ISO UTC, whole minutes). */
  at: string;
  /** The lag it left, in seconds (the new watermark's age on the source clock). */
  lagSeconds: number;
  /** Entities changed in its window (read by the backfill). */
  changed: number;
}

const DIGITS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_";
const FORMAT = "a";

function put(n: number): string {
  let v = Math.max(0, Math.floor(n));
  let out = DIGITS[v % 32];
  v = Math.floor(v / 32);
  while (v > 0) {
    out = DIGITS[32 + (v % 32)] + out;
    v = Math.floor(v / 32);
  }
  return out;
}

/** The points of a stored history, oldest first; a history this version cannot read is no history. */
export function decodeHistory(text: string | undefined): HistoryPoint[] {
  if (!text || !text.startsWith(FORMAT)) return [];
  const numbers: number[] = [];
  let v = 0;
  for (const c of text.slice(FORMAT.length)) {
    const d = DIGITS.indexOf(c);
    if (d < 0) return [];
    v = v * 32 + (d % 32);
    if (d < 32) {
      numbers.push(v);
      v = 0;
    }
  }
  if (v !== 0 || numbers.length % 3 !== 0) return [];
  const n = numbers.length / 3;
  const points: HistoryPoint[] = [];
  let minutes = 0;
  for (let i = 0; i < n; i++) {
    minutes += numbers[i];
    points.push({
      at: new Date(minutes * 60_000).toISOString(),
      lagSeconds: numbers[n + i],
      changed: numbers[2 * n + i],
    });
  }
  return points;
}

export function encodeHistory(points: HistoryPoint[]): string | undefined {
  if (points.length === 0) return undefined;
  let times = "";
  let previous = 0;
  for (const p of points) {
    // Never backwards: a point out of order is placed at the previous one's minute.
    const minutes = Math.max(previous, Math.floor(Date.parse(p.at) / 60_000));
    times += put(minutes - previous);
    previous = minutes;
  }
  const lags = points.map((p) => put(p.lagSeconds)).join("");
  const changed = points.map((p) => put(p.changed)).join("");
  return FORMAT + times + lags + changed;
}

/** The history with one more backfill, keeping the last `MAX_HISTORY_POINTS`. */
export function appendHistory(text: string | undefined, point: HistoryPoint): string {
  const points = [...decodeHistory(text), point].slice(-MAX_HISTORY_POINTS);
  return encodeHistory(points) ?? "";
}

/** The history without its oldest points, keeping `keep` (for a state that would not fit its store). */
export function keepLast(text: string | undefined, keep: number): string | undefined {
  return encodeHistory(decodeHistory(text).slice(-Math.max(0, keep)));
}
