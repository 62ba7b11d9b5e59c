// Entity group transactions ($batch) built and read by hand, so the entity JSON inside is exactly ours.
import { randomUUID } from "node:crypto";
import { entityJson, type WireEntity } from "./edm.js";

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
  /** The entity's JSON body, computed once: it is needed for sizing and for every resubmission. */
  json?: string;
}

/** Keys in an entity URL: quotes doubled (OData), then percent-encoded. */
export function keyUrl(tableUrl: string, partitionKey: string, rowKey: string): string {
  const enc = (s: string) => encodeURIComponent(s.replace(/'/g, "''"));
  return `${tableUrl}(PartitionKey='${enc(partitionKey)}',RowKey='${enc(rowKey)}')`;
}

/** One operation's part inside the changeset. `tableUrl` is absolute: `https://acct…/table`. */
export function operationPart(tableUrl: string, op: Operation): string {
  if (op.json === undefined && op.kind !== "delete") op.json = entityJson(op.entity);
  const headers = ["Accept: application/json;odata=minimalmetadata", "DataServiceVersion: 3.0"];
  let line: string;
  let body = "";
  switch (op.kind) {
    case "insert":
      line = `POST ${tableUrl} HTTP/1.1`;
      headers.push("Content-Type: application/json", "Prefer: return-no-content");
      body = op.json ?? "";
      break;
    case "upsert-replace":
    case "update-replace":
      line = `PUT ${keyUrl(tableUrl, op.entity.partitionKey, op.entity.rowKey)} HTTP/1.1`;
      headers.push("Content-Type: application/json");
      body = op.json ?? "";
      break;
    case "upsert-merge":
    case "update-merge":
      line = `MERGE ${keyUrl(tableUrl, op.entity.partitionKey, op.entity.rowKey)} HTTP/1.1`;
      headers.push("Content-Type: application/json");
      body = op.json ?? "";
      break;
    case "delete":
      line = `DELETE ${keyUrl(tableUrl, op.entity.partitionKey, op.entity.rowKey)} HTTP/1.1`;
      break;
  }
  if (op.kind === "update-replace" || op.kind === "update-merge" || op.kind === "delete") {
    headers.push(`If-Match: ${op.ifMatch ?? "*"}`);
  }
  return (
    "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n" +
    `${line}\r\n${headers.join("\r\n")}\r\n\r\n${body}\r\n`
  );
}

/** Bytes an operation adds to a transaction body (its part plus the boundary line). */
export function operationBytes(tableUrl: string, op: Operation): number {
  return Buffer.byteLength(operationPart(tableUrl, op)) + 64;
}

export interface BatchRequest {
  body: string;
  contentType: string;
}

export function buildBatch(tableUrl: string, ops: Operation[]): BatchRequest {
  const batch = `batch_${randomUUID()}`;
  const changeset = `changeset_${randomUUID()}`;
  const parts: string[] = [`--${batch}\r\nContent-Type: multipart/mixed; boundary=${changeset}\r\n\r\n`];
  for (const op of ops) parts.push(`--${changeset}\r\n`, operationPart(tableUrl, op));
  parts.push(`--${changeset}--\r\n--${batch}--\r\n`);
  return { body: parts.join(""), contentType: `multipart/mixed; boundary=${batch}` };
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
    return { ok: false, statuses, etags, message: `the service answered ${statuses.length} of ${opCount} operations` };
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
  message = message
    .replace(/\s*RequestId:[\s\S]*$/, "")
    .replace(/\s+/g, " ")
    .trim();
  if (failedIndex !== undefined && (failedIndex < 0 || failedIndex >= opCount)) failedIndex = undefined;
  return { ok: false, statuses, etags, status: part.status, code, message, failedIndex };
}
