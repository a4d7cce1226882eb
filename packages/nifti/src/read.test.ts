import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { NiftiError } from "./errors.js";
import { createImage } from "./image.js";
import { parseNifti, readNifti, readNiftiHeader, scanNifti } from "./read.js";
import { serializeNifti } from "./serialize.js";
import { encodeImage, type EncodeOptions, encodePair, gzip, tempDir } from "./test-utils.js";
import type { NiftiImage } from "./types.js";

const tmp = tempDir("read");
afterAll(() => tmp.cleanup());

const AFFINE = [
  [0, 0, 1.5, -20],
  [-2, 0, 0, 30],
  [0, 2.5, 0, -40],
  [0, 0, 0, 1],
];

function sample(): NiftiImage {
  const data = new Int16Array(4 * 3 * 2);
  for (let i = 0; i < data.length; i++) data[i] = ((i * 1237) % 65536) - 32768;
  return createImage({
    data,
    shape: [4, 3, 2],
    affine: AFFINE,
    sclSlope: 2,
    sclInter: -3,
    description: "sample",
  });
}

const SAMPLE = sample();

function expectSame(image: NiftiImage): void {
  expect(image.shape).toEqual([4, 3, 2]);
  expect(image.datatype).toBe("int16");
  expect(image.data).toBeInstanceOf(Int16Array);
  expect(Array.from(image.data as Int16Array)).toEqual(Array.from(SAMPLE.data as Int16Array));
  expect(image.affine).toEqual(AFFINE);
  expect(image.spacing).toEqual([2, 2.5, 1.5]);
  expect([image.header.sclSlope, image.header.sclInter, image.header.descrip]).toEqual([
    2,
    -3,
    "sample",
  ]);
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return error instanceof NiftiError ? error.code : `not a NiftiError: ${String(error)}`;
  }
  return "no error";
}

describe("readNifti: single files", () => {
  it.each<[string, string, EncodeOptions, boolean]>([
    ["little-endian .nii", "le.nii", { littleEndian: true }, false],
    ["big-endian .nii", "be.nii", { littleEndian: false }, false],
    ["NIfTI-2 .nii", "two.nii", { version: 2 }, false],
    ["big-endian NIfTI-2 .nii.gz", "two-be.nii.gz", { version: 2, littleEndian: false }, true],
    ["little-endian .nii.gz", "le.nii.gz", { littleEndian: true }, true],
    ["gzip detected by magic, not by name", "gz-named-plain.nii", { littleEndian: false }, true],
    ["plain bytes named .gz", "plain-named.nii.gz", { littleEndian: true }, false],
  ])("%s", async (_name, file, opts, gzipped) => {
    const bytes = encodeImage(SAMPLE, opts);
    writeFileSync(tmp.path(file), gzipped ? gzip(bytes) : bytes);
    const image = await readNifti(tmp.path(file));
    expectSame(image);
    expect(image.header.littleEndian).toBe(opts.littleEndian ?? true);
    expect(image.header.version).toBe(opts.version ?? 1);
    // The same bytes decode identically from memory, with node:zlib and with fflate.
    const fileBytes = gzipped ? gzip(bytes) : bytes;
    expectSame(await readNifti(fileBytes));
    expectSame(parseNifti(fileBytes));
  });

  it("returns aligned arrays that own their buffer", async () => {
    const data = new Float64Array([1.5, -2.5, 3.25]);
    writeFileSync(tmp.path("f64.nii"), serializeNifti(createImage({ data, shape: [3] })));
    const image = await readNifti(tmp.path("f64.nii"));
    expect(image.data).toBeInstanceOf(Float64Array);
    expect(image.data?.byteOffset).toBe(0);
    expect(image.data?.buffer.byteLength).toBe(24);
    expect(Array.from(image.data as Float64Array)).toEqual([1.5, -2.5, 3.25]);
  });

  it("reads extensions that span several gunzip chunks", async () => {
    const big = new Uint8Array(3 * 1024 * 1024 + 8).map((_, i) => (i * 7) & 0xff);
    const image = createImage({
      data: new Uint8Array([1, 2, 3, 4]),
      shape: [2, 2],
      extensions: [{ code: 4, data: big }],
    });
    const bytes = serializeNifti(image, { gzip: true });
    writeFileSync(tmp.path("ext.nii.gz"), bytes);
    for (const back of [
      await readNifti(tmp.path("ext.nii.gz")),
      parseNifti(bytes),
      await readNifti(bytes),
    ]) {
      expect(back.header.extensions).toHaveLength(1);
      // Buffer.equals: vitest's deep equality is far too slow on megabytes.
      expect(Buffer.from(back.header.extensions[0]!.data).equals(big)).toBe(true);
      expect(Array.from(back.data as Uint8Array)).toEqual([1, 2, 3, 4]);
    }
  });

  it("decodes many files concurrently", async () => {
    const paths: string[] = [];
    for (let i = 0; i < 8; i++) {
      const data = new Float32Array(64 * 64 * 8).map((_, j) => j * (i + 1));
      const path = tmp.path(`many-${i}.nii.gz`);
      writeFileSync(
        path,
        serializeNifti(createImage({ data, shape: [64, 64, 8] }), { gzip: true }),
      );
      paths.push(path);
    }
    const images = await Promise.all(paths.map((path) => readNifti(path)));
    images.forEach((image, i) => {
      const data = image.data as Float32Array;
      expect(data.length).toBe(64 * 64 * 8);
      expect([data[0], data[1], data[32767]]).toEqual([0, i + 1, 32767 * (i + 1)]);
    });
  });
});

describe("readNifti: header-only files", () => {
  it("reads a .nii that ends after its header with data: null", async () => {
    const bytes = encodeImage(SAMPLE).subarray(0, 352);
    writeFileSync(tmp.path("header-only.nii"), bytes);
    writeFileSync(tmp.path("header-only-348.nii.gz"), gzip(bytes.subarray(0, 348)));
    for (const source of [tmp.path("header-only.nii"), tmp.path("header-only-348.nii.gz"), bytes]) {
      const image = await readNifti(source);
      expect(image.data).toBeNull();
      expect(image.shape).toEqual([4, 3, 2]);
      expect(image.affine).toEqual(AFFINE);
    }
    expect(parseNifti(bytes).data).toBeNull();
  });

  it("reads a lone .hdr (no .img next to it) with data: null", async () => {
    const { hdr } = encodePair(SAMPLE, { version: 2 });
    writeFileSync(tmp.path("lonely.hdr"), hdr);
    const image = await readNifti(tmp.path("lonely.hdr"));
    expect(image.data).toBeNull();
    expect(image.header.magic).toBe("ni2");
    expect(image.affine).toEqual(AFFINE);
    expect(parseNifti(hdr).data).toBeNull();
  });
});

describe("readNifti: .hdr/.img pairs", () => {
  const variants: Array<[string, boolean, boolean, boolean]> = [
    // name, header gzipped, image gzipped, big-endian
    ["plain", false, false, false],
    ["both-gz", true, true, true],
    ["hdr-gz", true, false, false],
    ["img-gz", false, true, true],
  ];

  it.each(variants)(
    "finds the partner from either file (%s)",
    async (name, hdrGz, imgGz, bigEndian) => {
      const { hdr, img } = encodePair(SAMPLE, { littleEndian: !bigEndian });
      const hdrPath = tmp.path(`${name}.hdr${hdrGz ? ".gz" : ""}`);
      const imgPath = tmp.path(`${name}.img${imgGz ? ".gz" : ""}`);
      writeFileSync(hdrPath, hdrGz ? gzip(hdr) : hdr);
      writeFileSync(imgPath, imgGz ? gzip(img) : img);
      for (const path of [hdrPath, imgPath]) {
        const image = await readNifti(path);
        expectSame(image);
        expect(image.header.magic).toBe("ni1");
        expect((await readNiftiHeader(path)).dim).toEqual([3, 4, 3, 2, 1, 1, 1, 1]);
      }
      expectSame(parseNifti(hdrGz ? gzip(hdr) : hdr, { imgBytes: imgGz ? gzip(img) : img }));
    },
  );

  it("keeps the case of the extension (X.HDR + X.IMG)", async () => {
    const { hdr, img } = encodePair(SAMPLE);
    writeFileSync(tmp.path("UPPER.HDR"), hdr);
    writeFileSync(tmp.path("UPPER.IMG"), img);
    expectSame(await readNifti(tmp.path("UPPER.HDR")));
  });

  it("reads the .img from vox_offset", async () => {
    const { hdr, img } = encodePair(SAMPLE);
    new DataView(hdr.buffer).setFloat32(108, 16, true);
    writeFileSync(tmp.path("offset.hdr"), hdr);
    const shifted = new Uint8Array(16 + img.length);
    shifted.fill(0xee, 0, 16);
    shifted.set(img, 16);
    writeFileSync(tmp.path("offset.img"), shifted);
    expectSame(await readNifti(tmp.path("offset.hdr")));
    writeFileSync(tmp.path("offset.img"), img); // now 16 bytes short
    expect(await codeOf(readNifti(tmp.path("offset.hdr")))).toBe("TRUNCATED");
  });

  it("says TRUNCATED for a short .img and IO when the .hdr of a given .img is missing", async () => {
    const { hdr, img } = encodePair(SAMPLE);
    writeFileSync(tmp.path("short.hdr"), hdr);
    writeFileSync(tmp.path("short.img.gz"), gzip(img.subarray(0, img.length - 1)));
    expect(await codeOf(readNifti(tmp.path("short.hdr")))).toBe("TRUNCATED");
    writeFileSync(tmp.path("orphan.img"), img);
    expect(await codeOf(readNifti(tmp.path("orphan.img")))).toBe("IO");
  });
});

describe("readNiftiHeader", () => {
  it("reads the header without touching the data", async () => {
    const bytes = encodeImage(SAMPLE);
    // Data cut short: readNifti refuses it, the header alone is fine.
    const cut = gzip(bytes.subarray(0, bytes.length - 10));
    writeFileSync(tmp.path("cut.nii.gz"), cut);
    writeFileSync(tmp.path("cut.nii"), bytes.subarray(0, bytes.length - 10));
    for (const source of [tmp.path("cut.nii.gz"), tmp.path("cut.nii"), cut]) {
      const header = await readNiftiHeader(source);
      expect(header.dim).toEqual([3, 4, 3, 2, 1, 1, 1, 1]);
      expect(header.descrip).toBe("sample");
      expect(await codeOf(readNifti(source))).toBe("TRUNCATED");
    }
  });
});

describe("readNifti: file-system failures are IO", () => {
  it.each([
    ["a missing file", "missing.nii.gz"],
    ["a missing .hdr", "missing.hdr"],
    ["a directory", "a-directory.nii"],
  ])("%s", async (_name, file) => {
    mkdirSync(tmp.path("a-directory.nii"), { recursive: true });
    const error = await readNifti(tmp.path(file)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NiftiError);
    expect((error as NiftiError).code).toBe("IO");
    expect((error as NiftiError).cause).toBeDefined();
    expect(await codeOf(readNiftiHeader(tmp.path(file)))).toBe("IO");
  });
});

describe("scanNifti: the data in blocks, never whole", () => {
  /** Every block's voxels joined, and the blocks' lengths. */
  async function scanAll(
    path: string,
  ): Promise<{ values: number[]; blocks: number; hasData: boolean }> {
    const values: number[] = [];
    let blocks = 0;
    const { hasData } = await scanNifti(path, (block) => {
      blocks++;
      for (const v of block as Int16Array) values.push(v);
    });
    return { values, blocks, hasData };
  }

  it.each<[string, (bytes: Uint8Array) => Uint8Array, EncodeOptions]>([
    ["scan.nii", (b) => b, {}],
    ["scan-be.nii", (b) => b, { littleEndian: false }],
    ["scan.nii.gz", gzip, {}],
    ["scan2.nii.gz", gzip, { version: 2, littleEndian: false }],
  ])("%s: the voxels readNifti gives, in native byte order", async (name, wrap, opts) => {
    writeFileSync(tmp.path(name), wrap(encodeImage(SAMPLE, opts)));
    const scanned = await scanAll(tmp.path(name));
    expect(scanned.hasData).toBe(true);
    expect(scanned.values).toEqual(Array.from(SAMPLE.data as Int16Array));
  });

  it("reads the .img of a pair, and says hasData false for a header-only file", async () => {
    const { hdr, img } = encodePair(SAMPLE, { littleEndian: false });
    writeFileSync(tmp.path("scan-pair.hdr"), hdr);
    writeFileSync(tmp.path("scan-pair.img.gz"), gzip(img));
    expect((await scanAll(tmp.path("scan-pair.hdr"))).values).toEqual(
      Array.from(SAMPLE.data as Int16Array),
    );
    writeFileSync(tmp.path("scan-header-only.nii"), encodeImage(SAMPLE).subarray(0, 352));
    expect(await scanAll(tmp.path("scan-header-only.nii"))).toEqual({
      values: [],
      blocks: 0,
      hasData: false,
    });
  });

  it("splits a large volume into 1 MiB blocks of whole voxels", async () => {
    const data = new Float64Array(300_000).map((_, i) => i - 0.5); // 2.4 MB: three blocks
    const image = createImage({ data, shape: [100, 100, 30] });
    writeFileSync(tmp.path("scan-big.nii.gz"), gzip(serializeNifti(image)));
    let count = 0;
    const sizes: number[] = [];
    await scanNifti(tmp.path("scan-big.nii.gz"), (block) => {
      sizes.push(block.length);
      for (const v of block as Float64Array) expect(v).toBe(count++ - 0.5);
    });
    expect(count).toBe(300_000);
    expect(sizes).toEqual([131_072, 131_072, 37_856]);
  });
});

describe("readNifti: what nibabel does with odd files", () => {
  it("ignores junk after the gzip member that holds the image", async () => {
    const bytes = encodeImage(SAMPLE);
    for (const [name, junk] of [
      ["junk-text.nii.gz", new TextEncoder().encode("not gzip at all")],
      ["junk-magic.nii.gz", new Uint8Array([0x1f, 0x8b, 8])],
      ["junk-zeros.nii.gz", new Uint8Array(10)],
    ] as const) {
      const withJunk = new Uint8Array([...gzip(bytes), ...junk]);
      writeFileSync(tmp.path(name), withJunk);
      expectSame(await readNifti(tmp.path(name)));
      expectSame(await readNifti(withJunk));
      expectSame(parseNifti(withJunk));
    }
  });

  it.each([
    ["XYZ", "magic-xyz.nii"],
    ["", "magic-empty.nii"],
  ])("refuses magic %j in a single file (NOT_NIFTI), as nibabel does", async (magic, name) => {
    const bytes = encodeImage(SAMPLE);
    bytes.fill(0, 344, 348);
    for (let i = 0; i < magic.length; i++) bytes[344 + i] = magic.charCodeAt(i);
    writeFileSync(tmp.path(name), bytes);
    writeFileSync(tmp.path(`${name}.gz`), gzip(bytes));
    for (const source of [tmp.path(name), tmp.path(`${name}.gz`), bytes, gzip(bytes)]) {
      expect(await codeOf(readNifti(source))).toBe("NOT_NIFTI");
      expect(await codeOf(readNiftiHeader(source))).toBe("NOT_NIFTI");
    }
  });

  it("reads zero zooms as 1 and negative ones as their size (nibabel's load-time fix)", async () => {
    const bytes = encodeImage(SAMPLE);
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    [0, -3, 0].forEach((v, i) => view.setFloat32(80 + 4 * i, v, true));
    expect((await readNifti(bytes)).spacing).toEqual([1, 3, 1]);
  });

  it("reads only regular files: a FIFO and /dev/zero are IO errors at once", async () => {
    const fifo = tmp.path("fifo.nii");
    execFileSync("mkfifo", [fifo]);
    symlinkSync("/dev/zero", tmp.path("zero.nii"));
    for (const path of [fifo, tmp.path("zero.nii")]) {
      const error = await readNifti(path).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NiftiError);
      expect((error as NiftiError).code).toBe("IO");
      expect((error as NiftiError).message).toMatch(/not a regular file/);
      expect(await codeOf(readNiftiHeader(path))).toBe("IO");
      expect(await codeOf(scanNifti(path, () => undefined))).toBe("IO");
    }
  });
});

describe("readNifti: never holds what is not image data", () => {
  it("skips the bytes up to a distant vox_offset without keeping them", async () => {
    // 8 MiB of padding before 48 bytes of data: the header and data are all that is held.
    const image = encodeImage(SAMPLE);
    const header = image.slice(0, 352);
    new DataView(header.buffer).setFloat32(108, 8 * 2 ** 20, true);
    const far = new Uint8Array(8 * 2 ** 20 + 48);
    far.set(header);
    far.set(image.subarray(352), 8 * 2 ** 20);
    writeFileSync(tmp.path("far.nii"), far);
    writeFileSync(tmp.path("far.nii.gz"), gzip(far));
    for (const path of [tmp.path("far.nii"), tmp.path("far.nii.gz")]) {
      expect(Array.from((await readNifti(path)).data as Int16Array)).toEqual(
        Array.from(SAMPLE.data as Int16Array),
      );
    }
  });

  it("refuses a gzip whose header promises more than it can inflate to (TRUNCATED, before inflating)", async () => {
    const image = encodeImage(SAMPLE);
    const header = image.slice(0, 352);
    new DataView(header.buffer).setFloat32(108, 2e9, true); // vox_offset 2e9 in a tiny file
    const tiny = gzip(new Uint8Array([...header, ...image.subarray(352)]));
    expect(await codeOf(readNifti(tiny))).toBe("TRUNCATED");
    writeFileSync(tmp.path("promise.nii.gz"), tiny);
    const error = (await readNifti(tmp.path("promise.nii.gz")).catch(
      (e: unknown) => e,
    )) as NiftiError;
    expect(error.code).toBe("TRUNCATED");
    expect(error.message).toMatch(/can hold at most/);
  });
});
