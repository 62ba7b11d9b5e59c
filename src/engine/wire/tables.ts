// Table-level requests: create a destination table, check that it exists.
import { ServiceError } from "./errors.js";
import type { HttpResponse, HttpStats, TableHttp } from "./http.js";

/** Create the table unless it exists. */
export async function ensureTable(http: TableHttp, table: string, stats?: HttpStats): Promise<void> {
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
  if (res.status === 409 || (res.status >= 200 && res.status < 300)) return;
  throw ServiceError.from(res, `Creating destination table ${table}`, http.label);
}

/**
 * Whether the destination table exists: true, false, or undefined when the answer is unclear (the caller
 * then creates or checks it the usual way). A read, without side effects.
 */
export async function tableExists(
  http: TableHttp,
  table: string,
  stats?: HttpStats,
): Promise<boolean | undefined> {
  const res = await getTable(http, table, stats);
  return res.status === 200 ? true : res.status === 404 ? false : undefined;
}

function getTable(http: TableHttp, table: string, stats?: HttpStats): Promise<HttpResponse> {
  return http.send({
    stats,
    method: "GET",
    url: `${http.url}/Tables('${table}')`,
    headers: { Accept: "application/json;odata=nometadata" },
  });
}

/** With create-tables off, a missing destination table is one clear table error, not N failed entities. */
export async function requireTable(http: TableHttp, table: string, stats?: HttpStats): Promise<void> {
  const res = await getTable(http, table, stats);
  if (res.status === 404) {
    throw new ServiceError(
      `Destination table ${table} does not exist and create-tables is off; create it (with enough throughput) or set create-tables to true.`,
      404,
      "TableNotFound",
    );
  }
  if (res.status >= 300) throw ServiceError.from(res, `Checking destination table ${table}`, http.label);
}
