// Entra ID for endpoint-based connections. With client-id and tenant-id the action logs in by OIDC
// itself; the assertion callback asks GitHub for a fresh ID token on every exchange, because a token
// fetched once expires long before a big sync ends.
import * as core from "@actions/core";
import { ClientAssertionCredential, DefaultAzureCredential } from "@azure/identity";
import type { TokenCredential } from "@azure/core-auth";
import { AZURE_AUDIENCE } from "./constants.js";

/** A GitHub OIDC token for Entra ID's token exchange: fetched anew on every call. */
export function githubAssertion(): Promise<string> {
  return core.getIDToken(AZURE_AUDIENCE);
}

export function createCredential(auth: { clientId?: string; tenantId?: string }): TokenCredential {
  if (auth.clientId && auth.tenantId) {
    return new ClientAssertionCredential(auth.tenantId, auth.clientId, githubAssertion);
  }
  // Works after azure/login, with managed identity on self-hosted runners, or environment credentials.
  return new DefaultAzureCredential();
}
