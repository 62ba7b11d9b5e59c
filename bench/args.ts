// The command line of every bench script: `--help` prints its usage, and an unknown or malformed option
// is one line naming it and the usage, not a stack trace from node:util.
import { parseArgs, type ParseArgsConfig } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** The running script's usage, for errors found after parsing (a value out of range). */
let usageText = "";

/** What parseArgs returns for `options` in strict mode: each option typed as declared (with its default). */
type Values<O extends Options> = ReturnType<typeof parseArgs<{ options: O; strict: true }>>["values"];

/**
 * parseArgs over process.argv with `--help`/`-h` added: `usage` (the script's synopsis, as in its header
 * comment) is printed on `--help` (exit 0) and after a refused option (exit 2).
 */
export function benchArgs<const O extends Options>(usage: string, options: O): Values<O> {
  usageText = usage;
  try {
    const { values } = parseArgs({
      options: { ...options, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: false,
    });
    // The options are generic here, so parseArgs cannot type the values: `help` is read as what it is.
    if ((values as { help?: boolean }).help) {
      process.stdout.write(`${usage.trim()}\n`);
      process.exit(0);
    }
    return values as Values<O>;
  } catch (err) {
    const code = (err as { code?: string }).code ?? "";
    if (!code.startsWith("ERR_PARSE_ARGS")) throw err;
    return optionError((err as Error).message);
  }
}

/** An option the script cannot use: one line naming it, then the usage, exit 2. */
export function optionError(message: string): never {
  process.stderr.write(`${message}\n\nusage:\n${usageText.replace(/^\n+|\s+$/g, "")}\n`);
  process.exit(2);
}

/**
 * `raw` as a number for the option `name` (`_` allowed as a digit separator): a whole number unless
 * `integer` is false, within [min, max]; anything else is an optionError.
 */
export function numberOption(
  raw: string,
  name: string,
  { min = 1, max = Infinity, integer = true }: { min?: number; max?: number; integer?: boolean } = {},
): number {
  const n = Number(raw.trim().replace(/_/g, ""));
  if (raw.trim() === "" || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    const range = max === Infinity ? `≥ ${min}` : `in ${min}…${max}`;
    optionError(`--${name} must be ${integer ? "a whole number" : "a number"} ${range}, not ${raw}`);
  }
  return n;
}

/**
 * An option's value, else the environment variable `<prefix>_<NAME>` (so a bench run from `npm run bench`
 * can be tuned without editing the script), trimmed; undefined when neither is given.
 */
export function optionOrEnv<V extends Record<string, unknown>>(values: V, prefix: string) {
  return (name: keyof V & string): string | undefined => {
    const v = values[name] ?? process.env[`${prefix}_${name.toUpperCase().replace(/-/g, "_")}`];
    return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
  };
}
