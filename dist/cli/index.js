#!/usr/bin/env node
import { createRequire as __WEBPACK_EXTERNAL_createRequire } from "module";
/******/ var __webpack_modules__ = ({

/***/ 2613:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("assert");

/***/ }),

/***/ 181:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("buffer");

/***/ }),

/***/ 5317:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("child_process");

/***/ }),

/***/ 6982:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("crypto");

/***/ }),

/***/ 4434:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("events");

/***/ }),

/***/ 9896:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("fs");

/***/ }),

/***/ 8611:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("http");

/***/ }),

/***/ 5692:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("https");

/***/ }),

/***/ 9278:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("net");

/***/ }),

/***/ 4573:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:buffer");

/***/ }),

/***/ 1421:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:child_process");

/***/ }),

/***/ 7598:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:crypto");

/***/ }),

/***/ 3024:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:fs");

/***/ }),

/***/ 1455:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:fs/promises");

/***/ }),

/***/ 7067:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:http");

/***/ }),

/***/ 4708:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:https");

/***/ }),

/***/ 8161:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:os");

/***/ }),

/***/ 6760:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:path");

/***/ }),

/***/ 1708:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:process");

/***/ }),

/***/ 7075:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:stream");

/***/ }),

/***/ 3136:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:url");

/***/ }),

/***/ 7975:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:util");

/***/ }),

/***/ 8522:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:zlib");

/***/ }),

/***/ 857:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("os");

/***/ }),

/***/ 6928:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("path");

/***/ }),

/***/ 2203:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("stream");

/***/ }),

/***/ 4756:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("tls");

/***/ }),

/***/ 2018:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("tty");

/***/ }),

/***/ 7016:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("url");

/***/ }),

/***/ 9023:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("util");

/***/ })

/******/ });
/************************************************************************/
/******/ // The module cache
/******/ var __webpack_module_cache__ = {};
/******/ 
/******/ // The require function
/******/ function __nccwpck_require__(moduleId) {
/******/ 	// Check if module is in cache
/******/ 	var cachedModule = __webpack_module_cache__[moduleId];
/******/ 	if (cachedModule !== undefined) {
/******/ 		return cachedModule.exports;
/******/ 	}
/******/ 	// Create a new module (and put it into the cache)
/******/ 	var module = __webpack_module_cache__[moduleId] = {
/******/ 		// no module.id needed
/******/ 		// no module.loaded needed
/******/ 		exports: {}
/******/ 	};
/******/ 
/******/ 	// Execute the module function
/******/ 	var threw = true;
/******/ 	try {
/******/ 		__webpack_modules__[moduleId].call(module.exports, module, module.exports, __nccwpck_require__);
/******/ 		threw = false;
/******/ 	} finally {
/******/ 		if(threw) delete __webpack_module_cache__[moduleId];
/******/ 	}
/******/ 
/******/ 	// Return the exports of the module
/******/ 	return module.exports;
/******/ }
/******/ 
/******/ // expose the modules object (__webpack_modules__)
/******/ __nccwpck_require__.m = __webpack_modules__;
/******/ 
/************************************************************************/
/******/ /* webpack/runtime/asset-relocator-loader */
/******/ if (typeof __nccwpck_require__ !== 'undefined') __nccwpck_require__.ab = decodeURIComponent(new URL('.', import.meta.url).pathname).slice(import.meta.url.match(/^file:\/\/\/\w:/) ? 1 : 0, -1) + "/";
/******/ 
/******/ /* webpack/runtime/define property getters */
/******/ (() => {
/******/ 	// define getter functions for harmony exports
/******/ 	__nccwpck_require__.d = (exports, definition) => {
/******/ 		for(var key in definition) {
/******/ 			if(__nccwpck_require__.o(definition, key) && !__nccwpck_require__.o(exports, key)) {
/******/ 				Object.defineProperty(exports, key, { enumerable: true, get: definition[key] });
/******/ 			}
/******/ 		}
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/ensure chunk */
/******/ (() => {
/******/ 	__nccwpck_require__.f = {};
/******/ 	// This file contains only the entry chunk.
/******/ 	// The chunk loading function for additional chunks
/******/ 	__nccwpck_require__.e = (chunkId) => {
/******/ 		return Promise.all(Object.keys(__nccwpck_require__.f).reduce((promises, key) => {
/******/ 			__nccwpck_require__.f[key](chunkId, promises);
/******/ 			return promises;
/******/ 		}, []));
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/get javascript chunk filename */
/******/ (() => {
/******/ 	// This function allow to reference async chunks
/******/ 	__nccwpck_require__.u = (chunkId) => {
/******/ 		// return url for filenames based on template
/******/ 		return "" + chunkId + ".index.js";
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/hasOwnProperty shorthand */
/******/ (() => {
/******/ 	__nccwpck_require__.o = (obj, prop) => (Object.prototype.hasOwnProperty.call(obj, prop))
/******/ })();
/******/ 
/******/ /* webpack/runtime/make namespace object */
/******/ (() => {
/******/ 	// define __esModule on exports
/******/ 	__nccwpck_require__.r = (exports) => {
/******/ 		if(typeof Symbol !== 'undefined' && Symbol.toStringTag) {
/******/ 			Object.defineProperty(exports, Symbol.toStringTag, { value: 'Module' });
/******/ 		}
/******/ 		Object.defineProperty(exports, '__esModule', { value: true });
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/import chunk loading */
/******/ (() => {
/******/ 	// no baseURI
/******/ 	
/******/ 	// object to store loaded and loading chunks
/******/ 	// undefined = chunk not loaded, null = chunk preloaded/prefetched
/******/ 	// [resolve, Promise] = chunk loading, 0 = chunk loaded
/******/ 	var installedChunks = {
/******/ 		792: 0
/******/ 	};
/******/ 	
/******/ 	var installChunk = (data) => {
/******/ 		var {ids, modules, runtime} = data;
/******/ 		// add "modules" to the modules object,
/******/ 		// then flag all "ids" as loaded and fire callback
/******/ 		var moduleId, chunkId, i = 0;
/******/ 		for(moduleId in modules) {
/******/ 			if(__nccwpck_require__.o(modules, moduleId)) {
/******/ 				__nccwpck_require__.m[moduleId] = modules[moduleId];
/******/ 			}
/******/ 		}
/******/ 		if(runtime) runtime(__nccwpck_require__);
/******/ 		for(;i < ids.length; i++) {
/******/ 			chunkId = ids[i];
/******/ 			if(__nccwpck_require__.o(installedChunks, chunkId) && installedChunks[chunkId]) {
/******/ 				installedChunks[chunkId][0]();
/******/ 			}
/******/ 			installedChunks[ids[i]] = 0;
/******/ 		}
/******/ 	
/******/ 	}
/******/ 	
/******/ 	__nccwpck_require__.f.j = (chunkId, promises) => {
/******/ 			// import() chunk loading for javascript
/******/ 			var installedChunkData = __nccwpck_require__.o(installedChunks, chunkId) ? installedChunks[chunkId] : undefined;
/******/ 			if(installedChunkData !== 0) { // 0 means "already installed".
/******/ 	
/******/ 				// a Promise means "currently loading".
/******/ 				if(installedChunkData) {
/******/ 					promises.push(installedChunkData[1]);
/******/ 				} else {
/******/ 					if(true) { // all chunks have JS
/******/ 						// setup Promise in chunk cache
/******/ 						var promise = import("./" + __nccwpck_require__.u(chunkId)).then(installChunk, (e) => {
/******/ 							if(installedChunks[chunkId] !== 0) installedChunks[chunkId] = undefined;
/******/ 							throw e;
/******/ 						});
/******/ 						var promise = Promise.race([promise, new Promise((resolve) => (installedChunkData = installedChunks[chunkId] = [resolve]))])
/******/ 						promises.push(installedChunkData[1] = promise);
/******/ 					}
/******/ 				}
/******/ 			}
/******/ 	};
/******/ 	
/******/ 	// no prefetching
/******/ 	
/******/ 	// no preloaded
/******/ 	
/******/ 	// no external install chunk
/******/ 	
/******/ 	// no on chunks loaded
/******/ })();
/******/ 
/************************************************************************/
var __webpack_exports__ = {};

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __nccwpck_require__(7598);
;// CONCATENATED MODULE: ./src/engine/wire/auth.ts
// Signing our requests without the SDK's per-request pipeline: Shared Key Lite, a SAS appended to the
// URL, or an Entra ID bearer token (from @azure/identity, cached until shortly before it expires).
//
// The SDK's pipeline cost ~100 µs of CPU per request (tracing span, header normalisation, a policy
// chain of promises); a table with one entity per partition is one request per entity, so that was
// most of a copy's CPU. Signing itself is one HMAC.

/** The `x-ms-date` value, computed once per second rather than once per request. */
let dateSecond = 0;
let dateText = "";
function httpDate() {
    const now = Date.now();
    const second = Math.floor(now / 1000);
    if (second !== dateSecond) {
        dateSecond = second;
        dateText = new Date(second * 1000).toUTCString();
    }
    return dateText;
}
/** The path part of a request path, without its query (Shared Key Lite signs the path and `comp` only). */
function pathOnly(path) {
    const q = path.indexOf("?");
    if (q < 0)
        return { path };
    const comp = new URLSearchParams(path.slice(q + 1)).get("comp") ?? undefined;
    return { path: path.slice(0, q), comp };
}
/**
 * Shared Key Lite for the Table service (what @azure/data-tables signs with): HMAC-SHA256 over the date
 * and `/<account><path>[?comp=…]`.
 */
class SharedKeySigner {
    account;
    /** HMAC's inner and outer blocks: the key (hashed when longer than a block) XOR 0x36 / 0x5c. */
    inner = Buffer.alloc(HMAC_BLOCK);
    /** The outer block followed by room for the inner digest, reused by every signature. */
    outer = Buffer.alloc(HMAC_BLOCK + 32);
    constructor(account, accountKey) {
        this.account = account;
        let key = Buffer.from(accountKey, "base64");
        if (key.length > HMAC_BLOCK)
            key = (0,external_node_crypto_.hash)("sha256", key, "buffer");
        for (let i = 0; i < HMAC_BLOCK; i++) {
            const k = i < key.length ? key[i] : 0;
            this.inner[i] = k ^ 0x36;
            this.outer[i] = k ^ 0x5c;
        }
    }
    sign(path, headers) {
        const date = httpDate();
        const p = pathOnly(path);
        const resource = `/${this.account}${p.path}${p.comp ? `?comp=${p.comp}` : ""}`;
        headers["x-ms-date"] = date;
        headers.authorization = `SharedKeyLite ${this.account}:${this.hmac(`${date}\n${resource}`)}`;
        return path;
    }
    /**
     * HMAC-SHA256 (RFC 2104) in two one-shot hashes: the same bytes as createHmac, without an Hmac object
     * per request (a native object with a finalizer, which kept the garbage collector busy at one request
     * per entity).
     */
    hmac(message) {
        const length = Buffer.byteLength(message, "utf8");
        const data = Buffer.allocUnsafe(HMAC_BLOCK + length);
        this.inner.copy(data, 0);
        data.write(message, HMAC_BLOCK, length, "utf8");
        (0,external_node_crypto_.hash)("sha256", data, "buffer").copy(this.outer, HMAC_BLOCK);
        return (0,external_node_crypto_.hash)("sha256", this.outer, "base64");
    }
}
const HMAC_BLOCK = 64;
/** A shared access signature: its parameters appended to every request's query. */
class SasSigner {
    query;
    constructor(sas) {
        this.query = sas.replace(/^\?/, "");
    }
    sign(path, headers) {
        headers["x-ms-date"] = httpDate();
        if (!this.query)
            return path;
        return `${path}${path.includes("?") ? "&" : "?"}${this.query}`;
    }
}
/** Refresh a token this long before it expires, so no request goes out with one about to lapse. */
const REFRESH_BEFORE_MS = 2 * 60_000;
/** An Entra ID bearer token for the service's scope, fetched once and shared until near its expiry. */
class BearerSigner {
    credential;
    scope;
    token;
    pending;
    constructor(credential, scope) {
        this.credential = credential;
        this.scope = scope;
    }
    sign(path, headers, https) {
        if (!https) {
            // As the SDK does: a token must never travel in the clear.
            throw new Error("Bearer token authentication is not permitted for non-TLS protected (non-https) URLs.");
        }
        headers["x-ms-date"] = httpDate();
        const t = this.token;
        if (t && t.expiresOnTimestamp - Date.now() > REFRESH_BEFORE_MS) {
            headers.authorization = `Bearer ${t.token}`;
            return path;
        }
        return this.fetch().then((token) => {
            headers.authorization = `Bearer ${token.token}`;
            return path;
        });
    }
    refresh() {
        this.token = undefined;
    }
    fetch() {
        this.pending ??= this.credential
            .getToken(this.scope)
            .then((token) => {
            if (!token)
                throw Object.assign(new Error("no token was returned"), { name: "AuthenticationError" });
            this.token = token;
            return token;
        })
            .finally(() => (this.pending = undefined));
        return this.pending;
    }
}

;// CONCATENATED MODULE: ./src/engine/wire/service-kind.ts
/** Cosmos DB for Table lives on `*.table.cosmos.azure.com` (and sovereign-cloud equivalents). */
function isCosmosUrl(url) {
    const host = new URL(url).hostname.toLowerCase();
    return /\.table\.cosmos\./.test(host) || host.includes("cosmosdb") || host.endsWith(".documents.azure.com");
}
function resolveKind(url, setting) {
    if (setting === "cosmos" || setting === "table")
        return setting;
    return isCosmosUrl(url) ? "cosmos" : "table";
}
/** The Entra ID scope of each service: the one place that chooses it. */
function tokenScope(kind) {
    return kind === "cosmos" ? "https://cosmos.azure.com/.default" : "https://storage.azure.com/.default";
}

;// CONCATENATED MODULE: ./src/engine/wire/redact.ts
// Keeping secrets out of every message: connection strings, account keys and SAS signatures.
/** Secret fragments of a connection string: the whole string, its AccountKey, its SAS and the SAS `sig`. */
function secretsOf(connectionString) {
    if (!connectionString)
        return [];
    const out = [connectionString];
    for (const part of connectionString.split(";")) {
        const eq = part.indexOf("=");
        if (eq < 0)
            continue;
        const key = part.slice(0, eq).trim().toLowerCase();
        const value = part.slice(eq + 1).trim();
        if (!value)
            continue;
        if (key === "accountkey" || key === "sharedaccesssignature")
            out.push(value);
        if (key === "sharedaccesssignature")
            out.push(...sigsOf(value));
    }
    return out;
}
function sigsOf(sas) {
    const sig = /(?:^|[?&])sig=([^&;]+)/.exec(sas)?.[1];
    if (!sig)
        return [];
    let decoded = sig;
    try {
        decoded = decodeURIComponent(sig);
    }
    catch {
        /* keep the raw form */
    }
    return [...new Set([sig, decoded, encodeURIComponent(decoded)])];
}
/** Replace every secret (longest first) and any `sig=` query value with `***`. */
function redact(text, secrets) {
    let out = text;
    for (const s of [...secrets].filter((x) => x && x.length >= 4).sort((a, b) => b.length - a.length)) {
        out = out.split(s).join("***");
    }
    return out.replace(/([?&;]sig=)[^&\s'"]+/gi, "$1***").replace(/(AccountKey=)[^;\s'"]+/gi, "$1***");
}

;// CONCATENATED MODULE: external "node:net"
const external_node_net_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:net");
;// CONCATENATED MODULE: external "node:tls"
const external_node_tls_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:tls");
;// CONCATENATED MODULE: ./src/engine/wire/dial.ts
// Opening a socket to a table service for h1.ts: TLS for the services (straight, or inside a proxy's
// tunnel), plain TCP only for a local emulator.


/**
 * Whether `host` (a URL's hostname, brackets allowed) is this machine: a 127/8 or ::1 address, `localhost` or
 * a name under it. Plain http is allowed only there (connection.ts), and no proxy is used for it (proxy.ts).
 * A name that merely starts with 127 is no address.
 */
function isLoopback(host) {
    const h = host.replace(/^\[|\]$/g, "").toLowerCase();
    if ((0,external_node_net_namespaceObject.isIP)(h))
        return h === "::1" || ((0,external_node_net_namespaceObject.isIP)(h) === 4 && h.startsWith("127."));
    return h === "localhost" || h.endsWith(".localhost");
}
/** Where `url` is served: its host (no brackets), port and whether it speaks TLS. */
function endpointOf(url) {
    const https = url.protocol === "https:";
    return { host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port) || (https ? 443 : 80), https };
}
/**
 * A socket to `host:port`: TLS resuming the service's last session (a thousand connections over a far link
 * would each pay a full handshake otherwise), over `tunnel` when given; plain TCP when not `https`.
 */
function dial(target, sessions, ca, tunnel) {
    const { host, port } = target;
    if (!target.https)
        return tunnel ?? (0,external_node_net_namespaceObject.connect)({ host, port });
    const tls = (0,external_node_tls_namespaceObject.connect)({
        ...(tunnel ? { socket: tunnel } : { host, port }),
        servername: (0,external_node_net_namespaceObject.isIP)(host) ? undefined : host,
        session: sessions.session,
        ALPNProtocols: ["http/1.1"],
        ...(ca ? { ca } : {}),
    });
    tls.on("session", (session) => (sessions.session = session));
    return tls;
}

;// CONCATENATED MODULE: ./src/engine/wire/h1-head.ts
// An HTTP/1.1 answer's head read for h1.ts: its status, and how its body is framed and whether the
// connection may carry another request after it (RFC 9112 §6.3, §9.3). Pure: the connection applies it.
/** How an answer's body ends. */
var Framing;
(function (Framing) {
    Framing[Framing["Length"] = 0] = "Length";
    Framing[Framing["Chunked"] = 1] = "Chunked";
    Framing[Framing["UntilClose"] = 2] = "UntilClose";
})(Framing || (Framing = {}));
/**
 * Each header line of `lines` (`name: value`, CRLF between) as its lower-case name and trimmed value, in
 * order: what transport.ts reads into an object when asked (readHead, on every answer, looks only at the
 * lines that may frame it).
 */
function eachHeader(lines, visit) {
    if (!lines)
        return;
    for (const line of lines.split("\r\n")) {
        const colon = line.indexOf(":");
        if (colon > 0)
            visit(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
}
function failure(message, code) {
    return Object.assign(new Error(message), { code });
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
function requestHead(opts, host) {
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
function readHead(head, method) {
    const eol = head.indexOf("\r\n");
    const statusLine = eol < 0 ? head : head.slice(0, eol);
    const m = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(statusLine);
    if (!m)
        throw failure(`malformed status line: ${statusLine.slice(0, 60)}`, "PARSE_ERROR");
    const status = Number(m[2]);
    if (status < 200)
        return undefined;
    const lines = eol < 0 ? "" : head.slice(eol + 2);
    let connection = "";
    let te;
    let length;
    let keepAliveHint = "";
    // One pass over the lines for the four headers that frame the answer. Every answer is read so (one per
    // entity with one entity per partition): a line is only cut out and lower-cased when its name starts
    // as one of the four does (c, k or t), which a service's dozen header lines mostly do not (measured: 6 µs
    // an answer of Table Storage's head when every line was split, trimmed and lower-cased).
    for (let pos = eol < 0 ? head.length : eol + 2; pos < head.length;) {
        let end = head.indexOf("\r\n", pos);
        if (end < 0)
            end = head.length;
        const first = head.charCodeAt(pos) | 0x20;
        if (first === 0x63 || first === 0x6b || first === 0x74) {
            const colon = head.indexOf(":", pos);
            if (colon > pos && colon < end) {
                const name = head.slice(pos, colon).trim().toLowerCase();
                const value = head.slice(colon + 1, end).trim();
                if (name === "connection")
                    connection += `${value.toLowerCase()},`;
                else if (name === "keep-alive")
                    keepAliveHint += `${value},`;
                else if (name === "transfer-encoding")
                    te = te ? `${te},${value}` : value;
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
    if (te !== undefined && length !== undefined)
        keepAlive = false;
    // One object literal, not a spread of a shared part: V8's object spread cost 3.5 µs an answer here.
    let framing = Framing.UntilClose;
    let bodyLength = 0;
    if (method === "HEAD" || status === 204 || status === 304) {
        // No body, whatever the headers say.
        framing = Framing.Length;
    }
    else if (te !== undefined) {
        if (!/(^|,)\s*chunked\s*$/i.test(te))
            throw failure(`unsupported transfer-encoding ${te}`, "PARSE_ERROR");
        framing = Framing.Chunked;
    }
    else if (length !== undefined) {
        if (!/^\d+$/.test(length))
            throw failure(`malformed content-length ${length}`, "PARSE_ERROR");
        framing = Framing.Length;
        bodyLength = Number(length);
    }
    else
        keepAlive = false; // read until the server closes
    return { status, lines, keepAlive, idleHintMs, framing, length: bodyLength };
}

;// CONCATENATED MODULE: ./src/engine/wire/proxy.ts
// Requests through an HTTP proxy: a self-hosted runner inside a company network often reaches the internet
// only through one (HTTPS_PROXY, read by the doors). Table services are HTTPS, so a request goes through a
// tunnel: CONNECT host:443 to the proxy, then TLS to the service inside it, end to end (the proxy sees
// neither keys nor data). One tunnel per connection, kept alive like any other.
//
// Which hosts bypass the proxy follows @actions/http-client (what the runner's own tools do): NO_PROXY
// entries are host names (matching the host and its subdomains), `.domain` or `*.domain` suffixes, IP
// addresses, each optionally with `:port`, or `*` for every host; loopback never goes through a proxy.



const CRLF2 = Buffer.from("\r\n\r\n");
/** An IPv4 address as a number (undefined for anything else). */
function ipv4(host) {
    if ((0,external_node_net_namespaceObject.isIP)(host) !== 4)
        return undefined;
    return host.split(".").reduce((n, part) => n * 256 + Number(part), 0);
}
/** Whether `host` is in `entry`, an IPv4 CIDR block (`10.0.0.0/8`). */
function inBlock(host, entry) {
    const m = /^([\d.]+)\/(\d{1,2})$/.exec(entry);
    const address = ipv4(host);
    const base = m ? ipv4(m[1]) : undefined;
    if (address === undefined || base === undefined || !m || Number(m[2]) > 32)
        return false;
    const size = 2 ** (32 - Number(m[2]));
    return Math.floor(address / size) === Math.floor(base / size);
}
/** The proxy for requests to `target`, or undefined: none is set, or `target` bypasses it. */
function proxyFor(target, setting) {
    if (!setting)
        return undefined;
    const host = target.hostname
        .replace(/^\[|\]$/g, "")
        .replace(/\.$/, "")
        .toLowerCase();
    if (isLoopback(host))
        return undefined;
    const port = target.port || (target.protocol === "https:" ? "443" : "80");
    for (const raw of setting.noProxy) {
        let entry = raw.trim().toLowerCase();
        if (!entry)
            continue;
        if (entry === "*")
            return undefined;
        // `host:port` (an IPv6 address has colons of its own and no port here unless in brackets).
        const withPort = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(entry);
        if (withPort) {
            if (withPort[2] !== port)
                continue;
            entry = withPort[1];
        }
        entry = entry
            .replace(/^\[|\]$/g, "")
            .replace(/^\*\./, ".")
            .replace(/\.$/, "");
        if (host === entry || inBlock(host, entry))
            return undefined;
        // An address matches only itself (or its block): `2.3` is no suffix of `10.1.2.3`.
        if ((0,external_node_net_namespaceObject.isIP)(host))
            continue;
        if (host.endsWith(entry.startsWith(".") ? entry : `.${entry}`))
            return undefined;
        if (entry.startsWith(".") && host === entry.slice(1))
            return undefined;
    }
    return new URL(setting.url);
}
/** A URL's user name or password as written by the user: percent-decoded where that is valid. */
function decoded(part) {
    try {
        return decodeURIComponent(part);
    }
    catch {
        return part;
    }
}
/** `host:port` as a CONNECT request names it (an IPv6 address in brackets). */
function authority(host, port) {
    return (0,external_node_net_namespaceObject.isIP)(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
/**
 * Open a tunnel through `proxy` to `host:port`. `done` gets the socket to the proxy, through which the
 * caller then speaks to the target (TLS over it), or the error: refusals a retry cannot change (407, 403…)
 * have the code EPROXYREFUSED; a proxy that could not reach the target (5xx) or cut the answer, EPROXY
 * (retried like any connection error). The returned socket is destroyed to give up early.
 */
function openTunnel(proxy, host, port, options, done) {
    const named = `the proxy ${proxy.host}`;
    const target = authority(host, port);
    // Policy proxies may insist on a User-Agent.
    let head = `CONNECT ${target} HTTP/1.1\r\nhost: ${target}\r\nuser-agent: azure-table-sync\r\n`;
    if (proxy.username || proxy.password) {
        const user = `${decoded(proxy.username)}:${decoded(proxy.password)}`;
        head += `proxy-authorization: Basic ${Buffer.from(user, "utf8").toString("base64")}\r\n`;
    }
    // TLS to an https:// proxy as to a service (no session kept: one handshake per tunnel is the proxy's cost).
    const socket = dial(endpointOf(proxy), {}, options.ca);
    socket.write(`${head}\r\n`, "latin1");
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (err) => {
        if (settled)
            return;
        settled = true;
        socket.removeListener("data", onData);
        socket.removeListener("error", onError);
        socket.removeListener("close", onClose);
        if (err) {
            socket.destroy();
            done(err);
        }
        else
            done(undefined, socket);
    };
    const onError = (err) => {
        // An https:// URL for a plain proxy (a common slip): TLS fails at once, and no retry will change that.
        if (proxy.protocol === "https:" && /^(EPROTO|ERR_SSL_)/.test(err.code ?? ""))
            return finish(failure(`${named} did not answer TLS (${err.code}); if it is a plain HTTP proxy, write its URL with http://`, "EPROXYREFUSED"));
        finish(failure(`${named}: ${err.message}`, err.code ?? "ECONNRESET"));
    };
    const onClose = () => finish(failure(`${named} closed the connection before the tunnel opened`, "EPROXY"));
    const onData = (chunk) => {
        received = received.length ? Buffer.concat([received, chunk]) : chunk;
        let end = received.indexOf(CRLF2);
        let statusLine = "";
        let m = null;
        // Interim answers (1xx) are skipped: the real one follows.
        for (; end >= 0; end = received.indexOf(CRLF2)) {
            statusLine = received.toString("latin1", 0, received.indexOf("\r\n"));
            m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine);
            if (!m || Number(m[1]) >= 200)
                break;
            received = received.subarray(end + 4);
        }
        if (end < 0) {
            if (received.length > 16 * 1024)
                finish(failure(`${named} sent no valid answer to CONNECT`, "EPROXY"));
            return;
        }
        if (!m)
            return finish(failure(`${named} sent no valid answer to CONNECT`, "EPROXY"));
        const status = Number(m[1]);
        const answer = `${status}${m[2] ? ` ${m[2].trim()}` : ""}`;
        if (status >= 200 && status < 300) {
            // Bytes after the answer are the target's (none are expected before our TLS hello).
            const rest = received.subarray(end + 4);
            finish(undefined);
            if (rest.length)
                socket.unshift(rest);
            return;
        }
        const scheme = /\r\nproxy-authenticate:[ \t]*([!-~]+)/i.exec(received.toString("latin1", 0, end))?.[1];
        if (status === 407 && scheme && scheme.toLowerCase() !== "basic")
            return finish(failure(`${named} asks for ${scheme} authentication (${answer}), which is not supported: only Basic, with the user name and password in the proxy URL; ask its administrators for a Basic account, or to let the table endpoints through`, "EPROXYREFUSED"));
        if (status === 407)
            return finish(failure(proxy.username
                ? `${named} rejected the user name and password in the proxy URL (${answer}); check them (characters such as @ : / must be percent-encoded)`
                : `${named} asks for a user name and password (${answer}); put them in the proxy URL, e.g. http://user:password@${proxy.host}`, "EPROXYREFUSED"));
        if (status >= 500)
            return finish(failure(`${named} could not open a tunnel to ${target} (${answer})`, "EPROXY"));
        finish(failure(`${named} refused a tunnel to ${target} (${answer}); ask its administrators to allow HTTPS to ${host}, or list the host in NO_PROXY if it is reachable directly`, "EPROXYREFUSED"));
    };
    socket.on("data", onData);
    socket.on("error", onError);
    socket.on("close", onClose);
    return socket;
}

;// CONCATENATED MODULE: ./src/engine/wire/connection.ts





class ConnectionError extends Error {
}
const DEV_ACCOUNT = "devstoreaccount1";
// Azurite's published development key: not a secret.
const DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
/** Parse `Key=Value;…` (keys case-insensitive, values may contain `=`). */
/** `who` starts the sentence: "Input 'source-connection-string'" or "The source connection string". */
function parseConnectionString(cs, who = "The connection string") {
    const fields = new Map();
    for (const part of cs.split(";")) {
        const trimmed = part.trim();
        if (!trimmed)
            continue;
        const eq = trimmed.indexOf("=");
        if (eq <= 0)
            throw new ConnectionError(`${who} has a part without "=" (expected Key=Value pairs separated by ';').`);
        fields.set(trimmed.slice(0, eq).trim().toLowerCase(), trimmed.slice(eq + 1).trim());
    }
    if ((fields.get("usedevelopmentstorage") ?? "").toLowerCase() === "true") {
        const proxy = fields.get("developmentstorageproxyuri");
        const base = proxy ? proxy.replace(/\/+$/, "") : "http://127.0.0.1";
        return { url: `${base}:10002/${DEV_ACCOUNT}`, accountName: DEV_ACCOUNT, accountKey: DEV_KEY };
    }
    const accountName = fields.get("accountname");
    const accountKey = fields.get("accountkey");
    const sas = fields.get("sharedaccesssignature");
    let url = fields.get("tableendpoint");
    if (!url) {
        if (!accountName) {
            throw new ConnectionError(`${who} has neither TableEndpoint nor AccountName; copy the whole connection string from the portal.`);
        }
        const protocol = fields.get("defaultendpointsprotocol") ?? "https";
        const suffix = fields.get("endpointsuffix") ?? "core.windows.net";
        url = `${protocol}://${accountName}.table.${suffix}`;
    }
    url = normalizeEndpoint(url, who);
    if (!accountKey && !sas) {
        throw new ConnectionError(`${who} has neither AccountKey nor SharedAccessSignature; copy the whole connection string from the portal (Access keys or Shared access signature).`);
    }
    if (accountKey && !/^[A-Za-z0-9+/]+={0,2}$/.test(accountKey)) {
        throw new ConnectionError(`${who} has an AccountKey that is not base64 (cut short, or with extra characters); copy the key again from the portal.`);
    }
    const host = new URL(url).hostname;
    if (url.startsWith("http:") && !isLoopback(host)) {
        throw new ConnectionError(`${who} points at http://${host}; use https:// (plain http is allowed only for a local emulator).`);
    }
    const name = accountName ?? accountNameFromUrl(url);
    if (accountKey && !name)
        throw new ConnectionError(`${who} has an AccountKey but no AccountName.`);
    return { url, accountName: name ?? "", accountKey, sas };
}
/** Strip a trailing slash and the default port so URLs we build are canonical. */
function normalizeEndpoint(url, who = "The endpoint") {
    let parsed;
    try {
        parsed = new URL(url);
    }
    catch {
        throw new ConnectionError(`${who} has a TableEndpoint that is not a URL; use e.g. https://account.table.core.windows.net.`);
    }
    if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
        throw new ConnectionError(`${who} has a TableEndpoint that does not start with https://.`);
    }
    const path = parsed.pathname.replace(/\/+$/, "");
    return `${parsed.protocol}//${parsed.host}${path}`;
}
function accountNameFromUrl(url) {
    const u = new URL(url);
    const path = u.pathname.split("/").filter(Boolean);
    if (/^(\d+\.){3}\d+$/.test(u.hostname) || u.hostname === "localhost")
        return path[0];
    return u.hostname.split(".")[0];
}
function createServiceClient(side, label) {
    if (side.connectionString) {
        const parts = parseConnectionString(side.connectionString, `The ${label} connection string`);
        const signer = parts.accountKey
            ? new SharedKeySigner(parts.accountName, parts.accountKey)
            : new SasSigner(parts.sas ?? "");
        return {
            url: parts.url,
            accountName: parts.accountName,
            kind: resolveKind(parts.url, side.kind),
            signer,
            secrets: secretsOf(side.connectionString),
            label,
            proxy: proxyFor(new URL(parts.url), side.proxy),
        };
    }
    const target = side.credential ? signInTarget(side) : undefined;
    if (target && side.credential) {
        return {
            url: target.url,
            accountName: accountNameFromUrl(target.url) ?? "",
            kind: target.kind,
            signer: new BearerSigner(side.credential, target.scope),
            secrets: [],
            label,
            proxy: proxyFor(new URL(target.url), side.proxy),
        };
    }
    throw new ConnectionError(`No ${label} connection: give a ${label} connection string, or a ${label} endpoint with an Entra ID credential.`);
}
/**
 * The sign-in target of a side that uses an endpoint (undefined for a connection string, which signs its own
 * requests). The connection and the CLI's sign-in check both ask here, so the scope is chosen in one place.
 */
function signInTarget(side) {
    if (side.connectionString || !side.endpoint)
        return undefined;
    const url = normalizeEndpoint(side.endpoint);
    const kind = resolveKind(url, side.kind);
    return { url, kind, scope: tokenScope(kind) };
}

;// CONCATENATED MODULE: ./src/config/inputs.ts
// The inputs as both doors receive them (strings named like the action's inputs), the values they may take,
// and the error that names a bad one. Parsing them is parse.ts's job; one SyncConfig is schema.ts's.
const MODES = ["full-sync", "backfill", "verify", "switch", "preflight", "status"];
const WRITE_MODES = ["replace", "merge", "insert"];
const KINDS = ["auto", "cosmos", "table"];
const STATE_STORES = ["cache", "variable", "file"];
const CONFLICT_POLICIES = ["skip", "source-wins"];
class ConfigError extends Error {
}
/** Azure table names: 3–63 letters and digits, starting with a letter; `tables` is reserved. */
const TABLE_NAME = /^[A-Za-z][A-Za-z0-9]{2,62}$/;
/** Property names follow C# identifier rules (letters, digits, underscore; not starting with a digit). */
const PROPERTY_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,254}$/;
/** Most shards a table is split into. */
const MAX_SHARDS = 64;

;// CONCATENATED MODULE: ./node_modules/zod/v4/core/util.js

// functions
function assertEqual(val) {
    return val;
}
function assertNotEqual(val) {
    return val;
}
function toZod() {
    return (schema) => schema;
}
function assertIs(_arg) { }
function assertNever(_x) {
    throw new Error("Unexpected value in exhaustive check");
}
function assert(_) { }
function getEnumValues(entries) {
    const numericValues = Object.values(entries).filter((v) => typeof v === "number");
    const values = Object.entries(entries)
        .filter(([k, _]) => numericValues.indexOf(+k) === -1)
        .map(([_, v]) => v);
    return values;
}
function joinValues(array, separator = "|") {
    return array.map((val) => stringifyPrimitive(val)).join(separator);
}
function jsonStringifyReplacer(_, value) {
    if (typeof value === "bigint")
        return value.toString();
    return value;
}
// the accessor lives on a shared prototype: an own accessor makes every box a dictionary-mode object (~360 B and a slow load per read against ~100 B and an inlined getter here)
class Cached {
    constructor(getter) {
        this._getter = getter;
        this._value = undefined;
    }
    get value() {
        const getter = this._getter;
        if (getter !== undefined) {
            this._value = getter();
            this._getter = undefined;
        }
        return this._value;
    }
}
function cached(getter) {
    return new Cached(getter);
}
function nullish(input) {
    return input === null || input === undefined;
}
function cleanRegex(source) {
    const start = source.startsWith("^") ? 1 : 0;
    const end = source.endsWith("$") ? source.length - 1 : source.length;
    return source.slice(start, end);
}
function floatSafeRemainder(val, step) {
    const ratio = val / step;
    const roundedRatio = Math.round(ratio);
    // `val` and `step` each round to a double before the division rounds again, so a true decimal multiple's quotient can sit up to 1.5 of these scaled epsilons from the integer. A 1x tolerance therefore rejected 2.03 as a multiple of 0.07; 4x covers the worst case with margin.
    const tolerance = 4 * Number.EPSILON * Math.max(Math.abs(ratio), 1);
    if (Math.abs(ratio - roundedRatio) < tolerance)
        return 0;
    return ratio - roundedRatio;
}
const EVALUATING = /* @__PURE__*/ (/* unused pure expression or super */ null && (Symbol("evaluating")));
function defineLazy(object, key, getter) {
    let value = undefined;
    Object.defineProperty(object, key, {
        get() {
            if (value === EVALUATING) {
                // Circular reference detected, return undefined to break the cycle
                return undefined;
            }
            if (value === undefined) {
                value = EVALUATING;
                value = getter();
            }
            return value;
        },
        set(v) {
            Object.defineProperty(object, key, {
                value: v,
                // configurable: true,
            });
            // object[key] = v;
        },
        configurable: true,
    });
}
function objectClone(obj) {
    return Object.create(Object.getPrototypeOf(obj), Object.getOwnPropertyDescriptors(obj));
}
function util_assignProp(target, prop, value) {
    Object.defineProperty(target, prop, {
        value,
        writable: true,
        enumerable: true,
        configurable: true,
    });
}
/**
 * Whichever object a def's `shape` currently answers from: the one the caller passed until the first read, the frozen copy after it.
 *
 * Its keys and descriptors read without invoking anything, which is what lets a discriminated union check its discriminator, and the cycle walk read a shape, without resolving a getter that references the schema being constructed. A def that answers `shape` from an accessor of its own has none.
 */
function rawShape(def) {
    const desc = Object.getOwnPropertyDescriptor(def, "shape");
    return desc?.get ? desc.get.raw : desc?.value;
}
// where a builder reads its source's keys and descriptors, resolving only a shape a def answers for itself. A shape resolves by object spread, so only its enumerable keys are ever part of it.
function sourceShape(schema) {
    return rawShape(schema._zod.def) ?? schema._zod.def.shape;
}
// a key whose value is not settled yet, self-caching so every read after the first gets the same one
function deferProp(target, key, getter) {
    Object.defineProperty(target, key, {
        get() {
            const value = getter();
            util_assignProp(this, key, value);
            return value;
        },
        enumerable: true,
        configurable: true,
    });
}
// Writes a settled key. A plain assignment is much cheaper than `defineProperty` and produces the same descriptor, but it runs whatever setter already answers to the key — an accessor this shape deferred, or an inherited one, which `__proto__` has on every object and prototype pollution can add for any name.
function putProp(target, key, value) {
    if (key in target)
        util_assignProp(target, key, value);
    else
        target[key] = value;
}
/**
 * Copies `keys` of `source`'s shape onto `target`, each value passed through `wrap`.
 *
 * A key the source has resolved is copied through now, so the derived shape states it outright and nothing has to resolve it to learn what it holds. A key the source still defers stays deferred, and reads back through the source's own `shape`, so it resolves once and both shapes get that one schema.
 */
function mirrorShape(target, source, keys, wrap) {
    const raw = sourceShape(source);
    for (const key of keys) {
        const desc = Object.getOwnPropertyDescriptor(raw, key);
        if (!desc.enumerable)
            continue;
        if (desc.get) {
            deferProp(target, key, () => {
                const value = source._zod.def.shape[key];
                return wrap ? wrap(value, key) : value;
            });
        }
        else
            putProp(target, key, wrap ? wrap(desc.value, key) : desc.value);
    }
}
// same, for a plain shape a caller passed rather than a schema's
function mirrorProps(target, source) {
    for (const key of Reflect.ownKeys(source)) {
        const desc = Object.getOwnPropertyDescriptor(source, key);
        if (!desc.enumerable)
            continue;
        if (desc.get)
            deferProp(target, key, () => source[key]);
        else
            putProp(target, key, desc.value);
    }
}
function mergeDefs(...defs) {
    const mergedDescriptors = {};
    for (const def of defs) {
        const descriptors = Object.getOwnPropertyDescriptors(def);
        Object.assign(mergedDescriptors, descriptors);
    }
    return Object.defineProperties({}, mergedDescriptors);
}
function cloneDef(schema) {
    return mergeDefs(schema._zod.def);
}
function getElementAtPath(obj, path) {
    if (!path)
        return obj;
    return path.reduce((acc, key) => acc?.[key], obj);
}
function promiseAllObject(promisesObj) {
    const keys = Object.keys(promisesObj);
    const promises = keys.map((key) => promisesObj[key]);
    return Promise.all(promises).then((results) => {
        const resolvedObj = {};
        for (let i = 0; i < keys.length; i++) {
            resolvedObj[keys[i]] = results[i];
        }
        return resolvedObj;
    });
}
function randomString(length = 10) {
    const chars = "abcdefghijklmnopqrstuvwxyz";
    let str = "";
    for (let i = 0; i < length; i++) {
        str += chars[Math.floor(Math.random() * chars.length)];
    }
    return str;
}
function esc(str) {
    return JSON.stringify(str);
}
function slugify(input) {
    return input
        .toLowerCase()
        .trim()
        .replace(/[^\w\s-]/g, "")
        .replace(/[\s_-]+/g, "-")
        .replace(/^-+|-+$/g, "");
}
const captureStackTrace = ("captureStackTrace" in Error ? Error.captureStackTrace : (..._args) => { });
function util_isObject(data) {
    return typeof data === "object" && data !== null && !Array.isArray(data);
}
const util_allowsEval = /* @__PURE__*/ cached(() => {
    // Skip the probe under `jitless`: strict CSPs report the caught `new Function` as a `securitypolicyviolation` even though the throw is swallowed.
    if (globalConfig.jitless) {
        return false;
    }
    // @ts-ignore
    if (typeof navigator !== "undefined" && navigator?.userAgent?.includes("Cloudflare")) {
        return false;
    }
    try {
        const F = Function;
        new F("");
        return true;
    }
    catch (_) {
        return false;
    }
});
function isPlainObject(o) {
    if (util_isObject(o) === false)
        return false;
    // modified constructor
    const ctor = o.constructor;
    if (ctor === undefined)
        return true;
    if (typeof ctor !== "function")
        return true;
    // modified prototype
    const prot = ctor.prototype;
    if (util_isObject(prot) === false)
        return false;
    // ctor doesn't have static `isPrototypeOf`
    if (Object.prototype.hasOwnProperty.call(prot, "isPrototypeOf") === false) {
        return false;
    }
    return true;
}
function shallowClone(o) {
    if (isPlainObject(o))
        return { ...o };
    if (Array.isArray(o))
        return [...o];
    if (o instanceof Map)
        return new Map(o);
    if (o instanceof Set)
        return new Set(o);
    return o;
}
function numKeys(data) {
    let keyCount = 0;
    for (const key in data) {
        if (Object.prototype.hasOwnProperty.call(data, key)) {
            keyCount++;
        }
    }
    return keyCount;
}
const getParsedType = (data) => {
    const t = typeof data;
    switch (t) {
        case "undefined":
            return "undefined";
        case "string":
            return "string";
        case "number":
            return Number.isNaN(data) ? "nan" : "number";
        case "boolean":
            return "boolean";
        case "function":
            return "function";
        case "bigint":
            return "bigint";
        case "symbol":
            return "symbol";
        case "object":
            if (Array.isArray(data)) {
                return "array";
            }
            if (data === null) {
                return "null";
            }
            if (data.then && typeof data.then === "function" && data.catch && typeof data.catch === "function") {
                return "promise";
            }
            if (typeof Map !== "undefined" && data instanceof Map) {
                return "map";
            }
            if (typeof Set !== "undefined" && data instanceof Set) {
                return "set";
            }
            if (typeof Date !== "undefined" && data instanceof Date) {
                return "date";
            }
            // @ts-ignore
            if (typeof File !== "undefined" && data instanceof File) {
                return "file";
            }
            return "object";
        default:
            throw new Error(`Unknown data type: ${t}`);
    }
};
const propertyKeyTypes = /* @__PURE__*/ new Set(["string", "number", "symbol"]);
const primitiveTypes = /* @__PURE__*/ new Set([
    "string",
    "number",
    "bigint",
    "boolean",
    "symbol",
    "undefined",
]);
function escapeRegex(str) {
    return str.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
// zod-specific utils
function clone(inst, def, params) {
    const cl = new inst._zod.constr(def ?? inst._zod.def);
    if (!def || params?.parent)
        cl._zod.parent = inst;
    return cl;
}
function normalizeParams(_params) {
    const params = _params;
    if (!params)
        return {};
    if (typeof params === "string")
        return { error: () => params };
    if (params?.message !== undefined) {
        if (params?.error !== undefined)
            throw new Error("Cannot specify both `message` and `error` params");
        params.error = params.message;
    }
    delete params.message;
    if (typeof params.error === "string")
        return { ...params, error: () => params.error };
    return params;
}
function createTransparentProxy(getter) {
    let target;
    return new Proxy({}, {
        get(_, prop, receiver) {
            target ?? (target = getter());
            return Reflect.get(target, prop, receiver);
        },
        set(_, prop, value, receiver) {
            target ?? (target = getter());
            return Reflect.set(target, prop, value, receiver);
        },
        has(_, prop) {
            target ?? (target = getter());
            return Reflect.has(target, prop);
        },
        deleteProperty(_, prop) {
            target ?? (target = getter());
            return Reflect.deleteProperty(target, prop);
        },
        ownKeys(_) {
            target ?? (target = getter());
            return Reflect.ownKeys(target);
        },
        getOwnPropertyDescriptor(_, prop) {
            target ?? (target = getter());
            return Reflect.getOwnPropertyDescriptor(target, prop);
        },
        defineProperty(_, prop, descriptor) {
            target ?? (target = getter());
            return Reflect.defineProperty(target, prop, descriptor);
        },
    });
}
function stringifyPrimitive(value) {
    if (typeof value === "bigint")
        return value.toString() + "n";
    if (typeof value === "string")
        return `"${value}"`;
    return `${value}`;
}
function optionalKeys(shape) {
    return Object.keys(shape).filter((k) => {
        return shape[k]._zod.optin !== undefined && shape[k]._zod.optout === "optional";
    });
}
// Wrapped in a `@__PURE__` IIFE: esbuild never tree-shakes a top-level initializer that contains a member access on `Number`, so the bare object literal survived into every bundle.
const NUMBER_FORMAT_RANGES = /*@__PURE__*/ (() => ({
    safeint: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
    int32: [-2147483648, 2147483647],
    uint32: [0, 4294967295],
    float32: [-3.4028234663852886e38, 3.4028234663852886e38],
    float64: [-Number.MAX_VALUE, Number.MAX_VALUE],
}))();
const BIGINT_FORMAT_RANGES = {
    int64: [/* @__PURE__*/ BigInt("-9223372036854775808"), /* @__PURE__*/ BigInt("9223372036854775807")],
    uint64: [/* @__PURE__*/ BigInt(0), /* @__PURE__*/ BigInt("18446744073709551615")],
};
function pick(schema, mask) {
    const currDef = schema._zod.def;
    const checks = currDef.checks;
    const hasChecks = checks && checks.length > 0;
    if (hasChecks) {
        throw new Error(".pick() cannot be used on object schemas containing refinements");
    }
    const newShape = {};
    mirrorShape(newShape, schema, maskedKeys(schema, mask));
    return clone(schema, mergeDefs(currDef, { shape: newShape, checks: [] }));
}
// the mask keys that select something, checked against the source's shape without resolving it
function maskedKeys(schema, mask) {
    const raw = sourceShape(schema);
    const keys = [];
    // `for...in` skips symbols, so a symbol in the mask would select nothing
    for (const key of Reflect.ownKeys(mask)) {
        if (!Object.getOwnPropertyDescriptor(raw, key)?.enumerable) {
            throw new Error(`Unrecognized key: "${String(key)}"`);
        }
        if (mask[key])
            keys.push(key);
    }
    return keys;
}
function omit(schema, mask) {
    const currDef = schema._zod.def;
    const checks = currDef.checks;
    const hasChecks = checks && checks.length > 0;
    if (hasChecks) {
        throw new Error(".omit() cannot be used on object schemas containing refinements");
    }
    const omitted = new Set(maskedKeys(schema, mask));
    const newShape = {};
    mirrorShape(newShape, schema, Reflect.ownKeys(sourceShape(schema)).filter((key) => !omitted.has(key)));
    return clone(schema, mergeDefs(currDef, { shape: newShape, checks: [] }));
}
function extend(schema, shape) {
    if (!isPlainObject(shape)) {
        throw new Error("Invalid input to extend: expected a plain object");
    }
    const checks = schema._zod.def.checks;
    const hasChecks = checks && checks.length > 0;
    if (hasChecks) {
        // Only throw if new shape overlaps with existing shape. Use getOwnPropertyDescriptor to check key existence without accessing values
        const existingShape = sourceShape(schema);
        for (const key of Reflect.ownKeys(shape)) {
            if (Object.getOwnPropertyDescriptor(existingShape, key) !== undefined) {
                throw new Error("Cannot overwrite keys on object schemas containing refinements. Use `.safeExtend()` instead.");
            }
        }
    }
    return clone(schema, mergeDefs(schema._zod.def, { shape: extended(schema, shape) }));
}
// the source's keys, then the caller's overlaid on top
function extended(schema, shape) {
    const newShape = {};
    mirrorShape(newShape, schema, Reflect.ownKeys(sourceShape(schema)));
    mirrorProps(newShape, shape);
    return newShape;
}
function safeExtend(schema, shape) {
    if (!isPlainObject(shape)) {
        throw new Error("Invalid input to safeExtend: expected a plain object");
    }
    return clone(schema, mergeDefs(schema._zod.def, { shape: extended(schema, shape) }));
}
function merge(a, b) {
    if (!b?._zod?.def) {
        throw new Error("Invalid input to merge: expected an object schema. To merge a plain shape, use `.extend()`.");
    }
    if (a._zod.def.checks?.length) {
        throw new Error(".merge() cannot be used on object schemas containing refinements. Use .safeExtend() instead.");
    }
    const newShape = {};
    mirrorShape(newShape, a, Reflect.ownKeys(sourceShape(a)));
    mirrorShape(newShape, b, Reflect.ownKeys(sourceShape(b)));
    const def = mergeDefs(a._zod.def, {
        shape: newShape,
        get catchall() {
            return b._zod.def.catchall;
        },
        checks: b._zod.def.checks ?? [],
    });
    return clone(a, def);
}
function partial(Class, schema, mask, name = "partial") {
    const currDef = schema._zod.def;
    const checks = currDef.checks;
    const hasChecks = checks && checks.length > 0;
    if (hasChecks) {
        throw new Error(`.${name}() cannot be used on object schemas containing refinements`);
    }
    const selected = mask ? new Set(maskedKeys(schema, mask)) : undefined;
    const newShape = {};
    mirrorShape(newShape, schema, Reflect.ownKeys(sourceShape(schema)), Class &&
        ((value, key) => (selected && !selected.has(key) ? value : new Class({ type: "optional", innerType: value }))));
    return clone(schema, mergeDefs(schema._zod.def, { shape: newShape, checks: [] }));
}
function required(Class, schema, mask) {
    const selected = mask ? new Set(maskedKeys(schema, mask)) : undefined;
    const newShape = {};
    mirrorShape(newShape, schema, Reflect.ownKeys(sourceShape(schema)), (value, key) => 
    // overwrite with non-optional
    selected && !selected.has(key) ? value : new Class({ type: "nonoptional", innerType: value }));
    return clone(schema, mergeDefs(schema._zod.def, { shape: newShape }));
}
// invalid_type | too_big | too_small | invalid_format | not_multiple_of | unrecognized_keys | invalid_union | invalid_key | invalid_element | invalid_value | custom
function aborted(x, startIndex = 0) {
    if (x.aborted === true)
        return true;
    for (let i = startIndex; i < x.issues.length; i++) {
        if (x.issues[i]?.continue !== true) {
            return true;
        }
    }
    return false;
}
// Checks for explicit abort (continue === false), as opposed to implicit abort (continue === undefined). Used to respect `abort: true` in .refine() even for checks that have a `when` function.
function explicitlyAborted(x, startIndex = 0) {
    if (x.aborted === true)
        return true;
    for (let i = startIndex; i < x.issues.length; i++) {
        if (x.issues[i]?.continue === false) {
            return true;
        }
    }
    return false;
}
function prefixIssues(path, issues) {
    return issues.map((iss) => {
        var _a;
        (_a = iss).path ?? (_a.path = []);
        iss.path.unshift(path);
        return iss;
    });
}
function unwrapMessage(message) {
    return typeof message === "string" ? message : message?.message;
}
/* A check holds no link back to the schema it is attached to — the same check instance is shared by every clone of that schema — so the owner is stamped onto the issues a check just raised, at the only point where both are in scope. Runs on the failure path only; `start` is the issue count from before the check ran. */
/** The leading size checks of `defChecks` that set an upper bound, each paired with it. */
function sizeCaps(defChecks) {
    const caps = [];
    for (const ch of defChecks ?? []) {
        const d = ch._zod.def;
        // a later check may rewrite the value
        if (!/_(length|size)$|_equals$/.test(d.check))
            break;
        const max = d.maximum ?? d.length ?? d.size;
        if (max >= 0)
            caps.push([max, ch]);
    }
    return caps;
}
function attachSchema(issues, start, inst) {
    var _a;
    for (let i = start; i < issues.length; i++) {
        (_a = issues[i]).schema ?? (_a.schema = inst);
    }
}
function finalizeIssue(iss, ctx, config) {
    var _a;
    // A schema that raised an issue itself owns it outright, and outranks any stamp an enclosing check left in `attachSchema`. String formats and z.custom() are schema and check at once, so when they act as a check they defer to that stamp instead.
    const traits = iss.inst?._zod?.traits;
    if (traits?.has("$ZodType")) {
        if (traits.has("$ZodCheck"))
            (_a = iss).schema ?? (_a.schema = iss.inst);
        else
            iss.schema = iss.inst;
    }
    // Decreasing specificity, first map to return a message wins. `inst` is whatever raised the issue, so a check's own map outranks the owning schema's.
    const schemaError = iss.schema !== iss.inst ? iss.schema?._zod.def?.error : undefined;
    const message = iss.message
        ? iss.message
        : (unwrapMessage(iss.inst?._zod.def?.error?.(iss)) ??
            unwrapMessage(schemaError?.(iss)) ??
            unwrapMessage(ctx?.error?.(iss)) ??
            unwrapMessage(config.customError?.(iss)) ??
            unwrapMessage(config.localeError?.(iss)) ??
            "Invalid input");
    // an explicit own-key copy beats object rest with excluded keys, which v8 routes through a generic runtime call; Object.keys rather than for-in so an issue pushed with a prototype does not leak inherited keys, and an own __proto__ key is dropped rather than assigned through the setter
    const full = {};
    for (const k of Object.keys(iss)) {
        if (k === "inst" || k === "schema" || k === "continue" || k === "input" || k === "__proto__")
            continue;
        full[k] = iss[k];
    }
    full.path ?? (full.path = []);
    full.message = message;
    if (ctx?.reportInput) {
        full.input = iss.input;
    }
    return full;
}
function getSizableOrigin(input) {
    if (input instanceof Set)
        return "set";
    if (input instanceof Map)
        return "map";
    // @ts-ignore
    if (input instanceof File)
        return "file";
    return "unknown";
}
const highSurrogate = /[\uD800-\uDBFF]/;
// Code points in `str`: a surrogate pair counts once, a lone surrogate as itself. Hand-rolled because the string iterator allocates and runs ~250x slower on this path; the regex probe exits ~50x quicker for a string with no astral characters.
function codePointLength(str) {
    const units = str.length;
    if (!highSurrogate.test(str))
        return units;
    let count = units;
    for (let i = 0; i < units - 1; i++) {
        if ((str.charCodeAt(i) & 0xfc00) === 0xd800 && (str.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
            count--;
            i++;
        }
    }
    return count;
}
function getLengthableOrigin(input) {
    if (Array.isArray(input))
        return "array";
    if (typeof input === "string")
        return "string";
    return "unknown";
}
function parsedType(data) {
    const t = typeof data;
    switch (t) {
        case "number": {
            return Number.isNaN(data) ? "nan" : "number";
        }
        case "object": {
            if (data === null) {
                return "null";
            }
            if (Array.isArray(data)) {
                return "array";
            }
            const obj = data;
            if (obj && Object.getPrototypeOf(obj) !== Object.prototype && "constructor" in obj && obj.constructor) {
                return obj.constructor.name;
            }
        }
    }
    return t;
}
function util_issue(...args) {
    const [iss, input, inst] = args;
    if (typeof iss === "string") {
        return {
            message: iss,
            code: "custom",
            input,
            inst,
        };
    }
    return { ...iss };
}
function cleanEnum(obj) {
    return Object.entries(obj)
        .filter(([k, _]) => {
        // return true if NaN, meaning it's not a number, thus a string key
        return Number.isNaN(Number.parseInt(k, 10));
    })
        .map((el) => el[1]);
}
// Codec utility functions
function base64ToUint8Array(base64) {
    const binaryString = atob(base64);
    const bytes = new Uint8Array(binaryString.length);
    for (let i = 0; i < binaryString.length; i++) {
        bytes[i] = binaryString.charCodeAt(i);
    }
    return bytes;
}
function uint8ArrayToBase64(bytes) {
    let binaryString = "";
    for (let i = 0; i < bytes.length; i++) {
        binaryString += String.fromCharCode(bytes[i]);
    }
    return btoa(binaryString);
}
function base64urlToUint8Array(base64url) {
    const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    const padding = "=".repeat((4 - (base64.length % 4)) % 4);
    return base64ToUint8Array(base64 + padding);
}
function uint8ArrayToBase64url(bytes) {
    return uint8ArrayToBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=/g, "");
}
function hexToUint8Array(hex) {
    const cleanHex = hex.replace(/^0x/, "");
    if (cleanHex.length % 2 !== 0) {
        throw new Error("Invalid hex string length");
    }
    const bytes = new Uint8Array(cleanHex.length / 2);
    for (let i = 0; i < cleanHex.length; i += 2) {
        bytes[i / 2] = Number.parseInt(cleanHex.slice(i, i + 2), 16);
    }
    return bytes;
}
function uint8ArrayToHex(bytes) {
    return Array.from(bytes)
        .map((b) => b.toString(16).padStart(2, "0"))
        .join("");
}
// instanceof
class Class {
    constructor(..._args) { }
}
//////////    PROTOTYPE INSTALLERS     //////////
//
// Members live on the prototype and materialize per instance on first read, which keeps own-property count under the step where V8 stops using inline slots. Changing anything here means re-measuring runtime, memory and bundle size together — see "The three axes" in AGENTS.md.
/**
 * Installs a trait's members on its prototype. Each value builds that member for the instance on first read; the built value shadows the accessor as an own property, so a detached `const { parse } = schema` keeps working.
 *
 * Call this from a `proto` initializer, which runs once per prototype — never per instance.
 */
function members(proto, table) {
    for (const key in table) {
        const desc = Object.getOwnPropertyDescriptor(table, key);
        // a getter installs as written, so it stays live: `description` reads through to the registry on every access. not enumerable: an object literal's is, and a prototype member never was
        if (desc.get)
            Object.defineProperty(proto, key, { ...desc, enumerable: false });
        // a method materializes bound on first read, which is what keeps a detached member working: `const opt = schema.optional; opt()`
        else
            defineBound(proto, key, desc.value);
    }
}
/** Shadows a prototype member with an own value, so a getter that builds from the instance runs once. */
function own(inst, key, value, enumerable = true) {
    Object.defineProperty(inst, key, { configurable: true, writable: true, enumerable, value });
    return value;
}
/** Like {@link own}, for a member that was never an own data property and has to stay out of `Object.keys`. */
function hide(inst, key, value) {
    return own(inst, key, value, false);
}
/** Adds members a table derives from the instance: each builds on first read and shadows as own data, and assignment shadows the same way, as when these were own properties. */
function derived(computes, table) {
    for (const key in computes) {
        const compute = computes[key];
        // an object literal's accessor is configurable and enumerable, and `members` copies the descriptor as written
        Object.defineProperty(table, key, {
            configurable: true,
            enumerable: true,
            get() {
                return own(this, key, compute(this));
            },
            set(value) {
                own(this, key, value);
            },
        });
    }
    return table;
}
function defineBound(proto, key, fn) {
    Object.defineProperty(proto, key, {
        configurable: true,
        get() {
            // vitest's spyOn calls a prototype getter bare to find the function it wraps, so a nullish receiver answers the raw method
            return this == null ? fn : own(this, key, fn.bind(this));
        },
        set(value) {
            own(this, key, value);
        },
    });
}
/** Returns the prototype to install on, or `undefined` if this group is already installed on it. */
function claim(inst, sentinel) {
    const proto = Object.getPrototypeOf(inst);
    // Runs on every construction, so `in` rather than the costlier `hasOwnProperty.call`. Sentinels are keys the group itself defines.
    return sentinel in proto ? undefined : proto;
}
// The internals whose init chain is installing. A second call for the same one is a derived constructor overriding its base, so it must not construct another schema in between or the override is dropped.
let installing;
// Set while a getter is running, so a value that resolved through a recursion break is not memoized. One shared descriptor shadows the key for the duration, which costs no per-key allocation.
let broke = false;
const breaker = {
    configurable: true,
    get() {
        broke = true;
        return undefined;
    },
};
/**
 * Installs a lazily-derived internal on the `_zod` prototype of `inst`'s
 * constructor, computed from the internals object itself and cached there on
 * first read. One accessor per constructor rather than one per instance.
 */
function defineLazyInternal(inst, key, compute) {
    const proto = Object.getPrototypeOf(inst._zod);
    if (key in proto && installing !== inst._zod) {
        // A repeat construction: everything is installed already. Cleared here so the reference is not held past the first construction of every type.
        installing = undefined;
        return;
    }
    installing = inst._zod;
    Object.defineProperty(proto, key, {
        configurable: true,
        get() {
            // Shadowed before computing so a re-entrant read from a recursive schema resolves to undefined instead of running the getter again.
            Object.defineProperty(this, key, breaker);
            const outer = broke;
            broke = false;
            try {
                const value = compute(this);
                // A result that resolved through a recursion break is recomputed once the graph is complete; everything else memoizes, undefined included.
                if (broke)
                    delete this[key];
                else
                    Object.defineProperty(this, key, { configurable: true, writable: true, value });
                broke = broke || outer;
                return value;
            }
            catch (err) {
                // A compute that threw memoizes nothing, so a later read runs it again and fails the same way. The shadow goes with it, since leaving it installed would answer undefined for every later read.
                delete this[key];
                broke = broke || outer;
                throw err;
            }
        },
        set(value) {
            Object.defineProperty(this, key, { configurable: true, writable: true, value });
        },
    });
}
/**
 * Installs `key` on `inst`'s prototype, computed by `make` on first read and cached there as an own
 * data property. One accessor per constructor rather than one per instance, because an own accessor
 * puts every instance after the first into v8 dictionary mode. The key doubles as the sentinel.
 */
function installLazyProp(inst, key, make, enumerable) {
    const proto = claim(inst, key);
    if (!proto)
        return;
    Object.defineProperty(proto, key, {
        configurable: true,
        get() {
            // Shadowed before computing, so a re-entrant read from a self-referential shape resolves to undefined instead of running the getter again. A data property rather than an accessor: an own accessor is the dictionary-mode transition this exists to avoid.
            const desc = { configurable: true, writable: true, enumerable, value: undefined };
            Object.defineProperty(this, key, desc);
            // a compute that throws leaves the shadow behind, so later reads answer undefined instead of re-throwing; `defineLazy` did the same, and `defineLazyInternal`'s delete-on-catch would cost bytes in every bundle for a case only a throwing user getter reaches
            desc.value = make(this);
            Object.defineProperty(this, key, desc);
            return desc.value;
        },
        set(value) {
            Object.defineProperty(this, key, { configurable: true, writable: true, enumerable, value });
        },
    });
}
/** Marks the thunk `_catch` synthesises for a constant catch value. `Function.length` cannot tell that thunk from a user callback — rest and defaulted parameters both report arity 0 — and a user callback reads `ctx.error`, whose issues only finalize correctly against the caller's per-parse error map. Provenance can say what arity cannot. A plain string key rather than `Symbol.for`, whose call at module scope no bundler can prove pure — the same shape that anchored `urlCanParse` into every build. */
const CONSTANT_CATCH = "~constantCatch";
/** Wraps a constant catch value in a thunk tagged with {@link CONSTANT_CATCH}. */
function constantCatch(value) {
    const fn = () => value;
    fn[CONSTANT_CATCH] = true;
    return fn;
}

;// CONCATENATED MODULE: ./node_modules/zod/v4/core/core.js
var _a;

/** A special constant with type `never` */
const NEVER = /*@__PURE__*/ Object.freeze({
    status: "aborted",
});
/* Shared descriptor for installing `_zod`; defineProperty reads it
 * synchronously, so reusing one object avoids a per-instance allocation. */
const _zodDesc = { value: undefined, enumerable: false };
// null where suppressing the capture would be unrecoverable: `parse()` puts the frames back with `captureStackTrace`, so without it the throw would lose its stack. also latched to null once `stackTraceLimit` proves unassignable, which a realm can do at any point by hardening Error
let _E = "captureStackTrace" in Error ? Error : null;
// v8 captures a stack trace inside the Error constructor, which dominates a failed parse; costs only the frames, and parse() restores those. the constructor must RUN: Object.create is cheaper and passes instanceof, but Error.isError and util.types.isNativeError check an internal slot
function newError(Definition) {
    const E = _E;
    if (E) {
        const saved = E.stackTraceLimit;
        if (typeof saved === "number") {
            try {
                E.stackTraceLimit = 0;
            }
            catch {
                _E = null;
                return new Definition();
            }
            try {
                return new Definition();
            }
            finally {
                E.stackTraceLimit = saved;
            }
        }
    }
    return new Definition();
}
function $constructor(name, initializer, 
/** This trait's members, installed once on every prototype that composes it. They cannot be declared in the initializer above: that runs per instance, and the prototype is shared. */
proto, params) {
    // Prototype for this constructor's `_zod` internals. Lazily-derived fields (`values`, `pattern`, `optin`, …) install here once rather than as an accessor on every instance.
    const zodProto = {};
    // Assigning the fields in the constructor body is what gives instances in-object slots; building the object literally and reparenting it costs a second allocation and a generic property copy.
    function Internals(def) {
        this.def = def;
        this.constr = _;
        this.traits = new Set();
    }
    Internals.prototype = zodProto;
    const protoMembers = proto;
    // One trait's members land on every prototype whose chain composes it, so the answer is per prototype rather than per trait.
    const initialized = protoMembers && new WeakSet();
    function init(inst, def) {
        if (!inst._zod) {
            _zodDesc.value = new Internals(def);
            try {
                Object.defineProperty(inst, "_zod", _zodDesc);
            }
            finally {
                // Cleared even on throw, so the shared descriptor never leaks one instance's internals into the next.
                _zodDesc.value = undefined;
            }
        }
        else if (inst._zod.traits.has(name)) {
            return;
        }
        inst._zod.traits.add(name);
        initializer(inst, def);
        if (initialized) {
            // `super(def)` from a user subclass gives `this` a prototype the subclass owns, and installing there would overwrite whatever the subclass declared. `constr` built the instance, so its prototype is the one below the subclass's that should carry the members. A receiver whose chain never reaches that prototype installs on its own, which for a plain object handed straight to `init` means `Object.prototype` — unchanged from before.
            const own = Object.getPrototypeOf(inst);
            const ctorProto = inst._zod.constr.prototype;
            let up = own;
            while (up && up !== ctorProto)
                up = Object.getPrototypeOf(up);
            const target = up ?? own;
            if (!initialized.has(target)) {
                initialized.add(target);
                members(target, protoMembers);
            }
        }
        // support prototype modifications; for-in avoids the array allocation of Object.keys on the (usually empty) prototype
        const proto = _.prototype;
        for (const k in proto) {
            if (!Object.prototype.hasOwnProperty.call(proto, k))
                continue;
            if (!(k in inst)) {
                inst[k] = proto[k].bind(inst);
            }
        }
    }
    // doesn't work if Parent has a constructor with arguments
    const Parent = params?.Parent ?? Object;
    class Definition extends Parent {
    }
    Object.defineProperty(Definition, "name", { value: name });
    function _(def) {
        const inst = params?.Parent ? newError(Definition) : this;
        init(inst, def);
        const deferred = inst._zod.deferred;
        if (deferred) {
            for (const fn of deferred) {
                fn();
            }
            // Released: initializers run once, and the list would otherwise be retained for the schema's lifetime.
            inst._zod.deferred = undefined;
        }
        // Global post-processor hook. Internal: installed by `import "zod/compile"` to enable AOT compilation for every constructed schema. Runs last, once the instance is fully built, because it hands the instance to compile(). The post-processor is expected to be reentrancy-guarded by its own implementation.
        const pp = globalThis.__zod_globalConfig?.postProcessor;
        if (pp)
            pp(inst);
        return inst;
    }
    Object.defineProperty(_, "init", { value: init });
    Object.defineProperty(_, Symbol.hasInstance, {
        value: (inst) => {
            if (params?.Parent && inst instanceof params.Parent)
                return true;
            return inst?._zod?.traits?.has(name);
        },
    });
    Object.defineProperty(_, "name", { value: name });
    return _;
}
//////////////////////////////   UTILITIES   ///////////////////////////////////////
const $brand = /*@__PURE__*/ (/* unused pure expression or super */ null && (Symbol("zod_brand")));
class $ZodAsyncError extends Error {
    constructor() {
        super(`Encountered Promise during synchronous parse. Use .parseAsync() instead.`);
    }
}
class $ZodEncodeError extends Error {
    constructor(name) {
        super(`Encountered unidirectional transform during encode: ${name}`);
        this.name = "ZodEncodeError";
    }
}
(_a = globalThis).__zod_globalConfig ?? (_a.__zod_globalConfig = {});
const globalConfig = globalThis.__zod_globalConfig;
function config(newConfig) {
    if (newConfig)
        Object.assign(globalConfig, newConfig);
    return globalConfig;
}

;// CONCATENATED MODULE: ./node_modules/zod/v4/core/memoizer.js

class $ZodCyclicError extends Error {
    constructor() {
        super(`Cannot parse a reference cycle that closes through a transform`);
        this.name = "ZodCyclicError";
    }
}
/** Keyed off the context object every schema in one parse call already shares. */
const STATE = "~memo";
const NO_ISSUES = [];
// a value a cycle can close through
function isRef(value) {
    return value !== null && typeof value === "object";
}
// Receivers prefix paths in place, so the cache and every hand-out need their own copies.
function cloneIssues(issues) {
    return issues.map((iss) => (iss.path ? { ...iss, path: iss.path.slice() } : { ...iss }));
}
const recursive = /*@__PURE__*/ new WeakMap();
/** What the walk established, in order of certainty: ordered so the strongest answer among children wins. */
const NONE = 0;
const ASSUMED = 1;
const PROVEN = 2;
/** Whether this schema's subtree contains a cycle, so one parse can re-enter it. */
function isRecursive(inst, stack, resolve) {
    const cached = recursive.get(inst);
    if (cached !== undefined)
        return cached ? PROVEN : NONE;
    // Relative to the walk in progress, so not cached.
    if (stack.has(inst))
        return PROVEN;
    stack.add(inst);
    let result = NONE;
    const check = (child) => {
        if (result !== PROVEN && child?._zod) {
            const answer = isRecursive(child, stack, resolve);
            if (answer > result)
                result = answer;
        }
    };
    // `Reflect.ownKeys` rather than `Object.keys`, so a cycle through a declared symbol key is still seen
    const shape = (sh, spread) => {
        let answer = NONE;
        for (const key of Reflect.ownKeys(sh)) {
            const desc = Object.getOwnPropertyDescriptor(sh, key);
            // an object resolves its shape by spread, so a key it does not enumerate is never parsed; `z.properties` reads every own key and so keeps them all
            if (spread && !desc.enumerable)
                continue;
            // resolving runs user code, and a factory mints a fresh subtree per read, so an edge the walk can't follow counts as a cycle
            const child = desc.get ? ASSUMED : desc.value?._zod ? isRecursive(desc.value, stack, resolve) : NONE;
            if (child > answer)
                answer = child;
        }
        return answer;
    };
    const merge = (answer) => {
        if (answer > result)
            result = answer;
    };
    const def = inst._zod.def;
    const kind = def.type;
    switch (kind) {
        case "object": {
            const raw = rawShape(def);
            // a def with no raw shape answers `shape` from an accessor of its own, and running that can mint a whole fresh subtree
            merge(raw ? shape(raw, true) : ASSUMED);
            check(def.catchall);
            break;
        }
        case "array":
            check(def.element);
            break;
        case "tuple":
            for (const el of def.items)
                check(el);
            check(def.rest);
            break;
        case "record":
        case "map":
            check(def.keyType);
            check(def.valueType);
            break;
        case "set":
            check(def.valueType);
            break;
        case "union":
            for (const el of def.options)
                check(el);
            break;
        case "intersection":
            check(def.left);
            check(def.right);
            break;
        case "optional":
        case "nullable":
        case "default":
        case "prefault":
        case "catch":
        case "readonly":
        case "nonoptional":
        case "promise":
        case "success":
            check(def.innerType);
            break;
        case "pipe":
            check(def.in);
            check(def.out);
            break;
        case "function":
            check(def.input);
            check(def.output);
            break;
        // `$ZodLazy` caches its inner on the def, so a resolved edge is followed exactly
        case "lazy": {
            const inner = def._cachedInner ?? (resolve ? inst._zod.innerType : undefined);
            // walked with resolution off: one hop sees past the deferral, and a lazy that yields only another unresolved lazy is generative, so it stops there
            merge(inner ? isRecursive(inner, stack, false) : ASSUMED);
            break;
        }
        // a leaf by choice: `parts` are regex fragments, not data positions
        case "template_literal":
        // leaves
        case "string":
        case "number":
        case "int":
        case "boolean":
        case "bigint":
        case "symbol":
        case "undefined":
        case "null":
        case "void":
        case "never":
        case "any":
        case "unknown":
        case "date":
        case "nan":
        case "enum":
        case "literal":
        case "file":
        case "transform":
        case "custom":
            break;
        default: {
            // a new built-in kind becomes a compile error here
            kind;
            // a user-defined kind can still hold children, and only its author knows where, so fall back to scanning the def — skipping accessors, since reading one can run user code
            for (const key in def) {
                const desc = Object.getOwnPropertyDescriptor(def, key);
                if (!desc || desc.get)
                    continue;
                const value = desc.value;
                if (!value || typeof value !== "object")
                    continue;
                if (value._zod)
                    check(value);
                else if (Array.isArray(value))
                    for (const el of value)
                        check(el);
            }
        }
    }
    stack.delete(inst);
    return settle(inst, result);
}
/** An assumed answer must not outlive the resolution that settles it, so only a certain one is cached. */
function settle(inst, answer) {
    if (answer !== ASSUMED)
        recursive.set(inst, answer === PROVEN);
    return answer;
}
/**
 * Whether one parse can re-enter this schema, i.e. its subtree contains a cycle.
 * Exported for `z.compile`, which refuses to compile such a schema: cycle
 * breaking is driven from here off state keyed on the parse context, and a
 * generated fast path has no context to key on.
 */
function isRecursiveSchema(inst) {
    // z.compile never parses, so nothing would ever resolve a lazy for it; it runs once and already treats a throw here as recursive
    return isRecursive(inst, new Set(), true) !== NONE;
}
function bucketFor(state, inst) {
    let bucket = state.buckets.get(inst);
    if (!bucket) {
        bucket = new WeakMap();
        state.buckets.set(inst, bucket);
    }
    return bucket;
}
// Set immediately before delegating to core and cleared immediately after, so `alloc` registers only for a visit this module is driving.
let handoff;
// Allocated but unfinished entries. `alloc` and the matching pop both happen in the synchronous part of a parse, so they nest even when children are async, and one stack serves every schema.
const memoizer_open = [];
const memo = {
    alloc(_inst, payload, empty) {
        const bucket = handoff;
        if (!bucket)
            return empty;
        handoff = undefined;
        const entry = { value: empty, issues: null };
        bucket.set(payload.value, entry);
        memoizer_open.push(entry);
        return empty;
    },
    guard(inst) {
        var _a;
        (_a = inst._zod).deferred ?? (_a.deferred = []);
        inst._zod.deferred.push(() => {
            const base = inst._zod.parse;
            const wrapped = (payload, ctx) => {
                // The value is a placeholder a back-edge is still waiting on, so the cycle closes through this transform. Its output can't exist in time to bind.
                if (ctx.direction !== "backward" && isBackEdge(ctx, payload.value))
                    throw new $ZodCyclicError();
                return base(payload, ctx);
            };
            inst._zod.parse = wrapped;
            if (inst._zod.run === base)
                inst._zod.run = wrapped;
        });
    },
    attach(inst) {
        var _a;
        let isRecursiveInst;
        let rechecked = false;
        // a recursive schema is re-entered many times per parse and its bucket never changes
        let lastCtx;
        let lastBucket;
        // Wraps `parse` in a deferred so it sees the container's final parse. Core's own deferred copies `parse` into `run` when there are no checks, and it ran first, so `run` is patched to match; with checks, `run` reads `parse` dynamically.
        (_a = inst._zod).deferred ?? (_a.deferred = []);
        inst._zod.deferred.push(() => {
            const base = inst._zod.parse;
            const wrapped = (payload, ctx) => {
                if (isRecursiveInst === undefined) {
                    const walked = isRecursive(inst, new Set(), false);
                    if (walked === NONE) {
                        // Nothing here can ever fire, so take it back out.
                        inst._zod.parse = base;
                        if (inst._zod.run === wrapped)
                            inst._zod.run = base;
                        return base(payload, ctx);
                    }
                    // this parse resolves the deferred edges on its own path, so ask once more before latching
                    if (walked === PROVEN || rechecked)
                        isRecursiveInst = true;
                    else
                        rechecked = true;
                }
                const input = payload.value;
                if (!isRef(input))
                    return base(payload, ctx);
                let state = ctx[STATE];
                if (!state) {
                    state = { buckets: new WeakMap(), backEdges: undefined };
                    ctx[STATE] = state;
                }
                let bucket;
                if (lastCtx === ctx) {
                    bucket = lastBucket;
                }
                else {
                    bucket = bucketFor(state, inst);
                    lastCtx = ctx;
                    lastBucket = bucket;
                }
                const hit = bucket.get(input);
                if (hit) {
                    payload.value = hit.value;
                    if (hit.issues) {
                        if (hit.issues.length)
                            payload.issues.push(...cloneIssues(hit.issues));
                    }
                    else {
                        // Still being parsed: its own checks cover it, so skip them here.
                        payload.memo = true;
                        state.backEdges ?? (state.backEdges = new WeakSet());
                        state.backEdges.add(hit.value);
                    }
                    return payload;
                }
                handoff = bucket;
                const depth = memoizer_open.length;
                const result = base(payload, ctx);
                handoff = undefined;
                // A container that rejected its input outright allocated nothing.
                const entry = memoizer_open.length > depth ? memoizer_open.pop() : undefined;
                // Both paths written out so the sync one allocates no closure. It runs once per node, and capturing here cost more than everything else combined.
                if (result instanceof Promise) {
                    return result.then((r) => {
                        if (entry)
                            entry.issues = r.issues.length ? cloneIssues(r.issues) : NO_ISSUES;
                        return r;
                    });
                }
                if (entry)
                    entry.issues = result.issues.length ? cloneIssues(result.issues) : NO_ISSUES;
                return result;
            };
            inst._zod.parse = wrapped;
            if (inst._zod.run === base)
                inst._zod.run = wrapped;
        });
    },
};
/** The memoizer that gives containers cycle support. `zod` installs it by default; `zod/mini` opts in with `config({ memoizer: memoizer() })`. */
function memoizer() {
    return memo;
}
/** Whether this value is a node a back-edge resolved to before it finished. */
function isBackEdge(ctx, value) {
    const backEdges = ctx[STATE]?.backEdges;
    return backEdges !== undefined && isRef(value) && backEdges.has(value);
}

;// CONCATENATED MODULE: ./node_modules/zod/v4/core/regexes.js

/**
 * @deprecated CUID v1 is deprecated by its authors due to information leakage
 * (timestamps embedded in the id). Use {@link cuid2} instead.
 * See https://github.com/paralleldrive/cuid.
 */
const cuid = /^[cC][0-9a-z]{6,}$/;
const cuid2 = /^[0-9a-z]+$/;
const ulid = /^[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}$/;
const xid = /^[0-9a-vA-V]{20}$/;
const ksuid = /^[A-Za-z0-9]{27}$/;
const nanoid = /^[a-zA-Z0-9_-]{21}$/;
function nanoidOfLength(length) {
    return new RegExp(`^[a-zA-Z0-9_-]{${length}}$`);
}
/** ISO 8601-1 duration regex. Does not support the 8601-2 extensions like negative durations or fractional/negative components. */
const duration = /^P(?:(\d+W)|(?!.*W)(?=\d|T\d)(\d+Y)?(\d+M)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+([.,]\d+)?S)?)?)$/;
/** Implements ISO 8601-2 extensions like explicit +- prefixes, mixing weeks with other units, and fractional/negative components. */
const extendedDuration = /^[-+]?P(?!$)(?:(?:[-+]?\d+Y)|(?:[-+]?\d+[.,]\d+Y$))?(?:(?:[-+]?\d+M)|(?:[-+]?\d+[.,]\d+M$))?(?:(?:[-+]?\d+W)|(?:[-+]?\d+[.,]\d+W$))?(?:(?:[-+]?\d+D)|(?:[-+]?\d+[.,]\d+D$))?(?:T(?=[\d+-])(?:(?:[-+]?\d+H)|(?:[-+]?\d+[.,]\d+H$))?(?:(?:[-+]?\d+M)|(?:[-+]?\d+[.,]\d+M$))?(?:[-+]?\d+(?:[.,]\d+)?S)?)??$/;
/** A regex for any UUID-like identifier: 8-4-4-4-12 hex pattern */
const guid = /^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$/;
/** Returns a regex for validating an RFC 9562/4122 UUID.
 *
 * @param version Optionally specify a version 1-8. If no version is specified, all versions are supported. */
const uuid = (version) => {
    if (!version)
        return /^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$/;
    return new RegExp(`^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-${version}[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12})$`);
};
const uuid4 = /*@__PURE__*/ (/* unused pure expression or super */ null && (uuid(4)));
const uuid6 = /*@__PURE__*/ (/* unused pure expression or super */ null && (uuid(6)));
const uuid7 = /*@__PURE__*/ (/* unused pure expression or super */ null && (uuid(7)));
/** Practical email validation */
const email = /^(?:[A-Za-z0-9_'+\-]+\.)*[A-Za-z0-9_'+\-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$/;
/** Equivalent to the HTML5 input[type=email] validation implemented by browsers. Source: https://developer.mozilla.org/en-US/docs/Web/HTML/Element/input/email */
const html5Email = /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
/** The classic emailregex.com regex for RFC 5322-compliant emails */
const rfc5322Email = /^(([^<>()\[\]\\.,;:\s@"]+(\.[^<>()\[\]\\.,;:\s@"]+)*)|(".+"))@((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}])|(([a-zA-Z\-0-9]+\.)+[a-zA-Z]{2,}))$/;
/** A loose regex that allows Unicode characters, enforces length limits, and that's about it. */
const unicodeEmail = /^[^\s@"]{1,64}@[^\s@]{1,255}$/u;
const idnEmail = (/* unused pure expression or super */ null && (unicodeEmail));
const browserEmail = /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
// from https://thekevinscott.com/emojis-in-javascript/#writing-a-regular-expression
// Single character class, not an alternation: the two properties overlap (U+1F9B0-U+1F9B3), so `(A|B)+` backtracks exponentially on a failed match. The leading lookahead then demands one anchor — a pictograph, a regional indicator, or the enclosing keycap — because `\p{Emoji_Component}` on its own covers ASCII digits, `#`, `*`, ZWJ, variation selectors and skin tone modifiers, none of which is an emoji without a base.
const _emoji = `^(?=[\\s\\S]*[\\p{Extended_Pictographic}\\p{Regional_Indicator}\\u20E3])[\\p{Extended_Pictographic}\\p{Emoji_Component}]+$`;
function emoji() {
    return new RegExp(_emoji, "u");
}
const regexes_ipv4 = /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])$/;
const ipv6 = /^(([0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,7}:|([0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,5}(:[0-9a-fA-F]{1,4}){1,2}|([0-9a-fA-F]{1,4}:){1,4}(:[0-9a-fA-F]{1,4}){1,3}|([0-9a-fA-F]{1,4}:){1,3}(:[0-9a-fA-F]{1,4}){1,4}|([0-9a-fA-F]{1,4}:){1,2}(:[0-9a-fA-F]{1,4}){1,5}|[0-9a-fA-F]{1,4}:((:[0-9a-fA-F]{1,4}){1,6})|:((:[0-9a-fA-F]{1,4}){1,7}|:))$/;
const mac = (delimiter) => {
    const escapedDelim = util.escapeRegex(delimiter ?? ":");
    return new RegExp(`^(?:[0-9A-F]{2}${escapedDelim}){5}[0-9A-F]{2}$|^(?:[0-9a-f]{2}${escapedDelim}){5}[0-9a-f]{2}$`);
};
const cidrv4 = /^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])\/([0-9]|[1-2][0-9]|3[0-2])$/;
const cidrv6 = /^(([0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,7}:|([0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,5}(:[0-9a-fA-F]{1,4}){1,2}|([0-9a-fA-F]{1,4}:){1,4}(:[0-9a-fA-F]{1,4}){1,3}|([0-9a-fA-F]{1,4}:){1,3}(:[0-9a-fA-F]{1,4}){1,4}|([0-9a-fA-F]{1,4}:){1,2}(:[0-9a-fA-F]{1,4}){1,5}|[0-9a-fA-F]{1,4}:((:[0-9a-fA-F]{1,4}){1,6})|:((:[0-9a-fA-F]{1,4}){1,7}|:))\/(12[0-8]|1[01][0-9]|[1-9]?[0-9])$/;
// https://stackoverflow.com/questions/7860392/determine-if-string-is-in-base64-using-javascript
const base64 = /^$|^(?:[0-9a-zA-Z+/]{4})*(?:(?:[0-9a-zA-Z+/]{2}==)|(?:[0-9a-zA-Z+/]{3}=))?$/;
const base64url = /^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2,3})?$/;
// based on https://stackoverflow.com/questions/106179/regular-expression-to-match-dns-hostname-or-ip-address
// export const hostname: RegExp = /^([a-zA-Z0-9-]+\.)*[a-zA-Z0-9-]+$/;
const hostname = /^(?=.{1,253}\.?$)[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[-0-9a-zA-Z]{0,61}[0-9a-zA-Z])?)*\.?$/;
const domain = /^(?=.{1,253}$)([a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$/;
const httpProtocol = /^https?$/;
// https://blog.stevenlevithan.com/archives/validate-phone-number#r4-3 (regex sans spaces) E.164: leading digit must be 1-9; total digits (excluding '+') between 7-15
const e164 = /^\+[1-9]\d{6,14}$/;
// Credit card shape: 12–19 digits, optionally separated by single spaces or single hyphens. ISO/IEC 7812 caps the PAN at 19 digits; 12 is the shortest issued length (Maestro).
const creditCard = /^\d(?:[ -]?\d){11,18}$/;
// ISO 4217 alpha codes from the SIX list, regenerated by scripts/update-iso-4217.ts
const currencyCode = /^(?:AED|AFN|ALL|AMD|AOA|ARS|AUD|AWG|AZN|BAM|BBD|BDT|BHD|BIF|BMD|BND|BOB|BOV|BRL|BSD|BTN|BWP|BYN|BZD|CAD|CDF|CHE|CHF|CHW|CLF|CLP|CNY|COP|COU|CRC|CUP|CVE|CZK|DJF|DKK|DOP|DZD|EGP|ERN|ETB|EUR|FJD|FKP|GBP|GEL|GHS|GIP|GMD|GNF|GTQ|GYD|HKD|HNL|HTG|HUF|IDR|ILS|INR|IQD|IRR|ISK|JMD|JOD|JPY|KES|KGS|KHR|KMF|KPW|KRW|KWD|KYD|KZT|LAK|LBP|LKR|LRD|LSL|LYD|MAD|MDL|MGA|MKD|MMK|MNT|MOP|MRU|MUR|MVR|MWK|MXN|MXV|MYR|MZN|NAD|NGN|NIO|NOK|NPR|NZD|OMR|PAB|PEN|PGK|PHP|PKR|PLN|PYG|QAR|RON|RSD|RUB|RWF|SAR|SBD|SCR|SDG|SEK|SGD|SHP|SLE|SOS|SRD|SSP|STN|SVC|SYP|SZL|THB|TJS|TMT|TND|TOP|TRY|TTD|TWD|TZS|UAH|UGX|USD|USN|UYI|UYU|UYW|UZS|VED|VES|VND|VUV|WST|XAD|XAF|XAG|XAU|XBA|XBB|XBC|XBD|XCD|XCG|XDR|XOF|XPD|XPF|XPT|XSU|XTS|XUA|XXX|YER|ZAR|ZMW|ZWG)$/;
// iban electronic format: 2-letter country, check digits 02-98 (the only values `98 - remainder` can produce), 11-30 bban characters
const iban = /^[A-Z]{2}(?!00|01|99)\d{2}[A-Z0-9]{11,30}$/;
const dateSource = `(?:(?:\\d\\d[2468][048]|\\d\\d[13579][26]|\\d\\d0[48]|[02468][048]00|[13579][26]00)-02-29|\\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|(?:02)-(?:0[1-9]|1\\d|2[0-8])))`;
/** Anchors a pattern source. The interpolation lives here rather than at the call site because
 * esbuild will not drop a `@__PURE__` call whose own argument interpolates a variable, but it
 * will drop `anchor(dateSource)`. Keeping it inline pinned `date` into every bundle. */
function regexes_anchor(source) {
    return new RegExp(`^${source}$`);
}
const date = /*@__PURE__*/ regexes_anchor(dateSource);
function timeSource(args) {
    const hhmm = `(?:[01]\\d|2[0-3]):[0-5]\\d`;
    const regex = typeof args.precision === "number"
        ? args.precision === -1
            ? `${hhmm}`
            : args.precision === 0
                ? `${hhmm}:[0-5]\\d`
                : `${hhmm}:[0-5]\\d\\.\\d{${args.precision}}`
        : args.seconds
            ? `${hhmm}:[0-5]\\d(?:\\.\\d+)?`
            : `${hhmm}(?::[0-5]\\d(?:\\.\\d+)?)?`;
    return regex;
}
function time(args) {
    return new RegExp(`^${timeSource(args)}$`);
}
// Adapted from https://stackoverflow.com/a/3143231
function datetime(args) {
    const opts = ["Z"];
    // if (args.offset) opts.push(`([+-]\\d{2}:\\d{2})`);
    if (args.offset)
        opts.push(`([+-](?:[01]\\d|2[0-3]):[0-5]\\d)`);
    // RFC 3339 mandates seconds wherever the time carries a `Z` or an offset, so only the unqualified form `local` adds may omit them
    const qualified = `${timeSource({ precision: args.precision, seconds: true })}(?:${opts.join("|")})`;
    const timeRegex = args.local ? `${qualified}|${timeSource({ precision: args.precision })}` : qualified;
    return new RegExp(`^${dateSource}T(?:${timeRegex})$`);
}
// the unbounded form of `string()` as a literal, so every plain string shares one instance instead of building its own
const anyString = /^[\s\S]{0,}$/;
const string = (params) => {
    const regex = params ? `[\\s\\S]{${params?.minimum ?? 0},${params?.maximum ?? ""}}` : `[\\s\\S]*`;
    return new RegExp(`^${regex}$`);
};
const bigint = /^-?\d+n?$/;
const integer = /^-?\d+$/;
const number = /^-?\d+(?:\.\d+)?$/;
const regexes_boolean = /^(?:true|false)$/i;
const _null = /^null$/i;

const _undefined = /^undefined$/i;

// regex for string with no uppercase letters
const lowercase = /^[^A-Z]*$/;
// regex for string with no lowercase letters
const uppercase = /^[^a-z]*$/;
// regex for hexadecimal strings (any length)
const hex = /^[0-9a-fA-F]*$/;
// Hash regexes for different algorithms and encodings
// Helper function to create base64 regex with exact length and padding
function fixedBase64(bodyLength, padding) {
    return new RegExp(`^[A-Za-z0-9+/]{${bodyLength}}${padding}$`);
}
// Helper function to create base64url regex with exact length (no padding)
function fixedBase64url(length) {
    return new RegExp(`^[A-Za-z0-9_-]{${length}}$`);
}
// MD5 (16 bytes): base64 = 24 chars total (22 + "==")
const md5_hex = /^[0-9a-fA-F]{32}$/;
const md5_base64 = /*@__PURE__*/ (/* unused pure expression or super */ null && (fixedBase64(22, "==")));
const md5_base64url = /*@__PURE__*/ (/* unused pure expression or super */ null && (fixedBase64url(22)));
// SHA1 (20 bytes): base64 = 28 chars total (27 + "=")
const sha1_hex = /^[0-9a-fA-F]{40}$/;
const sha1_base64 = /*@__PURE__*/ (/* unused pure expression or super */ null && (fixedBase64(27, "=")));
const sha1_base64url = /*@__PURE__*/ (/* unused pure expression or super */ null && (fixedBase64url(27)));
// SHA256 (32 bytes): base64 = 44 chars total (43 + "=")
const sha256_hex = /^[0-9a-fA-F]{64}$/;
const sha256_base64 = /*@__PURE__*/ (/* unused pure expression or super */ null && (fixedBase64(43, "=")));
const sha256_base64url = /*@__PURE__*/ (/* unused pure expression or super */ null && (fixedBase64url(43)));
// SHA384 (48 bytes): base64 = 64 chars total (no padding)
const sha384_hex = /^[0-9a-fA-F]{96}$/;
const sha384_base64 = /*@__PURE__*/ (/* unused pure expression or super */ null && (fixedBase64(64, "")));
const sha384_base64url = /*@__PURE__*/ (/* unused pure expression or super */ null && (fixedBase64url(64)));
// SHA512 (64 bytes): base64 = 88 chars total (86 + "==")
const sha512_hex = /^[0-9a-fA-F]{128}$/;
const sha512_base64 = /*@__PURE__*/ (/* unused pure expression or super */ null && (fixedBase64(86, "==")));
const sha512_base64url = /*@__PURE__*/ (/* unused pure expression or super */ null && (fixedBase64url(86)));

;// CONCATENATED MODULE: ./node_modules/zod/v4/core/checks.js
// import { $ZodType } from "./schemas.js";



const $ZodCheck = /*@__PURE__*/ $constructor("$ZodCheck", (inst, def) => {
    var _a;
    inst._zod ?? (inst._zod = {});
    inst._zod.def = def;
    (_a = inst._zod).onattach ?? (_a.onattach = []);
});
/** Default `when` for size-based checks: run only on non-nullish values with a `size`. */
const _whenHasSize = (payload) => {
    const val = payload.value;
    return !util.nullish(val) && val.size !== undefined;
};
/** Default `when` for length-based checks: run only on non-nullish values with a `length`. */
const _whenHasLength = (payload) => {
    const val = payload.value;
    return !nullish(val) && val.length !== undefined;
};
const numericOriginMap = {
    number: "number",
    bigint: "bigint",
    object: "date",
};
const $ZodCheckLessThan = /*@__PURE__*/ $constructor("$ZodCheckLessThan", (inst, def) => {
    $ZodCheck.init(inst, def);
    const origin = numericOriginMap[typeof def.value];
    inst._zod.check = (payload) => {
        if (def.inclusive ? payload.value <= def.value : payload.value < def.value) {
            return;
        }
        payload.issues.push({
            origin: numericOriginMap[typeof payload.value] ?? origin,
            code: "too_big",
            maximum: typeof def.value === "object" ? def.value.getTime() : def.value,
            input: payload.value,
            inclusive: def.inclusive,
            inst,
            continue: !def.abort,
        });
    };
});
const $ZodCheckGreaterThan = /*@__PURE__*/ $constructor("$ZodCheckGreaterThan", (inst, def) => {
    $ZodCheck.init(inst, def);
    const origin = numericOriginMap[typeof def.value];
    inst._zod.check = (payload) => {
        if (def.inclusive ? payload.value >= def.value : payload.value > def.value) {
            return;
        }
        payload.issues.push({
            origin: numericOriginMap[typeof payload.value] ?? origin,
            code: "too_small",
            minimum: typeof def.value === "object" ? def.value.getTime() : def.value,
            input: payload.value,
            inclusive: def.inclusive,
            inst,
            continue: !def.abort,
        });
    };
});
const $ZodCheckMultipleOf = 
/*@__PURE__*/ $constructor("$ZodCheckMultipleOf", (inst, def) => {
    $ZodCheck.init(inst, def);
    inst._zod.check = (payload) => {
        if (typeof payload.value !== typeof def.value)
            throw new Error("Cannot mix number and bigint in multiple_of check.");
        const isMultiple = typeof payload.value === "bigint"
            ? // `value % 0n` throws, and nothing is a multiple of zero — the number branch already fails this way via NaN
                def.value !== BigInt(0) && payload.value % def.value === BigInt(0)
            : floatSafeRemainder(payload.value, def.value) === 0;
        if (isMultiple)
            return;
        payload.issues.push({
            origin: typeof payload.value,
            code: "not_multiple_of",
            divisor: def.value,
            input: payload.value,
            inst,
            continue: !def.abort,
        });
    };
});
const $ZodCheckNumberFormat = /*@__PURE__*/ $constructor("$ZodCheckNumberFormat", (inst, def) => {
    $ZodCheck.init(inst, def); // no format checks
    def.format = def.format || "float64";
    const isInt = def.format?.includes("int");
    const origin = isInt ? "int" : "number";
    const [minimum, maximum] = NUMBER_FORMAT_RANGES[def.format];
    inst._zod.check = (payload) => {
        const input = payload.value;
        if (isInt) {
            if (!Number.isInteger(input)) {
                // invalid_format issue
                // payload.issues.push({
                //   expected: def.format,
                //   format: def.format,
                //   code: "invalid_format",
                //   input,
                //   inst,
                // });
                // invalid_type issue
                payload.issues.push({
                    expected: origin,
                    format: def.format,
                    code: "invalid_type",
                    continue: false,
                    input,
                    inst,
                });
                return;
                // not_multiple_of issue
                // payload.issues.push({
                //   code: "not_multiple_of",
                //   origin: "number",
                //   input,
                //   inst,
                //   divisor: 1,
                // });
            }
            if (!Number.isSafeInteger(input)) {
                if (input > 0) {
                    // too_big
                    payload.issues.push({
                        input,
                        code: "too_big",
                        maximum: Number.MAX_SAFE_INTEGER,
                        note: "Integers must be within the safe integer range.",
                        inst,
                        origin,
                        inclusive: true,
                        continue: !def.abort,
                    });
                }
                else {
                    // too_small
                    payload.issues.push({
                        input,
                        code: "too_small",
                        minimum: Number.MIN_SAFE_INTEGER,
                        note: "Integers must be within the safe integer range.",
                        inst,
                        origin,
                        inclusive: true,
                        continue: !def.abort,
                    });
                }
                return;
            }
        }
        if (input < minimum) {
            payload.issues.push({
                origin: "number",
                input,
                code: "too_small",
                minimum,
                inclusive: true,
                inst,
                continue: !def.abort,
            });
        }
        if (input > maximum) {
            payload.issues.push({
                origin: "number",
                input,
                code: "too_big",
                maximum,
                inclusive: true,
                inst,
                continue: !def.abort,
            });
        }
    };
});
const $ZodCheckBigIntFormat = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodCheckBigIntFormat", (inst, def) => {
    $ZodCheck.init(inst, def); // no format checks
    const [minimum, maximum] = util.BIGINT_FORMAT_RANGES[def.format];
    inst._zod.check = (payload) => {
        const input = payload.value;
        if (input < minimum) {
            payload.issues.push({
                origin: "bigint",
                input,
                code: "too_small",
                minimum: minimum,
                inclusive: true,
                inst,
                continue: !def.abort,
            });
        }
        if (input > maximum) {
            payload.issues.push({
                origin: "bigint",
                input,
                code: "too_big",
                maximum,
                inclusive: true,
                inst,
                continue: !def.abort,
            });
        }
    };
})));
const $ZodCheckMaxSize = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodCheckMaxSize", (inst, def) => {
    var _a;
    $ZodCheck.init(inst, def);
    (_a = inst._zod.def).when ?? (_a.when = _whenHasSize);
    inst._zod.check = (payload) => {
        const input = payload.value;
        const size = input.size;
        if (size <= def.maximum)
            return;
        payload.issues.push({
            origin: util.getSizableOrigin(input),
            code: "too_big",
            maximum: def.maximum,
            inclusive: true,
            input,
            inst,
            continue: !def.abort,
        });
    };
})));
const $ZodCheckMinSize = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodCheckMinSize", (inst, def) => {
    var _a;
    $ZodCheck.init(inst, def);
    (_a = inst._zod.def).when ?? (_a.when = _whenHasSize);
    inst._zod.check = (payload) => {
        const input = payload.value;
        const size = input.size;
        if (size >= def.minimum)
            return;
        payload.issues.push({
            origin: util.getSizableOrigin(input),
            code: "too_small",
            minimum: def.minimum,
            inclusive: true,
            input,
            inst,
            continue: !def.abort,
        });
    };
})));
const $ZodCheckSizeEquals = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodCheckSizeEquals", (inst, def) => {
    var _a;
    $ZodCheck.init(inst, def);
    (_a = inst._zod.def).when ?? (_a.when = _whenHasSize);
    inst._zod.check = (payload) => {
        const input = payload.value;
        const size = input.size;
        if (size === def.size)
            return;
        const tooBig = size > def.size;
        payload.issues.push({
            origin: util.getSizableOrigin(input),
            ...(tooBig ? { code: "too_big", maximum: def.size } : { code: "too_small", minimum: def.size }),
            inclusive: true,
            exact: true,
            input: payload.value,
            inst,
            continue: !def.abort,
        });
    };
})));
const $ZodCheckMaxLength = /*@__PURE__*/ $constructor("$ZodCheckMaxLength", (inst, def) => {
    var _a;
    $ZodCheck.init(inst, def);
    (_a = inst._zod.def).when ?? (_a.when = _whenHasLength);
    inst._zod.check = (payload) => {
        const input = payload.value;
        const units = input.length;
        // Strings are measured in Unicode code points, not UTF-16 units. A code point is at most two units, so a string that already fits in units fits in code points; only an overflow has to be counted.
        const length = typeof input === "string" && units > def.maximum ? codePointLength(input) : units;
        if (length <= def.maximum)
            return;
        const origin = getLengthableOrigin(input);
        payload.issues.push({
            origin,
            code: "too_big",
            maximum: def.maximum,
            inclusive: true,
            input,
            inst,
            continue: !def.abort,
        });
    };
});
const $ZodCheckMinLength = /*@__PURE__*/ $constructor("$ZodCheckMinLength", (inst, def) => {
    var _a;
    $ZodCheck.init(inst, def);
    (_a = inst._zod.def).when ?? (_a.when = _whenHasLength);
    inst._zod.check = (payload) => {
        const input = payload.value;
        const units = input.length;
        // A code point is one or two UTF-16 units, so fewer units than the floor can never reach it and twice the floor always clears it. Only in between is the exact count in doubt.
        const length = typeof input === "string" && units >= def.minimum && units < def.minimum * 2
            ? codePointLength(input)
            : units;
        if (length >= def.minimum)
            return;
        const origin = getLengthableOrigin(input);
        payload.issues.push({
            origin,
            code: "too_small",
            minimum: def.minimum,
            inclusive: true,
            input,
            inst,
            continue: !def.abort,
        });
    };
});
const $ZodCheckLengthEquals = /*@__PURE__*/ $constructor("$ZodCheckLengthEquals", (inst, def) => {
    var _a;
    $ZodCheck.init(inst, def);
    (_a = inst._zod.def).when ?? (_a.when = _whenHasLength);
    inst._zod.check = (payload) => {
        const input = payload.value;
        const units = input.length;
        // A code point is one or two UTF-16 units, so outside `[length, length * 2]` units the target is missed either way — and missed in the same direction in both measures.
        const length = typeof input === "string" && units >= def.length && units <= def.length * 2
            ? codePointLength(input)
            : units;
        if (length === def.length)
            return;
        const origin = getLengthableOrigin(input);
        const tooBig = length > def.length;
        payload.issues.push({
            origin,
            ...(tooBig ? { code: "too_big", maximum: def.length } : { code: "too_small", minimum: def.length }),
            inclusive: true,
            exact: true,
            input: payload.value,
            inst,
            continue: !def.abort,
        });
    };
});
const $ZodCheckStringFormat = /*@__PURE__*/ $constructor("$ZodCheckStringFormat", (inst, def) => {
    var _a, _b;
    $ZodCheck.init(inst, def);
    if (def.pattern)
        (_a = inst._zod).check ?? (_a.check = (payload) => {
            def.pattern.lastIndex = 0;
            if (def.pattern.test(payload.value))
                return;
            payload.issues.push({
                origin: "string",
                code: "invalid_format",
                format: def.format,
                input: payload.value,
                ...(def.pattern ? { pattern: def.pattern.toString() } : {}),
                inst,
                continue: !def.abort,
            });
        });
    else
        (_b = inst._zod).check ?? (_b.check = () => { });
});
const $ZodCheckRegex = /*@__PURE__*/ $constructor("$ZodCheckRegex", (inst, def) => {
    $ZodCheckStringFormat.init(inst, def);
    inst._zod.check = (payload) => {
        def.pattern.lastIndex = 0;
        if (def.pattern.test(payload.value))
            return;
        payload.issues.push({
            origin: "string",
            code: "invalid_format",
            format: "regex",
            input: payload.value,
            pattern: def.pattern.toString(),
            inst,
            continue: !def.abort,
        });
    };
});
const $ZodCheckLowerCase = /*@__PURE__*/ $constructor("$ZodCheckLowerCase", (inst, def) => {
    def.pattern ?? (def.pattern = lowercase);
    $ZodCheckStringFormat.init(inst, def);
});
const $ZodCheckUpperCase = /*@__PURE__*/ $constructor("$ZodCheckUpperCase", (inst, def) => {
    def.pattern ?? (def.pattern = uppercase);
    $ZodCheckStringFormat.init(inst, def);
});
const $ZodCheckIncludes = /*@__PURE__*/ $constructor("$ZodCheckIncludes", (inst, def) => {
    $ZodCheck.init(inst, def);
    const escapedRegex = escapeRegex(def.includes);
    // `String.prototype.includes(sub, position)` matches `sub` at `position`
    // OR LATER, so the pattern must allow at least `position` leading chars
    // (`{N,}`), not exactly `position` chars (`{N}`).
    const pattern = new RegExp(typeof def.position === "number" ? `^.{${def.position},}${escapedRegex}` : escapedRegex);
    def.pattern = pattern;
    inst._zod.check = (payload) => {
        if (payload.value.includes(def.includes, def.position))
            return;
        payload.issues.push({
            origin: "string",
            code: "invalid_format",
            format: "includes",
            includes: def.includes,
            input: payload.value,
            inst,
            continue: !def.abort,
        });
    };
});
const $ZodCheckStartsWith = /*@__PURE__*/ $constructor("$ZodCheckStartsWith", (inst, def) => {
    $ZodCheck.init(inst, def);
    const pattern = new RegExp(`^${escapeRegex(def.prefix)}.*`);
    def.pattern ?? (def.pattern = pattern);
    inst._zod.check = (payload) => {
        if (payload.value.startsWith(def.prefix))
            return;
        payload.issues.push({
            origin: "string",
            code: "invalid_format",
            format: "starts_with",
            prefix: def.prefix,
            input: payload.value,
            inst,
            continue: !def.abort,
        });
    };
});
const $ZodCheckEndsWith = /*@__PURE__*/ $constructor("$ZodCheckEndsWith", (inst, def) => {
    $ZodCheck.init(inst, def);
    const pattern = new RegExp(`.*${escapeRegex(def.suffix)}$`);
    def.pattern ?? (def.pattern = pattern);
    inst._zod.check = (payload) => {
        if (payload.value.endsWith(def.suffix))
            return;
        payload.issues.push({
            origin: "string",
            code: "invalid_format",
            format: "ends_with",
            suffix: def.suffix,
            input: payload.value,
            inst,
            continue: !def.abort,
        });
    };
});
///////////////////////////////////
/////    $ZodCheckProperty    /////
///////////////////////////////////
function handleCheckPropertyResult(result, payload, property) {
    if (result.issues.length) {
        payload.issues.push(...prefixIssues(property, result.issues));
    }
}
const $ZodCheckProperty = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodCheckProperty", (inst, def) => {
    $ZodCheck.init(inst, def);
    inst._zod.check = (payload) => {
        const result = def.schema._zod.run({
            value: payload.value[def.property],
            issues: [],
        }, {});
        if (result instanceof Promise) {
            return result.then((result) => handleCheckPropertyResult(result, payload, def.property));
        }
        handleCheckPropertyResult(result, payload, def.property);
        return;
    };
})));
const $ZodCheckProperties = /*@__PURE__*/ $constructor("$ZodCheckProperties", (inst, def) => {
    $ZodCheck.init(inst, def);
    hide(inst, Symbol.iterator, function* () {
        yield inst;
    });
    // key and schema snapshotted together: reading one live and the other cached lets a later mutation of the caller's shape object pair a stale key with a missing schema
    let entries;
    inst._zod.check = (payload) => {
        // the base schema already typed the value, so only a nullish one is rejected here: the properties read on a primitive too, matching z.property() on a string's length
        if (payload.value == null) {
            payload.issues.push({ expected: "object", code: "invalid_type", input: payload.value, inst });
            return undefined;
        }
        entries ?? (entries = Reflect.ownKeys(def.shape).map((key) => [key, def.shape[key]]));
        const input = payload.value;
        let proms;
        for (const [key, schema] of entries) {
            const result = schema._zod.run({ value: input[key], issues: [] }, {});
            if (result instanceof Promise) {
                proms ?? (proms = []);
                proms.push(result.then((result) => handleCheckPropertyResult(result, payload, key)));
            }
            else {
                handleCheckPropertyResult(result, payload, key);
            }
        }
        if (proms)
            return Promise.all(proms).then(() => undefined);
        return undefined;
    };
});
const $ZodCheckMimeType = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodCheckMimeType", (inst, def) => {
    $ZodCheck.init(inst, def);
    const mimeSet = new Set(def.mime);
    inst._zod.check = (payload) => {
        if (mimeSet.has(payload.value.type))
            return;
        payload.issues.push({
            code: "invalid_value",
            values: def.mime,
            input: payload.value.type,
            inst,
            continue: !def.abort,
        });
    };
})));
const $ZodCheckOverwrite = /*@__PURE__*/ $constructor("$ZodCheckOverwrite", (inst, def) => {
    $ZodCheck.init(inst, def);
    inst._zod.check = (payload) => {
        payload.value = def.tx(payload.value);
    };
});

;// CONCATENATED MODULE: ./node_modules/zod/v4/core/doc.js
class Doc {
    constructor(args = [], closed = {}) {
        this.content = [];
        this.indent = 0;
        this.args = args;
        this.closed = closed;
    }
    // the compiler catches a child's throw and keeps writing into this doc, so the indent has to unwind with it
    indented(fn) {
        this.indent += 1;
        try {
            fn(this);
        }
        finally {
            this.indent -= 1;
        }
    }
    write(arg) {
        if (typeof arg === "function") {
            arg(this, { execution: "sync" });
            arg(this, { execution: "async" });
            return;
        }
        const content = arg;
        const lines = content.split("\n").filter((x) => x);
        const minIndent = Math.min(...lines.map((x) => x.length - x.trimStart().length));
        const dedented = lines.map((x) => x.slice(minIndent)).map((x) => " ".repeat(this.indent * 2) + x);
        for (const line of dedented) {
            this.content.push(line);
        }
    }
    compile() {
        const F = Function;
        const content = this?.content ?? [``];
        const factory = new F(...Object.keys(this.closed), `return function (${this.args.join(", ")}) {\n${content.join("\n")}\n};`);
        return factory(...Object.values(this.closed));
    }
}

;// CONCATENATED MODULE: ./node_modules/zod/v4/core/versions.js
const version = {
    major: 4,
    minor: 6,
    patch: 7,
};

;// CONCATENATED MODULE: ./node_modules/zod/v4/core/schemas.js







const $ZodType = /*@__PURE__*/ $constructor("$ZodType", (inst, def) => {
    var _a;
    inst ?? (inst = {});
    inst._zod.def = def; // set _def property
    inst._zod.bag = inst._zod.bag || {}; // initialize _bag object
    inst._zod.version = version;
    const defChecks = inst._zod.def.checks;
    // if inst is itself a checks.$ZodCheck, run it as a check
    const checks = inst._zod.traits.has("$ZodCheck")
        ? [inst, ...(defChecks ?? [])]
        : defChecks?.length
            ? [...defChecks]
            : [];
    for (const ch of checks) {
        for (const fn of ch._zod.onattach) {
            fn(inst);
        }
    }
    if (checks.length === 0) {
        // deferred initializer inst._zod.parse is not yet defined
        (_a = inst._zod).deferred ?? (_a.deferred = []);
        inst._zod.deferred?.push(() => {
            inst._zod.run = inst._zod.parse;
        });
    }
    else {
        const runChecks = (payload, checks, ctx) => {
            if (payload.memo)
                return payload;
            let isAborted = aborted(payload);
            let asyncResult;
            for (const ch of checks) {
                if (ch._zod.def.when) {
                    if (explicitlyAborted(payload))
                        continue;
                    const shouldRun = ch._zod.def.when(payload);
                    if (!shouldRun)
                        continue;
                }
                else if (isAborted) {
                    continue;
                }
                const currLen = payload.issues.length;
                const _ = ch._zod.check(payload);
                if (_ instanceof Promise && ctx?.async === false) {
                    throw new $ZodAsyncError();
                }
                if (asyncResult || _ instanceof Promise) {
                    asyncResult = (asyncResult ?? Promise.resolve()).then(async () => {
                        await _;
                        const nextLen = payload.issues.length;
                        if (nextLen === currLen)
                            return;
                        attachSchema(payload.issues, currLen, inst);
                        if (!isAborted)
                            isAborted = aborted(payload, currLen);
                    });
                }
                else {
                    const nextLen = payload.issues.length;
                    if (nextLen === currLen)
                        continue;
                    attachSchema(payload.issues, currLen, inst);
                    if (!isAborted)
                        isAborted = aborted(payload, currLen);
                }
            }
            if (asyncResult) {
                return asyncResult.then(() => {
                    return payload;
                });
            }
            return payload;
        };
        const handleCanaryResult = (canary, payload, ctx) => {
            // abort if the canary is aborted
            if (aborted(canary)) {
                canary.aborted = true;
                return canary;
            }
            // run checks first, then
            const checkResult = runChecks(payload, checks, ctx);
            if (checkResult instanceof Promise) {
                if (ctx.async === false)
                    throw new $ZodAsyncError();
                return checkResult.then((checkResult) => inst._zod.parse(checkResult, ctx));
            }
            return inst._zod.parse(checkResult, ctx);
        };
        inst._zod.run = (payload, ctx) => {
            if (ctx.skipChecks) {
                return inst._zod.parse(payload, ctx);
            }
            if (ctx.direction === "backward") {
                // run canary initial pass (no checks)
                const canary = inst._zod.parse({ value: payload.value, issues: [] }, { ...ctx, skipChecks: true });
                if (canary instanceof Promise) {
                    return canary.then((canary) => {
                        return handleCanaryResult(canary, payload, ctx);
                    });
                }
                return handleCanaryResult(canary, payload, ctx);
            }
            // forward
            const result = inst._zod.parse(payload, ctx);
            if (result instanceof Promise) {
                if (ctx.async === false)
                    throw new $ZodAsyncError();
                return result.then((result) => runChecks(result, checks, ctx));
            }
            return runChecks(result, checks, ctx);
        };
    }
}, {
    // Wrappers extend this by installing a richer factory over it; reading it eagerly would defeat the laziness.
    get "~standard"() {
        return hide(this, "~standard", standardProps(this));
    },
    set "~standard"(value) {
        own(this, "~standard", value);
    },
});
/** The Standard Schema surface for `inst`. Shared so wrappers can extend it without forcing it. */
// a Standard Schema result only reports issues, so a failure finalizes them straight off the raw payload: no ZodError, and no lazy result to read through
const toStandardResult = (r, ctx) => r.issues.length ? { issues: r.issues.map((iss) => finalizeIssue(iss, ctx, config())) } : { value: r.value };
async function validateAsync(inst, value) {
    const ctx = { async: true };
    return toStandardResult((await inst._zod.run({ value, issues: [] }, ctx)), ctx);
}
function standardProps(inst) {
    return {
        validate: (value) => {
            const ctx = { async: false };
            try {
                const r = inst._zod.run({ value, issues: [] }, ctx);
                if (!(r instanceof Promise))
                    return toStandardResult(r, ctx);
            }
            catch (_) { }
            // async function so a synchronously throwing check rejects instead of escaping validate
            return validateAsync(inst, value);
        },
        vendor: "zod",
        version: 1,
    };
}

const $ZodString = /*@__PURE__*/ $constructor("$ZodString", (inst, def) => {
    $ZodType.init(inst, def);
    // a format's own pattern, else unbounded; a template literal derives the check-aware form itself
    inst._zod.pattern = def.pattern ?? anyString;
    inst._zod.parse = (payload, _) => {
        if (def.coerce)
            try {
                payload.value = String(payload.value);
            }
            catch (_) { }
        if (typeof payload.value === "string")
            return payload;
        payload.issues.push({
            expected: "string",
            code: "invalid_type",
            input: payload.value,
            inst,
        });
        return payload;
    };
});
const $ZodStringFormat = /*@__PURE__*/ $constructor("$ZodStringFormat", (inst, def) => {
    // check initialization must come first
    $ZodCheckStringFormat.init(inst, def);
    $ZodString.init(inst, def);
});
const $ZodGUID = /*@__PURE__*/ $constructor("$ZodGUID", (inst, def) => {
    def.pattern ?? (def.pattern = guid);
    $ZodStringFormat.init(inst, def);
});
const $ZodUUID = /*@__PURE__*/ $constructor("$ZodUUID", (inst, def) => {
    if (def.version) {
        const versionMap = {
            v1: 1,
            v2: 2,
            v3: 3,
            v4: 4,
            v5: 5,
            v6: 6,
            v7: 7,
            v8: 8,
        };
        const v = versionMap[def.version];
        if (v === undefined)
            throw new Error(`Invalid UUID version: "${def.version}"`);
        def.pattern ?? (def.pattern = uuid(v));
    }
    else
        def.pattern ?? (def.pattern = uuid());
    $ZodStringFormat.init(inst, def);
});
const $ZodEmail = /*@__PURE__*/ $constructor("$ZodEmail", (inst, def) => {
    def.pattern ?? (def.pattern = email);
    $ZodStringFormat.init(inst, def);
});
/** The `://` guard rejected the input before the URL constructor saw it. */
const URL_BAD_FORMAT = 1;
/** The URL parser rejected the input. */
const URL_UNPARSEABLE = 2;
function canParseURL(input) {
    try {
        if (typeof URL !== "undefined" && typeof URL.canParse === "function")
            return URL.canParse(input);
        new URL(input);
        return true;
    }
    catch {
        return false;
    }
}
function validateURL(trimmed, def) {
    if (!("normalize" in def) && !("hostname" in def) && !("protocol" in def)) {
        return canParseURL(trimmed) || URL_UNPARSEABLE;
    }
    return parseURLObject(trimmed, def);
}
/** Parses a URL while preserving the non-normalizing HTTP guard. */
function parseURLObject(trimmed, def) {
    // When normalize is off, require :// for http/https URLs. This prevents strings like "http:example.com" or "https:/path" from being silently accepted
    if (!def.normalize && def.protocol?.source === httpProtocol.source && !/^https?:\/\//i.test(trimmed)) {
        return URL_BAD_FORMAT;
    }
    try {
        if (typeof URL !== "undefined") {
            const URLStatic = URL;
            if (typeof URLStatic.parse === "function")
                return URLStatic.parse(trimmed) ?? URL_UNPARSEABLE;
        }
        // @ts-ignore
        return new URL(trimmed);
    }
    catch {
        return URL_UNPARSEABLE;
    }
}
const asciiTabOrNewline = /[\t\n\r]/g;
/** The URL parser deletes every ASCII tab, LF and CR from its input before it parses, so `new URL("https://exa\nmple.com")` reports on `example.com`. Applying the same deletion to the returned value closes the half of that divergence which can move the host; the parser's other rewrite, stripping C0 controls at the edges, cannot. */
function stripTabAndNewline(value) {
    return value.replace(asciiTabOrNewline, "");
}
function urlHostnameOk(url, hostname) {
    hostname.lastIndex = 0;
    return hostname.test(url.hostname);
}
function urlProtocolOk(url, protocol) {
    protocol.lastIndex = 0;
    return protocol.test(url.protocol.endsWith(":") ? url.protocol.slice(0, -1) : url.protocol);
}
const $ZodURL = /*@__PURE__*/ $constructor("$ZodURL", (inst, def) => {
    $ZodStringFormat.init(inst, def);
    inst._zod.check = (payload) => {
        try {
            // Trim whitespace from input
            const trimmed = payload.value.trim();
            const url = validateURL(trimmed, def);
            if (url === URL_BAD_FORMAT) {
                payload.issues.push({
                    code: "invalid_format",
                    format: "url",
                    note: "Invalid URL format",
                    input: payload.value,
                    inst,
                    continue: !def.abort,
                });
                return;
            }
            if (url === URL_UNPARSEABLE) {
                payload.issues.push({
                    code: "invalid_format",
                    format: "url",
                    input: payload.value,
                    inst,
                    continue: !def.abort,
                });
                return;
            }
            if (url === true) {
                payload.value = stripTabAndNewline(trimmed);
                return;
            }
            if (def.hostname && !urlHostnameOk(url, def.hostname)) {
                payload.issues.push({
                    code: "invalid_format",
                    format: "url",
                    note: "Invalid hostname",
                    pattern: def.hostname.source,
                    input: payload.value,
                    inst,
                    continue: !def.abort,
                });
            }
            if (def.protocol && !urlProtocolOk(url, def.protocol)) {
                payload.issues.push({
                    code: "invalid_format",
                    format: "url",
                    note: "Invalid protocol",
                    pattern: def.protocol.source,
                    input: payload.value,
                    inst,
                    continue: !def.abort,
                });
            }
            // Set the output value based on normalize flag
            payload.value = def.normalize ? url.href : stripTabAndNewline(trimmed);
            return;
        }
        catch (_) {
            payload.issues.push({
                code: "invalid_format",
                format: "url",
                input: payload.value,
                inst,
                continue: !def.abort,
            });
        }
    };
});
const $ZodEmoji = /*@__PURE__*/ $constructor("$ZodEmoji", (inst, def) => {
    def.pattern ?? (def.pattern = emoji());
    $ZodStringFormat.init(inst, def);
});
const $ZodNanoID = /*@__PURE__*/ $constructor("$ZodNanoID", (inst, def) => {
    if (def.length !== undefined && (!Number.isInteger(def.length) || def.length < 1))
        throw new Error(`Invalid nanoid length: ${def.length}`);
    def.pattern ?? (def.pattern = def.length === undefined ? nanoid : nanoidOfLength(def.length));
    $ZodStringFormat.init(inst, def);
});
/**
 * @deprecated CUID v1 is deprecated by its authors due to information leakage
 * (timestamps embedded in the id). Use {@link $ZodCUID2} instead.
 * See https://github.com/paralleldrive/cuid.
 */
const $ZodCUID = /*@__PURE__*/ $constructor("$ZodCUID", (inst, def) => {
    def.pattern ?? (def.pattern = cuid);
    $ZodStringFormat.init(inst, def);
});
const $ZodCUID2 = /*@__PURE__*/ $constructor("$ZodCUID2", (inst, def) => {
    def.pattern ?? (def.pattern = cuid2);
    $ZodStringFormat.init(inst, def);
});
const $ZodULID = /*@__PURE__*/ $constructor("$ZodULID", (inst, def) => {
    def.pattern ?? (def.pattern = ulid);
    $ZodStringFormat.init(inst, def);
});
const $ZodXID = /*@__PURE__*/ $constructor("$ZodXID", (inst, def) => {
    def.pattern ?? (def.pattern = xid);
    $ZodStringFormat.init(inst, def);
});
const $ZodKSUID = /*@__PURE__*/ $constructor("$ZodKSUID", (inst, def) => {
    def.pattern ?? (def.pattern = ksuid);
    $ZodStringFormat.init(inst, def);
});
const $ZodISODateTime = /*@__PURE__*/ $constructor("$ZodISODateTime", (inst, def) => {
    def.pattern ?? (def.pattern = datetime(def));
    $ZodStringFormat.init(inst, def);
});
const $ZodISODate = /*@__PURE__*/ $constructor("$ZodISODate", (inst, def) => {
    def.pattern ?? (def.pattern = date);
    $ZodStringFormat.init(inst, def);
});
const $ZodISOTime = /*@__PURE__*/ $constructor("$ZodISOTime", (inst, def) => {
    def.pattern ?? (def.pattern = time(def));
    $ZodStringFormat.init(inst, def);
});
const $ZodISODuration = /*@__PURE__*/ $constructor("$ZodISODuration", (inst, def) => {
    def.pattern ?? (def.pattern = duration);
    $ZodStringFormat.init(inst, def);
});
const $ZodIPv4 = /*@__PURE__*/ $constructor("$ZodIPv4", (inst, def) => {
    def.pattern ?? (def.pattern = regexes_ipv4);
    $ZodStringFormat.init(inst, def);
});
/** An IPv6 address is written with hex digits, colons and dots, and nothing else. The guard is what makes the check below an IPv6 check: `new URL("http://[...]")` parses an authority, not an address, so `@` and `\` re-delimit it and `"::@1\\"` validates against the host `0.0.0.1`. The URL parser also deletes ASCII tab, LF and CR rather than failing, which is how `"::1\n"` validated as `::1`. */
const ipv6Alphabet = /^[0-9a-fA-F:.]+$/;
function isValidIPv6(value) {
    if (!ipv6Alphabet.test(value))
        return false;
    return canParseURL(`http://[${value}]`);
}
const $ZodIPv6 = /*@__PURE__*/ $constructor("$ZodIPv6", (inst, def) => {
    def.pattern ?? (def.pattern = ipv6);
    $ZodStringFormat.init(inst, def);
    inst._zod.check = (payload) => {
        if (!isValidIPv6(payload.value)) {
            payload.issues.push({
                code: "invalid_format",
                format: "ipv6",
                input: payload.value,
                inst,
                continue: !def.abort,
            });
        }
    };
});
const $ZodMAC = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodMAC", (inst, def) => {
    def.pattern ?? (def.pattern = regexes.mac(def.delimiter));
    $ZodStringFormat.init(inst, def);
})));
const $ZodCIDRv4 = /*@__PURE__*/ $constructor("$ZodCIDRv4", (inst, def) => {
    def.pattern ?? (def.pattern = cidrv4);
    $ZodStringFormat.init(inst, def);
});
function isValidCIDRv6(value) {
    const parts = value.split("/");
    if (parts.length !== 2)
        return false;
    const [address, prefix] = parts;
    if (!prefix)
        return false;
    const prefixNum = Number(prefix);
    if (`${prefixNum}` !== prefix)
        return false;
    if (prefixNum < 0 || prefixNum > 128)
        return false;
    return isValidIPv6(address);
}
const $ZodCIDRv6 = /*@__PURE__*/ $constructor("$ZodCIDRv6", (inst, def) => {
    def.pattern ?? (def.pattern = cidrv6); // not used for validation
    $ZodStringFormat.init(inst, def);
    inst._zod.check = (payload) => {
        if (!isValidCIDRv6(payload.value)) {
            payload.issues.push({
                code: "invalid_format",
                format: "cidrv6",
                input: payload.value,
                inst,
                continue: !def.abort,
            });
        }
    };
});
//////////////////////////////   ZodBase64   //////////////////////////////
function isValidBase64(data) {
    if (data === "")
        return true;
    // atob ignores whitespace, so reject it up front.
    if (/\s/.test(data))
        return false;
    if (data.length % 4 !== 0)
        return false;
    try {
        // @ts-ignore
        atob(data);
        return true;
    }
    catch {
        return false;
    }
}
// lax on purpose: the quantified regexes.base64 overflows the regex stack on multi-MB input and its leading ^$| alternation leaks through template-literal composition; isValidBase64 enforces length and padding
const base64Charset = /^[0-9a-zA-Z+/]*={0,2}$/;
const $ZodBase64 = /*@__PURE__*/ $constructor("$ZodBase64", (inst, def) => {
    def.pattern ?? (def.pattern = base64Charset);
    $ZodStringFormat.init(inst, def);
    inst._zod.check = (payload) => {
        if (isValidBase64(payload.value))
            return;
        payload.issues.push({
            code: "invalid_format",
            format: "base64",
            input: payload.value,
            inst,
            continue: !def.abort,
        });
    };
});
//////////////////////////////   ZodBase64URL   //////////////////////////////
// lax on purpose: the quantified regexes.base64url overflows the regex stack on multi-MB input; isValidBase64 enforces length on the padded string
const base64urlCharset = /^[A-Za-z0-9_-]*$/;
function isValidBase64URL(data) {
    if (!base64urlCharset.test(data))
        return false;
    const base64 = data.replace(/[-_]/g, (c) => (c === "-" ? "+" : "/"));
    const padded = base64.padEnd(Math.ceil(base64.length / 4) * 4, "=");
    return isValidBase64(padded);
}
const $ZodBase64URL = /*@__PURE__*/ $constructor("$ZodBase64URL", (inst, def) => {
    def.pattern ?? (def.pattern = base64urlCharset);
    $ZodStringFormat.init(inst, def);
    inst._zod.check = (payload) => {
        if (isValidBase64URL(payload.value))
            return;
        payload.issues.push({
            code: "invalid_format",
            format: "base64url",
            input: payload.value,
            inst,
            continue: !def.abort,
        });
    };
});
const $ZodE164 = /*@__PURE__*/ $constructor("$ZodE164", (inst, def) => {
    def.pattern ?? (def.pattern = e164);
    $ZodStringFormat.init(inst, def);
});
//////////////////////////////   ZodCreditCard   //////////////////////////////
const CC_SANITIZE = /[- ]/g;
/** Luhn checksum on a digit-only string. Adapted from valibot (MIT). */
function isLuhnAlgo(digits) {
    let length = digits.length;
    let bit = 1;
    let sum = 0;
    while (length) {
        const value = digits.charCodeAt(--length) - 48;
        bit ^= 1;
        sum += bit ? [0, 2, 4, 6, 8, 1, 3, 5, 7, 9][value] : value;
    }
    return sum % 10 === 0;
}
function isValidCreditCard(input) {
    if (!regexes.creditCard.test(input))
        return false;
    return isLuhnAlgo(input.replace(CC_SANITIZE, ""));
}
const $ZodCreditCard = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodCreditCard", (inst, def) => {
    // Shape only — the Luhn check below is not expressible as a pattern, so consumers of `pattern` (JSON Schema, template literals) get the length and separator rules alone.
    def.pattern ?? (def.pattern = regexes.creditCard);
    $ZodStringFormat.init(inst, def);
    inst._zod.check = (payload) => {
        if (isValidCreditCard(payload.value))
            return;
        payload.issues.push({
            code: "invalid_format",
            format: "credit_card",
            input: payload.value,
            inst,
            continue: !def.abort,
        });
    };
})));
//////////////////////////////   ZodIBAN   //////////////////////////////
// iso 7064 mod 97-10 checksum without BigInt
function isIso7064Mod97(iban) {
    let remainder = 0;
    const len = iban.length;
    for (let i = 4; i < len; i++) {
        const code = iban.charCodeAt(i);
        remainder = (code >= 65 ? remainder * 100 + (code - 55) : remainder * 10 + (code - 48)) % 97;
    }
    for (let i = 0; i < 4; i++) {
        const code = iban.charCodeAt(i);
        remainder = (code >= 65 ? remainder * 100 + (code - 55) : remainder * 10 + (code - 48)) % 97;
    }
    return remainder === 1;
}
function isValidIBAN(input) {
    if (!regexes.iban.test(input))
        return false;
    return isIso7064Mod97(input);
}
const $ZodIBAN = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodIBAN", (inst, def) => {
    // shape only — checksum is not expressible as a pattern
    def.pattern ?? (def.pattern = regexes.iban);
    $ZodStringFormat.init(inst, def);
    inst._zod.check = (payload) => {
        if (isValidIBAN(payload.value))
            return;
        payload.issues.push({
            code: "invalid_format",
            format: "iban",
            input: payload.value,
            inst,
            continue: !def.abort,
        });
    };
})));
//////////////////////////////   ZodJWT   //////////////////////////////
function isValidJWT(token, algorithm = null) {
    try {
        const tokensParts = token.split(".");
        if (tokensParts.length !== 3)
            return false;
        const [header] = tokensParts;
        if (!header)
            return false;
        // @ts-ignore
        const parsedHeader = JSON.parse(atob(header));
        if ("typ" in parsedHeader && parsedHeader?.typ !== "JWT")
            return false;
        if (!parsedHeader.alg)
            return false;
        if (algorithm && (!("alg" in parsedHeader) || parsedHeader.alg !== algorithm))
            return false;
        return true;
    }
    catch {
        return false;
    }
}
const $ZodJWT = /*@__PURE__*/ $constructor("$ZodJWT", (inst, def) => {
    $ZodStringFormat.init(inst, def);
    inst._zod.check = (payload) => {
        if (isValidJWT(payload.value, def.alg))
            return;
        payload.issues.push({
            code: "invalid_format",
            format: "jwt",
            input: payload.value,
            inst,
            continue: !def.abort,
        });
    };
});
const $ZodCustomStringFormat = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodCustomStringFormat", (inst, def) => {
    $ZodStringFormat.init(inst, def);
    inst._zod.check = (payload) => {
        if (def.fn(payload.value))
            return;
        payload.issues.push({
            code: "invalid_format",
            format: def.format,
            input: payload.value,
            inst,
            continue: !def.abort,
        });
    };
})));
const $ZodNumber = /*@__PURE__*/ $constructor("$ZodNumber", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.pattern = number;
    inst._zod.parse = (payload, _ctx) => {
        if (def.coerce)
            try {
                payload.value = Number(payload.value);
            }
            catch (_) { }
        const input = payload.value;
        if (typeof input === "number" && !Number.isNaN(input) && Number.isFinite(input)) {
            return payload;
        }
        const received = typeof input === "number"
            ? Number.isNaN(input)
                ? "NaN"
                : !Number.isFinite(input)
                    ? String(input)
                    : undefined
            : undefined;
        payload.issues.push({
            expected: "number",
            code: "invalid_type",
            input,
            inst,
            ...(received ? { received } : {}),
        });
        return payload;
    };
});
const $ZodNumberFormat = /*@__PURE__*/ $constructor("$ZodNumberFormat", (inst, def) => {
    $ZodCheckNumberFormat.init(inst, def);
    $ZodNumber.init(inst, def); // no format checks
});
const $ZodBoolean = /*@__PURE__*/ $constructor("$ZodBoolean", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.pattern = regexes_boolean;
    inst._zod.parse = (payload, _ctx) => {
        if (def.coerce)
            try {
                payload.value = Boolean(payload.value);
            }
            catch (_) { }
        const input = payload.value;
        if (typeof input === "boolean")
            return payload;
        payload.issues.push({
            expected: "boolean",
            code: "invalid_type",
            input,
            inst,
        });
        return payload;
    };
});
const $ZodBigInt = /*@__PURE__*/ $constructor("$ZodBigInt", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.pattern = bigint;
    inst._zod.parse = (payload, _ctx) => {
        if (def.coerce)
            try {
                payload.value = BigInt(payload.value);
            }
            catch (_) { }
        if (typeof payload.value === "bigint")
            return payload;
        payload.issues.push({
            expected: "bigint",
            code: "invalid_type",
            input: payload.value,
            inst,
        });
        return payload;
    };
});
const $ZodBigIntFormat = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodBigIntFormat", (inst, def) => {
    checks.$ZodCheckBigIntFormat.init(inst, def);
    $ZodBigInt.init(inst, def); // no format checks
})));
const $ZodSymbol = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodSymbol", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.parse = (payload, _ctx) => {
        const input = payload.value;
        if (typeof input === "symbol")
            return payload;
        payload.issues.push({
            expected: "symbol",
            code: "invalid_type",
            input,
            inst,
        });
        return payload;
    };
})));
const $ZodUndefined = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodUndefined", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.pattern = regexes.undefined;
    inst._zod.values = new Set([undefined]);
    inst._zod.parse = (payload, _ctx) => {
        const input = payload.value;
        if (typeof input === "undefined")
            return payload;
        payload.issues.push({
            expected: "undefined",
            code: "invalid_type",
            input,
            inst,
        });
        return payload;
    };
})));
const $ZodNull = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodNull", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.pattern = regexes.null;
    inst._zod.values = new Set([null]);
    inst._zod.parse = (payload, _ctx) => {
        const input = payload.value;
        if (input === null)
            return payload;
        payload.issues.push({
            expected: "null",
            code: "invalid_type",
            input,
            inst,
        });
        return payload;
    };
})));
const $ZodAny = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodAny", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.parse = (payload) => payload;
})));
const $ZodUnknown = /*@__PURE__*/ $constructor("$ZodUnknown", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.parse = (payload) => payload;
});
const $ZodNever = /*@__PURE__*/ $constructor("$ZodNever", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.parse = (payload, _ctx) => {
        payload.issues.push({
            expected: "never",
            code: "invalid_type",
            input: payload.value,
            inst,
        });
        return payload;
    };
});
const $ZodVoid = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodVoid", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.parse = (payload, _ctx) => {
        const input = payload.value;
        if (typeof input === "undefined")
            return payload;
        payload.issues.push({
            expected: "void",
            code: "invalid_type",
            input,
            inst,
        });
        return payload;
    };
})));
const $ZodDate = /*@__PURE__*/ $constructor("$ZodDate", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.parse = (payload, _ctx) => {
        if (def.coerce) {
            try {
                payload.value = new Date(payload.value);
            }
            catch (_err) { }
        }
        const input = payload.value;
        const isDate = input instanceof Date;
        const isValidDate = isDate && !Number.isNaN(input.getTime());
        if (isValidDate)
            return payload;
        payload.issues.push({
            expected: "date",
            code: "invalid_type",
            input,
            ...(isDate ? { received: "Invalid Date" } : {}),
            inst,
        });
        return payload;
    };
});
// an oversized container fails its leading size checks before any element is parsed
function capSize(inst, size) {
    const caps = sizeCaps(inst._zod.def.checks);
    if (!caps.length)
        return;
    const cap = Math.min(...caps.map((c) => c[0]));
    const parse = inst._zod.parse;
    inst._zod.parse = (payload, ctx) => {
        const n = size(payload.value);
        if (n > cap && !ctx?.skipChecks && ctx?.direction !== "backward") {
            for (const [max, ch] of sizeCaps(inst._zod.def.checks)) {
                if (n > max && ch._zod.def.when(payload)) {
                    const start = payload.issues.length;
                    ch._zod.check(payload);
                    // the value is still the raw input, so no later check may read it
                    payload.issues[start].continue = false;
                    attachSchema(payload.issues, start, inst);
                    return payload;
                }
            }
        }
        return parse(payload, ctx);
    };
}
const arraySize = (input) => (Array.isArray(input) ? input.length : -1);
const mapSize = (input) => (input instanceof Map ? input.size : -1);
const setSize = (input) => (input instanceof Set ? input.size : -1);
function handleArrayResult(result, final, index) {
    if (result.issues.length) {
        final.issues.push(...prefixIssues(index, result.issues));
    }
    final.value[index] = result.value;
}
const $ZodArray = /*@__PURE__*/ $constructor("$ZodArray", (inst, def) => {
    $ZodType.init(inst, def);
    const memo = globalConfig.memoizer;
    memo?.attach(inst);
    inst._zod.parse = (payload, ctx) => {
        const input = payload.value;
        if (!Array.isArray(input)) {
            payload.issues.push({
                expected: "array",
                code: "invalid_type",
                input,
                inst,
            });
            return payload;
        }
        payload.value = memo ? memo.alloc(inst, payload, Array(input.length), ctx) : Array(input.length);
        const proms = [];
        const abortEarly = ctx?.abortEarly;
        for (let i = 0; i < input.length; i++) {
            const item = input[i];
            const result = def.element._zod.run({
                value: item,
                issues: [],
            }, ctx);
            if (result instanceof Promise) {
                proms.push(result.then((result) => handleArrayResult(result, payload, i)));
            }
            else {
                handleArrayResult(result, payload, i);
                // the element's payload is authoritative here, since handleArrayResult forwards every issue; an object's is not, because it drops a failed absent optional
                if (abortEarly && result.issues.length !== 0 && aborted(result))
                    break;
            }
        }
        if (proms.length) {
            return Promise.all(proms).then(() => payload);
        }
        return payload; //handleArrayResultsAsync(parseResults, final);
    };
    capSize(inst, arraySize);
});
function handlePropertyResult(result, final, key, input, optin, optout) {
    const isPresent = key in input;
    const isOptionalOut = optout === "optional";
    // The middle rung means "absence permitted, nothing supplied in its place", so an absent key contributes nothing — whatever the schema made of `undefined` is invented, not substituted. Only `optional` reaches this with a value: `defaulted` substitutes, and a schema that isn't optional-out has to keep the key.
    if (!isPresent && isOptionalOut && optin === "optional") {
        return;
    }
    if (result.issues.length) {
        // For optional-in/out schemas, ignore errors on absent keys.
        if (optin !== undefined && isOptionalOut && !isPresent) {
            return;
        }
        final.issues.push(...prefixIssues(key, result.issues));
    }
    if (!isPresent && optin === undefined) {
        if (!result.issues.length) {
            final.issues.push({
                code: "invalid_type",
                expected: "nonoptional",
                input: undefined,
                path: [key],
            });
        }
        return;
    }
    if (result.value === undefined) {
        if (isPresent || (optin === "defaulted" && !isOptionalOut)) {
            final.value[key] = undefined;
        }
    }
    else {
        final.value[key] = result.value;
    }
}
// one shared instance; a fresh [] per schema cost 56 bytes retained
const NO_SYMBOL_KEYS = [];
function normalizeDef(def) {
    const keys = Object.keys(def.shape);
    const ownSymbols = Object.getOwnPropertySymbols(def.shape);
    const symbolKeys = ownSymbols.length ? ownSymbols : NO_SYMBOL_KEYS;
    // aliases `keys` when there are no symbols, so a string-only shape keeps one array
    const allKeys = symbolKeys.length ? [...keys, ...symbolKeys] : keys;
    for (const k of allKeys) {
        if (!def.shape?.[k]?._zod?.traits?.has("$ZodType")) {
            throw new Error(`Invalid element at key "${String(k)}": expected a Zod schema`);
        }
    }
    const okeys = optionalKeys(def.shape);
    return {
        ...def,
        allKeys,
        symbolKeys,
        // string-only: handleCatchall matches it against `for...in`, which never yields a symbol
        keySet: new Set(keys),
        numKeys: keys.length,
        optionalKeys: new Set(okeys),
    };
}
function handleCatchall(proms, input, payload, ctx, def, inst, abortEarly) {
    const unrecognized = [];
    const keySet = def.keySet;
    const _catchall = def.catchall._zod;
    const t = _catchall.def.type;
    const optin = _catchall.optin;
    const optout = _catchall.optout;
    // starts at 0, not the current length: the shape phase already ran and may have aborted
    let seen = 0;
    for (const key in input) {
        if (abortEarly && payload.issues.length !== seen) {
            if (aborted(payload, seen))
                break;
            seen = payload.issues.length;
        }
        // Must precede the __proto__ branch: a declared key is not unrecognized, even though the shape loop deliberately strips __proto__ from the parsed output.
        if (keySet.has(key))
            continue;
        // Don't copy an undeclared __proto__ into the result; assignment to a plain {} would replace the result prototype. But in strict mode it is still an unknown key, so report it before skipping.
        if (key === "__proto__") {
            if (t === "never")
                unrecognized.push(key);
            continue;
        }
        if (t === "never") {
            unrecognized.push(key);
            continue;
        }
        const r = _catchall.run({ value: input[key], issues: [] }, ctx);
        if (r instanceof Promise) {
            proms.push(r.then((r) => handlePropertyResult(r, payload, key, input, optin, optout)));
        }
        else {
            handlePropertyResult(r, payload, key, input, optin, optout);
        }
    }
    if (unrecognized.length) {
        payload.issues.push({
            code: "unrecognized_keys",
            keys: unrecognized,
            input,
            inst,
            // Describes the shape of the input, not the validity of the parsed value, so it never aborts. The parse still fails; the schema's own checks just get to run first, and an enclosing intersection can reconcile the key against a sibling operand.
            continue: true,
        });
    }
    if (!proms.length)
        return payload;
    return Promise.all(proms).then(() => {
        return payload;
    });
}
const $ZodObject = /*@__PURE__*/ $constructor("$ZodObject", (inst, def) => {
    // requires cast because technically $ZodObject doesn't extend
    $ZodType.init(inst, def);
    const desc = Object.getOwnPropertyDescriptor(def, "shape");
    // a cloned def carries its source's accessor, which knows the shape it answers from; adopting that keeps the clone's keys readable without running it
    const sh = desc?.get ? desc.get.raw : (def.shape ?? {});
    if (sh) {
        // Freezes the shape on first read, so its getters resolve once and every later read sees the same schemas.
        const get = () => {
            const newSh = { ...sh };
            Object.defineProperty(def, "shape", { value: newSh });
            get.raw = newSh;
            return newSh;
        };
        get.raw = sh;
        Object.defineProperty(def, "shape", { get });
    }
    const _normalized = cached(() => normalizeDef(def));
    defineLazyInternal(inst, "propValues", (zod) => {
        const shape = zod.def.shape;
        const propValues = {};
        for (const key in shape) {
            const field = shape[key]._zod;
            if (field.values) {
                if (!Object.prototype.hasOwnProperty.call(propValues, key)) {
                    util_assignProp(propValues, key, new Set());
                }
                for (const v of field.values)
                    propValues[key].add(v);
                // An omittable slot reads back as undefined at a discriminator lookup, so it has to claim undefined: two options that can both omit the key are not discriminable on it.
                if (field.optin !== undefined)
                    propValues[key].add(undefined);
            }
        }
        return propValues;
    });
    const isObject = util_isObject;
    const catchall = def.catchall;
    let value;
    const memo = globalConfig.memoizer;
    memo?.attach(inst);
    inst._zod.parse = (payload, ctx) => {
        value ?? (value = _normalized.value);
        const input = payload.value;
        if (!isObject(input)) {
            payload.issues.push({
                expected: "object",
                code: "invalid_type",
                input,
                inst,
            });
            return payload;
        }
        payload.value = memo ? memo.alloc(inst, payload, {}, ctx) : {};
        const proms = [];
        const shape = value.shape;
        const abortEarly = ctx?.abortEarly;
        let seen = payload.issues.length;
        for (const key of value.allKeys) {
            if (abortEarly && payload.issues.length !== seen) {
                if (aborted(payload, seen))
                    break;
                seen = payload.issues.length;
            }
            if (key === "__proto__")
                continue;
            const el = shape[key];
            const optin = el._zod.optin;
            const optout = el._zod.optout;
            const r = el._zod.run({ value: input[key], issues: [] }, ctx);
            if (r instanceof Promise) {
                proms.push(r.then((r) => handlePropertyResult(r, payload, key, input, optin, optout)));
            }
            else {
                handlePropertyResult(r, payload, key, input, optin, optout);
            }
        }
        if (!catchall) {
            return proms.length ? Promise.all(proms).then(() => payload) : payload;
        }
        return handleCatchall(proms, input, payload, ctx, _normalized.value, inst, abortEarly === true);
    };
});
const $ZodObjectJIT = /*@__PURE__*/ $constructor("$ZodObjectJIT", (inst, def) => {
    // requires cast because technically $ZodObject doesn't extend
    $ZodObject.init(inst, def);
    const superParse = inst._zod.parse;
    const _normalized = cached(() => normalizeDef(def));
    const memo = globalConfig.memoizer;
    const generateFastpass = (shape) => {
        const normalized = _normalized.value;
        const syms = normalized.symbolKeys;
        // a symbol has no source literal, so it is read as `syms[i]` off the closed-over scope
        const doc = new Doc(["payload", "ctx"], { shape, inst, memo, syms });
        const parseStr = (k) => `shape[${k}]._zod.run({ value: input[${k}], issues: [] }, ctx)`;
        // prefixes in place, like util.prefixIssues. newResult must land before the early return: a catchall runs after this and would otherwise write onto the caller's input
        const prefixStr = (id, k) => `
          let ${id}_ab = false;
          for (let i = 0; i < ${id}.issues.length; i++) {
            const iss = ${id}.issues[i];
            iss.path = iss.path ? [${k}, ...iss.path] : [${k}];
            payload.issues.push(iss);
            if (iss.continue !== true) ${id}_ab = true;
          }
          if (${id}_ab && ctx && ctx.abortEarly) {
            payload.value = newResult;
            return payload;
          }`;
        doc.write(`const input = payload.value;`);
        const ids = Object.create(null);
        let counter = 0;
        for (const key of normalized.allKeys) {
            ids[key] = `key_${counter++}`;
        }
        // A: preserve key order {
        doc.write(memo ? `const newResult = memo.alloc(inst, payload, {}, ctx);` : `const newResult = {};`);
        for (const key of normalized.allKeys) {
            if (key === "__proto__")
                continue;
            const id = ids[key];
            const k = typeof key === "symbol" ? `syms[${syms.indexOf(key)}]` : esc(key);
            const isPresent = `${k} in input`;
            const schema = shape[key];
            const optin = schema?._zod?.optin;
            const isOptionalIn = optin !== undefined;
            const isOptionalOut = schema?._zod?.optout === "optional";
            doc.write(`const ${id} = ${parseStr(k)};`);
            if (isOptionalIn && isOptionalOut) {
                // For optional-in/out schemas, ignore errors on absent keys — and, like the interpreted path, drop the value produced alongside them. The middle rung goes further: it permits absence without supplying anything in its place, so an absent key contributes nothing at all.
                const assign = optin === "optional" ? `${id}_present` : `${id}.value !== undefined || ${id}_present`;
                doc.write(`
        const ${id}_present = ${isPresent};
        if (!${id}.issues.length || ${id}_present) {
          if (${id}.issues.length) {${prefixStr(id, k)}
          }

          if (${assign}) {
            newResult[${k}] = ${id}.value;
          }
        }

      `);
            }
            else if (!isOptionalIn) {
                doc.write(`
        const ${id}_present = ${isPresent};
        if (${id}.issues.length) {${prefixStr(id, k)}
        }
        if (!${id}_present && !${id}.issues.length) {
          payload.issues.push({
            code: "invalid_type",
            expected: "nonoptional",
            input: undefined,
            path: [${k}]
          });
          if (ctx && ctx.abortEarly) {
            payload.value = newResult;
            return payload;
          }
        }

        if (${id}_present) {
          newResult[${k}] = ${id}.value;
        }

      `);
            }
            else {
                doc.write(`
        if (${id}.issues.length) {${prefixStr(id, k)}
        }
      `);
                if (optin === "defaulted") {
                    doc.write(`newResult[${k}] = ${id}.value;`);
                }
                else {
                    doc.write(`
        if (${id}.value !== undefined || ${isPresent}) {
          newResult[${k}] = ${id}.value;
        }
      `);
                }
            }
        }
        doc.write(`payload.value = newResult;`);
        doc.write(`return payload;`);
        // closing `shape` in is what pays: turbofan specializes the parser against that one shape object, so every `shape[k]._zod.run` folds to a known callee. as a parameter it stays a generic load and measures 13% slower even with the forwarding frame gone
        return doc.compile();
    };
    let fastpass;
    const isObject = util_isObject;
    const jit = !globalConfig.jitless;
    const allowsEval = util_allowsEval;
    const fastEnabled = jit && allowsEval.value; // && !def.catchall;
    const catchall = def.catchall;
    let value;
    inst._zod.parse = (payload, ctx) => {
        value ?? (value = _normalized.value);
        const input = payload.value;
        if (!isObject(input)) {
            payload.issues.push({
                expected: "object",
                code: "invalid_type",
                input,
                inst,
            });
            return payload;
        }
        if (jit && fastEnabled && ctx?.async === false && ctx.jitless !== true) {
            // always synchronous
            if (!fastpass)
                fastpass = generateFastpass(def.shape);
            payload = fastpass(payload, ctx);
            if (!catchall)
                return payload;
            return handleCatchall([], input, payload, ctx, value, inst, ctx?.abortEarly === true);
        }
        return superParse(payload, ctx);
    };
});
function handleUnionResults(results, final, inst, ctx) {
    for (const result of results) {
        if (result.issues.length === 0) {
            final.value = result.value;
            return final;
        }
    }
    const nonaborted = results.filter((r) => !aborted(r));
    if (nonaborted.length === 1) {
        final.value = nonaborted[0].value;
        return nonaborted[0];
    }
    final.issues.push({
        code: "invalid_union",
        input: final.value,
        inst,
        errors: results.map((result) => result.issues.map((iss) => finalizeIssue(iss, ctx, config()))),
    });
    return final;
}
const $ZodUnion = /*@__PURE__*/ $constructor("$ZodUnion", (inst, def) => {
    $ZodType.init(inst, def);
    defineLazyInternal(inst, "optin", (zod) => zod.def.options.some((o) => o._zod.optin === "defaulted")
        ? "defaulted"
        : zod.def.options.some((o) => o._zod.optin !== undefined)
            ? "optional"
            : undefined);
    defineLazyInternal(inst, "optout", (zod) => zod.def.options.some((o) => o._zod.optout === "optional") ? "optional" : undefined);
    defineLazyInternal(inst, "values", (zod) => {
        if (zod.def.options.every((o) => o._zod.values)) {
            return new Set(zod.def.options.flatMap((option) => Array.from(option._zod.values)));
        }
        return undefined;
    });
    defineLazyInternal(inst, "pattern", (zod) => {
        if (zod.def.options.every((o) => o._zod.pattern)) {
            const patterns = zod.def.options.map((o) => o._zod.pattern);
            return new RegExp(`^(${patterns.map((p) => cleanRegex(p.source)).join("|")})$`);
        }
        return undefined;
    });
    const first = def.options.length === 1 ? def.options[0]._zod.run : null;
    inst._zod.parse = (payload, ctx) => {
        if (first) {
            return first(payload, ctx);
        }
        let async = false;
        const results = [];
        for (const option of def.options) {
            const result = option._zod.run({
                value: payload.value,
                issues: [],
            }, ctx);
            if (result instanceof Promise) {
                results.push(result);
                async = true;
            }
            else {
                if (result.issues.length === 0)
                    return result;
                results.push(result);
            }
        }
        if (!async)
            return handleUnionResults(results, payload, inst, ctx);
        return Promise.all(results).then((results) => {
            return handleUnionResults(results, payload, inst, ctx);
        });
    };
});
function handleExclusiveUnionResults(results, final, inst, ctx) {
    const matches = [];
    for (let i = 0; i < results.length; i++) {
        if (results[i].issues.length === 0)
            matches.push(i);
    }
    if (matches.length === 1) {
        final.value = results[matches[0]].value;
        return final;
    }
    if (matches.length === 0) {
        // No matches - same as regular union
        final.issues.push({
            code: "invalid_union",
            input: final.value,
            inst,
            errors: results.map((result) => result.issues.map((iss) => util.finalizeIssue(iss, ctx, core.config()))),
        });
    }
    else {
        // Multiple matches - exclusive union failure
        final.issues.push({
            code: "invalid_union",
            input: final.value,
            inst,
            errors: [],
            inclusive: false,
            matches,
        });
    }
    return final;
}
const $ZodXor = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodXor", (inst, def) => {
    $ZodUnion.init(inst, def);
    def.inclusive = false;
    const first = def.options.length === 1 ? def.options[0]._zod.run : null;
    inst._zod.parse = (payload, ctx) => {
        if (first) {
            return first(payload, ctx);
        }
        let async = false;
        const results = [];
        for (const option of def.options) {
            const result = option._zod.run({
                value: payload.value,
                issues: [],
            }, ctx);
            if (result instanceof Promise) {
                results.push(result);
                async = true;
            }
            else {
                results.push(result);
            }
        }
        if (!async)
            return handleExclusiveUnionResults(results, payload, inst, ctx);
        return Promise.all(results).then((results) => {
            return handleExclusiveUnionResults(results, payload, inst, ctx);
        });
    };
})));
/** Returns the option whose discriminator claims `value`, or throws if ambiguous. */
function getDiscriminatedOption(union, value) {
    const internals = union._zod;
    let map = internals.bag.optionsMap;
    if (!map) {
        map = discriminatorMap(internals.def);
        internals.bag.optionsMap = map;
    }
    const option = map.get(value);
    if (option === null)
        throw new Error(`Ambiguous discriminator value "${String(value)}"`);
    return option;
}
function discriminatorMap(def) {
    const map = new Map();
    for (const option of def.options) {
        const values = option._zod.propValues?.[def.discriminator];
        if (!values || values.size === 0)
            throw new Error(`Invalid discriminated union option at index "${def.options.indexOf(option)}"`);
        for (const value of values) {
            if (map.has(value)) {
                if (value !== undefined)
                    throw new Error(`Duplicate discriminator value "${String(value)}"`);
                // keep the collision marked so a later member cannot reclaim it
                map.set(value, null);
            }
            else {
                map.set(value, option);
            }
        }
    }
    return map;
}
const $ZodDiscriminatedUnion = 
/*@__PURE__*/
(/* unused pure expression or super */ null && (core.$constructor("$ZodDiscriminatedUnion", (inst, def) => {
    def.inclusive = false;
    $ZodUnion.init(inst, def);
    const _super = inst._zod.parse;
    util.defineLazyInternal(inst, "propValues", (zod) => {
        const propValues = {};
        let undefinedCount = 0;
        for (const option of zod.def.options) {
            const pv = option._zod.propValues;
            if (!pv || Object.keys(pv).length === 0)
                throw new Error(`Invalid discriminated union option at index "${zod.def.options.indexOf(option)}"`);
            if (pv[zod.def.discriminator]?.has(undefined))
                undefinedCount++;
            for (const [k, v] of Object.entries(pv)) {
                if (!Object.prototype.hasOwnProperty.call(propValues, k)) {
                    util.assignProp(propValues, k, new Set());
                }
                for (const val of v) {
                    propValues[k].add(val);
                }
            }
        }
        if (!zod.def.unionFallback && undefinedCount > 1)
            propValues[zod.def.discriminator]?.delete(undefined);
        return propValues;
    });
    // Checked now rather than in the lookup map below, so an option that lacks the discriminator fails at the `discriminatedUnion` call instead of on the first object parsed. Options whose shape cannot be enumerated without resolving it — pipes and lazies — are left to the map.
    def.options.forEach((option, i) => {
        const propShape = util.rawShape(option._zod.def);
        if (propShape && !Object.prototype.hasOwnProperty.call(propShape, def.discriminator)) {
            throw new Error(`Invalid discriminated union option at index "${i}"`);
        }
    });
    const disc = util.cached(() => discriminatorMap(def));
    inst._zod.parse = (payload, ctx) => {
        const input = payload.value;
        if (!util.isObject(input)) {
            payload.issues.push({
                code: "invalid_type",
                expected: "object",
                input,
                inst,
            });
            return payload;
        }
        const value = input?.[def.discriminator];
        const opt = disc.value.get(value);
        // forward metadata cannot choose an encoder for an absent tag
        if (opt && (value !== undefined || ctx.direction !== "backward")) {
            return opt._zod.run(payload, ctx);
        }
        // Fall back to union matching when the fast discriminator path fails:
        // - explicitly enabled via unionFallback, or
        // - during backward direction (encode), since codec-based discriminators have different values in forward vs backward directions
        if (def.unionFallback || ctx.direction === "backward") {
            return _super(payload, ctx);
        }
        // no matching discriminator
        payload.issues.push({
            code: "invalid_union",
            errors: [],
            note: "No matching discriminator",
            discriminator: def.discriminator,
            options: Array.from(disc.value.keys()).filter((value) => disc.value.get(value) !== null),
            input,
            path: [def.discriminator],
            inst,
        });
        return payload;
    };
})));
const $ZodIntersection = /*@__PURE__*/ $constructor("$ZodIntersection", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.parse = (payload, ctx) => {
        const input = payload.value;
        const left = def.left._zod.run({ value: input, issues: [] }, ctx);
        const right = def.right._zod.run({ value: input, issues: [] }, ctx);
        const async = left instanceof Promise || right instanceof Promise;
        if (async) {
            return Promise.all([left, right]).then(([left, right]) => {
                return handleIntersectionResults(payload, left, right);
            });
        }
        return handleIntersectionResults(payload, left, right);
    };
});
function mergeValues(a, b) {
    // const aType = parse.t(a);
    // const bType = parse.t(b);
    if (a === b) {
        return { valid: true, data: a };
    }
    if (a instanceof Date && b instanceof Date && +a === +b) {
        return { valid: true, data: a };
    }
    if (isPlainObject(a) && isPlainObject(b)) {
        const bKeys = Object.keys(b);
        const sharedKeys = Object.keys(a).filter((key) => bKeys.indexOf(key) !== -1);
        const newObj = { ...a, ...b };
        if (Object.prototype.hasOwnProperty.call(newObj, "__proto__"))
            delete newObj.__proto__;
        for (const key of sharedKeys) {
            if (key === "__proto__")
                continue;
            const sharedValue = mergeValues(a[key], b[key]);
            if (!sharedValue.valid) {
                return {
                    valid: false,
                    mergeErrorPath: [key, ...sharedValue.mergeErrorPath],
                };
            }
            newObj[key] = sharedValue.data;
        }
        return { valid: true, data: newObj };
    }
    if (Array.isArray(a) && Array.isArray(b)) {
        if (a.length !== b.length) {
            return { valid: false, mergeErrorPath: [] };
        }
        const newArray = [];
        for (let index = 0; index < a.length; index++) {
            const itemA = a[index];
            const itemB = b[index];
            const sharedValue = mergeValues(itemA, itemB);
            if (!sharedValue.valid) {
                return {
                    valid: false,
                    mergeErrorPath: [index, ...sharedValue.mergeErrorPath],
                };
            }
            newArray.push(sharedValue.data);
        }
        return { valid: true, data: newArray };
    }
    return { valid: false, mergeErrorPath: [] };
}
function handleIntersectionResults(result, left, right) {
    // Track which side(s) reject each key. A key rejection is reported only when BOTH sides reject it, so a key owned by one branch survives the other's key schema. strictObject reports these as unrecognized_keys; a record with an open key schema reports one invalid_key per key.
    const unrecKeys = new Map();
    let unrecIssue;
    const keyIssues = new Map();
    const collect = (iss, side) => {
        let keys;
        if (iss.code === "unrecognized_keys" && !iss.path?.length) {
            unrecIssue ?? (unrecIssue = iss);
            keys = iss.keys;
        }
        else if (iss.code === "invalid_key" && iss.origin === "record" && iss.path?.length === 1) {
            const k = String(iss.path[0]);
            if (!keyIssues.has(k))
                keyIssues.set(k, iss);
            keys = [k];
        }
        else {
            return false;
        }
        for (const k of keys) {
            if (!unrecKeys.has(k))
                unrecKeys.set(k, {});
            unrecKeys.get(k)[side] = true;
        }
        return true;
    };
    for (const iss of left.issues) {
        if (!collect(iss, "l"))
            result.issues.push(iss);
    }
    for (const iss of right.issues) {
        if (!collect(iss, "r"))
            result.issues.push(iss);
    }
    // Report only keys rejected by BOTH sides
    const bothKeys = [...unrecKeys].filter(([, f]) => f.l && f.r).map(([k]) => k);
    if (bothKeys.length) {
        const aggregated = unrecIssue ? bothKeys.filter((k) => unrecIssue.keys.includes(k)) : [];
        if (aggregated.length)
            result.issues.push({ ...unrecIssue, keys: aggregated });
        for (const k of bothKeys) {
            if (!aggregated.includes(k) && keyIssues.has(k))
                result.issues.push(keyIssues.get(k));
        }
    }
    const merged = mergeValues(left.value, right.value);
    if (!merged.valid) {
        if (aborted(result))
            return result;
        throw new Error(`Unmergable intersection. Error path: ` + `${JSON.stringify(merged.mergeErrorPath)}`);
    }
    result.value = merged.data;
    return result;
}
const $ZodTuple = /*@__PURE__*/ $constructor("$ZodTuple", (inst, def) => {
    $ZodType.init(inst, def);
    const items = def.items;
    const memo = globalConfig.memoizer;
    memo?.attach(inst);
    inst._zod.parse = (payload, ctx) => {
        const input = payload.value;
        if (!Array.isArray(input)) {
            payload.issues.push({
                input,
                inst,
                expected: "tuple",
                code: "invalid_type",
            });
            return payload;
        }
        payload.value = memo ? memo.alloc(inst, payload, [], ctx) : [];
        const proms = [];
        const optinStart = getTupleOptStart(items, "optin");
        const optoutStart = getTupleOptStart(items, "optout");
        if (!def.rest) {
            if (input.length < optinStart) {
                payload.issues.push({
                    code: "too_small",
                    minimum: optinStart,
                    inclusive: true,
                    input,
                    inst,
                    origin: "array",
                });
                return payload;
            }
            if (input.length > items.length) {
                payload.issues.push({
                    code: "too_big",
                    maximum: items.length,
                    inclusive: true,
                    input,
                    inst,
                    origin: "array",
                });
            }
        }
        // Run every item in parallel, collecting results into an indexed array. The post-processing in `handleTupleResults` walks them in order so it can decide whether an absent optional-output error can truncate the tail or must be reported to preserve required output.
        const itemResults = new Array(items.length);
        // only tracked when there is a rest loop to skip
        const abortEarly = def.rest ? ctx?.abortEarly : undefined;
        let itemAborted = false;
        for (let i = 0; i < items.length; i++) {
            const r = items[i]._zod.run({ value: input[i], issues: [] }, ctx);
            if (r instanceof Promise) {
                proms.push(r.then((rr) => {
                    itemResults[i] = rr;
                }));
            }
            else {
                itemResults[i] = r;
                if (abortEarly && !itemAborted && r.issues.length)
                    itemAborted = aborted(r);
            }
        }
        // sound because rest is non-empty exactly when every fixed index is present, the one case handleTupleResults cannot discard an item's issues
        if (def.rest && !itemAborted) {
            let i = items.length - 1;
            const rest = input.slice(items.length);
            let seen = payload.issues.length;
            for (const el of rest) {
                if (abortEarly && payload.issues.length !== seen) {
                    if (aborted(payload, seen))
                        break;
                    seen = payload.issues.length;
                }
                i++;
                const result = def.rest._zod.run({ value: el, issues: [] }, ctx);
                if (result instanceof Promise) {
                    proms.push(result.then((r) => handleTupleResult(r, payload, i)));
                }
                else {
                    handleTupleResult(result, payload, i);
                }
            }
        }
        if (proms.length) {
            return Promise.all(proms).then(() => handleTupleResults(itemResults, payload, items, input, optoutStart));
        }
        return handleTupleResults(itemResults, payload, items, input, optoutStart);
    };
});
function getTupleOptStart(items, key) {
    for (let i = items.length - 1; i >= 0; i--) {
        // optin is a three-rung ladder so any rung above `undefined` permits an absent slot; optout stays two-valued.
        const omittable = key === "optin" ? items[i]._zod.optin !== undefined : items[i]._zod.optout === "optional";
        if (!omittable)
            return i + 1;
    }
    return 0;
}
function handleTupleResult(result, final, index) {
    if (result.issues.length) {
        final.issues.push(...prefixIssues(index, result.issues));
    }
    final.value[index] = result.value;
}
function handleTupleResults(itemResults, final, items, input, optoutStart) {
    // Walk results in order. Mirror $ZodObject's swallow-on-absent-optional rule, but only after `optoutStart`: the first index where the output tuple tail can be absent.
    for (let i = 0; i < items.length; i++) {
        const r = itemResults[i];
        const isPresent = i < input.length;
        // The array analog of `handlePropertyResult`'s absent-key early return: the middle rung permits absence without supplying anything in its place, so the tail truncates here instead of materializing whatever the item made of `undefined`.
        if (!isPresent && i >= optoutStart && items[i]._zod.optin === "optional") {
            final.value.length = i;
            break;
        }
        if (r.issues.length) {
            if (!isPresent && i >= optoutStart) {
                final.value.length = i;
                break;
            }
            final.issues.push(...prefixIssues(i, r.issues));
        }
        final.value[i] = r.value;
    }
    // Drop trailing slots that produced `undefined` for absent input
    // (the array analog of an absent optional key on an object). The
    // `i >= input.length` floor is critical: an explicit `undefined`
    // *inside* the input must be preserved even when the schema is
    // optional-out (e.g. `z.string().or(z.undefined())` accepting an
    // explicit undefined value).
    for (let i = final.value.length - 1; i >= input.length; i--) {
        if (items[i]._zod.optout === "optional" && final.value[i] === undefined) {
            final.value.length = i;
        }
        else {
            break;
        }
    }
    return final;
}
const $ZodRecord = /*@__PURE__*/ $constructor("$ZodRecord", (inst, def) => {
    $ZodType.init(inst, def);
    const memo = globalConfig.memoizer;
    memo?.attach(inst);
    inst._zod.parse = (payload, ctx) => {
        const input = payload.value;
        if (!isPlainObject(input)) {
            payload.issues.push({
                expected: "record",
                code: "invalid_type",
                input,
                inst,
            });
            return payload;
        }
        // no guard in either loop below: a record's invalid_key aborts but an enclosing intersection can reconcile it, so a stopped loop hides keys the sibling does not own and the intersection then rejects nothing
        const proms = [];
        const values = def.keyType._zod.values;
        if (values && !def.partial) {
            payload.value = memo ? memo.alloc(inst, payload, {}, ctx) : {};
            const recordKeys = new Set();
            for (const key of values) {
                if (typeof key === "string" || typeof key === "number" || typeof key === "symbol") {
                    recordKeys.add(typeof key === "number" ? key.toString() : key);
                    // A declared __proto__ is stripped but is not an unrecognized key.
                    if (key === "__proto__")
                        continue;
                    const keyResult = def.keyType._zod.run({ value: key, issues: [] }, ctx);
                    if (keyResult instanceof Promise) {
                        throw new Error("Async schemas not supported in object keys currently");
                    }
                    if (keyResult.issues.length) {
                        payload.issues.push({
                            code: "invalid_key",
                            origin: "record",
                            issues: keyResult.issues.map((iss) => finalizeIssue(iss, ctx, config())),
                            input: key,
                            path: [key],
                            inst,
                        });
                        continue;
                    }
                    const outKey = keyResult.value;
                    if (outKey === "__proto__")
                        continue;
                    const result = def.valueType._zod.run({ value: input[key], issues: [] }, ctx);
                    if (result instanceof Promise) {
                        proms.push(result.then((result) => {
                            if (result.issues.length) {
                                payload.issues.push(...prefixIssues(key, result.issues));
                            }
                            payload.value[outKey] = result.value;
                        }));
                    }
                    else {
                        if (result.issues.length) {
                            payload.issues.push(...prefixIssues(key, result.issues));
                        }
                        payload.value[outKey] = result.value;
                    }
                }
            }
            let unrecognized;
            for (const key in input) {
                if (!recordKeys.has(key)) {
                    if (def.mode === "loose") {
                        // skip __proto__ so it can't replace the result prototype via the assignment setter on the plain {} we build into
                        if (key === "__proto__")
                            continue;
                        payload.value[key] = input[key];
                    }
                    else {
                        unrecognized = unrecognized ?? [];
                        unrecognized.push(key);
                    }
                }
            }
            if (unrecognized && unrecognized.length > 0) {
                payload.issues.push({
                    code: "unrecognized_keys",
                    input,
                    inst,
                    keys: unrecognized,
                    continue: true,
                });
            }
        }
        else {
            payload.value = memo ? memo.alloc(inst, payload, {}, ctx) : {};
            // An enumerable key schema declares which keys the record owns, so a key outside the set is unrecognized. A non-enumerable one (regex, refine) is a constraint every key must satisfy, so a failing key is invalid. Only the former is reconcilable against the other side of an intersection.
            let unrecognized;
            // Reflect.ownKeys for Symbol-key support; filter non-enumerable to match z.object()
            for (const key of Reflect.ownKeys(input)) {
                if (key === "__proto__")
                    continue;
                if (!Object.prototype.propertyIsEnumerable.call(input, key))
                    continue;
                let keyResult = def.keyType._zod.run({ value: key, issues: [] }, ctx);
                if (keyResult instanceof Promise) {
                    throw new Error("Async schemas not supported in object keys currently");
                }
                // Numeric string fallback: if key is a numeric string and failed, retry with Number(key). This handles z.number(), z.literal([1, 2, 3]), and unions containing numeric literals
                const checkNumericKey = typeof key === "string" && number.test(key) && keyResult.issues.length;
                if (checkNumericKey) {
                    const retryResult = def.keyType._zod.run({ value: Number(key), issues: [] }, ctx);
                    if (retryResult instanceof Promise) {
                        throw new Error("Async schemas not supported in object keys currently");
                    }
                    if (retryResult.issues.length === 0) {
                        keyResult = retryResult;
                    }
                }
                if (keyResult.issues.length) {
                    if (def.mode === "loose") {
                        // Pass through unchanged
                        payload.value[key] = input[key];
                    }
                    else if (values) {
                        unrecognized = unrecognized ?? [];
                        unrecognized.push(key);
                    }
                    else {
                        // Default "strict" behavior: error on invalid key
                        payload.issues.push({
                            code: "invalid_key",
                            origin: "record",
                            issues: keyResult.issues.map((iss) => finalizeIssue(iss, ctx, config())),
                            input: key,
                            path: [key],
                            inst,
                        });
                    }
                    continue;
                }
                // the guard above tests the raw input key, but the key schema can normalize an ordinary key into __proto__; re-check the key we actually write under
                const outKey = keyResult.value;
                if (outKey === "__proto__")
                    continue;
                const result = def.valueType._zod.run({ value: input[key], issues: [] }, ctx);
                if (result instanceof Promise) {
                    proms.push(result.then((result) => {
                        if (result.issues.length) {
                            payload.issues.push(...prefixIssues(key, result.issues));
                        }
                        payload.value[outKey] = result.value;
                    }));
                }
                else {
                    if (result.issues.length) {
                        payload.issues.push(...prefixIssues(key, result.issues));
                    }
                    payload.value[outKey] = result.value;
                }
            }
            if (unrecognized && unrecognized.length > 0) {
                payload.issues.push({
                    code: "unrecognized_keys",
                    input,
                    inst,
                    keys: unrecognized,
                    continue: true,
                });
            }
        }
        if (proms.length) {
            return Promise.all(proms).then(() => payload);
        }
        return payload;
    };
});
const $ZodMap = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodMap", (inst, def) => {
    $ZodType.init(inst, def);
    const memo = core.globalConfig.memoizer;
    memo?.attach(inst);
    inst._zod.parse = (payload, ctx) => {
        const input = payload.value;
        if (!(input instanceof Map)) {
            payload.issues.push({
                expected: "map",
                code: "invalid_type",
                input,
                inst,
            });
            return payload;
        }
        const proms = [];
        payload.value = memo ? memo.alloc(inst, payload, new Map(), ctx) : new Map();
        const abortEarly = ctx?.abortEarly;
        let seen = payload.issues.length;
        for (const [key, value] of input) {
            if (abortEarly && payload.issues.length !== seen) {
                if (util.aborted(payload, seen))
                    break;
                seen = payload.issues.length;
            }
            const keyResult = def.keyType._zod.run({ value: key, issues: [] }, ctx);
            const valueResult = def.valueType._zod.run({ value: value, issues: [] }, ctx);
            if (keyResult instanceof Promise || valueResult instanceof Promise) {
                proms.push(Promise.all([keyResult, valueResult]).then(([keyResult, valueResult]) => {
                    handleMapResult(keyResult, valueResult, payload, key, input, inst, ctx);
                }));
            }
            else {
                handleMapResult(keyResult, valueResult, payload, key, input, inst, ctx);
            }
        }
        if (proms.length)
            return Promise.all(proms).then(() => payload);
        return payload;
    };
    capSize(inst, mapSize);
})));
function handleMapResult(keyResult, valueResult, final, key, input, inst, ctx) {
    if (keyResult.issues.length) {
        if (util.propertyKeyTypes.has(typeof key)) {
            final.issues.push(...util.prefixIssues(key, keyResult.issues));
        }
        else {
            final.issues.push({
                code: "invalid_key",
                origin: "map",
                input,
                inst,
                issues: keyResult.issues.map((iss) => util.finalizeIssue(iss, ctx, core.config())),
            });
        }
    }
    if (valueResult.issues.length) {
        if (util.propertyKeyTypes.has(typeof key)) {
            final.issues.push(...util.prefixIssues(key, valueResult.issues));
        }
        else {
            final.issues.push({
                origin: "map",
                code: "invalid_element",
                input,
                inst,
                key: key,
                issues: valueResult.issues.map((iss) => util.finalizeIssue(iss, ctx, core.config())),
            });
        }
    }
    final.value.set(keyResult.value, valueResult.value);
}
const $ZodSet = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodSet", (inst, def) => {
    $ZodType.init(inst, def);
    const memo = core.globalConfig.memoizer;
    memo?.attach(inst);
    inst._zod.parse = (payload, ctx) => {
        const input = payload.value;
        if (!(input instanceof Set)) {
            payload.issues.push({
                input,
                inst,
                expected: "set",
                code: "invalid_type",
            });
            return payload;
        }
        const proms = [];
        payload.value = memo ? memo.alloc(inst, payload, new Set(), ctx) : new Set();
        const abortEarly = ctx?.abortEarly;
        let seen = payload.issues.length;
        for (const item of input) {
            if (abortEarly && payload.issues.length !== seen) {
                if (util.aborted(payload, seen))
                    break;
                seen = payload.issues.length;
            }
            const result = def.valueType._zod.run({ value: item, issues: [] }, ctx);
            if (result instanceof Promise) {
                proms.push(result.then((result) => handleSetResult(result, payload)));
            }
            else
                handleSetResult(result, payload);
        }
        if (proms.length)
            return Promise.all(proms).then(() => payload);
        return payload;
    };
    capSize(inst, setSize);
})));
function handleSetResult(result, final) {
    if (result.issues.length) {
        final.issues.push(...result.issues);
    }
    final.value.add(result.value);
}
const $ZodEnum = /*@__PURE__*/ $constructor("$ZodEnum", (inst, def) => {
    $ZodType.init(inst, def);
    const values = getEnumValues(def.entries);
    const valuesSet = new Set(values);
    inst._zod.values = valuesSet;
    defineLazyInternal(inst, "pattern", (zod) => {
        const patternValues = getEnumValues(zod.def.entries).filter((k) => propertyKeyTypes.has(typeof k));
        // unmatchable fallback, RE2-safe: an empty alternation would compile to /^()$/, which matches ""
        return new RegExp(patternValues.length ? `^(${patternValues.map((o) => escapeRegex(o.toString())).join("|")})$` : "^[^\\s\\S]$");
    });
    inst._zod.parse = (payload, _ctx) => {
        const input = payload.value;
        if (valuesSet.has(input)) {
            return payload;
        }
        payload.issues.push({
            code: "invalid_value",
            values,
            input,
            inst,
        });
        return payload;
    };
});
const $ZodLiteral = /*@__PURE__*/ $constructor("$ZodLiteral", (inst, def) => {
    $ZodType.init(inst, def);
    const values = new Set(def.values);
    inst._zod.values = values;
    defineLazyInternal(inst, "pattern", (zod) => {
        const vals = zod.def.values;
        // unmatchable fallback, RE2-safe: an empty alternation would compile to /^()$/, which matches ""
        return new RegExp(vals.length
            ? `^(${vals
                .map((o) => typeof o === "string" ? escapeRegex(o) : o ? escapeRegex(o.toString()) : String(o))
                .join("|")})$`
            : "^[^\\s\\S]$");
    });
    inst._zod.parse = (payload, _ctx) => {
        const input = payload.value;
        if (values.has(input)) {
            return payload;
        }
        payload.issues.push({
            code: "invalid_value",
            values: def.values,
            input,
            inst,
        });
        return payload;
    };
});
const $ZodFile = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodFile", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.parse = (payload, _ctx) => {
        const input = payload.value;
        // @ts-ignore
        if (input instanceof File)
            return payload;
        payload.issues.push({
            expected: "file",
            code: "invalid_type",
            input,
            inst,
        });
        return payload;
    };
})));
const $ZodTransform = /*@__PURE__*/ $constructor("$ZodTransform", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.optin = "optional";
    globalConfig.memoizer?.guard(inst);
    inst._zod.parse = (payload, ctx) => {
        if (ctx.direction === "backward") {
            throw new $ZodEncodeError(inst.constructor.name);
        }
        const _out = def.transform(payload.value, payload);
        if (ctx.async) {
            const output = _out instanceof Promise ? _out : Promise.resolve(_out);
            return output.then((output) => {
                payload.value = output;
                return payload;
            });
        }
        if (_out instanceof Promise) {
            throw new $ZodAsyncError();
        }
        payload.value = _out;
        return payload;
    };
});
function handleOptionalResult(payload, result) {
    // A substituting schema that still failed has no usable answer; yield undefined. Its issues are simply dropped: it ran on a payload of its own, so there is no shared array to truncate and nothing of the caller's to lose with it.
    payload.value = result.issues.length ? undefined : result.value;
    return payload;
}
const $ZodOptional = /*@__PURE__*/ $constructor("$ZodOptional", (inst, def) => {
    $ZodType.init(inst, def);
    // .optional() propagates absence rather than substituting for it, so a defaulted inner keeps its rung.
    defineLazyInternal(inst, "optin", (zod) => zod.def.innerType._zod.optin === "defaulted" ? "defaulted" : "optional");
    inst._zod.optout = "optional";
    defineLazyInternal(inst, "values", (zod) => {
        const values = zod.def.innerType._zod.values;
        return values ? new Set([...values, undefined]) : undefined;
    });
    defineLazyInternal(inst, "pattern", (zod) => {
        const pattern = zod.def.innerType._zod.pattern;
        return pattern ? new RegExp(`^(${cleanRegex(pattern.source)})?$`) : undefined;
    });
    inst._zod.parse = (payload, ctx) => {
        if (payload.value === undefined) {
            // Only the top rung substitutes a value for absence; everything else leaves it intact, which is what .optional() means.
            if (def.innerType._zod.optin !== "defaulted")
                return payload;
            // Its own payload, for the same reason $ZodCatch gets one: a pipe forwards an unrecognized key through the caller's issues array, and this must not read that as the substituting schema failing and drop it.
            const result = def.innerType._zod.run({ value: payload.value, issues: [] }, ctx);
            if (result instanceof Promise)
                return result.then((result) => handleOptionalResult(payload, result));
            return handleOptionalResult(payload, result);
        }
        return def.innerType._zod.run(payload, ctx);
    };
});
const $ZodExactOptional = /*@__PURE__*/ $constructor("$ZodExactOptional", (inst, def) => {
    // Call parent init - inherits optin/optout = "optional"
    $ZodOptional.init(inst, def);
    // Override values/pattern to NOT add undefined
    defineLazyInternal(inst, "values", (zod) => zod.def.innerType._zod.values);
    defineLazyInternal(inst, "pattern", (zod) => zod.def.innerType._zod.pattern);
    // Override parse to just delegate (no undefined handling)
    inst._zod.parse = (payload, ctx) => {
        return def.innerType._zod.run(payload, ctx);
    };
});
const $ZodNullable = /*@__PURE__*/ $constructor("$ZodNullable", (inst, def) => {
    $ZodType.init(inst, def);
    defineLazyInternal(inst, "optin", (zod) => zod.def.innerType._zod.optin);
    defineLazyInternal(inst, "optout", (zod) => zod.def.innerType._zod.optout);
    defineLazyInternal(inst, "pattern", (zod) => {
        const pattern = zod.def.innerType._zod.pattern;
        return pattern ? new RegExp(`^(${cleanRegex(pattern.source)}|null)$`) : undefined;
    });
    defineLazyInternal(inst, "values", (zod) => {
        return zod.def.innerType._zod.values ? new Set([...zod.def.innerType._zod.values, null]) : undefined;
    });
    inst._zod.parse = (payload, ctx) => {
        // Forward direction (decode): allow null to pass through
        if (payload.value === null)
            return payload;
        return def.innerType._zod.run(payload, ctx);
    };
});
const $ZodDefault = /*@__PURE__*/ $constructor("$ZodDefault", (inst, def) => {
    $ZodType.init(inst, def);
    // inst._zod.qin = "true";
    inst._zod.optin = "defaulted";
    defineLazyInternal(inst, "values", (zod) => zod.def.innerType._zod.values);
    inst._zod.parse = (payload, ctx) => {
        if (ctx.direction === "backward") {
            return def.innerType._zod.run(payload, ctx);
        }
        // Forward direction (decode): apply defaults for undefined input
        if (payload.value === undefined) {
            payload.value = def.defaultValue;
            /**
             * $ZodDefault returns the default value immediately in forward direction.
             * It doesn't pass the default value into the validator ("prefault"). There's no reason to pass the default value through validation. The validity of the default is enforced by TypeScript statically. Otherwise, it's the responsibility of the user to ensure the default is valid. In the case of pipes with divergent in/out types, you can specify the default on the `in` schema of your ZodPipe to set a "prefault" for the pipe.   */
            return payload;
        }
        // Forward direction: continue with default handling
        const result = def.innerType._zod.run(payload, ctx);
        if (result instanceof Promise) {
            return result.then((result) => handleDefaultResult(result, def));
        }
        return handleDefaultResult(result, def);
    };
});
function handleDefaultResult(payload, def) {
    if (payload.value === undefined) {
        payload.value = def.defaultValue;
    }
    return payload;
}
const $ZodPrefault = /*@__PURE__*/ $constructor("$ZodPrefault", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.optin = "defaulted";
    defineLazyInternal(inst, "values", (zod) => zod.def.innerType._zod.values);
    inst._zod.parse = (payload, ctx) => {
        if (ctx.direction === "backward") {
            return def.innerType._zod.run(payload, ctx);
        }
        // Forward direction (decode): apply prefault for undefined input
        if (payload.value === undefined) {
            payload.value = def.defaultValue;
        }
        return def.innerType._zod.run(payload, ctx);
    };
});
const $ZodNonOptional = /*@__PURE__*/ $constructor("$ZodNonOptional", (inst, def) => {
    $ZodType.init(inst, def);
    defineLazyInternal(inst, "values", (zod) => {
        const v = zod.def.innerType._zod.values;
        return v ? new Set([...v].filter((x) => x !== undefined)) : undefined;
    });
    inst._zod.parse = (payload, ctx) => {
        const result = def.innerType._zod.run(payload, ctx);
        if (result instanceof Promise) {
            return result.then((result) => handleNonOptionalResult(result, inst));
        }
        return handleNonOptionalResult(result, inst);
    };
});
function handleNonOptionalResult(payload, inst) {
    if (!payload.issues.length && payload.value === undefined) {
        payload.issues.push({
            code: "invalid_type",
            expected: "nonoptional",
            input: payload.value,
            inst,
        });
    }
    return payload;
}
const $ZodSuccess = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodSuccess", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.parse = (payload, ctx) => {
        if (ctx.direction === "backward") {
            throw new core.$ZodEncodeError("ZodSuccess");
        }
        const result = def.innerType._zod.run(payload, ctx);
        if (result instanceof Promise) {
            return result.then((result) => {
                payload.value = result.issues.length === 0;
                return payload;
            });
        }
        payload.value = result.issues.length === 0;
        return payload;
    };
})));
function handleCatchResult(payload, result, def, ctx) {
    if (!result.issues.length) {
        payload.value = result.value;
        // The value carries up, so the flag describing it has to carry with it: a back-edge into a node still being parsed must not be frozen by an enclosing readonly, and its checks belong to the node itself. Guarded so the ordinary case adds no own property.
        if (result.memo)
            payload.memo = true;
        return payload;
    }
    // Spread the inner's own payload, not ours: `value` has to stay the input the catch was handed, and the inner ran on a payload of its own so its issues are already private to this call.
    payload.value = def.catchValue({
        ...result,
        value: payload.value,
        error: {
            issues: result.issues.map((iss) => finalizeIssue(iss, ctx, config())),
        },
        input: payload.value,
    });
    return payload;
}
const $ZodCatch = /*@__PURE__*/ $constructor("$ZodCatch", (inst, def) => {
    $ZodType.init(inst, def);
    defineLazyInternal(inst, "optin", (zod) => zod.def.innerType._zod.optin === "defaulted" ? "defaulted" : "optional");
    defineLazyInternal(inst, "optout", (zod) => zod.def.innerType._zod.optout);
    defineLazyInternal(inst, "values", (zod) => zod.def.innerType._zod.values);
    inst._zod.parse = (payload, ctx) => {
        if (ctx.direction === "backward") {
            return def.innerType._zod.run(payload, ctx);
        }
        // Forward direction (decode): apply catch logic
        const result = def.innerType._zod.run({ value: payload.value, issues: [] }, ctx);
        if (result instanceof Promise) {
            return result.then((result) => handleCatchResult(payload, result, def, ctx));
        }
        return handleCatchResult(payload, result, def, ctx);
    };
});
const $ZodNaN = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodNaN", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.parse = (payload, _ctx) => {
        if (typeof payload.value !== "number" || !Number.isNaN(payload.value)) {
            payload.issues.push({
                input: payload.value,
                inst,
                expected: "nan",
                code: "invalid_type",
            });
            return payload;
        }
        return payload;
    };
})));
const $ZodPipe = /*@__PURE__*/ $constructor("$ZodPipe", (inst, def) => {
    $ZodType.init(inst, def);
    defineLazyInternal(inst, "values", (zod) => zod.def.in._zod.values);
    defineLazyInternal(inst, "optin", (zod) => zod.def.in._zod.optin);
    defineLazyInternal(inst, "optout", (zod) => zod.def.out._zod.optout);
    defineLazyInternal(inst, "propValues", (zod) => zod.def.in._zod.propValues);
    inst._zod.parse = (payload, ctx) => {
        if (ctx.direction === "backward") {
            const right = def.out._zod.run(payload, ctx);
            if (right instanceof Promise) {
                return right.then((right) => handlePipeResult(right, def.in, ctx));
            }
            return handlePipeResult(right, def.in, ctx);
        }
        const left = def.in._zod.run(payload, ctx);
        if (left instanceof Promise) {
            return left.then((left) => handlePipeResult(left, def.out, ctx));
        }
        return handlePipeResult(left, def.out, ctx);
    };
});
function handlePipeResult(left, next, ctx) {
    // Any issue stops the pipe, so a failing refinement never feeds its transform. An unrecognized key is the exception: it describes the input's extra properties, not the value being piped, and an enclosing intersection may yet reconcile it.
    if (left.issues.some((iss) => iss.code !== "unrecognized_keys")) {
        // prevent further checks
        left.aborted = true;
        return left;
    }
    return next._zod.run({ value: left.value, issues: left.issues }, ctx);
}
const $ZodCodec = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodCodec", (inst, def) => {
    $ZodType.init(inst, def);
    util.defineLazyInternal(inst, "values", (zod) => zod.def.in._zod.values);
    util.defineLazyInternal(inst, "optin", (zod) => zod.def.in._zod.optin);
    util.defineLazyInternal(inst, "optout", (zod) => zod.def.out._zod.optout);
    util.defineLazyInternal(inst, "propValues", (zod) => zod.def.in._zod.propValues);
    inst._zod.parse = (payload, ctx) => {
        const direction = ctx.direction || "forward";
        if (direction === "forward") {
            const left = def.in._zod.run(payload, ctx);
            if (left instanceof Promise) {
                return left.then((left) => handleCodecAResult(left, def, ctx));
            }
            return handleCodecAResult(left, def, ctx);
        }
        else {
            const right = def.out._zod.run(payload, ctx);
            if (right instanceof Promise) {
                return right.then((right) => handleCodecAResult(right, def, ctx));
            }
            return handleCodecAResult(right, def, ctx);
        }
    };
})));
function handleCodecAResult(result, def, ctx) {
    if (result.issues.length) {
        // prevent further checks
        result.aborted = true;
        return result;
    }
    const direction = ctx.direction || "forward";
    if (direction === "forward") {
        const transformed = def.transform(result.value, result);
        if (transformed instanceof Promise) {
            return transformed.then((value) => handleCodecTxResult(result, value, def.out, ctx));
        }
        return handleCodecTxResult(result, transformed, def.out, ctx);
    }
    else {
        const transformed = def.reverseTransform(result.value, result);
        if (transformed instanceof Promise) {
            return transformed.then((value) => handleCodecTxResult(result, value, def.in, ctx));
        }
        return handleCodecTxResult(result, transformed, def.in, ctx);
    }
}
function handleCodecTxResult(left, value, nextSchema, ctx) {
    // Check if transform added any issues
    if (left.issues.length) {
        left.aborted = true;
        return left;
    }
    return nextSchema._zod.run({ value, issues: left.issues }, ctx);
}
const $ZodPreprocess = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodPreprocess", (inst, def) => {
    $ZodPipe.init(inst, def);
})));
const $ZodReadonly = /*@__PURE__*/ $constructor("$ZodReadonly", (inst, def) => {
    $ZodType.init(inst, def);
    defineLazyInternal(inst, "propValues", (zod) => zod.def.innerType._zod.propValues);
    defineLazyInternal(inst, "values", (zod) => zod.def.innerType._zod.values);
    defineLazyInternal(inst, "optin", (zod) => zod.def.innerType?._zod?.optin);
    defineLazyInternal(inst, "optout", (zod) => zod.def.innerType?._zod?.optout);
    inst._zod.parse = (payload, ctx) => {
        if (ctx.direction === "backward") {
            return def.innerType._zod.run(payload, ctx);
        }
        const result = def.innerType._zod.run(payload, ctx);
        if (result instanceof Promise) {
            return result.then(handleReadonlyResult);
        }
        return handleReadonlyResult(result);
    };
});
function handleReadonlyResult(payload) {
    // A repeat visit hands back a node that is still being built; freezing it here would make the rest of its keys fail to assign.
    if (!payload.memo)
        payload.value = Object.freeze(payload.value);
    return payload;
}
// a leaf's pattern source with its own checks folded in: the last pattern-carrying check wins, else length bounds narrow the catch-all, else an integer format narrows the number form. the fold lives here instead of on `_zod.pattern` so a bundle without template literals never pays for it
function leafPattern(schema) {
    const def = schema._zod.def;
    let pattern = def.pattern;
    let isInt = !!def.format?.includes("int");
    let minimum;
    let maximum;
    for (const ch of def.checks ?? []) {
        const d = ch._zod.def;
        if (d.pattern)
            pattern = d.pattern;
        isInt || (isInt = !!d.format?.includes("int"));
        const lo = d.minimum ?? d.length;
        const hi = d.maximum ?? d.length;
        if (lo !== undefined && (minimum === undefined || lo > minimum))
            minimum = lo;
        if (hi !== undefined && (maximum === undefined || hi < maximum))
            maximum = hi;
    }
    if (pattern)
        return pattern.source;
    // an empty range matches nothing at runtime, and `{8,5}` is not a legal quantifier
    if (minimum !== undefined && maximum !== undefined && minimum > maximum)
        return "(?!)";
    if (minimum !== undefined || maximum !== undefined)
        return regexes.string({ minimum, maximum }).source;
    const own = schema._zod.pattern;
    return (isInt && own === regexes.number ? regexes.integer : own)?.source;
}
// a part's pattern source. a wrapper's pattern embeds its inner pattern's source verbatim, so the folded form is substituted in place without knowing the wrapper's own composition; a union's options are joined the way the union builds its own pattern
function partPattern(schema) {
    const def = schema._zod.def;
    const own = schema._zod.pattern?.source;
    // lazy resolves its inner on the internals, not the def
    const inner = def.innerType ?? schema._zod.innerType;
    if (inner) {
        const before = inner._zod.pattern?.source;
        const after = partPattern(inner);
        if (own && before && after && after !== before) {
            return own.replace(util.cleanRegex(before), () => util.cleanRegex(after));
        }
        return own;
    }
    if (def.options) {
        const sources = def.options.map(partPattern);
        if (sources.every(Boolean))
            return `^(${sources.map((s) => util.cleanRegex(s)).join("|")})$`;
    }
    return leafPattern(schema);
}
const $ZodTemplateLiteral = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodTemplateLiteral", (inst, def) => {
    $ZodType.init(inst, def);
    const regexParts = [];
    for (const part of def.parts) {
        if (typeof part === "object" && part !== null) {
            // is Zod schema
            const source = partPattern(part);
            if (!source) {
                throw new Error(`Invalid template literal part, no pattern found: ${[...part._zod.traits].shift()}`);
            }
            regexParts.push(util.cleanRegex(source));
        }
        else if (part === null || util.primitiveTypes.has(typeof part)) {
            regexParts.push(util.escapeRegex(`${part}`));
        }
        else {
            throw new Error(`Invalid template literal part: ${part}`);
        }
    }
    inst._zod.pattern = new RegExp(`^${regexParts.join("")}$`);
    inst._zod.parse = (payload, _ctx) => {
        if (typeof payload.value !== "string") {
            payload.issues.push({
                input: payload.value,
                inst,
                expected: "string",
                code: "invalid_type",
            });
            return payload;
        }
        inst._zod.pattern.lastIndex = 0;
        if (!inst._zod.pattern.test(payload.value)) {
            payload.issues.push({
                input: payload.value,
                inst,
                code: "invalid_format",
                format: def.format ?? "template_literal",
                pattern: inst._zod.pattern.source,
            });
            return payload;
        }
        return payload;
    };
})));
const $ZodFunction = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodFunction", (inst, def) => {
    $ZodType.init(inst, def);
    // Defined, not assigned: the classic prototype exposes `_def` as a getter with no setter.
    Object.defineProperty(inst, "_def", { value: def });
    inst._zod.def = def;
    inst.implement = (func) => {
        if (typeof func !== "function") {
            throw new Error("implement() must be called with a function");
        }
        // Defined inline so the closure stays anonymous: binding it to a `const` first names it, which costs 256 bytes per implemented function.
        return Object.defineProperty(function (...args) {
            const parsedArgs = inst._def.input ? parse(inst._def.input, args) : args;
            const result = Reflect.apply(func, this, parsedArgs);
            if (inst._def.output) {
                return parse(inst._def.output, result);
            }
            return result;
        }, "_zod", { value: inst._zod, enumerable: false });
    };
    inst.implementAsync = (func) => {
        if (typeof func !== "function") {
            throw new Error("implementAsync() must be called with a function");
        }
        return Object.defineProperty(async function (...args) {
            const parsedArgs = inst._def.input ? await parseAsync(inst._def.input, args) : args;
            const result = await Reflect.apply(func, this, parsedArgs);
            if (inst._def.output) {
                return await parseAsync(inst._def.output, result);
            }
            return result;
        }, "_zod", { value: inst._zod, enumerable: false });
    };
    inst._zod.parse = (payload, _ctx) => {
        if (typeof payload.value !== "function") {
            payload.issues.push({
                code: "invalid_type",
                expected: "function",
                input: payload.value,
                inst,
            });
            return payload;
        }
        // Check if output is a promise type to determine if we should use async implementation
        const hasPromiseOutput = inst._def.output && inst._def.output._zod.def.type === "promise";
        if (hasPromiseOutput) {
            payload.value = inst.implementAsync(payload.value);
        }
        else {
            payload.value = inst.implement(payload.value);
        }
        return payload;
    };
    inst.input = (...args) => {
        const F = inst.constructor;
        if (Array.isArray(args[0])) {
            return new F({
                type: "function",
                input: new $ZodTuple({
                    type: "tuple",
                    items: args[0],
                    rest: args[1],
                }),
                output: inst._def.output,
            });
        }
        return new F({
            type: "function",
            input: args[0],
            output: inst._def.output,
        });
    };
    inst.output = (output) => {
        const F = inst.constructor;
        return new F({
            type: "function",
            input: inst._def.input,
            output,
        });
    };
    return inst;
})));
const $ZodPromise = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodPromise", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.parse = (payload, ctx) => {
        return Promise.resolve(payload.value).then((inner) => def.innerType._zod.run({ value: inner, issues: [] }, ctx));
    };
})));
const $ZodLazy = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodLazy", (inst, def) => {
    $ZodType.init(inst, def);
    // Cache the resolved inner type on the shared `def` so all clones of this lazy (e.g. via `.describe()`/`.meta()`) share the same inner instance, preserving identity for cycle detection on recursive schemas.
    util.defineLazy(inst._zod, "innerType", () => {
        const d = def;
        if (!d._cachedInner)
            d._cachedInner = def.getter();
        return d._cachedInner;
    });
    util.defineLazyInternal(inst, "pattern", (zod) => zod.innerType?._zod?.pattern);
    util.defineLazyInternal(inst, "propValues", (zod) => zod.innerType?._zod?.propValues);
    util.defineLazyInternal(inst, "optin", (zod) => zod.innerType?._zod?.optin ?? undefined);
    util.defineLazyInternal(inst, "optout", (zod) => zod.innerType?._zod?.optout ?? undefined);
    inst._zod.parse = (payload, ctx) => {
        const inner = inst._zod.innerType;
        return inner._zod.run(payload, ctx);
    };
})));
const $ZodCustom = /*@__PURE__*/ $constructor("$ZodCustom", (inst, def) => {
    $ZodCheck.init(inst, def);
    $ZodType.init(inst, def);
    inst._zod.parse = (payload, _) => {
        return payload;
    };
    inst._zod.check = (payload) => {
        const input = payload.value;
        const r = def.fn(input);
        if (r instanceof Promise) {
            return r.then((r) => handleRefineResult(r, payload, input, inst));
        }
        handleRefineResult(r, payload, input, inst);
        return;
    };
});
function handleRefineResult(result, payload, input, inst) {
    if (!result) {
        const _iss = {
            code: "custom",
            input,
            inst, // incorporates params.error into issue reporting
            path: [...(inst._zod.def.path ?? [])], // incorporates params.error into issue reporting
            continue: !inst._zod.def.abort,
            // params: inst._zod.def.params,
        };
        if (inst._zod.def.params)
            _iss.params = inst._zod.def.params;
        payload.issues.push(util_issue(_iss));
    }
}

;// CONCATENATED MODULE: ./node_modules/zod/v4/core/registries.js
var registries_a;
const $output = /*@__PURE__*/ (/* unused pure expression or super */ null && (Symbol("ZodOutput")));
const $input = /*@__PURE__*/ (/* unused pure expression or super */ null && (Symbol("ZodInput")));
class $ZodRegistry {
    constructor() {
        this._map = new WeakMap();
        this._idmap = new Map();
    }
    add(schema, ..._meta) {
        const meta = _meta[0];
        this._map.set(schema, meta);
        if (meta && typeof meta === "object" && "id" in meta) {
            this._idmap.set(meta.id, schema);
        }
        return this;
    }
    clear() {
        this._map = new WeakMap();
        this._idmap = new Map();
        return this;
    }
    remove(schema) {
        const meta = this._map.get(schema);
        if (meta && typeof meta === "object" && "id" in meta) {
            this._idmap.delete(meta.id);
        }
        this._map.delete(schema);
        return this;
    }
    get(schema) {
        // return this._map.get(schema) as any;
        // inherit metadata
        const p = schema._zod.parent;
        if (p) {
            const pm = { ...(this.get(p) ?? {}) };
            delete pm.id; // do not inherit id
            const f = { ...pm, ...this._map.get(schema) };
            return Object.keys(f).length ? f : undefined;
        }
        return this._map.get(schema);
    }
    has(schema) {
        return this._map.has(schema);
    }
}
// registries
function registry() {
    return new $ZodRegistry();
}
(registries_a = globalThis).__zod_globalRegistry ?? (registries_a.__zod_globalRegistry = registry());
const globalRegistry = globalThis.__zod_globalRegistry;

;// CONCATENATED MODULE: ./node_modules/zod/v4/core/api.js




function snapshotChecks(def) {
    if (def.checks)
        def.checks = [...def.checks];
    return def;
}
// @__NO_SIDE_EFFECTS__
function _string(Class, params) {
    return new Class(snapshotChecks({ type: "string", ...normalizeParams(params) }));
}
// @__NO_SIDE_EFFECTS__
function _coercedString(Class, params) {
    return new Class(snapshotChecks({ type: "string", coerce: true, ...util.normalizeParams(params) }));
}
// @__NO_SIDE_EFFECTS__
function _email(Class, params) {
    return new Class({
        type: "string",
        format: "email",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _guid(Class, params) {
    return new Class({
        type: "string",
        format: "guid",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _uuid(Class, params) {
    return new Class({
        type: "string",
        format: "uuid",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _uuidv4(Class, params) {
    return new Class({
        type: "string",
        format: "uuid",
        check: "string_format",
        abort: false,
        version: "v4",
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _uuidv6(Class, params) {
    return new Class({
        type: "string",
        format: "uuid",
        check: "string_format",
        abort: false,
        version: "v6",
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _uuidv7(Class, params) {
    return new Class({
        type: "string",
        format: "uuid",
        check: "string_format",
        abort: false,
        version: "v7",
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _url(Class, params) {
    return new Class({
        type: "string",
        format: "url",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function api_emoji(Class, params) {
    return new Class({
        type: "string",
        format: "emoji",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _nanoid(Class, params) {
    return new Class({
        type: "string",
        format: "nanoid",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
/**
 * @deprecated CUID v1 is deprecated by its authors due to information leakage
 * (timestamps embedded in the id). Use {@link _cuid2} instead.
 * See https://github.com/paralleldrive/cuid.
 */
// @__NO_SIDE_EFFECTS__
function _cuid(Class, params) {
    return new Class({
        type: "string",
        format: "cuid",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _cuid2(Class, params) {
    return new Class({
        type: "string",
        format: "cuid2",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _ulid(Class, params) {
    return new Class({
        type: "string",
        format: "ulid",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _xid(Class, params) {
    return new Class({
        type: "string",
        format: "xid",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _ksuid(Class, params) {
    return new Class({
        type: "string",
        format: "ksuid",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _ipv4(Class, params) {
    return new Class({
        type: "string",
        format: "ipv4",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _ipv6(Class, params) {
    return new Class({
        type: "string",
        format: "ipv6",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _mac(Class, params) {
    return new Class({
        type: "string",
        format: "mac",
        check: "string_format",
        abort: false,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _cidrv4(Class, params) {
    return new Class({
        type: "string",
        format: "cidrv4",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _cidrv6(Class, params) {
    return new Class({
        type: "string",
        format: "cidrv6",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _base64(Class, params) {
    return new Class({
        type: "string",
        format: "base64",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _base64url(Class, params) {
    return new Class({
        type: "string",
        format: "base64url",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _e164(Class, params) {
    return new Class({
        type: "string",
        format: "e164",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _creditCard(Class, params) {
    return new Class({
        type: "string",
        format: "credit_card",
        check: "string_format",
        abort: false,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _iban(Class, params) {
    return new Class({
        type: "string",
        format: "iban",
        check: "string_format",
        abort: false,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _jwt(Class, params) {
    return new Class({
        type: "string",
        format: "jwt",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
const TimePrecision = {
    Any: null,
    Minute: -1,
    Second: 0,
    Millisecond: 3,
    Microsecond: 6,
};
// @__NO_SIDE_EFFECTS__
function _isoDateTime(Class, params) {
    return new Class({
        type: "string",
        format: "datetime",
        check: "string_format",
        offset: false,
        local: false,
        precision: null,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _isoDate(Class, params) {
    return new Class({
        type: "string",
        format: "date",
        check: "string_format",
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _isoTime(Class, params) {
    return new Class({
        type: "string",
        format: "time",
        check: "string_format",
        precision: null,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _isoDuration(Class, params) {
    return new Class({
        type: "string",
        format: "duration",
        check: "string_format",
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _number(Class, params) {
    return new Class(snapshotChecks({ type: "number", checks: [], ...normalizeParams(params) }));
}
// @__NO_SIDE_EFFECTS__
function _coercedNumber(Class, params) {
    return new Class(snapshotChecks({ type: "number", coerce: true, checks: [], ...util.normalizeParams(params) }));
}
// @__NO_SIDE_EFFECTS__
function _int(Class, params) {
    return new Class({
        type: "number",
        check: "number_format",
        abort: false,
        format: "safeint",
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _float32(Class, params) {
    return new Class({
        type: "number",
        check: "number_format",
        abort: false,
        format: "float32",
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _float64(Class, params) {
    return new Class({
        type: "number",
        check: "number_format",
        abort: false,
        format: "float64",
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _int32(Class, params) {
    return new Class({
        type: "number",
        check: "number_format",
        abort: false,
        format: "int32",
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _uint32(Class, params) {
    return new Class({
        type: "number",
        check: "number_format",
        abort: false,
        format: "uint32",
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _boolean(Class, params) {
    return new Class({
        type: "boolean",
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _coercedBoolean(Class, params) {
    return new Class({
        type: "boolean",
        coerce: true,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _bigint(Class, params) {
    return new Class({
        type: "bigint",
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _coercedBigint(Class, params) {
    return new Class({
        type: "bigint",
        coerce: true,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _int64(Class, params) {
    return new Class({
        type: "bigint",
        check: "bigint_format",
        abort: false,
        format: "int64",
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _uint64(Class, params) {
    return new Class({
        type: "bigint",
        check: "bigint_format",
        abort: false,
        format: "uint64",
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _symbol(Class, params) {
    return new Class({
        type: "symbol",
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function api_undefined(Class, params) {
    return new Class({
        type: "undefined",
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function api_null(Class, params) {
    return new Class({
        type: "null",
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _any(Class) {
    return new Class({
        type: "any",
    });
}
// @__NO_SIDE_EFFECTS__
function _unknown(Class) {
    return new Class({
        type: "unknown",
    });
}
// @__NO_SIDE_EFFECTS__
function _never(Class, params) {
    return new Class({
        type: "never",
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _void(Class, params) {
    return new Class({
        type: "void",
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _date(Class, params) {
    return new Class({
        type: "date",
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _coercedDate(Class, params) {
    return new Class({
        type: "date",
        coerce: true,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _nan(Class, params) {
    return new Class({
        type: "nan",
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _lt(value, params) {
    return new $ZodCheckLessThan({
        check: "less_than",
        ...normalizeParams(params),
        value,
        inclusive: false,
    });
}
// @__NO_SIDE_EFFECTS__
function _lte(value, params) {
    return new $ZodCheckLessThan({
        check: "less_than",
        ...normalizeParams(params),
        value,
        inclusive: true,
    });
}

// @__NO_SIDE_EFFECTS__
function _gt(value, params) {
    return new $ZodCheckGreaterThan({
        check: "greater_than",
        ...normalizeParams(params),
        value,
        inclusive: false,
    });
}
// @__NO_SIDE_EFFECTS__
function _gte(value, params) {
    return new $ZodCheckGreaterThan({
        check: "greater_than",
        ...normalizeParams(params),
        value,
        inclusive: true,
    });
}

// @__NO_SIDE_EFFECTS__
function _positive(params) {
    return _gt(0, params);
}
// negative
// @__NO_SIDE_EFFECTS__
function _negative(params) {
    return _lt(0, params);
}
// nonpositive
// @__NO_SIDE_EFFECTS__
function _nonpositive(params) {
    return _lte(0, params);
}
// nonnegative
// @__NO_SIDE_EFFECTS__
function _nonnegative(params) {
    return _gte(0, params);
}
// @__NO_SIDE_EFFECTS__
function _multipleOf(value, params) {
    return new $ZodCheckMultipleOf({
        check: "multiple_of",
        ...normalizeParams(params),
        value,
    });
}
// @__NO_SIDE_EFFECTS__
function _maxSize(maximum, params) {
    return new checks.$ZodCheckMaxSize({
        check: "max_size",
        ...util.normalizeParams(params),
        maximum,
    });
}
// @__NO_SIDE_EFFECTS__
function _minSize(minimum, params) {
    return new checks.$ZodCheckMinSize({
        check: "min_size",
        ...util.normalizeParams(params),
        minimum,
    });
}
// @__NO_SIDE_EFFECTS__
function _size(size, params) {
    return new checks.$ZodCheckSizeEquals({
        check: "size_equals",
        ...util.normalizeParams(params),
        size,
    });
}
// @__NO_SIDE_EFFECTS__
function _maxLength(maximum, params) {
    const ch = new $ZodCheckMaxLength({
        check: "max_length",
        ...normalizeParams(params),
        maximum,
    });
    return ch;
}
// @__NO_SIDE_EFFECTS__
function _minLength(minimum, params) {
    return new $ZodCheckMinLength({
        check: "min_length",
        ...normalizeParams(params),
        minimum,
    });
}
// @__NO_SIDE_EFFECTS__
function _length(length, params) {
    return new $ZodCheckLengthEquals({
        check: "length_equals",
        ...normalizeParams(params),
        length,
    });
}
// @__NO_SIDE_EFFECTS__
function _regex(pattern, params) {
    return new $ZodCheckRegex({
        check: "string_format",
        format: "regex",
        ...normalizeParams(params),
        pattern,
    });
}
// @__NO_SIDE_EFFECTS__
function _lowercase(params) {
    return new $ZodCheckLowerCase({
        check: "string_format",
        format: "lowercase",
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _uppercase(params) {
    return new $ZodCheckUpperCase({
        check: "string_format",
        format: "uppercase",
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _includes(includes, params) {
    return new $ZodCheckIncludes({
        check: "string_format",
        format: "includes",
        ...normalizeParams(params),
        includes,
    });
}
// @__NO_SIDE_EFFECTS__
function _startsWith(prefix, params) {
    return new $ZodCheckStartsWith({
        check: "string_format",
        format: "starts_with",
        ...normalizeParams(params),
        prefix,
    });
}
// @__NO_SIDE_EFFECTS__
function _endsWith(suffix, params) {
    return new $ZodCheckEndsWith({
        check: "string_format",
        format: "ends_with",
        ...normalizeParams(params),
        suffix,
    });
}
// @__NO_SIDE_EFFECTS__
function _property(property, schema, params) {
    return new checks.$ZodCheckProperty({
        check: "property",
        property,
        schema,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _properties(shape, params) {
    return new $ZodCheckProperties({
        check: "properties",
        shape,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _mime(types, params) {
    return new checks.$ZodCheckMimeType({
        check: "mime_type",
        mime: types,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _overwrite(tx) {
    return new $ZodCheckOverwrite({
        check: "overwrite",
        tx,
    });
}
// normalize
// @__NO_SIDE_EFFECTS__
function _normalize(form) {
    return _overwrite((input) => input.normalize(form));
}
// trim
// @__NO_SIDE_EFFECTS__
function _trim() {
    return _overwrite((input) => input.trim());
}
// toLowerCase
// @__NO_SIDE_EFFECTS__
function _toLowerCase() {
    return _overwrite((input) => input.toLowerCase());
}
// toUpperCase
// @__NO_SIDE_EFFECTS__
function _toUpperCase() {
    return _overwrite((input) => input.toUpperCase());
}
// slugify
// @__NO_SIDE_EFFECTS__
function _slugify() {
    return _overwrite((input) => slugify(input));
}
// @__NO_SIDE_EFFECTS__
function _array(Class, element, params) {
    return new Class({
        type: "array",
        element,
        // get element() {
        //   return element;
        // },
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _union(Class, options, params) {
    return new Class({
        type: "union",
        options,
        ...util.normalizeParams(params),
    });
}
function _xor(Class, options, params) {
    return new Class({
        type: "union",
        options,
        inclusive: false,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _discriminatedUnion(Class, discriminator, options, params) {
    return new Class({
        type: "union",
        options: options,
        discriminator,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _intersection(Class, left, right) {
    return new Class({
        type: "intersection",
        left,
        right,
    });
}
// export function _tuple(
//   Class: util.SchemaClass<schemas.$ZodTuple>,
//   items: [],
//   params?: string | $ZodTupleParams
// ): schemas.$ZodTuple<[], null>;
// @__NO_SIDE_EFFECTS__
function _tuple(Class, items, _paramsOrRest, _params) {
    const hasRest = _paramsOrRest instanceof schemas.$ZodType;
    const params = hasRest ? _params : _paramsOrRest;
    const rest = hasRest ? _paramsOrRest : null;
    return new Class({
        type: "tuple",
        items,
        rest,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _record(Class, keyType, valueType, params) {
    return new Class({
        type: "record",
        keyType,
        valueType,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _map(Class, keyType, valueType, params) {
    return new Class({
        type: "map",
        keyType,
        valueType,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _set(Class, valueType, params) {
    return new Class({
        type: "set",
        valueType,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _enum(Class, values, params) {
    const entries = Array.isArray(values) ? Object.fromEntries(values.map((v) => [v, v])) : values;
    // if (Array.isArray(values)) {
    //   for (const value of values) {
    //     entries[value] = value;
    //   }
    // } else {
    //   Object.assign(entries, values);
    // }
    // const entries: util.EnumLike = {};
    // for (const val of values) {
    //   entries[val] = val;
    // }
    return new Class({
        type: "enum",
        entries,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
/** @deprecated This API has been merged into `z.enum()`. Use `z.enum()` instead.
 *
 * ```ts
 * enum Colors { red, green, blue }
 * z.enum(Colors);
 * ```
 */
function _nativeEnum(Class, entries, params) {
    return new Class({
        type: "enum",
        entries,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _literal(Class, value, params) {
    return new Class({
        type: "literal",
        values: Array.isArray(value) ? value : [value],
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _file(Class, params) {
    return new Class({
        type: "file",
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _transform(Class, fn) {
    return new Class({
        type: "transform",
        transform: fn,
    });
}
// @__NO_SIDE_EFFECTS__
function _optional(Class, innerType) {
    return new Class({
        type: "optional",
        innerType,
    });
}
// @__NO_SIDE_EFFECTS__
function _nullable(Class, innerType) {
    return new Class({
        type: "nullable",
        innerType,
    });
}
// @__NO_SIDE_EFFECTS__
function _default(Class, innerType, defaultValue) {
    return new Class({
        type: "default",
        innerType,
        get defaultValue() {
            return typeof defaultValue === "function" ? defaultValue() : util.shallowClone(defaultValue);
        },
    });
}
// @__NO_SIDE_EFFECTS__
function _nonoptional(Class, innerType, params) {
    return new Class({
        type: "nonoptional",
        innerType,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _success(Class, innerType) {
    return new Class({
        type: "success",
        innerType,
    });
}
// @__NO_SIDE_EFFECTS__
function _catch(Class, innerType, catchValue) {
    return new Class({
        type: "catch",
        innerType,
        catchValue: (typeof catchValue === "function" ? catchValue : util.constantCatch(catchValue)),
    });
}
// @__NO_SIDE_EFFECTS__
function _pipe(Class, in_, out) {
    return new Class({
        type: "pipe",
        in: in_,
        out,
    });
}
// @__NO_SIDE_EFFECTS__
function _readonly(Class, innerType) {
    return new Class({
        type: "readonly",
        innerType,
    });
}
// @__NO_SIDE_EFFECTS__
function _templateLiteral(Class, parts, params) {
    return new Class({
        type: "template_literal",
        parts,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _lazy(Class, getter) {
    return new Class({
        type: "lazy",
        getter,
    });
}
// @__NO_SIDE_EFFECTS__
function _promise(Class, innerType) {
    return new Class({
        type: "promise",
        innerType,
    });
}
// @__NO_SIDE_EFFECTS__
function _custom(Class, fn, _params) {
    const norm = util.normalizeParams(_params);
    norm.abort ?? (norm.abort = true); // default to abort:false
    const schema = new Class({
        type: "custom",
        check: "custom",
        fn: fn,
        ...norm,
    });
    return schema;
}
// same as _custom but defaults to abort:false
// @__NO_SIDE_EFFECTS__
function _refine(Class, fn, _params) {
    const schema = new Class({
        type: "custom",
        check: "custom",
        fn: fn,
        ...normalizeParams(_params),
    });
    return schema;
}
// @__NO_SIDE_EFFECTS__
function _superRefine(fn, params) {
    const ch = _check((payload) => {
        payload.addIssue = (issue) => {
            if (typeof issue === "string") {
                payload.issues.push(util_issue(issue, payload.value, ch._zod.def));
            }
            else {
                // for Zod 3 backwards compatibility
                const _issue = issue;
                if (_issue.fatal)
                    _issue.continue = false;
                _issue.code ?? (_issue.code = "custom");
                if (!("input" in _issue))
                    _issue.input = payload.value;
                _issue.inst ?? (_issue.inst = ch);
                _issue.continue ?? (_issue.continue = !ch._zod.def.abort); // abort is always undefined, so this is always true...
                payload.issues.push(util_issue(_issue));
            }
        };
        return fn(payload.value, payload);
    }, params);
    return ch;
}
// @__NO_SIDE_EFFECTS__
function _check(fn, params) {
    const ch = new $ZodCheck({
        check: "custom",
        ...normalizeParams(params),
    });
    ch._zod.check = fn;
    return ch;
}
// @__NO_SIDE_EFFECTS__
function describe(description) {
    const ch = new $ZodCheck({ check: "describe" });
    ch._zod.onattach = [
        (inst) => {
            const existing = globalRegistry.get(inst) ?? {};
            globalRegistry.add(inst, { ...existing, description });
        },
    ];
    ch._zod.check = () => { }; // no-op check
    return ch;
}
// @__NO_SIDE_EFFECTS__
function meta(metadata) {
    const ch = new $ZodCheck({ check: "meta" });
    ch._zod.onattach = [
        (inst) => {
            const existing = globalRegistry.get(inst) ?? {};
            globalRegistry.add(inst, { ...existing, ...metadata });
        },
    ];
    ch._zod.check = () => { }; // no-op check
    return ch;
}
// @__NO_SIDE_EFFECTS__
function _stringbool(Classes, _params) {
    const params = util.normalizeParams(_params);
    let truthyArray = params.truthy ?? ["true", "1", "yes", "on", "y", "enabled"];
    let falsyArray = params.falsy ?? ["false", "0", "no", "off", "n", "disabled"];
    if (params.case !== "sensitive") {
        truthyArray = truthyArray.map((v) => (typeof v === "string" ? v.toLowerCase() : v));
        falsyArray = falsyArray.map((v) => (typeof v === "string" ? v.toLowerCase() : v));
    }
    const truthySet = new Set(truthyArray);
    const falsySet = new Set(falsyArray);
    const _Codec = Classes.Codec ?? schemas.$ZodCodec;
    const _Boolean = Classes.Boolean ?? schemas.$ZodBoolean;
    const _String = Classes.String ?? schemas.$ZodString;
    const stringSchema = new _String({ type: "string", error: params.error });
    const booleanSchema = new _Boolean({ type: "boolean", error: params.error });
    const codec = new _Codec({
        type: "pipe",
        in: stringSchema,
        out: booleanSchema,
        transform: ((input, payload) => {
            let data = input;
            if (params.case !== "sensitive")
                data = data.toLowerCase();
            if (truthySet.has(data)) {
                return true;
            }
            else if (falsySet.has(data)) {
                return false;
            }
            else {
                payload.issues.push({
                    code: "invalid_value",
                    expected: "stringbool",
                    values: [...truthySet, ...falsySet],
                    input: payload.value,
                    inst: codec,
                    continue: false,
                });
                return {};
            }
        }),
        reverseTransform: ((input, _payload) => {
            if (input === true) {
                return truthyArray[0] || "true";
            }
            else {
                return falsyArray[0] || "false";
            }
        }),
        error: params.error,
    });
    codec._zod.bag.truthy = truthyArray;
    codec._zod.bag.falsy = falsyArray;
    codec._zod.bag.case = params.case ?? "insensitive";
    return codec;
}
// @__NO_SIDE_EFFECTS__
function _stringFormat(Class, format, fnOrRegex, _params = {}) {
    const params = util.normalizeParams(_params);
    const def = {
        check: "string_format",
        type: "string",
        format,
        fn: typeof fnOrRegex === "function" ? fnOrRegex : (val) => fnOrRegex.test(val),
        ...params,
    };
    if (fnOrRegex instanceof RegExp) {
        def.pattern = fnOrRegex;
    }
    const inst = new Class(def);
    return inst;
}

;// CONCATENATED MODULE: ./node_modules/zod/v4/core/to-json-schema.js


function assignProps(target, ...sources) {
    for (const source of sources) {
        for (const key of Reflect.ownKeys(source)) {
            if (Object.prototype.propertyIsEnumerable.call(source, key)) {
                util_assignProp(target, key, source[key]);
            }
        }
    }
    return target;
}
// function initializeContext<T extends schemas.$ZodType>(inputs: JSONSchemaGeneratorParams<T>): ToJSONSchemaContext<T> {
//   return {
//     processor: inputs.processor,
//     metadataRegistry: inputs.metadata ?? globalRegistry,
//     target: inputs.target ?? "draft-2020-12",
//     unrepresentable: inputs.unrepresentable ?? "throw",
//   };
// }
function to_json_schema_initializeContext(params) {
    // Normalize target: convert old non-hyphenated versions to hyphenated versions
    let target = params?.target ?? "draft-2020-12";
    if (target === "draft-4")
        target = "draft-04";
    if (target === "draft-7")
        target = "draft-07";
    return {
        processors: params.processors ?? {},
        metadataRegistry: params?.metadata ?? globalRegistry,
        target,
        unrepresentable: params?.unrepresentable ?? "throw",
        override: params?.override ?? (() => { }),
        io: params?.io ?? "output",
        counter: 0,
        seen: new Map(),
        sharedDefsExtractedFor: undefined,
        sharedEmitDoneFor: undefined,
        cycles: params?.cycles ?? "ref",
        reused: params?.reused ?? "inline",
        intersections: [],
        deferred: [],
        external: params?.external ?? undefined,
    };
}
/**
 * Applies the `unrepresentable` setting at a site that has no JSON Schema equivalent. Throws
 * `message` unless the setting (or the handler's return value) says otherwise. Returns `true` if a
 * custom JSON Schema was written into `json`, in which case the caller must not write its own.
 */
function handleUnrepresentable(schema, ctx, json, params, message) {
    const result = typeof ctx.unrepresentable === "function"
        ? ctx.unrepresentable({ zodSchema: schema, path: params.path, message })
        : ctx.unrepresentable;
    if (result === "any")
        return false;
    if (result === undefined || result === "throw")
        throw new Error(message);
    Object.assign(json, result);
    return true;
}
// never rename this back to `process`: bundler polyfills inject a top-level `const process` that a lexical declaration of the same name collides with (#6397)
function to_json_schema_processSchema(schema, ctx, _params = { path: [], schemaPath: [] }) {
    var _a;
    const def = schema._zod.def;
    // check for schema in seens
    const seen = ctx.seen.get(schema);
    if (seen) {
        seen.count++;
        // check if cycle
        const isCycle = _params.schemaPath.includes(schema);
        if (isCycle) {
            seen.cycle = _params.path;
        }
        return seen.schema;
    }
    // initialize
    const result = { schema: {}, count: 1, cycle: undefined, path: _params.path };
    ctx.seen.set(schema, result);
    ctx.sharedDefsExtractedFor = undefined;
    ctx.sharedEmitDoneFor = undefined;
    // custom method overrides default behavior
    const overrideSchema = schema._zod.toJSONSchema?.();
    if (overrideSchema) {
        result.schema = overrideSchema;
    }
    else {
        const params = {
            ..._params,
            schemaPath: [..._params.schemaPath, schema],
            path: _params.path,
        };
        if (schema._zod.processJSONSchema) {
            schema._zod.processJSONSchema(ctx, result.schema, params);
        }
        else {
            const _json = result.schema;
            const processor = ctx.processors[def.type];
            if (!processor) {
                throw new Error(`[toJSONSchema]: Non-representable type encountered: ${def.type}`);
            }
            processor(schema, ctx, _json, params);
        }
        const parent = schema._zod.parent;
        if (parent) {
            // Also set ref if processor didn't (for inheritance)
            if (!result.ref)
                result.ref = parent;
            to_json_schema_processSchema(parent, ctx, params);
            ctx.seen.get(parent).isParent = true;
        }
    }
    // metadata
    const meta = ctx.metadataRegistry.get(schema);
    if (meta)
        assignProps(result.schema, meta);
    if (ctx.io === "input" && isTransforming(schema)) {
        // examples/defaults only apply to output type of pipe
        delete result.schema.examples;
        delete result.schema.default;
    }
    // set prefault as default
    if (ctx.io === "input" && "_prefault" in result.schema)
        (_a = result.schema).default ?? (_a.default = result.schema._prefault);
    delete result.schema._prefault;
    // pulling fresh from ctx.seen in case it was overwritten
    const _result = ctx.seen.get(schema);
    return _result.schema;
}
/** @deprecated Renamed to `processSchema`. An export alias declares no binding, so it is safe to keep. */

// Escape a reference token for use in a JSON Pointer fragment (RFC 6901): `~` becomes `~0` and `/` becomes `~1`. The `~` replacement must run first.
function encodeJSONPointerSegment(segment) {
    return segment.replace(/~/g, "~0").replace(/\//g, "~1");
}
function to_json_schema_extractDefs(ctx, schema
// params: EmitParams
) {
    // iterate over seen map;
    const root = ctx.seen.get(schema);
    if (!root)
        throw new Error("Unprocessed schema. This is a bug in Zod.");
    // With `external` set, every registered schema resolves through the external branch of `makeURI`, so the root branch below produces the same ref the external branch would — this pass is identical whichever schema it is called with, and only needs to run once.
    if (ctx.external && ctx.sharedDefsExtractedFor === ctx.external)
        return;
    // Track ids to detect duplicates across different schemas
    const idToSchema = new Map();
    for (const entry of ctx.seen.entries()) {
        const id = ctx.metadataRegistry.get(entry[0])?.id;
        if (id) {
            const existing = idToSchema.get(id);
            if (existing && existing !== entry[0]) {
                throw new Error(`Duplicate schema id "${id}" detected during JSON Schema conversion. Two different schemas cannot share the same id when converted together.`);
            }
            idToSchema.set(id, entry[0]);
        }
    }
    // returns a ref to the schema defId will be empty if the ref points to an external schema (or #)
    const makeURI = (entry) => {
        // comparing the seen objects because sometimes multiple schemas map to the same seen object. e.g. lazy
        // external is configured
        const defsSegment = ctx.target === "draft-2020-12" ? "$defs" : "definitions";
        if (ctx.external) {
            const externalId = ctx.external.registry.get(entry[0])?.id; // ?? "__shared";// `__schema${ctx.counter++}`;
            // check if schema is in the external registry
            const uriGenerator = ctx.external.uri ?? ((id) => id);
            if (externalId) {
                return { ref: uriGenerator(externalId) };
            }
            // otherwise, add to __shared
            const id = entry[1].defId ?? entry[1].schema.id ?? `schema${ctx.counter++}`;
            entry[1].defId = id; // set defId so it will be reused if needed
            return { defId: id, ref: `${uriGenerator("__shared")}#/${defsSegment}/${encodeJSONPointerSegment(id)}` };
        }
        const uriPrefix = `#`;
        const defUriPrefix = `${uriPrefix}/${defsSegment}/`;
        // an id-less root has nowhere to be extracted to, so it stays inline and self-references as `#`
        if (entry[1] === root && !entry[1].schema.id) {
            return { ref: uriPrefix };
        }
        // self-contained schema
        const defId = entry[1].schema.id ?? `__schema${ctx.counter++}`;
        return { defId, ref: defUriPrefix + encodeJSONPointerSegment(defId) };
    };
    // stored cached version in `def` property remove all properties, set $ref
    const extractToDef = (entry) => {
        // if the schema is already a reference, do not extract it
        if (entry[1].schema.$ref) {
            return;
        }
        const seen = entry[1];
        const { ref, defId } = makeURI(entry);
        seen.def = { ...seen.schema };
        // defId won't be set if the schema is a reference to an external schema or if the schema is the root schema
        if (defId)
            seen.defId = defId;
        // wipe away all properties except $ref
        const schema = seen.schema;
        for (const key in schema) {
            delete schema[key];
        }
        schema.$ref = ref;
    };
    // throw on cycles
    // break cycles
    if (ctx.cycles === "throw") {
        for (const entry of ctx.seen.entries()) {
            const seen = entry[1];
            if (seen.cycle) {
                throw new Error("Cycle detected: " +
                    `#/${seen.cycle?.join("/")}/<root>` +
                    '\n\nSet the `cycles` parameter to `"ref"` to resolve cyclical schemas with defs.');
            }
        }
    }
    // extract schemas into $defs
    for (const entry of ctx.seen.entries()) {
        const seen = entry[1];
        // convert root schema to # $ref
        if (schema === entry[0]) {
            extractToDef(entry); // this has special handling for the root schema
            continue;
        }
        // extract schemas that are in the external registry
        if (ctx.external) {
            const ext = ctx.external.registry.get(entry[0])?.id;
            if (schema !== entry[0] && ext) {
                extractToDef(entry);
                continue;
            }
        }
        // extract schemas with `id` meta
        const id = ctx.metadataRegistry.get(entry[0])?.id;
        if (id) {
            extractToDef(entry);
            continue;
        }
        // break cycles
        if (seen.cycle) {
            // any
            extractToDef(entry);
            continue;
        }
        // extract reused schemas
        if (seen.count > 1) {
            if (ctx.reused === "ref") {
                extractToDef(entry);
            }
        }
    }
    if (ctx.external)
        ctx.sharedDefsExtractedFor = ctx.external;
}
/** Rewrites `anyOf: [{type: "a"}, {type: "b"}]` to `type: ["a", "b"]`, which every JSON Schema draft treats as equivalent and most consumers render far better for the nullable case. Only branches that are a bare type assertion qualify — anything carrying a constraint, `$ref`, `const` or metadata is left alone. Runs after `flattenRef`, so a branch an override decorated or `$defs` extraction turned into a `$ref` is no longer bare and correctly stays in `anyOf`. `oneOf` is excluded: `integer` and `number` overlap, so "exactly one" and "at least one" are not the same there. OpenAPI 3.0 is excluded: its `type` must be a single string. */
function compactTypeUnion(schema) {
    const options = schema.anyOf;
    if (!Array.isArray(options) || options.length === 0 || schema.type !== undefined)
        return;
    const types = [];
    for (const option of options) {
        if (!option || typeof option !== "object")
            return;
        // A branch that is itself a compactible union folds into this one — nested `anyOf` and a flat `type` array say the same thing. Compacting it first also makes the result independent of the order this pass walks the seen map in.
        compactTypeUnion(option);
        const keys = Object.keys(option);
        if (keys.length !== 1 || keys[0] !== "type")
            return;
        const type = option.type;
        for (const member of Array.isArray(type) ? type : [type]) {
            if (typeof member !== "string")
                return;
            if (!types.includes(member))
                types.push(member);
        }
    }
    delete schema.anyOf;
    // A `type` array must be non-empty and unique (metaschema); a single member is spelled as a bare string.
    schema.type = types.length === 1 ? types[0] : types;
}
/** Keywords `foldIntersection` knows how to combine. Anything else — `$ref`, `patternProperties`,
 * an annotation like `description` — makes a member unfoldable, so a constraint this does not
 * understand leaves the `allOf` alone instead of being silently dropped or misattributed. */
const FOLDABLE_KEYS = new Set(["type", "properties", "required", "additionalProperties"]);
const UNION_KEYS = ["oneOf", "anyOf"];
/** A member's constraint on a key it does not declare itself. A `catchall` states one; `false`, an absent `additionalProperties`, and the empty schema a loose object emits state nothing. */
function undeclaredConstraint(member) {
    const extra = member.additionalProperties;
    if (extra === undefined || extra === false || typeof extra !== "object" || extra === null)
        return null;
    return Object.keys(extra).length ? extra : null;
}
/** Combines object members into the single object they describe together, or returns `null` if any of them carries a keyword outside {@link FOLDABLE_KEYS}. */
function foldObjects(members) {
    const objects = [];
    for (const member of members) {
        // A boolean subschema is legal JSON Schema and carries no keywords to fold.
        if (typeof member !== "object" || member.type !== "object")
            return null;
        for (const key in member) {
            if (!FOLDABLE_KEYS.has(key))
                return null;
        }
        objects.push(member);
    }
    const properties = {};
    const required = new Set();
    for (const object of objects) {
        for (const key in object.properties) {
            // `in` would report a `__proto__` key as already present via the prototype chain and skip it.
            if (Object.prototype.hasOwnProperty.call(properties, key))
                continue;
            // Every member constrains this key: the ones that declare it say how, and a `catchall` member constrains it too even though it does not name it. The key has to satisfy all of them, which is the same intersection one level down.
            const parts = [];
            for (const other of objects) {
                const part = other.properties?.[key] ?? undeclaredConstraint(other);
                if (part === null || part === undefined)
                    continue;
                if (!parts.some((seen) => JSON.stringify(seen) === JSON.stringify(part)))
                    parts.push(part);
            }
            const merged = parts.length === 1
                ? parts[0]
                : (foldObjects(parts) ?? { allOf: parts });
            util_assignProp(properties, key, merged);
        }
        for (const key of object.required ?? [])
            required.add(key);
    }
    const folded = { type: "object", properties };
    if (required.size)
        folded.required = [...required];
    // A key no member declares is rejected only when every member rejects it, so the fold is closed only when every member is. Otherwise it carries whatever the `catchall` members demand of such a key.
    if (objects.every((object) => object.additionalProperties === false)) {
        folded.additionalProperties = false;
    }
    else {
        const constraints = [];
        for (const object of objects) {
            const constraint = undeclaredConstraint(object);
            if (constraint && !constraints.some((seen) => JSON.stringify(seen) === JSON.stringify(constraint)))
                constraints.push(constraint);
        }
        if (constraints.length === 1)
            folded.additionalProperties = constraints[0];
        else if (constraints.length > 1)
            folded.additionalProperties = { allOf: constraints };
    }
    return folded;
}
/** `additionalProperties` in an `allOf` member sees only that member's own `properties`, so two
 * closed object members reject each other's keys and the schema validates nothing. Zod's parser
 * pools the key sets instead — `handleIntersectionResults` reports a key as unrecognized only when
 * *every* side rejects it — so the emitted schema has to pool them too, and folding the members
 * into one object is the encoding that says so on every target.
 *
 * This runs from `finalize`, after `extractDefs`, which is what keeps it clear of the `$ref`
 * machinery: a member extracted into `$defs` is already a `$ref` by now and declines to fold, so it
 * keeps its reference and its own closedness rather than being inlined as a stale copy. */
function foldIntersection(json) {
    const allOf = json.allOf;
    if (!Array.isArray(allOf) || allOf.length < 2)
        return;
    // An `override` runs before this pass and may have written object keywords onto the intersection itself. Those are deliberate, so decline rather than overwrite them.
    for (const key of FOLDABLE_KEYS)
        if (key in json)
            return;
    // An intersection distributes over a union: `A & (X | Y)` is `(A & X) | (A & Y)`. Only the first union is distributed over; a second one stays among the members every branch folds against, where it fails the object check and declines the whole intersection rather than multiplying out.
    const unions = allOf.filter((m) => UNION_KEYS.some((k) => Array.isArray(m[k])));
    let folded = null;
    if (!unions.length) {
        folded = foldObjects(allOf);
    }
    else {
        const union = unions[0];
        const keyword = UNION_KEYS.find((k) => Array.isArray(union[k]));
        if (Object.keys(union).length !== 1)
            return;
        const rest = allOf.filter((m) => m !== union);
        const branches = union[keyword].map((branch) => foldObjects([...rest, branch]));
        if (branches.some((b) => !b))
            return;
        folded = { [keyword]: branches };
    }
    if (!folded)
        return;
    delete json.allOf;
    assignProps(json, folded);
}
function to_json_schema_finalize(ctx, schema) {
    const root = ctx.seen.get(schema);
    if (!root)
        throw new Error("Unprocessed schema. This is a bug in Zod.");
    // flatten refs - inherit properties from parent schemas
    const flattenRef = (zodSchema) => {
        const seen = ctx.seen.get(zodSchema);
        // already processed
        if (seen.ref === null)
            return;
        const schema = seen.def ?? seen.schema;
        const _cached = { ...schema };
        const ref = seen.ref;
        seen.ref = null; // prevent infinite recursion
        if (ref) {
            flattenRef(ref);
            const refSeen = ctx.seen.get(ref);
            const refSchema = refSeen.schema;
            // merge referenced schema into current
            if (refSchema.$ref && (ctx.target === "draft-07" || ctx.target === "draft-04" || ctx.target === "openapi-3.0")) {
                // older drafts can't combine $ref with other properties
                schema.allOf = schema.allOf ?? [];
                schema.allOf.push(refSchema);
            }
            else {
                assignProps(schema, refSchema);
            }
            // restore child's own properties (child wins)
            assignProps(schema, _cached);
            const isParentRef = zodSchema._zod.parent === ref;
            // For parent chain, child is a refinement - remove parent-only properties
            if (isParentRef) {
                for (const key in schema) {
                    if (key === "$ref" || key === "allOf")
                        continue;
                    if (!(key in _cached)) {
                        delete schema[key];
                    }
                }
            }
            // When ref was extracted to $defs, remove properties that match the definition
            if (refSchema.$ref && refSeen.def) {
                for (const key in schema) {
                    if (key === "$ref" || key === "allOf")
                        continue;
                    if (key in refSeen.def && JSON.stringify(schema[key]) === JSON.stringify(refSeen.def[key])) {
                        delete schema[key];
                    }
                }
            }
        }
        // If parent was extracted (has $ref), propagate $ref to this schema. This handles cases like: readonly().meta({id}).describe() where processor sets ref to innerType but parent should be referenced
        const parent = zodSchema._zod.parent;
        if (parent && parent !== ref) {
            // Ensure parent is processed first so its def has inherited properties
            flattenRef(parent);
            const parentSeen = ctx.seen.get(parent);
            if (parentSeen?.schema.$ref) {
                schema.$ref = parentSeen.schema.$ref;
                // De-duplicate with parent's definition
                if (parentSeen.def) {
                    for (const key in schema) {
                        if (key === "$ref" || key === "allOf")
                            continue;
                        if (key in parentSeen.def && JSON.stringify(schema[key]) === JSON.stringify(parentSeen.def[key])) {
                            delete schema[key];
                        }
                    }
                }
            }
        }
        // execute overrides
        ctx.override({
            zodSchema: zodSchema,
            jsonSchema: schema,
            path: seen.path ?? [],
        });
    };
    // Flattening walks the whole map and clears each `ref` as it goes, so a second call over the same map is a no-op scan. Skip it outright once it has run for a registry conversion.
    if (!ctx.external || ctx.sharedEmitDoneFor !== ctx.external) {
        for (const entry of [...ctx.seen.entries()].reverse()) {
            flattenRef(entry[0]);
        }
        if (ctx.target !== "openapi-3.0") {
            for (const entry of ctx.seen.entries()) {
                compactTypeUnion(entry[1].def ?? entry[1].schema);
            }
        }
        for (const rewrite of ctx.deferred)
            rewrite();
        // After flattening, every member that was extracted is a `$ref`, so the fold sees the final shape. A schema that inherits an intersection — through `z.lazy`, or any `ref` chain — holds the same `allOf` array, so fold by array identity to catch every copy.
        if (ctx.intersections.length) {
            const carriers = new Map();
            for (const seen of ctx.seen.values()) {
                for (const json of [seen.schema, seen.def]) {
                    const allOf = json?.allOf;
                    if (!Array.isArray(allOf))
                        continue;
                    const existing = carriers.get(allOf);
                    if (existing)
                        existing.push(json);
                    else
                        carriers.set(allOf, [json]);
                }
            }
            for (const allOf of ctx.intersections) {
                for (const json of carriers.get(allOf) ?? [])
                    foldIntersection(json);
            }
        }
    }
    const result = {};
    if (ctx.target === "draft-2020-12") {
        result.$schema = "https://json-schema.org/draft/2020-12/schema";
    }
    else if (ctx.target === "draft-07") {
        result.$schema = "http://json-schema.org/draft-07/schema#";
    }
    else if (ctx.target === "draft-04") {
        result.$schema = "http://json-schema.org/draft-04/schema#";
    }
    else if (ctx.target === "openapi-3.0") {
        // OpenAPI 3.0 schema objects should not include a $schema property
    }
    else {
        // Arbitrary string values are allowed but won't have a $schema property set
    }
    if (ctx.external?.uri) {
        const id = ctx.external.registry.get(schema)?.id;
        if (!id)
            throw new Error("Schema is missing an `id` property");
        result.$id = ctx.external.uri(id);
    }
    // when the root was extracted into $defs, `root.schema` is the `$ref` wrapper and `root.def` is the body that now lives under $defs
    assignProps(result, root.defId ? root.schema : (root.def ?? root.schema));
    // The `id` in `.meta()` is a Zod-specific registration tag used to extract schemas into $defs — it is not user-facing JSON Schema metadata. Strip it from the output body where it would otherwise leak. The id is preserved implicitly via the $defs key (and via $ref paths).
    const rootMetaId = ctx.metadataRegistry.get(schema)?.id;
    if (rootMetaId !== undefined && result.id === rootMetaId)
        delete result.id;
    // build defs object. With `external`, `defs` is the shared object every schema writes into, so the same entries are reassigned on every call. Without it, `defs` is fresh per call and must be rebuilt.
    const defs = ctx.external?.defs ?? {};
    if (!ctx.external || ctx.sharedEmitDoneFor !== ctx.external) {
        for (const entry of ctx.seen.entries()) {
            const seen = entry[1];
            if (seen.def && seen.defId) {
                if (seen.def.id === seen.defId)
                    delete seen.def.id;
                util_assignProp(defs, seen.defId, seen.def);
            }
        }
    }
    if (ctx.external)
        ctx.sharedEmitDoneFor = ctx.external;
    // set definitions in result
    if (ctx.external) {
    }
    else {
        if (Object.keys(defs).length > 0) {
            if (ctx.target === "draft-2020-12") {
                result.$defs = defs;
            }
            else {
                result.definitions = defs;
            }
        }
    }
    try {
        // this "finalizes" this schema and ensures all cycles are removed each call to finalize() is functionally independent though the seen map is shared
        const finalized = JSON.parse(JSON.stringify(result));
        Object.defineProperty(finalized, "~standard", {
            value: {
                ...schema["~standard"],
                jsonSchema: {
                    input: createStandardJSONSchemaMethod(schema, "input", ctx.processors),
                    output: createStandardJSONSchemaMethod(schema, "output", ctx.processors),
                },
            },
            enumerable: false,
            writable: false,
        });
        return finalized;
    }
    catch (_err) {
        throw new Error("Error converting schema to JSON.");
    }
}
function isTransforming(_schema, _ctx) {
    const ctx = _ctx ?? { seen: new Set() };
    if (ctx.seen.has(_schema))
        return false;
    ctx.seen.add(_schema);
    const def = _schema._zod.def;
    if (def.type === "transform")
        return true;
    if (def.type === "array")
        return isTransforming(def.element, ctx);
    if (def.type === "set")
        return isTransforming(def.valueType, ctx);
    if (def.type === "lazy")
        return isTransforming(def.getter(), ctx);
    if (def.type === "promise" ||
        def.type === "optional" ||
        def.type === "nonoptional" ||
        def.type === "nullable" ||
        def.type === "readonly" ||
        def.type === "default" ||
        def.type === "prefault" ||
        def.type === "catch") {
        return isTransforming(def.innerType, ctx);
    }
    if (def.type === "intersection") {
        return isTransforming(def.left, ctx) || isTransforming(def.right, ctx);
    }
    if (def.type === "record" || def.type === "map") {
        return isTransforming(def.keyType, ctx) || isTransforming(def.valueType, ctx);
    }
    if (def.type === "pipe") {
        if (_schema._zod.traits.has("$ZodCodec"))
            return true;
        return isTransforming(def.in, ctx) || isTransforming(def.out, ctx);
    }
    if (def.type === "object") {
        for (const key in def.shape) {
            if (isTransforming(def.shape[key], ctx))
                return true;
        }
        return false;
    }
    if (def.type === "union") {
        for (const option of def.options) {
            if (isTransforming(option, ctx))
                return true;
        }
        return false;
    }
    if (def.type === "tuple") {
        for (const item of def.items) {
            if (isTransforming(item, ctx))
                return true;
        }
        if (def.rest && isTransforming(def.rest, ctx))
            return true;
        return false;
    }
    return false;
}
/**
 * Creates a toJSONSchema method for a schema instance.
 * This encapsulates the logic of initializing context, processing, extracting defs, and finalizing.
 */
const createToJSONSchemaMethod = (schema, processors = {}) => (params) => {
    const ctx = to_json_schema_initializeContext({ ...params, processors });
    to_json_schema_processSchema(schema, ctx);
    to_json_schema_extractDefs(ctx, schema);
    return to_json_schema_finalize(ctx, schema);
};
const createStandardJSONSchemaMethod = (schema, io, processors = {}) => (params) => {
    const { libraryOptions, target } = params ?? {};
    const ctx = to_json_schema_initializeContext({ ...(libraryOptions ?? {}), target, io, processors });
    to_json_schema_processSchema(schema, ctx);
    to_json_schema_extractDefs(ctx, schema);
    return to_json_schema_finalize(ctx, schema);
};

;// CONCATENATED MODULE: ./node_modules/zod/v4/core/json-schema-processors.js




const narrowMin = (agg, key, value) => {
    if (agg[key] === undefined || value > agg[key])
        agg[key] = value;
};
const narrowMax = (agg, key, value) => {
    if (agg[key] === undefined || value < agg[key])
        agg[key] = value;
};
const narrowBoth = (agg, value) => {
    narrowMin(agg, "minimum", value);
    narrowMax(agg, "maximum", value);
};
const addDivisor = (agg, value) => {
    agg.multipleOf ?? (agg.multipleOf = []);
    if (!agg.multipleOf.includes(value))
        agg.multipleOf.push(value);
};
const addPattern = (agg, pattern) => {
    agg.patterns ?? (agg.patterns = new Set());
    agg.patterns.add(pattern);
};
const intersectMime = (agg, mime) => {
    agg.mime = agg.mime ? agg.mime.filter((m) => mime.includes(m)) : [...mime];
};
// last-wins, matching the bag's historical write order; the flag keeps an integer format from being lost to a later float one
const setFormat = (agg, format) => {
    agg.format = format;
    if (format.includes("int"))
        agg.isInt = true;
};
const minContributor = (agg, def) => narrowMin(agg, "minimum", def.minimum);
const maxContributor = (agg, def) => narrowMax(agg, "maximum", def.maximum);
const formatContributor = (ranges) => (agg, def) => {
    setFormat(agg, def.format);
    const [minimum, maximum] = ranges[def.format];
    narrowMin(agg, "minimum", minimum);
    narrowMax(agg, "maximum", maximum);
};
const contributors = {
    greater_than: (agg, def) => narrowMin(agg, def.inclusive ? "minimum" : "exclusiveMinimum", def.value),
    less_than: (agg, def) => narrowMax(agg, def.inclusive ? "maximum" : "exclusiveMaximum", def.value),
    multiple_of: (agg, def) => addDivisor(agg, def.value),
    number_format: formatContributor(NUMBER_FORMAT_RANGES),
    bigint_format: formatContributor(BIGINT_FORMAT_RANGES),
    min_length: minContributor,
    max_length: maxContributor,
    length_equals: (agg, def) => narrowBoth(agg, def.length),
    min_size: minContributor,
    max_size: maxContributor,
    size_equals: (agg, def) => narrowBoth(agg, def.size),
    string_format: (agg, def) => {
        setFormat(agg, def.format);
        if (def.pattern)
            addPattern(agg, def.pattern);
        if (def.format === "base64" || def.format === "base64url")
            agg.contentEncoding = def.format;
        if (def.local || def.precision === -1)
            agg.laxFormat = true;
    },
    mime_type: (agg, def) => intersectMime(agg, def.mime),
};
function aggregateChecks(schema) {
    const agg = {};
    const def = schema._zod.def;
    // a format schema is its own first check, same rule as $ZodType init
    const list = schema._zod.traits.has("$ZodCheck")
        ? [schema, ...(def.checks ?? [])]
        : (def.checks ?? []);
    for (const ch of list)
        contributors[ch._zod.def.check]?.(agg, ch._zod.def);
    // reconcile with the bag so third-party onattach contributions still land; first-party residue is never tighter than the fold, so merging it back is idempotent for one and additive for the other
    const bag = schema._zod.bag;
    if (bag.minimum !== undefined)
        narrowMin(agg, "minimum", bag.minimum);
    if (bag.exclusiveMinimum !== undefined)
        narrowMin(agg, "exclusiveMinimum", bag.exclusiveMinimum);
    if (bag.maximum !== undefined)
        narrowMax(agg, "maximum", bag.maximum);
    if (bag.exclusiveMaximum !== undefined)
        narrowMax(agg, "exclusiveMaximum", bag.exclusiveMaximum);
    if (bag.multipleOf !== undefined)
        addDivisor(agg, bag.multipleOf);
    if (bag.format !== undefined) {
        agg.format ?? (agg.format = bag.format);
        if (bag.format.includes("int"))
            agg.isInt = true;
    }
    if (bag.mime)
        intersectMime(agg, bag.mime);
    for (const pattern of bag.patterns ?? [])
        addPattern(agg, pattern);
    return agg;
}
const formatMap = {
    guid: "uuid",
    url: "uri",
    datetime: "date-time",
    json_string: "json-string",
    regex: "", // do not set
};
// ==================== SIMPLE TYPE PROCESSORS ====================
// the runtime patterns are lax so parse paths never overflow the regex stack; the emitted schema swaps in the exact block forms, which zod itself never executes
const exactPatterns = new Map([
    [base64Charset, base64],
    [base64urlCharset, base64url],
]);
const exactPattern = (p) => exactPatterns.get(p) ?? p;
const stringProcessor = (schema, ctx, _json, _params) => {
    const json = _json;
    json.type = "string";
    const { minimum, maximum, format, patterns, contentEncoding, laxFormat } = aggregateChecks(schema);
    if (typeof minimum === "number")
        json.minLength = minimum;
    if (typeof maximum === "number")
        json.maxLength = maximum;
    // custom pattern overrides format
    if (format) {
        json.format = formatMap[format] ?? format;
        if (json.format === "")
            delete json.format; // empty format is not valid
        // `z.iso.time()` is never full-time, and `laxFormat` carries the datetime shapes that also accept what their keyword forbids
        if (format === "time" || laxFormat) {
            delete json.format;
        }
    }
    if (contentEncoding)
        json.contentEncoding = contentEncoding;
    if (patterns && patterns.size > 0) {
        const patternList = [...patterns].map(exactPattern);
        if (patternList.length === 1)
            json.pattern = patternList[0].source;
        else if (patternList.length > 1) {
            json.allOf = [
                ...patternList.map((regex) => ({
                    ...(ctx.target === "draft-07" || ctx.target === "draft-04" || ctx.target === "openapi-3.0"
                        ? { type: "string" }
                        : {}),
                    pattern: regex.source,
                })),
            ];
        }
    }
};
const numberProcessor = (schema, ctx, _json, params) => {
    const json = _json;
    const { minimum, maximum, multipleOf, exclusiveMaximum, exclusiveMinimum, isInt } = aggregateChecks(schema);
    json.type = isInt ? "integer" : "number";
    // when both minimum and exclusiveMinimum exist, pick the more restrictive one
    const exMin = typeof exclusiveMinimum === "number" && exclusiveMinimum >= (minimum ?? Number.NEGATIVE_INFINITY);
    const exMax = typeof exclusiveMaximum === "number" && exclusiveMaximum <= (maximum ?? Number.POSITIVE_INFINITY);
    const legacy = ctx.target === "draft-04" || ctx.target === "openapi-3.0";
    if (exMin) {
        if (legacy) {
            json.minimum = exclusiveMinimum;
            json.exclusiveMinimum = true;
        }
        else {
            json.exclusiveMinimum = exclusiveMinimum;
        }
    }
    else if (typeof minimum === "number") {
        json.minimum = minimum;
    }
    if (exMax) {
        if (legacy) {
            json.maximum = exclusiveMaximum;
            json.exclusiveMaximum = true;
        }
        else {
            json.exclusiveMaximum = exclusiveMaximum;
        }
    }
    else if (typeof maximum === "number") {
        json.maximum = maximum;
    }
    if (multipleOf) {
        // JSON Schema requires a divisor strictly greater than zero, and a non-finite one does not survive JSON at all. A negative divisor accepts exactly what its absolute value accepts, so it still maps; zero, NaN and Infinity have no keyword form.
        const divisors = new Set();
        for (const divisor of multipleOf) {
            if (Number.isFinite(divisor) && divisor !== 0)
                divisors.add(Math.abs(divisor));
            else
                handleUnrepresentable(schema, ctx, json, params, `A multipleOf divisor of ${divisor} cannot be represented in JSON Schema`);
        }
        // chained divisors are a conjunction the keyword cannot carry alone, so extras ride an allOf, same as stacked patterns
        const [first, ...rest] = divisors;
        if (first !== undefined)
            json.multipleOf = first;
        if (rest.length)
            json.allOf = [...(json.allOf ?? []), ...rest.map((m) => ({ multipleOf: m }))];
    }
};
const booleanProcessor = (_schema, _ctx, json, _params) => {
    json.type = "boolean";
};
const bigintProcessor = (schema, ctx, json, params) => {
    handleUnrepresentable(schema, ctx, json, params, "BigInt cannot be represented in JSON Schema");
};
const symbolProcessor = (schema, ctx, json, params) => {
    handleUnrepresentable(schema, ctx, json, params, "Symbols cannot be represented in JSON Schema");
};
const nullProcessor = (_schema, ctx, json, _params) => {
    if (ctx.target === "openapi-3.0") {
        json.type = "string";
        json.nullable = true;
        json.enum = [null];
    }
    else {
        json.type = "null";
    }
};
const undefinedProcessor = (schema, ctx, json, params) => {
    handleUnrepresentable(schema, ctx, json, params, "Undefined cannot be represented in JSON Schema");
};
const voidProcessor = (schema, ctx, json, params) => {
    handleUnrepresentable(schema, ctx, json, params, "Void cannot be represented in JSON Schema");
};
const neverProcessor = (_schema, _ctx, json, _params) => {
    json.not = {};
};
const anyProcessor = (_schema, _ctx, _json, _params) => {
    // empty schema accepts anything
};
const unknownProcessor = (_schema, _ctx, _json, _params) => {
    // empty schema accepts anything
};
const dateProcessor = (schema, ctx, json, params) => {
    handleUnrepresentable(schema, ctx, json, params, "Date cannot be represented in JSON Schema");
};
const enumProcessor = (schema, _ctx, json, _params) => {
    const def = schema._zod.def;
    const values = getEnumValues(def.entries);
    // an empty enum accepts nothing, same as z.never()
    if (values.length === 0) {
        json.not = {};
        return;
    }
    // Number enums can have both string and number values
    if (values.every((v) => typeof v === "number"))
        json.type = "number";
    if (values.every((v) => typeof v === "string"))
        json.type = "string";
    json.enum = values;
};
const literalProcessor = (schema, ctx, json, params) => {
    const def = schema._zod.def;
    // a literal with no values accepts nothing, same as z.never()
    if (def.values.length === 0) {
        json.not = {};
        return;
    }
    const vals = [];
    for (const val of def.values) {
        if (val === undefined) {
            // a custom schema replaces the whole literal, so there is nothing left to accumulate
            if (handleUnrepresentable(schema, ctx, json, params, "Literal `undefined` cannot be represented in JSON Schema"))
                return;
            // otherwise do not add to vals
        }
        else if (typeof val === "bigint") {
            if (handleUnrepresentable(schema, ctx, json, params, "BigInt literals cannot be represented in JSON Schema"))
                return;
            vals.push(Number(val));
        }
        else {
            vals.push(val);
        }
    }
    if (vals.length === 0) {
        // do nothing (an undefined literal was stripped)
    }
    else if (vals.length === 1) {
        const val = vals[0];
        json.type = val === null ? "null" : typeof val;
        if (ctx.target === "draft-04" || ctx.target === "openapi-3.0") {
            json.enum = [val];
        }
        else {
            json.const = val;
        }
    }
    else {
        if (vals.every((v) => typeof v === "number"))
            json.type = "number";
        if (vals.every((v) => typeof v === "string"))
            json.type = "string";
        if (vals.every((v) => typeof v === "boolean"))
            json.type = "boolean";
        if (vals.every((v) => v === null))
            json.type = "null";
        json.enum = vals;
    }
};
const nanProcessor = (schema, ctx, json, params) => {
    handleUnrepresentable(schema, ctx, json, params, "NaN cannot be represented in JSON Schema");
};
const templateLiteralProcessor = (schema, _ctx, json, _params) => {
    const _json = json;
    const pattern = schema._zod.pattern;
    if (!pattern)
        throw new Error("Pattern not found in template literal");
    _json.type = "string";
    _json.pattern = pattern.source;
};
const fileProcessor = (schema, _ctx, json, _params) => {
    const _json = json;
    _json.type = "string";
    _json.format = "binary";
    _json.contentEncoding = "binary";
    const { minimum, maximum, mime } = aggregateChecks(schema);
    if (minimum !== undefined)
        _json.minLength = minimum;
    if (maximum !== undefined)
        _json.maxLength = maximum;
    if (!mime)
        return;
    // an empty intersection means the mime checks share no value, so nothing passes at runtime; `anyOf` must be non-empty, so the false schema is `not: {}`
    if (mime.length === 0)
        _json.not = {};
    else if (mime.length === 1)
        _json.contentMediaType = mime[0];
    // only contentMediaType differs, so the shared props stay at the root
    else
        _json.anyOf = mime.map((m) => ({ contentMediaType: m }));
};
const successProcessor = (_schema, _ctx, json, _params) => {
    json.type = "boolean";
};
const customProcessor = (schema, ctx, json, params) => {
    handleUnrepresentable(schema, ctx, json, params, "Custom types cannot be represented in JSON Schema");
};
const functionProcessor = (schema, ctx, json, params) => {
    handleUnrepresentable(schema, ctx, json, params, "Function types cannot be represented in JSON Schema");
};
const transformProcessor = (schema, ctx, json, params) => {
    handleUnrepresentable(schema, ctx, json, params, "Transforms cannot be represented in JSON Schema");
};
const mapProcessor = (schema, ctx, json, params) => {
    handleUnrepresentable(schema, ctx, json, params, "Map cannot be represented in JSON Schema");
};
const setProcessor = (schema, ctx, json, params) => {
    handleUnrepresentable(schema, ctx, json, params, "Set cannot be represented in JSON Schema");
};
// ==================== COMPOSITE TYPE PROCESSORS ====================
const arrayProcessor = (schema, ctx, _json, params) => {
    const json = _json;
    const def = schema._zod.def;
    const { minimum, maximum } = aggregateChecks(schema);
    if (typeof minimum === "number")
        json.minItems = minimum;
    if (typeof maximum === "number")
        json.maxItems = maximum;
    json.type = "array";
    json.items = to_json_schema_processSchema(def.element, ctx, {
        ...params,
        path: [...params.path, "items"],
    });
};
// Transform and catch set `optin = "optional"` at runtime so the parser lets them observe an
// absent key, but their declared input type stays required. An input JSON Schema describes the
// declared type, so resolve past them to the schema that actually carries the optionality.
// Used by both `objectProcessor` (for `required`) and `tupleProcessor` (for `minItems`); see
// wiki/optionality.md, "The JSON Schema emitter reads the *static* value".
function inputOptin(schema) {
    const def = schema._zod.def;
    if (def.type === "pipe" && def.in._zod.traits.has("$ZodTransform")) {
        return inputOptin(def.out);
    }
    if (def.type === "catch") {
        return inputOptin(def.innerType);
    }
    return schema._zod.optin;
}
const objectProcessor = (schema, ctx, _json, params) => {
    const json = _json;
    const def = schema._zod.def;
    const shape = def.shape;
    // dropping it while still emitting `additionalProperties: false` would emit a schema that rejects data this one requires
    const symbolKeys = Object.getOwnPropertySymbols(shape);
    if (symbolKeys.length &&
        handleUnrepresentable(schema, ctx, json, params, "Symbol keys cannot be represented in JSON Schema")) {
        return;
    }
    json.type = "object";
    json.properties = {};
    for (const key in shape) {
        // assignProp so a __proto__ key becomes an own property instead of hitting the inherited setter on the plain {} we build into
        util_assignProp(json.properties, key, to_json_schema_processSchema(shape[key], ctx, {
            ...params,
            path: [...params.path, "properties", key],
        }));
    }
    // required keys
    const requiredKeys = [];
    for (const key of Object.keys(shape)) {
        const field = def.shape[key];
        if (ctx.io === "input" ? inputOptin(field) === undefined : field._zod.optout === undefined) {
            requiredKeys.push(key);
        }
    }
    if (requiredKeys.length > 0) {
        json.required = requiredKeys;
    }
    // catchall
    if (def.catchall?._zod.def.type === "never") {
        // strict
        json.additionalProperties = false;
    }
    else if (!def.catchall) {
        // regular
        if (ctx.io === "output")
            json.additionalProperties = false;
    }
    else if (def.catchall) {
        json.additionalProperties = to_json_schema_processSchema(def.catchall, ctx, {
            ...params,
            path: [...params.path, "additionalProperties"],
        });
    }
};
const unionProcessor = (schema, ctx, json, params) => {
    const def = schema._zod.def;
    // Exclusive unions (inclusive === false) use oneOf (exactly one match) instead of anyOf (one or more matches). This includes both z.xor() and discriminated unions
    const isExclusive = def.inclusive === false;
    const options = def.options.map((x, i) => to_json_schema_processSchema(x, ctx, {
        ...params,
        path: [...params.path, isExclusive ? "oneOf" : "anyOf", i],
    }));
    if (isExclusive) {
        json.oneOf = options;
    }
    else {
        json.anyOf = options;
    }
};
const intersectionProcessor = (schema, ctx, json, params) => {
    const def = schema._zod.def;
    const a = to_json_schema_processSchema(def.left, ctx, {
        ...params,
        path: [...params.path, "allOf", 0],
    });
    const b = to_json_schema_processSchema(def.right, ctx, {
        ...params,
        path: [...params.path, "allOf", 1],
    });
    const isSimpleIntersection = (val) => "allOf" in val && Object.keys(val).length === 1;
    const allOf = [
        ...(isSimpleIntersection(a) ? a.allOf : [a]),
        ...(isSimpleIntersection(b) ? b.allOf : [b]),
    ];
    json.allOf = allOf;
    // Recorded innermost first, so a nested intersection has already folded by the time this one is considered. The array is the handle rather than the schema, because a wrapper that inherits this schema shares the same array; `finalize` folds every object holding it. See `foldIntersection`.
    ctx.intersections.push(allOf);
};
const tupleProcessor = (schema, ctx, _json, params) => {
    const json = _json;
    const def = schema._zod.def;
    json.type = "array";
    const prefixPath = ctx.target === "draft-2020-12" ? "prefixItems" : "items";
    const restPath = ctx.target === "draft-2020-12" ? "items" : ctx.target === "openapi-3.0" ? "items" : "additionalItems";
    const prefixItems = def.items.map((x, i) => to_json_schema_processSchema(x, ctx, {
        ...params,
        path: [...params.path, prefixPath, i],
    }));
    const rest = def.rest
        ? to_json_schema_processSchema(def.rest, ctx, {
            ...params,
            path: [...params.path, restPath, ...(ctx.target === "openapi-3.0" ? [def.items.length] : [])],
        })
        : null;
    let minItems = def.items.length;
    while (minItems > 0) {
        const item = def.items[minItems - 1];
        const optional = ctx.io === "input" ? inputOptin(item) !== undefined : item._zod.optout === "optional";
        if (!optional)
            break;
        minItems--;
    }
    const maxItems = def.items.length;
    const isClosed = !def.rest;
    if (ctx.target === "draft-2020-12") {
        json.prefixItems = prefixItems;
        if (isClosed) {
            json.items = false;
        }
        else if (rest) {
            json.items = rest;
        }
        if (minItems > 0)
            json.minItems = minItems;
        if (isClosed)
            json.maxItems = maxItems;
    }
    else if (ctx.target === "openapi-3.0") {
        json.items = {
            anyOf: prefixItems,
        };
        if (rest) {
            json.items.anyOf.push(rest);
        }
        if (minItems > 0)
            json.minItems = minItems;
        if (isClosed)
            json.maxItems = maxItems;
    }
    else {
        json.items = prefixItems;
        if (isClosed) {
            json.additionalItems = false;
        }
        else if (rest) {
            json.additionalItems = rest;
        }
        if (minItems > 0)
            json.minItems = minItems;
        if (isClosed)
            json.maxItems = maxItems;
    }
    // explicit user-defined length checks take precedence
    const { minimum, maximum } = aggregateChecks(schema);
    if (typeof minimum === "number")
        json.minItems = minimum;
    if (typeof maximum === "number")
        json.maxItems = maximum;
};
/** JSON object keys are always strings, so a numeric record key schema is re-expressed over the
 * numeric-string form the record parser matches. Deferred to `finalize`, after the flatten: a key
 * behind a wrapper only carries its own `type` before then, and a union key only has its branches.
 *
 * A numeric bound cannot apply to a property name, so `minimum` and its siblings are dropped rather
 * than carried over: keeping them beside `type: "string"` reproduces the match-nothing schema this
 * exists to fix. A key that carries one therefore emits wider than the record parses — `z.record(z.number().min(5), V)`
 * accepts `"3"` — which is the deliberate trade, since throwing on it would reject an ordinary schema
 * outright. */
function stringifyKeyNames(bySchema, json, visited) {
    // an extracted key that rewrites cannot go on sharing its definition — the string form a key position needs is not the number form every other reference wants — so it inlines. One that does not rewrite keeps the `$ref`.
    if (json.$ref) {
        // a recursive key holds its own reference inside its definition, so a node already on the path is left alone rather than resolved again
        if (visited.has(json))
            return json;
        visited.add(json);
        const def = bySchema.get(json)?.def;
        if (!def)
            return json;
        const inlined = stringifyKeyNames(bySchema, def, visited);
        return inlined === def ? json : inlined;
    }
    for (const keyword of ["anyOf", "oneOf"]) {
        const branches = json[keyword];
        if (!Array.isArray(branches))
            continue;
        const mapped = branches.map((branch) => stringifyKeyNames(bySchema, branch, visited));
        // rebuilding regardless would detach a key that had nothing to re-express, dropping its `$ref` and leaking the internal `id`
        if (mapped.some((branch, i) => branch !== branches[i]))
            json = { ...json, [keyword]: mapped };
    }
    // a member that already admits a string leaves the key unconstrained, so the node's own type re-expresses only when every member is numeric
    const types = Array.isArray(json.type) ? json.type : [json.type];
    const numericType = !types.includes("string") && types.some((t) => t === "number" || t === "integer");
    // a heterogeneous key carries no type at all, so its numeric members are caught here instead
    const values = json.enum ?? (json.const !== undefined ? [json.const] : undefined);
    if (!numericType && !values?.some((v) => typeof v === "number"))
        return json;
    const { minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf, format, id, ...rest } = json;
    if (rest.enum)
        rest.enum = rest.enum.map((v) => (typeof v === "number" ? String(v) : v));
    else if (typeof rest.const === "number")
        rest.const = String(rest.const);
    // a heterogeneous key keeps its absent type: the stringified members already say what a key may be
    if (!numericType)
        return rest;
    rest.type = "string";
    if (!values)
        rest.pattern = (types.includes("number") ? number : integer).source;
    return rest;
}
/** Every record of one conversion, so the carriers are found in a single pass rather than once per record. */
const pendingRecords = new WeakMap();
function rewriteKeyNames(ctx) {
    // an extracted key is resolved by the object `extractToDef` left in its place, so the map is built once rather than searched per reference. `_zod.toJSONSchema` can hand the same object to two schemas, so the first entry carrying a body wins, as a search would have found it.
    const bySchema = new Map();
    for (const entry of ctx.seen.values()) {
        if (entry.def && !bySchema.has(entry.schema))
            bySchema.set(entry.schema, entry);
    }
    const rewrites = new Map();
    for (const record of pendingRecords.get(ctx) ?? []) {
        const seen = ctx.seen.get(record);
        const names = (seen?.def ?? seen?.schema)?.propertyNames;
        if (!names || names === true || rewrites.has(names))
            continue;
        const rewritten = stringifyKeyNames(bySchema, names, new Set());
        if (rewritten !== names)
            rewrites.set(names, rewritten);
    }
    if (!rewrites.size)
        return;
    // the flatten has already copied each record's own properties onto every wrapper by reference, and an extracted body is another such copy, so every carrier holding a rewritten key is updated together
    for (const entry of ctx.seen.values()) {
        for (const carrier of [entry.schema, entry.def]) {
            const rewritten = carrier && rewrites.get(carrier.propertyNames);
            if (rewritten)
                carrier.propertyNames = rewritten;
        }
    }
}
const recordProcessor = (schema, ctx, _json, params) => {
    const json = _json;
    const def = schema._zod.def;
    json.type = "object";
    // For looseRecord with regex patterns, use patternProperties. This correctly represents "only validate keys matching the pattern" semantics and composes well with allOf (intersections)
    const keyType = def.keyType;
    const patterns = aggregateChecks(keyType).patterns;
    if (def.mode === "loose" && patterns && patterns.size > 0) {
        // Use patternProperties for looseRecord with regex patterns
        const valueSchema = to_json_schema_processSchema(def.valueType, ctx, {
            ...params,
            path: [...params.path, "patternProperties", "*"],
        });
        json.patternProperties = {};
        for (const pattern of patterns) {
            util_assignProp(json.patternProperties, exactPattern(pattern).source, valueSchema);
        }
    }
    else {
        // Default behavior: use propertyNames + additionalProperties
        if (ctx.target === "draft-07" || ctx.target === "draft-2020-12") {
            json.propertyNames = to_json_schema_processSchema(def.keyType, ctx, {
                ...params,
                path: [...params.path, "propertyNames"],
            });
            let pending = pendingRecords.get(ctx);
            if (!pending) {
                pending = [];
                pendingRecords.set(ctx, pending);
                ctx.deferred.push(() => rewriteKeyNames(ctx));
            }
            pending.push(schema);
        }
        json.additionalProperties = to_json_schema_processSchema(def.valueType, ctx, {
            ...params,
            path: [...params.path, "additionalProperties"],
        });
    }
    // Add required for keys with discrete values (enum, literal, etc.)
    const keyValues = keyType._zod.values;
    // Every key shares one value schema, so an optional-in value makes the whole key set omittable on input. Output keeps them: the exhaustive branch assigns every key, even one whose value came back undefined.
    const omittableOnInput = ctx.io === "input" && inputOptin(def.valueType) !== undefined;
    if (keyValues && !def.partial && !omittableOnInput) {
        const validKeyValues = [...keyValues].filter((v) => typeof v === "string" || typeof v === "number");
        if (validKeyValues.length > 0) {
            json.required = validKeyValues.map(String);
        }
    }
};
const nullableProcessor = (schema, ctx, json, params) => {
    const def = schema._zod.def;
    const inner = to_json_schema_processSchema(def.innerType, ctx, params);
    const seen = ctx.seen.get(schema);
    if (ctx.target === "openapi-3.0") {
        seen.ref = def.innerType;
        json.nullable = true;
    }
    else {
        json.anyOf = [inner, { type: "null" }];
    }
};
const nonoptionalProcessor = (schema, ctx, _json, params) => {
    const def = schema._zod.def;
    to_json_schema_processSchema(def.innerType, ctx, params);
    const seen = ctx.seen.get(schema);
    seen.ref = def.innerType;
};
/** Round-trips a default value through JSON so the emitted schema is guaranteed to be valid JSON.
 * A BigInt has no reliable encoding, so it goes through `unrepresentable` like any other
 * unrepresentable value. Returns a sentinel when the caller must not write a default of its own. */
const UNREPRESENTABLE_DEFAULT = Symbol();
function serializeDefaultValue(value, schema, ctx, json, params) {
    let unrepresentable = false;
    const serialized = JSON.stringify(value, (_, val) => {
        if (typeof val !== "bigint")
            return val;
        unrepresentable = true;
        return null;
    });
    if (!unrepresentable)
        return JSON.parse(serialized);
    handleUnrepresentable(schema, ctx, json, params, "BigInt defaults cannot be represented in JSON Schema");
    return UNREPRESENTABLE_DEFAULT;
}
const defaultProcessor = (schema, ctx, json, params) => {
    const def = schema._zod.def;
    to_json_schema_processSchema(def.innerType, ctx, params);
    const seen = ctx.seen.get(schema);
    seen.ref = def.innerType;
    const value = serializeDefaultValue(def.defaultValue, schema, ctx, json, params);
    if (value !== UNREPRESENTABLE_DEFAULT)
        json.default = value;
};
const prefaultProcessor = (schema, ctx, json, params) => {
    const def = schema._zod.def;
    to_json_schema_processSchema(def.innerType, ctx, params);
    const seen = ctx.seen.get(schema);
    seen.ref = def.innerType;
    if (ctx.io !== "input")
        return;
    const value = serializeDefaultValue(def.defaultValue, schema, ctx, json, params);
    if (value !== UNREPRESENTABLE_DEFAULT)
        json._prefault = value;
};
const catchProcessor = (schema, ctx, json, params) => {
    const def = schema._zod.def;
    to_json_schema_processSchema(def.innerType, ctx, params);
    const seen = ctx.seen.get(schema);
    seen.ref = def.innerType;
    let catchValue;
    try {
        catchValue = def.catchValue(undefined);
    }
    catch {
        handleUnrepresentable(schema, ctx, json, params, "Dynamic catch values are not supported in JSON Schema");
        return;
    }
    json.default = catchValue;
};
const pipeProcessor = (schema, ctx, _json, params) => {
    const def = schema._zod.def;
    const inIsTransform = def.in._zod.traits.has("$ZodTransform");
    const innerType = ctx.io === "input" ? (inIsTransform ? def.out : def.in) : def.out;
    to_json_schema_processSchema(innerType, ctx, params);
    const seen = ctx.seen.get(schema);
    seen.ref = innerType;
};
const readonlyProcessor = (schema, ctx, json, params) => {
    const def = schema._zod.def;
    to_json_schema_processSchema(def.innerType, ctx, params);
    const seen = ctx.seen.get(schema);
    seen.ref = def.innerType;
    json.readOnly = true;
};
const promiseProcessor = (schema, ctx, _json, params) => {
    const def = schema._zod.def;
    to_json_schema_processSchema(def.innerType, ctx, params);
    const seen = ctx.seen.get(schema);
    seen.ref = def.innerType;
};
const optionalProcessor = (schema, ctx, _json, params) => {
    const def = schema._zod.def;
    to_json_schema_processSchema(def.innerType, ctx, params);
    const seen = ctx.seen.get(schema);
    seen.ref = def.innerType;
};
const lazyProcessor = (schema, ctx, _json, params) => {
    const innerType = schema._zod.innerType;
    to_json_schema_processSchema(innerType, ctx, params);
    const seen = ctx.seen.get(schema);
    seen.ref = innerType;
};
// ==================== ALL PROCESSORS ====================
const allProcessors = {
    string: stringProcessor,
    number: numberProcessor,
    boolean: booleanProcessor,
    bigint: bigintProcessor,
    symbol: symbolProcessor,
    null: nullProcessor,
    undefined: undefinedProcessor,
    void: voidProcessor,
    never: neverProcessor,
    any: anyProcessor,
    unknown: unknownProcessor,
    date: dateProcessor,
    enum: enumProcessor,
    literal: literalProcessor,
    nan: nanProcessor,
    template_literal: templateLiteralProcessor,
    file: fileProcessor,
    success: successProcessor,
    custom: customProcessor,
    function: functionProcessor,
    transform: transformProcessor,
    map: mapProcessor,
    set: setProcessor,
    array: arrayProcessor,
    object: objectProcessor,
    union: unionProcessor,
    intersection: intersectionProcessor,
    tuple: tupleProcessor,
    record: recordProcessor,
    nullable: nullableProcessor,
    nonoptional: nonoptionalProcessor,
    default: defaultProcessor,
    prefault: prefaultProcessor,
    catch: catchProcessor,
    pipe: pipeProcessor,
    readonly: readonlyProcessor,
    promise: promiseProcessor,
    optional: optionalProcessor,
    lazy: lazyProcessor,
};
function toJSONSchema(input, params) {
    if ("_idmap" in input) {
        // Registry case
        const registry = input;
        const ctx = initializeContext({ ...params, processors: allProcessors });
        const defs = {};
        // First pass: process all schemas to build the seen map
        for (const entry of registry._idmap.entries()) {
            const [_, schema] = entry;
            processSchema(schema, ctx);
        }
        const schemas = {};
        const external = {
            registry,
            uri: params?.uri,
            defs,
        };
        // Update the context with external configuration
        ctx.external = external;
        // Second pass: emit each schema
        for (const entry of registry._idmap.entries()) {
            const [key, schema] = entry;
            extractDefs(ctx, schema);
            assignProp(schemas, key, finalize(ctx, schema));
        }
        if (Object.keys(defs).length > 0) {
            const defsSegment = ctx.target === "draft-2020-12" ? "$defs" : "definitions";
            schemas.__shared = {
                [defsSegment]: defs,
            };
        }
        return { schemas };
    }
    // Single schema case
    const ctx = initializeContext({ ...params, processors: allProcessors });
    processSchema(input, ctx);
    extractDefs(ctx, input);
    return finalize(ctx, input);
}

;// CONCATENATED MODULE: ./node_modules/zod/v4/locales/en.js

const error = () => {
    const Sizable = {
        string: { unit: "characters", verb: "to have" },
        file: { unit: "bytes", verb: "to have" },
        array: { unit: "items", verb: "to have" },
        set: { unit: "items", verb: "to have" },
        map: { unit: "entries", verb: "to have" },
    };
    function getSizing(origin) {
        return Sizable[origin] ?? null;
    }
    const FormatDictionary = {
        regex: "input",
        email: "email address",
        url: "URL",
        emoji: "emoji",
        uuid: "UUID",
        uuidv4: "UUIDv4",
        uuidv6: "UUIDv6",
        nanoid: "nanoid",
        guid: "GUID",
        cuid: "cuid",
        cuid2: "cuid2",
        ulid: "ULID",
        xid: "XID",
        ksuid: "KSUID",
        datetime: "ISO datetime",
        date: "ISO date",
        time: "ISO time",
        duration: "ISO duration",
        ipv4: "IPv4 address",
        ipv6: "IPv6 address",
        mac: "MAC address",
        cidrv4: "IPv4 range",
        cidrv6: "IPv6 range",
        base64: "base64-encoded string",
        base64url: "base64url-encoded string",
        json_string: "JSON string",
        e164: "E.164 number",
        currency_code: "currency code",
        credit_card: "credit card number",
        iban: "IBAN",
        jwt: "JWT",
        template_literal: "input",
    };
    // type names: missing keys = do not translate (use raw value via ?? fallback)
    const TypeDictionary = {
        // Compatibility: "nan" -> "NaN" for display
        nan: "NaN",
        // All other type names omitted - they fall back to raw values via ?? operator
    };
    function getTypeName(type, input) {
        if (type === "number" && typeof input === "number" && !Number.isFinite(input)) {
            return String(input);
        }
        return TypeDictionary[type] ?? type;
    }
    return (issue) => {
        switch (issue.code) {
            case "invalid_type": {
                const expected = getTypeName(issue.expected);
                const receivedType = parsedType(issue.input);
                const received = getTypeName(receivedType, issue.input);
                return `Invalid input: expected ${expected}, received ${received}`;
            }
            case "invalid_value":
                if (issue.values.length === 1)
                    return `Invalid input: expected ${stringifyPrimitive(issue.values[0])}`;
                return `Invalid option: expected one of ${joinValues(issue.values, "|")}`;
            case "too_big": {
                const adj = issue.exact ? "exactly " : issue.inclusive ? "<=" : "<";
                const sizing = getSizing(issue.origin);
                if (sizing)
                    return `Too big: expected ${issue.origin ?? "value"} to have ${adj}${issue.maximum.toString()} ${sizing.unit ?? "elements"}`;
                return `Too big: expected ${issue.origin ?? "value"} to be ${adj}${issue.maximum.toString()}`;
            }
            case "too_small": {
                const adj = issue.exact ? "exactly " : issue.inclusive ? ">=" : ">";
                const sizing = getSizing(issue.origin);
                if (sizing) {
                    return `Too small: expected ${issue.origin} to have ${adj}${issue.minimum.toString()} ${sizing.unit}`;
                }
                return `Too small: expected ${issue.origin} to be ${adj}${issue.minimum.toString()}`;
            }
            case "invalid_format": {
                const _issue = issue;
                if (_issue.format === "starts_with") {
                    return `Invalid string: must start with "${_issue.prefix}"`;
                }
                if (_issue.format === "ends_with")
                    return `Invalid string: must end with "${_issue.suffix}"`;
                if (_issue.format === "includes")
                    return `Invalid string: must include "${_issue.includes}"`;
                if (_issue.format === "regex")
                    return `Invalid string: must match pattern ${_issue.pattern}`;
                return `Invalid ${FormatDictionary[_issue.format] ?? issue.format}`;
            }
            case "not_multiple_of":
                return `Invalid number: must be a multiple of ${issue.divisor}`;
            case "unrecognized_keys":
                return `Unrecognized key${issue.keys.length > 1 ? "s" : ""}: ${joinValues(issue.keys, ", ")}`;
            case "invalid_key":
                return `Invalid key in ${issue.origin}`;
            case "invalid_union":
                if (issue.options && Array.isArray(issue.options) && issue.options.length > 0) {
                    const opts = issue.options.map((o) => `'${o}'`).join(" | ");
                    return `Invalid discriminator value. Expected ${opts}`;
                }
                if (issue.inclusive === false) {
                    return "Invalid input: more than one option matched";
                }
                return "Invalid input";
            case "invalid_element":
                return `Invalid value in ${issue.origin}`;
            default:
                return `Invalid input`;
        }
    };
};
/* harmony default export */ function en() {
    return {
        localeError: error(),
    };
}

;// CONCATENATED MODULE: ./node_modules/zod/v4/core/errors.js


/* Computing the message eagerly is expensive (pretty-printed JSON of all
 * issues), so defer it until first read. The accessor functions and
 * descriptors are shared across instances to keep error construction
 * cheap; the computed message is cached on the internals object. The
 * setter preserves plain assignment semantics for consumers that
 * overwrite `message`. */
function _getMessage() {
    const internals = this._zod;
    internals.message ?? (internals.message = JSON.stringify(internals.def, jsonStringifyReplacer, 2));
    return internals.message;
}
function _setMessage(value) {
    this._zod.message = value;
}
const _messageDesc = {
    get: _getMessage,
    set: _setMessage,
    enumerable: true,
    configurable: true,
};
const _issuesDesc = { value: undefined, enumerable: false };
/* Prototypes that already carry the lazy `toString`. Seeded with the
 * intrinsics so that `init` on a foreign object — it accepts any object —
 * can never install an accessor onto a prototype we do not own. */
const _installedToString = /* @__PURE__ */ new WeakSet([Object.prototype, Error.prototype]);
const initializer = (inst, def) => {
    inst.name = "$ZodError";
    // `_zod` is already non-enumerable: $constructor's init defined it with this same descriptor
    _issuesDesc.value = def;
    Object.defineProperty(inst, "issues", _issuesDesc);
    // Clear the shared slot; a retained `value` pins the last error's issues.
    _issuesDesc.value = undefined;
    Object.defineProperty(inst, "message", _messageDesc);
    /* `toString` lives as a non-enumerable lazy getter on the shared
     * prototype; on first access it caches a per-instance closure so
     * detached usage still works. */
    const proto = Object.getPrototypeOf(inst);
    if (!_installedToString.has(proto)) {
        _installedToString.add(proto);
        Object.defineProperty(proto, "toString", {
            configurable: true,
            enumerable: false,
            get() {
                const value = () => this.message;
                Object.defineProperty(this, "toString", { value, configurable: true, writable: true });
                return value;
            },
            set(value) {
                Object.defineProperty(this, "toString", { value, configurable: true, writable: true });
            },
        });
    }
};
const $ZodError = $constructor("$ZodError", initializer);
const $ZodRealError = $constructor("$ZodError", initializer, undefined, {
    Parent: Error,
});
/** Get-or-create `obj[key]` as an own data property. A path segment naming an inherited member
 * ("toString", "constructor") would otherwise read through to the prototype, and assigning
 * "__proto__" would hit the setter instead of creating a key. */
function node(obj, key, make) {
    if (!Object.prototype.hasOwnProperty.call(obj, key)) {
        if (key === "__proto__") {
            Object.defineProperty(obj, key, { value: make(), writable: true, enumerable: true, configurable: true });
        }
        else {
            obj[key] = make();
        }
    }
    return obj[key];
}
function flattenError(error, mapper = (issue) => issue.message) {
    const fieldErrors = {};
    const formErrors = [];
    for (const sub of error.issues) {
        if (sub.path.length > 0) {
            node(fieldErrors, sub.path[0], () => []).push(mapper(sub));
        }
        else {
            formErrors.push(mapper(sub));
        }
    }
    return { formErrors, fieldErrors };
}
function formatError(error, mapper = (issue) => issue.message) {
    const fieldErrors = { _errors: [] };
    const processError = (error, path = []) => {
        for (const issue of error.issues) {
            if (issue.code === "invalid_union" && issue.errors.length) {
                issue.errors.map((issues) => processError({ issues }, [...path, ...issue.path]));
            }
            else if (issue.code === "invalid_key") {
                processError({ issues: issue.issues }, [...path, ...issue.path]);
            }
            else if (issue.code === "invalid_element") {
                processError({ issues: issue.issues }, [...path, ...issue.path]);
            }
            else {
                const fullpath = [...path, ...issue.path];
                if (fullpath.length === 0) {
                    fieldErrors._errors.push(mapper(issue));
                }
                else {
                    let curr = fieldErrors;
                    let i = 0;
                    while (i < fullpath.length) {
                        const el = fullpath[i];
                        const terminal = i === fullpath.length - 1;
                        // `_errors` is reserved by this legacy format, so merge a matching path segment into the current node instead of treating its array as a child.
                        if (el === "_errors") {
                            if (terminal)
                                curr._errors.push(mapper(issue));
                            i++;
                            continue;
                        }
                        // A path element may collide with an inherited property name such as
                        // "__proto__" or "constructor". Truthiness checks read the prototype
                        // (so no node is created, then ._errors.push throws), and bracket
                        // assignment of "__proto__" hits the setter instead of creating an
                        // own key. Guard the read with hasOwnProperty and create the node
                        // with defineProperty so any path element becomes a real own key.
                        if (!Object.prototype.hasOwnProperty.call(curr, el)) {
                            Object.defineProperty(curr, el, {
                                value: { _errors: [] },
                                enumerable: true,
                                writable: true,
                                configurable: true,
                            });
                        }
                        const node = curr[el];
                        if (terminal) {
                            node._errors.push(mapper(issue));
                        }
                        curr = node;
                        i++;
                    }
                }
            }
        }
    };
    processError(error);
    return fieldErrors;
}
function treeifyError(error, mapper = (issue) => issue.message) {
    const result = { errors: [] };
    const processError = (error, path = []) => {
        var _a;
        for (const issue of error.issues) {
            if (issue.code === "invalid_union" && issue.errors.length) {
                // regular union error
                issue.errors.map((issues) => processError({ issues }, [...path, ...issue.path]));
            }
            else if (issue.code === "invalid_key") {
                processError({ issues: issue.issues }, [...path, ...issue.path]);
            }
            else if (issue.code === "invalid_element") {
                processError({ issues: issue.issues }, [...path, ...issue.path]);
            }
            else {
                const fullpath = [...path, ...issue.path];
                if (fullpath.length === 0) {
                    result.errors.push(mapper(issue));
                    continue;
                }
                let curr = result;
                let i = 0;
                while (i < fullpath.length) {
                    const el = fullpath[i];
                    const terminal = i === fullpath.length - 1;
                    if (typeof el === "string") {
                        curr.properties ?? (curr.properties = {});
                        // el may collide with an inherited property name ("__proto__",
                        // "constructor", ...); ??= reads the prototype so the node is never
                        // created and curr.errors.push throws. Guard with hasOwnProperty and
                        // create the node with defineProperty so "__proto__" becomes a real
                        // own key rather than invoking the prototype setter.
                        if (!Object.prototype.hasOwnProperty.call(curr.properties, el)) {
                            Object.defineProperty(curr.properties, el, {
                                value: { errors: [] },
                                enumerable: true,
                                writable: true,
                                configurable: true,
                            });
                        }
                        curr = curr.properties[el];
                    }
                    else {
                        curr.items ?? (curr.items = []);
                        (_a = curr.items)[el] ?? (_a[el] = { errors: [] });
                        curr = curr.items[el];
                    }
                    if (terminal) {
                        curr.errors.push(mapper(issue));
                    }
                    i++;
                }
            }
        }
    };
    processError(error);
    return result;
}
/** Format a ZodError as a human-readable string in the following form.
 *
 * From
 *
 * ```ts
 * ZodError {
 *   issues: [
 *     {
 *       expected: 'string',
 *       code: 'invalid_type',
 *       path: [ 'username' ],
 *       message: 'Invalid input: expected string'
 *     },
 *     {
 *       expected: 'number',
 *       code: 'invalid_type',
 *       path: [ 'favoriteNumbers', 1 ],
 *       message: 'Invalid input: expected number'
 *     }
 *   ];
 * }
 * ```
 *
 * to
 *
 * ```
 * username
 *   ✖ Expected number, received string at "username
 * favoriteNumbers[0]
 *   ✖ Invalid input: expected number
 * ```
 */
function toDotPath(_path) {
    const segs = [];
    const path = _path.map((seg) => (typeof seg === "object" ? seg.key : seg));
    for (const seg of path) {
        if (typeof seg === "number")
            segs.push(`[${seg}]`);
        else if (typeof seg === "symbol")
            segs.push(`[${JSON.stringify(String(seg))}]`);
        else if (/[^\w$]/.test(seg))
            segs.push(`[${JSON.stringify(seg)}]`);
        else {
            if (segs.length)
                segs.push(".");
            segs.push(seg);
        }
    }
    return segs.join("");
}
function prettifyError(error) {
    const lines = [];
    // sort by path length
    const issues = [...error.issues].sort((a, b) => (a.path ?? []).length - (b.path ?? []).length);
    // Process each issue
    for (const issue of issues) {
        lines.push(`✖ ${issue.message}`);
        if (issue.path?.length)
            lines.push(`  → at ${toDotPath(issue.path)}`);
    }
    // Convert Map to formatted string
    return lines.join("\n");
}

;// CONCATENATED MODULE: ./node_modules/zod/v4/core/parse.js



// Always both keys, so the `_params` read site in `_parse` sees one object shape rather than two.
function finalizeParams(callee, params) {
    return { callee: params?.callee ?? callee, Err: params?.Err };
}
const _parse = (_Err) => {
    const fn = (schema, value, _ctx, _params) => {
        const ctx = _ctx ? { ..._ctx, async: false } : { async: false };
        const result = schema._zod.run({ value, issues: [] }, ctx);
        if (result instanceof Promise) {
            throw new $ZodAsyncError();
        }
        if (result.issues.length) {
            const e = new (_params?.Err ?? _Err)(result.issues.map((iss) => finalizeIssue(iss, ctx, config())));
            captureStackTrace(e, _params?.callee ?? fn);
            throw e;
        }
        return result.value;
    };
    return fn;
};
const parse_parse = /* @__PURE__*/ _parse($ZodRealError);
const _parseAsync = (_Err) => {
    const fn = async (schema, value, _ctx, params) => {
        const ctx = _ctx ? { ..._ctx, async: true } : { async: true };
        let result = schema._zod.run({ value, issues: [] }, ctx);
        if (result instanceof Promise)
            result = await result;
        if (result.issues.length) {
            const e = new (params?.Err ?? _Err)(result.issues.map((iss) => finalizeIssue(iss, ctx, config())));
            captureStackTrace(e, params?.callee ?? fn);
            throw e;
        }
        return result.value;
    };
    return fn;
};
const parse_parseAsync = /* @__PURE__*/ _parseAsync($ZodRealError);
const _safeParse = (_Err) => (schema, value, _ctx) => {
    const ctx = _ctx ? { ..._ctx, async: false } : { async: false };
    const result = schema._zod.run({ value, issues: [] }, ctx);
    if (result instanceof Promise) {
        throw new $ZodAsyncError();
    }
    return result.issues.length ? parse_failure(_Err, result.issues, ctx) : { success: true, data: result.value };
};
const safeParse = /* @__PURE__*/ _safeParse($ZodRealError);
// the error is built on the first read of `error`: finalizing the issues and constructing the instance is most of a failing parse, and a caller that only branches on `success` never pays it. a getter in the literal keeps this small; the alternative, one shared accessor descriptor plus a hidden state slot, reads ~15% faster but costs ~75 B gzipped in every bundle
function parse_failure(Err, issues, ctx) {
    let error;
    return {
        success: false,
        get error() {
            if (!error) {
                error = new Err(issues.map((iss) => finalizeIssue(iss, ctx, config())));
                // finalizeIssue drops `input`, so the built error holds nothing; keeping the raw issues past this point pins the parsed value for the life of the result
                issues = undefined;
                ctx = undefined;
            }
            return error;
        },
        set error(e) {
            error = e;
            // a replacement makes the getter's branch unreachable, so the captures have to go here too
            issues = undefined;
            ctx = undefined;
        },
    };
}
const _safeParseAsync = (_Err) => async (schema, value, _ctx) => {
    const ctx = _ctx ? { ..._ctx, async: true } : { async: true };
    let result = schema._zod.run({ value, issues: [] }, ctx);
    if (result instanceof Promise)
        result = await result;
    return result.issues.length ? parse_failure(_Err, result.issues, ctx) : { success: true, data: result.value };
};
const safeParseAsync = /* @__PURE__*/ _safeParseAsync($ZodRealError);
// registry mirrors of the compiler's sentinels, so this module never imports the compiler
const COMPILE_INVALID = /* @__PURE__ */ Symbol.for("zod.compile.invalid");
const COMPILE_FALLBACK = /* @__PURE__ */ Symbol.for("zod.compile.fallback");
// Deliberately tiny, because v8 will not inline a body carrying the fallback's object literals and throw. Everything that is not the compiled happy path lives in validateFallback, and that split is worth ~35% on a compiled schema.
const validate = ((schema, value, _ctx) => {
    const validator = schema._zod.bag.validator;
    if (validator !== undefined) {
        if (validator(value) !== COMPILE_INVALID)
            return true;
        // a definite sentinel means the runtime would reject, so skip the re-parse; a ctx can still change the answer
        if (validator.definite === true && _ctx === undefined)
            return false;
    }
    return validateFallback(schema, value, _ctx);
});
function validateFallback(schema, value, _ctx) {
    const ctx = _ctx
        ? { ..._ctx, async: false, abortEarly: true }
        : { async: false, abortEarly: true };
    const fallbackRun = schema._zod.bag.fallbackRun;
    let result;
    if (fallbackRun) {
        // skip nested fast paths on the fallback, so user callbacks keep the at-most-twice bound
        ctx[COMPILE_FALLBACK] = true;
        result = fallbackRun({ value, issues: [] }, ctx);
    }
    else {
        result = schema._zod.run({ value, issues: [] }, ctx);
    }
    if (result instanceof Promise) {
        throw new $ZodAsyncError();
    }
    return result.issues.length === 0;
}
// no fast path: the compiler keeps async parses on the runtime, because a promise-returning callback that is not declared async compiles to a throw
const parse_validateAsync = async (schema, value, _ctx) => {
    const ctx = _ctx
        ? { ..._ctx, async: true, abortEarly: true }
        : { async: true, abortEarly: true };
    let result = schema._zod.run({ value, issues: [] }, ctx);
    if (result instanceof Promise)
        result = await result;
    return result.issues.length === 0;
};
const _encode = (_Err) => {
    const parse = _parse(_Err);
    const fn = (schema, value, _ctx, _params) => {
        const ctx = _ctx ? { ..._ctx, direction: "backward" } : { direction: "backward" };
        return parse(schema, value, ctx, finalizeParams(fn, _params));
    };
    return fn;
};
const encode = /* @__PURE__*/ _encode($ZodRealError);
const _decode = (_Err) => {
    const parse = _parse(_Err);
    const fn = (schema, value, _ctx, _params) => {
        return parse(schema, value, _ctx, finalizeParams(fn, _params));
    };
    return fn;
};
const decode = /* @__PURE__*/ _decode($ZodRealError);
const _encodeAsync = (_Err) => {
    const parseAsync = _parseAsync(_Err);
    const fn = async (schema, value, _ctx, _params) => {
        const ctx = _ctx ? { ..._ctx, direction: "backward" } : { direction: "backward" };
        return (await parseAsync(schema, value, ctx, finalizeParams(fn, _params)));
    };
    return fn;
};
const encodeAsync = /* @__PURE__*/ _encodeAsync($ZodRealError);
const _decodeAsync = (_Err) => {
    const parseAsync = _parseAsync(_Err);
    const fn = async (schema, value, _ctx, _params) => {
        return await parseAsync(schema, value, _ctx, finalizeParams(fn, _params));
    };
    return fn;
};
const decodeAsync = /* @__PURE__*/ _decodeAsync($ZodRealError);
const _safeEncode = (_Err) => (schema, value, _ctx) => {
    const ctx = _ctx ? { ..._ctx, direction: "backward" } : { direction: "backward" };
    return _safeParse(_Err)(schema, value, ctx);
};
const safeEncode = /* @__PURE__*/ _safeEncode($ZodRealError);
const _safeDecode = (_Err) => (schema, value, _ctx) => {
    return _safeParse(_Err)(schema, value, _ctx);
};
const safeDecode = /* @__PURE__*/ _safeDecode($ZodRealError);
const _safeEncodeAsync = (_Err) => async (schema, value, _ctx) => {
    const ctx = _ctx ? { ..._ctx, direction: "backward" } : { direction: "backward" };
    return _safeParseAsync(_Err)(schema, value, ctx);
};
const safeEncodeAsync = /* @__PURE__*/ _safeEncodeAsync($ZodRealError);
const _safeDecodeAsync = (_Err) => async (schema, value, _ctx) => {
    return _safeParseAsync(_Err)(schema, value, _ctx);
};
const safeDecodeAsync = /* @__PURE__*/ _safeDecodeAsync($ZodRealError);

;// CONCATENATED MODULE: ./node_modules/zod/v4/classic/errors.js



/* Prototypes that already carry the lazy helper methods. Seeded with the
 * intrinsics so that `init` on a foreign object — it accepts any object —
 * can never install an accessor onto a prototype we do not own. */
const _installedErrorProtos = /* @__PURE__ */ new WeakSet([Object.prototype, Error.prototype]);
/* Helper methods live as non-enumerable lazy getters on the shared
 * prototype instead of own properties on every instance. On first
 * access the getter allocates the per-instance closure and caches it
 * as a non-enumerable own property, so detached usage still works and
 * the allocation only happens for methods actually touched. */
function _lazyMethod(proto, key, make) {
    Object.defineProperty(proto, key, {
        configurable: true,
        enumerable: false,
        get() {
            const value = make(this);
            Object.defineProperty(this, key, { value, configurable: true, writable: true });
            return value;
        },
        set(value) {
            Object.defineProperty(this, key, { value, configurable: true, writable: true });
        },
    });
}
const errors_initializer = (inst, issues) => {
    $ZodError.init(inst, issues);
    inst.name = "ZodError";
    const proto = Object.getPrototypeOf(inst);
    if (_installedErrorProtos.has(proto))
        return;
    _installedErrorProtos.add(proto);
    _lazyMethod(proto, "format", (self) => (mapper) => formatError(self, mapper));
    _lazyMethod(proto, "flatten", (self) => (mapper) => flattenError(self, mapper));
    _lazyMethod(proto, "addIssue", (self) => (issue) => {
        self.issues.push(issue);
        self.message = JSON.stringify(self.issues, jsonStringifyReplacer, 2);
    });
    _lazyMethod(proto, "addIssues", (self) => (issues) => {
        self.issues.push(...issues);
        self.message = JSON.stringify(self.issues, jsonStringifyReplacer, 2);
    });
    Object.defineProperty(proto, "isEmpty", {
        configurable: true,
        enumerable: false,
        get() {
            return this.issues.length === 0;
        },
    });
};
const ZodError = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodError", errors_initializer)));
const ZodRealError = /*@__PURE__*/ $constructor("ZodError", errors_initializer, undefined, {
    Parent: Error,
});
// /** @deprecated Use `z.core.$ZodErrorMapCtx` instead. */
// export type ErrorMapCtx = core.$ZodErrorMapCtx;

;// CONCATENATED MODULE: ./node_modules/zod/v4/classic/parse.js


const classic_parse_parse = /* @__PURE__ */ _parse(ZodRealError);
const classic_parse_parseAsync = /* @__PURE__ */ _parseAsync(ZodRealError);
const parse_safeParse = /* @__PURE__ */ _safeParse(ZodRealError);
const parse_safeParseAsync = /* @__PURE__ */ _safeParseAsync(ZodRealError);

// Codec functions
const parse_encode = /* @__PURE__ */ _encode(ZodRealError);
const parse_decode = /* @__PURE__ */ _decode(ZodRealError);
const parse_encodeAsync = /* @__PURE__ */ _encodeAsync(ZodRealError);
const parse_decodeAsync = /* @__PURE__ */ _decodeAsync(ZodRealError);
const parse_safeEncode = /* @__PURE__ */ _safeEncode(ZodRealError);
const parse_safeDecode = /* @__PURE__ */ _safeDecode(ZodRealError);
const parse_safeEncodeAsync = /* @__PURE__ */ _safeEncodeAsync(ZodRealError);
const parse_safeDecodeAsync = /* @__PURE__ */ _safeDecodeAsync(ZodRealError);

;// CONCATENATED MODULE: ./node_modules/zod/v4/classic/schemas.js








// Register English as the default locale on first ZodType construction. Hooked into the `ZodType` `$constructor` (rather than a top-level `config(en())` in `external.ts`) so bundlers honoring `sideEffects: false` can't tree-shake it out — see #5953, #5725. An explicit `z.config(z.locales.xx())` call wins regardless of order, since this only sets the default when none is present.
function _ensureDefaultLocale() {
    if (!globalConfig.localeError)
        config(en());
}
// the default memoizer is read by the core container init, which runs before `ZodType.init`, so each container calls this first
function _ensureDefaultMemoizer() {
    if (!globalConfig.memoizer)
        config({ memoizer: memoizer() });
}
const ZodType = /*@__PURE__*/ $constructor("ZodType", (inst, def) => {
    _ensureDefaultLocale();
    $ZodType.init(inst, def);
    inst.def = def;
    inst.type = def.type;
    return inst;
}, {
    check(...chks) {
        const def = this.def;
        return this.clone(mergeDefs(def, {
            checks: [
                ...(def.checks ?? []),
                ...chks.map((ch) => typeof ch === "function" ? { _zod: { check: ch, def: { check: "custom" }, onattach: [] } } : ch),
            ],
        }), { parent: true });
    },
    with(...chks) {
        return this.check(...chks);
    },
    clone(def, params) {
        return clone(this, def, params);
    },
    brand() {
        return this;
    },
    register(reg, meta) {
        reg.add(this, meta);
        return this;
    },
    refine(check, params) {
        return this.check(refine(check, params));
    },
    superRefine(refinement, params) {
        return this.check(superRefine(refinement, params));
    },
    overwrite(fn) {
        return this.check(_overwrite(fn));
    },
    optional() {
        return optional(this);
    },
    exactOptional() {
        return exactOptional(this);
    },
    nullable() {
        return nullable(this);
    },
    nullish() {
        return optional(nullable(this));
    },
    nonoptional(params) {
        return nonoptional(this, params);
    },
    array() {
        return array(this);
    },
    or(arg) {
        return union([this, arg]);
    },
    and(arg) {
        return intersection(this, arg);
    },
    transform(tx) {
        return pipe(this, transform(tx));
    },
    default(d) {
        return schemas_default(this, d);
    },
    prefault(d) {
        return prefault(this, d);
    },
    catch(params) {
        return schemas_catch(this, params);
    },
    pipe(target) {
        return pipe(this, target);
    },
    readonly() {
        return readonly(this);
    },
    describe(description) {
        const cl = this.clone();
        globalRegistry.add(cl, { description });
        return cl;
    },
    meta(...args) {
        // overloaded: meta() returns the registered metadata, meta(data) returns a clone with `data` registered. The mapped type picks up the second overload, so we accept variadic any-args and return `any` to satisfy both at runtime.
        if (args.length === 0)
            return globalRegistry.get(this);
        const cl = this.clone();
        globalRegistry.add(cl, args[0]);
        return cl;
    },
    isOptional() {
        return this.safeParse(undefined).success;
    },
    isNullable() {
        return this.safeParse(null).success;
    },
    apply(fn, ...args) {
        return args.length === 0 ? fn(this) : fn(this, ...args);
    },
    // Overrides core's `~standard` to add `jsonSchema`. Must stay a prototype entry: redefining it per instance demotes instances to dictionary mode.
    get "~standard"() {
        return hide(this, "~standard", {
            ...standardProps(this),
            jsonSchema: {
                input: createStandardJSONSchemaMethod(this, "input"),
                output: createStandardJSONSchemaMethod(this, "output"),
            },
        });
    },
    set "~standard"(value) {
        own(this, "~standard", value);
    },
    parse: function _parse(data, params) {
        return classic_parse_parse(this, data, params, { callee: _parse });
    },
    parseAsync: async function _parseAsync(data, params) {
        return await classic_parse_parseAsync(this, data, params, { callee: _parseAsync });
    },
    safeParse(data, params) {
        return parse_safeParse(this, data, params);
    },
    async safeParseAsync(data, params) {
        return parse_safeParseAsync(this, data, params);
    },
    // `spa` is an alias: same function object as `safeParseAsync`, as before.
    get spa() {
        return this?.safeParseAsync;
    },
    set spa(value) {
        own(this, "spa", value);
    },
    validate(data, params) {
        return validate(this, data, params);
    },
    validateAsync(data, params) {
        return parse_validateAsync(this, data, params);
    },
    encode: function _encode(data, params) {
        return parse_encode(this, data, params, { callee: _encode });
    },
    decode: function _decode(data, params) {
        return parse_decode(this, data, params, { callee: _decode });
    },
    encodeAsync: async function _encodeAsync(data, params) {
        return await parse_encodeAsync(this, data, params, { callee: _encodeAsync });
    },
    decodeAsync: async function _decodeAsync(data, params) {
        return await parse_decodeAsync(this, data, params, { callee: _decodeAsync });
    },
    safeEncode(data, params) {
        return parse_safeEncode(this, data, params);
    },
    safeDecode(data, params) {
        return parse_safeDecode(this, data, params);
    },
    async safeEncodeAsync(data, params) {
        return parse_safeEncodeAsync(this, data, params);
    },
    async safeDecodeAsync(data, params) {
        return parse_safeDecodeAsync(this, data, params);
    },
    toJSONSchema(params) {
        return createToJSONSchemaMethod(this, {})(params);
    },
    // Reads through to the registry on every access, so it must not cache.
    get description() {
        return globalRegistry.get(this)?.description;
    },
    // No setter: `schema._def = x` throws, as it did when `_def` was a non-writable own property.
    get _def() {
        return this._zod.def;
    },
});
/** @internal */
const _ZodString = /*@__PURE__*/ $constructor("_ZodString", (inst, def) => {
    $ZodString.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => stringProcessor(inst, ctx, json, params);
}, 
/*@__PURE__*/ derived({
    format: (inst) => aggregateChecks(inst).format ?? null,
    minLength: (inst) => aggregateChecks(inst).minimum ?? null,
    maxLength: (inst) => aggregateChecks(inst).maximum ?? null,
}, {
    regex(...args) {
        return this.check(_regex(...args));
    },
    includes(...args) {
        return this.check(_includes(...args));
    },
    startsWith(...args) {
        return this.check(_startsWith(...args));
    },
    endsWith(...args) {
        return this.check(_endsWith(...args));
    },
    min(...args) {
        return this.check(_minLength(...args));
    },
    max(...args) {
        return this.check(_maxLength(...args));
    },
    length(...args) {
        return this.check(_length(...args));
    },
    nonempty(...args) {
        return this.check(_minLength(1, ...args));
    },
    lowercase(params) {
        return this.check(_lowercase(params));
    },
    uppercase(params) {
        return this.check(_uppercase(params));
    },
    trim() {
        return this.check(_trim());
    },
    normalize(...args) {
        return this.check(_normalize(...args));
    },
    toLowerCase() {
        return this.check(_toLowerCase());
    },
    toUpperCase() {
        return this.check(_toUpperCase());
    },
    slugify() {
        return this.check(_slugify());
    },
}));
const ZodString = /*@__PURE__*/ $constructor("ZodString", (inst, def) => {
    $ZodString.init(inst, def);
    _ZodString.init(inst, def);
}, {
    email(params) {
        return this.check(_email(ZodEmail, params));
    },
    url(params) {
        return this.check(_url(ZodURL, params));
    },
    jwt(params) {
        return this.check(_jwt(ZodJWT, params));
    },
    emoji(params) {
        return this.check(api_emoji(ZodEmoji, params));
    },
    guid(params) {
        return this.check(_guid(ZodGUID, params));
    },
    uuid(params) {
        return this.check(_uuid(ZodUUID, params));
    },
    uuidv4(params) {
        return this.check(_uuidv4(ZodUUID, params));
    },
    uuidv6(params) {
        return this.check(_uuidv6(ZodUUID, params));
    },
    uuidv7(params) {
        return this.check(_uuidv7(ZodUUID, params));
    },
    nanoid(params) {
        return this.check(_nanoid(ZodNanoID, params));
    },
    cuid(params) {
        return this.check(_cuid(ZodCUID, params));
    },
    cuid2(params) {
        return this.check(_cuid2(ZodCUID2, params));
    },
    ulid(params) {
        return this.check(_ulid(ZodULID, params));
    },
    base64(params) {
        return this.check(_base64(ZodBase64, params));
    },
    base64url(params) {
        return this.check(_base64url(ZodBase64URL, params));
    },
    xid(params) {
        return this.check(_xid(ZodXID, params));
    },
    ksuid(params) {
        return this.check(_ksuid(ZodKSUID, params));
    },
    ipv4(params) {
        return this.check(_ipv4(ZodIPv4, params));
    },
    ipv6(params) {
        return this.check(_ipv6(ZodIPv6, params));
    },
    cidrv4(params) {
        return this.check(_cidrv4(ZodCIDRv4, params));
    },
    cidrv6(params) {
        return this.check(_cidrv6(ZodCIDRv6, params));
    },
    e164(params) {
        return this.check(_e164(ZodE164, params));
    },
    datetime(params) {
        return this.check(_isoDateTime(ZodISODateTime, params));
    },
    date(params) {
        return this.check(_isoDate(ZodISODate, params));
    },
    time(params) {
        return this.check(_isoTime(ZodISOTime, params));
    },
    duration(params) {
        return this.check(_isoDuration(ZodISODuration, params));
    },
});
function schemas_string(params) {
    return _string(ZodString, params);
}
const ZodStringFormat = /*@__PURE__*/ $constructor("ZodStringFormat", (inst, def) => {
    $ZodStringFormat.init(inst, def);
    _ZodString.init(inst, def);
});
const ZodISODateTime = /*@__PURE__*/ $constructor("ZodISODateTime", (inst, def) => {
    $ZodISODateTime.init(inst, def);
    ZodStringFormat.init(inst, def);
});
const ZodISODate = /*@__PURE__*/ $constructor("ZodISODate", (inst, def) => {
    $ZodISODate.init(inst, def);
    ZodStringFormat.init(inst, def);
});
const ZodISOTime = /*@__PURE__*/ $constructor("ZodISOTime", (inst, def) => {
    $ZodISOTime.init(inst, def);
    ZodStringFormat.init(inst, def);
});
const ZodISODuration = /*@__PURE__*/ $constructor("ZodISODuration", (inst, def) => {
    $ZodISODuration.init(inst, def);
    ZodStringFormat.init(inst, def);
});
const ZodEmail = /*@__PURE__*/ $constructor("ZodEmail", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodEmail.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function schemas_email(params) {
    return core._email(ZodEmail, params);
}
const ZodGUID = /*@__PURE__*/ $constructor("ZodGUID", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodGUID.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function schemas_guid(params) {
    return core._guid(ZodGUID, params);
}
const ZodUUID = /*@__PURE__*/ $constructor("ZodUUID", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodUUID.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function schemas_uuid(params) {
    return core._uuid(ZodUUID, params);
}
function uuidv4(params) {
    return core._uuidv4(ZodUUID, params);
}
// ZodUUIDv6
function uuidv6(params) {
    return core._uuidv6(ZodUUID, params);
}
// ZodUUIDv7
function uuidv7(params) {
    return core._uuidv7(ZodUUID, params);
}
const ZodURL = /*@__PURE__*/ $constructor("ZodURL", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodURL.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function url(params) {
    return core._url(ZodURL, params);
}
function httpUrl(params) {
    return core._url(ZodURL, {
        protocol: regexes.httpProtocol,
        hostname: regexes.domain,
        ...util.normalizeParams(params),
    });
}
const ZodEmoji = /*@__PURE__*/ $constructor("ZodEmoji", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodEmoji.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function schemas_emoji(params) {
    return core._emoji(ZodEmoji, params);
}
const ZodNanoID = /*@__PURE__*/ $constructor("ZodNanoID", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodNanoID.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function schemas_nanoid(params) {
    return core._nanoid(ZodNanoID, params);
}
/**
 * @deprecated CUID v1 is deprecated by its authors due to information leakage
 * (timestamps embedded in the id). Use {@link ZodCUID2} instead.
 * See https://github.com/paralleldrive/cuid.
 */
const ZodCUID = /*@__PURE__*/ $constructor("ZodCUID", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodCUID.init(inst, def);
    ZodStringFormat.init(inst, def);
});
/**
 * Validates a CUID v1 string.
 *
 * @deprecated CUID v1 is deprecated by its authors due to information leakage
 * (timestamps embedded in the id). Use {@link cuid2 | `z.cuid2()`} instead.
 * See https://github.com/paralleldrive/cuid.
 */
function schemas_cuid(params) {
    return core._cuid(ZodCUID, params);
}
const ZodCUID2 = /*@__PURE__*/ $constructor("ZodCUID2", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodCUID2.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function schemas_cuid2(params) {
    return core._cuid2(ZodCUID2, params);
}
const ZodULID = /*@__PURE__*/ $constructor("ZodULID", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodULID.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function schemas_ulid(params) {
    return core._ulid(ZodULID, params);
}
const ZodXID = /*@__PURE__*/ $constructor("ZodXID", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodXID.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function schemas_xid(params) {
    return core._xid(ZodXID, params);
}
const ZodKSUID = /*@__PURE__*/ $constructor("ZodKSUID", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodKSUID.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function schemas_ksuid(params) {
    return core._ksuid(ZodKSUID, params);
}
const ZodIPv4 = /*@__PURE__*/ $constructor("ZodIPv4", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodIPv4.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function schemas_ipv4(params) {
    return core._ipv4(ZodIPv4, params);
}
const ZodMAC = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodMAC", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    core.$ZodMAC.init(inst, def);
    ZodStringFormat.init(inst, def);
})));
function schemas_mac(params) {
    return core._mac(ZodMAC, params);
}
const ZodIPv6 = /*@__PURE__*/ $constructor("ZodIPv6", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodIPv6.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function schemas_ipv6(params) {
    return core._ipv6(ZodIPv6, params);
}
const ZodCIDRv4 = /*@__PURE__*/ $constructor("ZodCIDRv4", (inst, def) => {
    $ZodCIDRv4.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function schemas_cidrv4(params) {
    return core._cidrv4(ZodCIDRv4, params);
}
const ZodCIDRv6 = /*@__PURE__*/ $constructor("ZodCIDRv6", (inst, def) => {
    $ZodCIDRv6.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function schemas_cidrv6(params) {
    return core._cidrv6(ZodCIDRv6, params);
}
const ZodBase64 = /*@__PURE__*/ $constructor("ZodBase64", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodBase64.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function schemas_base64(params) {
    return core._base64(ZodBase64, params);
}
const ZodBase64URL = /*@__PURE__*/ $constructor("ZodBase64URL", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodBase64URL.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function schemas_base64url(params) {
    return core._base64url(ZodBase64URL, params);
}
const ZodE164 = /*@__PURE__*/ $constructor("ZodE164", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodE164.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function schemas_e164(params) {
    return core._e164(ZodE164, params);
}
const ZodCreditCard = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodCreditCard", (inst, def) => {
    core.$ZodCreditCard.init(inst, def);
    ZodStringFormat.init(inst, def);
})));
function schemas_creditCard(params) {
    return core._creditCard(ZodCreditCard, params);
}
const ZodIBAN = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodIBAN", (inst, def) => {
    core.$ZodIBAN.init(inst, def);
    ZodStringFormat.init(inst, def);
})));
function schemas_iban(params) {
    return core._iban(ZodIBAN, params);
}
const ZodJWT = /*@__PURE__*/ $constructor("ZodJWT", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodJWT.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function jwt(params) {
    return core._jwt(ZodJWT, params);
}
const ZodCustomStringFormat = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodCustomStringFormat", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    core.$ZodCustomStringFormat.init(inst, def);
    ZodStringFormat.init(inst, def);
})));
function stringFormat(format, fnOrRegex, _params = {}) {
    return core._stringFormat(ZodCustomStringFormat, format, fnOrRegex, _params);
}
function schemas_hostname(_params) {
    return core._stringFormat(ZodCustomStringFormat, "hostname", regexes.hostname, _params);
}
function schemas_hex(_params) {
    return core._stringFormat(ZodCustomStringFormat, "hex", regexes.hex, _params);
}
function schemas_currencyCode(_params) {
    return core._stringFormat(ZodCustomStringFormat, "currency_code", regexes.currencyCode, _params);
}
function hash(alg, params) {
    const enc = params?.enc ?? "hex";
    const format = `${alg}_${enc}`;
    const regex = core.regexes[format];
    if (!regex)
        throw new Error(`Unrecognized hash format: ${format}`);
    return core._stringFormat(ZodCustomStringFormat, format, regex, params);
}
const ZodNumber = /*@__PURE__*/ $constructor("ZodNumber", (inst, def) => {
    $ZodNumber.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => numberProcessor(inst, ctx, json, params);
    inst.isFinite = true;
}, 
/*@__PURE__*/ derived({
    minValue: (inst) => {
        const { minimum, exclusiveMinimum } = aggregateChecks(inst);
        return Math.max(minimum ?? Number.NEGATIVE_INFINITY, exclusiveMinimum ?? Number.NEGATIVE_INFINITY);
    },
    maxValue: (inst) => {
        const { maximum, exclusiveMaximum } = aggregateChecks(inst);
        return Math.min(maximum ?? Number.POSITIVE_INFINITY, exclusiveMaximum ?? Number.POSITIVE_INFINITY);
    },
    isInt: (inst) => {
        const { isInt, multipleOf } = aggregateChecks(inst);
        return !!isInt || !!multipleOf?.some(Number.isSafeInteger);
    },
    format: (inst) => aggregateChecks(inst).format ?? null,
}, {
    gt(value, params) {
        return this.check(_gt(value, params));
    },
    gte(value, params) {
        return this.check(_gte(value, params));
    },
    min(value, params) {
        return this.check(_gte(value, params));
    },
    lt(value, params) {
        return this.check(_lt(value, params));
    },
    lte(value, params) {
        return this.check(_lte(value, params));
    },
    max(value, params) {
        return this.check(_lte(value, params));
    },
    int(params) {
        return this.check(schemas_int(params));
    },
    safe(params) {
        return this.check(schemas_int(params));
    },
    positive(params) {
        return this.check(_gt(0, params));
    },
    nonnegative(params) {
        return this.check(_gte(0, params));
    },
    negative(params) {
        return this.check(_lt(0, params));
    },
    nonpositive(params) {
        return this.check(_lte(0, params));
    },
    multipleOf(value, params) {
        return this.check(_multipleOf(value, params));
    },
    step(value, params) {
        return this.check(_multipleOf(value, params));
    },
    finite() {
        return this;
    },
}));
function schemas_number(params) {
    return _number(ZodNumber, params);
}
const ZodNumberFormat = /*@__PURE__*/ $constructor("ZodNumberFormat", (inst, def) => {
    $ZodNumberFormat.init(inst, def);
    ZodNumber.init(inst, def);
});
function schemas_int(params) {
    return _int(ZodNumberFormat, params);
}
function float32(params) {
    return core._float32(ZodNumberFormat, params);
}
function float64(params) {
    return core._float64(ZodNumberFormat, params);
}
function int32(params) {
    return core._int32(ZodNumberFormat, params);
}
function uint32(params) {
    return core._uint32(ZodNumberFormat, params);
}
const ZodBoolean = /*@__PURE__*/ $constructor("ZodBoolean", (inst, def) => {
    $ZodBoolean.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => booleanProcessor(inst, ctx, json, params);
});
function schemas_boolean(params) {
    return _boolean(ZodBoolean, params);
}
const ZodBigInt = /*@__PURE__*/ $constructor("ZodBigInt", (inst, def) => {
    $ZodBigInt.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => bigintProcessor(inst, ctx, json, params);
}, 
/*@__PURE__*/ derived({
    minValue: (inst) => aggregateChecks(inst).minimum ?? null,
    maxValue: (inst) => aggregateChecks(inst).maximum ?? null,
    format: (inst) => aggregateChecks(inst).format ?? null,
}, {
    gte(value, params) {
        return this.check(_gte(value, params));
    },
    min(value, params) {
        return this.check(_gte(value, params));
    },
    gt(value, params) {
        return this.check(_gt(value, params));
    },
    lt(value, params) {
        return this.check(_lt(value, params));
    },
    lte(value, params) {
        return this.check(_lte(value, params));
    },
    max(value, params) {
        return this.check(_lte(value, params));
    },
    positive(params) {
        return this.check(_gt(BigInt(0), params));
    },
    negative(params) {
        return this.check(_lt(BigInt(0), params));
    },
    nonpositive(params) {
        return this.check(_lte(BigInt(0), params));
    },
    nonnegative(params) {
        return this.check(_gte(BigInt(0), params));
    },
    multipleOf(value, params) {
        return this.check(_multipleOf(value, params));
    },
}));
function schemas_bigint(params) {
    return core._bigint(ZodBigInt, params);
}
const ZodBigIntFormat = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodBigIntFormat", (inst, def) => {
    core.$ZodBigIntFormat.init(inst, def);
    ZodBigInt.init(inst, def);
})));
function int64(params) {
    return core._int64(ZodBigIntFormat, params);
}
function uint64(params) {
    return core._uint64(ZodBigIntFormat, params);
}
const ZodSymbol = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodSymbol", (inst, def) => {
    core.$ZodSymbol.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => processors.symbolProcessor(inst, ctx, json, params);
})));
function symbol(params) {
    return core._symbol(ZodSymbol, params);
}
const ZodUndefined = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodUndefined", (inst, def) => {
    core.$ZodUndefined.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => processors.undefinedProcessor(inst, ctx, json, params);
})));
function schemas_undefined(params) {
    return core._undefined(ZodUndefined, params);
}

const ZodNull = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodNull", (inst, def) => {
    core.$ZodNull.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => processors.nullProcessor(inst, ctx, json, params);
})));
function schemas_null(params) {
    return core._null(ZodNull, params);
}

const ZodAny = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodAny", (inst, def) => {
    core.$ZodAny.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => processors.anyProcessor(inst, ctx, json, params);
})));
function any() {
    return core._any(ZodAny);
}
const ZodUnknown = /*@__PURE__*/ $constructor("ZodUnknown", (inst, def) => {
    $ZodUnknown.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => unknownProcessor(inst, ctx, json, params);
});
function unknown() {
    return _unknown(ZodUnknown);
}
const ZodNever = /*@__PURE__*/ $constructor("ZodNever", (inst, def) => {
    $ZodNever.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => neverProcessor(inst, ctx, json, params);
});
function never(params) {
    return _never(ZodNever, params);
}
const ZodVoid = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodVoid", (inst, def) => {
    core.$ZodVoid.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => processors.voidProcessor(inst, ctx, json, params);
})));
function schemas_void(params) {
    return core._void(ZodVoid, params);
}

const ZodDate = /*@__PURE__*/ $constructor("ZodDate", (inst, def) => {
    $ZodDate.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => dateProcessor(inst, ctx, json, params);
    inst.min = (value, params) => inst.check(_gte(value, params));
    inst.max = (value, params) => inst.check(_lte(value, params));
}, 
/*@__PURE__*/ derived({
    minDate: (inst) => {
        const { minimum } = aggregateChecks(inst);
        return minimum ? new Date(minimum) : null;
    },
    maxDate: (inst) => {
        const { maximum } = aggregateChecks(inst);
        return maximum ? new Date(maximum) : null;
    },
}, {}));
function schemas_date(params) {
    return core._date(ZodDate, params);
}
const ZodArray = /*@__PURE__*/ $constructor("ZodArray", (inst, def) => {
    _ensureDefaultMemoizer();
    $ZodArray.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => arrayProcessor(inst, ctx, json, params);
    inst.element = def.element;
}, {
    min(n, params) {
        return this.check(_minLength(n, params));
    },
    nonempty(params) {
        return this.check(_minLength(1, params));
    },
    max(n, params) {
        return this.check(_maxLength(n, params));
    },
    length(n, params) {
        return this.check(_length(n, params));
    },
    unwrap() {
        return this.element;
    },
});
function array(element, params) {
    return _array(ZodArray, element, params);
}
// .keyof
function keyof(schema) {
    const shape = schema._zod.def.shape;
    return schemas_enum(Object.keys(shape));
}
const ZodObject = /*@__PURE__*/ $constructor("ZodObject", (inst, def) => {
    _ensureDefaultMemoizer();
    $ZodObjectJIT.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => objectProcessor(inst, ctx, json, params);
    installLazyProp(inst, "shape", (self) => self._zod.def.shape, false);
}, {
    keyof() {
        return schemas_enum(Object.keys(this._zod.def.shape));
    },
    catchall(catchall) {
        // `mergeDefs` rather than a spread: spreading reads `shape`, and resolving it can mint a whole fresh subtree
        return this.clone(mergeDefs(this._zod.def, { catchall: catchall }));
    },
    passthrough() {
        return this.clone(mergeDefs(this._zod.def, { catchall: unknown() }));
    },
    loose() {
        return this.clone(mergeDefs(this._zod.def, { catchall: unknown() }));
    },
    strict() {
        return this.clone(mergeDefs(this._zod.def, { catchall: never() }));
    },
    strip() {
        return this.clone(mergeDefs(this._zod.def, { catchall: undefined }));
    },
    extend(incoming) {
        return extend(this, incoming);
    },
    safeExtend(incoming) {
        return safeExtend(this, incoming);
    },
    merge(other) {
        return merge(this, other);
    },
    pick(mask) {
        return pick(this, mask);
    },
    omit(mask) {
        return omit(this, mask);
    },
    partial(...args) {
        return partial(ZodOptional, this, args[0]);
    },
    exactPartial(...args) {
        return partial(ZodExactOptional, this, args[0], "exactPartial");
    },
    required(...args) {
        return required(ZodNonOptional, this, args[0]);
    },
});
function object(shape, params) {
    const def = {
        type: "object",
        shape: shape ?? {},
        ...normalizeParams(params),
    };
    return new ZodObject(def);
}
// strictObject
function strictObject(shape, params) {
    return new ZodObject({
        type: "object",
        shape,
        catchall: never(),
        ...util.normalizeParams(params),
    });
}
// looseObject
function looseObject(shape, params) {
    return new ZodObject({
        type: "object",
        shape,
        catchall: unknown(),
        ...normalizeParams(params),
    });
}
const ZodUnion = /*@__PURE__*/ $constructor("ZodUnion", (inst, def) => {
    $ZodUnion.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => unionProcessor(inst, ctx, json, params);
    inst.options = def.options;
});
function union(options, params) {
    return new ZodUnion({
        type: "union",
        options: options,
        ...normalizeParams(params),
    });
}
const ZodXor = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodXor", (inst, def) => {
    ZodUnion.init(inst, def);
    core.$ZodXor.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => processors.unionProcessor(inst, ctx, json, params);
    inst.options = def.options;
})));
/** Creates an exclusive union (XOR) where exactly one option must match.
 * Unlike regular unions that succeed when any option matches, xor fails if
 * zero or more than one option matches the input. */
function xor(options, params) {
    return new ZodXor({
        type: "union",
        options: options,
        inclusive: false,
        ...util.normalizeParams(params),
    });
}
const ZodDiscriminatedUnion = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodDiscriminatedUnion", (inst, def) => {
    ZodUnion.init(inst, def);
    core.$ZodDiscriminatedUnion.init(inst, def);
})));
function discriminatedUnion(discriminator, options, params) {
    // const [options, params] = args;
    return new ZodDiscriminatedUnion({
        type: "union",
        options: options,
        discriminator,
        ...util.normalizeParams(params),
    });
}
const ZodIntersection = /*@__PURE__*/ $constructor("ZodIntersection", (inst, def) => {
    $ZodIntersection.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => intersectionProcessor(inst, ctx, json, params);
});
function intersection(left, right) {
    return new ZodIntersection({
        type: "intersection",
        left: left,
        right: right,
    });
}
const ZodTuple = /*@__PURE__*/ $constructor("ZodTuple", (inst, def) => {
    _ensureDefaultMemoizer();
    $ZodTuple.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => tupleProcessor(inst, ctx, json, params);
}, {
    rest(rest) {
        return this.clone({
            ...this._zod.def,
            rest: rest,
        });
    },
    partial() {
        const def = this._zod.def;
        // a refinement was authored against the full arity; partialing would run it on a shorter array
        if (def.checks?.length)
            throw new Error(".partial() cannot be used on tuple schemas containing refinements");
        return this.clone({
            ...def,
            items: def.items.map((item) => new ZodOptional({ type: "optional", innerType: item })),
        });
    },
});
function tuple(items, _paramsOrRest, _params) {
    const hasRest = _paramsOrRest instanceof core.$ZodType;
    const params = hasRest ? _params : _paramsOrRest;
    const rest = hasRest ? _paramsOrRest : null;
    return new ZodTuple({
        type: "tuple",
        items: items,
        rest,
        ...util.normalizeParams(params),
    });
}
const ZodRecord = /*@__PURE__*/ $constructor("ZodRecord", (inst, def) => {
    _ensureDefaultMemoizer();
    $ZodRecord.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => recordProcessor(inst, ctx, json, params);
    inst.keyType = def.keyType;
    inst.valueType = def.valueType;
});
function record(keyType, valueType, params) {
    // v3-compat: z.record(valueType, params?) — defaults keyType to z.string()
    if (!valueType || !valueType._zod) {
        return new ZodRecord({
            type: "record",
            keyType: schemas_string(),
            valueType: keyType,
            ...normalizeParams(valueType),
        });
    }
    return new ZodRecord({
        type: "record",
        keyType,
        valueType: valueType,
        ...normalizeParams(params),
    });
}
// type alksjf = core.output<core.$ZodRecordKey>;
function partialRecord(keyType, valueType, params) {
    return new ZodRecord({
        type: "record",
        keyType,
        valueType: valueType,
        ...util.normalizeParams(params),
        partial: true,
    });
}
function looseRecord(keyType, valueType, params) {
    return new ZodRecord({
        type: "record",
        keyType,
        valueType: valueType,
        mode: "loose",
        ...util.normalizeParams(params),
    });
}
const ZodMap = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodMap", (inst, def) => {
    _ensureDefaultMemoizer();
    core.$ZodMap.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => processors.mapProcessor(inst, ctx, json, params);
    inst.keyType = def.keyType;
    inst.valueType = def.valueType;
    inst.min = (...args) => inst.check(core._minSize(...args));
    inst.nonempty = (params) => inst.check(core._minSize(1, params));
    inst.max = (...args) => inst.check(core._maxSize(...args));
    inst.size = (...args) => inst.check(core._size(...args));
})));
function map(keyType, valueType, params) {
    return new ZodMap({
        type: "map",
        keyType: keyType,
        valueType: valueType,
        ...util.normalizeParams(params),
    });
}
const ZodSet = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodSet", (inst, def) => {
    _ensureDefaultMemoizer();
    core.$ZodSet.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => processors.setProcessor(inst, ctx, json, params);
    inst.min = (...args) => inst.check(core._minSize(...args));
    inst.nonempty = (params) => inst.check(core._minSize(1, params));
    inst.max = (...args) => inst.check(core._maxSize(...args));
    inst.size = (...args) => inst.check(core._size(...args));
})));
function set(valueType, params) {
    return new ZodSet({
        type: "set",
        valueType: valueType,
        ...util.normalizeParams(params),
    });
}
const ZodEnum = /*@__PURE__*/ $constructor("ZodEnum", (inst, def) => {
    $ZodEnum.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => enumProcessor(inst, ctx, json, params);
    inst.enum = def.entries;
    // reuse the parsed value set so a numeric TS enum's reverse-mapping keys stay out
    inst.options = [...inst._zod.values];
    const keys = new Set(Object.keys(def.entries));
    inst.extract = (values, params) => {
        const newEntries = {};
        for (const value of values) {
            if (keys.has(value)) {
                newEntries[value] = def.entries[value];
            }
            else
                throw new Error(`Key ${value} not found in enum`);
        }
        return new ZodEnum({
            ...def,
            checks: [],
            ...normalizeParams(params),
            entries: newEntries,
        });
    };
    inst.exclude = (values, params) => {
        const newEntries = { ...def.entries };
        for (const value of values) {
            if (keys.has(value)) {
                delete newEntries[value];
            }
            else
                throw new Error(`Key ${value} not found in enum`);
        }
        return new ZodEnum({
            ...def,
            checks: [],
            ...normalizeParams(params),
            entries: newEntries,
        });
    };
});
function schemas_enum(values, params) {
    const entries = Array.isArray(values) ? Object.fromEntries(values.map((v) => [v, v])) : values;
    return new ZodEnum({
        type: "enum",
        entries,
        ...normalizeParams(params),
    });
}

/** @deprecated This API has been merged into `z.enum()`. Use `z.enum()` instead.
 *
 * ```ts
 * enum Colors { red, green, blue }
 * z.enum(Colors);
 * ```
 */
function nativeEnum(entries, params) {
    return new ZodEnum({
        type: "enum",
        entries,
        ...util.normalizeParams(params),
    });
}
const ZodLiteral = /*@__PURE__*/ $constructor("ZodLiteral", (inst, def) => {
    $ZodLiteral.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => literalProcessor(inst, ctx, json, params);
    inst.values = new Set(def.values);
    Object.defineProperty(inst, "value", {
        get() {
            if (def.values.length > 1) {
                throw new Error("This schema contains multiple valid literal values. Use `.values` instead.");
            }
            return def.values[0];
        },
    });
});
function literal(value, params) {
    return new ZodLiteral({
        type: "literal",
        values: Array.isArray(value) ? value : [value],
        ...normalizeParams(params),
    });
}
const ZodFile = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodFile", (inst, def) => {
    core.$ZodFile.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => processors.fileProcessor(inst, ctx, json, params);
    inst.min = (size, params) => inst.check(core._minSize(size, params));
    inst.max = (size, params) => inst.check(core._maxSize(size, params));
    inst.mime = (types, params) => inst.check(core._mime(Array.isArray(types) ? types : [types], params));
})));
function file(params) {
    return core._file(ZodFile, params);
}
const ZodTransform = /*@__PURE__*/ $constructor("ZodTransform", (inst, def) => {
    _ensureDefaultMemoizer();
    $ZodTransform.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => transformProcessor(inst, ctx, json, params);
    inst._zod.parse = (payload, _ctx) => {
        if (_ctx.direction === "backward") {
            throw new $ZodEncodeError(inst.constructor.name);
        }
        payload.addIssue = (issue) => {
            if (typeof issue === "string") {
                payload.issues.push(util_issue(issue, payload.value, def));
            }
            else {
                // for Zod 3 backwards compatibility
                const _issue = issue;
                if (_issue.fatal)
                    _issue.continue = false;
                _issue.code ?? (_issue.code = "custom");
                if (!("input" in _issue))
                    _issue.input = payload.value;
                _issue.inst ?? (_issue.inst = inst);
                // _issue.continue ??= true;
                payload.issues.push(util_issue(_issue));
            }
        };
        const output = def.transform(payload.value, payload);
        if (output instanceof Promise) {
            return output.then((output) => {
                payload.value = output;
                return payload;
            });
        }
        payload.value = output;
        return payload;
    };
});
function transform(fn) {
    return new ZodTransform({
        type: "transform",
        transform: fn,
    });
}
const ZodOptional = /*@__PURE__*/ $constructor("ZodOptional", (inst, def) => {
    $ZodOptional.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => optionalProcessor(inst, ctx, json, params);
    inst.unwrap = () => inst._zod.def.innerType;
});
function optional(innerType) {
    return new ZodOptional({
        type: "optional",
        innerType: innerType,
    });
}
const ZodExactOptional = /*@__PURE__*/ $constructor("ZodExactOptional", (inst, def) => {
    $ZodExactOptional.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => optionalProcessor(inst, ctx, json, params);
    inst.unwrap = () => inst._zod.def.innerType;
});
function exactOptional(innerType) {
    return new ZodExactOptional({
        type: "optional",
        innerType: innerType,
    });
}
const ZodNullable = /*@__PURE__*/ $constructor("ZodNullable", (inst, def) => {
    $ZodNullable.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => nullableProcessor(inst, ctx, json, params);
    inst.unwrap = () => inst._zod.def.innerType;
});
function nullable(innerType) {
    return new ZodNullable({
        type: "nullable",
        innerType: innerType,
    });
}
// nullish
function schemas_nullish(innerType) {
    return optional(nullable(innerType));
}
const ZodDefault = /*@__PURE__*/ $constructor("ZodDefault", (inst, def) => {
    $ZodDefault.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => defaultProcessor(inst, ctx, json, params);
    inst.unwrap = () => inst._zod.def.innerType;
    inst.removeDefault = inst.unwrap;
});
function schemas_default(innerType, defaultValue) {
    return new ZodDefault({
        type: "default",
        innerType: innerType,
        get defaultValue() {
            return typeof defaultValue === "function" ? defaultValue() : shallowClone(defaultValue);
        },
    });
}
const ZodPrefault = /*@__PURE__*/ $constructor("ZodPrefault", (inst, def) => {
    $ZodPrefault.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => prefaultProcessor(inst, ctx, json, params);
    inst.unwrap = () => inst._zod.def.innerType;
});
function prefault(innerType, defaultValue) {
    return new ZodPrefault({
        type: "prefault",
        innerType: innerType,
        get defaultValue() {
            return typeof defaultValue === "function" ? defaultValue() : shallowClone(defaultValue);
        },
    });
}
const ZodNonOptional = /*@__PURE__*/ $constructor("ZodNonOptional", (inst, def) => {
    $ZodNonOptional.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => nonoptionalProcessor(inst, ctx, json, params);
    inst.unwrap = () => inst._zod.def.innerType;
});
function nonoptional(innerType, params) {
    return new ZodNonOptional({
        type: "nonoptional",
        innerType: innerType,
        ...normalizeParams(params),
    });
}
const ZodSuccess = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodSuccess", (inst, def) => {
    core.$ZodSuccess.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => processors.successProcessor(inst, ctx, json, params);
    inst.unwrap = () => inst._zod.def.innerType;
})));
function success(innerType) {
    return new ZodSuccess({
        type: "success",
        innerType: innerType,
    });
}
const ZodCatch = /*@__PURE__*/ $constructor("ZodCatch", (inst, def) => {
    $ZodCatch.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => catchProcessor(inst, ctx, json, params);
    inst.unwrap = () => inst._zod.def.innerType;
    inst.removeCatch = inst.unwrap;
});
function schemas_catch(innerType, catchValue) {
    return new ZodCatch({
        type: "catch",
        innerType: innerType,
        catchValue: (typeof catchValue === "function" ? catchValue : constantCatch(catchValue)),
    });
}

const ZodNaN = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodNaN", (inst, def) => {
    core.$ZodNaN.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => processors.nanProcessor(inst, ctx, json, params);
})));
function nan(params) {
    return core._nan(ZodNaN, params);
}
const ZodPipe = /*@__PURE__*/ $constructor("ZodPipe", (inst, def) => {
    $ZodPipe.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => pipeProcessor(inst, ctx, json, params);
    inst.in = def.in;
    inst.out = def.out;
});
function pipe(in_, out) {
    return new ZodPipe({
        type: "pipe",
        in: in_,
        out: out,
        // ...util.normalizeParams(params),
    });
}
const ZodCodec = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodCodec", (inst, def) => {
    ZodPipe.init(inst, def);
    core.$ZodCodec.init(inst, def);
})));
function codec(in_, out, params) {
    return new ZodCodec({
        type: "pipe",
        in: in_,
        out: out,
        transform: params.decode,
        reverseTransform: params.encode,
    });
}
function invertCodec(codec) {
    const def = codec._zod.def;
    return new ZodCodec({
        type: "pipe",
        in: def.out,
        out: def.in,
        transform: def.reverseTransform,
        reverseTransform: def.transform,
    });
}
const ZodPreprocess = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodPreprocess", (inst, def) => {
    ZodPipe.init(inst, def);
    core.$ZodPreprocess.init(inst, def);
})));
const ZodReadonly = /*@__PURE__*/ $constructor("ZodReadonly", (inst, def) => {
    $ZodReadonly.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => readonlyProcessor(inst, ctx, json, params);
    inst.unwrap = () => inst._zod.def.innerType;
});
function readonly(innerType) {
    return new ZodReadonly({
        type: "readonly",
        innerType: innerType,
    });
}
const ZodTemplateLiteral = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodTemplateLiteral", (inst, def) => {
    core.$ZodTemplateLiteral.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => processors.templateLiteralProcessor(inst, ctx, json, params);
})));
function templateLiteral(parts, params) {
    return new ZodTemplateLiteral({
        type: "template_literal",
        parts,
        ...util.normalizeParams(params),
    });
}
const ZodLazy = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodLazy", (inst, def) => {
    core.$ZodLazy.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => processors.lazyProcessor(inst, ctx, json, params);
    inst.unwrap = () => inst._zod.def.getter();
})));
function lazy(getter) {
    return new ZodLazy({
        type: "lazy",
        getter: getter,
    });
}
const ZodPromise = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodPromise", (inst, def) => {
    core.$ZodPromise.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => processors.promiseProcessor(inst, ctx, json, params);
    inst.unwrap = () => inst._zod.def.innerType;
})));
function promise(innerType) {
    return new ZodPromise({
        type: "promise",
        innerType: innerType,
    });
}
const ZodFunction = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodFunction", (inst, def) => {
    core.$ZodFunction.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => processors.functionProcessor(inst, ctx, json, params);
})));
function _function(params) {
    return new ZodFunction({
        type: "function",
        input: Array.isArray(params?.input) ? tuple(params?.input) : (params?.input ?? array(unknown())),
        output: params?.output ?? unknown(),
    });
}

const ZodCustom = /*@__PURE__*/ $constructor("ZodCustom", (inst, def) => {
    $ZodCustom.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => customProcessor(inst, ctx, json, params);
});
// custom checks
function check(fn) {
    const ch = new core.$ZodCheck({
        check: "custom",
        // ...util.normalizeParams(params),
    });
    ch._zod.check = fn;
    return ch;
}
function custom(fn, _params) {
    return core._custom(ZodCustom, fn ?? (() => true), _params);
}
function refine(fn, _params = {}) {
    return _refine(ZodCustom, fn, _params);
}
// superRefine
function superRefine(fn, params) {
    return _superRefine(fn, params);
}
// Re-export describe and meta from core
const schemas_describe = describe;
const schemas_meta = meta;
const ZodInstanceOf = /*@__PURE__*/ $constructor("ZodInstanceOf", (inst, def) => {
    ZodCustom.init(inst, def);
}, {
    properties(shape, params) {
        // asserts in place, so the narrowed output type is truthful without a wrapper
        return this.check(_properties(shape, params));
    },
});
function _instanceof(cls, params = {}) {
    const inst = new ZodInstanceOf({
        type: "custom",
        check: "custom",
        fn: (data) => data instanceof cls,
        abort: true,
        ...util.normalizeParams(params),
    });
    inst._zod.bag.Class = cls;
    // Override check to emit invalid_type instead of custom
    inst._zod.check = (payload) => {
        if (!(payload.value instanceof cls)) {
            payload.issues.push({
                code: "invalid_type",
                expected: cls.name,
                input: payload.value,
                inst,
                path: [...(inst._zod.def.path ?? [])],
            });
        }
    };
    return inst;
}

// stringbool
const stringbool = (...args) => core._stringbool({
    Codec: ZodCodec,
    Boolean: ZodBoolean,
    String: ZodString,
}, ...args);
function json(params) {
    const jsonSchema = lazy(() => {
        return union([schemas_string(params), schemas_number(), schemas_boolean(), schemas_null(), array(jsonSchema), record(schemas_string(), jsonSchema)]);
    });
    return jsonSchema;
}
// preprocess
function preprocess(fn, schema) {
    return new ZodPreprocess({
        type: "pipe",
        in: transform(fn),
        out: schema,
    });
}

;// CONCATENATED MODULE: external "node:v8"
const external_node_v8_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:v8");
;// CONCATENATED MODULE: external "node:vm"
const external_node_vm_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:vm");
;// CONCATENATED MODULE: ./src/engine/copy/memory.ts
// The copy's memory budget (issue 11: at most 256 MB of peak RSS at 1,000,000 entities).
//
// V8 lets its heap grow with the allocation rate: a long copy's live objects stay near 60 MB, but the heap
// kept for them crept from 80 to 150 MB over a million one-entity requests, taking the process to 267 MB.
// The action runs as `node dist/index.js` (no --max-old-space-size to pass), so the run bounds it itself:
// while resident memory is above COLLECT_ABOVE, a full collection every few seconds hands the slack back.
// Measured over a 20 ms link: 200,000 one-entity requests peaked at 208–211 MB against 226–232 MB without
// it, at no measurable cost in speed; a million at 245–247 MB (267 MB before). With the resident size
// looked at four times a second and an urgent collection above URGENT_ABOVE: a million at 232 MB (one
// entity per partition) and 238 MB (an unsorted source, 277 MB before).


/** Resident memory above which the heap is collected: the window stops growing at 200 MiB. */
const COLLECT_ABOVE = 192 * 2 ** 20;
/**
 * Above this, collect at once rather than every EVERY_MS: an unsorted source's copy (entities held in
 * partial transactions, promoted and dropped, besides hundreds of requests in flight) climbs 20–40 MB a
 * second, and reached 246–267 MB with collections every 3 s only.
 */
const URGENT_ABOVE = 224 * 2 ** 20;
const EVERY_MS = 3_000;
/**
 * How often resident memory is looked at (a few µs each time). Four times a second catches that climb
 * near URGENT_ABOVE: 300,000 entities from an unsorted source peaked at 229–232 MB, against 238–248 MB
 * looking once a second (collecting every second instead cost a tenth of the speed).
 */
const CHECK_MS = 250;
/**
 * How long a reading of resident memory is used again. Reading it is a system call and a parse of
 * /proc/self/stat, and on the bench's machine it took 90–450 µs: an unsorted source's hold looking every
 * 256 entities spent 2.5 % of the copy's CPU on it. Memory grows 20–40 MB a second at most here, so a
 * reading 100 ms old is within a few MB.
 */
const RESIDENT_FRESH_MS = 100;
let residentAt = -Infinity;
let resident = 0;
/** The process's resident memory in bytes, read at most RESIDENT_FRESH_MS ago. */
function residentMemory() {
    const now = performance.now();
    if (now - residentAt >= RESIDENT_FRESH_MS) {
        resident = process.memoryUsage.rss();
        residentAt = now;
    }
    return resident;
}
let collector;
/** V8's full collection, or null where it cannot be had. */
function fullCollection() {
    if (collector === undefined) {
        const exposed = globalThis.gc;
        if (typeof exposed === "function")
            collector = exposed;
        else {
            try {
                // The flag applies to contexts made after it: one made for the purpose hands over `gc`.
                (0,external_node_v8_namespaceObject.setFlagsFromString)("--expose-gc");
                const gc = (0,external_node_vm_namespaceObject.runInNewContext)("gc");
                collector = typeof gc === "function" ? gc : null;
            }
            catch {
                collector = null;
            }
        }
    }
    return collector;
}
class MemoryBudget {
    opts;
    timer;
    /** Full collections run so far. */
    collections = 0;
    constructor(opts = {}) {
        this.opts = opts;
    }
    start() {
        const collect = this.opts.collect === undefined ? fullCollection() : this.opts.collect;
        if (!collect || this.timer)
            return;
        const rss = this.opts.rss ?? residentMemory;
        const above = this.opts.above ?? COLLECT_ABOVE;
        const urgent = this.opts.urgentAbove ?? URGENT_ABOVE;
        const every = this.opts.everyMs ?? EVERY_MS;
        const now = this.opts.now ?? (() => performance.now());
        let last = -Infinity;
        this.timer = setInterval(() => {
            const resident = rss();
            if (resident <= above)
                return;
            if (resident <= urgent && now() - last < every)
                return;
            collect();
            last = now();
            this.collections++;
        }, this.opts.checkMs ?? CHECK_MS);
        this.timer.unref();
    }
    stop() {
        clearInterval(this.timer);
        this.timer = undefined;
    }
}

;// CONCATENATED MODULE: ./src/engine/copy/window-bounds.ts
// The bounds of the in-flight window (window.ts): where `auto` starts and how far it goes, the memory at
// which it stops growing and steps back, the largest number a user may set, and the CPU clock it reads.
/** Where `auto` starts: enough for a transaction-sized table on a near link, little for any service. */
const AUTO_START = 16;
/**
 * Most requests `auto` keeps in flight: one-entity requests at 10,000/s over a 100 ms link. Each is a
 * connection of its own (with its parser and buffers): at 2,048 a one-entity-per-partition copy went
 * past 256 MB of peak RSS, at 1,024 it stays near 210 MB.
 */
const AUTO_MAX = 1_024;
/**
 * Resident memory above which `auto` grows no further: a copy's peak must stay within 256 MB (1,000,000
 * one-entity requests crept to 261 MB with 1,024 in flight).
 */
const MEMORY_HOLD = 200 * 2 ** 20;
/**
 * Resident memory above which `auto` steps back by an eighth each round: every request in flight holds a
 * connection, its entity and its body, and a copy must stay within 256 MB (an unsorted source's copy once
 * reached 265 MB at ~600 in flight).
 */
const MEMORY_SHRINK = 232 * 2 ** 20;
/** The largest number `concurrency` takes (a user who sets it accepts the memory). */
const MAX_CONCURRENCY = 2_048;
/** CPU the process has used, ms (user and system, every thread). */
function processCpuMs() {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
}

;// CONCATENATED MODULE: ./src/engine/copy/window.ts
// How many requests may be in flight to one destination: the `concurrency` input, or `auto`.
//
// A fixed number of transactions in flight caps a copy at (window × entities per request) per round
// trip: 8 one-entity requests over a 100 ms link are 80 entities/s, while the services take 20,000.
// `auto` therefore starts modestly and, like a transport's congestion control, grows while growing
// helps. Slow start doubles the window once a round (a window's worth of answers, about a round trip;
// quadruples once the quickest answer took 80 ms or more) while a doubling brings a quarter more
// throughput, or its answers come back as fast as ever with some gain: the link is the limit. Three
// rounds in a row without that end it; a doubling that brought nothing at all (our CPU or the source is
// the limit) is undone, since every request in flight is a connection that costs CPU. A round in which
// our own CPU was busy and the answers queued (the JIT's warm-up, the first seconds of every run) judges
// nothing: slow start holds through it (CPU_BUSY). After that it steps up by an eighth, then a quarter,
// then a half while each step brings 5 % more (by eighths only after push-back), judged by a round of
// at least MIN_ROUND_MS and a round trip of answers to requests sent after the step, as long as the
// round's mean latency stays near the least seen (a service that queues our requests answers slower:
// more in flight would only wait longer).
// Throughput, not latency alone, is the evidence: when the source is the limit, answers stay as fast as
// ever, more in flight brings nothing, and the window stays where it is. After PROBE_ROUNDS quiet rounds
// it tries one step again, in case the service got faster. Where answers wait far longer than the
// quickest one (queueing in the service or in our own process, not the link), it tries a smaller window
// and keeps it if the rate holds (tryShrink). Where the operations in flight bound it, that many is
// the window (capped). Above MEMORY_HOLD of resident memory it grows no further, above MEMORY_SHRINK it
// steps back. A number given by the user is the cap (and the start: that is what they asked for); both
// shrink on 503, 500, time-outs and dropped connections (429s lower the send rate instead, rate.ts).



/** A round whose mean latency is below this multiple of the least round latency seen is "not queueing". */
const QUEUEING = 2;
/**
 * A slow-start round whose mean latency is within this multiple of the least seen: the answers come as
 * fast as ever with twice as many in flight, so the link, not the service or our CPU, is the limit.
 */
const FLAT = 1.25;
/** Throughput a doubling must add to go on doubling, and a step must add to go on stepping. */
const SLOW_START_GAIN = 1.25;
const STEP_GAIN = 1.05;
/**
 * No growth while answers take longer than this on average, and shrinking past twice it: requests in
 * flight are work a kill would repeat (checkpoints count only what landed), so about a second of it.
 */
const SLOW_MS = 1_000;
/** The shortest round, ms. */
const MIN_ROUND_MS = 200;
/**
 * The shortest round during slow start, ms. Each doubling is judged by one window's worth of answers
 * (about a round trip), not by a fixed span: at 200 ms a round, a one-entity-per-partition copy over a
 * 100 ms link spent 2.8 s of a 9.5 s run reaching its window. Long enough that a near link's rounds
 * hold a few hundred answers, not the gap between two pages.
 */
const START_ROUND_MS = 50;
/**
 * Slow start's rounds in a row without a paying doubling that end it (as BBR's startup ends after three
 * rounds without 25 % more bandwidth): a round is short and the first ones are noisy (new connections
 * cost CPU, pages arrive in bursts), and two such rounds once ended it at 128 over a 20 ms link.
 */
const SLOW_START_MISSES = 3;
/**
 * From this round trip on (the quickest answer seen, ms), slow start quadruples instead of doubling.
 * Each round lasts a round trip: over 100 ms, doubling from 16 to 1,024 took 1.3 s of a 7 s
 * one-entity-per-partition copy, with the scan waiting for the writer all the while (the scan is the
 * limit there, so what it waits is never made up). Quadrupling takes three rounds: 6,638 → 6,895
 * entities/s in eight alternating pairs (six won). A near link's rounds are short enough to double. The
 * quickest answer, not a round's mean: in slow start every round opens new connections (a round trip
 * more each) while our CPU is busy, and over a 20 ms link rounds averaged over 80 ms.
 */
const LONG_ROUND_TRIP_MS = 80;
/** Rounds without growth after which one step is tried again. */
const PROBE_ROUNDS = 8;
/**
 * A smaller window is kept when its round carries at least this share of the rate before it (rounds are
 * noisy: at 10,000 answers/s over loopback, ±10 % from one round to the next).
 */
const SHRINK_KEEP = 0.95;
/**
 * Tries of a smaller window keep this many operations in flight (and AUTO_START requests): below it fewer
 * connections save no CPU worth a loss (one-entity writes over loopback: 53 µs an entity and 15,760–
 * 15,961/s at 64 in flight, 55 µs and 15,266–15,663/s at 16).
 */
const SHRINK_FLOOR_OPS = 64;
/** Rounds between tries of a smaller window, at most, after tries that did not pay (doubling each time). */
const SHRINK_WAIT_MAX = 64;
/**
 * A slow-start round in which the process used at least this share of a core of CPU, while its answers
 * queued (mean above QUEUEING × the quickest), says nothing about the window: our own CPU is the limit.
 * The first second or two of every run is such a round after round (the JIT compiling, the first pages
 * and connections): measured with the bench's matrix, 1.00 of a core over 0, 20 and 100 ms alike while
 * the rate climbed ten-fold at a constant window. Judged as usual, those rounds sent a near link's window
 * to 1,024 (every doubling "paid", the warm-up's gain) and ended slow start over 20 ms at 256 (three
 * doublings that could not pay while the CPU was busy). Such a round holds: no growth and no miss.
 */
const CPU_BUSY = 0.9;
class AdaptiveWindow {
    memory;
    cpu;
    /** Requests allowed in flight now. */
    size;
    max;
    adaptive;
    slowStart;
    /** Completions, their summed latency and their operations in the current round. */
    roundDone = 0;
    roundOps = 0;
    roundLatency = 0;
    /** Operations per request in the last round (entities: 1 for a plain request, up to 100 a transaction). */
    opsPerRequest = 1;
    /** Whether a request had to wait for the window during this round. */
    limited = false;
    /** The least mean round latency seen: the link's and the service's own time, without queueing. */
    baseLatency = Infinity;
    /** The quickest answer seen: the round trip, at most. */
    quickest = Infinity;
    /** When the current round began, and the throughput (completions per ms) of the round before. */
    roundStart;
    rateBefore = 0;
    /** Rounds since the window last grew. */
    quietRounds = 0;
    /** After a step of an eighth: the throughput of the round before it, to judge it by. */
    steppedFrom;
    /** Slow start's rounds in a row whose doubling did not pay, and the best rate they reached. */
    misses = 0;
    missRate = 0;
    /**
     * The next step is size / 2^stepShift: an eighth, a quarter after a step that paid, a half after two.
     * After push-back (503, time-outs) steps stay an eighth: the service said it had enough.
     */
    stepShift = 3;
    pushedBack = false;
    /** The size before slow start's last growth (what undoing it goes back to). */
    grownFrom = AUTO_START;
    /**
     * When the size last changed: answers to requests sent before it measure the old window (the new ones
     * have not had a round trip yet), so a step's round counts only answers to requests sent after it.
     */
    changedAt = -Infinity;
    /** The round's rate before this one (a try of a smaller window is judged against the two). */
    lastRate = 0;
    /** A smaller window being tried: the size and rate it is judged against. */
    shrunkFrom;
    /**
     * The best rate a kept try was judged against, and so every later one: tries lose 1 − SHRINK_KEEP of
     * the rate in all, not at every step (tries each keeping 95 % once took a copy from 64 to 16 in three).
     */
    shrinkRef = 0;
    /** Rounds until the next try of a smaller window, and the wait after one that did not pay. */
    shrinkIn = 1;
    shrinkWait = PROBE_ROUNDS;
    /** CPU used and the time at the last round's end (ms): a round's share of a core. */
    cpuAt = 0;
    cpuWallAt = -Infinity;
    /**
     * `memory` reports the process's resident memory in bytes (default: residentMemory, memory.ts): `auto`
     * grows no further above MEMORY_HOLD, so a long copy of one-entity requests (a connection each) stays
     * within its memory budget whatever the machine. `cpu` reports the CPU the process has used, ms
     * (default: process.cpuUsage): slow start holds while our own CPU is the limit (CPU_BUSY).
     */
    constructor(setting, memory = residentMemory, cpu = processCpuMs) {
        this.memory = memory;
        this.cpu = cpu;
        this.adaptive = setting === "auto";
        this.max = setting === "auto" ? AUTO_MAX : Math.max(1, Math.floor(setting));
        this.size = setting === "auto" ? AUTO_START : this.max;
        this.slowStart = this.adaptive;
    }
    /** A request waited because the window was full. */
    markLimited() {
        this.limited = true;
    }
    /**
     * A request waited with only `inFlight` out: the operations in flight (rate.ts) were the bound, so that
     * is the window in effect (and slow start has nothing left to try). Left above it, the window judged
     * nothing: Azurite kept 40 transactions of 100, some answered after 5 s instead of 0.3.
     */
    capped(inFlight) {
        if (!this.adaptive || inFlight <= 0)
            return;
        this.limited = true;
        this.slowStart = false;
        if (inFlight < this.size)
            this.size = inFlight;
    }
    /**
     * A request of `ops` operations finished after `latencyMs`, at `now` (ms); returns true when the window
     * grew.
     */
    completed(latencyMs, now, ops = 1) {
        // A step is judged by answers to requests sent after it. (Slow start judges by latency too, which the
        // old window's answers show as well as the new ones'; so does a service slowing down.)
        const judging = this.steppedFrom !== undefined || this.shrunkFrom !== undefined;
        if (judging && now - latencyMs < this.changedAt) {
            // Its round begins with the first answer that counts: timed from the step, a round trip of old
            // answers left out would halve the rate it shows (over 100 ms, every step looked like a loss).
            if (this.roundDone === 0)
                this.roundStart = undefined;
            return false;
        }
        this.roundDone++;
        this.roundOps += ops;
        this.roundLatency += latencyMs;
        if (latencyMs < this.quickest)
            this.quickest = latencyMs;
        this.roundStart ??= now;
        const mean = this.roundLatency / this.roundDone;
        // A round is the window's worth of answers, at least MIN_ROUND_MS (START_ROUND_MS in slow start) and at
        // least its answers' mean latency (a round trip): a copy hands the writer a page at a time, and the
        // first answers come back in a burst, so shorter spans measure the pages' rhythm or the burst, not
        // the service (16 answers in 55 ms over a 100 ms link read as 290/s, and the 320/s of the doubling
        // after them as a loss).
        const minRound = Math.max(this.slowStart ? START_ROUND_MS : MIN_ROUND_MS, mean);
        if (this.roundDone < this.size || now - this.roundStart < minRound)
            return false;
        const rate = this.roundDone / Math.max(1, now - this.roundStart);
        const limited = this.limited;
        this.opsPerRequest = Math.max(1, this.roundOps / this.roundDone);
        this.roundStart = now;
        this.roundDone = 0;
        this.roundOps = 0;
        this.roundLatency = 0;
        this.limited = false;
        this.baseLatency = Math.min(this.baseLatency, mean);
        if (!this.adaptive)
            return false;
        const cpuNow = this.cpu();
        const cpuShare = (cpuNow - this.cpuAt) / Math.max(1, now - this.cpuWallAt);
        this.cpuAt = cpuNow;
        this.cpuWallAt = now;
        // Once a round (reading the resident size is a system call, a few µs).
        if (this.size > AUTO_START && this.memory() > MEMORY_SHRINK) {
            this.resize(Math.max(AUTO_START, this.size - Math.floor(this.size / 8)), now);
            this.slowStart = false;
            this.steppedFrom = undefined;
            return false;
        }
        if (mean > SLOW_MS * 2 && this.size > AUTO_START) {
            // Answers take seconds: the service queues what we send. What is in flight is not yet a resume
            // point (a kill would copy it again), so keep about a second's worth of it, no more.
            this.resize(Math.max(AUTO_START, Math.floor(this.size * 0.75)), now);
            this.slowStart = false;
            this.steppedFrom = undefined;
            return false;
        }
        const lastRate = this.lastRate;
        this.lastRate = rate;
        if (this.shrunkFrom)
            return this.judgeShrink(rate, limited, now);
        if (!limited)
            return false;
        if (!this.slowStart && this.steppedFrom === undefined && this.tryShrink(rate, lastRate, mean, now)) {
            return false;
        }
        // No growth at the cap or while answers take over a second; slow start still judges its last growth
        // there (a quadrupling to the cap that brought nothing is undone like any other).
        const room = this.size < this.max && mean <= SLOW_MS;
        if (!room && !this.slowStart)
            return false;
        // Above MEMORY_HOLD the window holds; above MEMORY_SHRINK (at each round's end, above) it steps back.
        // Entities waiting in partial transactions are bounded by the writer's buffers, not by the window, so
        // fewer in flight means less memory, not more entities waiting.
        if (this.memory() > MEMORY_HOLD)
            return false;
        // Our CPU is the limit (see CPU_BUSY): a doubling still to be judged waits for a round that can show
        // it, and the next one is not judged against the warm-up's rate.
        if (this.slowStart && cpuShare >= CPU_BUSY && mean > this.quickest * QUEUEING)
            return false;
        const before = this.rateBefore;
        this.rateBefore = rate;
        if (this.slowStart) {
            // The first measured round, or a doubling that paid: double again. A round is about one round trip,
            // so it still holds answers to the smaller window's requests: a doubling whose answers come as fast
            // as ever pays, even if its round shows only part of the gain. Latency alone says nothing: with the
            // source the limit, answers stay as fast as ever while more in flight brings nothing but
            // connections and memory. Slow start ends after SLOW_START_MISSES rounds in a row that did not pay
            // (one or two can be noise: new connections' first requests pay for connecting, and a copy hands
            // over its entities a page at a time).
            const flat = mean <= this.baseLatency * FLAT && rate >= before * STEP_GAIN;
            if (before === 0 || rate >= before * SLOW_START_GAIN || flat) {
                this.misses = 0;
                this.missRate = 0;
                if (!room) {
                    // It paid, and there is no more to try.
                    if (this.size >= this.max)
                        this.slowStart = false;
                    return false;
                }
                // Quadruple over a long round trip while the answers come as fast as ever (the link is the
                // limit); answers slowing down say the service or our CPU is near its limit: double.
                const fast = this.quickest >= LONG_ROUND_TRIP_MS && mean <= this.baseLatency * FLAT;
                this.grownFrom = this.size;
                return this.grow(this.size * (fast ? 4 : 2), now);
            }
            this.missRate = Math.max(this.missRate, rate);
            this.rateBefore = before; // judge the next round against the rate before the doubling too
            if (++this.misses < SLOW_START_MISSES)
                return false;
            this.slowStart = false;
            // A doubling (or quadrupling) that brought nothing at all (our CPU or the source is the limit) is
            // undone: every request in flight is a connection, and a thousand of them cost a third more CPU per
            // request than a hundred. One that brought a little is kept.
            if (this.missRate < before * STEP_GAIN)
                this.resize(Math.max(AUTO_START, this.grownFrom), now);
            return false;
        }
        // A step is judged by the round after it: it paid, and the next is tried, or the window holds until
        // the next probe.
        const stepped = this.steppedFrom;
        this.steppedFrom = undefined;
        const paid = stepped !== undefined && rate >= stepped * STEP_GAIN;
        const probe = stepped === undefined && ++this.quietRounds >= PROBE_ROUNDS;
        // Steps that keep paying grow (an eighth, a quarter, a half): slow start can end far below what the
        // link takes (its rounds are short and noisy), and from 64 to 1,024 by eighths is 24 steps, ten
        // seconds over a 20 ms link.
        this.stepShift = paid && !this.pushedBack ? Math.max(1, this.stepShift - 1) : 3;
        if (mean <= this.baseLatency * QUEUEING && (paid || probe)) {
            this.steppedFrom = rate;
            return this.grow(this.size + Math.max(1, Math.floor(this.size / 2 ** this.stepShift)), now);
        }
        return false;
    }
    /**
     * Queueing, not the link: slow start grows while a doubling pays, and early in a run it pays for other
     * reasons (new connections warming up, the JIT): over loopback it reached 1,024 in flight where 16 carry
     * as much, and every request in flight is a connection that costs CPU (one-entity writes: 80–87 µs an
     * entity at 1,024, 66–70 at 16–128). Little's law: the answers' mean latency is the window over the
     * rate, and the link's share of it at most the quickest answer; twice the rate times the quickest
     * answer covers the link with room to spare. So where the mean is more than twice the quickest, try
     * that (no less than a quarter of the window at once, nor below SHRINK_FLOOR_OPS in flight), and keep it
     * if the rate holds (against the best rate a kept try had: see shrinkRef). Over a long link answers take
     * about the round trip: no try.
     */
    tryShrink(rate, lastRate, mean, now) {
        const floor = Math.max(AUTO_START, Math.ceil(SHRINK_FLOOR_OPS / this.opsPerRequest));
        if (this.size <= floor || --this.shrinkIn > 0)
            return false;
        this.shrinkIn = 1;
        const target = Math.max(floor, this.size >> 2, Math.ceil((2 * this.size * this.quickest) / mean));
        if (target > this.size * 0.875)
            return false;
        const measured = lastRate > 0 ? (rate + lastRate) / 2 : rate;
        this.shrunkFrom = { size: this.size, rate: Math.max(measured, this.shrinkRef) };
        this.resize(target, now);
        return true;
    }
    /** The round after a try of a smaller window: keep it if the rate held, or go back and wait longer. */
    judgeShrink(rate, limited, now) {
        const from = this.shrunkFrom;
        this.shrunkFrom = undefined;
        if (limited && rate < from.rate * SHRINK_KEEP) {
            this.resize(from.size, now);
            this.shrinkIn = this.shrinkWait;
            this.shrinkWait = Math.min(SHRINK_WAIT_MAX, this.shrinkWait * 2);
            this.quietRounds = 0;
            return true;
        }
        this.shrinkRef = from.rate;
        this.stepShift = 3;
        this.quietRounds = 0;
        return false;
    }
    grow(size, now) {
        this.resize(Math.min(this.max, size), now);
        this.quietRounds = 0;
        return true;
    }
    resize(size, now) {
        this.size = Math.floor(size);
        this.changedAt = now;
    }
    /**
     * The service pushed back (at `now`, ms): halve (never below 1), and grow only cautiously from here on.
     */
    decrease(now = -Infinity) {
        this.resize(Math.max(1, Math.floor(this.size / 2)), now);
        this.slowStart = false;
        this.roundDone = 0;
        this.roundOps = 0;
        this.roundLatency = 0;
        this.limited = false;
        this.roundStart = undefined;
        this.rateBefore = 0;
        this.quietRounds = 0;
        this.steppedFrom = undefined;
        this.shrunkFrom = undefined;
        this.shrinkRef = 0;
        this.misses = 0;
        this.missRate = 0;
        this.stepShift = 3;
        this.pushedBack = true;
    }
    /** One step back up after a quiet spell (the fixed window's recovery: one per quiet second). */
    recover() {
        if (this.adaptive || this.size >= this.max)
            return false;
        this.size++;
        return true;
    }
}

;// CONCATENATED MODULE: ./src/config/parse.ts
// The small parsers behind buildConfig: lists (tables, renames), times, whole numbers, fractions, switches,
// endpoints and shards. Each failure is one ConfigError sentence naming the input and the fix.



function splitList(value) {
    return (value ?? "")
        .split(/[,\n]/)
        .map((s) => s.trim())
        .filter(Boolean);
}
function parseTables(value) {
    const items = splitList(value);
    if (items.length === 0) {
        throw new ConfigError("Input 'tables' is empty: give table names separated by commas, e.g. 'orders,users:users2'.");
    }
    const specs = items.map((item) => {
        const parts = item.split(":").map((s) => s.trim());
        if (parts.length > 2 || parts.some((p) => p === "")) {
            throw new ConfigError(`Input 'tables' has '${item}', which is not 'name' or 'source:destination'; write e.g. 'users:users2'.`);
        }
        for (const name of parts) {
            if (!TABLE_NAME.test(name) || name.toLowerCase() === "tables") {
                throw new ConfigError(`Input 'tables' has '${name}', which is not a valid table name (3–63 letters or digits, starting with a letter).`);
            }
        }
        return { source: parts[0], destination: parts[1] ?? parts[0] };
    });
    const seen = new Map();
    for (const s of specs) {
        const key = s.destination.toLowerCase();
        if (seen.has(key)) {
            throw new ConfigError(`Input 'tables' sends both '${seen.get(key)}' and '${s.source}' to destination '${s.destination}'; give each a different destination.`);
        }
        seen.set(key, s.source);
    }
    return specs;
}
const SYSTEM_PROPERTIES = new Set(["partitionkey", "rowkey", "timestamp"]);
function parseRenames(value) {
    const renames = splitList(value).map((item) => {
        const parts = item.split(":").map((s) => s.trim());
        if (parts.length !== 2 || !parts[0] || !parts[1]) {
            throw new ConfigError(`Input 'property-renames' has '${item}', which is not 'from:to'; write e.g. 'id:entityId'.`);
        }
        for (const name of parts) {
            if (!PROPERTY_NAME.test(name)) {
                throw new ConfigError(`Input 'property-renames' has '${name}', which is not a valid property name.`);
            }
        }
        return { from: parts[0], to: parts[1] };
    });
    const froms = new Set();
    const tos = new Map();
    for (const r of renames) {
        for (const name of [r.from, r.to]) {
            // The keys and Timestamp are not properties a rename may touch: renaming one away, or a property onto
            // one, would drop data without a word.
            if (SYSTEM_PROPERTIES.has(name.toLowerCase())) {
                throw new ConfigError(`Input 'property-renames' has '${r.from}:${r.to}', but ${name} is a system property (PartitionKey, RowKey and Timestamp cannot be renamed or renamed to); remove it.`);
            }
        }
        if (froms.has(r.from))
            throw new ConfigError(`Input 'property-renames' renames '${r.from}' twice; keep one.`);
        froms.add(r.from);
        const other = tos.get(r.to.toLowerCase());
        if (other !== undefined) {
            throw new ConfigError(`Input 'property-renames' renames both '${other}' and '${r.from}' to '${r.to}', so one of them would be lost; give each its own name.`);
        }
        tos.set(r.to.toLowerCase(), r.from);
    }
    return renames;
}
function oneOf(input, values, raw, fallback) {
    const v = (raw ?? "").trim().toLowerCase();
    if (v === "")
        return fallback;
    if (!values.includes(v)) {
        throw new ConfigError(`Input '${input}' is '${raw}'; use one of: ${values.join(", ")}.`);
    }
    return v;
}
function bool(input, raw, fallback) {
    const v = (raw ?? "").trim().toLowerCase();
    if (v === "")
        return fallback;
    if (["true", "yes", "1", "on"].includes(v))
        return true;
    if (["false", "no", "0", "off"].includes(v))
        return false;
    throw new ConfigError(`Input '${input}' is '${raw}'; use true or false.`);
}
function parse_int(input, raw, fallback, min, max) {
    const v = (raw ?? "").trim();
    if (v === "")
        return fallback;
    // Digits only: Number() would also take 0x10, 1e2 and 1_0.
    const n = /^[0-9]+$/.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
        throw new ConfigError(`Input '${input}' is '${raw}'; use a whole number from ${min} to ${max}.`);
    }
    return n;
}
/** `auto` (the default: the window adapts, see engine/window.ts) or a whole number that caps it. */
function concurrencySetting(raw) {
    const v = (raw ?? "").trim();
    if (v === "" || v.toLowerCase() === "auto")
        return "auto";
    if (!/^[0-9]+$/.test(v) || Number(v) < 1 || Number(v) > MAX_CONCURRENCY) {
        throw new ConfigError(`Input 'concurrency' is '${raw}'; use auto (the default) or a whole number from 1 to ${MAX_CONCURRENCY}.`);
    }
    return Number(v);
}
/** A whole number in range, or undefined when empty. */
function optionalInt(input, raw, min, max) {
    if ((raw ?? "").trim() === "")
        return undefined;
    return parse_int(input, raw, min, min, max);
}
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?Z$/;
function parseSince(raw, now = new Date()) {
    const v = (raw ?? "").trim();
    if (v === "")
        return undefined;
    const ms = ISO_UTC.test(v) ? Date.parse(v.replace(/(\.\d{3})\d+Z$/, "$1Z")) : NaN;
    // Date.parse rolls 2026-02-30 over to March 2nd: the date must read back as it was written.
    const real = Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === v.slice(0, 10);
    if (!real) {
        throw new ConfigError(`Input 'since' is '${raw}'; use an ISO-8601 UTC time such as 2024-05-01T12:00:00Z.`);
    }
    // A day of slack: the runner's clock may be wrong, the source's is what counts.
    if (ms > now.getTime() + 24 * 3600_000) {
        throw new ConfigError(`Input 'since' is '${raw}', which lies in the future; use a past UTC time.`);
    }
    return new Date(ms);
}
const endpointSchema = schemas_string().trim().url();
function endpoint(input, raw) {
    const v = (raw ?? "").trim();
    if (v === "")
        return undefined;
    if (!endpointSchema.safeParse(v).success) {
        throw new ConfigError(`Input '${input}' is not a URL; use e.g. https://account.table.core.windows.net.`);
    }
    const u = new URL(v);
    const loopback = ["localhost", "127.0.0.1", "[::1]"].includes(u.hostname) || u.hostname.startsWith("127.");
    if (u.protocol !== "https:" && !(u.protocol === "http:" && loopback)) {
        throw new ConfigError(`Input '${input}' must use https:// (plain http is allowed only for a local emulator).`);
    }
    return v;
}
function parseShard(raw, mode) {
    const v = (raw ?? "").trim();
    if (v === "")
        return undefined;
    const m = /^(\d+)\s*\/\s*(\d+)$/.exec(v);
    if (!m) {
        throw new ConfigError(`Input 'shard' is '${raw}'; write i/n, e.g. '2/4' for the second of four shards (from a matrix: '\${{ matrix.shard }}/4').`);
    }
    const index = Number(m[1]);
    const count = Number(m[2]);
    if (count < 1 || count > MAX_SHARDS) {
        throw new ConfigError(`Input 'shard' is '${raw}'; the number of shards n must be from 1 to ${MAX_SHARDS}.`);
    }
    if (index < 1 || index > count) {
        throw new ConfigError(`Input 'shard' is '${raw}', which is out of range; the shard i must be from 1 to ${count} (i/n counts from 1).`);
    }
    if (mode !== "full-sync" && mode !== "backfill") {
        throw new ConfigError(`Input 'shard' applies to the modes full-sync and backfill, not '${mode}'; remove it for this step.`);
    }
    return count === 1 ? undefined : { index, count };
}
function fraction(input, raw, fallback) {
    const v = (raw ?? "").trim();
    if (v === "")
        return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0 || n > 1) {
        throw new ConfigError(`Input '${input}' is '${raw}'; use a fraction greater than 0 and at most 1 (e.g. 0.01).`);
    }
    return n;
}

;// CONCATENATED MODULE: ./src/config/schema.ts
// One validated configuration for every door (action inputs, CLI flags, .env, dmt settings files).
// Each failure is one sentence naming the input and the fix. The inputs and their values are in inputs.ts,
// the parsers of single inputs in parse.ts; this module puts them together and is the config's front.





function side(label, raw, optional = false) {
    const connectionString = raw[`${label}-connection-string`]?.trim() || undefined;
    const ep = endpoint(`${label}-endpoint`, raw[`${label}-endpoint`]);
    const kind = oneOf(`${label}-kind`, KINDS, raw[`${label}-kind`], "auto");
    if (optional && !connectionString && !ep)
        return { kind };
    if (connectionString && ep) {
        throw new ConfigError(`Both '${label}-connection-string' and '${label}-endpoint' are set; keep one (the endpoint uses Entra ID).`);
    }
    if (!connectionString && !ep) {
        throw new ConfigError(`Neither '${label}-connection-string' nor '${label}-endpoint' is set; give one of them.`);
    }
    if (connectionString) {
        try {
            parseConnectionString(connectionString, `Input '${label}-connection-string'`);
        }
        catch (err) {
            throw new ConfigError(err instanceof Error ? err.message : String(err));
        }
    }
    return { connectionString, endpoint: ep, kind };
}
/** The table endpoint a side's input points at, for comparing the two sides (undefined when unknown). */
function schema_endpointOf(side) {
    let url;
    try {
        url = side.connectionString ? parseConnectionString(side.connectionString).url : side.endpoint;
    }
    catch {
        return undefined;
    }
    return url
        ?.toLowerCase()
        .replace(/:443(?=\/|$)/, "")
        .replace(/\/+$/, "");
}
/** Copying a table onto itself would rewrite the source (renames, deletes by repair): refuse it. */
function refuseSameTable(tables, source, destination) {
    const a = schema_endpointOf(source);
    if (a === undefined || a !== schema_endpointOf(destination))
        return;
    const same = tables.find((t) => t.source.toLowerCase() === t.destination.toLowerCase());
    if (same) {
        throw new ConfigError(`Input 'tables' copies table '${same.source}' onto itself: the source and destination are the same account (${a}); point the destination at another account or name another table ('${same.source}:${same.source}Copy').`);
    }
}
/** Validate raw inputs into one SyncConfig, or throw a ConfigError naming the input and the fix. */
function buildConfig(raw, now = new Date()) {
    const modeRaw = (raw.mode ?? "").trim();
    if (modeRaw === "")
        throw new ConfigError(`Input 'mode' is required; use one of: ${MODES.join(", ")}.`);
    const mode = oneOf("mode", MODES, modeRaw, "full-sync");
    const stateStore = oneOf("state-store", STATE_STORES, raw["state-store"], "cache");
    const defaultKey = stateStore === "file"
        ? ".table-sync/state.json"
        : stateStore === "variable"
            ? "TABLE_SYNC_STATE"
            : "table-sync";
    // Status reads the state (every table in it when 'tables' is empty) and, when given, the source's clock.
    const status = mode === "status";
    const tables = status && (raw.tables ?? "").trim() === "" ? [] : parseTables(raw.tables);
    const source = side("source", raw, status);
    // Preflight reads the source only; the destination's kind (destination-kind) says what it checks for.
    const destination = side("destination", raw, mode === "preflight" || status);
    refuseSameTable(tables, source, destination);
    return {
        mode,
        tables,
        source,
        destination,
        auth: {
            clientId: raw["client-id"]?.trim() || undefined,
            tenantId: raw["tenant-id"]?.trim() || undefined,
        },
        writeMode: oneOf("write-mode", WRITE_MODES, raw["write-mode"], "replace"),
        propertyRenames: parseRenames(raw["property-renames"]),
        queryFilter: raw["query-filter"]?.trim() || undefined,
        stateStore,
        stateKey: raw["state-key"]?.trim() || defaultKey,
        githubToken: raw["github-token"]?.trim() || undefined,
        since: parseSince(raw.since, now),
        overlapSeconds: parse_int("overlap-seconds", raw["overlap-seconds"], 120, 0, 86_400),
        checkpointSeconds: parse_int("checkpoint-seconds", raw["checkpoint-seconds"], 60, 1, 86_400),
        concurrency: concurrencySetting(raw.concurrency),
        maxEntitiesPerSecond: optionalInt("max-entities-per-second", raw["max-entities-per-second"], 1, 1_000_000),
        dryRun: bool("dry-run", raw["dry-run"], false),
        createTables: bool("create-tables", raw["create-tables"], true),
        maxFailuresKept: parse_int("max-failures-reported", raw["max-failures-reported"], 50, 0, 10_000),
        sample: fraction("sample", raw.sample, 1),
        repair: bool("repair", raw.repair, false),
        deleteExtra: bool("delete-extra", raw["delete-extra"], false),
        failOnDifference: bool("fail-on-difference", raw["fail-on-difference"], true),
        reportPath: raw["report-path"]?.trim() || undefined,
        conflict: oneOf("conflict", CONFLICT_POLICIES, raw.conflict, "skip"),
        shard: parseShard(raw.shard, mode),
        readRanges: parse_int("read-ranges", raw["read-ranges"], 1, 1, MAX_SHARDS),
        ruPerSecond: parse_int("ru-per-second", raw["ru-per-second"], 10_000, 1, 100_000_000),
    };
}

// EXTERNAL MODULE: external "node:zlib"
var external_node_zlib_ = __nccwpck_require__(8522);
;// CONCATENATED MODULE: ./src/state/compact.ts
// A state too big for a repository variable as plain JSON is stored compressed (Brotli), as Z85 text inside a
// small JSON envelope that still says whose document it is. Plain JSON is kept whenever it fits, so a small
// state stays readable (and readable by older versions). The envelope says version 2: an older
// azure-table-sync reading it answers that a newer version wrote it, rather than calling it damaged.
// Brotli and Z85 rather than deflate and base64: measured on 200 tables with full lag histories, the stored
// text is about a sixth smaller, which is what lets all 48 points of every table fit.

const PACKED_VERSION = 2;
const ENCODING = "brotli+z85";
// Z85 (ZeroMQ RFC 32): 4 bytes in 5 characters, none of them a quote or a backslash, so JSON keeps them as
// they are.
const Z85 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
const Z85_VALUE = new Map([...Z85].map((c, i) => [c, i]));
function z85(bytes) {
    const padded = Buffer.alloc(Math.ceil(bytes.length / 4) * 4);
    bytes.copy(padded);
    let out = "";
    for (let i = 0; i < padded.length; i += 4) {
        let v = padded.readUInt32BE(i);
        let chunk = "";
        for (let k = 0; k < 5; k++) {
            chunk = Z85[v % 85] + chunk;
            v = Math.floor(v / 85);
        }
        out += chunk;
    }
    return out;
}
function unz85(text, length) {
    if (text.length % 5 !== 0)
        throw new Error("the packed state is cut short");
    const out = Buffer.alloc((text.length / 5) * 4);
    for (let i = 0; i < text.length; i += 5) {
        let v = 0;
        for (let k = 0; k < 5; k++) {
            const d = Z85_VALUE.get(text[i + k]);
            if (d === undefined)
                throw new Error("the packed state holds a character Z85 does not use");
            v = v * 85 + d;
        }
        out.writeUInt32BE(v >>> 0, (i / 5) * 4);
    }
    return out.subarray(0, length);
}
function pack(json, format) {
    const bytes = (0,external_node_zlib_.brotliCompressSync)(Buffer.from(json, "utf8"), {
        params: {
            [external_node_zlib_.constants.BROTLI_PARAM_MODE]: external_node_zlib_.constants.BROTLI_MODE_TEXT,
            [external_node_zlib_.constants.BROTLI_PARAM_QUALITY]: external_node_zlib_.constants.BROTLI_MAX_QUALITY,
        },
    });
    return JSON.stringify({
        format,
        version: PACKED_VERSION,
        encoding: ENCODING,
        bytes: bytes.length,
        data: z85(bytes),
    });
}
/** The JSON text inside an envelope, or undefined when `doc` is not one. Throws when the data is damaged. */
function unpack(doc) {
    if (doc.version !== PACKED_VERSION || doc.encoding !== ENCODING || typeof doc.data !== "string") {
        return undefined;
    }
    const length = typeof doc.bytes === "number" ? doc.bytes : NaN;
    if (!Number.isInteger(length) || length < 0)
        throw new Error("the packed state has no valid length");
    return (0,external_node_zlib_.brotliDecompressSync)(unz85(doc.data, length)).toString("utf8");
}

;// CONCATENATED MODULE: ./src/state/history.ts
// A table's last backfills — when each ran, the lag it left and how many entities had changed — in a form
// small enough that 200 tables with full histories still fit the 48 KB of a repository variable (with the
// state's deflate envelope, state/compact.ts).
//
// One string per table: the format letter `a`, then three columns of whole numbers — per point the minutes
// since the previous point (the first: minutes since 1970), then every lag in seconds, then every changed
// count — each number a variable-length run of base-64 digits (a digit below 32 ends a number, 32 and up
// carry 5 more bits). A backfill every 10 minutes with a lag under 17 minutes and fewer than 1,024 changes
// takes 5 characters. Columns, not points, because the tables of one backfill workflow are backfilled in the
// same runs: their time columns are alike, and deflate (state/compact.ts) stores the repeats almost for free.
/** Backfills kept per table: a day and a bit at 30-minute intervals, 8 hours at 10. */
const MAX_HISTORY_POINTS = 48;
const DIGITS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_";
const FORMAT = "a";
function put(n) {
    let v = Math.max(0, Math.floor(n));
    let out = DIGITS[v % 32];
    v = Math.floor(v / 32);
    while (v > 0) {
        out = DIGITS[32 + (v % 32)] + out;
        v = Math.floor(v / 32);
    }
    return out;
}
/** The points of a stored history, oldest first; a history this version cannot read is no history. */
function decodeHistory(text) {
    if (!text || !text.startsWith(FORMAT))
        return [];
    const numbers = [];
    let v = 0;
    for (const c of text.slice(FORMAT.length)) {
        const d = DIGITS.indexOf(c);
        if (d < 0)
            return [];
        v = v * 32 + (d % 32);
        if (d < 32) {
            numbers.push(v);
            v = 0;
        }
    }
    if (v !== 0 || numbers.length % 3 !== 0)
        return [];
    const n = numbers.length / 3;
    const points = [];
    let minutes = 0;
    for (let i = 0; i < n; i++) {
        minutes += numbers[i];
        points.push({
            at: new Date(minutes * 60_000).toISOString(),
            lagSeconds: numbers[n + i],
            changed: numbers[2 * n + i],
        });
    }
    return points;
}
function encodeHistory(points) {
    if (points.length === 0)
        return undefined;
    let times = "";
    let previous = 0;
    for (const p of points) {
        // Never backwards: a point out of order is placed at the previous one's minute.
        const minutes = Math.max(previous, Math.floor(Date.parse(p.at) / 60_000));
        times += put(minutes - previous);
        previous = minutes;
    }
    const lags = points.map((p) => put(p.lagSeconds)).join("");
    const changed = points.map((p) => put(p.changed)).join("");
    return FORMAT + times + lags + changed;
}
/** The history with one more backfill, keeping the last `MAX_HISTORY_POINTS`. */
function appendHistory(text, point) {
    const points = [...decodeHistory(text), point].slice(-MAX_HISTORY_POINTS);
    return encodeHistory(points) ?? "";
}
/** The history without its oldest points, keeping `keep` (for a state that would not fit its store). */
function keepLast(text, keep) {
    return encodeHistory(decodeHistory(text).slice(-Math.max(0, keep)));
}

;// CONCATENATED MODULE: ./src/state/time-order.ts
// Which of two ISO-8601 UTC times comes first: the one comparison the watermark rules, the shard merge and
// the case-insensitive load all make, in a module of its own so none of them imports another for it.
/** `a`, or `b` when `b` is given and earlier. */
function earlier(a, b) {
    return b !== undefined && Date.parse(b) < Date.parse(a) ? b : a;
}
/** `a`, or `b` when `b` is given and later. */
function later(a, b) {
    return b !== undefined && Date.parse(b) > Date.parse(a) ? b : a;
}

;// CONCATENATED MODULE: ./src/state/state.ts
// The state document: per table pair, the watermark (the source server's clock when the last successful scan
// began) and what the last successful run did. Versioned, compact JSON, validated on every load: a corrupt or
// foreign document is an error, never an empty state. Everything here is pure; the stores do the I/O.
// The rules that change it live beside it: watermark.ts, shard-view.ts; the table keys: table-key.ts.




/** Marks the document as ours, so a foreign JSON file or variable is refused rather than overwritten. */
const STATE_FORMAT = "azure-table-sync/state";
const STATE_VERSION = 1;
/**
 * The largest serialized state any store accepts, in UTF-8 bytes: a repository variable holds at most 48 KB,
 * and we count KB as 1,000 bytes to stay clear of the limit whichever way GitHub counts it.
 */
const MAX_STATE_BYTES = 48_000;
/** A state problem the user must act on: one sentence, no stack needed. */
class StateError extends Error {
    name = "StateError";
}
const state_ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?Z$/;
const isoUtc = schemas_string().refine((s) => state_ISO_UTC.test(s) && Number.isFinite(Date.parse(s)), {
    message: "expected an ISO-8601 UTC time such as 2024-05-01T12:00:00.000Z",
});
const count = schemas_number().int().nonnegative();
const RunSummarySchema = looseObject({
    /** `full-sync`, `backfill`, … */
    mode: schemas_string().min(1),
    /** When the run finished (informational; never used to pick a filter). */
    at: isoUtc,
    read: count,
    written: count,
    skipped: count,
});
const CheckpointSchema = looseObject({
    /** Where the interrupted scan resumes (the reader's `Continuation`). */
    continuation: union([
        object({ nextPartitionKey: schemas_string(), nextRowKey: schemas_string().optional() }),
        // A read by key ranges (an unsorted source): every partition before this key is written. A field of its
        // own, not `nextPartitionKey`: a release before ranged reads must refuse it, not send it as a token.
        object({ rangedFrom: schemas_string() }),
    ]),
    /** The source clock when the interrupted scan began: the watermark the scan earns once it completes. */
    sourceClockAtStart: isoUtc,
    mode: schemas_string().min(1),
    read: count,
    /** The run's query-filter: a continuation is only valid for the query that produced it. */
    queryFilter: schemas_string().optional(),
    /** The run's property renames (`from:to,…`): entities before the continuation were written with them. */
    propertyRenames: schemas_string().optional(),
    /** Entities written before the continuation (over every resumed run). */
    written: count.optional(),
    /** The copy the checkpoint belongs to (engine/copy-id.ts): digests only, no secrets. */
    copy: schemas_string().optional(),
    at: isoUtc,
});
/** A full sync in progress: set by its first save, cleared once every table of the run completed. */
const FullSyncRunSchema = looseObject({
    /** When the interrupted full sync started (the runner's clock; informational). */
    startedAt: isoUtc,
    /** Table keys the run already completed: a resumed run does not copy them again. */
    done: array(schemas_string().min(1)),
    /** Per done table key: the copy (engine/copy-id.ts) it was done by; a different copy is not "done". */
    copies: record(schemas_string(), schemas_string()).optional(),
    /** Sharded runs: the shard's save number, and false once the run completed (kept, so a merge cannot revive it). */
    seq: count.optional(),
    open: schemas_boolean().optional(),
});
const TableStateSchema = looseObject({
    /** The source server's clock when the last successful scan began. */
    watermark: isoUtc.optional(),
    lastSuccess: RunSummarySchema.optional(),
    /** When the app's endpoint moved to the destination (a later mode records it). */
    switchedAt: isoUtc.optional(),
    /** A full sync's resume point: every entity before `continuation` is written. */
    checkpoint: CheckpointSchema.optional(),
    /** Ids of our own writes after the switch, so a later backfill does not take them for the app's. */
    postSwitchWrites: array(schemas_string()).optional(),
    /** The last backfills (time, lag, changed entities) in the compact form of state/history.ts. */
    history: schemas_string().optional(),
    /** How many entities the table holds, as preflight or the last complete full sync counted them. */
    size: looseObject({ entities: count, by: schemas_string().min(1), at: isoUtc }).optional(),
    /** How `shard: i/n` splits this table: the first plan stored for an n wins, so every shard reads the same ranges. */
    shardPlan: looseObject({
        count: schemas_number().int().min(2),
        boundaries: array(schemas_string()),
        id: schemas_string().min(1),
        sampledFrom: count,
        at: isoUtc,
    })
        .optional(),
    /** A shard is scanning the keys for a plan of `count` shards; `beat` changes while it is alive. */
    shardSampling: looseObject({ count: schemas_number().int().min(2), by: schemas_string(), beat: count }).optional(),
    /**
     * Per shard (`i/n`): its own watermark, checkpoint and last success, under the plan it read by. The table's
     * watermark is derived once every shard of one plan has one.
     */
    shards: record(schemas_string().regex(/^\d+\/\d+$/), looseObject({
        plan: schemas_string().min(1),
        /** Numbers this shard's saves, so a merge keeps the newest version of each shard's record. */
        seq: count.optional(),
        watermark: isoUtc.optional(),
        lastSuccess: RunSummarySchema.optional(),
        checkpoint: CheckpointSchema.optional(),
        postSwitchWrites: array(schemas_string()).optional(),
    }))
        .optional(),
});
const StateSchema = looseObject({
    format: literal(STATE_FORMAT),
    version: literal(STATE_VERSION),
    tables: record(schemas_string().min(1), TableStateSchema),
    /** A full sync that has not completed every table yet (see `FullSyncRunSchema`). */
    fullSync: FullSyncRunSchema.optional(),
    /** The same per shard (`i/n`) of a sharded full sync. */
    fullSyncShards: record(schemas_string(), FullSyncRunSchema).optional(),
});
function emptyState() {
    return { format: STATE_FORMAT, version: STATE_VERSION, tables: {} };
}
/**
 * One entry out of two stored for the same table under keys that differ only in case (states written
 * before keys were case-insensitive): never less safe than either. The older watermark (more is read
 * again), the earlier switch (more is guarded), every post-switch write of ours; two checkpoints cannot
 * both be right, so the full sync starts that table again.
 */
function mergeEntries(a, b) {
    const merged = { ...b, ...a };
    const either = (x, y) => (x === undefined ? y : earlier(x, y));
    const watermark = either(a.watermark, b.watermark);
    const switchedAt = either(a.switchedAt, b.switchedAt);
    if (watermark)
        merged.watermark = watermark;
    if (switchedAt)
        merged.switchedAt = switchedAt;
    if (a.postSwitchWrites || b.postSwitchWrites) {
        merged.postSwitchWrites = [...new Set([...(b.postSwitchWrites ?? []), ...(a.postSwitchWrites ?? [])])];
    }
    if (a.checkpoint && b.checkpoint)
        delete merged.checkpoint;
    return merged;
}
/** The state with every table key in the case `tableKey` makes (entries that collide are merged). */
function withCaseInsensitiveKeys(state) {
    const keys = Object.keys(state.tables);
    const lowerDone = (run) => ({
        ...run,
        done: [...new Set(run.done.map((k) => k.toLowerCase()))],
    });
    if (keys.every((k) => k === k.toLowerCase()) &&
        (state.fullSync?.done ?? []).every((k) => k === k.toLowerCase()) &&
        Object.values(state.fullSyncShards ?? {}).every((r) => r.done.every((k) => k === k.toLowerCase()))) {
        return state;
    }
    const tables = {};
    for (const key of keys) {
        const lower = key.toLowerCase();
        const entry = state.tables[key];
        tables[lower] = tables[lower] ? mergeEntries(tables[lower], entry) : entry;
    }
    const next = { ...state, tables };
    if (state.fullSync)
        next.fullSync = lowerDone(state.fullSync);
    if (state.fullSyncShards) {
        next.fullSyncShards = Object.fromEntries(Object.entries(state.fullSyncShards).map(([sid, run]) => [sid, lowerDone(run)]));
    }
    return next;
}
/** Compact JSON for a store; throws when it would not fit the 48 KB a repository variable holds. */
function serializeState(state) {
    const checked = StateSchema.safeParse(state);
    if (!checked.success) {
        throw new StateError(`Refusing to save an invalid state: ${formatIssues(checked.error)}.`);
    }
    let text = JSON.stringify(checked.data);
    // Too big as plain JSON: deflated; still too big, the oldest backfill history goes first (it only draws
    // the lag chart), half of what is left each time, before a save would fail.
    for (let keep = MAX_HISTORY_POINTS; Buffer.byteLength(text, "utf8") > MAX_STATE_BYTES; keep >>= 1) {
        const data = keep === MAX_HISTORY_POINTS ? checked.data : withHistoriesCut(checked.data, keep);
        text = pack(JSON.stringify(data), STATE_FORMAT);
        if (keep === 0)
            break;
    }
    const bytes = Buffer.byteLength(text, "utf8");
    if (bytes > MAX_STATE_BYTES) {
        throw new StateError(`The state is ${bytes} bytes, more than the ${MAX_STATE_BYTES} bytes a state may hold ` +
            `(${Object.keys(state.tables).length} tables); split the tables over several state keys.`);
    }
    return text;
}
/** Every table's backfill history cut to its last `keep` points. */
function withHistoriesCut(state, keep) {
    const tables = {};
    for (const [key, entry] of Object.entries(state.tables)) {
        const history = entry.history === undefined ? undefined : keepLast(entry.history, keep);
        const next = { ...entry };
        if (history)
            next.history = history;
        else
            delete next.history;
        tables[key] = next;
    }
    return { ...state, tables };
}
/** Parse and validate a stored state. `where` names the store in the error ("the file x", "the variable Y"). */
function parseState(text, where) {
    let json;
    try {
        json = JSON.parse(text);
        const o = json;
        const inner = o && typeof o === "object" && o.format === STATE_FORMAT ? unpack(o) : undefined;
        if (inner !== undefined)
            json = JSON.parse(inner);
    }
    catch (err) {
        throw new StateError(`The state in ${where} is not valid JSON (${err.message}); fix or delete it, then run 'full-sync'.`);
    }
    if (typeof json === "object" && json !== null && !Array.isArray(json)) {
        const o = json;
        if (o.format === STATE_FORMAT && typeof o.version === "number" && o.version > STATE_VERSION) {
            throw new StateError(`The state in ${where} has version ${o.version}, written by a newer azure-table-sync; ` +
                `use that version or newer (this one reads version ${STATE_VERSION}).`);
        }
        if (o.format !== STATE_FORMAT) {
            throw new StateError(`The state in ${where} is not an azure-table-sync state (no "format": "${STATE_FORMAT}"); ` +
                `point the state store at its own location instead of overwriting someone else's data.`);
        }
    }
    else {
        throw new StateError(`The state in ${where} is not an azure-table-sync state (not a JSON object).`);
    }
    const parsed = StateSchema.safeParse(json);
    if (!parsed.success) {
        throw new StateError(`The state in ${where} is damaged: ${formatIssues(parsed.error)}; fix or delete it, then run 'full-sync'.`);
    }
    return withCaseInsensitiveKeys(parsed.data);
}
function formatIssues(error) {
    return error.issues
        .slice(0, 3)
        .map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`)
        .join("; ");
}

// EXTERNAL MODULE: external "node:util"
var external_node_util_ = __nccwpck_require__(7975);
;// CONCATENATED MODULE: ./src/cli/help.ts
// `table-sync --help` and `table-sync <command> --help`: one list of options, each tagged with the commands
// that take it (the same table args.ts checks), so a command's help shows exactly what it accepts.

/** Which commands take a flag; a flag not listed here applies to every command. */
const COMMANDS_OF = {
    "write-mode": ["full-sync", "backfill", "switch"],
    "query-filter": ["full-sync", "backfill", "switch"],
    since: ["backfill"],
    "overlap-seconds": ["backfill", "switch"],
    "checkpoint-seconds": ["full-sync"],
    concurrency: ["full-sync", "backfill", "verify", "switch"],
    "max-entities-per-second": ["full-sync", "backfill", "verify", "switch"],
    "dry-run": ["full-sync", "backfill"],
    "create-tables": ["full-sync", "backfill", "switch"],
    sample: ["verify", "switch"],
    repair: ["verify"],
    "delete-extra": ["verify"],
    "fail-on-difference": ["verify"],
    "report-path": ["verify", "switch", "preflight"],
    conflict: ["full-sync", "backfill", "verify", "switch"],
    shard: ["full-sync", "backfill"],
    "read-ranges": ["full-sync", "backfill"],
    "state-file": ["full-sync", "backfill", "verify", "switch", "preflight", "status"],
    "ru-per-second": ["preflight"],
    "property-renames": ["full-sync", "backfill", "verify", "switch", "preflight"],
    "destination-connection-string": ["full-sync", "backfill", "verify", "switch", "preflight"],
    "destination-endpoint": ["full-sync", "backfill", "verify", "switch", "preflight"],
    "destination-kind": ["full-sync", "backfill", "verify", "switch", "preflight"],
    "max-failures-reported": ["full-sync", "backfill", "verify", "switch", "preflight"],
};
function appliesTo(flag, command) {
    const commands = COMMANDS_OF[flag];
    return commands === undefined || commands.includes(command);
}
/** "verify", "verify and switch", "full-sync, backfill and switch". */
function commandList(commands) {
    return commands.length <= 1
        ? commands.join("")
        : `${commands.slice(0, -1).join(", ")} and ${commands[commands.length - 1]}`;
}
const GROUPS = [
    {
        title: "Connections (for each side give a connection string OR an endpoint)",
        options: [
            {
                usage: "--source-connection-string <cs>",
                text: ["Account key or SAS connection string, or UseDevelopmentStorage=true."],
                flags: ["source-connection-string"],
            },
            {
                usage: "--destination-connection-string <cs>",
                text: [
                    "Prefer the environment variables SOURCE_CONNECTION_STRING and",
                    "DESTINATION_CONNECTION_STRING, or a .env file in the current",
                    "directory, to keep secrets out of shell history.",
                    "Flags win over the environment, the environment over .env.",
                ],
                flags: ["destination-connection-string"],
            },
            {
                usage: "--source-endpoint <url>",
                text: ["e.g. https://acct.table.core.windows.net — signs in with Entra ID"],
                flags: ["source-endpoint"],
            },
            {
                usage: "--destination-endpoint <url>",
                text: [
                    "(DefaultAzureCredential: Azure CLI login, managed identity,",
                    "workload identity, AZURE_* environment variables).",
                ],
                flags: ["destination-endpoint"],
            },
            {
                usage: "--client-id <id>, --tenant-id <id>",
                text: ["With an endpoint: pick the identity DefaultAzureCredential uses."],
                flags: ["client-id", "tenant-id"],
            },
            {
                usage: "--source-kind auto|table|cosmos",
                text: ["Service type (default auto: *.table.cosmos.azure.com is cosmos)."],
                flags: ["source-kind"],
            },
            { usage: "--destination-kind auto|table|cosmos", text: [], flags: ["destination-kind"] },
        ],
    },
    {
        title: "What to copy",
        options: [
            {
                usage: "--tables <list>",
                text: ["Comma-separated; 'name' or 'source:destination', e.g. orders,users:users2."],
                flags: ["tables"],
            },
            {
                usage: "--since <time>",
                text: [
                    "backfill: ISO-8601 UTC, e.g. 2024-05-01T12:00:00Z. Use the source clock",
                    "a previous run reported (the summary prints the next --since).",
                ],
                flags: ["since"],
            },
            {
                usage: "--query-filter <odata>",
                text: ["An extra OData filter for every table, ANDed with --since."],
                flags: ["query-filter"],
            },
            {
                usage: "--property-renames <list>",
                text: ["from:to pairs, e.g. id:entityId (Cosmos reserves id, etag, rid, ResourceId)."],
                flags: ["property-renames"],
            },
        ],
    },
    {
        title: "How to write",
        options: [
            {
                usage: "--write-mode replace|merge|insert",
                text: ["Default replace (upsert). insert skips entities that exist."],
                flags: ["write-mode"],
            },
            {
                usage: "--concurrency auto|<n>",
                text: [
                    "Requests in flight to the destination. auto (default) grows the window while",
                    "that speeds the copy up; a number (1–2048) caps it. Fewer while the",
                    "destination throttles (429) or is busy (503), then more again.",
                ],
                flags: ["concurrency"],
            },
            {
                usage: "--max-entities-per-second <n>",
                text: ["Never write more entities per second than this (default: no cap)."],
                flags: ["max-entities-per-second"],
            },
            {
                usage: "--no-create-tables",
                text: ["Do not create missing destination tables (same: --create-tables false)."],
                flags: ["create-tables"],
            },
            { usage: "--dry-run", text: ["Read and count only; write nothing."], flags: ["dry-run"] },
            {
                usage: "--max-failures-reported <n>",
                text: ["Failed entities listed per table (default 50; all are counted)."],
                flags: ["max-failures-reported"],
            },
            {
                usage: "--conflict skip|source-wins",
                text: ["After the switch: keep the app's write (default) or overwrite it."],
                flags: ["conflict"],
            },
        ],
    },
    {
        title: "Verify and switch",
        options: [
            {
                usage: "--sample <fraction>",
                text: ["Check this fraction of the source entities (default 1: all of them)."],
                flags: ["sample"],
            },
            {
                usage: "--repair",
                text: ["verify: copy missing and different entities from the source."],
                flags: ["repair"],
            },
            {
                usage: "--delete-extra",
                text: [
                    "verify --repair: delete destination entities the source no longer has",
                    "(refused once a switch is recorded).",
                ],
                flags: ["delete-extra"],
            },
            {
                usage: "--no-fail-on-difference",
                text: ["verify: exit 0 even when the tables differ."],
                flags: ["fail-on-difference"],
            },
            {
                usage: "--report-path <path>",
                text: [
                    "Where the JSON report goes (default ./table-sync-report.json; missing",
                    "directories are created). Checked before the run starts.",
                ],
                flags: ["report-path"],
            },
        ],
    },
    {
        title: "Scale out",
        options: [
            {
                usage: "--shard <i/n>",
                text: [
                    "full-sync/backfill: copy the i-th of n partition-key ranges of each table",
                    "(run n of these at once, sharing one --state-file).",
                ],
                flags: ["shard"],
            },
            {
                usage: "--read-ranges <k>",
                text: [
                    "Read each table through k key ranges at once (default 1), sharing",
                    "--concurrency; worth it when reading the source is the bottleneck.",
                ],
                flags: ["read-ranges"],
            },
            {
                usage: "--ru-per-second <n>",
                text: [
                    "preflight, Cosmos destination: the RU/s its estimate of the full sync's",
                    "time assumes (default 10000).",
                ],
                flags: ["ru-per-second"],
            },
        ],
    },
    {
        title: "State and output",
        options: [
            {
                usage: "--state-file <path>",
                text: [
                    "The state as a JSON file: watermarks (full-sync records, backfill reads),",
                    "checkpoints, and switched-at (switch records it; later copies respect it).",
                ],
                flags: ["state-file"],
            },
            {
                usage: "--overlap-seconds <s>",
                text: ["How far before a stored watermark a backfill re-reads (default 120)."],
                flags: ["overlap-seconds"],
            },
            {
                usage: "--checkpoint-seconds <s>",
                text: [
                    "full-sync with --state-file: save a resume point as it moves, at most",
                    "every s seconds (default 60), and on Ctrl+C/SIGTERM; the next full-sync",
                    "resumes from it, repeating about s seconds of work.",
                ],
                flags: ["checkpoint-seconds"],
            },
            {
                usage: "--progress-seconds <s>",
                text: ["Seconds between progress lines on stderr (default 5; 0 turns them off)."],
                flags: ["progress-seconds"],
            },
            {
                usage: "--json",
                text: ["Print the result as JSON on stdout (the summary then goes to stderr)."],
                flags: ["json"],
            },
            {
                usage: "-h, --help",
                text: ["Show this help ('table-sync <command> --help': that command's options)."],
                flags: ["help"],
            },
            { usage: "--version", text: ["Print the version of table-sync."], flags: ["version"] },
        ],
    },
];
const USAGE = {
    "full-sync": "table-sync full-sync --tables <list> [--state-file <path>] [options]",
    backfill: "table-sync backfill  --tables <list> (--state-file <path> | --since <ISO-8601 UTC>) [options]",
    verify: "table-sync verify    --tables <list> [--sample 0.01] [--repair [--delete-extra]] [options]",
    switch: "table-sync switch    --tables <list> --state-file <path> [--sample 0.01] [options]",
    preflight: "table-sync preflight --tables <list> [--destination-kind cosmos] [--property-renames …]",
    status: "table-sync status    --state-file <path> [--tables <list>] [--source-connection-string <cs>]",
};
const ABOUT = {
    "full-sync": ["Copy every entity of each table (step 1 of a migration); records a watermark per table."],
    backfill: [
        "Copy only entities inserted or changed since the watermark (or --since), less the overlap:",
        "Timestamp ge datetime'…' (steps 2 and 4: repeat until the switch, and once more after it).",
        "After a recorded switch it never overwrites what the app wrote on the destination.",
    ],
    verify: ["Compare every entity (or a --sample) of source and destination: missing, extra, different."],
    switch: ["A final backfill, a verify, then records switched-at (destination clock) in the state."],
    preflight: [
        "Read the source only: sizes, partition profile, reserved names, keys Cosmos refuses, estimates of",
        "time and (Cosmos) request units; with --state-file it keeps each table's size for the full sync's ETA.",
    ],
    status: [
        "Where the migration stands, per table, from the state (writes nothing): phase, entities copied,",
        "checkpoint, watermark, lag now (with the source: on its clock), the last backfills as a sparkline,",
        "switched-at, and what to run next. Exits 1 when there is no state.",
    ],
};
const EXIT_STATUS = `Exit status:
  0    every entity of every table was copied (verify: in sync; switch: ready; preflight: nothing
       blocks a full sync; status: the state was read).
  1    an entity or a table failed, the check did not pass, the report could not be written, or
       (status) there is no state.
  2    a usage or configuration error (nothing was read or written).
  130  cancelled by Ctrl+C (SIGINT: 128 + 2), also when a second Ctrl+C quits at once.
  143  cancelled by SIGTERM (128 + 15), e.g. a CI cancel or time-out.
       A cancelled verify, switch or preflight gives no verdict.`;
const EXAMPLES = `Examples:
  export SOURCE_CONNECTION_STRING='DefaultEndpointsProtocol=https;AccountName=…;AccountKey=…'
  export DESTINATION_CONNECTION_STRING='…;TableEndpoint=https://acct.table.cosmos.azure.com:443/;'
  table-sync full-sync --tables orders,users --property-renames id:entityId
  table-sync backfill --tables orders,users --property-renames id:entityId --since 2024-05-01T12:00:00Z`;
function renderGroups(command) {
    const blocks = [];
    for (const group of GROUPS) {
        const options = group.options.filter((o) => command === undefined || o.flags.some((f) => appliesTo(f, command)));
        if (options.length === 0)
            continue;
        const width = Math.max(32, ...options.map((o) => o.usage.length + 2));
        const lines = [`${group.title}:`];
        for (const o of options) {
            const [first = "", ...more] = o.text;
            lines.push(`  ${o.usage.padEnd(width)}${first}`.trimEnd());
            for (const line of more)
                lines.push(`  ${" ".repeat(width)}${line}`);
        }
        blocks.push(lines.join("\n"));
    }
    return blocks.join("\n\n");
}
/** `table-sync --help`. */
function globalHelp() {
    const commands = MODES.map((m) => [`  ${m.padEnd(12)}${ABOUT[m][0]}`, ...ABOUT[m].slice(1).map((l) => `  ${" ".repeat(12)}${l}`)].join("\n")).join("\n");
    return `table-sync — copy Azure Table Storage tables to Azure Cosmos DB for Table (or another
table account) with exact types, for a zero-downtime migration.

Usage:
${MODES.map((m) => `  ${USAGE[m]}`).join("\n")}
  table-sync <command> --help     The options of one command.
  table-sync --version

Commands:
${commands}

Options (each command takes only the ones its --help lists):

${renderGroups()}

${EXIT_STATUS}

${EXAMPLES}
`;
}
/** `table-sync <command> --help`: its usage and only the options it takes. */
function commandHelp(command) {
    return `Usage: ${USAGE[command].replace(/ {2,}/, " ")}

${ABOUT[command].join("\n")}

${renderGroups(command)}

${EXIT_STATUS}

'table-sync --help' lists every command.
`;
}

;// CONCATENATED MODULE: ./src/cli/args.ts
// Command-line flags → the RawInputs of src/config/schema.ts. Flag names are the action's input names,
// so `--tables` here is `tables:` in a workflow and both pass through the same validation.



/** Flags whose value becomes the RawInputs entry of the same name. */
const INPUT_FLAGS = [
    "tables",
    "source-connection-string",
    "destination-connection-string",
    "source-endpoint",
    "destination-endpoint",
    "client-id",
    "tenant-id",
    "source-kind",
    "destination-kind",
    "write-mode",
    "property-renames",
    "query-filter",
    "since",
    "overlap-seconds",
    "checkpoint-seconds",
    "concurrency",
    "max-entities-per-second",
    "dry-run",
    "create-tables",
    "max-failures-reported",
    "sample",
    "repair",
    "delete-extra",
    "fail-on-difference",
    "report-path",
    "conflict",
    "shard",
    "read-ranges",
    "ru-per-second",
];
/** Flags that may be given bare (`--dry-run`), negated (`--no-dry-run`) or with a value (`--dry-run false`). */
const SWITCHES = new Set([
    "dry-run",
    "create-tables",
    "json",
    "help",
    "version",
    "repair",
    "delete-extra",
    "fail-on-difference",
]);
const BOOLEAN_WORDS = new Set(["true", "false", "yes", "no", "1", "0", "on", "off"]);
const FALSE_WORDS = new Set(["false", "no", "0", "off"]);
/** Flags whose value is a whole number (the config checks the range), each with an example. */
const WHOLE_NUMBER_FLAGS = {
    "overlap-seconds": "120",
    "checkpoint-seconds": "60",
    "max-entities-per-second": "2000",
    "max-failures-reported": "50",
    "read-ranges": "4",
    "ru-per-second": "10000",
};
/** Words that may follow a switch without being its value: the commands (`--dry-run full-sync`). */
const COMMAND_WORDS = new Set([...MODES, "help"]);
const OPTIONS = {
    ...Object.fromEntries(INPUT_FLAGS.map((name) => [name, { type: "string" }])),
    "state-file": { type: "string" },
    "progress-seconds": { type: "string" },
    json: { type: "string" },
    help: { type: "string", short: "h" },
    version: { type: "string" },
};
function switchHint(flag) {
    return `use --${flag} or --no-${flag}`;
}
/**
 * `--no-x` → `--x=false`, bare `--x` → `--x=true`, `--x false` → `--x=false`, `--no-x=true` → `--x=false`,
 * for the switch flags. A switch followed by a word that is neither true/false nor a command is an error
 * (`--create-tables maybe`), not a stray argument.
 */
function normalizeSwitches(argv) {
    const out = [];
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === "--") {
            out.push(...argv.slice(i));
            break;
        }
        const negated = /^--no-([a-z-]+)(?:=(.*))?$/s.exec(arg);
        if (negated && SWITCHES.has(negated[1])) {
            const [, flag, value] = negated;
            if (value === undefined) {
                out.push(`--${flag}=false`);
                continue;
            }
            if (!BOOLEAN_WORDS.has(value.toLowerCase())) {
                throw new ConfigError(`Option --no-${flag} is '${value}'; ${switchHint(flag)}.`);
            }
            out.push(`--${flag}=${FALSE_WORDS.has(value.toLowerCase()) ? "true" : "false"}`);
            continue;
        }
        const inline = /^--([a-z-]+)=(.*)$/s.exec(arg);
        if (inline && SWITCHES.has(inline[1]) && !BOOLEAN_WORDS.has(inline[2].toLowerCase())) {
            throw new ConfigError(`Option --${inline[1]} is '${inline[2]}'; ${switchHint(inline[1])}.`);
        }
        const bare = /^--([a-z-]+)$/.exec(arg) ?? (arg === "-h" ? ["-h", "help"] : null);
        if (bare && SWITCHES.has(bare[1])) {
            const next = argv[i + 1];
            if (next !== undefined && BOOLEAN_WORDS.has(next.toLowerCase())) {
                out.push(`--${bare[1]}=${next}`);
                i++;
            }
            else if (next !== undefined &&
                !next.startsWith("-") &&
                !COMMAND_WORDS.has(next) &&
                bare[1] !== "help" &&
                bare[1] !== "version") {
                throw new ConfigError(`Option --${bare[1]} is followed by '${next}', which is not true or false; ${switchHint(bare[1])}.`);
            }
            else {
                out.push(`--${bare[1]}=true`);
            }
            continue;
        }
        out.push(arg);
    }
    return out;
}
function switchValue(flag, raw) {
    const v = (raw ?? "").toLowerCase();
    if (v === "" || FALSE_WORDS.has(v))
        return false;
    if (BOOLEAN_WORDS.has(v))
        return true;
    throw new ConfigError(`Option --${flag} is '${raw}'; ${switchHint(flag)}.`);
}
/** A parseArgs error, rewritten as one sentence. */
function argError(err) {
    const e = err;
    const message = e.message ?? String(err);
    const option = /'(-{1,2}[^' ]+)/.exec(message)?.[1];
    switch (e.code) {
        case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
            return new ConfigError(`Unknown option ${option ?? message}; run 'table-sync --help' for the list.`);
        case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
            return new ConfigError(option
                ? `Option ${option} needs a value (write ${option}=VALUE if the value starts with '-').`
                : `An option is missing its value; run 'table-sync --help' for the list.`);
        default:
            return new ConfigError(`The command line could not be read; run 'table-sync --help' for usage.`);
    }
}
function checkCommand(command) {
    if (!MODES.includes(command)) {
        throw new ConfigError(`Unknown command '${command}'; use one of: ${MODES.join(", ")} (see 'table-sync --help').`);
    }
    return command;
}
/** Parse argv (without `node` and the script) into the command, RawInputs and CLI-only options. */
function parseCliArgs(argv) {
    const args = normalizeSwitches(argv);
    let parsed;
    try {
        parsed = (0,external_node_util_.parseArgs)({
            args,
            options: OPTIONS,
            allowPositionals: true,
            strict: true,
            tokens: true,
        });
    }
    catch (err) {
        throw argError(err);
    }
    const values = parsed.values;
    // A flag given twice would silently lose one of its values: no flag of ours repeats.
    const seen = new Set();
    for (const token of parsed.tokens) {
        if (token.kind !== "option")
            continue;
        const name = token.name;
        if (seen.has(name) && name !== "help" && name !== "version") {
            throw new ConfigError(`Option --${name} is given twice; give it once` +
                (name === "tables" || name === "property-renames"
                    ? " (separate several values with commas)."
                    : "."));
        }
        seen.add(name);
    }
    const [first, ...rest] = parsed.positionals;
    if (switchValue("help", values.help) || first === "help") {
        // `table-sync help verify`, `table-sync verify --help`: that command's help; an unknown one is an error.
        const named = first === "help" ? rest[0] : first;
        if (named === undefined)
            return { kind: "help" };
        return { kind: "help", command: checkCommand(named) };
    }
    if (switchValue("version", values.version)) {
        if (first !== undefined)
            checkCommand(first);
        return { kind: "version" };
    }
    if (first === undefined) {
        throw new ConfigError(`No command given; use 'table-sync full-sync …' or 'table-sync backfill --since …' (see 'table-sync --help').`);
    }
    const command = checkCommand(first);
    if (rest.length > 0) {
        throw new ConfigError(`Unexpected argument '${rest[0]}' after the command; flags start with '--' (see 'table-sync --help').`);
    }
    for (const name of seen) {
        if (appliesTo(name, command))
            continue;
        const takers = COMMANDS_OF[name];
        throw new ConfigError(`Option --${name} is for ${commandList(takers)} only; drop it for ${command}` +
            (takers.length === 1 ? `, or run 'table-sync ${takers[0]}'.` : "."));
    }
    const c = values.concurrency;
    if (c !== undefined && !/^([0-9]+|auto)$/i.test(c)) {
        throw new ConfigError(`Option --concurrency is '${c}'; use auto (the default) or a whole number written in digits, e.g. --concurrency 64.`);
    }
    for (const [name, example] of Object.entries(WHOLE_NUMBER_FLAGS)) {
        const v = values[name];
        if (v !== undefined && !/^[0-9]+$/.test(v)) {
            throw new ConfigError(`Option --${name} is '${v}'; use a whole number written in digits, e.g. --${name} ${example}.`);
        }
    }
    const raw = { mode: command };
    const flags = new Set();
    for (const name of INPUT_FLAGS) {
        const v = values[name];
        if (v !== undefined) {
            raw[name] = v;
            flags.add(name);
        }
    }
    if (values["state-file"] !== undefined) {
        if (values["state-file"].trim() === "")
            throw new ConfigError(`Option --state-file is empty; give a file path.`);
        raw["state-store"] = "file";
        raw["state-key"] = values["state-file"];
        flags.add("state-file");
    }
    if (values["report-path"] !== undefined && values["report-path"].trim() === "") {
        throw new ConfigError(`Option --report-path is empty; give a file path, or leave the option out.`);
    }
    let progressSeconds;
    const ps = values["progress-seconds"];
    if (ps !== undefined) {
        progressSeconds = Number(ps);
        if (!/^[0-9]+(\.[0-9]+)?$/.test(ps) || progressSeconds > 86_400) {
            throw new ConfigError(`Option --progress-seconds is '${ps}'; use a number of seconds (0 turns progress off).`);
        }
    }
    return {
        kind: "run",
        command,
        raw,
        options: { json: switchValue("json", values.json), progressSeconds },
        flags,
    };
}
const KNOWN_INPUTS = new Set([...INPUT_FLAGS, "state-key", "state-store"]);
/** Switches that are on unless turned off (`--no-create-tables`). */
const ON_BY_DEFAULT = new Set(["create-tables", "fail-on-difference"]);
function flagFor(input) {
    return input === "state-key" || input === "state-store" ? "state-file" : input;
}
/** What to type to turn a switch on or off, given its default. */
function switchAdvice(name, on) {
    if (ON_BY_DEFAULT.has(name))
        return on ? `drop --no-${name}` : `pass --no-${name}`;
    return on ? `pass --${name}` : `drop --${name}`;
}
const known = (name) => KNOWN_INPUTS.has(name);
/**
 * Config, state and engine sentences are written for the action (`Input 'tables' is empty`, `run verify with
 * 'repair: true'`); on the command line the same sentence names the flag (`Option --tables is empty`,
 * `run verify with --repair`). Only for our own sentences: never for a service's message about an entity.
 */
function cliMessage(message) {
    return (message
        // Input 'tables' is empty → Option --tables is empty
        .replace(/Input '([a-z-]+)'/g, (_m, name) => `Option --${flagFor(name)}`)
        // 'repair: true' → --repair; 'dry-run: false' → --no-dry-run
        .replace(/'([a-z-]+): (true|false)'/g, (m, name, v) => known(name) ? (v === "true" ? `--${name}` : `--no-${name}`) : m)
        // set 'since' to the UTC time → pass --since with the UTC time
        .replace(/\bset '([a-z-]+)'( to\b)?/g, (m, name, to) => known(name) ? `pass --${flagFor(name)}${to ? " with" : ""}` : m)
        // set create-tables to true → drop --no-create-tables
        .replace(/\bset ([a-z]+(?:-[a-z]+)+) to (true|false)\b/g, (m, name, v) => known(name) ? switchAdvice(name, v === "true") : m)
        // create-tables is off → --no-create-tables was given
        .replace(/(?<![-\w])([a-z]+(?:-[a-z]+)+) is off\b/g, (m, name) => ON_BY_DEFAULT.has(name) ? `--no-${name} was given` : m)
        // check the 'query-filter' input → check --query-filter
        .replace(/\bthe '([a-z-]+)' input\b/g, (m, name) => (known(name) ? `--${flagFor(name)}` : m))
        // use mode 'full-sync', or 'verify' with … / run 'full-sync' first → the command to type
        .replace(/\b(?:mode |(run |or ))'(full-sync|backfill|verify|switch|preflight)'/g, (_m, lead, mode) => `${lead ?? ""}'table-sync ${mode}'`)
        // 'source-endpoint' → --source-endpoint
        .replace(/'([a-z]+(?:-[a-z]+)+)'/g, (m, name) => (known(name) ? `--${flagFor(name)}` : m))
        // delete-extra is refused → --delete-extra is refused (not inside paths, flags or other words)
        .replace(/(?<![-\w'/.\\])([a-z]+(?:-[a-z]+)+)(?![-\w'/\\]|\.\w)/g, (m, name) => known(name) ? `--${flagFor(name)}` : m)
        .replace(/\bverify with repair but\b/g, "verify with --repair but"));
}

;// CONCATENATED MODULE: ./src/cli/sign-in.ts
// Signing in before the run: with an endpoint, a missing `az login` fails at once in one clear message,
// instead of once per table after the engine's network retries. The engine picks the URL and the token scope
// (signInTarget), as its connection will.

/** Signing in with Entra ID failed before anything was read: not a usage error, but nothing to copy either. */
class SignInError extends Error {
}
const SIDES = ["source", "destination"];
/** Get a token for each endpoint before the run; throws a SignInError naming the side and the fixes. */
async function checkSignIn(engine, signal) {
    for (const side of SIDES) {
        const { credential } = engine[side];
        const target = credential ? signInTarget(engine[side]) : undefined;
        if (!credential || !target)
            continue;
        const { url, scope } = target;
        let failure;
        try {
            const token = await credential.getToken(scope, { abortSignal: signal });
            if (!token)
                failure = "no token was returned";
        }
        catch (e) {
            failure = e instanceof Error ? e.message : String(e);
        }
        if (failure !== undefined) {
            const details = failure
                .split("\n")
                .map((l) => l.trim())
                .filter((l) => l && !/^ChainedTokenCredential authentication failed\.?$/.test(l))
                .map((l) => `  ${l}`)
                .join("\n");
            throw new SignInError(`Signing in for the ${side} endpoint ${url} failed: sign in with 'az login', use a managed or workload ` +
                `identity (AZURE_CLIENT_ID, AZURE_TENANT_ID…), or pass --${side}-connection-string instead.` +
                (details ? `\n${details}` : ""));
        }
    }
}

;// CONCATENATED MODULE: ./src/cli/exit-codes.ts
// The CLI's exit codes, and the last line of a run that stopped on an error: a usage error (2), a failure (1),
// or a cancel (130 for Ctrl+C, 143 for SIGTERM), each said in one line on stderr.





const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
/** Cancelled by SIGINT (Ctrl+C): 128 + 2, as shells report it. */
const EXIT_CANCELLED = 130;
/** Cancelled by SIGTERM (a CI cancel or time-out): 128 + 15. */
const EXIT_TERMINATED = 143;
function cancelExitCode(cancel) {
    return cancel?.by === "SIGTERM" ? EXIT_TERMINATED : EXIT_CANCELLED;
}
function oneLine(s) {
    return s.replace(/\s+/g, " ").trim();
}
/** What stopped the run, printed through `err`, and the exit code it earns. */
function errorExit(e, run, err) {
    if (run.started && run.command && run.signal?.aborted) {
        // Whatever stopped half-way after a cancel is the cancel's doing, not a failure to report as one.
        err(`table-sync: ${run.command} cancelled: ${cliMessage(oneLine(e instanceof Error ? e.message : String(e)))}\n`);
        return cancelExitCode(run.cancel);
    }
    if (e instanceof ConfigError || e instanceof ConnectionError || e instanceof StateError) {
        err(`table-sync: ${cliMessage(oneLine(e.message))}\n`);
        return EXIT_USAGE;
    }
    if (e instanceof SignInError) {
        err(`table-sync: ${e.message}\n`);
        return EXIT_FAILED;
    }
    err(`table-sync: ${oneLine(e instanceof Error ? e.message : String(e))}\n`);
    return EXIT_FAILED;
}

;// CONCATENATED MODULE: ./src/config/proxy.ts
// The HTTP proxy, from the environment as every tool on a runner reads it: a self-hosted runner behind a
// company proxy has HTTPS_PROXY (and NO_PROXY) in its environment, and so do the steps it runs. The same
// variables, in the same order, as the Azure SDK, so that Entra ID tokens (fetched by @azure/identity) and
// our table requests take the same way out.



const VARIABLES = ["HTTPS_PROXY", "ALL_PROXY", "HTTP_PROXY"];
/** A variable as set, upper case first (as the Azure SDK reads it). */
function read(env, name) {
    return env[name]?.trim() || env[name.toLowerCase()]?.trim() || undefined;
}
/**
 * The proxy the environment asks for, or undefined (none set). A value that is not an http(s) proxy URL
 * is a ConfigError naming the variable; `secret` learns the proxy's password, to be masked.
 */
function proxyFromEnv(env, secret = () => undefined) {
    const name = VARIABLES.find((n) => read(env, n));
    if (!name)
        return undefined;
    const value = read(env, name);
    // The password masked as written before anything is parsed: one with `/`, `?` or `#` not percent-encoded
    // would otherwise parse as part of a path, and be shown.
    const userinfo = /^(?:[a-z][a-z0-9+.-]*:\/\/)?(.*)@/i.exec(value)?.[1];
    if (userinfo?.includes(":"))
        secret(userinfo.slice(userinfo.indexOf(":") + 1));
    // curl and the runner accept `host:port` without a scheme: it means http.
    const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
    let url;
    try {
        url = new URL(withScheme);
    }
    catch {
        throw new ConfigError(`${name} is not a URL; set it to the proxy's address, e.g. http://proxy.example.com:3128.`);
    }
    if (url.password)
        secret(url.password);
    let password;
    try {
        decodeURIComponent(url.username); // the tunnel sends both decoded (proxy.ts)
        password = decodeURIComponent(url.password);
    }
    catch {
        throw new ConfigError(`${name} has a % in its user name or password that is not an escape; write a % there as %25.`);
    }
    if (password && password !== url.password)
        secret(password);
    if (url.protocol !== "http:" && url.protocol !== "https:") {
        throw new ConfigError(`${name} uses ${url.protocol}//; only http:// and https:// proxies are supported (set ${name} to one, or unset it).`);
    }
    if (!url.hostname) {
        throw new ConfigError(`${name} names no host; set it to e.g. http://proxy.example.com:3128.`);
    }
    if (url.pathname !== "/" || url.search || url.hash) {
        throw new ConfigError(`${name} has more than a proxy's address (a path, ? or #); write it as http://user:password@host:port, with / ? # @ : in the user name or password percent-encoded (%2F %3F %23 %40 %3A).`);
    }
    const noProxy = (read(env, "NO_PROXY") ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
    return { url: url.href, noProxy };
}
/** The side's table endpoint, or undefined (none given, or not valid: reported elsewhere). */
function accountUrl(side) {
    try {
        if (side.connectionString)
            return new URL(parseConnectionString(side.connectionString).url);
        if (side.endpoint)
            return new URL(normalizeEndpoint(side.endpoint));
    }
    catch {
        /* a bad connection string or endpoint is the config's error, said where it is checked */
    }
    return undefined;
}
/**
 * The proxy for the log, once per run: its address without credentials, and which side goes through it —
 * a user reading "through the proxy" while NO_PROXY sends both accounts past it would look in the wrong place.
 */
function describeProxy(proxy, sides) {
    const url = new URL(proxy.url);
    const address = `${url.protocol}//${url.host}`;
    const named = (label) => {
        const at = accountUrl(sides[label]);
        return at ? { text: `the ${label} (${at.host})`, proxied: proxyFor(at, proxy) !== undefined } : undefined;
    };
    const all = [named("source"), named("destination")].filter((x) => x !== undefined);
    const through = all.filter((x) => x.proxied).map((x) => x.text);
    const direct = all.filter((x) => !x.proxied).map((x) => x.text);
    if (through.length === 0)
        return `The proxy ${address} is not used: ${direct.join(" and ") || "no account"} ${direct.length > 1 ? "are" : "is"} in NO_PROXY or on this machine.`;
    const past = direct.length ? `; ${direct.join(" and ")} directly (NO_PROXY)` : "";
    return `Requests to ${through.join(" and ")} go through the proxy ${address}${past}.`;
}

;// CONCATENATED MODULE: ./src/cli/mask.ts
// Nothing the CLI prints may carry a secret: connection strings, account keys and SAS signatures are
// masked in every line, whether they were given as flags, environment variables or in `.env`.

const MASK = "***";
/** The secret fragments of a connection string: itself, its AccountKey, its SAS and the SAS's sig. */
function connectionStringSecrets(cs) {
    const value = cs?.trim();
    if (!value)
        return [];
    const secrets = [value];
    try {
        const parts = parseConnectionString(value);
        if (parts.accountKey)
            secrets.push(parts.accountKey);
        if (parts.sas)
            secrets.push(parts.sas, ...sigValues(parts.sas));
    }
    catch {
        // Not parseable: the patterns below still catch its key and signature.
    }
    for (const m of value.matchAll(/(?:AccountKey|SharedAccessSignature)=([^;]+)/gi))
        secrets.push(m[1].trim());
    secrets.push(...sigValues(value));
    return secrets;
}
function sigValues(text) {
    const out = [];
    for (const m of text.matchAll(/(?:^|[?&;])sig=([^&;\s"']+)/gi)) {
        out.push(m[1]);
        try {
            out.push(decodeURIComponent(m[1]));
        }
        catch {
            /* not URI-encoded */
        }
    }
    return out;
}
class Masker {
    secrets = [];
    constructor(secrets = []) {
        this.add(...secrets);
    }
    add(...secrets) {
        for (const s of secrets) {
            // Very short values would mask ordinary words; their patterns are still masked below.
            if (s && s.length >= 6 && !this.secrets.includes(s))
                this.secrets.push(s);
        }
        this.secrets.sort((a, b) => b.length - a.length); // longest first, so a key inside a string goes with it
    }
    mask(text) {
        let out = text;
        for (const s of this.secrets)
            out = out.split(s).join(MASK);
        return out
            .replace(/(AccountKey=)[^;\s"']+/gi, `$1${MASK}`)
            .replace(/(SharedAccessSignature=)[^;\s"']+/gi, `$1${MASK}`)
            .replace(/([?&;\s]sig=)[^&;\s"']+/gi, `$1${MASK}`)
            .replace(/^(sig=)[^&;\s"']+/gi, `$1${MASK}`);
    }
}

// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __nccwpck_require__(3024);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __nccwpck_require__(6760);
;// CONCATENATED MODULE: ./src/cli/env-file.ts
// A `.env` file in the working directory, so connection strings stay out of shell history.
// Lines are `KEY=VALUE` (an optional leading `export `); `#` starts a comment outside quotes;
// values may be single-quoted (taken literally) or double-quoted (with \n, \t, \", \\ escapes).
// Errors name the line, never its content: the file holds secrets.



const ENV_FILE = ".env";
const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
/** Parse the text of a `.env` file; `label` names the file in error messages. */
function parseEnvFile(text, label = ENV_FILE) {
    const out = {};
    const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
        const lineNo = i + 1;
        let line = lines[i].trim();
        if (line === "" || line.startsWith("#"))
            continue;
        if (line.startsWith("export "))
            line = line.slice("export ".length).trimStart();
        const eq = line.indexOf("=");
        if (eq <= 0)
            throw new ConfigError(`Line ${lineNo} of ${label} is not KEY=VALUE; fix or remove it.`);
        const key = line.slice(0, eq).trim();
        if (!KEY.test(key))
            throw new ConfigError(`Line ${lineNo} of ${label} has an invalid name before '='; fix or remove it.`);
        let rest = line.slice(eq + 1).trimStart();
        let value;
        const quote = rest[0];
        if (quote === '"' || quote === "'") {
            // A quoted value may span lines (e.g. a PEM block); it ends at the matching unescaped quote.
            let j = 1;
            let buf = "";
            for (;;) {
                if (j >= rest.length) {
                    if (i + 1 >= lines.length) {
                        throw new ConfigError(`Line ${lineNo} of ${label} opens a ${quote === '"' ? "double" : "single"} quote that is never closed.`);
                    }
                    i++;
                    rest += "\n" + lines[i];
                    continue;
                }
                const c = rest[j];
                if (c === quote)
                    break;
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
                throw new ConfigError(`Line ${lineNo} of ${label} has text after the closing quote; remove it or quote the whole value.`);
            }
            value = buf;
        }
        else {
            // Unquoted: a comment starts at ` #`; a `#` inside the value (e.g. a SAS) is kept.
            const hash = rest.search(/\s#/);
            value = (hash >= 0 ? rest.slice(0, hash) : rest).trim();
        }
        out[key] = value;
    }
    return out;
}
/** Read `.env` from `dir`; a missing file is an empty one. */
function readEnvFile(dir, name = ENV_FILE) {
    let text;
    try {
        text = (0,external_node_fs_.readFileSync)((0,external_node_path_.join)(dir, name), "utf8");
    }
    catch (err) {
        const code = err.code;
        if (code === "ENOENT" || code === "ENOTDIR")
            return {};
        throw new ConfigError(`The file ${name} in ${dir} could not be read (${code ?? "unknown error"}).`);
    }
    return parseEnvFile(text, name);
}

;// CONCATENATED MODULE: ./src/cli/secrets.ts


/** Where secrets may come from besides flags (flags win over the environment, the environment over .env). */
const SECRET_ENV = {
    source: "SOURCE_CONNECTION_STRING",
    destination: "DESTINATION_CONNECTION_STRING",
};
const secrets_SIDES = ["source", "destination"];
/** Mask anything that looks like a secret in the raw arguments and the environment, before anything prints. */
function maskArguments(masker, argv, env) {
    for (const [i, arg] of argv.entries()) {
        if (/connection-string/.test(arg))
            masker.add(...connectionStringSecrets(arg.split("=").slice(1).join("=") || argv[i + 1]));
    }
    for (const side of secrets_SIDES)
        masker.add(...connectionStringSecrets(env[SECRET_ENV[side]]));
}
/** `.env` in `cwd`, read (and its secrets masked) only when a side needs it. */
function lazyDotenv(cwd, masker) {
    let cache;
    return () => {
        cache ??= readEnvFile(cwd);
        for (const side of secrets_SIDES)
            masker.add(...connectionStringSecrets(cache[SECRET_ENV[side]]));
        return cache;
    };
}
/** Fill each side's connection string from the environment or .env, unless a flag set that side. */
function applySecretSources(raw, flags, env, dotenv) {
    const origins = {};
    for (const side of secrets_SIDES) {
        if (flags.has(`${side}-connection-string`)) {
            origins[side] = `--${side}-connection-string`;
            continue;
        }
        if (flags.has(`${side}-endpoint`))
            continue;
        const name = SECRET_ENV[side];
        const fromEnv = env[name]?.trim();
        if (fromEnv) {
            raw[`${side}-connection-string`] = fromEnv;
            origins[side] = `the environment variable ${name}`;
            continue;
        }
        const fromFile = dotenv()[name]?.trim();
        if (fromFile) {
            raw[`${side}-connection-string`] = fromFile;
            origins[side] = `${name} in .env`;
        }
    }
    return origins;
}

;// CONCATENATED MODULE: ./src/cli/build-config.ts
// Flags, the environment and `.env` into one SyncConfig. A config error about a connection string says where
// the string came from, since it may not be on the command line at all.





/** The one validated config of this run, or a ConfigError in the CLI's words. */
function cliConfig(args, sources) {
    const { raw, flags } = args;
    const { env, masker } = sources;
    const origins = applySecretSources(raw, flags, env, lazyDotenv(sources.cwd, masker));
    for (const side of secrets_SIDES)
        masker.add(...connectionStringSecrets(raw[`${side}-connection-string`]));
    let config;
    try {
        config = buildConfig(raw, sources.now);
    }
    catch (e) {
        throw withOrigin(e, origins);
    }
    config.proxy = proxyFromEnv(env, (s) => masker.add(s));
    for (const side of secrets_SIDES) {
        const cs = config[side].connectionString;
        if (!cs)
            continue;
        try {
            parseConnectionString(cs, `Input '${side}-connection-string'`);
        }
        catch (e) {
            if (!(e instanceof ConnectionError))
                throw e;
            throw new ConfigError(`${e.message.replace(/\.$/, "")} (it came from ${origins[side] ?? "the command line"}).`);
        }
    }
    return config;
}
/** A config error naming where the bad (or missing) connection string was looked for. */
function withOrigin(e, origins) {
    const bad = e instanceof ConfigError ? /^Input '(source|destination)-connection-string'/.exec(e.message) : null;
    if (bad && origins[bad[1]]) {
        // Say where the bad string came from, since it may not be on the command line at all.
        const side = bad[1];
        return new ConfigError(e.message.replace(bad[0], `The ${side} connection string (from ${origins[side]})`));
    }
    if (e instanceof ConfigError && /Neither '(source|destination)-connection-string'/.test(e.message)) {
        const side = /Neither '(source|destination)/.exec(e.message)?.[1];
        return new ConfigError(`No ${side} given; set ${SECRET_ENV[side]} (environment or .env), or pass --${side}-connection-string or --${side}-endpoint.`);
    }
    return e;
}
/** --client-id and --tenant-id pick the identity for endpoints: a warning when both sides use connection strings. */
function identityWarning(flags, config) {
    const identityFlags = ["client-id", "tenant-id"].filter((f) => flags.has(f));
    if (!identityFlags.length || config.source.endpoint || config.destination.endpoint)
        return undefined;
    return (`table-sync: warning: ${identityFlags.map((f) => `--${f}`).join(" and ")} ${identityFlags.length === 1 ? "is" : "are"} ignored: ` +
        `${identityFlags.length === 1 ? "it picks" : "they pick"} the Entra ID identity for --source-endpoint or --destination-endpoint, and both sides use a connection string.\n`);
}

;// CONCATENATED MODULE: ./src/cli/cancel.ts
/** What a cancel does to this run: said when the signal comes, and (shorter) if a second Ctrl+C quits at once. */
function stopWords(config, store) {
    switch (config.mode) {
        case "full-sync":
            if (config.dryRun)
                return {
                    stopping: "stopping after the current page (a dry run saves nothing)",
                    quit: "Stopped at once.",
                };
            if (store) {
                return {
                    stopping: "stopping after the current page and saving a checkpoint",
                    quit: "Stopped at once; the last saved checkpoint stands.",
                };
            }
            return {
                stopping: "stopping after the current page; without --state-file no checkpoint is saved, so the next full-sync starts from the beginning",
                quit: "Stopped at once; without --state-file there is no checkpoint to resume from.",
            };
        case "backfill":
            return store && !config.dryRun
                ? {
                    stopping: "stopping after the current page; the tables not finished keep their watermarks",
                    quit: "Stopped at once; the tables not finished keep their watermarks.",
                }
                : { stopping: "stopping after the current page", quit: "Stopped at once." };
        case "verify":
            return {
                stopping: `stopping the verify: it gives no verdict${config.repair ? " (what it repaired so far stays written)" : ""}`,
                quit: "Stopped at once; the verify gives no verdict.",
            };
        case "switch":
            return {
                stopping: "stopping the switch before it records switched-at",
                quit: "Stopped at once; run 'table-sync switch' again before you change the app's endpoint.",
            };
        case "preflight":
            return {
                stopping: "stopping the preflight: it gives no verdict",
                quit: "Stopped at once; the preflight gives no verdict.",
            };
        case "status":
            return { stopping: "stopping the status (it writes nothing)", quit: "Stopped at once." };
    }
}
/** Print what the cancel does when the signal fires (at once if it already has); returns the clean-up. */
function announceStop(config, store, deps, err) {
    const words = stopWords(config, store);
    if (deps.cancel)
        deps.cancel.quitLine = words.quit;
    const signal = deps.signal;
    if (!signal)
        return undefined;
    const say = () => {
        const by = deps.cancel?.by;
        err(by === "SIGTERM"
            ? `\nSIGTERM: ${words.stopping}…\n`
            : `\n${words.stopping[0].toUpperCase()}${words.stopping.slice(1)} (Ctrl+C again to quit now)…\n`);
    };
    if (signal.aborted) {
        say();
        return undefined;
    }
    signal.addEventListener("abort", say, { once: true });
    return () => signal.removeEventListener("abort", say);
}
/** The CLI's own words for a cancelled copy the engine describes in the action's terms (no state store there). */
function cancelledWhy(config, store) {
    if (config.dryRun)
        return `The dry run was cancelled; nothing was written.`;
    if (config.mode === "full-sync" && !store) {
        return `The full sync was cancelled; without --state-file no checkpoint was saved, so the next full-sync copies every table from the start (what was written is simply written again).`;
    }
    if (config.mode === "backfill" && !store) {
        return `The backfill was cancelled; run it again with the same --since.`;
    }
    return undefined;
}

;// CONCATENATED MODULE: ./src/engine/steps/engine-config.ts
function engineConfigOf(config, deps) {
    return {
        source: deps.source,
        destination: deps.destination,
        tables: config.tables,
        writeMode: config.writeMode,
        propertyRenames: config.propertyRenames,
        queryFilter: config.queryFilter,
        concurrency: config.concurrency,
        maxEntitiesPerSecond: config.maxEntitiesPerSecond,
        createTables: config.createTables,
        dryRun: config.dryRun,
        maxFailuresKept: config.maxFailuresKept,
        retry: deps.retry,
        checkpointIntervalMs: deps.checkpointIntervalMs ?? config.checkpointSeconds * 1000,
        rangeBytes: deps.rangeBytes,
        lanes: deps.lanes,
        slowPageMs: deps.slowPageMs,
        rangeEntities: deps.rangeEntities,
    };
}

;// CONCATENATED MODULE: ./src/state/table-key.ts
// The table key: the state's name for one table pair (`source→destination`), case-insensitive like the
// services' table names, and the pair back from a key.
const ARROW = "→";
/** The state's key for a table pair: `source→destination`. */
function tableKey(spec) {
    // Table names are case-insensitive in both services: `Users` and `users` are one table, so one entry
    // (its watermark and, above all, its switched-at must not be escaped by a change of case).
    return `${spec.source}${ARROW}${spec.destination}`.toLowerCase();
}
/** The table pair of a key made by `tableKey`. */
function parseTableKey(key) {
    const i = key.indexOf(ARROW);
    return i < 0
        ? { source: key, destination: key }
        : { source: key.slice(0, i), destination: key.slice(i + 1) };
}

;// CONCATENATED MODULE: ./src/state/watermark.ts
// The watermark rules: when a table's watermark moves (a complete scan, only forwards, to the source's clock
// at the scan's start), where a backfill starts from it, and the watermark of several tables or of a table's
// shards together. Everything here is pure.



/** `backfill` found neither a stored watermark nor `since` for a table. */
class MissingWatermarkError extends StateError {
    tableKey;
    name = "MissingWatermarkError";
    constructor(tableKey) {
        super(`No watermark is stored for table ${describeKey(tableKey)}, so a backfill does not know where to start: ` +
            `run 'full-sync' first, or set 'since' to the UTC time from which changes should be copied.`);
        this.tableKey = tableKey;
    }
}
function describeKey(key) {
    const { source, destination } = parseTableKey(key);
    return source === destination ? `'${source}'` : `'${source}' → '${destination}'`;
}
function watermarkOf(state, key) {
    return state?.tables[key]?.watermark;
}
function toIso(value, what) {
    const ms = value instanceof Date ? value.getTime() : Date.parse(value);
    if (!Number.isFinite(ms))
        throw new StateError(`${what} '${String(value)}' is not a valid time.`);
    return new Date(ms).toISOString();
}
/**
 * The state after one table's run. The watermark moves only when the run read the table completely and wrote
 * every entity (zero failed, no table error), only forwards, and only to the source server's clock at the start
 * of the scan (`result.sourceClockAtStart`, or the stored checkpoint's clock if earlier: a resumed scan began when
 * the checkpointed one did) — never the runner's clock. Returns the same object when nothing
 * changes (a failed table, a dry run, a successful run without a source clock).
 */
function advanceWatermark(state, key, result, run) {
    if (run.dryRun)
        return state;
    if (result.error || result.failed !== 0)
        return state;
    if (!result.sourceClockAtStart)
        return state;
    const clock = toIso(result.sourceClockAtStart, "The source clock");
    const previous = state.tables[key] ?? {};
    // A scan resumed from a checkpoint began when the checkpointed scan began: take the earlier clock. Only a
    // run of the checkpoint's mode resumes it (or supersedes it); a backfill in between leaves it in place.
    const resumed = previous.checkpoint?.mode === run.mode ? previous.checkpoint : undefined;
    const began = earlier(clock, resumed?.sourceClockAtStart);
    const watermark = later(began, previous.watermark);
    const at = run.finishedAt
        ? toIso(run.finishedAt, "The finish time")
        : new Date(Date.parse(clock) + Math.max(0, result.durationMs)).toISOString();
    const next = {
        ...previous,
        watermark,
        lastSuccess: { mode: run.mode, at, read: result.read, written: result.written, skipped: result.skipped },
    };
    // A completed scan supersedes any resume point it came from.
    if (resumed)
        delete next.checkpoint;
    return { ...state, tables: { ...state.tables, [key]: next } };
}
/**
 * The oldest watermark among the given tables (ISO UTC), or undefined when any of them has none: until every
 * table has been synced once, there is no time up to which "everything" is copied.
 */
function oldestWatermark(state, tables) {
    if (!state || tables.length === 0)
        return undefined;
    let oldest;
    for (const t of tables) {
        const w = watermarkOf(state, typeof t === "string" ? t : tableKey(t));
        if (!w)
            return undefined;
        if (!oldest || Date.parse(w) < Date.parse(oldest))
            oldest = w;
    }
    return oldest;
}
/**
 * Where a backfill's `Timestamp ge` filter starts: (`since` ?? the stored watermark) − overlap. Throws
 * `MissingWatermarkError` when neither exists: never a silent full copy, never a silent no-op.
 */
function backfillStart(state, key, since, overlapSeconds) {
    if (!Number.isFinite(overlapSeconds) || overlapSeconds < 0) {
        throw new StateError(`The overlap must be zero or more seconds, not ${overlapSeconds}.`);
    }
    const base = since !== undefined ? toIso(since, "'since'") : watermarkOf(state, key);
    if (!base)
        throw new MissingWatermarkError(key);
    return new Date(Date.parse(base) - overlapSeconds * 1000);
}
/** The oldest shard watermark when every shard of the table's plan has completed under it; else undefined. */
function combinedWatermark(entry) {
    const plan = entry.shardPlan;
    if (!plan)
        return undefined;
    let oldest;
    for (let i = 1; i <= plan.count; i++) {
        const s = entry.shards?.[`${i}/${plan.count}`];
        if (!s || s.plan !== plan.id || !s.watermark)
            return undefined;
        if (!oldest || Date.parse(s.watermark) < Date.parse(oldest))
            oldest = s.watermark;
    }
    return oldest;
}

;// CONCATENATED MODULE: ./src/state/shard-view.ts


/** The state as shard `sid` sees it: its own watermark (never older than the table's), checkpoint and run marker. */
function shardView(state, sid, plans) {
    const tables = { ...state.tables };
    for (const [key, plan] of plans) {
        const entry = state.tables[key];
        const own = entry?.shards?.[sid];
        const mine = own && own.plan === plan ? own : undefined;
        const view = { ...entry };
        delete view.shards;
        delete view.checkpoint;
        delete view.lastSuccess;
        const watermark = mine?.watermark ? later(mine.watermark, entry?.watermark) : entry?.watermark;
        if (watermark)
            view.watermark = watermark;
        if (mine?.checkpoint)
            view.checkpoint = mine.checkpoint;
        if (mine?.lastSuccess)
            view.lastSuccess = mine.lastSuccess;
        tables[key] = view;
    }
    const view = { ...state, tables };
    delete view.fullSync;
    const marker = state.fullSyncShards?.[sid];
    if (marker && marker.open !== false) {
        const m = { ...marker };
        delete m.seq;
        delete m.open;
        view.fullSync = m;
    }
    return view;
}
/** Of two versions of one shard's record, the later one (each shard numbers its own saves). */
function newer(a, b) {
    if (!a)
        return b;
    if (!b)
        return a;
    return (b.seq ?? 0) > (a.seq ?? 0) ? b : a;
}
/**
 * Merge shard `sid`'s view into `latest` (the document as stored now). Only that shard's records change (with
 * a higher sequence number); every other shard's record is the newest version seen in `latest` or in `carry`
 * (the document this shard saved last), so a save that raced another shard's does not undo it for good. The
 * table's watermark moves once every shard of the table's plan has one (the oldest of them: each is valid for
 * its own range, so the oldest is valid for the whole table).
 */
function mergeShardView(latest, view, sid, plans, carry, 
/** Most post-switch write ids kept per table. */
maxOurWrites = 1_000) {
    const tables = { ...latest.tables };
    for (const [key, plan] of plans) {
        const v = view.tables[key] ?? {};
        const before = carry?.tables[key];
        const entry = { ...tables[key] };
        if (!entry.shardPlan && before?.shardPlan)
            entry.shardPlan = before.shardPlan;
        const shards = {};
        for (const id of new Set([...Object.keys(entry.shards ?? {}), ...Object.keys(before?.shards ?? {})])) {
            const pick = newer(entry.shards?.[id], before?.shards?.[id]);
            if (pick)
                shards[id] = pick;
        }
        const own = { plan, seq: (shards[sid]?.seq ?? 0) + 1 };
        if (v.watermark)
            own.watermark = v.watermark;
        if (v.lastSuccess)
            own.lastSuccess = v.lastSuccess;
        if (v.checkpoint)
            own.checkpoint = v.checkpoint;
        shards[sid] = own;
        // Our post-switch writes live at the table (a later backfill without 'shard' must know them too), as
        // the union of every shard's: each merge adds what this shard wrote.
        if (v.postSwitchWrites?.length) {
            const ours = [...new Set([...(entry.postSwitchWrites ?? []), ...v.postSwitchWrites])];
            entry.postSwitchWrites = ours.slice(-maxOurWrites);
        }
        entry.shards = shards;
        if (v.switchedAt && !entry.switchedAt)
            entry.switchedAt = v.switchedAt;
        const derived = combinedWatermark(entry);
        if (derived)
            entry.watermark = later(derived, entry.watermark);
        tables[key] = entry;
    }
    const next = { ...latest, tables };
    const markers = {};
    const ids = new Set([
        ...Object.keys(latest.fullSyncShards ?? {}),
        ...Object.keys(carry?.fullSyncShards ?? {}),
    ]);
    for (const id of ids) {
        const pick = newer(latest.fullSyncShards?.[id], carry?.fullSyncShards?.[id]);
        if (pick)
            markers[id] = pick;
    }
    const seq = (markers[sid]?.seq ?? 0) + 1;
    if (view.fullSync)
        markers[sid] = { ...view.fullSync, seq, open: true };
    else if (markers[sid])
        markers[sid] = { ...markers[sid], seq, open: false };
    if (Object.keys(markers).length)
        next.fullSyncShards = markers;
    else
        delete next.fullSyncShards;
    return next;
}
/** This shard's own records in a document, to check that a save of ours is (still) what is stored. */
function shardRecords(state, sid, plans) {
    return JSON.stringify([
        ...[...plans.keys()].map((k) => state?.tables[k]?.shards?.[sid] ?? null),
        state?.fullSyncShards?.[sid] ?? null,
    ]);
}

;// CONCATENATED MODULE: ./src/engine/wire/json-scan.ts
// Checking a query page's JSON without building anything, so that its entities can be parsed later, one
// at a time, as the copy reaches them.
//
// Why: a page is a thousand entities. Parsed on arrival, they waited in the read-ahead and then while
// the page was worked through — long enough for the garbage collector to copy them twice and move them
// to the old generation, where collecting them costs a full mark. Checked here on arrival (a page cut
// short or garbled is still retried, never half-copied) and parsed when taken, each entity lives only
// from its parse to its request.
class JsonScanError extends Error {
}
const WS = new Uint8Array(128);
WS[0x20] = WS[0x09] = WS[0x0a] = WS[0x0d] = 1;
/**
 * The offset of the quote that closes a JSON string whose characters start at `start` (just after its
 * opening quote), or -1: the first quote not escaped, i.e. not after an odd number of backslashes.
 */
function closingQuote(text, start) {
    let j = start;
    for (;;) {
        const q = text.indexOf('"', j);
        if (q < 0)
            return -1;
        let k = q - 1;
        while (k >= start && text.charCodeAt(k) === 0x5c)
            k--;
        if ((q - 1 - k) % 2 === 0)
            return q;
        j = q + 1;
    }
}
/** The offset of the first character at or after `i` that is not JSON whitespace (raw-json reads with it too). */
function skipJsonWs(text, i) {
    let c = text.charCodeAt(i);
    while (c < 128 && WS[c] === 1)
        c = text.charCodeAt(++i);
    return i;
}
/**
 * The shape of `{…,"value":[{…},…],…}` after checking that the whole text is valid JSON: undefined
 * for valid JSON of any other shape (no `value`, `value` twice, not an array, an item not an object).
 * Throws JsonScanError for text that is not valid JSON. Allocates nothing per value (strings with
 * escapes are checked by JSON.parse, as the parser decodes them).
 */
function scanPage(text) {
    return new Scanner(text).page();
}
/** scanPage's answer, and undefined for invalid text too (a reader then asks the general parser). */
function pageShape(text) {
    try {
        return scanPage(text);
    }
    catch {
        return undefined;
    }
}
class Scanner {
    text;
    i = 0;
    /** The next backslash at or after where it was last looked for; -1: none left; -2: not looked yet. */
    backslash = -2;
    constructor(text) {
        this.text = text;
    }
    fail(what) {
        throw new JsonScanError(`invalid JSON at offset ${this.i}: ${what}`);
    }
    ws() {
        this.i = skipJsonWs(this.text, this.i);
        return this.text.charCodeAt(this.i);
    }
    page() {
        const text = this.text;
        if (this.ws() !== 0x7b) {
            this.value();
            this.end();
            return undefined;
        }
        this.i++;
        let shape;
        let other = false;
        if (this.ws() === 0x7d) {
            this.i++;
            other = true;
        }
        else {
            for (;;) {
                if (this.ws() !== 0x22)
                    this.fail("expected a property name");
                const keyStart = this.i;
                this.string();
                const isValue = this.i - keyStart === 7 && text.startsWith('"value"', keyStart);
                if (this.ws() !== 0x3a)
                    this.fail("expected ':'");
                this.i++;
                if (isValue) {
                    if (shape !== undefined)
                        other = true; // twice: the general parser decides which counts
                    const start = this.ws() === 0x5b ? this.i : -1;
                    const objects = this.value();
                    if (start < 0 || objects < 0)
                        other = true;
                    else
                        shape = { valueStart: start, count: objects };
                }
                else
                    this.value();
                const d = this.ws();
                this.i++;
                if (d === 0x2c)
                    continue;
                if (d === 0x7d)
                    break;
                this.i--;
                this.fail("expected ',' or '}'");
            }
        }
        this.end();
        return other ? undefined : shape;
    }
    end() {
        this.ws();
        if (this.i !== this.text.length)
            this.fail("trailing characters");
    }
    /** Skip one value; for an array, the number of its items if all are objects, else -1. */
    value() {
        const text = this.text;
        const c = this.ws();
        if (c === 0x22) {
            this.string();
            return -1;
        }
        if (c === 0x7b) {
            this.i++;
            if (this.ws() === 0x7d) {
                this.i++;
                return -1;
            }
            for (;;) {
                if (this.ws() !== 0x22)
                    this.fail("expected a property name");
                this.string();
                if (this.ws() !== 0x3a)
                    this.fail("expected ':'");
                this.i++;
                this.value();
                const d = this.ws();
                this.i++;
                if (d === 0x2c)
                    continue;
                if (d === 0x7d)
                    return -1;
                this.i--;
                this.fail("expected ',' or '}'");
            }
        }
        if (c === 0x5b) {
            this.i++;
            let objects = 0;
            let allObjects = true;
            if (this.ws() === 0x5d) {
                this.i++;
                return 0;
            }
            for (;;) {
                if (this.ws() === 0x7b)
                    objects++;
                else
                    allObjects = false;
                this.value();
                const d = this.ws();
                this.i++;
                if (d === 0x2c)
                    continue;
                if (d === 0x5d)
                    return allObjects ? objects : -1;
                this.i--;
                this.fail("expected ',' or ']'");
            }
        }
        if (c === 0x74 && text.startsWith("true", this.i))
            this.i += 4;
        else if (c === 0x66 && text.startsWith("false", this.i))
            this.i += 5;
        else if (c === 0x6e && text.startsWith("null", this.i))
            this.i += 4;
        else if (c === 0x2d || (c >= 0x30 && c <= 0x39))
            this.number();
        else
            this.fail("unexpected character");
        return -1;
    }
    /** A string at i (the opening quote), as raw-json reads it: escapes must decode; nothing else is checked. */
    string() {
        const start = this.i + 1;
        const q = closingQuote(this.text, start);
        if (q < 0)
            this.fail("unterminated string");
        if (this.backslashBetween(start, q)) {
            try {
                JSON.parse(this.text.slice(start - 1, q + 1));
            }
            catch {
                this.fail("bad escape in a string");
            }
        }
        this.i = q + 1;
    }
    /** Whether text[from, to) holds a backslash: one search ahead serves every string before it. */
    backslashBetween(from, to) {
        if (this.backslash !== -1 && this.backslash < from)
            this.backslash = this.text.indexOf("\\", from);
        return this.backslash !== -1 && this.backslash < to;
    }
    /** A number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, read without slicing it out. */
    number() {
        const text = this.text;
        let i = this.i;
        if (text.charCodeAt(i) === 0x2d)
            i++;
        const first = text.charCodeAt(i);
        if (first === 0x30)
            i++;
        else if (first >= 0x31 && first <= 0x39)
            i = this.digits(i);
        else
            this.fail("bad number");
        if (text.charCodeAt(i) === 0x2e) {
            const after = this.digits(i + 1);
            if (after === i + 1)
                this.fail("bad number");
            i = after;
        }
        const e = text.charCodeAt(i);
        if (e === 0x65 || e === 0x45) {
            i++;
            const s = text.charCodeAt(i);
            if (s === 0x2b || s === 0x2d)
                i++;
            const after = this.digits(i);
            if (after === i)
                this.fail("bad number");
            i = after;
        }
        // What raw-json's number() would go on reading as part of the literal makes it invalid there too.
        const next = text.charCodeAt(i);
        if ((next >= 0x30 && next <= 0x39) ||
            next === 0x2d ||
            next === 0x2b ||
            next === 0x2e ||
            next === 0x65 ||
            next === 0x45)
            this.fail("bad number");
        this.i = i;
    }
    digits(from) {
        const text = this.text;
        let i = from;
        let c = text.charCodeAt(i);
        while (c >= 0x30 && c <= 0x39)
            c = text.charCodeAt(++i);
        return i;
    }
}

;// CONCATENATED MODULE: ./src/engine/wire/raw-json.ts
// A JSON parser that keeps every number's literal text.
//
// Why: `JSON.parse` turns the wire literal `1.0` into the number 1, and the Table service marks a
// Double only by its decimal point, so the SDK (and anything built on JSON.parse) retypes a
// whole-number Double as Int32. Objects become Maps so property order is kept and names such as
// `__proto__` are ordinary keys.

/** A JSON number literal exactly as it appeared on the wire. */
class RawNumber {
    raw;
    constructor(raw) {
        this.raw = raw;
    }
}
class RawJsonError extends Error {
}
function parseRawJson(text) {
    return new RawParser(text).document();
}
/**
 * The fast path for a query page, `{…,"value":[{…},…],…}`: each entity's members as lists instead of a
 * Map, and a key spelled exactly as the previous entity's key at the same position reuses that string,
 * so a page of same-shaped entities allocates far less. Returns undefined for any other shape, and for
 * text that is not valid JSON: parseRawJson then gives the exact answer or error.
 */
function parseRawPage(text) {
    try {
        return new RawParser(text).page();
    }
    catch {
        return undefined;
    }
}
/**
 * The entities of a page whose whole text was already checked (json-scan.ts: `valueStart` is the `[` of
 * its `value` array), one per call, undefined after the last. Parsed as parseRawPage parses them.
 */
function pageCursor(text, valueStart) {
    return new RawParser(text).cursor(valueStart);
}
/** The members of the entity object that starts at `start` (its `{`), and the offset just after it. */
function membersAt(text, start) {
    const parser = new RawParser(text);
    return { members: parser.membersAt(start), end: parser.offset };
}
class RawParser {
    text;
    i = 0;
    /** Whether the last string parsed had escapes (its text on the wire differs from its value). */
    escaped = false;
    /** Whether every key of the last entity read by members() is free of quotes and backslashes. */
    plainKeys = false;
    constructor(text) {
        this.text = text;
    }
    fail(what) {
        throw new RawJsonError(`invalid JSON at offset ${this.i}: ${what}`);
    }
    skipWs() {
        this.i = skipJsonWs(this.text, this.i);
    }
    document() {
        const value = this.value();
        this.skipWs();
        if (this.i !== this.text.length)
            this.fail("trailing characters");
        return value;
    }
    string() {
        // i points at the opening quote.
        const start = this.i + 1;
        const q = closingQuote(this.text, start);
        if (q < 0)
            this.fail("unterminated string");
        this.i = q + 1;
        const body = this.text.slice(start, q);
        this.escaped = body.indexOf("\\") >= 0;
        return this.escaped ? JSON.parse(`"${body}"`) : body;
    }
    number() {
        const text = this.text;
        const start = this.i;
        let i = start;
        let c = text.charCodeAt(i);
        while ((c >= 0x30 && c <= 0x39) ||
            c === 0x2d /* - */ ||
            c === 0x2b /* + */ ||
            c === 0x2e /* . */ ||
            c === 0x65 /* e */ ||
            c === 0x45 /* E */) {
            c = text.charCodeAt(++i);
        }
        this.i = i;
        const raw = text.slice(start, i);
        if (!/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(raw))
            this.fail(`bad number ${raw}`);
        return new RawNumber(raw);
    }
    value() {
        this.skipWs();
        const text = this.text;
        const c = text.charCodeAt(this.i);
        if (c === 0x22)
            return this.string();
        if (c === 0x7b) {
            this.i++;
            const map = new Map();
            this.skipWs();
            if (text.charCodeAt(this.i) === 0x7d) {
                this.i++;
                return map;
            }
            for (;;) {
                this.skipWs();
                if (text.charCodeAt(this.i) !== 0x22)
                    this.fail("expected a property name");
                const key = this.string();
                this.skipWs();
                if (text.charCodeAt(this.i) !== 0x3a)
                    this.fail("expected ':'");
                this.i++;
                map.set(key, this.value());
                this.skipWs();
                const d = text.charCodeAt(this.i++);
                if (d === 0x2c)
                    continue;
                if (d === 0x7d)
                    return map;
                this.i--;
                this.fail("expected ',' or '}'");
            }
        }
        if (c === 0x5b) {
            this.i++;
            const arr = [];
            this.skipWs();
            if (text.charCodeAt(this.i) === 0x5d) {
                this.i++;
                return arr;
            }
            for (;;) {
                arr.push(this.value());
                this.skipWs();
                const d = text.charCodeAt(this.i++);
                if (d === 0x2c)
                    continue;
                if (d === 0x5d)
                    return arr;
                this.i--;
                this.fail("expected ',' or ']'");
            }
        }
        if (c === 0x74 && text.startsWith("true", this.i)) {
            this.i += 4;
            return true;
        }
        if (c === 0x66 && text.startsWith("false", this.i)) {
            this.i += 5;
            return false;
        }
        if (c === 0x6e && text.startsWith("null", this.i)) {
            this.i += 4;
            return null;
        }
        if (c === 0x2d || (c >= 0x30 && c <= 0x39))
            return this.number();
        return this.fail("unexpected character");
    }
    /** See parseRawPage. Throws RawJsonError on invalid JSON; undefined for valid JSON of another shape. */
    page() {
        const text = this.text;
        this.skipWs();
        if (text.charCodeAt(this.i) !== 0x7b)
            return undefined;
        this.i++;
        this.skipWs();
        if (text.charCodeAt(this.i) === 0x7d)
            return undefined;
        let entities;
        for (;;) {
            this.skipWs();
            if (text.charCodeAt(this.i) !== 0x22)
                this.fail("expected a property name");
            const key = this.string();
            this.skipWs();
            if (text.charCodeAt(this.i) !== 0x3a)
                this.fail("expected ':'");
            this.i++;
            if (key === "value") {
                if (entities !== undefined)
                    return undefined; // twice: the last one counts; leave that to the Map
                this.skipWs();
                if (text.charCodeAt(this.i) !== 0x5b)
                    return undefined;
                entities = this.entityList();
                if (entities === undefined)
                    return undefined;
            }
            else {
                this.value();
            }
            this.skipWs();
            const d = text.charCodeAt(this.i++);
            if (d === 0x2c)
                continue;
            if (d === 0x7d)
                break;
            this.i--;
            this.fail("expected ',' or '}'");
        }
        this.skipWs();
        if (this.i !== text.length)
            this.fail("trailing characters");
        return entities;
    }
    get offset() {
        return this.i;
    }
    /** See membersAt. */
    membersAt(start) {
        this.i = start;
        return this.members(undefined);
    }
    /** See pageCursor. */
    cursor(valueStart) {
        const text = this.text;
        this.i = valueStart + 1;
        this.skipWs();
        let ended = text.charCodeAt(this.i) === 0x5d;
        let previous;
        return () => {
            if (ended)
                return undefined;
            this.skipWs();
            if (text.charCodeAt(this.i) !== 0x7b)
                this.fail("expected an entity object");
            previous = this.members(previous);
            this.skipWs();
            const d = text.charCodeAt(this.i++);
            if (d === 0x5d)
                ended = true;
            else if (d !== 0x2c) {
                this.i--;
                this.fail("expected ',' or ']'");
            }
            return previous;
        };
    }
    /** `[{…},…]` at i; undefined if an item is not an object. */
    entityList() {
        const text = this.text;
        this.i++;
        const list = [];
        this.skipWs();
        if (text.charCodeAt(this.i) === 0x5d) {
            this.i++;
            return list;
        }
        let previous;
        for (;;) {
            this.skipWs();
            if (text.charCodeAt(this.i) !== 0x7b)
                return undefined;
            previous = this.members(previous);
            list.push(previous);
            this.skipWs();
            const d = text.charCodeAt(this.i++);
            if (d === 0x2c)
                continue;
            if (d === 0x5d)
                return list;
            this.i--;
            this.fail("expected ',' or ']'");
        }
    }
    /** One object at i, as members; keys spelled as in `previous` at the same position reuse its strings. */
    members(previous) {
        const text = this.text;
        this.i++;
        const keys = [];
        const values = [];
        const prevKeys = previous?.keys;
        // Unique as long as every key so far is the previous (unique) entity's key at the same position.
        let sameKeys = previous !== undefined && previous.unique;
        // Whether every key of the previous entity, and so far of this one, was written without escapes.
        const previousPlain = this.plainKeys;
        let plain = previousPlain;
        this.skipWs();
        if (text.charCodeAt(this.i) === 0x7d) {
            this.i++;
            return { keys, values, unique: true };
        }
        for (;;) {
            this.skipWs();
            if (text.charCodeAt(this.i) !== 0x22)
                this.fail("expected a property name");
            let key;
            const candidate = prevKeys?.[keys.length];
            // The previous entity's key, if the text here is exactly it between quotes. Only keys without
            // quotes or backslashes qualify, so that the text and the value are the same characters.
            if (candidate !== undefined &&
                text.charCodeAt(this.i + 1 + candidate.length) === 0x22 &&
                text.startsWith(candidate, this.i + 1) &&
                (previousPlain || (candidate.indexOf('"') < 0 && candidate.indexOf("\\") < 0))) {
                key = candidate;
                this.i += candidate.length + 2;
            }
            else {
                key = this.string();
                sameKeys = false;
                if (this.escaped)
                    plain = false;
            }
            this.skipWs();
            if (text.charCodeAt(this.i) !== 0x3a)
                this.fail("expected ':'");
            this.i++;
            values.push(this.value());
            keys.push(key);
            this.skipWs();
            const d = text.charCodeAt(this.i++);
            if (d === 0x2c)
                continue;
            if (d === 0x7d)
                break;
            this.i--;
            this.fail("expected ',' or '}'");
        }
        this.plainKeys = plain || !keys.some((k) => k.indexOf('"') >= 0 || k.indexOf("\\") >= 0);
        const unique = (sameKeys && keys.length === prevKeys?.length) || new Set(keys).size === keys.length;
        return { keys, values, unique };
    }
}

;// CONCATENATED MODULE: ./src/engine/wire/edm.ts
// Entities with their exact wire types, and the JSON we write for them.
//
// We never let a value pass through a JS number: Doubles keep their literal text, Int64 stays a
// string, DateTime keeps all 7 fractional digits. What we write is built here, not by the SDK's
// serializer, because the SDK sends a whole-number Double as the string "1.0" and Cosmos was reported
// to store an annotated bare `1` as Int32.


const EDM_TYPES = new Set([
    "Edm.String",
    "Edm.Int32",
    "Edm.Int64",
    "Edm.Double",
    "Edm.Boolean",
    "Edm.DateTime",
    "Edm.Guid",
    "Edm.Binary",
]);
class EntityFormatError extends Error {
}
const NON_FINITE = new Set(["NaN", "Infinity", "-Infinity"]);
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
function typeOfUnannotated(value) {
    if (typeof value === "string")
        return "Edm.String";
    if (typeof value === "boolean")
        return "Edm.Boolean";
    if (value instanceof RawNumber) {
        if (/[.eE]/.test(value.raw))
            return "Edm.Double";
        const n = Number(value.raw);
        // An unannotated integer beyond Int32 is not something Table Storage sends; keep it exact as Int64.
        return n >= INT32_MIN && n <= INT32_MAX ? "Edm.Int32" : "Edm.Int64";
    }
    return undefined; // null, arrays, objects: not table property values
}
/** Turn one parsed entity object from a query response into a WireEntity. */
function entityFromRaw(obj) {
    return entityFromMembers([...obj.keys()], [...obj.values()]);
}
/** The suffix of a member that gives another member's type. */
const ANNOTATION = "@odata.type";
/** Whether `k` is `<key>@odata.type` (`length` is that name's length). */
function annotates(k, key, length) {
    return k.length === length && k.endsWith(ANNOTATION) && k.startsWith(key);
}
/** The type annotation of the property at `i`: the string value of the member `<key>@odata.type`. */
function annotationOf(keys, values, i) {
    const key = keys[i];
    const length = key.length + ANNOTATION.length;
    // The service writes the annotation just before its property; look there first, then everywhere.
    let j = i - 1;
    if (j < 0 || !annotates(keys[j], key, length)) {
        for (j = 0; j < keys.length; j++)
            if (annotates(keys[j], key, length))
                break;
        if (j === keys.length)
            return undefined;
    }
    const annotation = values[j];
    return typeof annotation === "string" ? annotation : undefined;
}
/** An entity object's members in wire order, no key twice (what a Map of it holds), as a WireEntity. */
function entityFromMembers(keys, values) {
    let partitionKey;
    let rowKey;
    let timestamp;
    let etag;
    const properties = new Map();
    for (let i = 0; i < keys.length; i++) {
        const key = keys[i];
        const value = values[i];
        if (key === "PartitionKey") {
            partitionKey = String(value);
            continue;
        }
        if (key === "RowKey") {
            rowKey = String(value);
            continue;
        }
        if (key === "Timestamp") {
            if (typeof value === "string")
                timestamp = value;
            continue;
        }
        if (key === "odata.etag") {
            if (typeof value === "string")
                etag = value;
            continue;
        }
        if (key.startsWith("odata.") || key.endsWith(ANNOTATION))
            continue;
        if (value === null || value === undefined)
            continue;
        const annotated = annotationOf(keys, values, i);
        let type;
        if (annotated !== undefined) {
            if (!EDM_TYPES.has(annotated))
                throw new EntityFormatError(`property ${key} has unknown type ${annotated}`);
            type = annotated;
        }
        else {
            type = typeOfUnannotated(value);
        }
        if (type === undefined)
            throw new EntityFormatError(`property ${key} has a value that is not a table type`);
        let v;
        if (value instanceof RawNumber)
            v = value.raw;
        else if (typeof value === "boolean")
            v = type === "Edm.Boolean" ? value : String(value);
        else if (typeof value === "string")
            v = value;
        else
            throw new EntityFormatError(`property ${key} has a value that is not a table type`);
        properties.set(key, { type, value: v });
    }
    if (partitionKey === undefined || rowKey === undefined) {
        throw new EntityFormatError("an entity without PartitionKey or RowKey");
    }
    return { partitionKey, rowKey, properties, timestamp, etag };
}
const NO_PROPERTIES = new Map();
/** The entity's keys alone (what is said of an operation once its request is built). */
function keysOnly(entity) {
    return {
        partitionKey: entity.partitionKey,
        rowKey: entity.rowKey,
        properties: NO_PROPERTIES,
    };
}
/**
 * The entity's keys alone, as strings of their own. The parser's strings are slices of the page's text
 * (V8 shares the characters of a substring of 13 or more): a key kept for long would keep its whole
 * page — a megabyte — alive.
 */
function ownKeys(entity) {
    return { ...keysOnly(entity), partitionKey: edm_own(entity.partitionKey), rowKey: edm_own(entity.rowKey) };
}
/** Whether the entity was cut down to its keys (keysOnly, ownKeys): it can no longer give its body. */
function hasOnlyKeys(entity) {
    // A page entity (entity-page.ts) has its body; asking for its properties would parse them.
    return !isPageEntity(entity) && entity.properties === NO_PROPERTIES;
}
function isPageEntity(entity) {
    return typeof entity.writeJson === "function";
}
/** The names of the entity's properties (what `properties.keys()` gives), without parsing a page entity. */
function propertyNames(entity) {
    return isPageEntity(entity) ? entity.propertyNames() : entity.properties.keys();
}
/** A copy of `s` that shares no characters with a larger string (shorter ones are copied by V8 anyway). */
function edm_own(s) {
    // Joining makes a new flat string of " " + s; the slice of it then shares only that.
    return s.length < 13 ? s : (" " + s).slice(1);
}
/** One entity object's members (raw-json.ts) as a WireEntity; throws EntityFormatError as entityFromRaw. */
function entityOf(m) {
    return m.unique
        ? entityFromMembers(m.keys, m.values)
        : entityFromRaw(new Map(m.keys.map((k, i) => [k, m.values[i]])));
}
/**
 * A query response body as entities, parsed as they are iterated (json-scan.ts says why). The whole text
 * is checked here, so invalid JSON throws now, as parseEntityPage does; a property of a type that is not
 * a table type throws (EntityFormatError) when the iteration reaches its entity.
 */
function readEntityPage(body) {
    const shape = pageShape(body);
    // Any other shape, and invalid text: the general parser's answer, or its exact error.
    if (shape === undefined)
        return parseEntityPage(body);
    const { valueStart, count } = shape;
    return {
        length: count,
        *[Symbol.iterator]() {
            const next = pageCursor(body, valueStart);
            for (let m = next(); m !== undefined; m = next())
                yield entityOf(m);
        },
    };
}
/** Parse a query response body (`{"value":[…]}`) into entities with exact types. */
function parseEntityPage(body) {
    // The usual page takes the fast path; anything else (or invalid) gets the general parser's answer.
    const page = parseRawPage(body);
    if (page !== undefined)
        return page.map(entityOf);
    const parsed = parseRawJson(body);
    if (!(parsed instanceof Map))
        throw new EntityFormatError("a query response that is not a JSON object");
    const value = parsed.get("value");
    if (value === undefined) {
        // A single-entity GET returns the entity itself.
        return parsed.has("PartitionKey") ? [entityFromRaw(parsed)] : [];
    }
    if (!Array.isArray(value))
        throw new EntityFormatError("a query response whose value is not an array");
    return value.map((item) => {
        if (!(item instanceof Map))
            throw new EntityFormatError("a query result that is not an object");
        return entityFromRaw(item);
    });
}
/** The JSON number literal we write for a finite Double: always with a decimal point or exponent. */
function doubleLiteral(raw) {
    return /[.eE]/.test(raw) ? raw : `${raw}.0`;
}
/** Most names kept; a table with more distinct property names only rebuilds the pieces more often. */
const NAME_CACHE_MAX = 4096;
const nameCache = new Map();
function nameJson(name) {
    let n = nameCache.get(name);
    if (n === undefined) {
        if (nameCache.size >= NAME_CACHE_MAX)
            nameCache.clear();
        n = {
            plain: `${jsonString(name)}:`,
            annotation: `${jsonString(`${name}@odata.type`)}:`,
            typed: new Map(),
        };
        nameCache.set(name, n);
    }
    return n;
}
/** What comes before a property's value in our JSON: `"name":`, or with a type, its annotation too. */
function propertyPrefix(name, type) {
    const n = nameJson(name);
    return type === undefined ? n.plain : typedPrefix(n, type);
}
function typedPrefix(n, type) {
    let prefix = n.typed.get(type);
    if (prefix === undefined) {
        prefix = `${n.annotation}${JSON.stringify(type)},${n.plain}`;
        n.typed.set(type, prefix);
    }
    return prefix;
}
/**
 * Characters a JSON string cannot carry as they are (quote, backslash, controls), that Azurite's $batch
 * parser takes for line breaks (U+2028/U+2029: valid raw in JSON, but it refuses the entity or the whole
 * changeset with a bodiless 500; escaped they mean the same), and surrogates (a lone one must be
 * escaped, or its UTF-8 bytes would be a replacement character).
 */
// eslint-disable-next-line no-control-regex -- the control characters are what it looks for
const NEEDS_ESCAPES = /["\\\u0000-\u001f\u2028\u2029\ud800-\udfff]/;
/**
 * A string as a JSON string literal. Most values need no escape: quoted as they are, without the copy
 * JSON.stringify makes (one entity's text is most of what a copy allocates).
 */
function jsonString(s) {
    if (!NEEDS_ESCAPES.test(s))
        return `"${s}"`;
    return JSON.stringify(s)
        .replace(/\u2028/g, "\\u2028")
        .replace(/\u2029/g, "\\u2029");
}
function valueJson(n, v) {
    switch (v.type) {
        case "Edm.String":
            return n.plain + jsonString(String(v.value));
        case "Edm.Boolean":
            return n.plain + (v.value === true || v.value === "true" ? "true" : "false");
        case "Edm.Int32":
            return n.plain + String(v.value);
        case "Edm.Double": {
            const raw = String(v.value);
            return typedPrefix(n, "Edm.Double") + (NON_FINITE.has(raw) ? `"${raw}"` : doubleLiteral(raw));
        }
        default:
            return typedPrefix(n, v.type) + jsonString(String(v.value));
    }
}
/** The request body for an insert/update of this entity. */
function entityJson(entity) {
    if (isPageEntity(entity))
        return entity.writeJson();
    let out = `{"PartitionKey":${jsonString(entity.partitionKey)},"RowKey":${jsonString(entity.rowKey)}`;
    for (const [name, v] of entity.properties)
        out += "," + valueJson(nameJson(name), v);
    return out + "}";
}
/** Typed equality at wire level: same type, same value (Doubles compared as numbers, -0 ≠ 0, NaN = NaN). */
function wireValuesEqual(a, b) {
    if (a.type !== b.type)
        return false;
    switch (a.type) {
        case "Edm.Double": {
            const x = String(a.value);
            const y = String(b.value);
            if (NON_FINITE.has(x) || NON_FINITE.has(y))
                return x === y;
            return Object.is(Number(x), Number(y));
        }
        case "Edm.Int32":
            return Number(a.value) === Number(b.value);
        case "Edm.Int64":
            return BigInt(String(a.value)) === BigInt(String(b.value));
        case "Edm.Guid":
            return String(a.value).toLowerCase() === String(b.value).toLowerCase();
        case "Edm.DateTime":
            return normalizeDateTime(String(a.value)) === normalizeDateTime(String(b.value));
        default:
            return a.value === b.value;
    }
}
/** `2024-01-01T00:00:00Z` and `2024-01-01T00:00:00.0000000Z` are the same instant. */
function normalizeDateTime(s) {
    const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,7}))?Z$/.exec(s);
    if (!m)
        return s;
    return `${m[1]}.${(m[2] ?? "").padEnd(7, "0")}Z`;
}
/** Names of the properties whose presence, type or value differ between two entities. */
function differingProperties(a, b) {
    const names = [];
    for (const [name, va] of a.properties) {
        const vb = b.properties.get(name);
        if (!vb || !wireValuesEqual(va, vb))
            names.push(name);
    }
    for (const name of b.properties.keys())
        if (!a.properties.has(name))
            names.push(name);
    return names;
}
/** Bytes of the entity's JSON body: what the transaction size limits count. */
function entityBytes(entity) {
    return Buffer.byteLength(entityJson(entity));
}

;// CONCATENATED MODULE: ./src/engine/wire/page-entity.ts
// An entity cut from a query page (entity-page.ts): its keys, its write body and the page's text, its
// properties parsed only if something asks for them.


/** An entity of a page, with its body ready; its properties are parsed only if something asks for them. */
class PageEntity {
    constructor(partitionKey, rowKey, json, names, text, start, timestamp, etagText) {
        this.partitionKey = partitionKey;
        this.rowKey = rowKey;
        this.timestamp = timestamp;
        this.etagText = etagText;
        this.etagValue = undefined;
        this.json = json;
        this.names = names;
        this.text = text;
        this.start = start;
        this.parsed = undefined;
    }
    // A copy never reads the source's ETags: unescaping one per entity was 3 % of reading a page.
    get etag() {
        const text = this.etagText;
        if (this.etagValue !== undefined || text === undefined)
            return this.etagValue;
        return (this.etagValue = text.indexOf("\\") < 0 ? text : unescaped(text));
    }
    set etag(value) {
        this.etagValue = value;
        this.etagText = undefined;
    }
    get properties() {
        return (this.parsed ??= entityOf(membersAt(this.text, this.start).members).properties);
    }
    writeJson() {
        return this.json;
    }
    propertyNames() {
        return this.names;
    }
}
/** A JSON string's value from its text (no quotes), cheaply when its only escapes are `\"` (ETags). */
function unescaped(body) {
    const quotes = body.replaceAll('\\"', '"');
    return quotes.indexOf("\\") < 0 ? quotes : JSON.parse(`"${body}"`);
}

;// CONCATENATED MODULE: ./src/engine/wire/entity-page.ts
// A query page's entities for copying: each one's write body taken straight from the page's text.
//
// Why: in a table with one entity per partition every entity is a request of its own, and parsing an
// entity into typed properties only to write the same properties back as JSON was a fifth of the CPU a
// copy spent per entity. The body we write differs from the entity's text in the page in little: no
// odata.* members or Timestamp, the keys first, and a Double always annotated (the service leaves a
// finite one bare and marks it only by its decimal point). So each member's text is taken as it is,
// behind the name and annotation we would write for it; and properties the page already has exactly as
// we write them (most: a comma, the name, a colon and the value), one after another, are taken as one
// stretch of its text (a string per property was a sixth of what a copy allocated per entity).
//
// Exactness: the body is byte for byte what entityJson would build from the parsed entity (the tests
// compare the two on entities of every shape). Anything the plain path would treat differently — an
// escape in a key or a value, an annotation not just before its property, a name twice, a value of a
// type no table has, characters we escape — is not transcoded: that entity is parsed as before, and an
// entity the copy cannot write exactly fails with the same error.




/** Characters a body must carry escaped (edm.ts NEEDS_ESCAPES, less those JSON text never has raw). */
const SPECIAL = /[\u2028\u2029\ud800-\udfff]/;
/** Types whose value is a JSON string written behind its annotation. */
const STRING_TYPED = new Set(["Edm.Int64", "Edm.DateTime", "Edm.Guid", "Edm.Binary"]);
/**
 * A query response body as entities for a copy: like readEntityPage (edm.ts) — checked whole now,
 * parsed as iterated, the same errors — but each entity comes with its write body (see above).
 */
function readCopyPage(body) {
    const shape = pageShape(body);
    if (shape === undefined)
        return parseEntityPage(body);
    const { valueStart, count } = shape;
    return {
        length: count,
        *[Symbol.iterator]() {
            const cutter = SPECIAL.test(body) ? undefined : new Cutter(body);
            let i = skipJsonWs(body, valueStart + 1);
            if (body.charCodeAt(i) === 0x5d)
                return;
            for (;;) {
                const cut = cutter?.cut(i);
                if (cut) {
                    i = cutter.end;
                    yield cut;
                }
                else {
                    const m = membersAt(body, i);
                    i = m.end;
                    yield entityOf(m.members);
                }
                i = skipJsonWs(body, i);
                if (body.charCodeAt(i) !== 0x2c)
                    return;
                i = skipJsonWs(body, i + 1);
            }
        },
    };
}
/** propertyJson: the page has the property exactly as it is written. */
const SAME = null;
const STRING = 0;
const NUMBER = 1;
const BOOLEAN = 2;
const NULL = 3;
const PARTITION_KEY = 0;
const ROW_KEY = 1;
const TIMESTAMP = 2;
const ETAG = 3;
const ANNOTATION_OF = 4;
/** Another odata.* member: not written. */
const METADATA = 5;
const PROPERTY = 6;
function slotOf(sliced) {
    // A string of its own: a slice of the page is read through its parent, and a place's name is compared
    // with the text at every entity.
    const name = JSON.parse(JSON.stringify(sliced));
    if (name === "PartitionKey")
        return { name, role: PARTITION_KEY };
    if (name === "RowKey")
        return { name, role: ROW_KEY };
    if (name === "Timestamp")
        return { name, role: TIMESTAMP };
    if (name === "odata.etag")
        return { name, role: ETAG };
    if (name.endsWith(ANNOTATION))
        return { name, role: ANNOTATION_OF, target: name.slice(0, -ANNOTATION.length) };
    if (name.startsWith("odata."))
        return { name, role: METADATA };
    return { name, role: PROPERTY };
}
/** Whether `text` holds `s` at `at` (short strings: cheaper than startsWith on a page-long string). */
function holds(text, at, s) {
    for (let k = 0; k < s.length; k++)
        if (text.charCodeAt(at + k) !== s.charCodeAt(k))
            return false;
    return true;
}
/** Cuts a page's entities out of its text (the whole text is valid JSON: json-scan.ts checked it). */
class Cutter {
    text;
    /** Where the last entity cut ended (just after its `}`). */
    end = 0;
    /** The last entity cut's member places (all names different): the usual next entity's too. */
    slots;
    /** The first backslash at or after where it was last looked for; Infinity: none left. */
    backslash = -1;
    constructor(text) {
        this.text = text;
    }
    /** Whether the text from `from` to `to` (exclusive) holds a backslash. */
    escaped(from, to) {
        if (this.backslash < from) {
            const b = this.text.indexOf("\\", from);
            this.backslash = b < 0 ? Infinity : b;
        }
        return this.backslash < to;
    }
    /** The entity object at `start` (its `{`), or undefined when only the parser can say what it is. */
    cut(start) {
        const text = this.text;
        const previous = this.slots;
        /** This entity's places: the previous entity's as long as its names are the same. */
        let slots = previous ?? [];
        let diverged = previous === undefined;
        let k = 0;
        let partitionKey;
        let rowKey;
        let timestamp;
        let etag;
        let props = "";
        /**
         * A stretch of the page's text written as it is (runStart to runEnd): properties the page already has
         * exactly as we write them, one after another, joined as one slice rather than a string each.
         */
        let runStart = 0;
        let runEnd = 0;
        /** Where the last annotation member began (its comma; -1: not right after a comma). */
        let annotationFrom = -1;
        /** The names of the properties written (a transform checks them without parsing the entity). */
        const written = [];
        /** The property the last member annotated, and with what type. */
        let annotated;
        let annotation;
        let i = skipJsonWs(text, start + 1);
        if (text.charCodeAt(i) !== 0x22)
            return undefined;
        for (;; k++) {
            // The comma before this member, if it is just before it (what a property written as it is starts with).
            const from = text.charCodeAt(i - 1) === 0x2c ? i - 1 : -1;
            // The member's name: the previous entity's at this place when the text is exactly it.
            let slot = diverged ? undefined : slots[k];
            // (A name of the previous entity has no quote or backslash: the first quote ends it here too.)
            const quote = text.indexOf('"', i + 1);
            if (slot !== undefined &&
                quote - i - 1 === slot.name.length &&
                text.slice(i + 1, quote) === slot.name) {
                i = quote + 1;
            }
            else {
                const q = closingQuote(text, i + 1);
                if (q < 0 || this.escaped(i + 1, q))
                    return undefined;
                slot = slotOf(text.slice(i + 1, q));
                if (!diverged) {
                    slots = slots.slice(0, k);
                    diverged = true;
                }
                slots.push(slot);
                i = q + 1;
            }
            i = skipJsonWs(text, skipJsonWs(text, i) + 1);
            // The value: its text from v to `end`.
            const v = i;
            const c = text.charCodeAt(v);
            let kind;
            let end;
            let decimal = false;
            /** A string with escapes: its text is not its value. */
            let escapes = false;
            if (c === 0x22) {
                const q = closingQuote(text, v + 1);
                if (q < 0)
                    return undefined;
                escapes = this.escaped(v + 1, q);
                kind = STRING;
                end = q + 1;
            }
            else if (c === 0x74 || c === 0x66) {
                kind = BOOLEAN;
                end = v + (c === 0x74 ? 4 : 5);
            }
            else if (c === 0x6e) {
                kind = NULL;
                end = v + 4;
            }
            else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
                kind = NUMBER;
                end = v + 1;
                for (let d = text.charCodeAt(end);; d = text.charCodeAt(++end)) {
                    if (d === 0x2e || d === 0x65 || d === 0x45)
                        decimal = true;
                    else if (!((d >= 0x30 && d <= 0x39) || d === 0x2d || d === 0x2b))
                        break;
                }
            }
            else
                return undefined; // an object or an array: not a table value
            // An annotation belongs to the member right after it; anywhere else, the parser decides.
            const name = slot.name;
            if (annotated !== undefined && annotated !== name)
                return undefined;
            const type = annotated === name ? annotation : undefined;
            annotated = annotation = undefined;
            const role = slot.role;
            if (escapes && role !== ETAG && role !== METADATA)
                return undefined;
            if (role === PROPERTY) {
                if (kind !== NULL) {
                    const at = type === undefined ? from : annotationFrom;
                    const json = this.propertyJson(slot, type, kind, decimal, v, end, at);
                    if (json === undefined)
                        return undefined;
                    if (json === SAME) {
                        // As it is in the page: it extends the stretch, or starts one.
                        if (runEnd !== at) {
                            if (runEnd > runStart)
                                props += text.slice(runStart, runEnd);
                            runStart = at;
                        }
                        runEnd = end;
                    }
                    else {
                        if (runEnd > runStart)
                            props += text.slice(runStart, runEnd);
                        runStart = runEnd = 0;
                        props += json;
                    }
                    written.push(name);
                }
            }
            else if (role === ANNOTATION_OF) {
                if (kind !== STRING)
                    return undefined;
                annotationFrom = from;
                // The same type as at this place in the entity before: its string, not a new one.
                const t = slot.type;
                annotation =
                    t !== undefined && end - v - 2 === t.length && holds(text, v + 1, t)
                        ? t
                        : (slot.type = text.slice(v + 1, end - 1));
                annotated = slot.target;
            }
            else if (role === PARTITION_KEY || role === ROW_KEY) {
                if (kind !== STRING)
                    return undefined;
                if (role === PARTITION_KEY)
                    partitionKey = text.slice(v + 1, end - 1);
                else
                    rowKey = text.slice(v + 1, end - 1);
            }
            else if (role === TIMESTAMP) {
                if (kind === STRING)
                    timestamp = text.slice(v + 1, end - 1);
            }
            else if (role === ETAG) {
                if (kind !== STRING)
                    return undefined;
                // An ETag has quotes in it (W/"datetime'…'"): escaped on the wire, unescaped when read.
                etag = text.slice(v + 1, end - 1);
            }
            i = skipJsonWs(text, end);
            const d = text.charCodeAt(i++);
            if (d === 0x7d)
                break;
            if (d !== 0x2c)
                return undefined;
            i = skipJsonWs(text, i);
        }
        k++;
        if (runEnd > runStart)
            props += text.slice(runStart, runEnd);
        if (annotated !== undefined || partitionKey === undefined || rowKey === undefined)
            return undefined;
        if (diverged || k !== slots.length) {
            if (k !== slots.length)
                slots = slots.slice(0, k);
            if (new Set(slots.map((s) => s.name)).size !== k)
                return undefined;
        }
        this.slots = slots;
        this.end = i;
        const json = `{"PartitionKey":"${partitionKey}","RowKey":"${rowKey}"${props}}`;
        return new PageEntity(partitionKey, rowKey, json, written, text, start, timestamp, etag);
    }
    /**
     * `,` and one property as entityJson writes it (edm.ts valueJson), from its value's text (v to end)
     * and its annotation; SAME when the page has exactly that text from `at` (the comma before the
     * property, or before its annotation) to `end`; undefined where the plain path would write something
     * else or refuse it.
     */
    propertyJson(slot, type, kind, decimal, v, end, at) {
        if (type !== undefined && !EDM_TYPES.has(type))
            return undefined;
        const text = this.text;
        let written;
        /** A whole number written as a Double: it gains a decimal point. */
        let point = false;
        switch (kind) {
            case STRING:
                if (type === undefined || type === "Edm.String")
                    written = null;
                else if (STRING_TYPED.has(type) ||
                    (type === "Edm.Double" && NON_FINITE.has(text.slice(v + 1, end - 1))))
                    written = type;
                else
                    return undefined;
                break;
            case NUMBER:
                if (type === "Edm.Double" || (type === undefined && decimal)) {
                    written = "Edm.Double";
                    point = !decimal;
                }
                else if (type === "Edm.Int32")
                    written = null;
                else if (type === undefined) {
                    // Nine characters or fewer fit an Int32; beyond, the parser keeps it exact as Int64.
                    if (end - v > 9) {
                        const n = Number(text.slice(v, end));
                        if (!(n >= INT32_MIN && n <= INT32_MAX))
                            return undefined;
                    }
                    written = null;
                }
                else
                    return undefined;
                break;
            case BOOLEAN:
                if (type !== undefined && type !== "Edm.Boolean")
                    return undefined;
                written = null;
                break;
            default:
                return undefined;
        }
        if (slot.prefixType !== written || slot.prefix === undefined) {
            slot.prefix = `,${propertyPrefix(slot.name, (written ?? undefined))}`;
            slot.prefixType = written;
        }
        const prefix = slot.prefix;
        if (!point && at >= 0 && at + prefix.length === v && holds(text, at, prefix))
            return SAME;
        return point ? `${prefix}${text.slice(v, end)}.0` : prefix + text.slice(v, end);
    }
}

;// CONCATENATED MODULE: external "node:events"
const external_node_events_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:events");
// EXTERNAL MODULE: external "node:buffer"
var external_node_buffer_ = __nccwpck_require__(4573);
;// CONCATENATED MODULE: ./src/engine/wire/h1.ts



const h1_CRLF2 = Buffer.from("\r\n\r\n");
const CRLF = Buffer.from("\r\n");
/** A head longer than this is not an answer from a table service. */
const MAX_HEAD = 64 * 1024;
/** A connection not made in this long fails (as undici's default): a dropped SYN must not wait for the
 * request time-out, six times over, before the user hears that the endpoint cannot be reached. */
const CONNECT_TIMEOUT_MS = 10_000;
class H1Connection {
    url;
    keepAliveMs;
    tlsSessions;
    options;
    socket;
    /** While a tunnel is being opened: the socket to the proxy, and the request waiting to go out. */
    tunnel;
    waiting;
    handler;
    method = "";
    /** Bytes received and not yet consumed. */
    pending;
    status = 0;
    framing = Framing.Length;
    /** Body bytes still to come (Length), or of the current chunk (Chunked). */
    remaining = 0;
    /** Chunked: -1 reading a size line, 0.. reading data, -2 reading the CRLF after data, -3 trailers. */
    chunkState = -1;
    keepAlive = true;
    idleSince = 0;
    idleLimitMs;
    closed = false;
    constructor(url, keepAliveMs, tlsSessions, options = {}) {
        this.url = url;
        this.keepAliveMs = keepAliveMs;
        this.tlsSessions = tlsSessions;
        this.options = options;
        this.idleLimitMs = keepAliveMs;
    }
    get busy() {
        return this.handler !== undefined;
    }
    dispatch(opts, handler) {
        if (this.handler)
            throw new Error("H1Connection: one request at a time");
        // Checked before anything is taken: a request that cannot be sent as it is leaves the connection as
        // it was (its socket is not at fault).
        let head = requestHead(opts, this.url.host);
        let aborted;
        this.handler = handler;
        this.method = opts.method;
        handler.onConnect((err) => {
            aborted ??= err;
            if (this.handler === handler)
                this.fail(err);
        });
        if (aborted)
            return;
        if (typeof head !== "string") {
            this.reset();
            return handler.onError(head);
        }
        const body = opts.body;
        if (body)
            head += `content-length: ${body.length}\r\n`;
        else if (opts.method !== "GET" && opts.method !== "HEAD")
            head += "content-length: 0\r\n";
        head += "\r\n";
        const socket = this.ready();
        if (!socket) {
            // A tunnel being opened: the request goes out once it is (see open).
            this.waiting = body?.length ? [Buffer.from(head, "latin1"), body] : [Buffer.from(head, "latin1")];
            return;
        }
        // A request in flight keeps the process alive; an idle connection does not (see complete).
        socket.ref();
        // One write: the head and the body in one buffer (a one-entity body is about a kilobyte).
        const headBytes = Buffer.byteLength(head, "latin1");
        if (!body || body.length === 0)
            socket.write(head, "latin1");
        else if (body.length <= 16 * 1024) {
            const out = Buffer.allocUnsafe(headBytes + body.length);
            out.write(head, 0, "latin1");
            body.copy(out, headBytes);
            socket.write(out);
        }
        else {
            socket.cork();
            socket.write(head, "latin1");
            socket.write(body);
            socket.uncork();
        }
    }
    /** Close the connection (no request may be on it). */
    close() {
        this.closed = true;
        this.socket?.destroy();
        this.socket = undefined;
        this.dropTunnel();
    }
    dropTunnel() {
        this.tunnel?.destroy();
        this.tunnel = this.waiting = undefined;
    }
    /**
     * The socket to send on: the current one, unless it is gone or has been idle too long; undefined while a
     * tunnel to the service is being opened.
     */
    ready() {
        const s = this.socket;
        if (s &&
            !s.destroyed &&
            s.writable &&
            !s.readableEnded &&
            performance.now() - this.idleSince < this.idleLimitMs)
            return s;
        if (s)
            s.destroy();
        return this.open();
    }
    open() {
        const target = endpointOf(this.url);
        const proxy = this.options.proxy;
        if (!proxy)
            return this.attach(dial(target, this.tlsSessions, this.options.ca));
        this.socket = undefined;
        const connectMs = this.options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
        // One time-out for the tunnel and the TLS inside it.
        const deadline = performance.now() + connectMs;
        // The callback is never called before openTunnel returns (it waits for the proxy), so `timer` is set.
        const tunnel = openTunnel(proxy, target.host, target.port, this.options, (err, raw) => {
            clearTimeout(timer);
            if (this.tunnel !== tunnel)
                return raw?.destroy(); // given up on meanwhile
            const waiting = this.waiting;
            this.tunnel = this.waiting = undefined;
            if (err || !raw)
                return this.fail(err ?? failure("no tunnel", "EPROXY"));
            const socket = this.attach(dial(target, this.tlsSessions, this.options.ca, raw), Math.max(1, deadline - performance.now()));
            socket.ref();
            for (const bytes of waiting ?? [])
                socket.write(bytes);
        });
        const timer = setTimeout(() => {
            if (this.tunnel !== tunnel)
                return;
            this.dropTunnel();
            this.fail(failure(`no tunnel through the proxy ${proxy.host} within ${connectMs} ms`, "ETIMEDOUT"));
        }, connectMs);
        timer.unref();
        this.tunnel = tunnel;
        return undefined;
    }
    /** Make `socket` this connection's: its settings, its connect time-out and the framing's listeners. */
    attach(socket, connectMs = this.options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS) {
        socket.setNoDelay(true);
        socket.setKeepAlive(true, 60_000);
        const connectTimer = setTimeout(() => socket.destroy(failure(`no connection to ${this.url.host} within ${connectMs} ms`, "ETIMEDOUT")), connectMs);
        connectTimer.unref();
        if (this.url.protocol === "https:")
            socket.once("secureConnect", () => clearTimeout(connectTimer));
        else if (socket.connecting)
            socket.once("connect", () => clearTimeout(connectTimer));
        else
            clearTimeout(connectTimer);
        socket.on("data", (chunk) => this.received(socket, chunk));
        socket.on("error", (err) => {
            clearTimeout(connectTimer);
            if (this.socket === socket)
                this.fail(err);
        });
        // The server's FIN: the connection is done now, not when 'close' follows (a request sent in between
        // would go into a dead connection).
        socket.on("end", () => this.closedBy(socket));
        socket.on("close", () => {
            clearTimeout(connectTimer);
            this.closedBy(socket);
        });
        this.socket = socket;
        this.pending = undefined;
        this.idleLimitMs = this.keepAliveMs;
        return socket;
    }
    closedBy(socket) {
        if (this.socket !== socket)
            return;
        this.socket = undefined;
        socket.destroy();
        if (!this.handler)
            return;
        if (this.status !== 0 && this.framing === Framing.UntilClose)
            return this.complete(false);
        this.fail(failure("other side closed", "ECONNRESET"));
    }
    /** End the request in flight with `err`; the connection is not reused. */
    fail(err) {
        const h = this.handler;
        this.dropTunnel();
        this.reset();
        const s = this.socket;
        this.socket = undefined;
        s?.destroy();
        h?.onError(err);
    }
    reset() {
        this.handler = undefined;
        this.pending = undefined;
        this.status = 0;
        this.chunkState = -1;
    }
    complete(reuse) {
        const h = this.handler;
        const leftover = this.pending !== undefined && this.pending.length > 0;
        this.reset();
        // Bytes after the answer we did not ask for, or of our request not yet sent (an early answer, say a 503
        // to a large body the server did not read): the connection's framing cannot be trusted.
        if (!reuse || leftover || (this.socket?.writableLength ?? 0) > 0) {
            this.socket?.destroy();
            this.socket = undefined;
        }
        else {
            this.idleSince = performance.now();
            this.socket?.unref();
        }
        h.onComplete();
    }
    received(socket, chunk) {
        if (this.socket !== socket)
            return;
        if (!this.handler) {
            // Nothing asked for: a server's unsolicited bytes (a 408 before closing). Not reusable.
            this.socket = undefined;
            socket.destroy();
            return;
        }
        let data = this.pending && this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
        this.pending = undefined;
        try {
            while (this.handler && data.length > 0) {
                if (this.status === 0) {
                    const end = data.indexOf(h1_CRLF2);
                    if (end < 0) {
                        if (data.length > MAX_HEAD)
                            throw failure("response head too large", "PARSE_ERROR");
                        this.pending = data;
                        return;
                    }
                    const head = data.toString("latin1", 0, end);
                    data = data.subarray(end + 4);
                    if (!this.head(head))
                        continue; // 1xx: the real answer follows
                    if (this.noBody()) {
                        this.pending = data;
                        this.complete(this.keepAlive);
                        return;
                    }
                    continue;
                }
                const rest = this.body(data);
                // Nothing consumed: a chunk's size line or end is not all here yet.
                if (rest.length === data.length && this.handler) {
                    this.pending = rest;
                    return;
                }
                data = rest;
            }
            if (data.length > 0)
                this.pending = data;
        }
        catch (err) {
            this.fail(err);
        }
    }
    /** Read a head (h1-head.ts); false for an interim (1xx) answer. */
    head(head) {
        const h = readHead(head, this.method);
        if (!h)
            return false;
        this.keepAlive = h.keepAlive;
        if (h.idleHintMs !== undefined)
            this.idleLimitMs = Math.min(this.keepAliveMs, h.idleHintMs);
        this.framing = h.framing;
        this.remaining = h.length;
        this.chunkState = -1;
        this.status = h.status;
        this.handler.onHeaders(h.status, h.lines);
        return true;
    }
    noBody() {
        return this.framing === Framing.Length && this.remaining === 0;
    }
    /** Consume body bytes from `data`; what is left after the answer's end is returned. */
    body(data) {
        const h = this.handler;
        if (this.framing === Framing.UntilClose) {
            h.onData(data);
            return data.subarray(data.length);
        }
        if (this.framing === Framing.Length) {
            const take = Math.min(this.remaining, data.length);
            if (take > 0)
                h.onData(take === data.length ? data : data.subarray(0, take));
            this.remaining -= take;
            const rest = data.subarray(take);
            if (this.remaining === 0) {
                this.pending = rest;
                this.complete(this.keepAlive);
                return Buffer.alloc(0);
            }
            return rest;
        }
        return this.chunked(data);
    }
    chunked(data) {
        while (data.length > 0) {
            if (this.chunkState === -1 || this.chunkState === -3) {
                const eol = data.indexOf(CRLF);
                if (eol < 0) {
                    if (data.length > 4096)
                        throw failure("malformed chunk size", "PARSE_ERROR");
                    return data; // kept as pending: the line is not complete yet
                }
                const line = data.toString("latin1", 0, eol);
                data = data.subarray(eol + 2);
                if (this.chunkState === -3) {
                    // Trailers: skipped up to the empty line that ends the answer.
                    if (line === "") {
                        this.pending = data;
                        this.complete(this.keepAlive);
                        return Buffer.alloc(0);
                    }
                    continue;
                }
                const size = /^([0-9a-fA-F]{1,12})\s*(;.*)?$/.exec(line);
                if (!size)
                    throw failure(`malformed chunk size ${line.slice(0, 20)}`, "PARSE_ERROR");
                this.remaining = parseInt(size[1], 16);
                this.chunkState = this.remaining === 0 ? -3 : 0;
            }
            else if (this.chunkState === 0) {
                const take = Math.min(this.remaining, data.length);
                this.handler.onData(take === data.length ? data : data.subarray(0, take));
                this.remaining -= take;
                data = data.subarray(take);
                if (this.remaining === 0)
                    this.chunkState = -2;
            }
            else {
                // -2: the CRLF after a chunk's data.
                if (data.length < 2)
                    return data;
                if (data[0] !== 13 || data[1] !== 10)
                    throw failure("malformed chunk end", "PARSE_ERROR");
                data = data.subarray(2);
                this.chunkState = -1;
            }
        }
        return data;
    }
}

;// CONCATENATED MODULE: ./src/engine/wire/transport.ts
// One HTTP exchange over a keep-alive connection pool, as cheaply as it can be had: our own HTTP/1.1
// connections (h1.ts) called with a handler of our own (no response stream, no promise per chunk, no
// abort signal per request), one timer per service sweeping the time-outs of every request in flight,
// and a stack of idle connections, one request each.
//
// A table with one entity per partition is one request per entity: whatever a request costs here is
// paid for every entity of it. undici's convenience API (`request`) cost about twice as much CPU as its
// dispatcher, and its dispatcher up to a third more than h1.ts (see there).



/** Sockets per service at most: the flow control's largest window, plus room for reads and checks. */
const MAX_CONNECTIONS = 2_304;
/** How long an idle connection is kept for the next request. */
const KEEP_ALIVE_MS = 30_000;
function timeoutError() {
    return Object.assign(new Error("The operation was aborted: no complete response within the request time-out."), { name: "AbortError", code: "ETIMEDOUT" });
}
/** An answer's header lines (`name: value`, CRLF between), read into an object on demand. */
function headerObject(head) {
    const headers = {};
    eachHeader(head, (name, value) => {
        headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    });
    return headers;
}
/**
 * An answer. Its headers are read from the raw lines only when asked for: a one-entity write looks at
 * nothing but the status.
 */
class Answer {
    status;
    raw;
    body;
    parsed;
    constructor(status, raw, body) {
        this.status = status;
        this.raw = raw;
        this.body = body;
    }
    get headers() {
        return (this.parsed ??= headerObject(this.raw));
    }
}
/** One request in flight: the connection's handler, collecting the answer. */
class Exchange {
    deadline;
    resolve;
    reject;
    onStart;
    done;
    successHeaders;
    status = 0;
    raw = "";
    chunks = [];
    abort;
    cancelled;
    /** The connection it went out on, handed back when it is done. */
    client;
    /** Its place among the transport's requests in flight; -1 once settled. */
    slot = -1;
    constructor(deadline, resolve, reject, onStart, done, 
    /** Whether a 2xx answer keeps its header lines (see RequestSpec.successHeaders). */
    successHeaders) {
        this.deadline = deadline;
        this.resolve = resolve;
        this.reject = reject;
        this.onStart = onStart;
        this.done = done;
        this.successHeaders = successHeaders;
    }
    /** Give up on it (time-out or cancel): the connection then reports the error through onError. */
    cancel(err) {
        if (this.cancelled)
            return;
        this.cancelled = err;
        this.abort?.(err);
    }
    onConnect(abort) {
        this.abort = abort;
        if (this.cancelled)
            abort(this.cancelled);
    }
    onHeaders(status, head) {
        this.status = status;
        if (this.successHeaders || status < 200 || status >= 300)
            this.raw = head;
        if (this.onStart)
            this.onStart(status, headerObject(head));
    }
    onData(chunk) {
        this.chunks.push(chunk);
    }
    onComplete() {
        this.done(this);
        const chunks = this.chunks;
        // A write's answer (204) has no body: nothing to join or decode.
        if (chunks.length === 0)
            return this.resolve(new Answer(this.status, this.raw, ""));
        const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
        this.chunks = [];
        // An all-ASCII body (the usual query page) decoded as Latin-1: the same characters, several times
        // faster for a page of a megabyte, which Node then keeps outside the JS heap.
        this.resolve(new Answer(this.status, this.raw, body.toString((0,external_node_buffer_.isAscii)(body) ? "latin1" : "utf8")));
    }
    onError(err) {
        this.done(this);
        const code = err.code;
        // A body cut short by the peer (ECONNRESET mid-answer, or malformed): retried as a page cut short.
        if (this.status !== 0 && !this.cancelled && code !== "ETIMEDOUT") {
            this.reject(Object.assign(new Error(`Error reading response as text: ${err.message}`), { code: "PARSE_ERROR" }));
        }
        else
            this.reject(this.cancelled ?? err);
    }
}
class Transport {
    timeoutMs;
    signal;
    connection;
    /** Connected (or connectable) clients with no request on them, the most recently used last. */
    idle = [];
    clients = 0;
    /** Closed: connections are closed as their requests finish, not kept. */
    closing = false;
    /** Requests waiting for a connection (only when more are in flight than MAX_CONNECTIONS). */
    queue = [];
    /**
     * Requests in flight, each at its `slot` (removed by moving the last into its place). Not a Set: its
     * table, reallocated as it grows and shrinks and held by this long-lived object, made the collector
     * keep finished requests' objects through scavenges (measured: 230 MB promoted to the old generation
     * per 80,000 one-entity writes with a Set, 50 MB with this array).
     */
    inFlight = [];
    sweeper;
    settled = (x) => {
        const i = x.slot;
        if (i >= 0) {
            const last = this.inFlight.pop();
            if (last !== x) {
                this.inFlight[i] = last;
                last.slot = i;
            }
            x.slot = -1;
        }
        if (x.client)
            this.release(x.client);
        if (this.inFlight.length === 0 && this.sweeper) {
            clearInterval(this.sweeper);
            this.sweeper = undefined;
        }
    };
    url;
    tlsSessions = {};
    constructor(origin, timeoutMs, signal, 
    /** How connections are made (a proxy to tunnel through; tests: certificates to trust). */
    connection = {}) {
        this.timeoutMs = timeoutMs;
        this.signal = signal;
        this.connection = connection;
        this.url = new URL(origin);
        // One listener for the run, not one per request: cancelling aborts every request in flight.
        signal?.addEventListener("abort", () => {
            this.cancelWhere(() => true, () => abortError(signal));
        }, { once: true });
    }
    request(path, method, headers, body, onStart, successHeaders = true) {
        return new Promise((resolve, reject) => {
            const x = new Exchange(performance.now() + this.timeoutMs, resolve, reject, onStart, this.settled, successHeaders);
            x.slot = this.inFlight.length;
            this.inFlight.push(x);
            this.sweeper ??= this.startSweeper();
            if (this.signal?.aborted)
                x.cancel(abortError(this.signal));
            const opts = { path, method, headers, body };
            const client = this.idle.pop() ?? this.connect();
            if (client)
                this.send(client, opts, x);
            else
                this.queue.push({ opts, x });
        });
    }
    /** Requests sent and not yet settled. */
    get pending() {
        return this.inFlight.length;
    }
    /** Close every connection; requests in flight finish first. */
    close() {
        this.closing = true;
        for (const c of this.idle)
            c.close();
        this.idle.length = 0;
        return Promise.resolve();
    }
    send(client, opts, x) {
        x.client = client;
        client.dispatch(opts, x);
    }
    /** A new connection, unless there are MAX_CONNECTIONS already. */
    connect() {
        if (this.clients >= MAX_CONNECTIONS)
            return undefined;
        this.clients++;
        return new H1Connection(this.url, KEEP_ALIVE_MS, this.tlsSessions, this.connection);
    }
    release(client) {
        if (this.closing && this.queue.length === 0)
            client.close();
        if (client.closed) {
            // Never handed out again (a dropped connection reconnects by itself on its next request; a closed
            // one is not used again).
            this.clients--;
            const next = this.queue.shift();
            if (next) {
                const fresh = this.connect();
                if (fresh)
                    this.send(fresh, next.opts, next.x);
                else
                    this.queue.unshift(next);
            }
            return;
        }
        const next = this.queue.shift();
        if (next)
            this.send(client, next.opts, next.x);
        else
            this.idle.push(client);
    }
    /**
     * Cancel the requests in flight that `which` picks. From the last to the first: a cancelled request may
     * settle at once, and the last one then takes its place (already visited).
     */
    cancelWhere(which, err) {
        for (let i = this.inFlight.length - 1; i >= 0; i--) {
            const x = this.inFlight[i];
            if (x && which(x))
                x.cancel(err());
        }
    }
    /** Time out the requests past their deadline, a few times per time-out period. */
    startSweeper() {
        const every = Math.min(1_000, Math.max(10, this.timeoutMs / 4));
        const timer = setInterval(() => {
            const now = performance.now();
            this.cancelWhere((x) => x.deadline <= now, timeoutError);
        }, every);
        timer.unref?.();
        return timer;
    }
}
function abortError(signal) {
    const reason = signal.reason;
    return reason instanceof Error
        ? reason
        : Object.assign(new Error("The operation was aborted."), { name: "AbortError" });
}

;// CONCATENATED MODULE: ./src/engine/wire/http.ts
// Raw requests over a keep-alive connection pool (transport.ts, h1.ts), signed by us (auth.ts), with our
// own retry rules.
//
// The SDK's retry policy does not retry a 429 without a retry header and gives up after 3 tries; a
// migration that runs unattended for hours needs to wait out throttling and transient faults, yet
// fail in bounded time when a host is simply unreachable. Its per-request pipeline also cost more CPU
// than a one-entity write itself: a table with one entity per partition sends one request per entity.


const DEFAULT_RETRY = {
    maxRetries: 12,
    maxNetworkRetries: 5,
    baseDelayMs: 500,
    maxDelayMs: 30_000,
    requestTimeoutMs: 120_000,
};
/** A failure that no retry could get past: the host never answered properly. */
class NetworkError extends Error {
    code;
    constructor(message, code) {
        super(message);
        this.code = code;
    }
}
const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const DNS_CODES = new Set(["ENOTFOUND", "EAI_AGAIN"]);
function isRetryableStatus(status) {
    return RETRYABLE_STATUS.has(status);
}
/** The delay a response asks for, in ms: `x-ms-retry-after-ms`, `retry-after-ms`, or `Retry-After`. */
function retryAfterMs(headers, now = Date.now()) {
    for (const name of ["x-ms-retry-after-ms", "retry-after-ms"]) {
        const v = headers[name];
        if (v !== undefined && v.trim() !== "" && Number.isFinite(Number(v)))
            return Math.max(0, Number(v));
    }
    const ra = headers["retry-after"];
    if (ra !== undefined && ra.trim() !== "") {
        if (Number.isFinite(Number(ra)))
            return Math.max(0, Number(ra) * 1000);
        const at = Date.parse(ra);
        if (Number.isFinite(at))
            return Math.max(0, at - now);
    }
    return undefined;
}
function backoffMs(attempt, opts) {
    const exp = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** attempt);
    return Math.round(exp / 2 + (Math.random() * exp) / 2);
}
function sleep(ms, signal) {
    return new Promise((resolve) => {
        if (signal?.aborted)
            return resolve();
        const timer = setTimeout(done, ms);
        function done() {
            clearTimeout(timer);
            signal?.removeEventListener("abort", done);
            resolve();
        }
        signal?.addEventListener("abort", done, { once: true });
    });
}
const CREDENTIAL_ERRORS = new Set([
    "CredentialUnavailableError",
    "AuthenticationError",
    "AggregateAuthenticationError",
]);
function isCredentialError(err) {
    return err instanceof Error && CREDENTIAL_ERRORS.has(err.name);
}
/** Connection-level failures worth another try; anything else thrown before a response is deterministic. */
const NETWORK_CODES = new Set([
    "ECONNRESET",
    "ECONNREFUSED",
    "ECONNABORTED",
    "ETIMEDOUT",
    "EPIPE",
    "EHOSTUNREACH",
    "ENETUNREACH",
    "ENOTFOUND",
    "EAI_AGAIN",
    // A proxy that could not reach the service, or cut its answer to CONNECT (proxy.ts).
    "EPROXY",
    // An answer cut off mid-stream or malformed (h1.ts): the connection failed, not the request.
    "PARSE_ERROR",
]);
function errorCode(err) {
    const e = err;
    if (typeof e?.cause?.code === "string")
        return e.cause.code;
    if (typeof e?.code === "string")
        return e.code;
    if (e?.name === "AbortError")
        return "ETIMEDOUT";
    return undefined;
}
/** The failure in words: its message's first line. */
function errorText(err) {
    return (err instanceof Error ? err.message : String(err)).split("\n")[0].trim();
}
/** Whether a successful answer arrived whole (a failed one is judged by its status alone). */
function isComplete(spec, res) {
    return res.status >= 300 || !spec.isComplete || spec.isComplete(res);
}
function isNetworkError(code) {
    return code !== undefined && NETWORK_CODES.has(code);
}
class TableHttp {
    retry;
    signal;
    url;
    kind;
    /** "source" or "destination", for messages. */
    label;
    stats = { requests: 0, throttled: 0, retries: 0 };
    /** Told of every 429 and its retry-after hint in ms (undefined: none), e.g. by a run's flow control. */
    onThrottle;
    /**
     * Told when the service says it is overloaded in another way: 503 (Table Storage's "server busy"), a
     * 500 time-out, a request that timed out or a dropped connection. The flow control backs off.
     */
    onBusy;
    signer;
    transport;
    origin;
    https;
    /** The proxy requests go through, for messages (its host only: never its credentials). */
    proxyHost;
    constructor(info, retry = DEFAULT_RETRY, signal) {
        this.retry = retry;
        this.signal = signal;
        this.url = info.url;
        this.kind = info.kind;
        // Every request in flight (and every back-off) listens to the run's signal: with many requests in
        // flight, Node would warn of a listener leak that is none.
        if (signal)
            (0,external_node_events_namespaceObject.setMaxListeners)(0, signal);
        this.label = info.label ?? "table service";
        this.signer = info.signer;
        const url = new URL(info.url);
        this.origin = url.origin;
        this.https = url.protocol === "https:";
        this.proxyHost = info.proxy?.host;
        this.transport = new Transport(this.origin, retry.requestTimeoutMs, signal, { proxy: info.proxy });
    }
    /** Close the pool's idle connections (a finished run); requests in flight finish first. */
    close() {
        return this.transport.close();
    }
    send(spec) {
        // The usual answer — the first, complete and not to be retried — settles without another async step
        // (one request per entity: each step is paid for every entity).
        return this.once(spec).then((res) => {
            if (res.status === 401)
                this.signer.refresh?.();
            const complete = isComplete(spec, res);
            return complete && !isRetryableStatus(res.status) && !this.signal?.aborted
                ? res
                : this.retried(spec, { res, complete });
        }, (err) => this.retried(spec, { failure: err }));
    }
    /** The retry loop, from the first attempt's answer (and whether it was complete) or failure on. */
    async retried(spec, first) {
        let attempt = 0;
        let networkAttempt = 0;
        for (let again = false;; again = true) {
            let res = first.res;
            let failure = first.failure;
            let complete = first.complete;
            if (again) {
                res = failure = complete = undefined;
                try {
                    res = await this.once(spec);
                    if (res.status === 401)
                        this.signer.refresh?.();
                }
                catch (err) {
                    failure = err;
                }
            }
            if (this.signal?.aborted)
                throw new NetworkError("the run was cancelled", "ABORTED");
            if (res) {
                complete ??= isComplete(spec, res);
                // The usual answer, settled without looking for retry hints.
                if (complete && !isRetryableStatus(res.status))
                    return res;
                const hinted = retryAfterMs(res.headers);
                if (res.status === 429) {
                    this.stats.throttled++;
                    if (spec.stats)
                        spec.stats.throttled++;
                    this.onThrottle?.(hinted);
                }
                else if (res.status === 503 || res.status === 500)
                    this.onBusy?.();
                if (attempt >= this.retry.maxRetries)
                    return res;
                const delay = hinted ?? backoffMs(attempt, this.retry);
                attempt++;
                this.stats.retries++;
                if (spec.stats)
                    spec.stats.retries++;
                await Promise.all([
                    sleep(Math.min(delay, this.retry.maxDelayMs * 2), this.signal),
                    spec.beforeRetry?.(),
                ]);
                continue;
            }
            if (isCredentialError(failure)) {
                // Signing in failed: retrying will not help, and the user needs one clear sentence.
                const first = (failure instanceof Error ? failure.message : String(failure)).split("\n")[0].trim();
                throw new NetworkError(`Signing in with Entra ID failed (${first}); check client-id/tenant-id, the federated credential or azure/login.`, "AUTHENTICATION");
            }
            const code = errorCode(failure);
            const message = errorText(failure);
            if (!isNetworkError(code))
                throw new NetworkError(message, code);
            const limit = code && DNS_CODES.has(code) ? 1 : this.retry.maxNetworkRetries;
            if (networkAttempt >= limit) {
                const host = new URL(this.url).host;
                const via = this.proxyHost ? ` through the proxy ${this.proxyHost} (HTTPS_PROXY, NO_PROXY)` : "";
                throw new NetworkError(`Could not reach the ${this.label} at ${host} after ${networkAttempt + 1} tries (${code ?? "network error"}: ${message}); check the endpoint and that this runner can reach it${via}.`, code);
            }
            networkAttempt++;
            if (code === "ECONNRESET" || code === "ETIMEDOUT")
                this.onBusy?.();
            this.stats.retries++;
            if (spec.stats)
                spec.stats.retries++;
            await sleep(backoffMs(networkAttempt, this.retry), this.signal);
        }
    }
    /** One attempt (a rejected promise, never a throw, for whatever fails before it is sent). */
    once(spec) {
        try {
            return this.attempt(spec);
        }
        catch (err) {
            return Promise.reject(err);
        }
    }
    attempt(spec) {
        if (this.signal?.aborted)
            throw new NetworkError("the run was cancelled", "ABORTED");
        this.stats.requests++;
        if (spec.stats)
            spec.stats.requests++;
        const headers = {
            dataserviceversion: "3.0",
            maxdataserviceversion: "3.0;NetFx",
            "x-ms-version": "2019-02-02",
            "user-agent": USER_AGENT,
        };
        if (spec.headers)
            for (const k in spec.headers)
                headers[k.toLowerCase()] = spec.headers[k];
        let method = spec.method;
        // Cosmos DB for Table refuses PATCH and does not know MERGE as a verb: the SDKs tunnel it.
        if (method === "MERGE" && this.kind === "cosmos") {
            method = "POST";
            headers["x-http-method"] = "MERGE";
        }
        const signed = this.signer.sign(spec.url.slice(this.origin.length), headers, this.https);
        // The same UTF-8 bytes Node would send for a string, encoded in one step.
        const body = typeof spec.body === "string" ? Buffer.from(spec.body, "utf8") : spec.body;
        const go = (path) => this.transport.request(path, method, headers, body, spec.onHeaders, spec.successHeaders);
        // A token being fetched is the only wait before sending.
        return typeof signed === "string" ? go(signed) : signed.then(go);
    }
}
const USER_AGENT = `azure-table-sync (Node.js ${process.version})`;
/** The service's error message from an OData JSON or XML error body, without request ids. */
function serviceMessage(res) {
    const body = res.body ?? "";
    try {
        const parsed = JSON.parse(body);
        const err = parsed["odata.error"];
        if (err)
            return { code: err.code, message: cleanMessage(err.message?.value ?? err.code ?? "") };
    }
    catch {
        /* not JSON */
    }
    const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1] ?? res.headers["x-ms-error-code"];
    const msg = /<Message>([^<]*)<\/Message>/.exec(body)?.[1];
    return { code, message: cleanMessage(msg ?? code ?? `HTTP ${res.status}`) };
}
function cleanMessage(s) {
    // Table Storage ends a message with "RequestId:…\nTime:…", Cosmos with "RequestID:…" (and sometimes
    // "ActivityId: …"): neither helps the user.
    return s
        .replace(/\s*(RequestId:|ActivityId:)[\s\S]*$/i, "")
        .replace(/\s+/g, " ")
        .trim();
}

;// CONCATENATED MODULE: ./src/engine/wire/errors.ts
// Errors the engine reports per table. Their messages are written for the user: one sentence, no stack.

class ServiceError extends Error {
    status;
    code;
    constructor(message, status, code) {
        super(message);
        this.status = status;
        this.code = code;
    }
    /** `side` ("source"/"destination") lets a refusal say whose credential was rejected. */
    static from(res, what, side) {
        const { code, message } = serviceMessage(res);
        if (res.status === 403 || res.status === 401) {
            const whose = side ? `the key, SAS or identity for the ${side} account` : "the key, SAS or identity";
            return new ServiceError(`${what} was refused (HTTP ${res.status}${code ? ` ${code}` : ""}): ${whose} was rejected or lacks permission; check the connection string or the role assignment (it can take up to 30 minutes to apply).`, res.status, code);
        }
        return new ServiceError(`${what} failed (HTTP ${res.status}${code ? ` ${code}` : ""}): ${message}`, res.status, code);
    }
}
class TableMissingError extends ServiceError {
}
/** The sentence a table error reports: the message our errors are written as, or the thrown value. */
function describeError(err) {
    return err instanceof Error ? err.message : String(err);
}

;// CONCATENATED MODULE: ./src/engine/copy/reader.ts




function tableUrl(http, table) {
    return `${http.url}/${table}`;
}
class TableReader {
    http;
    table;
    opts;
    /** The source server's clock when the scan began (the first response's `Date` header). */
    serverClock;
    /** The source server's clock at the latest response. */
    lastServerClock;
    pagesRead = 0;
    /** This reader's requests, 429s and retries. */
    httpStats;
    constructor(http, table, opts = {}) {
        this.http = http;
        this.table = table;
        this.opts = opts;
        this.httpStats = opts.stats ?? { requests: 0, throttled: 0, retries: 0 };
    }
    /** One page alone, from `from` (default: where the read starts); nothing fetched ahead. */
    page(from = this.opts.continuation) {
        return this.fetch(from);
    }
    /**
     * One page. `onNext` hears, once, where the next page starts as soon as the first successful answer's
     * headers say so (undefined: this is the last page), before its body has arrived; the page itself
     * (after any retry) has the final word.
     */
    async fetch(continuation, onNext) {
        const params = new URLSearchParams();
        if (this.opts.filter)
            params.set("$filter", this.opts.filter);
        if (this.opts.select?.length)
            params.set("$select", this.opts.select.join(","));
        if (this.opts.top !== undefined)
            params.set("$top", String(this.opts.top));
        if (continuation) {
            params.set("NextPartitionKey", continuation.nextPartitionKey);
            if (continuation.nextRowKey !== undefined)
                params.set("NextRowKey", continuation.nextRowKey);
        }
        const qs = params.toString().replace(/\+/g, "%20");
        let entities;
        const res = await this.http.send({
            method: "GET",
            url: `${tableUrl(this.http, this.table)}()${qs ? `?${qs}` : ""}`,
            headers: { Accept: "application/json;odata=minimalmetadata" },
            stats: this.httpStats,
            onHeaders: (status, headers) => {
                if (status !== 200 || !onNext)
                    return;
                onNext(continuationOf(headers));
                onNext = undefined;
            },
            // A body cut short by the network is retried rather than taken as the end of the table.
            isComplete: (r) => {
                try {
                    entities = this.opts.forCopy ? readCopyPage(r.body) : readEntityPage(r.body);
                    return true;
                }
                catch {
                    return false;
                }
            },
        });
        if (res.status === 404) {
            throw new TableMissingError(`Table ${this.table} does not exist on the source.`, 404, "TableNotFound");
        }
        if (res.status === 400 && this.opts.filter) {
            const { code, message } = serviceMessage(res);
            throw new ServiceError(`The ${this.http.label} rejected the filter "${this.opts.filter}" for table ${this.table} (HTTP 400${code ? ` ${code}` : ""}: ${message}); check the 'query-filter' input, which is ANDed with the watermark filter.`, 400, code);
        }
        if (res.status >= 300)
            throw ServiceError.from(res, `Reading table ${this.table}`, this.http.label);
        if (entities === undefined)
            throw new ServiceError(`Reading table ${this.table}: the response was incomplete.`, res.status);
        const date = Date.parse(res.headers["date"] ?? "");
        if (Number.isFinite(date)) {
            this.serverClock ??= new Date(date);
            this.lastServerClock = new Date(date);
        }
        return { entities, continuation: continuationOf(res.headers) };
    }
    /**
     * Pages in order; an empty page with a continuation is followed, not taken as the end. Up to `readAhead`
     * pages (default 2) are fetched ahead of the consumer, so a slow page or a burst of writes does not
     * leave the destination waiting for the source.
     *
     * Each page names where the next starts, so a scan is a chain of requests. To keep the chain short, the
     * next page is asked for as soon as a page's headers arrive (they carry the continuation), while its
     * body is still downloading and being parsed: the service works on the next page meanwhile. Such an
     * early request stands only if the page, once complete (after any retry), names the same continuation;
     * otherwise it and everything asked for after it are dropped and the right page is asked for, so a
     * retried page that ends elsewhere can never skip or repeat entities.
     */
    async *pages() {
        const depth = Math.max(1, this.opts.readAhead ?? 2);
        // The pages asked for and not yet taken by the consumer, in order.
        const chain = [];
        // Where the chain goes on when it is empty: the last page taken said so (or the resume point).
        let resumeFrom = this.opts.continuation;
        let ended = false;
        let failed = false;
        const start = (from) => {
            const f = { from, page: undefined };
            f.page = this.fetch(from, (next) => {
                f.next = next ?? null;
                fill();
            });
            f.page.then((page) => {
                f.final = page.continuation ?? null;
                const i = chain.indexOf(f);
                const after = chain[i + 1];
                // Pages asked for early on headers this complete page contradicts: dropped, with all after them.
                if (i >= 0 && after && (f.final === null || !sameContinuation(after.from, f.final)))
                    chain.length = i + 1;
                fill();
            }, () => {
                // The consumer meets the failure when it takes this page; nothing after it is kept or fetched.
                const i = chain.indexOf(f);
                if (i >= 0) {
                    chain.length = i + 1;
                    failed = true;
                }
            });
            return f;
        };
        const fill = () => {
            while (!failed && chain.length < depth) {
                const last = chain.at(-1);
                let from;
                if (!last) {
                    if (ended)
                        return;
                    from = resumeFrom;
                }
                else if (last.final !== undefined) {
                    if (last.final === null)
                        return;
                    from = last.final;
                }
                else if (last.next)
                    from = last.next;
                else
                    return; // its headers have not arrived yet, or they say it is the last page
                chain.push(start(from));
            }
        };
        fill();
        while (chain.length > 0) {
            const page = await chain[0].page;
            chain.shift();
            if (chain.length === 0) {
                resumeFrom = page.continuation;
                ended = !page.continuation;
            }
            this.pagesRead++;
            fill();
            yield page;
        }
    }
}
function storedContinuation(c) {
    if (c.ranged)
        return { rangedFrom: c.nextPartitionKey };
    return c.nextRowKey === undefined
        ? { nextPartitionKey: c.nextPartitionKey }
        : { nextPartitionKey: c.nextPartitionKey, nextRowKey: c.nextRowKey };
}
function continuationFrom(s) {
    return "rangedFrom" in s ? { nextPartitionKey: s.rangedFrom, ranged: true } : { ...s };
}
/** Where the next page starts, from a query answer's headers; undefined on the last page. */
function continuationOf(headers) {
    const npk = headers["x-ms-continuation-nextpartitionkey"];
    const nrk = headers["x-ms-continuation-nextrowkey"];
    // Either header means there is more. Azurite leaves out the partition key header when the next
    // partition key is the empty string, and only the row key header says the table goes on.
    if (npk === undefined && nrk === undefined)
        return undefined;
    return { nextPartitionKey: npk ?? "", nextRowKey: nrk };
}
function sameContinuation(a, b) {
    return a?.nextPartitionKey === b?.nextPartitionKey && a?.nextRowKey === b?.nextRowKey;
}

;// CONCATENATED MODULE: ./src/engine/copy/pacing.ts
// The two measures the flow control (rate.ts) keeps: when the next send may start at a given rate, and
// how many entities completed over the last second.
/** Window of throughput measurement, ms. */
const METER_MS = 1_000;
/**
 * Paces sends at `rate` per second (generic cell rate): a send of `n` may start when the previous
 * sends' time is used up; `burst` seconds of unused time may be saved.
 */
class Pacer {
    burstMs;
    /** When the sends so far are paid for (ms). */
    tat = -Infinity;
    constructor(burstMs) {
        this.burstMs = burstMs;
    }
    /** Ms until `n` may be sent at `rate` (0: now). */
    wait(now, rate) {
        if (!Number.isFinite(rate))
            return 0;
        return Math.max(0, this.tat - now);
    }
    commit(now, n, rate) {
        if (!Number.isFinite(rate))
            return;
        this.tat = Math.max(this.tat, now - this.burstMs) + (n / rate) * 1000;
    }
}
/**
 * Entities completed over the last METER_MS: a queue with a moving head and a running sum, so each
 * completion costs O(1) (a copy completes thousands of requests a second).
 */
class Meter {
    at = [];
    n = [];
    head = 0;
    sum = 0;
    push(at, n) {
        this.at.push(at);
        this.n.push(n);
        this.sum += n;
    }
    trim(now) {
        while (this.head < this.at.length && now - this.at[this.head] > METER_MS)
            this.sum -= this.n[this.head++];
        if (this.head > 1024 && this.head * 2 > this.at.length) {
            this.at = this.at.slice(this.head);
            this.n = this.n.slice(this.head);
            this.head = 0;
        }
    }
    /** Entities completed over the last whole METER_MS, per second (0 when none). */
    perSecond() {
        return this.head >= this.at.length ? 0 : (this.sum / METER_MS) * 1000;
    }
    /** Entities per second over the window (or since the first, if sooner); 0 when none. */
    rate(now) {
        if (this.head >= this.at.length)
            return 0;
        const span = Math.max(100, Math.min(METER_MS, now - this.at[this.head]));
        return (this.sum / span) * 1000;
    }
}

;// CONCATENATED MODULE: ./src/engine/copy/rate.ts
// Flow control shared by every writer of one run (one per destination): a hard cap on entities per
// second, and an adaptive limit that backs off when the destination throttles (HTTP 429) and climbs
// again while it does not.
//
// Two adaptive limits work together:
// - a window of requests in flight (window.ts): `auto` grows it while that helps, a number caps it;
//   halved when the service is busy (503, 500, dropped connections); and the bytes in flight are bounded
//   whatever the window, so memory stays flat on any table shape;
// - a send rate in entities per second: unlimited until the first 429, then seeded from what was
//   accepted over the last second, multiplied by DECREASE on every throttling episode; between episodes
//   it climbs quickly back to just below the rate that was refused, then probes above it, slowly at first
//   and faster the longer no 429 comes (a fixed budget is met rarely, a raised one found soon). A window
//   alone cannot hold a budget that a single transaction in flight already exceeds; the rate can.
// A 429 counts once per episode (a burst of 429s from the transactions in flight lowers the limits
// once), and it pauses every new send and every retry until the service's retry-after hint has passed.
// A refused request gives its slot back and queues for one like a new send, so requests refused together
// do not all come back together.


const systemClock = {
    now: () => performance.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};
/**
 * Request bodies in flight at most: 32 MiB is 300 full transactions or 20,000 one-entity requests, far
 * more than any link needs, and keeps a copy's memory flat.
 */
const MAX_BYTES_IN_FLIGHT = 32 * 1024 * 1024;
/**
 * Operations in flight at most: 4,096 is 20,000 entities/s (Table Storage's account limit) over a 200 ms
 * round trip. More only queues at the service while costing us memory and CPU: a shuffled table of a
 * hundred per partition, its window grown by early requests of five, had 256 transactions of
 * a hundred in flight, answered after 220 ms instead of 20 (CPU 47 µs an entity against 40).
 */
const MAX_OPS_IN_FLIGHT = 4_096;
/** Two 429s closer than this (or the hint they carry) belong to one episode. */
const EPISODE_MS = 150;
/** No increase until this long after the last 429. */
const HOLD_MS = 500;
/** An episode this soon after the previous one means the last decrease was not enough. */
const PHASE_MS = 1_000;
/** After a decrease the rate climbs back to this share of the rate that was refused, */
const NEAR_CEILING = 0.92;
/** closing the gap by 1 − 1/e every this many seconds, */
const CLIMB_SECONDS = 2;
/** then probes above it, the step growing by its own size every this many quiet seconds. */
const PROBE_DOUBLING_SECONDS = 8;
class FlowControl {
    clock;
    win;
    maxBytes;
    bytesInFlight = 0;
    opsInFlight = 0;
    cap;
    decrease;
    increase;
    defaultPauseMs;
    capPacer = new Pacer(0);
    ratePacer = new Pacer(50);
    inFlight = 0;
    rate = Infinity;
    /** The rate set at the last decrease: the additive step is a share of it. */
    base = 0;
    /** The rate the last throttling episode met. */
    ceiling = 0;
    /** Seconds spent probing above NEAR_CEILING since the last episode. */
    probing = 0;
    /** Throttled for the first time: no sends until what is in flight has settled, which seeds the rate. */
    seedPending = false;
    pausedUntil = -Infinity;
    lastThrottle = -Infinity;
    episodeUntil = -Infinity;
    busyUntil = -Infinity;
    /** Episodes in a row, each starting within PHASE_MS of the one before. */
    streak = 0;
    lastEpisode = -Infinity;
    lastGrow = 0;
    windowGrownAt = 0;
    /** Completed entities with their times, for the throughput meter. */
    done = new Meter();
    waiters = [];
    stats;
    constructor(opts) {
        this.clock = opts.clock ?? systemClock;
        this.win = new AdaptiveWindow(opts.concurrency);
        this.maxBytes = opts.maxBytesInFlight ?? MAX_BYTES_IN_FLIGHT;
        this.cap = opts.maxEntitiesPerSecond;
        this.decrease = opts.decrease ?? 0.85;
        this.increase = opts.increase ?? 0.015;
        this.defaultPauseMs = opts.defaultPauseMs ?? 200;
        this.stats = { throttled: 0, busy: 0, decreases: 0, rate: Infinity, window: this.win.size };
    }
    /**
     * Wait for room for a request of `n` operations and `bytes` of body; pair with `release(bytes, start)`,
     * where `start` is what this returns (when the request went out, for the window's latency).
     */
    async acquire(n, bytes = 0) {
        const now = this.tryAcquire(n, bytes);
        if (now !== undefined)
            return now;
        while (!this.fits(bytes, n)) {
            if (this.inFlight >= this.win.size)
                this.win.markLimited();
            else if (!this.seedPending && this.opsInFlight + n > MAX_OPS_IN_FLIGHT) {
                // The operations, not the window, held it back (as every transaction of 100 does past 40): that
                // many is the window. Not the bytes: large entities pass, and the window must still hold the
                // small ones after them.
                this.win.capped(this.inFlight);
                this.syncStats();
            }
            await new Promise((resolve) => this.waiters.push(resolve));
        }
        this.inFlight++;
        this.bytesInFlight += bytes;
        this.opsInFlight += n;
        try {
            await this.pace(n);
        }
        catch (err) {
            this.release(bytes, undefined, n);
            throw err;
        }
        return this.clock.now();
    }
    /**
     * `acquire` without waiting: the start time when the request may go now, undefined when it must wait
     * (then call `acquire`). Most requests need not wait, and a copy sends one per entity of a table with
     * one entity per partition: no promise for them.
     */
    tryAcquire(n, bytes = 0) {
        if (this.waiters.length > 0 || !this.fits(bytes, n))
            return undefined;
        const now = this.clock.now();
        if (this.paceWait(now) > 0)
            return undefined;
        this.inFlight++;
        this.bytesInFlight += bytes;
        this.opsInFlight += n;
        this.commitPace(now, n);
        return now;
    }
    /**
     * Requests that could go now without waiting: 0 while anything (the window, the bytes in flight, a
     * pause or the pace) would make one wait. For work that may go now or later (an unsorted source's
     * partial transactions), sent only into room nobody else needs.
     */
    room() {
        if (this.waiters.length > 0 || !this.fits(0, 1) || this.paceWait(this.clock.now()) > 0)
            return 0;
        return this.win.size - this.inFlight;
    }
    /** Work that could go was left for want of room: the window is what limits (it may grow). */
    markLimited() {
        this.win.markLimited();
    }
    fits(bytes, ops) {
        if (this.inFlight >= this.win.size)
            return false;
        if (this.seedPending && this.inFlight > 0)
            return false;
        // One request always fits, however large: a transaction is at most 4 MiB.
        if (this.inFlight === 0)
            return true;
        return this.bytesInFlight + bytes <= this.maxBytes && this.opsInFlight + ops <= MAX_OPS_IN_FLIGHT;
    }
    /**
     * Before resending a throttled transaction of `n` operations: its slot goes back and is taken again
     * under the window as it is now, after the pause and the rate. Requests refused together would
     * otherwise all come back together into a budget that just refused them (a first burst of 16
     * transactions met by a token bucket's credit for 5 was refused 20 times over). Its bytes stay counted.
     */
    async retry(n) {
        this.release(0, undefined, n);
        try {
            await this.acquire(n);
        }
        catch (err) {
            // The caller still releases this request's slot and its operations.
            this.inFlight++;
            this.opsInFlight += n;
            throw err;
        }
    }
    /**
     * A request of `ops` operations acquired earlier is done (whatever its outcome); `start` is what
     * `acquire` returned.
     */
    release(bytes = 0, start, ops = 0) {
        this.inFlight--;
        this.bytesInFlight -= bytes;
        this.opsInFlight -= ops;
        if (this.seedPending && this.inFlight === 0)
            this.seed();
        if (start !== undefined) {
            const now = this.clock.now();
            if (this.win.completed(now - start, now, Math.max(1, ops)))
                this.syncStats();
        }
        this.wake();
    }
    /** The service is overloaded (503, 500, a time-out, a dropped connection): fewer in flight, once per episode. */
    busy() {
        const now = this.clock.now();
        this.stats.busy++;
        if (now < this.busyUntil)
            return;
        this.busyUntil = now + 1_000;
        this.win.decrease(now);
        this.windowGrownAt = now;
        this.syncStats();
    }
    /** Operations the destination accepted (for the throughput meter). */
    completed(n) {
        const now = this.clock.now();
        this.done.push(now, n);
        this.trim(now);
        this.grow(now);
    }
    /** The destination answered 429; `hintMs` is its retry-after hint, if it gave one. */
    throttled(hintMs) {
        const now = this.clock.now();
        this.stats.throttled++;
        const pause = hintMs ?? this.defaultPauseMs;
        this.pausedUntil = Math.max(this.pausedUntil, now + pause);
        this.lastThrottle = now;
        if (now < this.episodeUntil)
            return;
        // A new episode: lower both limits once.
        this.episodeUntil = now + Math.max(EPISODE_MS, pause);
        this.streak = now - this.lastEpisode < PHASE_MS ? this.streak + 1 : 1;
        this.lastEpisode = now;
        this.stats.decreases++;
        this.trim(now);
        if (!Number.isFinite(this.rate))
            this.seed();
        else {
            // The rate that met the push-back: the next climb returns quickly to just below it, then probes.
            this.ceiling = this.rate;
            let rate = this.rate * this.decrease ** Math.min(this.streak, 2);
            // Throttled again right after a decrease: that one was not enough; what the service accepted over
            // the last second is, under steady push-back, its budget.
            const accepted = this.done.perSecond();
            if (this.streak > 1 && accepted > 0)
                rate = Math.min(rate, accepted);
            this.setRate(rate);
        }
        // The window stays: the rate spaces the sends, and a halved window would take many rounds to regrow
        // on a table with one entity per partition, where a long link needs hundreds in flight.
        this.lastGrow = now;
        this.syncStats();
    }
    /**
     * The first episode seeds the rate from what was accepted over the last whole second: a token bucket's
     * starting credit (Cosmos DB grants about one second of it) inflates a shorter measure many times over.
     * Refusals come back at once while the accepted requests are still being written, so nothing more is
     * sent until every request in flight has settled (one round trip, once); then the second is measured.
     */
    seed() {
        const accepted = this.done.perSecond();
        this.seedPending = accepted === 0 || this.inFlight > 0;
        if (this.seedPending)
            return;
        this.ceiling = accepted;
        this.setRate(accepted * this.decrease);
    }
    setRate(rate) {
        this.rate = Math.max(1, rate);
        this.base = this.rate;
        this.probing = 0;
        this.syncStats();
    }
    async pace(n) {
        for (;;) {
            const now = this.clock.now();
            const wait = this.paceWait(now);
            if (wait <= 0) {
                this.commitPace(now, n);
                return;
            }
            await this.clock.sleep(Math.ceil(wait));
        }
    }
    /** Ms until a send may start (a pause after a 429, the cap, the adaptive rate); 0: now. */
    paceWait(now) {
        this.grow(now);
        return Math.max(this.pausedUntil - now, this.cap === undefined ? 0 : this.capPacer.wait(now, this.cap), this.ratePacer.wait(now, this.rate));
    }
    commitPace(now, n) {
        if (this.cap !== undefined)
            this.capPacer.commit(now, n, this.cap);
        this.ratePacer.commit(now, n, this.rate);
    }
    /** Additive increase while no 429 comes. */
    grow(now) {
        if (now - this.lastThrottle < HOLD_MS) {
            this.lastGrow = now;
            return;
        }
        const dt = (now - this.lastGrow) / 1000;
        this.lastGrow = now;
        if (Number.isFinite(this.rate) && dt > 0) {
            const near = this.ceiling * NEAR_CEILING;
            if (this.rate < near) {
                // Back quickly to just below the rate that was refused: most of the gap within a few seconds.
                const step = Math.max((near - this.rate) * (1 - Math.exp(-dt / CLIMB_SECONDS)), this.base * this.increase * dt);
                this.rate = Math.min(near, this.rate + step);
            }
            else {
                // Then probe: slowly at first (a fixed budget refuses again only after many quiet seconds), faster
                // the longer it stays quiet (the budget may have been raised, or the first seed was too low).
                this.probing += dt;
                this.rate += this.base * this.increase * dt * (1 + this.probing / PROBE_DOUBLING_SECONDS);
            }
            // Never run far ahead of what is actually sent, or the next decrease starts from a fiction.
            const measured = this.throughput(now);
            if (measured > 0 && this.rate > measured * 2 && this.rate > this.base) {
                this.rate = Math.max(this.base, measured * 2);
            }
        }
        if (now - this.windowGrownAt >= 1000 && this.win.recover()) {
            this.windowGrownAt = now;
            this.wake();
        }
        this.syncStats();
    }
    /** Entities accepted per second over the last second (or since the first, if sooner). */
    throughput(now) {
        return this.done.rate(now);
    }
    trim(now) {
        this.done.trim(now);
    }
    wake() {
        // Everyone waiting looks again (a woken request that still does not fit waits anew): a large
        // request must not hold back small ones behind it forever, nor they it.
        if (this.waiters.length === 0 || !this.fits(0, 1))
            return;
        const woken = this.waiters.splice(0, Math.max(1, this.win.size - this.inFlight));
        for (const w of woken)
            w();
    }
    syncStats() {
        this.stats.rate = this.rate;
        this.stats.window = this.win.size;
    }
}

;// CONCATENATED MODULE: ./src/engine/copy/connect.ts
// The run's two connections and its flow control, built once from the config.



function connect(config, signal) {
    const retry = { ...DEFAULT_RETRY, ...config.retry };
    const src = createServiceClient(config.source, "source");
    const dst = createServiceClient(config.destination, "destination");
    const destination = new TableHttp(dst, retry, signal);
    const flow = config.concurrency === undefined
        ? undefined
        : new FlowControl({
            concurrency: config.concurrency,
            maxEntitiesPerSecond: config.maxEntitiesPerSecond,
        });
    if (flow) {
        destination.onThrottle = (hintMs) => flow.throttled(hintMs);
        destination.onBusy = () => flow.busy();
    }
    return {
        source: new TableHttp(src, retry, signal),
        destination,
        secrets: [...src.secrets, ...dst.secrets],
        flow,
    };
}
/** The source alone (preflight needs no destination). */
function connectSource(config, signal) {
    return new TableHttp(createServiceClient(config.source, "source"), { ...DEFAULT_RETRY, ...config.retry }, signal);
}

;// CONCATENATED MODULE: ./src/engine/wire/batch.ts
// Entity group transactions ($batch) built and read by hand, so the entity JSON inside is exactly ours.



/** Keys in an entity URL: quotes doubled (OData), then percent-encoded. */
function keyUrl(tableUrl, partitionKey, rowKey) {
    return `${tableUrl}(PartitionKey='${urlKey(partitionKey)}',RowKey='${urlKey(rowKey)}')`;
}
/** Characters a key keeps as they are in a URL (encodeURIComponent leaves them, and no quote among them). */
const PLAIN_KEY = /^[\w.~-]*$/;
function urlKey(key) {
    // The usual key (an id, a number, a GUID) needs neither: a test is cheaper than the encoding.
    return PLAIN_KEY.test(key) ? key : encodeURIComponent(key.replace(/'/g, "''"));
}
/**
 * An operation's part up to (not including) its body: MIME headers, request line, request headers and
 * the blank line. The whole part is this, then the body, then CRLF.
 */
function partHead(tableUrl, op) {
    let line;
    let headers = "Accept: application/json;odata=minimalmetadata\r\nDataServiceVersion: 3.0";
    switch (op.kind) {
        case "insert":
            line = `POST ${tableUrl} HTTP/1.1`;
            headers += "\r\nContent-Type: application/json\r\nPrefer: return-no-content";
            break;
        case "upsert-replace":
        case "update-replace":
            line = `PUT ${keyUrl(tableUrl, op.entity.partitionKey, op.entity.rowKey)} HTTP/1.1`;
            headers += "\r\nContent-Type: application/json";
            break;
        case "upsert-merge":
        case "update-merge":
            line = `MERGE ${keyUrl(tableUrl, op.entity.partitionKey, op.entity.rowKey)} HTTP/1.1`;
            headers += "\r\nContent-Type: application/json";
            break;
        case "delete":
            line = `DELETE ${keyUrl(tableUrl, op.entity.partitionKey, op.entity.rowKey)} HTTP/1.1`;
            break;
    }
    if (op.kind === "update-replace" || op.kind === "update-merge" || op.kind === "delete") {
        headers += `\r\nIf-Match: ${op.ifMatch ?? "*"}`;
    }
    return `Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n${line}\r\n${headers}\r\n\r\n`;
}
/** The operation's body: its entity JSON, computed once and kept on the operation (none for a delete). */
function partBody(op) {
    if (op.kind === "delete")
        return "";
    if (op.json === undefined) {
        // Never a body of keys alone where the entity had properties: the writer keeps the JSON of an
        // operation whose properties it let go (copy/hold.ts).
        if (hasOnlyKeys(op.entity))
            throw new Error(`internal error: the body of ${op.entity.rowKey} was dropped`);
        op.json = entityJson(op.entity);
    }
    return op.json;
}
/**
 * One operation as a plain entity request: what a transaction of one operation would do, with the same
 * body and the same If-Match rules, without the multipart framing the service must take apart.
 */
function singleRequest(tableUrl, op) {
    const headers = { Accept: "application/json;odata=minimalmetadata" };
    const json = partBody(op);
    const body = op.kind === "delete" ? undefined : Buffer.from(json, "utf8");
    if (body)
        headers["Content-Type"] = "application/json";
    if (op.kind === "update-replace" || op.kind === "update-merge" || op.kind === "delete") {
        headers["If-Match"] = op.ifMatch ?? "*";
    }
    switch (op.kind) {
        case "insert":
            headers.Prefer = "return-no-content";
            return { method: "POST", url: tableUrl, headers, body };
        case "upsert-replace":
        case "update-replace":
            return {
                method: "PUT",
                url: keyUrl(tableUrl, op.entity.partitionKey, op.entity.rowKey),
                headers,
                body,
            };
        case "upsert-merge":
        case "update-merge":
            return {
                method: "MERGE",
                url: keyUrl(tableUrl, op.entity.partitionKey, op.entity.rowKey),
                headers,
                body,
            };
        case "delete":
            return { method: "DELETE", url: keyUrl(tableUrl, op.entity.partitionKey, op.entity.rowKey), headers };
    }
}
/** One operation's part inside the changeset. `tableUrl` is absolute: `https://acct…/table`. */
function operationPart(tableUrl, op) {
    return `${partHead(tableUrl, op)}${partBody(op)}\r\n`;
}
/** Bytes an operation adds to a transaction body (its part plus the boundary line). */
function operationBytes(tableUrl, op) {
    // Counted piece by piece: the same number as measuring operationPart(), without building it. (It
    // also leaves the entity JSON flat in memory, so joining it into the batch later is a plain copy.)
    return headBytes(tableUrl, op) + Buffer.byteLength(partBody(op)) + 2 + 64;
}
/**
 * Characters encodeURIComponent leaves as they are, less the quote (keyUrl doubles it): a key of only
 * these is as long in the URL as it is.
 */
const PLAIN = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*()")
    PLAIN[c.charCodeAt(0)] = 1;
/** A key's length in an entity URL (keyUrl), without encoding it when nothing in it needs encoding. */
function keyLength(key) {
    for (let i = 0; i < key.length; i++) {
        const c = key.charCodeAt(i);
        if (c >= 128 || PLAIN[c] === 0)
            return urlKey(key).length;
    }
    return key.length;
}
/**
 * A part head's bytes with both keys empty (an operation with no If-Match), per table URL, then per kind.
 * Looked up by the URL itself: a writer passes the same string every time, whose hash V8 keeps (a key
 * joined from the kind and the URL would be a new string to build and hash per operation).
 */
const headBase = new Map();
/**
 * Byte length of partHead(tableUrl, op), mostly without building it: the keys are its only part that
 * varies between operations of a table, and they appear there percent-encoded (ASCII). Measuring the
 * part head of every operation, built again when the transaction is, was about 2 % of a transaction
 * copy's CPU.
 */
function headBytes(tableUrl, op) {
    if (op.ifMatch !== undefined)
        return Buffer.byteLength(partHead(tableUrl, op));
    let kinds = headBase.get(tableUrl);
    if (kinds === undefined) {
        if (headBase.size >= 256)
            headBase.clear();
        headBase.set(tableUrl, (kinds = new Map()));
    }
    let base = kinds.get(op.kind);
    if (base === undefined) {
        const keyless = { partitionKey: "", rowKey: "", properties: new Map() };
        base = Buffer.byteLength(partHead(tableUrl, { kind: op.kind, entity: keyless }));
        kinds.set(op.kind, base);
    }
    // An insert's request line is the table's URL alone.
    if (op.kind === "insert")
        return base;
    return base + keyLength(op.entity.partitionKey) + keyLength(op.entity.rowKey);
}
/** A transaction's body as the strings that make it up, in order. */
function batchPieces(tableUrl, ops) {
    const batch = `batch_${(0,external_node_crypto_.randomUUID)()}`;
    const changeset = `changeset_${(0,external_node_crypto_.randomUUID)()}`;
    const pieces = [`--${batch}\r\nContent-Type: multipart/mixed; boundary=${changeset}\r\n\r\n`];
    for (const op of ops)
        pieces.push(`--${changeset}\r\n`, partHead(tableUrl, op), partBody(op), "\r\n");
    pieces.push(`--${changeset}--\r\n--${batch}--\r\n`);
    return { pieces, contentType: `multipart/mixed; boundary=${batch}` };
}
function buildBatch(tableUrl, ops) {
    const { pieces, contentType } = batchPieces(tableUrl, ops);
    return { body: pieces.join(""), contentType };
}
/**
 * The transaction encoded straight into one Buffer, piece by piece. Sending a ~150 KB string costs
 * more: it is first joined into one large string and then encoded into another fresh allocation.
 */
function buildBatchBytes(tableUrl, ops) {
    const { pieces, contentType } = batchPieces(tableUrl, ops);
    const lengths = new Array(pieces.length);
    let total = 0;
    for (let i = 0; i < pieces.length; i++) {
        lengths[i] = Buffer.byteLength(pieces[i]);
        total += lengths[i];
    }
    const body = Buffer.allocUnsafe(total);
    let offset = 0;
    for (let i = 0; i < pieces.length; i++) {
        // As many bytes as characters: all ASCII, where Latin-1 and UTF-8 are the same bytes (and the
        // Latin-1 copy is much cheaper).
        offset += body.write(pieces[i], offset, lengths[i], lengths[i] === pieces[i].length ? "latin1" : "utf8");
    }
    return { body, contentType };
}
/** Read a $batch response: every changeset response part, or the one failure. */
function parseBatchResponse(body, opCount) {
    const statuses = [];
    const etags = [];
    const re = /HTTP\/1\.1 (\d{3})[^\r\n]*\r?\n([\s\S]*?)\r?\n\r?\n/g;
    const headerStarts = [];
    let m;
    while ((m = re.exec(body)) !== null) {
        headerStarts.push({ status: Number(m[1]), headers: m[2], end: re.lastIndex });
    }
    for (const h of headerStarts) {
        statuses.push(h.status);
        etags.push(/^ETag:\s*(.+)$/im.exec(h.headers)?.[1]?.trim());
    }
    const failed = headerStarts.findIndex((h) => h.status >= 300);
    if (failed < 0 && statuses.length === opCount)
        return { ok: true, statuses, etags };
    if (failed < 0) {
        return {
            ok: false,
            statuses,
            etags,
            message: `the service answered ${statuses.length} of ${opCount} operations`,
        };
    }
    const part = headerStarts[failed];
    const rest = body.slice(part.end);
    const jsonEnd = rest.search(/\r?\n--/);
    const errText = jsonEnd >= 0 ? rest.slice(0, jsonEnd) : rest;
    let code;
    let message = `HTTP ${part.status}`;
    try {
        const parsed = JSON.parse(errText);
        code = parsed["odata.error"]?.code;
        message = parsed["odata.error"]?.message?.value ?? message;
    }
    catch {
        const xmlCode = /<Code>([^<]*)<\/Code>/.exec(errText)?.[1];
        const xmlMsg = /<Message>([^<]*)<\/Message>/.exec(errText)?.[1];
        code = xmlCode;
        message = xmlMsg ?? message;
    }
    let failedIndex;
    const idx = /^(\d+):/.exec(message);
    if (idx) {
        failedIndex = Number(idx[1]);
        message = message.slice(idx[0].length);
    }
    message = cleanMessage(message);
    if (failedIndex !== undefined && (failedIndex < 0 || failedIndex >= opCount))
        failedIndex = undefined;
    return { ok: false, statuses, etags, status: part.status, code, message, failedIndex };
}

;// CONCATENATED MODULE: ./src/engine/wire/point-read.ts
// One entity read by its keys: verify's re-checks, repair's fresh copy and the post-switch guard's look at
// the destination all go through here.



/** One entity by its keys, or undefined when it does not exist (404). */
async function readEntity(http, table, key, side, stats) {
    const res = await http.send({
        method: "GET",
        url: keyUrl(`${http.url}/${table}`, key.partitionKey, key.rowKey),
        headers: { Accept: "application/json;odata=minimalmetadata" },
        stats,
    });
    if (res.status === 404)
        return undefined;
    if (res.status >= 300)
        throw ServiceError.from(res, `Reading an entity of ${side} table ${table}`, side);
    const [entity] = parseEntityPage(res.body);
    // The ETag comes in the body (odata.etag) and the header; a post-switch write matches on it.
    if (entity && !entity.etag && res.headers["etag"])
        entity.etag = res.headers["etag"];
    return entity;
}

;// CONCATENATED MODULE: ./src/engine/copy/post-switch.ts
// Backfill after the switch: the app now writes to the destination, so a straggler write that reached
// the old store must never overwrite what the app wrote since. For each entity of the window we read
// the destination first; an entity the app changed after `switched-at` (and not by one of our own
// post-switch writes) is a *conflict* and is left alone. Everything else is written with the ETag we
// read (`If-Match`), so an app write landing between our read and our write is a conflict too (412).




/** Most of our own post-switch write ids kept per table (the state must stay compact). */
const MAX_OUR_WRITES = 1000;
/** A compact id of one write of ours: the entity's keys and the ETag the destination gave it. */
function ourWriteId(partitionKey, rowKey, etag) {
    return (0,external_node_crypto_.createHash)("sha256")
        .update(`${partitionKey}\u0000${rowKey}\u0000${etag}`)
        .digest("base64url")
        .slice(0, 12);
}
/** The destination entity, or undefined when it does not exist; its requests are counted in `stats`. */
function readDestinationEntity(http, table, partitionKey, rowKey, stats) {
    return readEntity(http, table, { partitionKey, rowKey }, "destination", stats);
}
/** Decide what to do with one source entity given what the destination holds now. */
function decide(guard, mode, current, wanted) {
    if (!current)
        return { op: { kind: "insert" } };
    // Already what the source holds (e.g. re-read in the overlap window): nothing to write, no conflict.
    if (wanted && differingProperties(wanted, current).length === 0)
        return {};
    const changedAt = Date.parse(current.timestamp ?? "");
    const switchedAt = Date.parse(guard.switchedAt);
    const ours = current.etag !== undefined &&
        guard.ours.has(ourWriteId(current.partitionKey, current.rowKey, current.etag));
    // Timestamps on Cosmos have 1 s resolution: a write in the switch's own second counts as after it.
    const appChanged = Number.isFinite(changedAt) && changedAt >= Math.floor(switchedAt / 1000) * 1000 && !ours;
    if (appChanged && guard.policy === "skip") {
        return {
            conflict: `changed on the destination at ${current.timestamp}, after the switch at ${guard.switchedAt}; the source's version was not written (conflict: skip)`,
        };
    }
    if (mode === "insert")
        return { conflict: undefined, op: undefined };
    if (appChanged)
        return { op: { kind: mode === "merge" ? "upsert-merge" : "upsert-replace" } };
    return { op: { kind: mode === "merge" ? "update-merge" : "update-replace", ifMatch: current.etag ?? "*" } };
}
/** How the writer counts a refusal of a guarded write: a 409 on insert or a 412 on update is the app's doing. */
function classifyGuarded(op, status) {
    if (op.kind === "insert" && status === 409)
        return "conflict";
    if ((op.kind === "update-replace" || op.kind === "update-merge") && status === 412)
        return "conflict";
    return "failed";
}
/** The server's clock now (the `Date` of a cheap request): `switched-at` is taken on the destination's. */
async function serverClock(http, side = "destination") {
    const res = await http.send({
        method: "GET",
        url: `${http.url}/Tables?$top=1`,
        headers: { Accept: "application/json;odata=nometadata" },
    });
    const date = Date.parse(res.headers["date"] ?? "");
    if (res.status >= 300 || !Number.isFinite(date)) {
        throw ServiceError.from(res, `Reading the ${side}'s clock`);
    }
    return new Date(date);
}

;// CONCATENATED MODULE: ./src/engine/copy/result.ts
function tableSucceeded(r) {
    return !r.error && r.failed === 0;
}
function totals(results, durationMs) {
    const t = {
        tables: results.length,
        read: 0,
        written: 0,
        skipped: 0,
        failed: 0,
        conflicts: 0,
        tablesFailed: 0,
        durationMs,
    };
    for (const r of results) {
        t.read += r.read;
        t.written += r.written;
        t.skipped += r.skipped;
        t.failed += r.failed;
        t.conflicts += r.conflicts;
        if (!tableSucceeded(r))
            t.tablesFailed++;
    }
    return t;
}
function entitiesPerSecond(count, ms) {
    return ms > 0 ? Math.round((count * 1000) / ms) : 0;
}

;// CONCATENATED MODULE: ./src/engine/wire/odata.ts
// OData filter text the steps build (the watermark's `Timestamp ge`, a user's query-filter ANDed in).
/** AND two OData filters, either of which may be absent. */
function andFilters(...filters) {
    const present = filters.map((f) => f?.trim()).filter((f) => !!f);
    if (present.length === 0)
        return undefined;
    if (present.length === 1)
        return present[0];
    return present.map((f) => `(${f})`).join(" and ");
}
/** The backfill filter: `Timestamp ge datetime'…'` on the source's clock. */
function sinceFilter(since) {
    return `Timestamp ge datetime'${since.toISOString()}'`;
}

;// CONCATENATED MODULE: ./src/engine/copy/shard.ts


/** The state's name for a shard: `i/n`. */
function shardId(shard) {
    return `${shard.index}/${shard.count}`;
}
function planId(count, boundaries) {
    return (0,external_node_crypto_.createHash)("sha256")
        .update(JSON.stringify([count, boundaries]))
        .digest("base64url")
        .slice(0, 12);
}
/** The key range of shard `index` (1-based) under `plan`. */
function shardRange(plan, index) {
    const range = {};
    if (index >= 2)
        range.from = plan.boundaries[index - 2];
    if (index <= plan.boundaries.length)
        range.to = plan.boundaries[index - 1];
    return range;
}
/** An OData string literal: single quotes doubled. */
function odataString(value) {
    return `'${value.replace(/'/g, "''")}'`;
}
/** The OData filter selecting `range`, or undefined for the whole table. */
function rangeFilter(range) {
    const parts = [];
    if (range.from !== undefined)
        parts.push(`PartitionKey ge ${odataString(range.from)}`);
    if (range.to !== undefined)
        parts.push(`PartitionKey lt ${odataString(range.to)}`);
    return parts.length ? parts.join(" and ") : undefined;
}
/** Keeps every k-th item, doubling k (and halving the sample) whenever it would exceed `capacity`. */
class SystematicSample {
    capacity;
    items = [];
    step = 1;
    seen = 0;
    constructor(capacity = 4096) {
        this.capacity = capacity;
    }
    add(item) {
        if (this.seen++ % this.step !== 0)
            return;
        this.items.push(item);
        if (this.items.length > this.capacity) {
            // Keep the items at even positions: exactly every (2k)-th item of the stream.
            let w = 0;
            for (let r = 0; r < this.items.length; r += 2)
                this.items[w++] = this.items[r];
            this.items.length = w;
            this.step *= 2;
        }
    }
    get count() {
        return this.seen;
    }
}
/**
 * Whether every order a service may compare strings in — UTF-16 code units, code points, UTF-8 bytes — sorts
 * this key alike against any other such key: no character at or above U+D800 (surrogates, and the
 * U+E000–U+FFFF the code-unit order puts after them). Only such keys become boundaries: boundaries the
 * service saw in another order than ours would let a key fall in two ranges.
 */
function orderSafe(key) {
    return !/[\uD800-\uFFFF]/.test(key);
}
/** Ordinal comparison (UTF-16 code units), the order the services compare string keys in for ASCII keys. */
function compareKeys(a, b) {
    return a < b ? -1 : a > b ? 1 : 0;
}
/**
 * The n-quantile boundaries of a sample of partition keys (n − 1 keys, ascending, possibly repeated). A boundary
 * is the start of a partition: of the partition holding the quantile and the one after it, the start nearer to
 * the quantile, so a partition goes to whichever shard keeps the split closer to even.
 */
function boundariesOf(sample, count) {
    if (count <= 1)
        return [];
    const sorted = [...sample].sort(compareKeys);
    if (sorted.length === 0)
        return [];
    const out = [];
    for (let j = 1; j < count; j++) {
        const q = Math.min(sorted.length - 1, Math.floor((j * sorted.length) / count));
        const key = sorted[q];
        let start = q;
        while (start > 0 && sorted[start - 1] === key)
            start--;
        let next = q;
        while (next < sorted.length && sorted[next] === key)
            next++;
        out.push(next < sorted.length && next - q < q - start ? sorted[next] : key);
    }
    return out;
}
/**
 * Sample a table's partition keys (a projection scan: only PartitionKey comes back) and return the plan for
 * `count` shards. An empty table gives no boundaries: shard 1 then reads everything, the others nothing.
 */
async function sampleShardPlan(http, table, count, opts = {}) {
    const sample = new SystematicSample();
    // Only the keys come back: the reader's paging, retries and error messages, with a projection.
    const reader = new TableReader(http, table, { filter: opts.filter, select: ["PartitionKey", "RowKey"] });
    for await (const page of reader.pages()) {
        for (const e of page.entities)
            if (orderSafe(e.partitionKey))
                sample.add(e.partitionKey);
    }
    const boundaries = boundariesOf(sample.items, count);
    return { count, boundaries, id: planId(count, boundaries), sampledFrom: sample.count };
}

;// CONCATENATED MODULE: ./src/engine/copy/range-reads.ts
class RangeReads {
    /** The source's clock at the first answer of any range's reader. */
    serverClock;
    /** The source's clock at the latest answer. */
    lastServerClock;
    /** Every range's requests, 429s and retries. */
    httpStats = { requests: 0, throttled: 0, retries: 0 };
    /** The ranges read so far (for tests and the bench). */
    ranges = [];
    /** Take up what a range's reader saw of the source's clock. */
    clocks(r) {
        this.serverClock ??= r.serverClock;
        if (r.lastServerClock)
            this.lastServerClock = r.lastServerClock;
    }
}

;// CONCATENATED MODULE: ./src/engine/copy/early.ts
// Which of an unsorted source's partial transactions may go before they are full or due (writer.ts,
// sendEarly): while the destination has room nobody needs, the fullest go. Not when the source is read
// by key ranges (ranged-reader.ts): each range's partitions are whole at its end, soon enough.
//
// Held until full or due, a shuffled table that fits the hold went only once the scan ended, the
// destination idle all the while. Early, a partition costs more requests (two or three transactions, not
// one), so only those fuller than the table's partitions have been on average so far go: a partition of
// ten is sent in halves at most, one of a hundred in about three parts, not in fives. The average is the
// operations placed over the partitions seen, counted in a bitmap (linear counting): the partial
// transactions themselves cannot tell it, since sending early keeps them small.
/**
 * The fewest operations that go early: fewer cost more CPU in extra requests than the idle link gains.
 * Measured on the matrix's shuffled ten per partition over 20 ms with a fixed threshold (before the
 * average below): nothing early 13,900/s, from two 11,000, from five 17,200, from eight 15,300.
 */
const EARLY_MIN = 5;
/** Bits of the partitions-seen map: 1 MiB, within a few per cent to millions of partitions. */
const BITS = 2 ** 23;
/** A partition key's bit (FNV-1a). */
function bitOf(key) {
    let h = 0x811c9dc5;
    for (let i = 0; i < key.length; i++)
        h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    return (h >>> 0) % BITS;
}
class EarlySends {
    /** Open partial transactions of EARLY_MIN operations or more, by how many they hold. */
    bySize = [];
    seen;
    unseen = BITS;
    placedCount = 0;
    /** An operation of partition `key` was held. */
    placed(key) {
        this.placedCount++;
        const bit = bitOf(key);
        const seen = (this.seen ??= new Int32Array(BITS / 32));
        const mask = 1 << (bit & 31);
        if ((seen[bit >>> 5] & mask) === 0) {
            seen[bit >>> 5] |= mask;
            this.unseen--;
        }
    }
    /** Partition `key`'s partial transaction now holds `size` operations. */
    grew(key, size) {
        if (size < EARLY_MIN)
            return;
        if (size > EARLY_MIN)
            this.bySize[size - 1]?.delete(key);
        (this.bySize[size] ??= new Set()).add(key);
    }
    /** Partition `key`'s partial transaction of `size` operations was sent. */
    gone(key, size) {
        this.bySize[size]?.delete(key);
    }
    /** Operations per partition seen so far (linear counting of the partitions). */
    meanSize() {
        if (this.placedCount === 0)
            return 0;
        const partitions = this.unseen > 0 ? -BITS * Math.log(this.unseen / BITS) : Infinity;
        return this.placedCount / Math.max(1, partitions);
    }
    /** Partitions that may go early, fullest first. Send each (and call `gone`) before asking for the next. */
    *fullest() {
        const least = Math.max(EARLY_MIN, Math.ceil(this.meanSize()));
        for (let size = this.bySize.length - 1; size >= least; size--) {
            const keys = this.bySize[size];
            if (keys)
                for (const key of keys)
                    yield key;
        }
    }
}

;// CONCATENATED MODULE: ./src/engine/copy/hold.ts



/** How long a partial transaction of an unsorted source waits for more of its partition, at least and most. */
const hold_HOLD_MS = 2_000;
const HOLD_MS_MAX = 30_000;
/** The hold time for a run saving resume points every `checkpointMs` (undefined: none saved). */
function holdMs(checkpointMs) {
    return Math.min(HOLD_MS_MAX, Math.max(hold_HOLD_MS, checkpointMs ?? HOLD_MS_MAX));
}
/**
 * Bytes of held operations before the fullest are sent. With the run's other memory (pages, requests in
 * flight), a million-entity unsorted table stays under 256 MB.
 */
const HOLD_BYTES = 32 * 1024 * 1024;
/** A held operation's memory besides its JSON: the operation, its keys, its place in its partition's list. */
const OVERHEAD = 256;
/**
 * The operation as it is held: its body's JSON (flat, sharing nothing with the page it was read from)
 * and its keys; not the parsed properties, which took three times the JSON's memory. The JSON is then
 * the operation's only body: every request built from it, a resubmission too, uses it (batch.ts).
 */
function heldOperation(kind, entity, ifMatch, mark) {
    const json = kind === "delete" ? "" : entityJson(entity);
    return { op: { kind, entity: ownKeys(entity), ifMatch, mark, json }, bytes: heldBytes(entity, json) };
}
/** What holding an entity whose body is `json` costs, counted against HOLD_BYTES. */
function heldBytes(entity, json) {
    // Measuring the UTF-8 length flattens the string: the pieces it was joined from (slices of the page's
    // text) are let go.
    return Buffer.byteLength(json) + entity.partitionKey.length + entity.rowKey.length + OVERHEAD;
}
/** Resident memory above which the hold's bound shrinks by a quarter (looked at every CHECK_EVERY adds). */
const SQUEEZE_ABOVE = 216 * 2 ** 20;
const CHECK_EVERY = 256;
/** The least the bound shrinks to: partitions of a few entities still gather. */
const MIN_BYTES = 4 * 2 ** 20;
/** The writer's rules for what an unsorted source's partial transactions may hold, and for how long. */
class Hold {
    /** What the held operations cost (heldOperation's `bytes`), kept up to date by the writer. */
    bytes = 0;
    now;
    /** The bound now: maxBytes, less while resident memory is high or holding does not pay. */
    limit;
    /** The bound resident memory allows, and the one holding earns (see the header). */
    memoryLimit;
    payingLimit;
    maxBytes;
    maxMs;
    memory;
    adds = 0;
    /** Which partial transactions may go before they are full or due (early.ts). */
    early = new EarlySends();
    constructor(limits = {}) {
        this.maxBytes = limits.maxBytes ?? HOLD_BYTES;
        this.limit = this.memoryLimit = this.payingLimit = this.maxBytes;
        this.maxMs = limits.maxMs ?? hold_HOLD_MS;
        this.now = limits.now ?? (() => performance.now());
        this.memory = limits.memory ?? residentMemory;
    }
    /** Whether some must go now: memory is over its bound, or the oldest has waited long enough. */
    due(oldest) {
        if (++this.adds % CHECK_EVERY === 0) {
            this.memoryLimit =
                this.memory() > SQUEEZE_ABOVE
                    ? Math.max(MIN_BYTES, Math.min(this.memoryLimit, this.bytes) * 0.75)
                    : Math.min(this.maxBytes, this.memoryLimit * 1.25);
            this.limit = Math.min(this.memoryLimit, this.payingLimit);
        }
        if (this.bytes > this.limit)
            return true;
        return oldest !== undefined && this.now() - oldest.bornAt >= this.maxMs;
    }
    /**
     * The partitions to send now, in order, each decided after the one before was sent: those that waited
     * the hold time (oldest first: `open` lists them in the order they were started), then, while memory is
     * over its bound, the fullest down to three quarters of it. Age first: a lone entity would otherwise
     * wait behind fuller partitions until the table ends, holding back every resume point after its page.
     */
    *release(open) {
        const expired = this.now() - this.maxMs;
        for (const [key, g] of open()) {
            if (g.bornAt > expired)
                break;
            yield key;
        }
        if (this.bytes <= this.limit)
            return;
        // By size (at most 100 operations): one pass, not a sort of every open partition.
        const bySize = [];
        for (const [key, g] of open())
            (bySize[g.ops.length] ??= []).push(key);
        let transactions = 0;
        let entities = 0;
        for (let size = bySize.length - 1; size > 0; size--) {
            for (const key of bySize[size] ?? []) {
                if (this.bytes <= (this.limit * 3) / 4)
                    return this.paid(transactions, entities);
                transactions++;
                entities += size;
                yield key;
            }
        }
        this.paid(transactions, entities);
    }
    /** After a release over the bound: hold less while it lets go of under two entities a transaction. */
    paid(transactions, entities) {
        if (transactions === 0)
            return;
        const perTransaction = entities / transactions;
        if (perTransaction < 2)
            this.payingLimit = Math.max(MIN_BYTES, this.payingLimit * 0.75);
        else if (perTransaction >= 3)
            this.payingLimit = Math.min(this.maxBytes, this.payingLimit * 1.25);
        this.limit = Math.min(this.memoryLimit, this.payingLimit);
    }
}

;// CONCATENATED MODULE: ./src/engine/copy/ranged-reader.ts
// Reading an unsorted source (Cosmos DB for Table: a rollback) by partition-key ranges, one after another,
// so that each partition's entities meet in the writer's hold and leave as transactions.
//
// A plain scan of an unsorted source spreads every partition over the whole table. The hold keeps what it
// can (hold.ts), but a table larger than the hold's memory cannot meet there: in the matrix's shuffled
// table of 200,000 entities, ten a partition, 121,428 went one request each (0.47–0.54 of the ceiling).
// Read by ranges small enough for the hold, every partition of a range has arrived when the range's last
// page has, and the writer sends them whole while the next range is read.
//
// The ranges come from the keys of the read's first page, which serves as a sample: Cosmos spreads
// partitions over its physical partitions by a hash, so any page holds keys from across the key space.
// The page itself is dropped (its range reads it again), and the sample's distinct keys cut the key
// space into buckets. Ranges are runs of buckets sized from what the ranges before them held, aiming at
// RANGE_BYTES of held entities. Coverage never depends on the sample: consecutive ranges [a, b), [b, c), …
// from the read's start to no end cover every key, however the buckets fall, as long as the cuts ascend in
// the service's order too: only keys every order sorts alike are cuts (orderSafe). A range that comes out too
// large only holds more than planned, and the hold's memory rules then send its fullest partitions early.






/**
 * What a range should hold: with the range before it still being sent and the next one read, two ranges
 * are in memory at once, well within HOLD_BYTES.
 */
const RANGE_BYTES = Math.floor(HOLD_BYTES * 0.25);
/** The first range's share of the buckets, before anything says how many entities a bucket holds. */
const FIRST_SHARE = 1 / 32;
class RangedReader extends RangeReads {
    http;
    table;
    opts;
    constructor(http, table, opts = {}) {
        super();
        this.http = http;
        this.table = table;
        this.opts = opts;
    }
    reader(range) {
        return new TableReader(this.http, this.table, {
            filter: andFilters(rangeFilter(range), this.opts.filter),
            forCopy: true,
            stats: this.httpStats,
        });
    }
    async *pages() {
        const start = this.opts.continuation?.ranged ? this.opts.continuation.nextPartitionKey : undefined;
        const sampler = this.reader({ from: start });
        // Cosmos may answer pages with no entities and a continuation: the sample is the first that has some.
        let first = await sampler.page();
        while (first.entities.length === 0 && first.continuation)
            first = await sampler.page(first.continuation);
        this.clocks(sampler);
        if (!first.continuation) {
            // The whole read is one page: nothing to range.
            yield { ...first, endsRange: true };
            return;
        }
        // The sample: the first page's distinct keys cut the rest of the key space into buckets
        // [start, k₀), [k₀, k₁), …, [kₘ₋₁, ∞).
        const keys = new Set();
        let bytes = 0;
        let sampled = 0;
        for (const e of first.entities) {
            if ((start === undefined || e.partitionKey > start) && orderSafe(e.partitionKey))
                keys.add(e.partitionKey);
            bytes += heldBytes(e, entityJson(e));
            sampled++;
        }
        const cuts = [...keys].sort(compareKeys);
        const buckets = cuts.length + 1;
        // `sampled` > 0: the first page has entities, or it would be the last.
        const target = Math.max(1, (this.opts.rangeBytes ?? RANGE_BYTES) / (bytes / sampled));
        let done = 0; // buckets read
        let read = 0; // entities in them
        const rangeAt = (width) => {
            const range = {};
            const from = done === 0 ? start : cuts[done - 1];
            if (from !== undefined)
                range.from = from;
            if (done + width < buckets)
                range.to = cuts[done + width - 1];
            return range;
        };
        // The first range takes the bucket before the sample's least key (which holds about as many as any) and
        // at least one more, so what it finds says how full a bucket is. Later ones grow at most fourfold: a
        // few buckets are a noisy measure.
        let width = 0;
        const nextWidth = () => done === 0
            ? Math.min(buckets, Math.max(2, Math.ceil(buckets * FIRST_SHARE)))
            : Math.min(buckets - done, 4 * width, Math.max(1, Math.floor(target / (read / done))));
        width = nextWidth();
        let range = rangeAt(width);
        this.ranges.push(range);
        let current = this.reader(range);
        let pages = current.pages();
        // The next page is asked for before this one is handed on; its failure is met when it is awaited, not
        // while the copy is busy with the page before (an unhandled rejection would end the whole process).
        const next = () => {
            const p = pages.next();
            p.catch(() => undefined);
            return p;
        };
        let ahead = next();
        for (;;) {
            const step = await ahead;
            this.clocks(current);
            if (step.done)
                throw new Error("A ranged read's range ended without a last page.");
            const page = step.value;
            read += page.entities.length;
            if (page.continuation) {
                ahead = next();
                yield { ...page, inRange: true };
                continue;
            }
            // The range's last page: the next range is asked for before this page is handed on, so the source
            // works on it while the writer takes this one.
            done += width;
            if (done >= buckets) {
                yield { ...page, endsRange: true };
                return;
            }
            width = nextWidth();
            range = rangeAt(width);
            this.ranges.push(range);
            current = this.reader(range);
            pages = current.pages();
            ahead = next();
            yield { ...page, endsRange: true, continuation: { nextPartitionKey: range.from, ranged: true } };
        }
    }
}

;// CONCATENATED MODULE: ./src/engine/copy/key-space.ts
// Partition keys as numbers, so a read can guess where in the key space the next few thousand entities end
// (lane-reader.ts). Only the guess depends on this: any ascending cuts cover every key.
//
// A key's first `digits` characters are read as a number, each position in the alphabet its characters
// come from in the sample (digits, hex, letters, or all of printable ASCII), so the distance between two
// keys measures how much of the key space lies between them: `user-0041` and `user-0042` lie as far apart
// as `user-0042` and `user-0043`, which base 95 would not say. Characters outside a position's alphabet
// count as the nearest in it. Cuts are made of printable ASCII only: every order a service may compare
// strings in (UTF-16 code units, code points, UTF-8 bytes) sorts them alike against any key, so a cut
// ascending here ascends for the service too.
const key_space_DIGITS = "0123456789";
const HEX_LOWER = "abcdef";
const HEX_UPPER = "ABCDEF";
const LOWER = "abcdefghijklmnopqrstuvwxyz";
const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(0x20 + i)).join("");
/** The alphabet a position's characters come from: the classes they fall in, in code order. */
function alphabetOf(chars) {
    let digits = false;
    let lower = "";
    let upper = "";
    for (const c of chars) {
        if (c >= "0" && c <= "9")
            digits = true;
        else if (c >= "a" && c <= "z")
            lower = lower === LOWER || c > "f" ? LOWER : HEX_LOWER;
        else if (c >= "A" && c <= "Z")
            upper = upper === UPPER || c > "F" ? UPPER : HEX_UPPER;
        else
            return PRINTABLE;
    }
    const set = (digits ? key_space_DIGITS : "") + upper + lower;
    return set || PRINTABLE;
}
class KeySpace {
    alphabets;
    constructor(alphabets) {
        this.alphabets = alphabets;
    }
    /**
     * A space for keys like these: their common prefix and eight characters more (so keys that differ only
     * after a long shared prefix still lie apart), each position's alphabet from the sample's characters there.
     */
    static of(sample) {
        const a = sample[0] ?? "";
        const b = sample.at(-1) ?? "";
        let common = 0;
        while (common < a.length && common < b.length && a[common] === b[common])
            common++;
        const digits = Math.min(64, common + 8);
        const alphabets = [];
        for (let i = 0; i < digits; i++) {
            const seen = new Set();
            for (const key of sample)
                if (i < key.length)
                    seen.add(key[i]);
            alphabets.push(alphabetOf(seen));
        }
        return new KeySpace(alphabets);
    }
    get digits() {
        return this.alphabets.length;
    }
    /** Where `key` lies: its first characters as digits of their positions' alphabets. */
    valueOf(key) {
        let v = 0n;
        for (let i = 0; i < this.alphabets.length; i++) {
            const alphabet = this.alphabets[i];
            v = v * BigInt(alphabet.length) + BigInt(i < key.length ? indexIn(alphabet, key[i]) : 0);
        }
        return v;
    }
    /** The largest value a key can have here. */
    get end() {
        return this.alphabets.reduce((n, a) => n * BigInt(a.length), 1n) - 1n;
    }
    /** The key at `value`: characters of each position's alphabet (printable ASCII), trailing spaces dropped. */
    keyAt(value) {
        let v = value < 0n ? 0n : value > this.end ? this.end : value;
        const chars = new Array(this.alphabets.length);
        for (let i = this.alphabets.length - 1; i >= 0; i--) {
            const base = BigInt(this.alphabets[i].length);
            chars[i] = this.alphabets[i][Number(v % base)];
            v /= base;
        }
        return chars.join("").replace(/ +$/, "");
    }
}
/** A character's place in an alphabet (in code order): the nearest below it when it is not there. */
function indexIn(alphabet, c) {
    let lo = 0;
    let hi = alphabet.length - 1;
    if (c <= alphabet[0])
        return 0;
    if (c >= alphabet[hi])
        return hi;
    while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (alphabet[mid] <= c)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}
/**
 * The smallest key after `key` in every order: `key` followed by a space. No valid key lies between the two
 * (a key may not hold control characters, the only ones below a space).
 */
function keyAfter(key) {
    return `${key} `;
}

;// CONCATENATED MODULE: ./src/engine/copy/scan-watch.ts
// Whether one sorted scan has become the copy's limit: the lanes gate (lane-reader.ts) asks first from the
// first page alone, but a source can slow down later (a throttled account, a link that degrades, a runner
// that starts with a warm cache). Watched from the consumer's side, so it costs no request: the time the
// copy waits for each next page of the scan. When, over the last WINDOW pages, it waited for at least half of
// the time and pages came no faster than one per `slowMs`, the scan starves the writer and the lanes are
// worth asking about again. After a "no", the next question waits twice as many pages (a service where
// lanes do not pay is not probed all the time; each question is five one-entity queries).
/** Pages watched at once. */
const WINDOW = 8;
class ScanWatch {
    slowMs;
    /** Per page of the window: when it was asked for, and how long the copy waited for it. */
    asked = [];
    waited = [];
    /** Pages to watch before the next question. */
    every = WINDOW;
    seen = 0;
    /** Milliseconds per page over the last full window. */
    pageMs = 0;
    constructor(slowMs) {
        this.slowMs = slowMs;
    }
    /**
     * One page arrived: asked for at `askedAt` (the copy was waiting from then), here at `now`. True when the
     * scan starves the copy and it is time to ask; then the window starts afresh.
     */
    page(askedAt, now) {
        this.asked.push(askedAt);
        this.waited.push(now - askedAt);
        if (this.asked.length > WINDOW) {
            this.asked.shift();
            this.waited.shift();
        }
        this.seen++;
        if (this.seen < this.every || this.asked.length < WINDOW)
            return false;
        const span = now - this.asked[0];
        const waited = this.waited.reduce((a, b) => a + b, 0);
        this.pageMs = span / WINDOW;
        if (span <= 0 || waited < span / 2 || this.pageMs < this.slowMs)
            return false;
        this.seen = 0;
        this.every *= 2;
        return true;
    }
}

;// CONCATENATED MODULE: ./src/engine/copy/lane-reader.ts
// Reading a sorted source (Table Storage) through several key ranges at once when one scan is the limit.
//
// A scan is a chain: each page names where the next starts, so one scan reads at most a page (1,000
// entities) per round trip — about 9,000 entities a second over 100 ms, whatever the destination could
// take. When the first page and a one-entity query both take that long (SLOW_PAGE_MS: a round trip, not a
// slow or retried page), four such queries at once take about as long as one (the service answers them
// side by side), and the partitions hold two entities or more (so the writer could outrun one scan),
// the key space ahead is cut into consecutive ranges of about RANGE_ENTITIES each and LANES of them are read
// at once; the pages are still handed on in key order, so the writer sees the table as one sorted scan
// (partitions whole, in order). A source that slows down after a fast first page is asked about again
// when the copy is seen waiting for the scan (scan-watch.ts).
//
// Nothing says how the keys are spread, so the cuts are guesses (key-space.ts): the first page's keys give
// a density, and each finished range corrects it. A guess only makes a range larger or smaller than
// planned. Coverage never depends on it: ranges [c₀, c₁), [c₁, c₂), … with ascending cuts and a last range
// with no end cover every key. Where the table ends is asked, not guessed: before a range is planned past a
// cut, one `$top=1` query asks for the first key at or after it; when there is none, the range from that
// cut on has no end (so even an entity written there since is read).
//
// Resume points: a service's continuation is only valid with the filter it was given for, so a page inside
// a range is no place to resume from. A range's end is: every partition before the next cut is done, and
// a resumed run reads on from that key (a "ranged" continuation, as the unsorted reader stores).






/** A first page slower than this (request to last byte) means one scan would starve the writer. */
const SLOW_PAGE_MS = 60;
/** Ranges read at once. */
const LANES = 4;
/** What a range should hold: a few pages, so a kill repeats little (its end is the resume point). */
const RANGE_ENTITIES = 4_000;
/** Pages each range reads ahead of the copy: about a whole range (pages of 1,000). */
const RANGE_PAGES_AHEAD = 5;
class LaneReader extends RangeReads {
    http;
    table;
    opts;
    constructor(http, table, opts = {}) {
        super();
        this.http = http;
        this.table = table;
        this.opts = opts;
    }
    reader(range, { rowsAfter, ...extra } = {}) {
        const rows = rowsAfter === undefined ? undefined : `RowKey gt ${odataString(rowsAfter)}`;
        const keys = rows && range.from !== undefined
            ? `PartitionKey eq ${odataString(range.from)} and ${rows}`
            : rangeFilter(range);
        return new TableReader(this.http, this.table, {
            filter: andFilters(keys, this.opts.filter),
            forCopy: !extra.select,
            stats: this.httpStats,
            ...extra,
        });
    }
    async *pages() {
        const c = this.opts.continuation;
        const start = c?.ranged ? c.nextPartitionKey : undefined;
        const first = this.reader({ from: start }, c && !c.ranged ? { continuation: c } : {});
        const scan = first.pages();
        const began = performance.now();
        const step = await scan.next();
        this.clocks(first);
        if (step.done)
            return;
        const page = step.value;
        const lanes = this.opts.lanes ?? LANES;
        if (c?.ranged) {
            // After a ranged resume point, always by lanes: a scan under the range's filter would leave
            // continuations no later run could use. Its first page is the sample, which its range reads again.
            const keys = lanes > 1 && page.continuation ? sampleKeys(page) : undefined;
            if (keys) {
                void scan.return(undefined).catch(() => undefined);
                yield* this.byLanes(start, keys, lanes);
                return;
            }
        }
        // One scan; where lanes pay (worthLanes, asked while the scan goes on: a service that does not pay is
        // not kept waiting), it goes on by lanes from the end of the page it has handed on last — also after a
        // plain resume point: its token reads the first page, the lanes start from that page's last key, so a
        // long copy resumed over a far link is as fast as it was. Not inside a range (see above).
        const mayLanes = lanes > 1 && !c?.ranged;
        let sample = mayLanes && page.continuation ? sampleKeys(page) : undefined;
        let switchTo = false;
        let asking = false;
        const ask = (about, pageMs) => {
            asking = true;
            void this.worthLanes(about, pageMs).then((yes) => ((switchTo = yes), (asking = false)), () => (asking = false));
        };
        if (sample)
            ask(sample, performance.now() - began);
        // Asked again when the scan becomes the limit later (scan-watch.ts), with the keys of the page then.
        const watch = new ScanWatch(this.opts.slowPageMs ?? SLOW_PAGE_MS);
        // After a ranged resume point it runs under the range's filter: no page of it is a place to resume from
        // but the last.
        const inRange = c?.ranged === true;
        for (let p = page; p;) {
            yield inRange && p.continuation ? { ...p, inRange } : p;
            if (switchTo && sample && p.continuation) {
                const last = lastEntity(p);
                // Its key becomes a cut: only one every order sorts alike (else the next page's may).
                if (last && orderSafe(last.partitionKey)) {
                    void scan.return(undefined).catch(() => undefined);
                    yield* this.byLanes(keyAfter(last.partitionKey), sample, lanes, last);
                    return;
                }
            }
            const asked = performance.now();
            const next = await scan.next();
            this.clocks(first);
            p = next.done ? undefined : next.value;
            const about = p?.continuation && mayLanes && !switchTo && !asking ? p : undefined;
            if (about && watch.page(asked, performance.now())) {
                sample = sampleKeys(about) ?? sample;
                if (sample)
                    ask(sample, watch.pageMs);
            }
        }
    }
    /**
     * The rest of the table by lanes, from `start` (undefined: the table's start). Going on from a scan, the
     * rest of the partition its last page ended in (`after`: keys after that entity's) is the first range.
     */
    async *byLanes(start, sample, lanes, after) {
        const target = BigInt(this.opts.rangeEntities ?? RANGE_ENTITIES);
        const space = KeySpace.of(sample.keys);
        // Entities per unit of key space: the sample's until a range has been read, then the ranges read.
        // Unknown while the sample holds one partition: then the gap to the next key stands for one
        // partition's worth.
        let entities = BigInt(sample.count);
        let span = space.valueOf(sample.last) - space.valueOf(sample.first);
        let measured = false;
        let width = 0n;
        const widthFor = () => {
            const w = span > 0n ? (span * target) / (entities > 0n ? entities : 1n) : 1n;
            // At most four times the last width: a few ranges are a noisy measure.
            width = width > 0n && w > 4n * width ? 4n * width : w < 1n ? 1n : w;
            return width;
        };
        // Where the keys of the range being planned begin (the sample's first key; past a gap, the probe's).
        let low = start !== undefined && start > sample.first ? space.valueOf(start) : space.valueOf(sample.first);
        // The first cut: past the sample's keys and the start (its range holds them), as far as the density says.
        const floor = start !== undefined && start > sample.last ? start : sample.last;
        const guess = span > 0n ? space.keyAt(low + widthFor()) : "";
        let cut = guess > floor ? guess : keyAfter(floor);
        let from = start;
        const queue = [];
        let planned = false; // the last range (no end) is planned
        let planning;
        const add = (range, lowValue, rowsAfter) => {
            // A whole range asked for ahead (a range's pages are a chain of their own): a lane that read only
            // two pages ahead would leave the rest of its chain for when the copy reaches it.
            const reader = this.reader(range, { readAhead: RANGE_PAGES_AHEAD, rowsAfter });
            this.ranges.push(range);
            // The rest of a partition measures nothing of the key space (-1: no density from it).
            const lane = {
                range,
                reader,
                pages: reader.pages(),
                low: rowsAfter === undefined ? lowValue : -1n,
                count: 0,
            };
            queue.push(lane);
            // Read from now if it is among the first `lanes`: not only once the probe after it has answered.
            if (queue.length <= lanes)
                lane.ahead = ahead(lane);
        };
        /** Plan the range up to the cut, and find out whether the table goes on past it. */
        const plan = async () => {
            const at = cut;
            add({ ...(from !== undefined && { from }), to: at }, low);
            const next = await this.firstKeyFrom(at);
            if (next === undefined) {
                add({ from: at }, space.valueOf(at));
                planned = true;
                return;
            }
            if (span <= 0n) {
                span = space.valueOf(next) - space.valueOf(sample.last);
                if (span <= 0n)
                    span = 1n;
            }
            from = at;
            low = bigMax(space.valueOf(at), space.valueOf(next));
            cut = space.keyAt(bigMax(low + widthFor(), space.valueOf(at) + 1n));
            if (cut <= at) {
                // Past the last key this space can name (the keys ahead are outside its alphabets, or every digit
                // is at its largest): the rest is one range.
                add({ from: at }, low);
                planned = true;
            }
        };
        // Going on from a scan: first the rest of the partition its last page ended in.
        if (after && start !== undefined)
            add({ from: after.partitionKey, to: start }, low, after.rowKey);
        /** A probe that failed (after the reader's retries): the read fails with it, as with a page. */
        const probe = { failed: false };
        const fill = () => {
            // Keep `lanes` ranges reading (the one handed on now among them) and as many more planned.
            for (const lane of queue.slice(0, lanes))
                lane.ahead ??= ahead(lane);
            if (!planned && !planning && !probe.failed && queue.length < 2 * lanes) {
                planning = plan().then(() => {
                    planning = undefined;
                    fill();
                }, (error) => {
                    planning = undefined;
                    probe.failed = true;
                    probe.error = error;
                });
            }
        };
        fill();
        for (;;) {
            if (probe.failed)
                throw probe.error;
            while (queue.length === 0) {
                if (planned)
                    return;
                if (probe.failed)
                    throw probe.error;
                await planning;
            }
            const lane = queue[0];
            lane.ahead ??= ahead(lane);
            const step = await lane.ahead;
            this.clocks(lane.reader);
            if (step.done)
                throw new Error("A lane's range ended without a last page.");
            const page = step.value;
            lane.count += page.entities.length;
            if (page.continuation) {
                lane.ahead = ahead(lane);
                yield { ...page, inRange: true };
                continue;
            }
            queue.shift();
            const to = lane.range.to;
            if (to !== undefined) {
                // What this range held corrects the density for the ranges planned after it.
                const held = space.valueOf(to) - lane.low;
                if (lane.low >= 0n && held > 0n) {
                    if (!measured)
                        [entities, span, measured] = [0n, 0n, true];
                    entities += BigInt(lane.count);
                    span += held;
                }
            }
            fill();
            if (to === undefined) {
                yield { ...page, endsRange: true };
                return;
            }
            yield { ...page, endsRange: true, continuation: { nextPartitionKey: to, ranged: true } };
        }
    }
    /**
     * Whether lanes pay here. Its partitions hold two entities or more on average: a table of one entity per
     * partition writes one request per entity, and the window's largest size (a thousand requests per round
     * trip) caps it about where one scan does. The first page came slowly, and so does a one-entity query (a
     * round trip, not a page that was slow to serve or was retried, or a connection being opened). And
     * queries go at once: four asked together take about as long as one. A service that answers one query
     * at a time (Azurite: a page of 1,000 took 70 ms there, a one-entity query as long) would only queue the
     * ranges' pages behind each other.
     */
    async worthLanes(sample, firstPageMs) {
        const slowMs = this.opts.slowPageMs ?? SLOW_PAGE_MS;
        if (slowMs <= 0)
            return true;
        if (firstPageMs < slowMs || sample.count < 2 * sample.keys.length)
            return false;
        const at = keyAfter(sample.last);
        const timed = async (n) => {
            const began = performance.now();
            await Promise.all(Array.from({ length: n }, () => this.firstKeyFrom(at)));
            return performance.now() - began;
        };
        const one = await timed(1);
        return one >= slowMs && (await timed(LANES)) < 1.6 * one;
    }
    /** The first partition key at or after `key` (undefined: none), by a one-entity query of the keys. */
    async firstKeyFrom(key) {
        const probe = this.reader({ from: key }, { select: ["PartitionKey", "RowKey"], top: 1 });
        for await (const page of probe.pages()) {
            for (const e of page.entities)
                return e.partitionKey;
        }
        return undefined;
    }
}
/**
 * The first page's partition keys (its entities are parsed for it); undefined when it has none, or when its
 * last key is one services may order differently (surrogates, U+E000 and above: shard.ts, orderSafe).
 */
function sampleKeys(page) {
    const keys = [];
    let count = 0;
    for (const e of page.entities) {
        if (keys.at(-1) !== e.partitionKey)
            keys.push(e.partitionKey);
        count++;
    }
    const first = keys[0];
    const last = keys.at(-1);
    if (first === undefined || last === undefined || !orderSafe(last))
        return undefined;
    return { keys, first, last, count };
}
/** A page's last entity's keys (its entities are parsed again for it). */
function lastEntity(page) {
    let last;
    for (const e of page.entities)
        last = e;
    return last && { partitionKey: last.partitionKey, rowKey: last.rowKey };
}
function ahead(lane) {
    const p = lane.pages.next();
    // Met when awaited, not while the copy is busy with pages before it (an unhandled rejection would end
    // the process).
    p.catch(() => undefined);
    return p;
}
function bigMax(a, b) {
    return a > b ? a : b;
}

;// CONCATENATED MODULE: ./src/engine/copy/transform.ts
// Property renames and the guards that keep a destination from refusing (or silently losing) data.

/** Cosmos DB for Table refuses these property names (case-insensitive). */
const COSMOS_RESERVED = ["id", "etag", "rid", "ResourceId"];
const RESERVED_LOWER = new Set(COSMOS_RESERVED.map((n) => n.toLowerCase()));
function isCosmosReserved(name) {
    return RESERVED_LOWER.has(name.toLowerCase());
}
class TransformError extends Error {
}
function createTransformer(opts) {
    const map = new Map(opts.renames.map((r) => [r.from, r.to]));
    const guardReserved = opts.destinationKind === "cosmos";
    // A rename onto a reserved name would fail every entity that has the property: say it once, up front.
    const onto = guardReserved ? opts.renames.find((r) => isCosmosReserved(r.to)) : undefined;
    if (onto) {
        throw new TransformError(`property-renames maps '${onto.from}' to '${onto.to}', which Cosmos DB for Table reserves; choose another name (e.g. '${onto.from}:${suggestName(onto.to)}').`);
    }
    if (map.size === 0 && !guardReserved)
        return { apply: (e) => e };
    const reservedError = (entity, name) => new TransformError(`Table ${opts.sourceTable}, PartitionKey '${entity.partitionKey}', RowKey '${entity.rowKey}': ` +
        `property '${name}' is reserved by Cosmos DB for Table; add the rename '${name}:${suggestName(name)}' ` +
        `to property-renames.`);
    if (map.size === 0) {
        // Names only (every copy to Cosmos DB for Table): a page entity is checked without parsing it, and
        // each name's verdict is kept (a table has few names, and every entity has them).
        const verdicts = new Map();
        return {
            apply(entity) {
                for (const name of propertyNames(entity)) {
                    let reserved = verdicts.get(name);
                    if (reserved === undefined) {
                        reserved = isCosmosReserved(name);
                        if (verdicts.size < 4096)
                            verdicts.set(name, reserved);
                    }
                    if (reserved)
                        throw reservedError(entity, name);
                }
                return entity;
            },
        };
    }
    return {
        apply(entity) {
            let changed = false;
            const out = new Map();
            for (const [name, value] of entity.properties) {
                const target = map.get(name);
                if (target !== undefined) {
                    changed = true;
                    if (entity.properties.has(target) && !map.has(target)) {
                        throw new TransformError(`Table ${opts.sourceTable}, PartitionKey '${entity.partitionKey}', RowKey '${entity.rowKey}': ` +
                            `renaming property '${name}' to '${target}' collides with an existing property '${target}'; ` +
                            `choose another name in property-renames.`);
                    }
                    out.set(target, value);
                    continue;
                }
                if (guardReserved && isCosmosReserved(name))
                    throw reservedError(entity, name);
                out.set(name, value);
            }
            if (guardReserved) {
                for (const name of out.keys()) {
                    if (isCosmosReserved(name)) {
                        throw new TransformError(`Table ${opts.sourceTable}, PartitionKey '${entity.partitionKey}', RowKey '${entity.rowKey}': ` +
                            `property-renames maps a property to '${name}', which Cosmos DB for Table reserves; choose another name.`);
                    }
                }
            }
            // The ETag by name: a page entity reads it on demand (entity-page.ts), and spreading copies fields only.
            return changed ? { ...entity, etag: entity.etag, properties: out } : entity;
        },
    };
}
/** `id` → `entityId`, `etag` → `entityEtag`: the names the seed's guide uses. */
function suggestName(name) {
    return `entity${name.charAt(0).toUpperCase()}${name.slice(1)}`;
}

;// CONCATENATED MODULE: ./src/engine/copy/write-rules.ts
const MAX_OPERATIONS = 100;
/** Table Storage: 4 MiB per transaction; Cosmos: 2 MB. A margin covers the outer multipart framing. */
function maxTransactionBytes(kind) {
    return kind === "cosmos" ? 2_000_000 - 16_384 : 4 * 1024 * 1024 - 16_384;
}
function operationFor(mode) {
    return mode === "insert" ? "insert" : mode === "merge" ? "upsert-merge" : "upsert-replace";
}
function defaultClassify(op, status, code) {
    if (op.kind === "insert" && status === 409 && (code === undefined || code === "EntityAlreadyExists"))
        return "skipped";
    if ((op.kind === "update-replace" || op.kind === "update-merge" || op.kind === "delete") &&
        status === 412) {
        return "conflict";
    }
    if (op.kind === "delete" && status === 404)
        return "skipped";
    return "failed";
}

;// CONCATENATED MODULE: ./src/engine/copy/partition-buffers.ts
// The writer's open transactions by PartitionKey, in the order they were opened.
//
// A sorted source (Table Storage) has one partition open at a time: with one entity per partition, a
// Map would gain and lose an entry for every entity, reallocating its table as it goes, and those young
// tables, held by the long-lived Map, were promoted to the old generation (8 MB of 50,000 one-entity
// writes' survivors). So a lone open partition lives in a slot of its own; the Map is used only while
// two or more are open (an unsorted source), and then holds all of them, oldest first.
class PartitionBuffers {
    slotKey = "";
    slotValue;
    /** Every open partition while two or more are open; empty while the slot holds the only one. */
    many = new Map();
    get(key) {
        if (this.slotValue !== undefined)
            return key === this.slotKey ? this.slotValue : undefined;
        return this.many.get(key);
    }
    /** Open a partition that is not open (it goes last in the order). */
    add(key, value) {
        if (this.slotValue === undefined && this.many.size === 0) {
            this.slotKey = key;
            this.slotValue = value;
            return;
        }
        if (this.slotValue !== undefined) {
            this.many.set(this.slotKey, this.slotValue);
            this.slotValue = undefined;
        }
        this.many.set(key, value);
    }
    delete(key) {
        if (this.slotValue !== undefined) {
            if (key === this.slotKey)
                this.slotValue = undefined;
        }
        else
            this.many.delete(key);
    }
    /** The partition opened first of those open. */
    oldest() {
        if (this.slotValue !== undefined)
            return this.slotValue;
        for (const value of this.many.values())
            return value;
        return undefined;
    }
    /** The open partitions, oldest first. */
    *entries() {
        if (this.slotValue !== undefined)
            yield [this.slotKey, this.slotValue];
        else
            yield* this.many;
    }
    keys() {
        return [...this.entries()].map(([key]) => key);
    }
}

;// CONCATENATED MODULE: ./src/engine/copy/outcomes.ts

class Outcomes {
    opts;
    counters = {
        written: 0,
        skipped: 0,
        failed: 0,
        conflicts: 0,
        transactions: 0,
        failures: [],
    };
    classify;
    constructor(opts) {
        this.opts = opts;
        this.classify = opts.classifyRejection ?? defaultClassify;
    }
    /** The operations landed; `etags[i]` is the destination's ETag for `ops[i]` when the answer gave one. */
    landed(ops, etags) {
        this.counters.written += ops.length;
        const { onLanded, onSettled } = this.opts;
        if (onLanded)
            ops.forEach((op, i) => onLanded(op, etags?.[i]));
        if (onSettled)
            for (const op of ops)
                onSettled(op, "written");
    }
    fail(ops, message, status, code) {
        for (const op of ops) {
            this.counters.failed++;
            this.opts.onSettled?.(op, "failed");
            if (this.counters.failures.length < this.opts.maxFailuresKept) {
                this.counters.failures.push({
                    partitionKey: op.entity.partitionKey,
                    rowKey: op.entity.rowKey,
                    status,
                    code,
                    message,
                });
            }
        }
    }
    /** The service refused the operation itself: a failure, or (by the copy's rules) skipped or a conflict. */
    reject(op, status, code, message) {
        const verdict = this.classify(op, status, code);
        if (verdict === "failed")
            return this.fail([op], message, status, code);
        if (verdict === "skipped")
            this.counters.skipped++;
        else {
            this.counters.conflicts++;
            this.opts.onConflict?.(op, status, message);
        }
        this.opts.onSettled?.(op, "skipped");
    }
}

;// CONCATENATED MODULE: ./src/engine/copy/writer.ts
// Writing entities as entity group transactions: ≤ 100 operations of one partition, ≤ 4 MiB (2 MB on
// Cosmos), several in flight. A transaction the service rejects because of one entity is split so
// the others land and that one is reported; one failure never stops other partitions.








/** Operations placed between two looks for room to send an unsorted source's partial transactions early. */
const EARLY_EVERY = 16;
const RETRYABLE_IN_CHANGESET = new Set([408, 429, 500, 502, 503, 504]);
const MAX_CHANGESET_RETRIES = 5;
class TableWriter {
    http;
    table;
    opts;
    outcomes;
    /** What became of the operations sent so far. */
    get counters() {
        return this.outcomes.counters;
    }
    /** This writer's requests, 429s and retries (the connection's stats are shared by every table). */
    httpStats = { requests: 0, throttled: 0, retries: 0 };
    buffers = new PartitionBuffers();
    lastPartition;
    /** An unsorted source's operations placed (every EARLY_EVERY, a look for room to send early). */
    placed = 0;
    /** A finished key range's partitions being sent (rangeEnded). */
    sendingRange;
    /** Requests sent and not yet answered; `flush` waits for none. */
    inFlight = 0;
    idle = [];
    maxOps;
    maxBytes;
    hold;
    url;
    flow;
    /** Before a one-entity request is retried: wait as a new send would (made once, not per request). */
    retryOne = () => this.flow.retry(1);
    constructor(http, table, opts) {
        this.http = http;
        this.table = table;
        this.opts = opts;
        this.maxOps = opts.maxOperations ?? MAX_OPERATIONS;
        this.maxBytes = opts.maxBytes ?? maxTransactionBytes(http.kind);
        this.hold = new Hold(opts.hold);
        this.flow = opts.flow ?? new FlowControl({ concurrency: opts.concurrency });
        this.outcomes = new Outcomes(opts);
        this.url = `${http.url}/${table}`;
    }
    /**
     * Queue one operation. Returns a promise only when the caller must wait (backpressure on the reader:
     * no room for another request yet); most calls return at once, without a promise per entity.
     */
    add(kind, entity, ifMatch, mark) {
        if (mark)
            mark.pending++;
        // An unsorted source's entities wait for more of their partition, held compactly (hold.ts).
        if (!this.opts.sortedSource) {
            const held = heldOperation(kind, entity, ifMatch, mark);
            this.hold.early.placed(entity.partitionKey);
            return this.place(held.op, held.bytes);
        }
        const op = { kind, entity, ifMatch, mark };
        const pk = entity.partitionKey;
        const previous = this.lastPartition;
        this.lastPartition = pk;
        if (previous !== undefined && previous !== pk) {
            const wait = this.dispatch(previous);
            if (wait)
                return wait.then(() => this.place(op, 0));
        }
        return this.place(op, 0);
    }
    /** Put an operation in its partition's transaction, sending what is full; `held`: what holding it costs. */
    place(op, held) {
        const pk = op.entity.partitionKey;
        let buf = this.buffers.get(pk);
        if (buf) {
            // Sizes and row keys matter only once a partition has a second operation: a lone entity goes as a
            // plain request, never measured (in a table with one entity per partition, that is every entity).
            if (buf.keys === undefined) {
                buf.bytes = operationBytes(this.url, buf.ops[0]);
                buf.keys = new Set([buf.ops[0].entity.rowKey]);
            }
            const bytes = operationBytes(this.url, op);
            if (buf.ops.length >= this.maxOps ||
                buf.bytes + bytes > this.maxBytes ||
                buf.keys.has(op.entity.rowKey)) {
                // The partition's transaction is full (or already holds this entity): send it, start another.
                const wait = this.dispatch(pk);
                if (wait)
                    return wait.then(() => this.place(op, held));
                buf = undefined;
            }
            else {
                buf.ops.push(op);
                buf.bytes += bytes;
                buf.keys.add(op.entity.rowKey);
                if (held > 0)
                    this.hold.early.grew(pk, buf.ops.length);
            }
        }
        if (!buf) {
            buf = { ops: [op], bytes: 0, bornAt: held > 0 ? this.hold.now() : 0, held: 0 };
            this.buffers.add(pk, buf);
        }
        buf.held += held;
        this.hold.bytes += held;
        const wait = buf.ops.length >= this.maxOps ? this.dispatch(pk) : undefined;
        if (held === 0)
            return wait;
        if (!wait && !this.opts.byRanges && ++this.placed % EARLY_EVERY === 0) {
            const early = this.sendEarly(pk);
            if (early)
                return early;
        }
        if (!this.hold.due(this.buffers.oldest()))
            return wait;
        return wait ? wait.then(() => this.release()) : this.release();
    }
    /** Unsorted source: send what the hold lets go (hold.ts), each once there is room for it. */
    async release() {
        for (const key of this.hold.release(() => this.buffers.entries()))
            await this.dispatch(key);
    }
    /** Unsorted source: into room nobody needs, the fullest partial transactions go (early.ts). */
    sendEarly(growing) {
        let room = this.flow.room();
        if (room <= 0)
            return;
        for (const key of this.hold.early.fullest()) {
            // Not the partition the source is sending now: a source that sends partitions whole (as Cosmos
            // often does) would otherwise see each of them cut at five.
            if (key === growing)
                continue;
            if (room-- <= 0)
                return this.flow.markLimited();
            const wait = this.dispatch(key);
            if (wait)
                return wait;
        }
    }
    /**
     * Unsorted source read by key ranges: a range has been read, so every partition held is complete. They
     * go in the background while the next range is read, once the range before has gone (two at most held).
     */
    async rangeEnded() {
        await this.sendingRange;
        this.sendingRange = this.send(this.buffers.keys());
        this.sendingRange.catch(() => undefined); // met by the next rangeEnded or flush
    }
    /** Send these partitions' buffered operations, each once there is room for it. */
    async send(keys) {
        for (const key of keys)
            await this.dispatch(key);
    }
    /** Send every partition's buffered operations now (each once there is room; not waited for to land). */
    sendBuffered() {
        return this.send(this.buffers.keys());
    }
    /** Send everything buffered and wait for every transaction to finish. */
    async flush() {
        await this.sendingRange;
        await this.sendBuffered();
        while (this.inFlight > 0)
            await new Promise((resolve) => this.idle.push(resolve));
        return this.counters;
    }
    /** Send a partition's buffered operations; a promise only when it has to wait for room. */
    dispatch(pk) {
        const buf = this.buffers.get(pk);
        if (!buf)
            return;
        this.buffers.delete(pk);
        this.hold.bytes -= buf.held;
        if (buf.held > 0)
            this.hold.early.gone(pk, buf.ops.length);
        const ops = buf.ops;
        // Built before waiting for a slot: when one frees, the request goes out at once instead of the
        // destination waiting while its body is encoded. One operation needs no transaction (see submitOne).
        const single = ops.length === 1 ? singleRequest(this.url, ops[0]) : undefined;
        const batch = single ? undefined : this.build(ops);
        const bytes = single ? (single.body?.length ?? 0) : batch.body.length;
        if (single) {
            ops[0].json = undefined;
            // Built once, its body is all a retry sends; what is left to do with the operation (messages, the
            // guard's ETags) needs only its keys. Its properties then die young instead of waiting out the
            // round trip in memory: over 100 ms, requests in flight outlive two collections and were copied to
            // the old generation (with the page parsed lazily as well: 15 % fewer bytes promoted, 8–18 % faster).
            ops[0].entity = keysOnly(ops[0].entity);
        }
        const launch = (start) => {
            this.inFlight++;
            const sent = single ? this.submitOne(ops[0], single) : this.submit(ops, 0, batch);
            const done = () => {
                this.flow.release(bytes, start, ops.length);
                if (--this.inFlight === 0)
                    for (const w of this.idle.splice(0))
                        w();
            };
            sent.then(done, done);
        };
        const start = this.flow.tryAcquire(ops.length, bytes);
        if (start !== undefined)
            return launch(start);
        return this.flow.acquire(ops.length, bytes).then(launch);
    }
    /**
     * One operation as a plain entity request (PUT, MERGE, POST or DELETE): a table with one entity per
     * partition is one request per entity, and a transaction's multipart framing would cost both sides
     * more than the entity itself.
     */
    submitOne(op, prebuilt) {
        const req = prebuilt ?? singleRequest(this.url, op);
        op.json = undefined;
        this.counters.transactions++;
        // A chain rather than an async function: one step less per entity in a table of one per partition.
        return this.http
            .send({
            method: req.method,
            url: req.url,
            headers: req.headers,
            body: req.body,
            stats: this.httpStats,
            beforeRetry: this.retryOne,
            // Only the post-switch guard reads a landed write's ETag.
            successHeaders: this.opts.onLanded !== undefined,
        })
            .then((res) => this.answered(op, res), (err) => this.outcomes.fail([op], err instanceof Error ? err.message : String(err)));
    }
    /** A one-entity request's final answer. */
    answered(op, res) {
        if (res.status >= 200 && res.status < 300) {
            this.flow.completed(1);
            this.outcomes.landed([op], [res.headers.etag]);
            return;
        }
        const { code, message } = serviceMessage(res);
        if (code === "TableNotFound")
            this.outcomes.fail([op], `Table ${this.table}: ${message}`, res.status, code);
        else if (res.status >= 400 && res.status < 500 && !isRetryableStatus(res.status))
            this.outcomes.reject(op, res.status, code, message);
        else
            this.outcomes.fail([op], `HTTP ${res.status}${code ? ` ${code}` : ""}: ${message}`, res.status, code);
    }
    build(ops) {
        const batch = buildBatchBytes(this.url, ops);
        // The body now holds every entity's JSON: let the per-operation copies go while the transaction is
        // in flight, so they die young instead of being promoted (a resubmission computes them again; a held
        // operation's JSON is its only body and stays).
        for (const op of ops)
            if (!hasOnlyKeys(op.entity))
                op.json = undefined;
        return batch;
    }
    async submit(ops, changesetRetries, prebuilt) {
        if (ops.length === 0)
            return;
        if (ops.length === 1 && !prebuilt)
            return this.submitOne(ops[0]);
        const batch = prebuilt ?? this.build(ops);
        this.counters.transactions++;
        let res;
        try {
            res = await this.http.send({
                method: "POST",
                url: `${this.http.url}/$batch`,
                headers: { "Content-Type": batch.contentType, Accept: "application/json;odata=minimalmetadata" },
                body: batch.body,
                stats: this.httpStats,
                beforeRetry: () => this.flow.retry(ops.length),
            });
        }
        catch (err) {
            this.outcomes.fail(ops, err instanceof Error ? err.message : String(err));
            return;
        }
        if (res.status !== 202) {
            const { code, message } = serviceMessage(res);
            if (ops.length > 1 &&
                res.status >= 400 &&
                res.status < 500 &&
                res.status !== 404 &&
                res.status !== 403) {
                // The whole request was refused (e.g. too large): halve until the culprit stands alone.
                await this.split(ops, changesetRetries);
                return;
            }
            if (ops.length === 1 && res.status >= 400 && res.status < 500) {
                this.outcomes.reject(ops[0], res.status, code, message);
                return;
            }
            this.outcomes.fail(ops, `HTTP ${res.status}${code ? ` ${code}` : ""}: ${message}`, res.status, code);
            return;
        }
        const outcome = parseBatchResponse(res.body, ops.length);
        if (outcome.ok) {
            this.flow.completed(ops.length);
            this.outcomes.landed(ops, outcome.etags);
            return;
        }
        const status = outcome.status ?? 0;
        if (outcome.code === "TableNotFound") {
            // Every operation would fail the same way: fail them together, not one request per entity.
            this.outcomes.fail(ops, `Table ${this.table}: ${outcome.message ?? "the table does not exist"}`, status, outcome.code);
            return;
        }
        if (RETRYABLE_IN_CHANGESET.has(status) && changesetRetries < MAX_CHANGESET_RETRIES) {
            if (status === 429) {
                // Throttled inside the transaction: counted and reported like a 429 on the request.
                this.http.stats.throttled++;
                this.httpStats.throttled++;
                this.http.onThrottle?.(undefined);
            }
            else if (status === 503 || status === 500)
                this.http.onBusy?.();
            if (this.opts.flow && status === 429) {
                // The run's flow control (which pauses every send for a while and lowers the rate) replaces
                // the fixed back-off.
                await this.flow.retry(ops.length);
            }
            else {
                const backoff = new Promise((r) => setTimeout(r, 500 * 2 ** changesetRetries));
                await Promise.all([backoff, this.flow.retry(ops.length)]);
            }
            await this.submit(ops, changesetRetries + 1);
            return;
        }
        const i = outcome.failedIndex;
        if (i !== undefined && !RETRYABLE_IN_CHANGESET.has(status)) {
            this.outcomes.reject(ops[i], status, outcome.code, outcome.message ?? `HTTP ${status}`);
            await this.submit([...ops.slice(0, i), ...ops.slice(i + 1)], changesetRetries);
            return;
        }
        if (ops.length > 1) {
            await this.split(ops, changesetRetries);
            return;
        }
        this.outcomes.reject(ops[0], status, outcome.code, outcome.message ?? `HTTP ${status}`);
    }
    async split(ops, retries) {
        const mid = Math.ceil(ops.length / 2);
        await this.submit(ops.slice(0, mid), retries);
        await this.submit(ops.slice(mid), retries);
    }
}

;// CONCATENATED MODULE: ./src/engine/copy/pool.ts
// A bound on concurrent async work (point reads): an adaptive window of tasks at once (window.ts: `auto`
// grows it while the round trip stays flat, a number caps it), and the first failure is kept and
// rethrown to the caller.

class TaskPool {
    running = 0;
    waiters = [];
    idle = [];
    failure;
    window;
    constructor(limit) {
        this.window = new AdaptiveWindow(limit);
    }
    /** Start `task` once there is room; rethrows an earlier task's failure. */
    async run(task) {
        while (this.running >= this.window.size) {
            this.window.markLimited();
            await new Promise((resolve) => this.waiters.push(resolve));
        }
        this.throwIfFailed();
        this.running++;
        const start = performance.now();
        void task()
            .catch((error) => {
            this.failure ??= { error };
        })
            .finally(() => {
            this.running--;
            const now = performance.now();
            this.window.completed(now - start, now);
            // A grown window has room for more than the one that left.
            const room = Math.max(1, this.window.size - this.running);
            for (const w of this.waiters.splice(0, room))
                w();
            if (this.running === 0)
                for (const w of this.idle.splice(0))
                    w();
        });
    }
    /**
     * Start `task` once there is room, and hand back its outcome (wrapped, so waiting for room is not
     * waiting for the task): for callers that need each result, in their own order.
     */
    async start(task) {
        let outcome;
        await this.run(() => {
            outcome = task();
            return outcome.then(() => undefined, () => undefined);
        });
        return { outcome };
    }
    /** Wait for every started task; rethrows the first failure. */
    async drain() {
        while (this.running > 0)
            await new Promise((resolve) => this.idle.push(resolve));
        this.throwIfFailed();
    }
    throwIfFailed() {
        if (this.failure)
            throw this.failure.error;
    }
}
/** Runs async steps one after another in call order (TableWriter.add must not interleave with itself). */
class SerialQueue {
    tail = Promise.resolve();
    push(step) {
        const p = this.tail.then(step);
        this.tail = p.catch(() => undefined);
        return p;
    }
}

;// CONCATENATED MODULE: ./src/engine/copy/checkpoints.ts
/** Entities beyond the resume point that never stall the copy (`stalled`): a few pages. */
const MIN_BEYOND = 5_000;
class ResumeTracker {
    /** Pages not yet part of the resume point, in reading order. */
    open = [];
    read = 0;
    written = 0;
    /** A failed entity: no resume point past its page in this run. */
    stuck = false;
    /** The furthest resume point: every entity before it is settled and none failed. */
    latest;
    /** Told each time `latest` moves (the Checkpointer saves it as soon as its interval allows). */
    onAdvance;
    /** Entities settled so far, and samples of it ([ms, count]) over the last lag limit (`stalled`). */
    settled = 0;
    samples = [];
    movers = [];
    /**
     * Whether more entities wait beyond the resume point than land in `ms` (at least MIN_BEYOND): a
     * request the service holds far longer than the others (Azurite answered a few transactions in 5 s
     * while the rest took 0.3 s) holds the point back while everything after it lands, and a kill would
     * copy all that again. The copy then reads no further until the point moves (moved()), so what a kill
     * repeats stays within about `ms` of work. Never after a failed entity: the point stays there for good.
     */
    stalled(ms) {
        if (this.stuck || this.open.length === 0)
            return false;
        const now = performance.now();
        const samples = this.samples;
        samples.push([now, this.settled]);
        while (samples.length > 2 && samples[1][0] <= now - ms)
            samples.shift();
        const span = now - samples[0][0];
        // Over a span shorter than `ms` (the first pages), what landed so far, not extrapolated from a burst.
        const landed = (this.settled - samples[0][1]) * Math.min(1, ms / Math.max(1, span));
        let beyond = 0;
        for (const page of this.open)
            beyond += page.read;
        return beyond > Math.max(MIN_BEYOND, landed);
    }
    /** Resolves once the resume point moves, or can never move again (a failed entity). */
    moved() {
        if (this.stuck)
            return Promise.resolve();
        return new Promise((resolve) => this.movers.push(resolve));
    }
    /** A page starts: its entities will be counted against this mark. */
    page() {
        const mark = { pending: 0, written: 0, failed: false, closed: false, read: 0 };
        this.open.push(mark);
        return mark;
    }
    /** Every entity of the page has been handed over; `continuation` is where the next page starts. */
    close(mark, read, continuation) {
        mark.closed = true;
        mark.read = read;
        mark.continuation = continuation;
        this.advance();
    }
    /** One of the page's operations is done: landed (`written`), skipped or in conflict, or failed. */
    settle(mark, outcome) {
        mark.pending--;
        this.settled++;
        if (outcome === "written")
            mark.written++;
        else if (outcome === "failed")
            mark.failed = true;
        this.advance();
    }
    advance() {
        const before = this.latest;
        const wasStuck = this.stuck;
        this.settleFront();
        if (this.latest !== before)
            this.onAdvance?.();
        if (this.movers.length > 0 && (this.latest !== before || this.stuck !== wasStuck)) {
            for (const resolve of this.movers.splice(0))
                resolve();
        }
    }
    settleFront() {
        while (!this.stuck && this.open.length > 0) {
            const first = this.open[0];
            if (!first.closed || first.pending > 0)
                return;
            if (first.failed) {
                this.stuck = true;
                return;
            }
            this.open.shift();
            this.read += first.read;
            this.written += first.written;
            if (first.continuation) {
                this.latest = { continuation: first.continuation, read: this.read, written: this.written };
            }
        }
    }
}
/**
 * Saves the tracker's latest resume point in the background: as soon as it moves, but no sooner than
 * `intervalMs` after the save before (a point that moves while a save is under way, or too soon after one,
 * is saved when the interval is up). The copy never waits for a save, saves never overlap, and a point
 * already saved is not saved again. On a fixed timer instead, a point that moved just after a tick waited
 * a whole interval: a kill -9 then copied that second of work again.
 */
class Checkpointer {
    tracker;
    save;
    intervalMs;
    timer;
    saving;
    saved;
    lastSaveAt = -Infinity;
    stopped = false;
    constructor(tracker, save, intervalMs) {
        this.tracker = tracker;
        this.save = save;
        this.intervalMs = intervalMs;
        if (intervalMs !== undefined)
            tracker.onAdvance = () => this.due();
    }
    /** The point moved, or a save ended: save now if the interval allows, or when it does. */
    due() {
        if (this.stopped || this.saving || this.timer || this.intervalMs === undefined)
            return;
        if (this.tracker.latest === this.saved)
            return;
        const wait = this.lastSaveAt + this.intervalMs - performance.now();
        if (wait <= 0) {
            void this.saveLatest()
                .catch(() => undefined)
                .then(() => this.due());
            return;
        }
        this.timer = setTimeout(() => {
            this.timer = undefined;
            this.due();
        }, wait);
        this.timer.unref?.();
    }
    /** Save the latest resume point now (after any save under way); a failure to save is the caller's. */
    async saveLatest() {
        while (this.saving)
            await this.saving.catch(() => undefined);
        const point = this.tracker.latest;
        if (!point || point === this.saved)
            return;
        this.lastSaveAt = performance.now();
        this.saving = Promise.resolve(this.save(point)).then(() => {
            this.saved = point;
        });
        try {
            await this.saving;
        }
        finally {
            this.saving = undefined;
        }
    }
    /** No more saves; waits for one under way, so nothing lands after the caller's own final save. */
    async stop() {
        this.stopped = true;
        clearTimeout(this.timer);
        this.timer = undefined;
        this.tracker.onAdvance = undefined;
        while (this.saving)
            await this.saving.catch(() => undefined);
    }
}

;// CONCATENATED MODULE: ./src/engine/wire/tables.ts
// Table-level requests: create a destination table, check that it exists.

/** Create the table unless it exists. */
async function ensureTable(http, table, stats) {
    const res = await http.send({
        stats,
        method: "POST",
        url: `${http.url}/Tables`,
        headers: {
            "Content-Type": "application/json",
            Accept: "application/json;odata=nometadata",
            Prefer: "return-no-content",
        },
        body: JSON.stringify({ TableName: table }),
    });
    if (res.status === 409 || (res.status >= 200 && res.status < 300))
        return;
    throw ServiceError.from(res, `Creating destination table ${table}`, http.label);
}
/**
 * Whether the destination table exists: true, false, or undefined when the answer is unclear (the caller
 * then creates or checks it the usual way). A read, without side effects.
 */
async function tableExists(http, table, stats) {
    const res = await getTable(http, table, stats);
    return res.status === 200 ? true : res.status === 404 ? false : undefined;
}
function getTable(http, table, stats) {
    return http.send({
        stats,
        method: "GET",
        url: `${http.url}/Tables('${table}')`,
        headers: { Accept: "application/json;odata=nometadata" },
    });
}
/** With create-tables off, a missing destination table is one clear table error, not N failed entities. */
async function requireTable(http, table, stats) {
    const res = await getTable(http, table, stats);
    if (res.status === 404) {
        throw new ServiceError(`Destination table ${table} does not exist and create-tables is off; create it (with enough throughput) or set create-tables to true.`, 404, "TableNotFound");
    }
    if (res.status >= 300)
        throw ServiceError.from(res, `Checking destination table ${table}`, http.label);
}

;// CONCATENATED MODULE: ./src/engine/copy/run-config.ts
const CANCELLED = "the run was cancelled";
const DEFAULT_TABLES_AT_ONCE = 4;

;// CONCATENATED MODULE: ./src/engine/copy/copy-table.ts
// One table: read pages from the source, transform, and write transactions to the destination, reading
// ahead while earlier transactions are still in flight; resume points are saved without draining.














/**
 * Entities handed to the writer between two looks at the sockets. A page is 1,000 entities and about
 * 10 ms of CPU to transform and frame; done in one go, the answers and the next page's bytes wait in the
 * socket buffers meanwhile, and a full receive buffer stalls the source's sending (TCP flow control) for
 * a round trip. Measured through the bench's 20 ms link: 1,000 per partition 15,300 → 18,000/s, 10 per
 * partition 12,700 → 15,200/s.
 */
const YIELD_EVERY = 100;
/** Let pending I/O (answers, page bytes) be handled before going on. */
function yieldToIo() {
    return new Promise((resolve) => setImmediate(resolve));
}
function emptyResult(spec, filter) {
    return {
        source: spec.source,
        destination: spec.destination,
        filter,
        read: 0,
        written: 0,
        skipped: 0,
        failed: 0,
        conflicts: 0,
        transactions: 0,
        durationMs: 0,
        failures: [],
        conflictDetails: [],
        throttled: 0,
        retries: 0,
    };
}
async function copyTable(conn, config, spec, plan, hooks = {}) {
    const started = Date.now();
    const result = emptyResult(spec, plan.filter);
    // An unsorted source is read by key ranges (ranged-reader.ts), unless resuming a plain scan's checkpoint;
    // a sorted one as one scan, or by lanes of key ranges when that scan is slow (lane-reader.ts), which also
    // take up a ranged checkpoint of a sorted source.
    const sorted = conn.source.kind === "table";
    const byRanges = !sorted && (plan.continuation?.ranged === true || !plan.continuation);
    const reader = byRanges
        ? new RangedReader(conn.source, spec.source, {
            filter: plan.filter,
            continuation: plan.continuation,
            rangeBytes: config.rangeBytes,
        })
        : sorted
            ? new LaneReader(conn.source, spec.source, {
                filter: plan.filter,
                continuation: plan.continuation,
                lanes: config.lanes,
                slowPageMs: config.slowPageMs,
                rangeEntities: config.rangeEntities,
            })
            : new TableReader(conn.source, spec.source, {
                filter: plan.filter,
                // No small first page ($top): the next page is asked for on a page's headers, so a first page of
                // 100 would only delay the second by its own service time, and 100 entities keep one of the
                // destination's transaction slots busy, not all of them. Measured: the destination is idle longer
                // at the start with it.
                continuation: plan.continuation,
                forCopy: true,
            });
    let transformer;
    try {
        transformer = createTransformer({
            renames: config.propertyRenames,
            destinationKind: conn.destination.kind,
            sourceTable: spec.source,
        });
    }
    catch (err) {
        // Renames the destination cannot take: one table error before anything is read, not one per entity.
        result.error = `Table ${spec.source}: ${describeError(err)}`;
        result.durationMs = Date.now() - started;
        return result;
    }
    const guard = plan.guard;
    // Resume points without draining the writer: a page counts once it and every page before it landed.
    const tracker = new ResumeTracker();
    const writer = new TableWriter(conn.destination, spec.destination, {
        onSettled: (op, outcome) => {
            if (op.mark)
                tracker.settle(op.mark, outcome);
        },
        concurrency: config.concurrency,
        maxFailuresKept: config.maxFailuresKept,
        sortedSource: conn.source.kind === "table",
        byRanges,
        hold: { maxMs: holdMs(config.checkpointIntervalMs) },
        flow: conn.flow,
        ...(guard && {
            classifyRejection: classifyGuarded,
            onConflict: (op, status, message) => conflict(op.entity, `the destination changed while we wrote it (HTTP ${status}: ${message})`),
            onLanded: (op, etag) => {
                if (etag)
                    guard.ours.add(ourWriteId(op.entity.partitionKey, op.entity.rowKey, etag));
            },
        }),
    });
    const conflict = (e, message) => {
        if (result.conflictDetails.length < config.maxFailuresKept) {
            result.conflictDetails.push({ partitionKey: e.partitionKey, rowKey: e.rowKey, message });
        }
    };
    let guardConflicts = 0;
    let guardSkipped = 0;
    // The guard's point reads, counted with this table's requests like the reader's and the writer's.
    const guardStats = { requests: 0, throttled: 0, retries: 0 };
    // As many point reads in flight as the destination takes (window.ts), like the writes.
    const guardReads = new TaskPool(config.concurrency);
    /** Post-switch: read each destination entity first, then write only what the app has not changed. */
    const writeGuarded = async (g, entities, mark) => {
        const reads = [];
        for (const e of entities) {
            reads.push(await guardReads.start(() => readDestinationEntity(conn.destination, spec.destination, e.partitionKey, e.rowKey, guardStats)));
        }
        for (let j = 0; j < entities.length; j++) {
            const d = decide(g, config.writeMode, await reads[j].outcome, entities[j]);
            if (d.conflict) {
                guardConflicts++;
                conflict(entities[j], d.conflict);
            }
            else if (d.op) {
                const wait = writer.add(d.op.kind, entities[j], d.op.ifMatch, mark);
                if (wait)
                    await wait;
            }
            else
                guardSkipped++;
        }
    };
    const kind = operationFor(config.writeMode);
    const base = plan.resume ?? { read: 0, written: 0 };
    const clock = () => plan.resume?.sourceClockAtStart ?? result.sourceClockAtStart;
    const checkpoints = hooks.onCheckpoint && !config.dryRun
        ? new Checkpointer(tracker, async (point) => {
            const sourceClockAtStart = clock();
            if (!sourceClockAtStart)
                return;
            await hooks.onCheckpoint?.(spec, {
                continuation: point.continuation,
                sourceClockAtStart,
                read: base.read + point.read,
                written: base.written + point.written,
            });
        }, config.checkpointIntervalMs)
        : undefined;
    const lagLimitMs = checkpoints && sorted ? config.checkpointIntervalMs : undefined;
    const report = () => hooks.onProgress?.({
        table: spec.source,
        read: result.read,
        written: writer.counters.written,
        skipped: writer.counters.skipped,
        failed: writer.counters.failed + result.failed,
    });
    // Asked while the first page is read: when the table is there (every backfill), nothing else is needed
    // before the first transaction. A failure waits for then (an unreachable destination fails the table
    // with its own error, after its retries), and is never met when the source fails first.
    const destinationExists = config.dryRun
        ? undefined
        : tableExists(conn.destination, spec.destination, writer.httpStats).then((exists) => ({ exists }), (error) => ({ error }));
    try {
        let destinationReady = config.dryRun;
        let atResumePoint = true;
        for await (const page of reader.pages()) {
            // Created only once the source answered: a missing source table must not leave an empty
            // destination table.
            if (!destinationReady) {
                const check = await destinationExists;
                if (check && "error" in check)
                    throw check.error;
                if (check?.exists !== true) {
                    if (config.createTables)
                        await ensureTable(conn.destination, spec.destination, writer.httpStats);
                    else
                        await requireTable(conn.destination, spec.destination, writer.httpStats);
                }
                destinationReady = true;
            }
            if (!result.sourceClockAtStart && reader.serverClock)
                result.sourceClockAtStart = reader.serverClock.toISOString();
            // Read no further while a straggler holds the resume point (checkpoints.ts, stalled): first sending
            // what waits for more of its partition, which the point may be waiting for. Not for an unsorted
            // source, whose partial transactions are held on purpose (hold.ts) and whose key ranges count whole.
            // Only where the page before was a resume point: inside a key range (lane-reader.ts) the point moves
            // at the range's end, which waiting here would never reach.
            if (lagLimitMs !== undefined && atResumePoint && tracker.stalled(lagLimitMs)) {
                await writer.sendBuffered();
                // Checked again each time: the point may have moved meanwhile, and then no later move need come.
                while (tracker.stalled(lagLimitMs))
                    await tracker.moved();
            }
            const guarded = [];
            const mark = tracker.page();
            let handled = 0;
            for (const entity of page.entities) {
                if (++handled % YIELD_EVERY === 0)
                    await yieldToIo();
                result.read++;
                let out;
                try {
                    out = transformer.apply(entity);
                }
                catch (err) {
                    result.failed++;
                    mark.failed = true;
                    if (result.failures.length < config.maxFailuresKept) {
                        result.failures.push({
                            partitionKey: entity.partitionKey,
                            rowKey: entity.rowKey,
                            message: describeError(err),
                        });
                    }
                    continue;
                }
                if (config.dryRun)
                    continue;
                if (guard)
                    guarded.push(out);
                else {
                    // Awaited only when the writer has no room: no promise per entity otherwise.
                    const wait = writer.add(kind, out, undefined, mark);
                    if (wait)
                        await wait;
                }
            }
            if (guard && guarded.length)
                await writeGuarded(guard, guarded, mark);
            tracker.close(mark, page.entities.length, page.inRange ? undefined : page.continuation);
            if (page.endsRange)
                await writer.rangeEnded();
            atResumePoint = !page.inRange;
            report();
            if (!page.continuation)
                continue; // the last page: the table is complete, even when cancelled
            if (hooks.signal?.aborted) {
                // Everything read is written first, so the last resume point is the last page read (read by key
                // ranges: the last range read whole; the next run reads the rest of this one again).
                await writer.flush();
                await checkpoints?.saveLatest();
                throw new Error(CANCELLED);
            }
        }
        if (!result.sourceClockAtStart && reader.serverClock)
            result.sourceClockAtStart = reader.serverClock.toISOString();
    }
    catch (err) {
        result.error =
            err instanceof TableMissingError
                ? err.message
                : err instanceof EntityFormatError
                    ? // Met while the page is read (entities are parsed as they are reached): what came before it landed.
                        `Table ${spec.source}: the source sent an entity that cannot be copied exactly (${err.message}).`
                    : describeError(err);
    }
    const counters = await writer.flush();
    // A table that ends short (an error, a failed entity) keeps the furthest resume point it reached, not
    // whichever one the timer happened to save last.
    if (result.error || result.failed + counters.failed > 0)
        await checkpoints?.saveLatest().catch(() => undefined);
    // A save under way must not land after the table's end is recorded (it would reopen the table).
    await checkpoints?.stop();
    result.written = counters.written;
    result.skipped = counters.skipped + guardSkipped;
    result.conflicts = counters.conflicts + guardConflicts;
    if (reader.lastServerClock)
        result.sourceClockAtEnd = reader.lastServerClock.toISOString();
    if (guard)
        result.ourWrites = [...guard.ours];
    result.transactions = counters.transactions;
    result.failed += counters.failed;
    for (const f of counters.failures) {
        if (result.failures.length < config.maxFailuresKept)
            result.failures.push(f);
    }
    result.durationMs = Date.now() - started;
    // Counted per reader and writer: tables copied at once share the connections.
    const counted = [writer.httpStats, reader.httpStats, guardStats];
    result.throttled = counted.reduce((n, s) => n + s.throttled, 0);
    result.retries = counted.reduce((n, s) => n + s.retries, 0);
    report();
    return result;
}

;// CONCATENATED MODULE: ./src/engine/copy/run-sync.ts
// One run: every table of the config, several at once, sharing the run's flow control.






/** Copy every table of the config. A failure in one table never stops the others. */
async function runSync(config, hooks = {}) {
    const started = Date.now();
    // Requests in flight finish (for a grace period) after the signal, so the pages read can be written
    // and checkpointed; the engine itself stops after the current page.
    const http = new AbortController();
    const signal = hooks.signal;
    let grace;
    const onAbort = () => {
        grace ??= setTimeout(() => http.abort(), config.cancelGraceMs ?? 5_000);
        grace.unref?.();
    };
    if (signal?.aborted)
        onAbort();
    else
        signal?.addEventListener("abort", onAbort, { once: true });
    const memory = new MemoryBudget();
    memory.start();
    try {
        return await runTables(config, hooks, http.signal, started);
    }
    finally {
        memory.stop();
        signal?.removeEventListener("abort", onAbort);
        if (grace)
            clearTimeout(grace);
    }
}
async function runTables(config, hooks, httpSignal, started) {
    const conn = connect(config, httpSignal);
    const results = new Array(config.tables.length);
    /** Plan, copy and hand over one table. A failure in one table never stops the others. */
    const one = async (spec, i) => {
        let plan;
        try {
            plan = hooks.plan
                ? await hooks.plan(spec, { sourceKind: conn.source.kind })
                : { filter: config.queryFilter };
        }
        catch (err) {
            // A table that cannot be planned (e.g. a backfill without a watermark) fails alone.
            const result = { ...emptyResult(spec), error: describeError(err) };
            results[i] = result;
            await hooks.onTableEnd?.(result);
            return;
        }
        if (plan === null)
            return;
        hooks.onTableStart?.(spec, plan);
        const result = await copyTable(conn, config, spec, plan, hooks);
        results[i] = result;
        await hooks.onTableEnd?.(result);
    };
    // Several tables at once: they share the run's flow control, so together they keep `concurrency`
    // transactions in flight (a small table no longer leaves the destination idle while the next one starts).
    const width = Math.max(1, Math.min(config.tables.length, config.tablesAtOnce ?? DEFAULT_TABLES_AT_ONCE));
    let next = 0;
    await Promise.all(Array.from({ length: width }, async () => {
        while (next < config.tables.length && !hooks.signal?.aborted) {
            const i = next++;
            await one(config.tables[i], i);
        }
    }));
    const done = results.filter((r) => r !== undefined);
    return {
        tables: done,
        totals: totals(done, Date.now() - started),
        sourceKind: conn.source.kind,
        destinationKind: conn.destination.kind,
    };
}

;// CONCATENATED MODULE: ./src/engine/steps/copy-report.ts
/** How far the destination trails the source: the watermark's age on the source clock at the table's end. */
function lagOf(result, watermark) {
    const end = Date.parse(result.sourceClockAtEnd ?? "");
    const wm = Date.parse(watermark ?? "");
    if (!Number.isFinite(end) || !Number.isFinite(wm))
        return undefined;
    return Math.max(0, Math.round((end - wm) / 1000));
}

;// CONCATENATED MODULE: ./src/engine/steps/messages.ts

/** A table as the user spelled it in `tables` (keys are lower case), or as its key says. */
function describeTable(key, specs) {
    const { source, destination } = specs.find((s) => tableKey(s) === key) ?? parseTableKey(key);
    return source === destination ? source : `${source} → ${destination}`;
}
function describeCheckpoint(key, cp, specs) {
    // Continuation tokens are opaque (the service may encode them): name the position by its count.
    return `table ${describeTable(key, specs)} after its first ${cp.read} entities`;
}

;// CONCATENATED MODULE: ./src/engine/steps/plan.ts
// Per table: what to read, and how to write. A full sync reads everything; a backfill reads what
// changed since the table's watermark minus the overlap (or since `since`), on the source server's
// clock; a full sync resumes from a stored checkpoint. Once a switch is recorded, every copy reads the destination first and keeps the app's writes.





/** Throws MissingWatermarkError for a backfill with neither a stored watermark nor `since`. */
function planTable(config, state, spec, ctx = { sourceKind: "table" }) {
    const key = tableKey(spec);
    const stored = state?.tables[key];
    const guard = switchGuard(state, spec, config.conflict);
    if (config.mode !== "backfill") {
        // A full sync resumes the scan a cancelled or killed full sync checkpointed.
        const cp = stored?.checkpoint;
        if (config.mode === "full-sync" && cp && cp.mode === "full-sync") {
            return {
                filter: config.queryFilter,
                guard,
                continuation: continuationFrom(cp.continuation),
                resume: { sourceClockAtStart: cp.sourceClockAtStart, read: cp.read, written: cp.written ?? 0 },
            };
        }
        return { filter: config.queryFilter, guard };
    }
    if (ctx.sourceKind === "cosmos") {
        throw new StateError(`Table ${spec.source}: a backfill cannot read from Cosmos DB for Table, which silently returns no rows for Timestamp filters; use mode 'full-sync', or 'verify' with 'repair: true'.`);
    }
    const from = backfillStart(state, key, config.since, config.overlapSeconds);
    return { filter: andFilters(sinceFilter(from), config.queryFilter), guard };
}
/** Once a switch is recorded for the table, what every write to it must respect (the app's writes). */
function switchGuard(state, spec, conflict) {
    const stored = state?.tables[tableKey(spec)];
    if (!stored?.switchedAt)
        return undefined;
    return {
        switchedAt: stored.switchedAt,
        ours: new Set(stored.postSwitchWrites ?? []),
        policy: conflict ?? "skip",
    };
}

;// CONCATENATED MODULE: ./src/state/store.ts
// Where the state lives between runs. The engine's callers get a store handed in, so every store is tested on
// its own and the rest runs with the in-memory one.

/** Keeps the serialized state in memory: the same validation and size limit as the real stores. */
class MemoryStateStore {
    /** Every serialized state saved, oldest first. */
    saved = [];
    constructor(initial) {
        if (initial !== undefined)
            this.saved.push(typeof initial === "string" ? initial : serializeState(initial));
    }
    async load() {
        const last = this.saved.at(-1);
        return last === undefined ? undefined : parseState(last, this.describe());
    }
    async save(state) {
        this.saved.push(serializeState(state));
    }
    describe() {
        return "memory";
    }
}

;// CONCATENATED MODULE: ./src/state/records.ts
// What a run leaves in the state for people watching the migration (state/history.ts, the status step):
// each backfill's point in the table's lag history, and the table's size as last counted.


/** The state with one more backfill in the table's history. */
function withBackfill(state, key, point) {
    const entry = state.tables[key] ?? {};
    const at = new Date(point.at).toISOString();
    const history = appendHistory(entry.history, { ...point, at });
    return { ...state, tables: { ...state.tables, [key]: { ...entry, history } } };
}
/** The state with the table's entity count, as `by` (preflight, full-sync) counted it at `at`. */
function withSize(state, key, entities, by, at) {
    const entry = state.tables[key] ?? {};
    const size = { entities, by, at: new Date(at).toISOString() };
    return { ...state, tables: { ...state.tables, [key]: { ...entry, size } } };
}
/**
 * Preflight's counts, kept so the full sync's progress can show an ETA (nothing is saved without a store).
 * Preflight only reads the source: a state it cannot save does not fail it, it says so (the returned sentence).
 */
async function rememberSizes(store, counts, at = new Date()) {
    if (!store || counts.length === 0)
        return undefined;
    try {
        let state = (await store.load()) ?? emptyState();
        for (const c of counts)
            state = withSize(state, c.key, c.entities, "preflight", at);
        await store.save(state);
        return undefined;
    }
    catch (err) {
        const why = (err instanceof Error ? err.message : String(err)).replace(/\.$/, "");
        return `The tables' sizes could not be kept in ${store.describe()} (${why}), so the full sync's progress will show no ETA.`;
    }
}

;// CONCATENATED MODULE: ./src/engine/steps/copy-id.ts
// What defines one copy of a table: where it is read, where it is written, which entities (query-filter),
// what they look like on arrival (property-renames) and how they are written (write-mode). A full sync's
// records (its checkpoint, and the note that the table is done) answer only for the copy they were made by:
// resuming another copy from them would skip entities or leave two shapes in one table.
//
// Kept as five short digests, one per part, so the state holds no account key, SAS or filter text, and a
// run can still say which part changed.


/** The parts of a copy's definition, in the order the digest lists them, as a sentence names them. */
const COPY_PARTS = [
    "source account or table",
    "destination account or table",
    "query-filter",
    "property-renames",
    "write-mode",
];
/** An account as the user pointed at it, without credentials: its table endpoint, or nothing when unknown. */
function accountOf(side) {
    try {
        if (side.connectionString)
            return parseConnectionString(side.connectionString).url.toLowerCase();
        if (side.endpoint)
            return normalizeEndpoint(side.endpoint).toLowerCase();
    }
    catch {
        // A connection string the run refuses anyway: no copy is made by it.
    }
    return "";
}
function digest(text) {
    // 8 hex digits per part: a chance collision (1 in 4 billion) would only resume a changed copy.
    return (0,external_node_crypto_.createHash)("sha256").update(text).digest("hex").slice(0, 8);
}
/** The copy id of one table: five digests joined by '.', e.g. `1a2b3c4d.…` (44 characters). */
function copyId(def, spec) {
    const parts = [
        `${accountOf(def.source)}|${spec.source.toLowerCase()}`,
        `${accountOf(def.destination)}|${spec.destination.toLowerCase()}`,
        def.queryFilter ?? "",
        def.propertyRenames.map((r) => `${r.from}:${r.to}`).join(","),
        def.writeMode,
    ];
    return parts.map(digest).join(".");
}
/** The first part in which two copy ids differ, or undefined when they describe the same copy. */
function changedPart(stored, current) {
    if (stored === current)
        return undefined;
    const a = stored.split(".");
    const b = current.split(".");
    const i = COPY_PARTS.findIndex((_, k) => a[k] !== b[k]);
    return COPY_PARTS[i < 0 ? 0 : i];
}
/**
 * The state a full sync may resume from: every checkpoint and every "done" note of the run's tables that a
 * different copy made is dropped, with one sentence each. Records without a copy id (older states) keep the
 * older rule: a checkpoint is dropped when its query-filter or property-renames differ.
 */
function bindToCopies(state, mode, ids, legacy, describe) {
    const notices = [];
    const tables = { ...state.tables };
    let marker = state.fullSync;
    for (const [key, id] of ids) {
        const cp = tables[key]?.checkpoint;
        if (cp && cp.mode === mode) {
            const part = cp.copy
                ? changedPart(cp.copy, id)
                : (cp.queryFilter ?? "") !== (legacy.queryFilter ?? "")
                    ? "query-filter"
                    : (cp.propertyRenames ?? "") !== legacy.renames
                        ? "property-renames"
                        : undefined;
            if (part) {
                const entry = { ...tables[key] };
                delete entry.checkpoint;
                tables[key] = entry;
                notices.push(`The checkpoint of table ${describe(key)} was saved with another ${part}, so the table is copied from the start.`);
            }
        }
        const doneWith = marker?.done.includes(key) ? marker.copies?.[key] : undefined;
        const part = doneWith ? changedPart(doneWith, id) : undefined;
        if (marker && part) {
            const copies = { ...marker.copies };
            delete copies[key];
            marker = { ...marker, done: marker.done.filter((k) => k !== key), copies };
            notices.push(`Table ${describe(key)} was completed by a full sync with another ${part}, so it is copied afresh.`);
        }
    }
    const next = { ...state, tables };
    // Nothing of the interrupted run left to resume for these tables: this run starts a full sync of its own.
    const keys = [...ids.keys()];
    const left = keys.some((k) => marker?.done.includes(k) || (tables[k]?.checkpoint && tables[k].checkpoint.mode === mode));
    // (A marker that lists none of them would only make the run say "0 of 1 table already done".)
    if (marker && left)
        next.fullSync = marker;
    else
        delete next.fullSync;
    return { state: next, notices };
}

;// CONCATENATED MODULE: ./src/engine/steps/progress.ts
/** The table's known size for this run, or undefined when the run's progress cannot be measured against it. */
function knownSize(state, key, run) {
    if (run.mode !== "full-sync" || run.queryFilter || run.sharded)
        return undefined;
    const size = state?.tables[key]?.size;
    return size && size.entities > 0 ? { entities: size.entities, by: size.by } : undefined;
}
class ProgressMeter {
    now;
    tables = new Map();
    constructor(now = Date.now) {
        this.now = now;
    }
    start(spec, plan, size) {
        this.tables.set(spec.source, { startedMs: this.now(), base: plan.resume?.read ?? 0, size });
    }
    annotate(p) {
        const m = this.tables.get(p.table);
        const elapsed = m ? this.now() - m.startedMs : 0;
        const perSecond = elapsed > 0 ? Math.round((p.read * 1000) / elapsed) : 0;
        const out = { ...p, perSecond };
        if (m?.size)
            out.eta = etaOf(m.size, m.base + p.read, perSecond);
        if (m)
            m.last = out;
        return out;
    }
    /** Entities read over every resumed run (the count a complete table's size is recorded as). */
    total(table, readThisRun) {
        return (this.tables.get(table)?.base ?? 0) + readThisRun;
    }
    /** The table's last progress (with its ETA, when its size is known). */
    last(table) {
        return this.tables.get(table)?.last;
    }
}
function etaOf(size, done, perSecond) {
    const left = Math.max(0, size.entities - done);
    return {
        expected: size.entities,
        sizeBy: size.by,
        done,
        percent: Math.min(100, Math.round((done * 1000) / size.entities) / 10),
        perSecond,
        secondsLeft: left === 0 ? 0 : perSecond > 0 ? Math.ceil(left / perSecond) : undefined,
    };
}

;// CONCATENATED MODULE: ./src/engine/steps/run-records.ts





class RunRecords {
    config;
    ids = new Map();
    meter = new ProgressMeter();
    constructor(config, sides) {
        this.config = config;
        const def = { ...config, ...sides };
        for (const spec of config.tables)
            this.ids.set(tableKey(spec), copyId(def, spec));
    }
    /** The copy id a table's records are made by in this run. */
    id(key) {
        return this.ids.get(key);
    }
    /** The state without the records a different copy made (one sentence each). */
    bind(state, describe) {
        const renames = this.config.propertyRenames.map((r) => `${r.from}:${r.to}`).join(",");
        return bindToCopies(state, this.config.mode, this.ids, { queryFilter: this.config.queryFilter, renames }, describe);
    }
    /** The run marker with `key` done, by this run's copy. */
    done(marker, key) {
        const id = this.ids.get(key);
        const copies = { ...marker.copies, ...(id && { [key]: id }) };
        return { ...marker, done: [...marker.done.filter((k) => k !== key), key], copies };
    }
    start(spec, plan, state) {
        const size = knownSize(state, tableKey(spec), {
            mode: this.config.mode,
            queryFilter: this.config.queryFilter,
            sharded: !!this.config.shard,
        });
        this.meter.start(spec, plan, size);
    }
    progress(p) {
        return this.meter.annotate(p);
    }
    /** The table's last ETA (its summary shows it), when its size was known. */
    eta(table) {
        return this.meter.last(table)?.eta;
    }
    /** The state after a table's run: its size (a whole-table full sync) or its lag history point (a backfill). */
    ended(state, key, r) {
        if (!tableSucceeded(r) || this.config.dryRun || this.config.shard)
            return state;
        const now = new Date();
        if (this.config.mode === "full-sync" && !this.config.queryFilter) {
            return withSize(state, key, this.meter.total(r.source, r.read), "full-sync", now);
        }
        const end = Date.parse(r.sourceClockAtEnd ?? "");
        const watermark = Date.parse(state.tables[key]?.watermark ?? "");
        if (this.config.mode !== "backfill" || !Number.isFinite(end) || !Number.isFinite(watermark))
            return state;
        const lagSeconds = Math.max(0, Math.round((end - watermark) / 1000));
        return withBackfill(state, key, { at: new Date(end), lagSeconds, changed: r.read });
    }
}
/**
 * A backfill read through key ranges (`read-ranges`): its ranges run as shards of one job, each with its own
 * records, so the table's lag history is written once they are all done — one point per table that completed,
 * with the lag of the whole table (the latest range's end against the table's new watermark).
 */
async function recordRangedBackfills(store, reports) {
    const done = reports.filter((r) => tableSucceeded(r.result) && r.lagSeconds !== undefined);
    if (!store || done.length === 0)
        return;
    let state = await store.load();
    if (!state)
        return;
    for (const r of done) {
        const at = r.result.sourceClockAtEnd ?? new Date().toISOString();
        state = withBackfill(state, tableKey(r.result), {
            at,
            lagSeconds: r.lagSeconds ?? 0,
            changed: r.result.read,
        });
    }
    await store.save(state);
}

;// CONCATENATED MODULE: ./src/engine/steps/shards.ts






/**
 * Agree on each table's shard plan with the other shards: use the stored plan for this n, or sample the keys and
 * store ours unless another shard stored one first; then, after a pause long enough for a concurrent save to
 * land, read the plans back and take what is stored. Should two shards still read by different plans, no table
 * watermark is derived from them (see `combinedWatermark`), so nothing a backfill relies on can be missed.
 */
async function prepareShards(config, shard, deps, store, notice) {
    if (!store) {
        throw new StateError("Input 'shard' needs a state store shared by the shards (the cache or a repository variable, or --state-file for the CLI): the shards agree on their key ranges and each keeps its own checkpoint and watermark there.");
    }
    const sid = shardId(shard);
    const conn = connect({ source: deps.source, destination: deps.destination, retry: deps.retry });
    const failures = new Map();
    const sampled = new Map();
    let latest = (await store.load()) ?? emptyState();
    const storedPlan = (s, key) => {
        const p = s.tables[key]?.shardPlan;
        return p && p.count === shard.count ? p : undefined;
    };
    const pollMs = deps.shardPollMs ?? 5_000;
    const beatMs = deps.shardHeartbeatMs ?? 20_000;
    /**
     * While another shard samples the table (its heartbeat in the state keeps changing), wait for its plan
     * rather than scanning the keys once more; a heartbeat still for three beats means it stopped. Only
     * changes are compared, never the other runner's clock.
     */
    const awaitSampler = async (key) => {
        let seen;
        let changedAt = Date.now();
        for (;;) {
            const s = (await store.load()) ?? emptyState();
            const m = s.tables[key]?.shardSampling;
            if (storedPlan(s, key) || !m || m.count !== shard.count || m.by === sid)
                return s;
            const beat = `${m.by}#${m.beat}`;
            if (beat !== seen) {
                seen = beat;
                changedAt = Date.now();
            }
            else if (Date.now() - changedAt > 3 * beatMs)
                return s;
            await new Promise((r) => setTimeout(r, pollMs));
        }
    };
    const announce = async (key, beat) => {
        if (config.dryRun)
            return; // a dry run leaves the state as it is
        const s = (await store.load()) ?? emptyState();
        if (storedPlan(s, key))
            return;
        const entry = { ...s.tables[key], shardSampling: { count: shard.count, by: sid, beat } };
        await store.save({ ...s, tables: { ...s.tables, [key]: entry } });
    };
    for (const spec of config.tables) {
        const key = tableKey(spec);
        if (storedPlan(latest, key))
            continue;
        if (!config.dryRun)
            latest = await awaitSampler(key);
        if (storedPlan(latest, key))
            continue;
        // Our turn to scan the keys: say so, and keep saying so while the scan runs.
        const beats = new SerialQueue();
        let beat = 1;
        await beats.push(() => announce(key, beat)).catch(() => undefined);
        const timer = setInterval(() => void beats.push(() => announce(key, ++beat)).catch(() => undefined), beatMs);
        try {
            sampled.set(key, await sampleShardPlan(conn.source, spec.source, shard.count, { filter: config.queryFilter }));
        }
        catch (err) {
            failures.set(key, err instanceof Error ? err : new Error(String(err)));
        }
        finally {
            clearInterval(timer);
            await beats.push(async () => undefined);
        }
        if (failures.has(key)) {
            // Do not keep the other shards waiting for a plan that will not come.
            const s = (await store.load()) ?? emptyState();
            if (s.tables[key]?.shardSampling?.by === sid) {
                const entry = { ...s.tables[key] };
                delete entry.shardSampling;
                await store.save({ ...s, tables: { ...s.tables, [key]: entry } });
            }
        }
    }
    if (sampled.size > 0 && config.dryRun) {
        // A dry run stores nothing: it counts by its own sample (shards sampling apart may then overlap a little).
        const tables = { ...latest.tables };
        for (const [key, plan] of sampled)
            tables[key] = { ...tables[key], shardPlan: { ...plan, at: new Date().toISOString() } };
        latest = { ...latest, tables };
    }
    else if (sampled.size > 0) {
        // First plan stored wins: reload right before saving, keep any plan another shard stored meanwhile.
        const now = (await store.load()) ?? emptyState();
        const tables = { ...now.tables };
        let changed = false;
        for (const [key, plan] of sampled) {
            if (storedPlan(now, key))
                continue;
            const entry = { ...tables[key], shardPlan: { ...plan, at: new Date().toISOString() } };
            delete entry.shardSampling;
            tables[key] = entry;
            changed = true;
        }
        if (changed)
            await store.save({ ...now, tables });
        await new Promise((r) => setTimeout(r, deps.shardSettleMs ?? 3_000));
        latest = (await store.load()) ?? emptyState();
    }
    const plans = new Map();
    const ranges = new Map();
    for (const spec of config.tables) {
        const key = tableKey(spec);
        if (failures.has(key))
            continue;
        const plan = storedPlan(latest, key);
        if (!plan) {
            failures.set(key, new StateError(`Table ${describeTable(key, config.tables)}: the shard plan could not be stored in ${store.describe()}; run the shard again.`));
            continue;
        }
        plans.set(key, plan.id);
        const range = shardRange(plan, shard.index);
        ranges.set(key, range);
        notice(`${deps.inProcessShards ? "Range" : "Shard"} ${sid} of table ${describeTable(key, config.tables)} reads PartitionKey ${describeRange(range)} (plan ${plan.id}, sampled from ${plan.sampledFrom} entities).`);
    }
    return { sid, latest, plans, ranges, failures };
}
function describeRange(range) {
    const from = range.from === undefined ? "from the start" : `from '${range.from}'`;
    const to = range.to === undefined ? "to the end" : `up to (not including) '${range.to}'`;
    return `${from} ${to}`;
}

;// CONCATENATED MODULE: ./src/engine/steps/read-ranges.ts







/**
 * `read-ranges: k`: each table is read through k key ranges at once — the same ranges, plan and per-range
 * records as k matrix shards, run inside this job and sharing its `concurrency`. The figures come back as one
 * report per table.
 */
async function runRanges(config, deps, events, runCopy) {
    const k = config.readRanges;
    // Without a state store the ranges still need somewhere to agree; nothing of it outlives the run.
    const store = deps.store ?? new MemoryStateStore();
    const laneDeps = { ...deps, store, shardSettleMs: 0, inProcessShards: true };
    // Each range adapts its own window under `auto`; a number is shared out.
    const perLane = config.concurrency === "auto" ? "auto" : Math.max(1, Math.floor(config.concurrency / k));
    const progress = new Map();
    // One sample of the keys for all ranges (the ranges then find the stored plan).
    await prepareShards(config, { index: 1, count: k }, laneDeps, store, () => undefined);
    const lanes = await Promise.all(Array.from({ length: k }, (_, i) => runCopy({ ...config, shard: { index: i + 1, count: k }, readRanges: 1, concurrency: perLane }, laneDeps, {
        ...events,
        onTableStart: i === 0 ? events.onTableStart : undefined,
        onTableEnd: undefined,
        onProgress: (p) => {
            // One progress line per table: the sum over its ranges.
            const all = progress.get(p.table) ?? new Array(k);
            all[i] = p;
            progress.set(p.table, all);
            const sum = { table: p.table, read: 0, written: 0, skipped: 0, failed: 0 };
            for (const q of all) {
                if (!q)
                    continue;
                sum.read += q.read;
                sum.written += q.written;
                sum.skipped += q.skipped;
                sum.failed += q.failed;
            }
            events.onProgress?.(sum);
        },
    })));
    const state = deps.store ? await deps.store.load() : undefined;
    const tables = config.tables.map((spec) => {
        const key = tableKey(spec);
        const parts = lanes.map((l) => l.tables.find((t) => tableKey(t.result) === key)).filter((t) => !!t);
        const results = parts.map((p) => p.result);
        const result = {
            ...results[0],
            filter: results.length > 1 ? config.queryFilter : results[0]?.filter,
            read: sumOf(results, "read"),
            written: sumOf(results, "written"),
            skipped: sumOf(results, "skipped"),
            failed: sumOf(results, "failed"),
            conflicts: sumOf(results, "conflicts"),
            transactions: sumOf(results, "transactions"),
            throttled: sumOf(results, "throttled"),
            retries: sumOf(results, "retries"),
            durationMs: Math.max(0, ...results.map((r) => r.durationMs)),
            failures: results.flatMap((r) => r.failures).slice(0, config.maxFailuresKept),
            conflictDetails: results.flatMap((r) => r.conflictDetails).slice(0, config.maxFailuresKept),
            error: results.find((r) => r.error)?.error,
            sourceClockAtStart: earliest(results.map((r) => r.sourceClockAtStart)),
            sourceClockAtEnd: latestOf(results.map((r) => r.sourceClockAtEnd)),
        };
        const watermarkAfter = state?.tables[key]?.watermark;
        const report = {
            result,
            watermarkBefore: parts[0]?.watermarkBefore,
            watermarkAfter,
            note: parts.find((p) => p.note)?.note,
        };
        if (config.mode === "backfill")
            report.lagSeconds = lagOf(result, watermarkAfter);
        events.onTableEnd?.(report);
        return report;
    });
    const t = totals(tables.map((r) => r.result), Math.max(...lanes.map((l) => l.totals.durationMs)));
    const failed = lanes.find((l) => !l.ok);
    // Each range keeps its own records; the table's lag history gets one point for the whole backfill.
    if (config.mode === "backfill" && !config.dryRun)
        await recordRangedBackfills(deps.store, tables);
    const lags = tables.map((r) => r.lagSeconds).filter((n) => n !== undefined);
    return {
        mode: config.mode,
        dryRun: config.dryRun,
        tables,
        totals: t,
        lastSyncUtc: oldestWatermark(state, config.tables),
        notices: lanes.flatMap((l) => l.notices),
        ok: !failed && t.tablesFailed === 0,
        failure: failed?.failure,
        ...(config.mode === "backfill" && {
            lagSeconds: lags.length === tables.length && lags.length ? Math.max(...lags) : undefined,
            changedEntities: t.read,
        }),
    };
}
function sumOf(results, field) {
    return results.reduce((a, r) => a + r[field], 0);
}
function earliest(times) {
    const present = times.filter((x) => !!x);
    return present.length ? present.reduce((a, b) => (Date.parse(b) < Date.parse(a) ? b : a)) : undefined;
}
function latestOf(times) {
    const present = times.filter((x) => !!x);
    return present.length ? present.reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a)) : undefined;
}

;// CONCATENATED MODULE: ./src/engine/steps/state-saves.ts
// A copy step's saves of the state as it goes: one after another within a run; for shards, one queue per
// store in this process, each save merging the shard's view into the stored document and checking it landed.




const queues = new WeakMap();
/** One queue per store: shards of one process load, merge and save one after another. */
function storeQueue(store) {
    let q = queues.get(store);
    if (!q)
        queues.set(store, (q = new SerialQueue()));
    return q;
}
/** The saves of one copy run; `current` is the run's state at the moment it is read. */
function stateSaves(store, sharded, deps, current) {
    // Tables are copied several at once: their saves go one after another, each storing the state as it is then.
    const saves = new SerialQueue();
    const persist = () => saves.push(() => save(current()));
    const save = async (next) => {
        if (!store)
            return;
        if (!sharded)
            return store.save(next);
        return storeQueue(store).push(() => mergeSave(next));
    };
    const mergeSave = async (next) => {
        if (!store || !sharded)
            return;
        // Another shard may save between our load and our save: read back, and merge again until ours is there.
        for (let attempt = 0;; attempt++) {
            const latest = (await store.load()) ?? emptyState();
            const merged = mergeShardView(latest, next, sharded.sid, sharded.plans, sharded.carry, MAX_OUR_WRITES);
            await store.save(merged);
            sharded.carry = merged;
            const stored = await store.load();
            const mine = shardRecords(merged, sharded.sid, sharded.plans);
            if (shardRecords(stored, sharded.sid, sharded.plans) === mine || attempt >= 4)
                return;
            await new Promise((r) => setTimeout(r, 50 + Math.random() * 200));
        }
    };
    /**
     * Before a shard exits: another shard that loaded before our last save may still overwrite it. Wait longer
     * than such a load-and-save takes, then check that our records are stored, and save them again if not.
     */
    const confirm = async () => {
        if (!store || !sharded?.carry || deps.inProcessShards)
            return;
        for (let attempt = 0; attempt < 5; attempt++) {
            await new Promise((r) => setTimeout(r, (deps.shardSettleMs ?? 3_000) * (1 + Math.random())));
            const stored = await store.load();
            if (shardRecords(stored, sharded.sid, sharded.plans) ===
                shardRecords(sharded.carry, sharded.sid, sharded.plans))
                return;
            await persist();
        }
    };
    return { persist, confirm };
}

;// CONCATENATED MODULE: ./src/engine/steps/full-sync.ts



















/**
 * A `since` after the source's clock reads nothing, and the run would still move the watermark to that clock:
 * the changes before it would never be copied. The runner's clock may be wrong, so the source's decides.
 */
async function refuseFutureSince(config, deps, signal) {
    const since = config.since;
    if (!since)
        return;
    const clock = await serverClock(connectSource(engineConfigOf(config, deps), signal), "source");
    // The Date header has whole seconds.
    if (since.getTime() > clock.getTime() + 1_000) {
        throw new StateError(`Input 'since' is ${since.toISOString()}, later than the source's clock (${clock.toISOString()}): the backfill would copy nothing and move the watermarks past changes it never read; use a time before ${clock.toISOString()}.`);
    }
}
/** The run's property renames as a checkpoint records them (`from:to,…`; empty when none). */
function renamesText(config) {
    return config.propertyRenames.map((r) => `${r.from}:${r.to}`).join(",");
}
/** full-sync and backfill. */
async function runCopy(config, deps, events = {}) {
    if (config.mode !== "full-sync" && config.mode !== "backfill") {
        throw new StateError(`Mode '${config.mode}' does not copy tables; it has its own step.`);
    }
    if (config.mode === "backfill" && config.since)
        await refuseFutureSince(config, deps, events.signal);
    if (!config.shard && config.readRanges > 1)
        return runRanges(config, deps, events, runCopy);
    const store = deps.store;
    let state = (store ? await store.load() : undefined) ?? emptyState();
    if (config.mode === "backfill" && !store && !config.since) {
        throw new StateError("A backfill needs the watermarks a full sync recorded (a state store) or 'since' (an ISO-8601 UTC time).");
    }
    const reports = [];
    const notices = [];
    const notice = (text) => {
        notices.push(text);
        events.onNotice?.(text);
    };
    // A shard works on its view of the shared state, and each save merges that view into the latest document.
    const sharded = config.shard ? await prepareShards(config, config.shard, deps, store, notice) : undefined;
    if (sharded)
        state = shardView(sharded.latest, sharded.sid, sharded.plans);
    const { persist, confirm } = stateSaves(store, sharded, deps, () => state);
    // A full sync with a state store resumes the one a cancel, a time-out or a crash interrupted: the tables
    // it finished are not copied again, and a checkpointed table goes on from its checkpoint.
    const keys = config.tables.map(tableKey);
    const resumable = config.mode === "full-sync" && !!store && !config.dryRun;
    // A continuation belongs to the query that produced it: with another query-filter it could skip entities.
    // And the entities before it were written with the run's renames: with others, the destination would
    // hold two shapes of one table.
    const renames = renamesText(config);
    // A record of a full sync answers only for the copy it describes (copy-id.ts).
    const records = new RunRecords(config, deps);
    if (resumable) {
        const bound = records.bind(state, (k) => describeTable(k, config.tables));
        state = bound.state;
        bound.notices.forEach(notice);
    }
    let marker;
    if (resumable) {
        const previous = state.fullSync;
        marker = previous
            ? { ...previous, done: previous.done.filter((k) => keys.includes(k)) }
            : { startedAt: new Date().toISOString(), done: [] };
        if (previous) {
            const checkpointed = keys.filter((k) => !marker?.done.includes(k) && state.tables[k]?.checkpoint?.mode === "full-sync");
            const parts = [
                `${marker.done.length} of ${keys.length} ${keys.length === 1 ? "table" : "tables"} already done`,
                ...checkpointed.map((k) => `${describeCheckpoint(k, state.tables[k].checkpoint, config.tables)} from its checkpoint`),
            ];
            notice(`Resuming the full sync started at ${previous.startedAt}: ${parts.join(", ")}.`);
        }
    }
    const done = new Set(marker?.done ?? []);
    const checkpoints = new Map();
    let completed = false;
    const withMarker = (s) => (marker ? { ...s, fullSync: marker } : s);
    const run = await runSync(engineConfigOf(config, deps), {
        signal: events.signal,
        // A table without a watermark fails alone (with the sentence saying what to do); the others go on.
        plan: (spec, ctx) => {
            const key = tableKey(spec);
            if (done.has(key))
                return null;
            if (!sharded)
                return planTable(config, state, spec, ctx);
            const failure = sharded.failures.get(key);
            if (failure)
                throw failure;
            const plan = planTable(config, state, spec, ctx);
            return { ...plan, filter: andFilters(rangeFilter(sharded.ranges.get(key) ?? {}), plan.filter) };
        },
        onTableStart: (spec, plan) => {
            records.start(spec, plan, state);
            events.onTableStart?.(spec, plan);
        },
        onProgress: (p) => events.onProgress?.(records.progress(p)),
        onCheckpoint: resumable
            ? async (spec, info) => {
                const key = tableKey(spec);
                const cp = {
                    continuation: storedContinuation(info.continuation),
                    sourceClockAtStart: info.sourceClockAtStart,
                    mode: config.mode,
                    // In the schema's key order: a shard compares its saved records with the stored ones as text.
                    read: info.read,
                    ...(config.queryFilter && { queryFilter: config.queryFilter }),
                    ...(renames && { propertyRenames: renames }),
                    written: info.written,
                    copy: records.id(key),
                    at: new Date().toISOString(),
                };
                state = withMarker({
                    ...state,
                    tables: { ...state.tables, [key]: { ...state.tables[key], checkpoint: cp } },
                });
                await persist();
                checkpoints.set(key, cp);
                events.onCheckpoint?.(spec, cp);
            }
            : undefined,
        onTableEnd: async (r) => {
            const key = tableKey(r);
            const before = state.tables[key]?.watermark;
            const report = { result: r, watermarkBefore: before, watermarkAfter: before };
            report.eta = records.eta(r.source);
            if (config.dryRun)
                report.note = "dry run";
            else if (store) {
                let next = records.ended(advanceWatermark(state, key, r, { mode: config.mode }), key, r);
                const ours = r.ourWrites;
                if (ours && ours.length) {
                    // Our own post-switch writes, so the next backfill does not take them for the app's.
                    const table = next.tables[key] ?? {};
                    next = {
                        ...next,
                        tables: { ...next.tables, [key]: { ...table, postSwitchWrites: ours.slice(-MAX_OUR_WRITES) } },
                    };
                }
                report.watermarkAfter = next.tables[key]?.watermark;
                if (!tableSucceeded(r))
                    report.note = "kept: the table did not complete";
                else if (marker) {
                    // The run marker lists the finished tables; once every table is done, the full sync is complete.
                    marker = records.done(marker, key);
                    const all = keys.every((k) => marker?.done.includes(k));
                    if (all) {
                        const rest = { ...next };
                        delete rest.fullSync;
                        next = rest;
                        marker = undefined;
                        completed = true;
                    }
                    else
                        next = withMarker(next);
                }
                // Saved after each table that moved, so a failure later keeps this table's progress.
                if (next !== state) {
                    state = next;
                    await persist();
                }
            }
            if (config.mode === "backfill")
                report.lagSeconds = lagOf(r, report.watermarkAfter);
            reports.push(report);
            events.onTableEnd?.(report);
        },
    });
    // Not when cancelled: the runner kills the job seconds after its signal, and the checkpoint is saved.
    if (!events.signal?.aborted)
        await confirm();
    // In the order the tables were given, whichever finished first.
    reports.sort((a, b) => keys.indexOf(tableKey(a.result)) - keys.indexOf(tableKey(b.result)));
    const t = totals(reports.map((r) => r.result), run.totals.durationMs);
    const lags = reports.map((r) => r.lagSeconds).filter((n) => n !== undefined);
    const result = {
        mode: config.mode,
        dryRun: config.dryRun,
        tables: reports,
        totals: t,
        lastSyncUtc: oldestWatermark(state, config.tables),
        notices,
        ok: t.tablesFailed === 0 && !events.signal?.aborted,
    };
    if (config.mode === "backfill") {
        result.lagSeconds = lags.length === reports.length && lags.length ? Math.max(...lags) : undefined;
        result.changedEntities = t.read;
    }
    if (events.signal?.aborted) {
        result.failure = cancelledMessage(config, keys, state, checkpoints, resumable, completed);
    }
    else if (!result.ok) {
        result.failure = `${t.failed} entities failed and ${t.tablesFailed} of ${t.tables} tables did not complete; their watermarks were not advanced.`;
    }
    return result;
}
function cancelledMessage(config, keys, state, saved, resumable, completed) {
    if (!resumable) {
        return "The run was cancelled; the watermarks of the tables it did not complete were not advanced.";
    }
    if (completed)
        return "The run was cancelled after every table was copied.";
    const done = state.fullSync?.done ?? [];
    const open = keys.filter((k) => !done.includes(k) && state.tables[k]?.checkpoint?.mode === "full-sync");
    const fresh = open.filter((k) => saved.has(k));
    if (open.length === 0) {
        return `The run was cancelled before a checkpoint was saved; the next full sync ${done.length ? `skips the ${done.length} finished tables and ` : ""}copies the others from the start.`;
    }
    const shown = (fresh.length ? fresh : open).map((k) => describeCheckpoint(k, state.tables[k].checkpoint, config.tables));
    return `The run was cancelled; a checkpoint was saved: the next full sync resumes ${shown.join(", ")}${done.length ? ` and skips the ${done.length} finished tables` : ""}.`;
}

// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __nccwpck_require__(1455);
;// CONCATENATED MODULE: ./src/engine/steps/check-result.ts
// What verify, switch and preflight report (and the JSON report they write), the events they send, and the
// rules every check's verdict follows.


/**
 * A check cut short by a cancel gives no verdict: what it saw before the cancel may look in sync (or not)
 * only because it stopped. A switch recorded before the cancel came still stands, and says so.
 */
function cancelledCheck(result, signal) {
    if (!signal?.aborted || (result.mode === "switch" && result.ready))
        return result;
    return {
        ...result,
        inSync: undefined,
        differences: undefined,
        repaired: undefined,
        ready: result.mode === "switch" ? false : undefined,
        ok: false,
        failure: `The ${result.mode} was cancelled; it gives no verdict.`,
        cancelled: true,
    };
}
function differencesOf(v) {
    return v.missing + (v.extra ?? 0) + v.different + v.untransformable;
}
/** The JSON report of verify, switch and preflight, for tools and for the record. */
async function writeCheckReport(path, result) {
    await (0,promises_.mkdir)((0,external_node_path_.dirname)(path), { recursive: true });
    await (0,promises_.writeFile)(path, JSON.stringify({ generatedBy: "azure-table-sync", ...result }, null, 2) + "\n");
}

// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __nccwpck_require__(8161);
;// CONCATENATED MODULE: ./src/engine/check/spill.ts
// Compact key records spilled to bucket files on disk, so that comparing two tables of any size only
// ever holds one bucket in memory. A record is an entity's keys, a flag byte and a 16-byte digest of
// its typed properties.


const DIGEST_BYTES = 16;
/** FNV-1a over UTF-16 code units, then murmur3's finalizer mixed with `salt`: good low bits at every salt. */
function hashString(s, salt) {
    let h = 0x811c9dc5;
    for (let i = 0; i < s.length; i++) {
        h ^= s.charCodeAt(i);
        h = Math.imul(h, 0x01000193);
    }
    h ^= Math.imul(salt + 1, 0x9e3779b9);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h >>> 0;
}
function recordBytes(pk, rk) {
    return 8 + pk.length + rk.length + 1 + DIGEST_BYTES;
}
function encodeInto(out, at, pk, rk, rec) {
    out.writeUInt32LE(pk.length, at);
    out.writeUInt32LE(rk.length, at + 4);
    pk.copy(out, at + 8);
    rk.copy(out, at + 8 + pk.length);
    let o = at + 8 + pk.length + rk.length;
    out[o++] = rec.flag;
    out.write(rec.digest, o, DIGEST_BYTES, "latin1");
    return o + DIGEST_BYTES;
}
/** `count` append-only bucket files named `<name>-<i>.bin` in `dir`, each written through its own buffer. */
class SpillFiles {
    dir;
    name;
    count;
    bufferBytes;
    buffers;
    used;
    records = 0;
    constructor(dir, name, count, bufferBytes = 32 * 1024) {
        this.dir = dir;
        this.name = name;
        this.count = count;
        this.bufferBytes = bufferBytes;
        this.buffers = new Array(count).fill(undefined);
        this.used = new Array(count).fill(0);
    }
    path(bucket) {
        return (0,external_node_path_.join)(this.dir, `${this.name}-${bucket}.bin`);
    }
    add(bucket, rec) {
        const pk = Buffer.from(rec.partitionKey, "utf8");
        const rk = Buffer.from(rec.rowKey, "utf8");
        const size = recordBytes(pk, rk);
        this.records++;
        if (size > this.bufferBytes) {
            // A record larger than the buffer (keys of many KB) goes straight to the file.
            this.flushBucket(bucket);
            const one = Buffer.allocUnsafe(size);
            encodeInto(one, 0, pk, rk, rec);
            (0,external_node_fs_.appendFileSync)(this.path(bucket), one);
            return;
        }
        if (this.used[bucket] + size > this.bufferBytes)
            this.flushBucket(bucket);
        const buf = (this.buffers[bucket] ??= Buffer.allocUnsafe(this.bufferBytes));
        this.used[bucket] = encodeInto(buf, this.used[bucket], pk, rk, rec);
    }
    flushBucket(bucket) {
        const buf = this.buffers[bucket];
        if (!buf || this.used[bucket] === 0)
            return;
        (0,external_node_fs_.appendFileSync)(this.path(bucket), buf.subarray(0, this.used[bucket]));
        this.used[bucket] = 0;
    }
    /** Write out every buffer and let them go. */
    flush() {
        for (let i = 0; i < this.count; i++) {
            this.flushBucket(i);
            this.buffers[i] = undefined;
        }
    }
}
function fileBytes(path) {
    return (0,external_node_fs_.existsSync)(path) ? (0,external_node_fs_.statSync)(path).size : 0;
}
/** Every record of a bucket file, read 1 MiB at a time (nothing when the file does not exist). */
function* readRecords(path) {
    if (!(0,external_node_fs_.existsSync)(path))
        return;
    const fd = (0,external_node_fs_.openSync)(path, "r");
    try {
        const chunk = Buffer.allocUnsafe(1024 * 1024);
        let rest = Buffer.alloc(0);
        for (;;) {
            const n = (0,external_node_fs_.readSync)(fd, chunk, 0, chunk.length, null);
            if (n === 0)
                break;
            let buf = rest.length > 0 ? Buffer.concat([rest, chunk.subarray(0, n)]) : chunk.subarray(0, n);
            let o = 0;
            while (buf.length - o >= 8) {
                const pkLen = buf.readUInt32LE(o);
                const rkLen = buf.readUInt32LE(o + 4);
                const end = o + 8 + pkLen + rkLen + 1 + DIGEST_BYTES;
                if (end > buf.length)
                    break;
                const pkStart = o + 8;
                const rkStart = pkStart + pkLen;
                const flagAt = rkStart + rkLen;
                yield {
                    partitionKey: buf.toString("utf8", pkStart, rkStart),
                    rowKey: buf.toString("utf8", rkStart, flagAt),
                    flag: buf[flagAt],
                    digest: buf.toString("latin1", flagAt + 1, end),
                };
                o = end;
            }
            // Copy the unfinished tail: `chunk` is reused by the next read.
            buf = buf.subarray(o);
            rest = Buffer.from(buf);
        }
        if (rest.length > 0)
            throw new Error(`${path}: a truncated record at the end of a spill file`);
    }
    finally {
        (0,external_node_fs_.closeSync)(fd);
    }
}

;// CONCATENATED MODULE: ./src/engine/check/entity-digest.ts
// When two entities are the same: a canonical text of each typed value, a digest of an entity's properties
// in any order, and the seeded choice of a sample — what verify compares and spills to disk.



/** A property value in a canonical text: values `wireValuesEqual` calls equal give the same text. */
function canonicalValue(v) {
    const s = String(v.value);
    switch (v.type) {
        case "Edm.Double": {
            if (s === "NaN" || s === "Infinity" || s === "-Infinity")
                return s;
            const n = Number(s);
            if (!Number.isFinite(n))
                return `~${s}`; // an overflowing literal: equal only to itself
            return Object.is(n, -0) ? "-0" : String(n);
        }
        case "Edm.Int32":
            return String(Number(s));
        case "Edm.Int64":
            try {
                return BigInt(s).toString();
            }
            catch {
                return `~${s}`;
            }
        case "Edm.Guid":
            return s.toLowerCase();
        case "Edm.DateTime":
            return normalizeDateTime(s);
        case "Edm.Boolean":
            return v.value === true || v.value === "true" ? "true" : "false";
        default:
            return s;
    }
}
/** A 16-byte digest (latin1 string) of an entity's typed properties, independent of their order. */
function propertiesDigest(entity) {
    const names = [...entity.properties.keys()].sort();
    let text = "";
    for (const name of names) {
        const v = entity.properties.get(name);
        text += `${JSON.stringify(name)}\u0001${v.type}\u0001${JSON.stringify(canonicalValue(v))}\u0002`;
    }
    return (0,external_node_crypto_.createHash)("sha1").update(text).digest().toString("latin1", 0, DIGEST_BYTES);
}
/** Whether the seeded sample includes this entity: the same seed always picks the same entities. */
function inSample(seed, fraction, key) {
    const h = (0,external_node_crypto_.createHash)("sha1").update(`${seed}\u0000${key.partitionKey}\u0000${key.rowKey}`).digest();
    return h.readUInt32BE(0) < fraction * 2 ** 32;
}
function mapKey(pk, rk) {
    return `${pk.length}:${pk}${rk}`;
}
function unmapKey(key) {
    const colon = key.indexOf(":");
    const len = Number(key.slice(0, colon));
    return { partitionKey: key.slice(colon + 1, colon + 1 + len), rowKey: key.slice(colon + 1 + len) };
}

;// CONCATENATED MODULE: ./src/engine/check/repair.ts






/** Takes repair work one entity at a time (with backpressure) and writes it in transactions. */
class Repairer {
    source;
    destination;
    spec;
    transformer;
    opts;
    result = {
        copied: 0,
        deleted: 0,
        skipped: 0,
        failed: 0,
        failures: [],
        conflicts: 0,
        conflictDetails: [],
        complete: true,
    };
    writer;
    queue = new SerialQueue();
    pool;
    tableReady;
    constructor(source, destination, spec, transformer, opts) {
        this.source = source;
        this.destination = destination;
        this.spec = spec;
        this.transformer = transformer;
        this.opts = opts;
        this.pool = new TaskPool(opts.concurrency);
        this.writer = new TableWriter(destination, spec.destination, {
            concurrency: opts.concurrency,
            maxFailuresKept: opts.maxFailuresKept,
            sortedSource: false,
            onLanded: (op, etag) => {
                if (op.kind === "delete")
                    this.result.deleted++;
                else
                    this.result.copied++;
                if (opts.guard && etag)
                    opts.guard.ours.add(ourWriteId(op.entity.partitionKey, op.entity.rowKey, etag));
            },
            ...(opts.guard && {
                classifyRejection: classifyGuarded,
                onConflict: (op, status, message) => this.conflict(op.entity, `the destination changed while we wrote it (HTTP ${status}: ${message})`),
            }),
        });
    }
    /** The destination table must exist before we write to it (verify may have found it missing). */
    createTableFirst() {
        this.tableReady ??= ensureTable(this.destination, this.spec.destination);
    }
    /** Copy the source entity with these keys (re-read now), or the source entity given. */
    async copy(key, current) {
        await this.pool.run(async () => {
            const entity = current ?? (await readEntity(this.source, this.spec.source, key, "source"));
            if (!entity) {
                this.result.skipped++;
                return;
            }
            let out;
            try {
                out = this.transformer.apply(entity);
            }
            catch (err) {
                this.fail(key, describeError(err));
                return;
            }
            const guard = this.opts.guard;
            if (!guard) {
                await this.write(() => this.writer.add("upsert-replace", out));
                return;
            }
            const there = await readEntity(this.destination, this.spec.destination, key, "destination");
            const d = decide(guard, "replace", there, out);
            if (d.conflict)
                this.conflict(out, d.conflict);
            else if (d.op) {
                const op = d.op;
                await this.write(() => this.writer.add(op.kind, out, op.ifMatch));
            }
            else
                this.result.skipped++; // already what the source holds
        });
    }
    conflict(key, message) {
        this.result.conflicts++;
        if (this.result.conflictDetails.length < this.opts.maxFailuresKept) {
            this.result.conflictDetails.push({ partitionKey: key.partitionKey, rowKey: key.rowKey, message });
        }
    }
    /** Delete the destination entity with these keys, unless the source holds it (again). */
    async remove(key) {
        await this.pool.run(async () => {
            if (await readEntity(this.source, this.spec.source, key, "source")) {
                this.result.skipped++;
                return;
            }
            const tombstone = {
                partitionKey: key.partitionKey,
                rowKey: key.rowKey,
                properties: new Map(),
            };
            await this.write(() => this.writer.add("delete", tombstone, "*"));
        });
    }
    async write(step) {
        if (this.tableReady)
            await this.tableReady;
        await this.queue.push(async () => step());
    }
    fail(key, message) {
        this.result.failed++;
        if (this.result.failures.length < this.opts.maxFailuresKept)
            this.result.failures.push({ ...key, message });
    }
    /** Wait for every read and transaction; the counts are final afterwards. */
    async finish() {
        let error;
        try {
            await this.pool.drain();
        }
        catch (err) {
            error = err;
        }
        await this.queue.push(async () => undefined);
        const counters = await this.writer.flush();
        this.result.skipped += counters.skipped;
        this.result.failed += counters.failed;
        for (const f of counters.failures) {
            if (this.result.failures.length < this.opts.maxFailuresKept)
                this.result.failures.push(f);
        }
        this.result.complete = this.result.failed === 0 && error === undefined;
        if (error !== undefined)
            throw error;
        return this.result;
    }
}

;// CONCATENATED MODULE: ./src/engine/check/verify.ts
// Verify: does the destination hold exactly what the source holds, after table and property renames?
//
// Full mode scans both tables (in parallel, in whatever order each returns: Cosmos does not sort, and
// a Timestamp filter means nothing there) and spills a compact record per entity — its keys and a
// 16-byte digest of its canonical typed properties — into bucket files on disk, chosen by a hash of
// the PartitionKey. Buckets are then compared one at a time in memory, so memory stays bounded by a
// bucket, not by the table; a bucket that grew too large is split again by the full key. Keys whose
// digests differ are point-read on both sides to name the properties that differ.
//
// Sample mode scans only the source, picks a fraction of its entities by a seeded hash of the keys,
// and point-reads those on the destination: quick, but it cannot see entities only the destination
// holds (extra).













const UNTRANSFORMABLE = 1;
const MAX_SPLIT_LEVEL = 4;
const SPLIT_FANOUT = 64;
function cancelled() {
    return new Error("the run was cancelled");
}
class TableVerifier {
    source;
    destination;
    spec;
    opts;
    result;
    maxSamples;
    transformer;
    pool;
    repairer;
    differentNamed = 0;
    splits = 0;
    /** Set when one side's scan failed: the other stops at its next page. */
    stopped = false;
    dir = "";
    constructor(source, destination, spec, opts) {
        this.source = source;
        this.destination = destination;
        this.spec = spec;
        this.opts = opts;
        this.maxSamples = opts.maxSamples ?? 20;
        const concurrency = opts.concurrency ?? "auto";
        this.pool = new TaskPool(concurrency);
        this.transformer = createTransformer({
            renames: opts.renames,
            destinationKind: destination.kind,
            sourceTable: spec.source,
        });
        const sampled = opts.sample !== undefined && opts.sample < 1;
        this.result = {
            source: spec.source,
            destination: spec.destination,
            sampled,
            sourceCount: 0,
            destinationCount: sampled ? null : 0,
            checked: 0,
            missing: 0,
            extra: sampled ? null : 0,
            different: 0,
            untransformable: 0,
            missingSamples: [],
            extraSamples: [],
            differentSamples: [],
            untransformableSamples: [],
            inSync: false,
            durationMs: 0,
            notes: [],
        };
        if (opts.repair) {
            this.repairer = new Repairer(source, destination, spec, this.transformer, {
                concurrency,
                maxFailuresKept: this.maxSamples,
                guard: opts.guard,
            });
        }
    }
    progress(phase) {
        this.opts.onProgress?.({
            table: this.spec.source,
            phase,
            source: this.result.sourceCount,
            destination: this.result.destinationCount ?? 0,
        });
    }
    keep(list, item) {
        if (list.length < this.maxSamples)
            list.push(item);
    }
    /** The entity as the sync would write it, or undefined (counted and kept) when the sync would refuse it. */
    transform(entity) {
        try {
            return this.transformer.apply(entity);
        }
        catch (err) {
            this.result.untransformable++;
            this.keep(this.result.untransformableSamples, {
                partitionKey: entity.partitionKey,
                rowKey: entity.rowKey,
                message: describeError(err),
            });
            return undefined;
        }
    }
    async scan(http, table, onEntity) {
        const reader = new TableReader(http, table);
        try {
            for await (const page of reader.pages()) {
                for (const entity of page.entities)
                    await onEntity(entity);
                if (this.opts.signal?.aborted)
                    throw cancelled();
                if (this.stopped)
                    return;
                this.progress("scan");
            }
        }
        catch (err) {
            // The other side's scan need not run on for nothing (a missing destination table is no failure).
            if (!(http === this.destination && err instanceof TableMissingError))
                this.stopped = true;
            throw err;
        }
    }
    async run() {
        try {
            if (this.result.sampled)
                await this.runSample();
            else
                await this.runFull();
            await this.pool.drain();
        }
        catch (err) {
            this.result.error = describeError(err);
            await this.pool.drain().catch(() => undefined);
        }
        if (this.repairer) {
            try {
                this.result.repair = await this.repairer.finish();
            }
            catch (err) {
                this.result.repair = this.repairer.result;
                this.result.error ??= `Repair: ${describeError(err)}`;
            }
        }
        const r = this.result;
        r.inSync =
            !r.error && r.missing === 0 && r.different === 0 && r.untransformable === 0 && (r.extra ?? 0) === 0;
    }
    // ---- sample mode -------------------------------------------------------------------------------
    async runSample() {
        const fraction = this.opts.sample;
        const seed = this.opts.seed ?? (0,external_node_crypto_.randomBytes)(6).toString("hex");
        this.result.sampleFraction = fraction;
        this.result.sampleSeed = seed;
        this.repairer?.createTableFirst();
        await this.scan(this.source, this.spec.source, async (entity) => {
            this.result.sourceCount++;
            if (!inSample(seed, fraction, entity))
                return;
            this.result.checked++;
            const out = this.transform(entity);
            if (!out)
                return;
            await this.pool.run(async () => {
                const key = { partitionKey: entity.partitionKey, rowKey: entity.rowKey };
                const found = await readEntity(this.destination, this.spec.destination, key, "destination");
                if (!found) {
                    this.result.missing++;
                    this.keep(this.result.missingSamples, key);
                    await this.repairer?.copy(key, entity);
                    return;
                }
                const properties = differingProperties(out, found);
                if (properties.length === 0)
                    return;
                this.result.different++;
                this.keep(this.result.differentSamples, { ...key, properties });
                await this.repairer?.copy(key, entity);
            });
        });
        this.result.notes.push(`Sample: ${this.result.checked} of ${this.result.sourceCount} source entities (fraction ${fraction}, seed ${seed}) ` +
            `were checked by point reads; the destination was not scanned, so entities only the destination holds (extra) are not counted.`);
        if (this.opts.repair && this.opts.deleteExtra) {
            this.result.notes.push("delete-extra needs a full verify (no sample): nothing was deleted.");
        }
    }
    // ---- full mode ---------------------------------------------------------------------------------
    async runFull() {
        const buckets = this.opts.buckets ?? 256;
        this.dir = (0,external_node_fs_.mkdtempSync)((0,external_node_path_.join)(this.opts.tempDir ?? (0,external_node_os_.tmpdir)(), "table-verify-"));
        try {
            const src = new SpillFiles(this.dir, "s", buckets);
            const dst = new SpillFiles(this.dir, "d", buckets);
            const bucketOf = (pk) => hashString(pk, 0) % buckets;
            const scans = await Promise.allSettled([
                this.scan(this.source, this.spec.source, (entity) => {
                    this.result.sourceCount++;
                    const out = this.transform(entity);
                    src.add(bucketOf(entity.partitionKey), {
                        partitionKey: entity.partitionKey,
                        rowKey: entity.rowKey,
                        flag: out ? 0 : UNTRANSFORMABLE,
                        digest: out ? propertiesDigest(out) : "\0".repeat(DIGEST_BYTES),
                    });
                }),
                this.scan(this.destination, this.spec.destination, (entity) => {
                    this.result.destinationCount = (this.result.destinationCount ?? 0) + 1;
                    dst.add(bucketOf(entity.partitionKey), {
                        partitionKey: entity.partitionKey,
                        rowKey: entity.rowKey,
                        flag: 0,
                        digest: propertiesDigest(entity),
                    });
                }),
            ]);
            if (scans[0].status === "rejected")
                throw scans[0].reason;
            if (scans[1].status === "rejected") {
                if (!(scans[1].reason instanceof TableMissingError))
                    throw scans[1].reason;
                this.result.notes.push(`Table ${this.spec.destination} does not exist on the destination: every source entity is missing.`);
                this.repairer?.createTableFirst();
            }
            src.flush();
            dst.flush();
            for (let b = 0; b < buckets; b++) {
                await this.compareBucket(src.path(b), dst.path(b), 0);
                if (this.opts.signal?.aborted)
                    throw cancelled();
                this.progress("compare");
            }
            this.result.checked = this.result.sourceCount;
        }
        finally {
            (0,external_node_fs_.rmSync)(this.dir, { recursive: true, force: true });
        }
    }
    /** Split a bucket's two files into SPLIT_FANOUT smaller ones by a hash of the full key. */
    split(path, level) {
        const files = new SpillFiles(this.dir, `x${++this.splits}`, SPLIT_FANOUT);
        for (const rec of readRecords(path)) {
            files.add(hashString(`${rec.partitionKey}\u0000${rec.rowKey}`, level + 1) % SPLIT_FANOUT, rec);
        }
        files.flush();
        (0,external_node_fs_.rmSync)(path, { force: true });
        return files;
    }
    async compareBucket(srcPath, dstPath, level) {
        const maxBytes = this.opts.maxBucketBytes ?? 32 * 1024 * 1024;
        if (level < MAX_SPLIT_LEVEL && fileBytes(srcPath) + fileBytes(dstPath) > maxBytes) {
            const s = this.split(srcPath, level);
            const d = this.split(dstPath, level);
            for (let i = 0; i < SPLIT_FANOUT; i++)
                await this.compareBucket(s.path(i), d.path(i), level + 1);
            return;
        }
        // key → digest; "" marks a source entity the sync cannot write (neither missing nor different).
        const sources = new Map();
        for (const rec of readRecords(srcPath)) {
            sources.set(mapKey(rec.partitionKey, rec.rowKey), rec.flag === UNTRANSFORMABLE ? "" : rec.digest);
        }
        const different = [];
        const extra = [];
        for (const rec of readRecords(dstPath)) {
            const k = mapKey(rec.partitionKey, rec.rowKey);
            const digest = sources.get(k);
            if (digest === undefined) {
                extra.push({ partitionKey: rec.partitionKey, rowKey: rec.rowKey });
                continue;
            }
            sources.delete(k);
            if (digest !== "" && digest !== rec.digest)
                different.push(rec);
        }
        (0,external_node_fs_.rmSync)(srcPath, { force: true });
        (0,external_node_fs_.rmSync)(dstPath, { force: true });
        const missing = [];
        for (const [k, digest] of sources)
            if (digest !== "")
                missing.push(unmapKey(k));
        sources.clear();
        // Transactions group by partition: hand repairs over partition by partition.
        const byPartition = (a, b) => a.partitionKey < b.partitionKey ? -1 : a.partitionKey > b.partitionKey ? 1 : 0;
        missing.sort(byPartition);
        different.sort(byPartition);
        extra.sort(byPartition);
        for (const key of missing) {
            this.result.missing++;
            this.keep(this.result.missingSamples, key);
            await this.repairer?.copy(key);
        }
        for (const key of extra) {
            this.result.extra = (this.result.extra ?? 0) + 1;
            this.keep(this.result.extraSamples, key);
            if (this.opts.deleteExtra)
                await this.repairer?.remove(key);
        }
        for (const rec of different) {
            this.result.different++;
            const key = { partitionKey: rec.partitionKey, rowKey: rec.rowKey };
            const name = this.differentNamed < this.maxSamples;
            if (name)
                this.differentNamed++;
            if (!name) {
                await this.repairer?.copy(key);
                continue;
            }
            await this.pool.run(async () => {
                const [now, there] = await Promise.all([
                    readEntity(this.source, this.spec.source, key, "source"),
                    readEntity(this.destination, this.spec.destination, key, "destination"),
                ]);
                this.result.differentSamples.push(this.describeDifference(key, now, there));
                if (this.repairer)
                    await this.repairer.copy(key, now ?? undefined);
            });
        }
    }
    describeDifference(key, now, there) {
        if (!now)
            return { ...key, properties: [], note: "no longer in the source when re-read" };
        if (!there)
            return { ...key, properties: [], note: "no longer in the destination when re-read" };
        let out;
        try {
            out = this.transformer.apply(now);
        }
        catch (err) {
            return { ...key, properties: [], note: describeError(err) };
        }
        const properties = differingProperties(out, there);
        return properties.length > 0
            ? { ...key, properties }
            : { ...key, properties, note: "equal when re-read: changed during the verify" };
    }
}
/**
 * Compare a source table with its destination (after renames): counts, missing, extra and different
 * entities with the properties that differ; optionally repair. Never throws for a table-level
 * problem: it is reported in `error`.
 */
async function verifyTable(conn, spec, opts) {
    const started = Date.now();
    if (opts.sample !== undefined && !(opts.sample > 0 && opts.sample <= 1)) {
        throw new RangeError(`sample must be a fraction above 0 and at most 1, not ${opts.sample}.`);
    }
    const verifier = new TableVerifier(conn.source, conn.destination, spec, opts);
    await verifier.run();
    verifier.result.durationMs = Date.now() - started;
    return verifier.result;
}

;// CONCATENATED MODULE: ./src/engine/steps/verify-tables.ts



async function verifyAll(config, conn, events, opts) {
    const results = [];
    for (const spec of config.tables) {
        events.onTableStart?.(spec, config.sample < 1 ? `verify (sample ${config.sample})` : "verify");
        // After a switch, repair keeps the app's writes; the guards come back with our writes' ids.
        const guard = opts.repair ? switchGuard(opts.state, spec, config.conflict) : undefined;
        if (guard)
            opts.guards?.set(tableKey(spec), guard);
        const r = await verifyTable(conn, spec, {
            renames: config.propertyRenames,
            sample: config.sample < 1 ? config.sample : undefined,
            repair: opts.repair,
            deleteExtra: opts.deleteExtra,
            guard,
            concurrency: config.concurrency,
            maxSamples: Math.max(1, Math.min(config.maxFailuresKept, 200)),
            signal: events.signal,
            onProgress: (p) => events.onProgress?.(`${p.table}: ${p.phase}, ${p.source} source / ${p.destination} destination entities`),
        });
        results.push(r);
        events.onTableEnd?.(spec);
    }
    return results;
}

;// CONCATENATED MODULE: ./src/engine/steps/verify.ts







/** Repair's writes after a switch, remembered so the next backfill does not take them for the app's. */
async function rememberOurWrites(store, guards) {
    if (!store || guards.size === 0)
        return;
    const state = await store.load();
    if (!state)
        return;
    let changed = false;
    const tables = { ...state.tables };
    for (const [key, guard] of guards) {
        const entry = tables[key];
        // `ours` began as the stored ids: no more of them means repair wrote nothing.
        if (!entry || guard.ours.size === (entry.postSwitchWrites ?? []).length)
            continue;
        tables[key] = { ...entry, postSwitchWrites: [...guard.ours].slice(-MAX_OUR_WRITES) };
        changed = true;
    }
    if (changed)
        await store.save({ ...state, tables });
}
async function runVerify(config, deps, events = {}) {
    const started = Date.now();
    const state = deps.store ? await deps.store.load() : undefined;
    if (config.deleteExtra && !config.repair) {
        throw new StateError("Input 'delete-extra' only works with 'repair: true'; set both, or neither.");
    }
    if (config.deleteExtra) {
        const switched = config.tables.find((t) => state?.tables[tableKey(t)]?.switchedAt);
        if (switched) {
            throw new StateError(`delete-extra is refused for table ${switched.source}: a switch was recorded at ${state?.tables[tableKey(switched)]?.switchedAt}, so an entity only the destination holds is probably a new write by the app; run verify with repair but without delete-extra.`);
        }
    }
    const conn = connect(engineConfigOf(config, deps), events.signal);
    const guards = new Map();
    const verify = await verifyAll(config, conn, events, {
        repair: config.repair,
        deleteExtra: config.deleteExtra,
        state,
        guards,
    });
    await rememberOurWrites(deps.store, guards);
    const differences = verify.reduce((n, v) => n + differencesOf(v), 0);
    const inSync = verify.every((v) => v.inSync && !v.error);
    // Repaired only when nothing is left: no failure, no conflict kept, no extra entity left in place.
    const extrasLeft = (v) => (config.deleteExtra ? 0 : (v.extra ?? 0));
    const fullyRepaired = (v) => !!v.repair?.complete && v.repair.conflicts === 0 && extrasLeft(v) === 0;
    const repaired = config.repair && verify.every((v) => !v.error && (v.inSync || fullyRepaired(v)));
    const errors = verify.filter((v) => v.error);
    const ok = errors.length === 0 && (inSync || repaired || !config.failOnDifference);
    const left = (f) => verify.reduce((n, v) => n + (v.inSync ? 0 : f(v)), 0);
    const stillDiffer = () => {
        const copied = left((v) => v.repair?.copied ?? 0);
        const deleted = left((v) => v.repair?.deleted ?? 0);
        const parts = [
            [left(extrasLeft), "only on the destination (add 'delete-extra: true' to remove them)"],
            [left((v) => v.repair?.conflicts ?? 0), "changed by the app after the switch, kept (conflict: skip)"],
            [left((v) => v.repair?.failed ?? 0), "could not be written (see the report)"],
        ];
        const what = parts
            .filter(([n]) => n > 0)
            .map(([n, text]) => `${n} ${n === 1 ? "entity" : "entities"} ${text}`);
        return `Repair copied ${copied} ${copied === 1 ? "entity" : "entities"} and deleted ${deleted}, but the tables still differ: ${what.join("; ") || "see the report"}.`;
    };
    return {
        mode: "verify",
        verify,
        preflight: [],
        inSync,
        differences,
        repaired: !inSync && repaired,
        notices: [],
        ok,
        failure: ok
            ? undefined
            : errors.length
                ? `${errors.length} of ${verify.length} tables could not be verified: ${errors[0].error}`
                : config.repair
                    ? stillDiffer()
                    : `The destination differs from the source in ${differences} ${differences === 1 ? "entity" : "entities"}; run verify with 'repair: true' to copy them (and 'delete-extra: true' to remove entities the source no longer has).`,
        durationMs: Date.now() - started,
    };
}

;// CONCATENATED MODULE: ./src/engine/steps/switch.ts








/** The first table-level error of a run, as ": table x: …" (the reason a user needs first), or "". */
function firstTableError(run) {
    const failed = run.tables.find((r) => r.result.error);
    return failed ? `: table ${failed.result.source}: ${failed.result.error?.replace(/\.$/, "")}` : "";
}
async function runSwitch(config, deps, events = {}) {
    const started = Date.now();
    const done = (fields) => ({
        mode: "switch",
        verify: [],
        preflight: [],
        notices: [],
        durationMs: Date.now() - started,
        ...fields,
    });
    const store = deps.store;
    if (!store) {
        throw new StateError("Mode 'switch' records switched-at in the state: give a state store (the CLI: --state-file).");
    }
    let state = (await store.load()) ?? emptyState();
    const already = config.tables.map((t) => state.tables[tableKey(t)]?.switchedAt);
    if (already.every((a) => a)) {
        const at = already.sort()[0];
        return done({
            ready: true,
            switchedAt: at,
            notices: [
                `The switch was already recorded at ${at}; nothing was changed. Backfills keep the app's writes on the destination.`,
            ],
            ok: true,
        });
    }
    // 1. A final backfill: everything the source changed until now.
    const backfill = await runCopy({ ...config, mode: "backfill" }, deps, {
        signal: events.signal,
        onTableStart: (spec) => events.onTableStart?.(spec, "final backfill"),
        onProgress: (p) => events.onProgress?.(`${p.table}: final backfill, ${p.read} read, ${p.written} written`),
        onTableEnd: (r) => events.onTableEnd?.(r.result),
    });
    if (!backfill.ok) {
        return done({
            backfill,
            ready: false,
            ok: false,
            failure: `Not ready to switch: the final backfill failed (${backfill.failure?.replace(/\.$/, "")})${firstTableError(backfill)}.`,
        });
    }
    // 2. Verify (full, or a sample): the destination must hold what the source holds.
    const conn = connect(engineConfigOf(config, deps), events.signal);
    const verify = await verifyAll(config, conn, events, { repair: false, deleteExtra: false });
    const differences = verify.reduce((n, v) => n + differencesOf(v), 0);
    const inSync = verify.every((v) => v.inSync && !v.error);
    if (!inSync) {
        return done({
            verify,
            backfill,
            inSync,
            differences,
            ready: false,
            ok: false,
            failure: `Not ready to switch: the destination differs from the source in ${differences} entities (or a table could not be verified); run verify with 'repair: true', then switch again.`,
        });
    }
    // 3. Record switched-at on the destination's clock: the clock its Timestamps are compared with later.
    // Its Timestamps (and the Date header) have 1 s resolution, and a write in the switch's second counts
    // as the app's: wait past the second of our own last write first, so none of ours looks like theirs.
    await new Promise((r) => setTimeout(r, 1_100));
    const at = (await serverClock(conn.destination)).toISOString();
    state = (await store.load()) ?? state;
    const tables = { ...state.tables };
    for (const spec of config.tables) {
        const key = tableKey(spec);
        tables[key] = { ...tables[key], switchedAt: tables[key]?.switchedAt ?? at };
    }
    state = { ...state, tables };
    await store.save(state);
    return done({ verify, backfill, inSync, differences, ready: true, switchedAt: at, ok: true });
}

;// CONCATENATED MODULE: ./src/engine/check/estimate.ts
// The planning figures preflight adds to its counts: how entities spread over partitions (a transaction
// holds one partition's entities, so many tiny partitions mean many small requests), and what a full sync
// into Cosmos DB for Table will cost in request units and take at a given RU/s. Estimates, stated with
// their basis; the service's own bill decides.
/**
 * Cosmos DB's published write costs by item size (REFERENCE.md, "Throughput and cost": general Cosmos
 * figures from "Request units"), as [bytes, RU per write].
 */
const COSMOS_WRITE_RU = [
    [1024, 4.95],
    [2048, 6.29],
    [4096, 6.67],
    [8192, 7.04],
];
const RU_BASIS = "Cosmos DB's published write costs (≈ 4.95 RU for a 1 KB item, 6.29 for 2 KB, 6.67 for 4 KB, 7.04 for 8 KB; " +
    "interpolated on the size of each entity as JSON, beyond 8 KB extended at the same rate per doubling). " +
    "More indexed properties cost more; 429 answers cost nothing";
/** RU for writing one item of `bytes`: the published figure, interpolated on log2 of the size. */
function writeRequestUnits(bytes) {
    const table = COSMOS_WRITE_RU;
    if (bytes <= table[0][0])
        return table[0][1];
    let i = table.findIndex(([size]) => size >= bytes);
    // Beyond the last figure: the slope of the last two points, per doubling.
    if (i < 0)
        i = table.length - 1;
    const [s0, r0] = table[i - 1];
    const [s1, r1] = table[i];
    const perDoubling = (r1 - r0) / Math.log2(s1 / s0);
    return r0 + perDoubling * Math.log2(bytes / s0);
}
/** Entities per partition as a histogram (entities → partitions): memory stays small for millions of partitions. */
class PartitionCounter {
    histogram = new Map();
    partitions = 0;
    add(entities) {
        this.histogram.set(entities, (this.histogram.get(entities) ?? 0) + 1);
        this.partitions++;
    }
    profile() {
        if (this.partitions === 0)
            return null;
        const sizes = [...this.histogram.keys()].sort((a, b) => a - b);
        const rank = (p) => {
            const wanted = Math.max(1, Math.ceil(p * this.partitions));
            let seen = 0;
            for (const s of sizes) {
                seen += this.histogram.get(s) ?? 0;
                if (seen >= wanted)
                    return s;
            }
            return sizes[sizes.length - 1];
        };
        return {
            median: rank(0.5),
            p99: rank(0.99),
            singleEntityShare: (this.histogram.get(1) ?? 0) / this.partitions,
        };
    }
}
function costEstimate(requestUnits, ruPerSecond) {
    const ru = Math.round(requestUnits);
    return { requestUnits: ru, ruPerSecond, seconds: Math.ceil(ru / ruPerSecond), basis: RU_BASIS };
}

;// CONCATENATED MODULE: ./src/engine/check/preflight.ts






const COSMOS_MAX_ROWKEY_BYTES = 255;
const COSMOS_MAX_PARTITIONKEY_BYTES = 1024;
const COSMOS_MAX_ENTITY_BYTES = 2 * 1024 * 1024;
const COSMOS_MAX_PARTITION_BYTES = 20 * 1024 ** 3;
const TABLE_MAX_ENTITY_BYTES = 1024 * 1024;
// Table Storage and Cosmos DB for Table both refuse these in keys (control characters included, on purpose).
// eslint-disable-next-line no-control-regex
const FORBIDDEN_KEY_CHARS = /[/\\#?\u0000-\u001f\u007f-\u009f]/;
function describeChar(c) {
    const code = c.charCodeAt(0);
    return code < 0x20 || (code >= 0x7f && code <= 0x9f)
        ? `U+${code.toString(16).toUpperCase().padStart(4, "0")}`
        : `'${c}'`;
}
/** What is wrong with these keys for the destination (empty when nothing is). */
function keyProblems(partitionKey, rowKey, destinationKind) {
    const problems = [];
    for (const [name, value] of [
        ["PartitionKey", partitionKey],
        ["RowKey", rowKey],
    ]) {
        const bad = FORBIDDEN_KEY_CHARS.exec(value);
        if (bad)
            problems.push(`${name} contains ${describeChar(bad[0])}, which is not allowed in keys`);
    }
    if (destinationKind === "cosmos") {
        const rk = Buffer.byteLength(rowKey);
        if (rk > COSMOS_MAX_ROWKEY_BYTES)
            problems.push(`RowKey is ${rk} bytes, over ${COSMOS_MAX_ROWKEY_BYTES}`);
        const pk = Buffer.byteLength(partitionKey);
        if (pk > COSMOS_MAX_PARTITIONKEY_BYTES) {
            problems.push(`PartitionKey is ${pk} bytes, over ${COSMOS_MAX_PARTITIONKEY_BYTES}`);
        }
    }
    return problems;
}
function shortKey(s) {
    return s.length > 40 ? `${s.slice(0, 37)}…` : s;
}
function keyText(k) {
    return `PartitionKey '${shortKey(k.partitionKey)}', RowKey '${shortKey(k.rowKey)}'`;
}
function megabytes(bytes) {
    return `${(bytes / 1024 / 1024).toFixed(2)} MB`;
}
/** Read the source table once and report what a full sync into `destinationKind` will meet. */
async function preflightTable(sourceHttp, table, opts) {
    const started = Date.now();
    const maxSamples = opts.maxSamples ?? 10;
    const cosmos = opts.destinationKind === "cosmos";
    const renames = new Map(opts.renames.map((r) => [r.from, r.to]));
    const result = {
        table,
        destinationKind: opts.destinationKind,
        entities: 0,
        partitions: 0,
        largestPartition: null,
        largestEntity: null,
        totalBytes: 0,
        reservedProperties: [],
        renameCollisions: [],
        badKeys: 0,
        badKeySamples: [],
        oversized: 0,
        oversizedSamples: [],
        oversizedLimitBytes: cosmos ? COSMOS_MAX_ENTITY_BYTES : TABLE_MAX_ENTITY_BYTES,
        scanMs: 0,
        scanEntitiesPerSecond: 0,
        fullSyncAtLeastMs: 0,
        partitionProfile: null,
        blocking: [],
        warnings: [],
    };
    const reserved = new Map();
    const renamedSeen = new Map();
    const collisions = new Map();
    const overPartitionLimit = [];
    // Table Storage returns partitions in order, so one running tally is enough; Cosmos does not sort.
    const sorted = sourceHttp.kind === "table";
    const tallies = new Map();
    let current;
    const counter = new PartitionCounter();
    let requestUnits = 0;
    const closePartition = (p) => {
        counter.add(p.entities);
        if (!result.largestPartition || p.entities > result.largestPartition.entities)
            result.largestPartition = { ...p };
        if (cosmos && p.bytes > COSMOS_MAX_PARTITION_BYTES && overPartitionLimit.length < maxSamples) {
            overPartitionLimit.push({ ...p });
        }
    };
    const visit = (entity) => {
        result.entities++;
        const out = new Map();
        for (const [name, value] of entity.properties) {
            const to = renames.get(name);
            if (to !== undefined) {
                renamedSeen.set(name, (renamedSeen.get(name) ?? 0) + 1);
                if (entity.properties.has(to) && !renames.has(to)) {
                    const k = `${name}\u0000${to}`;
                    collisions.set(k, (collisions.get(k) ?? 0) + 1);
                }
            }
            if (isCosmosReserved(name))
                reserved.set(name, (reserved.get(name) ?? 0) + 1);
            out.set(to ?? name, value);
        }
        const bytes = entityBytes({ partitionKey: entity.partitionKey, rowKey: entity.rowKey, properties: out });
        result.totalBytes += bytes;
        if (cosmos)
            requestUnits += writeRequestUnits(bytes);
        const key = { partitionKey: entity.partitionKey, rowKey: entity.rowKey };
        if (!result.largestEntity || bytes > result.largestEntity.bytes)
            result.largestEntity = { ...key, bytes };
        if (bytes > result.oversizedLimitBytes) {
            result.oversized++;
            if (result.oversizedSamples.length < maxSamples)
                result.oversizedSamples.push({ ...key, bytes });
        }
        const problems = keyProblems(entity.partitionKey, entity.rowKey, opts.destinationKind);
        if (problems.length > 0) {
            result.badKeys++;
            if (result.badKeySamples.length < maxSamples)
                result.badKeySamples.push({ ...key, problems });
        }
        if (sorted) {
            if (current?.partitionKey !== entity.partitionKey) {
                if (current)
                    closePartition(current);
                current = { partitionKey: entity.partitionKey, entities: 0, bytes: 0 };
                result.partitions++;
            }
            current.entities++;
            current.bytes += bytes;
        }
        else {
            let t = tallies.get(entity.partitionKey);
            if (!t) {
                t = { partitionKey: entity.partitionKey, entities: 0, bytes: 0 };
                tallies.set(entity.partitionKey, t);
                result.partitions++;
            }
            t.entities++;
            t.bytes += bytes;
        }
    };
    try {
        const reader = new TableReader(sourceHttp, table);
        for await (const page of reader.pages()) {
            for (const entity of page.entities)
                visit(entity);
            opts.onProgress?.(result.entities);
            if (opts.signal?.aborted)
                throw new Error("the run was cancelled");
        }
    }
    catch (err) {
        result.error = describeError(err);
    }
    if (current)
        closePartition(current);
    for (const t of tallies.values())
        closePartition(t);
    tallies.clear();
    result.scanMs = Date.now() - started;
    result.scanEntitiesPerSecond = entitiesPerSecond(result.entities, result.scanMs);
    result.fullSyncAtLeastMs = result.scanMs;
    result.partitionProfile = counter.profile();
    if (cosmos)
        result.cosmosEstimate = costEstimate(requestUnits, opts.ruPerSecond ?? 10_000);
    const profile = result.partitionProfile;
    if (profile && profile.singleEntityShare >= 0.5) {
        result.warnings.push(`Table ${table}: ${Math.round(profile.singleEntityShare * 100)} % of its partitions hold one entity (median ${profile.median} per partition): a transaction holds one partition's entities, so most writes go one entity per request and the copy is slower than for large partitions; give it more concurrency.`);
    }
    // ---- what blocks a full sync, one sentence each with its fix ----
    const b = result.blocking;
    for (const [name, entities] of reserved) {
        const renamedTo = renames.get(name) ?? null;
        result.reservedProperties.push({ name, entities, renamedTo });
        if (cosmos && renamedTo === null) {
            b.push(`Table ${table}: property '${name}' (${entities} entities) is reserved by Cosmos DB for Table; ` +
                `add the rename '${name}:${suggestName(name)}' to property-renames.`);
        }
    }
    for (const [from, to] of renames) {
        const seen = renamedSeen.get(from) ?? 0;
        if (cosmos && seen > 0 && isCosmosReserved(to)) {
            b.push(`Table ${table}: the rename '${from}:${to}' gives ${seen} entities a property Cosmos DB for Table reserves; ` +
                `choose another target name in property-renames.`);
        }
    }
    for (const [k, entities] of collisions) {
        const [from, to] = k.split("\u0000");
        result.renameCollisions.push({ from, to, entities });
        b.push(`Table ${table}: ${entities} entities have both '${from}' and '${to}', so the rename '${from}:${to}' would ` +
            `overwrite '${to}'; choose a target name no entity uses in property-renames.`);
    }
    if (result.badKeys > 0) {
        const first = result.badKeySamples[0];
        b.push(`Table ${table}: ${result.badKeys} entities have keys ${cosmos ? "Cosmos DB for Table" : "the destination"} refuses ` +
            `(first: ${keyText(first)}: ${first.problems.join("; ")}); change those keys in the source, or leave ` +
            `those entities out with query-filter.`);
    }
    if (result.oversized > 0) {
        const first = result.oversizedSamples[0];
        const text = `Table ${table}: ${result.oversized} entities are over ${megabytes(result.oversizedLimitBytes)} as JSON ` +
            `(first: ${keyText(first)}, ${megabytes(first.bytes)})`;
        if (cosmos) {
            b.push(`${text}, more than Cosmos DB for Table stores in one item; shrink them (e.g. move large Binary values ` +
                `to Blob Storage) or leave them out with query-filter.`);
        }
        else {
            result.warnings.push(`${text}; Table Storage may refuse them (it counts entity size its own way, limit 1 MiB).`);
        }
    }
    for (const p of overPartitionLimit) {
        b.push(`Table ${table}: partition '${shortKey(p.partitionKey)}' holds ${(p.bytes / 1024 ** 3).toFixed(1)} GB, over ` +
            `Cosmos DB for Table's 20 GB per partition key; spread its entities over more PartitionKeys in the source first.`);
    }
    if (!sorted && result.partitions > 0) {
        result.warnings.push("The source does not sort by PartitionKey: partitions were counted in memory.");
    }
    return result;
}

;// CONCATENATED MODULE: ./src/engine/steps/preflight.ts





async function runPreflight(config, deps, events = {}) {
    const started = Date.now();
    // Preflight reads the source only: without a destination, destination-kind says what to check for.
    const engine = engineConfigOf(config, deps);
    const { connectionString, endpoint, kind } = engine.destination;
    const conn = connectionString || endpoint ? connect(engine, events.signal) : undefined;
    const source = conn?.source ?? connectSource(engine, events.signal);
    const destinationKind = conn?.destination.kind ?? (kind === "cosmos" ? "cosmos" : "table");
    const preflight = [];
    for (const spec of config.tables) {
        events.onTableStart?.(spec, "preflight");
        preflight.push(await preflightTable(source, spec.source, {
            destinationKind,
            renames: config.propertyRenames,
            maxSamples: Math.max(1, Math.min(config.maxFailuresKept, 50)),
            signal: events.signal,
            onProgress: (n) => events.onProgress?.(`${spec.source}: ${n} entities scanned`),
            ruPerSecond: config.ruPerSecond,
        }));
        events.onTableEnd?.(spec);
    }
    // Kept for the full sync's ETA (the whole table's count; a scan cut short counts nothing).
    const counted = preflight.flatMap((p, i) => p.error ? [] : [{ key: tableKey(config.tables[i]), entities: p.entities }]);
    const kept = events.signal?.aborted ? undefined : await rememberSizes(deps.store, counted);
    const blocking = preflight.flatMap((p) => [...p.blocking, ...(p.error ? [p.error] : [])]);
    return {
        mode: "preflight",
        verify: [],
        preflight,
        notices: kept ? [kept] : [],
        ok: blocking.length === 0,
        failure: blocking.length
            ? `A full sync would fail: ${blocking[0]}${blocking.length > 1 ? ` (and ${blocking.length - 1} more)` : ""}`
            : undefined,
        durationMs: Date.now() - started,
    };
}

;// CONCATENATED MODULE: ./src/engine/steps/status.ts





const PHASES = (/* unused pure expression or super */ null && ([
    "not started",
    "full sync in progress",
    "full sync done",
    "backfilling",
    "switched",
]));
function sum(values) {
    const present = values.filter((v) => v !== undefined);
    return present.length ? present.reduce((a, b) => a + b, 0) : undefined;
}
/** The full sync's resume point: the table's own, or the sum over its shards (a matrix or read-ranges). */
function checkpointOf(entry) {
    const own = entry.checkpoint?.mode === "full-sync" ? entry.checkpoint : undefined;
    if (own)
        return { read: own.read, written: own.written ?? own.read, at: own.at };
    const shards = Object.values(entry.shards ?? {}).filter((s) => s.checkpoint?.mode === "full-sync" && (!entry.shardPlan || s.plan === entry.shardPlan.id));
    if (!shards.length || entry.watermark)
        return undefined;
    return {
        read: sum(shards.map((s) => s.checkpoint?.read)) ?? 0,
        written: sum(shards.map((s) => s.checkpoint?.written ?? s.checkpoint?.read)) ?? 0,
        at: shards.map((s) => s.checkpoint?.at ?? "").sort()[shards.length - 1],
    };
}
function phaseOf(entry, history) {
    if (!entry)
        return "not started";
    if (entry.switchedAt)
        return "switched";
    if (checkpointOf(entry))
        return "full sync in progress";
    if (history.length || entry.lastSuccess?.mode === "backfill")
        return "backfilling";
    if (entry.watermark)
        return "full sync done";
    return "not started";
}
function nextStep(t) {
    switch (t.phase) {
        case "not started":
            return "Run preflight (it also records the table's size for the full sync's ETA), then full-sync.";
        case "full sync in progress":
            return `Run full-sync again with the same inputs and state: it resumes after the first ${t.checkpoint?.read ?? 0} entities.`;
        case "full sync done":
            return "Start the backfill schedule (mode: backfill every 10 minutes, examples/workflows/backfill.yml).";
        case "backfilling": {
            const last = t.history.at(-1);
            const figures = last
                ? `: the last backfill left ${last.lagSeconds} s of lag with ${last.changed} entities changed`
                : "";
            return `Keep the backfills running, and switch (verify, then mode: switch) once lag and changes stay small${figures}.`;
        }
        case "switched":
            return "Keep the backfill running after the switch until the old store gets no more writes; then stop the schedule.";
    }
}
function tableStatus(state, spec, sourceClock) {
    const entry = state.tables[tableKey(spec)];
    const history = decodeHistory(entry?.history);
    const phase = phaseOf(entry, history);
    const checkpoint = phase === "full sync in progress" && entry ? checkpointOf(entry) : undefined;
    const fullSyncCount = entry?.size?.by === "full-sync"
        ? entry.size.entities
        : entry?.lastSuccess?.mode === "full-sync"
            ? entry.lastSuccess.written
            : undefined;
    const watermark = entry?.watermark;
    const lag = sourceClock && watermark
        ? Math.max(0, Math.round((sourceClock.getTime() - Date.parse(watermark)) / 1000))
        : undefined;
    const status = {
        source: spec.source,
        destination: spec.destination,
        phase,
        entitiesCopied: checkpoint ? checkpoint.written : fullSyncCount,
        size: entry?.size,
        checkpoint,
        watermark,
        lagNowSeconds: lag,
        history,
        switchedAt: entry?.switchedAt,
    };
    return { ...status, next: nextStep(status) };
}
/** Status of the tables given (or of every table in the state). Reads only. */
async function runStatus(config, deps) {
    const where = deps.store?.describe() ?? "no state store";
    const state = deps.store ? await deps.store.load() : undefined;
    const empty = { mode: "status", state: where, tables: [], notices: [] };
    if (!state) {
        return {
            ...empty,
            ok: false,
            failure: `No state was found in ${where}: run full-sync first, or give this step the state-store and state-key the migration's other steps use.`,
        };
    }
    const specs = config.tables.length
        ? config.tables
        : Object.keys(state.tables)
            .sort()
            .map((k) => parseTableKey(k));
    const notices = [];
    let clock;
    if (deps.source && (deps.source.connectionString || deps.source.endpoint)) {
        try {
            clock = await serverClock(connectSource({ source: deps.source, retry: deps.retry }, deps.signal), "source");
        }
        catch (err) {
            notices.push(`The source's clock could not be read (${describeError(err).replace(/\.$/, "")}), so the lag now is not shown.`);
        }
    }
    else {
        notices.push("No source was given, so the lag now (on the source's clock) is not shown.");
    }
    if (specs.length === 0)
        notices.push(`The state in ${where} has no tables yet.`);
    const open = state.fullSync
        ? ` A full sync started at ${state.fullSync.startedAt} has not completed every table.`
        : "";
    if (open)
        notices.push(open.trim());
    return {
        ...empty,
        sourceClock: clock?.toISOString(),
        tables: specs.map((s) => tableStatus(state, s, clock)),
        notices,
        ok: true,
    };
}

;// CONCATENATED MODULE: ./src/engine/steps/report-path.ts
// Where the JSON report of verify, switch and preflight goes is checked before the run starts, so a path that
// cannot be written fails at once instead of after the work (a switch would already be recorded). Missing
// directories are fine (writeCheckReport creates them); the nearest existing one must be a writable directory.
// The adapters word the problem for their own input (`--report-path`, `report-path`).


function code(err) {
    return err.code ?? "unknown error";
}
/** What keeps `path` (absolute) from taking the report, or undefined when it can. */
function reportPathProblem(path) {
    let stat;
    try {
        stat = (0,external_node_fs_.statSync)(path);
    }
    catch (err) {
        const c = code(err);
        if (c !== "ENOENT" && c !== "ENOTDIR")
            return { kind: "unchecked", code: c };
    }
    if (stat) {
        if (stat.isDirectory())
            return { kind: "directory" };
        try {
            (0,external_node_fs_.accessSync)(path, external_node_fs_.constants.W_OK);
        }
        catch (err) {
            return { kind: "unwritable", code: code(err) };
        }
        return undefined;
    }
    // The file does not exist yet: the nearest existing ancestor must be a directory we may create files in.
    for (let dir = (0,external_node_path_.dirname)(path);; dir = (0,external_node_path_.dirname)(dir)) {
        let parent;
        try {
            parent = (0,external_node_fs_.statSync)(dir);
        }
        catch (err) {
            const c = code(err);
            if ((c === "ENOENT" || c === "ENOTDIR") && (0,external_node_path_.dirname)(dir) !== dir)
                continue;
            return { kind: "parent-unchecked", dir, code: c };
        }
        if (!parent.isDirectory())
            return { kind: "parent-file", dir };
        try {
            (0,external_node_fs_.accessSync)(dir, external_node_fs_.constants.W_OK | external_node_fs_.constants.X_OK);
        }
        catch (err) {
            return { kind: "parent-unwritable", dir, code: code(err) };
        }
        return undefined;
    }
}
/** The reason a write failed, short: "ENOSPC: no space left on device, write" → "ENOSPC: no space left on device". */
function writeFailureReason(err) {
    return (err instanceof Error ? err.message : String(err)).split(",")[0].replace(/\s+/g, " ").trim();
}

;// CONCATENATED MODULE: ./src/engine/steps/index.ts
// The engine's front for the doors (action, CLI) and the shared presentation: each migration step and the
// results they present. The steps' own modules may move behind it; the doors import only from here.









;// CONCATENATED MODULE: ./src/cli/engine-config.ts

async function defaultCredential(auth) {
    // Loaded only when an endpoint is used: connection-string runs and --help stay quick.
    const { DefaultAzureCredential } = await __nccwpck_require__.e(/* import() */ 819).then(__nccwpck_require__.bind(__nccwpck_require__, 1819));
    return new DefaultAzureCredential({
        ...(auth.tenantId ? { tenantId: auth.tenantId } : {}),
        ...(auth.clientId
            ? { managedIdentityClientId: auth.clientId, workloadIdentityClientId: auth.clientId }
            : {}),
    });
}
/** The engine's view of a validated config; endpoints get the (one, shared) Entra ID credential. */
async function engineConfig(config, deps = {}) {
    let credential;
    const sideConfig = async (side) => {
        const { kind } = side;
        const proxy = config.proxy;
        if (side.connectionString)
            return { connectionString: side.connectionString, kind, proxy };
        if (!side.endpoint)
            return { kind, proxy }; // preflight without a destination
        credential ??= Promise.resolve((deps.credential ?? defaultCredential)(config.auth));
        return { endpoint: side.endpoint, credential: await credential, kind, proxy };
    };
    return engineConfigOf(config, {
        source: await sideConfig(config.source),
        destination: await sideConfig(config.destination),
        retry: deps.retry,
    });
}

;// CONCATENATED MODULE: ./src/cli/report-path.ts
// --report-path is checked before verify, switch or preflight start, so a path that cannot be written fails in
// one sentence at once instead of after the whole run. Missing directories are fine: they are created when the
// report is written (as the README says); what must hold is that the nearest existing one is a writable directory.



/** Where the JSON report goes (--report-path, relative to `cwd`), checked before any work: a report that
 * cannot be written must not cost the whole run first. */
function checkedReportPath(given, cwd) {
    const path = (0,external_node_path_.resolve)(cwd, given ?? "table-sync-report.json");
    const problem = report_path_reportPathProblem(path, given);
    if (problem)
        throw new ConfigError(problem);
    return path;
}
/** Why `path` (absolute) cannot take the report, as one sentence, or undefined when it can. */
function report_path_reportPathProblem(path, given) {
    const option = `Option --report-path is '${given ?? path}'`;
    const problem = reportPathProblem(path);
    if (!problem)
        return undefined;
    switch (problem.kind) {
        case "unchecked":
            return `${option}, which cannot be checked (${problem.code}); give a file path you can write to.`;
        case "directory":
            return `${option}, which is a directory; give a file path, e.g. ${(0,external_node_path_.join)(path, "table-sync-report.json")}.`;
        case "unwritable":
            return `${option}, which cannot be written (${problem.code}); give a file path you can write to.`;
        case "parent-unchecked":
            return `${option}, but ${problem.dir} cannot be checked (${problem.code}); give a file path you can write to.`;
        case "parent-file":
            return `${option}, but ${problem.dir} is a file, not a directory; give a path inside a directory.`;
        case "parent-unwritable":
            return `${option}, but the directory ${problem.dir} cannot be written (${problem.code}); give a path you can write to.`;
    }
}
/** The sentence for a report that could not be written after the run (the outcome is printed already). */
function reportWriteFailure(path, err) {
    return `The JSON report could not be written to ${path} (${writeFailureReason(err)}); the result above stands, but give --report-path a file you can write to.`;
}

;// CONCATENATED MODULE: ./src/present/figures.ts
// Numbers, counts and durations in the same words for both doors: the action's log and job summary and the
// CLI's lines. Plain text in, plain text out; the doors decide where a figure goes (Markdown or a terminal).
/** `12,345`. */
function num(n) {
    // Whole numbers (nearly every figure) without Intl: its first use loads locale data, tens of ms of
    // CPU in every run of the CLI.
    if (!Number.isSafeInteger(n) || Object.is(n, -0))
        return n.toLocaleString("en-US");
    const digits = String(Math.abs(n));
    let out = digits.slice(0, ((digits.length - 1) % 3) + 1);
    for (let i = out.length; i < digits.length; i += 3)
        out += `,${digits.slice(i, i + 3)}`;
    return n < 0 ? `-${out}` : out;
}
/** `1 table`, `2 tables`; `shown` formats the number (the CLI: `num`). */
function figures_counted(n, one, many = `${one}s`, shown = String) {
    return `${shown(n)} ${n === 1 ? one : many}`;
}
/** `2 tables`, `1 table`. */
function tablesCount(n) {
    return figures_counted(n, "table");
}
/** "3 h 20 min", "4 min 05 s", "12 s". */
function timeLeft(seconds) {
    const s = Math.max(0, Math.round(seconds));
    if (s < 60)
        return `${s} s`;
    if (s < 3600)
        return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
    const h = Math.floor(s / 3600);
    return `${h} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}
/** How long something took: "2.5 s" under a minute, then as `timeLeft` says it ("2 min 05 s", "1 h 02 min"). */
function figures_duration(ms) {
    if (ms < 60_000)
        return `${(ms / 1000).toFixed(1)} s`;
    return timeLeft(ms / 1000);
}

;// CONCATENATED MODULE: ./src/present/preflight.ts

function planningLines(p) {
    const lines = [];
    const profile = p.partitionProfile;
    if (profile) {
        lines.push(`Entities per partition: median ${num(profile.median)}, 99th percentile ${num(profile.p99)}; ${Math.round(profile.singleEntityShare * 1000) / 10} % of the partitions hold a single entity (a transaction holds one partition's entities, so small partitions mean small requests).`);
    }
    const e = p.cosmosEstimate;
    if (e) {
        lines.push(`Estimate: the full sync's writes spend about ${num(e.requestUnits)} RU; at ${num(e.ruPerSecond)} RU/s (ru-per-second) that is at least ${timeLeft(e.seconds)}. Basis: ${e.basis}.`);
    }
    return lines;
}

;// CONCATENATED MODULE: ./src/present/names.ts
// How both doors name what a result is about: a table (`users → users2` when it is renamed), an entity
// (`Table t, PartitionKey 'p', RowKey 'r': `), and a table's error, each named once however the engine
// worded the message.
/** `orders`, or `users → users2` when the destination has another name. */
function tableLabel(t) {
    return t.source === t.destination ? t.source : `${t.source} → ${t.destination}`;
}
/** How the engine and the annotations name an entity: `Table t, PartitionKey 'p', RowKey 'r': `. */
function entityPrefix(table, partitionKey, rowKey) {
    return `Table ${table}, PartitionKey '${partitionKey}', RowKey '${rowKey}': `;
}
/** The message with the entity named once: some engine messages (transform.ts) name it already. */
function entityMessage(table, partitionKey, rowKey, message) {
    const prefix = entityPrefix(table, partitionKey, rowKey);
    return message.startsWith(prefix) ? message : prefix + message;
}
/** The message without the entity's name, for a row or line that names it already. */
function entityReason(table, partitionKey, rowKey, message) {
    const prefix = entityPrefix(table, partitionKey, rowKey);
    return message.startsWith(prefix) ? message.slice(prefix.length) : message;
}
/** A table's error naming the table once: engine errors often begin with "Table orders …" already. */
function tableMessage(table, error) {
    return error.startsWith(`Table ${table} `) || error.startsWith(`Table ${table}:`)
        ? error
        : `Table ${table}: ${error}`;
}
/** A table's error without its leading `Table orders: `, for a line that names the table already. */
function tableReason(table, error) {
    return error.startsWith(`Table ${table}: `) ? error.slice(`Table ${table}: `.length) : error;
}

;// CONCATENATED MODULE: ./src/present/results.ts

const CANCELLED_ERROR = new RegExp(`\\b${CANCELLED}\\b`, "i");
/** A table-level error that only says the run was cancelled (the engine's wording). */
function isCancelledError(error) {
    return error !== undefined && CANCELLED_ERROR.test(error);
}
/** A switch's final backfill: `Final backfill: 250 read, 250 written, 0 failed, 0 conflicts.` */
function finalBackfillLine(t, shown = String) {
    return `Final backfill: ${shown(t.read)} read, ${shown(t.written)} written, ${shown(t.failed)} failed, ${shown(t.conflicts)} conflicts.`;
}
/** A backfill's lag, after "Lag: ": how far the destination trails the source and how much changed since. */
function lagSentence(lagSeconds, changedEntities) {
    return `the destination trails the source by about ${lagSeconds} s (source clock); ${changedEntities} entities changed in the window.`;
}

;// CONCATENATED MODULE: ./src/cli/columns.ts
// Plain-text tables for the terminal: each column as wide as its widest cell, two spaces between columns.
/** The rows of `cells` (the header first) padded into columns; `rightAlign[i]` right-aligns column i. */
function columns(cells, rightAlign) {
    const widths = cells[0].map((_, i) => Math.max(...cells.map((row) => [...row[i]].length)));
    return cells.map((row) => row
        .map((c, i) => {
        const fill = " ".repeat(widths[i] - [...c].length);
        return rightAlign[i] ? fill + c : c + fill;
    })
        .join("  ")
        .trimEnd());
}

;// CONCATENATED MODULE: ./src/cli/check-report.ts






/**
 * The text report of verify, switch and preflight. `reportPath` undefined: the JSON report could not be
 * written. A cancelled check shows only the tables it finished, and no verdict.
 */
function formatCheck(full, reportPath, opts = {}) {
    const cancelled = opts.cancelled ?? false;
    const result = cancelled
        ? {
            ...full,
            verify: full.verify.filter((v) => !isCancelledError(v.error)),
            preflight: full.preflight.filter((p) => !isCancelledError(p.error)),
        }
        : full;
    const lines = [];
    if (result.backfill) {
        lines.push(finalBackfillLine(result.backfill.totals, num));
    }
    if (result.verify.length) {
        const header = [
            "Table",
            "Checked",
            "Source",
            "Destination",
            "Missing",
            "Extra",
            "Different",
            "Repaired",
            "In sync",
        ];
        const rows = result.verify.map((v) => [
            tableLabel(v),
            num(v.checked),
            num(v.sourceCount),
            v.destinationCount === null ? "—" : num(v.destinationCount),
            num(v.missing),
            v.extra === null ? "—" : num(v.extra),
            num(v.different + v.untransformable),
            v.repair ? `${num(v.repair.copied)}+${num(v.repair.deleted)} deleted` : "—",
            v.error ? "error" : v.inSync ? "yes" : "no",
        ]);
        lines.push("", ...columns([header, ...rows], [false, true, true, true, true, true, true, true, false]).map((l) => `  ${l}`));
        for (const v of result.verify) {
            for (const m of v.missingSamples)
                lines.push(`  ${v.source}: missing PartitionKey '${m.partitionKey}', RowKey '${m.rowKey}'`);
            for (const m of v.extraSamples)
                lines.push(`  ${v.source}: extra PartitionKey '${m.partitionKey}', RowKey '${m.rowKey}'`);
            for (const d of v.differentSamples) {
                lines.push(`  ${v.source}: different PartitionKey '${d.partitionKey}', RowKey '${d.rowKey}': ${d.properties.join(", ")}`);
            }
            for (const u of v.untransformableSamples) {
                lines.push(`  ${v.source}: PartitionKey '${u.partitionKey}', RowKey '${u.rowKey}': ${entityReason(v.source, u.partitionKey, u.rowKey, u.message)}`);
            }
            for (const n of v.notes)
                lines.push(`  ${v.source}: ${cliMessage(n)}`);
            if (v.error)
                lines.push(`  ${v.source}: ${cliMessage(v.error)}`);
        }
    }
    for (const p of result.preflight) {
        lines.push("", `${p.table}: ${num(p.entities)} entities in ${num(p.partitions)} partitions; ` +
            `largest partition ${p.largestPartition ? `'${p.largestPartition.partitionKey}' (${num(p.largestPartition.entities)})` : "—"}; ` +
            `largest entity ${p.largestEntity ? `${num(p.largestEntity.bytes)} bytes` : "—"}; ` +
            `scanned at ${num(p.scanEntitiesPerSecond)} entities/s, so a full sync takes at least ${figures_duration(p.fullSyncAtLeastMs)}.`);
        for (const r of p.reservedProperties) {
            lines.push(`  reserved property '${r.name}' in ${num(r.entities)} entities${r.renamedTo ? ` → renamed to '${r.renamedTo}'` : ""}`);
        }
        if (p.badKeys)
            lines.push(`  ${num(p.badKeys)} keys the destination refuses`);
        if (p.oversized)
            lines.push(`  ${num(p.oversized)} entities over ${num(p.oversizedLimitBytes)} bytes`);
        for (const l of planningLines(p))
            lines.push(`  ${l}`);
        for (const b of p.blocking)
            lines.push(`  BLOCKING: ${cliMessage(b)}`);
        for (const w of p.warnings)
            lines.push(`  note: ${cliMessage(w)}`);
        if (p.error)
            lines.push(`  ${cliMessage(p.error)}`);
    }
    if (cancelled) {
        const total = full.mode === "preflight" ? full.preflight.length : full.verify.length;
        const done = result.mode === "preflight" ? result.preflight.length : result.verify.length;
        const what = full.mode === "preflight" ? "scanned" : "compared";
        lines.push("", `${full.mode} cancelled: no verdict` +
            (full.mode === "switch" ? "; switched-at was not recorded" : "") +
            (total ? ` (${done} of ${tablesCount(total)} ${what} before the cancel).` : "."));
        for (const n of result.notices)
            lines.push(cliMessage(n));
        lines.push(reportPath ? `Report (marked cancelled): ${reportPath}` : "Report: not written.");
        return lines.join("\n") + "\n";
    }
    const verdict = result.mode === "switch"
        ? result.ready
            ? `switch: ready; switched-at ${result.switchedAt} recorded (destination clock).`
            : "switch: not ready."
        : result.mode === "verify"
            ? result.inSync
                ? "verify: in sync."
                : result.repaired
                    ? `verify: ${figures_counted(result.differences ?? 0, "difference", "differences", num)} found and repaired; the tables are now in sync.`
                    : `verify: ${figures_counted(result.differences ?? 0, "difference", "differences", num)}.`
            : result.ok
                ? "preflight: nothing blocks a full sync."
                : "preflight: a full sync would fail.";
    lines.push("", verdict);
    for (const n of result.notices)
        lines.push(cliMessage(n));
    if (result.failure)
        lines.push(cliMessage(result.failure));
    lines.push(reportPath ? `Report: ${reportPath}` : "Report: not written.");
    return lines.join("\n") + "\n";
}

;// CONCATENATED MODULE: ./src/cli/run-context.ts
/** Calls `tick` every --progress-seconds (5 by default; none at 0) until the returned stop is called. */
function everyProgressInterval(ctx, tick) {
    const intervalMs = ctx.deps.progressIntervalMs ?? (ctx.progressSeconds ?? 5) * 1000;
    const timer = intervalMs > 0 ? setInterval(tick, intervalMs) : undefined;
    return () => {
        if (timer)
            clearInterval(timer);
    };
}

;// CONCATENATED MODULE: ./src/cli/run-check.ts






async function runCheckCommand(config, engine, store, reportPath, ctx) {
    const { err, deps } = ctx;
    const command = config.mode;
    let current;
    const stopProgress = everyProgressInterval(ctx, () => {
        if (current?.text) {
            err(`[${current.table}] ${current.what}: ${current.text}, ${figures_duration(Date.now() - current.started)} elapsed\n`);
        }
    });
    const checkDeps = { store, source: engine.source, destination: engine.destination, retry: engine.retry };
    const events = {
        signal: deps.signal,
        onTableStart: (spec, what) => {
            current = { table: spec.source, what, started: Date.now() };
            err(`[${spec.source}] ${what}…\n`);
        },
        onProgress: (text) => {
            if (!current)
                return;
            // "orders: scan, 12000 source / 11000 destination entities" → "scan, 12,000 source / 11,000 destination entities"
            const own = `${current.table}: `;
            current.text = (text.startsWith(own) ? text.slice(own.length) : text).replace(/\b\d{4,}\b/g, (n) => num(Number(n)));
        },
        onTableEnd: () => {
            current = undefined;
        },
    };
    let result;
    try {
        result =
            command === "verify"
                ? await runVerify(config, checkDeps, events)
                : command === "switch"
                    ? await runSwitch(config, checkDeps, events)
                    : await runPreflight(config, checkDeps, events);
    }
    finally {
        stopProgress();
    }
    // A cancel gives no verdict, unless the switch was already recorded when it came.
    const report = cancelledCheck(result, deps.signal);
    const cancelled = report.cancelled === true;
    let writeError;
    try {
        await writeCheckReport(reportPath, report);
    }
    catch (e) {
        writeError = e;
    }
    if (ctx.json)
        ctx.out(JSON.stringify(report, null, 2) + "\n");
    (ctx.json ? err : ctx.out)("\n" + formatCheck(result, writeError === undefined ? reportPath : undefined, { cancelled }));
    if (writeError !== undefined)
        err(`table-sync: ${reportWriteFailure(reportPath, writeError)}\n`);
    if (deps.signal?.aborted) {
        if (!cancelled)
            err(`The cancel came after switched-at was recorded: the switch stands.\n`);
        return cancelExitCode(deps.cancel);
    }
    if (writeError !== undefined)
        return EXIT_FAILED;
    return result.ok ? EXIT_OK : EXIT_FAILED;
}

;// CONCATENATED MODULE: ./src/present/progress.ts

/** "45.2 % of 10,000 entities (counted by preflight), 1,234/s, about 4 min 05 s left". */
function etaText(eta) {
    const left = eta.secondsLeft === undefined
        ? "time left not known yet"
        : eta.secondsLeft === 0
            ? "nothing left"
            : `about ${timeLeft(eta.secondsLeft)} left`;
    return `${eta.percent.toFixed(1)} % of ${num(eta.expected)} entities (counted by ${eta.sizeBy}), ${num(eta.perSecond)}/s, ${left}`;
}

;// CONCATENATED MODULE: ./src/cli/report.ts







/** `2024-05-01T12:00:00.000Z` → `2024-05-01T12:00:00Z` (a whole second, as the server's Date header gives). */
function isoSeconds(d) {
    return d.toISOString().replace(/\.000Z$/, "Z");
}
function progressLine(p, elapsedMs) {
    const parts = [`${num(p.read)} read`, `${num(p.written)} written`];
    if (p.skipped)
        parts.push(`${num(p.skipped)} skipped`);
    if (p.failed)
        parts.push(`${num(p.failed)} failed`);
    // With the table's size known: percent, rate and time left (the rate is this run's, as below).
    if (p.eta)
        parts.push(etaText(p.eta));
    else
        parts.push(`${num(entitiesPerSecond(p.read, elapsedMs))} entities/s`);
    parts.push(`${figures_duration(elapsedMs)} elapsed`);
    return `[${p.table}] ${parts.join(", ")}`;
}
function tableDoneLine(r) {
    const status = r.error ? "stopped" : r.failed ? "done with failures" : "done";
    return (`[${r.source}] ${status}: ${num(r.read)} read, ${num(r.written)} written` +
        (r.skipped ? `, ${num(r.skipped)} skipped` : "") +
        (r.failed ? `, ${num(r.failed)} failed` : "") +
        (r.conflicts ? `, ${figures_counted(r.conflicts, "conflict", "conflicts", num)} kept safe` : "") +
        ` in ${figures_duration(r.durationMs)}` +
        (r.error ? ` — ${cliMessage(r.error.split("\n")[0])}` : ""));
}
/**
 * The earliest source clock at which a table's scan began: the watermark the next backfill starts from (it
 * applies the overlap itself). Only when every table completed without failures (otherwise a rerun is next).
 */
function nextSince(result) {
    if (result.tables.length === 0 || !result.tables.every(tableSucceeded))
        return undefined;
    // A resumed full sync earns the clock of the scan it resumed, which the stored watermark holds.
    if (result.watermark && Number.isFinite(Date.parse(result.watermark)))
        return new Date(result.watermark);
    let earliest;
    for (const t of result.tables) {
        const ms = Date.parse(t.sourceClockAtStart ?? "");
        if (!Number.isFinite(ms))
            return undefined;
        earliest = earliest === undefined ? ms : Math.min(earliest, ms);
    }
    return earliest === undefined ? undefined : new Date(earliest);
}
function formatSummary(result, opts) {
    const t = result.totals;
    const lines = [];
    const failedTables = result.tables.filter((r) => !tableSucceeded(r));
    const verdict = opts.cancelled
        ? "cancelled"
        : failedTables.length === 0
            ? opts.dryRun
                ? "finished (dry run: nothing written)"
                : "finished"
            : `finished with failures in ${failedTables.length} of ${tablesCount(t.tables)}`;
    lines.push(`${opts.command} ${verdict}: ${tablesCount(t.tables)}, ${num(t.read)} read, ` +
        `${num(t.written)} written, ${num(t.skipped)} skipped, ${num(t.failed)} failed in ${figures_duration(t.durationMs)} ` +
        `(${num(entitiesPerSecond(t.read, t.durationMs))} entities/s).`);
    if (result.tables.length === 0)
        return lines.join("\n") + "\n";
    const filters = new Set(result.tables.map((r) => r.filter ?? ""));
    if (filters.size === 1 && [...filters][0] !== "")
        lines.push(`Filter: ${[...filters][0]}`);
    const header = [
        "Table",
        "Read",
        "Written",
        "Skipped",
        "Failed",
        "Duration",
        "Entities/s",
        "Source clock at start",
    ];
    const rows = result.tables.map((r) => [
        tableLabel(r),
        num(r.read),
        num(r.written),
        num(r.skipped),
        num(r.failed),
        figures_duration(r.durationMs),
        num(entitiesPerSecond(r.read, r.durationMs)),
        r.sourceClockAtStart ?? "—",
    ]);
    lines.push("", ...columns([header, ...rows], [false, true, true, true, true, true, true, false]).map((l) => `  ${l}`));
    for (const r of result.tables) {
        if (filters.size > 1 && r.filter)
            lines.push(`  ${r.source}: filter ${r.filter}`);
    }
    for (const r of result.tables) {
        if (r.error) {
            const [first, ...more] = cliMessage(r.error.trimEnd()).split("\n");
            lines.push("", `${r.source}: the table did not complete: ${first}`, ...more.map((l) => `  ${l.trim()}`));
        }
        if (r.failed) {
            const shown = r.failures.length;
            lines.push("", `${r.source}: ${figures_counted(r.failed, "entity", "entities", num)} failed` +
                (shown === 0 ? "." : shown < r.failed ? `; the first ${shown}:` : ":"));
            for (const f of r.failures) {
                const message = entityReason(r.source, f.partitionKey, f.rowKey, f.message);
                const status = f.status && !message.includes(`HTTP ${f.status}`) ? ` (HTTP ${f.status})` : "";
                lines.push(`  PartitionKey '${f.partitionKey}', RowKey '${f.rowKey}': ${message}${status}`);
            }
        }
    }
    for (const r of result.tables) {
        if (!r.conflicts)
            continue;
        lines.push("", `${r.source}: ${figures_counted(r.conflicts, "conflict", "conflicts", num)} kept safe — the app changed ${r.conflicts === 1 ? "it" : "them"} on the destination after the switch; the source's version was not written:`);
        for (const c of r.conflictDetails)
            lines.push(`  PartitionKey '${c.partitionKey}', RowKey '${c.rowKey}': ${c.message}`);
    }
    if (result.lagSeconds !== undefined) {
        lines.push("", `Lag: ${lagSentence(num(result.lagSeconds), num(result.changedEntities ?? 0))}`);
    }
    if (result.tables.some((r) => r.throttled > 0)) {
        const throttled = result.tables.reduce((s, r) => s + r.throttled, 0);
        lines.push("", `The services throttled ${num(throttled)} requests (HTTP 429); they were retried.`);
    }
    const since = opts.cancelled || opts.dryRun ? undefined : nextSince(result);
    if (since) {
        lines.push("", `Next backfill: table-sync backfill --since ${isoSeconds(since)} … ` +
            `(the source clock when this copy's scan began; the backfill re-reads ${opts.overlapSeconds} s before it).`);
    }
    else if (failedTables.length > 0 && !opts.cancelled) {
        lines.push("", `Fix the cause and run the same command again for the failed ${failedTables.length === 1 ? "table" : "tables"}.`);
    }
    return lines.join("\n") + "\n";
}

;// CONCATENATED MODULE: ./src/present/lag.ts

/** `07:10` (UTC), with the date when the points span more than a day. */
function label(at, withDate) {
    const iso = new Date(at).toISOString();
    return withDate ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 16);
}
function spansDays(points) {
    return (points.length > 1 && Date.parse(points[points.length - 1].at) - Date.parse(points[0].at) >= 86_400_000);
}
/** Text safe inside a Mermaid quoted string. */
function quoted(s) {
    return `"${s.replace(/["\\]/g, "'").replace(/[\r\n]+/g, " ")}"`;
}
/**
 * A fenced `mermaid` block: an `xychart-beta` with one `line` series, the lag in seconds after each backfill,
 * oldest first, one point per backfill.
 */
function mermaidLagChart(title, points) {
    const dated = spansDays(points);
    const top = Math.max(1, ...points.map((p) => p.lagSeconds));
    let labels = points.map((p) => label(p.at, dated));
    // Times are kept to the minute: backfills closer than that get their number too, so no two look alike.
    if (new Set(labels).size < labels.length)
        labels = labels.map((l, i) => `#${i + 1} ${l}`);
    return [
        "```mermaid",
        "xychart-beta",
        `  title ${quoted(title)}`,
        `  x-axis [${labels.map(quoted).join(", ")}]`,
        `  y-axis "lag (s)" 0 --> ${top}`,
        `  line [${points.map((p) => p.lagSeconds).join(", ")}]`,
        "```",
    ].join("\n");
}
/** The same points as a Markdown table, for readers that do not render charts. */
function lagTable(points) {
    const rows = points.map((p, i) => `| ${i + 1} | ${new Date(p.at).toISOString().slice(0, 16).replace("T", " ")} | ${p.lagSeconds} | ${p.changed} |`);
    return ["| # | backfill at (UTC) | lag (s) | changed entities |", "|---:|---|---:|---:|", ...rows].join("\n");
}
/** Chart, then table: a table's lag history as a job summary shows it. */
function lagSection(table, points) {
    const n = points.length;
    return [
        `#### Lag of ${table}: the last ${counted(n, "backfill")}`,
        "",
        mermaidLagChart(`${table}: lag after each backfill (s)`, points),
        "",
        lagTable(points),
    ].join("\n");
}
const BARS = "▁▂▃▄▅▆▇█";
/** The lag series as one line of block characters, lowest to highest of the series. */
function sparkline(points) {
    if (points.length === 0)
        return "";
    const top = Math.max(...points.map((p) => p.lagSeconds));
    return points
        .map((p) => BARS[top === 0
        ? 0
        : Math.min(BARS.length - 1, Math.floor((p.lagSeconds / top) * (BARS.length - 1) + 0.5))])
        .join("");
}

;// CONCATENATED MODULE: ./src/cli/status.ts




/** Changed counts of the last backfills printed (the sparkline shows every kept point). */
const LAST_CHANGED = 5;
function block(t) {
    const lines = [`${tableLabel(t)}: ${t.phase}`];
    if (t.entitiesCopied !== undefined) {
        const of = t.size && t.phase === "full sync in progress" ? ` of ${num(t.size.entities)}` : "";
        lines.push(`  entities copied: ${num(t.entitiesCopied)}${of}`);
    }
    if (t.checkpoint)
        lines.push(`  checkpoint: after ${num(t.checkpoint.read)} entities, saved ${t.checkpoint.at}`);
    if (t.watermark) {
        const lag = t.lagNowSeconds === undefined ? "" : `, lag now ${num(t.lagNowSeconds)} s (source clock)`;
        lines.push(`  watermark: ${t.watermark}${lag}`);
    }
    const h = t.history;
    if (h.length) {
        const first = h[0].lagSeconds;
        const last = h[h.length - 1].lagSeconds;
        const changed = h
            .slice(-LAST_CHANGED)
            .map((p) => num(p.changed))
            .join(", ");
        lines.push(`  lag over the last ${figures_counted(h.length, "backfill")}: ${sparkline(h)}  ${num(first)} s → ${num(last)} s; changed (latest last): ${changed}`);
    }
    if (t.switchedAt)
        lines.push(`  switched-at: ${t.switchedAt}`);
    lines.push(`  next: ${t.next}`);
    return lines;
}
function formatStatus(result) {
    const lines = [
        `table-sync status — state: ${result.state}${result.sourceClock ? `; source clock ${result.sourceClock}` : ""}`,
    ];
    for (const n of result.notices)
        lines.push(`note: ${n}`);
    for (const t of result.tables)
        lines.push("", ...block(t));
    return lines.join("\n") + "\n";
}
/** `[orders] lag over the last 3 backfills: ▁▂█  0 s → 4 s`, or nothing when the table has no history. */
function lagLine(spec, history) {
    const h = decodeHistory(history);
    if (!h.length)
        return [];
    const n = h.length;
    return [
        `[${spec.source}] lag over the last ${figures_counted(n, "backfill")}: ${sparkline(h)}  ${num(h[0].lagSeconds)} s → ${num(h[n - 1].lagSeconds)} s`,
    ];
}

;// CONCATENATED MODULE: ./src/cli/run-copy.ts










function sideUrl(side) {
    if (side.connectionString)
        return parseConnectionString(side.connectionString).url;
    return normalizeEndpoint(side.endpoint ?? "");
}
/** After a switch, what a copy does with the app's writes on the destination (--conflict). */
function guardLine(guard) {
    return guard.policy === "source-wins"
        ? `switched at ${guard.switchedAt}: --conflict source-wins, so the source's version overwrites what the app wrote on the destination since.`
        : `switched at ${guard.switchedAt}: the app's writes on the destination are kept (--conflict skip).`;
}
async function runCopyCommand(config, engine, store, ctx) {
    const { err, deps } = ctx;
    const command = config.mode;
    err(`${command}: ${tablesCount(config.tables.length)} from ${sideUrl(config.source)} to ${sideUrl(config.destination)}` +
        `${config.dryRun ? " (dry run: nothing is written)" : ""}.\n`);
    let current;
    const stopProgress = everyProgressInterval(ctx, () => {
        if (current)
            err(progressLine(current.progress, Date.now() - current.started) + "\n");
    });
    let migration;
    try {
        // The same step as the action: the same plan, watermark and post-switch rules.
        migration = await runCopy(config, {
            store,
            source: engine.source,
            destination: engine.destination,
            retry: engine.retry,
            checkpointIntervalMs: deps.checkpointIntervalMs,
        }, {
            signal: deps.signal,
            onNotice: (text) => err(cliMessage(text) + "\n"),
            onTableStart: (spec, plan) => {
                current = {
                    spec,
                    started: Date.now(),
                    progress: { table: spec.source, read: 0, written: 0, skipped: 0, failed: 0 },
                };
                err(`[${spec.source}] copying to ${spec.destination}${plan.filter ? ` where ${plan.filter}` : ""}…\n`);
                if (plan.guard)
                    err(`[${spec.source}] ${guardLine(plan.guard)}\n`);
            },
            onProgress: (p) => {
                if (current)
                    current.progress = p;
            },
            onTableEnd: (report) => {
                current = undefined;
                err(tableDoneLine(report.result) + "\n");
            },
        });
    }
    finally {
        stopProgress();
    }
    const result = {
        tables: migration.tables.map((r) => r.result),
        totals: migration.totals,
        lagSeconds: migration.lagSeconds,
        changedEntities: migration.changedEntities,
        watermark: migration.lastSyncUtc,
    };
    const cancelled = deps.signal?.aborted ?? false;
    const summary = formatSummary(result, {
        command,
        dryRun: config.dryRun,
        overlapSeconds: config.overlapSeconds,
        cancelled,
    });
    if (ctx.json) {
        const since = cancelled || config.dryRun ? undefined : nextSince(result);
        ctx.out(JSON.stringify({ command, ...result, ...(since ? { nextSince: isoSeconds(since) } : {}) }, null, 2) +
            "\n");
        err("\n" + summary);
    }
    else {
        ctx.out("\n" + summary);
    }
    if (command === "backfill" && store && !config.dryRun) {
        // Each table's lag over its last backfills (this one included), as the status command shows it.
        const saved = await store.load().catch(() => undefined);
        const lines = config.tables.flatMap((t) => lagLine(t, saved?.tables[tableKey(t)]?.history));
        if (lines.length)
            (ctx.json ? err : ctx.out)(lines.join("\n") + "\n");
    }
    if (cancelled) {
        const why = cancelledWhy(config, store) ?? migration.failure;
        if (why)
            err(`table-sync: ${cliMessage(why)}\n`);
        return cancelExitCode(deps.cancel);
    }
    return result.totals.failed > 0 || result.totals.tablesFailed > 0 ? EXIT_FAILED : EXIT_OK;
}

;// CONCATENATED MODULE: ./src/cli/run-status.ts



async function runStatusCommand(config, engine, store, ctx) {
    const { out, err } = ctx;
    // Reads the state (and the source's clock); writes nothing.
    const status = await runStatus(config, {
        store,
        source: engine.source,
        retry: engine.retry,
        signal: ctx.deps.signal,
    });
    if (ctx.json)
        out(JSON.stringify(status, null, 2) + "\n");
    if (!status.ok) {
        err(`table-sync: No state was found in ${store?.describe() ?? "the state file"}: run full-sync with this --state-file first, or point --state-file at the one your full-sync and backfills use.\n`);
        return EXIT_FAILED;
    }
    (ctx.json ? err : out)(formatStatus(status));
    return EXIT_OK;
}

;// CONCATENATED MODULE: ./src/state/file-store.ts
// The state as a JSON file (self-hosted runners, the CLI). Writes go to a temporary file in the same directory
// and are renamed over the target, so a reader or a crash never sees half a state.




const DEFAULT_STATE_FILE = ".table-sync/state.json";
function file_store_errorCode(err) {
    return typeof err === "object" && err !== null && "code" in err
        ? String(err.code)
        : undefined;
}
/** Write `text` to `path` atomically: temp file in the same directory, fsync, rename; creates the directory. */
async function writeFileAtomic(path, text) {
    const dir = (0,external_node_path_.dirname)(path);
    await (0,promises_.mkdir)(dir, { recursive: true });
    const temp = (0,external_node_path_.join)(dir, `.${(0,external_node_path_.basename)(path)}.${process.pid}.${(0,external_node_crypto_.randomBytes)(6).toString("hex")}.tmp`);
    try {
        const handle = await (0,promises_.open)(temp, "wx", 0o600);
        try {
            await handle.writeFile(text, "utf8");
            await handle.sync();
        }
        finally {
            await handle.close();
        }
        await (0,promises_.rename)(temp, path);
    }
    catch (err) {
        await (0,promises_.rm)(temp, { force: true }).catch(() => undefined);
        throw err;
    }
}
class FileStateStore {
    path;
    constructor(path = DEFAULT_STATE_FILE) {
        this.path = (0,external_node_path_.resolve)(path);
    }
    async load() {
        let text;
        try {
            text = await (0,promises_.readFile)(this.path, "utf8");
        }
        catch (err) {
            if (file_store_errorCode(err) === "ENOENT")
                return undefined;
            throw new StateError(`The state file ${this.path} could not be read (${file_store_errorCode(err) ?? String(err)}).`);
        }
        return parseState(text, this.describe());
    }
    async save(state) {
        const text = serializeState(state);
        try {
            await writeFileAtomic(this.path, text);
        }
        catch (err) {
            throw new StateError(`The state file ${this.path} could not be written (${file_store_errorCode(err) ?? String(err)}); ` +
                `the watermarks of this run are not saved.`);
        }
    }
    describe() {
        return `the file ${this.path}`;
    }
}

;// CONCATENATED MODULE: ./src/cli/state-file.ts
// --state-file: the JSON file that keeps the watermarks, checkpoints and switched-at between runs. Some
// commands cannot do without it; they say so before anything runs.


/** The state store behind --state-file (undefined without it); refuses a command that needs one and has none. */
function openStateFile(config, flags, deps) {
    const store = flags.has("state-file")
        ? deps.openState
            ? deps.openState(config)
            : new FileStateStore(config.stateKey)
        : undefined;
    const missing = store ? undefined : withoutState(config.mode, config.since !== undefined);
    if (missing)
        throw new ConfigError(missing);
    return store;
}
/** Why `command` cannot run without --state-file, or undefined when it can. */
function withoutState(command, since) {
    if (command === "backfill" && !since) {
        return `A backfill needs --since <ISO-8601 UTC time>, or --state-file with the watermarks a full sync recorded.`;
    }
    if (command === "status") {
        return `Status reads the state: give --state-file, the one your full-sync and backfills use.`;
    }
    if (command === "switch") {
        return `A switch records switched-at in the state: give --state-file, the one your full-sync and backfills use.`;
    }
    return undefined;
}

;// CONCATENATED MODULE: ./src/cli/version.ts
// `table-sync --version`: the version in the package's own package.json. The CLI runs from several places —
// bin/table-sync.js → dist/cli/index.js (the bundle), build/src/cli/index.js (tsc), src/cli (tests) — so the
// file is found by walking up from the running script to the first package.json that names this package
// (dist/package.json only says `"type": "module"` and is passed over).


const PACKAGE_NAME = "azure-table-sync";
/** The package's version, looked up from `script` (default: the running script), or undefined. */
function packageVersion(script = process.argv[1]) {
    if (!script)
        return undefined;
    let dir;
    try {
        dir = (0,external_node_path_.dirname)((0,external_node_fs_.realpathSync)(script));
    }
    catch {
        dir = (0,external_node_path_.dirname)(script);
    }
    for (;;) {
        try {
            const pkg = JSON.parse((0,external_node_fs_.readFileSync)((0,external_node_path_.join)(dir, "package.json"), "utf8"));
            if (pkg.name === PACKAGE_NAME && typeof pkg.version === "string")
                return pkg.version;
        }
        catch {
            // No package.json here, or not JSON: look further up.
        }
        const up = (0,external_node_path_.dirname)(dir);
        if (up === dir)
            return undefined;
        dir = up;
    }
}

;// CONCATENATED MODULE: ./src/cli/main.ts
















async function main(argv, env, io, deps = {}) {
    const masker = new Masker();
    const print = (stream, text) => stream.write(masker.mask(text));
    const out = (text) => print(io.stdout, text);
    const err = (text) => print(io.stderr, text);
    let command;
    let stopListener;
    /** Set once the run starts working (signing in, reading): a cancel from then on ends it as cancelled. */
    let started = false;
    try {
        maskArguments(masker, argv, env);
        const parsed = parseCliArgs(argv);
        if (parsed.kind === "help") {
            out(parsed.command ? commandHelp(parsed.command) : globalHelp());
            return EXIT_OK;
        }
        if (parsed.kind === "version") {
            const version = packageVersion();
            if (!version) {
                err(`table-sync: The version is unknown: no package.json of azure-table-sync was found above the program.\n`);
                return EXIT_FAILED;
            }
            out(`table-sync ${version}\n`);
            return EXIT_OK;
        }
        command = parsed.command;
        const cwd = deps.cwd ?? process.cwd();
        const config = cliConfig(parsed, { env, cwd, masker, now: deps.now?.() ?? new Date() });
        const store = openStateFile(config, parsed.flags, deps);
        const check = command === "verify" || command === "switch" || command === "preflight";
        const reportPath = check ? checkedReportPath(config.reportPath, cwd) : undefined;
        const warning = identityWarning(parsed.flags, config);
        if (warning)
            err(warning);
        if (config.proxy)
            err(`table-sync: ${describeProxy(config.proxy, config)}\n`);
        stopListener = announceStop(config, store, deps, err);
        started = true;
        const engine = await engineConfig(config, deps);
        await checkSignIn(engine, deps.signal);
        const { json, progressSeconds } = parsed.options;
        const ctx = { out, err, deps, json, progressSeconds };
        if (command === "status")
            return await runStatusCommand(config, engine, store, ctx);
        if (reportPath)
            return await runCheckCommand(config, engine, store, reportPath, ctx);
        return await runCopyCommand(config, engine, store, ctx);
    }
    catch (e) {
        return errorExit(e, { command, started, signal: deps.signal, cancel: deps.cancel }, err);
    }
    finally {
        stopListener?.();
    }
}

;// CONCATENATED MODULE: ./src/cli/index.ts


const controller = new AbortController();
// main() says what the cancel does (it knows the command) and sets the line a second Ctrl+C prints.
const cancel = { quitLine: "Stopped at once." };
const stop = (signal) => {
    if (controller.signal.aborted) {
        if (signal === "SIGINT") {
            process.stderr.write(`\n${cancel.quitLine}\n`);
            process.exit(EXIT_CANCELLED);
        }
        return; // a second SIGTERM: the checkpoint is being saved; SIGKILL, if it comes, is safe too
    }
    cancel.by = signal;
    controller.abort();
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
main(process.argv.slice(2), process.env, { stdout: process.stdout, stderr: process.stderr }, { signal: controller.signal, cancel }).then((code) => {
    process.exitCode = code;
}, (err) => {
    // main() reports its own errors; this is a last resort and still prints no stack.
    process.stderr.write(`table-sync: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
});

