import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { dmtToInputs, mergeInputs, readDmtFile } from "../../src/config/dmt.js";

const seedBackfill = {
  Source: "AzureTableAPI",
  Sink: "AzureTableAPI",
  SourceSettings: {
    ConnectionString: "__STORAGE__",
    QueryFilter: "Timestamp ge datetime'2024-01-01T00:00:00Z'",
  },
  SinkSettings: {
    ConnectionString: "__COSMOS__",
    WriteMode: "Merge",
    PropertyRenames: [
      { From: "id", To: "entityId" },
      { From: "etag", To: "entityEtag" },
    ],
  },
  Operations: [
    { SourceSettings: { Table: "testmigration" }, SinkSettings: { Table: "testmigration" } },
    { SourceSettings: { Table: "testmigration2" }, SinkSettings: { Table: "other2" } },
  ],
};

describe("dmt migrationsettings.json", () => {
  it("maps the seed's backfill template: tables, connections, write mode, renames; drops the Timestamp watermark", () => {
    const { inputs, notices } = dmtToInputs(seedBackfill);
    expect(inputs).toMatchObject({
      tables: "testmigration,testmigration2:other2",
      "source-connection-string": "__STORAGE__",
      "destination-connection-string": "__COSMOS__",
      "write-mode": "merge",
      "property-renames": "id:entityId,etag:entityEtag",
    });
    expect(inputs["query-filter"]).toBeUndefined();
    expect(notices.join(" ")).toContain("Timestamp watermark");
  });

  it("keeps a real filter, maps Create to insert and UseRbacAuth to endpoints", () => {
    const { inputs } = dmtToInputs({
      Source: "azuretableapi",
      Sink: "AzureTableAPI",
      SourceSettings: {
        UseRbacAuth: true,
        AccountEndpoint: "https://a.table.core.windows.net",
        Table: "t1",
        QueryFilter: "PartitionKey eq 'WI'",
      },
      SinkSettings: {
        UseRbacAuth: true,
        AccountEndpoint: "https://b.table.cosmos.azure.com",
        WriteMode: "Create",
      },
    });
    expect(inputs).toMatchObject({
      tables: "t1",
      "source-endpoint": "https://a.table.core.windows.net",
      "destination-endpoint": "https://b.table.cosmos.azure.com",
      "query-filter": "PartitionKey eq 'WI'",
      "write-mode": "insert",
    });
  });

  it("refuses other extensions, a missing file and invalid JSON with one sentence naming config-file", () => {
    expect(() =>
      dmtToInputs({ Source: "JSON", Sink: "AzureTableAPI", SourceSettings: { Table: "a" } }),
    ).toThrow(/Input 'config-file' .* has Source 'JSON'; only AzureTableAPI is supported/);
    expect(() => readDmtFile("/nonexistent/migrationsettings.json")).toThrow(
      /Input 'config-file' names .* cannot be read/,
    );
    const dir = mkdtempSync(join(tmpdir(), "dmt-"));
    writeFileSync(join(dir, "bad.json"), "{ not json");
    expect(() => readDmtFile(join(dir, "bad.json"))).toThrow(/Input 'config-file' .* is not valid JSON/);
  });

  it("lets explicit inputs win over the file", () => {
    expect(mergeInputs({ tables: "x", "write-mode": "" }, { tables: "y", "write-mode": "merge" })).toEqual({
      tables: "x",
      "write-mode": "merge",
    });
  });
});
