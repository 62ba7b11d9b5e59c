// Signing our requests without the SDK's per-request pipeline: Shared Key Lite, a SAS appended to the
// URL, or an Entra ID bearer token (from @azure/identity, cached until shortly before it expires).
//
// The SDK's pipeline cost ~100 µs of CPU per request (tracing span, header normalisation, a policy
// chain of promises); a table with one entity per partition is one request per entity, so that was
// most of a copy's CPU. Signing itself is one HMAC.
import { createHmac } from "node:crypto";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import type { ServiceKind } from "./connection.js";

/** The Entra ID scope of each service: the one place that chooses it. */
export function tokenScope(kind: ServiceKind): string {
  return kind === "cosmos" ? "https://cosmos.azure.com/.default" : "https://storage.azure.com/.default";
}

export interface Signer {
  /**
   * Authorize one request: set its headers, and return the path to send (a SAS adds its query).
   * `path` is exactly what goes on the request line (already percent-encoded); `https` whether the
   * endpoint is TLS.
   */
  sign(path: string, headers: Record<string, string>, https: boolean): string | Promise<string>;
  /** A 401 came back: a cached token may have been revoked early; the next request fetches a fresh one. */
  refresh?(): void;
}

/** The `x-ms-date` value, computed once per second rather than once per request. */
let dateSecond = 0;
let dateText = "";
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}

/** The path part of a request path, without its query (Shared Key Lite signs the path and `comp` only). */
function pathOnly(path: string): { path: string; comp?: string } {
  const q = path.indexOf("?");
  if (q < 0) return { path };
  const comp = new URLSearchParams(path.slice(q + 1)).get("comp") ?? undefined;
  return { path: path.slice(0, q), comp };
}

/**
 * Shared Key Lite for the Table service (what @azure/data-tables signs with): HMAC-SHA256 over the date
 * and `/<account><path>[?comp=…]`.
 */
export class SharedKeySigner implements Signer {
  private readonly key: Buffer;

  constructor(
    private readonly account: string,
    accountKey: string,
  ) {
    this.key = Buffer.from(accountKey, "base64");
  }

  sign(path: string, headers: Record<string, string>): string {
    const date = httpDate();
    const p = pathOnly(path);
    const resource = `/${this.account}${p.path}${p.comp ? `?comp=${p.comp}` : ""}`;
    const signature = createHmac("sha256", this.key).update(`${date}\n${resource}`, "utf8").digest("base64");
    headers["x-ms-date"] = date;
    headers.authorization = `SharedKeyLite ${this.account}:${signature}`;
    return path;
  }
}

/** A shared access signature: its parameters appended to every request's query. */
export class SasSigner implements Signer {
  private readonly query: string;

  constructor(sas: string) {
    this.query = sas.replace(/^\?/, "");
  }

  sign(path: string, headers: Record<string, string>): string {
    headers["x-ms-date"] = httpDate();
    if (!this.query) return path;
    return `${path}${path.includes("?") ? "&" : "?"}${this.query}`;
  }
}

/** Refresh a token this long before it expires, so no request goes out with one about to lapse. */
const REFRESH_BEFORE_MS = 2 * 60_000;

/** An Entra ID bearer token for the service's scope, fetched once and shared until near its expiry. */
export class BearerSigner implements Signer {
  private token?: AccessToken;
  private pending?: Promise<AccessToken>;

  constructor(
    private readonly credential: TokenCredential,
    private readonly scope: string,
  ) {}

  sign(path: string, headers: Record<string, string>, https: boolean): string | Promise<string> {
    if (!https) {
      // As the SDK does: a token must never travel in the clear.
      throw new Error("Bearer token authentication is not permitted for non-TLS protected (non-https) URLs.");
    }
    headers["x-ms-date"] = httpDate();
    const t = this.token;
    if (t && t.expiresOnTimestamp - Date.now() > REFRESH_BEFORE_MS) {
      headers.authorization = `Bearer ${t.token}`;
      return path;
    }
    return this.fetch().then((token) => {
      headers.authorization = `Bearer ${token.token}`;
      return path;
    });
  }

  refresh(): void {
    this.token = undefined;
  }

  private fetch(): Promise<AccessToken> {
    this.pending ??= this.credential
      .getToken(this.scope)
      .then((token) => {
        if (!token) throw Object.assign(new Error("no token was returned"), { name: "AuthenticationError" });
        this.token = token;
        return token;
      })
      .finally(() => (this.pending = undefined));
    return this.pending;
  }
}
