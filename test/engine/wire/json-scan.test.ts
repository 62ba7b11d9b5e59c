import { describe, expect, it } from "vitest";
import { JsonScanError, scanPage } from "../../../src/engine/wire/json-scan.js";
import { parseRawJson } from "../../../src/engine/wire/raw-json.js";
import { prng } from "../../support/prng.js";

/** Whether raw-json accepts the text: the scanner must agree on every input. */
function parses(text: string): boolean {
  try {
    parseRawJson(text);
    return true;
  } catch {
    return false;
  }
}

function scans(text: string): boolean {
  try {
    scanPage(text);
    return true;
  } catch (err) {
    expect(err).toBeInstanceOf(JsonScanError);
    return false;
  }
}

const PAGE =
  '{"odata.metadata":"https://a.table.core.windows.net/$metadata#t","value":[' +
  '{"odata.etag":"W/\\"datetime\'2026-01-01T00%3A00%3A00.1234567Z\'\\"","PartitionKey":"p","RowKey":"r1",' +
  '"Timestamp":"2026-01-01T00:00:00.1234567Z","D":1.0,"E":-2.5e-3,"I":0,"Big@odata.type":"Edm.Int64","Big":"9223372036854775807",' +
  '"S":"say \\"hi\\" \\\\ \\u00e9\\ud83d\\ude00","B":true,"F":false,"N":null},' +
  ' { "PartitionKey" : "p" , "RowKey" : "r2" , "x" : [1, {"y": []}] } ]}';

describe("scanPage", () => {
  it("finds the entity list of a page and counts its objects", () => {
    const shape = scanPage(PAGE);
    expect(shape).toBeDefined();
    expect(PAGE[shape!.valueStart]).toBe("[");
    expect(shape!.count).toBe(2);
    expect(scanPage('{"value":[]}')).toEqual({ valueStart: 9, count: 0 });
  });

  it("gives no shape for valid JSON of another shape", () => {
    for (const text of [
      '{"PartitionKey":"p","RowKey":"r"}',
      "{}",
      '{"value":{}}',
      '{"value":[1]}',
      '{"value":[{}, "x"]}',
      '{"value":[],"value":[]}',
      "[]",
      '"value"',
    ]) {
      expect(scanPage(text), text).toBeUndefined();
    }
  });

  it("accepts and refuses exactly what the parser does", () => {
    const cases = [
      PAGE,
      '{"value":[{"a":01}]}',
      '{"value":[{"a":1.}]}',
      '{"value":[{"a":.5}]}',
      '{"value":[{"a":-}]}',
      '{"value":[{"a":1e}]}',
      '{"value":[{"a":1e+}]}',
      '{"value":[{"a":1.5e-7}]}',
      '{"value":[{"a":1-2}]}',
      '{"value":[{"a":+1}]}',
      '{"value":[{"a":"\\x"}]}',
      '{"value":[{"a":"\\u12"}]}',
      '{"value":[{"a":"\\u12G4"}]}',
      '{"value":[{"a":"ok\\\\"}]}',
      '{"value":[{"a":"bad\\\\\\"}]}',
      '{"value":[{"a":tru}]}',
      '{"value":[{"a":nul}]}',
      '{"value":[{"a":1,}]}',
      '{"value":[{"a":1},]}',
      '{"value":[{"a" 1}]}',
      '{"value":[{a:1}]}',
      '{"value":[{"a":1}]} x',
      '{"value":[{"a":1}]}  \n',
      ' \t{"value":[{"a":1}]}',
    ];
    for (const text of cases) expect(scans(text), text).toBe(parses(text));
  });

  it("refuses a page cut short anywhere, as the parser does", () => {
    for (let end = 0; end < PAGE.length; end++) {
      const cut = PAGE.slice(0, end);
      expect(scans(cut), `cut at ${end}`).toBe(parses(cut));
    }
  });

  it("agrees with the parser on random damage to a page", () => {
    const next = prng(11);
    const alphabet = '{}[]",:\\0123456789.eE+-tfnu \u00e9';
    for (let n = 0; n < 2_000; n++) {
      const at = Math.floor(next() * PAGE.length);
      const c = alphabet[Math.floor(next() * alphabet.length)];
      const text = PAGE.slice(0, at) + c + PAGE.slice(at + (next() < 0.5 ? 1 : 0));
      expect(scans(text), text).toBe(parses(text));
    }
  });

  it("tells escaped strings from plain ones anywhere in a long page", () => {
    // The scanner searches ahead once for the next backslash: strings before it, between two and after
    // the last must each be judged by their own characters.
    const next = prng(5);
    const entities = Array.from({ length: 3_000 }, (_, i) => {
      const s = next() < 0.01 ? 'a\\"b\\\\' : "x".repeat(Math.floor(next() * 40));
      return `{"PartitionKey":"p","RowKey":"r${i}","S":"${s}"}`;
    });
    const text = `{"value":[${entities.join(",")}]}`;
    expect(scanPage(text)?.count).toBe(3_000);
    const broken = text.replace('\\\\"}', '\\"}');
    expect(scans(broken)).toBe(false);
    expect(parses(broken)).toBe(false);
  });
});
