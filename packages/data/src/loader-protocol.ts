// Messages between the loader and its workers, and how a worker's error crosses the thread boundary
// (structured clone drops an Error's class and code, so they travel as a SerializedError).
import type { CaseFiles, LoadedCase } from "./cases.js";
import { DataError, type DataErrorCode } from "./errors.js";
import type { PrepareOptions } from "./loader-cases.js";
import type { ProducedBatch, ProducerConfig } from "./loader-producer.js";

export interface SerializedError {
  name: string;
  message: string;
  stack: string | undefined;
  code: string | undefined;
}

export interface WorkerInit {
  config: ProducerConfig;
  caseCount: number;
}

export type ToWorker =
  | { type: "case"; slot: number; case: LoadedCase }
  | { type: "load"; slot: number; files: CaseFiles; prepare: PrepareOptions }
  | { type: "batch"; job: number; epoch: number; index: number; count: number };

export type FromWorker =
  | { type: "loaded"; slot: number; case: LoadedCase }
  | ({ type: "batch"; job: number } & ProducedBatch)
  | { type: "error"; error: SerializedError };

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      name: error.name,
      message: error.message,
      stack: error.stack,
      code: typeof code === "string" ? code : undefined,
    };
  }
  return { name: "Error", message: String(error), stack: undefined, code: undefined };
}

const DATA_ERROR_CODES: readonly string[] = [
  "MISSING_MODALITY",
  "GEOMETRY_MISMATCH",
  "NO_CASES",
  "DUPLICATE_CASE",
  "BAD_LABELS",
  "BAD_OPTION",
  "IO",
] satisfies DataErrorCode[];

/**
 * The error next() rejects with for a failure in worker `worker`: a DataError with the worker's
 * code when it threw one (bad input found there), otherwise an Error; the worker's error, with
 * its stack, is the `cause`.
 */
export function workerFailure(worker: number, e: SerializedError): Error {
  const cause = new Error(e.message);
  cause.name = e.name;
  if (e.stack !== undefined) cause.stack = e.stack;
  if (e.code !== undefined) Object.assign(cause, { code: e.code });
  const message = `loader worker ${worker}: ${e.message}`;
  return e.code !== undefined && DATA_ERROR_CODES.includes(e.code)
    ? new DataError(e.code as DataErrorCode, message, { cause })
    : new Error(message, { cause });
}
