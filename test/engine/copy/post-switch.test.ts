// Backfill after the switch never overwrites what the app wrote on the destination.
import { describe, expect, inject, it } from "vitest";
import type { WireEntity } from "../../../src/engine/wire/edm.js";
import { TableHttp, type HttpResponse, type RequestSpec } from "../../../src/engine/wire/http.js";
import { createServiceClient } from "../../../src/engine/wire/connection.js";
import { serverClock, type SwitchGuard } from "../../../src/engine/copy/post-switch.js";
import { connect } from "../../../src/engine/copy/connect.js";
import { copyTable } from "../../../src/engine/copy/copy-table.js";
import { runSync } from "../../../src/engine/copy/run-sync.js";
import { type EngineConfig } from "../../../src/engine/copy/run-config.js";
import { faults, startFaultProxy } from "../../support/fault-proxy.js";
import { FAST_RETRY } from "../../support/sync.js";
import { byKey, httpFor, readAll, seedEntities, simpleEntity, uniqueTable } from "../../support/tables.js";

const src = () => inject("sourceConnectionString");
const dst = () => inject("destinationConnectionString");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function config(table: string, extra: Partial<EngineConfig> = {}): EngineConfig {
  return {
    source: { connectionString: src() },
    destination: { connectionString: dst(), kind: "cosmos" },
    tables: [{ source: table, destination: table }],
    writeMode: "replace",
    propertyRenames: [],
    concurrency: 4,
    createTables: true,
    dryRun: false,
    maxFailuresKept: 50,
    ...extra,
  };
}

const value = (e: WireEntity | undefined, name = "v") => e?.properties.get(name)?.value;

async function switched(table: string): Promise<{ guard: SwitchGuard; filter: string }> {
  // Full sync, then the switch is recorded on the destination's clock.
  const full = await runSync(config(table));
  expect(full.tables[0].failed).toBe(0);
  await sleep(1_100);
  const at = await serverClock(httpFor(dst()));
  await sleep(1_100);
  return {
    guard: { switchedAt: at.toISOString(), ours: new Set(), policy: "skip" },
    filter: `Timestamp ge datetime'${full.tables[0].sourceClockAtStart}'`,
  };
}

describe("backfill after the switch", () => {
  it("keeps an app write on the destination when a straggler wrote an older version to the source", async () => {
    const t = uniqueTable("sw");
    await seedEntities(src(), t, [
      simpleEntity("p", "app", { v: "v1" }),
      simpleEntity("p", "straggler", { v: "v1" }),
    ]);
    const { guard, filter } = await switched(t);
    // After the switch: the app writes `app` on the destination; a late request writes both on the source.
    await seedEntities(dst(), t, [simpleEntity("p", "app", { v: "from-app" })]);
    await seedEntities(src(), t, [
      simpleEntity("p", "app", { v: "old-straggler" }),
      simpleEntity("p", "straggler", { v: "v2" }),
    ]);
    await seedEntities(src(), t, [simpleEntity("p", "new", { v: "created-late" })]);

    const conn = connect(config(t));
    const r = await copyTable(conn, config(t), { source: t, destination: t }, { filter, guard });
    expect(r.failed).toBe(0);
    expect(r.conflicts).toBe(1);
    expect(r.conflictDetails[0]).toMatchObject({ partitionKey: "p", rowKey: "app" });
    expect(r.conflictDetails[0].message).toContain("after the switch");
    const d = byKey(await readAll(dst(), t));
    expect(value(d.get("p\u0000app"))).toBe("from-app");
    expect(value(d.get("p\u0000straggler"))).toBe("v2");
    expect(value(d.get("p\u0000new"))).toBe("created-late");
    expect(guard.ours.size).toBe(2);

    // A later backfill re-reads the window: our own post-switch writes are not taken for the app's,
    // so a newer straggler version still lands; the app's entity is still kept.
    await seedEntities(src(), t, [simpleEntity("p", "straggler", { v: "v3" })]);
    const r2 = await copyTable(conn, config(t), { source: t, destination: t }, { filter, guard });
    expect(r2.conflicts).toBe(1);
    const d2 = byKey(await readAll(dst(), t));
    expect(value(d2.get("p\u0000straggler"))).toBe("v3");
    expect(value(d2.get("p\u0000app"))).toBe("from-app");
  });

  it("an app write racing our write is a conflict (412), not an overwrite", async () => {
    const t = uniqueTable("race");
    await seedEntities(src(), t, [simpleEntity("p", "x", { v: "v1" })]);
    const { guard, filter } = await switched(t);
    await seedEntities(src(), t, [simpleEntity("p", "x", { v: "straggler" })]);

    // The destination as the engine sees it, except that right after our read of `x` the app writes it.
    class RacingHttp extends TableHttp {
      override async send(spec: RequestSpec): Promise<HttpResponse> {
        const res = await super.send(spec);
        if (spec.method === "GET" && spec.url.includes("RowKey='x'")) {
          await seedEntities(dst(), t, [simpleEntity("p", "x", { v: "app-raced" })]);
        }
        return res;
      }
    }
    const conn = connect(config(t));
    const racing = {
      ...conn,
      destination: new RacingHttp(
        createServiceClient({ connectionString: dst(), kind: "cosmos" }, "destination"),
      ),
    };
    const r = await copyTable(racing, config(t), { source: t, destination: t }, { filter, guard });
    expect(r.conflicts).toBe(1);
    expect(r.failed).toBe(0);
    expect(r.conflictDetails[0].message).toContain("HTTP 412");
    const d = byKey(await readAll(dst(), t));
    expect(value(d.get("p\u0000x"))).toBe("app-raced");
  });

  it("conflict: source-wins overwrites the app's write", async () => {
    const t = uniqueTable("wins");
    await seedEntities(src(), t, [simpleEntity("p", "x", { v: "v1" })]);
    const { guard, filter } = await switched(t);
    await seedEntities(dst(), t, [simpleEntity("p", "x", { v: "from-app" })]);
    await seedEntities(src(), t, [simpleEntity("p", "x", { v: "source" })]);
    const conn = connect(config(t));
    const r = await copyTable(
      conn,
      config(t),
      { source: t, destination: t },
      {
        filter,
        guard: { ...guard, policy: "source-wins" },
      },
    );
    expect(r.conflicts).toBe(0);
    expect(value(byKey(await readAll(dst(), t)).get("p\u0000x"))).toBe("source");
  });

  it("its point reads of the destination count in the table's throttled requests and retries", async () => {
    const t = uniqueTable("guardStats");
    await seedEntities(src(), t, [simpleEntity("p", "x", { v: "v1" }), simpleEntity("p", "y", { v: "v1" })]);
    const { guard, filter } = await switched(t);
    await seedEntities(src(), t, [simpleEntity("p", "x", { v: "v2" }), simpleEntity("p", "y", { v: "v2" })]);
    // The first two point reads are throttled (one with a hint, one without), then answered.
    const proxy = await startFaultProxy({
      target: dst(),
      rules: [
        {
          method: "GET",
          path: /RowKey='[xy]'/,
          nth: [1],
          fault: faults.status(429, { "x-ms-retry-after-ms": "10" }),
        },
        { method: "GET", path: /RowKey='[xy]'/, nth: [2], fault: faults.status(503) },
      ],
    });
    try {
      const cfg = config(t, { retry: FAST_RETRY });
      const conn = connect({
        ...cfg,
        destination: { connectionString: proxy.connectionString(), kind: "cosmos" },
      });
      const r = await copyTable(conn, cfg, { source: t, destination: t }, { filter, guard });
      expect(r).toMatchObject({ read: 2, written: 2, failed: 0, conflicts: 0 });
      expect(proxy.stats.byFault).toEqual({ "status:429": 1, "status:503": 1 });
      expect(r.throttled).toBe(1);
      expect(r.retries).toBe(2);
      const d = byKey(await readAll(dst(), t));
      expect([value(d.get("p\u0000x")), value(d.get("p\u0000y"))]).toEqual(["v2", "v2"]);
    } finally {
      await proxy.stop();
    }
  });
});
