// Queries (`GET /table()`), paged as Cosmos pages them: a scan is cut into windows of `windowSize`
// entities in Azurite's key order, and a window's entities are served in the order of a seeded hash of
// their keys, `pageSize` at a time (see "Pages" in ../cosmos-double.ts). A `$filter` naming Timestamp
// answers 200 with no rows.
import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { DoubleContext } from "./context.js";
import {
  and,
  before,
  decodeContinuation,
  encodeContinuation,
  splitValueArray,
  type AzuriteContinuation,
  type Cursor,
} from "./continuation.js";
import { BAD_TOKEN, refusal } from "./refusals.js";
import { decodeParam, header, rawParams, type Reply, type Upstream } from "./wire.js";

interface QueryParams {
  filter?: string;
  select?: string;
  top?: number;
  /** NextPartitionKey: the token the double issued, decoded from the URL. */
  token?: string;
}

function queryParams(rawQuery: string): QueryParams {
  const q: QueryParams = {};
  for (const [k, v] of rawParams(rawQuery)) {
    const key = decodeParam(k, false);
    if (key === "$filter") q.filter = decodeParam(v, true);
    else if (key === "$select") q.select = decodeParam(v, true);
    else if (key === "$top") q.top = Number(decodeParam(v, false));
    else if (key === "NextPartitionKey") q.token = decodeParam(v, false);
  }
  return q;
}

/** One Azurite page of `path` from `next`. */
async function azuritePage(
  ctx: DoubleContext,
  req: IncomingMessage,
  path: string,
  q: { filter?: string; select?: string; top?: number; next: AzuriteContinuation | null },
): Promise<{ up: Upstream; items: string[]; metadata?: string; next: AzuriteContinuation | null }> {
  const params: string[] = [];
  if (q.filter) params.push(`$filter=${encodeURIComponent(q.filter)}`);
  if (q.select) params.push(`$select=${encodeURIComponent(q.select)}`);
  if (q.top) params.push(`$top=${q.top}`);
  if (q.next) {
    params.push(`NextPartitionKey=${encodeURIComponent(q.next.pk)}`);
    if (q.next.rk !== undefined) params.push(`NextRowKey=${encodeURIComponent(q.next.rk)}`);
  }
  const up = await ctx.forward(
    req,
    "GET",
    `${path}${params.length ? `?${params.join("&")}` : ""}`,
    Buffer.alloc(0),
  );
  if (up.status !== 200) return { up, items: [], next: null };
  const split = splitValueArray(up.body.toString("utf8"));
  if (!split) throw new Error(`cosmos double: not a query page: ${up.body.toString("utf8").slice(0, 200)}`);
  const npk = header(up.headers, "x-ms-continuation-nextpartitionkey");
  const nrk = header(up.headers, "x-ms-continuation-nextrowkey");
  const next = npk === undefined && nrk === undefined ? null : { pk: npk ?? "", rk: nrk };
  return { up, items: split.items, metadata: split.metadata, next };
}

/** Cosmos keeps no Timestamp to filter on: 200 and no rows (for a table that exists). */
async function timestampFilter(
  ctx: DoubleContext,
  req: IncomingMessage,
  path: string,
  rid: string,
): Promise<Reply> {
  const probe = await ctx.forward(req, "GET", `${path}?$top=1`, Buffer.alloc(0));
  if (probe.status !== 200) return ctx.translate(probe, rid);
  const metadata = splitValueArray(probe.body.toString("utf8"))?.metadata;
  return {
    status: 200,
    headers: ctx.cosmosHeaders(probe.headers, rid, false),
    body: JSON.stringify({ value: [], ...(metadata && { "odata.metadata": metadata }) }),
    note: "timestamp-filter",
  };
}

/** An empty page that continues at `at` (marked as served, so the next request reads the window). */
function emptyPage(ctx: DoubleContext, rid: string, at: Cursor, filtered: boolean): Reply {
  ctx.stats().pages++;
  return {
    status: 200,
    headers: {
      "x-ms-request-id": rid,
      Date: new Date().toUTCString(),
      "Content-Type": "application/json; odata=minimalmetadata",
      "x-ms-continuation-NextPartitionKey": encodeContinuation({ ...at, z: 1 }, filtered, 0),
      "x-ms-continuation-NextRowKey": "NA",
    },
    body: '{"value":[]}',
    note: "empty-page",
  };
}

/**
 * Keys are needed for the order: a `$select` without them gets them added (`azSelect`), and they are
 * taken out again (`strip`).
 */
function withKeys(select: string | undefined): { azSelect?: string; strip: string[] } {
  const strip: string[] = [];
  if (!select) return { azSelect: select, strip };
  const names = select.split(",").map((s) => s.trim());
  for (const k of ["PartitionKey", "RowKey"]) {
    if (!names.includes(k)) {
      strip.push(k);
      names.push(k);
    }
  }
  return { azSelect: names.join(","), strip };
}

/**
 * The entities of the window `cursor` is in, from its start: a new window (`o`) is read up to
 * `windowSize` entities, which finds its end; a known one is read up to its end key, so that writes
 * during the scan move nothing across windows.
 */
async function readWindow(
  ctx: DoubleContext,
  req: IncomingMessage,
  path: string,
  cursor: Cursor,
  q: { filter?: string; select?: string; windowSize: number },
): Promise<
  | { failed: Upstream }
  | { items: string[]; end: AzuriteContinuation | null; last: Upstream; metadata?: string }
> {
  const items: string[] = [];
  let next = cursor.s;
  let last: Upstream;
  let metadata: string | undefined;
  if (cursor.o) {
    do {
      const page = await azuritePage(ctx, req, path, {
        filter: q.filter,
        select: q.select,
        top: Math.min(1000, q.windowSize - items.length),
        next,
      });
      if (page.up.status !== 200) return { failed: page.up };
      last = page.up;
      metadata ??= page.metadata;
      items.push(...page.items);
      next = page.next;
    } while (next && items.length < q.windowSize);
  } else {
    const bounded = and(q.filter, cursor.e ? before(cursor.e) : undefined);
    do {
      const page = await azuritePage(ctx, req, path, { filter: bounded, select: q.select, next });
      if (page.up.status !== 200) return { failed: page.up };
      last = page.up;
      metadata ??= page.metadata;
      items.push(...page.items);
      next = page.next;
    } while (next);
  }
  return { items, end: next, last, metadata };
}

/** The window's entities after the hash the cursor ended at, in the seeded order of their keys. */
function ranked(items: string[], seed: string, after: string): { rank: string; text: string }[] {
  return items
    .map((text) => {
      const e = JSON.parse(text) as { PartitionKey?: unknown; RowKey?: unknown };
      const rank = createHash("sha1")
        .update(`${seed}\u0000${String(e.PartitionKey)}\u0000${String(e.RowKey)}`)
        .digest("hex");
      return { rank, text };
    })
    .filter((x) => x.rank > after)
    .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0));
}

function stripKeys(text: string, strip: string[]): string {
  for (const k of strip) {
    text = text
      .replace(new RegExp(`,"${k}":"(?:[^"\\\\]|\\\\.)*"`), "")
      .replace(new RegExp(`"${k}":"(?:[^"\\\\]|\\\\.)*",?`), "");
  }
  return text;
}

export async function query(
  ctx: DoubleContext,
  req: IncomingMessage,
  path: string,
  rawQuery: string,
  rid: string,
): Promise<Reply> {
  const { filter, select, top, token } = queryParams(rawQuery);
  if (filter && /\bTimestamp\b/.test(filter)) return timestampFilter(ctx, req, path, rid);
  const opts = ctx.opts();
  let cursor: Cursor = { s: null, e: null, h: "", o: 1 };
  if (opts.emptyPages && (token === undefined || token === "")) return emptyPage(ctx, rid, cursor, !!filter);
  if (token !== undefined && token !== "") {
    const decoded = decodeContinuation(token);
    if (!decoded) return refusal(BAD_TOKEN, rid);
    cursor = decoded;
    ctx.stats().continued++;
    if (opts.emptyPages && cursor.o && !cursor.z) return emptyPage(ctx, rid, cursor, !!filter);
  }
  const { azSelect, strip } = withKeys(select);
  const pageSize = Math.max(1, opts.pageSize ?? 1500);
  const windowSize = Math.max(pageSize, opts.windowSize ?? 2 * pageSize);
  const limit = Math.max(1, Math.min(pageSize, top && top > 0 ? top : Infinity));
  const seed = String(opts.seed ?? 1);
  let metadata: string | undefined;
  for (let round = 0; round < 10_000; round++) {
    const window = await readWindow(ctx, req, path, cursor, { filter, select: azSelect, windowSize });
    if ("failed" in window) return ctx.translate(window.failed, rid);
    metadata ??= window.metadata;
    if (cursor.o) cursor = { s: cursor.s, e: window.end, h: "" };
    const order = ranked(window.items, seed, cursor.h);
    const page = order.slice(0, limit);
    let nextCursor: Cursor | undefined;
    if (order.length > page.length) nextCursor = { ...cursor, h: page[page.length - 1].rank };
    else if (cursor.e) nextCursor = { s: cursor.e, e: null, h: "", o: 1 };
    if (page.length === 0 && nextCursor) {
      // Nothing left in this window: go on with the next one in the same request.
      cursor = nextCursor;
      continue;
    }
    const stats = ctx.stats();
    stats.pages++;
    stats.entitiesServed += page.length;
    const values = page.map((x) => stripKeys(ctx.normalize(x.text), strip));
    const headers = ctx.cosmosHeaders(window.last.headers, rid, false);
    if (nextCursor) {
      headers["x-ms-continuation-NextPartitionKey"] = encodeContinuation(nextCursor, !!filter, page.length);
      headers["x-ms-continuation-NextRowKey"] = "NA";
    }
    const meta = metadata ? `,"odata.metadata":"${metadata}"` : "";
    return { status: 200, headers, body: `{"value":[${values.join(",")}]${meta}}` };
  }
  throw new Error("cosmos double: a scan that never ends");
}
