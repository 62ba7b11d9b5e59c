// What the in-process CLI tests (cli-*.test.ts) share: main() against the two Azurite servers with its
// output captured, each run in an empty working directory, and the checks a run's output must pass.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, inject } from "vitest";
import { main, type CliDeps } from "../../src/cli/main.js";
import { differingProperties, type WireEntity } from "../../src/engine/wire/edm.js";
import { AZURITE_KEY } from "../support/azurite.js";
import { byKey } from "../support/tables.js";

export const src = inject("sourceConnectionString");
export const dst = inject("destinationConnectionString");

const dirs: string[] = [];
/** An empty working directory, so no stray .env is read. */
export function workDir(envFile?: string): string {
  const dir = mkdtempSync(join(tmpdir(), "table-sync-cli-"));
  dirs.push(dir);
  if (envFile !== undefined) writeFileSync(join(dir, ".env"), envFile);
  return dir;
}
/** Removes every working directory made so far: each test file calls it in its afterAll. */
export const removeWorkDirs = () => dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cli(argv: string[], env: NodeJS.ProcessEnv = {}, deps: CliDeps = {}): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const code = await main(
    argv,
    env,
    { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } },
    { cwd: workDir(), progressIntervalMs: 0, ...deps },
  );
  return { code, stdout, stderr };
}

export const flags = ["--source-connection-string", src, "--destination-connection-string", dst];

export function expectSame(source: WireEntity[], destination: WireEntity[]): void {
  const b = byKey(destination);
  expect(destination.length).toBe(source.length);
  for (const e of source) {
    const other = b.get(`${e.partitionKey}\u0000${e.rowKey}`);
    expect(other, `${e.partitionKey}/${e.rowKey}`).toBeDefined();
    expect(differingProperties(e, other!), `${e.partitionKey}/${e.rowKey}`).toEqual([]);
  }
}

/** Output must carry no secret: not the connection strings, not the account key. */
export function expectNoSecrets(run: CliRun, ...secrets: string[]): void {
  for (const text of [run.stdout, run.stderr]) {
    for (const s of [src, dst, AZURITE_KEY, ...secrets]) expect(text).not.toContain(s);
    expect(text).not.toMatch(/AccountKey=(?!\*\*\*)/);
    expect(text).not.toMatch(/sig=(?!\*\*\*)/);
  }
}

/** One line, one sentence, no stack trace. */
export function expectOneSentence(run: CliRun): string {
  expect(run.code).toBe(2);
  expect(run.stdout).toBe("");
  const lines = run.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  const message = lines[0];
  expect(message).toMatch(/^table-sync: [A-Z].*\.$/);
  expect(message.slice(0, -1)).not.toMatch(/[.!?]\s+[A-Z]/);
  expect(message).not.toMatch(/\bat .*:\d+:\d+/);
  return message.slice("table-sync: ".length);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
