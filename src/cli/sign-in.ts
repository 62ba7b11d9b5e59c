// Signing in before the run: with an endpoint, a missing `az login` fails at once in one clear message,
// instead of once per table after the engine's network retries. The engine picks the URL and the token scope
// (signInTarget), as its connection will.
import { signInTarget } from "../engine/wire/connection.js";
import type { EngineConfig } from "../engine/copy/run-config.js";

/** Signing in with Entra ID failed before anything was read: not a usage error, but nothing to copy either. */
export class SignInError extends Error {}

const SIDES = ["source", "destination"] as const;

/** Get a token for each endpoint before the run; throws a SignInError naming the side and the fixes. */
export async function checkSignIn(engine: EngineConfig, signal?: AbortSignal): Promise<void> {
  for (const side of SIDES) {
    const { credential } = engine[side];
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
