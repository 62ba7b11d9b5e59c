// `table-sync status`: the status step (it reads the state and the source's clock, and writes nothing), its
// result as text (or --json), and the exit code.
import type { SyncConfig } from "../config/schema.js";
import type { EngineConfig } from "../engine/copy/run-config.js";
import { runStatus } from "../engine/steps/index.js";
import type { StateStore } from "../state/store.js";
import { EXIT_FAILED, EXIT_OK } from "./exit-codes.js";
import type { RunContext } from "./run-context.js";
import { formatStatus } from "./status.js";

export async function runStatusCommand(
  config: SyncConfig,
  engine: EngineConfig,
  store: StateStore | undefined,
  ctx: RunContext,
): Promise<number> {
  const { out, err } = ctx;
  // Reads the state (and the source's clock); writes nothing.
  const status = await runStatus(config, {
    store,
    source: engine.source,
    retry: engine.retry,
    signal: ctx.deps.signal,
  });
  if (ctx.json) out(JSON.stringify(status, null, 2) + "\n");
  if (!status.ok) {
    err(
      `table-sync: No state was found in ${store?.describe() ?? "the state file"}: run full-sync with this --state-file first, or point --state-file at the one your full-sync and backfills use.\n`,
    );
    return EXIT_FAILED;
  }
  (ctx.json ? err : out)(formatStatus(status));
  return EXIT_OK;
}
