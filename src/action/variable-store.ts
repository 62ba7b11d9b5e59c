// The state in a repository variable, through the REST API (`GITHUB_API_URL` respected, so GHES works):
// GET/PATCH /repos/{owner}/{repo}/actions/variables/{name}, POST /repos/{owner}/{repo}/actions/variables.
// GITHUB_TOKEN cannot read or write variables: the store needs a fine-grained PAT or a GitHub App token with
// "Variables: write". The token goes only into the Authorization header, never into a message.
import { HttpClient } from "@actions/http-client";
import { parseState, serializeState, StateError, type State } from "../state/state.js";
import type { StateStore } from "../state/store.js";

const API_VERSION = "2022-11-28";
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface VariableStateStoreOptions {
  /** The variable's name (the `state-key` input): letters, digits, `_`; not starting with a digit or `GITHUB_`. */
  name: string;
  /** The `github-token` input. */
  token: string;
  /** `owner/repo`; defaults to GITHUB_REPOSITORY. */
  repository?: string;
  /** The REST API root; defaults to GITHUB_API_URL, then https://api.github.com. */
  apiUrl?: string;
  /** Where the defaults are read; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
}

export function validateVariableName(name: string): void {
  if (!NAME.test(name)) {
    throw new StateError(
      `'${name}' cannot be a repository variable's name: use only letters, digits and '_', not starting with a ` +
        `digit (e.g. TABLE_SYNC_STATE); set it with the 'state-key' input.`,
    );
  }
  if (/^GITHUB_/i.test(name)) {
    throw new StateError(
      `'${name}' cannot be a repository variable's name: names starting with GITHUB_ are reserved; ` +
        `choose another 'state-key' (e.g. TABLE_SYNC_STATE).`,
    );
  }
}

/** An API answer, read whole. */
interface ApiAnswer {
  status: number;
  body: string;
  /** A header by its lower-case name, or null. */
  header(name: string): string | null;
}

interface GitHubError {
  message?: string;
}

export class VariableStateStore implements StateStore {
  readonly name: string;
  readonly repository: string;
  readonly apiUrl: string;
  private readonly token: string;
  private readonly http = new HttpClient("azure-table-sync");

  constructor(options: VariableStateStoreOptions) {
    const env = options.env ?? process.env;
    validateVariableName(options.name);
    this.name = options.name;
    const repository = options.repository ?? env.GITHUB_REPOSITORY ?? "";
    if (!/^[^/\s]+\/[^/\s]+$/.test(repository)) {
      throw new StateError(
        `The repository for the state variable is '${repository}', not 'owner/repo'; GITHUB_REPOSITORY is set ` +
          `on every GitHub runner.`,
      );
    }
    this.repository = repository;
    this.apiUrl = (options.apiUrl || env.GITHUB_API_URL || "https://api.github.com").replace(/\/+$/, "");
    if (!options.token) {
      throw new StateError(
        `state-store 'variable' needs the 'github-token' input: a fine-grained PAT or GitHub App token with ` +
          `"Variables: write" on ${repository} (GITHUB_TOKEN cannot write repository variables).`,
      );
    }
    this.token = options.token;
  }

  describe(): string {
    return `the repository variable ${this.name} of ${this.repository}`;
  }

  private get collectionUrl(): string {
    const [owner, repo] = this.repository.split("/");
    return `${this.apiUrl}/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/actions/variables`;
  }

  private get variableUrl(): string {
    return `${this.collectionUrl}/${encodeURIComponent(this.name)}`;
  }

  async load(): Promise<State | undefined> {
    const res = await this.request("GET", this.variableUrl, undefined, "read");
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw this.failure(res, "read");
    let body: { value?: unknown };
    try {
      body = JSON.parse(res.body) as { value?: unknown };
    } catch {
      body = {};
    }
    if (typeof body.value !== "string") {
      throw new StateError(`The GitHub API answered for ${this.describe()} without a value.`);
    }
    return parseState(body.value, this.describe());
  }

  async save(state: State): Promise<void> {
    const value = serializeState(state);
    const patch = await this.request("PATCH", this.variableUrl, { name: this.name, value }, "write");
    if (patch.status === 204 || patch.status === 200) return;
    if (patch.status !== 404) throw this.failure(patch, "write");
    const post = await this.request("POST", this.collectionUrl, { name: this.name, value }, "write");
    if (post.status === 201 || post.status === 200) return;
    throw this.failure(post, "create");
  }

  /**
   * One call to the API. Through @actions/http-client, as the runner's own tools: it honours HTTPS_PROXY and
   * NO_PROXY (Node 20's fetch does not, so behind a company proxy every call failed).
   */
  private async request(method: string, url: string, body: unknown, access: string): Promise<ApiAnswer> {
    try {
      const res = await this.http.request(method, url, body === undefined ? null : JSON.stringify(body), {
        Accept: "application/vnd.github+json",
        Authorization: `Bearer ${this.token}`,
        "X-GitHub-Api-Version": API_VERSION,
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      });
      const text = await res.readBody();
      const headers = res.message.headers;
      return {
        status: res.message.statusCode ?? 0,
        body: text,
        header: (name) => {
          const v = headers[name];
          return (Array.isArray(v) ? v[0] : v) ?? null;
        },
      };
    } catch (err) {
      const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
      throw new StateError(
        `Could not ${access} ${this.describe()}: the GitHub API at ${this.apiUrl} did not answer ` +
          `(${e.cause?.code ?? e.code ?? e.cause?.message ?? e.message}).`,
      );
    }
  }

  private failure(res: ApiAnswer, access: "read" | "write" | "create"): StateError {
    let detail = "";
    try {
      detail = ((JSON.parse(res.body) as GitHubError).message ?? res.body).slice(0, 300);
    } catch {
      /* no body */
    }
    const what = `${access === "create" ? "Creating" : access === "read" ? "Reading" : "Writing"} ${this.describe()}`;
    const said = detail ? ` (GitHub said: ${detail})` : "";
    if ((res.status === 403 || res.status === 429) && res.header("x-ratelimit-remaining") === "0") {
      const reset = Number(res.header("x-ratelimit-reset"));
      const when =
        Number.isFinite(reset) && reset > 0 ? ` until ${new Date(reset * 1000).toISOString()}` : "";
      return new StateError(
        `${what} hit the GitHub API rate limit${when}; the state was not ${past(access)}.`,
      );
    }
    if (res.status === 403) {
      return new StateError(
        `${what} was refused (HTTP 403)${said}: GITHUB_TOKEN cannot read or write repository variables; pass a ` +
          `fine-grained personal access token or a GitHub App token with "Variables: write" on ${this.repository} ` +
          `in the 'github-token' input.`,
      );
    }
    if (res.status === 401) {
      return new StateError(
        `${what} was refused (HTTP 401)${said}: the 'github-token' is invalid or expired; create a new one with ` +
          `"Variables: write" on ${this.repository}.`,
      );
    }
    if (res.status === 404) {
      return new StateError(
        `${what} failed (HTTP 404)${said}: the repository ${this.repository} was not found at ${this.apiUrl}, or ` +
          `the 'github-token' cannot see it.`,
      );
    }
    return new StateError(`${what} failed (HTTP ${res.status})${said}; the state was not ${past(access)}.`);
  }
}

function past(access: "read" | "write" | "create"): string {
  return access === "read" ? "read" : "saved";
}
