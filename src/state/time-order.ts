// Which of two ISO-8601 UTC times comes first: the one comparison the watermark rules, the shard merge and
// the case-insensitive load all make, in a module of its own so none of them imports another for it.

/** `a`, or `b` when `b` is given and earlier. */
export function earlier(a: string, b: string | undefined): string {
  return b !== undefined && Date.parse(b) < Date.parse(a) ? b : a;
}

/** `a`, or `b` when `b` is given and later. */
export function later(a: string, b: string | undefined): string {
  return b !== undefined && Date.parse(b) > Date.parse(a) ? b : a;
}
