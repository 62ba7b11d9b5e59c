// An HTTP/1.1 answer's head read for h1.ts: its status, and how its body is framed and whether the
// connection may carry another request after it (RFC 9112 §6.3, §9.3). Pure: the connection applies it.

/** How an answer's body ends. */
export const enum Framing {
  Length,
  Chunked,
  UntilClose,
}

export interface Head {
  status: number;
  /** The header lines as sent (`name: value`, CRLF between), for the handler. */
  lines: string;
  framing: Framing;
  /** Body bytes to read when framed by length (0: no body). */
  length: number;
  keepAlive: boolean;
  /** The server's `Keep-Alive: timeout` hint less a second, ms: idle longer, the connection is replaced. */
  idleHintMs?: number;
}

/**
 * Each header line of `lines` (`name: value`, CRLF between) as its lower-case name and trimmed value, in
 * order: what transport.ts reads into an object when asked (readHead, on every answer, looks only at the
 * lines that may frame it).
 */
export function eachHeader(lines: string, visit: (name: string, value: string) => void): void {
  if (!lines) return;
  for (const line of lines.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) visit(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
}

export function failure(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

export interface RequestOptions {
  path: string;
  method: string;
  /** Lower-case token names; values of tab, visible ASCII and Latin-1 (anything else is refused). */
  headers: Record<string, string>;
  body?: Buffer;
}

/** What may go on the wire as it is (undici's checks): a path of visible Latin-1, token header names, and
 * values of tab, visible ASCII and Latin-1 (the head is written as Latin-1: anything else would change). */
const BAD_PATH = /[^\u0021-\u00ff]/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[^\t\u0020-\u007e\u0080-\u00ff]/;

/**
 * A request's head to `host`, up to its last header line (the body's length and the blank line are the
 * sender's), or the error (ERR_INVALID_ARG_VALUE) why it cannot be sent as it is.
 */
export function requestHead(opts: RequestOptions, host: string): string | Error {
  if (BAD_PATH.test(opts.path))
    return failure(`invalid request path: ${JSON.stringify(opts.path)}`, "ERR_INVALID_ARG_VALUE");
  let head = `${opts.method} ${opts.path} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (const name in opts.headers) {
    const value = opts.headers[name];
    if (!TOKEN.test(name) || BAD_VALUE.test(value))
      return failure(`invalid header ${JSON.stringify(name)} or its value`, "ERR_INVALID_ARG_VALUE");
    head += `${name}: ${value}\r\n`;
  }
  return head;
}

/**
 * Read `head` (the status line and header lines, without the blank line) of the answer to a `method`
 * request; undefined for an interim (1xx) answer, which the real one follows. Malformed or unsupported
 * framing throws PARSE_ERROR (retried as a connection's failure).
 */
export function readHead(head: string, method: string): Head | undefined {
  const eol = head.indexOf("\r\n");
  const statusLine = eol < 0 ? head : head.slice(0, eol);
  const m = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(statusLine);
  if (!m) throw failure(`malformed status line: ${statusLine.slice(0, 60)}`, "PARSE_ERROR");
  const status = Number(m[2]);
  if (status < 200) return undefined;
  const lines = eol < 0 ? "" : head.slice(eol + 2);
  let connection = "";
  let te: string | undefined;
  let length: string | undefined;
  let keepAliveHint = "";
  // One pass over the lines for the four headers that frame the answer. Every answer is read so (one per
  // entity with one entity per partition): a line is only cut out and lower-cased when its name starts
  // as one of the four does (c, k or t), which a service's dozen header lines mostly do not (measured: 6 µs
  // an answer of Table Storage's head when every line was split, trimmed and lower-cased).
  for (let pos = eol < 0 ? head.length : eol + 2; pos < head.length;) {
    let end = head.indexOf("\r\n", pos);
    if (end < 0) end = head.length;
    const first = head.charCodeAt(pos) | 0x20;
    if (first === 0x63 || first === 0x6b || first === 0x74) {
      const colon = head.indexOf(":", pos);
      if (colon > pos && colon < end) {
        const name = head.slice(pos, colon).trim().toLowerCase();
        const value = head.slice(colon + 1, end).trim();
        if (name === "connection") connection += `${value.toLowerCase()},`;
        else if (name === "keep-alive") keepAliveHint += `${value},`;
        else if (name === "transfer-encoding") te = te ? `${te},${value}` : value;
        else if (name === "content-length") {
          if (length !== undefined && length !== value)
            throw failure("conflicting content-length", "PARSE_ERROR");
          length = value;
        }
      }
    }
    pos = end + 2;
  }
  let keepAlive = m[1] === "1" ? !connection.includes("close") : connection.includes("keep-alive");
  const hint = keepAliveHint ? /timeout=(\d+)/i.exec(keepAliveHint) : null;
  const idleHintMs = hint ? Math.max(0, Number(hint[1]) * 1000 - 1000) : undefined;
  // Both framings sent: read by chunks, but the connection is not trusted after (RFC 9112 §6.3).
  if (te !== undefined && length !== undefined) keepAlive = false;
  // One object literal, not a spread of a shared part: V8's object spread cost 3.5 µs an answer here.
  let framing = Framing.UntilClose;
  let bodyLength = 0;
  if (method === "HEAD" || status === 204 || status === 304) {
    // No body, whatever the headers say.
    framing = Framing.Length;
  } else if (te !== undefined) {
    if (!/(^|,)\s*chunked\s*$/i.test(te)) throw failure(`unsupported transfer-encoding ${te}`, "PARSE_ERROR");
    framing = Framing.Chunked;
  } else if (length !== undefined) {
    if (!/^\d+$/.test(length)) throw failure(`malformed content-length ${length}`, "PARSE_ERROR");
    framing = Framing.Length;
    bodyLength = Number(length);
  } else keepAlive = false; // read until the server closes
  return { status, lines, keepAlive, idleHintMs, framing, length: bodyLength };
}
