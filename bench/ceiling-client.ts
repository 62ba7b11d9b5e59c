// The matrix's yardsticks: the least a client must do to read the free source and to write the free sink,
// through the same latency link as our sync.
//
//   scan    one plain sequential scan: each page asked for with the previous page's continuation, the
//           body read but not parsed (its entities are counted with a byte search for `"odata.etag"`).
//   writes  every entity of the table written in requests of the table's shape: with one entity per
//           partition a plain PUT each (a transaction of one operation is what such a table needs, and
//           a lean client sends it as a plain request); otherwise transactions of up to 100 operations
//           within one partition. Every request is built before the clock starts, and enough are kept in
//           flight to cover the round trip.
//
// The scan uses node:http with a keep-alive agent; the writes a raw HTTP/1.1 client that sends pre-rendered
// request bytes (the least CPU a client can spend per request, so the client is not what limits them).
// Neither signs its requests (the free servers ignore it).
import { Agent, request, type IncomingHttpHeaders } from "node:http";
import { connect } from "node:net";
import { buildBatchBytes, keyUrl, type Operation } from "../src/engine/wire/batch.js";
import { entityJson, type WireEntity } from "../src/engine/wire/edm.js";

/** Transactions hold at most this many operations. */
const MAX_BATCH = 100;

const BASE_HEADERS = {
  "x-ms-version": "2019-02-02",
  DataServiceVersion: "3.0",
  MaxDataServiceVersion: "3.0;NetFx",
  Accept: "application/json;odata=minimalmetadata",
};

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function send(
  agent: Agent,
  url: URL,
  method: string,
  path: string,
  headers: Record<string, string | number>,
  body?: Buffer,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ agent, host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks),
        }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Occurrences of `needle` in `haystack`. */
function occurrences(haystack: Buffer, needle: Buffer): number {
  let n = 0;
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + needle.length)) n++;
  return n;
}

export interface ScanResult {
  entities: number;
  pages: number;
  elapsedMs: number;
}

/** One sequential scan of `table` at `endpoint` (`http://host:port/account`). */
export async function plainScan(endpoint: string, table: string): Promise<ScanResult> {
  const url = new URL(endpoint);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const etag = Buffer.from('"odata.etag"');
  const base = `${url.pathname}/${table}()`;
  let query = "";
  let entities = 0;
  let pages = 0;
  const started = performance.now();
  try {
    for (;;) {
      const res = await send(agent, url, "GET", `${base}${query}`, BASE_HEADERS);
      if (res.status !== 200)
        throw new Error(
          `scan: HTTP ${res.status} for page ${pages + 1}: ${res.body.toString("utf8", 0, 300)}`,
        );
      pages++;
      entities += occurrences(res.body, etag);
      const npk = res.headers["x-ms-continuation-nextpartitionkey"];
      const nrk = res.headers["x-ms-continuation-nextrowkey"];
      if (npk === undefined && nrk === undefined) break;
      const params: string[] = [];
      if (typeof npk === "string") params.push(`NextPartitionKey=${encodeURIComponent(npk)}`);
      if (typeof nrk === "string") params.push(`NextRowKey=${encodeURIComponent(nrk)}`);
      query = `?${params.join("&")}`;
    }
  } finally {
    agent.destroy();
  }
  return { entities, pages, elapsedMs: performance.now() - started };
}

/** A request built before the clock starts: its bytes on the wire, request line to body. */
export interface Prebuilt {
  bytes: Buffer;
  /** Operations in it (1 for a plain PUT). */
  operations: number;
  /** A transaction (answered 202 with one part per operation) or a plain PUT (answered 204). */
  batch: boolean;
}

/** Operations per request for a table with `perPartition` entities per partition. */
export function operationsPerRequest(perPartition: number): number {
  return Math.min(Math.max(1, perPartition), MAX_BATCH);
}

function requestBytes(
  url: URL,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: Buffer,
): Buffer {
  let head = `${method} ${path} HTTP/1.1\r\nHost: ${url.host}\r\n`;
  for (const [k, v] of Object.entries({ ...BASE_HEADERS, ...headers })) head += `${k}: ${v}\r\n`;
  head += `Content-Length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, "latin1"), body]);
}

/** Every entity as requests of the table's shape (entities in key order). */
export function prebuildWrites(
  endpoint: string,
  table: string,
  entities: Iterable<WireEntity>,
  perPartition: number,
): Prebuilt[] {
  const url = new URL(endpoint);
  const out: Prebuilt[] = [];
  if (perPartition <= 1) {
    for (const e of entities) {
      const body = Buffer.from(entityJson(e));
      const path = keyUrl(`${url.pathname}/${table}`, e.partitionKey, e.rowKey);
      out.push({
        bytes: requestBytes(url, "PUT", path, { "Content-Type": "application/json" }, body),
        operations: 1,
        batch: false,
      });
    }
    return out;
  }
  const tableUrl = `${url.origin}${url.pathname}/${table}`;
  const size = operationsPerRequest(perPartition);
  let ops: Operation[] = [];
  const close = () => {
    if (ops.length === 0) return;
    const { body, contentType } = buildBatchBytes(tableUrl, ops);
    out.push({
      bytes: requestBytes(url, "POST", `${url.pathname}/$batch`, { "Content-Type": contentType }, body),
      operations: ops.length,
      batch: true,
    });
    ops = [];
  };
  for (const entity of entities) {
    if (ops.length >= size || (ops.length > 0 && ops[0].entity.partitionKey !== entity.partitionKey)) close();
    ops.push({ kind: "upsert-replace", entity });
  }
  close();
  return out;
}

export interface WriteResult {
  entities: number;
  requests: number;
  failed: number;
  elapsedMs: number;
  firstError?: string;
}

/** Requests in flight that cover `rttMs` at `entitiesPerSecond` with `operations` per request. */
export function inflightFor(rttMs: number, operations: number, entitiesPerSecond = 25_000): number {
  // A round trip on loopback still takes a little time (and the tool's turn on its CPU): count 2 ms at least.
  const perRequestSeconds = Math.max(rttMs, 2) / 1000;
  return Math.min(2048, Math.max(16, Math.ceil((entitiesPerSecond * perRequestSeconds) / operations)));
}

const CRLF2 = Buffer.from("\r\n\r\n");
const PART_OK = Buffer.from("HTTP/1.1 204");

/**
 * Send every prebuilt request, `inflight` at a time, each on a keep-alive connection of its own, and check
 * every answer: a PUT must get 204, a transaction 202 with a `204` part for each of its operations. A raw
 * HTTP/1.1 client (answers need a Content-Length): the least CPU a client can spend on a request.
 */
export async function sendAll(
  endpoint: string,
  requests: Prebuilt[],
  inflight: number,
): Promise<WriteResult> {
  const url = new URL(endpoint);
  const result: WriteResult = { entities: 0, requests: 0, failed: 0, elapsedMs: 0 };
  let next = 0;
  const done = (r: Prebuilt, ok: boolean, error: string) => {
    result.requests++;
    if (ok) result.entities += r.operations;
    else {
      result.failed += r.operations;
      result.firstError ??= error;
    }
  };
  const worker = () =>
    new Promise<void>((resolve, reject) => {
      const socket = connect({ host: url.hostname, port: Number(url.port), noDelay: true });
      let current: Prebuilt | undefined;
      let chunks: Buffer[] = [];
      let received = 0;
      /** Bytes of the whole answer once its headers are in; -1 before. */
      let need = -1;
      let bodyStart = 0;
      let status = 0;
      const sendNext = () => {
        if (next >= requests.length) {
          current = undefined;
          socket.end();
          resolve();
          return;
        }
        current = requests[next++];
        chunks = [];
        received = 0;
        need = -1;
        socket.write(current.bytes);
      };
      socket.on("connect", sendNext);
      socket.on("data", (chunk: Buffer) => {
        if (!current) return;
        chunks.push(chunk);
        received += chunk.length;
        let answer = chunks.length === 1 ? chunks[0] : undefined;
        if (need < 0) {
          answer ??= Buffer.concat(chunks);
          const end = answer.indexOf(CRLF2);
          if (end < 0) return;
          const head = answer.toString("latin1", 0, end);
          status = Number(head.slice(9, 12));
          const length =
            status === 204 || status === 304 ? ["", "0"] : /\r\ncontent-length:\s*(\d+)/i.exec(head);
          if (!length) {
            reject(new Error(`an answer without Content-Length: ${head.slice(0, 200)}`));
            socket.destroy();
            return;
          }
          bodyStart = end + 4;
          need = bodyStart + Number(length[1]);
        }
        if (received < need) return;
        answer ??= Buffer.concat(chunks);
        const r = current;
        if (!r.batch)
          done(
            r,
            status === 204,
            `HTTP ${status}: ${answer.toString("utf8", bodyStart, Math.min(need, bodyStart + 300))}`,
          );
        else {
          const parts = occurrences(answer.subarray(bodyStart, need), PART_OK);
          done(
            r,
            status === 202 && parts === r.operations,
            `HTTP ${status}, ${parts} of ${r.operations} operations acknowledged: ${answer.toString("utf8", bodyStart, Math.min(need, bodyStart + 300))}`,
          );
        }
        sendNext();
      });
      socket.on("error", reject);
      socket.on("close", () => {
        if (current) reject(new Error("the connection closed before the answer"));
      });
    });
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(inflight, requests.length) }, worker));
  result.elapsedMs = performance.now() - started;
  return result;
}
