// What Cosmos DB for Table refuses that Azurite takes, and the answers it refuses with: reserved property
// names, empty or non-string keys, PATCH, a body above the size limit, a token it did not issue, a 429.
import { randomUUID } from "node:crypto";
import { cosmosErrorBody, TOO_MANY_REQUESTS, type Reply } from "./wire.js";

/** Property names Cosmos DB for Table keeps for itself (case-insensitive), and the resource property each hits. */
const RESERVED: Record<string, string> = {
  etag: "ETag",
  id: "Id",
  rid: "ResourceId",
  resourceid: "ResourceId",
};

export interface Refusal {
  status: number;
  code: string;
  text: string;
  /** A backend error: its message carries an ActivityId. */
  backend: boolean;
  /** The log's note. */
  note: string;
}

function reservedRefusal(name: string): Refusal {
  return {
    status: 500,
    code: "InternalServerError",
    text: `The property or indexer 'Microsoft.Azure.Documents.Resource.${RESERVED[name.toLowerCase()]}' cannot be used in this context because the set accessor is inaccessible`,
    backend: false,
    note: "reserved",
  };
}

export const EMPTY_KEY: Refusal = {
  status: 400,
  code: "PropertiesNeedValue",
  text: "PartitionKey/RowKey cannot be empty",
  backend: true,
  note: "empty-key",
};

export const TOO_LARGE: Refusal = {
  status: 413,
  code: "RequestEntityTooLarge",
  text: 'Message: {"Errors":["Request size is too large"]}',
  backend: true,
  note: "too-large",
};

export const BAD_TOKEN: Refusal = {
  status: 400,
  code: "BadRequest",
  text: "Invalid continuation token",
  backend: true,
  note: "bad-token",
};

export function methodNotAllowed(method: string): Refusal {
  return {
    status: 405,
    code: "MethodNotAllowed",
    text: `The requested HTTP method ${method} is not supported; use MERGE, or POST with X-HTTP-Method: MERGE.`,
    backend: false,
    note: "patch",
  };
}

/** What Cosmos refuses in an entity body: a reserved property name, a missing, empty or non-string key. */
export function refuseBody(body: string, keysFromBody: boolean): Refusal | undefined {
  if (!body.trim()) return keysFromBody ? EMPTY_KEY : undefined;
  let obj: Record<string, unknown>;
  try {
    obj = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return undefined; // the backend's own answer
  }
  for (const key of Object.keys(obj)) {
    const name = key.endsWith("@odata.type") ? key.slice(0, -"@odata.type".length) : key;
    if (RESERVED[name.toLowerCase()] !== undefined) return reservedRefusal(name);
  }
  if (keysFromBody) {
    for (const k of ["PartitionKey", "RowKey"]) {
      const v = obj[k];
      if (v === undefined || v === "") return EMPTY_KEY;
      if (typeof v !== "string")
        return {
          status: 400,
          code: "InvalidInput",
          text: `The value of ${k} must be a string.`,
          backend: true,
          note: "invalid-key",
        };
    }
  }
  return undefined;
}

/** The answer to a request Cosmos refuses. */
export function refusal(r: Refusal, rid: string): Reply {
  return {
    status: r.status,
    headers: { "x-ms-request-id": rid, "Content-Type": "application/json; odata=fullmetadata" },
    body: cosmosErrorBody(r.code, r.text, rid, r.backend),
    note: r.note,
  };
}

/** 429 TooManyRequests as the service words it, with no retry header. */
export function throttleReply(rid: string): Reply {
  const now = new Date().toISOString().replace("Z", "0000Z");
  const text =
    `Message: {"Errors":["${TOO_MANY_REQUESTS}"]}\r\nActivityId: ${rid}, Request URI: /apps/${randomUUID()}/services/${randomUUID()}/partitions/${randomUUID()}/replicas/132887865008769993p/, ` +
    `RequestStats: \r\nRequestStartTime: ${now}, RequestEndTime: ${now},  Number of regions attempted:1\r\n`;
  return {
    status: 429,
    headers: { "x-ms-request-id": rid, "Content-Type": "application/json; odata=fullmetadata" },
    body: cosmosErrorBody("TooManyRequests", text, rid, true),
    note: "throttled",
  };
}
