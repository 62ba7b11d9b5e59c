// The GitHub Action: inputs → one validated config → the engine's step, with watermarks in a state store,
// one log group per phase, a job summary and outputs. Knows nothing of how entities move; each step's
// runner (run-copy.ts, run-check.ts) logs, annotates and summarises its own result.
import * as core from "@actions/core";
import { buildConfig, ConfigError } from "../config/schema.js";
import { describeProxy, proxyFromEnv } from "../config/proxy.js";
import { ConnectionError } from "../engine/wire/connection.js";
import { redact } from "../engine/wire/redact.js";
import { runStatus } from "../engine/steps/index.js";
import { StateError } from "../state/state.js";
import type { StateStore } from "../state/store.js";
import { Outputs } from "./constants.js";
import { authProblem, sidesOf } from "./credentials.js";
import { readInputs } from "./inputs.js";
import { PhaseGroups } from "./log.js";
import { reportPathOf, reportPathProblem } from "./report-path.js";
import { runCheckStep } from "./run-check.js";
import { runCopyStep } from "./run-copy.js";
import { buildStatusSummary } from "./status-summary.js";
import type { StepContext } from "./step-context.js";
import { createStateStore } from "./stores.js";

export interface RunDeps {
  /** Tests hand in a store; the action builds one from its inputs. */
  store?: StateStore;
  env?: NodeJS.ProcessEnv;
  /** Aborted on SIGINT/SIGTERM (cancel, time-out): the copy stops after the current page and checkpoints. */
  signal?: AbortSignal;
}

export async function run(deps: RunDeps = {}): Promise<void> {
  const env = deps.env ?? process.env;
  const secrets: string[] = [];
  const clean = (s: string) => redact(s, secrets);
  const groups = new PhaseGroups();
  try {
    const { raw, notices } = readInputs(secrets);
    const config = buildConfig(raw);
    config.proxy = proxyFromEnv(env, (s) => {
      secrets.push(s);
      core.setSecret(s);
    });
    if (config.proxy) core.info(describeProxy(config.proxy, config));
    const auth = authProblem(config.auth, !!(config.source.endpoint || config.destination.endpoint), env);
    if (auth) throw new ConfigError(auth);
    const checking = config.mode === "verify" || config.mode === "switch" || config.mode === "preflight";
    // Checked before any work: found out at the end, a switch would already be recorded.
    const reportPath = checking ? reportPathOf(config, env) : undefined;
    const reportProblem = reportPath && reportPathProblem(reportPath, config.reportPath);
    if (reportProblem) throw new ConfigError(reportProblem);
    const store = deps.store ?? createStateStore(config, env, notices);
    for (const n of notices) core.notice(clean(n));

    const ctx: StepContext = {
      notices,
      clean,
      scrub: <T>(value: T): T => JSON.parse(clean(JSON.stringify(value))) as T,
      groups,
      signal: deps.signal,
    };
    if (config.mode === "status") {
      // Reads the state (and the source's clock); writes nothing.
      const status = await runStatus(config, { store, source: sidesOf(config).source, signal: deps.signal });
      status.notices.unshift(...notices);
      core.setOutput(Outputs.ResultJson, clean(JSON.stringify(status)));
      await core.summary.addRaw(clean(buildStatusSummary(ctx.scrub(status)))).write();
      if (!status.ok) core.setFailed(clean(status.failure ?? "No state was found."));
      return;
    }
    if (reportPath) await runCheckStep(config, { store, ...sidesOf(config) }, reportPath, ctx);
    else await runCopyStep(config, { store, ...sidesOf(config) }, ctx);
  } catch (err) {
    groups.close();
    const known = err instanceof ConfigError || err instanceof StateError || err instanceof ConnectionError;
    const message = known ? err.message : describe(err);
    // Whatever stopped half-way after a cancel is the cancel's doing: said as such, with no verdict.
    core.setFailed(
      clean(deps.signal?.aborted ? `Cancelled before the step finished (${message}).` : message),
    );
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message.split("\n")[0];
  return String(err);
}
