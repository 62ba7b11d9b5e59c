// One entity read by its keys: verify's re-checks, repair's fresh copy and the post-switch guard's look at
// the destination all go through here.
import { keyUrl } from "./batch.js";
import { parseEntityPage, type WireEntity } from "./edm.js";
import { ServiceError } from "./errors.js";
import type { HttpStats, TableHttp } from "./http.js";

export interface EntityKey {
  partitionKey: string;
  rowKey: string;
}

/** One entity by its keys, or undefined when it does not exist (404). */
export async function readEntity(
  http: TableHttp,
  table: string,
  key: EntityKey,
  side: "source" | "destination",
  stats?: HttpStats,
): Promise<WireEntity | undefined> {
  const res = await http.send({
    method: "GET",
    url: keyUrl(`${http.url}/${table}`, key.partitionKey, key.rowKey),
    headers: { Accept: "application/json;odata=minimalmetadata" },
    stats,
  });
  if (res.status === 404) return undefined;
  if (res.status >= 300) throw ServiceError.from(res, `Reading an entity of ${side} table ${table}`, side);
  const [entity] = parseEntityPage(res.body);
  // The ETag comes in the body (odata.etag) and the header; a post-switch write matches on it.
  if (entity && !entity.etag && res.headers["etag"]) entity.etag = res.headers["etag"];
  return entity;
}
