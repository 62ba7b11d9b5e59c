// A `since` later than the source's clock would read nothing and still move the watermark past changes
// never read: it is refused before any work, by the source's clock (the runner's may be wrong).
import { expect, inject, it } from "vitest";
import { runCopy } from "../../../src/engine/steps/full-sync.js";
import { StateError } from "../../../src/state/state.js";
import { MemoryStateStore } from "../../../src/state/store.js";
import { stepConfig, stepDeps } from "../../support/sync.js";
import { seedEntities, simpleEntity, uniqueTable } from "../../support/tables.js";

const src = inject("sourceConnectionString");

const backfill = (table: string, since: Date) =>
  stepConfig("backfill", table, { since: since.toISOString().replace(/\.\d+Z$/, "Z") });

it("refuses a since later than the source's clock, and leaves the watermark alone", async () => {
  const t = uniqueTable("sinceFuture");
  await seedEntities(src, t, [simpleEntity("p", "a", { v: 1 })]);
  const store = new MemoryStateStore();
  const first = await runCopy(stepConfig("full-sync", t), stepDeps(store));
  expect(first.ok).toBe(true);
  const before = store.saved.length;

  const ahead = new Date(Date.now() + 6 * 3600_000);
  const error = await runCopy(backfill(t, ahead), stepDeps(store)).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(StateError);
  expect((error as Error).message).toMatch(
    /^Input 'since' is .*, later than the source's clock \(.*\): the backfill would copy nothing and move the watermarks past changes it never read; use a time before .*\.$/,
  );
  expect(store.saved.length).toBe(before);

  // A past since is fine.
  const ok = await runCopy(backfill(t, new Date(Date.now() - 60_000)), stepDeps(store));
  expect(ok.ok, ok.failure).toBe(true);
});
