// mulberry32: a small, fast PRNG. The same seed gives the same sequence everywhere, so fault injection
// and the bench's data are reproducible.
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A string of fewer than `maxLength` pieces, each drawn from `alphabet` by `random`. */
export function randomText(random: () => number, alphabet: readonly string[], maxLength: number): string {
  return Array.from(
    { length: Math.floor(random() * maxLength) },
    () => alphabet[Math.floor(random() * alphabet.length)],
  ).join("");
}
