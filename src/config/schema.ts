// One validated configuration for every door (action inputs, CLI flags, .env, dmt settings files).
// Each failure is one sentence naming the input and the fix. The inputs and their values are in inputs.ts,
// the parsers of single inputs in parse.ts; this module puts them together and is the config's front.
import { parseConnectionString } from "../engine/wire/connection.js";
import type { Rename } from "../engine/copy/transform.js";
import type { TableSpec } from "../engine/copy/run-config.js";
import type { Shard } from "../engine/copy/shard.js";
import type { ConcurrencySetting } from "../engine/copy/window.js";
import type { ProxySetting } from "./proxy.js";
import {
  CONFLICT_POLICIES,
  ConfigError,
  KINDS,
  MAX_SHARDS,
  MODES,
  STATE_STORES,
  WRITE_MODES,
  type Mode,
  type RawInputs,
} from "./inputs.js";
import {
  bool,
  concurrencySetting,
  endpoint,
  fraction,
  int,
  oneOf,
  optionalInt,
  parseRenames,
  parseShard,
  parseSince,
  parseTables,
} from "./parse.js";

export {
  CONFLICT_POLICIES,
  ConfigError,
  KINDS,
  MAX_SHARDS,
  MODES,
  PROPERTY_NAME,
  STATE_STORES,
  TABLE_NAME,
  WRITE_MODES,
  type Mode,
  type RawInputs,
} from "./inputs.js";
export { parseRenames, parseShard, parseSince, parseTables } from "./parse.js";

export interface SideInputs {
  connectionString?: string;
  endpoint?: string;
  kind: (typeof KINDS)[number];
}

export interface SyncConfig {
  mode: Mode;
  /** The HTTP proxy, from the environment (HTTPS_PROXY, NO_PROXY: proxy.ts), set by the door; not an input. */
  proxy?: ProxySetting;
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
