// Requests through an HTTP proxy (proxy.ts, h1.ts): which hosts bypass it, and tunnels through a local
// CONNECT proxy to a TLS server reachable only by a name the proxy resolves — with credentials, refusals,
// an unreachable target, a proxy that is down or silent, and a request given up while the tunnel opens.
import { createServer, type Server } from "node:https";
import {
  connect as netConnect,
  createServer as createNetServer,
  type AddressInfo,
  type Server as NetServer,
  type Socket,
} from "node:net";
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

/** A proxy answering CONNECT with whatever `answer` writes (a server of raw sockets). */
let rawServer: NetServer | undefined;
async function createRawProxy(answer: (socket: Socket, head: string) => void): Promise<URL> {
  rawServer = createNetServer((socket) => {
    let head = "";
    const onData = (chunk: Buffer) => {
      head += chunk.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      socket.off("data", onData);
      answer(socket, head);
    };
    socket.on("data", onData);
    socket.on("error", () => socket.destroy());
  });
  await new Promise<void>((r) => rawServer!.listen(0, "127.0.0.1", r));
  return new URL(`http://127.0.0.1:${(rawServer.address() as AddressInfo).port}`);
}
async function closeRaw(): Promise<void> {
  await new Promise((r) => rawServer?.close(r));
  rawServer = undefined;
}
/** Answer 200 and join `socket` to the TLS server on `to`. */
function tunnelTo(socket: Socket, to: number): void {
  const upstream = netConnect({ host: "127.0.0.1", port: to }, () => {
    socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    socket.pipe(upstream).pipe(socket);
  });
  upstream.on("error", () => socket.destroy());
  socket.on("close", () => upstream.destroy());
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
    // Addresses match only themselves or their block, never as a suffix; a trailing dot is the same name.
    expect(via("https://10.1.2.3", ["2.3", "1.2.3"])).toBe("proxy:3128");
    expect(via("https://10.1.2.3", ["10.0.0.0/8"])).toBeUndefined();
    expect(via("https://11.1.2.3", ["10.0.0.0/8"])).toBe("proxy:3128");
    expect(via("https://acct.table.core.windows.net.", ["core.windows.net"])).toBeUndefined();
    // A name that merely starts with 127 is no loopback.
    expect(via("https://127.example.com")).toBe("proxy:3128");
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

  it("skips a 100 Continue before the tunnel's 200, and sends a User-Agent", async () => {
    const heads: string[] = [];
    const raw = createRawProxy((socket, head) => {
      heads.push(head);
      socket.write("HTTP/1.1 100 Continue\r\n\r\n");
      setTimeout(() => tunnelTo(socket, port), 10);
    });
    const url = await raw;
    const conn = through(url.href);
    expect(await send(conn, "/y")).toBe(`GET /y via devstoreaccount1.table.test:${port}`);
    expect(heads[0]).toMatch(/\r\nuser-agent: azure-table-sync\r\n/);
    conn.close();
    await closeRaw();
  });

  it("says plainly what a proxy that wants NTLM, or an https:// URL for a plain proxy, needs", async () => {
    const url = await createRawProxy((socket) =>
      socket.end(
        "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: NTLM\r\nProxy-Authenticate: Negotiate\r\nContent-Length: 0\r\n\r\n",
      ),
    );
    await expect(send(through(url.href))).rejects.toMatchObject({
      code: "EPROXYREFUSED",
      message: expect.stringMatching(/asks for NTLM authentication \(407 .*only Basic/),
    });
    await closeRaw();
    const plain = new URL(proxy.url);
    plain.protocol = "https:";
    await expect(send(through(plain))).rejects.toMatchObject({
      code: "EPROXYREFUSED",
      message: expect.stringMatching(/did not answer TLS .*write its URL with http:\/\//),
    });
  });

  it("a % that is no escape in the user name neither throws nor leaks the connection", async () => {
    const odd = new URL(proxy.url);
    odd.username = "me%zz";
    await expect(send(through(odd))).rejects.toMatchObject({ code: "EPROXYREFUSED" });
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
      const began = performance.now();
      await expect(send(through(silent.url, { connectTimeoutMs: 200 }))).rejects.toMatchObject({
        code: "ETIMEDOUT",
        message: expect.stringContaining("no tunnel through the proxy"),
      });
      expect(performance.now() - began).toBeLessThan(2_000);
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
