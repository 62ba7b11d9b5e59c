// Resume through the real `table-sync` process: SIGTERM (what CI sends on cancel and time-out) saves a
// checkpoint and exits 143 (128 + 15); after `kill -9` the next run resumes from the last checkpoint and ends
// exact. Also Ctrl+C (SIGINT, 130) on verify and twice on a full sync, and --version from the built CLI.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { parseState, type State } from "../../src/state/state.js";
import { tableKey } from "../../src/state/table-key.js";
import { startCosmosDouble } from "../support/cosmos-double.js";
import { rawDifferences, rawEntities } from "../support/sync.js";
import { readAll, seedEntities, simpleEntity, uniqueTable } from "../support/tables.js";
import type { WireEntity } from "../../src/engine/wire/edm.js";

const src = inject("sourceConnectionString");
const dst = inject("destinationConnectionString");
const dstPort = inject("destinationPort");
const root = resolve(import.meta.dirname, "../..");
/** A private build (inside node_modules, so the packages resolve): never races other users of build/. */
const out = join(root, "node_modules", ".cache", "table-sync-resume-test");
const bin = join(out, "src", "cli", "index.js");
const env = { ...process.env, SOURCE_CONNECTION_STRING: src, DESTINATION_CONNECTION_STRING: dst };

const dirs: string[] = [];
const children: ChildProcess[] = [];
function stateFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "table-sync-resume-"));
  dirs.push(dir);
  return join(dir, "state.json");
}

beforeAll(() => {
  // tsc reports type errors in files others are editing but still emits; only a missing entry point fails.
  try {
    execFileSync(
      process.execPath,
      [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json", "--outDir", out],
      {
        cwd: root,
        stdio: "pipe",
      },
    );
  } catch (err) {
    if (!existsSync(bin)) throw err;
  }
}, 120_000);

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

function entities(count: number): WireEntity[] {
  return Array.from({ length: count }, (_, i) =>
    simpleEntity(`p${String(Math.floor(i / 500)).padStart(3, "0")}`, `r${String(i).padStart(6, "0")}`, {
      i,
      text: "x".repeat(200),
    }),
  );
}

function spawnCli(
  args: string[],
  childEnv: NodeJS.ProcessEnv = env,
): {
  child: ChildProcess;
  stderr: () => string;
  stdout: () => string;
  exit: Promise<number | null>;
} {
  const cwd = mkdtempSync(join(tmpdir(), "table-sync-resume-cwd-"));
  dirs.push(cwd);
  const child = spawn(process.execPath, [bin, ...args], {
    env: childEnv,
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let stderr = "";
  let stdout = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  const exit = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return { child, stderr: () => stderr, stdout: () => stdout, exit };
}

function loadState(path: string): State | undefined {
  try {
    return parseState(readFileSync(path, "utf8"), path);
  } catch {
    return undefined;
  }
}

async function until<T>(
  what: string,
  check: () => T | undefined,
  timeoutMs = 60_000,
  everyMs = 5,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function cliInProcess(
  argv: string[],
  cliEnv: NodeJS.ProcessEnv = env,
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(
    argv,
    cliEnv,
    { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } },
    { cwd: tmpdir(), progressIntervalMs: 0 },
  );
  return { code, stdout, stderr };
}

/**
 * Run `args` with checkpoints every second and kill -9 the process the moment the first checkpoint of table `t`
 * lands (any later moment is as safe, but re-reads more).
 */
async function killAtFirstCheckpoint(args: string[], t: string, childEnv: NodeJS.ProcessEnv = env) {
  const state = stateFile();
  const run = spawnCli(
    [
      ...args,
      "--state-file",
      state,
      "--checkpoint-seconds",
      "1",
      "--progress-seconds",
      "0",
      "--concurrency",
      "2",
    ],
    childEnv,
  );
  const key = tableKey({ source: t, destination: t });
  const cp = await until("a checkpoint", () => loadState(state)?.tables[key]?.checkpoint, 60_000, 2);
  run.child.kill("SIGKILL");
  expect(await run.exit).toBe(null);
  return { state, key, cp };
}

describe("resume through the table-sync process", () => {
  it("SIGTERM stops after the current page, saves a checkpoint and exits 143; the next run resumes", async () => {
    const t = uniqueTable("sigterm");
    const n = 8_000;
    await seedEntities(src, t, entities(n));
    const state = stateFile();
    const run = spawnCli([
      "full-sync",
      "--tables",
      t,
      "--state-file",
      state,
      "--checkpoint-seconds",
      "3600",
      "--progress-seconds",
      "0.05",
      "--concurrency",
      "2",
    ]);
    await until("progress", () => /\[\w+\] [\d,]+ read/.test(run.stderr()) || undefined);
    run.child.kill("SIGTERM");
    const code = await run.exit;
    expect(code, run.stderr()).toBe(143);
    expect(run.stderr()).toContain("SIGTERM: stopping after the current page and saving a checkpoint");
    expect(run.stderr()).toMatch(
      new RegExp(
        `a checkpoint was saved: the next full sync resumes table ${t} after its first \\d+ entities`,
      ),
    );
    const cp = loadState(state)!.tables[tableKey({ source: t, destination: t })].checkpoint!;
    expect(cp.read).toBeGreaterThan(0);
    expect(cp.read).toBeLessThan(n);
    expect((await readAll(dst, t)).length).toBeGreaterThanOrEqual(cp.read);

    const second = await cliInProcess(["full-sync", "--tables", t, "--state-file", state, "--json"]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(`Resuming the full sync started at`);
    const out = JSON.parse(second.stdout) as { totals: { read: number }; nextSince?: string };
    expect(out.totals.read).toBe(n - cp.read);
    // The next backfill starts where the resumed scan began, not where this run's part of it did.
    const clock = cp.sourceClockAtStart.replace(/\.\d+Z$/, "Z");
    expect(out.nextSince).toBe(clock);
    expect(second.stderr).toContain(`Next backfill: table-sync backfill --since ${clock} …`);
    expect(rawDifferences(await rawEntities(src, t), await rawEntities(dst, t))).toEqual([]);
    expect(loadState(state)!.tables[tableKey({ source: t, destination: t })].watermark).toBe(
      cp.sourceClockAtStart,
    );
  });

  it("after kill -9 the next run re-reads little and ends exact", async () => {
    const t = uniqueTable("kill9");
    const n = 20_000;
    await seedEntities(src, t, entities(n));
    const { state, key, cp } = await killAtFirstCheckpoint(["full-sync", "--tables", t], t);
    const landed = (await readAll(dst, t)).length;
    expect(landed).toBeGreaterThanOrEqual(cp.read);
    expect(landed).toBeLessThan(n);

    const second = await cliInProcess(["full-sync", "--tables", t, "--state-file", state, "--json"]);
    expect(second.code, second.stderr).toBe(0);
    const read = (JSON.parse(second.stdout) as { totals: { read: number } }).totals.read;
    const after = loadState(state)!;
    const resumedFrom = n - read;
    expect(resumedFrom).toBeGreaterThanOrEqual(cp.read); // from that checkpoint or a later one
    // Entities the second run read again although the first had already written them.
    const reread = landed - resumedFrom;
    expect(reread).toBeLessThan(n * 0.1);
    expect(rawDifferences(await rawEntities(src, t), await rawEntities(dst, t))).toEqual([]);
    expect(after.tables[key].watermark).toBe(cp.sourceClockAtStart);
    expect(after.fullSync).toBeUndefined();
  });

  it("a rollback from Cosmos killed with -9 resumes where its finished key ranges end, and ends exact", async () => {
    // Cosmos (the double before the destination Azurite, its whole table's order mixed) back into Storage.
    const cosmos = await startCosmosDouble({
      target: dstPort,
      pageSize: 200,
      windowSize: 50_000,
      seed: "kill9",
    });
    try {
      const t = uniqueTable("kill9Rollback");
      const n = 12_000;
      await seedEntities(dst, t, entities(n));
      const rollbackEnv = {
        ...env,
        SOURCE_CONNECTION_STRING: cosmos.connectionString(),
        DESTINATION_CONNECTION_STRING: src,
      };
      const args = ["full-sync", "--tables", t, "--source-kind", "cosmos", "--destination-kind", "table"];
      const { state, key, cp } = await killAtFirstCheckpoint(args, t, rollbackEnv);
      // A ranged read's resume point (under a field of its own, which a release before ranged reads refuses
      // rather than sends as a token): every partition before the key is written, as counted.
      const from = "rangedFrom" in cp.continuation ? cp.continuation.rangedFrom : undefined;
      expect(from).toBeDefined();
      const before = entities(n).filter((e) => e.partitionKey < from!).length;
      expect(cp.read).toBe(before);
      expect((await readAll(src, t)).length).toBeGreaterThanOrEqual(cp.read);

      const second = await cliInProcess([...args, "--state-file", state, "--json"], rollbackEnv);
      expect(second.code, second.stderr).toBe(0);
      const read = (JSON.parse(second.stdout) as { totals: { read: number } }).totals.read;
      expect(n - read).toBeGreaterThanOrEqual(cp.read); // from that checkpoint or a later one
      expect(rawDifferences(await rawEntities(dst, t), await rawEntities(src, t))).toEqual([]);
      expect(loadState(state)!.tables[key].checkpoint).toBeUndefined();
    } finally {
      await cosmos.stop();
    }
  });

  it("Ctrl+C on verify gives no verdict and exits 130", async () => {
    const t = uniqueTable("sigintver");
    await seedEntities(src, t, entities(8_000));
    const run = spawnCli(["verify", "--tables", t, "--progress-seconds", "0.05", "--concurrency", "2"]);
    await until("progress", () => new RegExp(`\\[${t}\\] verify: `).test(run.stderr()) || undefined);
    run.child.kill("SIGINT");
    expect(await run.exit, run.stderr()).toBe(130);
    expect(run.stderr()).toContain("Stopping the verify: it gives no verdict (Ctrl+C again to quit now)…");
    expect(run.stderr()).not.toContain("checkpoint");
    expect(run.stdout()).toContain("verify cancelled: no verdict (0 of 1 table compared before the cancel).");
    expect(run.stdout()).not.toMatch(/verify: \d+ difference|in sync\./);
  });

  it("Ctrl+C on a full sync without --state-file says no checkpoint is saved; a second Ctrl+C quits at once", async () => {
    const t = uniqueTable("sigint2");
    await seedEntities(src, t, entities(8_000));
    const noState = spawnCli([
      "full-sync",
      "--tables",
      t,
      "--progress-seconds",
      "0.05",
      "--concurrency",
      "2",
    ]);
    await until("progress", () => /\[\w+\] [\d,]+ read/.test(noState.stderr()) || undefined);
    noState.child.kill("SIGINT");
    expect(await noState.exit, noState.stderr()).toBe(130);
    expect(noState.stderr()).toContain(
      "Stopping after the current page; without --state-file no checkpoint is saved, so the next full-sync starts from the beginning (Ctrl+C again to quit now)…",
    );
    expect(noState.stderr()).toContain(
      "table-sync: The full sync was cancelled; without --state-file no checkpoint was saved",
    );

    const state = stateFile();
    const twice = spawnCli([
      "full-sync",
      "--tables",
      t,
      "--state-file",
      state,
      "--progress-seconds",
      "0.05",
      "--concurrency",
      "2",
      // Slow enough that finishing the current page outlasts the second Ctrl+C.
      "--max-entities-per-second",
      "200",
    ]);
    await until("progress", () => /\[\w+\] [\d,]+ read/.test(twice.stderr()) || undefined);
    twice.child.kill("SIGINT");
    await until("the stop notice", () => twice.stderr().includes("saving a checkpoint") || undefined);
    twice.child.kill("SIGINT");
    expect(await twice.exit, twice.stderr()).toBe(130);
    expect(twice.stderr().trimEnd().split("\n").at(-1)).toBe(
      "Stopped at once; the last saved checkpoint stands.",
    );
  });

  it("--version prints the package's version from the built CLI", async () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
    const run = spawnCli(["--version"]);
    expect(await run.exit).toBe(0);
    expect(run.stdout()).toBe(`table-sync ${pkg.version}\n`);
  });
});
