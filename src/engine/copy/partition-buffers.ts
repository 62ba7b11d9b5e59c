// The writer's open transactions by PartitionKey, in the order they were opened.
//
// A sorted source (Table Storage) has one partition open at a time: with one entity per partition, a
// Map would gain and lose an entry for every entity, reallocating its table as it goes, and those young
// tables, held by the long-lived Map, were promoted to the old generation (8 MB of 50,000 one-entity
// writes' survivors). So a lone open partition lives in a slot of its own; the Map is used only while
// two or more are open (an unsorted source), and then holds all of them, oldest first.

export class PartitionBuffers<V> {
  private slotKey = "";
  private slotValue: V | undefined;
  /** Every open partition while two or more are open; empty while the slot holds the only one. */
  private readonly many = new Map<string, V>();

  get(key: string): V | undefined {
    if (this.slotValue !== undefined) return key === this.slotKey ? this.slotValue : undefined;
    return this.many.get(key);
  }

  /** Open a partition that is not open (it goes last in the order). */
  add(key: string, value: V): void {
    if (this.slotValue === undefined && this.many.size === 0) {
      this.slotKey = key;
      this.slotValue = value;
      return;
    }
    if (this.slotValue !== undefined) {
      this.many.set(this.slotKey, this.slotValue);
      this.slotValue = undefined;
    }
    this.many.set(key, value);
  }

  delete(key: string): void {
    if (this.slotValue !== undefined) {
      if (key === this.slotKey) this.slotValue = undefined;
    } else this.many.delete(key);
  }

  /** The partition opened first of those open. */
  oldest(): V | undefined {
    if (this.slotValue !== undefined) return this.slotValue;
    for (const value of this.many.values()) return value;
    return undefined;
  }

  /** The open partitions, oldest first. */
  *entries(): IterableIterator<[string, V]> {
    if (this.slotValue !== undefined) yield [this.slotKey, this.slotValue];
    else yield* this.many;
  }

  keys(): string[] {
    return [...this.entries()].map(([key]) => key);
  }
}
