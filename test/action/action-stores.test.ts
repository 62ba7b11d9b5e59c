// The bundled action keeping its watermarks in the Actions cache and in a repository variable,
// against local doubles of those GitHub services (the real @actions/cache inside dist/).
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { FakeCacheService } from "../support/fake-cache-service.js";
import { FakeGitHubApi } from "../support/fake-github-api.js";
import { runAction } from "../support/run-action.js";
import { readAll, seedEntities, simpleEntity, uniqueTable } from "../support/tables.js";

const src = () => inject("sourceConnectionString");
const dst = () => inject("destinationConnectionString");

function rows(n: number, version: number) {
  return Array.from({ length: n }, (_, i) => simpleEntity("p", `r${i}`, { v: version }));
}

describe("bundled action with GitHub state stores", () => {
  let cache: FakeCacheService;
  let api: FakeGitHubApi;
  const token = "ghp_" + "x".repeat(20) + "TOKENSECRET";

  beforeAll(async () => {
    cache = await FakeCacheService.start();
    api = await FakeGitHubApi.start({ token, repositories: ["octo/migrate"] });
  });
  afterAll(async () => {
    await cache.stop();
    await api.stop();
  });

  it("cache: full sync saves, a later run (new runner, new workspace) restores by prefix and backfills", async () => {
    const t = uniqueTable("cache");
    await seedEntities(src(), t, rows(30, 1));
    const inputs = {
      tables: t,
      "source-connection-string": src(),
      "destination-connection-string": dst(),
      "state-store": "cache",
      "state-key": `ts-${t}`,
    };
    const full = await runAction({ mode: "full-sync", ...inputs }, { env: cache.env() });
    expect(full.code, full.stdout + full.stderr).toBe(0);
    expect(cache.finalizedKeys().filter((k) => k.startsWith(`ts-${t}-`))).toHaveLength(1);
    await seedEntities(src(), t, rows(30, 2));
    // A fresh workspace: the state can only come from the cache.
    const back = await runAction({ mode: "backfill", ...inputs }, { env: cache.env() });
    expect(back.code, back.stdout + back.stderr).toBe(0);
    expect(back.outputs["entities-written"]).toBe("30");
    const out = await readAll(dst(), t);
    expect(out.every((e) => e.properties.get("v")?.value === "2")).toBe(true);
  });

  it("cache: a save the service refuses fails the run with a clear message", async () => {
    const t = uniqueTable("cachefail");
    await seedEntities(src(), t, rows(3, 1));
    cache.faults = { create: "not-ok" };
    try {
      const r = await runAction(
        {
          mode: "full-sync",
          tables: t,
          "source-connection-string": src(),
          "destination-connection-string": dst(),
          "state-key": `ts-${t}`,
        },
        { env: cache.env() },
      );
      expect(r.code).not.toBe(0);
      expect(r.stdout).toMatch(/::error::Saving the state to .* failed/);
    } finally {
      cache.faults = {};
    }
  });

  it("variable: created when missing, updated later; the token never printed", async () => {
    const t = uniqueTable("var");
    await seedEntities(src(), t, rows(5, 1));
    const inputs = {
      tables: t,
      "source-connection-string": src(),
      "destination-connection-string": dst(),
      "state-store": "variable",
      "state-key": `SYNC_${t.toUpperCase()}`,
      "github-token": token,
    };
    const env = { GITHUB_API_URL: api.url, GITHUB_REPOSITORY: "octo/migrate" };
    const full = await runAction({ mode: "full-sync", ...inputs }, { env });
    expect(full.code, full.stdout).toBe(0);
    const v1 = api.variable("octo/migrate", `SYNC_${t.toUpperCase()}`);
    expect(v1).toBeDefined();
    const wm1 = (JSON.parse(v1!.value) as { tables: Record<string, { watermark: string }> }).tables[
      `${t}→${t}`
    ].watermark;
    expect(wm1).toBe(full.outputs["last-sync-utc"]);
    await new Promise((r) => setTimeout(r, 1_100));
    const back = await runAction({ mode: "backfill", ...inputs }, { env });
    expect(back.code, back.stdout).toBe(0);
    const v2 = api.variable("octo/migrate", `SYNC_${t.toUpperCase()}`);
    const wm2 = (JSON.parse(v2!.value) as { tables: Record<string, { watermark: string }> }).tables[
      `${t}→${t}`
    ].watermark;
    expect(Date.parse(wm2)).toBeGreaterThan(Date.parse(wm1));
    for (const r of [full, back]) {
      const printed = (r.stdout + r.stderr + r.summary).replace(/::add-mask::.*\n/g, "");
      expect(printed).not.toContain("TOKENSECRET");
    }
  });

  it("variable: a token that cannot write variables gets the sentence about GITHUB_TOKEN", async () => {
    const t = uniqueTable("var403");
    await seedEntities(src(), t, rows(2, 1));
    api.mode = "read-only";
    try {
      const r = await runAction(
        {
          mode: "full-sync",
          tables: t,
          "source-connection-string": src(),
          "destination-connection-string": dst(),
          "state-store": "variable",
          "github-token": token,
        },
        { env: { GITHUB_API_URL: api.url, GITHUB_REPOSITORY: "octo/migrate" } },
      );
      expect(r.code).not.toBe(0);
      expect(r.stdout).toContain("GITHUB_TOKEN");
      expect(r.stdout).toContain("Variables: write");
    } finally {
      api.mode = "ok";
    }
  });
});
