// The inputs as both doors receive them (strings named like the action's inputs), the values they may take,
// and the error that names a bad one. Parsing them is parse.ts's job; one SyncConfig is schema.ts's.
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

/** Most shards a table is split into. */
export const MAX_SHARDS = 64;
