#!/usr/bin/env node
// Builds dist/ with ncc: the action (dist/index.js) and the CLI (dist/cli/index.js), both ESM.
// `--check` builds into a temporary folder and fails when the committed dist/ differs (check-dist).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const check = process.argv.includes("--check");
const out = check ? mkdtempSync(join(tmpdir(), "dist-")) : "dist";
const ncc = join("node_modules", "@vercel", "ncc", "dist", "ncc", "cli.js");

function build(entry, dir) {
  execFileSync(
    process.execPath,
    [ncc, "build", entry, "-o", dir, "--license", "licenses.txt", "--target", "es2022", "--quiet"],
    {
      stdio: "inherit",
    },
  );
}

if (!check) rmSync(out, { recursive: true, force: true });
build("src/action/index.ts", out);
build("src/cli/index.ts", join(out, "cli"));
// ESM bundles need a package.json marking them as modules wherever the runner copies dist/.
writeFileSync(join(out, "package.json"), JSON.stringify({ type: "module" }, null, 2) + "\n");

function list(dir) {
  const files = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) files.push(...list(p).map((f) => join(name, f)));
    else files.push(name);
  }
  return files.sort();
}

if (check) {
  const built = list(out);
  const committed = existsSync("dist") ? list("dist") : [];
  const differ = [];
  for (const f of new Set([...built, ...committed])) {
    const a = join(out, f);
    const b = join("dist", f);
    if (!existsSync(a) || !existsSync(b) || !readFileSync(a).equals(readFileSync(b))) differ.push(f);
  }
  rmSync(out, { recursive: true, force: true });
  if (differ.length) {
    console.error(
      `dist/ is not what the sources build (${differ.length} file(s) differ: ${differ.slice(0, 5).join(", ")}).`,
    );
    console.error("Run `npm run bundle` and commit dist/.");
    process.exit(1);
  }
  console.log("dist/ matches the sources.");
}
