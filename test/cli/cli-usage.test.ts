// The CLI's usage through main(): help and --version, usage errors in one sentence with exit 2, and no
// secret in any output, whether from a bad connection string, a failed sign-in or the service.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AZURITE_KEY } from "../support/azurite.js";
import { uniqueTable } from "../support/tables.js";
import { cli, dst, expectNoSecrets, expectOneSentence, removeWorkDirs, src, workDir } from "./cli-harness.js";

afterAll(removeWorkDirs);

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
