// Browser-safe decoding: gzip or raw bytes → header + aligned, native-order voxel array.
// The chunk sinks here are shared with the Node reader (read.ts), which feeds them from node:zlib.
import { bestAffine } from "./affine.js";
import { datatypeInfo } from "./datatypes.js";
import { NiftiError } from "./errors.js";
import { type ChunkSink, gunzipInto, isGzip } from "./gzip.js";
import {
  DEFAULT_MAX_BYTES,
  dataByteLength,
  headerPrefixLength,
  parseHeader,
  sniffHeader,
} from "./header.js";
import type { NiftiHeader, NiftiImage, VoxelArray } from "./types.js";

export interface ParseNiftiOptions {
  /** Largest declared data size accepted, in bytes (default 2 GiB); larger gives TOO_LARGE before allocating. */
  maxBytes?: number;
  /** The .img of a .hdr/.img pair (raw or gzipped); `bytes` is then the .hdr. */
  imgBytes?: Uint8Array;
}

export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Decodes a NIfTI-1/NIfTI-2/Analyze image from memory, gunzipping it first when it starts with the
 * gzip magic. Single files (.nii) unless `imgBytes` is given; a lone detached header (magic ni1/ni2,
 * or a header-only .nii) gives `data: null`.
 */
export function parseNifti(bytes: Uint8Array, opts: ParseNiftiOptions = {}): NiftiImage {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (opts.imgBytes) {
    const headerFile = new WholeCollector(maxBytes);
    feed(bytes, headerFile);
    const header = parseHeader(headerFile.bytes(), { maxBytes, detached: true });
    const region = new RegionCollector(header.voxOffset, dataByteLength(header));
    feed(opts.imgBytes, region);
    return imageFromHeader(header, region.finish());
  }
  const file = new SingleFileCollector({ maxBytes });
  feed(bytes, file);
  const { header, data } = file.finish();
  return imageFromHeader(header, data);
}

function feed(bytes: Uint8Array, sink: ChunkSink): void {
  if (isGzip(bytes)) gunzipInto(bytes, sink);
  else if (bytes.length > 0) sink.push(bytes);
}

/** The image for a parsed header and its raw data buffer (file byte order; swapped here in place). */
export function imageFromHeader(header: NiftiHeader, data: ArrayBuffer | null): NiftiImage {
  const ndim = header.dim[0] ?? 0;
  return {
    header,
    shape: header.dim.slice(1, ndim + 1),
    datatype: datatypeInfo(header.datatype).name,
    data: data === null ? null : voxelArray(data, header),
    spacing: header.pixdim.slice(1, ndim + 1),
    affine: bestAffine(header),
  };
}

/** Views `buffer` as the header's datatype, byte-swapping in place when the file order is not the host's. */
export function voxelArray(buffer: ArrayBuffer, header: NiftiHeader): VoxelArray {
  const info = datatypeInfo(header.datatype);
  const elementSize = info.arrayType.BYTES_PER_ELEMENT;
  if (header.littleEndian !== HOST_LITTLE_ENDIAN) swapBytes(buffer, elementSize);
  return new info.arrayType(buffer, 0, buffer.byteLength / elementSize);
}

/** Reverses the byte order of every `elementSize`-byte element of `buffer`, in place. */
export function swapBytes(buffer: ArrayBuffer, elementSize: number): void {
  if (elementSize === 2) {
    const words = new Uint16Array(buffer);
    for (let i = 0; i < words.length; i++) {
      const v = words[i]!;
      words[i] = (v >>> 8) | (v << 8);
    }
  } else if (elementSize === 4) {
    const words = new Uint32Array(buffer);
    for (let i = 0; i < words.length; i++) {
      const v = words[i]!;
      words[i] = (v >>> 24) | ((v >>> 8) & 0xff00) | ((v & 0xff00) << 8) | (v << 24);
    }
  } else if (elementSize === 8) {
    const words = new Uint32Array(buffer);
    for (let i = 0; i < words.length; i += 2) {
      const lo = words[i]!;
      const hi = words[i + 1]!;
      words[i] = (hi >>> 24) | ((hi >>> 8) & 0xff00) | ((hi & 0xff00) << 8) | (hi << 24);
      words[i + 1] = (lo >>> 24) | ((lo >>> 8) & 0xff00) | ((lo & 0xff00) << 8) | (lo << 24);
    }
  }
}

/** Allocates the data buffer once the header has been validated against maxBytes. */
export function allocateData(length: number): ArrayBuffer {
  try {
    return new ArrayBuffer(length);
  } catch (error) {
    throw new NiftiError("TOO_LARGE", `cannot allocate ${length} bytes for the voxel data`, {
      cause: error,
    });
  }
}

/**
 * Copies bytes [offset, offset + length) of a stream into one freshly allocated buffer, whatever the
 * chunking. Used for the data of a single file (offset = vox_offset) and of an .img.
 */
export class RegionCollector implements ChunkSink {
  readonly buffer: ArrayBuffer;
  private readonly target: Uint8Array;
  private position = 0;
  private filled = 0;

  constructor(
    readonly offset: number,
    readonly length: number,
  ) {
    this.buffer = allocateData(length);
    this.target = new Uint8Array(this.buffer);
  }

  push(chunk: Uint8Array): boolean {
    const start = this.position;
    this.position += chunk.length;
    const from = Math.max(start, this.offset);
    const to = Math.min(this.position, this.offset + this.length);
    if (to > from) {
      this.target.set(chunk.subarray(from - start, to - start), from - this.offset);
      this.filled += to - from;
    }
    return this.filled === this.length;
  }

  /** Bytes of the stream seen so far. */
  get streamLength(): number {
    return this.position;
  }

  get complete(): boolean {
    return this.filled === this.length;
  }

  /** The buffer; TRUNCATED when the stream ended before the region's end. */
  finish(): ArrayBuffer {
    if (!this.complete) {
      throw new NiftiError(
        "TRUNCATED",
        `file ends after ${this.position} bytes; the data needs ${this.offset + this.length} (vox_offset ${this.offset} + ${this.length})`,
      );
    }
    return this.buffer;
  }
}

/** Collects a whole (small) stream, such as a .hdr, refusing to grow past `maxBytes`. */
export class WholeCollector implements ChunkSink {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;

  constructor(private readonly maxBytes: number) {}

  push(chunk: Uint8Array): boolean {
    this.length += chunk.length;
    if (this.length > this.maxBytes) {
      throw new NiftiError("TOO_LARGE", `header file is larger than maxBytes ${this.maxBytes}`);
    }
    this.chunks.push(chunk);
    return false;
  }

  bytes(): Uint8Array {
    return concat(this.chunks, this.length);
  }
}

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(length);
  let pos = 0;
  for (const chunk of chunks) {
    out.set(chunk, pos);
    pos += chunk.length;
  }
  return out;
}

export interface SingleFileOptions {
  maxBytes: number;
  /** Stop (push returns true) as soon as the header and extensions are in; no data buffer is allocated. */
  headerOnly?: boolean;
}

/**
 * Assembles a single-file image from a stream: collects the header and extensions (usually all in
 * the first chunk), validates them, then allocates exactly the declared data size once and copies
 * the rest of the stream into it. A detached header (ni1/ni2/Analyze) is collected whole and has no data.
 */
export class SingleFileCollector implements ChunkSink {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;
  private parsed: NiftiHeader | null = null;
  private region: RegionCollector | null = null;
  private detached = false;
  /** Bytes needed before the next parsing step can make progress. */
  private needed = 4;

  constructor(private readonly opts: SingleFileOptions) {}

  push(chunk: Uint8Array): boolean {
    if (this.region) return this.region.push(chunk);
    this.chunks.push(chunk);
    this.length += chunk.length;
    if (this.detached) return this.checkDetachedSize();
    // Only look again once enough bytes for the next step have arrived (no re-joining per small chunk).
    if (this.length < this.needed) return false;
    const prefix = this.prefix();
    const { headerSize } = sniffHeader(prefix);
    if (this.length < headerSize) {
      this.needed = headerSize;
      return false;
    }
    const needed = headerPrefixLength(prefix, { maxBytes: this.opts.maxBytes });
    if (needed === Number.POSITIVE_INFINITY) {
      this.detached = true;
      return this.checkDetachedSize();
    }
    if (this.length < needed) {
      this.needed = needed;
      return false;
    }
    const header = parseHeader(prefix, { maxBytes: this.opts.maxBytes });
    this.parsed = header;
    this.chunks.length = 0;
    if (this.opts.headerOnly) return true;
    this.region = new RegionCollector(header.voxOffset, dataByteLength(header));
    return this.region.push(prefix);
  }

  /** The header, once the stream has delivered it (before finish). */
  get header(): NiftiHeader | null {
    return this.parsed;
  }

  /**
   * Call at the end of the stream. A file that ends exactly where its data would start (or right after
   * the 348/540-byte header) is header-only (`data: null`); one that ends inside the data, or before a
   * vox_offset beyond its end, is TRUNCATED.
   */
  finish(): { header: NiftiHeader; data: ArrayBuffer | null } {
    if (this.parsed === null) {
      const prefix = this.prefix();
      const header = parseHeader(prefix, { maxBytes: this.opts.maxBytes });
      if (this.detached || this.opts.headerOnly) return { header, data: null };
      const { headerSize } = sniffHeader(prefix);
      if (prefix.length <= headerSize + 4) return { header, data: null };
      throw new NiftiError(
        "TRUNCATED",
        `file ends after ${prefix.length} bytes, before vox_offset ${header.voxOffset} where its data starts`,
      );
    }
    if (this.opts.headerOnly || this.region === null) return { header: this.parsed, data: null };
    if (this.region.streamLength === this.parsed.voxOffset)
      return { header: this.parsed, data: null };
    return { header: this.parsed, data: this.region.finish() };
  }

  /** A detached header is collected whole, so its size is capped like the data. */
  private checkDetachedSize(): false {
    if (this.length > this.opts.maxBytes) {
      throw new NiftiError(
        "TOO_LARGE",
        `header file is larger than maxBytes ${this.opts.maxBytes}`,
      );
    }
    return false;
  }

  private prefix(): Uint8Array {
    const joined = concat(this.chunks, this.length);
    if (this.chunks.length > 1) this.chunks.splice(0, this.chunks.length, joined);
    return joined;
  }
}
