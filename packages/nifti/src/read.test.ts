import { mkdirSync, writeFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { NiftiError } from "./errors.js";
import { createImage } from "./image.js";
import { parseNifti, readNifti, readNiftiHeader } from "./read.js";
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
