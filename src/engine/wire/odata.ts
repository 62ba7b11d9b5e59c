// OData filter text the steps build (the watermark's `Timestamp ge`, a user's query-filter ANDed in).
/** AND two OData filters, either of which may be absent. */
export function andFilters(...filters: (string | undefined)[]): string | undefined {
  const present = filters.map((f) => f?.trim()).filter((f): f is string => !!f);
  if (present.length === 0) return undefined;
  if (present.length === 1) return present[0];
  return present.map((f) => `(${f})`).join(" and ");
}

/** The backfill filter: `Timestamp ge datetime'…'` on the source's clock. */
export function sinceFilter(since: Date): string {
  return `Timestamp ge datetime'${since.toISOString()}'`;
}
