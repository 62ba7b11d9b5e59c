// Entity group transactions ($batch) built and read by hand, so the entity JSON inside is exactly ours.
import { randomUUID } from "node:crypto";
import { entityJson, hasOnlyKeys, type WireEntity } from "./edm.js";
import { cleanMessage } from "./http.js";

export type OperationKind =
  | "upsert-replace" // PUT without If-Match
  | "upsert-merge" // MERGE without If-Match
  | "insert" // POST: fails with 409 when the entity exists
  | "update-replace" // PUT with If-Match
  | "update-merge" // MERGE with If-Match
  | "delete"; // DELETE with If-Match (default *)

export interface Operation {
  kind: OperationKind;
  entity: WireEntity;
  /** For update-* and delete: the ETag to match, `*` for any. */
  ifMatch?: string;
  /**
   * The entity's JSON body, computed once for sizing and building. The writer drops it once the
   * transaction body is built, and a resubmission computes it again (the same text) — unless the
   * entity was cut down to its keys (edm.ts hasOnlyKeys): then this is the body and stays.
   */
  json?: string;
  /**
   * The sender's tag, handed back untouched when the operation is settled: the copy's page mark
   * (copy/checkpoints.ts). The wire does not look at it.
   */
  mark?: unknown;
}

/** Keys in an entity URL: quotes doubled (OData), then percent-encoded. */
export function keyUrl(tableUrl: string, partitionKey: string, rowKey: string): string {
  return `${tableUrl}(PartitionKey='${urlKey(partitionKey)}',RowKey='${urlKey(rowKey)}')`;
}

/** Characters a key keeps as they are in a URL (encodeURIComponent leaves them, and no quote among them). */
const PLAIN_KEY = /^[\w.~-]*$/;

function urlKey(key: string): string {
  // The usual key (an id, a number, a GUID) needs neither: a test is cheaper than the encoding.
  return PLAIN_KEY.test(key) ? key : encodeURIComponent(key.replace(/'/g, "''"));
}

/**
 * An operation's part up to (not including) its body: MIME headers, request line, request headers and
 * the blank line. The whole part is this, then the body, then CRLF.
 */
function partHead(tableUrl: string, op: Operation): string {
  let line: string;
  let headers = "Accept: application/json;odata=minimalmetadata\r\nDataServiceVersion: 3.0";
  switch (op.kind) {
    case "insert":
      line = `POST ${tableUrl} HTTP/1.1`;
      headers += "\r\nContent-Type: application/json\r\nPrefer: return-no-content";
      break;
    case "upsert-replace":
    case "update-replace":
      line = `PUT ${keyUrl(tableUrl, op.entity.partitionKey, op.entity.rowKey)} HTTP/1.1`;
      headers += "\r\nContent-Type: application/json";
      break;
    case "upsert-merge":
    case "update-merge":
      line = `MERGE ${keyUrl(tableUrl, op.entity.partitionKey, op.entity.rowKey)} HTTP/1.1`;
      headers += "\r\nContent-Type: application/json";
      break;
    case "delete":
      line = `DELETE ${keyUrl(tableUrl, op.entity.partitionKey, op.entity.rowKey)} HTTP/1.1`;
      break;
  }
  if (op.kind === "update-replace" || op.kind === "update-merge" || op.kind === "delete") {
    headers += `\r\nIf-Match: ${op.ifMatch ?? "*"}`;
  }
  return `Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n${line}\r\n${headers}\r\n\r\n`;
}

/** The operation's body: its entity JSON, computed once and kept on the operation (none for a delete). */
function partBody(op: Operation): string {
  if (op.kind === "delete") return "";
  if (op.json === undefined) {
    // Never a body of keys alone where the entity had properties: the writer keeps the JSON of an
    // operation whose properties it let go (copy/hold.ts).
    if (hasOnlyKeys(op.entity))
      throw new Error(`internal error: the body of ${op.entity.rowKey} was dropped`);
    op.json = entityJson(op.entity);
  }
  return op.json;
}

export interface SingleRequest {
  method: "PUT" | "MERGE" | "POST" | "DELETE";
  url: string;
  headers: Record<string, string>;
  /** The entity JSON's UTF-8 bytes (none for a delete). */
  body?: Buffer;
}

/**
 * One operation as a plain entity request: what a transaction of one operation would do, with the same
 * body and the same If-Match rules, without the multipart framing the service must take apart.
 */
export function singleRequest(tableUrl: string, op: Operation): SingleRequest {
  const headers: Record<string, string> = { Accept: "application/json;odata=minimalmetadata" };
  const json = partBody(op);
  const body = op.kind === "delete" ? undefined : Buffer.from(json, "utf8");
  if (body) headers["Content-Type"] = "application/json";
  if (op.kind === "update-replace" || op.kind === "update-merge" || op.kind === "delete") {
    headers["If-Match"] = op.ifMatch ?? "*";
  }
  switch (op.kind) {
    case "insert":
      headers.Prefer = "return-no-content";
      return { method: "POST", url: tableUrl, headers, body };
    case "upsert-replace":
    case "update-replace":
      return {
        method: "PUT",
        url: keyUrl(tableUrl, op.entity.partitionKey, op.entity.rowKey),
        headers,
        body,
      };
    case "upsert-merge":
    case "update-merge":
      return {
        method: "MERGE",
        url: keyUrl(tableUrl, op.entity.partitionKey, op.entity.rowKey),
        headers,
        body,
      };
    case "delete":
      return { method: "DELETE", url: keyUrl(tableUrl, op.entity.partitionKey, op.entity.rowKey), headers };
  }
}

/** One operation's part inside the changeset. `tableUrl` is absolute: `https://acct…/table`. */
export function operationPart(tableUrl: string, op: Operation): string {
  return `${partHead(tableUrl, op)}${partBody(op)}\r\n`;
}

/** Bytes an operation adds to a transaction body (its part plus the boundary line). */
export function operationBytes(tableUrl: string, op: Operation): number {
  // Counted piece by piece: the same number as measuring operationPart(), without building it. (It
  // also leaves the entity JSON flat in memory, so joining it into the batch later is a plain copy.)
  return headBytes(tableUrl, op) + Buffer.byteLength(partBody(op)) + 2 + 64;
}

/**
 * Characters encodeURIComponent leaves as they are, less the quote (keyUrl doubles it): a key of only
 * these is as long in the URL as it is.
 */
const PLAIN = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*()")
  PLAIN[c.charCodeAt(0)] = 1;

/** A key's length in an entity URL (keyUrl), without encoding it when nothing in it needs encoding. */
function keyLength(key: string): number {
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c >= 128 || PLAIN[c] === 0) return urlKey(key).length;
  }
  return key.length;
}

/**
 * A part head's bytes with both keys empty (an operation with no If-Match), per table URL, then per kind.
 * Looked up by the URL itself: a writer passes the same string every time, whose hash V8 keeps (a key
 * joined from the kind and the URL would be a new string to build and hash per operation).
 */
const headBase = new Map<string, Map<OperationKind, number>>();

/**
 * Byte length of partHead(tableUrl, op), mostly without building it: the keys are its only part that
 * varies between operations of a table, and they appear there percent-encoded (ASCII). Measuring the
 * part head of every operation, built again when the transaction is, was about 2 % of a transaction
 * copy's CPU.
 */
function headBytes(tableUrl: string, op: Operation): number {
  if (op.ifMatch !== undefined) return Buffer.byteLength(partHead(tableUrl, op));
  let kinds = headBase.get(tableUrl);
  if (kinds === undefined) {
    if (headBase.size >= 256) headBase.clear();
    headBase.set(tableUrl, (kinds = new Map()));
  }
  let base = kinds.get(op.kind);
  if (base === undefined) {
    const keyless = { partitionKey: "", rowKey: "", properties: new Map() };
    base = Buffer.byteLength(partHead(tableUrl, { kind: op.kind, entity: keyless }));
    kinds.set(op.kind, base);
  }
  // An insert's request line is the table's URL alone.
  if (op.kind === "insert") return base;
  return base + keyLength(op.entity.partitionKey) + keyLength(op.entity.rowKey);
}

export interface BatchRequest {
  body: string;
  contentType: string;
}

/** A transaction's body as the strings that make it up, in order. */
function batchPieces(tableUrl: string, ops: Operation[]): { pieces: string[]; contentType: string } {
  const batch = `batch_${randomUUID()}`;
  const changeset = `changeset_${randomUUID()}`;
  const pieces: string[] = [`--${batch}\r\nContent-Type: multipart/mixed; boundary=${changeset}\r\n\r\n`];
  for (const op of ops) pieces.push(`--${changeset}\r\n`, partHead(tableUrl, op), partBody(op), "\r\n");
  pieces.push(`--${changeset}--\r\n--${batch}--\r\n`);
  return { pieces, contentType: `multipart/mixed; boundary=${batch}` };
}

export function buildBatch(tableUrl: string, ops: Operation[]): BatchRequest {
  const { pieces, contentType } = batchPieces(tableUrl, ops);
  return { body: pieces.join(""), contentType };
}

export interface BatchBytes {
  /** The UTF-8 bytes of the same body buildBatch gives as a string. */
  body: Buffer;
  contentType: string;
}

/**
 * The transaction encoded straight into one Buffer, piece by piece. Sending a ~150 KB string costs
 * more: it is first joined into one large string and then encoded into another fresh allocation.
 */
export function buildBatchBytes(tableUrl: string, ops: Operation[]): BatchBytes {
  const { pieces, contentType } = batchPieces(tableUrl, ops);
  const lengths = new Array<number>(pieces.length);
  let total = 0;
  for (let i = 0; i < pieces.length; i++) {
    lengths[i] = Buffer.byteLength(pieces[i]);
    total += lengths[i];
  }
  const body = Buffer.allocUnsafe(total);
  let offset = 0;
  for (let i = 0; i < pieces.length; i++) {
    // As many bytes as characters: all ASCII, where Latin-1 and UTF-8 are the same bytes (and the
    // Latin-1 copy is much cheaper).
    offset += body.write(pieces[i], offset, lengths[i], lengths[i] === pieces[i].length ? "latin1" : "utf8");
  }
  return { body, contentType };
}

export interface BatchOutcome {
  ok: boolean;
  /** Per-operation statuses when the transaction succeeded. */
  statuses: number[];
  /** When it failed: the status, code and message of the failing operation. */
  status?: number;
  code?: string;
  message?: string;
  /** The index of the operation the service blames, when it says (the "N:" prefix). */
  failedIndex?: number;
  /** ETags returned per operation (for our post-switch bookkeeping). */
  etags: (string | undefined)[];
}

/** Read a $batch response: every changeset response part, or the one failure. */
export function parseBatchResponse(body: string, opCount: number): BatchOutcome {
  const statuses: number[] = [];
  const etags: (string | undefined)[] = [];
  const re = /HTTP\/1\.1 (\d{3})[^\r\n]*\r?\n([\s\S]*?)\r?\n\r?\n/g;
  const headerStarts: { status: number; headers: string; end: number }[] = [];
  let m: RegExpExecArray | null;
  while ((m = re.exec(body)) !== null) {
    headerStarts.push({ status: Number(m[1]), headers: m[2], end: re.lastIndex });
  }
  for (const h of headerStarts) {
    statuses.push(h.status);
    etags.push(/^ETag:\s*(.+)$/im.exec(h.headers)?.[1]?.trim());
  }
  const failed = headerStarts.findIndex((h) => h.status >= 300);
  if (failed < 0 && statuses.length === opCount) return { ok: true, statuses, etags };
  if (failed < 0) {
    return {
      ok: false,
      statuses,
      etags,
      message: `the service answered ${statuses.length} of ${opCount} operations`,
    };
  }
  const part = headerStarts[failed];
  const rest = body.slice(part.end);
  const jsonEnd = rest.search(/\r?\n--/);
  const errText = jsonEnd >= 0 ? rest.slice(0, jsonEnd) : rest;
  let code: string | undefined;
  let message = `HTTP ${part.status}`;
  try {
    const parsed = JSON.parse(errText) as { "odata.error"?: { code?: string; message?: { value?: string } } };
    code = parsed["odata.error"]?.code;
    message = parsed["odata.error"]?.message?.value ?? message;
  } catch {
    const xmlCode = /<Code>([^<]*)<\/Code>/.exec(errText)?.[1];
    const xmlMsg = /<Message>([^<]*)<\/Message>/.exec(errText)?.[1];
    code = xmlCode;
    message = xmlMsg ?? message;
  }
  let failedIndex: number | undefined;
  const idx = /^(\d+):/.exec(message);
  if (idx) {
    failedIndex = Number(idx[1]);
    message = message.slice(idx[0].length);
  }
  message = cleanMessage(message);
  if (failedIndex !== undefined && (failedIndex < 0 || failedIndex >= opCount)) failedIndex = undefined;
  return { ok: false, statuses, etags, status: part.status, code, message, failedIndex };
}
