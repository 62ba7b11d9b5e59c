// What the CLI says about itself: the help, global and per command (src/cli/help.ts), and the package
// version it finds above the bundle (src/cli/version.ts).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseCliArgs } from "../../src/cli/args.js";
import { commandHelp, globalHelp } from "../../src/cli/help.js";
import { packageVersion } from "../../src/cli/version.js";
import { removeTmpDirs, tmp } from "./temp-dirs.js";

afterAll(removeTmpDirs);

describe("help", () => {
  /** The flags in the option column (not those mentioned in an explanation). */
  const flagsIn = (text: string) =>
    new Set(
      text
        .split("\n")
        .filter((l) => /^ {2}-/.test(l))
        .flatMap(
          (l) =>
            l
              .slice(2)
              .split(/ {2,}/)[0]
              .match(/--[a-z][a-z-]+/g) ?? [],
        ),
    );

  it("lists every command and flag, the exit codes and --version", () => {
    const help = globalHelp();
    for (const word of [
      "full-sync",
      "backfill",
      "verify",
      "switch",
      "preflight",
      "--repair",
      "--shard",
      "--version",
    ]) {
      expect(help).toContain(word);
    }
    expect(help).toMatch(/^\s+130\s+cancelled by Ctrl\+C \(SIGINT/m);
    expect(help).toMatch(/^\s+143\s+cancelled by SIGTERM/m);
  });

  it("shows a command only the options it takes", () => {
    const verify = commandHelp("verify");
    expect(verify).toMatch(/^Usage: table-sync verify --tables/);
    const flags = flagsIn(verify);
    for (const f of ["--repair", "--delete-extra", "--no-fail-on-difference", "--sample", "--report-path"]) {
      expect(flags).toContain(f);
    }
    for (const f of [
      "--since",
      "--dry-run",
      "--shard",
      "--checkpoint-seconds",
      "--write-mode",
      "--query-filter",
    ]) {
      expect(flags).not.toContain(f);
    }
    const full = flagsIn(commandHelp("full-sync"));
    for (const f of ["--checkpoint-seconds", "--dry-run", "--shard", "--state-file"])
      expect(full).toContain(f);
    for (const f of ["--repair", "--sample", "--report-path", "--since"]) expect(full).not.toContain(f);
    const preflight = flagsIn(commandHelp("preflight"));
    // With --state-file, preflight keeps each table's size for the full sync's ETA.
    expect(preflight).toContain("--state-file");
    expect(preflight).toContain("--ru-per-second");
    expect(preflight).not.toContain("--concurrency");
    const status = flagsIn(commandHelp("status"));
    expect(status).toContain("--state-file");
    expect(status).toContain("--source-connection-string");
    for (const f of [
      "--destination-connection-string",
      "--concurrency",
      "--property-renames",
      "--ru-per-second",
    ])
      expect(status).not.toContain(f);
    expect(commandHelp("backfill")).not.toEqual(commandHelp("verify"));
  });

  it("help of a command names no option that command refuses", () => {
    for (const command of ["full-sync", "backfill", "verify", "switch", "preflight", "status"] as const) {
      for (const flag of flagsIn(commandHelp(command))) {
        const name = flag.replace(/^--(no-)?/, "");
        if (["help", "version", "delete-extra"].includes(name)) continue;
        const value = ["dry-run", "create-tables", "repair", "fail-on-difference", "json"].includes(name)
          ? []
          : [name === "shard" ? "1/2" : "1"];
        expect(() => parseCliArgs([command, `--${name}`, ...value]), `${command} --${name}`).not.toThrow();
      }
    }
  });
});

describe("--version", () => {
  it("finds the package's version above the bundle, passing over dist/package.json", () => {
    const root = tmp();
    writeFileSync(join(root, "package.json"), JSON.stringify({ name: "azure-table-sync", version: "9.8.7" }));
    mkdirSync(join(root, "dist", "cli"), { recursive: true });
    writeFileSync(join(root, "dist", "package.json"), JSON.stringify({ type: "module" }));
    writeFileSync(join(root, "dist", "cli", "index.js"), "");
    mkdirSync(join(root, "build", "src", "cli"), { recursive: true });
    writeFileSync(join(root, "build", "src", "cli", "index.js"), "");
    expect(packageVersion(join(root, "dist", "cli", "index.js"))).toBe("9.8.7");
    expect(packageVersion(join(root, "build", "src", "cli", "index.js"))).toBe("9.8.7");
    expect(packageVersion(join(tmp(), "x.js"))).toBeUndefined();
  });
});
