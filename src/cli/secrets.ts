// Where the CLI's secrets come from, and that none of them is ever printed: a flag wins over the environment,
// the environment over `.env`; every connection string is masked the moment it is known.
import type { RawInputs } from "../config/schema.js";
import { readEnvFile } from "./env-file.js";
import { connectionStringSecrets, type Masker } from "./mask.js";

/** Where secrets may come from besides flags (flags win over the environment, the environment over .env). */
export const SECRET_ENV = {
  source: "SOURCE_CONNECTION_STRING",
  destination: "DESTINATION_CONNECTION_STRING",
} as const;

export type Side = "source" | "destination";
export const SIDES: Side[] = ["source", "destination"];

/** Where each side's connection string came from, in words ("the environment variable …"). */
export interface Origins {
  source?: string;
  destination?: string;
}

/** Mask anything that looks like a secret in the raw arguments and the environment, before anything prints. */
export function maskArguments(masker: Masker, argv: string[], env: NodeJS.ProcessEnv): void {
  for (const [i, arg] of argv.entries()) {
    if (/connection-string/.test(arg))
      masker.add(...connectionStringSecrets(arg.split("=").slice(1).join("=") || argv[i + 1]));
  }
  for (const side of SIDES) masker.add(...connectionStringSecrets(env[SECRET_ENV[side]]));
}

/** `.env` in `cwd`, read (and its secrets masked) only when a side needs it. */
export function lazyDotenv(cwd: string, masker: Masker): () => Record<string, string> {
  let cache: Record<string, string> | undefined;
  return () => {
    cache ??= readEnvFile(cwd);
    for (const side of SIDES) masker.add(...connectionStringSecrets(cache[SECRET_ENV[side]]));
    return cache;
  };
}

/** Fill each side's connection string from the environment or .env, unless a flag set that side. */
export function applySecretSources(
  raw: RawInputs,
  flags: Set<string>,
  env: NodeJS.ProcessEnv,
  dotenv: () => Record<string, string>,
): Origins {
  const origins: Origins = {};
  for (const side of SIDES) {
    if (flags.has(`${side}-connection-string`)) {
      origins[side] = `--${side}-connection-string`;
      continue;
    }
    if (flags.has(`${side}-endpoint`)) continue;
    const name = SECRET_ENV[side];
    const fromEnv = env[name]?.trim();
    if (fromEnv) {
      raw[`${side}-connection-string`] = fromEnv;
      origins[side] = `the environment variable ${name}`;
      continue;
    }
    const fromFile = dotenv()[name]?.trim();
    if (fromFile) {
      raw[`${side}-connection-string`] = fromFile;
      origins[side] = `${name} in .env`;
    }
  }
  return origins;
}
