// Which of an unsorted source's partial transactions may go before they are full or due (writer.ts,
// sendEarly): while the destination has room nobody needs, the fullest go. Not when the source is read
// by key ranges (ranged-reader.ts): each range's partitions are whole at its end, soon enough.
//
// Held until full or due, a shuffled table that fits the hold went only once the scan ended, the
// destination idle all the while. Early, a partition costs more requests (two or three transactions, not
// one), so only those fuller than the table's partitions have been on average so far go: a partition of
// ten is sent in halves at most, one of a hundred in about three parts, not in fives. The average is the
// operations placed over the partitions seen, counted in a bitmap (linear counting): the partial
// transactions themselves cannot tell it, since sending early keeps them small.

/**
 * The fewest operations that go early: fewer cost more CPU in extra requests than the idle link gains.
 * Measured on the matrix's shuffled ten per partition over 20 ms with a fixed threshold (before the
 * average below): nothing early 13,900/s, from two 11,000, from five 17,200, from eight 15,300.
 */
export const EARLY_MIN = 5;

/** Bits of the partitions-seen map: 1 MiB, within a few per cent to millions of partitions. */
const BITS = 2 ** 23;

/** A partition key's bit (FNV-1a). */
function bitOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % BITS;
}

export class EarlySends {
  /** Open partial transactions of EARLY_MIN operations or more, by how many they hold. */
  private readonly bySize: Set<string>[] = [];
  private seen?: Int32Array;
  private unseen = BITS;
  private placedCount = 0;

  /** An operation of partition `key` was held. */
  placed(key: string): void {
    this.placedCount++;
    const bit = bitOf(key);
    const seen = (this.seen ??= new Int32Array(BITS / 32));
    const mask = 1 << (bit & 31);
    if ((seen[bit >>> 5] & mask) === 0) {
      seen[bit >>> 5] |= mask;
      this.unseen--;
    }
  }

  /** Partition `key`'s partial transaction now holds `size` operations. */
  grew(key: string, size: number): void {
    if (size < EARLY_MIN) return;
    if (size > EARLY_MIN) this.bySize[size - 1]?.delete(key);
    (this.bySize[size] ??= new Set()).add(key);
  }

  /** Partition `key`'s partial transaction of `size` operations was sent. */
  gone(key: string, size: number): void {
    this.bySize[size]?.delete(key);
  }

  /** Operations per partition seen so far (linear counting of the partitions). */
  meanSize(): number {
    if (this.placedCount === 0) return 0;
    const partitions = this.unseen > 0 ? -BITS * Math.log(this.unseen / BITS) : Infinity;
    return this.placedCount / Math.max(1, partitions);
  }

  /** Partitions that may go early, fullest first. Send each (and call `gone`) before asking for the next. */
  *fullest(): Generator<string> {
    const least = Math.max(EARLY_MIN, Math.ceil(this.meanSize()));
    for (let size = this.bySize.length - 1; size >= least; size--) {
      const keys = this.bySize[size];
      if (keys) for (const key of keys) yield key;
    }
  }
}
