// The double's $batch at wire level: Cosmos's framing (bare-LF MIME headers, CRLF inner lines), success
// parts 204 with ETag, Preference-Applied and a 1-based Content-ID, a failure as one `N:` part, and what
// Cosmos refuses inside a changeset (reserved names, empty keys, PATCH) with nothing written.
import { describe, expect, it } from "vitest";
import { uniqueTable } from "../tables.js";
import { GUID, keyPath, type Op, type Reply, useCosmosDouble } from "./harness.js";

const cosmos = useCosmosDouble();
const { call, createTable, sendBatch, seed } = cosmos;

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
