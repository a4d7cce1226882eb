/**
 * Data movement for the fast Conv3D kernels, on float32 arrays addressed by element offsets (in
 * practice the wasm heap, so that results feed the backend's kernels without another copy).
 * Everything here is a pure copy or permutation; no arithmetic except the accumulation helper.
 */

/** Index maps: `map[i]` is the source index feeding destination index i, or -1 for a zero. */
export type IndexMap = Int32Array;

function hasHoles(map: IndexMap): boolean {
  for (let i = 0; i < map.length; i++) if (map[i]! < 0) return true;
  return false;
}

/** Copies `len` floats from src to dst inside `a` (short runs by a loop, long ones by memmove). */
function copyRun(a: Float32Array, dst: number, src: number, len: number): void {
  if (len >= 48) {
    a.copyWithin(dst, src, src + len);
    return;
  }
  for (let k = 0; k < len; k++) a[dst + k] = a[src + k]!;
}

export interface StackSpec {
  /** Source [n, srcDepth, srcHeight, srcWidth, channels] starting at element `srcOffset`. */
  srcOffset: number;
  n: number;
  srcDepth: number;
  srcHeight: number;
  srcWidth: number;
  channels: number;
  /**
   * Destination: slices [first, first + count) of the stacked tensor
   * [n * depthMap.length / taps, rowMap.length, colMap.length, taps * channels], slice `first`
   * at element `dstOffset`.
   */
  dstOffset: number;
  first: number;
  count: number;
  taps: number;
  /** depthMap[dz * taps + t]: the source depth slice of destination slice dz for tap t, or -1. */
  depthMap: IndexMap;
  /** Source row of each destination row, or -1 (zero row). */
  rowMap: IndexMap;
  /** Source column of each destination column, or -1 (zero column). */
  colMap: IndexMap;
}

/**
 * Stacks depth slices along channels: dst[b, r, c, t*C + ch] = src[n, depthMap[dz, t], rowMap[r],
 * colMap[c], ch] (b = n * dstDepth + dz), zero where a map gives -1. This turns a 3D convolution
 * into one 2D convolution over the stacked channels (the depth taps become input channels).
 */
export function stackDepthTaps(a: Float32Array, s: StackSpec): void {
  const { n, srcDepth, srcHeight, srcWidth, channels: cs, taps, depthMap, rowMap, colMap } = s;
  const dstDepth = depthMap.length / taps;
  const rows = rowMap.length;
  const cols = colMap.length;
  const cd = taps * cs;
  const dstRowLen = cols * cd;
  const dstSlice = rows * dstRowLen;
  const srcRowLen = srcWidth * cs;
  const srcSlice = srcHeight * srcRowLen;
  // In-plane holes (zero-upsampling) are dense: clear everything once. Depth holes (the few
  // slices past the volume's ends) are cleared one tap block at a time below.
  const planeHoles = hasHoles(rowMap) || hasHoles(colMap);
  if (planeHoles) a.fill(0, s.dstOffset, s.dstOffset + s.count * dstSlice);
  // Source columns colMap[0], colMap[0] + 1, ...: walk the source row linearly.
  let colsContiguous = !planeHoles;
  for (let c = 1; c < cols && colsContiguous; c++) colsContiguous = colMap[c] === colMap[0]! + c;
  const col0 = cols > 0 ? colMap[0]! : 0;

  const end = Math.min(n * dstDepth, s.first + s.count);
  for (let b = s.first; b < end; b++) {
    const bn = Math.floor(b / dstDepth);
    const dz = b - bn * dstDepth;
    for (let t = 0; t < taps; t++) {
      const sz = depthMap[dz * taps + t]!;
      const dstBase = s.dstOffset + (b - s.first) * dstSlice + t * cs;
      if (sz < 0) {
        if (!planeHoles) {
          for (let p = dstBase, end = dstBase + dstSlice; p < end; p += cd) a.fill(0, p, p + cs);
        }
        continue;
      }
      const srcBase = s.srcOffset + (bn * srcDepth + sz) * srcSlice;
      for (let r = 0; r < rows; r++) {
        const sr = rowMap[r]!;
        if (sr < 0) continue;
        const srcRow = srcBase + sr * srcRowLen;
        const dstRow = dstBase + r * dstRowLen;
        if (colsContiguous && cs < 48) {
          let so = srcRow + col0 * cs;
          for (let c = 0, d = dstRow; c < cols; c++, d += cd, so += cs) {
            for (let k = 0; k < cs; k++) a[d + k] = a[so + k]!;
          }
        } else {
          for (let c = 0; c < cols; c++) {
            const sc = colMap[c]!;
            if (sc >= 0) copyRun(a, dstRow + c * cd, srcRow + sc * cs, cs);
          }
        }
      }
    }
  }
}

/**
 * Channels-last [n, d, h, w, c] → channels-first [n, c, d + padD, h + padH, w + padW] with the
 * data placed at (front, top, left) and zeros around it (padD = front + back, etc.).
 */
export function toChannelsFirstPadded(
  a: Float32Array,
  srcOffset: number,
  dims: { n: number; d: number; h: number; w: number; c: number },
  dstOffset: number,
  pads: { front: number; back: number; top: number; bottom: number; left: number; right: number },
): void {
  const { n, d, h, w, c } = dims;
  const dp = d + pads.front + pads.back;
  const hp = h + pads.top + pads.bottom;
  const wp = w + pads.left + pads.right;
  const padded = dp !== d || hp !== h || wp !== w;
  const plane = dp * hp * wp;
  if (padded) a.fill(0, dstOffset, dstOffset + n * c * plane);
  for (let bn = 0; bn < n; bn++) {
    for (let z = 0; z < d; z++) {
      for (let y = 0; y < h; y++) {
        const srcRow = srcOffset + ((bn * d + z) * h + y) * w * c;
        const dstRow =
          dstOffset + bn * c * plane + ((z + pads.front) * hp + y + pads.top) * wp + pads.left;
        for (let ch = 0; ch < c; ch++) {
          const dst = dstRow + ch * plane;
          let src = srcRow + ch;
          for (let x = 0; x < w; x++, src += c) a[dst + x] = a[src]!;
        }
      }
    }
  }
}

/** Filter [kd, kh, kw, ci, co] → Conv2D filter [kh, kw, kd*ci, co] (depth taps stacked on ci). */
export function stackFilterForward(
  a: Float32Array,
  srcOffset: number,
  k: { kd: number; kh: number; kw: number; ci: number; co: number },
  dstOffset: number,
): void {
  const { kd, kh, kw, ci, co } = k;
  for (let t = 0; t < kd; t++) {
    for (let y = 0; y < kh; y++) {
      for (let x = 0; x < kw; x++) {
        const src = srcOffset + ((t * kh + y) * kw + x) * ci * co;
        const dst = dstOffset + ((y * kw + x) * kd + t) * ci * co;
        copyRun(a, dst, src, ci * co);
      }
    }
  }
}

/**
 * Filter [kd, kh, kw, ci, co] → the Conv2D filter of the input gradient [kh, kw, kd*co, ci]:
 * spatially flipped in h and w, in/out channels swapped, depth taps stacked on the input channels.
 */
export function stackFilterBackpropInput(
  a: Float32Array,
  srcOffset: number,
  k: { kd: number; kh: number; kw: number; ci: number; co: number },
  dstOffset: number,
): void {
  const { kd, kh, kw, ci, co } = k;
  for (let t = 0; t < kd; t++) {
    for (let y = 0; y < kh; y++) {
      for (let x = 0; x < kw; x++) {
        const src = srcOffset + ((t * kh + (kh - 1 - y)) * kw + (kw - 1 - x)) * ci * co;
        const dst = dstOffset + ((y * kw + x) * kd + t) * co * ci;
        for (let o = 0; o < co; o++) {
          for (let i = 0; i < ci; i++) a[dst + o * ci + i] = a[src + i * co + o]!;
        }
      }
    }
  }
}

/** Filter [taps, ci, co] → [co, taps*ci] (the matrix of a patchwise transposed convolution). */
export function filterToOutMajor(
  a: Float32Array,
  srcOffset: number,
  taps: number,
  ci: number,
  co: number,
  dstOffset: number,
): void {
  const rowLen = taps * ci;
  for (let r = 0; r < rowLen; r++) {
    const src = srcOffset + r * co;
    for (let o = 0; o < co; o++) a[dstOffset + o * rowLen + r] = a[src + o]!;
  }
}

export interface PatchScatterSpec {
  /** Source y [n * outD * outH * outW, taps * c] with taps = kd*kh*kw (kd slowest). */
  srcOffset: number;
  n: number;
  outD: number;
  outH: number;
  outW: number;
  kd: number;
  kh: number;
  kw: number;
  c: number;
  /** Destination [n, dstD, dstH, dstW, c]. */
  dstOffset: number;
  dstD: number;
  dstH: number;
  dstW: number;
  /** Destination index of (output index o, tap k) along each axis, o * kSize + k → index or -1. */
  depthMap: IndexMap;
  rowMap: IndexMap;
  colMap: IndexMap;
}

/**
 * Depth-to-space for non-overlapping windows: dst[n, depthMap[od,kd], rowMap[oh,kh],
 * colMap[ow,kw], :] = src[(n, od, oh, ow), (kd, kh, kw), :]; destination voxels no window
 * reaches are zero.
 */
export function scatterPatches(a: Float32Array, s: PatchScatterSpec): void {
  const { n, outD, outH, outW, kd, kh, kw, c, dstD, dstH, dstW, depthMap, rowMap, colMap } = s;
  const covered = (map: IndexMap, size: number): boolean => {
    let count = 0;
    for (let i = 0; i < map.length; i++) if (map[i]! >= 0) count++;
    return count === size;
  };
  if (!covered(depthMap, dstD) || !covered(rowMap, dstH) || !covered(colMap, dstW)) {
    a.fill(0, s.dstOffset, s.dstOffset + n * dstD * dstH * dstW * c);
  }
  const taps = kd * kh * kw;
  let src = s.srcOffset;
  for (let bn = 0; bn < n; bn++) {
    for (let z = 0; z < outD; z++) {
      for (let y = 0; y < outH; y++) {
        for (let x = 0; x < outW; x++, src += taps * c) {
          for (let tz = 0; tz < kd; tz++) {
            const dz = depthMap[z * kd + tz]!;
            if (dz < 0) continue;
            for (let ty = 0; ty < kh; ty++) {
              const dy = rowMap[y * kh + ty]!;
              if (dy < 0) continue;
              const rowBase = s.dstOffset + ((bn * dstD + dz) * dstH + dy) * dstW * c;
              for (let tx = 0; tx < kw; tx++) {
                const dx = colMap[x * kw + tx]!;
                if (dx < 0) continue;
                copyRun(a, rowBase + dx * c, src + ((tz * kh + ty) * kw + tx) * c, c);
              }
            }
          }
        }
      }
    }
  }
}

/** a[dst .. dst+len) += a[src .. src+len) */
export function accumulate(a: Float32Array, dst: number, src: number, len: number): void {
  for (let i = 0; i < len; i++) a[dst + i] = a[dst + i]! + a[src + i]!;
}

export interface GridColumnsSpec {
  /** Channels-first padded input [c, dp, hp, wp] of one batch item, starting at `srcOffset`. */
  srcOffset: number;
  c: number;
  hp: number;
  wp: number;
  plane: number;
  kd: number;
  kh: number;
  kw: number;
  /** Destination [kd*kh*kw*c, m] (row (kd, kh, kw, ch)) at `dstOffset`. */
  dstOffset: number;
  /** First grid position and number of positions (columns). */
  q0: number;
  m: number;
}

/**
 * Transposed im2col on the padded grid (stride 1): column j is grid position q0 + j, and tap
 * (z, y, x) reads the padded input at that position shifted by (z*hp + y)*wp + x, so every
 * row is one contiguous copy. Grid positions outside the output pair with zero gradients.
 */
export function gridColumns(a: Float32Array, s: GridColumnsSpec): void {
  const { c, hp, wp, plane, kd, kh, kw, q0, m } = s;
  let dst = s.dstOffset;
  for (let z = 0; z < kd; z++) {
    for (let y = 0; y < kh; y++) {
      for (let x = 0; x < kw; x++) {
        const shift = (z * hp + y) * wp + x;
        for (let ch = 0; ch < c; ch++, dst += m) {
          const src = s.srcOffset + ch * plane + q0 + shift;
          a.copyWithin(dst, src, src + m);
        }
      }
    }
  }
}

/**
 * The output gradient laid on the padded grid: dst[j, :] = dy[(z, y, x), :] for grid position
 * q0 + j = (z*hp + y)*wp + x when (z, y, x) is an output position, else zeros.
 * dy is [od, oh, ow, co] of one batch item.
 */
export function gridRows(
  a: Float32Array,
  dyOffset: number,
  out: { od: number; oh: number; ow: number; co: number },
  grid: { hp: number; wp: number },
  q0: number,
  m: number,
  dstOffset: number,
): void {
  const { od, oh, ow, co } = out;
  const { hp, wp } = grid;
  a.fill(0, dstOffset, dstOffset + m * co);
  const q1 = q0 + m;
  for (let line = Math.floor(q0 / wp); line * wp < q1; line++) {
    const z = Math.floor(line / hp);
    const y = line - z * hp;
    if (z >= od || y >= oh) continue;
    const start = Math.max(line * wp, q0);
    const end = Math.min(line * wp + ow, q1);
    if (end <= start) continue;
    const src = dyOffset + ((z * oh + y) * ow + (start - line * wp)) * co;
    a.copyWithin(dstOffset + (start - q0) * co, src, src + (end - start) * co);
  }
}

export interface LineColumnsSpec {
  /** Channels-first input [n, c, d, h, w] at `srcOffset`. */
  srcOffset: number;
  n: number;
  c: number;
  d: number;
  h: number;
  w: number;
  /** Output grid and window geometry. */
  od: number;
  oh: number;
  ow: number;
  kd: number;
  kh: number;
  kw: number;
  sd: number;
  sh: number;
  sw: number;
  padFront: number;
  padTop: number;
  padLeft: number;
  /** Destination [kd*kh*kw*c, (line1 - line0) * ow]; line = (n*od + z)*oh + y. */
  dstOffset: number;
  line0: number;
  line1: number;
}

/** Transposed im2col for any stride and pad: row (tz, ty, tx, ch), column (n, z, y, x). */
export function lineColumns(a: Float32Array, s: LineColumnsSpec): void {
  const { n, c, d, h, w, od, oh, ow, kd, kh, kw, sd, sh, sw, line0, line1 } = s;
  const m = (line1 - line0) * ow;
  const plane = d * h * w;
  let dst = s.dstOffset;
  for (let tz = 0; tz < kd; tz++) {
    for (let ty = 0; ty < kh; ty++) {
      for (let tx = 0; tx < kw; tx++) {
        // Output columns whose input column x*sw + tx - padLeft lies inside [0, w).
        const xLo = Math.min(ow, Math.max(0, Math.ceil((s.padLeft - tx) / sw)));
        const xHi = Math.max(xLo, Math.min(ow, Math.floor((w - 1 + s.padLeft - tx) / sw) + 1));
        for (let ch = 0; ch < c; ch++, dst += m) {
          let o = dst;
          for (let line = line0; line < line1; line++, o += ow) {
            const y = line % oh;
            const zn = (line - y) / oh;
            const z = zn % od;
            const bn = (zn - z) / od;
            const iz = z * sd + tz - s.padFront;
            const iy = y * sh + ty - s.padTop;
            if (bn >= n || iz < 0 || iz >= d || iy < 0 || iy >= h) {
              a.fill(0, o, o + ow);
              continue;
            }
            if (xLo > 0) a.fill(0, o, o + xLo);
            if (xHi < ow) a.fill(0, o + xHi, o + ow);
            let src =
              s.srcOffset + (bn * c + ch) * plane + (iz * h + iy) * w + xLo * sw + tx - s.padLeft;
            if (sw === 1) {
              for (let x = xLo; x < xHi; x++, src++) a[o + x] = a[src]!;
            } else {
              for (let x = xLo; x < xHi; x++, src += sw) a[o + x] = a[src]!;
            }
          }
        }
      }
    }
  }
}
