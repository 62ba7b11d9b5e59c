// What Ctrl+C (or SIGTERM) does to each command, in the CLI's words: said when the signal comes, shorter if a
// second Ctrl+C quits at once, and after a cancelled copy where the next run stands.
import type { SyncConfig } from "../config/schema.js";
import type { StateStore } from "../state/store.js";
import type { CliDeps } from "./deps.js";

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
export function announceStop(
  config: SyncConfig,
  store: StateStore | undefined,
  deps: Pick<CliDeps, "signal" | "cancel">,
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

/** The CLI's own words for a cancelled copy the engine describes in the action's terms (no state store there). */
export function cancelledWhy(config: SyncConfig, store: StateStore | undefined): string | undefined {
  if (config.dryRun) return `The dry run was cancelled; nothing was written.`;
  if (config.mode === "full-sync" && !store) {
    return `The full sync was cancelled; without --state-file no checkpoint was saved, so the next full-sync copies every table from the start (what was written is simply written again).`;
  }
  if (config.mode === "backfill" && !store) {
    return `The backfill was cancelled; run it again with the same --since.`;
  }
  return undefined;
}
