// A local double of the GitHub REST API's repository variables, as the docs describe them:
//   GET    /repos/{owner}/{repo}/actions/variables/{name}  → 200 {name, value, created_at, updated_at} | 404
//   PATCH  /repos/{owner}/{repo}/actions/variables/{name}  → 204 | 404
//   POST   /repos/{owner}/{repo}/actions/variables         → 201 | 409 (exists) | 422 (bad name)
//   DELETE /repos/{owner}/{repo}/actions/variables/{name}  → 204 | 404
// Names are case-insensitive and stored upper-case; values are limited to 48 KB. A bearer token is required.
// `prefix` serves the API under a path, as GHES does (`https://HOST/api/v3`).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeVariable {
  name: string;
  value: string;
  created_at: string;
  updated_at: string;
}

export interface FakeGitHubRequest {
  method: string;
  path: string;
  /** Whether the request carried the expected token (the token itself is not kept). */
  authorized: boolean;
  body?: unknown;
}

/** `ok`; `read-only`: writes answer 403 (GITHUB_TOKEN-like for writes); `forbidden`: everything answers 403. */
export type FakeGitHubMode = "ok" | "read-only" | "forbidden";

const MAX_VALUE_BYTES = 48 * 1024;

export class FakeGitHubApi {
  /** `owner/repo` → upper-case name → variable. */
  readonly repos = new Map<string, Map<string, FakeVariable>>();
  readonly requests: FakeGitHubRequest[] = [];
  mode: FakeGitHubMode = "ok";

  private constructor(
    private readonly server: Server,
    readonly token: string,
    readonly prefix: string,
  ) {}

  static async start(options: {
    token: string;
    prefix?: string;
    repositories?: string[];
  }): Promise<FakeGitHubApi> {
    const server = createServer();
    const fake = new FakeGitHubApi(server, options.token, (options.prefix ?? "").replace(/\/+$/, ""));
    for (const r of options.repositories ?? []) fake.repos.set(r.toLowerCase(), new Map());
    server.on("request", (req, res) => {
      fake.handle(req, res).catch((err: unknown) => send(res, 500, { message: String(err) }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return fake;
  }

  /** The value for GITHUB_API_URL. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${this.prefix}`;
  }

  variable(repository: string, name: string): FakeVariable | undefined {
    return this.repos.get(repository.toLowerCase())?.get(name.toUpperCase());
  }

  setVariable(repository: string, name: string, value: string): void {
    const now = new Date().toISOString();
    const vars = this.repos.get(repository.toLowerCase()) ?? new Map<string, FakeVariable>();
    this.repos.set(repository.toLowerCase(), vars);
    vars.set(name.toUpperCase(), { name: name.toUpperCase(), value, created_at: now, updated_at: now });
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const method = req.method ?? "";
    const authorized = req.headers.authorization === `Bearer ${this.token}`;
    const raw = await readBody(req);
    let body: unknown;
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        return send(res, 400, { message: "Problems parsing JSON" });
      }
    }
    this.requests.push({ method, path: url.pathname, authorized, body });

    if (!url.pathname.startsWith(`${this.prefix}/`)) return send(res, 404, { message: "Not Found" });
    const path = url.pathname.slice(this.prefix.length);
    const m = /^\/repos\/([^/]+)\/([^/]+)\/actions\/variables(?:\/([^/]+))?$/.exec(path);
    if (!m) return send(res, 404, { message: "Not Found" });
    if (!authorized) return send(res, 401, { message: "Bad credentials" });
    if (req.headers.accept !== "application/vnd.github+json") {
      return send(res, 415, { message: "expected Accept: application/vnd.github+json" });
    }
    const repository = `${decodeURIComponent(m[1])}/${decodeURIComponent(m[2])}`.toLowerCase();
    const vars = this.repos.get(repository);
    if (!vars) return send(res, 404, { message: "Not Found" });
    const name = m[3] === undefined ? undefined : decodeURIComponent(m[3]).toUpperCase();
    const write = method !== "GET";
    if (this.mode === "forbidden" || (this.mode === "read-only" && write)) {
      return send(res, 403, {
        message: "Resource not accessible by integration",
        documentation_url: "https://docs.github.com/rest/actions/variables",
      });
    }
    const input = (body ?? {}) as { name?: unknown; value?: unknown };
    const now = new Date().toISOString();

    if (name === undefined) {
      if (method !== "POST") return send(res, 404, { message: "Not Found" });
      if (typeof input.name !== "string" || typeof input.value !== "string") {
        return send(res, 422, { message: "Invalid request: name and value are required" });
      }
      const invalid = this.invalid(input.name, input.value);
      if (invalid) return send(res, 422, { message: invalid });
      const upper = input.name.toUpperCase();
      if (vars.has(upper)) return send(res, 409, { message: "Already exists - Variable already exists" });
      vars.set(upper, { name: upper, value: input.value, created_at: now, updated_at: now });
      return send(res, 201, {});
    }

    const existing = vars.get(name);
    if (method === "GET") {
      return existing ? send(res, 200, existing) : send(res, 404, { message: "Not Found" });
    }
    if (method === "PATCH") {
      if (!existing) return send(res, 404, { message: "Not Found" });
      const newName = typeof input.name === "string" ? input.name.toUpperCase() : name;
      const value = typeof input.value === "string" ? input.value : existing.value;
      const invalid = this.invalid(newName, value);
      if (invalid) return send(res, 422, { message: invalid });
      vars.delete(name);
      vars.set(newName, { name: newName, value, created_at: existing.created_at, updated_at: now });
      return send(res, 204);
    }
    if (method === "DELETE") {
      if (!existing) return send(res, 404, { message: "Not Found" });
      vars.delete(name);
      return send(res, 204);
    }
    return send(res, 404, { message: "Not Found" });
  }

  private invalid(name: string, value: string): string | undefined {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || /^GITHUB_/i.test(name)) {
      return "Invalid request: name must contain only alphanumeric characters or underscores";
    }
    if (Buffer.byteLength(value, "utf8") > MAX_VALUE_BYTES) return "Invalid request: value is too large";
    return undefined;
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined || status === 204) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
  });
  res.end(text);
}
