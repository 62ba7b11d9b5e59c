// Table names are case-insensitive in both services, so the state is too: a backfill that spells a table
// in another case still finds its watermark and, above all, its switch.
import { expect, inject, it } from "vitest";
import { runCopy } from "../../../src/engine/steps/full-sync.js";
import { runSwitch } from "../../../src/engine/steps/switch.js";
import { MemoryStateStore } from "../../../src/state/store.js";
import { stepConfig as config, stepDeps as deps } from "../../support/sync.js";
import { byKey, readAll, seedEntities, simpleEntity, uniqueTable } from "../../support/tables.js";

const src = inject("sourceConnectionString");
const dst = inject("destinationConnectionString");

it("a post-switch backfill naming the tables in another case keeps the app's write", async () => {
  const t = uniqueTable("caseSw").toLowerCase();
  const store = new MemoryStateStore();
  await seedEntities(src, t, [simpleEntity("p", "x", { v: "v1" })]);
  expect((await runCopy(config("full-sync", `${t}:${t}`), deps(store))).ok).toBe(true);
  const sw = await runSwitch(config("switch", t), deps(store));
  expect(sw.ok, sw.failure).toBe(true);
  await new Promise((r) => setTimeout(r, 1_100));
  await seedEntities(dst, t, [simpleEntity("p", "x", { v: "app" })]);
  await seedEntities(src, t, [simpleEntity("p", "x", { v: "straggler" })]);

  const upper = t.toUpperCase();
  const back = await runCopy(
    config("backfill", `${upper}:${t.slice(0, 1).toUpperCase()}${t.slice(1)}`),
    deps(store),
  );
  expect(back.ok, back.failure).toBe(true);
  expect(back.tables[0].result).toMatchObject({ read: 1, written: 0, conflicts: 1 });
  expect(
    byKey(await readAll(dst, t))
      .get("p\u0000x")
      ?.properties.get("v")?.value,
  ).toBe("app");
});
