// Compares nifti-reader-js with nibabel: (1) on every fixture and, when present, the BraTS volumes,
// against the committed golden facts; (2) on a few small files made here that real files can contain
// (disagreeing sform/qform, a quaternion rounded past unit length, a truncated file, big-endian data
// read the way nifti-reader-js's README shows), against nibabel run live when /usr/bin/python3 has it.
// Prints one JSON line per disagreement and a summary line per part.
// Run: node --import tsx bench/compare-nifti-reader-js.ts   (from packages/nifti)
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PYTHON, runScript } from "@brats/kit/bench";
import * as nifti from "nifti-reader-js";
import { createImage, serializeNifti } from "../src/index.js";
import { decodeWithNiftiReaderJs } from "./nifti-reader-js-decode.js";

interface GoldenEntry {
  shape?: number[];
  datatype?: string;
  affine?: number[][];
  dataMissing?: boolean;
  stats?: { count: number; min: number | null; max: number | null; mean: number | null };
  nibabelError?: string;
}

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const golden = JSON.parse(
  readFileSync(join(packageDir, "src/__golden__/nibabel.json"), "utf8"),
) as {
  files: Record<string, GoldenEntry>;
};
const bratsDir = join(packageDir, "../../../shared/data/brats");

function pathOf(key: string): string {
  return key.startsWith("brats/")
    ? join(bratsDir, key.slice("brats/".length))
    : join(packageDir, "test-fixtures", key);
}

function pairImagePath(hdrPath: string): string {
  return hdrPath.replace(/\.hdr(\.gz)?$/, ".img$1");
}

function statsOf(values: Float32Array): { count: number; min: number; max: number; mean: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let count = 0;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    count++;
  }
  return { count, min, max, mean: sum / count };
}

let compared = 0;
let disagreeing = 0;
for (const [key, want] of Object.entries(golden.files)) {
  const path = pathOf(key);
  if (!existsSync(path)) continue;
  compared++;
  const problems: string[] = [];
  try {
    const isPair = /\.hdr(\.gz)?$/.test(path);
    const img =
      isPair && existsSync(pairImagePath(path)) ? readFileSync(pairImagePath(path)) : undefined;
    const got = decodeWithNiftiReaderJs(
      readFileSync(path),
      isPair ? (img ?? new Uint8Array(0)) : undefined,
    );
    if (want.nibabelError !== undefined) {
      problems.push(`nibabel refuses it (${want.nibabelError}) but nifti-reader-js reads it`);
    } else {
      const shape = got.header.dims.slice(1, got.header.dims[0]! + 1);
      if (JSON.stringify(shape) !== JSON.stringify(want.shape)) {
        problems.push(`shape ${JSON.stringify(shape)} vs ${JSON.stringify(want.shape)}`);
      }
      let maxDiff = 0;
      for (let r = 0; r < 4; r++) {
        for (let c = 0; c < 4; c++) {
          maxDiff = Math.max(maxDiff, Math.abs(got.header.affine[r]![c]! - want.affine![r]![c]!));
        }
      }
      if (maxDiff > 1e-4) problems.push(`affine differs by up to ${maxDiff.toPrecision(4)} mm`);
      const expectedVoxels = want.shape!.reduce((a, b) => a * b, 1);
      if (want.dataMissing) {
        if (got.imageBytes !== 0) problems.push("header-only, yet image bytes were returned");
      } else if (want.stats && got.values) {
        if (got.values.length !== expectedVoxels) {
          problems.push(`${got.values.length} voxels returned, ${expectedVoxels} expected`);
        }
        const s = statsOf(got.values);
        const rel = (a: number, b: number | null) =>
          Math.abs(a - (b ?? NaN)) / Math.max(1, Math.abs(b ?? NaN));
        if (
          rel(s.mean, want.stats.mean) > 1e-5 ||
          rel(s.min, want.stats.min) > 1e-5 ||
          rel(s.max, want.stats.max) > 1e-5
        ) {
          problems.push(
            `stats min/max/mean ${s.min}/${s.max}/${s.mean} vs ${want.stats.min}/${want.stats.max}/${want.stats.mean}`,
          );
        }
      }
    }
  } catch (err) {
    if (want.nibabelError === undefined) problems.push(`throws: ${(err as Error).message}`);
  }
  if (problems.length > 0) {
    disagreeing++;
    console.log(JSON.stringify({ file: key, problems }));
  }
}
console.log(JSON.stringify({ part: "fixtures and BraTS vs golden", compared, disagreeing }));

// ---------------------------------------------------------------------------------------------------
// Part 2: small files made here.

function arrayBufferOf(bytes: Uint8Array): ArrayBuffer {
  return new Uint8Array(bytes).buffer;
}

/** A 2×3×4 int16 NIfTI-1 with sform = qform = diag(2,2,2)+(10,20,30), then `patch` on its header bytes. */
function makeFile(patch: (view: DataView) => void): Uint8Array {
  const affine = [
    [2, 0, 0, 10],
    [0, 2, 0, 20],
    [0, 0, 2, 30],
    [0, 0, 0, 1],
  ];
  const data = new Int16Array(24).map((_, i) => i * 100 - 700);
  const bytes = serializeNifti(createImage({ data, shape: [2, 3, 4], affine }));
  patch(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return bytes;
}

const QFORM_CODE = 252;
const SFORM_CODE = 254;
const QUATERN_B = 256;
const QOFFSET_X = 268;
const unitPlus = Math.fround(0.7071068286895752); // float32 just above sqrt(1/2): b²+c²+d² = 1.0000001

const synthetic: { name: string; bytes: Uint8Array; what: string }[] = [
  {
    name: "forms-disagree.nii",
    what: "sform_code 1 and qform_code 2 encoding different affines",
    bytes: makeFile((v) => {
      v.setInt16(QFORM_CODE, 2, true);
      [-10, -20, -30].forEach((o, i) => v.setFloat32(QOFFSET_X + 4 * i, o, true));
    }),
  },
  {
    name: "quaternion-rounded.nii",
    what: "qform only, quaternion (0, c, d) with c = d = float32 above sqrt(1/2)",
    bytes: makeFile((v) => {
      v.setInt16(SFORM_CODE, 0, true);
      [0, unitPlus, unitPlus].forEach((q, i) => v.setFloat32(QUATERN_B + 4 * i, q, true));
    }),
  },
];
const whole = makeFile(() => undefined);
synthetic.push({
  name: "truncated.nii",
  what: "a .nii cut in the middle of its data",
  bytes: whole.subarray(0, 352 + 24),
});

const NIBABEL = `
import json, sys
import nibabel as nib
out = {}
for path in sys.argv[1:]:
    try:
        img = nib.load(path)
        img.get_fdata()
        out[path] = {"affine": img.affine.tolist()}
    except Exception as e:
        out[path] = {"error": type(e).__name__}
print(json.dumps(out))
`;

const workDir = mkdtempSync(join(tmpdir(), "nrj-compare-"));
try {
  const paths = synthetic.map((s) => join(workDir, s.name));
  synthetic.forEach((s, i) => writeFileSync(paths[i]!, s.bytes));
  const py = runScript("-c", [NIBABEL, ...paths], { command: PYTHON });
  const nib =
    py.status === 0
      ? (JSON.parse(py.stdout) as Record<string, { affine?: number[][]; error?: string }>)
      : null;
  if (nib === null)
    console.warn("part 2: nibabel unavailable, printing nifti-reader-js results only");
  synthetic.forEach((s, i) => {
    let got: { affine?: number[][]; voxels?: number; error?: string };
    try {
      const header = nifti.readHeader(arrayBufferOf(s.bytes));
      const image = nifti.readImage(header, arrayBufferOf(s.bytes));
      got = { affine: header.affine, voxels: image.byteLength / 2 };
    } catch (err) {
      got = { error: (err as Error).message };
    }
    console.log(
      JSON.stringify({ file: s.name, what: s.what, niftiReaderJs: got, nibabel: nib?.[paths[i]!] }),
    );
  });

  // nifti-reader-js's README reads voxels as a typed array over readImage's bytes; for a big-endian
  // file that gives byte-swapped values.
  const anatomical = join(packageDir, "test-fixtures/nibabel/anatomical.nii");
  const buffer = arrayBufferOf(readFileSync(anatomical));
  const naive = new Int16Array(nifti.readImage(nifti.readHeader(buffer), buffer));
  const want = golden.files["nibabel/anatomical.nii"]!;
  console.log(
    JSON.stringify({
      file: "nibabel/anatomical.nii",
      what: "big-endian int16 read as new Int16Array(readImage(...))",
      niftiReaderJs: { min: Math.min(...naive), max: Math.max(...naive) },
      nibabel: { min: want.stats?.min, max: want.stats?.max },
    }),
  );
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
