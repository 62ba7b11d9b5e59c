// Cosmos DB for Table's words on the wire, and the small pieces of HTTP the double reads and writes:
// limits, error bodies and messages, 7-digit Timestamps, entity keys in a URL, query parameters.
import type { IncomingHttpHeaders } from "node:http";

/** Cosmos DB for Table's request size limit (a $batch included): 2 MB. */
export const COSMOS_MAX_REQUEST_BYTES = 2 * 1024 * 1024;

export const TOO_MANY_REQUESTS =
  "Request rate is large. More Request Units may be needed, so no changes were made. Please retry this request later. Learn more: http://aka.ms/cosmosdb-error-429";

/** What follows the ActivityId in a backend error's message. */
const SDK_SUFFIX = "documentdb-dotnet-sdk/2.14.0 Host/64-bit MicrosoftWindowsNT/10.0.19041.0";

export const WRITE_METHODS = new Set(["POST", "PUT", "MERGE", "DELETE", "PATCH"]);

/** Messages worded as Cosmos words them where they differ from Azurite's. */
export const COSMOS_TEXT: Record<string, string> = {
  TableAlreadyExists: "The specified table already exists.",
  TableNotFound: "The table specified does not exist.",
  ResourceNotFound: "The specified resource does not exist.",
  EntityAlreadyExists: "The specified entity already exists.",
  UpdateConditionNotSatisfied: "The update condition specified in the request was not satisfied.",
};

/** An answer from Azurite. */
export interface Upstream {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** An answer the double sends its client; `note` says what the double did itself (see the log). */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
  note?: string;
}

/** A Cosmos-style OData error body (the service ends it with CRLF). */
export function cosmosErrorBody(code: string, text: string, requestId: string, backend = false): string {
  const value = `${text}${backend ? `\r\nActivityId: ${requestId}, ${SDK_SUFFIX}` : ""}\nRequestID:${requestId}\n`;
  return `${JSON.stringify({ "odata.error": { code, message: { lang: "en-us", value } } })}\r\n`;
}

/** The message of an OData JSON error, without the service's RequestId/Time tail. */
export function errorOf(body: string): { code?: string; text?: string } {
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

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** `a=1&b=2` → [["a","1"],["b","2"]] with raw (still encoded) values. */
export function rawParams(query: string): [string, string][] {
  if (!query) return [];
  return query.split("&").map((kv) => {
    const eq = kv.indexOf("=");
    return eq < 0 ? [kv, ""] : [kv.slice(0, eq), kv.slice(eq + 1)];
  });
}

/** Decode a query value; `+` is a space only where asked (form-encoded `$filter`), never in tokens. */
export function decodeParam(value: string, plusIsSpace: boolean): string {
  const v = plusIsSpace ? value.replace(/\+/g, " ") : value;
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
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
export function wholeDoublesToInt32(json: string): string {
  return json.replace(
    /"((?:[^"\\]|\\.)*)@odata\.type"\s*:\s*"Edm\.Double"\s*,\s*"((?:[^"\\]|\\.)*)"\s*:\s*(-?\d+)(?=\s*[,}])/g,
    (whole, annotated: string, name: string, digits: string) =>
      annotated === name ? `"${name}":${digits}` : whole,
  );
}

/** Keys from an entity URL path `…/table(PartitionKey='a',RowKey='b')`, decoded. */
export function keysOfPath(path: string): { pk: string; rk: string } | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    decoded = path;
  }
  const m = /\(PartitionKey='((?:[^']|'')*)',\s*RowKey='((?:[^']|'')*)'\)$/.exec(decoded);
  return m ? { pk: m[1].replace(/''/g, "'"), rk: m[2].replace(/''/g, "'") } : undefined;
}
