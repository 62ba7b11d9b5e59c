// A runner behind a company proxy, through the bundled CLI and action as users run them: both accounts
// are reachable only as https://devstoreaccount1.table.test:<port>, a name only the proxy resolves (TLS
// fronts before the test's Azurite servers; the certificate trusted through NODE_EXTRA_CA_CERTS). With
// HTTPS_PROXY (and its credentials) the full sync and verify copy every entity exactly; without it, or
// with the accounts in NO_PROXY, the names cannot be resolved; wrong credentials are one sentence that never
// shows the password.
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { AZURITE_ACCOUNT, AZURITE_KEY } from "../support/azurite.js";
import {
  selfSignedCert,
  startConnectProxy,
  startTlsFront,
  type ConnectProxy,
} from "../support/connect-proxy.js";
import { actionInputs, REPO_ROOT, runAction } from "../support/run-action.js";
import { rawDifferences, rawEntities } from "../support/sync.js";
import { seedEntities, simpleEntity, uniqueTable } from "../support/tables.js";

const BIN = join(REPO_ROOT, "bin", "table-sync.js");
const PASSWORD = "s3cret:pa@ss";
const tls = selfSignedCert(["devstoreaccount1.table.test"]);
const fronts: { port: number; close(): Promise<void> }[] = [];
let proxy: ConnectProxy;
let source: string;
let destination: string;

/** A connection string for the account behind the TLS front on `port`, by the name only the proxy knows. */
function behindProxy(port: number): string {
  return (
    `DefaultEndpointsProtocol=https;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};` +
    `TableEndpoint=https://${AZURITE_ACCOUNT}.table.test:${port}`
  );
}

beforeAll(async () => {
  proxy = await startConnectProxy({ user: "runner", password: PASSWORD });
  for (const port of [inject("sourcePort"), inject("destinationPort")])
    fronts.push(await startTlsFront(port, tls));
  source = behindProxy(fronts[0].port);
  destination = behindProxy(fronts[1].port);
});
afterAll(async () => {
  await proxy.close();
  for (const f of fronts) await f.close();
});

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: mkdtempSync(join(tmpdir(), "proxy-cli-")),
    env: {
      PATH: process.env.PATH ?? "",
      NODE_EXTRA_CA_CERTS: tls.certFile,
      SOURCE_CONNECTION_STRING: source,
      DESTINATION_CONNECTION_STRING: destination,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code: code ?? 1, out })));
}

async function seeded(n: number): Promise<string> {
  const table = uniqueTable("proxy");
  const entities = Array.from({ length: n }, (_, i) =>
    simpleEntity(`user${i}`, "profile", { n: i, half: i + 0.5, name: `ü${i}` }),
  );
  await seedEntities(inject("sourceConnectionString"), table, entities);
  return table;
}

describe("behind an HTTP proxy", () => {
  it("the CLI copies and verifies every entity through the proxy's tunnels", async () => {
    const table = await seeded(300);
    const state = join(mkdtempSync(join(tmpdir(), "proxy-state-")), "state.json");
    const tunnels = proxy.tunnels;
    const env = { HTTPS_PROXY: proxy.url, NO_PROXY: "localhost,.internal.example" };
    const sync = await cli(["full-sync", "--tables", table, "--state-file", state], env);
    expect(sync.out).toContain(
      `Requests to the source (devstoreaccount1.table.test:${fronts[0].port}) and the destination (devstoreaccount1.table.test:${fronts[1].port}) go through the proxy http://127.0.0.1:${proxy.port}.`,
    );
    expect(sync.code, sync.out).toBe(0);
    expect(sync.out).not.toContain(PASSWORD);
    expect(proxy.tunnels).toBeGreaterThan(tunnels);
    expect(proxy.connects).toContain(`devstoreaccount1.table.test:${fronts[0].port}`);
    expect(proxy.connects).toContain(`devstoreaccount1.table.test:${fronts[1].port}`);
    const copied = await rawEntities(inject("destinationConnectionString"), table);
    expect(copied.size).toBe(300);
    expect(rawDifferences(await rawEntities(inject("sourceConnectionString"), table), copied)).toEqual([]);
    const verify = await cli(["verify", "--tables", table, "--state-file", state], env);
    expect(verify.code, verify.out).toBe(0);
  });

  it("without the proxy, or with the accounts in NO_PROXY, the CLI cannot resolve their names", async () => {
    const table = await seeded(1);
    const envs: Record<string, string>[] = [{}, { https_proxy: proxy.url, no_proxy: ".table.test" }];
    for (const env of envs) {
      const run = await cli(["full-sync", "--tables", table, "--state-file", "s.json"], env);
      expect(run.code).not.toBe(0);
      expect(run.out).toMatch(/Could not reach the source at devstoreaccount1\.table\.test:\d+ .*ENOTFOUND/);
    }
  });

  it("wrong proxy credentials are one sentence, without the password", async () => {
    const table = await seeded(1);
    const wrong = proxy.url.replace(encodeURIComponent(PASSWORD), encodeURIComponent("Wr0ng:pa@ss"));
    const run = await cli(["full-sync", "--tables", table, "--state-file", "s.json"], { HTTPS_PROXY: wrong });
    expect(run.code).not.toBe(0);
    expect(run.out).toMatch(
      /the proxy 127\.0\.0\.1:\d+ rejected the user name and password in the proxy URL/,
    );
    expect(run.out).not.toMatch(/Wr0ng|at .*\.js:\d+/);
  });

  it("the action copies through the proxy too, with the password masked", async () => {
    const table = await seeded(50);
    const run = await runAction(
      {
        ...actionInputs(table, { mode: "full-sync" }),
        "source-connection-string": source,
        "destination-connection-string": destination,
      },
      { env: { HTTPS_PROXY: proxy.url, NODE_EXTRA_CA_CERTS: tls.certFile } },
    );
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain(`::add-mask::${PASSWORD}`);
    expect(run.stdout).toMatch(
      /Requests to the source \(.*\) and the destination \(.*\) go through the proxy http:\/\/127\.0\.0\.1:\d+\./,
    );
    const copied = await rawEntities(inject("destinationConnectionString"), table);
    expect(rawDifferences(await rawEntities(inject("sourceConnectionString"), table), copied)).toEqual([]);
  });
});
