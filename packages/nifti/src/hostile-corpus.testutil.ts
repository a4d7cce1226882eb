// A corpus of hostile and damaged NIfTI files, written at test time (the bombs as gzip streams
// built block by block, so writing them costs milliseconds and a few MB of disk): bad fields,
// truncations, decompression and vox_offset bombs, junk after the data, FIFOs, devices, links.
// Each entry says what a correct reader does with it: read it ("ok", with its data size for the
// memory bound), or fail with a typed error (the code; several when more than one is right).
// Used by hostile.test.ts and scripts/hostile-corpus.ts (which writes it to a folder).
import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { constants, deflateRawSync, gzipSync } from "node:zlib";
import type { NiftiErrorCode } from "./errors.js";
import {
  concatBytes,
  rawExtensions,
  rawNifti1,
  rawNifti2,
  type RawHeaderFields,
} from "./test-utils.js";

export type Expected = "ok" | NiftiErrorCode;

export interface HostileFile {
  /** File name in the corpus folder (the one to read, for pairs the .hdr). */
  name: string;
  /** What a correct reader does: one outcome, or any of several. */
  expect: Expected | readonly Expected[];
  /** Bytes of voxel data a successful read holds (0 for errors and header-only files). */
  dataBytes: number;
  /** Large files (bombs): the test runs them one per process. */
  big?: boolean;
  /** Why the file is there. */
  note: string;
}

const GOOD_FIELDS: RawHeaderFields = {
  dim: [3, 4, 4, 4],
  datatype: 4, // int16
  bitpix: 16,
  pixdim: [1, 1, 1, 1],
  voxOffset: 352,
  sclSlope: 1,
};
const GOOD_DATA = new Uint8Array(new Int16Array(64).map((_, i) => i * 7 - 100).buffer);

function nii(fields: Partial<RawHeaderFields>, data: Uint8Array = GOOD_DATA): Uint8Array {
  const f = { ...GOOD_FIELDS, ...fields };
  const header = rawNifti1({ ...f, tail: f.tail ?? new Uint8Array(4) });
  // Padding up to vox_offset, when it is one that a small file can reach (the hostile ones need none).
  const offset = f.voxOffset ?? 352;
  const pad =
    Number.isFinite(offset) && offset <= 2 ** 24
      ? Math.max(0, Math.floor(offset) - header.length)
      : 0;
  return concatBytes(header, new Uint8Array(pad), data);
}

function nii2(fields: Partial<RawHeaderFields>, data: Uint8Array = GOOD_DATA): Uint8Array {
  const f = { ...GOOD_FIELDS, voxOffset: 544, ...fields };
  return concatBytes(rawNifti2({ ...f, tail: f.tail ?? new Uint8Array(4) }), data);
}

const gz = (bytes: Uint8Array): Uint8Array => new Uint8Array(gzipSync(bytes));

// --- gzip streams of many zeros, built from one repeated deflate block --------------------------

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32Update(crc: number, bytes: Uint8Array): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

// zlib's crc32_combine: CRC of A‖B from crc(A), crc(B) and |B|, by GF(2) matrix powers.
function gf2Times(mat: Uint32Array, vec: number): number {
  let sum = 0;
  for (let i = 0; vec !== 0; i++, vec >>>= 1) if (vec & 1) sum ^= mat[i]!;
  return sum >>> 0;
}
function gf2Square(square: Uint32Array, mat: Uint32Array): void {
  for (let n = 0; n < 32; n++) square[n] = gf2Times(mat, mat[n]!);
}
function crc32Combine(crc1: number, crc2: number, len2: number): number {
  if (len2 <= 0) return crc1;
  const even = new Uint32Array(32);
  const odd = new Uint32Array(32);
  odd[0] = 0xedb88320;
  for (let n = 1, row = 1; n < 32; n++, row <<= 1) odd[n] = row >>> 0;
  gf2Square(even, odd);
  gf2Square(odd, even);
  let c = crc1;
  let len = len2;
  do {
    gf2Square(even, odd);
    if (len & 1) c = gf2Times(even, c);
    len = Math.floor(len / 2);
    if (len === 0) break;
    gf2Square(odd, even);
    if (len & 1) c = gf2Times(odd, c);
    len = Math.floor(len / 2);
  } while (len !== 0);
  return (c ^ crc2) >>> 0;
}

const ZERO_BLOCK = 1 << 20;

/**
 * gzip of `prefix`, then `zeros` zero bytes (a multiple of 1 MiB), then `suffix`: one deflate
 * segment of 1 MiB of zeros (flushed, so byte-aligned) repeated, with a correct CRC and size.
 */
export function gzipWithZeros(prefix: Uint8Array, zeros: number, suffix: Uint8Array): Uint8Array {
  if (zeros % ZERO_BLOCK !== 0) throw new Error("zeros must be a multiple of 1 MiB");
  const flush = { finishFlush: constants.Z_FULL_FLUSH, level: 9 };
  const head = deflateRawSync(prefix, flush);
  const block = deflateRawSync(new Uint8Array(ZERO_BLOCK), flush);
  const tail = deflateRawSync(suffix, { level: 9 }); // final block
  const blocks = zeros / ZERO_BLOCK;
  let crc = crc32Update(0, prefix);
  const zeroCrc = crc32Update(0, new Uint8Array(ZERO_BLOCK));
  for (let i = 0; i < blocks; i++) crc = crc32Combine(crc, zeroCrc, ZERO_BLOCK);
  crc = crc32Combine(crc, crc32Update(0, suffix), suffix.length);
  const total = prefix.length + zeros + suffix.length;
  const header = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
  const trailer = new Uint8Array(8);
  new DataView(trailer.buffer).setUint32(0, crc, true);
  new DataView(trailer.buffer).setUint32(4, total % 2 ** 32, true);
  const out = new Uint8Array(
    header.length + head.length + block.length * blocks + tail.length + trailer.length,
  );
  let pos = 0;
  for (const part of [header, head]) {
    out.set(part, pos);
    pos += part.length;
  }
  for (let i = 0; i < blocks; i++, pos += block.length) out.set(block, pos);
  out.set(tail, pos);
  out.set(trailer, pos + tail.length);
  return out;
}

// --- the corpus ----------------------------------------------------------------------------------

interface Entry extends HostileFile {
  write: (path: string) => void;
}

function bytesEntry(
  name: string,
  bytes: Uint8Array,
  expect: HostileFile["expect"],
  note: string,
  dataBytes = 0,
): Entry {
  return { name, expect, dataBytes, note, write: (path) => writeFileSync(path, bytes) };
}

const ok = (name: string, bytes: Uint8Array, note: string, dataBytes = GOOD_DATA.length): Entry =>
  bytesEntry(name, bytes, "ok", note, dataBytes);

function datatypeEntries(): Entry[] {
  const types: Array<[string, number, number]> = [
    ["int8", 256, 8],
    ["uint8", 2, 8],
    ["int16", 4, 16],
    ["uint16", 512, 16],
    ["int32", 8, 32],
    ["uint32", 768, 32],
    ["float32", 16, 32],
    ["float64", 64, 64],
    ["int64", 1024, 64],
    ["uint64", 1280, 64],
    ["rgb24", 128, 24],
    ["complex64", 32, 64],
  ];
  return types.map(([name, datatype, bitpix]) => {
    const bytes = (64 * bitpix) / 8;
    const data = new Uint8Array(bytes).map((_, i) => (i * 37) % 251);
    return ok(`type-${name}.nii`, nii({ datatype, bitpix }, data), `valid ${name} data`, bytes);
  });
}

/** Every entry of the corpus, in a fixed order. */
export function hostileCorpus(): Entry[] {
  const good = nii({});
  const entries: Entry[] = [
    // Valid files, some unusual: a correct reader reads them all.
    ok("good.nii", good, "a plain valid file"),
    ok("good.nii.gz", gz(good), "the same, gzipped"),
    ok("big-endian.nii", rawBigEndian(), "big-endian header and data"),
    ok("nifti2.nii", nii2({}), "NIfTI-2"),
    ok("nifti2.nii.gz", gz(nii2({})), "NIfTI-2 gzipped"),
    ok("vox-offset-unset.nii", nii({ voxOffset: 0 }), "vox_offset 0 is read as 352 (nibabel)"),
    ok("vox-offset-fraction.nii", nii({ voxOffset: 352.7 }), "a fractional vox_offset is floored"),
    ok("vox-offset-padding.nii", nii({ voxOffset: 4096 }), "padding between header and data"),
    ok("vox-offset-padding.nii.gz", gz(nii({ voxOffset: 65536 })), "the same, gzipped"),
    ok(
      "extension.nii",
      nii({
        voxOffset: 384,
        tail: rawExtensions([{ esize: 32, code: 6, payload: [65, 66, 67] }]),
      }),
      "one 32-byte extension",
    ),
    ok(
      "trailing-zeros.nii.gz",
      concatBytes(gz(good), new Uint8Array(64)),
      "zero padding after the gzip member",
    ),
    ok(
      "trailing-junk.nii.gz",
      concatBytes(gz(good), new TextEncoder().encode("junk after the image")),
      "non-zero junk after the gzip member (nibabel ignores it)",
    ),
    ok(
      "trailing-gzip-magic.nii.gz",
      concatBytes(gz(good), new Uint8Array([0x1f, 0x8b, 1, 2])),
      "junk that starts like another gzip member",
    ),
    ok(
      "multi-member.nii.gz",
      concatBytes(gz(good.subarray(0, 200)), gz(good.subarray(200))),
      "the file split over two gzip members",
    ),
    ok(
      "trailing-bytes.nii",
      concatBytes(good, new Uint8Array(100).fill(7)),
      "bytes after the data",
    ),
    ok("slope-nan.nii", nii({ sclSlope: NaN }), "scl_slope NaN: no scaling"),
    ok("slope-zero.nii", nii({ sclSlope: 0 }), "scl_slope 0: no scaling"),
    ok("pixdim-zero.nii", nii({ pixdim: [1, 0, 0, 0] }), "zero zooms (nibabel reads 1)"),
    ok("pixdim-negative.nii", nii({ pixdim: [1, -2, -3, -4] }), "negative zooms (nibabel: abs)"),
    ok("pixdim-nan.nii", nii({ pixdim: [1, NaN, 1, 1], qformCode: 1 }), "a NaN zoom in the qform"),
    ok("quatern-nan.nii", nii({ qformCode: 1, quatern: [NaN, 0, 0] }), "a NaN quaternion"),
    ok(
      "sform-inf.nii",
      nii({
        sformCode: 1,
        srow: [
          [Infinity, 0, 0, 0],
          [0, 1, 0, 0],
          [0, 0, 1, 0],
        ],
      }),
      "an infinite sform",
    ),
    ok("dim4-one-frame.nii", nii({ dim: [4, 4, 4, 4, 1] }), "4-D with one frame"),
    ok(
      "float-nan-data.nii",
      nii({ datatype: 16, bitpix: 32 }, new Uint8Array(new Float32Array(64).fill(NaN).buffer)),
      "all-NaN float data",
      256,
    ),
    bytesEntry("header-only.nii", good.subarray(0, 352), "ok", "ends where its data starts"),
    bytesEntry("header-348.nii", good.subarray(0, 348), "ok", "ends after the fixed header"),
    bytesEntry("header-only.nii.gz", gz(good.subarray(0, 352)), "ok", "the same, gzipped"),
    ...datatypeEntries(),

    // Not NIfTI at all.
    bytesEntry("empty.nii", new Uint8Array(0), "NOT_NIFTI", "an empty file"),
    bytesEntry("three-bytes.nii", new Uint8Array([1, 2, 3]), "NOT_NIFTI", "3 bytes"),
    bytesEntry("random.nii", pseudoRandom(2000, 1), "NOT_NIFTI", "random bytes"),
    bytesEntry("random.nii.gz", gz(pseudoRandom(2000, 2)), "NOT_NIFTI", "gzipped random bytes"),
    bytesEntry("sizeof-349.nii", withInt32(good, 0, 349), "NOT_NIFTI", "sizeof_hdr 349"),
    bytesEntry("sizeof-0.nii", withInt32(good, 0, 0), "NOT_NIFTI", "sizeof_hdr 0"),
    bytesEntry("magic-xyz.nii", nii({ magic: "XYZ" }), "NOT_NIFTI", "magic XYZ (nibabel refuses)"),
    bytesEntry(
      "magic-empty.nii",
      nii({ magic: "" }),
      "NOT_NIFTI",
      "no magic in a .nii (nibabel refuses)",
    ),
    bytesEntry("magic-empty.nii.gz", gz(nii({ magic: "" })), "NOT_NIFTI", "the same, gzipped"),
    bytesEntry(
      "nifti2-bad-magic.nii",
      nii2({ magic: "n+1" }),
      "NOT_NIFTI",
      "NIfTI-2 size, NIfTI-1 magic",
    ),
    bytesEntry(
      "html.nii.gz",
      gz(new TextEncoder().encode("<html>".repeat(100))),
      "NOT_NIFTI",
      "a web page",
    ),

    // Bad fields.
    bytesEntry("dim0-zero.nii", nii({ dim: [0, 4, 4, 4] }), "BAD_HEADER", "dim[0] 0"),
    bytesEntry("dim0-eight.nii", nii({ dim: [8, 4, 4, 4, 1, 1, 1, 1] }), "BAD_HEADER", "dim[0] 8"),
    bytesEntry("dim0-negative.nii", nii({ dim: [-1, 4, 4, 4] }), "BAD_HEADER", "dim[0] −1"),
    bytesEntry("dim-zero.nii", nii({ dim: [3, 4, 0, 4] }), "BAD_HEADER", "a zero dim"),
    bytesEntry("dim-negative.nii", nii({ dim: [3, 4, -5, 4] }), "BAD_HEADER", "a negative dim"),
    bytesEntry("vox-offset-negative.nii", nii({ voxOffset: -352 }), "BAD_HEADER", "vox_offset < 0"),
    bytesEntry("vox-offset-nan.nii", nii({ voxOffset: NaN }), "BAD_HEADER", "vox_offset NaN"),
    bytesEntry("vox-offset-inf.nii", nii({ voxOffset: Infinity }), "BAD_HEADER", "vox_offset ∞"),
    bytesEntry(
      "extension-esize-zero.nii",
      nii({ voxOffset: 384, tail: rawExtensions([{ esize: 0, code: 6 }]) }),
      "BAD_HEADER",
      "an extension of esize 0",
    ),
    bytesEntry(
      "extension-esize-odd.nii",
      nii({ voxOffset: 384, tail: rawExtensions([{ esize: 17, code: 6 }]) }),
      "BAD_HEADER",
      "esize not a multiple of 16",
    ),
    bytesEntry(
      "extension-esize-negative.nii",
      nii({ voxOffset: 384, tail: rawExtensions([{ esize: -32, code: 6 }]) }),
      "BAD_HEADER",
      "a negative esize",
    ),
    bytesEntry(
      "extension-past-vox-offset.nii",
      nii({ voxOffset: 384, tail: rawExtensions([{ esize: 1024, code: 6 }]) }),
      "BAD_HEADER",
      "an extension running past vox_offset",
    ),
    bytesEntry(
      "extension-flag-no-extension.nii",
      nii({ voxOffset: 400, tail: new Uint8Array([1, 0, 0, 0]) }),
      "BAD_HEADER",
      "the extender flags extensions, only zeros follow",
    ),
    bytesEntry(
      "slope-inter-inf.nii",
      nii({ sclSlope: 2, sclInter: Infinity }),
      ["ok", "BAD_HEADER"],
      "a valid slope with an infinite intercept (the raw data reads; scaling fails)",
      GOOD_DATA.length,
    ),

    // Datatypes that cannot be held.
    bytesEntry(
      "datatype-0.nii",
      nii({ datatype: 0, bitpix: 0 }),
      "UNSUPPORTED_DATATYPE",
      "datatype 0",
    ),
    bytesEntry(
      "datatype-binary.nii",
      nii({ datatype: 1, bitpix: 1 }),
      "UNSUPPORTED_DATATYPE",
      "binary",
    ),
    bytesEntry(
      "datatype-float128.nii",
      nii({ datatype: 1536, bitpix: 128 }),
      "UNSUPPORTED_DATATYPE",
      "float128",
    ),
    bytesEntry(
      "datatype-complex128.nii",
      nii({ datatype: 1792, bitpix: 128 }),
      "UNSUPPORTED_DATATYPE",
      "complex128",
    ),
    bytesEntry(
      "datatype-9999.nii",
      nii({ datatype: 9999, bitpix: 8 }),
      "UNSUPPORTED_DATATYPE",
      "unknown code",
    ),

    // Sizes beyond maxBytes (2 GiB): refused before anything is allocated or inflated.
    bytesEntry(
      "dims-8gib.nii",
      nii({ dim: [3, 2048, 2048, 2048], datatype: 2, bitpix: 8 }),
      "TOO_LARGE",
      "declares 8 GiB",
    ),
    bytesEntry(
      "dims-8gib.nii.gz",
      gz(nii({ dim: [3, 2048, 2048, 2048], datatype: 2, bitpix: 8 })),
      "TOO_LARGE",
      "the same, gzipped",
    ),
    bytesEntry(
      "vox-offset-3e9.nii.gz",
      gz(rawNifti1({ ...GOOD_FIELDS, voxOffset: 3e9, tail: new Uint8Array(4) })),
      "TOO_LARGE",
      "vox_offset beyond maxBytes",
    ),
    bytesEntry(
      "nifti2-dims-huge.nii",
      nii2({ dim: [3, 1e6, 1e6, 1e6], datatype: 2, bitpix: 8 }),
      ["TOO_LARGE", "BAD_HEADER"],
      "NIfTI-2 dims of 10^18 voxels",
    ),

    // Files that end too soon, or promise more than they can hold.
    bytesEntry("cut-in-header.nii", good.subarray(0, 200), "TRUNCATED", "ends inside the header"),
    bytesEntry("cut-in-data.nii", good.subarray(0, 400), "TRUNCATED", "ends inside the data"),
    bytesEntry("cut-in-data.nii.gz", gz(good.subarray(0, 400)), "TRUNCATED", "the same, gzipped"),
    bytesEntry(
      "gzip-cut-in-stream.nii.gz",
      gz(pseudoRandomNii()).subarray(0, 300),
      "TRUNCATED",
      "gzip cut mid-stream",
    ),
    bytesEntry(
      "gzip-cut-in-gzip-header.nii.gz",
      gz(good).subarray(0, 6),
      "TRUNCATED",
      "gzip cut in its own header",
    ),
    bytesEntry(
      "vox-offset-past-end.nii",
      nii({ voxOffset: 100000 }, new Uint8Array(0)).subarray(0, 2000),
      "TRUNCATED",
      "vox_offset past the end",
    ),
    bytesEntry(
      "extension-past-end.nii",
      nii(
        { voxOffset: 2000, tail: rawExtensions([{ esize: 1008, code: 6 }]) },
        new Uint8Array(0),
      ).subarray(0, 600),
      "TRUNCATED",
      "the file ends inside an extension",
    ),
    bytesEntry(
      "claims-1gb.nii.gz",
      gz(nii({ dim: [3, 1000, 1000, 1000], datatype: 2, bitpix: 8 }, new Uint8Array(4096))),
      "TRUNCATED",
      "a 1 KB gzip declaring 1 GB of data: more than it can inflate to",
    ),

    // Damaged compressed data.
    bytesEntry(
      "gzip-bad-crc.nii.gz",
      withCrcFlipped(gz(good)),
      ["IO", "ok"],
      "a wrong CRC (the data is intact)",
      GOOD_DATA.length,
    ),
    bytesEntry(
      "gzip-corrupt.nii.gz",
      corruptDeflate(gz(pseudoRandomNii())),
      ["IO", "TRUNCATED", "NOT_NIFTI", "BAD_HEADER", "ok"],
      "a flipped byte in the deflate stream",
      4096,
    ),
  ];
  entries.push(...pairEntries(), ...bombEntries(), ...specialEntries());
  return entries;
}

function rawBigEndian(): Uint8Array {
  const header = rawNifti1({ ...GOOD_FIELDS, tail: new Uint8Array(4) }, false);
  const data = GOOD_DATA.slice();
  for (let i = 0; i < data.length; i += 2) [data[i], data[i + 1]] = [data[i + 1]!, data[i]!];
  return concatBytes(header, data);
}

function pseudoRandom(length: number, seed: number): Uint8Array {
  let state = seed;
  return new Uint8Array(length).map(() => {
    state = (state * 1103515245 + 12345) >>> 0;
    return state >>> 24;
  });
}

/** A valid uint8 16³ file with random data (compresses poorly: its deflate stream is long). */
function pseudoRandomNii(): Uint8Array {
  return nii({ dim: [3, 16, 16, 16], datatype: 2, bitpix: 8 }, pseudoRandom(4096, 9));
}

function withInt32(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setInt32(offset, value, true);
  return out;
}

function withCrcFlipped(gzipped: Uint8Array): Uint8Array {
  const out = gzipped.slice();
  out[out.length - 8]! ^= 0xff;
  return out;
}

function corruptDeflate(gzipped: Uint8Array): Uint8Array {
  const out = gzipped.slice();
  out[Math.floor(out.length / 2)]! ^= 0x55;
  return out;
}

/** .hdr/.img pairs, written as two files; the entry's name is the .hdr. */
function pairEntries(): Entry[] {
  const hdr = rawNifti1({ ...GOOD_FIELDS, magic: "ni1", voxOffset: 0, tail: new Uint8Array(4) });
  const pair = (
    name: string,
    header: Uint8Array,
    img: Uint8Array | null,
    expect: HostileFile["expect"],
    note: string,
    dataBytes = 0,
  ): Entry => ({
    name: `${name}.hdr`,
    expect,
    dataBytes,
    note,
    write: (path) => {
      writeFileSync(path, header);
      if (img !== null) writeFileSync(path.replace(/\.hdr$/, ".img"), img);
    },
  });
  return [
    pair("pair", hdr, GOOD_DATA, "ok", "a valid pair", GOOD_DATA.length),
    pair("pair-no-img", hdr, null, "ok", "a lone .hdr (header only)"),
    pair("pair-short-img", hdr, GOOD_DATA.subarray(0, 50), "TRUNCATED", "an .img too short"),
    pair(
      "pair-analyze",
      rawNifti1({ ...GOOD_FIELDS, magic: "", voxOffset: 0, tail: new Uint8Array(4) }),
      GOOD_DATA,
      "ok",
      "an Analyze 7.5 pair",
      GOOD_DATA.length,
    ),
    pair(
      "pair-extension-junk",
      concatBytes(hdr.subarray(0, 348), new Uint8Array([1, 0, 0, 0]), pseudoRandom(40, 3)),
      GOOD_DATA,
      "BAD_HEADER",
      "flagged extensions followed by junk",
    ),
    pair(
      "pair-img-gz-short",
      hdr,
      gz(new Uint8Array(20)),
      "TRUNCATED",
      "a gzipped .img shorter than the data",
    ),
  ];
}

/** The bombs: small files that inflate to gigabytes, or whose header points gigabytes away. */
function bombEntries(): Entry[] {
  const GiB = 2 ** 30;
  const header4x4 = rawNifti1({ ...GOOD_FIELDS, voxOffset: 2e9, tail: new Uint8Array(4) });
  return [
    {
      name: "bomb-vox-offset-2e9.nii.gz",
      // Whether ~2 MB can inflate to 2e9 bytes is a matter of a few per cent of deflate's ratio:
      // read through in flat memory, or refused up front; never held.
      expect: ["ok", "TRUNCATED"],
      dataBytes: GOOD_DATA.length,
      big: true,
      note: "a ~2 MB gzip: 4×4×4 int16 at vox_offset 2e9, the bytes before it all zeros",
      write: (path) =>
        writeFileSync(
          path,
          gzipWithZeros(
            header4x4,
            1907 * ZERO_BLOCK,
            concatBytes(new Uint8Array(2e9 - 352 - 1907 * ZERO_BLOCK), GOOD_DATA),
          ),
        ),
    },
    {
      name: "bomb-zeros-after-data.nii.gz",
      expect: "ok",
      dataBytes: GOOD_DATA.length,
      big: true,
      note: "a valid image followed by 2 GiB of zeros in the same gzip member: read, never inflated",
      write: (path) => writeFileSync(path, gzipWithZeros(nii({}), 2 * GiB, new Uint8Array(0))),
    },
    {
      name: "bomb-hdr.hdr.gz",
      expect: "ok",
      dataBytes: 0,
      big: true,
      note: "a gzipped .hdr inflating to 2 GiB (zeros after the header; no .img: header only)",
      write: (path) =>
        writeFileSync(
          path,
          gzipWithZeros(
            rawNifti1({ ...GOOD_FIELDS, magic: "ni1", voxOffset: 0, tail: new Uint8Array(4) }),
            2 * GiB,
            new Uint8Array(0),
          ),
        ),
    },
    {
      name: "bomb-data-claim.nii.gz",
      expect: "TRUNCATED",
      dataBytes: 0,
      big: true,
      note: "declares 1.9 GiB of data, holds 1 GiB of zeros: refused on the first data byte",
      write: (path) =>
        writeFileSync(
          path,
          gzipWithZeros(
            nii({ dim: [3, 1024, 1024, 1900], datatype: 2, bitpix: 8 }, new Uint8Array(0)),
            ZERO_BLOCK,
            new Uint8Array(0),
          ),
        ),
    },
  ];
}

/** Things that are not regular files, under NIfTI names. */
function specialEntries(): Entry[] {
  const special = (name: string, note: string, make: (path: string) => void): Entry => ({
    name,
    expect: "IO",
    dataBytes: 0,
    note,
    write: make,
  });
  return [
    special("directory.nii", "a directory", (path) => mkdirSync(path)),
    special("fifo.nii", "a FIFO (reading it would wait for a writer forever)", (path) =>
      execFileSync("mkfifo", [path]),
    ),
    special("dev-zero.nii", "a symlink to /dev/zero (endless zeros)", (path) =>
      symlinkSync("/dev/zero", path),
    ),
    special("dangling.nii.gz", "a symlink to nothing", (path) =>
      symlinkSync(join(path, "..", "does-not-exist.nii.gz"), path),
    ),
    special("loop.nii", "a symlink loop", (path) => symlinkSync(path, path)),
  ];
}

/** Writes the corpus into `dir` (which must exist); returns its entries. */
export function writeHostileCorpus(dir: string, opts: { big?: boolean } = {}): HostileFile[] {
  const written: HostileFile[] = [];
  for (const { write, ...entry } of hostileCorpus()) {
    if (entry.big === true && opts.big === false) continue;
    write(join(dir, entry.name));
    written.push(entry);
  }
  return written;
}
