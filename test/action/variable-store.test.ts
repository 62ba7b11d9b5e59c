// The variable store over real HTTP against a local double of the GitHub variables API.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { VariableStateStore, validateVariableName } from "../../src/action/variable-store.js";
import { advanceWatermark } from "../../src/state/watermark.js";
import { emptyState, StateError, type State } from "../../src/state/state.js";
import { tableKey } from "../../src/state/table-key.js";
import type { TableResult } from "../../src/engine/copy/result.js";
import { FakeGitHubApi } from "../support/fake-github-api.js";
import { freePort } from "../support/azurite.js";
import { startConnectProxy } from "../support/connect-proxy.js";

const TOKEN = "ghp_fakeTokenThatMustNeverBePrinted0123456789";
const REPO = "octo-org/migration";
let api: FakeGitHubApi;
let ghes: FakeGitHubApi;

function stateAt(clock: string, base: State = emptyState(), table = "orders"): State {
  const result: TableResult = {
    source: table,
    destination: table,
    read: 1,
    written: 1,
    skipped: 0,
    failed: 0,
    conflicts: 0,
    transactions: 1,
    durationMs: 10,
    sourceClockAtStart: clock,
    failures: [],
    conflictDetails: [],
    throttled: 0,
    retries: 0,
  };
  return advanceWatermark(base, tableKey({ source: table, destination: table }), result, {
    mode: "backfill",
  });
}

function store(
  overrides: Partial<ConstructorParameters<typeof VariableStateStore>[0]> = {},
): VariableStateStore {
  return new VariableStateStore({
    name: "TABLE_SYNC_STATE",
    token: TOKEN,
    env: { GITHUB_REPOSITORY: REPO, GITHUB_API_URL: api.url },
    ...overrides,
  });
}

async function errorOf(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StateError);
  expect((err as Error).message).not.toContain(TOKEN);
  return err as Error;
}

beforeAll(async () => {
  api = await FakeGitHubApi.start({ token: TOKEN, repositories: [REPO] });
  ghes = await FakeGitHubApi.start({ token: TOKEN, prefix: "/api/v3", repositories: [REPO] });
});

afterAll(async () => {
  await api.stop();
  await ghes.stop();
});

beforeEach(() => {
  api.mode = "ok";
  api.repos.set(REPO, new Map());
  api.requests.length = 0;
});

describe("variable state store", () => {
  it("reaches the API through the runner's proxy (HTTP_PROXY / HTTPS_PROXY), as the runner's tools do", async () => {
    // The API by a name only the proxy resolves: without the proxy the store could not reach it at all.
    const proxy = await startConnectProxy();
    const saved = { HTTP_PROXY: process.env.HTTP_PROXY, NO_PROXY: process.env.NO_PROXY };
    process.env.HTTP_PROXY = proxy.url;
    delete process.env.NO_PROXY;
    try {
      const far = api.url.replace("127.0.0.1", "api.github.test");
      const s = store({ env: { GITHUB_REPOSITORY: REPO, GITHUB_API_URL: far } });
      const state = stateAt("2024-05-01T12:00:00.000Z");
      await s.save(state);
      expect(await s.load()).toEqual(state);
      expect(proxy.connects[0]).toBe(new URL(far).host);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await proxy.close();
    }
  });

  it("loads nothing when the variable is missing, then creates it", async () => {
    const s = store();
    expect(await s.load()).toBeUndefined();
    const state = stateAt("2024-05-01T12:00:00.000Z");
    await s.save(state);
    expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /repos/${REPO}/actions/variables/TABLE_SYNC_STATE`,
      `PATCH /repos/${REPO}/actions/variables/TABLE_SYNC_STATE`,
      `POST /repos/${REPO}/actions/variables`,
    ]);
    expect(api.requests.every((r) => r.authorized)).toBe(true);
    expect(api.variable(REPO, "TABLE_SYNC_STATE")?.value).toBe(JSON.stringify(state));
    expect(await s.load()).toEqual(state);
  });

  it("updates an existing variable in place", async () => {
    const s = store();
    const first = stateAt("2024-05-01T12:00:00.000Z");
    await s.save(first);
    const created = api.variable(REPO, "TABLE_SYNC_STATE")!.created_at;
    api.requests.length = 0;
    const second = stateAt("2024-05-01T12:10:00.000Z", first);
    await s.save(second);
    expect(api.requests.map((r) => r.method)).toEqual(["PATCH"]);
    expect(api.variable(REPO, "TABLE_SYNC_STATE")).toMatchObject({
      value: JSON.stringify(second),
      created_at: created,
    });
    expect(await store().load()).toEqual(second);
  });

  it("says on 403 that GITHUB_TOKEN cannot write variables and which token to use", async () => {
    api.setVariable(REPO, "TABLE_SYNC_STATE", JSON.stringify(emptyState()));
    api.mode = "read-only";
    expect(await store().load()).toEqual(emptyState());
    const err = await errorOf(store().save(stateAt("2024-05-01T12:00:00.000Z")));
    expect(err.message).toMatch(/HTTP 403/);
    expect(err.message).toMatch(/GITHUB_TOKEN cannot read or write repository variables/);
    expect(err.message).toMatch(/"Variables: write"/);
    expect(err.message).toMatch(/'github-token'/);

    api.mode = "forbidden";
    expect((await errorOf(store().load())).message).toMatch(/GITHUB_TOKEN cannot read or write/);
  });

  it("reports a bad token, a missing repository and an unreachable API without printing the token", async () => {
    expect((await errorOf(store({ token: "wrong" }).load())).message).toMatch(/HTTP 401.*invalid or expired/);
    const missing = store({ repository: "octo-org/nope" });
    expect((await errorOf(missing.save(emptyState()))).message).toMatch(
      /HTTP 404.*octo-org\/nope was not found/,
    );
    const port = await freePort();
    const down = store({ apiUrl: `http://127.0.0.1:${port}` });
    expect((await errorOf(down.load())).message).toMatch(/did not answer \(ECONNREFUSED\)/);
  });

  it("refuses a variable that does not hold our state", async () => {
    api.setVariable(REPO, "TABLE_SYNC_STATE", "production");
    expect((await errorOf(store().load())).message).toMatch(
      /The state in the repository variable TABLE_SYNC_STATE of octo-org\/migration is not valid JSON/,
    );
    api.setVariable(REPO, "TABLE_SYNC_STATE", '{"a":1}');
    expect((await errorOf(store().load())).message).toMatch(/is not an azure-table-sync state/);
  });

  it("uses GITHUB_API_URL, so GHES works", async () => {
    const s = new VariableStateStore({
      name: "TABLE_SYNC_STATE",
      token: TOKEN,
      env: { GITHUB_REPOSITORY: REPO, GITHUB_API_URL: `${ghes.url}/` },
    });
    expect(s.apiUrl).toBe(ghes.url);
    expect(ghes.url).toMatch(/\/api\/v3$/);
    const state = stateAt("2024-05-01T12:00:00.000Z");
    await s.save(state);
    expect(ghes.variable(REPO, "TABLE_SYNC_STATE")?.value).toBe(JSON.stringify(state));
    expect(ghes.requests.at(-1)?.path).toBe(`/api/v3/repos/${REPO}/actions/variables`);
    expect(await s.load()).toEqual(state);
    expect(api.requests).toEqual([]);
  });

  it("validates the variable name, the repository and the token before any request", () => {
    expect(() => validateVariableName("TABLE_SYNC_STATE")).not.toThrow();
    expect(() => store({ name: "table-sync" })).toThrow(
      /'table-sync' cannot be a repository variable's name/,
    );
    expect(() => store({ name: "GITHUB_STATE" })).toThrow(/reserved/);
    expect(() => store({ name: "1STATE" })).toThrow(StateError);
    expect(() => store({ token: "" })).toThrow(/needs the 'github-token' input/);
    expect(() => store({ env: { GITHUB_API_URL: api.url } })).toThrow(/not 'owner\/repo'/);
    expect(api.requests).toEqual([]);
  });

  it("refuses to save a state larger than a variable holds", async () => {
    let big = emptyState();
    // Names with a digest in them: compressing the state (state/compact.ts) cannot make it fit.
    for (let i = 0; i < 4_000; i++) {
      const digest = createHash("sha256").update(String(i)).digest("hex").slice(0, 40);
      big = stateAt("2024-05-01T12:00:00.000Z", big, `table${i}${digest}`);
    }
    const err = await errorOf(store().save(big));
    expect(err.message).toMatch(/more than the 48000 bytes a state may hold \(4000 tables\)/);
    expect(api.requests).toEqual([]);
  });
});
