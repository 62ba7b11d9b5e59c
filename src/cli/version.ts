// `table-sync --version`: the version in the package's own package.json. The CLI runs from several places —
// bin/table-sync.js → dist/cli/index.js (the bundle), build/src/cli/index.js (tsc), src/cli (tests) — so the
// file is found by walking up from the running script to the first package.json that names this package
// (dist/package.json only says `"type": "module"` and is passed over).
import { readFileSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";

export const PACKAGE_NAME = "azure-table-sync";

/** The package's version, looked up from `script` (default: the running script), or undefined. */
export function packageVersion(script: string | undefined = process.argv[1]): string | undefined {
  if (!script) return undefined;
  let dir: string;
  try {
    dir = dirname(realpathSync(script));
  } catch {
    dir = dirname(script);
  }
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name?: unknown;
        version?: unknown;
      };
      if (pkg.name === PACKAGE_NAME && typeof pkg.version === "string") return pkg.version;
    } catch {
      // No package.json here, or not JSON: look further up.
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}
