// The table key: the state's name for one table pair (`source→destination`), case-insensitive like the
// services' table names, and the pair back from a key.

const ARROW = "→";

/** The state's key for a table pair: `source→destination`. */
export function tableKey(spec: { source: string; destination: string }): string {
  // Table names are case-insensitive in both services: `Users` and `users` are one table, so one entry
  // (its watermark and, above all, its switched-at must not be escaped by a change of case).
  return `${spec.source}${ARROW}${spec.destination}`.toLowerCase();
}

/** The table pair of a key made by `tableKey`. */
export function parseTableKey(key: string): { source: string; destination: string } {
  const i = key.indexOf(ARROW);
  return i < 0
    ? { source: key, destination: key }
    : { source: key.slice(0, i), destination: key.slice(i + 1) };
}
