// What the CLI's unit tests of argument and .env parsing share: the one-sentence message of a usage error.
import { expect } from "vitest";
import { ConfigError } from "../../src/config/schema.js";

/** The message `fn` throws, which must be a ConfigError (the CLI prints those as usage errors, exit 2). */
export function usageError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error("no error");
}
