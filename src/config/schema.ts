// One validated configuration for every door (action inputs, CLI flags, .env, dmt settings files).
// Each failure is one sentence naming the input and the fix.
import { z } from "zod";
import { parseConnectionString } from "../engine/wire/connection.js";
import type { Rename } from "../engine/copy/transform.js";
import type { TableSpec } from "../engine/copy/run-config.js";
import type { Shard } from "../engine/copy/shard.js";
import { MAX_CONCURRENCY, type ConcurrencySetting } from "../engine/copy/window.js";

export const MODES = ["full-sync", "backfill", "verify", "switch", "preflight", "status"] as const;
export type Mode = (typeof MODES)[number];
export const WRITE_MODES = ["replace", "merge", "insert"] as const;
export const KINDS = ["auto", "cosmos", "table"] as const;
export const STATE_STORES = ["cache", "variable", "file"] as const;
export const CONFLICT_POLICIES = ["skip", "source-wins"] as const;

/** The inputs as strings, the way both doors receive them (names are the action's input names). */
export interface RawInputs {
  mode?: string;
  tables?: string;
  "source-connection-string"?: string;
  "destination-connection-string"?: string;
  "source-endpoint"?: string;
  "destination-endpoint"?: string;
  "client-id"?: string;
  "tenant-id"?: string;
  "source-kind"?: string;
  "destination-kind"?: string;
  "write-mode"?: string;
  "property-renames"?: string;
  "query-filter"?: string;
  "state-store"?: string;
  "state-key"?: string;
  "github-token"?: string;
  since?: string;
  "overlap-seconds"?: string;
  "checkpoint-seconds"?: string;
  concurrency?: string;
  "max-entities-per-second"?: string;
  "dry-run"?: string;
  "create-tables"?: string;
  "max-failures-reported"?: string;
  "config-file"?: string;
  sample?: string;
  repair?: string;
  "delete-extra"?: string;
  "fail-on-difference"?: string;
  "report-path"?: string;
  conflict?: string;
  shard?: string;
  "read-ranges"?: string;
  "ru-per-second"?: string;
}

export class ConfigError extends Error {}

/** Azure table names: 3–63 letters and digits, starting with a letter; `tables` is reserved. */
export const TABLE_NAME = /^[A-Za-z][A-Za-z0-9]{2,62}$/;
/** Property names follow C# identifier rules (letters, digits, underscore; not starting with a digit). */
export const PROPERTY_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,254}$/;

function splitList(value: string | undefined): string[] {
  return (value ?? "")
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

export function parseTables(value: string | undefined): TableSpec[] {
  const items = splitList(value);
  if (items.length === 0) {
    throw new ConfigError(
      "Input 'tables' is empty: give table names separated by commas, e.g. 'orders,users:users2'.",
    );
  }
  const specs = items.map((item) => {
    const parts = item.split(":").map((s) => s.trim());
    if (parts.length > 2 || parts.some((p) => p === "")) {
      throw new ConfigError(
        `Input 'tables' has '${item}', which is not 'name' or 'source:destination'; write e.g. 'users:users2'.`,
      );
    }
    for (const name of parts) {
      if (!TABLE_NAME.test(name) || name.toLowerCase() === "tables") {
        throw new ConfigError(
          `Input 'tables' has '${name}', which is not a valid table name (3–63 letters or digits, starting with a letter).`,
        );
      }
    }
    return { source: parts[0], destination: parts[1] ?? parts[0] };
  });
  const seen = new Map<string, string>();
  for (const s of specs) {
    const key = s.destination.toLowerCase();
    if (seen.has(key)) {
      throw new ConfigError(
        `Input 'tables' sends both '${seen.get(key)}' and '${s.source}' to destination '${s.destination}'; give each a different destination.`,
      );
    }
    seen.set(key, s.source);
  }
  return specs;
}

const SYSTEM_PROPERTIES = new Set(["partitionkey", "rowkey", "timestamp"]);

export function parseRenames(value: string | undefined): Rename[] {
  const renames = splitList(value).map((item) => {
    const parts = item.split(":").map((s) => s.trim());
    if (parts.length !== 2 || !parts[0] || !parts[1]) {
      throw new ConfigError(
        `Input 'property-renames' has '${item}', which is not 'from:to'; write e.g. 'id:entityId'.`,
      );
    }
    for (const name of parts) {
      if (!PROPERTY_NAME.test(name)) {
        throw new ConfigError(`Input 'property-renames' has '${name}', which is not a valid property name.`);
      }
    }
    return { from: parts[0], to: parts[1] };
  });
  const froms = new Set<string>();
  const tos = new Map<string, string>();
  for (const r of renames) {
    for (const name of [r.from, r.to]) {
      // The keys and Timestamp are not properties a rename may touch: renaming one away, or a property onto
      // one, would drop data without a word.
      if (SYSTEM_PROPERTIES.has(name.toLowerCase())) {
        throw new ConfigError(
          `Input 'property-renames' has '${r.from}:${r.to}', but ${name} is a system property (PartitionKey, RowKey and Timestamp cannot be renamed or renamed to); remove it.`,
        );
      }
    }
    if (froms.has(r.from))
      throw new ConfigError(`Input 'property-renames' renames '${r.from}' twice; keep one.`);
    froms.add(r.from);
    const other = tos.get(r.to.toLowerCase());
    if (other !== undefined) {
      throw new ConfigError(
        `Input 'property-renames' renames both '${other}' and '${r.from}' to '${r.to}', so one of them would be lost; give each its own name.`,
      );
    }
    tos.set(r.to.toLowerCase(), r.from);
  }
  return renames;
}

function oneOf<T extends readonly string[]>(
  input: string,
  values: T,
  raw: string | undefined,
  fallback: T[number],
) {
  const v = (raw ?? "").trim().toLowerCase();
  if (v === "") return fallback;
  if (!(values as readonly string[]).includes(v)) {
    throw new ConfigError(`Input '${input}' is '${raw}'; use one of: ${values.join(", ")}.`);
  }
  return v as T[number];
}

function bool(input: string, raw: string | undefined, fallback: boolean): boolean {
  const v = (raw ?? "").trim().toLowerCase();
  if (v === "") return fallback;
  if (["true", "yes", "1", "on"].includes(v)) return true;
  if (["false", "no", "0", "off"].includes(v)) return false;
  throw new ConfigError(`Input '${input}' is '${raw}'; use true or false.`);
}

function int(input: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  const v = (raw ?? "").trim();
  if (v === "") return fallback;
  // Digits only: Number() would also take 0x10, 1e2 and 1_0.
  const n = /^[0-9]+$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`Input '${input}' is '${raw}'; use a whole number from ${min} to ${max}.`);
  }
  return n;
}

/** `auto` (the default: the window adapts, see engine/window.ts) or a whole number that caps it. */
function concurrencySetting(raw: string | undefined): ConcurrencySetting {
  const v = (raw ?? "").trim();
  if (v === "" || v.toLowerCase() === "auto") return "auto";
  if (!/^[0-9]+$/.test(v) || Number(v) < 1 || Number(v) > MAX_CONCURRENCY) {
    throw new ConfigError(
      `Input 'concurrency' is '${raw}'; use auto (the default) or a whole number from 1 to ${MAX_CONCURRENCY}.`,
    );
  }
  return Number(v);
}

/** A whole number in range, or undefined when empty. */
function optionalInt(input: string, raw: string | undefined, min: number, max: number): number | undefined {
  if ((raw ?? "").trim() === "") return undefined;
  return int(input, raw, min, min, max);
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?Z$/;

export function parseSince(raw: string | undefined, now = new Date()): Date | undefined {
  const v = (raw ?? "").trim();
  if (v === "") return undefined;
  const ms = ISO_UTC.test(v) ? Date.parse(v.replace(/(\.\d{3})\d+Z$/, "$1Z")) : NaN;
  // Date.parse rolls 2026-02-30 over to March 2nd: the date must read back as it was written.
  const real = Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === v.slice(0, 10);
  if (!real) {
    throw new ConfigError(
      `Input 'since' is '${raw}'; use an ISO-8601 UTC time such as 2024-05-01T12:00:00Z.`,
    );
  }
  // A day of slack: the runner's clock may be wrong, the source's is what counts.
  if (ms > now.getTime() + 24 * 3600_000) {
    throw new ConfigError(`Input 'since' is '${raw}', which lies in the future; use a past UTC time.`);
  }
  return new Date(ms);
}

const endpointSchema = z.string().trim().url();

function endpoint(input: string, raw: string | undefined): string | undefined {
  const v = (raw ?? "").trim();
  if (v === "") return undefined;
  if (!endpointSchema.safeParse(v).success) {
    throw new ConfigError(`Input '${input}' is not a URL; use e.g. https://account.table.core.windows.net.`);
  }
  const u = new URL(v);
  const loopback = ["localhost", "127.0.0.1", "[::1]"].includes(u.hostname) || u.hostname.startsWith("127.");
  if (u.protocol !== "https:" && !(u.protocol === "http:" && loopback)) {
    throw new ConfigError(
      `Input '${input}' must use https:// (plain http is allowed only for a local emulator).`,
    );
  }
  return v;
}

export interface SideInputs {
  connectionString?: string;
  endpoint?: string;
  kind: (typeof KINDS)[number];
}

export interface SyncConfig {
  mode: Mode;
  tables: TableSpec[];
  source: SideInputs;
  destination: SideInputs;
  auth: { clientId?: string; tenantId?: string };
  writeMode: (typeof WRITE_MODES)[number];
  propertyRenames: Rename[];
  queryFilter?: string;
  stateStore: (typeof STATE_STORES)[number];
  /** Cache key prefix, variable name, or file path — depending on the store. */
  stateKey: string;
  githubToken?: string;
  since?: Date;
  overlapSeconds: number;
  /** full-sync: seconds between checkpoints (resume points) in the state store. */
  checkpointSeconds: number;
  concurrency: ConcurrencySetting;
  /** A hard cap on entities written per second; undefined = none. */
  maxEntitiesPerSecond?: number;
  dryRun: boolean;
  createTables: boolean;
  maxFailuresKept: number;
  /** verify/switch: the fraction of source entities checked (1 = every entity). */
  sample: number;
  repair: boolean;
  deleteExtra: boolean;
  failOnDifference: boolean;
  reportPath?: string;
  conflict: (typeof CONFLICT_POLICIES)[number];
  /** `shard: i/n`: this job copies the i-th of n partition-key ranges of each table. */
  shard?: Shard;
  /** full-sync/backfill: read each table through this many key ranges at once (1 = one scan). */
  readRanges: number;
  /** preflight: the destination's request units per second the full sync's time estimate assumes. */
  ruPerSecond: number;
}

/** Most shards a table is split into. */
export const MAX_SHARDS = 64;

export function parseShard(raw: string | undefined, mode: Mode): Shard | undefined {
  const v = (raw ?? "").trim();
  if (v === "") return undefined;
  const m = /^(\d+)\s*\/\s*(\d+)$/.exec(v);
  if (!m) {
    throw new ConfigError(
      `Input 'shard' is '${raw}'; write i/n, e.g. '2/4' for the second of four shards (from a matrix: '\${{ matrix.shard }}/4').`,
    );
  }
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || count > MAX_SHARDS) {
    throw new ConfigError(
      `Input 'shard' is '${raw}'; the number of shards n must be from 1 to ${MAX_SHARDS}.`,
    );
  }
  if (index < 1 || index > count) {
    throw new ConfigError(
      `Input 'shard' is '${raw}', which is out of range; the shard i must be from 1 to ${count} (i/n counts from 1).`,
    );
  }
  if (mode !== "full-sync" && mode !== "backfill") {
    throw new ConfigError(
      `Input 'shard' applies to the modes full-sync and backfill, not '${mode}'; remove it for this step.`,
    );
  }
  return count === 1 ? undefined : { index, count };
}

function fraction(input: string, raw: string | undefined, fallback: number): number {
  const v = (raw ?? "").trim();
  if (v === "") return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > 1) {
    throw new ConfigError(
      `Input '${input}' is '${raw}'; use a fraction greater than 0 and at most 1 (e.g. 0.01).`,
    );
  }
  return n;
}

function side(label: "source" | "destination", raw: RawInputs, optional = false): SideInputs {
  const connectionString = raw[`${label}-connection-string`]?.trim() || undefined;
  const ep = endpoint(`${label}-endpoint`, raw[`${label}-endpoint`]);
  const kind = oneOf(`${label}-kind`, KINDS, raw[`${label}-kind`], "auto");
  if (optional && !connectionString && !ep) return { kind };
  if (connectionString && ep) {
    throw new ConfigError(
      `Both '${label}-connection-string' and '${label}-endpoint' are set; keep one (the endpoint uses Entra ID).`,
    );
  }
  if (!connectionString && !ep) {
    throw new ConfigError(
      `Neither '${label}-connection-string' nor '${label}-endpoint' is set; give one of them.`,
    );
  }
  if (connectionString) {
    try {
      parseConnectionString(connectionString, `Input '${label}-connection-string'`);
    } catch (err) {
      throw new ConfigError(err instanceof Error ? err.message : String(err));
    }
  }
  return { connectionString, endpoint: ep, kind };
}

/** The table endpoint a side's input points at, for comparing the two sides (undefined when unknown). */
function endpointOf(side: SideInputs): string | undefined {
  let url: string | undefined;
  try {
    url = side.connectionString ? parseConnectionString(side.connectionString).url : side.endpoint;
  } catch {
    return undefined;
  }
  return url
    ?.toLowerCase()
    .replace(/:443(?=\/|$)/, "")
    .replace(/\/+$/, "");
}

/** Copying a table onto itself would rewrite the source (renames, deletes by repair): refuse it. */
function refuseSameTable(tables: TableSpec[], source: SideInputs, destination: SideInputs): void {
  const a = endpointOf(source);
  if (a === undefined || a !== endpointOf(destination)) return;
  const same = tables.find((t) => t.source.toLowerCase() === t.destination.toLowerCase());
  if (same) {
    throw new ConfigError(
      `Input 'tables' copies table '${same.source}' onto itself: the source and destination are the same account (${a}); point the destination at another account or name another table ('${same.source}:${same.source}Copy').`,
    );
  }
}

/** Validate raw inputs into one SyncConfig, or throw a ConfigError naming the input and the fix. */
export function buildConfig(raw: RawInputs, now = new Date()): SyncConfig {
  const modeRaw = (raw.mode ?? "").trim();
  if (modeRaw === "") throw new ConfigError(`Input 'mode' is required; use one of: ${MODES.join(", ")}.`);
  const mode = oneOf("mode", MODES, modeRaw, "full-sync");
  const stateStore = oneOf("state-store", STATE_STORES, raw["state-store"], "cache");
  const defaultKey =
    stateStore === "file"
      ? ".table-sync/state.json"
      : stateStore === "variable"
        ? "TABLE_SYNC_STATE"
        : "table-sync";
  // Status reads the state (every table in it when 'tables' is empty) and, when given, the source's clock.
  const status = mode === "status";
  const tables = status && (raw.tables ?? "").trim() === "" ? [] : parseTables(raw.tables);
  const source = side("source", raw, status);
  // Preflight reads the source only; the destination's kind (destination-kind) says what it checks for.
  const destination = side("destination", raw, mode === "preflight" || status);
  refuseSameTable(tables, source, destination);
  return {
    mode,
    tables,
    source,
    destination,
    auth: {
      clientId: raw["client-id"]?.trim() || undefined,
      tenantId: raw["tenant-id"]?.trim() || undefined,
    },
    writeMode: oneOf("write-mode", WRITE_MODES, raw["write-mode"], "replace"),
    propertyRenames: parseRenames(raw["property-renames"]),
    queryFilter: raw["query-filter"]?.trim() || undefined,
    stateStore,
    stateKey: raw["state-key"]?.trim() || defaultKey,
    githubToken: raw["github-token"]?.trim() || undefined,
    since: parseSince(raw.since, now),
    overlapSeconds: int("overlap-seconds", raw["overlap-seconds"], 120, 0, 86_400),
    checkpointSeconds: int("checkpoint-seconds", raw["checkpoint-seconds"], 60, 1, 86_400),
    concurrency: concurrencySetting(raw.concurrency),
    maxEntitiesPerSecond: optionalInt(
      "max-entities-per-second",
      raw["max-entities-per-second"],
      1,
      1_000_000,
    ),
    dryRun: bool("dry-run", raw["dry-run"], false),
    createTables: bool("create-tables", raw["create-tables"], true),
    maxFailuresKept: int("max-failures-reported", raw["max-failures-reported"], 50, 0, 10_000),
    sample: fraction("sample", raw.sample, 1),
    repair: bool("repair", raw.repair, false),
    deleteExtra: bool("delete-extra", raw["delete-extra"], false),
    failOnDifference: bool("fail-on-difference", raw["fail-on-difference"], true),
    reportPath: raw["report-path"]?.trim() || undefined,
    conflict: oneOf("conflict", CONFLICT_POLICIES, raw.conflict, "skip"),
    shard: parseShard(raw.shard, mode),
    readRanges: int("read-ranges", raw["read-ranges"], 1, 1, MAX_SHARDS),
    ruPerSecond: int("ru-per-second", raw["ru-per-second"], 10_000, 1, 100_000_000),
  };
}
