// How the benches write their figures, in their console lines and in their results files.

/** A whole number with thousands separators: 12,345. */
export const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

/** A number with thousands separators and exactly `digits` decimals. */
export const fmtDigits = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Milliseconds as seconds with one decimal. */
export const secs = (ms: number) => (ms / 1000).toFixed(1);

/** Kilobytes as whole megabytes. */
export const mb = (kb: number) => (kb / 1024).toFixed(0);

/** A share as a percentage with one decimal: `12.3 %`. */
export const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/** A share as a whole percentage: `12%`. */
export const wholePct = (x: number) => `${Math.round(x * 100)}%`;

/** CPU seconds with one decimal, or – when they could not be read. */
export const cpuText = (x?: number) => (x === undefined ? "–" : x.toFixed(1));
