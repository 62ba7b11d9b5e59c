// What verify, switch and preflight report (and the JSON report they write), the events they send, and the
// rules every check's verdict follows.
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { PreflightResult } from "../check/preflight.js";
import type { VerifyResult } from "../check/verify.js";
import type { TableSpec } from "../copy/run-config.js";
import type { MigrationResult } from "./copy-report.js";

export interface CheckResult {
  mode: "verify" | "switch" | "preflight";
  verify: VerifyResult[];
  preflight: PreflightResult[];
  /** The final backfill of a switch. */
  backfill?: MigrationResult;
  inSync?: boolean;
  /** Missing + extra + different + untransformable, over all tables (before any repair). */
  differences?: number;
  /** verify with repair: every difference found was repaired, so the tables are now in sync. */
  repaired?: boolean;
  ready?: boolean;
  switchedAt?: string;
  notices: string[];
  ok: boolean;
  failure?: string;
  /** A cancel cut the check short: no verdict (see cancelledCheck). */
  cancelled?: boolean;
  durationMs: number;
}

export interface CheckEvents {
  onTableStart?(spec: TableSpec, what: string): void;
  onTableEnd?(spec: TableSpec): void;
  onProgress?(text: string): void;
  signal?: AbortSignal;
}

/**
 * A check cut short by a cancel gives no verdict: what it saw before the cancel may look in sync (or not)
 * only because it stopped. A switch recorded before the cancel came still stands, and says so.
 */
export function cancelledCheck(result: CheckResult, signal: AbortSignal | undefined): CheckResult {
  if (!signal?.aborted || (result.mode === "switch" && result.ready)) return result;
  return {
    ...result,
    inSync: undefined,
    differences: undefined,
    repaired: undefined,
    ready: result.mode === "switch" ? false : undefined,
    ok: false,
    failure: `The ${result.mode} was cancelled; it gives no verdict.`,
    cancelled: true,
  };
}

export function differencesOf(v: VerifyResult): number {
  return v.missing + (v.extra ?? 0) + v.different + v.untransformable;
}

/** The JSON report of verify, switch and preflight, for tools and for the record. */
export async function writeCheckReport(path: string, result: CheckResult): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify({ generatedBy: "azure-table-sync", ...result }, null, 2) + "\n");
}
