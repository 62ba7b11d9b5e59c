// The engine's view of a validated config: connection strings as given, endpoints with the one Entra ID
// credential both sides share (DefaultAzureCredential unless a test hands in another).
import type { TokenCredential } from "@azure/core-auth";
import type { SyncConfig } from "../config/schema.js";
import type { SideConfig } from "../engine/wire/connection.js";
import type { EngineConfig } from "../engine/copy/run-config.js";
import { engineConfigOf } from "../engine/steps/index.js";
import type { CliDeps } from "./deps.js";

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
    const { kind } = side;
    const proxy = config.proxy;
    if (side.connectionString) return { connectionString: side.connectionString, kind, proxy };
    if (!side.endpoint) return { kind, proxy }; // preflight without a destination
    credential ??= Promise.resolve((deps.credential ?? defaultCredential)(config.auth));
    return { endpoint: side.endpoint, credential: await credential, kind, proxy };
  };
  return engineConfigOf(config, {
    source: await sideConfig(config.source),
    destination: await sideConfig(config.destination),
    retry: deps.retry,
  });
}
