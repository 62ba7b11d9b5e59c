// Flags, the environment and `.env` into one SyncConfig. A config error about a connection string says where
// the string came from, since it may not be on the command line at all.
import { ConfigError, buildConfig, type RawInputs, type SyncConfig } from "../config/schema.js";
import { ConnectionError, parseConnectionString } from "../engine/wire/connection.js";
import { proxyFromEnv } from "../config/proxy.js";
import { connectionStringSecrets, type Masker } from "./mask.js";
import { SECRET_ENV, SIDES, applySecretSources, lazyDotenv, type Origins, type Side } from "./secrets.js";

export interface ConfigSources {
  env: NodeJS.ProcessEnv;
  /** Where `.env` is looked for. */
  cwd: string;
  /** Learns every connection string as soon as it is known. */
  masker: Masker;
  now: Date;
}

/** The one validated config of this run, or a ConfigError in the CLI's words. */
export function cliConfig(args: { raw: RawInputs; flags: Set<string> }, sources: ConfigSources): SyncConfig {
  const { raw, flags } = args;
  const { env, masker } = sources;
  const origins = applySecretSources(raw, flags, env, lazyDotenv(sources.cwd, masker));
  for (const side of SIDES) masker.add(...connectionStringSecrets(raw[`${side}-connection-string`]));
  let config: SyncConfig;
  try {
    config = buildConfig(raw, sources.now);
  } catch (e) {
    throw withOrigin(e, origins);
  }
  config.proxy = proxyFromEnv(env, (s) => masker.add(s));
  for (const side of SIDES) {
    const cs = config[side].connectionString;
    if (!cs) continue;
    try {
      parseConnectionString(cs, `Input '${side}-connection-string'`);
    } catch (e) {
      if (!(e instanceof ConnectionError)) throw e;
      throw new ConfigError(
        `${e.message.replace(/\.$/, "")} (it came from ${origins[side] ?? "the command line"}).`,
      );
    }
  }
  return config;
}

/** A config error naming where the bad (or missing) connection string was looked for. */
function withOrigin(e: unknown, origins: Origins): unknown {
  const bad =
    e instanceof ConfigError ? /^Input '(source|destination)-connection-string'/.exec(e.message) : null;
  if (bad && origins[bad[1] as Side]) {
    // Say where the bad string came from, since it may not be on the command line at all.
    const side = bad[1] as Side;
    return new ConfigError(
      (e as ConfigError).message.replace(bad[0], `The ${side} connection string (from ${origins[side]})`),
    );
  }
  if (e instanceof ConfigError && /Neither '(source|destination)-connection-string'/.test(e.message)) {
    const side = /Neither '(source|destination)/.exec(e.message)?.[1] as Side;
    return new ConfigError(
      `No ${side} given; set ${SECRET_ENV[side]} (environment or .env), or pass --${side}-connection-string or --${side}-endpoint.`,
    );
  }
  return e;
}

/** --client-id and --tenant-id pick the identity for endpoints: a warning when both sides use connection strings. */
export function identityWarning(flags: Set<string>, config: SyncConfig): string | undefined {
  const identityFlags = (["client-id", "tenant-id"] as const).filter((f) => flags.has(f));
  if (!identityFlags.length || config.source.endpoint || config.destination.endpoint) return undefined;
  return (
    `table-sync: warning: ${identityFlags.map((f) => `--${f}`).join(" and ")} ${identityFlags.length === 1 ? "is" : "are"} ignored: ` +
    `${identityFlags.length === 1 ? "it picks" : "they pick"} the Entra ID identity for --source-endpoint or --destination-endpoint, and both sides use a connection string.\n`
  );
}
