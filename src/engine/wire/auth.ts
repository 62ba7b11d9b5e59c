// Signing our requests without the SDK's per-request pipeline: Shared Key Lite, a SAS appended to the
// URL, or an Entra ID bearer token (from @azure/identity, cached until shortly before it expires).
//
// The SDK's pipeline cost ~100 µs of CPU per request (tracing span, header normalisation, a policy
// chain of promises); a table with one entity per partition is one request per entity, so that was
// most of a copy's CPU. Signing itself is one HMAC.
import { hash } from "node:crypto";
import type { AccessToken, TokenCredential } from "@azure/core-auth";

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
  /** HMAC's inner and outer blocks: the key (hashed when longer than a block) XOR 0x36 / 0x5c. */
  private readonly inner = Buffer.alloc(HMAC_BLOCK);
  /** The outer block followed by room for the inner digest, reused by every signature. */
  private readonly outer = Buffer.alloc(HMAC_BLOCK + 32);

  constructor(
    private readonly account: string,
    accountKey: string,
  ) {
    let key = Buffer.from(accountKey, "base64");
    if (key.length > HMAC_BLOCK) key = hash("sha256", key, "buffer");
    for (let i = 0; i < HMAC_BLOCK; i++) {
      const k = i < key.length ? key[i] : 0;
      this.inner[i] = k ^ 0x36;
      this.outer[i] = k ^ 0x5c;
    }
  }

  sign(path: string, headers: Record<string, string>): string {
    const date = httpDate();
    const p = pathOnly(path);
    const resource = `/${this.account}${p.path}${p.comp ? `?comp=${p.comp}` : ""}`;
    headers["x-ms-date"] = date;
    headers.authorization = `SharedKeyLite ${this.account}:${this.hmac(`${date}\n${resource}`)}`;
    return path;
  }

  /**
   * HMAC-SHA256 (RFC 2104) in two one-shot hashes: the same bytes as createHmac, without an Hmac object
   * per request (a native object with a finalizer, which kept the garbage collector busy at one request
   * per entity).
   */
  private hmac(message: string): string {
    const length = Buffer.byteLength(message, "utf8");
    const data = Buffer.allocUnsafe(HMAC_BLOCK + length);
    this.inner.copy(data, 0);
    data.write(message, HMAC_BLOCK, length, "utf8");
    hash("sha256", data, "buffer").copy(this.outer, HMAC_BLOCK);
    return hash("sha256", this.outer, "base64");
  }
}

const HMAC_BLOCK = 64;

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
