// A company HTTP proxy for tests, behaving as one does: CONNECT tunnels only (TLS stays end to end), Basic
// credentials when it has them (407 otherwise), host names resolved by the proxy itself (names under
// `.test`, which this machine's DNS does not know, lead to 127.0.0.1), 502 when the target is unreachable.
// Also a TLS front for a plain server (Azurite) and a self-signed certificate, so a table service can be
// reached at https://devstoreaccount1.table.test:<port> only through the proxy.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { connect, type AddressInfo, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer as createTlsServer } from "node:tls";

export interface ConnectProxy {
  url: string;
  port: number;
  /** The `host:port` of every CONNECT asked for, in order (also those refused). */
  connects: string[];
  /** Tunnels opened. */
  tunnels: number;
  close(): Promise<void>;
}

/** Where a `.test` name leads (the proxy resolves names; the machine cannot). */
function resolveTarget(host: string): string {
  return host.endsWith(".test") ? "127.0.0.1" : host;
}

export async function startConnectProxy(
  /** `tls`: an https:// proxy (TLS to the proxy itself, the tunnel's TLS inside it). */
  options: { user?: string; password?: string; silent?: boolean; tls?: TlsMaterial } = {},
): Promise<ConnectProxy> {
  const sockets = new Set<Socket>();
  const connects: string[] = [];
  const proxy: Omit<ConnectProxy, "url" | "port" | "close"> = { connects, tunnels: 0 };
  const plain = (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(405, { "content-length": "0" }).end(); // plain requests: tunnels only here
  };
  const server = options.tls
    ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, plain)
    : createHttpServer(plain);
  const expected = options.user
    ? `Basic ${Buffer.from(`${options.user}:${options.password ?? ""}`).toString("base64")}`
    : undefined;
  server.on("connect", (req, client: Socket, head: Buffer) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => client.destroy());
    connects.push(req.url ?? "");
    if (options.silent) return; // never answers: a proxy that hangs
    if (expected && req.headers["proxy-authorization"] !== expected) {
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="corp"\r\nContent-Length: 0\r\n\r\n',
      );
      return;
    }
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(req.url ?? "");
    if (!m) {
      client.end("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    const upstream = connect({ host: resolveTarget(m[1].replace(/^\[|\]$/g, "")), port: Number(m[2]) });
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    upstream.once("error", () => {
      if (!upstream.remoteAddress) client.end("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
      else client.destroy();
    });
    upstream.once("connect", () => {
      proxy.tunnels++;
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  const auth = options.user
    ? `${encodeURIComponent(options.user)}:${encodeURIComponent(options.password ?? "")}@`
    : "";
  return Object.assign(proxy, {
    url: `${options.tls ? "https" : "http"}://${auth}127.0.0.1:${port}`,
    port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  });
}

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  /** The certificate's file: NODE_EXTRA_CA_CERTS for a child process that should trust it. */
  certFile: string;
}

/** A self-signed certificate for `names` (DNS names, or IP addresses). */
export function selfSignedCert(names: string[]): TlsMaterial {
  const dir = mkdtempSync(join(tmpdir(), "tls-"));
  const san = names.map((n) => (/^[\d.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(",");
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", `/CN=${names[0]}`,
    "-addext", `subjectAltName=${san}`,
    "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
  ], { stdio: "ignore" }); // prettier-ignore
  const certFile = join(dir, "cert.pem");
  return { cert: readFileSync(certFile), key: readFileSync(join(dir, "key.pem")), certFile };
}

/** TLS in front of a plain server on 127.0.0.1:`port` (as the real services speak only HTTPS). */
export async function startTlsFront(
  port: number,
  tls: TlsMaterial,
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createTlsServer({ cert: tls.cert, key: tls.key }, (client) => {
    const upstream = connect({ host: "127.0.0.1", port });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
