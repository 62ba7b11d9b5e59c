// The double's answers at wire level: no x-ms-version, no echo of the client's request id, no error
// code header, Cosmos's error bodies and wording, Timestamps and ETags with 7 digits, a `$filter` on
// Timestamp answered with no rows.
import { describe, expect, it } from "vitest";
import { sevenDigits } from "../cosmos-double.js";
import { uniqueTable } from "../tables.js";
import { cosmosError, GUID, json, keyPath, rows, useCosmosDouble } from "./harness.js";

const cosmos = useCosmosDouble();
const { call, createTable, seed } = cosmos;

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
    expect(cosmos.double.stats.events["timestamp-filter"]).toBeGreaterThanOrEqual(2);
  });
});
