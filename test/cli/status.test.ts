// `table-sync status` and the other commands' new figures through the CLI (in-process, against Azurite):
// status in each phase with the lag sparkline, exit 1 with one sentence without a state, preflight's
// planning figures and kept size, the full sync's progress lines with percent and time left, and a full sync
// that resumes only the copy its records describe.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { main, type CliDeps } from "../../src/cli/main.js";
import { seedEntities, simpleEntity, uniqueTable } from "../support/tables.js";

const src = inject("sourceConnectionString");
const dst = inject("destinationConnectionString");
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function stateFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "table-sync-status-"));
  dirs.push(dir);
  return join(dir, "state.json");
}

async function cli(argv: string[], deps: CliDeps = {}) {
  let stdout = "";
  let stderr = "";
  const cwd = mkdtempSync(join(tmpdir(), "table-sync-status-cwd-"));
  dirs.push(cwd);
  const code = await main(
    argv,
    {},
    { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } },
    { cwd, progressIntervalMs: 0, ...deps },
  );
  return { code, stdout, stderr };
}

const both = ["--source-connection-string", src, "--destination-connection-string", dst];

describe("table-sync status", () => {
  it("exits 1 with one sentence when there is no state, and 2 without --state-file", async () => {
    const file = stateFile();
    const none = await cli(["status", "--tables", "orders", "--state-file", file]);
    expect(none.code).toBe(1);
    expect(none.stdout).toBe("");
    expect(none.stderr).toBe(
      `table-sync: No state was found in the file ${file}: run full-sync with this --state-file first, or point --state-file at the one your full-sync and backfills use.\n`,
    );
    const usage = await cli(["status", "--tables", "orders"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toBe(
      "table-sync: Status reads the state: give --state-file, the one your full-sync and backfills use.\n",
    );
  });

  it("walks a table from preflight to backfills: planning figures, ETA lines, phases, the sparkline", async () => {
    const t = uniqueTable("cliStatus");
    const count = 2_500;
    await seedEntities(
      src,
      t,
      Array.from({ length: count }, (_, i) =>
        simpleEntity(`p${i % 50}`, `r${String(i).padStart(5, "0")}`, { i }),
      ),
    );
    const file = stateFile();
    const pre = await cli([
      "preflight",
      "--tables",
      t,
      "--source-connection-string",
      src,
      "--destination-kind",
      "cosmos",
      "--ru-per-second",
      "400",
      "--state-file",
      file,
      "--report-path",
      join(file, "..", "report.json"),
    ]);
    expect(pre.code, pre.stderr).toBe(0);
    expect(pre.stdout).toContain(
      "Entities per partition: median 50, 99th percentile 50; 0 % of the partitions hold a single entity",
    );
    // 2,500 entities under 1 KB at 4.95 RU: 12,375 RU; at 400 RU/s, 31 s (30.9 up).
    expect(pre.stdout).toContain(
      "the full sync's writes spend about 12,375 RU; at 400 RU/s (ru-per-second) that is at least 31 s.",
    );

    let s = await cli(["status", "--tables", t, "--state-file", file, "--source-connection-string", src]);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toContain(`${t}: not started`);

    // Progress lines every page (the interval is 1 ms here): percent of the size preflight counted.
    const full = await cli(
      ["full-sync", "--tables", t, ...both, "--state-file", file, "--max-entities-per-second", "2500"],
      {
        progressIntervalMs: 1,
      },
    );
    expect(full.code, full.stderr).toBe(0);
    expect(full.stderr).toMatch(
      new RegExp(
        `\\[${t}\\] [\\d,]+ read, [\\d,]+ written, \\d+\\.\\d % of 2,500 entities \\(counted by preflight\\), [\\d,]+/s, (about .* left|time left not known yet|nothing left), .* elapsed`,
      ),
    );

    s = await cli(["status", "--tables", t, "--state-file", file]);
    expect(s.stdout).toContain(`${t}: full sync done\n  entities copied: 2,500\n`);
    expect(s.stdout).toContain(
      "note: No source was given, so the lag now (on the source's clock) is not shown.",
    );

    for (let i = 0; i < 3; i++) {
      await seedEntities(src, t, [simpleEntity("new", `n${i}`)]);
      const b = await cli([
        "backfill",
        "--tables",
        t,
        ...both,
        "--state-file",
        file,
        "--overlap-seconds",
        "0",
      ]);
      expect(b.code, b.stderr).toBe(0);
      // After each backfill: the table's lag series so far, one bar per backfill.
      const bars = `[▁▂▃▄▅▆▇█]{${i + 1}}`;
      expect(b.stdout).toMatch(
        new RegExp(`\\[${t}\\] lag over the last ${i + 1} backfills?: ${bars} {2}\\d+ s → \\d+ s\\n`),
      );
    }
    s = await cli(["status", "--tables", t, "--state-file", file, "--source-connection-string", src]);
    expect(s.code).toBe(0);
    expect(s.stdout).toContain(`${t}: backfilling`);
    expect(s.stdout).toMatch(
      / {2}lag over the last 3 backfills: [▁▂▃▄▅▆▇█]{3} {2}\d+ s → \d+ s; changed \(latest last\): [\d,]+, [\d,]+, [\d,]+\n/,
    );
    expect(s.stdout).toMatch(/lag now \d+ s \(source clock\)/);
    // --json: the result on stdout, the text on stderr.
    const json = await cli(["status", "--tables", t, "--state-file", file, "--json"]);
    const result = JSON.parse(json.stdout) as { tables: { phase: string; history: unknown[] }[] };
    expect(result.tables[0]).toMatchObject({ phase: "backfilling" });
    expect(result.tables[0].history).toHaveLength(3);
    // Nothing written by status.
    const before = readFileSync(file, "utf8");
    await cli(["status", "--state-file", file]);
    expect(readFileSync(file, "utf8")).toBe(before);
  });

  it("a full sync with another write-mode copies a finished table afresh, and says so", async () => {
    const t = uniqueTable("cliBound");
    await seedEntities(src, t, [simpleEntity("a", "1"), simpleEntity("a", "2")]);
    const file = stateFile();
    const first = await cli(["full-sync", "--tables", `${t},${t}Typo`, ...both, "--state-file", file]);
    expect(first.code).toBe(1);
    const second = await cli([
      "full-sync",
      "--tables",
      t,
      ...both,
      "--state-file",
      file,
      "--write-mode",
      "merge",
    ]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(
      `Table ${t} was completed by a full sync with another --write-mode, so it is copied afresh.`,
    );
    expect(second.stdout).toMatch(/2 read/);
  });
});
