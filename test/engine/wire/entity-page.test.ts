import { describe, expect, it } from "vitest";
import { entityJson, propertyNames, readEntityPage, type WireEntity } from "../../../src/engine/wire/edm.js";
import { readCopyPage } from "../../../src/engine/wire/entity-page.js";
import { createTransformer } from "../../../src/engine/copy/transform.js";
import { prng } from "../../support/prng.js";

type Outcome = { entity: WireEntity; cut: boolean } | { error: string };

/** Every entity of a page as a reader gives it: the entity, or the error its iteration throws. */
function outcomes(list: Iterable<WireEntity>): Outcome[] {
  const out: Outcome[] = [];
  const it = list[Symbol.iterator]();
  for (;;) {
    let r;
    try {
      r = it.next();
    } catch (err) {
      out.push({ error: `${(err as Error).name}: ${(err as Error).message}` });
      return out;
    }
    if (r.done) return out;
    out.push({ entity: r.value, cut: "writeJson" in r.value });
  }
}

/** Whether the copy page and the plain page agree entity by entity; how many were cut from the text. */
function compare(page: string): number {
  const plain = outcomes(readEntityPage(page));
  const copy = outcomes(readCopyPage(page));
  expect(copy.length, page).toBe(plain.length);
  let cut = 0;
  for (let k = 0; k < plain.length; k++) {
    const p = plain[k];
    const c = copy[k];
    if ("error" in p) {
      expect(c, page).toEqual(p);
      continue;
    }
    if (!("entity" in c))
      throw new Error(`copy page failed where the plain one did not: ${c.error}\n${page}`);
    if (c.cut) cut++;
    // The body byte for byte, the keys, Timestamp and ETag, and (asked for last) the properties.
    expect(entityJson(c.entity), page).toBe(entityJson(p.entity));
    expect(c.entity.partitionKey).toBe(p.entity.partitionKey);
    expect(c.entity.rowKey).toBe(p.entity.rowKey);
    expect(c.entity.timestamp).toBe(p.entity.timestamp);
    expect(c.entity.etag).toBe(p.entity.etag);
    expect([...propertyNames(c.entity)]).toEqual([...p.entity.properties.keys()]);
    expect([...c.entity.properties]).toEqual([...p.entity.properties]);
  }
  return cut;
}

const TS = "2026-01-01T00:00:00.1234567Z";
const ETAG = `"odata.etag":"W/\\"datetime'2026-01-01T00%3A00%3A00.1234567Z'\\""`;

/** A member's value as Table Storage writes it, or something stranger. */
function randomValue(rnd: () => number, clean: boolean): { annotation?: string; text: string } {
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  const kinds = clean
    ? ["s", "i", "d", "l", "dt", "g", "b", "bool", "nan"]
    : ["s", "i", "d", "l", "dt", "g", "b", "bool", "nan", "esc", "u2028", "pair", "null", "big", "odd"];
  switch (pick(kinds)) {
    case "s":
      return { text: JSON.stringify(pick(["", "x", "hello world", "é ü ß", "a'b", "日本語", "1.0"])) };
    case "i":
      return { text: pick(["0", "-1", "42", "2147483647", "-2147483648", "-0"]) };
    case "d":
      return { text: pick(["1.0", "-0.0", "2.5", "1e300", "1E-5", "3.14159265358979", "0.1"]) };
    case "l":
      return { annotation: "Edm.Int64", text: pick(['"9223372036854775807"', '"-1"', '"0"']) };
    case "dt":
      return { annotation: "Edm.DateTime", text: pick([`"${TS}"`, '"1601-01-01T00:00:00Z"']) };
    case "g":
      return { annotation: "Edm.Guid", text: '"c9da6455-213d-42c9-9a79-3e9149a57833"' };
    case "b":
      return { annotation: "Edm.Binary", text: '"AAEC/w=="' };
    case "bool":
      return { text: pick(["true", "false"]) };
    case "nan":
      return { annotation: "Edm.Double", text: pick(['"NaN"', '"Infinity"', '"-Infinity"']) };
    case "esc":
      return { text: pick(['"say \\"hi\\""', '"a\\\\b"', '"\\u00e9"', '"line\\nbreak"', '"\\/"']) };
    case "u2028":
      return { text: pick(['"a\u2028b"', '"\u2029"']) };
    case "pair":
      return { text: pick(['"😀"', '"\\ud83d\\ude00"', '"\\ud800"']) };
    case "null":
      return { annotation: pick([undefined, "Edm.Int64"]), text: "null" };
    case "big":
      return { text: pick(["2147483648", "-2147483649", "9007199254740993"]) };
    default:
      // Annotated in ways the service does not write: the plain path decides (or refuses).
      return pick([
        { annotation: "Edm.Double", text: "3" },
        { annotation: "Edm.Double", text: '"1.5"' },
        { annotation: "Edm.Int64", text: "12" },
        { annotation: "Edm.Int32", text: "1.5" },
        { annotation: "Edm.Int32", text: '"7"' },
        { annotation: "Edm.Boolean", text: '"true"' },
        { annotation: "Edm.String", text: '"s"' },
        { annotation: "Edm.String", text: "5" },
        { annotation: "Edm.Unknown", text: '"x"' },
        { text: "[1,2]" },
        { text: '{"a":1}' },
      ]);
  }
}

/** One entity object's text: the service's order and spacing, or (not clean) anything JSON allows. */
function randomEntity(rnd: () => number, clean: boolean, names: string[]): string {
  const ws = () => (!clean && rnd() < 0.2 ? " \n\t".slice(0, 1 + Math.floor(rnd() * 3)) : "");
  const members: string[] = [];
  const member = (name: string, text: string) =>
    `${ws()}${JSON.stringify(name)}${ws()}:${ws()}${text}${ws()}`;
  if (clean || rnd() < 0.9) members.push(ETAG);
  if (clean || rnd() < 0.95)
    members.push(member("PartitionKey", JSON.stringify(`p${Math.floor(rnd() * 5)}`)));
  if (!clean && rnd() < 0.05) members.push(member("RowKey", pickKey(rnd)));
  else members.push(member("RowKey", JSON.stringify(`r${Math.floor(rnd() * 1000)}`)));
  members.push(member("Timestamp@odata.type", '"Edm.DateTime"'), member("Timestamp", `"${TS}"`));
  for (const name of names) {
    const v = randomValue(rnd, clean);
    const place = clean ? 0 : rnd();
    if (v.annotation !== undefined && place < 0.9)
      members.push(member(`${name}@odata.type`, `"${v.annotation}"`));
    members.push(member(name, v.text));
    if (v.annotation !== undefined && place >= 0.9 && place < 0.95)
      members.push(member(`${name}@odata.type`, `"${v.annotation}"`));
  }
  if (!clean && rnd() < 0.05) members.push(member(names[0] ?? "Dup", '"twice"'));
  if (!clean && rnd() < 0.05) members.push(member("odata.editLink", '"t(\\"x\\")"'));
  if (!clean && rnd() < 0.03) members.reverse();
  return `{${members.join(",")}}`;
}

function pickKey(rnd: () => number): string {
  return ['"a\\"b"', '"é"', '"\u2028"', "5", '"k\\\\"', '"much longer row key of the entity"'][
    Math.floor(rnd() * 6)
  ];
}

function randomPage(rnd: () => number, clean: boolean): string {
  const shapes = [["A", "B", "C"], ["Name", "Count", "Score", "When", "Id", "Blob", "Flag"], [], ["x"]];
  const entities: string[] = [];
  const n = 1 + Math.floor(rnd() * 8);
  for (let k = 0; k < n; k++) {
    const shape = shapes[Math.floor(rnd() * shapes.length)];
    // Mostly the same shape as the entity before, as pages of one table are.
    const names = rnd() < 0.7 ? shapes[1] : shape;
    entities.push(randomEntity(rnd, clean, names));
  }
  return `{"odata.metadata":"https://a.table.core.windows.net/$metadata#t","value":[${entities.join(",")}]}`;
}

describe("readCopyPage", () => {
  it("cuts every entity of a page as the service writes it, with the body entityJson would build", () => {
    const rnd = prng(11);
    let cut = 0;
    let total = 0;
    for (let k = 0; k < 300; k++) {
      const page = randomPage(rnd, true);
      cut += compare(page);
      total += readEntityPage(page).length;
    }
    // Every one of them: the fast path is what a copy of such a table runs on.
    expect(cut).toBe(total);
  });

  it("agrees with the plain reader on any entity, cut or parsed, and fails where it fails", () => {
    const rnd = prng(12);
    let cut = 0;
    for (let k = 0; k < 2000; k++) cut += compare(randomPage(rnd, false));
    // Both paths ran: most of these entities have something only the parser may decide, some do not.
    expect(cut).toBeGreaterThan(100);
  });

  it("writes a whole-number Double with its decimal point and annotation", () => {
    const page = `{"value":[{${ETAG},"PartitionKey":"p","RowKey":"r","Timestamp":"${TS}","D":1.0,"E":2E5,"X@odata.type":"Edm.Double","X":3,"N":"NaN"}]}`;
    const [e] = readCopyPage(page);
    expect("writeJson" in e).toBe(true);
    expect(entityJson(e)).toBe(
      '{"PartitionKey":"p","RowKey":"r","D@odata.type":"Edm.Double","D":1.0,"E@odata.type":"Edm.Double","E":2E5,' +
        '"X@odata.type":"Edm.Double","X":3.0,"N":"NaN"}',
    );
    expect(e.etag).toBe(`W/"datetime'2026-01-01T00%3A00%3A00.1234567Z'"`);
    expect(e.timestamp).toBe(TS);
  });

  it("gives a renamed copy its own body, not the page's", () => {
    const page = `{"value":[{"PartitionKey":"p","RowKey":"r","Old":"v","Keep":1}]}`;
    const [e] = readCopyPage(page);
    const t = createTransformer({
      renames: [{ from: "Old", to: "New" }],
      destinationKind: "table",
      sourceTable: "t",
    });
    expect(entityJson(t.apply(e))).toBe('{"PartitionKey":"p","RowKey":"r","New":"v","Keep":1}');
  });

  it("reads the ETag on demand, keeps it through a rename, and takes a new one", () => {
    const page = `{"value":[{${ETAG},"PartitionKey":"p","RowKey":"r","Old":"v"},{"odata.etag":"W/\\"a\\\\b\\"","PartitionKey":"p","RowKey":"s"}]}`;
    const [e, f] = readCopyPage(page);
    const etag = `W/"datetime'2026-01-01T00%3A00%3A00.1234567Z'"`;
    const t = createTransformer({
      renames: [{ from: "Old", to: "New" }],
      destinationKind: "table",
      sourceTable: "t",
    });
    expect(t.apply(e).etag).toBe(etag);
    expect(e.etag).toBe(etag);
    // An escaped backslash stays one backslash, however often it is read.
    expect(f.etag).toBe('W/"a\\b"');
    expect(f.etag).toBe('W/"a\\b"');
    f.etag = 'W/"new"';
    expect(f.etag).toBe('W/"new"');
    f.etag = undefined;
    expect(f.etag).toBeUndefined();
  });

  it("parses a page of another shape as the plain reader does", () => {
    for (const page of ['{"PartitionKey":"p","RowKey":"r","A":1}', '{"value":[]}', '{"x":1}']) compare(page);
    expect(() => readCopyPage("{")).toThrow();
  });
});
