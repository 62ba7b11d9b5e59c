import { describe, expect, it } from "vitest";
import { buildConfig } from "../../src/config/schema.js";

const ok = {
  mode: "full-sync",
  tables: "orders, users:users2\ncarts",
  "source-connection-string": "UseDevelopmentStorage=true",
  "destination-connection-string":
    "DefaultEndpointsProtocol=https;AccountName=dst;AccountKey=a2V5a2V5;TableEndpoint=https://dst.table.cosmos.azure.com:443/;",
};

describe("config", () => {
  it("builds one typed config with defaults", () => {
    const c = buildConfig(ok);
    expect(c.tables).toEqual([
      { source: "orders", destination: "orders" },
      { source: "users", destination: "users2" },
      { source: "carts", destination: "carts" },
    ]);
    expect(c).toMatchObject({
      writeMode: "replace",
      overlapSeconds: 120,
      concurrency: "auto",
      stateStore: "cache",
      stateKey: "table-sync",
    });
    expect(buildConfig({ ...ok, "state-store": "file" }).stateKey).toBe(".table-sync/state.json");
    expect(buildConfig({ ...ok, "state-store": "variable" }).stateKey).toBe("TABLE_SYNC_STATE");
  });

  it.each([
    [{ mode: "" }, "Input 'mode' is required"],
    [
      { mode: "sync" },
      "Input 'mode' is 'sync'; use one of: full-sync, backfill, verify, switch, preflight, status.",
    ],
    [{ tables: " , " }, "Input 'tables' is empty"],
    [{ tables: "a:b:c" }, "Input 'tables' has 'a:b:c', which is not 'name' or 'source:destination'"],
    [{ tables: "1abc" }, "Input 'tables' has '1abc', which is not a valid table name"],
    [{ tables: "abc:dst,xyz:dst" }, "sends both 'abc' and 'xyz' to destination 'dst'"],
    [{ "write-mode": "upsert" }, "Input 'write-mode' is 'upsert'"],
    [{ "property-renames": "id" }, "Input 'property-renames' has 'id', which is not 'from:to'"],
    [
      { "source-endpoint": "https://a.table.core.windows.net" },
      "Both 'source-connection-string' and 'source-endpoint' are set",
    ],
    [
      { "destination-connection-string": "" },
      "Neither 'destination-connection-string' nor 'destination-endpoint' is set",
    ],
    [{ "overlap-seconds": "-5" }, "Input 'overlap-seconds' is '-5'"],
    [{ concurrency: "0" }, "Input 'concurrency' is '0'"],
    [
      { "max-entities-per-second": "0" },
      "Input 'max-entities-per-second' is '0'; use a whole number from 1 to 1000000.",
    ],
    [{ "max-entities-per-second": "2.5" }, "Input 'max-entities-per-second' is '2.5'"],
    [{ since: "yesterday" }, "Input 'since' is 'yesterday'; use an ISO-8601 UTC time"],
    [{ since: "2026-02-30T00:00:00Z" }, "Input 'since' is '2026-02-30T00:00:00Z'; use an ISO-8601 UTC time"],
    [{ since: "2026-01-01T24:30:00Z" }, "Input 'since' is '2026-01-01T24:30:00Z'; use an ISO-8601 UTC time"],
    [
      { concurrency: "0x10" },
      "Input 'concurrency' is '0x10'; use auto (the default) or a whole number from 1 to 2048.",
    ],
    [{ concurrency: "1e2" }, "Input 'concurrency' is '1e2'"],
    [{ "overlap-seconds": "1_0" }, "Input 'overlap-seconds' is '1_0'"],
    [
      { "property-renames": "name:RowKey" },
      "Input 'property-renames' has 'name:RowKey', but RowKey is a system property (PartitionKey, RowKey and Timestamp cannot be renamed or renamed to); remove it.",
    ],
    [{ "property-renames": "PartitionKey:pk" }, "but PartitionKey is a system property"],
    [{ "property-renames": "name:timestamp" }, "but timestamp is a system property"],
    [
      { "property-renames": "name:x,val:X" },
      "Input 'property-renames' renames both 'name' and 'val' to 'X', so one of them would be lost; give each its own name.",
    ],
    [
      { "destination-connection-string": "UseDevelopmentStorage=true", tables: "orders,users:users2" },
      "Input 'tables' copies table 'orders' onto itself: the source and destination are the same account (http://127.0.0.1:10002/devstoreaccount1); point the destination at another account or name another table ('orders:ordersCopy').",
    ],
    [
      {
        "source-connection-string":
          "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=a2V5;EndpointSuffix=core.windows.net",
        "destination-endpoint": "https://A.table.core.windows.net/",
        "destination-connection-string": "",
        tables: "Users:users",
      },
      "Input 'tables' copies table 'Users' onto itself",
    ],
  ])("refuses %j with one sentence", (patch, message) => {
    expect(() => buildConfig({ ...ok, ...patch })).toThrow(message);
  });

  it("copies between two tables of one account, and preflights without a destination", () => {
    const same = { "destination-connection-string": "UseDevelopmentStorage=true" };
    expect(buildConfig({ ...ok, ...same, tables: "orders:orders2" }).tables).toEqual([
      { source: "orders", destination: "orders2" },
    ]);
    const pre = buildConfig({
      ...ok,
      mode: "preflight",
      "destination-connection-string": "",
      "destination-kind": "cosmos",
    });
    expect(pre.destination).toEqual({ kind: "cosmos" });
    expect(() => buildConfig({ ...ok, mode: "verify", "destination-connection-string": "" })).toThrow(
      "Neither 'destination-connection-string' nor 'destination-endpoint' is set",
    );
  });

  it("reads max-entities-per-second: a whole number, or no cap when empty", () => {
    expect(buildConfig(ok).maxEntitiesPerSecond).toBeUndefined();
    expect(buildConfig({ ...ok, "max-entities-per-second": " " }).maxEntitiesPerSecond).toBeUndefined();
    expect(buildConfig({ ...ok, "max-entities-per-second": "1500" }).maxEntitiesPerSecond).toBe(1500);
  });

  it("refuses plain http endpoints except loopback", () => {
    const base = { ...ok, "source-connection-string": "" };
    expect(() => buildConfig({ ...base, "source-endpoint": "http://acct.table.core.windows.net" })).toThrow(
      "Input 'source-endpoint' must use https://",
    );
    expect(
      buildConfig({ ...base, "source-endpoint": "http://127.0.0.1:10002/devstoreaccount1" }).source.endpoint,
    ).toBe("http://127.0.0.1:10002/devstoreaccount1");
  });
});
