// What the request handlers (query.ts, batch.ts, routes.ts) are handed instead of closing over the
// server's state: the live options and counters, the way to Azurite and the way its answers come back.
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import type { DoubleStats, LiveOptions } from "./options.js";
import type { Reply, Upstream } from "./wire.js";

export interface DoubleContext {
  /** The options as they are now (`configure` replaces them). */
  opts(): LiveOptions;
  /** The counters as they are now (`resetStats` replaces them). */
  stats(): DoubleStats;
  /** Count one event of a kind (`stats().events`). */
  count(event: string): void;
  /** Whether the throttle answers this request 429. */
  throttled(method: string, path: string, body: Buffer): boolean;
  /** Send a request on to Azurite (with its headers, an ETag the double padded taken back). */
  forward(req: IncomingMessage, method: string, path: string, body: Buffer): Promise<Upstream>;
  /** An Azurite answer in Cosmos's words: its errors reworded, its bodies with 7-digit Timestamps. */
  translate(up: Upstream, rid: string): Reply;
  /** The headers Cosmos sends with an answer: its own request id, no version or client id echo. */
  cosmosHeaders(up: IncomingHttpHeaders | undefined, rid: string, error: boolean): Record<string, string>;
  /** Pad Timestamps and ETags to 7 digits, remembering each ETag changed. */
  normalize(text: string): string;
}
