// Where an endpoint side signs in: the URL as the engine sends to it, and the scope of its service, chosen once;
// and where plain http is allowed.
import { describe, expect, it } from "vitest";
import type { TokenCredential } from "@azure/core-auth";
import {
  createServiceClient,
  parseConnectionString,
  signInTarget,
} from "../../../src/engine/wire/connection.js";

const credential: TokenCredential = {
  getToken: async () => ({ token: "t", expiresOnTimestamp: Date.now() + 60_000 }),
};

describe("signInTarget", () => {
  it("gives an endpoint's URL and its service's scope", () => {
    expect(signInTarget({ endpoint: "https://acct.table.core.windows.net:443/", kind: "auto" })).toEqual({
      url: "https://acct.table.core.windows.net",
      kind: "table",
      scope: "https://storage.azure.com/.default",
    });
    expect(signInTarget({ endpoint: "https://acct.table.cosmos.azure.com" })).toEqual({
      url: "https://acct.table.cosmos.azure.com",
      kind: "cosmos",
      scope: "https://cosmos.azure.com/.default",
    });
    // The kind setting wins over the host name.
    expect(signInTarget({ endpoint: "https://proxy.example.com", kind: "cosmos" })?.scope).toBe(
      "https://cosmos.azure.com/.default",
    );
  });

  it("is undefined for a connection string or a side with neither", () => {
    expect(signInTarget({ connectionString: "UseDevelopmentStorage=true" })).toBeUndefined();
    expect(signInTarget({ kind: "auto" })).toBeUndefined();
  });

  it("is the target the connection signs in for", () => {
    const side = { endpoint: "https://acct.table.cosmos.azure.com/", credential };
    const client = createServiceClient(side, "destination");
    expect({ url: client.url, kind: client.kind }).toEqual({
      url: signInTarget(side)?.url,
      kind: signInTarget(side)?.kind,
    });
  });
});

describe("parseConnectionString and plain http", () => {
  const key = "a2V5";
  const at = (endpoint: string) => () =>
    parseConnectionString(`AccountName=a;AccountKey=${key};TableEndpoint=${endpoint}`);

  it("allows plain http only for this machine (a 127/8 or ::1 address, localhost)", () => {
    for (const local of ["http://127.0.0.1:10002/a", "http://[::1]:10002/a", "http://localhost:10002/a"])
      expect(at(local)).not.toThrow();
    // A name that merely starts with 127 is somebody else's host.
    expect(at("http://127.example.com:10002/a")).toThrow(/use https:\/\//);
  });
});
