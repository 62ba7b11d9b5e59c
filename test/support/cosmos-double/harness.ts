// What the double's own tests (*.test.ts here) share: a double in front of the destination Azurite for
// the test file, signed raw requests through it (or straight at Azurite), $batch bodies as an SDK builds
// them, seeding, full scans, and a check of Cosmos's error bodies. No engine code.
import { afterAll, afterEach, beforeAll, expect, inject } from "vitest";
import { signedRequest, startCosmosDouble, type CosmosDouble } from "../cosmos-double.js";

export const ACCOUNT = "devstoreaccount1";
export const GUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
export const json = { "Content-Type": "application/json" };

export type Reply = Awaited<ReturnType<typeof signedRequest>>;
type Init = { headers?: Record<string, string>; body?: string | Buffer };
type Via = "double" | "azurite";

export interface Op {
  method: string;
  /** Keys in the URL; absent: the table URL (an insert). */
  keys?: [string, string];
  body?: unknown;
  headers?: string[];
}

export interface Entity {
  PartitionKey: string;
  RowKey: string;
  [k: string]: unknown;
}

export function keyPath(table: string, pk: string, rk: string): string {
  const enc = (s: string) => encodeURIComponent(s.replace(/'/g, "''"));
  return `${table}(PartitionKey='${enc(pk)}',RowKey='${enc(rk)}')`;
}

/** A $batch body as an SDK builds it (CRLF throughout). */
export function batchOf(port: number, table: string, ops: Op[]): { body: string; contentType: string } {
  const b = "batch_11111111-2222-3333-4444-555555555555";
  const c = "changeset_66666666-7777-8888-9999-000000000000";
  let body = `--${b}\r\nContent-Type: multipart/mixed; boundary=${c}\r\n\r\n`;
  for (const op of ops) {
    const base = `http://127.0.0.1:${port}/${ACCOUNT}/`;
    const url = op.keys ? base + keyPath(table, op.keys[0], op.keys[1]) : base + table;
    const text = op.body === undefined ? "" : typeof op.body === "string" ? op.body : JSON.stringify(op.body);
    body += `--${c}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n`;
    body += `${op.method} ${url} HTTP/1.1\r\nAccept: application/json;odata=minimalmetadata\r\nDataServiceVersion: 3.0\r\n`;
    if (op.body !== undefined) body += "Content-Type: application/json\r\n";
    for (const h of op.headers ?? []) body += `${h}\r\n`;
    body += `\r\n${text}\r\n`;
  }
  body += `--${c}--\r\n--${b}--\r\n`;
  return { body, contentType: `multipart/mixed; boundary=${b}` };
}

export function rows(
  n: number,
  partitions: number,
  extra: (i: number) => Record<string, unknown> = () => ({}),
) {
  return Array.from({ length: n }, (_, i) => ({
    PartitionKey: `p${i % partitions}`,
    RowKey: `r${String(i).padStart(5, "0")}`,
    n: i,
    ...extra(i),
  }));
}

export const keyOf = (e: Entity) => `${e.PartitionKey}/${e.RowKey}`;
export const sorted = (list: Entity[]) =>
  list.every(
    (e, i) =>
      i === 0 ||
      `${list[i - 1].PartitionKey}\u0000${list[i - 1].RowKey}` < `${e.PartitionKey}\u0000${e.RowKey}`,
  );

export function cosmosError(r: Reply): { code: string; lang: string; value: string } {
  expect(r.body.endsWith("}\r\n")).toBe(true);
  expect(r.headers["content-type"]).toBe("application/json; odata=fullmetadata");
  const e = (
    JSON.parse(r.body) as { "odata.error": { code: string; message: { lang: string; value: string } } }
  )["odata.error"];
  // The RequestID in the message is the response's own request id.
  expect(e.message.value).toMatch(new RegExp(`\\nRequestID:${r.headers["x-ms-request-id"]}\\n$`));
  return { code: e.code, lang: e.message.lang, value: e.message.value };
}

export interface DoubleUnderTest {
  /** The test file's double (started in beforeAll, its options put back after each test). */
  readonly double: CosmosDouble;
  /** A signed request through the double (`via: azurite` straight at Azurite). */
  call(method: string, path: string, init?: Init, via?: Via): Promise<Reply>;
  createTable(table: string): Promise<void>;
  sendBatch(table: string, ops: Op[], via?: Via): Promise<Reply>;
  /** Seed entities straight into Azurite, 100 per transaction. */
  seed(table: string, entities: Record<string, unknown>[]): Promise<void>;
  /** Follow a query through every page; `echo` encodes the token as a client would. */
  scan(
    table: string,
    query?: Record<string, string>,
    echo?: (v: string) => string,
  ): Promise<{ pages: Entity[][]; replies: Reply[] }>;
}

/** Start a double for this test file (call at its top level). */
export function useCosmosDouble(): DoubleUnderTest {
  const azurite = inject("destinationPort");
  let started: CosmosDouble | undefined;
  beforeAll(async () => {
    started = await startCosmosDouble({ target: azurite });
  });
  afterAll(async () => {
    await started?.stop();
  });
  afterEach(() => {
    started?.configure({
      throttle: undefined,
      pageSize: undefined,
      windowSize: undefined,
      wholeDoubles: "keep",
      emptyPages: false,
    });
  });
  const double = (): CosmosDouble => {
    if (!started) throw new Error("the double starts in beforeAll");
    return started;
  };

  const call = (method: string, path: string, init: Init = {}, via: Via = "double"): Promise<Reply> =>
    signedRequest(via === "double" ? double().port : azurite, method, `/${ACCOUNT}/${path}`, init);

  const createTable = async (table: string): Promise<void> => {
    const r = await call("POST", "Tables", {
      headers: { ...json, Prefer: "return-no-content" },
      body: JSON.stringify({ TableName: table }),
    });
    expect(r.status).toBeLessThan(300);
  };

  const sendBatch = (table: string, ops: Op[], via: Via = "double"): Promise<Reply> => {
    const { body, contentType } = batchOf(via === "double" ? double().port : azurite, table, ops);
    return call("POST", "$batch", { headers: { "Content-Type": contentType }, body }, via);
  };

  const seed = async (table: string, entities: Record<string, unknown>[]): Promise<void> => {
    await call("POST", "Tables", { headers: json, body: JSON.stringify({ TableName: table }) }, "azurite");
    const byPk = new Map<string, Record<string, unknown>[]>();
    for (const e of entities)
      byPk.set(String(e.PartitionKey), [...(byPk.get(String(e.PartitionKey)) ?? []), e]);
    const sends: Promise<Reply>[] = [];
    for (const group of byPk.values()) {
      for (let i = 0; i < group.length; i += 100) {
        const ops = group
          .slice(i, i + 100)
          .map((e): Op => ({ method: "PUT", keys: [String(e.PartitionKey), String(e.RowKey)], body: e }));
        sends.push(sendBatch(table, ops, "azurite"));
      }
    }
    for (const r of await Promise.all(sends)) {
      expect(r.status).toBe(202);
      expect(r.body).not.toMatch(/HTTP\/1\.1 [45]\d\d/);
    }
  };

  const scan = async (
    table: string,
    query: Record<string, string> = {},
    echo: (v: string) => string = encodeURIComponent,
  ): Promise<{ pages: Entity[][]; replies: Reply[] }> => {
    const pages: Entity[][] = [];
    const replies: Reply[] = [];
    let next: string | undefined;
    for (let i = 0; i < 1000; i++) {
      const params = Object.entries(query).map(([k, v]) => `${k}=${encodeURIComponent(v)}`);
      if (next !== undefined) params.push(`NextPartitionKey=${echo(next)}`, `NextRowKey=NA`);
      const r = await call("GET", `${table}()${params.length ? `?${params.join("&")}` : ""}`);
      expect(r.status, r.body).toBe(200);
      replies.push(r);
      pages.push((JSON.parse(r.body) as { value: Entity[] }).value);
      next = r.headers["x-ms-continuation-nextpartitionkey"];
      if (next === undefined) {
        expect(r.headers["x-ms-continuation-nextrowkey"]).toBeUndefined();
        return { pages, replies };
      }
      expect(r.headers["x-ms-continuation-nextrowkey"]).toBe("NA");
    }
    throw new Error("the scan did not end");
  };

  return {
    get double() {
      return double();
    },
    call,
    createTable,
    sendBatch,
    seed,
    scan,
  };
}
