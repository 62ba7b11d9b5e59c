// A credential that cannot sign in fails the request at once with one sentence, without network retries.
import { describe, expect, inject, it } from "vitest";
import type { TokenCredential } from "@azure/core-auth";
import { createServiceClient } from "../../../src/engine/wire/connection.js";
import { TableHttp } from "../../../src/engine/wire/http.js";

class CredentialUnavailableError extends Error {
  override name = "CredentialUnavailableError";
}

describe("credential errors", () => {
  it("are not retried and say what to check", async () => {
    let calls = 0;
    const credential: TokenCredential = {
      getToken: async () => {
        calls++;
        throw new CredentialUnavailableError("EnvironmentCredential is unavailable.\nMore lines here.");
      },
    };
    // https, so the bearer policy asks the credential before it connects anywhere.
    const endpoint = `https://127.0.0.1:${inject("sourcePort")}/devstoreaccount1`;
    const http = new TableHttp(createServiceClient({ endpoint, credential }, "source"));
    const started = Date.now();
    await expect(http.send({ method: "GET", url: `${endpoint}/Tables` })).rejects.toThrow(
      "Signing in with Entra ID failed (EnvironmentCredential is unavailable.); check client-id/tenant-id, the federated credential or azure/login.",
    );
    expect(calls).toBe(1);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe("deterministic client-side errors", () => {
  it("are not retried", async () => {
    const credential: TokenCredential = {
      getToken: async () => ({ token: "t", expiresOnTimestamp: Date.now() + 3600_000 }),
    };
    const endpoint = `http://127.0.0.1:${inject("sourcePort")}/devstoreaccount1`;
    const http = new TableHttp(createServiceClient({ endpoint, credential }, "source"));
    const started = Date.now();
    // The SDK refuses a bearer token over plain http: no amount of retrying changes that.
    await expect(http.send({ method: "GET", url: `${endpoint}/Tables` })).rejects.toThrow(/non-TLS|https/i);
    expect(http.stats.retries).toBe(0);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
