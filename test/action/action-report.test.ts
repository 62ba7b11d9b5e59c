// verify/switch/preflight and their JSON report, through the bundled action: a 'report-path' that cannot be
// written is refused before any work, in one sentence naming the input; if writing still fails at the end,
// the outputs and the summary are there anyway (a recorded switch keeps ready/switched-at) and the step fails.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { actionInputs, runAction } from "../support/run-action.js";
import { seedEntities, simpleEntity, uniqueTable } from "../support/tables.js";

const src = () => inject("sourceConnectionString");
const dst = () => inject("destinationConnectionString");

const inputs = actionInputs;

/** The ::error:: lines the runner turns into the step's failure. */
function errorLines(stdout: string): string[] {
  return stdout
    .split("\n")
    .filter((l) => l.startsWith("::error"))
    .map((l) => l.replace(/^::error[^:]*::/, ""));
}

function switchedAt(workspace: string, table: string): string | undefined {
  const file = join(workspace, ".table-sync", "state.json");
  if (!existsSync(file)) return undefined;
  const state = JSON.parse(readFileSync(file, "utf8")) as {
    tables: Record<string, { switchedAt?: string }>;
  };
  return state.tables[`${table}→${table}`]?.switchedAt;
}

const rows = (n: number) => Array.from({ length: n }, (_, i) => simpleEntity("p", `r${i}`, { v: i }));

describe("bundled action: report-path", () => {
  it("a path under a file is refused before the switch runs: one sentence, nothing recorded", async () => {
    const t = uniqueTable("rpf");
    await seedEntities(src(), t, rows(5));
    const full = await runAction({ mode: "full-sync", ...inputs(t) });
    expect(full.code, full.stdout).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), "report-"));
    const file = join(dir, "hostname");
    writeFileSync(file, "x\n");
    const r = await runAction(
      { mode: "switch", ...inputs(t, { "report-path": `${file}/r.json` }) },
      { workspace: full.workspace },
    );
    expect(r.code).toBe(1);
    expect(errorLines(r.stdout)).toEqual([
      `Input 'report-path' is '${file}/r.json', but '${file}' is a file, not a directory; set 'report-path' to a path inside a directory.`,
    ]);
    expect(r.stdout).not.toMatch(/EEXIST|ENOTDIR|::group::/);
    expect(r.outputs.ready).toBeUndefined();
    expect(switchedAt(full.workspace, t)).toBeUndefined();
  });

  for (const mode of ["verify", "preflight"]) {
    it(`${mode}: a directory is refused before the run, naming the input and a file path to give`, async () => {
      const t = uniqueTable("rpd");
      await seedEntities(src(), t, rows(3));
      const dir = mkdtempSync(join(tmpdir(), "report-"));
      const r = await runAction({ mode, ...inputs(t, { "report-path": dir }) });
      expect(r.code).toBe(1);
      expect(errorLines(r.stdout)).toEqual([
        `Input 'report-path' is '${dir}', which is a directory; set 'report-path' to a file in it, e.g. '${join(dir, "table-sync-report.json")}'.`,
      ]);
      expect(r.stdout).not.toMatch(/EISDIR|::group::/);
      expect(r.outputs).toEqual({});
    });
  }

  // /dev/full accepts opening for writing and fails every write with ENOSPC: a disk that fills up during the run.
  it.skipIf(!existsSync("/dev/full"))(
    "switch: a report that cannot be written at the end keeps ready/switched-at, the other outputs and the summary",
    async () => {
      const t = uniqueTable("rpe");
      await seedEntities(src(), t, rows(8));
      const full = await runAction({ mode: "full-sync", ...inputs(t) });
      expect(full.code, full.stdout).toBe(0);
      const r = await runAction(
        { mode: "switch", ...inputs(t, { "report-path": "/dev/full" }) },
        { workspace: full.workspace },
      );
      expect(r.code).toBe(1);
      const recorded = switchedAt(full.workspace, t);
      expect(recorded).toMatch(/Z$/);
      expect(r.outputs.ready).toBe("true");
      expect(r.outputs["switched-at"]).toBe(recorded);
      expect(r.outputs["in-sync"]).toBe("true");
      expect(r.outputs.differences).toBe("0");
      expect(r.outputs["entities-read"]).toBeDefined();
      expect(r.outputs["report-path"]).toBe("");
      expect(JSON.parse(r.outputs["result-json"])).toMatchObject({ mode: "switch", ready: true });
      expect(r.summary).toContain(`switch: ready, switched-at ${recorded}`);
      expect(r.summary).toContain("**Report not written:**");
      expect(errorLines(r.stdout)).toEqual([
        "The JSON report could not be written to '/dev/full' (ENOSPC: no space left on device); the outputs and the job summary stand, but set 'report-path' to a file you can write to.",
      ]);
    },
  );

  it.skipIf(!existsSync("/dev/full"))(
    "verify: the outcome stands when the report cannot be written, and the step fails naming 'report-path'",
    async () => {
      const t = uniqueTable("rpv");
      await seedEntities(src(), t, rows(4));
      await seedEntities(dst(), t, rows(4));
      const r = await runAction({ mode: "verify", ...inputs(t, { "report-path": "/dev/full" }) });
      expect(r.code).toBe(1);
      expect(r.outputs["in-sync"]).toBe("true");
      expect(r.outputs.differences).toBe("0");
      expect(r.summary).toContain("verify: in sync");
      const errors = errorLines(r.stdout);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain("set 'report-path' to a file you can write to");
    },
  );
});
