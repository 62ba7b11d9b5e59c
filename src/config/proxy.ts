// The HTTP proxy, from the environment as every tool on a runner reads it: a self-hosted runner behind a
// company proxy has HTTPS_PROXY (and NO_PROXY) in its environment, and so do the steps it runs. The same
// variables, in the same order, as the Azure SDK, so that Entra ID tokens (fetched by @azure/identity) and
// our table requests take the same way out.
import { normalizeEndpoint, parseConnectionString } from "../engine/wire/connection.js";
import { proxyFor, type ProxySetting } from "../engine/wire/proxy.js";
import { ConfigError } from "./inputs.js";

export type { ProxySetting } from "../engine/wire/proxy.js";

const VARIABLES = ["HTTPS_PROXY", "ALL_PROXY", "HTTP_PROXY"] as const;

/** A variable as set, upper case first (as the Azure SDK reads it). */
function read(env: Record<string, string | undefined>, name: string): string | undefined {
  return env[name]?.trim() || env[name.toLowerCase()]?.trim() || undefined;
}

/**
 * The proxy the environment asks for, or undefined (none set). A value that is not an http(s) proxy URL
 * is a ConfigError naming the variable; `secret` learns the proxy's password, to be masked.
 */
export function proxyFromEnv(
  env: Record<string, string | undefined>,
  secret: (value: string) => void = () => undefined,
): ProxySetting | undefined {
  const name = VARIABLES.find((n) => read(env, n));
  if (!name) return undefined;
  const value = read(env, name)!;
  // The password masked as written before anything is parsed: one with `/`, `?` or `#` not percent-encoded
  // would otherwise parse as part of a path, and be shown.
  const userinfo = /^(?:[a-z][a-z0-9+.-]*:\/\/)?(.*)@/i.exec(value)?.[1];
  if (userinfo?.includes(":")) secret(userinfo.slice(userinfo.indexOf(":") + 1));
  // curl and the runner accept `host:port` without a scheme: it means http.
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ConfigError(
      `${name} is not a URL; set it to the proxy's address, e.g. http://proxy.example.com:3128.`,
    );
  }
  if (url.password) secret(url.password);
  let password: string;
  try {
    decodeURIComponent(url.username); // the tunnel sends both decoded (proxy.ts)
    password = decodeURIComponent(url.password);
  } catch {
    throw new ConfigError(
      `${name} has a % in its user name or password that is not an escape; write a % there as %25.`,
    );
  }
  if (password && password !== url.password) secret(password);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(
      `${name} uses ${url.protocol}//; only http:// and https:// proxies are supported (set ${name} to one, or unset it).`,
    );
  }
  if (!url.hostname) {
    throw new ConfigError(`${name} names no host; set it to e.g. http://proxy.example.com:3128.`);
  }
  if (url.pathname !== "/" || url.search || url.hash) {
    throw new ConfigError(
      `${name} has more than a proxy's address (a path, ? or #); write it as http://user:password@host:port, with / ? # @ : in the user name or password percent-encoded (%2F %3F %23 %40 %3A).`,
    );
  }
  const noProxy = (read(env, "NO_PROXY") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return { url: url.href, noProxy };
}

/** A side of the copy as the doors know it: a connection string or an endpoint. */
interface Side {
  connectionString?: string;
  endpoint?: string;
}

/** The side's table endpoint, or undefined (none given, or not valid: reported elsewhere). */
function accountUrl(side: Side): URL | undefined {
  try {
    if (side.connectionString) return new URL(parseConnectionString(side.connectionString).url);
    if (side.endpoint) return new URL(normalizeEndpoint(side.endpoint));
  } catch {
    /* a bad connection string or endpoint is the config's error, said where it is checked */
  }
  return undefined;
}

/**
 * The proxy for the log, once per run: its address without credentials, and which side goes through it —
 * a user reading "through the proxy" while NO_PROXY sends both accounts past it would look in the wrong place.
 */
export function describeProxy(proxy: ProxySetting, sides: { source: Side; destination: Side }): string {
  const url = new URL(proxy.url);
  const address = `${url.protocol}//${url.host}`;
  const named = (label: "source" | "destination") => {
    const at = accountUrl(sides[label]);
    return at ? { text: `the ${label} (${at.host})`, proxied: proxyFor(at, proxy) !== undefined } : undefined;
  };
  const all = [named("source"), named("destination")].filter((x) => x !== undefined);
  const through = all.filter((x) => x.proxied).map((x) => x.text);
  const direct = all.filter((x) => !x.proxied).map((x) => x.text);
  if (through.length === 0)
    return `The proxy ${address} is not used: ${direct.join(" and ") || "no account"} ${direct.length > 1 ? "are" : "is"} in NO_PROXY or on this machine.`;
  const past = direct.length ? `; ${direct.join(" and ")} directly (NO_PROXY)` : "";
  return `Requests to ${through.join(" and ")} go through the proxy ${address}${past}.`;
}
