// No credential ever reaches a log, the summary, an output, the state or a report — on every mode,
// on success and on failure (including errors the SDKs throw, which like to quote URLs with SAS tokens).
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { AzureNamedKeyCredential, generateAccountSas } from "@azure/data-tables";
import { describe, expect, inject, it } from "vitest";
import { AZURITE_ACCOUNT, AZURITE_KEY } from "../support/azurite.js";
import { runAction, type ActionRun } from "../support/run-action.js";
import { seedEntities, simpleEntity, uniqueTable } from "../support/tables.js";

function sasConnectionString(port: number): { cs: string; sig: string } {
  const sas = generateAccountSas(new AzureNamedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY), {
    expiresOn: new Date(Date.now() + 3600_000),
    permissions: { query: true, add: true, update: true, delete: true, write: true, list: true },
    resourceTypes: "sco",
  });
  const sig = decodeURIComponent(/(?:^|[?&])sig=([^&]+)/.exec(sas)![1]);
  return {
    cs: `TableEndpoint=http://127.0.0.1:${port}/${AZURITE_ACCOUNT};SharedAccessSignature=${sas.replace(/^\?/, "")}`,
    sig,
  };
}

/** Everything a user or a later step can see of a run, except the ::add-mask:: commands themselves. */
function visible(run: ActionRun): string {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else files.push(readFileSync(p, "utf8"));
    }
  };
  if (existsSync(run.workspace)) walk(run.workspace);
  const report = run.outputs["report-path"];
  if (report && existsSync(report)) files.push(readFileSync(report, "utf8"));
  return [
    run.stdout.replace(/^::add-mask::.*$/gm, ""),
    run.stderr,
    run.summary,
    JSON.stringify(run.outputs),
    ...files,
  ].join("\n");
}

function expectNoSecret(run: ActionRun, secrets: string[]): void {
  const text = visible(run);
  for (const s of secrets) {
    expect(text.includes(s), `a secret (${s.slice(0, 4)}…) leaked`).toBe(false);
    expect(text.includes(encodeURIComponent(s)), `a URL-encoded secret (${s.slice(0, 4)}…) leaked`).toBe(
      false,
    );
  }
}

describe("secrets", () => {
  const source = sasConnectionString(inject("sourcePort"));
  const destination = sasConnectionString(inject("destinationPort"));
  const secrets = [source.cs, destination.cs, source.sig, destination.sig];

  it("a SAS never appears in any mode's output, summary, state or report", async () => {
    const t = uniqueTable("sec");
    await seedEntities(inject("sourceConnectionString"), t, [
      simpleEntity("p", "1", { v: 1 }),
      simpleEntity("p", "2", { v: 2 }),
    ]);
    const inputs = {
      tables: t,
      "source-connection-string": source.cs,
      "destination-connection-string": destination.cs,
      "state-store": "file",
    };
    let workspace: string | undefined;
    for (const mode of ["preflight", "full-sync", "backfill", "verify", "switch", "backfill"]) {
      const run = await runAction({ mode, ...inputs }, workspace ? { workspace } : {});
      workspace = run.workspace;
      expect(run.code, `${mode}: ${run.stdout}`).toBe(0);
      // The runner is told to mask them, and nothing else shows them.
      expect(run.stdout).toContain(`::add-mask::${source.sig}`);
      expectNoSecret(run, secrets);
    }
  });

  it("a rejected key, a bad filter and an unreachable host: clear errors without the secret", async () => {
    const wrongKey = Buffer.from("distinctive-wrong-key-DO-NOT-LEAK-0123456789").toString("base64");
    const wrong = `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${wrongKey};TableEndpoint=http://127.0.0.1:${inject("sourcePort")}/${AZURITE_ACCOUNT};`;
    const t = uniqueTable("secf");
    const rejected = await runAction({
      mode: "full-sync",
      tables: t,
      "source-connection-string": wrong,
      "destination-connection-string": destination.cs,
      "state-store": "file",
    });
    expect(rejected.code).not.toBe(0);
    expect(rejected.stdout).toMatch(/refused \(HTTP 403/);
    expectNoSecret(rejected, [wrongKey, wrong, destination.sig]);

    const badFilter = await runAction({
      mode: "full-sync",
      tables: t,
      "source-connection-string": source.cs,
      "destination-connection-string": destination.cs,
      "state-store": "file",
      "query-filter": "Nope eq",
    });
    expect(badFilter.code).not.toBe(0);
    expectNoSecret(badFilter, secrets);

    const unreachable = `TableEndpoint=http://127.0.0.1:9/${AZURITE_ACCOUNT};SharedAccessSignature=${/SharedAccessSignature=(.*)$/.exec(source.cs)![1]}`;
    const down = await runAction({
      mode: "full-sync",
      tables: t,
      "source-connection-string": unreachable,
      "destination-connection-string": destination.cs,
      "state-store": "file",
    });
    expect(down.code).not.toBe(0);
    expectNoSecret(down, [source.sig, destination.sig]);
  });
});
