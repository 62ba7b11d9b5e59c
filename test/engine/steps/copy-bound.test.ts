// A full sync's records answer only for the copy they describe: a table an interrupted full sync finished (or
// checkpointed) is copied afresh, with one sentence, when any of the five parts of the copy's definition
// changed — source account or table, destination account or table, query-filter, property-renames,
// write-mode — and resumed as before when none did. A third Azurite server plays the other account.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { buildConfig } from "../../../src/config/schema.js";
import { runCopy } from "../../../src/engine/steps/full-sync.js";
import type { MigrationDeps } from "../../../src/engine/steps/engine-config.js";
import { changedPart, copyId } from "../../../src/engine/steps/copy-id.js";
import { tableKey } from "../../../src/state/table-key.js";
import { MemoryStateStore } from "../../../src/state/store.js";
import { startAzurite, type AzuriteServer } from "../../support/azurite.js";
import { FAST_RETRY } from "../../support/sync.js";
import { readAll, seedEntities, simpleEntity, uniqueTable } from "../../support/tables.js";

const src = inject("sourceConnectionString");
const dst = inject("destinationConnectionString");
let other: AzuriteServer;

beforeAll(async () => {
  other = await startAzurite();
});
afterAll(async () => {
  await other?.stop();
});

const COUNT = 1_200;
const entities = () =>
  Array.from({ length: COUNT }, (_, i) =>
    simpleEntity(`p${String(Math.floor(i / 500)).padStart(3, "0")}`, `r${String(i).padStart(5, "0")}`, { i }),
  );

interface Sides {
  source?: string;
  destination?: string;
}

function config(tables: string, extra: Record<string, string> = {}, sides: Sides = {}) {
  return buildConfig({
    mode: "full-sync",
    tables,
    "source-connection-string": sides.source ?? src,
    "destination-connection-string": sides.destination ?? dst,
    "state-store": "file",
    ...extra,
  });
}

function deps(store: MemoryStateStore, sides: Sides = {}, checkpointIntervalMs?: number): MigrationDeps {
  return {
    store,
    source: { connectionString: sides.source ?? src },
    destination: { connectionString: sides.destination ?? dst },
    retry: FAST_RETRY,
    checkpointIntervalMs,
  };
}

/** `t` finished by a full sync whose other table failed (a typo): the run marker lists t as done. */
async function finishedOnce(t: string, store: MemoryStateStore): Promise<void> {
  const first = await runCopy(config(`${t},${t}Typo`), deps(store));
  expect(first.ok).toBe(false);
  expect((await store.load())?.fullSync?.done).toEqual([tableKey({ source: t, destination: t })]);
}

describe("a full sync resumes only the copy its records describe", () => {
  it("the identical copy resumes: a table the interrupted run finished is not copied again", async () => {
    const t = uniqueTable("bound");
    await seedEntities(src, t, entities());
    const store = new MemoryStateStore();
    await finishedOnce(t, store);
    const second = await runCopy(config(t), deps(store));
    expect(second.ok, second.failure).toBe(true);
    expect(second.notices).toEqual([expect.stringMatching(/: 1 of 1 table already done\.$/)]);
    expect(second.totals.read).toBe(0);
  });

  it.each([
    ["query-filter", { "query-filter": "PartitionKey ge 'p001'" }, COUNT - 500],
    ["property-renames", { "property-renames": "i:n" }, COUNT],
    ["write-mode", { "write-mode": "merge" }, COUNT],
  ])("another %s copies the finished table afresh, and says so", async (part, extra, read) => {
    const t = uniqueTable("bound");
    await seedEntities(src, t, entities());
    const store = new MemoryStateStore();
    await finishedOnce(t, store);
    const second = await runCopy(config(t, extra), deps(store));
    expect(second.ok, second.failure).toBe(true);
    expect(second.notices).toEqual([
      `Table ${t} was completed by a full sync with another ${part}, so it is copied afresh.`,
    ]);
    expect(second.totals.read).toBe(read);
  });

  it("another source account (the same table name there) copies the table afresh from that account", async () => {
    const t = uniqueTable("bound");
    await seedEntities(src, t, entities());
    await seedEntities(other.connectionString, t, entities().slice(0, 700));
    const store = new MemoryStateStore();
    await finishedOnce(t, store);
    const sides = { source: other.connectionString };
    const second = await runCopy(config(t, {}, sides), deps(store, sides));
    expect(second.ok, second.failure).toBe(true);
    expect(second.notices).toEqual([
      `Table ${t} was completed by a full sync with another source account or table, so it is copied afresh.`,
    ]);
    expect(second.totals.read).toBe(700);
  });

  it("another destination account copies the table afresh into it", async () => {
    const t = uniqueTable("bound");
    await seedEntities(src, t, entities());
    const store = new MemoryStateStore();
    await finishedOnce(t, store);
    const sides = { destination: other.connectionString };
    const second = await runCopy(config(t, {}, sides), deps(store, sides));
    expect(second.ok, second.failure).toBe(true);
    expect(second.notices).toEqual([
      `Table ${t} was completed by a full sync with another destination account or table, so it is copied afresh.`,
    ]);
    expect(await readAll(other.connectionString, t)).toHaveLength(COUNT);
  });

  it("another destination table is another copy: nothing of the first is taken as done", async () => {
    const t = uniqueTable("bound");
    await seedEntities(src, t, entities());
    const store = new MemoryStateStore();
    await finishedOnce(t, store);
    const second = await runCopy(config(`${t}:${t}Two`), deps(store));
    expect(second.ok, second.failure).toBe(true);
    expect(second.notices.join(" ")).not.toContain("already done");
    expect(second.totals.read).toBe(COUNT);
  });

  it("a checkpoint saved with another write-mode is not resumed: the table is copied from the start", async () => {
    const t = uniqueTable("bound");
    await seedEntities(src, t, [...entities(), ...entities().map((e) => ({ ...e, rowKey: `${e.rowKey}b` }))]);
    const store = new MemoryStateStore();
    const controller = new AbortController();
    const first = await runCopy(config(t, { "max-entities-per-second": "1500" }), deps(store, {}, 1), {
      signal: controller.signal,
      onCheckpoint: () => controller.abort(),
    });
    expect(first.ok).toBe(false);
    const cp = (await store.load())!.tables[tableKey({ source: t, destination: t })].checkpoint;
    expect(cp?.read).toBeGreaterThan(0);
    // Digests only: nothing of the connection string is in the state.
    expect(cp?.copy).toMatch(/^[0-9a-f]{8}(\.[0-9a-f]{8}){4}$/);
    const second = await runCopy(config(t, { "write-mode": "merge" }), deps(store));
    expect(second.ok, second.failure).toBe(true);
    expect(second.notices).toEqual([
      `The checkpoint of table ${t} was saved with another write-mode, so the table is copied from the start.`,
    ]);
    expect(second.totals.read).toBe(2 * COUNT);
  });
});

describe("copy ids", () => {
  const base = {
    source: { connectionString: src },
    destination: { connectionString: dst },
    propertyRenames: [],
    writeMode: "replace" as const,
  };
  const spec = { source: "orders", destination: "orders" };

  it("name the part that changed, and hold no secret", () => {
    const id = copyId(base, spec);
    expect(id).not.toContain("Eby8");
    expect(copyId(base, { source: "Orders", destination: "ORDERS" })).toBe(id);
    expect(changedPart(id, copyId({ ...base, source: { connectionString: dst } }, spec))).toBe(
      "source account or table",
    );
    expect(changedPart(id, copyId(base, { source: "orders", destination: "orders2" }))).toBe(
      "destination account or table",
    );
    expect(changedPart(id, copyId({ ...base, queryFilter: "x eq 1" }, spec))).toBe("query-filter");
    expect(changedPart(id, copyId({ ...base, propertyRenames: [{ from: "a", to: "b" }] }, spec))).toBe(
      "property-renames",
    );
    expect(changedPart(id, copyId({ ...base, writeMode: "merge" }, spec))).toBe("write-mode");
    expect(changedPart(id, copyId(base, spec))).toBeUndefined();
  });
});
