// The `$filter`s the free source evaluates (free-source.ts): comparisons of PartitionKey and RowKey, as
// key-range reads send them.
import { compareKeys, type Row } from "./free-source-rows.js";
/** A conjunction of comparisons on PartitionKey and RowKey (what key-range reads send). */
export interface KeyFilter {
  test(row: Row): boolean;
  /** Bounds on PartitionKey, to skip to the range in a sorted table. */
  pkFrom?: { key: string; inclusive: boolean };
  pkTo?: { key: string; inclusive: boolean };
}

/** Parse `$filter`: comparisons of PartitionKey/RowKey with string literals joined by `and`. */
export function parseKeyFilter(filter: string): KeyFilter | undefined {
  const tokens: string[] = [];
  const re = /\s*(\(|\)|'(?:[^']|'')*'|[A-Za-z]+)/y;
  let at = 0;
  while (at < filter.length) {
    re.lastIndex = at;
    const m = re.exec(filter);
    if (!m) {
      if (/^\s*$/.test(filter.slice(at))) break;
      return undefined;
    }
    tokens.push(m[1]);
    at = re.lastIndex;
  }
  const tests: ((row: Row) => boolean)[] = [];
  const result: KeyFilter = { test: () => true };
  const ops: Record<string, (c: number) => boolean> = {
    eq: (c) => c === 0,
    ne: (c) => c !== 0,
    gt: (c) => c > 0,
    ge: (c) => c >= 0,
    lt: (c) => c < 0,
    le: (c) => c <= 0,
  };
  let i = 0;
  let expectTerm = true;
  while (i < tokens.length) {
    const t = tokens[i];
    if (t === "(" || t === ")") {
      i++;
      continue;
    }
    if (!expectTerm) {
      if (t !== "and") return undefined;
      expectTerm = true;
      i++;
      continue;
    }
    const [field, op, literal] = [t, tokens[i + 1], tokens[i + 2]];
    if ((field !== "PartitionKey" && field !== "RowKey") || !(op in ops) || !literal?.startsWith("'"))
      return undefined;
    const value = literal.slice(1, -1).replace(/''/g, "'");
    const cmp = ops[op];
    tests.push(
      field === "PartitionKey"
        ? (row) => cmp(compareKeys(row.partitionKey, value))
        : (row) => cmp(compareKeys(row.rowKey, value)),
    );
    if (field === "PartitionKey") {
      if (op === "eq" || op === "ge" || op === "gt") {
        if (!result.pkFrom || compareKeys(value, result.pkFrom.key) > 0)
          result.pkFrom = { key: value, inclusive: op !== "gt" };
      }
      if (op === "eq" || op === "le" || op === "lt") {
        if (!result.pkTo || compareKeys(value, result.pkTo.key) < 0)
          result.pkTo = { key: value, inclusive: op !== "lt" };
      }
    }
    expectTerm = false;
    i += 3;
  }
  if (expectTerm && tests.length > 0) return undefined;
  result.test = (row) => tests.every((f) => f(row));
  return result;
}
