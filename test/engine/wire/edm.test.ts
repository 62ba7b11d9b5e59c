import { describe, expect, it } from "vitest";
import {
  differingProperties,
  doubleLiteral,
  entityBytes,
  entityFromRaw,
  EntityFormatError,
  entityJson,
  normalizeDateTime,
  parseEntityPage,
  readEntityPage,
  wireValuesEqual,
  type WireEntity,
  type WireValue,
} from "../../../src/engine/wire/edm.js";
import { parseRawJson, type RawJson } from "../../../src/engine/wire/raw-json.js";
import { prng, randomText } from "../../support/prng.js";

const entity = (props: [string, WireValue][], pk = "p", rk = "r"): WireEntity => ({
  partitionKey: pk,
  rowKey: rk,
  properties: new Map(props),
});

describe("reading entities", () => {
  it("types unannotated values by their JSON form and annotated ones by their annotation", () => {
    const [e] = parseEntityPage(
      JSON.stringify({ value: [] }).replace(
        "[]",
        `[{"odata.etag":"W/\\"x\\"","PartitionKey":"p","RowKey":"r","Timestamp":"2024-01-01T00:00:00.1234567Z",` +
          `"s":"text","i":42,"neg":-7,"wide":3000000000,"d":1.0,"e":1e10,"b":true,` +
          `"l@odata.type":"Edm.Int64","l":"9007199254740993",` +
          `"dt@odata.type":"Edm.DateTime","dt":"9999-12-31T23:59:59.9999999Z",` +
          `"g@odata.type":"Edm.Guid","g":"C9DA6455-213D-42C9-9A79-3E9149A57833",` +
          `"bin@odata.type":"Edm.Binary","bin":"AAE=",` +
          `"nan@odata.type":"Edm.Double","nan":"NaN",` +
          `"sd@odata.type":"Edm.Double","sd":2.50,` +
          `"gone":null}]`,
      ),
    );
    expect(e.partitionKey).toBe("p");
    expect(e.rowKey).toBe("r");
    expect(e.etag).toBe('W/"x"');
    expect(e.timestamp).toBe("2024-01-01T00:00:00.1234567Z");
    expect([...e.properties]).toEqual([
      ["s", { type: "Edm.String", value: "text" }],
      ["i", { type: "Edm.Int32", value: "42" }],
      ["neg", { type: "Edm.Int32", value: "-7" }],
      ["wide", { type: "Edm.Int64", value: "3000000000" }],
      ["d", { type: "Edm.Double", value: "1.0" }],
      ["e", { type: "Edm.Double", value: "1e10" }],
      ["b", { type: "Edm.Boolean", value: true }],
      ["l", { type: "Edm.Int64", value: "9007199254740993" }],
      ["dt", { type: "Edm.DateTime", value: "9999-12-31T23:59:59.9999999Z" }],
      ["g", { type: "Edm.Guid", value: "C9DA6455-213D-42C9-9A79-3E9149A57833" }],
      ["bin", { type: "Edm.Binary", value: "AAE=" }],
      ["nan", { type: "Edm.Double", value: "NaN" }],
      ["sd", { type: "Edm.Double", value: "2.50" }],
    ]);
  });

  it("reads a single-entity GET body and an empty page", () => {
    expect(parseEntityPage('{"PartitionKey":"","RowKey":"","x":1}')).toEqual([
      { partitionKey: "", rowKey: "", properties: new Map([["x", { type: "Edm.Int32", value: "1" }]]) },
    ]);
    expect(parseEntityPage('{"odata.metadata":"m","value":[]}')).toEqual([]);
  });

  it("refuses what is not a table entity", () => {
    const raw = (s: string) => parseRawJson(s) as Map<string, RawJson>;
    expect(() => entityFromRaw(raw('{"PartitionKey":"p"}'))).toThrow(EntityFormatError);
    expect(() => entityFromRaw(raw('{"PartitionKey":"p","RowKey":"r","x":[1]}'))).toThrow(
      "property x has a value that is not a table type",
    );
    expect(() =>
      entityFromRaw(raw('{"PartitionKey":"p","RowKey":"r","x@odata.type":"Edm.Decimal","x":"1"}')),
    ).toThrow("property x has unknown type Edm.Decimal");
    expect(() => parseEntityPage("[]")).toThrow("not a JSON object");
    expect(() => parseEntityPage('{"value":{}}')).toThrow("not an array");
    expect(() => parseEntityPage('{"value":[1]}')).toThrow("not an object");
    expect(() => parseEntityPage('{"value":[')).toThrow();
  });
});

describe("reading a page lazily", () => {
  const pages = [
    // Same-shaped entities (keys reused), annotations, escapes in keys and values.
    JSON.stringify({
      "odata.metadata": "m",
      value: Array.from({ length: 5 }, (_, i) => ({
        "odata.etag": `W/"${i}"`,
        PartitionKey: "p",
        RowKey: `r${i}`,
        Timestamp: "2026-01-01T00:00:00.1234567Z",
        'q"uote': `v\u2028${i}`,
        "Big@odata.type": "Edm.Int64",
        Big: "9223372036854775807",
      })),
    }).replace(/"Big":"9223372036854775807"/, '"Big":"1","D":1.0'),
    // A key twice in one entity: the last one counts, as in a Map.
    '{"value":[{"PartitionKey":"p","RowKey":"a","x":1,"x":"s"},{"PartitionKey":"p","RowKey":"b","x":2}]}',
    '{"value":[]}',
    // Not a page: a single entity, read by the general parser.
    '{"PartitionKey":"p","RowKey":"r","x":1}',
  ];

  it("gives the entities parseEntityPage gives, as often as it is iterated", () => {
    for (const text of pages) {
      const lazy = readEntityPage(text);
      const eager = parseEntityPage(text);
      expect(lazy.length, text).toBe(eager.length);
      expect([...lazy], text).toEqual(eager);
      expect([...lazy], text).toEqual(eager);
    }
  });

  it("refuses invalid text at once, and an entity that is not a table entity when it is reached", () => {
    expect(() => readEntityPage('{"value":[{"PartitionKey":"p","RowKey":"r"}')).toThrow();
    expect(() => readEntityPage('{"value":[{"PartitionKey":"p","RowKey":"r","x":01}]}')).toThrow();
    const page = readEntityPage(
      '{"value":[{"PartitionKey":"p","RowKey":"a"},{"PartitionKey":"p","RowKey":"b","x@odata.type":"Edm.Decimal","x":"1"}]}',
    );
    expect(page.length).toBe(2);
    const it = page[Symbol.iterator]();
    expect(it.next().value).toMatchObject({ partitionKey: "p", rowKey: "a" });
    expect(() => it.next()).toThrow(new EntityFormatError("property x has unknown type Edm.Decimal"));
  });
});

describe("writing entities", () => {
  it("writes every type with the literal it came with", () => {
    const json = entityJson(
      entity([
        ["s", { type: "Edm.String", value: 'q"\\\n' }],
        ["i", { type: "Edm.Int32", value: "-2147483648" }],
        ["l", { type: "Edm.Int64", value: "-9223372036854775808" }],
        ["d", { type: "Edm.Double", value: "1.0" }],
        ["e", { type: "Edm.Double", value: "1e+308" }],
        ["nan", { type: "Edm.Double", value: "NaN" }],
        ["inf", { type: "Edm.Double", value: "-Infinity" }],
        ["t", { type: "Edm.Boolean", value: true }],
        ["f", { type: "Edm.Boolean", value: false }],
        ["dt", { type: "Edm.DateTime", value: "1601-01-01T00:00:00.0000001Z" }],
        ["g", { type: "Edm.Guid", value: "00000000-0000-0000-0000-000000000000" }],
        ["b", { type: "Edm.Binary", value: "" }],
      ]),
    );
    expect(json).toBe(
      '{"PartitionKey":"p","RowKey":"r",' +
        '"s":"q\\"\\\\\\n",' +
        '"i":-2147483648,' +
        '"l@odata.type":"Edm.Int64","l":"-9223372036854775808",' +
        '"d@odata.type":"Edm.Double","d":1.0,' +
        '"e@odata.type":"Edm.Double","e":1e+308,' +
        '"nan@odata.type":"Edm.Double","nan":"NaN",' +
        '"inf@odata.type":"Edm.Double","inf":"-Infinity",' +
        '"t":true,"f":false,' +
        '"dt@odata.type":"Edm.DateTime","dt":"1601-01-01T00:00:00.0000001Z",' +
        '"g@odata.type":"Edm.Guid","g":"00000000-0000-0000-0000-000000000000",' +
        '"b@odata.type":"Edm.Binary","b":""}',
    );
    expect(JSON.parse(json)).toBeTypeOf("object");
  });

  it("writes -0.0 for a -0.0 (or -0) Double, never 0", () => {
    for (const value of ["-0.0", "-0"]) {
      const json = entityJson(entity([["z", { type: "Edm.Double", value }]]));
      expect(json).toBe('{"PartitionKey":"p","RowKey":"r","z@odata.type":"Edm.Double","z":-0.0}');
      expect(Object.is((JSON.parse(json) as { z: number }).z, -0)).toBe(true);
    }
  });

  it("gives whole-number Doubles a decimal point", () => {
    expect(doubleLiteral("1")).toBe("1.0");
    expect(doubleLiteral("-12")).toBe("-12.0");
    expect(doubleLiteral("1.5")).toBe("1.5");
    expect(doubleLiteral("1e21")).toBe("1e21");
    expect(doubleLiteral("2E-5")).toBe("2E-5");
  });

  it("escapes U+2028/U+2029 (same JSON value) and leaves other text as is", () => {
    const json = entityJson(
      entity([["s", { type: "Edm.String", value: "a\u2028b\u2029c é😀" }]], "pk\u2028", "rk"),
    );
    expect(json).not.toMatch(/[\u2028\u2029]/);
    expect(json).toContain("\\u2028");
    expect(json).toContain("é😀");
    const back = JSON.parse(json) as { PartitionKey: string; s: string };
    expect(back.s).toBe("a\u2028b\u2029c é😀");
    expect(back.PartitionKey).toBe("pk\u2028");
  });

  it("writes every string as JSON.stringify would (escaping U+2028/U+2029 too), whatever it holds", () => {
    // Quotes, backslashes, controls, U+2028/U+2029, valid pairs and lone surrogates, in names and values.
    const next = prng(2028);
    const alphabet = [
      '"',
      "\\",
      "\n",
      "\u0000",
      "\u001f",
      "\u2028",
      "\u2029",
      "😀",
      "\ud800",
      "\udfff",
      "é",
      "a",
      " ",
      "/",
    ];
    const text = () => randomText(next, alphabet, 8);
    const reference = (s: string) =>
      JSON.stringify(s)
        .replace(/\u2028/g, "\\u2028")
        .replace(/\u2029/g, "\\u2029");
    for (let i = 0; i < 500; i++) {
      const name = `n${text()}`;
      const value = text();
      const guid = text();
      const e = entity(
        [
          [name, { type: "Edm.String", value }],
          ["g", { type: "Edm.Guid", value: guid }],
        ],
        text(),
        text(),
      );
      expect(entityJson(e)).toBe(
        `{"PartitionKey":${reference(e.partitionKey)},"RowKey":${reference(e.rowKey)},` +
          `${reference(name)}:${reference(value)},"g@odata.type":"Edm.Guid","g":${reference(guid)}}`,
      );
    }
  });

  it("round-trips: read(write(e)) is e", () => {
    const e = entity([
      ["a", { type: "Edm.Double", value: "1.0" }],
      ["b", { type: "Edm.Int64", value: "9007199254740993" }],
      ["c", { type: "Edm.Double", value: "Infinity" }],
      ["d", { type: "Edm.Guid", value: "c9da6455-213d-42c9-9a79-3e9149a57833" }],
      ["e", { type: "Edm.String", value: "😀\u0000\u001f" }],
    ]);
    expect(parseEntityPage(entityJson(e))).toEqual([e]);
  });

  it("counts UTF-8 bytes of the body", () => {
    const e = entity([["s", { type: "Edm.String", value: "é😀" }]]);
    expect(entityBytes(e)).toBe(Buffer.byteLength(entityJson(e)));
    expect(entityBytes(e)).toBe(entityJson(e).length + 1 + 2);
  });
});

describe("comparing values", () => {
  const d = (value: string): WireValue => ({ type: "Edm.Double", value });

  it("compares Doubles by value: -0 differs from 0, NaN equals NaN", () => {
    expect(wireValuesEqual(d("1"), d("1.0"))).toBe(true);
    expect(wireValuesEqual(d("1e2"), d("100.0"))).toBe(true);
    expect(wireValuesEqual(d("-0.0"), d("0.0"))).toBe(false);
    expect(wireValuesEqual(d("-0.0"), d("-0"))).toBe(true);
    expect(wireValuesEqual(d("NaN"), d("NaN"))).toBe(true);
    expect(wireValuesEqual(d("Infinity"), d("-Infinity"))).toBe(false);
    expect(wireValuesEqual(d("Infinity"), d("1e309"))).toBe(false);
  });

  it("compares types first, Int64 exactly, Guids case-insensitively, DateTimes by instant", () => {
    expect(wireValuesEqual({ type: "Edm.Int32", value: "1" }, { type: "Edm.Int64", value: "1" })).toBe(false);
    expect(wireValuesEqual({ type: "Edm.Int32", value: "1" }, d("1.0"))).toBe(false);
    expect(
      wireValuesEqual(
        { type: "Edm.Int64", value: "9007199254740993" },
        { type: "Edm.Int64", value: "9007199254740992" },
      ),
    ).toBe(false);
    expect(
      wireValuesEqual(
        { type: "Edm.Guid", value: "C9DA6455-213D-42C9-9A79-3E9149A57833" },
        { type: "Edm.Guid", value: "c9da6455-213d-42c9-9a79-3e9149a57833" },
      ),
    ).toBe(true);
    expect(
      wireValuesEqual(
        { type: "Edm.DateTime", value: "2024-01-01T00:00:00Z" },
        { type: "Edm.DateTime", value: "2024-01-01T00:00:00.0000000Z" },
      ),
    ).toBe(true);
    expect(
      wireValuesEqual(
        { type: "Edm.DateTime", value: "2024-01-01T00:00:00.0000001Z" },
        { type: "Edm.DateTime", value: "2024-01-01T00:00:00Z" },
      ),
    ).toBe(false);
    expect(wireValuesEqual({ type: "Edm.Boolean", value: true }, { type: "Edm.Boolean", value: false })).toBe(
      false,
    );
  });

  it("normalizes DateTimes to 7 fractional digits", () => {
    expect(normalizeDateTime("1601-01-01T00:00:00Z")).toBe("1601-01-01T00:00:00.0000000Z");
    expect(normalizeDateTime("2024-01-01T00:00:00.123Z")).toBe("2024-01-01T00:00:00.1230000Z");
    expect(normalizeDateTime("9999-12-31T23:59:59.9999999Z")).toBe("9999-12-31T23:59:59.9999999Z");
    expect(normalizeDateTime("not a date")).toBe("not a date");
  });

  it("lists properties that differ, are missing, or are extra", () => {
    const a = entity([
      ["same", { type: "Edm.String", value: "x" }],
      ["changed", { type: "Edm.Int32", value: "1" }],
      ["retyped", { type: "Edm.Int32", value: "1" }],
      ["onlyA", { type: "Edm.String", value: "a" }],
    ]);
    const b = entity([
      ["same", { type: "Edm.String", value: "x" }],
      ["changed", { type: "Edm.Int32", value: "2" }],
      ["retyped", d("1.0")],
      ["onlyB", { type: "Edm.String", value: "b" }],
    ]);
    expect(differingProperties(a, b)).toEqual(["changed", "retyped", "onlyA", "onlyB"]);
    expect(differingProperties(a, a)).toEqual([]);
  });
});
