// Entra ID for endpoint-based connections. With client-id and tenant-id the action logs in by OIDC
// itself; the assertion callback asks GitHub for a fresh ID token on every exchange, because a token
// fetched once expires long before a big sync ends.
import * as core from "@actions/core";
import { ClientAssertionCredential, DefaultAzureCredential } from "@azure/identity";
import type { TokenCredential } from "@azure/core-auth";
import { ConfigError, type SyncConfig } from "../config/schema.js";
import type { MigrationDeps } from "../engine/steps/index.js";
import { AZURE_AUDIENCE } from "./constants.js";

/** What a job without `id-token: write` lacks; core.getIDToken's own error only names the variable. */
export const NO_ID_TOKEN =
  "Inputs 'client-id' and 'tenant-id' log in to Entra ID with a GitHub OIDC token, but this job may not request one " +
  "(ACTIONS_ID_TOKEN_REQUEST_URL is not set): add `permissions: id-token: write` to the job.";

/** A GitHub OIDC token for Entra ID's token exchange: fetched anew on every call. */
export async function githubAssertion(): Promise<string> {
  try {
    return await core.getIDToken(AZURE_AUDIENCE);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/ACTIONS_ID_TOKEN_REQUEST_(URL|TOKEN)/.test(message)) throw new Error(NO_ID_TOKEN);
    throw err;
  }
}

type Auth = { clientId?: string; tenantId?: string };

/**
 * Why the Entra ID inputs cannot work, as one sentence, or undefined. Checked before anything runs: a lone
 * client-id must not quietly fall back to DefaultAzureCredential, and a job that may not request an ID token
 * must hear the fix rather than the toolkit's variable name.
 */
export function authProblem(auth: Auth, usesEndpoints: boolean, env: NodeJS.ProcessEnv): string | undefined {
  if (auth.clientId && !auth.tenantId) {
    return "Input 'client-id' is set but 'tenant-id' is not; the OIDC login needs both (or neither, to sign in with DefaultAzureCredential, e.g. after azure/login).";
  }
  if (auth.tenantId && !auth.clientId) {
    return "Input 'tenant-id' is set but 'client-id' is not; the OIDC login needs both (or neither, to sign in with DefaultAzureCredential, e.g. after azure/login).";
  }
  if (usesEndpoints && auth.clientId && auth.tenantId && !env.ACTIONS_ID_TOKEN_REQUEST_URL)
    return NO_ID_TOKEN;
  return undefined;
}

export function createCredential(auth: Auth): TokenCredential {
  if (auth.clientId && auth.tenantId) {
    return new ClientAssertionCredential(auth.tenantId, auth.clientId, githubAssertion);
  }
  if (auth.clientId || auth.tenantId) {
    // main.ts checks this first; never fall back to another identity than the one asked for.
    throw new ConfigError(authProblem(auth, false, {})!);
  }
  // Works after azure/login, with managed identity on self-hosted runners, or environment credentials.
  return new DefaultAzureCredential();
}

/** The engine's view of both sides: endpoints get the one credential (made only when a side uses one). */
export function sidesOf(config: SyncConfig): Pick<MigrationDeps, "source" | "destination"> {
  const credential =
    config.source.endpoint || config.destination.endpoint ? createCredential(config.auth) : undefined;
  return {
    source: { ...config.source, credential, proxy: config.proxy },
    destination: { ...config.destination, credential, proxy: config.proxy },
  };
}
