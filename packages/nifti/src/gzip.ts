// Browser-safe gzip helpers (fflate). Node code paths use node:zlib instead (see read.ts, write.ts).
import { Gunzip, gzipSync } from "fflate";
import { NiftiError } from "./errors.js";

/** Compressed bytes handed to fflate per push. Bounds the output of one push (deflate expands ≤ 1032×). */
const INPUT_SLICE = 64 * 1024;

/** Header (10) + trailer (8): RFC 1952's smallest member. */
const MIN_GZIP_MEMBER = 18;

/** True when `bytes` starts with the gzip magic 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Receives decompressed (or raw) bytes in order; returns true once it has everything it needs. */
export interface ChunkSink {
  push(chunk: Uint8Array): boolean;
}

/**
 * Inflates gzip `bytes` a slice at a time into `sink`, stopping as soon as the sink is satisfied, so a
 * decompression bomb costs no more than what the sink asked for (plus one slice of output).
 * A stream that ends early gives TRUNCATED; corrupt compressed data gives IO.
 */
export function gunzipInto(bytes: Uint8Array, sink: ChunkSink): void {
  // fflate takes a stream cut inside its 10-byte header for an empty one; no gzip member is under 18 bytes.
  if (bytes.length < MIN_GZIP_MEMBER) throw gzipError({ code: 0 });
  let done = false;
  let ended = false;
  const inflater = new Gunzip((chunk, final) => {
    if (!done && chunk.length > 0) done = sink.push(chunk);
    if (final) ended = true;
  });
  try {
    for (let pos = 0; pos < bytes.length && !done; pos += INPUT_SLICE) {
      const end = Math.min(pos + INPUT_SLICE, bytes.length);
      inflater.push(bytes.subarray(pos, end), end === bytes.length);
    }
  } catch (error) {
    // Trailing garbage after a complete image is not worth failing the read for.
    if (done) return;
    throw gzipError(error);
  }
  if (!done && !ended) throw gzipError({ code: 0 });
}

/** Maps an fflate or node:zlib error to a NiftiError (already-NiftiErrors pass through). */
export function gzipError(error: unknown): NiftiError {
  if (error instanceof NiftiError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  // fflate: code 0 = unexpected EOF; node:zlib: Z_BUF_ERROR = input ended mid-stream.
  if (code === 0 || code === "Z_BUF_ERROR") {
    return new NiftiError("TRUNCATED", "gzip stream ends before its end marker (truncated file)", {
      cause: error,
    });
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new NiftiError("IO", `corrupt gzip stream: ${detail}`, { cause: error });
}

/** gzip with fflate (browser-safe). */
export function gzipBytes(
  bytes: Uint8Array,
  level: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 = 6,
): Uint8Array {
  return gzipSync(bytes, { level });
}
