// A client for tests that speak to the double (or Azurite) at wire level, without the engine's client.
// Shared Key (and Shared Key Lite) sign the request path, not the host or the query (except `comp`), so
// one signature serves the double and the Azurite behind it alike.
import { createHmac } from "node:crypto";
import { AZURITE_ACCOUNT, AZURITE_KEY } from "../azurite.js";

/**
 * A request signed with Azurite's development key (Shared Key Lite), straight at `port`: for tests
 * that speak to the double (or Azurite) at wire level, without the engine's client.
 */
export async function signedRequest(
  port: number,
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const date = new Date().toUTCString();
  const url = new URL(
    `http://127.0.0.1:${port}${path.startsWith("/") ? path : `/${AZURITE_ACCOUNT}/${path}`}`,
  );
  const comp = url.searchParams.get("comp");
  const resource = `/${AZURITE_ACCOUNT}${url.pathname}${comp !== null ? `?comp=${comp}` : ""}`;
  const signature = createHmac("sha256", Buffer.from(AZURITE_KEY, "base64"))
    .update(`${date}\n${resource}`, "utf8")
    .digest("base64");
  const res = await fetch(url, {
    method,
    body: init.body,
    headers: {
      "x-ms-date": date,
      "x-ms-version": "2019-02-02",
      DataServiceVersion: "3.0",
      Accept: "application/json;odata=minimalmetadata",
      Authorization: `SharedKeyLite ${AZURITE_ACCOUNT}:${signature}`,
      ...init.headers,
    },
  });
  return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
}
