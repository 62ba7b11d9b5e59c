// verify, switch and preflight through the CLI (in-process main()).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { byKey, readAll, seedEntities, simpleEntity, uniqueTable } from "../support/tables.js";

const src = inject("sourceConnectionString");
const dst = inject("destinationConnectionString");
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function cli(argv: string[]) {
  const cwd = mkdtempSync(join(tmpdir(), "cli-modes-"));
  dirs.push(cwd);
  let stdout = "";
  let stderr = "";
  const code = await main(
    argv,
    { SOURCE_CONNECTION_STRING: src, DESTINATION_CONNECTION_STRING: dst },
    { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } },
    { cwd, progressIntervalMs: 0 },
  );
  return { code, stdout, stderr, cwd };
}

describe("table-sync verify / switch / preflight", () => {
  it("preflight exits 1 naming the rename to add, 0 with it; the JSON report is written", async () => {
    const t = uniqueTable("clipre");
    await seedEntities(src, t, [simpleEntity("p", "1", { ETag: "x" })]);
    const bad = await cli(["preflight", "--tables", t, "--destination-kind", "cosmos"]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/BLOCKING: .*ETag:entityETag/);
    const report = JSON.parse(readFileSync(join(bad.cwd, "table-sync-report.json"), "utf8")) as {
      mode: string;
    };
    expect(report.mode).toBe("preflight");
    const good = await cli([
      "preflight",
      "--tables",
      t,
      "--destination-kind",
      "cosmos",
      "--property-renames",
      "ETag:entityETag",
    ]);
    expect(good.code, good.stdout).toBe(0);
  });

  it("verify exits 1 on a difference, --repair fixes it, switch records switched-at in the state file", async () => {
    const t = uniqueTable("cliver");
    await seedEntities(src, t, [simpleEntity("p", "1", { v: 1.5 }), simpleEntity("p", "2", { v: 2 })]);
    const stateDir = mkdtempSync(join(tmpdir(), "cli-state-"));
    dirs.push(stateDir);
    const state = join(stateDir, "state.json");
    expect((await cli(["full-sync", "--tables", t, "--state-file", state])).code).toBe(0);
    await seedEntities(dst, t, [simpleEntity("p", "2", { v: 3 })]);
    const v = await cli(["verify", "--tables", t]);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain("different PartitionKey 'p', RowKey '2': v");
    // The fix in the CLI's flags, not the action's inputs ('repair: true').
    expect(v.stdout).toContain(
      "run verify with --repair to copy them (and --delete-extra to remove entities the source no longer has).",
    );
    expect(v.stdout).not.toContain("'repair: true'");
    const fix = await cli(["verify", "--tables", t, "--repair"]);
    expect(fix.code, fix.stdout).toBe(0);
    expect(
      byKey(await readAll(dst, t))
        .get("p\u00002")
        ?.properties.get("v")?.value,
    ).toBe("2");
    const noState = await cli(["switch", "--tables", t]);
    expect(noState.code).toBe(2);
    expect(noState.stderr).toContain("--state-file");
    const sw = await cli(["switch", "--tables", t, "--state-file", state]);
    expect(sw.code, sw.stdout + sw.stderr).toBe(0);
    expect(sw.stdout).toMatch(/switch: ready; switched-at .*Z recorded/);
    const saved = JSON.parse(readFileSync(state, "utf8")) as {
      tables: Record<string, { switchedAt?: string }>;
    };
    expect(saved.tables[`${t}→${t}`].switchedAt).toMatch(/Z$/);
  });
});
