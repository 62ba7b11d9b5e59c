// A state too big for a repository variable as plain JSON is stored deflated, as base64 inside a small JSON
// envelope that still says whose document it is. Plain JSON is kept whenever it fits, so a small state stays
// readable (and readable by older versions). The envelope says version 2: an older azure-table-sync reading
// it answers that a newer version wrote it, rather than calling it damaged.
import { deflateRawSync, inflateRawSync } from "node:zlib";

export const PACKED_VERSION = 2;
const ENCODING = "deflate-raw+base64";

export function pack(json: string, format: string): string {
  const data = deflateRawSync(Buffer.from(json, "utf8"), { level: 9 }).toString("base64");
  return JSON.stringify({ format, version: PACKED_VERSION, encoding: ENCODING, data });
}

/** The JSON text inside an envelope, or undefined when `doc` is not one. Throws when the data is damaged. */
export function unpack(doc: Record<string, unknown>): string | undefined {
  if (doc.version !== PACKED_VERSION || doc.encoding !== ENCODING || typeof doc.data !== "string") {
    return undefined;
  }
  return inflateRawSync(Buffer.from(doc.data, "base64")).toString("utf8");
}
