// Node reader: files (.nii, .nii.gz, .hdr/.img pairs with either part gzipped) and in-memory bytes.
// Gzip is detected by magic bytes and inflated by streaming node:zlib, whose work runs on the libuv
// thread pool, so several concurrent readNifti calls decode in parallel.
import { constants as fsConstants, type ReadStream, type Stats } from "node:fs";
import { access, type FileHandle, open } from "node:fs/promises";
import { createGunzip } from "node:zlib";
import { NiftiError } from "./errors.js";
import { datatypeInfo } from "./datatypes.js";
import { type ChunkSink, GunzipFeeder, GZIP_MAX_RATIO, gzipError, isGzip } from "./gzip.js";
import {
  DEFAULT_MAX_BYTES,
  dataByteLength,
  detachedHeaderExtent,
  headerPrefixLength,
  parseHeader,
  requireNiftiMagic,
  sniffHeader,
} from "./header.js";
import {
  allocateData,
  DetachedHeaderCollector,
  HOST_LITTLE_ENDIAN,
  imageFromHeader,
  parseNifti,
  RegionCollector,
  RegionScanner,
  SingleFileCollector,
  swapBytes,
} from "./parse.js";
import type { NiftiHeader, NiftiImage, VoxelArray } from "./types.js";

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
    const file = await gunzipStream(
      source,
      () => new SingleFileCollector({ maxBytes, capacity: source.length * GZIP_MAX_RATIO }),
    );
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
      const file = await gunzipStream(
        handle,
        () => new SingleFileCollector({ maxBytes, capacity: size * GZIP_MAX_RATIO }),
        source,
      );
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
    const collect = () => new SingleFileCollector({ maxBytes, headerOnly: true });
    if (isGzip(source)) return (await gunzipStream(source, collect)).finish().header;
    const file = collect();
    if (source.length > 0) file.push(source);
    return file.finish().header;
  }
  const pair = pairPaths(source);
  if (pair) return (await readPairHeader(source, pair, maxBytes)).header;
  return withFile(source, async (handle, size) => {
    const probe = await readAt(handle, 0, Math.min(PROBE_SIZE, size), source);
    if (!isGzip(probe)) return (await readRawHeader(handle, probe, size, maxBytes, source)).header;
    const collect = () => new SingleFileCollector({ maxBytes, headerOnly: true });
    return (await gunzipStream(handle, collect, source)).finish().header;
  });
}

/** What scanNifti found: the header, and whether the file holds voxel data (false: header-only). */
export interface NiftiScan {
  header: NiftiHeader;
  hasData: boolean;
}

/**
 * Reads a file's header, then hands its voxel data to `onBlock` in blocks of whole voxels: a typed
 * array of the file's datatype in native byte order, valid only during the call (the memory is
 * reused). The volume is never held whole, so statistics over a file of any size take constant
 * memory (brats-nifti info). Errors as readNifti; a header-only file calls `onBlock` never.
 */
export async function scanNifti(
  path: string,
  onBlock: (block: VoxelArray, header: NiftiHeader) => void,
  opts: ReadNiftiOptions = {},
): Promise<NiftiScan> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const scannerFor = (header: NiftiHeader, offset: number, capacity: number) => {
    const info = datatypeInfo(header.datatype);
    const size = info.arrayType.BYTES_PER_ELEMENT;
    const swap = header.littleEndian !== HOST_LITTLE_ENDIAN;
    return new RegionScanner(
      offset,
      dataByteLength(header),
      // Whole voxels (rgb24 is 3 bytes of 1-byte elements), whole elements for the typed array.
      info.bytesPerVoxel,
      (bytes) => {
        // The scanner's own scratch buffer, aligned at 0 (never a shared one).
        const buffer = bytes.buffer as ArrayBuffer;
        if (swap) swapBytes(buffer, size);
        onBlock(new info.arrayType(buffer, 0, bytes.length / size), header);
      },
      capacity,
    );
  };
  const pair = pairPaths(path);
  if (pair) {
    const { header, imgPath } = await readPairHeader(path, pair, maxBytes);
    if (imgPath === null) return { header, hasData: false };
    await withFile(imgPath, async (handle, size) => {
      const probe = await readAt(handle, 0, Math.min(2, size), imgPath);
      if (isGzip(probe)) {
        const scan = () => scannerFor(header, header.voxOffset, size * GZIP_MAX_RATIO);
        (await gunzipStream(handle, scan, imgPath)).finish();
      } else {
        await scanRawRegion(handle, size, header.voxOffset, scannerFor(header, 0, size), imgPath);
      }
    });
    return { header, hasData: true };
  }
  return withFile(path, async (handle, size) => {
    const probe = await readAt(handle, 0, Math.min(PROBE_SIZE, size), path);
    if (isGzip(probe)) {
      const collect = () =>
        new SingleFileCollector({
          maxBytes,
          capacity: size * GZIP_MAX_RATIO,
          region: (header, capacity) => scannerFor(header, header.voxOffset, capacity),
        });
      const { header, region } = (await gunzipStream(handle, collect, path)).finishStream();
      return { header, hasData: region !== null };
    }
    const { header, detached } = await readRawHeader(handle, probe, size, maxBytes, path);
    if (detached || size <= header.voxOffset) return { header, hasData: false };
    await scanRawRegion(handle, size, header.voxOffset, scannerFor(header, 0, size), path);
    return { header, hasData: true };
  });
}

/** Feeds bytes [offset, offset + scanner.length) of an uncompressed file to `scanner`, a piece at a time. */
async function scanRawRegion(
  handle: FileHandle,
  size: number,
  offset: number,
  scanner: RegionScanner,
  path: string,
): Promise<void> {
  if (size < offset + scanner.length) {
    throw new NiftiError(
      "TRUNCATED",
      `${path} is ${size} bytes; its data needs ${offset + scanner.length} (vox_offset ${offset} + ${scanner.length})`,
    );
  }
  const piece = new Uint8Array(Math.min(scanner.length, 4 * CHUNK_SIZE));
  for (let done = 0; done < scanner.length;) {
    const n = Math.min(piece.length, scanner.length - done);
    await readExactly(handle, piece.subarray(0, n), offset + done, path);
    scanner.push(piece.subarray(0, n));
    done += n;
  }
  scanner.finish();
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
  const headerFile = await readFileInto(
    hdrPath,
    () => new DetachedHeaderCollector(maxBytes),
    maxBytes,
  );
  const header = headerFile.finish();
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
  let stats: Stats;
  try {
    // Non-blocking: opening a FIFO for reading would otherwise wait for a writer forever.
    handle = await open(path, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw ioError(error, path);
  }
  try {
    try {
      stats = await handle.stat();
    } catch (error) {
      throw ioError(error, path);
    }
    // Only regular files (after symlinks): a FIFO, a device (/dev/zero) or a socket has no size
    // to trust and may never end.
    if (!stats.isFile()) throw notRegularFile(path, stats);
    return await body(handle, stats.size);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Bytes [offset, offset + length) of a file after gunzip (when gzipped), in a fresh buffer. */
async function readRegion(path: string, offset: number, length: number): Promise<ArrayBuffer> {
  return withFile(path, async (handle, size) => {
    const probe = await readAt(handle, 0, Math.min(2, size), path);
    if (!isGzip(probe)) return readRawRegion(handle, size, offset, length, path);
    const collect = () => new RegionCollector(offset, length, size * GZIP_MAX_RATIO);
    return (await gunzipStream(handle, collect, path)).finish();
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

/** Streams a whole file (gunzipped when it starts with the gzip magic) into a sink, stopping once it is satisfied. */
async function readFileInto<S extends ChunkSink>(
  path: string,
  createSink: () => S,
  maxBytes: number,
): Promise<S> {
  return withFile(path, async (handle, size) => {
    const probe = await readAt(handle, 0, Math.min(2, size), path);
    if (isGzip(probe)) return gunzipStream(handle, createSink, path);
    const sink = createSink();
    // Raw: read in bounded pieces so an oversized file cannot force one huge read.
    let position = 0;
    const piece = Math.min(size, CHUNK_SIZE, maxBytes + 1);
    while (position < size) {
      const chunk = await readAt(handle, position, Math.min(piece, size - position), path);
      if (chunk.length === 0) break;
      position += chunk.length;
      if (sink.push(chunk)) break;
    }
    return sink;
  });
}

/**
 * The header of an uncompressed single file: probe bytes first, more only when flagged extensions
 * need it (their chain, never the padding up to a distant vox_offset). `detached` when the magic
 * says the file is the .hdr of a pair: then only the extensions it flags follow, and no data.
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
  requireNiftiMagic(probe);
  let prefix = probe;
  let needed = headerPrefixLength(prefix, { maxBytes });
  const detached = needed === Number.POSITIVE_INFINITY;
  if (detached) needed = detachedHeaderExtent(prefix, { maxBytes }).needed;
  // Each step reads at least twice as much, so a long extension chain costs few reads.
  while (needed > prefix.length && prefix.length < size) {
    prefix = await readAt(handle, 0, Math.min(Math.max(needed, 2 * prefix.length), size), path);
    if (!detached) needed = headerPrefixLength(prefix, { maxBytes });
    else {
      const extent = detachedHeaderExtent(prefix, { maxBytes });
      needed = extent.complete ? extent.end : extent.needed;
    }
  }
  const header = parseHeader(prefix, { maxBytes, ...(detached ? { detached: true } : {}) });
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
 * Gunzips input (bytes, or a file handle read from offset 0) into a sink made by `createSink`, and
 * stops reading and inflating as soon as the sink has what it needs; returns the sink. node:zlib
 * does the work (on the thread pool). It reads any non-zero bytes after a gzip member as another
 * member, and when they are junk it fails and drops the output it had not delivered yet; nibabel
 * (Python's gzip) ignores such trailing junk. So on that failure the input is decoded once more,
 * into a fresh sink, by fflate, which stops at the end of the image.
 */
async function gunzipStream<S extends ChunkSink>(
  input: Uint8Array | FileHandle,
  createSink: () => S,
  path?: string,
): Promise<S> {
  const sink = createSink();
  try {
    await zlibInto(input, sink, path);
    return sink;
  } catch (error) {
    if (!mayBeTrailingJunk(error)) throw error;
  }
  const again = createSink();
  const feeder = new GunzipFeeder(again);
  if (input instanceof Uint8Array) {
    feeder.push(input, true);
  } else {
    // The first pass's read stream closed the handle: read the file again by its path.
    if (path === undefined) throw new Error("gunzipStream: a file handle needs its path");
    await withFile(path, async (handle, size) => {
      for (let position = 0; position < size && !feeder.done; position += CHUNK_SIZE) {
        const piece = await readAt(handle, position, Math.min(CHUNK_SIZE, size - position), path);
        if (piece.length === 0) break;
        feeder.push(piece, position + piece.length >= size);
      }
    });
  }
  feeder.finish();
  return again;
}

/** node:zlib's failures on bytes after a gzip member: not a gzip header, or one cut short. */
function mayBeTrailingJunk(error: unknown): boolean {
  const cause = error instanceof NiftiError ? error.cause : error;
  const code = (cause as { code?: unknown } | null)?.code;
  const message = cause instanceof Error ? cause.message : "";
  return (
    code === "Z_BUF_ERROR" ||
    (code === "Z_DATA_ERROR" &&
      (message.includes("incorrect header check") ||
        message.includes("unknown compression method")))
  );
}

/** Pipes gzip input through node:zlib into `sink`, stopping once the sink is satisfied. */
async function zlibInto(
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

function notRegularFile(path: string, stats: Stats): NiftiError {
  const kind = stats.isDirectory()
    ? "a directory"
    : stats.isFIFO()
      ? "a FIFO"
      : stats.isCharacterDevice() || stats.isBlockDevice()
        ? "a device"
        : stats.isSocket()
          ? "a socket"
          : "not a regular file";
  const cause = Object.assign(new Error(`${path} is ${kind}`), {
    code: stats.isDirectory() ? "EISDIR" : "ENOTREG",
  });
  return new NiftiError("IO", `cannot read ${path}: it is ${kind}, not a regular file`, { cause });
}

function ioError(error: unknown, path: string): NiftiError {
  if (error instanceof NiftiError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const detail =
    typeof code === "string" ? code : error instanceof Error ? error.message : String(error);
  return new NiftiError("IO", `cannot read ${path}: ${detail}`, { cause: error });
}
