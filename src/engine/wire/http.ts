// Raw requests over a keep-alive connection pool (transport.ts, h1.ts), signed by us (auth.ts), with our
// own retry rules.
//
// The SDK's retry policy does not retry a 429 without a retry header and gives up after 3 tries; a
// migration that runs unattended for hours needs to wait out throttling and transient faults, yet
// fail in bounded time when a host is simply unreachable. Its per-request pipeline also cost more CPU
// than a one-entity write itself: a table with one entity per partition sends one request per entity.
import { setMaxListeners } from "node:events";
import { Transport } from "./transport.js";
import type { Signer } from "./auth.js";
import type { ServiceClientInfo } from "./connection.js";
import type { ServiceKind } from "./service-kind.js";

export interface HttpResponse {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: string;
}

export interface RetryOptions {
  /** Retries after the first attempt for throttling and transient server errors. */
  maxRetries: number;
  /** Retries for connection-level failures (refused, reset, time-out, DNS). */
  maxNetworkRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A request that has not answered in this time is aborted and retried. */
  requestTimeoutMs: number;
}

export const DEFAULT_RETRY: RetryOptions = {
  maxRetries: 12,
  maxNetworkRetries: 5,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  requestTimeoutMs: 120_000,
};

export interface RequestSpec {
  method: "GET" | "POST" | "PUT" | "MERGE" | "DELETE" | "PATCH";
  url: string;
  headers?: Record<string, string>;
  /** A string is sent as UTF-8; bytes as they are. */
  body?: string | Buffer;
  /** Return false for a response that arrived incomplete (e.g. truncated JSON): it is retried. */
  isComplete?: (res: HttpResponse) => boolean;
  /** Awaited (alongside the back-off) before each retry of a throttled or failed answer: flow control. */
  beforeRetry?: () => Promise<void>;
  /** Counted here too (besides the connection's own stats): per table figures while tables run at once. */
  stats?: HttpStats;
  /**
   * Told of each attempt's status and headers as soon as they arrive, before its body is read (the
   * reader asks for the next page then). The attempt may still be retried; `send`'s answer is final.
   */
  onHeaders?: (status: number, headers: Record<string, string>) => void;
  /**
   * False when a successful (2xx) answer's headers will not be read: it then keeps only its status and
   * body (an answer that failed keeps its headers for retry hints and error codes). A one-entity write
   * needs nothing else, and header lines kept by a thousand answers a second were a third of what the
   * garbage collector had to move (answers in flight get promoted to the old generation).
   */
  successHeaders?: boolean;
}

export interface HttpStats {
  requests: number;
  throttled: number;
  retries: number;
}

/** A failure that no retry could get past: the host never answered properly. */
export class NetworkError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const DNS_CODES = new Set(["ENOTFOUND", "EAI_AGAIN"]);

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUS.has(status);
}

/** The delay a response asks for, in ms: `x-ms-retry-after-ms`, `retry-after-ms`, or `Retry-After`. */
export function retryAfterMs(headers: Record<string, string>, now = Date.now()): number | undefined {
  for (const name of ["x-ms-retry-after-ms", "retry-after-ms"]) {
    const v = headers[name];
    if (v !== undefined && v.trim() !== "" && Number.isFinite(Number(v))) return Math.max(0, Number(v));
  }
  const ra = headers["retry-after"];
  if (ra !== undefined && ra.trim() !== "") {
    if (Number.isFinite(Number(ra))) return Math.max(0, Number(ra) * 1000);
    const at = Date.parse(ra);
    if (Number.isFinite(at)) return Math.max(0, at - now);
  }
  return undefined;
}

export function backoffMs(attempt: number, opts: RetryOptions): number {
  const exp = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** attempt);
  return Math.round(exp / 2 + (Math.random() * exp) / 2);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

const CREDENTIAL_ERRORS = new Set([
  "CredentialUnavailableError",
  "AuthenticationError",
  "AggregateAuthenticationError",
]);

function isCredentialError(err: unknown): boolean {
  return err instanceof Error && CREDENTIAL_ERRORS.has(err.name);
}

/** Connection-level failures worth another try; anything else thrown before a response is deterministic. */
const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  // A proxy that could not reach the service, or cut its answer to CONNECT (proxy.ts).
  "EPROXY",
  // An answer cut off mid-stream or malformed (h1.ts): the connection failed, not the request.
  "PARSE_ERROR",
]);

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; name?: unknown; cause?: { code?: unknown } };
  if (typeof e?.cause?.code === "string") return e.cause.code;
  if (typeof e?.code === "string") return e.code;
  if (e?.name === "AbortError") return "ETIMEDOUT";
  return undefined;
}

/** The failure in words: its message's first line. */
function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0].trim();
}

/** Whether a successful answer arrived whole (a failed one is judged by its status alone). */
function isComplete(spec: RequestSpec, res: HttpResponse): boolean {
  return res.status >= 300 || !spec.isComplete || spec.isComplete(res);
}

function isNetworkError(code: string | undefined): boolean {
  return code !== undefined && NETWORK_CODES.has(code);
}

export class TableHttp {
  readonly url: string;
  readonly kind: ServiceKind;
  /** "source" or "destination", for messages. */
  readonly label: string;
  readonly stats: HttpStats = { requests: 0, throttled: 0, retries: 0 };
  /** Told of every 429 and its retry-after hint in ms (undefined: none), e.g. by a run's flow control. */
  onThrottle?: (hintMs: number | undefined) => void;
  /**
   * Told when the service says it is overloaded in another way: 503 (Table Storage's "server busy"), a
   * 500 time-out, a request that timed out or a dropped connection. The flow control backs off.
   */
  onBusy?: () => void;
  private readonly signer: Signer;
  private readonly transport: Transport;
  private readonly origin: string;
  private readonly https: boolean;
  /** The proxy requests go through, for messages (its host only: never its credentials). */
  private readonly proxyHost?: string;

  constructor(
    info: Pick<ServiceClientInfo, "url" | "kind" | "signer"> &
      Partial<Pick<ServiceClientInfo, "proxy">> & { label?: string },
    private readonly retry: RetryOptions = DEFAULT_RETRY,
    private readonly signal?: AbortSignal,
  ) {
    this.url = info.url;
    this.kind = info.kind;
    // Every request in flight (and every back-off) listens to the run's signal: with many requests in
    // flight, Node would warn of a listener leak that is none.
    if (signal) setMaxListeners(0, signal);
    this.label = info.label ?? "table service";
    this.signer = info.signer;
    const url = new URL(info.url);
    this.origin = url.origin;
    this.https = url.protocol === "https:";
    this.proxyHost = info.proxy?.host;
    this.transport = new Transport(this.origin, retry.requestTimeoutMs, signal, { proxy: info.proxy });
  }

  /** Close the pool's idle connections (a finished run); requests in flight finish first. */
  close(): Promise<void> {
    return this.transport.close();
  }

  send(spec: RequestSpec): Promise<HttpResponse> {
    // The usual answer — the first, complete and not to be retried — settles without another async step
    // (one request per entity: each step is paid for every entity).
    return this.once(spec).then(
      (res) => {
        if (res.status === 401) this.signer.refresh?.();
        const complete = isComplete(spec, res);
        return complete && !isRetryableStatus(res.status) && !this.signal?.aborted
          ? res
          : this.retried(spec, { res, complete });
      },
      (err: unknown) => this.retried(spec, { failure: err }),
    );
  }

  /** The retry loop, from the first attempt's answer (and whether it was complete) or failure on. */
  private async retried(
    spec: RequestSpec,
    first: { res?: HttpResponse; complete?: boolean; failure?: unknown },
  ): Promise<HttpResponse> {
    let attempt = 0;
    let networkAttempt = 0;
    for (let again = false; ; again = true) {
      let res: HttpResponse | undefined = first.res;
      let failure: unknown = first.failure;
      let complete = first.complete;
      if (again) {
        res = failure = complete = undefined;
        try {
          res = await this.once(spec);
          if (res.status === 401) this.signer.refresh?.();
        } catch (err) {
          failure = err;
        }
      }
      if (this.signal?.aborted) throw new NetworkError("the run was cancelled", "ABORTED");
      if (res) {
        complete ??= isComplete(spec, res);
        // The usual answer, settled without looking for retry hints.
        if (complete && !isRetryableStatus(res.status)) return res;
        const hinted = retryAfterMs(res.headers);
        if (res.status === 429) {
          this.stats.throttled++;
          if (spec.stats) spec.stats.throttled++;
          this.onThrottle?.(hinted);
        } else if (res.status === 503 || res.status === 500) this.onBusy?.();
        if (attempt >= this.retry.maxRetries) return res;
        const delay = hinted ?? backoffMs(attempt, this.retry);
        attempt++;
        this.stats.retries++;
        if (spec.stats) spec.stats.retries++;
        await Promise.all([
          sleep(Math.min(delay, this.retry.maxDelayMs * 2), this.signal),
          spec.beforeRetry?.(),
        ]);
        continue;
      }
      if (isCredentialError(failure)) {
        // Signing in failed: retrying will not help, and the user needs one clear sentence.
        const first = (failure instanceof Error ? failure.message : String(failure)).split("\n")[0].trim();
        throw new NetworkError(
          `Signing in with Entra ID failed (${first}); check client-id/tenant-id, the federated credential or azure/login.`,
          "AUTHENTICATION",
        );
      }
      const code = errorCode(failure);
      const message = errorText(failure);
      if (!isNetworkError(code)) throw new NetworkError(message, code);
      const limit = code && DNS_CODES.has(code) ? 1 : this.retry.maxNetworkRetries;
      if (networkAttempt >= limit) {
        const host = new URL(this.url).host;
        const via = this.proxyHost ? ` through the proxy ${this.proxyHost} (HTTPS_PROXY, NO_PROXY)` : "";
        throw new NetworkError(
          `Could not reach the ${this.label} at ${host} after ${networkAttempt + 1} tries (${code ?? "network error"}: ${message}); check the endpoint and that this runner can reach it${via}.`,
          code,
        );
      }
      networkAttempt++;
      if (code === "ECONNRESET" || code === "ETIMEDOUT") this.onBusy?.();
      this.stats.retries++;
      if (spec.stats) spec.stats.retries++;
      await sleep(backoffMs(networkAttempt, this.retry), this.signal);
    }
  }

  /** One attempt (a rejected promise, never a throw, for whatever fails before it is sent). */
  private once(spec: RequestSpec): Promise<HttpResponse> {
    try {
      return this.attempt(spec);
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  private attempt(spec: RequestSpec): Promise<HttpResponse> {
    if (this.signal?.aborted) throw new NetworkError("the run was cancelled", "ABORTED");
    this.stats.requests++;
    if (spec.stats) spec.stats.requests++;
    const headers: Record<string, string> = {
      dataserviceversion: "3.0",
      maxdataserviceversion: "3.0;NetFx",
      "x-ms-version": "2019-02-02",
      "user-agent": USER_AGENT,
    };
    if (spec.headers) for (const k in spec.headers) headers[k.toLowerCase()] = spec.headers[k];
    let method: string = spec.method;
    // Cosmos DB for Table refuses PATCH and does not know MERGE as a verb: the SDKs tunnel it.
    if (method === "MERGE" && this.kind === "cosmos") {
      method = "POST";
      headers["x-http-method"] = "MERGE";
    }
    const signed = this.signer.sign(spec.url.slice(this.origin.length), headers, this.https);
    // The same UTF-8 bytes Node would send for a string, encoded in one step.
    const body = typeof spec.body === "string" ? Buffer.from(spec.body, "utf8") : spec.body;
    const go = (path: string) =>
      this.transport.request(path, method, headers, body, spec.onHeaders, spec.successHeaders);
    // A token being fetched is the only wait before sending.
    return typeof signed === "string" ? go(signed) : signed.then(go);
  }
}

const USER_AGENT = `azure-table-sync (Node.js ${process.version})`;

/** The service's error message from an OData JSON or XML error body, without request ids. */
export function serviceMessage(res: HttpResponse): { code?: string; message: string } {
  const body = res.body ?? "";
  try {
    const parsed = JSON.parse(body) as { "odata.error"?: { code?: string; message?: { value?: string } } };
    const err = parsed["odata.error"];
    if (err) return { code: err.code, message: cleanMessage(err.message?.value ?? err.code ?? "") };
  } catch {
    /* not JSON */
  }
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1] ?? res.headers["x-ms-error-code"];
  const msg = /<Message>([^<]*)<\/Message>/.exec(body)?.[1];
  return { code, message: cleanMessage(msg ?? code ?? `HTTP ${res.status}`) };
}

export function cleanMessage(s: string): string {
  // Table Storage ends a message with "RequestId:…\nTime:…", Cosmos with "RequestID:…" (and sometimes
  // "ActivityId: …"): neither helps the user.
  return s
    .replace(/\s*(RequestId:|ActivityId:)[\s\S]*$/i, "")
    .replace(/\s+/g, " ")
    .trim();
}
