// Property tests: serialise → parse round trips over random shapes (1–7 dims), all 13 datatypes, both
// byte orders, NIfTI-1 and NIfTI-2, single files and pairs, gzip or not, random affines and header fields.
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { DATATYPES, datatypeInfo } from "./datatypes.js";
import { createImage } from "./image.js";
import { parseNifti, readNifti } from "./read.js";
import { headerForWrite, serializeNifti } from "./serialize.js";
import { encodeImage, encodePair, gzip, tempDir } from "./test-utils.js";
import type { Affine, DatatypeName, NiftiHeader, NiftiImage } from "./types.js";
import { writeNifti } from "./write.js";

const tmp = tempDir("property");
afterAll(() => tmp.cleanup());

const shapeArb = fc
  .array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 7 })
  .filter((shape) => shape.reduce((a, b) => a * b, 1) <= 256);

const datatypeArb = fc.constantFrom(...DATATYPES.map((d) => d.name));

const f32 = fc.float({ noDefaultInfinity: true, noNaN: true, min: -1e6, max: 1e6 });

/** Random float32-exact affines, shears included, with a non-degenerate 3×3 part. */
const affineArb: fc.Arbitrary<Affine> = fc
  .tuple(fc.array(f32, { minLength: 12, maxLength: 12 }))
  .map(([v]) => [
    [v[0]!, v[1]!, v[2]!, v[3]!],
    [v[4]!, v[5]!, v[6]!, v[7]!],
    [v[8]!, v[9]!, v[10]!, v[11]!],
    [0, 0, 0, 1],
  ])
  .filter((a) => Math.abs(det3(a)) > 1e-6);

function det3(a: Affine): number {
  const m = (r: number, c: number): number => a[r]![c]!;
  return (
    m(0, 0) * (m(1, 1) * m(2, 2) - m(1, 2) * m(2, 1)) -
    m(0, 1) * (m(1, 0) * m(2, 2) - m(1, 2) * m(2, 0)) +
    m(0, 2) * (m(1, 0) * m(2, 1) - m(1, 1) * m(2, 0))
  );
}

interface Case {
  shape: number[];
  datatype: DatatypeName;
  seed: Uint8Array;
  affine: Affine | null;
  descrip: string;
  sclSlope: number;
  sclInter: number;
  intentCode: number;
  xyztUnits: number;
  extensions: Array<{ code: number; data: Uint8Array }>;
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  shape: shapeArb,
  datatype: datatypeArb,
  seed: fc.uint8Array({ minLength: 1, maxLength: 64 }),
  affine: fc.option(affineArb, { nil: null }),
  descrip: fc.string({ maxLength: 79 }).map((s) => s.replace(/\0/g, "")),
  sclSlope: f32,
  sclInter: f32,
  intentCode: fc.integer({ min: -32768, max: 32767 }),
  xyztUnits: fc.integer({ min: 0, max: 255 }),
  // Lengths ≡ 8 (mod 16) fill their padded blocks exactly, so they read back with the same length.
  extensions: fc.array(
    fc.record({
      code: fc.integer({ min: 0, max: 100 }),
      data: fc
        .integer({ min: 0, max: 4 })
        .chain((n) => fc.uint8Array({ minLength: 16 * n + 8, maxLength: 16 * n + 8 })),
    }),
    { maxLength: 2 },
  ),
});

/** Voxel bytes of the right length for the datatype, any bit pattern (NaNs and all), from a seed. */
function voxels(c: Case): NiftiImage["data"] {
  const info = datatypeInfo(c.datatype);
  const count = c.shape.reduce((a, b) => a * b, 1) * info.elementsPerVoxel;
  const bytes = new Uint8Array(count * info.arrayType.BYTES_PER_ELEMENT);
  for (let i = 0; i < bytes.length; i++)
    bytes[i] = (c.seed[i % c.seed.length]! * 31 + i * 17) & 0xff;
  return new info.arrayType(bytes.buffer, 0, count);
}

function imageOf(c: Case): NiftiImage {
  const image = createImage({
    data: voxels(c)!,
    shape: c.shape,
    datatype: c.datatype,
    ...(c.affine ? { affine: c.affine } : {}),
    description: c.descrip,
    sclSlope: c.sclSlope,
    sclInter: c.sclInter,
    xyztUnits: c.xyztUnits,
    extensions: c.extensions,
  });
  return { ...image, header: { ...image.header, intentCode: c.intentCode } };
}

function bytesOf(image: NiftiImage): Buffer {
  const data = image.data!;
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

const FLOAT_FIELDS = [
  "intentP1",
  "intentP2",
  "intentP3",
  "sclSlope",
  "sclInter",
  "calMax",
  "calMin",
  "sliceDuration",
  "toffset",
  "quaternB",
  "quaternC",
  "quaternD",
  "qoffsetX",
  "qoffsetY",
  "qoffsetZ",
] as const;

/** What a header means, without the fields the layout derives; floats rounded as NIfTI-1 stores them. */
function meaning(header: NiftiHeader, version: 1 | 2): Record<string, unknown> {
  const round = (x: number): number => (version === 1 ? Math.fround(x) : x);
  const { version: _v, littleEndian: _le, magic: _m, voxOffset: _o, bitpix: _b, ...rest } = header;
  const out: Record<string, unknown> = { ...rest };
  for (const key of FLOAT_FIELDS) out[key] = round(header[key]);
  out.pixdim = header.pixdim.map(round);
  out.srowX = header.srowX.map(round);
  out.srowY = header.srowY.map(round);
  out.srowZ = header.srowZ.map(round);
  return out;
}

function expectRoundTrip(image: NiftiImage, back: NiftiImage, version: 1 | 2): void {
  expect(back.shape).toEqual(image.shape);
  expect(back.datatype).toBe(image.datatype);
  expect(bytesOf(back).equals(bytesOf(image))).toBe(true);
  expect(meaning(back.header, version)).toEqual(meaning(headerForWrite(image), version));
  if (image.header.sformCode !== 0) {
    // The sform is the best affine: its entries come back exactly as the format stores them.
    const round = (x: number): number => (version === 1 ? Math.fround(x) : x);
    expect(back.affine).toEqual(image.affine.map((row) => row.map(round)));
  }
}

describe("round trips (fast-check)", () => {
  it("single files: any datatype, byte order and version, gzipped or not", () => {
    fc.assert(
      fc.property(
        caseArb,
        fc.boolean(),
        fc.constantFrom<1 | 2>(1, 2),
        fc.boolean(),
        (c, littleEndian, version, gz) => {
          const image = imageOf(c);
          const bytes = encodeImage(image, { littleEndian, version });
          const back = parseNifti(gz ? gzip(bytes) : bytes);
          expect(back.header.littleEndian).toBe(littleEndian);
          expect(back.header.version).toBe(version);
          expectRoundTrip(image, back, version);
        },
      ),
      { numRuns: 300 },
    );
  });

  it(".hdr/.img pairs in memory", () => {
    fc.assert(
      fc.property(
        caseArb,
        fc.boolean(),
        fc.constantFrom<1 | 2>(1, 2),
        (c, littleEndian, version) => {
          const image = imageOf(c);
          const { hdr, img } = encodePair(image, { littleEndian, version });
          expectRoundTrip(image, parseNifti(hdr, { imgBytes: img }), version);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("serializeNifti → parseNifti, then serialising again gives the same bytes", () => {
    fc.assert(
      fc.property(caseArb, fc.boolean(), (c, gz) => {
        const image = imageOf(c);
        const first = serializeNifti(image);
        const back = parseNifti(serializeNifti(image, { gzip: gz }));
        expectRoundTrip(image, back, 1);
        expect(Buffer.from(serializeNifti(back)).equals(Buffer.from(first))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it("writeNifti → readNifti on disk", async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(caseArb, fc.boolean(), async (c, gz) => {
        const image = imageOf(c);
        const path = tmp.path(`case-${n++}.nii${gz ? ".gz" : ""}`);
        await writeNifti(image, path);
        expectRoundTrip(image, await readNifti(path), 1);
      }),
      { numRuns: 40 },
    );
  });
});
