// Raw requests through the SDK's authenticating pipeline, with our own retry rules.
//
// The SDK's retry policy does not retry a 429 without a retry header and gives up after 3 tries; a
// migration that runs unattended for hours needs to wait out throttling and transient faults, yet
// fail in bounded time when a host is simply unreachable.
import {
  createDefaultHttpClient,
  createHttpHeaders,
  createPipelineRequest,
  RestError,
  type HttpClient,
  type Pipeline,
} from "@azure/core-rest-pipeline";
import { isAscii } from "node:buffer";
import { setMaxListeners } from "node:events";
import { finished } from "node:stream";
import type { ServiceClientInfo, ServiceKind } from "./connection.js";

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
  "REQUEST_SEND_ERROR",
  // The body was cut off mid-stream ("Error reading response as text: aborted"): the connection
  // dropped. We never ask the pipeline to deserialize, so this code means nothing else here.
  "PARSE_ERROR",
]);

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; name?: unknown; cause?: { code?: unknown } };
  // core-rest-pipeline wraps socket errors as REQUEST_SEND_ERROR with the socket's code as the cause.
  if (typeof e?.cause?.code === "string") return e.cause.code;
  if (typeof e?.code === "string") return e.code;
  if (e?.name === "AbortError") return "ETIMEDOUT";
  return undefined;
}

function isNetworkError(code: string | undefined): boolean {
  return code !== undefined && (NETWORK_CODES.has(code) || code.startsWith("UND_ERR"));
}

export class TableHttp {
  readonly url: string;
  readonly kind: ServiceKind;
  /** "source" or "destination", for messages. */
  readonly label: string;
  readonly stats: HttpStats = { requests: 0, throttled: 0, retries: 0 };
  /** Told of every 429 and its retry-after hint in ms (undefined: none), e.g. by a run's flow control. */
  onThrottle?: (hintMs: number | undefined) => void;
  private readonly pipeline: Pipeline;
  private readonly httpClient: HttpClient = createDefaultHttpClient();

  constructor(
    info: Pick<ServiceClientInfo, "url" | "kind" | "client"> & { label?: string },
    private readonly retry: RetryOptions = DEFAULT_RETRY,
    private readonly signal?: AbortSignal,
  ) {
    this.url = info.url;
    this.kind = info.kind;
    // Every request in flight (and every back-off) listens to the run's signal: with `concurrency` above 10,
    // Node would warn of a listener leak that is none.
    if (signal) setMaxListeners(0, signal);
    this.label = info.label ?? "table service";
    this.pipeline = info.client.pipeline;
    // We own retries (see above); the SDK's would multiply with ours.
    this.pipeline.removePolicy({ name: "defaultRetryPolicy" });
    // We parse every body ourselves (exact numbers, see raw-json.ts). The SDK's deserializer would
    // JSON.parse each query page a second time only to throw the result away, and it would turn a
    // truncated page into a parse error before our own `isComplete` check could retry it.
    this.pipeline.removePolicy({ name: "deserializationPolicy" });
  }

  async send(spec: RequestSpec): Promise<HttpResponse> {
    let attempt = 0;
    let networkAttempt = 0;
    for (;;) {
      let res: HttpResponse | undefined;
      let failure: unknown;
      try {
        res = await this.once(spec);
      } catch (err) {
        failure = err;
      }
      if (this.signal?.aborted) throw new NetworkError("the run was cancelled", "ABORTED");
      if (res) {
        const complete = res.status >= 300 || !spec.isComplete || spec.isComplete(res);
        const hinted = retryAfterMs(res.headers);
        if (res.status === 429) {
          this.stats.throttled++;
          if (spec.stats) spec.stats.throttled++;
          this.onThrottle?.(hinted);
        }
        if (complete && !isRetryableStatus(res.status)) return res;
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
      const message = failure instanceof Error ? failure.message : String(failure);
      if (!isNetworkError(code)) throw new NetworkError(message.split("\n")[0].trim(), code);
      const limit = code && DNS_CODES.has(code) ? 1 : this.retry.maxNetworkRetries;
      if (networkAttempt >= limit) {
        const host = new URL(this.url).host;
        throw new NetworkError(
          `Could not reach the ${this.label} at ${host} after ${networkAttempt + 1} tries (${code ?? "network error"}: ${message.split("\n")[0]}); check the endpoint and that this runner can reach it.`,
          code,
        );
      }
      networkAttempt++;
      this.stats.retries++;
      if (spec.stats) spec.stats.retries++;
      await sleep(backoffMs(networkAttempt, this.retry), this.signal);
    }
  }

  private async once(spec: RequestSpec): Promise<HttpResponse> {
    this.stats.requests++;
    if (spec.stats) spec.stats.requests++;
    const request = createPipelineRequest({
      url: spec.url,
      method: spec.method as "GET",
      // The same UTF-8 bytes Node would send for a string, encoded in one step: handing Node's http a
      // large string costs several times more CPU (it is re-concatenated with the headers and encoded
      // into a fresh native allocation on every write).
      body: typeof spec.body === "string" ? Buffer.from(spec.body, "utf8") : spec.body,
      headers: createHttpHeaders({
        DataServiceVersion: "3.0",
        MaxDataServiceVersion: "3.0;NetFx",
        "x-ms-version": "2019-02-02",
        ...spec.headers,
      }),
      timeout: this.retry.requestTimeoutMs,
      allowInsecureConnection: true,
      abortSignal: this.signal,
      // 200s (query pages, up to megabytes) are read by readText below; other answers as before.
      streamResponseStatusCodes: STREAMED_STATUSES,
    });
    const started = Date.now();
    const response = await this.pipeline.sendRequest(this.httpClient, request);
    const stream = response.readableStreamBody;
    const headers = response.headers.toJSON({ preserveCase: false });
    spec.onHeaders?.(response.status, headers);
    return {
      status: response.status,
      headers,
      body: stream
        ? await readText(stream, this.retry.requestTimeoutMs - (Date.now() - started))
        : (response.bodyAsText ?? ""),
    };
  }
}

const STREAMED_STATUSES = new Set([200]);

/**
 * A response body as text, exactly as the pipeline's own reader decodes it (UTF-8), but an all-ASCII
 * body (the usual query page) is decoded as Latin-1: the same characters, several times faster for a
 * page of a megabyte, which Node then keeps outside the JS heap. Failures are reported as the pipeline
 * reports them: an abort or time-out as an AbortError, anything else as a PARSE_ERROR. `timeoutMs` is
 * what is left of the request's time-out, which the pipeline stops enforcing once the headers are in.
 */
function readText(stream: NodeJS.ReadableStream, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(
      () => {
        const err = new Error("The operation was aborted: no complete response within the request time-out.");
        err.name = "AbortError";
        (stream as NodeJS.ReadableStream & { destroy(error?: Error): void }).destroy(err);
      },
      Math.max(0, timeoutMs),
    );
    const onData = (chunk: Buffer | string) =>
      chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
    stream.on("data", onData);
    finished(stream, { writable: false }, (err) => {
      clearTimeout(timer);
      stream.removeListener("data", onData);
      if (err?.name === "AbortError") reject(err);
      else if (err)
        reject(
          new RestError(`Error reading response as text: ${err.message}`, { code: RestError.PARSE_ERROR }),
        );
      else {
        const body = Buffer.concat(chunks);
        resolve(body.toString(isAscii(body) ? "latin1" : "utf8"));
      }
    });
  });
}

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

function cleanMessage(s: string): string {
  return s
    .replace(/\s*RequestId:[\s\S]*$/, "")
    .replace(/\s+/g, " ")
    .trim();
}
