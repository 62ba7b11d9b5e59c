// The bench's free sink: a Table Storage destination that acknowledges every write at once and keeps
// nothing but counts. `$batch` gets a 202 with one `HTTP/1.1 204 No Content` part per operation, exactly
// as Table Storage answers a successful entity group transaction; a single-entity PUT, MERGE (also as POST
// with `X-HTTP-Method: MERGE`), insert (POST) or DELETE gets a 204 with an ETag. It remembers which keys it
// acknowledged, so the bench can check that a copy wrote every entity (and count retried ones).
//
// It also answers the rest a sync sends: `GET Tables('x')` (200: every table exists), `POST Tables`
// (201, then 409), a point read (404: nothing is stored) and a query (an empty page). Requests arrive
// signed; the signature is not checked. Anything else is answered 501 and counted in `unexpected`.
import { randomUUID } from "node:crypto";
import {
  ACCOUNT,
  STORAGE_VERSION,
  accountPath,
  entityPath,
  errorAnswer,
  etagOf,
  httpDate,
  tableOfTablesPath,
  timestampAt,
} from "./free-wire.js";
import { closeRaw, listenRaw, type RawAnswer, type RawRequest, type RawServer } from "./raw-http.js";

export interface SinkStats {
  requests: number;
  /** `$batch` requests and the operations in them. */
  batches: number;
  batchOperations: number;
  /** Single-entity writes (PUT, MERGE, POST). */
  singleWrites: number;
  deletes: number;
  /** Writes acknowledged in all (operations in batches plus single-entity writes). */
  acknowledged: number;
  /** Distinct entity keys written. */
  distinct: number;
  /** performance.timeOrigin-relative ms of the first and the latest acknowledgement (0: none yet). */
  firstAt: number;
  lastAt: number;
  unexpected: number;
  unexpectedSeen: string[];
}

const BATCH_REQUEST_LINE = /\n(PUT|MERGE|POST|DELETE|PATCH) (\S+) HTTP\/1\.1\r?\n/g;
const KEYS_IN_URL = /\(PartitionKey='((?:[^']|'')*)',\s*RowKey='((?:[^']|'')*)'\)$/;
const KEYS_IN_BODY = /"PartitionKey"\s*:\s*"((?:[^"\\]|\\.)*)"[\s\S]*?"RowKey"\s*:\s*"((?:[^"\\]|\\.)*)"/;

export class FreeSink {
  readonly stats: SinkStats = FreeSink.emptyStats();
  private readonly keys = new Set<string>();
  private readonly tables = new Set<string>();
  /** A 202 body per operation count, rebuilt when its second is over (each batch gets that second's ETag). */
  private readonly responses = new Map<number, { second: number; body: Buffer; contentType: string }>();
  private sequence = 0;

  private constructor(private readonly server: RawServer) {}

  static async start(): Promise<FreeSink> {
    const holder: { self?: FreeSink } = {};
    const server = await listenRaw((req) => holder.self!.handle(req));
    holder.self = new FreeSink(server);
    return holder.self;
  }

  get port(): number {
    return this.server.port;
  }

  private static emptyStats(): SinkStats {
    return {
      requests: 0,
      batches: 0,
      batchOperations: 0,
      singleWrites: 0,
      deletes: 0,
      acknowledged: 0,
      distinct: 0,
      firstAt: 0,
      lastAt: 0,
      unexpected: 0,
      unexpectedSeen: [],
    };
  }

  /** The table endpoint, `http://127.0.0.1:<port>/devstoreaccount1`. */
  get url(): string {
    return `http://127.0.0.1:${this.port}/${ACCOUNT}`;
  }

  /** Forget every count, key and table. */
  reset(): void {
    Object.assign(this.stats, FreeSink.emptyStats());
    this.keys.clear();
    this.tables.clear();
  }

  /** Whether an entity with these keys was written (keys as sent: quotes undoubled, not URL-decoded). */
  has(partitionKey: string, rowKey: string): boolean {
    return this.keys.has(`${partitionKey}\u0000${rowKey}`);
  }

  async stop(): Promise<void> {
    await closeRaw(this.server);
  }

  private written(partitionKey: string | undefined, rowKey: string | undefined): void {
    this.stats.acknowledged++;
    if (partitionKey !== undefined && rowKey !== undefined) {
      this.keys.add(`${partitionKey}\u0000${rowKey}`);
      this.stats.distinct = this.keys.size;
    }
  }

  private acknowledgedNow(): void {
    const now = performance.now();
    if (this.stats.firstAt === 0) this.stats.firstAt = now;
    this.stats.lastAt = now;
  }

  private handle(req: RawRequest): RawAnswer {
    this.stats.requests++;
    const method = req.method;
    const target = accountPath(req.url);
    const unexpected = () => {
      this.stats.unexpected++;
      if (this.stats.unexpectedSeen.length < 10) this.stats.unexpectedSeen.push(`${method} ${req.url}`);
      return errorAnswer(
        501,
        "NotImplemented",
        `The bench's free sink does not answer ${method} ${req.url}.`,
      );
    };
    if (!target) return unexpected();
    const { path } = target;
    if (path === "$batch" && method === "POST") return this.batch(req.body);
    const keyed = entityPath(path);
    const effective = method === "POST" && keyed ? (req.headers["x-http-method"] ?? "") : method;
    if (keyed && (effective === "PUT" || effective === "MERGE" || effective === "PATCH")) {
      this.stats.singleWrites++;
      this.written(keyed.partitionKey, keyed.rowKey);
      this.acknowledgedNow();
      return this.noContent();
    }
    if (keyed && effective === "DELETE") {
      this.stats.deletes++;
      this.acknowledgedNow();
      return this.noContent();
    }
    if (keyed && method === "GET")
      return errorAnswer(404, "ResourceNotFound", "The specified resource does not exist.");
    const named = tableOfTablesPath(path);
    if (named !== undefined && method === "GET") return this.json(200, JSON.stringify({ TableName: named }));
    if (path === "Tables" && method === "POST") {
      let name: unknown;
      try {
        name = (JSON.parse(req.body.toString("utf8")) as { TableName?: unknown }).TableName;
      } catch {
        name = undefined;
      }
      if (typeof name !== "string") return errorAnswer(400, "InvalidInput", "The table name is missing.");
      if (this.tables.has(name))
        return errorAnswer(409, "TableAlreadyExists", "The table specified already exists.");
      this.tables.add(name);
      return {
        status: 204,
        headers: `Cache-Control: no-cache\r\nDate: ${httpDate()}\r\nPreference-Applied: return-no-content\r\nx-ms-version: ${STORAGE_VERSION}\r\n`,
      };
    }
    const table = /^([A-Za-z][A-Za-z0-9]*)(\(\))?$/.exec(path)?.[1];
    if (table !== undefined && method === "POST") {
      // An insert: the keys are in the body.
      const m = KEYS_IN_BODY.exec(req.body.toString("utf8"));
      this.stats.singleWrites++;
      this.written(m?.[1], m?.[2]);
      this.acknowledgedNow();
      return this.noContent("Preference-Applied: return-no-content\r\n");
    }
    if (table !== undefined && method === "GET")
      return this.json(200, `{"odata.metadata":"${this.url}/$metadata#${table}","value":[]}`);
    return unexpected();
  }

  private noContent(extra = ""): RawAnswer {
    return {
      status: 204,
      headers:
        `Cache-Control: no-cache\r\nDate: ${httpDate()}\r\nETag: ${etagOf(timestampAt(this.sequence++))}\r\n` +
        `x-ms-version: ${STORAGE_VERSION}\r\nX-Content-Type-Options: nosniff\r\n${extra}`,
    };
  }

  private json(status: number, body: string): RawAnswer {
    return {
      status,
      headers:
        "Content-Type: application/json;odata=minimalmetadata;streaming=true;charset=utf-8\r\n" +
        `Date: ${httpDate()}\r\nx-ms-version: ${STORAGE_VERSION}\r\n`,
      body,
    };
  }

  /** Count a transaction's operations (and their keys) and acknowledge every one. */
  private batch(body: Buffer): RawAnswer {
    const text = body.toString("latin1");
    let operations = 0;
    BATCH_REQUEST_LINE.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = BATCH_REQUEST_LINE.exec(text)) !== null) {
      operations++;
      if (m[1] === "DELETE") {
        this.stats.deletes++;
        continue;
      }
      const inUrl = KEYS_IN_URL.exec(m[2]);
      if (inUrl) {
        // Percent-decoded and quotes undoubled, as a single-entity request's keys are.
        this.written(
          decodeURIComponent(inUrl[1]).replace(/''/g, "'"),
          decodeURIComponent(inUrl[2]).replace(/''/g, "'"),
        );
        continue;
      }
      // An insert: the keys are in this part's body (up to the next boundary).
      const end = text.indexOf("\n--", BATCH_REQUEST_LINE.lastIndex);
      const part = text.slice(BATCH_REQUEST_LINE.lastIndex, end < 0 ? undefined : end);
      const keys = KEYS_IN_BODY.exec(Buffer.from(part, "latin1").toString("utf8"));
      this.written(keys?.[1], keys?.[2]);
    }
    if (operations === 0) return errorAnswer(400, "InvalidInput", "The batch request holds no operations.");
    this.stats.batches++;
    this.stats.batchOperations += operations;
    this.acknowledgedNow();
    const second = Math.floor(Date.now() / 1000);
    let response = this.responses.get(operations);
    if (!response || response.second !== second) {
      response = { second, ...batchResponse(operations, timestampAt(this.sequence++)) };
      this.responses.set(operations, response);
    }
    return {
      status: 202,
      headers:
        `Cache-Control: no-cache\r\nContent-Type: ${response.contentType}\r\nDate: ${httpDate()}\r\n` +
        `x-ms-version: ${STORAGE_VERSION}\r\nX-Content-Type-Options: nosniff\r\n`,
      body: response.body,
    };
  }
}

/** Table Storage's answer to a successful transaction of `n` operations (one Timestamp for all of them). */
export function batchResponse(n: number, timestamp: string): { body: Buffer; contentType: string } {
  const batch = `batchresponse_${randomUUID()}`;
  const changeset = `changesetresponse_${randomUUID()}`;
  const etag = etagOf(timestamp);
  let out = `--${batch}\r\nContent-Type: multipart/mixed; boundary=${changeset}\r\n\r\n`;
  for (let i = 1; i <= n; i++) {
    out +=
      `--${changeset}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n` +
      `HTTP/1.1 204 No Content\r\nX-Content-Type-Options: nosniff\r\nCache-Control: no-cache\r\n` +
      `DataServiceVersion: 1.0;\r\nContent-ID: ${i}\r\nETag: ${etag}\r\n\r\n\r\n`;
  }
  out += `--${changeset}--\r\n--${batch}--\r\n`;
  return { body: Buffer.from(out, "latin1"), contentType: `multipart/mixed; boundary=${batch}` };
}
