// The CLI as a function: argv and environment in, lines on stdout/stderr and an exit code out, so the
// tests run it in-process. One validated SyncConfig (src/config/schema.ts) drives one engine run.
import type { TokenCredential } from "@azure/core-auth";
import { ConfigError, buildConfig, type RawInputs, type SyncConfig } from "../config/schema.js";
import {
  ConnectionError,
  normalizeEndpoint,
  parseConnectionString,
  signInTarget,
  type SideConfig,
} from "../engine/wire/connection.js";
import type { RetryOptions } from "../engine/wire/http.js";
import type { EngineConfig, TableSpec } from "../engine/copy/run-config.js";
import { cliMessage, parseCliArgs } from "./args.js";
import { commandHelp, globalHelp } from "./help.js";
import { reportPathProblem, reportWriteFailure } from "./report-path.js";
import { packageVersion } from "./version.js";
import type { RunResult } from "./report.js";
import { readEnvFile } from "./env-file.js";
import { FileStateStore } from "../state/file-store.js";
import type { StateStore } from "../state/store.js";
import { StateError, tableKey } from "../state/state.js";
import {
  engineConfigOf,
  runCopy,
  cancelledCheck,
  runPreflight,
  runSwitch,
  runVerify,
  writeCheckReport,
  type CheckEvents,
  type CheckResult,
  type MigrationResult,
} from "../engine/steps/index.js";
import type { Mode } from "../config/schema.js";
import { runStatus } from "../engine/steps/index.js";
import type { MeteredProgress } from "../engine/steps/index.js";
import { formatStatus, lagLine } from "./status.js";
import { resolve } from "node:path";
import { Masker, connectionStringSecrets } from "./mask.js";
import { formatCheck, formatSummary, isoSeconds, nextSince, progressLine, tableDoneLine } from "./report.js";
import { duration, num, tablesCount } from "../present/figures.js";

export interface Output {
  write(chunk: string): unknown;
}

export interface CliIO {
  stdout: Output;
  stderr: Output;
}

/** Where secrets may come from besides flags (flags win over the environment, the environment over .env). */
export const SECRET_ENV = {
  source: "SOURCE_CONNECTION_STRING",
  destination: "DESTINATION_CONNECTION_STRING",
} as const;

/** Shared with the process's signal handlers (src/cli/index.ts). */
export interface CancelState {
  /** The signal that cancelled the run: SIGTERM exits 143, anything else (SIGINT) 130. */
  by?: NodeJS.Signals;
  /** What a second Ctrl+C prints before quitting at once; main() sets it once the command is known. */
  quitLine: string;
}

export interface CliDeps {
  /** Where `.env` is looked for; defaults to the process's working directory. */
  cwd?: string;
  /** Aborted on Ctrl+C: the run stops after the current page and still prints its summary. */
  signal?: AbortSignal;
  /** Which signal aborted `signal` (for the exit code), and the line a second Ctrl+C prints. */
  cancel?: CancelState;
  /** Milliseconds between progress lines; overrides --progress-seconds (tests use a few ms). */
  progressIntervalMs?: number;
  /** The Entra ID credential for endpoints; defaults to DefaultAzureCredential. */
  credential?: (auth: SyncConfig["auth"]) => TokenCredential | Promise<TokenCredential>;
  /** The store behind --state-file; defaults to the JSON file at that path. */
  openState?: (config: SyncConfig) => StateStore;
  /** Milliseconds between full-sync checkpoints; overrides --checkpoint-seconds (tests use a few ms). */
  checkpointIntervalMs?: number;
  /** Engine retry settings (tests shorten them). */
  retry?: Partial<RetryOptions>;
  now?: () => Date;
}

/** Signing in with Entra ID failed before anything was read: not a usage error, but nothing to copy either. */
export class SignInError extends Error {}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
/** Cancelled by SIGINT (Ctrl+C): 128 + 2, as shells report it. */
export const EXIT_CANCELLED = 130;
/** Cancelled by SIGTERM (a CI cancel or time-out): 128 + 15. */
export const EXIT_TERMINATED = 143;

export function cancelExitCode(cancel: CancelState | undefined): number {
  return cancel?.by === "SIGTERM" ? EXIT_TERMINATED : EXIT_CANCELLED;
}

type Side = "source" | "destination";
const SIDES: Side[] = ["source", "destination"];

interface Origins {
  source?: string;
  destination?: string;
}

/** Fill each side's connection string from the environment or .env, unless a flag set that side. */
function applySecretSources(
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

function sideUrl(side: SyncConfig["source"]): string {
  if (side.connectionString) return parseConnectionString(side.connectionString).url;
  return normalizeEndpoint(side.endpoint ?? "");
}

async function defaultCredential(auth: SyncConfig["auth"]): Promise<TokenCredential> {
  // Loaded only when an endpoint is used: connection-string runs and --help stay quick.
  const { DefaultAzureCredential } = await import("@azure/identity");
  return new DefaultAzureCredential({
    ...(auth.tenantId ? { tenantId: auth.tenantId } : {}),
    ...(auth.clientId
      ? { managedIdentityClientId: auth.clientId, workloadIdentityClientId: auth.clientId }
      : {}),
  });
}

/** The engine's view of a validated config; endpoints get the (one, shared) Entra ID credential. */
export async function engineConfig(
  config: SyncConfig,
  deps: Pick<CliDeps, "credential" | "retry"> = {},
): Promise<EngineConfig> {
  let credential: Promise<TokenCredential> | undefined;
  const sideConfig = async (side: SyncConfig["source"]): Promise<SideConfig> => {
    if (side.connectionString) return { connectionString: side.connectionString, kind: side.kind };
    if (!side.endpoint) return { kind: side.kind }; // preflight without a destination
    credential ??= Promise.resolve((deps.credential ?? defaultCredential)(config.auth));
    return { endpoint: side.endpoint, credential: await credential, kind: side.kind };
  };
  return engineConfigOf(config, {
    source: await sideConfig(config.source),
    destination: await sideConfig(config.destination),
    retry: deps.retry,
  });
}

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
  let store: StateStore | undefined;
  let command: Mode | undefined;
  let stopListener: (() => void) | undefined;
  /** Set once the run starts working (signing in, reading): a cancel from then on ends it as cancelled. */
  let started = false;
  try {
    // Mask anything that looks like a secret in the raw arguments before anything can be printed.
    for (const [i, arg] of argv.entries()) {
      if (/connection-string/.test(arg))
        masker.add(...connectionStringSecrets(arg.split("=").slice(1).join("=") || argv[i + 1]));
    }
    for (const side of SIDES) masker.add(...connectionStringSecrets(env[SECRET_ENV[side]]));

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
    const { raw, flags, options } = parsed;
    command = parsed.command;
    let dotenvCache: Record<string, string> | undefined;
    const dotenv = () => {
      dotenvCache ??= readEnvFile(deps.cwd ?? process.cwd());
      for (const side of SIDES) masker.add(...connectionStringSecrets(dotenvCache[SECRET_ENV[side]]));
      return dotenvCache;
    };
    const origins = applySecretSources(raw, flags, env, dotenv);
    for (const side of SIDES) masker.add(...connectionStringSecrets(raw[`${side}-connection-string`]));

    const now = deps.now?.() ?? new Date();
    let config: SyncConfig;
    try {
      config = buildConfig(raw, now);
    } catch (e) {
      const bad =
        e instanceof ConfigError ? /^Input '(source|destination)-connection-string'/.exec(e.message) : null;
      if (bad && origins[bad[1] as Side]) {
        // Say where the bad string came from, since it may not be on the command line at all.
        const side = bad[1] as Side;
        throw new ConfigError(
          (e as ConfigError).message.replace(bad[0], `The ${side} connection string (from ${origins[side]})`),
        );
      }
      if (e instanceof ConfigError && /Neither '(source|destination)-connection-string'/.test(e.message)) {
        const side = /Neither '(source|destination)/.exec(e.message)?.[1] as Side;
        throw new ConfigError(
          `No ${side} given; set ${SECRET_ENV[side]} (environment or .env), or pass --${side}-connection-string or --${side}-endpoint.`,
        );
      }
      throw e;
    }
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
    if (flags.has("state-file")) {
      store = deps.openState ? deps.openState(config) : new FileStateStore(config.stateKey);
    }
    if (command === "backfill" && !store && !config.since) {
      throw new ConfigError(
        `A backfill needs --since <ISO-8601 UTC time>, or --state-file with the watermarks a full sync recorded.`,
      );
    }
    if (command === "status" && !store) {
      throw new ConfigError(
        `Status reads the state: give --state-file, the one your full-sync and backfills use.`,
      );
    }
    if (command === "switch" && !store) {
      throw new ConfigError(
        `A switch records switched-at in the state: give --state-file, the one your full-sync and backfills use.`,
      );
    }
    const check = command === "verify" || command === "switch" || command === "preflight";
    const reportPath = resolve(deps.cwd ?? process.cwd(), config.reportPath ?? "table-sync-report.json");
    if (check) {
      // Before any work: a report that cannot be written must not cost the whole run first.
      const problem = reportPathProblem(reportPath, config.reportPath);
      if (problem) throw new ConfigError(problem);
    }
    const identityFlags = (["client-id", "tenant-id"] as const).filter((f) => flags.has(f));
    if (identityFlags.length && !config.source.endpoint && !config.destination.endpoint) {
      err(
        `table-sync: warning: ${identityFlags.map((f) => `--${f}`).join(" and ")} ${identityFlags.length === 1 ? "is" : "are"} ignored: ` +
          `${identityFlags.length === 1 ? "it picks" : "they pick"} the Entra ID identity for --source-endpoint or --destination-endpoint, and both sides use a connection string.\n`,
      );
    }
    stopListener = announceStop(config, store, deps, err);
    started = true;

    const engine = await engineConfig(config, deps);
    await checkSignIn(engine, deps.signal);

    const ctx: RunContext = { out, err, deps, json: options.json, progressSeconds: options.progressSeconds };
    if (command === "status") {
      // Reads the state (and the source's clock); writes nothing.
      const status = await runStatus(config, {
        store,
        source: engine.source,
        retry: engine.retry,
        signal: deps.signal,
      });
      if (options.json) out(JSON.stringify(status, null, 2) + "\n");
      if (!status.ok) {
        err(
          `table-sync: No state was found in ${store?.describe() ?? "the state file"}: run full-sync with this --state-file first, or point --state-file at the one your full-sync and backfills use.\n`,
        );
        return EXIT_FAILED;
      }
      (options.json ? err : out)(formatStatus(status));
      return EXIT_OK;
    }
    if (check) return await runCheck(config, engine, store, reportPath, ctx);
    return await run(config, engine, store, ctx);
  } catch (e) {
    if (started && command && deps.signal?.aborted) {
      // Whatever stopped half-way after a cancel is the cancel's doing, not a failure to report as one.
      err(
        `table-sync: ${command} cancelled: ${cliMessage(oneLine(e instanceof Error ? e.message : String(e)))}\n`,
      );
      return cancelExitCode(deps.cancel);
    }
    if (e instanceof ConfigError || e instanceof ConnectionError || e instanceof StateError) {
      err(`table-sync: ${cliMessage(oneLine(e.message))}\n`);
      return EXIT_USAGE;
    }
    if (e instanceof SignInError) {
      err(`table-sync: ${e.message}\n`);
      return EXIT_FAILED;
    }
    err(`table-sync: ${oneLine(e instanceof Error ? e.message : String(e))}\n`);
    return EXIT_FAILED;
  } finally {
    stopListener?.();
  }
}

/** What a cancel does to this run: said when the signal comes, and (shorter) if a second Ctrl+C quits at once. */
export function stopWords(
  config: SyncConfig,
  store: StateStore | undefined,
): { stopping: string; quit: string } {
  switch (config.mode) {
    case "full-sync":
      if (config.dryRun)
        return {
          stopping: "stopping after the current page (a dry run saves nothing)",
          quit: "Stopped at once.",
        };
      if (store) {
        return {
          stopping: "stopping after the current page and saving a checkpoint",
          quit: "Stopped at once; the last saved checkpoint stands.",
        };
      }
      return {
        stopping:
          "stopping after the current page; without --state-file no checkpoint is saved, so the next full-sync starts from the beginning",
        quit: "Stopped at once; without --state-file there is no checkpoint to resume from.",
      };
    case "backfill":
      return store && !config.dryRun
        ? {
            stopping: "stopping after the current page; the tables not finished keep their watermarks",
            quit: "Stopped at once; the tables not finished keep their watermarks.",
          }
        : { stopping: "stopping after the current page", quit: "Stopped at once." };
    case "verify":
      return {
        stopping: `stopping the verify: it gives no verdict${config.repair ? " (what it repaired so far stays written)" : ""}`,
        quit: "Stopped at once; the verify gives no verdict.",
      };
    case "switch":
      return {
        stopping: "stopping the switch before it records switched-at",
        quit: "Stopped at once; run 'table-sync switch' again before you change the app's endpoint.",
      };
    case "preflight":
      return {
        stopping: "stopping the preflight: it gives no verdict",
        quit: "Stopped at once; the preflight gives no verdict.",
      };
    case "status":
      return { stopping: "stopping the status (it writes nothing)", quit: "Stopped at once." };
  }
}

/** Print what the cancel does when the signal fires (at once if it already has); returns the clean-up. */
function announceStop(
  config: SyncConfig,
  store: StateStore | undefined,
  deps: CliDeps,
  err: (text: string) => void,
): (() => void) | undefined {
  const words = stopWords(config, store);
  if (deps.cancel) deps.cancel.quitLine = words.quit;
  const signal = deps.signal;
  if (!signal) return undefined;
  const say = () => {
    const by = deps.cancel?.by;
    err(
      by === "SIGTERM"
        ? `\nSIGTERM: ${words.stopping}…\n`
        : `\n${words.stopping[0].toUpperCase()}${words.stopping.slice(1)} (Ctrl+C again to quit now)…\n`,
    );
  };
  if (signal.aborted) {
    say();
    return undefined;
  }
  signal.addEventListener("abort", say, { once: true });
  return () => signal.removeEventListener("abort", say);
}

/** verify, switch and preflight: progress lines, the text report, the JSON report, the exit code. */
async function runCheck(
  config: SyncConfig,
  engine: EngineConfig,
  store: StateStore | undefined,
  reportPath: string,
  ctx: RunContext,
): Promise<number> {
  const { err, deps } = ctx;
  const command = config.mode as "verify" | "switch" | "preflight";
  let current: { table: string; what: string; started: number; text?: string } | undefined;
  const intervalMs = deps.progressIntervalMs ?? (ctx.progressSeconds ?? 5) * 1000;
  const timer =
    intervalMs > 0
      ? setInterval(() => {
          if (current?.text) {
            err(
              `[${current.table}] ${current.what}: ${current.text}, ${duration(Date.now() - current.started)} elapsed\n`,
            );
          }
        }, intervalMs)
      : undefined;
  const checkDeps = { store, source: engine.source, destination: engine.destination, retry: engine.retry };
  const events: CheckEvents = {
    signal: deps.signal,
    onTableStart: (spec: TableSpec, what: string) => {
      current = { table: spec.source, what, started: Date.now() };
      err(`[${spec.source}] ${what}…\n`);
    },
    onProgress: (text: string) => {
      if (!current) return;
      // "orders: scan, 12000 source / 11000 destination entities" → "scan, 12,000 source / 11,000 destination entities"
      const own = `${current.table}: `;
      current.text = (text.startsWith(own) ? text.slice(own.length) : text).replace(/\b\d{4,}\b/g, (n) =>
        num(Number(n)),
      );
    },
    onTableEnd: () => {
      current = undefined;
    },
  };
  let result: CheckResult;
  try {
    result =
      command === "verify"
        ? await runVerify(config, checkDeps, events)
        : command === "switch"
          ? await runSwitch(config, checkDeps, events)
          : await runPreflight(config, checkDeps, events);
  } finally {
    if (timer) clearInterval(timer);
  }
  // A cancel gives no verdict, unless the switch was already recorded when it came.
  const report = cancelledCheck(result, deps.signal);
  const cancelled = report.cancelled === true;
  let writeError: unknown;
  try {
    await writeCheckReport(reportPath, report);
  } catch (e) {
    writeError = e;
  }
  if (ctx.json) ctx.out(JSON.stringify(report, null, 2) + "\n");
  (ctx.json ? err : ctx.out)(
    "\n" + formatCheck(result, writeError === undefined ? reportPath : undefined, { cancelled }),
  );
  if (writeError !== undefined) err(`table-sync: ${reportWriteFailure(reportPath, writeError)}\n`);
  if (deps.signal?.aborted) {
    if (!cancelled) err(`The cancel came after switched-at was recorded: the switch stands.\n`);
    return cancelExitCode(deps.cancel);
  }
  if (writeError !== undefined) return EXIT_FAILED;
  return result.ok ? EXIT_OK : EXIT_FAILED;
}

/**
 * Get a token for each endpoint before the run: a missing `az login` then fails at once, in one clear
 * message, instead of once per table after the engine's network retries.
 */
async function checkSignIn(engine: EngineConfig, signal?: AbortSignal): Promise<void> {
  for (const side of SIDES) {
    const { credential } = engine[side];
    // The engine picks the URL and the token scope, as its connection will.
    const target = credential ? signInTarget(engine[side]) : undefined;
    if (!credential || !target) continue;
    const { url, scope } = target;
    let failure: string | undefined;
    try {
      const token = await credential.getToken(scope, { abortSignal: signal });
      if (!token) failure = "no token was returned";
    } catch (e) {
      failure = e instanceof Error ? e.message : String(e);
    }
    if (failure !== undefined) {
      const details = failure
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l && !/^ChainedTokenCredential authentication failed\.?$/.test(l))
        .map((l) => `  ${l}`)
        .join("\n");
      throw new SignInError(
        `Signing in for the ${side} endpoint ${url} failed: sign in with 'az login', use a managed or workload ` +
          `identity (AZURE_CLIENT_ID, AZURE_TENANT_ID…), or pass --${side}-connection-string instead.` +
          (details ? `\n${details}` : ""),
      );
    }
  }
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}

interface RunContext {
  out: (text: string) => void;
  err: (text: string) => void;
  deps: CliDeps;
  json: boolean;
  progressSeconds?: number;
}

async function run(
  config: SyncConfig,
  engine: EngineConfig,
  store: StateStore | undefined,
  ctx: RunContext,
): Promise<number> {
  const { err, deps } = ctx;
  const command = config.mode;
  const tables = config.tables.length;
  err(
    `${command}: ${tablesCount(tables)} from ${sideUrl(config.source)} to ${sideUrl(config.destination)}` +
      `${config.dryRun ? " (dry run: nothing is written)" : ""}.\n`,
  );

  let current: { spec: TableSpec; started: number; progress: MeteredProgress } | undefined;
  const intervalMs = deps.progressIntervalMs ?? (ctx.progressSeconds ?? 5) * 1000;
  const timer =
    intervalMs > 0
      ? setInterval(() => {
          if (current) err(progressLine(current.progress, Date.now() - current.started) + "\n");
        }, intervalMs)
      : undefined;

  let migration: MigrationResult;
  try {
    // The same step as the action: the same plan, watermark and post-switch rules.
    migration = await runCopy(
      config,
      {
        store,
        source: engine.source,
        destination: engine.destination,
        retry: engine.retry,
        checkpointIntervalMs: deps.checkpointIntervalMs,
      },
      {
        signal: deps.signal,
        onNotice: (text) => err(cliMessage(text) + "\n"),
        onTableStart: (spec, plan) => {
          current = {
            spec,
            started: Date.now(),
            progress: { table: spec.source, read: 0, written: 0, skipped: 0, failed: 0 },
          };
          err(
            `[${spec.source}] copying to ${spec.destination}${plan.filter ? ` where ${plan.filter}` : ""}…\n`,
          );
          if (plan.guard) err(`[${spec.source}] ${guardLine(plan.guard)}\n`);
        },
        onProgress: (p) => {
          if (current) current.progress = p;
        },
        onTableEnd: (report) => {
          current = undefined;
          err(tableDoneLine(report.result) + "\n");
        },
      },
    );
  } finally {
    if (timer) clearInterval(timer);
  }
  const result: RunResult = {
    tables: migration.tables.map((r) => r.result),
    totals: migration.totals,
    lagSeconds: migration.lagSeconds,
    changedEntities: migration.changedEntities,
    watermark: migration.lastSyncUtc,
  };

  const cancelled = deps.signal?.aborted ?? false;
  const summary = formatSummary(result, {
    command,
    dryRun: config.dryRun,
    overlapSeconds: config.overlapSeconds,
    cancelled,
  });
  if (ctx.json) {
    const since = cancelled || config.dryRun ? undefined : nextSince(result);
    ctx.out(
      JSON.stringify({ command, ...result, ...(since ? { nextSince: isoSeconds(since) } : {}) }, null, 2) +
        "\n",
    );
    err("\n" + summary);
  } else {
    ctx.out("\n" + summary);
  }
  if (command === "backfill" && store && !config.dryRun) {
    // Each table's lag over its last backfills (this one included), as the status command shows it.
    const saved = await store.load().catch(() => undefined);
    const lines = config.tables.flatMap((t) => lagLine(t, saved?.tables[tableKey(t)]?.history));
    if (lines.length) (ctx.json ? err : ctx.out)(lines.join("\n") + "\n");
  }
  if (cancelled) {
    const why = cancelledWhy(config, store) ?? migration.failure;
    if (why) err(`table-sync: ${cliMessage(why)}\n`);
    return cancelExitCode(deps.cancel);
  }
  return result.totals.failed > 0 || result.totals.tablesFailed > 0 ? EXIT_FAILED : EXIT_OK;
}

/** After a switch, what a copy does with the app's writes on the destination (--conflict). */
export function guardLine(guard: { switchedAt: string; policy: string }): string {
  return guard.policy === "source-wins"
    ? `switched at ${guard.switchedAt}: --conflict source-wins, so the source's version overwrites what the app wrote on the destination since.`
    : `switched at ${guard.switchedAt}: the app's writes on the destination are kept (--conflict skip).`;
}

/** The CLI's own words for a cancel the engine describes in the action's terms (no state store there). */
function cancelledWhy(config: SyncConfig, store: StateStore | undefined): string | undefined {
  if (config.dryRun) return `The dry run was cancelled; nothing was written.`;
  if (config.mode === "full-sync" && !store) {
    return `The full sync was cancelled; without --state-file no checkpoint was saved, so the next full-sync copies every table from the start (what was written is simply written again).`;
  }
  if (config.mode === "backfill" && !store) {
    return `The backfill was cancelled; run it again with the same --since.`;
  }
  return undefined;
}
