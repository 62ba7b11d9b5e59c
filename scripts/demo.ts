// `npm run demo`: a zero-downtime migration in miniature, on two local Azurite table servers.
// Seeds two tables with every EDM type, runs a full sync and a backfill through the real CLI, and
// checks that the destination equals the source at wire level. Exit 0 on success.
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { differingProperties, type WireEntity, type WireValue } from "../src/engine/edm.js";
import { startAzurite, type AzuriteServer } from "../test/support/azurite.js";
import { sampleEntities, sampleEntity } from "../test/support/sample-entities.js";
import { byKey, readAll, seedEntities } from "../test/support/tables.js";

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, "..", "src", "cli", "index.js"); // build/scripts → build/src/cli/index.js

const ORDERS = "DemoOrders";
const DEVICES = "DemoDevices";
const DEVICES_DEST = "DemoDevicesV2"; // copied under a new name: --tables source:destination
const TABLES = `${ORDERS},${DEVICES}:${DEVICES_DEST}`;

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);
const say = (s = "") => process.stdout.write(s + "\n");
const step = (n: number, s: string) => say(`\n${bold(`${n}. ${s}`)}`);
const num = (n: number) => n.toLocaleString("en-US");

interface CliJson {
  totals: { read: number; written: number; failed: number; durationMs: number };
  tables: { source: string; read: number; written: number; sourceClockAtStart?: string }[];
  nextSince?: string;
}

/** Run the built CLI as a user would: its progress and summary go straight to this terminal. */
async function tableSync(
  args: string[],
  source: AzuriteServer,
  destination: AzuriteServer,
): Promise<CliJson> {
  say(dim(`$ table-sync ${args.join(" ")}`));
  const child = spawn(process.execPath, [CLI, ...args], {
    // Secrets through the environment, never on the command line.
    env: {
      ...process.env,
      SOURCE_CONNECTION_STRING: source.connectionString,
      DESTINATION_CONNECTION_STRING: destination.connectionString,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  // The CLI's progress and summary (on its stderr, since --json takes stdout) shown in line with ours.
  child.stderr.on("data", (chunk: Buffer) => process.stdout.write(chunk));
  const code = await new Promise<number>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (c) => resolve(c ?? 1));
  });
  if (code !== 0) throw new Error(`table-sync ${args[0]} exited with ${code}`);
  return JSON.parse(stdout) as CliJson;
}

function devicesEntity(i: number): WireEntity {
  const e = sampleEntity(i, 5);
  e.properties.set("firmware", { type: "Edm.String", value: `1.${i % 9}.${i % 4}` });
  e.properties.set("bytesSent", { type: "Edm.Int64", value: String(2n ** 60n + BigInt(i)) });
  return e;
}

async function verify(
  source: AzuriteServer,
  destination: AzuriteServer,
  from: string,
  to: string,
): Promise<{ count: number; read: Map<string, WireEntity> }> {
  const [a, b] = await Promise.all([
    readAll(source.connectionString, from),
    readAll(destination.connectionString, to),
  ]);
  const dest = byKey(b);
  if (a.length !== b.length)
    throw new Error(`${to} has ${b.length} entities, the source ${from} has ${a.length}`);
  for (const e of a) {
    const other = dest.get(`${e.partitionKey}\u0000${e.rowKey}`);
    if (!other) throw new Error(`${to} lacks PartitionKey '${e.partitionKey}', RowKey '${e.rowKey}'`);
    const diff = differingProperties(e, other);
    if (diff.length) {
      throw new Error(
        `${to} differs at PartitionKey '${e.partitionKey}', RowKey '${e.rowKey}' in ${diff.join(", ")}`,
      );
    }
  }
  return { count: a.length, read: dest };
}

function show(name: string, v: WireValue | undefined): string {
  return v
    ? `${name} = ${v.type} ${typeof v.value === "string" ? v.value : String(v.value)}`
    : `${name} missing`;
}

async function demo(): Promise<void> {
  const started = Date.now();
  say(bold("azure-table-sync demo: a zero-downtime migration on two local table servers"));

  step(1, "Start two Azurite table servers: one plays Azure Table Storage, the other the destination.");
  const servers = await Promise.all([startAzurite(), startAzurite()]);
  const stateFile = join(mkdtempSync(join(tmpdir(), "table-sync-demo-")), "state.json");
  const [source, destination] = servers;
  try {
    say(`   source      ${source.endpoint}`);
    say(`   destination ${destination.endpoint}`);

    step(2, "Seed the source with two tables that use every EDM type.");
    const orders = sampleEntities(3000, 30);
    const devices = Array.from({ length: 1500 }, (_, i) => devicesEntity(i));
    await Promise.all([
      seedEntities(source.connectionString, ORDERS, orders),
      seedEntities(source.connectionString, DEVICES, devices),
    ]);
    say(
      `   ${ORDERS}: ${num(orders.length)} entities in 30 partitions; ${DEVICES}: ${num(devices.length)} in 5.`,
    );
    say("   Values other tools lose: whole-number Doubles (1.0), Int64 beyond 2^53, DateTimes with 7");
    say("   fractional digits, NaN and ±Infinity, Binary, Guid, Unicode strings.");
    // The source clock has one-second resolution: start the full sync in a later second than the seed.
    await new Promise((r) => setTimeout(r, 1050 - (Date.now() % 1000)));

    step(3, "Full sync through the CLI (connection strings come from environment variables).");
    const full = await tableSync(
      ["full-sync", "--tables", TABLES, "--state-file", stateFile, "--progress-seconds", "1", "--json"],
      source,
      destination,
    );
    const clocks = full.tables.map((t) => t.sourceClockAtStart).filter((c): c is string => !!c);
    if (clocks.length !== full.tables.length) throw new Error("the full sync reported no source clock");
    const since = clocks.sort()[0].replace(/\.000Z$/, "Z");
    say(
      `   The full sync began at ${since} by the source's clock; each table's watermark is in ${stateFile}.`,
    );

    step(4, "Meanwhile the application keeps writing to the source.");
    const updatedOrders = Array.from({ length: 40 }, (_, k) => {
      const e = sampleEntity(k * 71, 30);
      e.properties.set("status", { type: "Edm.String", value: "shipped" });
      e.properties.set("price", { type: "Edm.Double", value: `${k}.0` });
      return e;
    });
    const newDevices = Array.from({ length: 25 }, (_, k) => devicesEntity(1500 + k));
    const updatedDevices = Array.from({ length: 10 }, (_, k) => {
      const e = devicesEntity(k * 13);
      e.properties.set("bytesSent", { type: "Edm.Int64", value: "9223372036854775807" });
      e.properties.set("lastSeen", { type: "Edm.DateTime", value: "2025-01-02T03:04:05.6789012Z" });
      return e;
    });
    await seedEntities(source.connectionString, ORDERS, updatedOrders);
    await seedEntities(source.connectionString, DEVICES, [...newDevices, ...updatedDevices]);
    const changes = updatedOrders.length + newDevices.length + updatedDevices.length;
    say(
      `   Updated ${updatedOrders.length} orders, added ${newDevices.length} devices, updated ${updatedDevices.length} devices.`,
    );

    step(5, `Backfill through the CLI from the stored watermarks: only entities with Timestamp ≥ ${since}.`);
    say("   (The demo sets --overlap-seconds 0 so you see exactly the changes; real runs keep the default");
    say("   120 s overlap, which re-reads writes that were in flight when the watermark was taken.)");
    const back = await tableSync(
      [
        "backfill",
        "--tables",
        TABLES,
        "--state-file",
        stateFile,
        "--overlap-seconds",
        "0",
        "--progress-seconds",
        "1",
        "--json",
      ],
      source,
      destination,
    );
    if (back.totals.read < changes) {
      throw new Error(`the backfill read ${back.totals.read} entities but ${changes} had changed`);
    }

    step(6, "Verify: the destination equals the source, property by property, at wire level.");
    const o = await verify(source, destination, ORDERS, ORDERS);
    const d = await verify(source, destination, DEVICES, DEVICES_DEST);
    say(`   ${ORDERS} → ${ORDERS}: ${num(o.count)} entities identical (types and values).`);
    say(`   ${DEVICES} → ${DEVICES_DEST}: ${num(d.count)} entities identical.`);
    for (const [pk, rk] of [
      ["p00", "r000000"],
      ["p01", "r000001"],
    ]) {
      const e = d.read.get(`${pk}\u0000${rk}`);
      say(`   ${DEVICES_DEST} PartitionKey ${pk}, RowKey ${rk} as the destination stores it:`);
      for (const name of ["price", "big", "ratio", "when", "guid", "blob"])
        say(`     ${show(name, e?.properties.get(name))}`);
    }

    // The values other tools lose, checked one by one as the destination returned them.
    const expectValue = (pk: string, rk: string, name: string, type: string, value: string | boolean) => {
      const v = d.read.get(`${pk}\u0000${rk}`)?.properties.get(name);
      if (v?.type !== type || v.value !== value) {
        throw new Error(
          `${DEVICES_DEST} ${pk}/${rk} ${name} arrived as ${v ? `${v.type} ${String(v.value)}` : "nothing"}`,
        );
      }
    };
    expectValue("p00", "r000000", "price", "Edm.Double", "1.0");
    expectValue("p00", "r000000", "big", "Edm.Int64", "9223372036854775807");
    expectValue("p01", "r000001", "when", "Edm.DateTime", "2024-05-01T12:34:01.1234567Z");
    expectValue("p01", "r000001", "price", "Edm.Double", "NaN");

    const extra = back.totals.read - changes;
    say(`\n${bold("What happened")}`);
    say(
      `   • The full sync copied ${num(full.totals.written)} entities of 2 tables in ${(full.totals.durationMs / 1000).toFixed(1)} s.`,
    );
    say(
      `   • The backfill read ${num(back.totals.read)} entities and wrote ${num(back.totals.written)}: the ${changes} that changed` +
        (extra > 0 ? ` and ${extra} written in the second the full sync began` : "") +
        ", not the whole table.",
    );
    say(
      "   • Every Double kept its type (1.0 stayed a Double), Int64 kept all 19 digits, DateTimes all 7 digits.",
    );
    say(
      "   • In a real migration you repeat the backfill until the lag is small, switch the application to the",
    );
    say(
      "     destination, and run one more backfill to catch writes that reached the old account during the switch.",
    );
    say(`\n${bold("Demo succeeded")} in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

demo().then(
  () => {
    process.exitCode = 0;
  },
  (err: unknown) => {
    process.stderr.write(`\nDemo failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
