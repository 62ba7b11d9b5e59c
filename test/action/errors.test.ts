// Inputs that are wrong on purpose and runtime failures, through the bundled action: each gives one
// sentence naming the input (or the table and side) and the fix, exit code 1, and writes nothing.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, expect, inject, it } from "vitest";
import { runAction } from "../support/run-action.js";
import { httpFor, seedEntities, simpleEntity, uniqueTable } from "../support/tables.js";
import { AZURITE_ACCOUNT } from "../support/azurite.js";

const src = () => inject("sourceConnectionString");
const dst = () => inject("destinationConnectionString");

async function tableExists(cs: string, table: string): Promise<boolean> {
  const http = httpFor(cs);
  const res = await http.send({
    method: "GET",
    url: `${http.url}/Tables('${table}')`,
    headers: { Accept: "application/json" },
  });
  return res.status === 200;
}

/** The ::error:: line the runner turns into the step's failure. */
function errorLine(stdout: string): string {
  const lines = stdout.split("\n").filter((l) => l.startsWith("::error::"));
  expect(lines, stdout).toHaveLength(1);
  return lines[0].slice("::error::".length);
}

const workspace = mkdtempSync(join(tmpdir(), "ws-errors-"));
writeFileSync(join(workspace, "notjson.json"), "{ nope");
writeFileSync(
  join(workspace, "cosmos-sql.json"),
  JSON.stringify({ Source: "AzureTableAPI", Sink: "Cosmos-nosql", SourceSettings: { Table: "abc" } }),
);

const cases: [string, Record<string, string>, string][] = [
  [
    "unknown mode",
    { mode: "sync" },
    "Input 'mode' is 'sync'; use one of: full-sync, backfill, verify, switch, preflight, status.",
  ],
  [
    "unknown write mode",
    { "write-mode": "upsert" },
    "Input 'write-mode' is 'upsert'; use one of: replace, merge, insert.",
  ],
  [
    "empty tables",
    { tables: " , " },
    "Input 'tables' is empty: give table names separated by commas, e.g. 'orders,users:users2'.",
  ],
  [
    "invalid table name",
    { tables: "1orders" },
    "Input 'tables' has '1orders', which is not a valid table name (3–63 letters or digits, starting with a letter).",
  ],
  [
    "bad source:destination",
    { tables: "a1b:c2d:e3f" },
    "Input 'tables' has 'a1b:c2d:e3f', which is not 'name' or 'source:destination'; write e.g. 'users:users2'.",
  ],
  [
    "bad from:to",
    { "property-renames": "id" },
    "Input 'property-renames' has 'id', which is not 'from:to'; write e.g. 'id:entityId'.",
  ],
  [
    "duplicate destinations",
    { tables: "orders:all1,users:all1" },
    "Input 'tables' sends both 'orders' and 'users' to destination 'all1'; give each a different destination.",
  ],
  [
    "connection string missing its key",
    {
      "source-connection-string":
        "DefaultEndpointsProtocol=https;AccountName=acct;EndpointSuffix=core.windows.net",
    },
    "Input 'source-connection-string' has neither AccountKey nor SharedAccessSignature; copy the whole connection string from the portal (Access keys or Shared access signature).",
  ],
  [
    "key that is not base64",
    {
      "destination-connection-string":
        "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=not*base64!;EndpointSuffix=core.windows.net",
    },
    "Input 'destination-connection-string' has an AccountKey that is not base64 (cut short, or with extra characters); copy the key again from the portal.",
  ],
  [
    "connection string and endpoint",
    { "source-endpoint": "https://acct.table.core.windows.net" },
    "Both 'source-connection-string' and 'source-endpoint' are set; keep one (the endpoint uses Entra ID).",
  ],
  [
    "http endpoint that is not loopback",
    { "destination-connection-string": "", "destination-endpoint": "http://acct.table.cosmos.azure.com" },
    "Input 'destination-endpoint' must use https:// (plain http is allowed only for a local emulator).",
  ],
  [
    "http TableEndpoint that is not loopback",
    { "source-connection-string": "AccountName=acct;AccountKey=a2V5;TableEndpoint=http://acct.example.com/" },
    "Input 'source-connection-string' points at http://acct.example.com; use https:// (plain http is allowed only for a local emulator).",
  ],
  [
    "since not ISO-8601 UTC",
    { mode: "backfill", since: "2024-05-01 12:00" },
    "Input 'since' is '2024-05-01 12:00'; use an ISO-8601 UTC time such as 2024-05-01T12:00:00Z.",
  ],
  [
    "since in the future",
    { mode: "backfill", since: "2999-01-01T00:00:00Z" },
    "Input 'since' is '2999-01-01T00:00:00Z', which lies in the future; use a past UTC time.",
  ],
  [
    "negative overlap",
    { "overlap-seconds": "-5" },
    "Input 'overlap-seconds' is '-5'; use a whole number from 0 to 86400.",
  ],
  [
    "concurrency zero",
    { concurrency: "0" },
    "Input 'concurrency' is '0'; use auto (the default) or a whole number from 1 to 2048.",
  ],
  [
    "shard out of range",
    { shard: "5/4" },
    "Input 'shard' is '5/4', which is out of range; the shard i must be from 1 to 4 (i/n counts from 1).",
  ],
  [
    "shard not i/n",
    { shard: "first" },
    "Input 'shard' is 'first'; write i/n, e.g. '2/4' for the second of four shards",
  ],
  [
    "client-id without tenant-id",
    { "client-id": "00000000-0000-0000-0000-000000000001" },
    "Input 'client-id' is set but 'tenant-id' is not; the OIDC login needs both (or neither, to sign in with DefaultAzureCredential, e.g. after azure/login).",
  ],
  [
    "tenant-id without client-id",
    { "tenant-id": "00000000-0000-0000-0000-000000000002" },
    "Input 'tenant-id' is set but 'client-id' is not; the OIDC login needs both (or neither, to sign in with DefaultAzureCredential, e.g. after azure/login).",
  ],
  [
    "config file missing",
    { tables: "", "config-file": "missing.json" },
    "Input 'config-file' names 'missing.json', which cannot be read; check the path.",
  ],
  [
    "config file not JSON",
    { tables: "", "config-file": "notjson.json" },
    "Input 'config-file' ('notjson.json') is not valid JSON",
  ],
  [
    "config file for another extension",
    { tables: "", "config-file": "cosmos-sql.json" },
    "Input 'config-file' ('cosmos-sql.json') has Sink 'Cosmos-nosql'; only AzureTableAPI is supported for both Source and Sink.",
  ],
];

describe("inputs wrong on purpose", () => {
  it.each(cases)("%s", async (_name, patch, message) => {
    const t = uniqueTable("inp");
    await seedEntities(src(), t, [simpleEntity("p", "1", { v: 1 })]);
    const inputs: Record<string, string> = {
      mode: "full-sync",
      tables: t,
      "source-connection-string": src(),
      "destination-connection-string": dst(),
      "state-store": "file",
      ...patch,
    };
    const r = await runAction(inputs, { workspace });
    expect(r.code).toBe(1);
    expect(errorLine(r.stdout)).toContain(message);
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at [\w.<>]+ \(/); // no stack trace
    expect(await tableExists(dst(), t)).toBe(false); // nothing written
  });
});

describe("Entra ID login", () => {
  it("client-id and tenant-id in a job without id-token: write: one sentence with the permission, nothing read", async () => {
    const t = uniqueTable("oidc");
    await seedEntities(src(), t, [simpleEntity("p", "1", { v: 1 })]);
    // runAction gives no ACTIONS_ID_TOKEN_REQUEST_URL: the job has no `id-token: write`.
    const r = await runAction(
      {
        mode: "full-sync",
        tables: t,
        "source-endpoint": `http://127.0.0.1:${inject("sourcePort")}/${AZURITE_ACCOUNT}`,
        "destination-endpoint": `http://127.0.0.1:${inject("destinationPort")}/${AZURITE_ACCOUNT}`,
        "client-id": "00000000-0000-0000-0000-000000000001",
        "tenant-id": "00000000-0000-0000-0000-000000000002",
        "state-store": "file",
      },
      { workspace },
    );
    expect(r.code).toBe(1);
    expect(errorLine(r.stdout)).toBe(
      "Inputs 'client-id' and 'tenant-id' log in to Entra ID with a GitHub OIDC token, but this job may not request one (ACTIONS_ID_TOKEN_REQUEST_URL is not set): add `permissions: id-token: write` to the job.",
    );
    expect(r.stdout).not.toContain("Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable");
    expect(await tableExists(dst(), t)).toBe(false);
  });
});

describe("runtime failures explained", () => {
  it("a missing source table fails that table clearly; the others are copied", async () => {
    const good = uniqueTable("okk");
    const missing = uniqueTable("gone");
    await seedEntities(src(), good, [simpleEntity("p", "1", { v: 1 })]);
    const r = await runAction({
      mode: "full-sync",
      tables: `${missing},${good}`,
      "source-connection-string": src(),
      "destination-connection-string": dst(),
      "state-store": "file",
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `::error title=table-sync%3A ${missing}::Table ${missing} does not exist on the source.`,
    );
    // Named once, not "Table x: Table x does not exist …".
    expect(r.stdout).not.toContain(`Table ${missing}: Table ${missing}`);
    expect(await tableExists(dst(), good)).toBe(true);
    expect(await tableExists(dst(), missing)).toBe(false);
  });

  it("a wrong key: the key for the source account was rejected", async () => {
    const t = uniqueTable("key");
    const wrong = `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${Buffer.from("wrong key").toString("base64")};TableEndpoint=http://127.0.0.1:${inject("sourcePort")}/${AZURITE_ACCOUNT};`;
    const r = await runAction({
      mode: "full-sync",
      tables: t,
      "source-connection-string": wrong,
      "destination-connection-string": dst(),
      "state-store": "file",
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `Reading table ${t} was refused (HTTP 403 AuthorizationFailure): the key, SAS or identity for the source account was rejected or lacks permission`,
    );
    expect(await tableExists(dst(), t)).toBe(false);
  });

  it("a filter the service rejects: its message and the input it came from", async () => {
    const t = uniqueTable("flt");
    await seedEntities(src(), t, [simpleEntity("p", "1", { v: 1 })]);
    const r = await runAction({
      mode: "full-sync",
      tables: t,
      "source-connection-string": src(),
      "destination-connection-string": dst(),
      "state-store": "file",
      "query-filter": "PartitionKey eq",
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`The source rejected the filter "PartitionKey eq" for table ${t} (HTTP 400`);
    expect(r.stdout).toContain("check the 'query-filter' input");
    expect(await tableExists(dst(), t)).toBe(false);
  });

  it("an unreachable host fails in bounded time, naming the side and host", async () => {
    const t = uniqueTable("down");
    const started = Date.now();
    const r = await runAction({
      mode: "full-sync",
      tables: t,
      "source-connection-string": `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=a2V5;TableEndpoint=http://127.0.0.1:9/${AZURITE_ACCOUNT};`,
      "destination-connection-string": dst(),
      "state-store": "file",
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("Could not reach the source at 127.0.0.1:9 after 6 tries (ECONNREFUSED");
    expect(Date.now() - started).toBeLessThan(90_000);
    expect(await tableExists(dst(), t)).toBe(false);
  });

  it("a destination that rejects an entity: reported with its keys, the others land, watermark kept", async () => {
    const t = uniqueTable("rej");
    await seedEntities(src(), t, [
      simpleEntity("p", "ok1", { v: 1 }),
      simpleEntity("p", "bad", { Id: "x" }),
      simpleEntity("p", "ok2", { v: 2 }),
    ]);
    const r = await runAction({
      mode: "full-sync",
      tables: t,
      "source-connection-string": src(),
      "destination-connection-string": dst(),
      "destination-kind": "cosmos",
      "state-store": "file",
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `::error title=table-sync%3A entity not written::Table ${t}, PartitionKey 'p', RowKey 'bad': property 'Id' is reserved by Cosmos DB for Table; add the rename 'Id:entityId' to property-renames.\n`,
    );
    // Named once: the engine's message names the entity already, the action does not prefix it again.
    expect(r.stdout.match(/PartitionKey 'p', RowKey 'bad'/g)).toHaveLength(1);
    expect(r.summary).toContain(
      `| ${t} | p | bad | property 'Id' is reserved by Cosmos DB for Table; add the rename 'Id:entityId' to property-renames. |`,
    );
    expect(r.outputs["entities-written"]).toBe("2");
    expect(r.outputs["entities-failed"]).toBe("1");
    expect(r.outputs["last-sync-utc"]).toBe("");
  });
});
