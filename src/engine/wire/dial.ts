// Opening a socket to a table service for h1.ts: TLS for the services (straight, or inside a proxy's
// tunnel), plain TCP only for a local emulator.
import { connect as netConnect, isIP, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";

/** Per service: the last TLS session, resumed by the next connection. */
export interface TlsSessionCache {
  session?: Buffer;
}

/**
 * Whether `host` (a URL's hostname, brackets allowed) is this machine: a 127/8 or ::1 address, `localhost` or
 * a name under it. Plain http is allowed only there (connection.ts), and no proxy is used for it (proxy.ts).
 * A name that merely starts with 127 is no address.
 */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (isIP(h)) return h === "::1" || (isIP(h) === 4 && h.startsWith("127."));
  return h === "localhost" || h.endsWith(".localhost");
}

/** Where `url` is served: its host (no brackets), port and whether it speaks TLS. */
export function endpointOf(url: URL): { host: string; port: number; https: boolean } {
  const https = url.protocol === "https:";
  return { host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port) || (https ? 443 : 80), https };
}

/**
 * A socket to `host:port`: TLS resuming the service's last session (a thousand connections over a far link
 * would each pay a full handshake otherwise), over `tunnel` when given; plain TCP when not `https`.
 */
export function dial(
  target: { host: string; port: number; https: boolean },
  sessions: TlsSessionCache,
  ca: string | Buffer | undefined,
  tunnel?: Socket,
): Socket {
  const { host, port } = target;
  if (!target.https) return tunnel ?? netConnect({ host, port });
  const tls = tlsConnect({
    ...(tunnel ? { socket: tunnel } : { host, port }),
    servername: isIP(host) ? undefined : host,
    session: sessions.session,
    ALPNProtocols: ["http/1.1"],
    ...(ca ? { ca } : {}),
  });
  tls.on("session", (session: Buffer) => (sessions.session = session));
  return tls;
}
