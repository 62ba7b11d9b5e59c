// The demo's runs of the real CLI (demo.ts), as a user would run them, and the parts of what it prints
// with --json that the demo checks.
import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { AzuriteServer } from "../test/support/azurite.js";
import { TABLES, type Key } from "./demo-data.js";
import { bold, dim, expect, say } from "./demo-print.js";

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, "..", "src", "cli", "index.js"); // build/scripts → build/src/cli/index.js

// The flags every command shares from step 2 on (shown as "…" in the printed commands).
export const COMMON = ["--tables", TABLES, "--destination-kind", "cosmos"];
export const RENAME = ["--property-renames", "id:entityId"];
export const STATE = ["--state-file", "state.json"]; // relative to the CLI's working directory (a temp dir)
export const CRISP = ["--overlap-seconds", "0"];

/** The CLI process running now, if any: a Ctrl+C or kill of the demo ends it too. */
export let running: ChildProcess | undefined;

// ---- what the CLI prints with --json (the parts the demo checks) ----

export interface Totals {
  read: number;
  written: number;
  failed: number;
  conflicts: number;
  tablesFailed: number;
  durationMs: number;
}
export interface TableJson {
  source: string;
  read: number;
  written: number;
  conflicts: number;
  conflictDetails: (Key & { message: string })[];
  sourceClockAtStart?: string;
}
export interface CopyJson {
  tables: TableJson[];
  totals: Totals;
  lagSeconds?: number;
  changedEntities?: number;
}
export interface VerifyJson {
  source: string;
  destination: string;
  sourceCount: number;
  destinationCount: number | null;
  missing: number;
  extra: number | null;
  different: number;
  extraSamples: Key[];
  differentSamples: (Key & { properties: string[] })[];
  inSync: boolean;
  repair?: { copied: number; deleted: number; complete: boolean };
}
export interface PreflightJson {
  table: string;
  entities: number;
  reservedProperties: { name: string; entities: number; renamedTo: string | null }[];
  blocking: string[];
  fullSyncAtLeastMs: number;
}
export interface CheckJson {
  verify: VerifyJson[];
  preflight: PreflightJson[];
  backfill?: { totals: Totals };
  inSync?: boolean;
  differences?: number;
  ready?: boolean;
  switchedAt?: string;
  ok: boolean;
  failure?: string;
}

export interface Servers {
  source: AzuriteServer;
  destination: AzuriteServer;
  /** The CLI's working directory: state.json and the verify reports go there. */
  workDir: string;
}

/**
 * Run the built CLI as a user would, in `workDir`, with the connection strings in the environment.
 * Its human output (on stderr, since --json takes stdout) is shown indented; the JSON is returned.
 * Throws unless it exits with `expectedCode`.
 */
export async function tableSync<T>(s: Servers, args: string[], expectedCode = 0): Promise<T> {
  const shown = args.join(" ").replace(COMMON.join(" "), "…");
  say(`   ${bold("$")} table-sync ${shown}`);
  const child = spawn(process.execPath, [CLI, ...args, "--progress-seconds", "0", "--json"], {
    cwd: s.workDir,
    // Secrets through the environment, never on the command line.
    env: {
      ...process.env,
      SOURCE_CONNECTION_STRING: s.source.connectionString,
      DESTINATION_CONNECTION_STRING: s.destination.connectionString,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running = child;
  let stdout = "";
  let pending = "";
  let blank = true; // the CLI's blank lines, at most one in a row and none first
  const show = (line: string) => {
    if (line.trim() === "" && blank) return;
    blank = line.trim() === "";
    say(dim(`   │ ${line}`.trimEnd()));
  };
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => {
    const lines = (pending + chunk.toString()).split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) show(line);
  });
  const code = await new Promise<number>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (c) => resolve(c ?? 1));
  });
  running = undefined;
  if (pending) show(pending);
  expect(code === expectedCode, `table-sync ${args[0]} exited with ${code}, expected ${expectedCode}`);
  try {
    return JSON.parse(stdout) as T;
  } catch {
    throw new Error(`table-sync ${args[0]} printed no JSON result: ${stdout.slice(0, 200)}`);
  }
}
