// The double's 429s: every Nth request, or whatever an RU budget cannot pay for (costs as
// throttle-proxy.ts counts them); a throttled $batch may be answered inside its changeset instead.
import { TokenBucket, writeCost } from "../throttle-proxy.js";
import { batchReply, failurePart } from "./multipart.js";
import type { ThrottleOptions } from "./options.js";
import { throttleReply } from "./refusals.js";
import { errorOf, TOO_MANY_REQUESTS, WRITE_METHODS, type Reply } from "./wire.js";

/** One throttle's counters: a new one starts them again. */
export class Throttle {
  private seen = 0;
  private readonly bucket: TokenBucket | undefined;

  constructor(private readonly options: ThrottleOptions | undefined) {
    const ru = options?.ruPerSecond;
    this.bucket = ru ? new TokenBucket(ru, ru, () => performance.now()) : undefined;
  }

  /** Whether this request is answered 429 (counting it, and charging the budget for it). */
  hits(method: string, path: string, body: Buffer): boolean {
    const t = this.options;
    if (!t || (t.match && !t.match({ method, path }))) return false;
    this.seen++;
    if (t.everyNth && this.seen % t.everyNth === 0) return true;
    const bucket = this.bucket;
    if (bucket) {
      if (WRITE_METHODS.has(method)) {
        const cost = writeCost(body, /\/\$batch(\?|$)/.test(path));
        return bucket.take(cost.ru) > 0;
      }
      if (bucket.take(0, 1) > 0) return true;
      bucket.charge(1);
    }
    return false;
  }
}

/** The answer to a throttled request: a 429, or (`inChangeset`) a 202 whose one `0:` part is the 429. */
export function throttledAnswer(rid: string, inChangeset: boolean): Reply {
  const t = throttleReply(rid);
  if (!inChangeset) return t;
  const { text } = errorOf(String(t.body));
  return {
    ...batchReply(rid, [failurePart(0, 429, "TooManyRequests", text ?? TOO_MANY_REQUESTS, rid)]),
    note: "throttled",
  };
}
