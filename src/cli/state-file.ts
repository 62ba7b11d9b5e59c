// --state-file: the JSON file that keeps the watermarks, checkpoints and switched-at between runs. Some
// commands cannot do without it; they say so before anything runs.
import { ConfigError, type Mode, type SyncConfig } from "../config/schema.js";
import { FileStateStore } from "../state/file-store.js";
import type { StateStore } from "../state/store.js";
import type { CliDeps } from "./deps.js";

/** The state store behind --state-file (undefined without it); refuses a command that needs one and has none. */
export function openStateFile(
  config: SyncConfig,
  flags: Set<string>,
  deps: Pick<CliDeps, "openState">,
): StateStore | undefined {
  const store = flags.has("state-file")
    ? deps.openState
      ? deps.openState(config)
      : new FileStateStore(config.stateKey)
    : undefined;
  const missing = store ? undefined : withoutState(config.mode, config.since !== undefined);
  if (missing) throw new ConfigError(missing);
  return store;
}

/** Why `command` cannot run without --state-file, or undefined when it can. */
function withoutState(command: Mode, since: boolean): string | undefined {
  if (command === "backfill" && !since) {
    return `A backfill needs --since <ISO-8601 UTC time>, or --state-file with the watermarks a full sync recorded.`;
  }
  if (command === "status") {
    return `Status reads the state: give --state-file, the one your full-sync and backfills use.`;
  }
  if (command === "switch") {
    return `A switch records switched-at in the state: give --state-file, the one your full-sync and backfills use.`;
  }
  return undefined;
}
