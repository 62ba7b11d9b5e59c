// The command line of every bench script: `--help` prints its usage, and an unknown or malformed option
// is one line naming it and the usage, not a stack trace from node:util.
import { parseArgs, type ParseArgsConfig } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** What parseArgs returns for `options` in strict mode: each option typed as declared (with its default). */
type Values<O extends Options> = ReturnType<typeof parseArgs<{ options: O; strict: true }>>["values"];

/**
 * parseArgs over process.argv with `--help`/`-h` added: `usage` (the script's synopsis, as in its header
 * comment) is printed on `--help` (exit 0) and after a refused option (exit 2).
 */
export function benchArgs<const O extends Options>(usage: string, options: O): Values<O> {
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
    process.stderr.write(`${(err as Error).message}\n\nusage:\n${usage.replace(/^\n+|\s+$/g, "")}\n`);
    process.exit(2);
  }
}
