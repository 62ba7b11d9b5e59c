// Temporary directories for the CLI's unit tests that touch files (the package version, report paths).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const tmpDirs: string[] = [];
/** Removes every directory tmp() made: each test file that uses tmp() calls it in its afterAll. */
export const removeTmpDirs = () => tmpDirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
export function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "cli-units-"));
  tmpDirs.push(d);
  return d;
}
