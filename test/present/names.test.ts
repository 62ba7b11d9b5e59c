// Tables and entities named once, whatever the engine's message already says.
import { describe, expect, it } from "vitest";
import { entityMessage, entityReason } from "../../src/present/names.js";

describe("names", () => {
  it("the entity is named once: prefixed when the message lacks it, stripped for a row that names it", () => {
    const named = "Table t1, PartitionKey 'a', RowKey '1': property 'id' is reserved";
    expect(entityMessage("t1", "a", "1", named)).toBe(named);
    expect(entityMessage("t1", "a", "1", "HTTP 400")).toBe(
      "Table t1, PartitionKey 'a', RowKey '1': HTTP 400",
    );
    expect(entityReason("t1", "a", "1", named)).toBe("property 'id' is reserved");
    expect(entityReason("t1", "a", "1", "HTTP 400")).toBe("HTTP 400");
  });
});
