// Command-line flags → the RawInputs of src/config/schema.ts. Flag names are the action's input names,
// so `--tables` here is `tables:` in a workflow and both pass through the same validation.
import { parseArgs } from "node:util";
import { ConfigError, MODES, type Mode, type RawInputs } from "../config/schema.js";

/** Flags whose value becomes the RawInputs entry of the same name. */
const INPUT_FLAGS = [
  "tables",
  "source-connection-string",
  "destination-connection-string",
  "source-endpoint",
  "destination-endpoint",
  "client-id",
  "tenant-id",
  "source-kind",
  "destination-kind",
  "write-mode",
  "property-renames",
  "query-filter",
  "since",
  "overlap-seconds",
  "checkpoint-seconds",
  "concurrency",
  "max-entities-per-second",
  "dry-run",
  "create-tables",
  "max-failures-reported",
  "sample",
  "repair",
  "delete-extra",
  "fail-on-difference",
  "report-path",
  "conflict",
  "shard",
  "read-ranges",
] as const satisfies readonly (keyof RawInputs)[];

/** Flags that may be given bare (`--dry-run`), negated (`--no-dry-run`) or with a value (`--dry-run false`). */
const SWITCHES = new Set([
  "dry-run",
  "create-tables",
  "json",
  "help",
  "repair",
  "delete-extra",
  "fail-on-difference",
]);
const BOOLEAN_WORDS = new Set(["true", "false", "yes", "no", "1", "0", "on", "off"]);

const OPTIONS = {
  ...Object.fromEntries(INPUT_FLAGS.map((name) => [name, { type: "string" as const }])),
  "state-file": { type: "string" as const },
  "progress-seconds": { type: "string" as const },
  json: { type: "string" as const },
  help: { type: "string" as const, short: "h" },
};

export interface CliOptions {
  /** Print the RunResult as JSON on stdout (the human summary then goes to stderr). */
  json: boolean;
  /** Seconds between progress lines on stderr; 0 turns them off. */
  progressSeconds?: number;
}

export type ParsedArgs =
  { kind: "help" } | { kind: "run"; command: Mode; raw: RawInputs; options: CliOptions; flags: Set<string> };

/** `--no-x` → `--x=false`, bare `--x` → `--x=true`, `--x false` → `--x=false`, for the switch flags. */
export function normalizeSwitches(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      out.push(...argv.slice(i));
      break;
    }
    const negated = /^--no-([a-z-]+)$/.exec(arg);
    if (negated && SWITCHES.has(negated[1])) {
      out.push(`--${negated[1]}=false`);
      continue;
    }
    const bare = /^--([a-z-]+)$/.exec(arg) ?? (arg === "-h" ? ["-h", "help"] : null);
    if (bare && SWITCHES.has(bare[1])) {
      const next = argv[i + 1];
      if (next !== undefined && BOOLEAN_WORDS.has(next.toLowerCase())) {
        out.push(`--${bare[1]}=${next}`);
        i++;
      } else {
        out.push(`--${bare[1]}=true`);
      }
      continue;
    }
    out.push(arg);
  }
  return out;
}

function switchValue(flag: string, raw: string | undefined): boolean {
  const v = (raw ?? "").toLowerCase();
  if (v === "" || v === "false" || v === "no" || v === "0" || v === "off") return false;
  if (BOOLEAN_WORDS.has(v)) return true;
  throw new ConfigError(`Option --${flag} is '${raw}'; use true or false.`);
}

/** A parseArgs error, rewritten as one sentence. */
function argError(err: unknown): ConfigError {
  const e = err as { code?: string; message?: string };
  const message = e.message ?? String(err);
  const option = /'(-{1,2}[^' ]+)/.exec(message)?.[1];
  switch (e.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return new ConfigError(`Unknown option ${option ?? message}; run 'table-sync --help' for the list.`);
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return new ConfigError(
        option
          ? `Option ${option} needs a value (write ${option}=VALUE if the value starts with '-').`
          : `An option is missing its value; run 'table-sync --help' for the list.`,
      );
    default:
      return new ConfigError(`The command line could not be read; run 'table-sync --help' for usage.`);
  }
}

/** Parse argv (without `node` and the script) into the command, RawInputs and CLI-only options. */
export function parseCliArgs(argv: string[]): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: normalizeSwitches(argv),
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw argError(err);
  }
  const values = parsed.values as Record<string, string | undefined>;
  if (switchValue("help", values.help) || parsed.positionals[0] === "help") return { kind: "help" };

  const [command, ...extra] = parsed.positionals;
  if (command === undefined) {
    throw new ConfigError(
      `No command given; use 'table-sync full-sync …' or 'table-sync backfill --since …' (see 'table-sync --help').`,
    );
  }
  if (!(MODES as readonly string[]).includes(command)) {
    throw new ConfigError(
      `Unknown command '${command}'; use one of: ${MODES.join(", ")} (see 'table-sync --help').`,
    );
  }
  if (extra.length > 0) {
    throw new ConfigError(
      `Unexpected argument '${extra[0]}' after the command; flags start with '--' (see 'table-sync --help').`,
    );
  }

  const raw: RawInputs = { mode: command };
  const flags = new Set<string>();
  for (const name of INPUT_FLAGS) {
    const v = values[name];
    if (v !== undefined) {
      raw[name] = v;
      flags.add(name);
    }
  }
  if (values["state-file"] !== undefined) {
    if (values["state-file"].trim() === "")
      throw new ConfigError(`Option --state-file is empty; give a file path.`);
    raw["state-store"] = "file";
    raw["state-key"] = values["state-file"];
    flags.add("state-file");
  }

  let progressSeconds: number | undefined;
  const ps = values["progress-seconds"];
  if (ps !== undefined) {
    progressSeconds = Number(ps);
    if (
      ps.trim() === "" ||
      !Number.isFinite(progressSeconds) ||
      progressSeconds < 0 ||
      progressSeconds > 86_400
    ) {
      throw new ConfigError(
        `Option --progress-seconds is '${ps}'; use a number of seconds (0 turns progress off).`,
      );
    }
  }
  return {
    kind: "run",
    command: command as Mode,
    raw,
    options: { json: switchValue("json", values.json), progressSeconds },
    flags,
  };
}

/**
 * Config errors are written for the action (`Input 'tables' is empty`); on the command line the same
 * sentence names the flag (`Option --tables is empty`).
 */
export function cliMessage(message: string): string {
  return message
    .replace(/Input '([a-z-]+)'/g, (_m, name: string) => `Option --${flagFor(name)}`)
    .replace(/'([a-z]+(?:-[a-z]+)+)'/g, (m, name: string) =>
      KNOWN_INPUTS.has(name) ? `--${flagFor(name)}` : m,
    );
}

const KNOWN_INPUTS = new Set<string>([...INPUT_FLAGS, "state-key", "state-store"]);

function flagFor(input: string): string {
  return input === "state-key" || input === "state-store" ? "state-file" : input;
}

export const HELP = `table-sync — copy Azure Table Storage tables to Azure Cosmos DB for Table (or another
table account) with exact types, for a zero-downtime migration.

Usage:
  table-sync full-sync --tables <list> [--state-file <path>] [options]
  table-sync backfill  --tables <list> (--state-file <path> | --since <ISO-8601 UTC>) [options]
  table-sync verify    --tables <list> [--sample 0.01] [--repair [--delete-extra]] [options]
  table-sync switch    --tables <list> --state-file <path> [--sample 0.01] [options]
  table-sync preflight --tables <list> [--destination-kind cosmos] [--property-renames …]

Commands:
  full-sync   Copy every entity of each table (step 1 of a migration); records a watermark per table.
  backfill    Copy only entities inserted or changed since the watermark (or --since), less the overlap:
              Timestamp ge datetime'…' (steps 2 and 4: repeat until the switch, and once more after it).
              After a recorded switch it never overwrites what the app wrote on the destination.
  verify      Compare every entity (or a --sample) of source and destination: missing, extra, different.
  switch      A final backfill, a verify, then records switched-at (destination clock) in the state.
  preflight   Read the source only: sizes, reserved names, keys Cosmos refuses, a time estimate.

Connections (for each side give a connection string OR an endpoint):
  --source-connection-string <cs>       Account key or SAS connection string, or UseDevelopmentStorage=true.
  --destination-connection-string <cs>  Prefer the environment variables SOURCE_CONNECTION_STRING and
                                        DESTINATION_CONNECTION_STRING, or a .env file in the current
                                        directory, to keep secrets out of shell history.
                                        Flags win over the environment, the environment over .env.
  --source-endpoint <url>               e.g. https://acct.table.core.windows.net — signs in with Entra ID
  --destination-endpoint <url>          (DefaultAzureCredential: Azure CLI login, managed identity,
                                        workload identity, AZURE_* environment variables).
  --client-id <id>, --tenant-id <id>    Pick the identity DefaultAzureCredential uses.
  --source-kind auto|table|cosmos       Service type (default auto: *.table.cosmos.azure.com is cosmos).
  --destination-kind auto|table|cosmos

What to copy:
  --tables <list>                 Comma-separated; 'name' or 'source:destination', e.g. orders,users:users2.
  --since <time>                  backfill: ISO-8601 UTC, e.g. 2024-05-01T12:00:00Z. Use the source clock
                                  a previous run reported (the summary prints the next --since).
  --query-filter <odata>          An extra OData filter for every table, ANDed with --since.
  --property-renames <list>       from:to pairs, e.g. id:entityId (Cosmos reserves id, etag, rid, ResourceId).

How to write:
  --write-mode replace|merge|insert   Default replace (upsert). insert skips entities that exist.
  --concurrency <n>               Transactions in flight over the run (1–256, default 8); fewer while the
                                  destination throttles (HTTP 429), then more again.
  --max-entities-per-second <n>   Never write more entities per second than this (default: no cap).
  --no-create-tables              Do not create missing destination tables (same: --create-tables false).
  --dry-run                       Read and count only; write nothing.
  --max-failures-reported <n>     Failed entities listed per table (default 50; all are counted).

Verify and switch:
  --sample <fraction>             Check this fraction of the source entities (default 1: all of them).
  --repair                        verify: copy missing and different entities from the source.
  --delete-extra                  verify --repair: delete destination entities the source no longer has
                                  (refused once a switch is recorded).
  --no-fail-on-difference         verify: exit 0 even when the tables differ.
  --report-path <path>            Where the JSON report goes (default ./table-sync-report.json).
  --conflict skip|source-wins     After the switch: keep the app's write (default) or overwrite it.

Scale out:
  --shard <i/n>                   full-sync/backfill: copy the i-th of n partition-key ranges of each table
                                  (run n of these at once, sharing one --state-file).
  --read-ranges <k>               Read each table through k key ranges at once (default 1), sharing
                                  --concurrency; worth it when reading the source is the bottleneck.

Output:
  --progress-seconds <s>          Seconds between progress lines on stderr (default 5; 0 turns them off).
  --json                          Print the result as JSON on stdout (the summary then goes to stderr).
  --state-file <path>             Keep per-table watermarks in this JSON file (full-sync records, backfill reads).
  --overlap-seconds <s>           How far before a stored watermark a backfill re-reads (default 120).
  --checkpoint-seconds <s>        full-sync with --state-file: save a resume point every s seconds (default
                                  60) and on Ctrl+C/SIGTERM; the next full-sync resumes from it.
  -h, --help                      Show this help.

Exit status: 0 when every entity of every table was copied (verify: in sync; switch: ready; preflight:
nothing blocks a full sync), 1 when an entity or a table failed or the check did not pass,
2 for a usage or configuration error.

Examples:
  export SOURCE_CONNECTION_STRING='DefaultEndpointsProtocol=https;AccountName=…;AccountKey=…'
  export DESTINATION_CONNECTION_STRING='…;TableEndpoint=https://acct.table.cosmos.azure.com:443/;'
  table-sync full-sync --tables orders,users --property-renames id:entityId
  table-sync backfill --tables orders,users --property-renames id:entityId --since 2024-05-01T12:00:00Z
`;
