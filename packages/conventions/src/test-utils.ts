import { expect } from "vitest";
import { ConventionsError } from "./errors.js";

/** The code of the ConventionsError `fn` throws, or undefined when it returns. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConventionsError);
    return (error as ConventionsError).code;
  }
  return undefined;
}
