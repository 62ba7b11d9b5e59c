// Where the CLI's secrets come from and how they are kept out of its output: the .env reader
// (src/cli/env-file.ts) and the masking of connection strings, keys and signatures (src/cli/mask.ts).
import { describe, expect, it } from "vitest";
import { parseEnvFile } from "../../src/cli/env-file.js";
import { Masker, connectionStringSecrets } from "../../src/cli/mask.js";
import { usageError } from "./usage-error.js";

describe(".env", () => {
  it("reads KEY=VALUE with quotes, comments and export", () => {
    const env = parseEnvFile(
      [
        "# a comment",
        "",
        'SOURCE_CONNECTION_STRING="AccountName=a;AccountKey=k==;TableEndpoint=https://a.table.core.windows.net/"',
        "export DESTINATION_CONNECTION_STRING='x;sig=a#b' # trailing comment",
        "PLAIN=value with spaces # comment",
        "HASH=a#b",
        'ESCAPED="line1\\nline2 \\"q\\""',
        'MULTI="first',
        'second"',
        "EMPTY=",
      ].join("\r\n"),
    );
    expect(env).toEqual({
      SOURCE_CONNECTION_STRING:
        "AccountName=a;AccountKey=k==;TableEndpoint=https://a.table.core.windows.net/",
      DESTINATION_CONNECTION_STRING: "x;sig=a#b",
      PLAIN: "value with spaces",
      HASH: "a#b",
      ESCAPED: 'line1\nline2 "q"',
      MULTI: "first\nsecond",
      EMPTY: "",
    });
  });

  it("names the bad line without echoing it", () => {
    expect(usageError(() => parseEnvFile("OK=1\nAccountKey secret\n"))).toBe(
      "Line 2 of .env is not KEY=VALUE; fix or remove it.",
    );
    expect(usageError(() => parseEnvFile('A="open\n'))).toMatch(/^Line 1 of \.env opens a double quote/);
  });
});

describe("masking", () => {
  it("masks connection strings, keys and signatures", () => {
    const cs =
      "DefaultEndpointsProtocol=https;AccountName=acct;TableEndpoint=https://acct.table.core.windows.net;" +
      "SharedAccessSignature=sv=2022-11-02&ss=t&sig=abc%2Bdef%3D";
    const m = new Masker(connectionStringSecrets(cs));
    const text = `got ${cs} and sig=abc%2Bdef%3D and abc+def= and AccountKey=other;`;
    const masked = m.mask(text);
    expect(masked).not.toContain("abc");
    expect(masked).not.toContain("other");
    expect(masked).toContain("AccountKey=***");
  });

  it("masks unknown keys by pattern", () => {
    expect(new Masker().mask("x AccountKey=zzz; y https://h/t?sv=1&sig=qqq&se=2")).toBe(
      "x AccountKey=***; y https://h/t?sv=1&sig=***&se=2",
    );
  });
});
