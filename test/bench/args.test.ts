// The bench scripts' command line (bench/args.ts), through the compiled scripts as a user runs them:
// `--help` prints the usage and exits 0; an unknown option is one line naming it, then the usage, exit 2,
// and no stack trace from node:util.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
/** A private build (inside node_modules, so the packages resolve): never races other users of build/. */
const out = join(root, "node_modules", ".cache", "table-sync-bench-args-test");
const SCRIPTS = ["bench", "matrix", "request-cpu", "resume-kill", "scale", "throttled", "verify-memory"];

beforeAll(() => {
  // tsc reports type errors in files others are editing but still emits; only a missing script fails.
  try {
    execFileSync(
      process.execPath,
      [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json", "--outDir", out],
      { cwd: root, stdio: "pipe" },
    );
  } catch (err) {
    if (!SCRIPTS.every((s) => existsSync(join(out, "bench", `${s}.js`)))) throw err;
  }
});

function run(script: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [join(out, "bench", `${script}.js`), ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.each(SCRIPTS)("bench/%s.ts", (script) => {
  it("prints its usage on --help and exits 0", () => {
    const r = run(script, "--help");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\[--[a-z-]+ [^\]]+\]/);
    expect(r.stdout).toContain(script === "bench" ? "npm run bench" : `build/bench/${script}.js`);
  });

  it("names an unknown option in one line, with the usage and no stack trace, and exits 2", () => {
    const r = run(script, "--bogus");
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    const [first, ...rest] = r.stderr.split("\n");
    expect(first).toContain("--bogus");
    expect(rest.join("\n")).toContain("usage:");
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stderr).not.toMatch(/node:internal|ERR_PARSE_ARGS|TypeError/);
  });

  it("names a value it cannot use in one line, with the usage, and exits 2 before any work", () => {
    const r = run(script, "--entities", "12x");
    expect(r.code).toBe(2);
    const [first, ...rest] = r.stderr.split("\n");
    expect(first).toMatch(/^--entities must be a whole number (≥ 1|in 2000…10000000), not 12x$/);
    expect(rest.join("\n")).toContain("usage:");
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });
});
