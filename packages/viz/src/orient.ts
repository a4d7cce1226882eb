// Slice planes from the affine: which voxel axis runs along each screen direction, which way,
// and the anatomical letters of the screen edges. Browser-safe.
//
// World space is RAS+ (x → patient's right, y → anterior, z → superior), as in NIfTI/nibabel.
// Screen conventions (radiological, the default, and neurological):
//   axial     seen from the feet, anterior up:      left edge R, right edge L (neurological: L, R)
//   coronal   seen from the front, superior up:     left edge R, right edge L (neurological: L, R)
//   sagittal  seen from the patient's left, superior up, anterior on the left (both conventions)
import { ioOrientation, orntToAxcodes } from "@brats/nifti/orientation";

/** A volume as @brats/nifti returns it: data x fastest (Fortran order), affine voxel → world RAS+ mm. */
export interface Volume {
  data: ArrayLike<number>;
  /** At least 3 sizes (a 4th and later are ignored: the first 3D volume is shown), x fastest. */
  shape: readonly number[];
  /** mm per voxel along each axis; default the affine's column lengths, or 1. */
  spacing?: readonly number[];
  /** 4×4 (or 3×4) row-major voxel → world RAS+ matrix; default the identity (RAS). */
  affine?: number[][];
}

export type Plane = "axial" | "coronal" | "sagittal";
/** "radiological" (default): the patient's left on the screen's right. "neurological": mirrored. */
export type Convention = "radiological" | "neurological";

export const PLANES: readonly Plane[] = ["axial", "coronal", "sagittal"];

/** Anatomical direction of each screen edge, one of "L", "R", "A", "P", "S", "I". */
export interface SliceMarkers {
  left: string;
  right: string;
  top: string;
  bottom: string;
}

export interface SliceGeometry {
  plane: Plane;
  convention: Convention;
  /** Voxel index along the plane's normal voxel axis (`voxelAxes[2]`). */
  index: number;
  width: number;
  height: number;
  /** mm of one pixel along screen x and screen y. */
  pixelSpacing: [number, number];
  markers: SliceMarkers;
  /** Voxel axes running along screen x, screen y (downwards) and the plane normal. */
  voxelAxes: [number, number, number];
  /** Flat voxel index (x fastest, first 3D volume) of screen pixel (x, y), (0, 0) top-left. */
  voxelOf(x: number, y: number): number;
}

/** One voxel axis per world axis (R, A, S): the axis and +1 if its index grows towards R / A / S. */
export interface WorldAxis {
  voxelAxis: number;
  sign: 1 | -1;
}

/** Negative and positive end letters of world axes x, y, z. */
const AXIS_LETTERS: ReadonlyArray<readonly [string, string]> = [
  ["L", "R"],
  ["P", "A"],
  ["I", "S"],
];

/** World direction of a screen axis: the world axis and +1 when moving along the screen axis goes towards R / A / S. */
interface ScreenDirection {
  world: number;
  sign: 1 | -1;
}

/** Screen x (rightwards) and screen y (downwards) world directions of each plane. */
function screenDirections(
  plane: Plane,
  convention: Convention,
): [ScreenDirection, ScreenDirection] {
  const towardsLeft: 1 | -1 = convention === "neurological" ? 1 : -1;
  switch (plane) {
    case "axial":
      return [
        { world: 0, sign: towardsLeft },
        { world: 1, sign: -1 }, // anterior at the top
      ];
    case "coronal":
      return [
        { world: 0, sign: towardsLeft },
        { world: 2, sign: -1 }, // superior at the top
      ];
    case "sagittal":
      return [
        { world: 1, sign: -1 }, // anterior on the left
        { world: 2, sign: -1 },
      ];
  }
}

/** World axis normal to each plane. */
const NORMAL_WORLD_AXIS: Readonly<Record<Plane, number>> = { sagittal: 0, coronal: 1, axial: 2 };

function checkPlane(plane: Plane): void {
  if (!PLANES.includes(plane)) {
    throw new RangeError(`plane must be "axial", "coronal" or "sagittal", got "${String(plane)}"`);
  }
}

function checkConvention(convention: Convention): void {
  if (convention !== "radiological" && convention !== "neurological") {
    throw new RangeError(
      `convention must be "radiological" or "neurological", got "${String(convention)}"`,
    );
  }
}

/** An array or typed array (anything with a numeric length), checked at run time. */
function isList(x: unknown): x is ArrayLike<unknown> {
  return (
    typeof x === "object" && x !== null && typeof (x as { length?: unknown }).length === "number"
  );
}

/** The 3×3 linear part of an affine, validated (at least 3 rows of at least 3 finite numbers). */
function linearPart(affine: readonly (readonly number[])[]): number[][] {
  if (!isList(affine) || affine.length < 3) {
    throw new RangeError("affine must be a 4×4 (or 3×4) row-major matrix");
  }
  const m: number[][] = [];
  for (let i = 0; i < 3; i++) {
    const row: unknown = affine[i];
    if (!isList(row) || row.length < 3) {
      throw new RangeError("affine must be a 4×4 (or 3×4) row-major matrix");
    }
    const r: number[] = [];
    for (let j = 0; j < 3; j++) {
      const v: unknown = row[j];
      if (typeof v !== "number" || !Number.isFinite(v)) {
        throw new RangeError(`affine[${i}][${j}] is not a finite number`);
      }
      r.push(v);
    }
    m.push(r);
  }
  return m;
}

/**
 * nibabel's `io_orientation` (@brats/nifti's `ioOrientation`) on the 3×3 part of `affine`: for
 * each voxel axis, [world axis, ±1], or [NaN, NaN] when it maps to no world axis. No affine: RAS.
 */
export function voxelOrientation(affine?: readonly (readonly number[])[]): Array<[number, number]> {
  if (affine === undefined) {
    return [
      [0, 1],
      [1, 1],
      [2, 1],
    ];
  }
  // Validated here for viz's messages and its 3×4 affines; the translation plays no part.
  const m = linearPart(affine);
  return ioOrientation([
    [m[0]![0]!, m[0]![1]!, m[0]![2]!, 0],
    [m[1]![0]!, m[1]![1]!, m[1]![2]!, 0],
    [m[2]![0]!, m[2]![1]!, m[2]![2]!, 0],
    [0, 0, 0, 1],
  ]);
}

/** Axis codes such as "RAS" or "LPS" (nibabel `aff2axcodes`), "?" for an axis mapping nowhere. */
export function axisCodes(affine?: readonly (readonly number[])[]): string {
  return orntToAxcodes(voxelOrientation(affine));
}

/**
 * For world axes R, A, S in turn, the voxel axis closest to it and its sign. Voxel axes of a
 * degenerate affine that map to no world axis are given the remaining world axes in order (+1),
 * so every plane still has a slice.
 */
export function worldAxes(
  affine?: readonly (readonly number[])[],
): [WorldAxis, WorldAxis, WorldAxis] {
  const ornt = voxelOrientation(affine);
  const byWorld: Array<WorldAxis | undefined> = [undefined, undefined, undefined];
  ornt.forEach(([world, sign], voxelAxis) => {
    if (!Number.isNaN(world)) byWorld[world] = { voxelAxis, sign: sign < 0 ? -1 : 1 };
  });
  const unassigned = [0, 1, 2].filter((voxelAxis) => Number.isNaN(ornt[voxelAxis]![0]));
  for (let w = 0; w < 3; w++) {
    if (byWorld[w] === undefined) byWorld[w] = { voxelAxis: unassigned.shift()!, sign: 1 };
  }
  return byWorld as [WorldAxis, WorldAxis, WorldAxis];
}

/** The first three sizes of a volume (missing ones are 1), validated against its data length. */
export function volumeDims(volume: Volume): [number, number, number] {
  const { shape, data } = volume;
  if (!isList(shape)) {
    throw new TypeError("volume.shape must be an array of sizes");
  }
  if (shape.length < 1) throw new RangeError("volume.shape is empty");
  for (const n of shape) {
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(
        `volume.shape must hold positive integers, got [${Array.from(shape, String).join(", ")}]`,
      );
    }
  }
  const dims: [number, number, number] = [shape[0] ?? 1, shape[1] ?? 1, shape[2] ?? 1];
  const needed = dims[0] * dims[1] * dims[2];
  if (!isList(data)) {
    throw new TypeError("volume.data must be an array of numbers");
  }
  if (data.length < needed) {
    throw new RangeError(
      `volume.data has ${data.length} values, fewer than the ${dims.join("×")} of its shape`,
    );
  }
  return dims;
}

/** mm per voxel along the three voxel axes: `volume.spacing`, else affine column lengths, else 1. */
export function voxelSpacing(volume: Volume): [number, number, number] {
  const out: [number, number, number] = [1, 1, 1];
  const fromAffine = volume.affine !== undefined ? linearPart(volume.affine) : undefined;
  for (let j = 0; j < 3; j++) {
    const given = volume.spacing?.[j];
    if (given !== undefined && Number.isFinite(given) && given > 0) {
      out[j] = given;
    } else if (fromAffine !== undefined) {
      const norm = Math.hypot(fromAffine[0]![j]!, fromAffine[1]![j]!, fromAffine[2]![j]!);
      if (norm > 0) out[j] = norm;
    }
  }
  return out;
}

/** The voxel axis normal to `plane` (the axis its slices are indexed along). */
export function planeAxis(volume: Volume, plane: Plane): number {
  checkPlane(plane);
  return worldAxes(volume.affine)[NORMAL_WORLD_AXIS[plane]]!.voxelAxis;
}

/** Number of slices of `volume` in `plane`. */
export function sliceCount(volume: Volume, plane: Plane): number {
  return volumeDims(volume)[planeAxis(volume, plane)]!;
}

/**
 * Geometry of slice `index` (voxel index along the plane's normal axis; default the middle,
 * ⌊n/2⌋) of `volume` in `plane`, shown in `convention` (default radiological). Throws a
 * RangeError for an index outside [0, sliceCount).
 */
export function sliceGeometry(
  volume: Volume,
  plane: Plane,
  index?: number,
  convention: Convention = "radiological",
): SliceGeometry {
  checkPlane(plane);
  checkConvention(convention);
  const dims = volumeDims(volume);
  const spacing = voxelSpacing(volume);
  const axes = worldAxes(volume.affine);
  const [screenX, screenY] = screenDirections(plane, convention);
  const normal = axes[NORMAL_WORLD_AXIS[plane]]!.voxelAxis;
  const count = dims[normal]!;
  const sliceIndex = index ?? Math.floor(count / 2);
  if (!Number.isInteger(sliceIndex) || sliceIndex < 0 || sliceIndex >= count) {
    throw new RangeError(
      `${plane} slice index must be an integer in [0, ${count}), got ${String(index)}`,
    );
  }
  const strides = [1, dims[0], dims[0] * dims[1]];
  const xAxis = axes[screenX.world]!;
  const yAxis = axes[screenY.world]!;
  const width = dims[xAxis.voxelAxis]!;
  const height = dims[yAxis.voxelAxis]!;
  // the voxel index runs against the screen axis when their world directions differ
  const xReversed = xAxis.sign !== screenX.sign;
  const yReversed = yAxis.sign !== screenY.sign;
  const strideX = (xReversed ? -1 : 1) * strides[xAxis.voxelAxis]!;
  const strideY = (yReversed ? -1 : 1) * strides[yAxis.voxelAxis]!;
  const origin =
    sliceIndex * strides[normal]! +
    (xReversed ? (width - 1) * strides[xAxis.voxelAxis]! : 0) +
    (yReversed ? (height - 1) * strides[yAxis.voxelAxis]! : 0);
  const letters = (d: ScreenDirection): readonly [string, string] => {
    const [negative, positive] = AXIS_LETTERS[d.world]!;
    // [start, end] of the screen axis
    return d.sign > 0 ? [negative, positive] : [positive, negative];
  };
  const [left, right] = letters(screenX);
  const [top, bottom] = letters(screenY);
  return {
    plane,
    convention,
    index: sliceIndex,
    width,
    height,
    pixelSpacing: [spacing[xAxis.voxelAxis]!, spacing[yAxis.voxelAxis]!],
    markers: { left, right, top, bottom },
    voxelAxes: [xAxis.voxelAxis, yAxis.voxelAxis, normal],
    voxelOf(x: number, y: number): number {
      if (
        !(x >= 0 && x < width && y >= 0 && y < height) ||
        !Number.isInteger(x) ||
        !Number.isInteger(y)
      ) {
        throw new RangeError(
          `pixel (${String(x)}, ${String(y)}) is outside the ${width}×${height} slice`,
        );
      }
      return origin + x * strideX + y * strideY;
    },
  };
}
