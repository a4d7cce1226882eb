// Browser-safe decoding: gzip or raw bytes → header + aligned, native-order voxel array.
// The chunk sinks here are shared with the Node reader (read.ts), which feeds them from node:zlib.
import { bestAffine, fixedSpatialPixdims } from "./affine.js";
import { datatypeInfo } from "./datatypes.js";
import { NiftiError } from "./errors.js";
import { type ChunkSink, GZIP_MAX_RATIO, gunzipInto, isGzip } from "./gzip.js";
import {
  DEFAULT_MAX_BYTES,
  dataByteLength,
  detachedHeaderExtent,
  headerPrefixLength,
  parseHeader,
  requireNiftiMagic,
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
    const headerFile = new DetachedHeaderCollector(maxBytes);
    feed(bytes, headerFile);
    const header = headerFile.finish();
    const region = new RegionCollector(
      header.voxOffset,
      dataByteLength(header),
      capacityOf(opts.imgBytes),
    );
    feed(opts.imgBytes, region);
    return imageFromHeader(header, region.finish());
  }
  const file = new SingleFileCollector({ maxBytes, capacity: capacityOf(bytes) });
  feed(bytes, file);
  const { header, data } = file.finish();
  return imageFromHeader(header, data);
}

/** The most bytes `bytes` can stand for: its length, or the gzip bound when it is gzipped. */
export function capacityOf(bytes: Uint8Array): number {
  return isGzip(bytes) ? bytes.length * GZIP_MAX_RATIO : bytes.length;
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
    spacing: spacingOf(header, ndim),
    affine: bestAffine(header),
  };
}

/** pixdim[1..ndim] as nibabel's zooms: the spatial ones after its load-time fixes (0 → 1, −x → x). */
function spacingOf(header: NiftiHeader, ndim: number): number[] {
  const spatial = fixedSpatialPixdims(header);
  return header.pixdim.slice(1, ndim + 1).map((v, i) => (i < 3 ? spatial[i]! : v));
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

/** The region's bytes, or its vox_offset, lie beyond what the stream can hold: TRUNCATED. */
function beyondCapacity(what: string, needed: number, capacity: number): NiftiError {
  return new NiftiError(
    "TRUNCATED",
    `the file can hold at most ${capacity} bytes (its size; ×${GZIP_MAX_RATIO} when gzipped), ` +
      `but its ${what} needs ${needed}`,
  );
}

/** Where a stream's data region goes: one buffer (RegionCollector) or a reader's callback (RegionScanner). */
export interface DataRegion extends ChunkSink {
  /** Bytes of the stream seen so far. */
  readonly streamLength: number;
  /** Throws TRUNCATED unless the stream delivered the whole region. */
  finish(): unknown;
}

/**
 * Copies bytes [offset, offset + length) of a stream into one buffer, whatever the chunking. Used
 * for the data of a single file (offset = vox_offset) and of an .img. The bytes before `offset`
 * are counted, not kept; the buffer is allocated when the first data byte arrives, and only when
 * the stream can hold the whole region (`capacity`: the file's size, or its gzip bound), so a
 * header that lies about its size costs nothing.
 */
export class RegionCollector implements DataRegion {
  private target: Uint8Array | null = null;
  private position = 0;
  private filled = 0;

  constructor(
    readonly offset: number,
    readonly length: number,
    private readonly capacity = Number.POSITIVE_INFINITY,
  ) {}

  push(chunk: Uint8Array): boolean {
    const start = this.position;
    this.position += chunk.length;
    const from = Math.max(start, this.offset);
    const to = Math.min(this.position, this.offset + this.length);
    if (to > from) {
      if (this.target === null) {
        if (this.offset + this.length > this.capacity) {
          throw beyondCapacity("data", this.offset + this.length, this.capacity);
        }
        this.target = new Uint8Array(allocateData(this.length));
      }
      this.target.set(chunk.subarray(from - start, to - start), from - this.offset);
      this.filled += to - from;
    }
    return this.filled === this.length;
  }

  get streamLength(): number {
    return this.position;
  }

  get complete(): boolean {
    return this.filled === this.length;
  }

  /** The buffer; TRUNCATED when the stream ended before the region's end. */
  finish(): ArrayBuffer {
    if (!this.complete || this.target === null) throw regionTruncated(this);
    return this.target.buffer as ArrayBuffer;
  }
}

function regionTruncated(r: { streamLength: number; offset: number; length: number }): NiftiError {
  return new NiftiError(
    "TRUNCATED",
    `file ends after ${r.streamLength} bytes; the data needs ${r.offset + r.length} (vox_offset ${r.offset} + ${r.length})`,
  );
}

/** Bytes handed to a RegionScanner's callback at a time (whole elements). */
const SCAN_BLOCK = 1 << 20;

/**
 * Streams bytes [offset, offset + length) to `onBlock` in blocks of whole elements, each in the
 * same reused, aligned scratch buffer (a block is only valid during the call), so a reader can
 * visit a volume of any size in constant memory (brats-nifti info's statistics).
 */
export class RegionScanner implements DataRegion {
  private readonly scratch: Uint8Array;
  private pending = 0;
  private position = 0;
  private seen = 0;

  constructor(
    readonly offset: number,
    readonly length: number,
    private readonly elementSize: number,
    private readonly onBlock: (block: Uint8Array) => void,
    private readonly capacity = Number.POSITIVE_INFINITY,
  ) {
    const block = Math.max(elementSize, SCAN_BLOCK - (SCAN_BLOCK % elementSize));
    this.scratch = new Uint8Array(Math.min(block, length));
  }

  push(chunk: Uint8Array): boolean {
    const start = this.position;
    this.position += chunk.length;
    let from = Math.max(start, this.offset);
    const to = Math.min(this.position, this.offset + this.length);
    if (to > from && this.seen === 0 && this.pending === 0) {
      if (this.offset + this.length > this.capacity) {
        throw beyondCapacity("data", this.offset + this.length, this.capacity);
      }
    }
    while (from < to) {
      const n = Math.min(to - from, this.scratch.length - this.pending);
      this.scratch.set(chunk.subarray(from - start, from - start + n), this.pending);
      this.pending += n;
      this.seen += n;
      from += n;
      if (this.pending === this.scratch.length || this.seen === this.length) this.flush();
    }
    return this.seen === this.length;
  }

  get streamLength(): number {
    return this.position;
  }

  finish(): void {
    if (this.seen !== this.length) throw regionTruncated(this);
  }

  private flush(): void {
    // Whole elements only; a partial one stays for the next block.
    const whole = this.pending - (this.pending % this.elementSize);
    if (whole === 0) return;
    this.onBlock(this.scratch.subarray(0, whole));
    this.scratch.copyWithin(0, whole, this.pending);
    this.pending -= whole;
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

/**
 * The first chunks of a stream, joined on demand (the header, rarely more than one chunk). `take`
 * adds a chunk and gives the bytes so far once there are `needed` of them and a whole fixed header,
 * else null; only then is it worth looking again (no re-joining per small chunk).
 */
class Prefix {
  private readonly chunks: Uint8Array[] = [];
  length = 0;
  /** Bytes wanted before the next look. */
  needed = 4;

  take(chunk: Uint8Array): Uint8Array | null {
    this.chunks.push(chunk);
    this.length += chunk.length;
    if (this.length < this.needed) return null;
    const bytes = this.bytes();
    const { headerSize } = sniffHeader(bytes);
    if (bytes.length < headerSize) {
      this.needed = headerSize;
      return null;
    }
    return bytes;
  }

  bytes(): Uint8Array {
    const joined = concat(this.chunks, this.length);
    if (this.chunks.length > 1) this.chunks.splice(0, this.chunks.length, joined);
    return joined;
  }

  clear(): void {
    this.chunks.length = 0;
    this.length = 0;
  }
}

/**
 * Collects a detached header (.hdr, or a pair magic in a single file): the fixed header, then only
 * the extension chain the extender flags, which runs to the end of the file. Without extensions it
 * is satisfied after the extender, whatever follows (a 2 GiB tail of zeros is never inflated).
 */
export class DetachedHeaderCollector implements ChunkSink {
  private readonly prefix = new Prefix();

  constructor(private readonly maxBytes: number) {}

  push(chunk: Uint8Array): boolean {
    const bytes = this.prefix.take(chunk);
    if (bytes === null) return false;
    const extent = detachedHeaderExtent(bytes, { maxBytes: this.maxBytes });
    if (extent.complete) return true;
    this.prefix.needed = extent.needed;
    return false;
  }

  /** The header, at the end of the stream (or once push returned true). */
  finish(): NiftiHeader {
    return parseHeader(this.prefix.bytes(), { maxBytes: this.maxBytes, detached: true });
  }
}

export interface SingleFileOptions {
  maxBytes: number;
  /** Stop (push returns true) as soon as the header and extensions are in; no data buffer is allocated. */
  headerOnly?: boolean;
  /**
   * Most bytes the stream can hold: the file's size, or GZIP_MAX_RATIO × a gzip file's size. A
   * vox_offset beyond it fails at once, and data beyond it on its first byte. Default: unbounded.
   */
  capacity?: number;
  /** Where the data goes (default: one buffer, RegionCollector). */
  region?: (header: NiftiHeader, capacity: number) => DataRegion;
}

/**
 * Assembles a single-file image from a stream: collects the header and the extensions it flags
 * (usually all in the first chunk), validates them, then hands the rest of the stream to the data
 * region, which skips the bytes before vox_offset without keeping them. A detached header
 * (ni1/ni2) has no data.
 */
export class SingleFileCollector implements ChunkSink {
  private readonly prefix = new Prefix();
  private parsed: NiftiHeader | null = null;
  private region: DataRegion | null = null;
  private detached: DetachedHeaderCollector | null = null;
  private readonly capacity: number;

  constructor(private readonly opts: SingleFileOptions) {
    this.capacity = opts.capacity ?? Number.POSITIVE_INFINITY;
  }

  push(chunk: Uint8Array): boolean {
    if (this.region) return this.region.push(chunk);
    if (this.detached) return this.detached.push(chunk);
    const bytes = this.prefix.take(chunk);
    if (bytes === null) return false;
    requireNiftiMagic(bytes);
    const needed = headerPrefixLength(bytes, { maxBytes: this.opts.maxBytes });
    if (needed === Number.POSITIVE_INFINITY) {
      this.detached = new DetachedHeaderCollector(this.opts.maxBytes);
      this.prefix.clear();
      return this.detached.push(bytes);
    }
    if (bytes.length < needed) {
      this.prefix.needed = needed;
      return false;
    }
    const header = parseHeader(bytes, { maxBytes: this.opts.maxBytes });
    if (header.voxOffset > this.capacity) {
      throw beyondCapacity(`vox_offset`, header.voxOffset, this.capacity);
    }
    this.parsed = header;
    this.prefix.clear();
    if (this.opts.headerOnly) return true;
    const length = dataByteLength(header);
    this.region =
      this.opts.region?.(header, this.capacity) ??
      new RegionCollector(header.voxOffset, length, this.capacity);
    return this.region.push(bytes);
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
    const { header, region } = this.finishStream();
    return { header, data: region instanceof RegionCollector ? region.finish() : null };
  }

  /** finish for any region: the header, and the region when the file has data (already checked complete). */
  finishStream(): { header: NiftiHeader; region: DataRegion | null } {
    if (this.detached) return { header: this.detached.finish(), region: null };
    if (this.parsed === null) {
      const bytes = this.prefix.bytes();
      const header = parseHeader(bytes, { maxBytes: this.opts.maxBytes });
      if (this.opts.headerOnly) return { header, region: null };
      const { headerSize } = sniffHeader(bytes);
      if (bytes.length <= headerSize + 4) return { header, region: null };
      throw new NiftiError(
        "TRUNCATED",
        `file ends after ${bytes.length} bytes, before vox_offset ${header.voxOffset} where its data starts`,
      );
    }
    if (this.opts.headerOnly || this.region === null) return { header: this.parsed, region: null };
    if (this.region.streamLength === this.parsed.voxOffset) {
      return { header: this.parsed, region: null };
    }
    this.region.finish();
    return { header: this.parsed, region: this.region };
  }
}
