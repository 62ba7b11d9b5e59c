// The CLI as a function: argv and environment in, lines on stdout/stderr and an exit code out, so the
// tests run it in-process. Flags, the environment and .env become one validated SyncConfig
// (build-config.ts), which drives one engine step (run-copy.ts, run-check.ts, run-status.ts).
import type { Mode } from "../config/schema.js";
import { parseCliArgs } from "./args.js";
import { cliConfig, identityWarning } from "./build-config.js";
import { describeProxy } from "../config/proxy.js";
import { announceStop } from "./cancel.js";
import type { CliDeps, CliIO, Output } from "./deps.js";
import { engineConfig } from "./engine-config.js";
import { EXIT_FAILED, EXIT_OK, errorExit } from "./exit-codes.js";
import { commandHelp, globalHelp } from "./help.js";
import { Masker } from "./mask.js";
import { checkedReportPath } from "./report-path.js";
import { runCheckCommand } from "./run-check.js";
import type { RunContext } from "./run-context.js";
import { runCopyCommand } from "./run-copy.js";
import { runStatusCommand } from "./run-status.js";
import { maskArguments } from "./secrets.js";
import { checkSignIn } from "./sign-in.js";
import { openStateFile } from "./state-file.js";
import { packageVersion } from "./version.js";

export type { CancelState, CliDeps, CliIO, Output } from "./deps.js";

export async function main(
  argv: string[],
  env: NodeJS.ProcessEnv,
  io: CliIO,
  deps: CliDeps = {},
): Promise<number> {
  const masker = new Masker();
  const print = (stream: Output, text: string) => stream.write(masker.mask(text));
  const out = (text: string) => print(io.stdout, text);
  const err = (text: string) => print(io.stderr, text);
  let command: Mode | undefined;
  let stopListener: (() => void) | undefined;
  /** Set once the run starts working (signing in, reading): a cancel from then on ends it as cancelled. */
  let started = false;
  try {
    maskArguments(masker, argv, env);
    const parsed = parseCliArgs(argv);
    if (parsed.kind === "help") {
      out(parsed.command ? commandHelp(parsed.command) : globalHelp());
      return EXIT_OK;
    }
    if (parsed.kind === "version") {
      const version = packageVersion();
      if (!version) {
        err(
          `table-sync: The version is unknown: no package.json of azure-table-sync was found above the program.\n`,
        );
        return EXIT_FAILED;
      }
      out(`table-sync ${version}\n`);
      return EXIT_OK;
    }
    command = parsed.command;
    const cwd = deps.cwd ?? process.cwd();
    const config = cliConfig(parsed, { env, cwd, masker, now: deps.now?.() ?? new Date() });
    const store = openStateFile(config, parsed.flags, deps);
    const check = command === "verify" || command === "switch" || command === "preflight";
    const reportPath = check ? checkedReportPath(config.reportPath, cwd) : undefined;
    const warning = identityWarning(parsed.flags, config);
    if (warning) err(warning);
    if (config.proxy) err(`table-sync: ${describeProxy(config.proxy, config)}\n`);
    stopListener = announceStop(config, store, deps, err);
    started = true;

    const engine = await engineConfig(config, deps);
    await checkSignIn(engine, deps.signal);

    const { json, progressSeconds } = parsed.options;
    const ctx: RunContext = { out, err, deps, json, progressSeconds };
    if (command === "status") return await runStatusCommand(config, engine, store, ctx);
    if (reportPath) return await runCheckCommand(config, engine, store, reportPath, ctx);
    return await runCopyCommand(config, engine, store, ctx);
  } catch (e) {
    return errorExit(e, { command, started, signal: deps.signal, cancel: deps.cancel }, err);
  } finally {
    stopListener?.();
  }
}
