// The merger of sliding-window inference: the Gaussian importance map and the per-voxel weighted
// average of the overlapping window outputs (or its argmax).
import { UNet3DError } from "./errors.js";
import { checkShape3, type Vec3 } from "./inference-splitter.js";

/** Weights below this are raised to it (MONAI's floor), so that no covered voxel divides by ~0. */
export const IMPORTANCE_FLOOR = 1e-3;

/**
 * Gaussian importance map over a window, row-major [D,H,W]: a separable Gaussian centred on the
 * window's centre with σ = sigmaScale × size per axis, scaled to a maximum of 1 and raised to at
 * least IMPORTANCE_FLOOR (nnU-Net and MONAI clip it so that no weight is 0).
 */
export function gaussianImportance(windowSize: Vec3, sigmaScale = 1 / 8): Float32Array {
  checkShape3("windowSize", windowSize);
  if (!(sigmaScale > 0 && Number.isFinite(sigmaScale))) {
    throw new UNet3DError("BAD_CONFIG", `sigmaScale must be a positive number, got ${sigmaScale}`);
  }
  const axes = windowSize.map((n) => {
    const sigma = sigmaScale * n;
    const centre = (n - 1) / 2;
    const g = new Float64Array(n);
    let max = 0;
    for (let i = 0; i < n; i++) {
      g[i] = Math.exp(-((i - centre) ** 2) / (2 * sigma * sigma));
      max = Math.max(max, g[i]!);
    }
    for (let i = 0; i < n; i++) g[i]! /= max;
    return g;
  });
  const [gz, gy, gx] = axes as [Float64Array, Float64Array, Float64Array];
  const [d, h, w] = windowSize;
  const map = new Float32Array(d * h * w);
  let i = 0;
  for (let z = 0; z < d; z++) {
    for (let y = 0; y < h; y++) {
      const zy = gz[z]! * gy[y]!;
      for (let x = 0; x < w; x++) map[i++] = Math.max(zy * gx[x]!, IMPORTANCE_FLOOR);
    }
  }
  return map;
}

/**
 * Accumulates weighted window outputs over a volume [D,H,W] with K values per voxel: one
 * Float32Array of D·H·W·K sums and one of D·H·W weights, whatever the number of windows.
 */
export class WindowMerger {
  private readonly accumulated: Float32Array;
  private readonly weightSum: Float32Array;

  constructor(
    private readonly volume: Vec3,
    readonly k: number,
    private readonly weights: Float32Array,
    private readonly windowSize: Vec3,
  ) {
    const [D, H, W] = volume;
    this.accumulated = new Float32Array(D * H * W * k);
    this.weightSum = new Float32Array(D * H * W);
  }

  /** Adds a batch of outputs [n,wd,wh,ww,K], window b starting at starts[b]. */
  add(outputs: Float32Array, starts: readonly Vec3[]): void {
    const [D, H, W] = this.volume;
    const [wd, wh, ww] = this.windowSize;
    const windowValues = wd * wh * ww * this.k;
    for (let b = 0; b < starts.length; b++) {
      accumulateWindow(
        outputs.subarray(b * windowValues, (b + 1) * windowValues),
        this.weights,
        starts[b]!,
        this.windowSize,
        [D, H, W, this.k],
        this.accumulated,
        this.weightSum,
      );
    }
  }

  /** The argmax over K per voxel [D,H,W]. */
  labels(): Uint8Array {
    const [D, H, W] = this.volume;
    const K = this.k;
    const merged = this.accumulated;
    const voxels = D * H * W;
    // Division by the positive weight sum does not change the argmax.
    const labels = new Uint8Array(voxels);
    for (let v = 0, o = 0; v < voxels; v++, o += K) {
      let best = 0;
      let bestValue = merged[o]!;
      for (let c = 1; c < K; c++) {
        const value = merged[o + c]!;
        if (value > bestValue) {
          bestValue = value;
          best = c;
        }
      }
      labels[v] = best;
    }
    return labels;
  }

  /** The weighted averages [D,H,W,K], computed in place: call it once, last. */
  averages(): Float32Array {
    const [D, H, W] = this.volume;
    const K = this.k;
    const merged = this.accumulated;
    const voxels = D * H * W;
    for (let v = 0, o = 0; v < voxels; v++, o += K) {
      const w = this.weightSum[v]!;
      for (let c = 0; c < K; c++) merged[o + c]! /= w;
    }
    return merged;
  }
}

/** Adds weight × output of one window into the accumulators, for its voxels inside the volume. */
function accumulateWindow(
  values: Float32Array,
  weights: Float32Array,
  [z0, y0, x0]: Vec3,
  [wd, wh, ww]: Vec3,
  [D, H, W, K]: [number, number, number, number],
  accumulated: Float32Array,
  weightSum: Float32Array,
): void {
  const zFrom = Math.max(0, -z0);
  const zTo = Math.min(wd, D - z0);
  const yFrom = Math.max(0, -y0);
  const yTo = Math.min(wh, H - y0);
  const xFrom = Math.max(0, -x0);
  const xTo = Math.min(ww, W - x0);
  for (let z = zFrom; z < zTo; z++) {
    for (let y = yFrom; y < yTo; y++) {
      const windowRow = (z * wh + y) * ww;
      const volumeRow = ((z0 + z) * H + (y0 + y)) * W + x0;
      for (let x = xFrom; x < xTo; x++) {
        const w = weights[windowRow + x]!;
        const v = volumeRow + x;
        weightSum[v]! += w;
        const src = (windowRow + x) * K;
        const dst = v * K;
        for (let c = 0; c < K; c++) accumulated[dst + c]! += w * values[src + c]!;
      }
    }
  }
}
