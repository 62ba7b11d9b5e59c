// The engine's view of the CLI's config: connection strings as given, endpoints with one shared credential.
import { describe, expect, it } from "vitest";
import { DefaultAzureCredential } from "@azure/identity";
import type { TokenCredential } from "@azure/core-auth";
import { buildConfig } from "../../src/config/schema.js";
import { engineConfig } from "../../src/cli/engine-config.js";

describe("engine config", () => {
  const raw = {
    mode: "full-sync",
    tables: "abc",
    "source-endpoint": "https://src.table.core.windows.net",
    "destination-connection-string": "UseDevelopmentStorage=true",
  };

  it("gives endpoints DefaultAzureCredential by default", async () => {
    const engine = await engineConfig(
      buildConfig({ ...raw, "client-id": "00000000-0000-0000-0000-000000000001" }),
    );
    expect(engine.source.credential).toBeInstanceOf(DefaultAzureCredential);
    expect(engine.source.endpoint).toBe("https://src.table.core.windows.net");
    expect(engine.destination).toEqual({ connectionString: "UseDevelopmentStorage=true", kind: "auto" });
  });

  it("uses an injected credential, once for both sides", async () => {
    let made = 0;
    const fake: TokenCredential = {
      getToken: async () => ({ token: "t", expiresOnTimestamp: Date.now() + 60_000 }),
    };
    const engine = await engineConfig(
      buildConfig({
        ...raw,
        "destination-connection-string": undefined,
        "destination-endpoint": "https://d.table.cosmos.azure.com",
      }),
      {
        credential: () => {
          made++;
          return fake;
        },
      },
    );
    expect(engine.source.credential).toBe(fake);
    expect(engine.destination.credential).toBe(fake);
    expect(made).toBe(1);
  });
});
