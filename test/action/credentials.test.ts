// OIDC login: the assertion is a fresh GitHub ID token on every exchange, for Entra ID's audience.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ClientAssertionCredential, DefaultAzureCredential } from "@azure/identity";
import { createCredential, githubAssertion } from "../../src/action/credentials.js";

describe("credentials", () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it("uses ClientAssertionCredential with client-id and tenant-id, DefaultAzureCredential otherwise", () => {
    expect(createCredential({ clientId: "c", tenantId: "t" })).toBeInstanceOf(ClientAssertionCredential);
    expect(createCredential({ clientId: "c" })).toBeInstanceOf(DefaultAzureCredential);
    expect(createCredential({})).toBeInstanceOf(DefaultAzureCredential);
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
