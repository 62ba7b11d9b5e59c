// Where a scan stands, in the continuation tokens the double issues (Cosmos's JSON shape, with a query
// token when there is a `$filter`), and the pieces of Azurite's pages the query handler reads them by.
/** Azurite's continuation headers, as it sent them (base64 of the keys). */
export interface AzuriteContinuation {
  pk: string;
  rk?: string;
}

/**
 * Where a scan stands: the window's start and end (Azurite continuations; null: the table's start or
 * end), the hash the last page ended at, and `o` while the window's end is not known yet (not read).
 */
export interface Cursor {
  s: AzuriteContinuation | null;
  e: AzuriteContinuation | null;
  h: string;
  o?: 1;
  /** The empty page before this window was served. */
  z?: 1;
}

/** The payload of a continuation token the double issued, or undefined when it is not one of its tokens. */
export function decodeContinuation(nextPartitionKey: string): Cursor | undefined {
  let token: unknown;
  try {
    token = (JSON.parse(nextPartitionKey) as { token?: unknown }).token;
  } catch {
    return undefined;
  }
  if (typeof token !== "string") return undefined;
  const payload = token.startsWith("+RID:~") ? token.slice(6, token.indexOf("#")) : token;
  try {
    const cursor = JSON.parse(Buffer.from(payload, "base64").toString("utf8")) as Cursor;
    if (typeof cursor !== "object" || cursor === null || typeof cursor.h !== "string") return undefined;
    return cursor;
  } catch {
    return undefined;
  }
}

/** The `x-ms-continuation-NextPartitionKey` of a page that ends at `cursor`. */
export function encodeContinuation(cursor: Cursor, filtered: boolean, served: number): string {
  const payload = Buffer.from(JSON.stringify(cursor), "utf8").toString("base64");
  const token = filtered
    ? `+RID:~${payload}#RT:1#TRC:${served}#ISV:2#IEO:65551#QCF:8#FPC:AgEAAAAAAAAAAQAAAAAAAAA=`
    : payload;
  return JSON.stringify({ token, range: { min: "", max: "FF" } });
}

function odataString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function fromBase64(s: string): string {
  return Buffer.from(s, "base64").toString("utf8");
}

/** Keys before Azurite's continuation `c` (the start of the next page), as an OData filter. */
export function before(c: AzuriteContinuation): string {
  const pk = odataString(fromBase64(c.pk));
  if (c.rk === undefined) return `PartitionKey lt ${pk}`;
  return `(PartitionKey lt ${pk} or (PartitionKey eq ${pk} and RowKey lt ${odataString(fromBase64(c.rk))}))`;
}

/** The filters given, joined with `and` (undefined when there is none). */
export function and(...filters: (string | undefined)[]): string | undefined {
  const present = filters.filter((f): f is string => !!f && f.trim() !== "");
  if (present.length === 0) return undefined;
  if (present.length === 1) return present[0];
  return present.map((f) => `(${f})`).join(" and ");
}

/** The top-level objects of the `value` array of a query page, as raw text slices. */
export function splitValueArray(body: string): { metadata?: string; items: string[] } | undefined {
  const start = body.indexOf('"value":[');
  if (start < 0) return undefined;
  const metadata = /"odata\.metadata":"((?:[^"\\]|\\.)*)"/.exec(body)?.[1];
  const items: string[] = [];
  let depth = 0;
  let inString = false;
  let itemStart = -1;
  for (let i = start + 9; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b) {
      if (depth === 0) itemStart = i;
      depth++;
    } else if (c === 0x7d) {
      depth--;
      if (depth === 0) items.push(body.slice(itemStart, i + 1));
    } else if (c === 0x5d && depth === 0) return { metadata, items };
  }
  return undefined;
}
