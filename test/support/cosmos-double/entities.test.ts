// The double's single-entity requests at wire level: PATCH refused while MERGE (and its POST tunnel)
// merges, If-Match with the double's 7-digit ETags, reserved property names and empty or non-string
// keys refused as Cosmos refuses them, and whole Doubles read back as Int32 when asked.
import { describe, expect, it } from "vitest";
import { uniqueTable } from "../tables.js";
import { cosmosError, json, keyPath, useCosmosDouble } from "./harness.js";

const cosmos = useCosmosDouble();
const { call, createTable, sendBatch, seed } = cosmos;

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
    expect(cosmos.double.stats.events.patch).toBeGreaterThanOrEqual(1);
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

describe("whole Doubles", () => {
  it("keeps them by default; with wholeDoubles: int32 a bare 1 typed Edm.Double reads back as a bare 1", async () => {
    const t = uniqueTable("cdDouble");
    await createTable(t);
    const body =
      '{"PartitionKey":"p","RowKey":"r","a@odata.type":"Edm.Double","a":1,"b@odata.type":"Edm.Double","b":1.0}';
    await call("PUT", keyPath(t, "p", "r"), { headers: json, body });
    expect((await call("GET", keyPath(t, "p", "r"))).body).toMatch(/"a":1\.0,"b":1\.0/);
    cosmos.double.configure({ wholeDoubles: "int32" });
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
