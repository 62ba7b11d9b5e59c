import { describe, expect, it } from "vitest";
import { parseRawJson, RawJsonError, RawNumber, type RawJson } from "../../../src/engine/wire/raw-json.js";

/** Plain data for comparisons: Maps as entry lists, numbers as their literal text. */
function plain(v: RawJson): unknown {
  if (v instanceof RawNumber) return { raw: v.raw };
  if (v instanceof Map) return [...v].map(([k, x]) => [k, plain(x)]);
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

describe("parseRawJson", () => {
  it("keeps every number literal's text exactly", () => {
    const literals = [
      "1.0",
      "-0.0",
      "0",
      "-0",
      "1e308",
      "1E+308",
      "5e-324",
      "4.9406564584124654E-324",
      "123456789012345678901234567890",
      "9223372036854775807",
      "0.10000000000000000555",
      "-2.5e-3",
    ];
    for (const lit of literals) {
      const parsed = parseRawJson(`{"x":${lit}}`) as Map<string, RawJson>;
      expect(parsed.get("x"), lit).toBeInstanceOf(RawNumber);
      expect((parsed.get("x") as RawNumber).raw).toBe(lit);
    }
  });

  it("parses objects into Maps in wire order, arrays, strings, booleans and null", () => {
    const v = parseRawJson(' { "b" : [1, 2.0, "s", true, false, null, {}, []], "a":{"z":1,"y":2} } ');
    expect(plain(v)).toEqual([
      ["b", [{ raw: "1" }, { raw: "2.0" }, "s", true, false, null, [], []]],
      [
        "a",
        [
          ["z", { raw: "1" }],
          ["y", { raw: "2" }],
        ],
      ],
    ]);
  });

  it("treats __proto__ and constructor as ordinary keys", () => {
    const v = parseRawJson('{"__proto__":{"polluted":true},"constructor":1}') as Map<string, RawJson>;
    expect([...v.keys()]).toEqual(["__proto__", "constructor"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("decodes string escapes, including surrogate pairs and escaped quotes before the end", () => {
    const cases: [string, string][] = [
      ['"plain"', "plain"],
      ['"say \\"hi\\""', 'say "hi"'],
      ['"ends with backslash \\\\"', "ends with backslash \\"],
      ['"\\\\\\""', '\\"'],
      ['"line\\nbreak\\r\\ttab\\b\\f\\/"', "line\nbreak\r\ttab\b\f/"],
      ['"\\u00e9\\u4e2d\\ud83d\\ude00"', "é中😀"],
      ['"raw é中😀 𝄞"', "raw é中😀 𝄞"],
      ['"\\u2028\\u2029"', "\u2028\u2029"],
      ['""', ""],
    ];
    for (const [json, expected] of cases) expect(parseRawJson(json), json).toBe(expected);
  });

  it("handles a 1 MB string and deep nesting", () => {
    const big = "x".repeat(1_000_000);
    expect(parseRawJson(JSON.stringify({ big }))).toEqual(new Map([["big", big]]));
    const deep = "[".repeat(500) + "1" + "]".repeat(500);
    let v = parseRawJson(deep);
    for (let i = 0; i < 500; i++) v = (v as RawJson[])[0];
    expect(v).toEqual(new RawNumber("1"));
  });

  it.each([
    ["", "unexpected character"],
    ["{", "expected a property name"],
    ['{"a" 1}', "expected ':'"],
    ['{"a":1,}', "expected a property name"],
    ['{"a":1 "b":2}', "expected ',' or '}'"],
    ["[1 2]", "expected ',' or ']'"],
    ['"unterminated', "unterminated string"],
    ["01", "bad number 01"],
    ["1.", "bad number 1."],
    ["-", "bad number -"],
    ["1e", "bad number 1e"],
    ["+1", "unexpected character"],
    ["NaN", "unexpected character"],
    ["tru", "unexpected character"],
    ["{} x", "trailing characters"],
  ])("rejects %j (%s)", (text, what) => {
    expect(() => parseRawJson(text)).toThrow(RawJsonError);
    expect(() => parseRawJson(text)).toThrow(what);
  });
});
