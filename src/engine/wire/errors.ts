// Errors the engine reports per table. Their messages are written for the user: one sentence, no stack.
import { serviceMessage, type HttpResponse } from "./http.js";

export class ServiceError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code?: string,
  ) {
    super(message);
  }

  /** `side` ("source"/"destination") lets a refusal say whose credential was rejected. */
  static from(res: HttpResponse, what: string, side?: string): ServiceError {
    const { code, message } = serviceMessage(res);
    if (res.status === 403 || res.status === 401) {
      const whose = side ? `the key, SAS or identity for the ${side} account` : "the key, SAS or identity";
      return new ServiceError(
        `${what} was refused (HTTP ${res.status}${code ? ` ${code}` : ""}): ${whose} was rejected or lacks permission; check the connection string or the role assignment (it can take up to 30 minutes to apply).`,
        res.status,
        code,
      );
    }
    return new ServiceError(
      `${what} failed (HTTP ${res.status}${code ? ` ${code}` : ""}): ${message}`,
      res.status,
      code,
    );
  }
}

export class TableMissingError extends ServiceError {}

/** The sentence a table error reports: the message our errors are written as, or the thrown value. */
export function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
