// full-sync and backfill through main() against the two Azurite servers: exact copies, connection strings
// from flags, the environment and .env, failures named in the CLI's words, progress, cancel, dry run, and
// the watermarks --state-file keeps.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { emptyState, serializeState } from "../../src/state/state.js";
import { tableKey } from "../../src/state/table-key.js";
import { sampleEntities, sampleEntity } from "../support/sample-entities.js";
import { byKey, createTable, insertRaw, readAll, seedEntities, uniqueTable } from "../support/tables.js";
import {
  cli,
  dst,
  expectNoSecrets,
  expectSame,
  flags,
  removeWorkDirs,
  sleep,
  src,
  workDir,
} from "./cli-harness.js";

afterAll(removeWorkDirs);

describe("table-sync CLI", () => {
  it("copies two tables end to end with exact types", async () => {
    const a = uniqueTable("clia");
    const b = uniqueTable("clib");
    const b2 = uniqueTable("clib");
    await seedEntities(src, a, sampleEntities(2500, 7));
    await seedEntities(src, b, sampleEntities(300, 3));
    const run = await cli(["full-sync", "--tables", `${a},${b}:${b2}`, ...flags]);
    expect(run.stderr).toContain(`[${a}] copying to ${a}…`);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain(
      "full-sync finished: 2 tables, 2,800 read, 2,800 written, 0 skipped, 0 failed",
    );
    expect(run.stdout).toMatch(
      new RegExp(`${a}\\s+2,500\\s+2,500\\s+0\\s+0\\s+[\\d.]+ s\\s+[\\d,]+\\s+\\d{4}-\\d\\d-\\d\\dT`),
    );
    expect(run.stdout).toContain(`${b} → ${b2}`);
    expect(run.stdout).toMatch(/Next backfill: table-sync backfill --since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
    expectSame(await readAll(src, a), await readAll(dst, a));
    expectSame(await readAll(src, b), await readAll(dst, b2));
    const d = byKey(await readAll(dst, a));
    expect(d.get("p01\u0000r000001")!.properties.get("big")).toEqual({
      type: "Edm.Int64",
      value: "-9223372036854775808",
    });
    expect(d.get("p00\u0000r000000")!.properties.get("price")).toEqual({ type: "Edm.Double", value: "1.0" });
    expectNoSecrets(run);
  });

  it("backfills only what changed since the reported source clock, ANDed with --query-filter", async () => {
    const t = uniqueTable("clibf");
    await seedEntities(src, t, sampleEntities(400, 4));
    await sleep(1100); // the source clock has 1 s resolution: let the seed fall before it
    const full = await cli(["full-sync", "--tables", t, "--json", ...flags]);
    expect(full.code, full.stderr).toBe(0);
    const json = JSON.parse(full.stdout) as {
      tables: { sourceClockAtStart: string; read: number }[];
      nextSince: string;
    };
    const clock = json.tables[0].sourceClockAtStart;
    expect(json.tables[0].read).toBe(400);
    expect(json.nextSince).toBe(new Date(Date.parse(clock)).toISOString().replace(".000Z", "Z"));
    expect(full.stderr).toContain("full-sync finished"); // the human summary moves to stderr with --json

    // Change three entities and add one (three of the four in p01), after the full sync.
    const changed = [sampleEntity(1, 4), sampleEntity(5, 4), sampleEntity(2, 4), sampleEntity(401, 4)].map(
      (e) => {
        e.properties.set("name", { type: "Edm.String", value: "changed" });
        return e;
      },
    );
    await seedEntities(src, t, changed);

    const run = await cli(["backfill", "--tables", t, "--since", clock, "--overlap-seconds", "0", ...flags]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain("backfill finished: 1 table, 4 read, 4 written");
    expect(run.stdout).toContain(`Filter: Timestamp ge datetime'${new Date(clock).toISOString()}'`);
    expectSame(await readAll(src, t), await readAll(dst, t));

    const filtered = await cli([
      "backfill",
      "--tables",
      t,
      "--since",
      clock,
      "--overlap-seconds",
      "0",
      "--query-filter",
      "PartitionKey eq 'p01'",
      ...flags,
    ]);
    expect(filtered.code).toBe(0);
    expect(filtered.stdout).toContain("1 table, 3 read, 3 written");
    expect(filtered.stderr).toContain(
      `where (Timestamp ge datetime'${new Date(clock).toISOString()}') and (PartitionKey eq 'p01')`,
    );
  });

  it("takes connection strings from the environment and .env, flags first", async () => {
    // Copied under another name, so the destination server never has a table called t.
    const t = uniqueTable("clienv");
    const spec = `${t}:${uniqueTable("clienvcopy")}`;
    await seedEntities(src, t, sampleEntities(50));
    const envFile = [
      "# secrets for the CLI",
      `SOURCE_CONNECTION_STRING="${src}"`,
      `export DESTINATION_CONNECTION_STRING='${dst}' # the destination`,
    ].join("\n");
    const fromFile = await cli(["full-sync", "--tables", spec], {}, { cwd: workDir(envFile) });
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(fromFile.stdout).toContain("50 written");
    expectNoSecrets(fromFile);

    // The environment wins over .env: .env's source is the destination server, where the table is missing.
    const wrongFile = `SOURCE_CONNECTION_STRING=${dst}\nDESTINATION_CONNECTION_STRING=${dst}\n`;
    const envWins = await cli(
      ["full-sync", "--tables", spec],
      { SOURCE_CONNECTION_STRING: src },
      { cwd: workDir(wrongFile) },
    );
    expect(envWins.code, envWins.stderr).toBe(0);
    const fileOnly = await cli(["full-sync", "--tables", spec], {}, { cwd: workDir(wrongFile) });
    expect(fileOnly.code).toBe(1);

    // A flag wins over the environment.
    const flagWins = await cli(["full-sync", "--tables", spec, "--source-connection-string", src], {
      SOURCE_CONNECTION_STRING: dst,
      DESTINATION_CONNECTION_STRING: dst,
    });
    expect(flagWins.code, flagWins.stderr).toBe(0);
    expectNoSecrets(flagWins);
  });

  it("reports a table missing on the source and exits 1", async () => {
    const t = uniqueTable("climiss");
    const run = await cli(["full-sync", "--tables", t, ...flags]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `${t}: the table did not complete: Table ${t} does not exist on the source.`,
    );
    expect(run.stdout).not.toContain("Next backfill");
  });

  it("exits 1 when an entity fails, listing it with its keys", async () => {
    const t = uniqueTable("clifail");
    await createTable(src, t);
    await insertRaw(src, t, [
      `{"PartitionKey":"pa","RowKey":"ok1","v":1}`,
      `{"PartitionKey":"pa","RowKey":"bad","id":"x"}`,
      `{"PartitionKey":"pb","RowKey":"ok2","v":2}`,
    ]);
    // Cosmos reserves `id`: the guard refuses that entity and the others are still written.
    const run = await cli(["full-sync", "--tables", t, "--destination-kind", "cosmos", "--json", ...flags]);
    expect(run.code).toBe(1);
    const json = JSON.parse(run.stdout) as { totals: { read: number; written: number; failed: number } };
    expect(json.totals).toMatchObject({ read: 3, written: 2, failed: 1 });
    expect(run.stderr).toContain(`${t}: 1 entity failed:`);
    expect(run.stderr).toContain(
      "PartitionKey 'pa', RowKey 'bad': property 'id' is reserved by Cosmos DB for Table",
    );
    expect(run.stderr).toContain("Fix the cause and run the same command again");
    expectNoSecrets(run);

    const renamed = await cli([
      "full-sync",
      "--tables",
      t,
      "--destination-kind",
      "cosmos",
      "--property-renames",
      "id:entityId",
      ...flags,
    ]);
    expect(renamed.code, renamed.stdout).toBe(0);
    const landed = byKey(await readAll(dst, t)).get("pa\u0000bad")!;
    expect(landed.properties.get("entityId")).toEqual({ type: "Edm.String", value: "x" });
  });

  it("prints progress lines at the injected interval", async () => {
    const t = uniqueTable("cliprog");
    await seedEntities(src, t, sampleEntities(3000, 30));
    const run = await cli(
      ["full-sync", "--tables", t, "--concurrency", "2", ...flags],
      {},
      { progressIntervalMs: 5 },
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      new RegExp(`\\[${t}\\] [\\d,]+ read, [\\d,]+ written, [\\d,]+ entities/s, [\\d.]+ s elapsed`),
    );
    expect(run.stderr).toContain(`[${t}] done: 3,000 read, 3,000 written in`);
  });

  it("stops on Ctrl+C, still prints the summary, and exits 130", async () => {
    const t = uniqueTable("clistop");
    await seedEntities(src, t, sampleEntities(20));
    const controller = new AbortController();
    controller.abort();
    const run = await cli(
      ["full-sync", "--tables", `${t},${uniqueTable("clistop")}`, ...flags],
      {},
      { signal: controller.signal },
    );
    expect(run.code).toBe(130);
    // Cancelled before it began: no table is started.
    expect(run.stdout).toContain("full-sync cancelled: 0 tables");
    expect(run.stdout).not.toContain("Next backfill");
  });

  it("writes nothing in a dry run", async () => {
    const t = uniqueTable("clidry");
    await seedEntities(src, t, sampleEntities(20));
    const run = await cli(["full-sync", "--tables", t, "--dry-run", ...flags]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      "full-sync finished (dry run: nothing written): 1 table, 20 read, 0 written",
    );
    // Reading the table from the destination server as a source: it was never created there.
    const missing = await cli([
      "full-sync",
      "--tables",
      `${t}:${t}back`,
      "--no-create-tables",
      "--source-connection-string",
      dst,
      "--destination-connection-string",
      src,
    ]);
    expect(missing.code, missing.stdout + missing.stderr).toBe(1); // the dry run did not create the destination table
    expect(missing.stdout + missing.stderr).toContain(t);
  });

  it("names --no-create-tables when a destination table is missing", async () => {
    const t = uniqueTable("clinoct");
    const absent = uniqueTable("clinoctabsent");
    await seedEntities(src, t, sampleEntities(5));
    const run = await cli(["full-sync", "--tables", `${t}:${absent}`, "--no-create-tables", ...flags]);
    expect(run.code).toBe(1);
    // In the CLI's words, not the action's ("set create-tables to true").
    expect(run.stdout).toContain(
      `Destination table ${absent} does not exist and --no-create-tables was given; create it (with enough throughput) or drop --no-create-tables.`,
    );
    expect(run.stdout + run.stderr).not.toMatch(/set create-tables|create-tables is off/);
  });

  it("names --query-filter when the service rejects the filter", async () => {
    const t = uniqueTable("cliqf");
    await seedEntities(src, t, sampleEntities(5));
    const run = await cli(["full-sync", "--tables", t, "--query-filter", "PartitionKey eq", ...flags]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("check --query-filter, which is ANDed with the watermark filter.");
    expect(run.stdout + run.stderr).not.toContain("'query-filter' input");
  });

  it("warns that --client-id and --tenant-id do nothing with two connection strings", async () => {
    const t = uniqueTable("cliid");
    await seedEntities(src, t, sampleEntities(5));
    const run = await cli(["full-sync", "--tables", t, "--client-id", "abc", "--tenant-id", "def", ...flags]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr.split("\n")[0]).toBe(
      "table-sync: warning: --client-id and --tenant-id are ignored: they pick the Entra ID identity for --source-endpoint or --destination-endpoint, and both sides use a connection string.",
    );
    const quiet = await cli(["full-sync", "--tables", t, ...flags]);
    expect(quiet.stderr).not.toContain("warning");
  });

  it("says what --conflict does with the app's writes after a switch", async () => {
    const t = uniqueTable("cliconf");
    await seedEntities(src, t, sampleEntities(5));
    const dir = workDir();
    const stateFile = join(dir, "state.json");
    const state = emptyState();
    state.tables[tableKey({ source: t, destination: t })] = {
      watermark: "2020-01-01T00:00:00.000Z",
      switchedAt: "2020-01-02T00:00:00.000Z",
    };
    writeFileSync(stateFile, serializeState(state));
    const backfill = ["backfill", "--tables", t, "--state-file", stateFile, ...flags];
    const skip = await cli(backfill);
    expect(skip.code, skip.stdout + skip.stderr).toBe(0);
    expect(skip.stderr).toContain(
      `[${t}] switched at 2020-01-02T00:00:00.000Z: the app's writes on the destination are kept (--conflict skip).`,
    );
    const wins = await cli([...backfill, "--conflict", "source-wins"]);
    expect(wins.code, wins.stdout + wins.stderr).toBe(0);
    expect(wins.stderr).toContain(
      `[${t}] switched at 2020-01-02T00:00:00.000Z: --conflict source-wins, so the source's version overwrites what the app wrote on the destination since.`,
    );
    expect(wins.stderr).not.toContain("are kept");
  });
});

describe("table-sync CLI with --state-file", () => {
  const src = inject("sourceConnectionString");
  const dst = inject("destinationConnectionString");

  it("full-sync records a watermark per table; backfill reads from it; a table without one fails alone", async () => {
    const t = uniqueTable("clist");
    const other = uniqueTable("clino");
    await seedEntities(src, t, sampleEntities(50, 2));
    await seedEntities(src, other, sampleEntities(5, 1));
    await sleep(1100); // the source clock has 1 s resolution: let the seed fall before it
    const dir = mkdtempSync(join(tmpdir(), "cli-state-"));
    const stateFile = join(dir, "state.json");
    const env = { SOURCE_CONNECTION_STRING: src, DESTINATION_CONNECTION_STRING: dst };
    const full = await cli(["full-sync", "--tables", t, "--state-file", stateFile], env);
    expect(full.code, full.stderr).toBe(0);
    const state = JSON.parse(readFileSync(stateFile, "utf8")) as {
      tables: Record<string, { watermark: string }>;
    };
    expect(state.tables[`${t}→${t}`].watermark).toMatch(/Z$/);
    await sleep(1100);
    const changed = sampleEntity(3, 2);
    changed.properties.set("name", { type: "Edm.String", value: "changed later" });
    await seedEntities(src, t, [changed]);
    const back = await cli(
      ["backfill", "--tables", `${t},${other}`, "--state-file", stateFile, "--overlap-seconds", "0"],
      env,
    );
    expect(back.code).toBe(1);
    expect(back.stdout + back.stderr).toContain(`No watermark is stored for table '${other}'`);
    expect(back.stdout).toContain("run 'table-sync full-sync' first, or pass --since with the UTC time");
    expect(back.stdout + back.stderr).not.toContain("set 'since'");
    expect(back.stdout).toContain("1 read, 1 written");
    expectSame(await readAll(src, t), await readAll(dst, t));
  });
});
