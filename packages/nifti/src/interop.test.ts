// Files written by writeNifti, read back by the reference tools: nibabel must see the same voxels
// and affine, and nifti_tool (nifti_clib) must find header and image valid.
// Skips, saying why, where /usr/bin/python3 with nibabel or nifti_tool is missing.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { expectAffineClose } from "./__golden__/compare.js";
import { createImage } from "./image.js";
import { readNifti } from "./read.js";
import type { Affine, DatatypeName, NiftiExtension, NiftiImage, VoxelArray } from "./types.js";
import { writeNifti } from "./write.js";

const PYTHON = "/usr/bin/python3";

function probe(command: string, args: string[]): boolean {
  const result = spawnSync(command, args, { encoding: "utf8" });
  return result.error === undefined && result.status === 0;
}

const hasNibabel = probe(PYTHON, ["-c", "import nibabel, numpy"]);
const hasNiftiTool = probe("nifti_tool", ["-ver"]);
if (!hasNibabel)
  console.warn(`interop.test.ts: nibabel checks skipped, ${PYTHON} with nibabel is missing`);
if (!hasNiftiTool)
  console.warn(
    "interop.test.ts: nifti_tool checks skipped, nifti_tool (Debian nifti-bin) is missing",
  );

// Prints what nibabel sees: raw (unscaled) voxels hashed in file order as little-endian bytes,
// the affine, qform and sform with their codes, scaling, and extensions.
const NIBABEL_SCRIPT = `
import hashlib, json, sys
import nibabel as nib, numpy as np
img = nib.load(sys.argv[1])
raw = np.asanyarray(img.dataobj.get_unscaled()).ravel(order="F")
if raw.dtype.fields is None:
    raw = raw.astype(raw.dtype.newbyteorder("<"))
h = img.header
print(json.dumps({
    "shape": list(img.shape),
    "datatype": int(h["datatype"]),
    "sha256": hashlib.sha256(np.ascontiguousarray(raw).tobytes()).hexdigest(),
    "affine": img.affine.tolist(),
    "qform": h.get_qform().tolist(), "qformCode": int(h["qform_code"]),
    "sform": h.get_sform().tolist(), "sformCode": int(h["sform_code"]),
    "slope": float(img.dataobj.slope), "inter": float(img.dataobj.inter),
    "extensions": [[int(e.get_code()), e.get_content().hex()] for e in h.extensions],
}))
`;

interface NibabelView {
  shape: number[];
  datatype: number;
  sha256: string;
  affine: Affine;
  qform: Affine;
  qformCode: number;
  sform: Affine;
  sformCode: number;
  slope: number;
  inter: number;
  extensions: [number, string][];
}

function nibabelView(path: string): NibabelView {
  const result = spawnSync(PYTHON, ["-c", NIBABEL_SCRIPT, path], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`nibabel could not load ${path}: ${result.stderr}`);
  return JSON.parse(result.stdout) as NibabelView;
}

/** nifti_tool always exits 0; its verdict is in the text. */
function niftiToolVerdict(path: string): { ok: boolean; output: string } {
  const result = spawnSync("nifti_tool", ["-check_hdr", "-check_nim", "-infiles", path], {
    encoding: "utf8",
  });
  const output = `${result.stdout}${result.stderr}`;
  const ok =
    result.status === 0 &&
    output.includes(`header IS GOOD for file ${path}`) &&
    output.includes(`nifti_image IS GOOD for file ${path}`) &&
    !/FAILURE|ERROR|bad /i.test(output);
  return { ok, output };
}

function sha256OfVoxels(data: VoxelArray): string {
  // Our arrays are in file order and native (little-endian on every platform Node supports here).
  return createHash("sha256")
    .update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
    .digest("hex");
}

/** Deterministic varied voxel values for each datatype (a small LCG; values span the type's sign). */
function sampleData(datatype: DatatypeName, voxels: number): VoxelArray {
  let state = 12345;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state;
  };
  const fill = <T extends { length: number; [i: number]: number }>(
    array: T,
    f: () => number,
  ): T => {
    for (let i = 0; i < array.length; i++) array[i] = f();
    return array;
  };
  switch (datatype) {
    case "uint8":
      return fill(new Uint8Array(voxels), () => next() & 0xff);
    case "int8":
      return fill(new Int8Array(voxels), () => (next() & 0xff) - 128);
    case "int16":
      return fill(new Int16Array(voxels), () => (next() & 0xffff) - 32768);
    case "uint16":
      return fill(new Uint16Array(voxels), () => next() & 0xffff);
    case "int32":
      return fill(new Int32Array(voxels), () => next() | 0);
    case "uint32":
      return fill(new Uint32Array(voxels), () => next());
    case "int64": {
      const array = new BigInt64Array(voxels);
      for (let i = 0; i < voxels; i++) array[i] = (BigInt(next()) << 31n) - BigInt(next());
      return array;
    }
    case "uint64": {
      const array = new BigUint64Array(voxels);
      for (let i = 0; i < voxels; i++) array[i] = (BigInt(next()) << 32n) | BigInt(next());
      return array;
    }
    case "float32":
      return fill(new Float32Array(voxels), () => (next() - 2 ** 31) / 1024);
    case "float64":
      return fill(new Float64Array(voxels), () => (next() - 2 ** 31) / 3);
    case "complex64":
      return fill(new Float32Array(2 * voxels), () => (next() - 2 ** 31) / 4096);
    case "rgb24":
      return fill(new Uint8Array(3 * voxels), () => next() & 0xff);
    case "rgba32":
      return fill(new Uint8Array(4 * voxels), () => next() & 0xff);
  }
}

function rotationZ(degrees: number): number[][] {
  const t = (degrees * Math.PI) / 180;
  return [
    [Math.cos(t), -Math.sin(t), 0],
    [Math.sin(t), Math.cos(t), 0],
    [0, 0, 1],
  ];
}

function rotationX(degrees: number): number[][] {
  const t = (degrees * Math.PI) / 180;
  return [
    [1, 0, 0],
    [0, Math.cos(t), -Math.sin(t)],
    [0, Math.sin(t), Math.cos(t)],
  ];
}

function matmul3(a: number[][], b: number[][]): number[][] {
  return a.map((row) => [0, 1, 2].map((c) => row.reduce((sum, v, k) => sum + v * b[k]![c]!, 0)));
}

/** rotation · diag(zooms) with a translation: what scanners write (qform can hold it exactly). */
function rigidAffine(rotation: number[][], zooms: number[], offset: number[]): Affine {
  return [
    ...rotation.map((row, r) => [...row.map((v, c) => v * zooms[c]!), offset[r]!]),
    [0, 0, 0, 1],
  ];
}

const LPS = rigidAffine(
  [
    [-1, 0, 0],
    [0, -1, 0],
    [0, 0, 1],
  ],
  [1, 1, 1],
  [0, 239, 0],
);
const OBLIQUE = rigidAffine(
  matmul3(rotationZ(17), rotationX(-8)),
  [0.9375, 0.9375, 3],
  [-120.5, -98.25, 41.75],
);
const OBLIQUE_FLIPPED = rigidAffine(
  matmul3(rotationZ(-25), [
    [-1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ]),
  [2, 2, 2.5],
  [90, -126, -72],
);
const RAS = rigidAffine(rotationZ(0), [1.5, 1.5, 1.5], [-10, -20, -30]);

function comment(text: string): NiftiExtension {
  return { code: 6, data: new TextEncoder().encode(text) };
}

interface Case {
  name: string;
  datatype: DatatypeName;
  shape: number[];
  affine: Affine;
  gzip: boolean;
  extensions?: NiftiExtension[];
  scaling?: { slope: number; inter: number };
}

const CASES: Case[] = [
  { name: "uint8 LPS gzip", datatype: "uint8", shape: [7, 6, 5], affine: LPS, gzip: true },
  {
    name: "int16 oblique with extensions",
    datatype: "int16",
    shape: [9, 8, 7],
    affine: OBLIQUE,
    gzip: false,
    // 24 bytes fill an esize of 32 exactly; 5 bytes need padding up to 16.
    extensions: [comment("twenty-four bytes of txt"), comment("short")],
  },
  {
    name: "int16 scaled",
    datatype: "int16",
    shape: [6, 5, 4],
    affine: LPS,
    gzip: true,
    scaling: { slope: 0.5, inter: -3 },
  },
  {
    name: "uint16 oblique flipped",
    datatype: "uint16",
    shape: [5, 6, 7],
    affine: OBLIQUE_FLIPPED,
    gzip: true,
  },
  { name: "int8", datatype: "int8", shape: [4, 4, 4], affine: RAS, gzip: false },
  { name: "int32 4-D", datatype: "int32", shape: [5, 4, 3, 2], affine: OBLIQUE, gzip: true },
  { name: "uint32", datatype: "uint32", shape: [3, 4, 5], affine: LPS, gzip: false },
  { name: "int64", datatype: "int64", shape: [3, 3, 3], affine: OBLIQUE_FLIPPED, gzip: true },
  { name: "uint64", datatype: "uint64", shape: [2, 3, 4], affine: RAS, gzip: false },
  { name: "float32 oblique", datatype: "float32", shape: [8, 7, 6], affine: OBLIQUE, gzip: true },
  { name: "float64 5-D", datatype: "float64", shape: [3, 4, 2, 2, 2], affine: LPS, gzip: false },
  { name: "complex64", datatype: "complex64", shape: [4, 3, 2], affine: RAS, gzip: true },
  { name: "rgb24", datatype: "rgb24", shape: [4, 5, 3], affine: OBLIQUE, gzip: false },
  { name: "rgba32", datatype: "rgba32", shape: [3, 5, 4], affine: LPS, gzip: true },
];

const workDir = mkdtempSync(join(tmpdir(), "brats-nifti-interop-"));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

async function writeCase(c: Case): Promise<{ path: string; image: NiftiImage }> {
  const voxels = c.shape.reduce((a, b) => a * b, 1);
  let image = createImage({
    data: sampleData(c.datatype, voxels),
    shape: c.shape,
    datatype: c.datatype,
    affine: c.affine,
  });
  if (c.extensions || c.scaling) {
    image = {
      ...image,
      header: {
        ...image.header,
        extensions: c.extensions ?? image.header.extensions,
        sclSlope: c.scaling?.slope ?? image.header.sclSlope,
        sclInter: c.scaling?.inter ?? image.header.sclInter,
      },
    };
  }
  const path = join(workDir, `${c.name.replace(/\W+/g, "_")}.nii${c.gzip ? ".gz" : ""}`);
  await writeNifti(image, path);
  return { path, image };
}

describe.skipIf(!hasNibabel)("writeNifti output read by nibabel", () => {
  it.each(CASES)("$name", async (c) => {
    const { path, image } = await writeCase(c);
    const seen = nibabelView(path);
    const ours = await readNifti(path);

    expect(seen.shape).toEqual(c.shape);
    expect(seen.datatype).toBe(ours.header.datatype);
    expect(seen.sha256).toBe(sha256OfVoxels(image.data!));
    // The affine as given (float32 storage) and exactly as our reader decodes the same file.
    expectAffineClose(seen.affine, c.affine, 1e-4);
    expectAffineClose(seen.affine, ours.affine, 1e-6);
    // sform and qform both set, and encoding the same transform.
    expect(seen.sformCode).not.toBe(0);
    expect(seen.qformCode).not.toBe(0);
    expectAffineClose(seen.qform, seen.sform, 1e-4);
    expect(seen.slope).toBe(c.scaling ? Math.fround(c.scaling.slope) : 1);
    expect(seen.inter).toBe(c.scaling ? Math.fround(c.scaling.inter) : 0);

    const expectedExtensions = (c.extensions ?? []).map(
      (e) => [e.code, Buffer.from(e.data).toString("hex")] as const,
    );
    expect(seen.extensions.map(([code]) => code)).toEqual(expectedExtensions.map(([code]) => code));
    seen.extensions.forEach(([, hex], i) => {
      // On disk an extension is padded with zeros to a multiple of 16 bytes; nibabel may keep the padding.
      const want = expectedExtensions[i]![1];
      expect(hex.startsWith(want)).toBe(true);
      expect(/^(00)*$/.test(hex.slice(want.length))).toBe(true);
    });
  });
});

describe.skipIf(!hasNiftiTool)("writeNifti output checked by nifti_tool", () => {
  it.each(CASES)("$name passes -check_hdr -check_nim", async (c) => {
    const { path } = await writeCase(c);
    const verdict = niftiToolVerdict(path);
    expect(verdict.ok, verdict.output).toBe(true);
  });

  it("rejects a file that is not NIfTI (the check can fail)", () => {
    const path = fileURLToPath(
      new URL("../test-fixtures/nifti-reader-js/not-nifti.nii", import.meta.url),
    );
    expect(niftiToolVerdict(path).ok).toBe(false);
  });
});
