// What the demo (demo.ts) prints, step by step, and how it stops when an expectation fails.
export const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
export const dim = (s: string) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);
export const say = (s = "") => process.stdout.write(s + "\n");
export const step = (n: number, s: string) => say(`\n${bold(`${n}. ${s}`)}`);
export const ok = (s: string) => say(`   ✓ ${s}`);
export const num = (n: number) => n.toLocaleString("en-US");
export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** A failed expectation: the demo stops and exits 1 with this sentence. */
export function expect(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(what);
}
