// Turning a connection string, or an endpoint plus an Entra ID credential, into a table service we can
// send raw requests to: its URL, its kind, and how to sign for it (auth.ts: Shared Key Lite, SAS, or a
// bearer token with the right scope for Storage or Cosmos). The request and response bodies are ours.
import type { TokenCredential } from "@azure/core-auth";
import { BearerSigner, SasSigner, SharedKeySigner, type Signer } from "./auth.js";
import { resolveKind, tokenScope, type KindSetting, type ServiceKind } from "./service-kind.js";
import { secretsOf } from "./redact.js";
import { proxyFor, type ProxySetting } from "./proxy.js";
import { isLoopback } from "./dial.js";

export interface SideConfig {
  /** A Storage or Cosmos connection string (account key or SAS), or `UseDevelopmentStorage=true`. */
  connectionString?: string;
  /** The table endpoint, e.g. `https://acct.table.core.windows.net`, used with `credential`. */
  endpoint?: string;
  credential?: TokenCredential;
  kind?: KindSetting;
  /** The HTTP proxy requests go through, unless the endpoint bypasses it (proxy.ts). */
  proxy?: ProxySetting;
}

export class ConnectionError extends Error {}

const DEV_ACCOUNT = "devstoreaccount1";
// Azurite's published development key: not a secret.
const DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

export interface ConnectionParts {
  url: string;
  accountName: string;
  accountKey?: string;
  sas?: string;
}

/** Parse `Key=Value;…` (keys case-insensitive, values may contain `=`). */
/** `who` starts the sentence: "Input 'source-connection-string'" or "The source connection string". */
export function parseConnectionString(cs: string, who = "The connection string"): ConnectionParts {
  const fields = new Map<string, string>();
  for (const part of cs.split(";")) {
    const trimmed = part.trim();
    if (!trimmed) continue;
    const eq = trimmed.indexOf("=");
    if (eq <= 0)
      throw new ConnectionError(`${who} has a part without "=" (expected Key=Value pairs separated by ';').`);
    fields.set(trimmed.slice(0, eq).trim().toLowerCase(), trimmed.slice(eq + 1).trim());
  }
  if ((fields.get("usedevelopmentstorage") ?? "").toLowerCase() === "true") {
    const proxy = fields.get("developmentstorageproxyuri");
    const base = proxy ? proxy.replace(/\/+$/, "") : "http://127.0.0.1";
    return { url: `${base}:10002/${DEV_ACCOUNT}`, accountName: DEV_ACCOUNT, accountKey: DEV_KEY };
  }
  const accountName = fields.get("accountname");
  const accountKey = fields.get("accountkey");
  const sas = fields.get("sharedaccesssignature");
  let url = fields.get("tableendpoint");
  if (!url) {
    if (!accountName) {
      throw new ConnectionError(
        `${who} has neither TableEndpoint nor AccountName; copy the whole connection string from the portal.`,
      );
    }
    const protocol = fields.get("defaultendpointsprotocol") ?? "https";
    const suffix = fields.get("endpointsuffix") ?? "core.windows.net";
    url = `${protocol}://${accountName}.table.${suffix}`;
  }
  url = normalizeEndpoint(url, who);
  if (!accountKey && !sas) {
    throw new ConnectionError(
      `${who} has neither AccountKey nor SharedAccessSignature; copy the whole connection string from the portal (Access keys or Shared access signature).`,
    );
  }
  if (accountKey && !/^[A-Za-z0-9+/]+={0,2}$/.test(accountKey)) {
    throw new ConnectionError(
      `${who} has an AccountKey that is not base64 (cut short, or with extra characters); copy the key again from the portal.`,
    );
  }
  const host = new URL(url).hostname;
  if (url.startsWith("http:") && !isLoopback(host)) {
    throw new ConnectionError(
      `${who} points at http://${host}; use https:// (plain http is allowed only for a local emulator).`,
    );
  }
  const name = accountName ?? accountNameFromUrl(url);
  if (accountKey && !name) throw new ConnectionError(`${who} has an AccountKey but no AccountName.`);
  return { url, accountName: name ?? "", accountKey, sas };
}

/** Strip a trailing slash and the default port so URLs we build are canonical. */
export function normalizeEndpoint(url: string, who = "The endpoint"): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConnectionError(
      `${who} has a TableEndpoint that is not a URL; use e.g. https://account.table.core.windows.net.`,
    );
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new ConnectionError(`${who} has a TableEndpoint that does not start with https://.`);
  }
  const path = parsed.pathname.replace(/\/+$/, "");
  return `${parsed.protocol}//${parsed.host}${path}`;
}

function accountNameFromUrl(url: string): string | undefined {
  const u = new URL(url);
  const path = u.pathname.split("/").filter(Boolean);
  if (/^(\d+\.){3}\d+$/.test(u.hostname) || u.hostname === "localhost") return path[0];
  return u.hostname.split(".")[0];
}

export interface ServiceClientInfo {
  url: string;
  accountName: string;
  kind: ServiceKind;
  /** Authorizes each request (see auth.ts). */
  signer: Signer;
  /** Secret fragments of this side, for masking in logs and error messages. */
  secrets: string[];
  /** "source" or "destination": named in connection errors. */
  label: string;
  /** The proxy to tunnel through; undefined: straight to the service. */
  proxy?: URL;
}

export function createServiceClient(side: SideConfig, label: string): ServiceClientInfo {
  if (side.connectionString) {
    const parts = parseConnectionString(side.connectionString, `The ${label} connection string`);
    const signer = parts.accountKey
      ? new SharedKeySigner(parts.accountName, parts.accountKey)
      : new SasSigner(parts.sas ?? "");
    return {
      url: parts.url,
      accountName: parts.accountName,
      kind: resolveKind(parts.url, side.kind),
      signer,
      secrets: secretsOf(side.connectionString),
      label,
      proxy: proxyFor(new URL(parts.url), side.proxy),
    };
  }
  const target = side.credential ? signInTarget(side) : undefined;
  if (target && side.credential) {
    return {
      url: target.url,
      accountName: accountNameFromUrl(target.url) ?? "",
      kind: target.kind,
      signer: new BearerSigner(side.credential, target.scope),
      secrets: [],
      label,
      proxy: proxyFor(new URL(target.url), side.proxy),
    };
  }
  throw new ConnectionError(
    `No ${label} connection: give a ${label} connection string, or a ${label} endpoint with an Entra ID credential.`,
  );
}

/** Where a side signs in with Entra ID: its endpoint's URL, its service, and that service's token scope. */
export interface SignInTarget {
  url: string;
  kind: ServiceKind;
  scope: string;
}

/**
 * The sign-in target of a side that uses an endpoint (undefined for a connection string, which signs its own
 * requests). The connection and the CLI's sign-in check both ask here, so the scope is chosen in one place.
 */
export function signInTarget(side: SideConfig): SignInTarget | undefined {
  if (side.connectionString || !side.endpoint) return undefined;
  const url = normalizeEndpoint(side.endpoint);
  const kind = resolveKind(url, side.kind);
  return { url, kind, scope: tokenScope(kind) };
}
