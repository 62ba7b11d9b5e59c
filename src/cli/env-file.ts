// A `.env` file in the working directory, so connection strings stay out of shell history.
// Lines are `KEY=VALUE` (an optional leading `export `); `#` starts a comment outside quotes;
// values may be single-quoted (taken literally) or double-quoted (with \n, \t, \", \\ escapes).
// Errors name the line, never its content: the file holds secrets.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../config/schema.js";

export const ENV_FILE = ".env";

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** Parse the text of a `.env` file; `label` names the file in error messages. */
export function parseEnvFile(text: string, label = ENV_FILE): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let line = lines[i].trim();
    if (line === "" || line.startsWith("#")) continue;
    if (line.startsWith("export ")) line = line.slice("export ".length).trimStart();
    const eq = line.indexOf("=");
    if (eq <= 0) throw new ConfigError(`Line ${lineNo} of ${label} is not KEY=VALUE; fix or remove it.`);
    const key = line.slice(0, eq).trim();
    if (!KEY.test(key))
      throw new ConfigError(`Line ${lineNo} of ${label} has an invalid name before '='; fix or remove it.`);
    let rest = line.slice(eq + 1).trimStart();
    let value: string;
    const quote = rest[0];
    if (quote === '"' || quote === "'") {
      // A quoted value may span lines (e.g. a PEM block); it ends at the matching unescaped quote.
      let j = 1;
      let buf = "";
      for (;;) {
        if (j >= rest.length) {
          if (i + 1 >= lines.length) {
            throw new ConfigError(
              `Line ${lineNo} of ${label} opens a ${quote === '"' ? "double" : "single"} quote that is never closed.`,
            );
          }
          i++;
          rest += "\n" + lines[i];
          continue;
        }
        const c = rest[j];
        if (c === quote) break;
        if (quote === '"' && c === "\\" && j + 1 < rest.length) {
          const n = rest[j + 1];
          buf += n === "n" ? "\n" : n === "r" ? "\r" : n === "t" ? "\t" : n;
          j += 2;
          continue;
        }
        buf += c;
        j++;
      }
      const after = rest.slice(j + 1).trim();
      if (after !== "" && !after.startsWith("#")) {
        throw new ConfigError(
          `Line ${lineNo} of ${label} has text after the closing quote; remove it or quote the whole value.`,
        );
      }
      value = buf;
    } else {
      // Unquoted: a comment starts at ` #`; a `#` inside the value (e.g. a SAS) is kept.
      const hash = rest.search(/\s#/);
      value = (hash >= 0 ? rest.slice(0, hash) : rest).trim();
    }
    out[key] = value;
  }
  return out;
}

/** Read `.env` from `dir`; a missing file is an empty one. */
export function readEnvFile(dir: string, name = ENV_FILE): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(join(dir, name), "utf8");
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "ENOENT" || code === "ENOTDIR") return {};
    throw new ConfigError(`The file ${name} in ${dir} could not be read (${code ?? "unknown error"}).`);
  }
  return parseEnvFile(text, name);
}
