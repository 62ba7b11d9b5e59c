import { describe, expect, it } from "vitest";
import { PartitionBuffers } from "../../../src/engine/copy/partition-buffers.js";

describe("PartitionBuffers", () => {
  it("holds one open partition, then several in the order they were opened", () => {
    const b = new PartitionBuffers<number>();
    expect(b.get("")).toBeUndefined();
    b.add("", 1); // the empty PartitionKey is a key like any other
    expect(b.get("")).toBe(1);
    expect(b.get("x")).toBeUndefined();
    b.add("b", 2);
    b.add("a", 3);
    expect([...b.entries()]).toEqual([
      ["", 1],
      ["b", 2],
      ["a", 3],
    ]);
    b.delete("b");
    expect(b.keys()).toEqual(["", "a"]);
    b.add("b", 4); // re-opened: last
    expect(b.keys()).toEqual(["", "a", "b"]);
    expect(b.oldest()).toBe(1);
    b.delete("");
    expect(b.oldest()).toBe(3);
    for (const key of b.keys()) b.delete(key);
    expect(b.keys()).toEqual([]);
    expect(b.oldest()).toBeUndefined();
    b.add("c", 5);
    expect([...b.entries()]).toEqual([["c", 5]]);
    expect(b.oldest()).toBe(5);
    b.delete("other");
    expect(b.get("c")).toBe(5);
    b.delete("c");
    expect(b.get("c")).toBeUndefined();
  });

  it("lets entries be deleted while they are walked, as the writer sends the oldest", () => {
    const b = new PartitionBuffers<number>();
    for (const [i, key] of ["p", "q", "r", "s"].entries()) b.add(key, i);
    const seen: string[] = [];
    for (const [key] of b.entries()) {
      seen.push(key);
      b.delete(key);
    }
    expect(seen).toEqual(["p", "q", "r", "s"]);
    expect(b.keys()).toEqual([]);
  });
});
