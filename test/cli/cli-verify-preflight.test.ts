// verify and preflight through main(): --report-path checked before any work and its failure at the end,
// preflight without a destination, progress lines, and cancels that give no verdict (and a full sync's
// cancel without --state-file).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { sampleEntities } from "../support/sample-entities.js";
import { seedEntities, uniqueTable } from "../support/tables.js";
import { cli, dst, expectOneSentence, flags, removeWorkDirs, src, workDir } from "./cli-harness.js";

afterAll(removeWorkDirs);

describe("table-sync verify / preflight: --report-path, progress and cancel", () => {
  const env = { SOURCE_CONNECTION_STRING: src, DESTINATION_CONNECTION_STRING: dst };

  it("refuses a --report-path it cannot write before any work, in one sentence", async () => {
    const dir = workDir();
    writeFileSync(join(dir, "afile"), "");
    mkdirSync(join(dir, "somedir"));
    const underFile = await cli(
      ["verify", "--tables", "abc", "--report-path", join(dir, "afile", "r.json")],
      env,
    );
    expect(expectOneSentence(underFile)).toBe(
      `Option --report-path is '${join(dir, "afile", "r.json")}', but ${join(dir, "afile")} is a file, not a directory; give a path inside a directory.`,
    );
    const directory = await cli(["preflight", "--tables", "abc", "--report-path", join(dir, "somedir")], env);
    expect(expectOneSentence(directory)).toMatch(
      /^Option --report-path is '.*somedir', which is a directory; give a file path/,
    );
    // Relative paths are taken from the working directory.
    const relative = await cli(["verify", "--tables", "abc", "--report-path", "."], env, { cwd: dir });
    expect(expectOneSentence(relative)).toMatch(/^Option --report-path is '\.', which is a directory/);
  });

  it("preflight reads the source alone: no destination needed, destination-kind says what to check", async () => {
    const t = uniqueTable("clipreonly");
    await seedEntities(src, t, sampleEntities(20));
    const run = await cli(["preflight", "--tables", t, "--destination-kind", "cosmos"], {
      SOURCE_CONNECTION_STRING: src,
    });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain("preflight: nothing blocks a full sync.");
    const full = await cli(["full-sync", "--tables", t], { SOURCE_CONNECTION_STRING: src });
    expect(full.code).toBe(2);
  });

  it("creates missing directories for the report", async () => {
    const t = uniqueTable("clirep");
    await seedEntities(src, t, sampleEntities(5));
    const path = join(workDir(), "new", "deeper", "r.json");
    const run = await cli(["preflight", "--tables", t, "--report-path", path], env);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain(`Report: ${path}`);
    expect((JSON.parse(readFileSync(path, "utf8")) as { mode: string }).mode).toBe("preflight");
  });

  it.runIf(existsSync("/dev/full"))(
    "still prints the outcome when the report cannot be written at the end, then says so and exits 1",
    async () => {
      const t = uniqueTable("clifull");
      await seedEntities(src, t, sampleEntities(5));
      await seedEntities(dst, t, sampleEntities(5));
      const run = await cli(["verify", "--tables", t, "--report-path", "/dev/full"], env);
      expect(run.code).toBe(1);
      expect(run.stdout).toContain("verify: in sync.");
      expect(run.stdout).toContain("Report: not written.");
      expect(run.stderr.trimEnd().split("\n").at(-1)).toBe(
        "table-sync: The JSON report could not be written to /dev/full (ENOSPC: no space left on device); the result above stands, but give --report-path a file you can write to.",
      );
    },
  );

  it("prints progress lines for verify and preflight", async () => {
    const t = uniqueTable("cliverprog");
    await seedEntities(src, t, sampleEntities(3000, 30));
    await seedEntities(dst, t, sampleEntities(3000, 30));
    const verify = await cli(["verify", "--tables", t], env, { progressIntervalMs: 2 });
    expect(verify.code, verify.stdout).toBe(0);
    expect(verify.stderr).toMatch(
      new RegExp(
        `\\[${t}\\] verify: (scan|compare), [\\d,]+ source / [\\d,]+ destination entities, [\\d.]+ s elapsed`,
      ),
    );
    const preflight = await cli(["preflight", "--tables", t], env, { progressIntervalMs: 2 });
    expect(preflight.code, preflight.stdout).toBe(0);
    expect(preflight.stderr).toMatch(
      new RegExp(`\\[${t}\\] preflight: [\\d,]+ entities scanned, [\\d.]+ s elapsed`),
    );
    const quiet = await cli(["verify", "--tables", t, "--progress-seconds", "0"], env, {
      progressIntervalMs: undefined,
    });
    expect(quiet.stderr).not.toContain("elapsed");
  });

  it.each([
    ["verify", "SIGINT", 130],
    ["preflight", "SIGINT", 130],
    ["verify", "SIGTERM", 143],
    ["preflight", "SIGTERM", 143],
  ] as const)("a cancelled %s (%s) gives no verdict and exits %i", async (command, by, code) => {
    const t = uniqueTable("clicancel");
    await seedEntities(src, t, sampleEntities(20));
    const controller = new AbortController();
    controller.abort();
    const dir = workDir();
    const run = await cli(["verify" === command ? "verify" : "preflight", "--tables", t], env, {
      cwd: dir,
      signal: controller.signal,
      cancel: { by, quitLine: "" },
    });
    expect(run.code).toBe(code);
    expect(run.stdout).toContain(`${command} cancelled: no verdict (0 of 1 table`);
    expect(run.stdout).not.toMatch(/differences?\.|in sync\.|would fail|nothing blocks/);
    expect(run.stderr).toContain(
      by === "SIGTERM"
        ? `SIGTERM: stopping the ${command}: it gives no verdict`
        : `Stopping the ${command}: it gives no verdict`,
    );
    expect(run.stderr).not.toContain("checkpoint");
    const report = JSON.parse(readFileSync(join(dir, "table-sync-report.json"), "utf8")) as {
      cancelled: boolean;
      ok: boolean;
      inSync?: boolean;
    };
    expect(report).toMatchObject({ cancelled: true, ok: false });
    expect(report.inSync).toBeUndefined();
  });

  it("a verify cancelled half-way keeps the tables it finished and exits 130", async () => {
    const done = uniqueTable("clicanceldone");
    const cut = uniqueTable("clicancelcut");
    await seedEntities(src, done, sampleEntities(10));
    await seedEntities(dst, done, sampleEntities(10));
    await seedEntities(src, cut, sampleEntities(4000, 40));
    const controller = new AbortController();
    let stderr = "";
    let stdout = "";
    const code = await main(
      ["verify", "--tables", `${done},${cut}`],
      env,
      {
        stdout: { write: (s: string) => (stdout += s) },
        stderr: {
          write: (s: string) => {
            stderr += s;
            // Cancel once the second table has shown progress.
            if (s.startsWith(`[${cut}] verify: `)) controller.abort();
          },
        },
      },
      { cwd: workDir(), progressIntervalMs: 2, signal: controller.signal },
    );
    expect(code, stdout + stderr).toBe(130);
    expect(stdout).toContain("verify cancelled: no verdict (1 of 2 tables compared before the cancel).");
    expect(stdout).toMatch(new RegExp(`${done}\\s+10\\s+10\\s+10\\s+0\\s+0\\s+0\\s+—\\s+yes`));
    expect(stdout).not.toContain(cut);
  });

  it("a full sync without --state-file says no checkpoint is saved when cancelled", async () => {
    const t = uniqueTable("clinocp");
    await seedEntities(src, t, sampleEntities(20));
    const controller = new AbortController();
    controller.abort();
    const run = await cli(["full-sync", "--tables", t, ...flags], {}, { signal: controller.signal });
    expect(run.code).toBe(130);
    expect(run.stderr).toContain(
      "Stopping after the current page; without --state-file no checkpoint is saved, so the next full-sync starts from the beginning (Ctrl+C again to quit now)…",
    );
    expect(run.stderr).not.toContain("saving a checkpoint");
    expect(run.stderr).toContain(
      "table-sync: The full sync was cancelled; without --state-file no checkpoint was saved, so the next full-sync copies every table from the start",
    );
    const term = await cli(
      ["full-sync", "--tables", t, ...flags],
      {},
      {
        signal: controller.signal,
        cancel: { by: "SIGTERM", quitLine: "" },
      },
    );
    expect(term.code).toBe(143);
  });
});
