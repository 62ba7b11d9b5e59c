// 200 tables with full lag histories, saved by the repository-variable store to a local double of the GitHub
// variables API (which refuses values over 48 KB as GitHub does): the value stays under 48 KB, and every table
// comes back with all 48 of its backfills.
import { afterAll, beforeAll, expect, it } from "vitest";
import { VariableStateStore } from "../../src/action/variable-store.js";
import { decodeHistory } from "../../src/state/history.js";
import { MAX_STATE_BYTES } from "../../src/state/state.js";
import { FakeGitHubApi } from "../support/fake-github-api.js";
import { busyState } from "../support/histories.js";

const TOKEN = "ghp_fakeTokenForTheSizeTest0123456789abcdef";
const REPO = "octo-org/migration";
let api: FakeGitHubApi;

beforeAll(async () => {
  api = await FakeGitHubApi.start({ token: TOKEN, repositories: [REPO] });
});
afterAll(async () => {
  await api.stop();
});

it("stores 200 tables with 48 backfills each in one variable, under 48 KB", async () => {
  const store = new VariableStateStore({
    name: "TABLE_SYNC_STATE",
    token: TOKEN,
    env: { GITHUB_REPOSITORY: REPO, GITHUB_API_URL: api.url },
  });
  const state = busyState(200);
  await store.save(state);
  const value = api.variable(REPO, "TABLE_SYNC_STATE")?.value ?? "";
  const bytes = Buffer.byteLength(value, "utf8");
  console.log(`repository variable with 200 tables and full histories: ${bytes} bytes`);
  expect(bytes).toBeGreaterThan(0);
  expect(bytes).toBeLessThan(MAX_STATE_BYTES);
  const back = await store.load();
  expect(back).toEqual(state);
  for (const entry of Object.values(back!.tables)) expect(decodeHistory(entry.history)).toHaveLength(48);
});
