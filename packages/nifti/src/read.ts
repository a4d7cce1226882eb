// Node reader: files (.nii, .nii.gz, .hdr/.img pairs with either part gzipped) and in-memory bytes.
// Gzip is detected by magic bytes and inflated by streaming node:zlib, whose work runs on the libuv
// thread pool, so several concurrent readNifti calls decode in parallel.
import { constants as fsConstants, type ReadStream } from "node:fs";
import { access, type FileHandle, open } from "node:fs/promises";
import { createGunzip } from "node:zlib";
import { NiftiError } from "./errors.js";
import { type ChunkSink, gzipError, isGzip } from "./gzip.js";
import {
  DEFAULT_MAX_BYTES,
  dataByteLength,
  headerPrefixLength,
  parseHeader,
  sniffHeader,
} from "./header.js";
import {
  allocateData,
  imageFromHeader,
  parseNifti,
  RegionCollector,
  SingleFileCollector,
  WholeCollector,
} from "./parse.js";
import type { NiftiHeader, NiftiImage } from "./types.js";

export { parseNifti, type ParseNiftiOptions } from "./parse.js";

export interface ReadNiftiOptions {
  /** Largest declared data size accepted, in bytes (default 2 GiB); checked before anything is allocated. */
  maxBytes?: number;
}

/** Output chunk of the streaming gunzip; big enough that per-chunk overhead is noise. */
const CHUNK_SIZE = 1024 * 1024;
/** First read of an uncompressed file: holds the header and typical extensions. */
const PROBE_SIZE = 64 * 1024;

/**
 * Reads a NIfTI image from a path or from bytes. Data is an aligned typed array in native byte order;
 * a header-only file (a lone .hdr, or a .nii that ends after its header) gives `data: null`.
 */
export async function readNifti(
  source: string | Uint8Array,
  opts: ReadNiftiOptions = {},
): Promise<NiftiImage> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (typeof source !== "string") {
    if (!isGzip(source)) return parseNifti(source, { maxBytes });
    const file = new SingleFileCollector({ maxBytes });
    await gunzipStream(source, file);
    const { header, data } = file.finish();
    return imageFromHeader(header, data);
  }
  const pair = pairPaths(source);
  if (pair) {
    const { header, imgPath } = await readPairHeader(source, pair, maxBytes);
    if (imgPath === null) return imageFromHeader(header, null);
    return imageFromHeader(
      header,
      await readRegion(imgPath, header.voxOffset, dataByteLength(header)),
    );
  }
  return withFile(source, async (handle, size) => {
    const probe = await readAt(handle, 0, Math.min(PROBE_SIZE, size), source);
    if (isGzip(probe)) {
      const file = new SingleFileCollector({ maxBytes });
      await gunzipStream(handle, file, source);
      const { header, data } = file.finish();
      return imageFromHeader(header, data);
    }
    const { header, detached } = await readRawHeader(handle, probe, size, maxBytes, source);
    if (detached || size <= header.voxOffset) return imageFromHeader(header, null);
    const data = await readRawRegion(
      handle,
      size,
      header.voxOffset,
      dataByteLength(header),
      source,
    );
    return imageFromHeader(header, data);
  });
}

/** Reads only the header (and extensions) of a file or of bytes; the voxel data is neither read nor allocated. */
export async function readNiftiHeader(
  source: string | Uint8Array,
  opts: ReadNiftiOptions = {},
): Promise<NiftiHeader> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (typeof source !== "string") {
    const file = new SingleFileCollector({ maxBytes, headerOnly: true });
    if (isGzip(source)) await gunzipStream(source, file);
    else if (source.length > 0) file.push(source);
    return file.finish().header;
  }
  const pair = pairPaths(source);
  if (pair) return (await readPairHeader(source, pair, maxBytes)).header;
  return withFile(source, async (handle, size) => {
    const probe = await readAt(handle, 0, Math.min(PROBE_SIZE, size), source);
    if (!isGzip(probe)) return (await readRawHeader(handle, probe, size, maxBytes, source)).header;
    const file = new SingleFileCollector({ maxBytes, headerOnly: true });
    await gunzipStream(handle, file, source);
    return file.finish().header;
  });
}

// ---------------------------------------------------------------------------------------------------
// .hdr/.img pairs

interface PairPaths {
  /** Candidate header paths, most likely first. */
  headers: string[];
  /** Candidate image paths, most likely first. */
  images: string[];
}

/** For x.hdr, x.hdr.gz, x.img or x.img.gz: where the header and the image may be (either gzipped). */
export function pairPaths(path: string): PairPaths | null {
  const match = /^(.*)\.(hdr|img)(\.gz)?$/i.exec(path);
  if (!match) return null;
  const [, base = "", ext = "", gz = ""] = match;
  const upper = ext === ext.toUpperCase();
  const hdr = `${base}.${upper ? "HDR" : "hdr"}`;
  const img = `${base}.${upper ? "IMG" : "img"}`;
  const gzExt = gz || (upper ? ".GZ" : ".gz");
  // The given file first, then the partner with the same compression, then the other one.
  const order = (stem: string): string[] => [stem + gz, gz ? stem : stem + gzExt];
  const isHeader = ext.toLowerCase() === "hdr";
  return {
    headers: isHeader ? [path] : order(hdr),
    images: isHeader ? order(img) : [path],
  };
}

async function readPairHeader(
  source: string,
  pair: PairPaths,
  maxBytes: number,
): Promise<{ header: NiftiHeader; imgPath: string | null }> {
  const hdrPath = (await firstExisting(pair.headers)) ?? pair.headers[0]!;
  const headerFile = new WholeCollector(maxBytes);
  await readFileInto(hdrPath, headerFile, maxBytes);
  const header = parseHeader(headerFile.bytes(), { maxBytes, detached: true });
  const imgPath = await firstExisting(pair.images);
  if (imgPath === null && pair.images[0] === source) {
    throw new NiftiError("IO", `cannot read ${source}: it does not exist`);
  }
  return { header, imgPath };
}

async function firstExisting(paths: string[]): Promise<string | null> {
  for (const path of paths) {
    try {
      await access(path, fsConstants.R_OK);
      return path;
    } catch {
      // try the next candidate
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------
// File plumbing

async function withFile<T>(
  path: string,
  body: (handle: FileHandle, size: number) => Promise<T>,
): Promise<T> {
  let handle: FileHandle;
  let size: number;
  try {
    handle = await open(path, "r");
  } catch (error) {
    throw ioError(error, path);
  }
  try {
    try {
      // No isFile() check: reading a directory then fails with the system's own EISDIR as the cause.
      size = (await handle.stat()).size;
    } catch (error) {
      throw ioError(error, path);
    }
    return await body(handle, size);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Bytes [offset, offset + length) of a file after gunzip (when gzipped), in a fresh buffer. */
async function readRegion(path: string, offset: number, length: number): Promise<ArrayBuffer> {
  return withFile(path, async (handle, size) => {
    const probe = await readAt(handle, 0, Math.min(2, size), path);
    if (!isGzip(probe)) return readRawRegion(handle, size, offset, length, path);
    const region = new RegionCollector(offset, length);
    await gunzipStream(handle, region, path);
    return region.finish();
  });
}

/** Reads uncompressed data straight into its final buffer, after checking the file is long enough. */
async function readRawRegion(
  handle: FileHandle,
  size: number,
  offset: number,
  length: number,
  path: string,
): Promise<ArrayBuffer> {
  if (size < offset + length) {
    throw new NiftiError(
      "TRUNCATED",
      `${path} is ${size} bytes; its data needs ${offset + length} (vox_offset ${offset} + ${length})`,
    );
  }
  const buffer = allocateData(length);
  await readExactly(handle, new Uint8Array(buffer), offset, path);
  return buffer;
}

/** Streams a whole file (gunzipped when it starts with the gzip magic) into `sink`, stopping once it is satisfied. */
async function readFileInto(path: string, sink: ChunkSink, maxBytes: number): Promise<void> {
  await withFile(path, async (handle, size) => {
    const probe = await readAt(handle, 0, Math.min(2, size), path);
    if (isGzip(probe)) return gunzipStream(handle, sink, path);
    // Raw: read in bounded pieces so an oversized file cannot force one huge read.
    let position = 0;
    const piece = Math.min(size, CHUNK_SIZE, maxBytes + 1);
    while (position < size) {
      const chunk = await readAt(handle, position, Math.min(piece, size - position), path);
      if (chunk.length === 0) break;
      position += chunk.length;
      if (sink.push(chunk)) return;
    }
  });
}

/**
 * The header of an uncompressed single file: probe bytes first, more only when extensions need it.
 * `detached` when the magic says the file is the .hdr of a pair (or an Analyze header): then the whole
 * file is the header and there is no data in it.
 */
async function readRawHeader(
  handle: FileHandle,
  probe: Uint8Array,
  size: number,
  maxBytes: number,
  path: string,
): Promise<{ header: NiftiHeader; detached: boolean }> {
  const { headerSize } = sniffHeader(probe);
  if (probe.length < headerSize)
    return { header: parseHeader(probe, { maxBytes }), detached: false }; // TRUNCATED
  const needed = headerPrefixLength(probe, { maxBytes });
  const detached = needed === Number.POSITIVE_INFINITY;
  if (detached && size > maxBytes) {
    throw new NiftiError(
      "TOO_LARGE",
      `${path} is a ${size}-byte header file, above maxBytes ${maxBytes}`,
    );
  }
  const prefix =
    Math.min(needed, size) > probe.length
      ? await readAt(handle, 0, Math.min(needed, size), path)
      : probe;
  const header = parseHeader(prefix, { maxBytes });
  if (!detached && size < header.voxOffset && size > headerSize + 4) {
    throw new NiftiError(
      "TRUNCATED",
      `${path} is ${size} bytes; vox_offset ${header.voxOffset} lies past its end`,
    );
  }
  return { header, detached };
}

async function readAt(
  handle: FileHandle,
  position: number,
  length: number,
  path: string,
): Promise<Uint8Array> {
  const buffer = new Uint8Array(length);
  const read = await readExactly(handle, buffer, position, path, true);
  return read === length ? buffer : buffer.subarray(0, read);
}

/** Fills `target` from `position`; with `allowShort`, stops at end of file instead of throwing TRUNCATED. */
async function readExactly(
  handle: FileHandle,
  target: Uint8Array,
  position: number,
  path: string,
  allowShort = false,
): Promise<number> {
  let filled = 0;
  while (filled < target.length) {
    let bytesRead: number;
    try {
      // Bounded pieces: very large single reads are slower and may be refused by the OS.
      const length = Math.min(target.length - filled, 256 * CHUNK_SIZE);
      ({ bytesRead } = await handle.read(target, filled, length, position + filled));
    } catch (error) {
      throw ioError(error, path);
    }
    if (bytesRead === 0) {
      if (allowShort) break;
      throw new NiftiError("TRUNCATED", `${path} ended while reading its data`);
    }
    filled += bytesRead;
  }
  return filled;
}

/**
 * Pipes gzip input (bytes, or a file handle read from offset 0) through node:zlib into `sink`, and
 * stops reading and inflating as soon as the sink has what it needs.
 */
async function gunzipStream(
  input: Uint8Array | FileHandle,
  sink: ChunkSink,
  path?: string,
): Promise<void> {
  const gunzip = createGunzip({ chunkSize: CHUNK_SIZE });
  let fileStream: ReadStream | null = null;
  if (input instanceof Uint8Array) {
    gunzip.end(input);
  } else {
    const stream = input.createReadStream({
      start: 0,
      highWaterMark: CHUNK_SIZE,
      autoClose: false,
    });
    stream.on("error", (error) => gunzip.destroy(ioError(error, path ?? "input")));
    stream.pipe(gunzip);
    fileStream = stream;
  }
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      if (sink.push(chunk)) break;
    }
  } catch (error) {
    throw gzipError(error);
  } finally {
    gunzip.destroy();
    fileStream?.destroy();
  }
}

function ioError(error: unknown, path: string): NiftiError {
  if (error instanceof NiftiError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const detail =
    typeof code === "string" ? code : error instanceof Error ? error.message : String(error);
  return new NiftiError("IO", `cannot read ${path}: ${detail}`, { cause: error });
}
