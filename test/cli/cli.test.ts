import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { main, type CliDeps } from "../../src/cli/main.js";
import { emptyState, serializeState } from "../../src/state/state.js";
import { tableKey } from "../../src/state/table-key.js";
import { differingProperties, type WireEntity } from "../../src/engine/wire/edm.js";
import { AZURITE_KEY } from "../support/azurite.js";
import { sampleEntities, sampleEntity } from "../support/sample-entities.js";
import { byKey, createTable, insertRaw, readAll, seedEntities, uniqueTable } from "../support/tables.js";

const src = inject("sourceConnectionString");
const dst = inject("destinationConnectionString");

const dirs: string[] = [];
/** An empty working directory, so no stray .env is read. */
function workDir(envFile?: string): string {
  const dir = mkdtempSync(join(tmpdir(), "table-sync-cli-"));
  dirs.push(dir);
  if (envFile !== undefined) writeFileSync(join(dir, ".env"), envFile);
  return dir;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}, deps: CliDeps = {}): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const code = await main(
    argv,
    env,
    { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } },
    { cwd: workDir(), progressIntervalMs: 0, ...deps },
  );
  return { code, stdout, stderr };
}

const flags = ["--source-connection-string", src, "--destination-connection-string", dst];

function expectSame(source: WireEntity[], destination: WireEntity[]): void {
  const b = byKey(destination);
  expect(destination.length).toBe(source.length);
  for (const e of source) {
    const other = b.get(`${e.partitionKey}\u0000${e.rowKey}`);
    expect(other, `${e.partitionKey}/${e.rowKey}`).toBeDefined();
    expect(differingProperties(e, other!), `${e.partitionKey}/${e.rowKey}`).toEqual([]);
  }
}

/** Output must carry no secret: not the connection strings, not the account key. */
function expectNoSecrets(run: CliRun, ...secrets: string[]): void {
  for (const text of [run.stdout, run.stderr]) {
    for (const s of [src, dst, AZURITE_KEY, ...secrets]) expect(text).not.toContain(s);
    expect(text).not.toMatch(/AccountKey=(?!\*\*\*)/);
    expect(text).not.toMatch(/sig=(?!\*\*\*)/);
  }
}

/** One line, one sentence, no stack trace. */
function expectOneSentence(run: CliRun): string {
  expect(run.code).toBe(2);
  expect(run.stdout).toBe("");
  const lines = run.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  const message = lines[0];
  expect(message).toMatch(/^table-sync: [A-Z].*\.$/);
  expect(message.slice(0, -1)).not.toMatch(/[.!?]\s+[A-Z]/);
  expect(message).not.toMatch(/\bat .*:\d+:\d+/);
  return message.slice("table-sync: ".length);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("table-sync CLI", () => {
  it("prints help", async () => {
    const run = await cli(["--help"]);
    expect(run.code).toBe(0);
    for (const word of [
      "full-sync",
      "backfill",
      "--tables",
      "--since",
      "--source-endpoint",
      "--no-create-tables",
      "--json",
    ]) {
      expect(run.stdout).toContain(word);
    }
  });

  it("prints a command's own help, and refuses an unknown command even with --help", async () => {
    const verify = await cli(["verify", "--help"]);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/^Usage: table-sync verify /);
    expect(verify.stdout).toContain("--repair");
    expect(verify.stdout).not.toContain("--checkpoint-seconds");
    const full = await cli(["full-sync", "--help"]);
    expect(full.stdout).toMatch(/^Usage: table-sync full-sync /);
    expect(full.stdout).toContain("--checkpoint-seconds");
    expect(full.stdout).not.toContain("--repair");
    expect((await cli(["help", "verify"])).stdout).toBe(verify.stdout);
    const global = await cli(["--help"]);
    expect(global.stdout).not.toBe(verify.stdout);
    expect(global.stdout).toContain("130");
    expect(global.stdout).toContain("143");

    const bogus = await cli(["bogus", "--help"]);
    expect(expectOneSentence(bogus)).toMatch(/^Unknown command 'bogus'; use one of: full-sync/);
  });

  it("prints the package version", async () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, "../../package.json"), "utf8")) as {
      version: string;
    };
    const run = await cli(["--version"]);
    expect(run).toEqual({ code: 0, stdout: `table-sync ${pkg.version}\n`, stderr: "" });
  });

  it("copies two tables end to end with exact types", async () => {
    const a = uniqueTable("clia");
    const b = uniqueTable("clib");
    const b2 = uniqueTable("clib");
    await seedEntities(src, a, sampleEntities(2500, 7));
    await seedEntities(src, b, sampleEntities(300, 3));
    const run = await cli(["full-sync", "--tables", `${a},${b}:${b2}`, ...flags]);
    expect(run.stderr).toContain(`[${a}] copying to ${a}…`);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain(
      "full-sync finished: 2 tables, 2,800 read, 2,800 written, 0 skipped, 0 failed",
    );
    expect(run.stdout).toMatch(
      new RegExp(`${a}\\s+2,500\\s+2,500\\s+0\\s+0\\s+[\\d.]+ s\\s+[\\d,]+\\s+\\d{4}-\\d\\d-\\d\\dT`),
    );
    expect(run.stdout).toContain(`${b} → ${b2}`);
    expect(run.stdout).toMatch(/Next backfill: table-sync backfill --since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
    expectSame(await readAll(src, a), await readAll(dst, a));
    expectSame(await readAll(src, b), await readAll(dst, b2));
    const d = byKey(await readAll(dst, a));
    expect(d.get("p01\u0000r000001")!.properties.get("big")).toEqual({
      type: "Edm.Int64",
      value: "-9223372036854775808",
    });
    expect(d.get("p00\u0000r000000")!.properties.get("price")).toEqual({ type: "Edm.Double", value: "1.0" });
    expectNoSecrets(run);
  });

  it("backfills only what changed since the reported source clock, ANDed with --query-filter", async () => {
    const t = uniqueTable("clibf");
    await seedEntities(src, t, sampleEntities(400, 4));
    await sleep(1100); // the source clock has 1 s resolution: let the seed fall before it
    const full = await cli(["full-sync", "--tables", t, "--json", ...flags]);
    expect(full.code, full.stderr).toBe(0);
    const json = JSON.parse(full.stdout) as {
      tables: { sourceClockAtStart: string; read: number }[];
      nextSince: string;
    };
    const clock = json.tables[0].sourceClockAtStart;
    expect(json.tables[0].read).toBe(400);
    expect(json.nextSince).toBe(new Date(Date.parse(clock)).toISOString().replace(".000Z", "Z"));
    expect(full.stderr).toContain("full-sync finished"); // the human summary moves to stderr with --json

    // Change three entities and add one (three of the four in p01), after the full sync.
    const changed = [sampleEntity(1, 4), sampleEntity(5, 4), sampleEntity(2, 4), sampleEntity(401, 4)].map(
      (e) => {
        e.properties.set("name", { type: "Edm.String", value: "changed" });
        return e;
      },
    );
    await seedEntities(src, t, changed);

    const run = await cli(["backfill", "--tables", t, "--since", clock, "--overlap-seconds", "0", ...flags]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain("backfill finished: 1 table, 4 read, 4 written");
    expect(run.stdout).toContain(`Filter: Timestamp ge datetime'${new Date(clock).toISOString()}'`);
    expectSame(await readAll(src, t), await readAll(dst, t));

    const filtered = await cli([
      "backfill",
      "--tables",
      t,
      "--since",
      clock,
      "--overlap-seconds",
      "0",
      "--query-filter",
      "PartitionKey eq 'p01'",
      ...flags,
    ]);
    expect(filtered.code).toBe(0);
    expect(filtered.stdout).toContain("1 table, 3 read, 3 written");
    expect(filtered.stderr).toContain(
      `where (Timestamp ge datetime'${new Date(clock).toISOString()}') and (PartitionKey eq 'p01')`,
    );
  });

  it("takes connection strings from the environment and .env, flags first", async () => {
    // Copied under another name, so the destination server never has a table called t.
    const t = uniqueTable("clienv");
    const spec = `${t}:${uniqueTable("clienvcopy")}`;
    await seedEntities(src, t, sampleEntities(50));
    const envFile = [
      "# secrets for the CLI",
      `SOURCE_CONNECTION_STRING="${src}"`,
      `export DESTINATION_CONNECTION_STRING='${dst}' # the destination`,
    ].join("\n");
    const fromFile = await cli(["full-sync", "--tables", spec], {}, { cwd: workDir(envFile) });
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(fromFile.stdout).toContain("50 written");
    expectNoSecrets(fromFile);

    // The environment wins over .env: .env's source is the destination server, where the table is missing.
    const wrongFile = `SOURCE_CONNECTION_STRING=${dst}\nDESTINATION_CONNECTION_STRING=${dst}\n`;
    const envWins = await cli(
      ["full-sync", "--tables", spec],
      { SOURCE_CONNECTION_STRING: src },
      { cwd: workDir(wrongFile) },
    );
    expect(envWins.code, envWins.stderr).toBe(0);
    const fileOnly = await cli(["full-sync", "--tables", spec], {}, { cwd: workDir(wrongFile) });
    expect(fileOnly.code).toBe(1);

    // A flag wins over the environment.
    const flagWins = await cli(["full-sync", "--tables", spec, "--source-connection-string", src], {
      SOURCE_CONNECTION_STRING: dst,
      DESTINATION_CONNECTION_STRING: dst,
    });
    expect(flagWins.code, flagWins.stderr).toBe(0);
    expectNoSecrets(flagWins);
  });

  it("reports a table missing on the source and exits 1", async () => {
    const t = uniqueTable("climiss");
    const run = await cli(["full-sync", "--tables", t, ...flags]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `${t}: the table did not complete: Table ${t} does not exist on the source.`,
    );
    expect(run.stdout).not.toContain("Next backfill");
  });

  it("exits 1 when an entity fails, listing it with its keys", async () => {
    const t = uniqueTable("clifail");
    await createTable(src, t);
    await insertRaw(src, t, [
      `{"PartitionKey":"pa","RowKey":"ok1","v":1}`,
      `{"PartitionKey":"pa","RowKey":"bad","id":"x"}`,
      `{"PartitionKey":"pb","RowKey":"ok2","v":2}`,
    ]);
    // Cosmos reserves `id`: the guard refuses that entity and the others are still written.
    const run = await cli(["full-sync", "--tables", t, "--destination-kind", "cosmos", "--json", ...flags]);
    expect(run.code).toBe(1);
    const json = JSON.parse(run.stdout) as { totals: { read: number; written: number; failed: number } };
    expect(json.totals).toMatchObject({ read: 3, written: 2, failed: 1 });
    expect(run.stderr).toContain(`${t}: 1 entity failed:`);
    expect(run.stderr).toContain(
      "PartitionKey 'pa', RowKey 'bad': property 'id' is reserved by Cosmos DB for Table",
    );
    expect(run.stderr).toContain("Fix the cause and run the same command again");
    expectNoSecrets(run);

    const renamed = await cli([
      "full-sync",
      "--tables",
      t,
      "--destination-kind",
      "cosmos",
      "--property-renames",
      "id:entityId",
      ...flags,
    ]);
    expect(renamed.code, renamed.stdout).toBe(0);
    const landed = byKey(await readAll(dst, t)).get("pa\u0000bad")!;
    expect(landed.properties.get("entityId")).toEqual({ type: "Edm.String", value: "x" });
  });

  it("prints progress lines at the injected interval", async () => {
    const t = uniqueTable("cliprog");
    await seedEntities(src, t, sampleEntities(3000, 30));
    const run = await cli(
      ["full-sync", "--tables", t, "--concurrency", "2", ...flags],
      {},
      { progressIntervalMs: 5 },
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      new RegExp(`\\[${t}\\] [\\d,]+ read, [\\d,]+ written, [\\d,]+ entities/s, [\\d.]+ s elapsed`),
    );
    expect(run.stderr).toContain(`[${t}] done: 3,000 read, 3,000 written in`);
  });

  it("stops on Ctrl+C, still prints the summary, and exits 130", async () => {
    const t = uniqueTable("clistop");
    await seedEntities(src, t, sampleEntities(20));
    const controller = new AbortController();
    controller.abort();
    const run = await cli(
      ["full-sync", "--tables", `${t},${uniqueTable("clistop")}`, ...flags],
      {},
      { signal: controller.signal },
    );
    expect(run.code).toBe(130);
    // Cancelled before it began: no table is started.
    expect(run.stdout).toContain("full-sync cancelled: 0 tables");
    expect(run.stdout).not.toContain("Next backfill");
  });

  it("writes nothing in a dry run", async () => {
    const t = uniqueTable("clidry");
    await seedEntities(src, t, sampleEntities(20));
    const run = await cli(["full-sync", "--tables", t, "--dry-run", ...flags]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      "full-sync finished (dry run: nothing written): 1 table, 20 read, 0 written",
    );
    // Reading the table from the destination server as a source: it was never created there.
    const missing = await cli([
      "full-sync",
      "--tables",
      `${t}:${t}back`,
      "--no-create-tables",
      "--source-connection-string",
      dst,
      "--destination-connection-string",
      src,
    ]);
    expect(missing.code, missing.stdout + missing.stderr).toBe(1); // the dry run did not create the destination table
    expect(missing.stdout + missing.stderr).toContain(t);
  });

  it("names --no-create-tables when a destination table is missing", async () => {
    const t = uniqueTable("clinoct");
    const absent = uniqueTable("clinoctabsent");
    await seedEntities(src, t, sampleEntities(5));
    const run = await cli(["full-sync", "--tables", `${t}:${absent}`, "--no-create-tables", ...flags]);
    expect(run.code).toBe(1);
    // In the CLI's words, not the action's ("set create-tables to true").
    expect(run.stdout).toContain(
      `Destination table ${absent} does not exist and --no-create-tables was given; create it (with enough throughput) or drop --no-create-tables.`,
    );
    expect(run.stdout + run.stderr).not.toMatch(/set create-tables|create-tables is off/);
  });

  it("names --query-filter when the service rejects the filter", async () => {
    const t = uniqueTable("cliqf");
    await seedEntities(src, t, sampleEntities(5));
    const run = await cli(["full-sync", "--tables", t, "--query-filter", "PartitionKey eq", ...flags]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("check --query-filter, which is ANDed with the watermark filter.");
    expect(run.stdout + run.stderr).not.toContain("'query-filter' input");
  });

  it("warns that --client-id and --tenant-id do nothing with two connection strings", async () => {
    const t = uniqueTable("cliid");
    await seedEntities(src, t, sampleEntities(5));
    const run = await cli(["full-sync", "--tables", t, "--client-id", "abc", "--tenant-id", "def", ...flags]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr.split("\n")[0]).toBe(
      "table-sync: warning: --client-id and --tenant-id are ignored: they pick the Entra ID identity for --source-endpoint or --destination-endpoint, and both sides use a connection string.",
    );
    const quiet = await cli(["full-sync", "--tables", t, ...flags]);
    expect(quiet.stderr).not.toContain("warning");
  });

  it("says what --conflict does with the app's writes after a switch", async () => {
    const t = uniqueTable("cliconf");
    await seedEntities(src, t, sampleEntities(5));
    const dir = workDir();
    const stateFile = join(dir, "state.json");
    const state = emptyState();
    state.tables[tableKey({ source: t, destination: t })] = {
      watermark: "2020-01-01T00:00:00.000Z",
      switchedAt: "2020-01-02T00:00:00.000Z",
    };
    writeFileSync(stateFile, serializeState(state));
    const backfill = ["backfill", "--tables", t, "--state-file", stateFile, ...flags];
    const skip = await cli(backfill);
    expect(skip.code, skip.stdout + skip.stderr).toBe(0);
    expect(skip.stderr).toContain(
      `[${t}] switched at 2020-01-02T00:00:00.000Z: the app's writes on the destination are kept (--conflict skip).`,
    );
    const wins = await cli([...backfill, "--conflict", "source-wins"]);
    expect(wins.code, wins.stdout + wins.stderr).toBe(0);
    expect(wins.stderr).toContain(
      `[${t}] switched at 2020-01-02T00:00:00.000Z: --conflict source-wins, so the source's version overwrites what the app wrote on the destination since.`,
    );
    expect(wins.stderr).not.toContain("are kept");
  });

  it.each([
    [["sync", "--tables", "abc"], /^Unknown command 'sync'/],
    [["full-sync", "--tabels", "abc"], /^Unknown option --tabels/],
    [["full-sync"], /^Option --tables is empty/],
    [
      ["full-sync", "--tables", "abc", "--write-mode", "upsert"],
      /^Option --write-mode is 'upsert'; use one of/,
    ],
    [["full-sync", "--tables", "abc", "--concurrency", "0"], /^Option --concurrency is '0'/],
    [
      ["full-sync", "--tables", "abc", "--since", "2024-01-01T00:00:00Z"],
      /^Option --since is for backfill only/,
    ],
    [["backfill", "--tables", "abc"], /^A backfill needs --since/],
    [["backfill", "--tables", "abc", "--since", "yesterday"], /^Option --since is 'yesterday'/],
    [["backfill", "--tables", "abc"], /^A backfill needs --since/],
    [
      ["full-sync", "--tables", "abc", "--source-endpoint", "http://example.com"],
      /^Option --source-endpoint must use https/,
    ],
    [["full-sync", "--tables", "abc", "--tables", "def"], /^Option --tables is given twice; give it once/],
    [
      ["full-sync", "--tables", "abc", "--create-tables", "maybe"],
      /^Option --create-tables is followed by 'maybe', which is not true or false; use --create-tables or --no-create-tables\.$/,
    ],
    [
      ["full-sync", "--tables", "abc", "--concurrency", ""],
      /^Option --concurrency is ''; use auto \(the default\) or a whole number/,
    ],
    [
      ["full-sync", "--tables", "abc", "--concurrency", "0x10"],
      /^Option --concurrency is '0x10'; use auto \(the default\) or a whole number/,
    ],
    [
      ["full-sync", "--tables", "abc", "--concurrency", "1e2"],
      /^Option --concurrency is '1e2'; use auto \(the default\) or a whole number/,
    ],
    [
      ["full-sync", "--tables", "abc", "--repair"],
      /^Option --repair is for verify only; drop it for full-sync/,
    ],
    [["full-sync", "--tables", "abc", "--sample", "0.1"], /^Option --sample is for verify and switch only/],
    [["verify", "--tables", "abc", "--dry-run"], /^Option --dry-run is for full-sync and backfill only/],
    [["switch", "--tables", "abc"], /^A switch records switched-at in the state: give --state-file/],
    [
      ["verify", "--tables", "abc", "--delete-extra"],
      /^Option --delete-extra only works with --repair; set both/,
    ],
  ])("exits 2 with one sentence for %j", async (argv, expected) => {
    const run = await cli(argv, { SOURCE_CONNECTION_STRING: src, DESTINATION_CONNECTION_STRING: dst });
    expect(expectOneSentence(run)).toMatch(expected);
    expectNoSecrets(run);
  });

  it("names the missing side and the variables that can supply it", async () => {
    const run = await cli(["full-sync", "--tables", "abc", "--source-connection-string", src]);
    expect(expectOneSentence(run)).toBe(
      "No destination given; set DESTINATION_CONNECTION_STRING (environment or .env), or pass --destination-connection-string or --destination-endpoint.",
    );
    expectNoSecrets(run);
  });

  it("never prints a secret from a bad connection string", async () => {
    const key = "c2VjcmV0LWtleS10aGF0LW11c3Qtbm90LWxlYWs=";
    const badKey = `DefaultEndpointsProtocol=https;AccountKey=${key};EndpointSuffix=core.windows.net`;
    const run1 = await cli(["full-sync", "--tables", "abc", "--destination-connection-string", dst], {
      SOURCE_CONNECTION_STRING: badKey,
    });
    expect(expectOneSentence(run1)).toBe(
      "The source connection string (from the environment variable SOURCE_CONNECTION_STRING) has neither TableEndpoint nor AccountName; copy the whole connection string from the portal.",
    );
    expectNoSecrets(run1, key, badKey);

    const sig = "s1gn4tur3%2Bvalue%3D";
    const sas = `TableEndpoint=https://acct.table.core.windows.net;SharedAccessSignature=sv=2022-11-02&sig=${sig}`;
    const both = await cli([
      "full-sync",
      "--tables",
      "abc",
      `--source-connection-string=${sas}`,
      "--source-endpoint",
      "https://x.table.core.windows.net",
      "--destination-connection-string",
      dst,
    ]);
    expect(expectOneSentence(both)).toMatch(/^Both --source-connection-string and --source-endpoint are set/);
    expectNoSecrets(both, sig, decodeURIComponent(sig), sas);

    // An unreadable .env line is named, not shown.
    const env = await cli(
      ["full-sync", "--tables", "abc"],
      {},
      { cwd: workDir(`SOURCE_CONNECTION_STRING ${badKey}\n`) },
    );
    expect(expectOneSentence(env)).toMatch(
      /^Line 1 of \.env (is not KEY=VALUE|has an invalid name before '=')/,
    );
    expectNoSecrets(env, key);
  });

  it("fails fast, in one message, when Entra ID sign-in is unavailable", async () => {
    let scopes: string[] = [];
    const run = await cli(
      [
        "full-sync",
        "--tables",
        "abc",
        "--source-endpoint",
        "https://acct.table.core.windows.net",
        "--destination-connection-string",
        dst,
      ],
      {},
      {
        credential: () => ({
          getToken: async (scope) => {
            scopes = [scope].flat();
            throw new Error("ChainedTokenCredential authentication failed.\nAzure CLI could not be found.");
          },
        }),
      },
    );
    expect(run.code).toBe(1);
    expect(scopes).toEqual(["https://storage.azure.com/.default"]);
    expect(run.stderr).toBe(
      "table-sync: Signing in for the source endpoint https://acct.table.core.windows.net failed: sign in with 'az login', " +
        "use a managed or workload identity (AZURE_CLIENT_ID, AZURE_TENANT_ID…), or pass --source-connection-string instead.\n" +
        "  Azure CLI could not be found.\n",
    );
  });

  it("masks secrets that reach an error message from the service", async () => {
    // A wrong key for the real account: the service refuses, the message is printed, the key is not.
    const wrongKey = Buffer.from("definitely-not-the-azurite-key-0123456789").toString("base64");
    const wrong = src.replace(AZURITE_KEY, wrongKey);
    const t = uniqueTable("cliauth");
    const run = await cli([
      "full-sync",
      "--tables",
      t,
      "--source-connection-string",
      wrong,
      "--destination-connection-string",
      dst,
      "--json",
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/refused|failed|does not exist/);
    expectNoSecrets(run, wrongKey, wrong);
  });
});

describe("table-sync CLI with --state-file", () => {
  const src = inject("sourceConnectionString");
  const dst = inject("destinationConnectionString");

  it("full-sync records a watermark per table; backfill reads from it; a table without one fails alone", async () => {
    const t = uniqueTable("clist");
    const other = uniqueTable("clino");
    await seedEntities(src, t, sampleEntities(50, 2));
    await seedEntities(src, other, sampleEntities(5, 1));
    await sleep(1100); // the source clock has 1 s resolution: let the seed fall before it
    const dir = mkdtempSync(join(tmpdir(), "cli-state-"));
    const stateFile = join(dir, "state.json");
    const env = { SOURCE_CONNECTION_STRING: src, DESTINATION_CONNECTION_STRING: dst };
    const full = await cli(["full-sync", "--tables", t, "--state-file", stateFile], env);
    expect(full.code, full.stderr).toBe(0);
    const state = JSON.parse(readFileSync(stateFile, "utf8")) as {
      tables: Record<string, { watermark: string }>;
    };
    expect(state.tables[`${t}→${t}`].watermark).toMatch(/Z$/);
    await sleep(1100);
    const changed = sampleEntity(3, 2);
    changed.properties.set("name", { type: "Edm.String", value: "changed later" });
    await seedEntities(src, t, [changed]);
    const back = await cli(
      ["backfill", "--tables", `${t},${other}`, "--state-file", stateFile, "--overlap-seconds", "0"],
      env,
    );
    expect(back.code).toBe(1);
    expect(back.stdout + back.stderr).toContain(`No watermark is stored for table '${other}'`);
    expect(back.stdout).toContain("run 'table-sync full-sync' first, or pass --since with the UTC time");
    expect(back.stdout + back.stderr).not.toContain("set 'since'");
    expect(back.stdout).toContain("1 read, 1 written");
    expectSame(await readAll(src, t), await readAll(dst, t));
  });
});

describe("table-sync verify / preflight: --report-path, progress and cancel", () => {
  const env = { SOURCE_CONNECTION_STRING: src, DESTINATION_CONNECTION_STRING: dst };

  it("refuses a --report-path it cannot write before any work, in one sentence", async () => {
    const dir = workDir();
    writeFileSync(join(dir, "afile"), "");
    mkdirSync(join(dir, "somedir"));
    const underFile = await cli(
      ["verify", "--tables", "abc", "--report-path", join(dir, "afile", "r.json")],
      env,
    );
    expect(expectOneSentence(underFile)).toBe(
      `Option --report-path is '${join(dir, "afile", "r.json")}', but ${join(dir, "afile")} is a file, not a directory; give a path inside a directory.`,
    );
    const directory = await cli(["preflight", "--tables", "abc", "--report-path", join(dir, "somedir")], env);
    expect(expectOneSentence(directory)).toMatch(
      /^Option --report-path is '.*somedir', which is a directory; give a file path/,
    );
    // Relative paths are taken from the working directory.
    const relative = await cli(["verify", "--tables", "abc", "--report-path", "."], env, { cwd: dir });
    expect(expectOneSentence(relative)).toMatch(/^Option --report-path is '\.', which is a directory/);
  });

  it("preflight reads the source alone: no destination needed, destination-kind says what to check", async () => {
    const t = uniqueTable("clipreonly");
    await seedEntities(src, t, sampleEntities(20));
    const run = await cli(["preflight", "--tables", t, "--destination-kind", "cosmos"], {
      SOURCE_CONNECTION_STRING: src,
    });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain("preflight: nothing blocks a full sync.");
    const full = await cli(["full-sync", "--tables", t], { SOURCE_CONNECTION_STRING: src });
    expect(full.code).toBe(2);
  });

  it("creates missing directories for the report", async () => {
    const t = uniqueTable("clirep");
    await seedEntities(src, t, sampleEntities(5));
    const path = join(workDir(), "new", "deeper", "r.json");
    const run = await cli(["preflight", "--tables", t, "--report-path", path], env);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain(`Report: ${path}`);
    expect((JSON.parse(readFileSync(path, "utf8")) as { mode: string }).mode).toBe("preflight");
  });

  it.runIf(existsSync("/dev/full"))(
    "still prints the outcome when the report cannot be written at the end, then says so and exits 1",
    async () => {
      const t = uniqueTable("clifull");
      await seedEntities(src, t, sampleEntities(5));
      await seedEntities(dst, t, sampleEntities(5));
      const run = await cli(["verify", "--tables", t, "--report-path", "/dev/full"], env);
      expect(run.code).toBe(1);
      expect(run.stdout).toContain("verify: in sync.");
      expect(run.stdout).toContain("Report: not written.");
      expect(run.stderr.trimEnd().split("\n").at(-1)).toBe(
        "table-sync: The JSON report could not be written to /dev/full (ENOSPC: no space left on device); the result above stands, but give --report-path a file you can write to.",
      );
    },
  );

  it("prints progress lines for verify and preflight", async () => {
    const t = uniqueTable("cliverprog");
    await seedEntities(src, t, sampleEntities(3000, 30));
    await seedEntities(dst, t, sampleEntities(3000, 30));
    const verify = await cli(["verify", "--tables", t], env, { progressIntervalMs: 2 });
    expect(verify.code, verify.stdout).toBe(0);
    expect(verify.stderr).toMatch(
      new RegExp(
        `\\[${t}\\] verify: (scan|compare), [\\d,]+ source / [\\d,]+ destination entities, [\\d.]+ s elapsed`,
      ),
    );
    const preflight = await cli(["preflight", "--tables", t], env, { progressIntervalMs: 2 });
    expect(preflight.code, preflight.stdout).toBe(0);
    expect(preflight.stderr).toMatch(
      new RegExp(`\\[${t}\\] preflight: [\\d,]+ entities scanned, [\\d.]+ s elapsed`),
    );
    const quiet = await cli(["verify", "--tables", t, "--progress-seconds", "0"], env, {
      progressIntervalMs: undefined,
    });
    expect(quiet.stderr).not.toContain("elapsed");
  });

  it.each([
    ["verify", "SIGINT", 130],
    ["preflight", "SIGINT", 130],
    ["verify", "SIGTERM", 143],
    ["preflight", "SIGTERM", 143],
  ] as const)("a cancelled %s (%s) gives no verdict and exits %i", async (command, by, code) => {
    const t = uniqueTable("clicancel");
    await seedEntities(src, t, sampleEntities(20));
    const controller = new AbortController();
    controller.abort();
    const dir = workDir();
    const run = await cli(["verify" === command ? "verify" : "preflight", "--tables", t], env, {
      cwd: dir,
      signal: controller.signal,
      cancel: { by, quitLine: "" },
    });
    expect(run.code).toBe(code);
    expect(run.stdout).toContain(`${command} cancelled: no verdict (0 of 1 table`);
    expect(run.stdout).not.toMatch(/differences?\.|in sync\.|would fail|nothing blocks/);
    expect(run.stderr).toContain(
      by === "SIGTERM"
        ? `SIGTERM: stopping the ${command}: it gives no verdict`
        : `Stopping the ${command}: it gives no verdict`,
    );
    expect(run.stderr).not.toContain("checkpoint");
    const report = JSON.parse(readFileSync(join(dir, "table-sync-report.json"), "utf8")) as {
      cancelled: boolean;
      ok: boolean;
      inSync?: boolean;
    };
    expect(report).toMatchObject({ cancelled: true, ok: false });
    expect(report.inSync).toBeUndefined();
  });

  it("a verify cancelled half-way keeps the tables it finished and exits 130", async () => {
    const done = uniqueTable("clicanceldone");
    const cut = uniqueTable("clicancelcut");
    await seedEntities(src, done, sampleEntities(10));
    await seedEntities(dst, done, sampleEntities(10));
    await seedEntities(src, cut, sampleEntities(4000, 40));
    const controller = new AbortController();
    let stderr = "";
    let stdout = "";
    const code = await main(
      ["verify", "--tables", `${done},${cut}`],
      env,
      {
        stdout: { write: (s: string) => (stdout += s) },
        stderr: {
          write: (s: string) => {
            stderr += s;
            // Cancel once the second table has shown progress.
            if (s.startsWith(`[${cut}] verify: `)) controller.abort();
          },
        },
      },
      { cwd: workDir(), progressIntervalMs: 2, signal: controller.signal },
    );
    expect(code, stdout + stderr).toBe(130);
    expect(stdout).toContain("verify cancelled: no verdict (1 of 2 tables compared before the cancel).");
    expect(stdout).toMatch(new RegExp(`${done}\\s+10\\s+10\\s+10\\s+0\\s+0\\s+0\\s+—\\s+yes`));
    expect(stdout).not.toContain(cut);
  });

  it("a full sync without --state-file says no checkpoint is saved when cancelled", async () => {
    const t = uniqueTable("clinocp");
    await seedEntities(src, t, sampleEntities(20));
    const controller = new AbortController();
    controller.abort();
    const run = await cli(["full-sync", "--tables", t, ...flags], {}, { signal: controller.signal });
    expect(run.code).toBe(130);
    expect(run.stderr).toContain(
      "Stopping after the current page; without --state-file no checkpoint is saved, so the next full-sync starts from the beginning (Ctrl+C again to quit now)…",
    );
    expect(run.stderr).not.toContain("saving a checkpoint");
    expect(run.stderr).toContain(
      "table-sync: The full sync was cancelled; without --state-file no checkpoint was saved, so the next full-sync copies every table from the start",
    );
    const term = await cli(
      ["full-sync", "--tables", t, ...flags],
      {},
      {
        signal: controller.signal,
        cancel: { by: "SIGTERM", quitLine: "" },
      },
    );
    expect(term.code).toBe(143);
  });
});
