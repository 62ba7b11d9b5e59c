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

  static from(res: HttpResponse, what: string): ServiceError {
    const { code, message } = serviceMessage(res);
    if (res.status === 403 || res.status === 401) {
      return new ServiceError(
        `${what} was refused (HTTP ${res.status}${code ? ` ${code}` : ""}): the credential was rejected or lacks permission — check the key, SAS or role assignment. ${message}`,
        res.status,
        code,
      );
    }
    return new ServiceError(`${what} failed (HTTP ${res.status}${code ? ` ${code}` : ""}): ${message}`, res.status, code);
  }
}

export class TableMissingError extends ServiceError {}
