// Requests through an HTTP proxy (proxy.ts, h1.ts): which hosts bypass it, and tunnels through a local
// CONNECT proxy to a TLS server reachable only by a name the proxy resolves — with credentials, refusals,
// an unreachable target, a proxy that is down or silent, and a request given up while the tunnel opens.
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { H1Connection, type ConnectionOptions } from "../../../src/engine/wire/h1.js";
import { proxyFor } from "../../../src/engine/wire/proxy.js";
import { freePort } from "../../support/azurite.js";
import { selfSignedCert, startConnectProxy, type ConnectProxy } from "../../support/connect-proxy.js";

/** The service's and the https:// proxy's certificate (one, so one `ca` trusts both). */
const tls = selfSignedCert(["devstoreaccount1.table.test", "127.0.0.1"]);
let server: Server;
let port: number;
const resumed: boolean[] = [];

beforeAll(async () => {
  server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const body = `${req.method} ${req.url} via ${req.headers.host}`;
    res.writeHead(200, { "content-length": Buffer.byteLength(body) }).end(body);
  });
  server.on("secureConnection", (s: TLSSocket) => resumed.push(s.isSessionReused()));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise((r) => server.close(r)));

function send(conn: H1Connection, path = "/t"): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    conn.dispatch(
      { path, method: "GET", headers: {} },
      {
        onConnect: () => undefined,
        onHeaders: () => undefined,
        onData: (c) => chunks.push(c),
        onComplete: () => resolve(Buffer.concat(chunks).toString()),
        onError: reject,
      },
    );
  });
}

function through(proxy: string | URL, options: ConnectionOptions = {}): H1Connection {
  return new H1Connection(
    new URL(`https://devstoreaccount1.table.test:${port}`),
    30_000,
    {},
    {
      ca: tls.cert,
      proxy: new URL(proxy),
      ...options,
    },
  );
}

describe("proxyFor", () => {
  const setting = (noProxy: string[]) => ({ url: "http://proxy:3128", noProxy });
  const via = (target: string, noProxy: string[] = []) => proxyFor(new URL(target), setting(noProxy))?.host;

  it("sends every host through the proxy unless NO_PROXY or loopback says otherwise", () => {
    expect(proxyFor(new URL("https://a.table.core.windows.net"), undefined)).toBeUndefined();
    expect(via("https://a.table.core.windows.net")).toBe("proxy:3128");
    for (const local of [
      "http://127.0.0.1:10002/x",
      "http://localhost:1",
      "http://[::1]:8/",
      "https://a.localhost",
    ])
      expect(via(local)).toBeUndefined();
  });

  it("reads NO_PROXY entries as the runner's tools do", () => {
    const host = "https://acct.table.core.windows.net";
    expect(via(host, ["*"])).toBeUndefined();
    expect(via(host, ["core.windows.net"])).toBeUndefined(); // a name covers its subdomains
    expect(via(host, [".windows.net"])).toBeUndefined();
    expect(via(host, ["*.table.core.windows.net"])).toBeUndefined();
    expect(via(host, ["ACCT.TABLE.core.windows.net"])).toBeUndefined();
    expect(via(host, ["acct.table.core.windows.net:443"])).toBeUndefined();
    expect(via(host, ["acct.table.core.windows.net:8443"])).toBe("proxy:3128");
    expect(via(host, ["windows.net.evil.com", "table.core", "other.acct.table.core.windows.net"])).toBe(
      "proxy:3128",
    );
    expect(via("https://10.1.2.3:443", ["10.1.2.3"])).toBeUndefined();
    expect(via("https://[fd00::1]:443", ["[fd00::1]:443"])).toBeUndefined();
    expect(via("https://cosmos.table.cosmos.azure.com", [" ", "", "cosmos.azure.com "])).toBeUndefined();
  });
});

describe("tunnels through a proxy", () => {
  let proxy: ConnectProxy;
  beforeAll(async () => (proxy = await startConnectProxy({ user: "build agent", password: "p@ss:w/rd" })));
  afterAll(() => proxy.close());

  it("opens one tunnel per connection, by name, with the credentials, and keeps it alive", async () => {
    const before = proxy.tunnels;
    const conn = through(proxy.url);
    expect(await send(conn, "/Tables")).toBe(`GET /Tables via devstoreaccount1.table.test:${port}`);
    expect(await send(conn, "/t2")).toBe(`GET /t2 via devstoreaccount1.table.test:${port}`);
    expect(proxy.tunnels - before).toBe(1);
    expect(proxy.connects.at(-1)).toBe(`devstoreaccount1.table.test:${port}`);
    conn.close();
    // The next connection resumes the TLS session, inside its own tunnel.
    const sessions = {};
    const a = new H1Connection(new URL(`https://devstoreaccount1.table.test:${port}`), 30_000, sessions, {
      ca: tls.cert,
      proxy: new URL(proxy.url),
    });
    await send(a);
    a.close();
    const b = new H1Connection(new URL(`https://devstoreaccount1.table.test:${port}`), 30_000, sessions, {
      ca: tls.cert,
      proxy: new URL(proxy.url),
    });
    await send(b);
    b.close();
    expect(resumed.slice(-2)).toEqual([false, true]);
  });

  it("tunnels through an https:// proxy too (TLS to the proxy, the service's TLS inside)", async () => {
    const secure = await startConnectProxy({ tls });
    try {
      const conn = through(secure.url);
      expect(await send(conn, "/x")).toBe(`GET /x via devstoreaccount1.table.test:${port}`);
      expect(secure.connects).toEqual([`devstoreaccount1.table.test:${port}`]);
      conn.close();
    } finally {
      await secure.close();
    }
  });

  it("says what is wrong when the proxy wants other credentials, and retries nothing", async () => {
    const none = new URL(proxy.url);
    none.username = none.password = "";
    await expect(send(through(none))).rejects.toMatchObject({
      code: "EPROXYREFUSED",
      message: expect.stringMatching(/proxy 127\.0\.0\.1:\d+ asks for a user name and password \(407/),
    });
    const wrong = new URL(proxy.url);
    wrong.password = "nope";
    const err = (await send(through(wrong)).catch((e: unknown) => e)) as Error;
    expect(err).toMatchObject({ code: "EPROXYREFUSED" });
    expect(err.message).toMatch(/rejected the user name and password in the proxy URL \(407/);
    expect(err.message).not.toContain("nope");
  });

  it("fails with EPROXY when the proxy cannot reach the service, and names the proxy when it is down", async () => {
    const closed = await freePort();
    const unreachable = new H1Connection(
      new URL(`https://devstoreaccount1.table.test:${closed}`),
      30_000,
      {},
      {
        proxy: new URL(proxy.url),
      },
    );
    await expect(send(unreachable)).rejects.toMatchObject({
      code: "EPROXY",
      message: expect.stringContaining("could not open a tunnel to devstoreaccount1.table.test"),
    });
    const down = await freePort();
    await expect(send(through(`http://127.0.0.1:${down}`))).rejects.toMatchObject({
      code: "ECONNREFUSED",
      message: expect.stringContaining(`the proxy 127.0.0.1:${down}:`),
    });
  });

  it("times out a proxy that never answers, and gives up a request while its tunnel opens", async () => {
    const silent = await startConnectProxy({ silent: true });
    try {
      await expect(send(through(silent.url, { connectTimeoutMs: 200 }))).rejects.toMatchObject({
        code: "ETIMEDOUT",
        message: expect.stringContaining("no tunnel through the proxy"),
      });
      const conn = through(silent.url);
      const given = new Promise<string>((resolve, reject) =>
        conn.dispatch(
          { path: "/", method: "GET", headers: {} },
          {
            onConnect: (abort) => setTimeout(() => abort(new Error("cancelled")), 50),
            onHeaders: () => undefined,
            onData: () => undefined,
            onComplete: () => resolve("answered"),
            onError: reject,
          },
        ),
      );
      await expect(given).rejects.toThrow("cancelled");
      expect(conn.busy).toBe(false);
    } finally {
      await silent.close();
    }
  });
});
