import { describe, expect, it } from "vitest";
import { parseRenames, parseSince, parseTables } from "../../src/config/parse.js";

describe("config parsers", () => {
  it("parses lists and times", () => {
    expect(parseRenames("id:entityId, etag:entityEtag")).toEqual([
      { from: "id", to: "entityId" },
      { from: "etag", to: "entityEtag" },
    ]);
    expect(parseTables("a1b")).toEqual([{ source: "a1b", destination: "a1b" }]);
    expect(parseSince("2024-05-01T12:00:00.1234567Z")?.toISOString()).toBe("2024-05-01T12:00:00.123Z");
    expect(() => parseSince("2999-01-01T00:00:00Z")).toThrow("lies in the future");
  });
});
