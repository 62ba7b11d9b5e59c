// Command-line flags → the RawInputs of src/config/schema.ts. Flag names are the action's input names,
// so `--tables` here is `tables:` in a workflow and both pass through the same validation.
import { parseArgs } from "node:util";
import { ConfigError, MODES, type Mode, type RawInputs } from "../config/schema.js";
import { COMMANDS_OF, appliesTo, commandList } from "./help.js";

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
  "ru-per-second",
] as const satisfies readonly (keyof RawInputs)[];

/** Flags that may be given bare (`--dry-run`), negated (`--no-dry-run`) or with a value (`--dry-run false`). */
const SWITCHES = new Set([
  "dry-run",
  "create-tables",
  "json",
  "help",
  "version",
  "repair",
  "delete-extra",
  "fail-on-difference",
]);
const BOOLEAN_WORDS = new Set(["true", "false", "yes", "no", "1", "0", "on", "off"]);
const FALSE_WORDS = new Set(["false", "no", "0", "off"]);

/** Flags whose value is a whole number (the config checks the range), each with an example. */
const WHOLE_NUMBER_FLAGS: Record<string, string> = {
  "overlap-seconds": "120",
  "checkpoint-seconds": "60",
  "max-entities-per-second": "2000",
  "max-failures-reported": "50",
  "read-ranges": "4",
  "ru-per-second": "10000",
};

/** Words that may follow a switch without being its value: the commands (`--dry-run full-sync`). */
const COMMAND_WORDS = new Set<string>([...MODES, "help"]);

const OPTIONS = {
  ...Object.fromEntries(INPUT_FLAGS.map((name) => [name, { type: "string" as const }])),
  "state-file": { type: "string" as const },
  "progress-seconds": { type: "string" as const },
  json: { type: "string" as const },
  help: { type: "string" as const, short: "h" },
  version: { type: "string" as const },
};

export interface CliOptions {
  /** Print the RunResult as JSON on stdout (the human summary then goes to stderr). */
  json: boolean;
  /** Seconds between progress lines on stderr; 0 turns them off. */
  progressSeconds?: number;
}

export type ParsedArgs =
  | { kind: "help"; command?: Mode }
  | { kind: "version" }
  | { kind: "run"; command: Mode; raw: RawInputs; options: CliOptions; flags: Set<string> };

function switchHint(flag: string): string {
  return `use --${flag} or --no-${flag}`;
}

/**
 * `--no-x` → `--x=false`, bare `--x` → `--x=true`, `--x false` → `--x=false`, `--no-x=true` → `--x=false`,
 * for the switch flags. A switch followed by a word that is neither true/false nor a command is an error
 * (`--create-tables maybe`), not a stray argument.
 */
export function normalizeSwitches(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      out.push(...argv.slice(i));
      break;
    }
    const negated = /^--no-([a-z-]+)(?:=(.*))?$/s.exec(arg);
    if (negated && SWITCHES.has(negated[1])) {
      const [, flag, value] = negated;
      if (value === undefined) {
        out.push(`--${flag}=false`);
        continue;
      }
      if (!BOOLEAN_WORDS.has(value.toLowerCase())) {
        throw new ConfigError(`Option --no-${flag} is '${value}'; ${switchHint(flag)}.`);
      }
      out.push(`--${flag}=${FALSE_WORDS.has(value.toLowerCase()) ? "true" : "false"}`);
      continue;
    }
    const inline = /^--([a-z-]+)=(.*)$/s.exec(arg);
    if (inline && SWITCHES.has(inline[1]) && !BOOLEAN_WORDS.has(inline[2].toLowerCase())) {
      throw new ConfigError(`Option --${inline[1]} is '${inline[2]}'; ${switchHint(inline[1])}.`);
    }
    const bare = /^--([a-z-]+)$/.exec(arg) ?? (arg === "-h" ? ["-h", "help"] : null);
    if (bare && SWITCHES.has(bare[1])) {
      const next = argv[i + 1];
      if (next !== undefined && BOOLEAN_WORDS.has(next.toLowerCase())) {
        out.push(`--${bare[1]}=${next}`);
        i++;
      } else if (
        next !== undefined &&
        !next.startsWith("-") &&
        !COMMAND_WORDS.has(next) &&
        bare[1] !== "help" &&
        bare[1] !== "version"
      ) {
        throw new ConfigError(
          `Option --${bare[1]} is followed by '${next}', which is not true or false; ${switchHint(bare[1])}.`,
        );
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
  if (v === "" || FALSE_WORDS.has(v)) return false;
  if (BOOLEAN_WORDS.has(v)) return true;
  throw new ConfigError(`Option --${flag} is '${raw}'; ${switchHint(flag)}.`);
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

function checkCommand(command: string): Mode {
  if (!(MODES as readonly string[]).includes(command)) {
    throw new ConfigError(
      `Unknown command '${command}'; use one of: ${MODES.join(", ")} (see 'table-sync --help').`,
    );
  }
  return command as Mode;
}

/** Parse argv (without `node` and the script) into the command, RawInputs and CLI-only options. */
export function parseCliArgs(argv: string[]): ParsedArgs {
  const args = normalizeSwitches(argv);
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
      tokens: true,
    });
  } catch (err) {
    throw argError(err);
  }
  const values = parsed.values as Record<string, string | undefined>;
  // A flag given twice would silently lose one of its values: no flag of ours repeats.
  const seen = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== "option") continue;
    const name: string = token.name;
    if (seen.has(name) && name !== "help" && name !== "version") {
      throw new ConfigError(
        `Option --${name} is given twice; give it once` +
          (name === "tables" || name === "property-renames"
            ? " (separate several values with commas)."
            : "."),
      );
    }
    seen.add(name);
  }

  const [first, ...rest] = parsed.positionals;
  if (switchValue("help", values.help) || first === "help") {
    // `table-sync help verify`, `table-sync verify --help`: that command's help; an unknown one is an error.
    const named = first === "help" ? rest[0] : first;
    if (named === undefined) return { kind: "help" };
    return { kind: "help", command: checkCommand(named) };
  }
  if (switchValue("version", values.version)) {
    if (first !== undefined) checkCommand(first);
    return { kind: "version" };
  }

  if (first === undefined) {
    throw new ConfigError(
      `No command given; use 'table-sync full-sync …' or 'table-sync backfill --since …' (see 'table-sync --help').`,
    );
  }
  const command = checkCommand(first);
  if (rest.length > 0) {
    throw new ConfigError(
      `Unexpected argument '${rest[0]}' after the command; flags start with '--' (see 'table-sync --help').`,
    );
  }
  for (const name of seen) {
    if (appliesTo(name, command)) continue;
    const takers = COMMANDS_OF[name];
    throw new ConfigError(
      `Option --${name} is for ${commandList(takers)} only; drop it for ${command}` +
        (takers.length === 1 ? `, or run 'table-sync ${takers[0]}'.` : "."),
    );
  }
  const c = values.concurrency;
  if (c !== undefined && !/^([0-9]+|auto)$/i.test(c)) {
    throw new ConfigError(
      `Option --concurrency is '${c}'; use auto (the default) or a whole number written in digits, e.g. --concurrency 64.`,
    );
  }
  for (const [name, example] of Object.entries(WHOLE_NUMBER_FLAGS)) {
    const v = values[name];
    if (v !== undefined && !/^[0-9]+$/.test(v)) {
      throw new ConfigError(
        `Option --${name} is '${v}'; use a whole number written in digits, e.g. --${name} ${example}.`,
      );
    }
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
  if (values["report-path"] !== undefined && values["report-path"].trim() === "") {
    throw new ConfigError(`Option --report-path is empty; give a file path, or leave the option out.`);
  }

  let progressSeconds: number | undefined;
  const ps = values["progress-seconds"];
  if (ps !== undefined) {
    progressSeconds = Number(ps);
    if (!/^[0-9]+(\.[0-9]+)?$/.test(ps) || progressSeconds > 86_400) {
      throw new ConfigError(
        `Option --progress-seconds is '${ps}'; use a number of seconds (0 turns progress off).`,
      );
    }
  }
  return {
    kind: "run",
    command,
    raw,
    options: { json: switchValue("json", values.json), progressSeconds },
    flags,
  };
}

const KNOWN_INPUTS = new Set<string>([...INPUT_FLAGS, "state-key", "state-store"]);
/** Switches that are on unless turned off (`--no-create-tables`). */
const ON_BY_DEFAULT = new Set(["create-tables", "fail-on-difference"]);

function flagFor(input: string): string {
  return input === "state-key" || input === "state-store" ? "state-file" : input;
}

/** What to type to turn a switch on or off, given its default. */
function switchAdvice(name: string, on: boolean): string {
  if (ON_BY_DEFAULT.has(name)) return on ? `drop --no-${name}` : `pass --no-${name}`;
  return on ? `pass --${name}` : `drop --${name}`;
}

const known = (name: string) => KNOWN_INPUTS.has(name);

/**
 * Config, state and engine sentences are written for the action (`Input 'tables' is empty`, `run verify with
 * 'repair: true'`); on the command line the same sentence names the flag (`Option --tables is empty`,
 * `run verify with --repair`). Only for our own sentences: never for a service's message about an entity.
 */
export function cliMessage(message: string): string {
  return (
    message
      // Input 'tables' is empty → Option --tables is empty
      .replace(/Input '([a-z-]+)'/g, (_m, name: string) => `Option --${flagFor(name)}`)
      // 'repair: true' → --repair; 'dry-run: false' → --no-dry-run
      .replace(/'([a-z-]+): (true|false)'/g, (m, name: string, v: string) =>
        known(name) ? (v === "true" ? `--${name}` : `--no-${name}`) : m,
      )
      // set 'since' to the UTC time → pass --since with the UTC time
      .replace(/\bset '([a-z-]+)'( to\b)?/g, (m, name: string, to?: string) =>
        known(name) ? `pass --${flagFor(name)}${to ? " with" : ""}` : m,
      )
      // set create-tables to true → drop --no-create-tables
      .replace(/\bset ([a-z]+(?:-[a-z]+)+) to (true|false)\b/g, (m, name: string, v: string) =>
        known(name) ? switchAdvice(name, v === "true") : m,
      )
      // create-tables is off → --no-create-tables was given
      .replace(/(?<![-\w])([a-z]+(?:-[a-z]+)+) is off\b/g, (m, name: string) =>
        ON_BY_DEFAULT.has(name) ? `--no-${name} was given` : m,
      )
      // check the 'query-filter' input → check --query-filter
      .replace(/\bthe '([a-z-]+)' input\b/g, (m, name: string) => (known(name) ? `--${flagFor(name)}` : m))
      // use mode 'full-sync', or 'verify' with … / run 'full-sync' first → the command to type
      .replace(
        /\b(?:mode |(run |or ))'(full-sync|backfill|verify|switch|preflight)'/g,
        (_m, lead: string | undefined, mode: string) => `${lead ?? ""}'table-sync ${mode}'`,
      )
      // 'source-endpoint' → --source-endpoint
      .replace(/'([a-z]+(?:-[a-z]+)+)'/g, (m, name: string) => (known(name) ? `--${flagFor(name)}` : m))
      // delete-extra is refused → --delete-extra is refused (not inside paths, flags or other words)
      .replace(/(?<![-\w'/.\\])([a-z]+(?:-[a-z]+)+)(?![-\w'/\\]|\.\w)/g, (m, name: string) =>
        known(name) ? `--${flagFor(name)}` : m,
      )
      .replace(/\bverify with repair but\b/g, "verify with --repair but")
  );
}
