// Browser-safe gzip helpers (fflate). Node code paths use node:zlib instead (see read.ts, write.ts).
import { Gunzip, gzipSync } from "fflate";
import { NiftiError } from "./errors.js";

/** Compressed bytes handed to fflate per push. Bounds the output of one push (deflate expands ≤ 1032×). */
const INPUT_SLICE = 64 * 1024;

/**
 * Deflate's largest expansion, about 1032 : 1 (zlib's technical details): a gzip file of n bytes
 * inflates to at most n × GZIP_MAX_RATIO, so a header promising more is refused before inflating.
 */
export const GZIP_MAX_RATIO = 1032;

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
 * Inflates gzip input with fflate, pushed a piece at a time, into `sink`, and stops as soon as the
 * sink is satisfied, so a decompression bomb costs no more than what the sink asked for (plus one
 * slice of output). Concatenated members are one stream; anything failing after the sink is
 * satisfied (trailing junk) is ignored. Corrupt data gives IO; `finish` gives TRUNCATED when the
 * input ended first.
 */
export class GunzipFeeder {
  done = false;
  private ended = false;
  private seen = 0;
  private readonly inflater: Gunzip;

  constructor(private readonly sink: ChunkSink) {
    this.inflater = new Gunzip((chunk, final) => {
      if (!this.done && chunk.length > 0) this.done = sink.push(chunk);
      if (final) this.ended = true;
    });
  }

  /** Pushes the next piece of compressed input (`last` for the final one); true once done. */
  push(bytes: Uint8Array, last: boolean): boolean {
    this.seen += bytes.length;
    // fflate takes a stream cut inside its 10-byte header for an empty one; no gzip member is under 18 bytes.
    if (last && this.seen < MIN_GZIP_MEMBER) throw gzipError({ code: 0 });
    try {
      for (let pos = 0; pos < bytes.length && !this.done; pos += INPUT_SLICE) {
        const end = Math.min(pos + INPUT_SLICE, bytes.length);
        this.inflater.push(bytes.subarray(pos, end), last && end === bytes.length);
      }
    } catch (error) {
      // Trailing garbage after a complete image is not worth failing the read for.
      if (this.done) return true;
      throw gzipError(error);
    }
    return this.done;
  }

  /** After the last push: TRUNCATED unless the sink was satisfied or the stream ended. */
  finish(): void {
    if (!this.done && !this.ended) throw gzipError({ code: 0 });
  }
}

/** GunzipFeeder over bytes already in memory (the browser build's gunzip). */
export function gunzipInto(bytes: Uint8Array, sink: ChunkSink): void {
  const feeder = new GunzipFeeder(sink);
  feeder.push(bytes, true);
  feeder.finish();
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
