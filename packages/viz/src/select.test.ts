import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { readNifti } from "@brats/nifti";
import { describe, expect, it } from "vitest";
import type { Plane, Volume } from "./orient.js";
import { largestTumourSlice, tumourAreas } from "./select.js";

/** 4×5×6 labels: 1 at (0,0,0); 2 at (1,2,3), (2,2,3), (3,2,3); 4 at (1,3,3), (1,4,5). */
function labels(
  affine?: number[][],
  data: Float32Array | Uint8Array = new Uint8Array(120),
): Volume {
  const put = (i: number, j: number, k: number, v: number): void => {
    data[i + 4 * (j + 5 * k)] = v;
  };
  put(0, 0, 0, 1);
  put(1, 2, 3, 2);
  put(2, 2, 3, 2);
  put(3, 2, 3, 2);
  put(1, 3, 3, 4);
  put(1, 4, 5, 4);
  return affine === undefined ? { data, shape: [4, 5, 6] } : { data, shape: [4, 5, 6], affine };
}

const LPS = [
  [-1, 0, 0, 0],
  [0, -1, 0, 0],
  [0, 0, 1, 0],
  [0, 0, 0, 1],
];
// voxel i → R, j → I, k → P (coronal acquisition): the axial normal is voxel axis 1
const RIP = [
  [1, 0, 0, 0],
  [0, 0, -3, 0],
  [0, -1, 0, 0],
  [0, 0, 0, 1],
];

describe("tumourAreas and largestTumourSlice (hand-counted)", () => {
  const table: Array<[string, Volume, Plane, number[] | undefined, number[], number]> = [
    ["axial, any label", labels(), "axial", undefined, [1, 0, 0, 4, 0, 1], 3],
    ["axial, ET only: tie → lowest", labels(), "axial", [4], [0, 0, 0, 1, 0, 1], 3],
    ["axial, NCR only", labels(), "axial", [1], [1, 0, 0, 0, 0, 0], 0],
    ["coronal", labels(), "coronal", undefined, [1, 0, 3, 1, 1], 2],
    ["coronal, ET only", labels(), "coronal", [4], [0, 0, 0, 1, 1], 3],
    ["sagittal", labels(), "sagittal", undefined, [1, 3, 1, 1], 1],
    ["no such label → middle slice", labels(), "axial", [3], [0, 0, 0, 0, 0, 0], 3],
    ["LPS: same voxel axes", labels(LPS), "sagittal", undefined, [1, 3, 1, 1], 1],
    ["RIP: axial is along voxel axis 1", labels(RIP), "axial", undefined, [1, 0, 3, 1, 1], 2],
    [
      "RIP: coronal is along voxel axis 2",
      labels(RIP),
      "coronal",
      undefined,
      [1, 0, 0, 4, 0, 1],
      3,
    ],
    [
      "float32 labels",
      labels(undefined, new Float32Array(120)),
      "axial",
      [2, 4],
      [0, 0, 0, 4, 0, 1],
      3,
    ],
    ["values outside 0–255 (set lookup)", labels(), "axial", [2, 1000], [0, 0, 0, 3, 0, 0], 3],
  ];
  for (const [name, volume, plane, values, areas, best] of table) {
    it(`${name}: areas [${areas.join(", ")}], largest ${best}`, () => {
      expect(Array.from(tumourAreas(volume, plane, values))).toEqual(areas);
      expect(largestTumourSlice(volume, plane, values)).toBe(best);
    });
  }

  it("NaN is not tumour", () => {
    const v: Volume = { data: Float32Array.from([NaN, 0, 1, 0]), shape: [1, 1, 4] };
    expect(Array.from(tumourAreas(v, "axial"))).toEqual([0, 0, 1, 0]);
  });
});

const BRATS = fileURLToPath(new URL("../../../../shared/data/brats/", import.meta.url));
const haveBrats = existsSync(BRATS);
if (!haveBrats) console.warn(`skipping real-label slice tests: ${BRATS} not found`);

describe.skipIf(!haveBrats)("largestTumourSlice on real BraTS labels (LPS, 240×240×155)", () => {
  // numpy: argmax of (seg > 0).sum over the other two axes, for axes 2, 1, 0 (axial, coronal,
  // sagittal of an LPS volume), via /usr/bin/python3 and nibabel
  const table: Array<[string, [number, number, number]]> = [
    ["BraTS2021_00006", [69, 85, 116]],
    ["Brats17_2013_27_1", [59, 114, 156]],
    ["Brats18_CBICA_ABM_1", [61, 152, 158]],
  ];
  for (const [id, [axial, coronal, sagittal]] of table) {
    it(`${id}: axial ${axial}, coronal ${coronal}, sagittal ${sagittal}`, async () => {
      const seg = await readNifti(`${BRATS}${id}/${id}_seg.nii.gz`);
      const volume: Volume = {
        data: seg.data as ArrayLike<number>,
        shape: seg.shape,
        affine: seg.affine,
      };
      expect([
        largestTumourSlice(volume, "axial"),
        largestTumourSlice(volume, "coronal"),
        largestTumourSlice(volume, "sagittal"),
      ]).toEqual([axial, coronal, sagittal]);
    });
  }
});
