// The proxy from the environment (config/proxy.ts): which variable wins, the forms accepted, the ones refused
// with one sentence naming the variable, and the password handed over for masking.
import { describe, expect, it } from "vitest";
import { describeProxy, proxyFromEnv } from "../../src/config/proxy.js";
import { ConfigError } from "../../src/config/schema.js";

describe("proxyFromEnv", () => {
  it("is undefined without a proxy variable, and reads them in the Azure SDK's order", () => {
    expect(proxyFromEnv({})).toBeUndefined();
    expect(proxyFromEnv({ HTTPS_PROXY: "  ", NO_PROXY: "x" })).toBeUndefined();
    expect(proxyFromEnv({ https_proxy: "http://a:1" })?.url).toBe("http://a:1/");
    expect(proxyFromEnv({ HTTP_PROXY: "http://c:3", ALL_PROXY: "http://b:2" })?.url).toBe("http://b:2/");
    expect(proxyFromEnv({ HTTP_PROXY: "http://c:3", HTTPS_PROXY: "http://a:1" })?.url).toBe("http://a:1/");
    expect(proxyFromEnv({ http_proxy: "http://c:3" })?.url).toBe("http://c:3/");
  });

  it("takes host:port without a scheme as http, https proxies, and NO_PROXY as a list", () => {
    expect(proxyFromEnv({ HTTPS_PROXY: "proxy.corp:3128" })?.url).toBe("http://proxy.corp:3128/");
    expect(proxyFromEnv({ HTTPS_PROXY: "https://proxy.corp" })?.url).toBe("https://proxy.corp/");
    expect(
      proxyFromEnv({ HTTPS_PROXY: "http://p:1", no_proxy: " .internal, 10.0.0.5 ,,localhost:8080" })?.noProxy,
    ).toEqual([".internal", "10.0.0.5", "localhost:8080"]);
  });

  it("refuses what is not an http(s) proxy URL, naming the variable", () => {
    expect(() => proxyFromEnv({ HTTPS_PROXY: "socks5://p:1080" })).toThrow(
      new ConfigError(
        "HTTPS_PROXY uses socks5://; only http:// and https:// proxies are supported (set HTTPS_PROXY to one, or unset it).",
      ),
    );
    expect(() => proxyFromEnv({ HTTP_PROXY: "http://[bad" })).toThrow(/^HTTP_PROXY is not a URL; set it to/);
  });

  it("hands over the password (as written and decoded) and never shows it", () => {
    const secrets: string[] = [];
    const proxy = proxyFromEnv({ HTTPS_PROXY: "http://me:p%40ss@proxy.corp:3128", NO_PROXY: ".corp" }, (s) =>
      secrets.push(s),
    );
    expect(new Set(secrets)).toEqual(new Set(["p%40ss", "p@ss"]));
    const sides = {
      source: { connectionString: "AccountName=src;AccountKey=a2V5;EndpointSuffix=core.windows.net" },
      destination: { endpoint: "https://dst.table.cosmos.azure.com" },
    };
    expect(describeProxy(proxy!, sides)).toBe(
      "Requests to the source (src.table.core.windows.net) and the destination (dst.table.cosmos.azure.com) go through the proxy http://proxy.corp:3128.",
    );
    // Which side goes past it (NO_PROXY, or a local emulator), said as such.
    const past = proxyFromEnv({ HTTPS_PROXY: "http://proxy.corp:3128", NO_PROXY: "cosmos.azure.com" })!;
    expect(describeProxy(past, sides)).toBe(
      "Requests to the source (src.table.core.windows.net) go through the proxy http://proxy.corp:3128; the destination (dst.table.cosmos.azure.com) directly (NO_PROXY).",
    );
    const local = { connectionString: "UseDevelopmentStorage=true" };
    expect(describeProxy(past, { source: local, destination: sides.destination })).toBe(
      "The proxy http://proxy.corp:3128 is not used: the source (127.0.0.1:10002) and the destination (dst.table.cosmos.azure.com) are in NO_PROXY or on this machine.",
    );
    // A refused value with a password is masked before the error could show it.
    const seen: string[] = [];
    expect(() => proxyFromEnv({ HTTPS_PROXY: "ftp://u:hunter2@p" }, (s) => seen.push(s))).toThrow(
      ConfigError,
    );
    expect(seen).toContain("hunter2");
  });

  it("masks and refuses a password whose / ? # is not percent-encoded, and a % that is no escape", () => {
    const seen: string[] = [];
    expect(() =>
      proxyFromEnv({ HTTPS_PROXY: "http://build:1234/abc@proxy.corp:3128" }, (s) => seen.push(s)),
    ).toThrow(
      /^HTTPS_PROXY has more than a proxy's address \(a path, \? or #\); write it as http:\/\/user:password@host:port/,
    );
    expect(seen).toContain("1234/abc");
    expect(() =>
      proxyFromEnv({ HTTPS_PROXY: "http://me:50%off@proxy.corp:3128" }, (s) => seen.push(s)),
    ).toThrow(
      new ConfigError(
        "HTTPS_PROXY has a % in its user name or password that is not an escape; write a % there as %25.",
      ),
    );
    expect(seen).toContain("50%off");
  });
});
