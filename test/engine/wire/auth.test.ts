// Signing without the SDK's pipeline: Shared Key Lite byte for byte as the SDK signs, a SAS appended to
// the query, a bearer token fetched once and shared, and one place choosing each service's scope.
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { TokenCredential } from "@azure/core-auth";
import { BearerSigner, SasSigner, SharedKeySigner } from "../../../src/engine/wire/auth.js";
import { tokenScope } from "../../../src/engine/wire/service-kind.js";

const DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/** Shared Key Lite as @azure/data-tables computes it (tablesNamedCredentialPolicy). */
function reference(account: string, key: string, date: string, path: string): string {
  const url = new URL(`https://example.net${path}`);
  const comp = url.searchParams.get("comp");
  const resource = `/${account}${url.pathname}${comp ? `?comp=${comp}` : ""}`;
  const signature = createHmac("sha256", Buffer.from(key, "base64"))
    .update(`${date}\n${resource}`, "utf8")
    .digest("base64");
  return `SharedKeyLite ${account}:${signature}`;
}

describe("SharedKeySigner", () => {
  const keys = [
    DEV_KEY,
    // Longer than HMAC's 64-byte block: the key is hashed first.
    Buffer.alloc(100, 7).toString("base64"),
    Buffer.alloc(1, 200).toString("base64"),
  ];
  const paths = [
    "/devstoreaccount1/Tables",
    "/devstoreaccount1/t(PartitionKey='a%20b',RowKey='%C3%A9%E2%82%AC')",
    "/acct/t()?$filter=PartitionKey%20eq%20'x'&NextPartitionKey=abc",
    "/acct/?comp=properties&restype=service",
    "/acct/$batch",
  ];
  for (const key of keys) {
    for (const path of paths) {
      it(`signs ${path} as the SDK does (key of ${Buffer.from(key, "base64").length} bytes)`, () => {
        const headers: Record<string, string> = {};
        const sent = new SharedKeySigner("devstoreaccount1", key).sign(path, headers);
        expect(sent).toBe(path);
        expect(headers["x-ms-date"]).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
        expect(headers.authorization).toBe(reference("devstoreaccount1", key, headers["x-ms-date"], path));
      });
    }
  }
});

describe("SasSigner", () => {
  it("appends the signature to the query, after any query of its own", () => {
    const signer = new SasSigner("?sv=2019-02-02&sig=abc%3D");
    const headers: Record<string, string> = {};
    expect(signer.sign("/acct/t()", headers)).toBe("/acct/t()?sv=2019-02-02&sig=abc%3D");
    expect(signer.sign("/acct/t()?$top=5", headers)).toBe("/acct/t()?$top=5&sv=2019-02-02&sig=abc%3D");
    expect(headers.authorization).toBeUndefined();
  });
});

describe("BearerSigner", () => {
  it("fetches one token for many requests, and a new one after a 401", async () => {
    let calls = 0;
    const scopes: string[] = [];
    const credential: TokenCredential = {
      getToken: async (scope) => {
        calls++;
        scopes.push(String(scope));
        return { token: `t${calls}`, expiresOnTimestamp: Date.now() + 3_600_000 };
      },
    };
    const signer = new BearerSigner(credential, tokenScope("cosmos"));
    const sign = async () => {
      const headers: Record<string, string> = {};
      await signer.sign("/t()", headers, true);
      return headers.authorization;
    };
    expect(await Promise.all([sign(), sign(), sign()])).toEqual(["Bearer t1", "Bearer t1", "Bearer t1"]);
    expect(await sign()).toBe("Bearer t1");
    signer.refresh();
    expect(await sign()).toBe("Bearer t2");
    expect(calls).toBe(2);
    expect(scopes).toEqual(["https://cosmos.azure.com/.default", "https://cosmos.azure.com/.default"]);
  });

  it("renews a token about to expire", async () => {
    let calls = 0;
    const credential: TokenCredential = {
      getToken: async () => ({ token: `t${++calls}`, expiresOnTimestamp: Date.now() + 60_000 }),
    };
    const signer = new BearerSigner(credential, tokenScope("table"));
    for (let i = 0; i < 3; i++) await signer.sign("/t()", {}, true);
    expect(calls).toBe(3); // each one expires within the refresh margin
  });

  it("never sends a token over plain http", () => {
    const credential: TokenCredential = { getToken: async () => null };
    expect(() => new BearerSigner(credential, tokenScope("table")).sign("/t()", {}, false)).toThrow(
      /non-TLS/,
    );
  });
});

describe("tokenScope", () => {
  it("is Storage's for Table Storage and Cosmos's for Cosmos DB for Table", () => {
    expect(tokenScope("table")).toBe("https://storage.azure.com/.default");
    expect(tokenScope("cosmos")).toBe("https://cosmos.azure.com/.default");
  });
});
