// Requests through an HTTP proxy: a self-hosted runner inside a company network often reaches the internet
// only through one (HTTPS_PROXY, read by the doors). Table services are HTTPS, so a request goes through a
// tunnel: CONNECT host:443 to the proxy, then TLS to the service inside it, end to end (the proxy sees
// neither keys nor data). One tunnel per connection, kept alive like any other.
//
// Which hosts bypass the proxy follows @actions/http-client (what the runner's own tools do): NO_PROXY
// entries are host names (matching the host and its subdomains), `.domain` or `*.domain` suffixes, IP
// addresses, each optionally with `:port`, or `*` for every host; loopback never goes through a proxy.
import { isIP, type Socket } from "node:net";
import { dial, endpointOf, isLoopback } from "./dial.js";
import { failure } from "./h1-head.js";

export interface ProxySetting {
  /** `http://[user:password@]host:port` (or `https://`: TLS to the proxy too). */
  url: string;
  /** Hosts that bypass the proxy (see above). */
  noProxy: string[];
}

const CRLF2 = Buffer.from("\r\n\r\n");

/** An IPv4 address as a number (undefined for anything else). */
function ipv4(host: string): number | undefined {
  if (isIP(host) !== 4) return undefined;
  return host.split(".").reduce((n, part) => n * 256 + Number(part), 0);
}

/** Whether `host` is in `entry`, an IPv4 CIDR block (`10.0.0.0/8`). */
function inBlock(host: string, entry: string): boolean {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(entry);
  const address = ipv4(host);
  const base = m ? ipv4(m[1]) : undefined;
  if (address === undefined || base === undefined || !m || Number(m[2]) > 32) return false;
  const size = 2 ** (32 - Number(m[2]));
  return Math.floor(address / size) === Math.floor(base / size);
}

/** The proxy for requests to `target`, or undefined: none is set, or `target` bypasses it. */
export function proxyFor(target: URL, setting: ProxySetting | undefined): URL | undefined {
  if (!setting) return undefined;
  const host = target.hostname
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "")
    .toLowerCase();
  if (isLoopback(host)) return undefined;
  const port = target.port || (target.protocol === "https:" ? "443" : "80");
  for (const raw of setting.noProxy) {
    let entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === "*") return undefined;
    // `host:port` (an IPv6 address has colons of its own and no port here unless in brackets).
    const withPort = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(entry);
    if (withPort) {
      if (withPort[2] !== port) continue;
      entry = withPort[1];
    }
    entry = entry
      .replace(/^\[|\]$/g, "")
      .replace(/^\*\./, ".")
      .replace(/\.$/, "");
    if (host === entry || inBlock(host, entry)) return undefined;
    // An address matches only itself (or its block): `2.3` is no suffix of `10.1.2.3`.
    if (isIP(host)) continue;
    if (host.endsWith(entry.startsWith(".") ? entry : `.${entry}`)) return undefined;
    if (entry.startsWith(".") && host === entry.slice(1)) return undefined;
  }
  return new URL(setting.url);
}

/** A URL's user name or password as written by the user: percent-decoded where that is valid. */
function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** `host:port` as a CONNECT request names it (an IPv6 address in brackets). */
function authority(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Open a tunnel through `proxy` to `host:port`. `done` gets the socket to the proxy, through which the
 * caller then speaks to the target (TLS over it), or the error: refusals a retry cannot change (407, 403…)
 * have the code EPROXYREFUSED; a proxy that could not reach the target (5xx) or cut the answer, EPROXY
 * (retried like any connection error). The returned socket is destroyed to give up early.
 */
export function openTunnel(
  proxy: URL,
  host: string,
  port: number,
  options: { ca?: string | Buffer },
  done: (err: Error | undefined, socket?: Socket) => void,
): Socket {
  const named = `the proxy ${proxy.host}`;
  const target = authority(host, port);
  // Policy proxies may insist on a User-Agent.
  let head = `CONNECT ${target} HTTP/1.1\r\nhost: ${target}\r\nuser-agent: azure-table-sync\r\n`;
  if (proxy.username || proxy.password) {
    const user = `${decoded(proxy.username)}:${decoded(proxy.password)}`;
    head += `proxy-authorization: Basic ${Buffer.from(user, "utf8").toString("base64")}\r\n`;
  }
  // TLS to an https:// proxy as to a service (no session kept: one handshake per tunnel is the proxy's cost).
  const socket = dial(endpointOf(proxy), {}, options.ca);
  socket.write(`${head}\r\n`, "latin1");
  let received: Buffer = Buffer.alloc(0);
  let settled = false;
  const finish = (err: Error | undefined) => {
    if (settled) return;
    settled = true;
    socket.removeListener("data", onData);
    socket.removeListener("error", onError);
    socket.removeListener("close", onClose);
    if (err) {
      socket.destroy();
      done(err);
    } else done(undefined, socket);
  };
  const onError = (err: Error & { code?: string }) => {
    // An https:// URL for a plain proxy (a common slip): TLS fails at once, and no retry will change that.
    if (proxy.protocol === "https:" && /^(EPROTO|ERR_SSL_)/.test(err.code ?? ""))
      return finish(
        failure(
          `${named} did not answer TLS (${err.code}); if it is a plain HTTP proxy, write its URL with http://`,
          "EPROXYREFUSED",
        ),
      );
    finish(failure(`${named}: ${err.message}`, err.code ?? "ECONNRESET"));
  };
  const onClose = () => finish(failure(`${named} closed the connection before the tunnel opened`, "EPROXY"));
  const onData = (chunk: Buffer) => {
    received = received.length ? Buffer.concat([received, chunk]) : chunk;
    let end = received.indexOf(CRLF2);
    let statusLine = "";
    let m: RegExpExecArray | null = null;
    // Interim answers (1xx) are skipped: the real one follows.
    for (; end >= 0; end = received.indexOf(CRLF2)) {
      statusLine = received.toString("latin1", 0, received.indexOf("\r\n"));
      m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine);
      if (!m || Number(m[1]) >= 200) break;
      received = received.subarray(end + 4);
    }
    if (end < 0) {
      if (received.length > 16 * 1024) finish(failure(`${named} sent no valid answer to CONNECT`, "EPROXY"));
      return;
    }
    if (!m) return finish(failure(`${named} sent no valid answer to CONNECT`, "EPROXY"));
    const status = Number(m[1]);
    const answer = `${status}${m[2] ? ` ${m[2].trim()}` : ""}`;
    if (status >= 200 && status < 300) {
      // Bytes after the answer are the target's (none are expected before our TLS hello).
      const rest = received.subarray(end + 4);
      finish(undefined);
      if (rest.length) socket.unshift(rest);
      return;
    }
    const scheme = /\r\nproxy-authenticate:[ \t]*([!-~]+)/i.exec(received.toString("latin1", 0, end))?.[1];
    if (status === 407 && scheme && scheme.toLowerCase() !== "basic")
      return finish(
        failure(
          `${named} asks for ${scheme} authentication (${answer}), which is not supported: only Basic, with the user name and password in the proxy URL; ask its administrators for a Basic account, or to let the table endpoints through`,
          "EPROXYREFUSED",
        ),
      );
    if (status === 407)
      return finish(
        failure(
          proxy.username
            ? `${named} rejected the user name and password in the proxy URL (${answer}); check them (characters such as @ : / must be percent-encoded)`
            : `${named} asks for a user name and password (${answer}); put them in the proxy URL, e.g. http://user:password@${proxy.host}`,
          "EPROXYREFUSED",
        ),
      );
    if (status >= 500)
      return finish(failure(`${named} could not open a tunnel to ${target} (${answer})`, "EPROXY"));
    finish(
      failure(
        `${named} refused a tunnel to ${target} (${answer}); ask its administrators to allow HTTPS to ${host}, or list the host in NO_PROXY if it is reachable directly`,
        "EPROXYREFUSED",
      ),
    );
  };
  socket.on("data", onData);
  socket.on("error", onError);
  socket.on("close", onClose);
  return socket;
}
