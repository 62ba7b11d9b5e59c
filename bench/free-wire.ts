// What the bench's free source and free sink (free-source.ts, free-sink.ts) share: the services' wire
// details (timestamps, ETags, error bodies, the account in the path).
import type { RawAnswer } from "./raw-http.js";

/** Azurite's development account, as every bench connection string names it. */
export const ACCOUNT = "devstoreaccount1";

/** The x-ms-version Table Storage answers with. */
export const STORAGE_VERSION = "2019-02-02";

/** A server Timestamp with 7 fractional digits, deterministic for `i` (entity number or sequence). */
export function timestampAt(i: number): string {
  const ms = Date.UTC(2026, 0, 15, 10) + i * 37;
  const whole = new Date(ms - (ms % 1000)).toISOString().slice(0, 19);
  const fraction = String((ms % 1000) * 10_000 + (i % 10_000)).padStart(7, "0");
  return `${whole}.${fraction}Z`;
}

/** The ETag for a Timestamp, as both services give it: `W/"datetime'2026-01-15T10%3A00%3A00.1234567Z'"`. */
export function etagOf(timestamp: string): string {
  return `W/"datetime'${encodeURIComponent(timestamp)}'"`;
}

/** A Table Storage style OData error body (JSON, minimal metadata). */
export function odataError(code: string, message: string): string {
  return JSON.stringify({
    "odata.error": {
      code,
      message: {
        lang: "en-US",
        value: `${message}\nRequestId:00000000-0000-0000-0000-000000000000\nTime:${new Date().toISOString()}`,
      },
    },
  });
}

/** The server's clock in an HTTP `Date` header, computed at most once per second. */
let dateSecond = 0;
let dateText = "";
export function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

/** A JSON OData error answer, as Table Storage gives it. */
export function errorAnswer(status: number, code: string, message: string, cosmos = false): RawAnswer {
  return {
    status,
    headers:
      (cosmos
        ? "Content-Type: application/json; odata=minimalmetadata\r\n"
        : `Content-Type: application/json;odata=minimalmetadata;streaming=true;charset=utf-8\r\nx-ms-version: ${STORAGE_VERSION}\r\n`) +
      `Date: ${httpDate()}\r\n`,
    body: odataError(code, message),
  };
}

/** `/<account>/<rest>` → `<rest>` (decoded), or undefined when the path names another account. */
export function accountPath(url: string): { path: string; query: URLSearchParams } | undefined {
  const q = url.indexOf("?");
  const rawPath = q < 0 ? url : url.slice(0, q);
  const prefix = `/${ACCOUNT}/`;
  if (!rawPath.startsWith(prefix)) return undefined;
  let path: string;
  try {
    path = decodeURIComponent(rawPath.slice(prefix.length));
  } catch {
    return undefined;
  }
  return { path, query: new URLSearchParams(q < 0 ? "" : url.slice(q + 1)) };
}

/** `Tables('name')` → name. */
export function tableOfTablesPath(path: string): string | undefined {
  return /^Tables\('((?:[^']|'')*)'\)$/.exec(path)?.[1]?.replace(/''/g, "'");
}

/** `name(PartitionKey='a',RowKey='b')` → its parts (keys with quotes undoubled), or undefined. */
export function entityPath(
  path: string,
): { table: string; partitionKey: string; rowKey: string } | undefined {
  const m = /^([A-Za-z][A-Za-z0-9]*)\(PartitionKey='((?:[^']|'')*)',\s*RowKey='((?:[^']|'')*)'\)$/.exec(path);
  if (!m) return undefined;
  return { table: m[1], partitionKey: m[2].replace(/''/g, "'"), rowKey: m[3].replace(/''/g, "'") };
}
