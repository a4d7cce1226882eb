// Time to render a three-plane overlay of a 240×240×155 case (window from percentiles, largest
// tumour slice per plane, crop, resample to 2 px/mm, blend labels, compose with titles, markers and a
// legend) and encode it to PNG. A synthetic volume always; the real Brats18_CBICA_ABM_1 (FLAIR and
// its ground truth) too when <repo>/../shared is present. Volumes are decoded before timing.
// Run: pnpm --filter @brats/viz bench   (= node --import tsx bench/render.bench.ts)
//
// Output, one JSON line per measurement (ms: median of RUNS after a warm-up):
//   viz.three_plane_png.<synthetic|real>     render + PNG encode, volumes in memory
//   viz.three_plane_render.<synthetic|real>  render to an RgbaImage only
//   viz.png_encode.<synthetic|real>          encodePng of that image only
//   viz.three_plane_png.peak_rss.<...>       MiB, peak resident memory of a fresh process that reads the
//                                            files (real) or builds the volume (synthetic) and renders once
//   viz.baseline_rss                         MiB, the same fresh process rendering nothing
// No peer is measured: matplotlib is not installed here, and nibabel's OrthoSlicer3D needs it; a
// numpy + Pillow pipeline would be our own code again, not a peer.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { childResult, emit, median, peakRssMiB, reportResult } from "@brats/kit/bench";
import { getScaledData, readNifti } from "@brats/nifti";
import { encodePng, renderThreePlane, renderThreePlanePng, type Volume } from "../src/index.js";

const RUNS = 7;
const benchFile = fileURLToPath(import.meta.url);
const shared = join(dirname(benchFile), "../../../../shared");
const CASE = "Brats18_CBICA_ABM_1";
const caseDir = join(shared, "data/brats", CASE);

const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;

// BraTS geometry: 240×240×155, 1 mm, LPS voxel axes.
const SHAPE = [240, 240, 155];
const AFFINE = [
  [-1, 0, 0, 0],
  [0, -1, 0, 239],
  [0, 0, 1, 0],
  [0, 0, 0, 1],
];

/** A head-like ellipsoid with texture and a tumour (oedema shell, enhancing rim, necrotic core). */
function syntheticCase(): { image: Volume; labels: Volume } {
  const [nx, ny, nz] = SHAPE as [number, number, number];
  const image = new Float32Array(nx * ny * nz);
  const labels = new Uint8Array(nx * ny * nz);
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++) {
        const i = x + nx * (y + ny * z);
        const head = ((x - 120) / 70) ** 2 + ((y - 125) / 88) ** 2 + ((z - 75) / 70) ** 2;
        if (head <= 1)
          image[i] =
            300 + 400 * (1 - head) + 80 * Math.sin(x / 3) * Math.cos(y / 4) * Math.sin(z / 5);
        const r = Math.sqrt(((x - 150) / 30) ** 2 + ((y - 110) / 26) ** 2 + ((z - 80) / 22) ** 2);
        if (r <= 1 && head <= 1) labels[i] = r < 0.35 ? 1 : r < 0.55 ? 4 : 2;
      }
    }
  }
  const volume = (data: Float32Array | Uint8Array): Volume => ({
    data,
    shape: SHAPE,
    spacing: [1, 1, 1],
    affine: AFFINE,
  });
  return { image: volume(image), labels: volume(labels) };
}

async function realCase(): Promise<{ image: Volume; labels: Volume }> {
  const [flair, seg] = await Promise.all([
    readNifti(join(caseDir, `${CASE}_flair.nii.gz`)),
    readNifti(join(caseDir, `${CASE}_seg.nii.gz`)),
  ]);
  const volume = (img: typeof flair): Volume => ({
    data: getScaledData(img),
    shape: img.shape,
    spacing: img.spacing,
    affine: img.affine,
  });
  return { image: volume(flair), labels: volume(seg) };
}

// Child modes: one render in a fresh process, reporting its peak RSS.
if (process.argv[2] === "--rss-baseline") {
  reportResult({ peakRssMiB: peakRssMiB() });
  process.exit(0);
}
if (process.argv[2] === "--rss-child") {
  const input = process.argv[3] === "real" ? await realCase() : syntheticCase();
  renderThreePlanePng(input);
  reportResult({ peakRssMiB: peakRssMiB() });
  process.exit(0);
}

function peakRss(args: string[]): number {
  // The child reads sources (the "source" condition), as before.
  return childResult<{ peakRssMiB: number }>("rss child", benchFile, args, {
    execArgv: ["--conditions=source", "--import", "tsx"],
  }).peakRssMiB;
}

function bench(kind: "synthetic" | "real", input: { image: Volume; labels: Volume }): void {
  const caseName = kind === "real" ? CASE : "synthetic 240×240×155";
  renderThreePlanePng(input); // warm-up: JIT, font registration
  const total: number[] = [];
  const render: number[] = [];
  const encode: number[] = [];
  let size = "";
  for (let r = 0; r < RUNS; r++) {
    let t = performance.now();
    const png = renderThreePlanePng(input);
    total.push(performance.now() - t);
    t = performance.now();
    const image = renderThreePlane(input);
    render.push(performance.now() - t);
    t = performance.now();
    encodePng(image);
    encode.push(performance.now() - t);
    size = `${image.width}×${image.height}, ${Math.round(png.length / 1024)} KiB`;
  }
  const runs = (v: number[]) => v.map((x) => round(x));
  emit({
    name: `viz.three_plane_png.${kind}`,
    impl: "brats",
    unit: "ms",
    value: round(median(total)),
    case: caseName,
    runs: runs(total),
    size,
  });
  emit({
    name: `viz.three_plane_render.${kind}`,
    impl: "brats",
    unit: "ms",
    value: round(median(render)),
    case: caseName,
    runs: runs(render),
  });
  emit({
    name: `viz.png_encode.${kind}`,
    impl: "brats",
    unit: "ms",
    value: round(median(encode)),
    case: caseName,
    runs: runs(encode),
  });
}

// Peak RSS first, while this process is still small. The children report VmHWM, which starts afresh
// at exec; off Linux they fall back to maxRSS, which a forked child inherits from its parent.
const haveReal = existsSync(caseDir);
const rss = {
  baseline: peakRss(["--rss-baseline"]),
  synthetic: peakRss(["--rss-child", "synthetic"]),
  real: haveReal ? peakRss(["--rss-child", "real"]) : undefined,
};
bench("synthetic", syntheticCase());
emit({
  name: "viz.three_plane_png.peak_rss.synthetic",
  impl: "brats",
  unit: "MiB",
  value: round(rss.synthetic),
  case: "synthetic 240×240×155",
});
if (haveReal) {
  bench("real", await realCase());
  emit({
    name: "viz.three_plane_png.peak_rss.real",
    impl: "brats",
    unit: "MiB",
    value: round(rss.real!),
    case: CASE,
  });
} else {
  console.warn(`${caseDir} is absent: the real case is skipped`);
}
emit({ name: "viz.baseline_rss", impl: "brats", unit: "MiB", value: round(rss.baseline) });
