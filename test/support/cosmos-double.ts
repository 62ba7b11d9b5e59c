// A Cosmos DB for Table double: an HTTP proxy in front of an Azurite table endpoint that forwards each
// request and rewrites the answer the way the recorded service answers (../shared/REFERENCE.md, "Cosmos
// DB for Table on the wire"; azure-sdk-for-go `testdata/recordings/*_cosmos.json`):
//
// - queries: continuation headers `x-ms-continuation-NextPartitionKey: {"token":"…","range":{"min":"",
//   "max":"FF"}}` and `x-ms-continuation-NextRowKey: NA` (with a `$filter` the token is a query token,
//   `+RID:~…#RT:1#TRC:…#ISV:2#IEO:65551#QCF:8#FPC:…`), taken back URL-encoded as clients echo them;
//   pages are not sorted by PartitionKey/RowKey and not capped at 1,000 (see "Pages" below);
//   a `$filter` that names Timestamp answers 200 with no rows;
// - Timestamps with 7 fractional digits, the ETag's instant;
// - no `x-ms-version`, no echo of `x-ms-client-request-id`, no `x-ms-error-code`; a fresh
//   `x-ms-request-id`; `Content-Type: application/json; odata=minimalmetadata` (errors: fullmetadata);
// - error bodies `{"odata.error":{"code":…,"message":{"lang":"en-us","value":"…\nRequestID:<id>\n"}}}\r\n`,
//   backend errors with `ActivityId: <id>, documentdb-dotnet-sdk/2.14.0 …` before the RequestID;
// - $batch answers with `batchresponse_<guid>`/`changesetresponse_<guid>` boundaries, MIME part headers
//   ending in a bare LF and the inner HTTP lines in CRLF; success parts `HTTP/1.1 204 No Content` with
//   ETag, Preference-Applied (when asked), Location (inserts) and `Content-ID: n` (1-based); a failure is
//   one part whose message starts `N:` (0-based, also for 0) and ends `\n\nRequestID:<id>\n`;
// - PATCH → 405 MethodNotAllowed (MERGE, and POST with `X-HTTP-Method: MERGE`, work — also inside a
//   $batch, where Azurite alone would take the POST for an insert);
// - 429 TooManyRequests "Request rate is large…" without any retry header (see `throttle`);
// - a request body above 2 MB (2,097,152 bytes, a $batch too) → 413 RequestEntityTooLarge;
// - a property named ETag, id, rid or ResourceId (any case) → 500 InternalServerError "The property or
//   indexer 'Microsoft.Azure.Documents.Resource.ETag' cannot be used in this context because the set
//   accessor is inaccessible" (in a $batch: the failing part);
// - an empty (or missing) PartitionKey or RowKey → 400 PropertiesNeedValue; a key that is not a string →
//   400 InvalidInput;
// - creating a table that exists → 409 TableAlreadyExists "The specified table already exists.";
// - optionally (`wholeDoubles: "int32"`), a whole Double sent as `1` with `Edm.Double` is read back as a
//   bare `1`, an Int32 to every reader. Off by default: the engine's verify would call such a value
//   different (an Int32 is not a Double), and the engine never sends a whole Double without its `.0`.
//
// Pages. A scan is cut into windows of `windowSize` entities in Azurite's key order; the entities of a
// window are served in the order of a seeded hash of their keys, `pageSize` at a time. So a page holds
// entities of many partitions in no key order, and one partition's entities are spread over the pages of
// its window, as Cosmos interleaves them (`emptyPages` adds an empty page before each window, the first
// too). Every entity is returned exactly once: the token names the
// window by the Azurite continuations where it starts and ends (a window is re-read bounded by its end
// key, so writes during the scan move nothing across windows) and the hash the last page ended at.
//
// Shared Key (and Shared Key Lite) sign the request path, not the host or the query (except `comp`), so
// the double can rewrite query strings and forward to a path-style Azurite endpoint without re-signing.
import { createHash, createHmac, randomUUID } from "node:crypto";
import {
  Agent,
  createServer,
  request as httpRequest,
  STATUS_CODES,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { AZURITE_ACCOUNT, AZURITE_KEY } from "./azurite.js";
import { forwardableHeaders, serveProxy, targetOrigin, type ProxyEndpoint } from "./proxy-common.js";
import { TokenBucket, writeCost } from "./throttle-proxy.js";

/** Cosmos DB for Table's request size limit (a $batch included): 2 MB. */
export const COSMOS_MAX_REQUEST_BYTES = 2 * 1024 * 1024;

/** Property names Cosmos DB for Table keeps for itself (case-insensitive), and the resource property each hits. */
const RESERVED: Record<string, string> = {
  etag: "ETag",
  id: "Id",
  rid: "ResourceId",
  resourceid: "ResourceId",
};

const SDK_SUFFIX = "documentdb-dotnet-sdk/2.14.0 Host/64-bit MicrosoftWindowsNT/10.0.19041.0";

export const TOO_MANY_REQUESTS =
  "Request rate is large. More Request Units may be needed, so no changes were made. Please retry this request later. Learn more: http://aka.ms/cosmosdb-error-429";

export interface ThrottleOptions {
  /** Every Nth request that `match` admits is answered 429 (deterministic: counted in arrival order). */
  everyNth?: number;
  /**
   * A budget in RU/s (a token bucket holding one second of it, full at the start; costs as
   * throttle-proxy.ts counts them): a request the bucket cannot pay for is answered 429.
   */
  ruPerSecond?: number;
  /** Which requests may be throttled (default: all). */
  match?: (req: { method: string; path: string }) => boolean;
  /** A throttled $batch is answered 202 with a failing `0:` part of status 429, not with a 429 response. */
  inChangeset?: boolean;
}

export interface CosmosDoubleOptions {
  /** The Azurite table server to forward to: a URL, a connection string with TableEndpoint, or a port on 127.0.0.1. */
  target: string | number;
  /** Entities per query page at most (default 1,500: Cosmos does not cap pages at 1,000); `$top` lowers it. */
  pageSize?: number;
  /** Entities (in Azurite's key order) whose order is mixed together (default 2 × pageSize). */
  windowSize?: number;
  /** Seed of the order within a window. */
  seed?: string | number;
  /** Request bodies above this many bytes are answered 413 (default 2 MB). */
  maxRequestBytes?: number;
  throttle?: ThrottleOptions;
  /** "int32": a whole Double sent as `1` with `Edm.Double` is stored, and read back, as a bare `1`. Default "keep". */
  wholeDoubles?: "keep" | "int32";
  /**
   * Answer an empty page (with a continuation) before each window, the first too, as Cosmos may when a
   * scan moves on to another partition range. Default false.
   */
  emptyPages?: boolean;
}

export interface DoubleLogEntry {
  seq: number;
  method: string;
  /** Path and query as the client sent them. */
  path: string;
  /** Request body bytes. */
  bytes: number;
  /** The status the client was sent. */
  status?: number;
  /** What the double did itself: `throttled`, `too-large`, `patch`, `reserved`, `empty-key`, `timestamp-filter`, … */
  note?: string;
}

export interface DoubleStats {
  requests: number;
  /** Requests sent on to Azurite (a query page may take several). */
  forwarded: number;
  byMethod: Record<string, number>;
  byStatus: Record<number, number>;
  /** Refusals and rewrites by kind (the `note`s of the log). */
  events: Record<string, number>;
  /** Query pages served, and how many of those requests carried a continuation token. */
  pages: number;
  continued: number;
  /** Entities served in query pages. */
  entitiesServed: number;
  /** Largest request body seen (bytes). */
  maxRequestBytes: number;
  log: DoubleLogEntry[];
}

export interface CosmosDouble extends ProxyEndpoint {
  readonly stats: DoubleStats;
  /** Change options while running (the throttle's counters start again). */
  configure(options: Partial<Omit<CosmosDoubleOptions, "target">>): void;
  resetStats(): void;
  /** Log entries matching a method and a path. */
  requests(method?: string, path?: RegExp): DoubleLogEntry[];
  stop(): Promise<void>;
}

// ---- pieces shared with the tests -----------------------------------------------------------------

/** A Cosmos-style OData error body (the service ends it with CRLF). */
export function cosmosErrorBody(code: string, text: string, requestId: string, backend = false): string {
  const value = `${text}${backend ? `\r\nActivityId: ${requestId}, ${SDK_SUFFIX}` : ""}\nRequestID:${requestId}\n`;
  return `${JSON.stringify({ "odata.error": { code, message: { lang: "en-us", value } } })}\r\n`;
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

function encodeContinuation(cursor: Cursor, filtered: boolean, served: number): string {
  const payload = Buffer.from(JSON.stringify(cursor), "utf8").toString("base64");
  const token = filtered
    ? `+RID:~${payload}#RT:1#TRC:${served}#ISV:2#IEO:65551#QCF:8#FPC:AgEAAAAAAAAAAQAAAAAAAAA=`
    : payload;
  return JSON.stringify({ token, range: { min: "", max: "FF" } });
}

/**
 * A request signed with Azurite's development key (Shared Key Lite), straight at `port`: for tests
 * that speak to the double (or Azurite) at wire level, without the engine's client.
 */
export async function signedRequest(
  port: number,
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const date = new Date().toUTCString();
  const url = new URL(
    `http://127.0.0.1:${port}${path.startsWith("/") ? path : `/${AZURITE_ACCOUNT}/${path}`}`,
  );
  const comp = url.searchParams.get("comp");
  const resource = `/${AZURITE_ACCOUNT}${url.pathname}${comp !== null ? `?comp=${comp}` : ""}`;
  const signature = createHmac("sha256", Buffer.from(AZURITE_KEY, "base64"))
    .update(`${date}\n${resource}`, "utf8")
    .digest("base64");
  const res = await fetch(url, {
    method,
    body: init.body,
    headers: {
      "x-ms-date": date,
      "x-ms-version": "2019-02-02",
      DataServiceVersion: "3.0",
      Accept: "application/json;odata=minimalmetadata",
      Authorization: `SharedKeyLite ${AZURITE_ACCOUNT}:${signature}`,
      ...init.headers,
    },
  });
  return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
}

// ---- small helpers --------------------------------------------------------------------------------

interface Upstream {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
  note?: string;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** `a=1&b=2` → [["a","1"],["b","2"]] with raw (still encoded) values. */
function rawParams(query: string): [string, string][] {
  if (!query) return [];
  return query.split("&").map((kv) => {
    const eq = kv.indexOf("=");
    return eq < 0 ? [kv, ""] : [kv.slice(0, eq), kv.slice(eq + 1)];
  });
}

/** Decode a query value; `+` is a space only where asked (form-encoded `$filter`), never in tokens. */
function decodeParam(value: string, plusIsSpace: boolean): string {
  const v = plusIsSpace ? value.replace(/\+/g, " ") : value;
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

function odataString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function fromBase64(s: string): string {
  return Buffer.from(s, "base64").toString("utf8");
}

/** Keys before Azurite's continuation `c` (the start of the next page), as an OData filter. */
function before(c: AzuriteContinuation): string {
  const pk = odataString(fromBase64(c.pk));
  if (c.rk === undefined) return `PartitionKey lt ${pk}`;
  return `(PartitionKey lt ${pk} or (PartitionKey eq ${pk} and RowKey lt ${odataString(fromBase64(c.rk))}))`;
}

function and(...filters: (string | undefined)[]): string | undefined {
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

/** `.123Z` → `.1230000Z` in Timestamps and ETags: the 7 digits Cosmos shows. */
export function sevenDigits(text: string): string {
  return text
    .replace(
      /("Timestamp":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,7}))?Z"/g,
      (_, head: string, frac: string | undefined) => `${head}.${(frac ?? "").padEnd(7, "0")}Z"`,
    )
    .replace(
      /(datetime'\d{4}-\d\d-\d\dT\d\d%3A\d\d%3A\d\d)(?:\.(\d{1,7}))?Z'/g,
      (_, head: string, frac: string | undefined) => `${head}.${(frac ?? "").padEnd(7, "0")}Z'`,
    );
}

/** `"x@odata.type":"Edm.Double","x":1` → `"x":1`: what Cosmos makes of a whole Double without `.0`. */
function wholeDoublesToInt32(json: string): string {
  return json.replace(
    /"((?:[^"\\]|\\.)*)@odata\.type"\s*:\s*"Edm\.Double"\s*,\s*"((?:[^"\\]|\\.)*)"\s*:\s*(-?\d+)(?=\s*[,}])/g,
    (whole, annotated: string, name: string, digits: string) =>
      annotated === name ? `"${name}":${digits}` : whole,
  );
}

/** Keys from an entity URL path `…/table(PartitionKey='a',RowKey='b')`, decoded. */
function keysOfPath(path: string): { pk: string; rk: string } | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    decoded = path;
  }
  const m = /\(PartitionKey='((?:[^']|'')*)',\s*RowKey='((?:[^']|'')*)'\)$/.exec(decoded);
  return m ? { pk: m[1].replace(/''/g, "'"), rk: m[2].replace(/''/g, "'") } : undefined;
}

interface Refusal {
  status: number;
  code: string;
  text: string;
  backend: boolean;
  note: string;
}

function reservedRefusal(name: string): Refusal {
  return {
    status: 500,
    code: "InternalServerError",
    text: `The property or indexer 'Microsoft.Azure.Documents.Resource.${RESERVED[name.toLowerCase()]}' cannot be used in this context because the set accessor is inaccessible`,
    backend: false,
    note: "reserved",
  };
}

const EMPTY_KEY: Refusal = {
  status: 400,
  code: "PropertiesNeedValue",
  text: "PartitionKey/RowKey cannot be empty",
  backend: true,
  note: "empty-key",
};

/** What Cosmos refuses in an entity body: a reserved property name, a missing, empty or non-string key. */
function refuseBody(body: string, keysFromBody: boolean): Refusal | undefined {
  if (!body.trim()) return keysFromBody ? EMPTY_KEY : undefined;
  let obj: Record<string, unknown>;
  try {
    obj = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return undefined; // the backend's own answer
  }
  for (const key of Object.keys(obj)) {
    const name = key.endsWith("@odata.type") ? key.slice(0, -"@odata.type".length) : key;
    if (RESERVED[name.toLowerCase()] !== undefined) return reservedRefusal(name);
  }
  if (keysFromBody) {
    for (const k of ["PartitionKey", "RowKey"]) {
      const v = obj[k];
      if (v === undefined || v === "") return EMPTY_KEY;
      if (typeof v !== "string")
        return {
          status: 400,
          code: "InvalidInput",
          text: `The value of ${k} must be a string.`,
          backend: true,
          note: "invalid-key",
        };
    }
  }
  return undefined;
}

interface BatchPart {
  /** MIME headers of the part (up to the blank line). */
  mime: string;
  method: string;
  url: string;
  /** Inner request headers, as lines. */
  headerLines: string[];
  body: string;
}

function parseBatchRequest(
  body: string,
  contentType: string,
): { outer: string; inner: string; parts: BatchPart[] } | undefined {
  const outer = /boundary=([^;\s]+)/i.exec(contentType)?.[1];
  if (!outer) return undefined;
  const inner = /Content-Type:\s*multipart\/mixed;\s*boundary=([^;\s]+)/i.exec(body)?.[1];
  if (!inner) return undefined;
  const chunks = body.split(`--${inner}`);
  const parts: BatchPart[] = [];
  // chunks[0] is the outer preamble; the last one starts with "--" (the closing delimiter).
  for (const chunk of chunks.slice(1)) {
    if (chunk.startsWith("--")) break;
    const text = chunk.replace(/^\r?\n/, "");
    const mimeEnd = /\r?\n\r?\n/.exec(text);
    if (!mimeEnd) return undefined;
    const mime = text.slice(0, mimeEnd.index);
    const rest = text.slice(mimeEnd.index + mimeEnd[0].length);
    const lineEnd = /\r?\n/.exec(rest);
    if (!lineEnd) return undefined;
    const requestLine = rest.slice(0, lineEnd.index);
    const m = /^(\S+)\s+(\S+)\s+HTTP\/1\.1$/.exec(requestLine);
    if (!m) return undefined;
    const afterLine = rest.slice(lineEnd.index + lineEnd[0].length);
    const headersEnd = /\r?\n\r?\n/.exec(afterLine);
    const headerText = headersEnd ? afterLine.slice(0, headersEnd.index) : afterLine;
    let partBody = headersEnd ? afterLine.slice(headersEnd.index + headersEnd[0].length) : "";
    partBody = partBody.replace(/\r?\n$/, "");
    parts.push({
      mime,
      method: m[1].toUpperCase(),
      url: m[2],
      headerLines: headerText ? headerText.split(/\r?\n/) : [],
      body: partBody,
    });
  }
  return { outer, inner, parts };
}

function partHeader(part: BatchPart, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const line of part.headerLines) {
    const colon = line.indexOf(":");
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === lower) return line.slice(colon + 1).trim();
  }
  return undefined;
}

function buildBatchRequest(outer: string, inner: string, parts: BatchPart[]): string {
  let out = `--${outer}\r\nContent-Type: multipart/mixed; boundary=${inner}\r\n\r\n`;
  for (const p of parts) {
    out += `--${inner}\r\n${p.mime}\r\n\r\n${p.method} ${p.url} HTTP/1.1\r\n`;
    out += p.headerLines.map((l) => `${l}\r\n`).join("");
    out += `\r\n${p.body}\r\n`;
  }
  return `${out}--${inner}--\r\n--${outer}--\r\n`;
}

interface ResponsePart {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function parseBatchResponse(body: string): ResponsePart[] | undefined {
  const inner = /boundary=(changesetresponse_[^;\s]+)/i.exec(body)?.[1];
  if (!inner) return undefined;
  const out: ResponsePart[] = [];
  for (const chunk of body.split(`--${inner}`).slice(1)) {
    if (chunk.startsWith("--")) break;
    const m = /HTTP\/1\.1 (\d{3})[^\r\n]*\r?\n([\s\S]*?)\r?\n\r?\n([\s\S]*)$/.exec(chunk);
    if (!m) return undefined;
    const headers: Record<string, string> = {};
    for (const line of m[2].split(/\r?\n/)) {
      const colon = line.indexOf(":");
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    out.push({ status: Number(m[1]), headers, body: m[3].replace(/\r?\n$/, "") });
  }
  return out;
}

/** The message of an OData JSON error, without the service's RequestId/Time tail. */
function errorOf(body: string): { code?: string; text?: string } {
  try {
    const e = (JSON.parse(body) as { "odata.error"?: { code?: string; message?: { value?: string } } })[
      "odata.error"
    ];
    if (!e) return {};
    const text = (e.message?.value ?? "").replace(/\s*RequestId:[\s\S]*$/i, "");
    return { code: e.code, text };
  } catch {
    return {};
  }
}

/** Messages worded as Cosmos words them where they differ from Azurite's. */
const COSMOS_TEXT: Record<string, string> = {
  TableAlreadyExists: "The specified table already exists.",
  TableNotFound: "The table specified does not exist.",
  ResourceNotFound: "The specified resource does not exist.",
  EntityAlreadyExists: "The specified entity already exists.",
  UpdateConditionNotSatisfied: "The update condition specified in the request was not satisfied.",
};

function emptyStats(): DoubleStats {
  return {
    requests: 0,
    forwarded: 0,
    byMethod: {},
    byStatus: {},
    events: {},
    pages: 0,
    continued: 0,
    entitiesServed: 0,
    maxRequestBytes: 0,
    log: [],
  };
}

const WRITE_METHODS = new Set(["POST", "PUT", "MERGE", "DELETE", "PATCH"]);

export async function startCosmosDouble(options: CosmosDoubleOptions): Promise<CosmosDouble> {
  const origin = targetOrigin(options.target, "cosmos double");
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  let opts: Omit<CosmosDoubleOptions, "target"> = { ...options };
  let stats = emptyStats();
  let throttleSeen = 0;
  let bucket: TokenBucket | undefined;
  /** ETags the double padded to 7 digits → Azurite's own, for If-Match on the way back. */
  const etags = new Map<string, string>();

  const resetThrottle = () => {
    throttleSeen = 0;
    const ru = opts.throttle?.ruPerSecond;
    bucket = ru ? new TokenBucket(ru, ru, () => performance.now()) : undefined;
  };
  resetThrottle();

  const pageSize = () => Math.max(1, opts.pageSize ?? 1500);
  const windowSize = () => Math.max(pageSize(), opts.windowSize ?? 2 * pageSize());
  const maxBytes = () => opts.maxRequestBytes ?? COSMOS_MAX_REQUEST_BYTES;
  const count = (event: string) => (stats.events[event] = (stats.events[event] ?? 0) + 1);

  /** Pad Timestamps and ETags to 7 digits, remembering each ETag changed. */
  const normalize = (text: string): string => {
    const out = sevenDigits(text);
    if (out !== text) {
      for (const m of text.matchAll(/W\/\\?"datetime'[^']*'\\?"/g)) {
        const original = m[0].replace(/\\"/g, '"');
        const padded = sevenDigits(original);
        if (padded !== original) {
          if (etags.size > 100_000) etags.clear();
          etags.set(padded, original);
        }
      }
    }
    return out;
  };

  const forward = (req: IncomingMessage, method: string, path: string, body: Buffer): Promise<Upstream> =>
    new Promise((resolve, reject) => {
      stats.forwarded++;
      const headers = forwardableHeaders(req.headers, body.length);
      delete headers["accept-encoding"]; // the double reads every answer: no compression
      const ifMatch = header(req.headers, "if-match");
      if (ifMatch && etags.has(ifMatch)) headers["if-match"] = etags.get(ifMatch) as string;
      const up = httpRequest(
        {
          protocol: origin.protocol,
          hostname: origin.hostname,
          port: origin.port,
          method,
          path,
          headers,
          agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", reject);
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
          );
        },
      );
      up.on("error", reject);
      up.end(body);
    });

  /** The headers Cosmos sends with an answer: its own request id, no version or client id echo. */
  const cosmosHeaders = (
    up: IncomingHttpHeaders | undefined,
    rid: string,
    error: boolean,
  ): Record<string, string> => {
    const out: Record<string, string> = { "x-ms-request-id": rid };
    const date = up && header(up, "date");
    out.Date = date ?? new Date().toUTCString();
    if (!up) return out;
    const type = header(up, "content-type");
    if (type) {
      out["Content-Type"] = /^application\/json/i.test(type)
        ? `application/json; odata=${error ? "fullmetadata" : "minimalmetadata"}`
        : type;
    }
    const etag = header(up, "etag");
    if (etag) out.ETag = normalize(etag);
    for (const [name, wire] of [
      ["location", "Location"],
      ["preference-applied", "Preference-Applied"],
      ["x-ms-continuation-nexttablename", "x-ms-continuation-NextTableName"],
    ]) {
      const v = header(up, name);
      if (v !== undefined) out[wire] = v;
    }
    return out;
  };

  const refusal = (r: Refusal, rid: string): Reply => ({
    status: r.status,
    headers: { "x-ms-request-id": rid, "Content-Type": "application/json; odata=fullmetadata" },
    body: cosmosErrorBody(r.code, r.text, rid, r.backend),
    note: r.note,
  });

  const throttleReply = (rid: string): Reply => {
    const now = new Date().toISOString().replace("Z", "0000Z");
    const text =
      `Message: {"Errors":["${TOO_MANY_REQUESTS}"]}\r\nActivityId: ${rid}, Request URI: /apps/${randomUUID()}/services/${randomUUID()}/partitions/${randomUUID()}/replicas/132887865008769993p/, ` +
      `RequestStats: \r\nRequestStartTime: ${now}, RequestEndTime: ${now},  Number of regions attempted:1\r\n`;
    return {
      status: 429,
      headers: { "x-ms-request-id": rid, "Content-Type": "application/json; odata=fullmetadata" },
      body: cosmosErrorBody("TooManyRequests", text, rid, true),
      note: "throttled",
    };
  };

  /** An Azurite answer in Cosmos's words: its errors reworded, its bodies with 7-digit Timestamps. */
  const translate = (up: Upstream, rid: string): Reply => {
    const type = header(up.headers, "content-type") ?? "";
    if (up.status >= 400 && /json/i.test(type)) {
      const { code, text } = errorOf(up.body.toString("utf8"));
      if (code !== undefined) {
        return {
          status: up.status,
          headers: cosmosHeaders(up.headers, rid, true),
          body: cosmosErrorBody(code, COSMOS_TEXT[code] ?? text ?? "", rid),
        };
      }
    }
    const body = /json/i.test(type) ? normalize(up.body.toString("utf8")) : up.body;
    return { status: up.status, headers: cosmosHeaders(up.headers, rid, up.status >= 400), body };
  };

  const throttled = (method: string, path: string, body: Buffer): boolean => {
    const t = opts.throttle;
    if (!t || (t.match && !t.match({ method, path }))) return false;
    throttleSeen++;
    if (t.everyNth && throttleSeen % t.everyNth === 0) return true;
    if (bucket) {
      if (WRITE_METHODS.has(method)) {
        const cost = writeCost(body, /\/\$batch(\?|$)/.test(path));
        return bucket.take(cost.ru) > 0;
      }
      if (bucket.take(0, 1) > 0) return true;
      bucket.charge(1);
    }
    return false;
  };

  // ---- queries ------------------------------------------------------------------------------------

  /** One Azurite page of `path` from `next`. */
  const azuritePage = async (
    req: IncomingMessage,
    path: string,
    q: { filter?: string; select?: string; top?: number; next: AzuriteContinuation | null },
  ): Promise<{ up: Upstream; items: string[]; metadata?: string; next: AzuriteContinuation | null }> => {
    const params: string[] = [];
    if (q.filter) params.push(`$filter=${encodeURIComponent(q.filter)}`);
    if (q.select) params.push(`$select=${encodeURIComponent(q.select)}`);
    if (q.top) params.push(`$top=${q.top}`);
    if (q.next) {
      params.push(`NextPartitionKey=${encodeURIComponent(q.next.pk)}`);
      if (q.next.rk !== undefined) params.push(`NextRowKey=${encodeURIComponent(q.next.rk)}`);
    }
    const up = await forward(
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
  };

  const query = async (req: IncomingMessage, path: string, rawQuery: string, rid: string): Promise<Reply> => {
    let filter: string | undefined;
    let select: string | undefined;
    let top: number | undefined;
    let token: string | undefined;
    for (const [k, v] of rawParams(rawQuery)) {
      const key = decodeParam(k, false);
      if (key === "$filter") filter = decodeParam(v, true);
      else if (key === "$select") select = decodeParam(v, true);
      else if (key === "$top") top = Number(decodeParam(v, false));
      else if (key === "NextPartitionKey") token = decodeParam(v, false);
    }
    if (filter && /\bTimestamp\b/.test(filter)) {
      // Cosmos keeps no Timestamp to filter on: 200 and no rows (for a table that exists).
      const probe = await forward(req, "GET", `${path}?$top=1`, Buffer.alloc(0));
      if (probe.status !== 200) return translate(probe, rid);
      const metadata = splitValueArray(probe.body.toString("utf8"))?.metadata;
      return {
        status: 200,
        headers: cosmosHeaders(probe.headers, rid, false),
        body: JSON.stringify({ value: [], ...(metadata && { "odata.metadata": metadata }) }),
        note: "timestamp-filter",
      };
    }
    let cursor: Cursor = { s: null, e: null, h: "", o: 1 };
    const emptyPage = (at: Cursor): Reply => {
      stats.pages++;
      return {
        status: 200,
        headers: {
          "x-ms-request-id": rid,
          Date: new Date().toUTCString(),
          "Content-Type": "application/json; odata=minimalmetadata",
          "x-ms-continuation-NextPartitionKey": encodeContinuation({ ...at, z: 1 }, !!filter, 0),
          "x-ms-continuation-NextRowKey": "NA",
        },
        body: '{"value":[]}',
        note: "empty-page",
      };
    };
    if (opts.emptyPages && (token === undefined || token === "")) return emptyPage(cursor);
    if (token !== undefined && token !== "") {
      const decoded = decodeContinuation(token);
      if (!decoded) {
        return refusal(
          {
            status: 400,
            code: "BadRequest",
            text: "Invalid continuation token",
            backend: true,
            note: "bad-token",
          },
          rid,
        );
      }
      cursor = decoded;
      stats.continued++;
      if (opts.emptyPages && cursor.o && !cursor.z) return emptyPage(cursor);
    }
    // Keys are needed for the order; a $select without them gets them added, and they are taken out again.
    let azSelect = select;
    const strip: string[] = [];
    if (select) {
      const names = select.split(",").map((s) => s.trim());
      for (const k of ["PartitionKey", "RowKey"]) {
        if (!names.includes(k)) {
          strip.push(k);
          names.push(k);
        }
      }
      azSelect = names.join(",");
    }
    const limit = Math.max(1, Math.min(pageSize(), top && top > 0 ? top : Infinity));
    const seed = String(opts.seed ?? 1);
    let last: Upstream | undefined;
    let metadata: string | undefined;
    for (let round = 0; round < 10_000; round++) {
      // The window's entities: from its start up to its end (read to find the end when it is new).
      const items: string[] = [];
      let next = cursor.s;
      if (cursor.o) {
        const size = windowSize();
        do {
          const page = await azuritePage(req, path, {
            filter,
            select: azSelect,
            top: Math.min(1000, size - items.length),
            next,
          });
          if (page.up.status !== 200) return translate(page.up, rid);
          last = page.up;
          metadata ??= page.metadata;
          items.push(...page.items);
          next = page.next;
        } while (next && items.length < size);
        cursor = { s: cursor.s, e: next, h: "" };
      } else {
        const bounded = and(filter, cursor.e ? before(cursor.e) : undefined);
        do {
          const page = await azuritePage(req, path, { filter: bounded, select: azSelect, next });
          if (page.up.status !== 200) return translate(page.up, rid);
          last = page.up;
          metadata ??= page.metadata;
          items.push(...page.items);
          next = page.next;
        } while (next);
      }
      const ranked = items
        .map((text) => {
          const e = JSON.parse(text) as { PartitionKey?: unknown; RowKey?: unknown };
          const rank = createHash("sha1")
            .update(`${seed}\u0000${String(e.PartitionKey)}\u0000${String(e.RowKey)}`)
            .digest("hex");
          return { rank, text };
        })
        .filter((x) => x.rank > cursor.h)
        .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0));
      const page = ranked.slice(0, limit);
      let nextCursor: Cursor | undefined;
      if (ranked.length > page.length) nextCursor = { ...cursor, h: page[page.length - 1].rank };
      else if (cursor.e) nextCursor = { s: cursor.e, e: null, h: "", o: 1 };
      if (page.length === 0 && nextCursor) {
        // Nothing left in this window: go on with the next one in the same request.
        cursor = nextCursor;
        continue;
      }
      stats.pages++;
      stats.entitiesServed += page.length;
      const values = page.map((x) => {
        let text = normalize(x.text);
        for (const k of strip) {
          text = text
            .replace(new RegExp(`,"${k}":"(?:[^"\\\\]|\\\\.)*"`), "")
            .replace(new RegExp(`"${k}":"(?:[^"\\\\]|\\\\.)*",?`), "");
        }
        return text;
      });
      const headers = cosmosHeaders(last?.headers, rid, false);
      if (nextCursor) {
        headers["x-ms-continuation-NextPartitionKey"] = encodeContinuation(nextCursor, !!filter, page.length);
        headers["x-ms-continuation-NextRowKey"] = "NA";
      }
      const meta = metadata ? `,"odata.metadata":"${metadata}"` : "";
      return { status: 200, headers, body: `{"value":[${values.join(",")}]${meta}}` };
    }
    throw new Error("cosmos double: a scan that never ends");
  };

  // ---- $batch -------------------------------------------------------------------------------------

  const batchReply = (rid: string, parts: string[]): Reply => {
    const outer = `batchresponse_${randomUUID()}`;
    const inner = `changesetresponse_${randomUUID()}`;
    let body = `--${outer}\r\nContent-Type: multipart/mixed; boundary=${inner}\r\n\r\n`;
    for (const p of parts) {
      body += `--${inner}\nContent-Type: application/http\nContent-Transfer-Encoding: binary\n\n${p}`;
    }
    body += `--${inner}--\n--${outer}--\r\n`;
    return {
      status: 202,
      headers: {
        "x-ms-request-id": rid,
        Date: new Date().toUTCString(),
        "Content-Type": `multipart/mixed; boundary=${outer}`,
      },
      body,
    };
  };

  const failurePart = (index: number, status: number, code: string, text: string, rid: string): string => {
    const value = `${index}:${text}\n\nRequestID:${rid}\n`;
    const json = JSON.stringify({ "odata.error": { code, message: { lang: "en-us", value } } });
    return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\nContent-Type: application/json;odata=fullmetadata\r\n\r\n${json}\r\n`;
  };

  const batch = async (req: IncomingMessage, path: string, body: Buffer, rid: string): Promise<Reply> => {
    const contentType = header(req.headers, "content-type") ?? "";
    const parsed = parseBatchRequest(body.toString("utf8"), contentType);
    if (!parsed) return translate(await forward(req, "POST", path, body), rid);
    const { parts } = parsed;
    let rewritten = false;
    // What Cosmos refuses before anything is written: the first such operation fails the changeset.
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      const override = partHeader(p, "X-HTTP-Method");
      if (override) {
        // Azurite takes `POST … X-HTTP-Method: MERGE` inside a changeset for an insert: say MERGE.
        p.method = override.toUpperCase();
        p.headerLines = p.headerLines.filter((l) => !/^x-http-method\s*:/i.test(l));
        rewritten = true;
      }
      let refused: Refusal | undefined;
      if (p.method === "PATCH") refused = methodNotAllowed("PATCH");
      else if (p.method !== "GET") {
        const keys = keysOfPath(new URL(p.url, "http://x").pathname);
        if (keys && (keys.pk === "" || keys.rk === "")) refused = EMPTY_KEY;
        else if (p.method !== "DELETE") refused = refuseBody(p.body, !keys);
      }
      if (refused) {
        count("batch-failure");
        return {
          ...batchReply(rid, [failurePart(i, refused.status, refused.code, refused.text, rid)]),
          note: refused.note,
        };
      }
      if (opts.wholeDoubles === "int32" && p.body) {
        const changed = wholeDoublesToInt32(p.body);
        if (changed !== p.body) {
          p.body = changed;
          rewritten = true;
        }
      }
    }
    const sent = rewritten ? Buffer.from(buildBatchRequest(parsed.outer, parsed.inner, parts), "utf8") : body;
    const up = await forward(req, "POST", path, sent);
    if (up.status !== 202) return translate(up, rid);
    const answers = parseBatchResponse(up.body.toString("utf8"));
    if (!answers) return translate(up, rid);
    const failed = answers.findIndex((a) => a.status >= 300);
    if (failed >= 0) {
      const a = answers[failed];
      const { code, text } = errorOf(a.body);
      const prefixed = /^(\d+):([\s\S]*)$/.exec(text ?? "");
      const contentId = Number(a.headers["content-id"]);
      const index = prefixed
        ? Number(prefixed[1])
        : Number.isFinite(contentId) && contentId > 0
          ? contentId - 1
          : failed;
      const message = code && COSMOS_TEXT[code] ? COSMOS_TEXT[code] : (prefixed?.[2] ?? text ?? "");
      count("batch-failure");
      return batchReply(rid, [failurePart(index, a.status, code ?? "InvalidInput", message, rid)]);
    }
    return batchReply(
      rid,
      answers.map((a, i) => {
        const p = parts[i];
        let head = `HTTP/1.1 ${a.status} ${STATUS_CODES[a.status] ?? ""}\r\n`;
        if (a.headers.etag) head += `ETag: ${normalize(a.headers.etag)}\r\n`;
        const prefer = p && partHeader(p, "Prefer");
        if (prefer) head += `Preference-Applied: ${prefer}\r\n`;
        if (a.headers.location) head += `Location: ${a.headers.location}\r\n`;
        if (a.body) head += `Content-Type: application/json;odata=minimalmetadata\r\n`;
        else if (p?.method === "PUT") head += `Content-Type: application/json\r\n`;
        head += `Content-ID: ${i + 1}\r\n\r\n`;
        return `${head}${a.body ? normalize(a.body) : ""}\r\n`;
      }),
    );
  };

  // ---- routing ------------------------------------------------------------------------------------

  const handle = async (req: IncomingMessage, body: Buffer): Promise<Reply> => {
    const rid = randomUUID();
    const method = (req.method ?? "GET").toUpperCase();
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? "" : url.slice(q + 1);
    if (body.length > maxBytes()) {
      return refusal(
        {
          status: 413,
          code: "RequestEntityTooLarge",
          text: 'Message: {"Errors":["Request size is too large"]}',
          backend: true,
          note: "too-large",
        },
        rid,
      );
    }
    if (throttled(method, path, body)) {
      if (method === "POST" && /\/\$batch$/.test(path) && opts.throttle?.inChangeset) {
        const t = throttleReply(rid);
        const { text } = errorOf(String(t.body));
        return {
          ...batchReply(rid, [failurePart(0, 429, "TooManyRequests", text ?? TOO_MANY_REQUESTS, rid)]),
          note: "throttled",
        };
      }
      return throttleReply(rid);
    }
    if (method === "PATCH") return refusal(methodNotAllowed("PATCH"), rid);
    if (method === "POST" && /\/\$batch$/.test(path)) return batch(req, path, body, rid);
    const segments = path.split("/").filter(Boolean);
    const resource = segments[1] ?? "";
    if (/^Tables(\(|$)/i.test(resource)) {
      return translate(await forward(req, method, url, body), rid);
    }
    const keys = keysOfPath(path);
    if (keys) {
      if (WRITE_METHODS.has(method) && (keys.pk === "" || keys.rk === "")) return refusal(EMPTY_KEY, rid);
      if (method === "PUT" || method === "MERGE" || (method === "POST" && body.length > 0)) {
        const refused = refuseBody(body.toString("utf8"), false);
        if (refused) return refusal(refused, rid);
      }
    } else if (method === "POST") {
      // An insert: its keys are in the body.
      const refused = refuseBody(body.toString("utf8"), true);
      if (refused) return refusal(refused, rid);
    } else if (method === "GET" && /^[^()]+(\(\))?$/.test(resource)) {
      return query(req, path, rawQuery, rid);
    }
    let sent = body;
    if (opts.wholeDoubles === "int32" && body.length > 0 && WRITE_METHODS.has(method)) {
      const text = body.toString("utf8");
      const changed = wholeDoublesToInt32(text);
      if (changed !== text) sent = Buffer.from(changed, "utf8");
    }
    return translate(await forward(req, method, url, sent), rid);
  };

  const server = createServer((req, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("error", () => undefined);
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const method = (req.method ?? "GET").toUpperCase();
      stats.requests++;
      stats.byMethod[method] = (stats.byMethod[method] ?? 0) + 1;
      stats.maxRequestBytes = Math.max(stats.maxRequestBytes, body.length);
      const entry: DoubleLogEntry = { seq: stats.requests, method, path: req.url ?? "/", bytes: body.length };
      stats.log.push(entry);
      handle(req, body).then(
        (reply) => {
          if (reply.note) {
            entry.note = reply.note;
            count(reply.note);
          }
          entry.status = reply.status;
          stats.byStatus[reply.status] = (stats.byStatus[reply.status] ?? 0) + 1;
          if (res.destroyed) return;
          const out = typeof reply.body === "string" ? Buffer.from(reply.body, "utf8") : reply.body;
          res.writeHead(reply.status, { ...reply.headers, "Content-Length": String(out.length) });
          res.end(out);
        },
        (err: unknown) => {
          entry.status = 502;
          stats.byStatus[502] = (stats.byStatus[502] ?? 0) + 1;
          if (res.destroyed) return;
          const text = `{"odata.error":{"code":"ProxyUpstreamError","message":{"lang":"en-us","value":${JSON.stringify(
            `cosmos double: ${err instanceof Error ? err.message : String(err)}`,
          )}}}}`;
          res.writeHead(502, {
            "Content-Type": "application/json",
            "Content-Length": Buffer.byteLength(text),
          });
          res.end(text);
        },
      );
    });
  });
  return {
    ...(await serveProxy(server)),
    get stats() {
      return stats;
    },
    configure: (next) => {
      opts = { ...opts, ...next };
      resetThrottle();
    },
    resetStats: () => {
      stats = emptyStats();
    },
    requests: (method?: string, path?: RegExp) =>
      stats.log.filter(
        (e) =>
          (method === undefined || e.method.toUpperCase() === method.toUpperCase()) &&
          (!path || path.test(e.path)),
      ),
    stop: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      agent.destroy();
    },
  };
}

function methodNotAllowed(method: string): Refusal {
  return {
    status: 405,
    code: "MethodNotAllowed",
    text: `The requested HTTP method ${method} is not supported; use MERGE, or POST with X-HTTP-Method: MERGE.`,
    backend: false,
    note: "patch",
  };
}
