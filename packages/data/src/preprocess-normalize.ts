/** Preprocessing step 4: per-channel z-score over the nonzero (brain) voxels. */

/** In place: nonzero voxels → (v − mean) / std over the nonzero voxels; zeros stay 0. */
export function zscoreNonzero(data: Float32Array): { mean: number; std: number } {
  // one pass of shifted sums (shift: the first nonzero value) keeps the variance accurate in float64
  let shift = 0;
  let count = 0;
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v === 0) continue;
    if (count === 0) shift = v;
    const d = v - shift;
    count++;
    sum += d;
    squares += d * d;
  }
  if (count === 0) return { mean: 0, std: 1 };
  const meanShifted = sum / count;
  const mean = shift + meanShifted;
  const std = Math.sqrt(Math.max(0, squares / count - meanShifted * meanShifted));
  // as nnU-Net: a constant brain maps to 0 instead of dividing by zero
  const scale = 1 / Math.max(std, 1e-8);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v !== 0) data[i] = (v - mean) * scale;
  }
  return { mean, std };
}
