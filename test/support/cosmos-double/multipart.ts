// $batch bodies: reading the client's request and Azurite's answer, writing the request on to Azurite,
// and answering in Cosmos's framing (`batchresponse_<guid>`/`changesetresponse_<guid>` boundaries, MIME
// part headers ending in a bare LF, the inner HTTP lines in CRLF).
import { randomUUID } from "node:crypto";
import { STATUS_CODES } from "node:http";
import type { Reply } from "./wire.js";

/** One operation of a changeset, as the client sent it. */
export interface BatchPart {
  /** MIME headers of the part (up to the blank line). */
  mime: string;
  method: string;
  url: string;
  /** Inner request headers, as lines. */
  headerLines: string[];
  body: string;
}

/** One answer of Azurite's changeset response. */
export interface ResponsePart {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: string;
}

export function parseBatchRequest(
  body: string,
  contentType: string,
): { outer: string; inner: string; parts: BatchPart[] } | undefined {
  const outer = /boundary=([^;\s]+)/i.exec(contentType)?.[1];
  if (!outer) return undefined;
  const inner = /Content-Type:\s*multipart\/mixed;\s*boundary=([^;\s]+)/i.exec(body)?.[1];
  if (!inner) return undefined;
  const chunks = body.split(`--${inner}`);
  const parts: BatchPart[] = [];
  // chunks[0] is the outer preamble; the last one starts with "--" (the closing delimiter).
  for (const chunk of chunks.slice(1)) {
    if (chunk.startsWith("--")) break;
    const text = chunk.replace(/^\r?\n/, "");
    const mimeEnd = /\r?\n\r?\n/.exec(text);
    if (!mimeEnd) return undefined;
    const mime = text.slice(0, mimeEnd.index);
    const rest = text.slice(mimeEnd.index + mimeEnd[0].length);
    const lineEnd = /\r?\n/.exec(rest);
    if (!lineEnd) return undefined;
    const requestLine = rest.slice(0, lineEnd.index);
    const m = /^(\S+)\s+(\S+)\s+HTTP\/1\.1$/.exec(requestLine);
    if (!m) return undefined;
    const afterLine = rest.slice(lineEnd.index + lineEnd[0].length);
    const headersEnd = /\r?\n\r?\n/.exec(afterLine);
    const headerText = headersEnd ? afterLine.slice(0, headersEnd.index) : afterLine;
    let partBody = headersEnd ? afterLine.slice(headersEnd.index + headersEnd[0].length) : "";
    partBody = partBody.replace(/\r?\n$/, "");
    parts.push({
      mime,
      method: m[1].toUpperCase(),
      url: m[2],
      headerLines: headerText ? headerText.split(/\r?\n/) : [],
      body: partBody,
    });
  }
  return { outer, inner, parts };
}

export function partHeader(part: BatchPart, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const line of part.headerLines) {
    const colon = line.indexOf(":");
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === lower) return line.slice(colon + 1).trim();
  }
  return undefined;
}

export function buildBatchRequest(outer: string, inner: string, parts: BatchPart[]): string {
  let out = `--${outer}\r\nContent-Type: multipart/mixed; boundary=${inner}\r\n\r\n`;
  for (const p of parts) {
    out += `--${inner}\r\n${p.mime}\r\n\r\n${p.method} ${p.url} HTTP/1.1\r\n`;
    out += p.headerLines.map((l) => `${l}\r\n`).join("");
    out += `\r\n${p.body}\r\n`;
  }
  return `${out}--${inner}--\r\n--${outer}--\r\n`;
}

export function parseBatchResponse(body: string): ResponsePart[] | undefined {
  const inner = /boundary=(changesetresponse_[^;\s]+)/i.exec(body)?.[1];
  if (!inner) return undefined;
  const out: ResponsePart[] = [];
  for (const chunk of body.split(`--${inner}`).slice(1)) {
    if (chunk.startsWith("--")) break;
    const m = /HTTP\/1\.1 (\d{3})[^\r\n]*\r?\n([\s\S]*?)\r?\n\r?\n([\s\S]*)$/.exec(chunk);
    if (!m) return undefined;
    const headers: Record<string, string> = {};
    for (const line of m[2].split(/\r?\n/)) {
      const colon = line.indexOf(":");
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    out.push({ status: Number(m[1]), headers, body: m[3].replace(/\r?\n$/, "") });
  }
  return out;
}

/** A 202 whose changeset holds `parts` (each an inner HTTP response: status line, headers, body). */
export function batchReply(rid: string, parts: string[]): Reply {
  const outer = `batchresponse_${randomUUID()}`;
  const inner = `changesetresponse_${randomUUID()}`;
  let body = `--${outer}\r\nContent-Type: multipart/mixed; boundary=${inner}\r\n\r\n`;
  for (const p of parts) {
    body += `--${inner}\nContent-Type: application/http\nContent-Transfer-Encoding: binary\n\n${p}`;
  }
  body += `--${inner}--\n--${outer}--\r\n`;
  return {
    status: 202,
    headers: {
      "x-ms-request-id": rid,
      Date: new Date().toUTCString(),
      "Content-Type": `multipart/mixed; boundary=${outer}`,
    },
    body,
  };
}

/** The one part of a failed changeset: its message starts `index:` (0-based) and ends with the RequestID. */
export function failurePart(index: number, status: number, code: string, text: string, rid: string): string {
  const value = `${index}:${text}\n\nRequestID:${rid}\n`;
  const json = JSON.stringify({ "odata.error": { code, message: { lang: "en-us", value } } });
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\nContent-Type: application/json;odata=fullmetadata\r\n\r\n${json}\r\n`;
}
