// `npm run demo`: a whole zero-downtime migration in miniature, on two local Azurite table servers.
// One plays the old Azure Table Storage account (the source), the other plays Cosmos DB for Table (the
// destination: every command gets --destination-kind cosmos). Every step runs the real CLI as a child
// process, exactly as a user would: preflight, full sync, backfills while the app keeps writing (and
// deletes), verify with repair, switch, a backfill after the switch that keeps the app's newer write,
// and a final verify. Each step's exit code and JSON figures are checked; exit 0 only when all hold.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startAzurite, type AzuriteServer } from "../test/support/azurite.js";
import { seedEntities } from "../test/support/tables.js";
import { appDelete, appWrite, compareWire, readEntity, show } from "./demo-app.js";
import {
  COMMON,
  CRISP,
  RENAME,
  running,
  STATE,
  tableSync,
  type CheckJson,
  type CopyJson,
  type Servers,
} from "./demo-cli.js";
import {
  DELETED,
  DEVICE_COUNT,
  DEVICES,
  DEVICES_DEST,
  device,
  keyText,
  order,
  ORDER_COUNT,
  ORDERS,
  same,
  str,
  X,
  Y,
} from "./demo-data.js";
import { bold, dim, expect, num, ok, say, seconds, step } from "./demo-print.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The servers' clocks have one-second resolution: wait until a later second than anything so far. */
const nextSecond = () => sleep(1050 - (Date.now() % 1000));

async function demo(s: Servers): Promise<void> {
  const started = Date.now();
  const { source, destination } = s;

  say(`   source      (plays Azure Table Storage)  ${source.endpoint}`);
  say(`   destination (plays Cosmos DB for Table)  ${destination.endpoint}`);
  const orders = Array.from({ length: ORDER_COUNT }, (_, i) => order(i, "placed"));
  const devices = Array.from({ length: DEVICE_COUNT }, (_, i) => device(i));
  await Promise.all([
    seedEntities(source.connectionString, ORDERS, orders),
    seedEntities(source.connectionString, DEVICES, devices),
  ]);
  say(`   The source holds ${ORDERS} (${num(ORDER_COUNT)} entities) and ${DEVICES} (${num(DEVICE_COUNT)}),`);
  say("   with every EDM type and the values other tools lose: whole-number Doubles (1.0), Int64 beyond");
  say("   2^53, DateTimes with 7 fractional digits, NaN, Binary, Guid. DemoDevices goes to DemoDevicesV2.");
  say("   Each command below is the real CLI (node build/src/cli/index.js), connection strings in");
  say("   SOURCE_CONNECTION_STRING / DESTINATION_CONNECTION_STRING; the demo adds --json to check figures.");

  // ------------------------------------------------------------------------------------------------
  step(1, "Preflight: read the source only and ask whether a full sync to Cosmos would work.");
  const blocked = await tableSync<CheckJson>(s, ["preflight", ...COMMON], 1);
  const devicesPre = blocked.preflight.find((p) => p.table === DEVICES);
  const sentence = devicesPre?.blocking.find((b) => b.includes("'id'"));
  expect(!blocked.ok && sentence, "preflight without the rename should be blocked by the property 'id'");
  expect(sentence.includes("id:entityId"), `the blocking sentence should name the fix: ${sentence}`);
  ok(`Blocked (exit 1), as expected: Cosmos reserves the property name 'id'. The CLI names the fix.`);
  const pre = await tableSync<CheckJson>(s, ["preflight", ...COMMON, ...RENAME]);
  const renamed = pre.preflight
    .find((p) => p.table === DEVICES)
    ?.reservedProperties.find((r) => r.name === "id");
  expect(pre.ok && renamed?.renamedTo === "entityId", "preflight with id:entityId should pass");
  const entities = pre.preflight.reduce((n, p) => n + p.entities, 0);
  ok(`With --property-renames id:entityId nothing blocks (exit 0): ${num(entities)} entities to copy.`);
  say(`   From here on "…" stands for: ${COMMON.join(" ")}`);

  // The seed must lie in an earlier second than the full sync's watermark (1 s clock resolution).
  await nextSecond();

  // ------------------------------------------------------------------------------------------------
  step(2, "Full sync: copy everything; state.json records each table's watermark (the source clock).");
  const full = await tableSync<CopyJson>(s, ["full-sync", ...COMMON, ...RENAME, ...STATE]);
  expect(
    full.totals.written === ORDER_COUNT + DEVICE_COUNT && full.totals.failed === 0,
    `the full sync should write ${ORDER_COUNT + DEVICE_COUNT} entities, it wrote ${full.totals.written}`,
  );
  ok(
    `${num(full.totals.written)} entities copied in ${seconds(full.totals.durationMs)}, 'id' stored as 'entityId'.`,
  );

  // ------------------------------------------------------------------------------------------------
  step(3, "The application still runs on the source, and keeps writing to it.");
  const updatedOrders = Array.from({ length: 40 }, (_, k) =>
    order(20 + k * 23, "shipped", { price: { type: "Edm.Double", value: `${k}.0` } }),
  );
  const newDevices = Array.from({ length: 25 }, (_, k) => device(DEVICE_COUNT + k));
  const updatedDevices = Array.from({ length: 10 }, (_, k) => {
    const e = device(k * 13);
    e.properties.set("bytesSent", { type: "Edm.Int64", value: "9223372036854775807" });
    e.properties.set("lastSeen", { type: "Edm.DateTime", value: "2025-01-02T03:04:05.6789012Z" });
    return e;
  });
  await seedEntities(source.connectionString, ORDERS, updatedOrders);
  await seedEntities(source.connectionString, DEVICES, [...newDevices, ...updatedDevices]);
  await appDelete(source, ORDERS, DELETED);
  const changes = updatedOrders.length + newDevices.length + updatedDevices.length;
  say(
    `   Updated ${updatedOrders.length} orders, added ${newDevices.length} devices, updated ${updatedDevices.length} devices,`,
  );
  say(`   and DELETED order ${keyText(DELETED)} (DELETE with If-Match *).`);
  await nextSecond(); // so the backfill's own watermark lies after these writes

  // ------------------------------------------------------------------------------------------------
  step(
    4,
    "Backfills: copy only what changed since the watermark (Timestamp ge …), repeat until lag is small.",
  );
  say("   (--overlap-seconds 0 keeps the demo's counts exact; real runs keep the default 120 s, which");
  say("   re-reads writes that were still in flight when the watermark was taken.)");
  const back1 = await tableSync<CopyJson>(s, ["backfill", ...COMMON, ...RENAME, ...STATE, ...CRISP]);
  expect(
    back1.changedEntities === changes && back1.totals.written === changes,
    `the first backfill should copy the ${changes} changed entities, it read ${back1.changedEntities} and wrote ${back1.totals.written}`,
  );
  expect(typeof back1.lagSeconds === "number", "the backfill should report its lag");
  ok(`${back1.changedEntities} changed entities copied, not the whole table; lag ${back1.lagSeconds} s.`);
  say("     (The lag: how far the destination trails the source, the new watermark's age on the source");
  say("     clock; the summary's 'Lag:' line, and lagSeconds/changedEntities in the JSON.)");
  const ghost = await readEntity(destination, ORDERS, DELETED);
  expect(ghost, `the deleted order ${keyText(DELETED)} should still be on the destination after a backfill`);
  say(`   ! The deleted order ${keyText(DELETED)} is still on the destination: a Timestamp filter only`);
  say("     finds entities that exist, so a backfill never sees a delete. Step 5 deals with it.");

  const moreOrders = Array.from({ length: 5 }, (_, k) => order(100 + k, "packed"));
  await seedEntities(source.connectionString, ORDERS, moreOrders);
  say(`   The app updates ${moreOrders.length} more orders; backfill again:`);
  await nextSecond();
  const back2 = await tableSync<CopyJson>(s, ["backfill", ...COMMON, ...RENAME, ...STATE, ...CRISP]);
  expect(
    back2.changedEntities === moreOrders.length && back2.totals.written === moreOrders.length,
    `the second backfill should copy ${moreOrders.length} entities, it read ${back2.changedEntities}`,
  );
  expect(typeof back2.lagSeconds === "number", "the backfill should report its lag");
  ok(
    `${back2.changedEntities} changed entities, lag ${back2.lagSeconds} s: the destination trails the source by seconds.`,
  );

  // ------------------------------------------------------------------------------------------------
  step(5, "Verify: compare every entity of both sides (no Timestamp filter), then repair.");
  const v1 = await tableSync<CheckJson>(s, ["verify", ...COMMON, ...RENAME], 1);
  const ordersV1 = v1.verify.find((v) => v.source === ORDERS);
  expect(
    v1.differences === 1 && ordersV1?.extra === 1 && same(ordersV1.extraSamples[0], DELETED),
    `verify should find exactly the deleted order as extra, it found ${v1.differences} differences`,
  );
  ok(`Exit 1: one difference, the deleted order ${keyText(DELETED)}, still "extra" on the destination.`);
  const v2 = await tableSync<CheckJson>(s, ["verify", ...COMMON, ...RENAME, "--repair", "--delete-extra"]);
  const ordersV2 = v2.verify.find((v) => v.source === ORDERS);
  expect(
    v2.ok && ordersV2?.repair?.deleted === 1 && ordersV2.repair.copied === 0,
    `verify --repair --delete-extra should delete 1 entity, it deleted ${ordersV2?.repair?.deleted}`,
  );
  ok("The delete reached the destination (--delete-extra; it is refused once a switch is recorded).");
  const v3 = await tableSync<CheckJson>(s, ["verify", ...COMMON, ...RENAME]);
  expect(v3.ok && v3.inSync && v3.differences === 0, "verify after the repair should be in sync");
  ok("In sync.");

  // ------------------------------------------------------------------------------------------------
  step(6, "Switch: a final backfill, a verify, then switched-at recorded in state.json.");
  const lastMinute = [order(200, "packed"), order(201, "packed")];
  await seedEntities(source.connectionString, ORDERS, lastMinute);
  say(
    `   (The app updates ${lastMinute.length} orders just before: the switch's final backfill carries them.)`,
  );
  await nextSecond(); // so the switch's watermark lies after these writes
  const sw = await tableSync<CheckJson>(s, ["switch", ...COMMON, ...RENAME, ...STATE, ...CRISP]);
  expect(sw.ok && sw.ready && sw.switchedAt, "the switch should be ready and record switched-at");
  expect(
    sw.backfill?.totals.read === lastMinute.length && sw.inSync === true,
    `the switch's final backfill should read ${lastMinute.length} entities, it read ${sw.backfill?.totals.read}`,
  );
  const state = JSON.parse(readFileSync(join(s.workDir, "state.json"), "utf8")) as {
    tables: Record<string, { switchedAt?: string }>;
  };
  const recorded = Object.values(state.tables).map((t) => t.switchedAt);
  expect(
    recorded.length === 2 && recorded.every((at) => at === sw.switchedAt),
    "state.json should hold switched-at for both tables",
  );
  ok(`Ready. switched-at ${sw.switchedAt} (the destination's clock) is in state.json for both tables.`);
  say("   Now the app's setting is changed to the destination (in a workflow: a job behind a required");
  say("   reviewer, see examples/workflows/switch.yml). From here on the app writes to Cosmos.");

  // ------------------------------------------------------------------------------------------------
  step(7, "After the switch: the app writes to Cosmos, while straggling requests still reach the source.");
  const appX = order(12, "cancelled by customer");
  await appWrite(destination, ORDERS, appX);
  say(`   app       → destination: order ${keyText(X)} status 'cancelled by customer'  (the newest truth)`);
  await appWrite(source, ORDERS, order(12, "shipped"));
  await appWrite(source, ORDERS, Y);
  say(`   straggler → source:      order ${keyText(X)} status 'shipped'                (older)`);
  say(`   straggler → source:      new order ${keyText(Y)} status 'shipped'`);
  await nextSecond();

  // ------------------------------------------------------------------------------------------------
  step(8, "Backfill after the switch: reads the destination first and never overwrites the app's writes.");
  const back3 = await tableSync<CopyJson>(s, ["backfill", ...COMMON, ...RENAME, ...STATE, ...CRISP]);
  const ordersBack3 = back3.tables.find((t) => t.source === ORDERS);
  expect(
    back3.totals.read === 2 && back3.totals.written === 1 && back3.totals.conflicts === 1,
    `the backfill after the switch should read 2, write 1 and report 1 conflict; it read ${back3.totals.read}, wrote ${back3.totals.written}, ${back3.totals.conflicts} conflicts`,
  );
  const conflict = ordersBack3?.conflictDetails[0];
  expect(conflict && same(conflict, X), `the conflict should be order ${keyText(X)}`);
  const [xNow, yNow] = await Promise.all([
    readEntity(destination, ORDERS, X),
    readEntity(destination, ORDERS, Y),
  ]);
  expect(str(xNow, "status") === "cancelled by customer", `order ${keyText(X)} lost the app's write`);
  expect(str(yNow, "status") === "shipped", `order ${keyText(Y)} did not arrive`);
  ok(`Order ${keyText(Y)} arrived; order ${keyText(X)} is a conflict, kept safe (summary and JSON):`);
  say(`     "${conflict.message}"`);
  say(`   The destination's ${keyText(X)} still says '${String(str(xNow, "status"))}'.`);

  // ------------------------------------------------------------------------------------------------
  step(9, "Final verify: one difference is left, and it is the one we want.");
  const v4 = await tableSync<CheckJson>(s, ["verify", ...COMMON, ...RENAME, "--no-fail-on-difference"]);
  const ordersV4 = v4.verify.find((v) => v.source === ORDERS);
  const diff = ordersV4?.differentSamples[0];
  expect(
    v4.ok && v4.differences === 1 && ordersV4?.different === 1 && diff && same(diff, X),
    `the final verify should find exactly order ${keyText(X)} different, it found ${v4.differences} differences`,
  );
  expect(diff.properties.join(",") === "status", `order ${keyText(X)} should differ in status only`);
  ok(`Order ${keyText(X)} differs in 'status': the app's newer write on Cosmos, as expected. The source is`);
  say(
    "     retired now, so this is not to be repaired (repair would copy the source's older value over it);",
  );
  say("     --no-fail-on-difference makes verify report it and still exit 0.");

  // ------------------------------------------------------------------------------------------------
  step(10, "Fidelity: every entity compared at wire level, typed, as the destination returns it.");
  const o = await compareWire(s, ORDERS, ORDERS);
  const d = await compareWire(s, DEVICES, DEVICES_DEST);
  expect(
    o.diffs.length === 1 && same(o.diffs[0], X) && o.diffs[0].properties.join(",") === "status",
    `${ORDERS} should differ only in ${keyText(X)} status, it differs in ${o.diffs.map(keyText).join(", ")}`,
  );
  expect(d.diffs.length === 0, `${DEVICES_DEST} differs in ${d.diffs.map(keyText).join(", ")}`);
  ok(`${ORDERS}: ${num(o.count)} entities identical, except the app's write to ${keyText(X)}.`);
  ok(`${DEVICES} → ${DEVICES_DEST}: ${num(d.count)} entities identical (with 'id' renamed to 'entityId').`);
  const e0 = d.dest.get("p00\u0000r000000");
  say(`   ${DEVICES_DEST} p00/r000000 as the destination stores it:`);
  for (const name of ["price", "big", "bytesSent", "lastSeen", "ratio", "entityId", "blob"])
    say(dim(`     ${show(name, e0?.properties.get(name))}`));

  // The values other tools lose, checked one by one as the destination returned them.
  const expectValue = (pk: string, rk: string, name: string, type: string, value: string | boolean) => {
    const v = d.dest.get(`${pk}\u0000${rk}`)?.properties.get(name);
    expect(
      v?.type === type && v.value === value,
      `${DEVICES_DEST} ${pk}/${rk} ${name} arrived as ${v ? `${v.type} ${String(v.value)}` : "nothing"}`,
    );
  };
  expectValue("p00", "r000000", "price", "Edm.Double", "1.0");
  expectValue("p00", "r000000", "big", "Edm.Int64", "9223372036854775807");
  expectValue("p00", "r000000", "bytesSent", "Edm.Int64", "9223372036854775807");
  expectValue("p00", "r000000", "lastSeen", "Edm.DateTime", "2025-01-02T03:04:05.6789012Z");
  expectValue("p00", "r000000", "entityId", "Edm.String", "dev-00000");
  expectValue("p01", "r000001", "when", "Edm.DateTime", "2024-05-01T12:34:01.1234567Z");
  expectValue("p01", "r000001", "price", "Edm.Double", "NaN");
  expect(!e0?.properties.has("id"), `${DEVICES_DEST} still has a property 'id'`);
  ok("1.0 stayed a Double, Int64 kept all 19 digits, DateTimes all 7 digits, NaN stayed NaN.");

  say(`\n${bold("What happened")}`);
  say("   preflight → full sync → backfills while the app wrote (lag in seconds) → verify found the delete");
  say("   no backfill can see, repair removed it → switch (final backfill + verify + switched-at) → the app");
  say("   writes to Cosmos → the backfill after the switch carried the straggler's new order but kept the");
  say("   app's newer write, reporting it as a conflict → the final verify shows exactly that write.");
  say(`\n${bold("Demo succeeded")} in ${seconds(Date.now() - started)}.`);
}

async function startServers(): Promise<AzuriteServer[]> {
  const started = await Promise.allSettled([startAzurite(), startAzurite()]);
  const servers = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    await Promise.all(servers.map((srv) => srv.stop()));
    throw failed.reason;
  }
  return servers;
}

async function main(): Promise<void> {
  say(bold("azure-table-sync demo: a zero-downtime migration from Table Storage to Cosmos DB for Table"));
  say(`\n${bold("0. Two local Azurite table servers, each started empty.")}`);
  const servers = await startServers();
  const workDir = mkdtempSync(join(tmpdir(), "table-sync-demo-"));
  let stopping: Promise<unknown> | undefined;
  const stop = () => (stopping ??= Promise.all(servers.map((srv) => srv.stop())));
  // Ctrl+C or a kill: the servers go too.
  const onSignal = (signal: NodeJS.Signals) => {
    running?.kill("SIGTERM");
    void stop().finally(() => {
      rmSync(workDir, { recursive: true, force: true });
      process.exit(signal === "SIGINT" ? 130 : 143);
    });
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    await demo({ source: servers[0], destination: servers[1], workDir });
  } finally {
    await stop();
    rmSync(workDir, { recursive: true, force: true });
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

main().then(
  () => {
    process.exitCode = 0;
  },
  (err: unknown) => {
    process.stderr.write(`\nDemo failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
