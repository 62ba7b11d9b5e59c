// OIDC login: the assertion is a fresh GitHub ID token on every exchange, for Entra ID's audience.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ClientAssertionCredential, DefaultAzureCredential } from "@azure/identity";
import { ConfigError } from "../../src/config/schema.js";
import { authProblem, createCredential, githubAssertion, NO_ID_TOKEN } from "../../src/action/credentials.js";

describe("credentials", () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it("uses ClientAssertionCredential with client-id and tenant-id, DefaultAzureCredential with neither", () => {
    expect(createCredential({ clientId: "c", tenantId: "t" })).toBeInstanceOf(ClientAssertionCredential);
    expect(createCredential({})).toBeInstanceOf(DefaultAzureCredential);
  });

  it("refuses one of client-id and tenant-id without the other, naming both, instead of another identity", () => {
    expect(() => createCredential({ clientId: "c" })).toThrow(ConfigError);
    expect(() => createCredential({ clientId: "c" })).toThrow(
      "Input 'client-id' is set but 'tenant-id' is not; the OIDC login needs both (or neither, to sign in with DefaultAzureCredential, e.g. after azure/login).",
    );
    expect(() => createCredential({ tenantId: "t" })).toThrow(
      "Input 'tenant-id' is set but 'client-id' is not; the OIDC login needs both",
    );
    expect(authProblem({ clientId: "c" }, false, {})).toMatch(/'client-id'.*'tenant-id'/);
    expect(authProblem({}, true, {})).toBeUndefined();
  });

  it("an OIDC login in a job without id-token: write is refused with the permission to add", async () => {
    const env = {
      ACTIONS_ID_TOKEN_REQUEST_URL: "https://token.example/x",
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: "t",
    };
    expect(authProblem({ clientId: "c", tenantId: "t" }, true, {})).toBe(NO_ID_TOKEN);
    expect(NO_ID_TOKEN).toContain("add `permissions: id-token: write` to the job");
    expect(authProblem({ clientId: "c", tenantId: "t" }, true, env)).toBeUndefined();
    // With connection strings only, the ids are not used: no token is needed.
    expect(authProblem({ clientId: "c", tenantId: "t" }, false, {})).toBeUndefined();
    // Should the variables vanish during the run, the assertion says the same, not the toolkit's variable name.
    delete process.env.ACTIONS_ID_TOKEN_REQUEST_URL;
    delete process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
    await expect(githubAssertion()).rejects.toThrow(NO_ID_TOKEN);
  });

  it("asks GitHub's OIDC endpoint for a new token, for api://AzureADTokenExchange, on every call", async () => {
    const requests: IncomingMessage[] = [];
    let n = 0;
    const server = createServer((req, res) => {
      requests.push(req);
      n++;
      // A JWT-shaped token (core.getIDToken only passes it through).
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ value: `eyJhbGciOiJub25lIn0.eyJuIjo${n}fQ.sig${n}` }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const port = (server.address() as AddressInfo).port;
      process.env.ACTIONS_ID_TOKEN_REQUEST_URL = `http://127.0.0.1:${port}/token?api-version=2.0`;
      process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = "request-token";
      const a = await githubAssertion();
      const b = await githubAssertion();
      expect(a).not.toBe(b);
      expect(requests).toHaveLength(2);
      for (const req of requests) {
        expect(new URL(req.url ?? "", "http://x").searchParams.get("audience")).toBe(
          "api://AzureADTokenExchange",
        );
        expect(req.headers.authorization).toBe("Bearer request-token");
      }
    } finally {
      server.close();
    }
  });
});
