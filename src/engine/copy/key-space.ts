// Partition keys as numbers, so a read can guess where in the key space the next few thousand entities end
// (lane-reader.ts). Only the guess depends on this: any ascending cuts cover every key.
//
// A key's first `digits` characters are read as a number, each position in the alphabet its characters
// come from in the sample (digits, hex, letters, or all of printable ASCII), so the distance between two
// keys measures how much of the key space lies between them: `user-0041` and `user-0042` lie as far apart
// as `user-0042` and `user-0043`, which base 95 would not say. Characters outside a position's alphabet
// count as the nearest in it. Cuts are made of printable ASCII only: every order a service may compare
// strings in (UTF-16 code units, code points, UTF-8 bytes) sorts them alike against any key, so a cut
// ascending here ascends for the service too.

const DIGITS = "0123456789";
const HEX_LOWER = "abcdef";
const HEX_UPPER = "ABCDEF";
const LOWER = "abcdefghijklmnopqrstuvwxyz";
const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(0x20 + i)).join("");

/** The alphabet a position's characters come from: the classes they fall in, in code order. */
function alphabetOf(chars: Iterable<string>): string {
  let digits = false;
  let lower = "";
  let upper = "";
  for (const c of chars) {
    if (c >= "0" && c <= "9") digits = true;
    else if (c >= "a" && c <= "z") lower = lower === LOWER || c > "f" ? LOWER : HEX_LOWER;
    else if (c >= "A" && c <= "Z") upper = upper === UPPER || c > "F" ? UPPER : HEX_UPPER;
    else return PRINTABLE;
  }
  const set = (digits ? DIGITS : "") + upper + lower;
  return set || PRINTABLE;
}

export class KeySpace {
  private readonly alphabets: string[];

  private constructor(alphabets: string[]) {
    this.alphabets = alphabets;
  }

  /**
   * A space for keys like these: their common prefix and eight characters more (so keys that differ only
   * after a long shared prefix still lie apart), each position's alphabet from the sample's characters there.
   */
  static of(sample: readonly string[]): KeySpace {
    const a = sample[0] ?? "";
    const b = sample.at(-1) ?? "";
    let common = 0;
    while (common < a.length && common < b.length && a[common] === b[common]) common++;
    const digits = Math.min(64, common + 8);
    const alphabets: string[] = [];
    for (let i = 0; i < digits; i++) {
      const seen = new Set<string>();
      for (const key of sample) if (i < key.length) seen.add(key[i]);
      alphabets.push(alphabetOf(seen));
    }
    return new KeySpace(alphabets);
  }

  get digits(): number {
    return this.alphabets.length;
  }

  /** Where `key` lies: its first characters as digits of their positions' alphabets. */
  valueOf(key: string): bigint {
    let v = 0n;
    for (let i = 0; i < this.alphabets.length; i++) {
      const alphabet = this.alphabets[i];
      v = v * BigInt(alphabet.length) + BigInt(i < key.length ? indexIn(alphabet, key[i]) : 0);
    }
    return v;
  }

  /** The largest value a key can have here. */
  get end(): bigint {
    return this.alphabets.reduce((n, a) => n * BigInt(a.length), 1n) - 1n;
  }

  /** The key at `value`: characters of each position's alphabet (printable ASCII), trailing spaces dropped. */
  keyAt(value: bigint): string {
    let v = value < 0n ? 0n : value > this.end ? this.end : value;
    const chars: string[] = new Array<string>(this.alphabets.length);
    for (let i = this.alphabets.length - 1; i >= 0; i--) {
      const base = BigInt(this.alphabets[i].length);
      chars[i] = this.alphabets[i][Number(v % base)];
      v /= base;
    }
    return chars.join("").replace(/ +$/, "");
  }
}

/** A character's place in an alphabet (in code order): the nearest below it when it is not there. */
function indexIn(alphabet: string, c: string): number {
  let lo = 0;
  let hi = alphabet.length - 1;
  if (c <= alphabet[0]) return 0;
  if (c >= alphabet[hi]) return hi;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (alphabet[mid] <= c) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * The smallest key after `key` in every order: `key` followed by a space. No valid key lies between the two
 * (a key may not hold control characters, the only ones below a space).
 */
export function keyAfter(key: string): string {
  return `${key} `;
}
