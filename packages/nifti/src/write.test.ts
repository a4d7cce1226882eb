import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { NiftiError } from "./errors.js";
import { parseHeader } from "./header.js";
import { createImage } from "./image.js";
import { parseNifti, readNifti } from "./read.js";
import { serializeNifti } from "./serialize.js";
import { concatBytes, rawNifti1, rawNifti2, tempDir } from "./test-utils.js";
import type { NiftiImage } from "./types.js";
import { writeNifti } from "./write.js";

const tmp = tempDir("write");
afterAll(() => tmp.cleanup());

const AFFINE = [
  [1.5, 0, 0, -10],
  [0, 2, 0, 20],
  [0, 0, 2.5, -30],
  [0, 0, 0, 1],
];

function sample(): NiftiImage {
  return createImage({
    data: new Float32Array([0.5, -1, 2, 1e30, -0, Number.NaN, 7, 8]),
    shape: [2, 2, 2],
    affine: AFFINE,
    description: "written",
    extensions: [{ code: 6, data: new TextEncoder().encode("comment\0".padEnd(24, "\0")) }],
  });
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return error instanceof NiftiError ? error.code : `not a NiftiError: ${String(error)}`;
  }
  return "no error";
}

function expectSameImage(a: NiftiImage, b: NiftiImage): void {
  expect(b.shape).toEqual(a.shape);
  expect(b.datatype).toBe(a.datatype);
  expect(b.affine).toEqual(a.affine);
  expect(b.spacing).toEqual(a.spacing);
  expect(Buffer.from(b.data!.buffer, b.data!.byteOffset, b.data!.byteLength)).toEqual(
    Buffer.from(a.data!.buffer, a.data!.byteOffset, a.data!.byteLength),
  );
  expect(b.header.extensions).toEqual(a.header.extensions);
  expect(b.header.descrip).toBe(a.header.descrip);
}

describe("writeNifti", () => {
  it.each([
    ["out.nii", undefined, false],
    ["out.nii.gz", undefined, true],
    ["OUT.NII.GZ", undefined, true],
    ["forced.nii", true, true],
    ["unforced.nii.gz", false, false],
  ])(
    "%s (gzip option %s) → gzipped %s, and reads back bit-identical",
    async (name, gzip, gzipped) => {
      const image = sample();
      await writeNifti(image, tmp.path(name), gzip === undefined ? {} : { gzip });
      const bytes = readFileSync(tmp.path(name));
      expect(bytes[0] === 0x1f && bytes[1] === 0x8b).toBe(gzipped);
      expectSameImage(image, await readNifti(tmp.path(name)));
    },
  );

  it("writes little-endian NIfTI-1 with magic n+1 and vox_offset after the extensions", async () => {
    await writeNifti(sample(), tmp.path("layout.nii"));
    const bytes = readFileSync(tmp.path("layout.nii"));
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    expect(view.getInt32(0, true)).toBe(348);
    expect(bytes.subarray(344, 348).toString("latin1")).toBe("n+1\0");
    expect(bytes[348]).toBe(1);
    expect(view.getFloat32(108, true)).toBe(352 + 32);
    expect(bytes.length).toBe(352 + 32 + 8 * 4);
  });

  it("leaves nothing behind but the target (no temp files)", async () => {
    const dir = tmp.path("clean");
    mkdirSync(dir);
    await writeNifti(sample(), `${dir}/a.nii.gz`);
    await writeNifti(sample(), `${dir}/a.nii.gz`); // overwrite
    expect(readdirSync(dir)).toEqual(["a.nii.gz"]);
  });

  it("rejects an invalid image before touching the disk (BAD_HEADER)", async () => {
    const dir = tmp.path("invalid");
    mkdirSync(dir);
    writeFileSync(`${dir}/keep.nii`, "previous content");
    const bad = { ...sample(), shape: [2, 2, 3] };
    expect(await codeOf(writeNifti(bad, `${dir}/keep.nii`))).toBe("BAD_HEADER");
    expect(readdirSync(dir)).toEqual(["keep.nii"]);
    expect(readFileSync(`${dir}/keep.nii`, "utf8")).toBe("previous content");
  });

  it("says IO and removes its temp file when the final rename fails", async () => {
    const dir = tmp.path("rename-fails");
    mkdirSync(`${dir}/target.nii`, { recursive: true });
    writeFileSync(`${dir}/target.nii/occupant`, "x"); // a non-empty directory cannot be replaced by a file
    const error = await writeNifti(sample(), `${dir}/target.nii`).catch((e: unknown) => e);
    expect((error as NiftiError).code).toBe("IO");
    expect((error as NiftiError).cause).toBeDefined();
    expect(readdirSync(dir)).toEqual(["target.nii"]);
  });

  it("says IO when the folder does not exist", async () => {
    expect(await codeOf(writeNifti(sample(), tmp.path("no/such/dir/x.nii")))).toBe("IO");
  });
});

describe("serializeNifti", () => {
  it("gzips with fflate into a stream node:zlib reads", () => {
    const image = sample();
    const plain = serializeNifti(image);
    const gz = serializeNifti(image, { gzip: true });
    expect(Buffer.from(gunzipSync(gz)).equals(Buffer.from(plain))).toBe(true);
    expectSameImage(image, parseNifti(gz));
  });

  it("keeps a header's own qform and sform when the affine is unchanged (as nibabel does)", () => {
    // sform: 2 mm scaling; qform: a different, 90° rotated transform. Both must survive untouched.
    const file = concatBytes(
      rawNifti1({
        dim: [3, 2, 2, 1],
        datatype: 2,
        pixdim: [1, 3, 3, 3],
        qformCode: 1,
        sformCode: 4,
        quatern: [0, 0, Math.SQRT1_2],
        qoffset: [1, 2, 3],
        srow: [
          [2, 0, 0, 5],
          [0, 2, 0, 6],
          [0, 0, 2, 7],
        ],
        sclSlope: 0.5,
        intentCode: 2,
        xyztUnits: 2,
        calMax: 100,
      }),
      new Uint8Array([0, 0, 0, 0, 1, 2, 3, 4]),
    );
    const image = parseNifti(file);
    const back = parseHeader(serializeNifti(image));
    const before = image.header;
    for (const key of [
      "qformCode",
      "sformCode",
      "quaternB",
      "quaternC",
      "quaternD",
      "qoffsetX",
      "qoffsetY",
      "qoffsetZ",
      "srowX",
      "srowY",
      "srowZ",
      "pixdim",
      "sclSlope",
      "sclInter",
      "intentCode",
      "xyztUnits",
      "calMax",
    ] as const) {
      expect(back[key], key).toEqual(before[key]);
    }
  });

  it("rewrites sform and qform together when the affine changed", () => {
    const image = sample();
    const moved = AFFINE.map((row) => row.slice());
    moved[0]![3] = 99;
    const back = parseNifti(serializeNifti({ ...image, affine: moved }));
    expect(back.affine).toEqual(moved);
    expect([back.header.qoffsetX, back.header.srowX[3]]).toEqual([99, 99]);
    expect([back.header.qformCode, back.header.sformCode]).toEqual([1, 1]);
  });

  it("writes NIfTI-2 and big-endian input as little-endian NIfTI-1", () => {
    const two = concatBytes(
      rawNifti2(
        {
          dim: [2, 2, 2],
          datatype: 4,
          pixdim: [1, 1, 1],
          sformCode: 1,
          srow: [
            [1, 0, 0, 0],
            [0, 1, 0, 0],
            [0, 0, 1, 0],
          ],
          tail: new Uint8Array(4),
        },
        false,
      ),
      new Uint8Array([0, 1, 0, 2, 0xff, 0xfd, 0x7f, 0xff]),
    );
    const image = parseNifti(two);
    expect(Array.from(image.data as Int16Array)).toEqual([1, 2, -3, 32767]);
    const out = serializeNifti(image);
    const back = parseNifti(out);
    expect([back.header.version, back.header.littleEndian, back.header.magic]).toEqual([
      1,
      true,
      "n+1",
    ]);
    expect(Array.from(back.data as Int16Array)).toEqual([1, 2, -3, 32767]);
    expect(back.affine).toEqual(image.affine);
  });

  it("refuses, with BAD_HEADER, a NIfTI-2 image whose dims NIfTI-1 cannot hold", () => {
    const wide = createImage({ data: new Uint8Array(40000), shape: [40000] });
    expect(() => serializeNifti(wide)).toThrow(NiftiError);
    expect(() => serializeNifti(wide)).toThrow(/NIfTI-1 cannot hold/);
  });

  it.each([
    ["data longer than the shape", { shape: [2, 2, 1] }],
    ["a spacing per missing dimension", { spacing: [1, 1] }],
    ["8 dimensions", { shape: [1, 1, 1, 1, 1, 1, 1, 8] }],
    ["a wrong array type", { datatype: "int16" as const }],
    [
      "a non-finite affine",
      {
        affine: [
          [Number.NaN, 0, 0, 0],
          [0, 1, 0, 0],
          [0, 0, 1, 0],
          [0, 0, 0, 1],
        ],
      },
    ],
  ])("refuses %s (BAD_HEADER)", (_name, patch) => {
    let code = "no error";
    try {
      serializeNifti({ ...sample(), ...patch });
    } catch (error) {
      code = (error as NiftiError).code;
    }
    expect(code).toBe("BAD_HEADER");
  });

  it("writes a header-only image as a header-only file", () => {
    const image = { ...sample(), data: null };
    const bytes = serializeNifti(image);
    expect(bytes.length).toBe(352 + 32);
    expect(parseNifti(bytes).data).toBeNull();
  });
});
