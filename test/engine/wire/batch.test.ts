import { describe, expect, it } from "vitest";
import {
  buildBatch,
  keyUrl,
  operationBytes,
  operationPart,
  parseBatchResponse,
  type Operation,
} from "../../../src/engine/wire/batch.js";
import type { WireEntity } from "../../../src/engine/wire/edm.js";
import { prng, randomText } from "../../support/prng.js";

const URL_ = "http://127.0.0.1:10002/devstoreaccount1/orders";
const e = (pk: string, rk: string): WireEntity => ({
  partitionKey: pk,
  rowKey: rk,
  properties: new Map([["n", { type: "Edm.Int32", value: "1" }]]),
});

describe("keyUrl", () => {
  it("doubles quotes, then percent-encodes", () => {
    expect(keyUrl(URL_, "p", "r")).toBe(`${URL_}(PartitionKey='p',RowKey='r')`);
    expect(keyUrl(URL_, "O'Brien", "it''s")).toBe(`${URL_}(PartitionKey='O''Brien',RowKey='it''''s')`);
    expect(keyUrl(URL_, "100% a+b", "x/y?z#w")).toBe(
      `${URL_}(PartitionKey='100%25%20a%2Bb',RowKey='x%2Fy%3Fz%23w')`,
    );
    expect(keyUrl(URL_, "ü😀", "")).toBe(`${URL_}(PartitionKey='%C3%BC%F0%9F%98%80',RowKey='')`);
  });

  it("decodes back to the keys", () => {
    for (const [pk, rk] of [
      ["a',b", "c'd"],
      ["=&;", " sp "],
      ["中", "''"],
    ]) {
      const m = /\(PartitionKey='(.*)',RowKey='(.*)'\)$/.exec(keyUrl(URL_, pk, rk))!;
      expect(decodeURIComponent(m[1]).replace(/''/g, "'")).toBe(pk);
      expect(decodeURIComponent(m[2]).replace(/''/g, "'")).toBe(rk);
    }
  });
});

describe("operation parts", () => {
  const body = '{"PartitionKey":"p","RowKey":"r","n":1}';

  it.each([
    [
      "insert",
      `POST ${URL_} HTTP/1.1`,
      ["Content-Type: application/json", "Prefer: return-no-content"],
      true,
    ],
    [
      "upsert-replace",
      `PUT ${URL_}(PartitionKey='p',RowKey='r') HTTP/1.1`,
      ["Content-Type: application/json"],
      true,
    ],
    [
      "upsert-merge",
      `MERGE ${URL_}(PartitionKey='p',RowKey='r') HTTP/1.1`,
      ["Content-Type: application/json"],
      true,
    ],
    ["update-replace", `PUT ${URL_}(PartitionKey='p',RowKey='r') HTTP/1.1`, ['If-Match: W/"etag"'], true],
    ["update-merge", `MERGE ${URL_}(PartitionKey='p',RowKey='r') HTTP/1.1`, ['If-Match: W/"etag"'], true],
    ["delete", `DELETE ${URL_}(PartitionKey='p',RowKey='r') HTTP/1.1`, ['If-Match: W/"etag"'], false],
  ] as const)("%s", (kind, line, headers, hasBody) => {
    const op: Operation = {
      kind,
      entity: e("p", "r"),
      ifMatch: kind.startsWith("upsert") || kind === "insert" ? undefined : 'W/"etag"',
    };
    const part = operationPart(URL_, op);
    expect(
      part.startsWith("Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"),
    ).toBe(true);
    expect(part).toContain(`\r\n${line}\r\n`);
    for (const h of headers) expect(part).toContain(`\r\n${h}`);
    if (kind.startsWith("upsert") || kind === "insert") expect(part).not.toContain("If-Match");
    expect(part.endsWith(`\r\n\r\n${hasBody ? body : ""}\r\n`)).toBe(true);
    expect(operationBytes(URL_, op)).toBe(Buffer.byteLength(part) + 64);
  });

  it("uses If-Match: * when no ETag is given", () => {
    expect(operationPart(URL_, { kind: "delete", entity: e("p", "r") })).toContain("If-Match: *");
  });

  it("counts bytes, not characters", () => {
    const op: Operation = {
      kind: "upsert-replace",
      entity: {
        partitionKey: "é",
        rowKey: "😀",
        properties: new Map([["s", { type: "Edm.String", value: "中" }]]),
      },
    };
    expect(operationBytes(URL_, op)).toBe(Buffer.byteLength(operationPart(URL_, op)) + 64);
    expect(operationBytes(URL_, op)).toBeGreaterThan(operationPart(URL_, op).length + 64);
  });

  it("measures every kind of key as the part it builds, without building it", () => {
    const random = prng(11);
    const alphabet = [
      "a",
      "Z",
      "9",
      "-",
      "_",
      ".",
      "!",
      "~",
      "*",
      "(",
      ")",
      "'",
      " ",
      "%",
      "/",
      "#",
      "?",
      "é",
      "中",
      "😀",
      "+",
      "&",
      "=",
    ];
    const key = () => randomText(random, alphabet, 12);
    const kinds: Operation["kind"][] = [
      "upsert-replace",
      "upsert-merge",
      "insert",
      "update-replace",
      "update-merge",
      "delete",
    ];
    for (let i = 0; i < 2_000; i++) {
      const kind = kinds[i % kinds.length];
      const op: Operation = {
        kind,
        entity: e(key(), key()),
        ifMatch: i % 7 === 0 ? `W/"${key()}"` : undefined,
      };
      expect(operationBytes(URL_, op), JSON.stringify(op.entity)).toBe(
        Buffer.byteLength(operationPart(URL_, op)) + 64,
      );
    }
    // Another table's URL is measured as its own.
    const other: Operation = { kind: "upsert-replace", entity: e("p", "r") };
    expect(operationBytes(`${URL_}longer`, other)).toBe(
      Buffer.byteLength(operationPart(`${URL_}longer`, other)) + 64,
    );
  });
});

describe("buildBatch", () => {
  it("frames one changeset with every operation, inside one batch boundary", () => {
    const ops: Operation[] = [0, 1, 2].map((i) => ({ kind: "upsert-replace", entity: e("p", `r${i}`) }));
    const { body, contentType } = buildBatch(URL_, ops);
    const batch = /^multipart\/mixed; boundary=(batch_[0-9a-f-]{36})$/.exec(contentType)![1];
    const changeset = /boundary=(changeset_[0-9a-f-]{36})\r\n/.exec(body)![1];
    expect(
      body.startsWith(`--${batch}\r\nContent-Type: multipart/mixed; boundary=${changeset}\r\n\r\n`),
    ).toBe(true);
    expect(body.endsWith(`--${changeset}--\r\n--${batch}--\r\n`)).toBe(true);
    const parts = body.split(`--${changeset}\r\n`).slice(1);
    expect(parts).toHaveLength(3);
    parts.forEach((p, i) => expect(p.replace(/--changeset_[\s\S]*$/, "")).toBe(operationPart(URL_, ops[i])));
    // Fresh boundaries every time.
    expect(buildBatch(URL_, ops).contentType).not.toBe(contentType);
  });

  it("measures a transaction as the sum of its operations (within the framing margin)", () => {
    const ops: Operation[] = Array.from({ length: 100 }, (_, i) => ({
      kind: "upsert-merge",
      entity: e("p", `r${i}`),
    }));
    const measured = ops.reduce((n, op) => n + operationBytes(URL_, op), 0);
    const actual = Buffer.byteLength(buildBatch(URL_, ops).body);
    expect(measured).toBeGreaterThanOrEqual(actual - 200);
  });
});

function response(parts: { status: string; headers?: string[]; body?: string }[]): string {
  const cs = "changesetresponse_1";
  let out = `--batchresponse_1\r\nContent-Type: multipart/mixed; boundary=${cs}\r\n\r\n`;
  for (const p of parts) {
    out +=
      `--${cs}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n` +
      `HTTP/1.1 ${p.status}\r\n${(p.headers ?? ["X-Content-Type-Options: nosniff"]).join("\r\n")}\r\n\r\n${p.body ?? ""}\r\n`;
  }
  return out + `--${cs}--\r\n--batchresponse_1--\r\n`;
}

describe("parseBatchResponse", () => {
  it("reads every status and ETag of a successful transaction", () => {
    const body = response([
      {
        status: "204 No Content",
        headers: ["Content-ID: 1", "ETag: W/\"datetime'2024-01-01T00%3A00%3A00.1Z'\""],
      },
      { status: "204 No Content", headers: ["Content-ID: 2", 'etag: W/"b"'] },
    ]);
    expect(parseBatchResponse(body, 2)).toEqual({
      ok: true,
      statuses: [204, 204],
      etags: ["W/\"datetime'2024-01-01T00%3A00%3A00.1Z'\"", 'W/"b"'],
    });
  });

  it("reads the failing operation: index, status, code and message without request ids", () => {
    const body = response([
      {
        status: "400 Bad Request",
        headers: ["Content-ID: 1", "Content-Type: application/json;odata=minimalmetadata;charset=utf-8"],
        body: JSON.stringify({
          "odata.error": {
            code: "PropertyValueTooLarge",
            message: {
              lang: "en-US",
              value: "37:The property value exceeds the maximum.\nRequestId:abc\nTime:2024-01-01",
            },
          },
        }),
      },
    ]);
    expect(parseBatchResponse(body, 100)).toEqual({
      ok: false,
      statuses: [400],
      etags: [undefined],
      status: 400,
      code: "PropertyValueTooLarge",
      message: "The property value exceeds the maximum.",
      failedIndex: 37,
    });
  });

  it("reads an XML error, and drops an index the transaction does not have", () => {
    const body = response([
      {
        status: "409 Conflict",
        body: '<?xml version="1.0"?><error><Code>EntityAlreadyExists</Code><Message>5:The specified entity already exists.</Message></error>',
      },
    ]);
    const out = parseBatchResponse(body, 3);
    expect(out).toMatchObject({
      ok: false,
      status: 409,
      code: "EntityAlreadyExists",
      message: "The specified entity already exists.",
    });
    expect(out.failedIndex).toBeUndefined();
  });

  it("reports a failure without an index, and an answer with too few operations", () => {
    const noIndex = response([
      {
        status: "503 Server Busy",
        body: '{"odata.error":{"code":"ServerBusy","message":{"value":"Busy."}}}',
      },
    ]);
    expect(parseBatchResponse(noIndex, 2)).toMatchObject({
      ok: false,
      status: 503,
      code: "ServerBusy",
      message: "Busy.",
    });
    expect(parseBatchResponse(noIndex, 2).failedIndex).toBeUndefined();
    const short = response([{ status: "204 No Content" }]);
    expect(parseBatchResponse(short, 2)).toEqual({
      ok: false,
      statuses: [204],
      etags: [undefined],
      message: "the service answered 1 of 2 operations",
    });
    expect(parseBatchResponse("", 1)).toMatchObject({ ok: false, statuses: [] });
  });
});
