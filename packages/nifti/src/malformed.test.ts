// Hostile and damaged inputs: every one must end in a NiftiError with the right code, through every
// entry point (file path, bytes via node:zlib, bytes via fflate), without hanging or allocating big.
import { writeFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { NiftiError, type NiftiErrorCode } from "./errors.js";
import { createImage } from "./image.js";
import { parseNifti, readNifti, readNiftiHeader } from "./read.js";
import { serializeNifti } from "./serialize.js";
import { concatBytes, gzip, rawExtensions, rawNifti1, rawNifti2, tempDir } from "./test-utils.js";

const tmp = tempDir("malformed");
afterAll(() => tmp.cleanup());

const GOOD = serializeNifti(
  createImage({
    data: new Float32Array(10 * 10 * 10).map((_, i) => Math.sin(i)),
    shape: [10, 10, 10],
  }),
);
const GOOD_GZ = gzip(GOOD);

function randomBytes(length: number, seed: number): Uint8Array {
  let state = seed;
  return new Uint8Array(length).map(() => {
    state = (state * 1103515245 + 12345) >>> 0;
    return state >>> 24;
  });
}

/** The NiftiError code of every entry point, which must agree. */
async function codesOf(bytes: Uint8Array, name: string, maxBytes?: number): Promise<string[]> {
  const path = tmp.path(name);
  writeFileSync(path, bytes);
  const opts = maxBytes === undefined ? {} : { maxBytes };
  const attempts: Array<() => unknown> = [
    () => readNifti(path, opts),
    () => readNifti(bytes, opts),
    () => parseNifti(bytes, opts),
  ];
  const codes: string[] = [];
  for (const attempt of attempts) {
    try {
      await attempt();
      codes.push("no error");
    } catch (error) {
      codes.push(error instanceof NiftiError ? error.code : `not a NiftiError: ${String(error)}`);
    }
  }
  return codes;
}

const header = (fields: Parameters<typeof rawNifti1>[0]): Uint8Array => rawNifti1(fields);

const CASES: Array<[string, NiftiErrorCode, () => Uint8Array]> = [
  ["truncated gzip (half the stream)", "TRUNCATED", () => GOOD_GZ.subarray(0, GOOD_GZ.length >> 1)],
  ["truncated gzip (only its 10-byte header)", "TRUNCATED", () => GOOD_GZ.subarray(0, 10)],
  [
    "truncated gzip (trailer missing)",
    "TRUNCATED",
    () => gzip(GOOD.subarray(0, 500)).subarray(0, -8),
  ],
  ["truncated data", "TRUNCATED", () => GOOD.subarray(0, GOOD.length - 1)],
  ["truncated data, gzipped", "TRUNCATED", () => gzip(GOOD.subarray(0, 1000))],
  ["truncated header", "TRUNCATED", () => GOOD.subarray(0, 300)],
  [
    "truncated extensions",
    "TRUNCATED",
    () =>
      rawNifti1({
        dim: [1, 4],
        datatype: 2,
        voxOffset: 400,
        tail: rawExtensions([{ esize: 48, code: 4 }]),
      }).subarray(0, 380),
  ],
  [
    "vox_offset past the end",
    "TRUNCATED",
    () =>
      concatBytes(header({ dim: [1, 4], datatype: 2, voxOffset: 100_000 }), new Uint8Array(100)),
  ],
  [
    "vox_offset past the end, gzipped",
    "TRUNCATED",
    () =>
      gzip(
        concatBytes(header({ dim: [1, 4], datatype: 2, voxOffset: 100_000 }), new Uint8Array(100)),
      ),
  ],
  ["garbage header", "NOT_NIFTI", () => randomBytes(1024, 1)],
  ["garbage, gzipped", "NOT_NIFTI", () => gzip(randomBytes(4096, 2))],
  ["an empty file", "NOT_NIFTI", () => new Uint8Array(0)],
  ["three bytes", "NOT_NIFTI", () => new Uint8Array([0x5c, 1, 0])],
  ["a gzip stream holding nothing", "NOT_NIFTI", () => gzip(new Uint8Array(0))],
  [
    "sizeof_hdr 348 byte-swapped twice (garbage order)",
    "NOT_NIFTI",
    () => {
      const bytes = GOOD.slice();
      bytes.set([0, 0, 0x5c, 0x01], 0);
      return bytes;
    },
  ],
  [
    "dims whose product overflows",
    "BAD_HEADER",
    () => header({ dim: [7, 32767, 32767, 32767, 32767, 32767, 32767, 32767], datatype: 2 }),
  ],
  [
    "NIfTI-2 dims whose product overflows",
    "BAD_HEADER",
    () => rawNifti2({ dim: [3, 2 ** 20, 2 ** 20, 2 ** 20], datatype: 2 }),
  ],
  ["zero dims", "BAD_HEADER", () => header({ dim: [3, 10, 0, 10], datatype: 2 })],
  ["negative dims", "BAD_HEADER", () => header({ dim: [3, 10, -10, 10], datatype: 2 })],
  [
    "dim[0] out of range",
    "BAD_HEADER",
    () => header({ dim: [9, 1, 1, 1, 1, 1, 1, 1], datatype: 2 }),
  ],
  [
    "an extension size that is not a multiple of 16",
    "BAD_HEADER",
    () =>
      concatBytes(
        header({
          dim: [1, 4],
          datatype: 2,
          voxOffset: 400,
          tail: rawExtensions([{ esize: 40, code: 4 }]),
        }),
        new Uint8Array(60),
      ),
  ],
  [
    "an extension of size 0 (would loop forever)",
    "BAD_HEADER",
    () =>
      concatBytes(
        header({
          dim: [1, 4],
          datatype: 2,
          voxOffset: 400,
          tail: rawExtensions([{ esize: 0, code: 4 }]),
        }),
        new Uint8Array(60),
      ),
  ],
  [
    "an extension running past vox_offset",
    "BAD_HEADER",
    () =>
      concatBytes(
        header({
          dim: [1, 4],
          datatype: 2,
          voxOffset: 400,
          tail: rawExtensions([{ esize: 2 ** 31 - 16, code: 4 }]),
        }),
        new Uint8Array(60),
      ),
  ],
  [
    "an unsupported datatype",
    "UNSUPPORTED_DATATYPE",
    () => header({ dim: [1, 4], datatype: 1792 }),
  ],
  [
    "corrupt deflate data",
    "IO",
    () => {
      const bytes = GOOD_GZ.slice();
      bytes[10] = 0x07; // first deflate block: BFINAL=1, BTYPE=11 (reserved, invalid)
      return bytes;
    },
  ],
];

describe("malformed input gives the right NiftiError code everywhere", () => {
  it.each(CASES)("%s → %s", async (name, code, build) => {
    expect(await codesOf(build(), `${name.replace(/\W+/g, "-")}.nii`)).toEqual([code, code, code]);
  });
});

describe("declared sizes above maxBytes", () => {
  it("refuses a 348-byte header declaring 2^40 bytes instantly, without allocating", async () => {
    const huge = header({ dim: [3, 16384, 16384, 512], datatype: 64, voxOffset: 352 });
    const start = performance.now();
    const error = await readNifti(huge).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NiftiError);
    expect((error as NiftiError).code).toBe("TOO_LARGE");
    // A failed allocation would also be TOO_LARGE, but would carry the RangeError as its cause.
    expect((error as NiftiError).cause).toBeUndefined();
    // Generous: a loaded 2-core CI machine; allocating and zero-filling 1 TiB would take far longer.
    expect(performance.now() - start).toBeLessThan(5000);
    expect(await codesOf(huge, "huge.nii")).toEqual(["TOO_LARGE", "TOO_LARGE", "TOO_LARGE"]);
  });

  it("honours a custom maxBytes, checked against the declared size (not the file size)", async () => {
    // 4000 bytes declared, only 10 present: TOO_LARGE wins over TRUNCATED because it is checked first.
    const bytes = concatBytes(header({ dim: [1, 1000], datatype: 16 }), new Uint8Array(14));
    expect(await codesOf(bytes, "custom.nii", 3999)).toEqual([
      "TOO_LARGE",
      "TOO_LARGE",
      "TOO_LARGE",
    ]);
    expect(await codesOf(GOOD, "good.nii", 4000)).toEqual(["no error", "no error", "no error"]);
    expect(await codesOf(GOOD, "good.nii", 3999)).toEqual(["TOO_LARGE", "TOO_LARGE", "TOO_LARGE"]);
  });

  it("stops inflating a gzip bomb once the header has said TOO_LARGE", async () => {
    // The header declares 2^33 bytes and 64 MiB of zeros follow (a few KB compressed).
    const bomb = gzip(
      concatBytes(
        header({ dim: [3, 2048, 2048, 2048], datatype: 2 }),
        new Uint8Array(64 * 1024 * 1024),
      ),
    );
    expect(await codesOf(bomb, "bomb.nii.gz")).toEqual(["TOO_LARGE", "TOO_LARGE", "TOO_LARGE"]);
  });

  it("caps the extensions of a detached header at maxBytes", async () => {
    const extension = new Uint8Array(5008);
    new DataView(extension.buffer).setInt32(0, 5008, true);
    const hdr = concatBytes(
      header({ dim: [1, 4], datatype: 2, magic: "ni1", voxOffset: 0 }),
      new Uint8Array([1, 0, 0, 0]),
      extension,
    );
    expect(await codesOf(hdr, "fat.hdr", 1000)).toEqual(["TOO_LARGE", "TOO_LARGE", "TOO_LARGE"]);
    expect(await readNiftiHeader(hdr, { maxBytes: 1000 }).catch((e: NiftiError) => e.code)).toBe(
      "TOO_LARGE",
    );
  });
});
