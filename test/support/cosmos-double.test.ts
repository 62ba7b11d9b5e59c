// The Cosmos DB for Table double itself, at wire level (signed raw requests, no engine code): each
// behaviour REFERENCE.md records for Cosmos on the wire, and that it still returns every entity once.
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import {
  COSMOS_MAX_REQUEST_BYTES,
  decodeContinuation,
  sevenDigits,
  signedRequest,
  splitValueArray,
  startCosmosDouble,
  TOO_MANY_REQUESTS,
  type CosmosDouble,
} from "./cosmos-double.js";
import { uniqueTable } from "./tables.js";

const azurite = inject("destinationPort");
const ACCOUNT = "devstoreaccount1";
const GUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

let double: CosmosDouble;
beforeAll(async () => {
  double = await startCosmosDouble({ target: azurite });
});
afterAll(async () => {
  await double.stop();
});
afterEach(() => {
  double.configure({
    throttle: undefined,
    pageSize: undefined,
    windowSize: undefined,
    wholeDoubles: "keep",
    emptyPages: false,
  });
});

type Reply = Awaited<ReturnType<typeof signedRequest>>;

/** A signed request through the double (`via: azurite` straight at Azurite). */
function call(
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: string | Buffer } = {},
  via: "double" | "azurite" = "double",
): Promise<Reply> {
  return signedRequest(via === "double" ? double.port : azurite, method, `/${ACCOUNT}/${path}`, init);
}

const json = { "Content-Type": "application/json" };

function keyPath(table: string, pk: string, rk: string): string {
  const enc = (s: string) => encodeURIComponent(s.replace(/'/g, "''"));
  return `${table}(PartitionKey='${enc(pk)}',RowKey='${enc(rk)}')`;
}

async function createTable(table: string): Promise<void> {
  const r = await call("POST", "Tables", {
    headers: { ...json, Prefer: "return-no-content" },
    body: JSON.stringify({ TableName: table }),
  });
  expect(r.status).toBeLessThan(300);
}

interface Op {
  method: string;
  /** Keys in the URL; absent: the table URL (an insert). */
  keys?: [string, string];
  body?: unknown;
  headers?: string[];
}

/** A $batch body as an SDK builds it (CRLF throughout). */
function batchOf(port: number, table: string, ops: Op[]): { body: string; contentType: string } {
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

function sendBatch(table: string, ops: Op[], via: "double" | "azurite" = "double"): Promise<Reply> {
  const { body, contentType } = batchOf(via === "double" ? double.port : azurite, table, ops);
  return call("POST", "$batch", { headers: { "Content-Type": contentType }, body }, via);
}

/** Seed entities straight into Azurite, 100 per transaction. */
async function seed(table: string, entities: Record<string, unknown>[]): Promise<void> {
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
}

function rows(n: number, partitions: number, extra: (i: number) => Record<string, unknown> = () => ({})) {
  return Array.from({ length: n }, (_, i) => ({
    PartitionKey: `p${i % partitions}`,
    RowKey: `r${String(i).padStart(5, "0")}`,
    n: i,
    ...extra(i),
  }));
}

interface Entity {
  PartitionKey: string;
  RowKey: string;
  [k: string]: unknown;
}

/** Follow a query through every page; `echo` encodes the token as a client would. */
async function scan(
  table: string,
  query: Record<string, string> = {},
  echo: (v: string) => string = encodeURIComponent,
): Promise<{ pages: Entity[][]; replies: Reply[] }> {
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
}

const keyOf = (e: Entity) => `${e.PartitionKey}/${e.RowKey}`;
const sorted = (list: Entity[]) =>
  list.every(
    (e, i) =>
      i === 0 ||
      `${list[i - 1].PartitionKey}\u0000${list[i - 1].RowKey}` < `${e.PartitionKey}\u0000${e.RowKey}`,
  );

function cosmosError(r: Reply): { code: string; lang: string; value: string } {
  expect(r.body.endsWith("}\r\n")).toBe(true);
  expect(r.headers["content-type"]).toBe("application/json; odata=fullmetadata");
  const e = (
    JSON.parse(r.body) as { "odata.error": { code: string; message: { lang: string; value: string } } }
  )["odata.error"];
  // The RequestID in the message is the response's own request id.
  expect(e.message.value).toMatch(new RegExp(`\\nRequestID:${r.headers["x-ms-request-id"]}\\n$`));
  return { code: e.code, lang: e.message.lang, value: e.message.value };
}

describe("headers and error bodies", () => {
  it("sends no x-ms-version, no client request id echo and no error code header; JSON is odata=minimalmetadata", async () => {
    const t = uniqueTable("cdHead");
    await createTable(t);
    await call("PUT", keyPath(t, "p", "r"), {
      headers: json,
      body: JSON.stringify({ PartitionKey: "p", RowKey: "r", v: 1 }),
    });
    const r = await call("GET", keyPath(t, "p", "r"), { headers: { "x-ms-client-request-id": "echo-me" } });
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("application/json; odata=minimalmetadata");
    expect(r.headers["x-ms-version"]).toBeUndefined();
    expect(r.headers["x-ms-client-request-id"]).toBeUndefined();
    expect(r.headers["x-ms-request-charge"]).toBeUndefined();
    expect(r.headers["server"]).toBeUndefined();
    expect(r.headers["x-ms-request-id"]).toMatch(new RegExp(`^${GUID}$`));
    expect(r.headers["date"]).toBeTruthy();
    const missing = await call("GET", keyPath(t, "p", "nope"));
    expect(missing.status).toBe(404);
    expect(missing.headers["x-ms-error-code"]).toBeUndefined();
    expect(cosmosError(missing)).toEqual({
      code: "ResourceNotFound",
      lang: "en-us",
      value: `The specified resource does not exist.\nRequestID:${missing.headers["x-ms-request-id"]}\n`,
    });
  });

  it("answers a create of an existing table 409 TableAlreadyExists, 'The specified table already exists.'", async () => {
    const t = uniqueTable("cdExists");
    await createTable(t);
    const again = await call("POST", "Tables", { headers: json, body: JSON.stringify({ TableName: t }) });
    expect(again.status).toBe(409);
    expect(cosmosError(again)).toMatchObject({
      code: "TableAlreadyExists",
      lang: "en-us",
      value: expect.stringMatching(/^The specified table already exists\.\nRequestID:/),
    });
  });
});

describe("Timestamps", () => {
  it("shows 7 fractional digits, the ETag's instant", async () => {
    const t = uniqueTable("cdTs");
    await createTable(t);
    const put = await call("PUT", keyPath(t, "p", "r"), {
      headers: json,
      body: JSON.stringify({ PartitionKey: "p", RowKey: "r" }),
    });
    expect(put.headers["etag"]).toMatch(/^W\/"datetime'\d{4}-\d\d-\d\dT\d\d%3A\d\d%3A\d\d\.\d{7}Z'"$/);
    const got = await call("GET", keyPath(t, "p", "r"));
    const e = JSON.parse(got.body) as { Timestamp: string; "odata.etag": string };
    expect(e.Timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
    expect(decodeURIComponent(e["odata.etag"])).toBe(`W/"datetime'${e.Timestamp}'"`);
    expect(e["odata.etag"]).toBe(put.headers["etag"]);
  });

  it("pads fewer digits to 7, in the Timestamp and the ETag alike", () => {
    const text = `{"odata.etag":"W/\\"datetime'2024-01-02T03%3A04%3A05.12Z'\\"","Timestamp":"2024-01-02T03:04:05.12Z","t2":"2024-01-02T03:04:05Z"}`;
    expect(sevenDigits(text)).toBe(
      `{"odata.etag":"W/\\"datetime'2024-01-02T03%3A04%3A05.1200000Z'\\"","Timestamp":"2024-01-02T03:04:05.1200000Z","t2":"2024-01-02T03:04:05Z"}`,
    );
    expect(sevenDigits(`W/"datetime'2024-01-02T03%3A04%3A05Z'"`)).toBe(
      `W/"datetime'2024-01-02T03%3A04%3A05.0000000Z'"`,
    );
  });

  it("a $filter on Timestamp answers 200 with no rows and no continuation; an unknown table still 404", async () => {
    const t = uniqueTable("cdTsFilter");
    await seed(t, rows(30, 3));
    const filter = encodeURIComponent("Timestamp ge datetime'2000-01-01T00:00:00Z'");
    const r = await call("GET", `${t}()?$filter=${filter}`);
    expect(r.status).toBe(200);
    expect((JSON.parse(r.body) as { value: unknown[] }).value).toEqual([]);
    expect(r.headers["x-ms-continuation-nextpartitionkey"]).toBeUndefined();
    expect(r.headers["x-ms-continuation-nextrowkey"]).toBeUndefined();
    // Azurite itself finds all of them.
    const direct = await call("GET", `${t}()?$filter=${filter}`, {}, "azurite");
    expect((JSON.parse(direct.body) as { value: unknown[] }).value).toHaveLength(30);
    const combined = encodeURIComponent(
      "PartitionKey eq 'p1' and Timestamp lt datetime'2100-01-01T00:00:00Z'",
    );
    expect(JSON.parse((await call("GET", `${t}()?$filter=${combined}`)).body)).toMatchObject({ value: [] });
    const unknown = await call("GET", `${uniqueTable("cdNoTable")}()?$filter=${filter}`);
    expect(unknown.status).toBe(404);
    expect(cosmosError(unknown).code).toBe("TableNotFound");
    expect(double.stats.events["timestamp-filter"]).toBeGreaterThanOrEqual(2);
  });
});

describe("query pages", () => {
  it("continue with a JSON token and NextRowKey NA, unsorted, partitions interleaved, every entity once", async () => {
    const t = uniqueTable("cdPages");
    const all = rows(157, 6);
    await seed(t, all);
    double.configure({ pageSize: 20, windowSize: 50 });
    const { pages, replies } = await scan(t);
    const seen = pages.flat();
    expect(seen.map(keyOf).sort()).toEqual(all.map((e) => `${e.PartitionKey}/${e.RowKey}`).sort());
    expect(new Set(seen.map(keyOf)).size).toBe(157);
    expect(pages.length).toBeGreaterThanOrEqual(8);
    expect(Math.max(...pages.map((p) => p.length))).toBeLessThanOrEqual(20);
    // No page in key order, and each partition spread over several pages that hold other partitions too
    // (a window mixes the partitions it holds; one of 50 entities here holds two or three).
    expect(pages.filter((p) => p.length > 2).every((p) => !sorted(p))).toBe(true);
    for (const pk of ["p0", "p3", "p5"]) {
      const holding = pages.filter((p) => p.some((e) => e.PartitionKey === pk));
      expect(holding.length).toBeGreaterThanOrEqual(3);
      expect(
        holding.filter((p) => new Set(p.map((e) => e.PartitionKey)).size > 1).length,
      ).toBeGreaterThanOrEqual(2);
    }
    // Not "sorted within windows": the order across the scan is not the key order either.
    expect(sorted(seen)).toBe(false);
    for (const r of replies.slice(0, -1)) {
      const token = JSON.parse(r.headers["x-ms-continuation-nextpartitionkey"]) as {
        token: string;
        range: unknown;
      };
      expect(token.range).toEqual({ min: "", max: "FF" });
      expect(token.token).toMatch(/^[A-Za-z0-9+/]+=*$/);
      expect(decodeContinuation(r.headers["x-ms-continuation-nextpartitionkey"])).toBeDefined();
    }
    // Deterministic: the same scan gives the same pages.
    expect((await scan(t)).pages.map((p) => p.map(keyOf))).toEqual(pages.map((p) => p.map(keyOf)));
  });

  it("bounds each window by its end key: keys with quotes, spaces and non-ASCII, writes during the scan", async () => {
    const t = uniqueTable("cdBounds");
    const tricky = ["a'b", "a b", "ü", "Ω x", "z''"];
    const all = Array.from({ length: 75 }, (_, i) => ({
      PartitionKey: tricky[i % tricky.length],
      RowKey: `${tricky[(i * 3) % tricky.length]}-${String(i).padStart(3, "0")}`,
      n: i,
    }));
    await seed(t, all);
    double.configure({ pageSize: 6, windowSize: 16 });
    const pages: Entity[][] = [];
    let next: string | undefined;
    let wrote = false;
    do {
      const r = await call(
        "GET",
        `${t}()${next ? `?NextPartitionKey=${encodeURIComponent(next)}&NextRowKey=NA` : ""}`,
      );
      expect(r.status, r.body).toBe(200);
      pages.push((JSON.parse(r.body) as { value: Entity[] }).value);
      next = r.headers["x-ms-continuation-nextpartitionkey"];
      if (!wrote && pages.length === 3) {
        // New entities in every partition (some in windows already served, some in the one being served).
        wrote = true;
        await seed(
          t,
          tricky.flatMap((pk) =>
            [`${tricky[0]}-0005`, `${tricky[2]}-0500`].map((rk) => ({ PartitionKey: pk, RowKey: rk, n: -1 })),
          ),
        );
      }
    } while (next);
    const seen = pages.flat().filter((e) => e.n !== -1);
    expect(seen.map(keyOf).sort()).toEqual(all.map((e) => `${e.PartitionKey}/${e.RowKey}`).sort());
    const keys = pages.flat().map(keyOf);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("may answer empty pages that still continue (emptyPages)", async () => {
    const t = uniqueTable("cdEmptyPages");
    await seed(t, rows(50, 3));
    double.configure({ pageSize: 8, windowSize: 20, emptyPages: true });
    const { pages } = await scan(t);
    expect(pages.filter((p) => p.length === 0)).toHaveLength(3); // before each of the three windows
    expect(pages[0]).toHaveLength(0);
    expect(pages.at(-1)?.length).toBeGreaterThan(0);
    expect(new Set(pages.flat().map(keyOf)).size).toBe(50);
    expect(pages.flat()).toHaveLength(50);
  });

  it("takes the token back however the client encoded it (form-encoded, or raw JSON)", async () => {
    const t = uniqueTable("cdEcho");
    await seed(t, rows(60, 4));
    double.configure({ pageSize: 9, windowSize: 25 });
    const form = (v: string) => new URLSearchParams({ x: v }).toString().slice(2);
    const goStyle = (v: string) =>
      v.replace(/%/g, "%25").replace(/\+/g, "%2B").replace(/:/g, "%3A").replace(/#/g, "%23");
    for (const echo of [encodeURIComponent, form, goStyle]) {
      const { pages } = await scan(t, {}, echo);
      expect(pages.length).toBeGreaterThan(6);
      expect(new Set(pages.flat().map(keyOf)).size).toBe(60);
      expect(pages.flat()).toHaveLength(60);
    }
  });

  it("with a $filter the token is a query token (+RID:~…#RT:1#TRC:…), and the scan returns exactly the matches", async () => {
    const t = uniqueTable("cdFilter");
    await seed(t, rows(120, 5));
    double.configure({ pageSize: 11, windowSize: 40 });
    const { pages, replies } = await scan(t, { $filter: "n ge 30 and PartitionKey ne 'p2'" });
    const seen = pages.flat();
    expect(seen.map((e) => e.n as number).sort((a, b) => a - b)).toEqual(
      rows(120, 5)
        .filter((e) => e.n >= 30 && e.PartitionKey !== "p2")
        .map((e) => e.n),
    );
    const first = JSON.parse(replies[0].headers["x-ms-continuation-nextpartitionkey"]) as { token: string };
    expect(first.token).toMatch(
      /^\+RID:~[A-Za-z0-9+/]+=*#RT:1#TRC:\d+#ISV:2#IEO:65551#QCF:8#FPC:[A-Za-z0-9+/]+=*$/,
    );
  });

  it("honours $top (a smaller page) and $select (keys only when selected)", async () => {
    const t = uniqueTable("cdTop");
    await seed(
      t,
      rows(40, 2, (i) => ({ s: `v${i}` })),
    );
    const { pages } = await scan(t, { $top: "7", $select: "s" });
    expect(Math.max(...pages.map((p) => p.length))).toBe(7);
    const seen = pages.flat() as unknown as Record<string, unknown>[];
    expect(seen).toHaveLength(40);
    for (const e of seen) {
      expect(Object.keys(e).sort()).toEqual(["odata.etag", "s"]);
    }
    expect(new Set(seen.map((e) => e.s)).size).toBe(40);
  });

  it("is not capped at 1,000 entities a page", async () => {
    const t = uniqueTable("cdBig");
    await seed(t, rows(1_100, 3));
    const { pages } = await scan(t);
    expect(pages).toHaveLength(1);
    expect(pages[0]).toHaveLength(1_100);
    expect(sorted(pages[0])).toBe(false);
  });

  it("answers an empty table with an empty page, and a token it did not issue with 400", async () => {
    const t = uniqueTable("cdEmpty");
    await createTable(t);
    const r = await call("GET", `${t}()`);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ value: [] });
    expect(r.headers["x-ms-continuation-nextpartitionkey"]).toBeUndefined();
    const bad = await call("GET", `${t}()?NextPartitionKey=1!8!cDA-&NextRowKey=1!8!cjA-`);
    expect(bad.status).toBe(400);
    expect(cosmosError(bad).code).toBe("BadRequest");
  });

  it("splits a page body into its entity texts exactly", () => {
    const body = `{"odata.metadata":"m","value":[{"a":"}{\\"","b":{"c":[1,2]}},{"d":1.0}]}`;
    expect(splitValueArray(body)).toEqual({
      metadata: "m",
      items: [`{"a":"}{\\"","b":{"c":[1,2]}}`, `{"d":1.0}`],
    });
    expect(splitValueArray(`{"value":[]}`)).toEqual({ metadata: undefined, items: [] });
    expect(splitValueArray(`{"PartitionKey":"p"}`)).toBeUndefined();
  });
});

describe("$batch", () => {
  /** The parts of a Cosmos batch response, checking its framing on the way. */
  function framing(r: Reply): { inner: string; parts: string[] } {
    expect(r.status).toBe(202);
    const outer = /^multipart\/mixed; boundary=(batchresponse_[0-9a-f-]{36})$/.exec(
      r.headers["content-type"],
    )?.[1];
    expect(outer).toBeDefined();
    expect(
      r.body.startsWith(`--${outer}\r\nContent-Type: multipart/mixed; boundary=changesetresponse_`),
    ).toBe(true);
    const inner = new RegExp(`boundary=(changesetresponse_${GUID})\\r\\n\\r\\n`).exec(r.body)?.[1] as string;
    expect(inner).toBeDefined();
    expect(r.body.endsWith(`--${inner}--\n--${outer}--\r\n`)).toBe(true);
    const parts = r.body.split(`--${inner}`).slice(1, -1);
    for (const p of parts) {
      // MIME part headers end in a bare LF; the inner HTTP status line and headers in CRLF.
      expect(
        p.startsWith("\nContent-Type: application/http\nContent-Transfer-Encoding: binary\n\nHTTP/1.1 "),
      ).toBe(true);
      expect(p).toMatch(/^\n[^\r]*\n\nHTTP\/1\.1 \d{3} [^\r\n]+\r\n/);
    }
    expect(r.headers["x-ms-version"]).toBeUndefined();
    return { inner, parts };
  }

  it("answers success parts 204 No Content with ETag, Preference-Applied and a 1-based Content-ID", async () => {
    const t = uniqueTable("cdBatchOk");
    await seed(t, [
      { PartitionKey: "p", RowKey: "m", keep: "yes", v: 0 },
      { PartitionKey: "p", RowKey: "d" },
    ]);
    const r = await sendBatch(t, [
      { method: "PUT", keys: ["p", "a"], body: { PartitionKey: "p", RowKey: "a", v: 1 } },
      {
        method: "POST",
        body: { PartitionKey: "p", RowKey: "b", v: 2 },
        headers: ["Prefer: return-no-content"],
      },
      // The SDKs' merge: POST with X-HTTP-Method: MERGE (Azurite alone would take it for an insert).
      {
        method: "POST",
        keys: ["p", "m"],
        body: { PartitionKey: "p", RowKey: "m", v: 3 },
        headers: ["X-HTTP-Method: MERGE", "If-Match: *"],
      },
      { method: "MERGE", keys: ["p", "c"], body: { PartitionKey: "p", RowKey: "c", v: 4 } },
      { method: "DELETE", keys: ["p", "d"], headers: ["If-Match: *"] },
    ]);
    const { parts } = framing(r);
    expect(parts).toHaveLength(5);
    parts.forEach((p, i) => {
      expect(p).toContain("HTTP/1.1 204 No Content\r\n");
      expect(p).toContain(`Content-ID: ${i + 1}\r\n\r\n\r\n`);
      if (i !== 4) expect(p).toMatch(/\r\nETag: W\/"datetime'[^']*\.\d{7}Z'"\r\n/);
    });
    expect(parts[1]).toContain("Preference-Applied: return-no-content\r\n");
    expect(parts[1]).toMatch(/Location: [^\r\n]*\(PartitionKey='p',RowKey='b'\)\r\n/);
    const merged = JSON.parse((await call("GET", keyPath(t, "p", "m"))).body) as Record<string, unknown>;
    expect(merged).toMatchObject({ keep: "yes", v: 3 });
    expect((await call("GET", keyPath(t, "p", "d"))).status).toBe(404);
    expect((await call("GET", keyPath(t, "p", "b"))).status).toBe(200);
  });

  it("reports a failure as one part whose message starts with the index, also for 0, and ends with RequestID", async () => {
    const t = uniqueTable("cdBatchFail");
    await seed(t, [{ PartitionKey: "p", RowKey: "x" }]);
    for (const at of [0, 2]) {
      const ops: Op[] = [0, 1, 2].map((i) => ({
        method: "PUT",
        keys: ["p", `n${at}${i}`],
        body: { PartitionKey: "p", RowKey: `n${at}${i}` },
      }));
      ops[at] = {
        method: "POST",
        body: { PartitionKey: "p", RowKey: "x" },
        headers: ["Prefer: return-no-content"],
      };
      const r = await sendBatch(t, ops);
      const { parts } = framing(r);
      expect(parts).toHaveLength(1);
      expect(parts[0]).toMatch(
        /^\n[^\r]*\n\nHTTP\/1\.1 409 Conflict\r\nContent-Type: application\/json;odata=fullmetadata\r\n\r\n\{/,
      );
      const err = JSON.parse(parts[0].slice(parts[0].indexOf("{"))) as {
        "odata.error": { code: string; message: { lang: string; value: string } };
      };
      expect(err["odata.error"].code).toBe("EntityAlreadyExists");
      expect(err["odata.error"].message).toEqual({
        lang: "en-us",
        value: `${at}:The specified entity already exists.\n\nRequestID:${r.headers["x-ms-request-id"]}\n`,
      });
    }
    // Nothing of a failed changeset was written.
    expect((await call("GET", keyPath(t, "p", "n01"))).status).toBe(404);
  });

  it("refuses a reserved property name (500) as the failing part, and writes nothing", async () => {
    const t = uniqueTable("cdBatchEtag");
    await createTable(t);
    for (const name of ["ETag", "etag", "id", "ResourceId"]) {
      const r = await sendBatch(t, [
        { method: "PUT", keys: ["p", "ok"], body: { PartitionKey: "p", RowKey: "ok" } },
        { method: "PUT", keys: ["p", "bad"], body: { PartitionKey: "p", RowKey: "bad", [name]: "x" } },
      ]);
      const { parts } = framing(r);
      expect(parts).toHaveLength(1);
      expect(parts[0]).toContain("HTTP/1.1 500 Internal Server Error\r\n");
      const value = (
        JSON.parse(parts[0].slice(parts[0].indexOf("{"))) as {
          "odata.error": { code: string; message: { value: string } };
        }
      )["odata.error"];
      expect(value.code).toBe("InternalServerError");
      expect(value.message.value).toMatch(
        /^1:The property or indexer 'Microsoft\.Azure\.Documents\.Resource\.\w+' cannot be used in this context because the set accessor is inaccessible\n\nRequestID:/,
      );
    }
    expect((await call("GET", keyPath(t, "p", "ok"))).status).toBe(404);
  });

  it("refuses an empty key (400 PropertiesNeedValue) and a PATCH part (405)", async () => {
    const t = uniqueTable("cdBatchKeys");
    await createTable(t);
    const cases: [Op, number, string][] = [
      [{ method: "POST", body: { PartitionKey: "p", RowKey: "" } }, 400, "PropertiesNeedValue"],
      [
        { method: "PUT", keys: ["p", ""], body: { PartitionKey: "p", RowKey: "" } },
        400,
        "PropertiesNeedValue",
      ],
      [
        { method: "PATCH", keys: ["p", "z"], body: { PartitionKey: "p", RowKey: "z" } },
        405,
        "MethodNotAllowed",
      ],
    ];
    for (const [op, status, code] of cases) {
      const r = await sendBatch(t, [
        op,
        { method: "PUT", keys: ["p", "y"], body: { PartitionKey: "p", RowKey: "y" } },
      ]);
      const { parts } = framing(r);
      expect(parts).toHaveLength(1);
      expect(parts[0]).toContain(`HTTP/1.1 ${status} `);
      const e = (
        JSON.parse(parts[0].slice(parts[0].indexOf("{"))) as {
          "odata.error": { code: string; message: { value: string } };
        }
      )["odata.error"];
      expect(e.code).toBe(code);
      expect(e.message.value).toMatch(/^0:/);
    }
    expect((await call("GET", keyPath(t, "p", "y"))).status).toBe(404);
  });
});

describe("single-entity requests", () => {
  it("PATCH is 405 MethodNotAllowed; MERGE and POST with X-HTTP-Method: MERGE merge", async () => {
    const t = uniqueTable("cdMerge");
    await seed(t, [{ PartitionKey: "p", RowKey: "r", a: 1 }]);
    const patch = await call("PATCH", keyPath(t, "p", "r"), {
      headers: json,
      body: JSON.stringify({ PartitionKey: "p", RowKey: "r", b: 2 }),
    });
    expect(patch.status).toBe(405);
    expect(cosmosError(patch).code).toBe("MethodNotAllowed");
    const merge = await call("MERGE", keyPath(t, "p", "r"), {
      headers: { ...json, "If-Match": "*" },
      body: JSON.stringify({ PartitionKey: "p", RowKey: "r", c: 3 }),
    });
    expect(merge.status).toBe(204);
    expect(merge.headers["etag"]).toMatch(/\.\d{7}Z'"$/);
    const tunnel = await call("POST", keyPath(t, "p", "r"), {
      headers: { ...json, "X-HTTP-Method": "MERGE", "If-Match": "*" },
      body: JSON.stringify({ PartitionKey: "p", RowKey: "r", d: 4 }),
    });
    expect(tunnel.status).toBe(204);
    const e = JSON.parse((await call("GET", keyPath(t, "p", "r"))).body) as Record<string, unknown>;
    expect(e).toMatchObject({ a: 1, c: 3, d: 4 });
    expect(e.b).toBeUndefined();
    expect(double.stats.events.patch).toBeGreaterThanOrEqual(1);
  });

  it("an If-Match with the double's ETag matches; a stale one is 412 in Cosmos words", async () => {
    const t = uniqueTable("cdIfMatch");
    await seed(t, [{ PartitionKey: "p", RowKey: "r", v: 1 }]);
    const etag = (await call("GET", keyPath(t, "p", "r"))).headers["etag"];
    const ok = await call("PUT", keyPath(t, "p", "r"), {
      headers: { ...json, "If-Match": etag },
      body: JSON.stringify({ PartitionKey: "p", RowKey: "r", v: 2 }),
    });
    expect(ok.status).toBe(204);
    const stale = await call("PUT", keyPath(t, "p", "r"), {
      headers: { ...json, "If-Match": etag },
      body: JSON.stringify({ PartitionKey: "p", RowKey: "r", v: 3 }),
    });
    expect(stale.status).toBe(412);
    expect(cosmosError(stale)).toMatchObject({ code: "UpdateConditionNotSatisfied" });
  });

  it("a reserved property name (any case) is 500 InternalServerError naming Microsoft.Azure.Documents.Resource", async () => {
    const t = uniqueTable("cdReserved");
    await createTable(t);
    const put = await call("PUT", keyPath(t, "p", "r"), {
      headers: json,
      body: JSON.stringify({ PartitionKey: "p", RowKey: "r", ETag: "x" }),
    });
    expect(put.status).toBe(500);
    expect(cosmosError(put)).toEqual({
      code: "InternalServerError",
      lang: "en-us",
      value: `The property or indexer 'Microsoft.Azure.Documents.Resource.ETag' cannot be used in this context because the set accessor is inaccessible\nRequestID:${put.headers["x-ms-request-id"]}\n`,
    });
    for (const name of ["etag", "Id", "rid", "resourceid"]) {
      const r = await call("POST", t, {
        headers: json,
        body: JSON.stringify({ PartitionKey: "p", RowKey: name, [name]: 1 }),
      });
      expect(r.status).toBe(500);
    }
    expect(JSON.parse((await call("GET", `${t}()`)).body)).toMatchObject({ value: [] });
  });

  it("an empty key is 400 PropertiesNeedValue (a backend error, with ActivityId); a non-string key 400 InvalidInput", async () => {
    const t = uniqueTable("cdEmptyKey");
    await createTable(t);
    const insert = await call("POST", t, {
      headers: json,
      body: JSON.stringify({ PartitionKey: "", RowKey: "r" }),
    });
    expect(insert.status).toBe(400);
    const rid = insert.headers["x-ms-request-id"];
    expect(cosmosError(insert)).toEqual({
      code: "PropertiesNeedValue",
      lang: "en-us",
      value: `PartitionKey/RowKey cannot be empty\r\nActivityId: ${rid}, documentdb-dotnet-sdk/2.14.0 Host/64-bit MicrosoftWindowsNT/10.0.19041.0\nRequestID:${rid}\n`,
    });
    const put = await call("PUT", keyPath(t, "p", ""), {
      headers: json,
      body: JSON.stringify({ PartitionKey: "p", RowKey: "" }),
    });
    expect(put.status).toBe(400);
    expect(cosmosError(put).code).toBe("PropertiesNeedValue");
    const missing = await call("POST", t, { headers: json, body: JSON.stringify({ PartitionKey: "p" }) });
    expect(cosmosError(missing).code).toBe("PropertiesNeedValue");
    const numeric = await call("POST", t, {
      headers: json,
      body: JSON.stringify({ PartitionKey: "p", RowKey: 5 }),
    });
    expect(numeric.status).toBe(400);
    expect(cosmosError(numeric).code).toBe("InvalidInput");
    // Azurite itself takes empty keys.
    const direct = await call(
      "POST",
      t,
      { headers: json, body: JSON.stringify({ PartitionKey: "", RowKey: "" }) },
      "azurite",
    );
    expect(direct.status).toBe(201);
  });
});

describe("limits and throttling", () => {
  it("refuses a body above 2 MB (a single entity or a $batch) with 413 RequestEntityTooLarge; just below passes", async () => {
    const t = uniqueTable("cdLarge");
    await createTable(t);
    const big = JSON.stringify({ PartitionKey: "p", RowKey: "r", s: "x".repeat(COSMOS_MAX_REQUEST_BYTES) });
    const single = await call("PUT", keyPath(t, "p", "r"), { headers: json, body: big });
    expect(single.status).toBe(413);
    expect(cosmosError(single)).toMatchObject({
      code: "RequestEntityTooLarge",
      value: expect.stringContaining("ActivityId: "),
    });
    // 45 entities of ~48 KB: about 2.2 MB refused; 40 of them (~1.95 MB) accepted.
    const ops = (n: number): Op[] =>
      Array.from({ length: n }, (_, i) => ({
        method: "PUT",
        keys: ["p", `r${i}`],
        body: { PartitionKey: "p", RowKey: `r${i}`, s: "y".repeat(48_000) },
      }));
    const tooLarge = batchOf(double.port, t, ops(45));
    expect(Buffer.byteLength(tooLarge.body)).toBeGreaterThan(COSMOS_MAX_REQUEST_BYTES);
    const refused = await sendBatch(t, ops(45));
    expect(refused.status).toBe(413);
    expect(cosmosError(refused).code).toBe("RequestEntityTooLarge");
    const fits = batchOf(double.port, t, ops(40));
    expect(Buffer.byteLength(fits.body)).toBeLessThan(COSMOS_MAX_REQUEST_BYTES);
    expect((await sendBatch(t, ops(40))).status).toBe(202);
    expect(double.stats.events["too-large"]).toBeGreaterThanOrEqual(2);
  });

  it("throttles every Nth request: 429 TooManyRequests without any retry header, nothing written", async () => {
    const t = uniqueTable("cdThrottle");
    await createTable(t);
    double.configure({ throttle: { everyNth: 3 } });
    const statuses: number[] = [];
    let throttled: Reply | undefined;
    for (let i = 0; i < 6; i++) {
      const r = await call("PUT", keyPath(t, "p", `r${i}`), {
        headers: json,
        body: JSON.stringify({ PartitionKey: "p", RowKey: `r${i}` }),
      });
      statuses.push(r.status);
      if (r.status === 429) throttled ??= r;
    }
    expect(statuses).toEqual([204, 204, 429, 204, 204, 429]);
    const r = throttled as Reply;
    for (const h of ["retry-after", "retry-after-ms", "x-ms-retry-after-ms"])
      expect(r.headers[h]).toBeUndefined();
    const e = cosmosError(r);
    expect(e.code).toBe("TooManyRequests");
    expect(e.value.startsWith(`Message: {"Errors":["${TOO_MANY_REQUESTS}"]}\r\nActivityId: `)).toBe(true);
    expect(e.value).toContain("RequestStartTime: ");
    double.configure({ throttle: undefined });
    const list = JSON.parse((await call("GET", `${t}()`)).body) as { value: Entity[] };
    expect(list.value.map((x) => x.RowKey).sort()).toEqual(["r0", "r1", "r3", "r4"]);
  });

  it("throttles a $batch inside the changeset when asked, and by an RU budget", async () => {
    const t = uniqueTable("cdThrottleBatch");
    await createTable(t);
    double.configure({ throttle: { everyNth: 1, inChangeset: true, match: (r) => r.method === "POST" } });
    const r = await sendBatch(t, [
      { method: "PUT", keys: ["p", "a"], body: { PartitionKey: "p", RowKey: "a" } },
    ]);
    expect(r.status).toBe(202);
    expect(r.body).toContain("HTTP/1.1 429 Too Many Requests\r\n");
    expect(r.body).toMatch(/"value":"0:Message: \{\\"Errors\\":\[\\"Request rate is large/);
    expect(r.headers["x-ms-retry-after-ms"]).toBeUndefined();
    // A budget of 20 RU/s: a burst of writes is throttled after the first second's worth.
    double.configure({ throttle: { ruPerSecond: 20 } });
    const burst = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        call("PUT", keyPath(t, "q", `r${i}`), {
          headers: json,
          body: JSON.stringify({ PartitionKey: "q", RowKey: `r${i}` }),
        }),
      ),
    );
    const codes = burst.map((b) => b.status);
    expect(codes.filter((c) => c === 429).length).toBeGreaterThanOrEqual(6);
    expect(codes.filter((c) => c === 204).length).toBeGreaterThanOrEqual(2);
    expect(burst.every((b) => b.headers["x-ms-retry-after-ms"] === undefined)).toBe(true);
  });
});

describe("whole Doubles", () => {
  it("keeps them by default; with wholeDoubles: int32 a bare 1 typed Edm.Double reads back as a bare 1", async () => {
    const t = uniqueTable("cdDouble");
    await createTable(t);
    const body =
      '{"PartitionKey":"p","RowKey":"r","a@odata.type":"Edm.Double","a":1,"b@odata.type":"Edm.Double","b":1.0}';
    await call("PUT", keyPath(t, "p", "r"), { headers: json, body });
    expect((await call("GET", keyPath(t, "p", "r"))).body).toMatch(/"a":1\.0,"b":1\.0/);
    double.configure({ wholeDoubles: "int32" });
    await call("PUT", keyPath(t, "p", "s"), { headers: json, body: body.replace('"r"', '"s"') });
    const batch = await sendBatch(t, [{ method: "PUT", keys: ["p", "u"], body: body.replace('"r"', '"u"') }]);
    expect(batch.status).toBe(202);
    for (const rk of ["s", "u"]) {
      const text = (await call("GET", keyPath(t, "p", rk))).body;
      expect(text).toMatch(/"a":1,"b":1\.0/);
      expect(text).not.toContain("a@odata.type");
    }
  });
});

describe("stats", () => {
  it("counts requests by method and status, and logs what the double did itself", async () => {
    const t = uniqueTable("cdStats");
    await createTable(t);
    double.resetStats();
    await call("PATCH", keyPath(t, "p", "r"), { headers: json, body: "{}" });
    await call("GET", `${t}()`);
    expect(double.stats).toMatchObject({
      requests: 2,
      byMethod: { PATCH: 1, GET: 1 },
      byStatus: { 405: 1, 200: 1 },
      pages: 1,
    });
    expect(double.requests("PATCH").map((e) => [e.status, e.note])).toEqual([[405, "patch"]]);
  });
});
