// Runs the bundled action (dist/index.js) the way a runner does: INPUT_* variables, GITHUB_OUTPUT and
// GITHUB_STEP_SUMMARY files, a workspace as cwd, and `node` on the bundle itself.
import { inject } from "vitest";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const DIST_ACTION = join(REPO_ROOT, "dist", "index.js");
export const SKEW_CLOCK = join(REPO_ROOT, "test", "support", "skew-clock.mjs");

/** The inputs of a step from the test source to the test destination, with the file state store. */
export function actionInputs(tables: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    tables,
    "source-connection-string": inject("sourceConnectionString"),
    "destination-connection-string": inject("destinationConnectionString"),
    "state-store": "file",
    ...extra,
  };
}

export interface ActionRun {
  code: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  workspace: string;
}

/** Parse the GITHUB_OUTPUT file (`name<<DELIM\nvalue\nDELIM`). */
export function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<=]+)<<(.+)$/.exec(lines[i]);
    if (m) {
      const [, name, delim] = m;
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== delim; i++) value.push(lines[i]);
      out[name] = value.join("\n");
    } else if (lines[i].includes("=")) {
      const eq = lines[i].indexOf("=");
      out[lines[i].slice(0, eq)] = lines[i].slice(eq + 1);
    }
  }
  return out;
}

export interface RunActionOptions {
  env?: Record<string, string>;
  workspace?: string;
  /** Shift the action process's clock (Date.now and new Date()) by this many ms. */
  clockSkewMs?: number;
  timeoutMs?: number;
  /** Send `signal` to the action once its output contains `when`, as a runner does on cancel. */
  signalOn?: { when: string; signal: NodeJS.Signals };
}

export async function runAction(
  inputs: Record<string, string>,
  opts: RunActionOptions = {},
): Promise<ActionRun> {
  const workspace = opts.workspace ?? mkdtempSync(join(tmpdir(), "ws-"));
  const runnerTemp = mkdtempSync(join(tmpdir(), "runner-temp-"));
  const outputFile = join(runnerTemp, "output.txt");
  const summaryFile = join(runnerTemp, "summary.md");
  const stateFile = join(runnerTemp, "state.txt");
  writeFileSync(outputFile, "");
  writeFileSync(summaryFile, "");
  writeFileSync(stateFile, "");
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    GITHUB_ACTIONS: "true",
    CI: "true",
    GITHUB_WORKSPACE: workspace,
    RUNNER_TEMP: runnerTemp,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_STATE: stateFile,
    GITHUB_REPOSITORY: "octo/migrate",
    GITHUB_RUN_ID: String(Math.floor(Math.random() * 1e9)),
    GITHUB_RUN_ATTEMPT: "1",
    GITHUB_REF: "refs/heads/main",
    ...opts.env,
  };
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  if (opts.clockSkewMs) {
    env.NODE_OPTIONS = `--import=${SKEW_CLOCK}`;
    env.TEST_CLOCK_SKEW_MS = String(opts.clockSkewMs);
  }
  const child = spawn(process.execPath, [DIST_ACTION], {
    cwd: workspace,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let signalled = false;
  child.stdout.on("data", (c: Buffer) => {
    stdout += c.toString();
    if (opts.signalOn && !signalled && stdout.includes(opts.signalOn.when)) {
      signalled = true;
      child.kill(opts.signalOn.signal);
    }
  });
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number>((resolveExit, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the action did not finish in time\n${stdout}\n${stderr}`));
    }, opts.timeoutMs ?? 120_000);
    child.on("exit", (c) => {
      clearTimeout(timer);
      resolveExit(c ?? 1);
    });
  });
  return {
    code,
    stdout,
    stderr,
    outputs: parseOutputFile(readFileSync(outputFile, "utf8")),
    summary: readFileSync(summaryFile, "utf8"),
    workspace,
  };
}
