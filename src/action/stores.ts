// Building the state store the inputs ask for.
import * as core from "@actions/core";
import type { SyncConfig } from "../config/schema.js";
import { ConfigError } from "../config/schema.js";
import { FileStateStore } from "../state/file-store.js";
import type { StateStore } from "../state/store.js";
import { CacheStateStore, defaultBranchWarning } from "./cache-store.js";
import { VariableStateStore } from "./variable-store.js";

export function createStateStore(config: SyncConfig, env: NodeJS.ProcessEnv, notices: string[]): StateStore {
  switch (config.stateStore) {
    case "file":
      return new FileStateStore(config.stateKey);
    case "variable": {
      if (!config.githubToken) {
        throw new ConfigError(
          "Input 'github-token' is required with state-store 'variable': pass a PAT or GitHub App token with Variables: write (GITHUB_TOKEN cannot write variables).",
        );
      }
      core.setSecret(config.githubToken);
      return new VariableStateStore({ name: config.stateKey, token: config.githubToken, env });
    }
    case "cache": {
      const warning = defaultBranchWarning(env);
      if (warning) {
        core.warning(warning);
        notices.push(warning);
      }
      return new CacheStateStore({ stateKey: config.stateKey, env });
    }
  }
}
