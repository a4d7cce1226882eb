import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { asClosestCanonical, getScaledData, readNifti, type NiftiImage } from "@brats/nifti";
import { describe, expect, it } from "vitest";
import { ERROR_COLORS } from "./colors.js";
import { PNG_SIGNATURE } from "./png.js";
import { composeFigureWithLayout, type Box } from "./compose.js";
import { nonzeroBox, volumeWindow } from "./render-slice.js";
import {
  comparisonFigure,
  overlayFigure,
  renderComparison,
  renderComparisonPng,
  renderMontage,
  renderOverlay,
  renderThreePlane,
  renderThreePlanePng,
  slicePanel,
  threePlaneFigure,
  type SlicePanel,
} from "./render.js";
import {
  centroid,
  countPixels,
  decodePng,
  isColoured,
  rgbAt,
  sameBytes,
  syntheticCase,
} from "./render-test-utils.js";
import type { RgbaImage } from "./rgba.js";

// Colour tests on blended pixels: which channels dominate, not exact values (the grey beneath varies).
const isEt = (r: number, g: number, b: number) => r > b + 40 && g > b + 40;
const isEd = (r: number, g: number, b: number) => g > r + 40 && g > b + 40;
const pure = (c: readonly number[]) => (r: number, g: number, b: number) =>
  r === c[0] && g === c[1] && b === c[2];

describe("slicePanel on a synthetic case", () => {
  // Tumour centred at world (10, −6, 4) mm: patient's right, posterior, superior of the centre.
  const ras = syntheticCase("RAS");
  const lps = syntheticCase("LPS");

  it("puts the tumour at the right place: axial, radiological, anterior up", () => {
    const p = slicePanel({ image: ras.image, labels: ras.labels, plane: "axial", index: 13 });
    // 40×32 voxels of 1 mm at 2 px/mm (finest spacing 1 mm, scale 2)
    expect([p.image.width, p.image.height]).toEqual([80, 64]);
    expect(p.markers).toEqual({ left: "R", right: "L", top: "A", bottom: "P" });
    // ET (x 8.5…11.5 mm, y −7.5…−4.5 mm) → voxels i 28…31, j 8…11 → screen columns 39−i = 8…11,
    // rows 31−j = 20…23 → output pixels 16…23 × 40…47
    expect(isEt(...rgbAt(p.image, 19, 43))).toBe(true);
    expect(isEt(...rgbAt(p.image, 16, 40))).toBe(true);
    expect(isEt(...rgbAt(p.image, 23, 47))).toBe(true);
    expect(isEt(...rgbAt(p.image, 15, 43))).toBe(false);
    // ED ring: x 6.5 mm (i 26, column 13), y −2.5 mm (j 13, row 18) → pixel (26…27, 36…37)
    expect(isEd(...rgbAt(p.image, 26, 36))).toBe(true);
    // nothing at the mirror position (the patient's left)
    expect(isColoured(...rgbAt(p.image, 80 - 1 - 19, 43))).toBe(false);
    const c = centroid(p.image, (r, g, b) => isColoured(r, g, b))!;
    expect(c.x).toBeLessThan(40); // patient's right on the screen's left
    expect(c.y).toBeGreaterThan(32); // posterior at the bottom
  });

  it("shows LPS data exactly as the same anatomy stored RAS, in every plane", () => {
    // LPS voxel index n − 1 − i holds what RAS index i holds along x and y (40 and 32 voxels); z is shared
    for (const [plane, rasIndex, lpsIndex] of [
      ["axial", 13, 13],
      ["coronal", 10, 32 - 1 - 10],
      ["sagittal", 29, 40 - 1 - 29],
    ] as const) {
      const a = slicePanel({ image: ras.image, labels: ras.labels, plane, index: rasIndex });
      const b = slicePanel({ image: lps.image, labels: lps.labels, plane, index: lpsIndex });
      expect(
        countPixels(a.image, { x: 0, y: 0, w: a.image.width, h: a.image.height }, isEd),
      ).toBeGreaterThan(20);
      expect(b.markers).toEqual(a.markers);
      expect([b.image.width, b.image.height]).toEqual([a.image.width, a.image.height]);
      expect(sameBytes(b.image.data, a.image.data)).toBe(true);
    }
  });

  it("mirrors left and right in the neurological convention", () => {
    const radio = slicePanel({ image: lps.image, labels: lps.labels, plane: "axial", index: 13 });
    const neuro = slicePanel({
      image: lps.image,
      labels: lps.labels,
      plane: "axial",
      index: 13,
      convention: "neurological",
    });
    expect(neuro.markers).toEqual({ left: "L", right: "R", top: "A", bottom: "P" });
    expect(isEt(...rgbAt(neuro.image, 80 - 1 - 19, 43))).toBe(true);
    const w = radio.image.width;
    for (let y = 0; y < radio.image.height; y += 7) {
      for (let x = 0; x < w; x += 5)
        expect(rgbAt(neuro.image, w - 1 - x, y)).toEqual(rgbAt(radio.image, x, y));
    }
  });

  it("keeps the aspect ratio of anisotropic voxels and puts superior up (coronal) and anterior left (sagittal)", () => {
    const coronal = slicePanel({ image: ras.image, labels: ras.labels, plane: "coronal" });
    // 40 × 24 voxels of 1 × 2 mm → 40 × 48 mm → 80 × 96 px
    expect([coronal.image.width, coronal.image.height]).toEqual([80, 96]);
    expect(coronal.markers).toEqual({ left: "R", right: "L", top: "S", bottom: "I" });
    const sagittal = slicePanel({ image: ras.image, labels: ras.labels, plane: "sagittal" });
    expect([sagittal.image.width, sagittal.image.height]).toEqual([64, 96]);
    expect(sagittal.markers).toEqual({ left: "A", right: "P", top: "S", bottom: "I" });
    // tumour 4 mm above the centre → upper half; 6 mm posterior → right half of the sagittal panel
    const cc = centroid(coronal.image, (r, g, b) => isColoured(r, g, b))!;
    expect(cc.y).toBeLessThan(48);
    const sc = centroid(sagittal.image, (r, g, b) => isColoured(r, g, b))!;
    expect(sc.x).toBeGreaterThan(32);
    expect(sc.y).toBeLessThan(48);
  });

  it("chooses the slice with the largest tumour area by default", () => {
    // tumour z 0…8 mm → k 12…15, all of equal area → the lowest, 12
    expect(slicePanel({ image: ras.image, labels: ras.labels }).geometry.index).toBe(12);
    expect(slicePanel({ image: ras.image }).geometry.index).toBe(12); // middle of 24 without labels
  });

  it("windows with the 0.5–99.5 percentiles of the nonzero voxels", () => {
    const values = Array.from(ras.image.data)
      .filter((v) => v !== 0)
      .sort((a, b) => a - b);
    const at = (q: number) => {
      const pos = (values.length - 1) * q;
      const lo = Math.floor(pos);
      return (
        values[lo]! + (values[Math.min(lo + 1, values.length - 1)]! - values[lo]!) * (pos - lo)
      );
    };
    const w = volumeWindow(ras.image);
    expect(w.low).toBeCloseTo(at(0.005), 4);
    expect(w.high).toBeCloseTo(at(0.995), 4);
    // a fixed window overrides: everything at or above 0 is white, the background included
    const p = slicePanel({ image: ras.image, window: { low: -2, high: -1 }, plane: "axial" });
    expect(rgbAt(p.image, 0, 0)).toEqual([255, 255, 255]);
  });

  it("draws contours instead of filled labels, with the thickness asked for", () => {
    const fill = slicePanel({ image: ras.image, labels: ras.labels, plane: "axial", index: 13 });
    const contour = slicePanel({
      image: ras.image,
      labels: ras.labels,
      plane: "axial",
      index: 13,
      mode: "contour",
      thickness: 1,
    });
    const coloured = (img: RgbaImage) =>
      countPixels(img, { x: 0, y: 0, w: img.width, h: img.height }, (r, g, b) =>
        isColoured(r, g, b),
      );
    expect(coloured(contour.image)).toBeGreaterThan(0);
    expect(coloured(contour.image)).toBeLessThan(coloured(fill.image));
    // the middle of the ET square is not on a contour
    expect(isColoured(...rgbAt(contour.image, 19, 43))).toBe(false);
  });

  it("crops to the nonzero voxels plus a margin (8 px without markers, 24 px with)", () => {
    // a 30×30×10 RAS volume, nonzero only in the block i 10…14, j 5…20, k 2…6
    const data = new Float32Array(30 * 30 * 10);
    for (let k = 2; k <= 6; k++)
      for (let j = 5; j <= 20; j++)
        for (let i = 10; i <= 14; i++) data[i + 30 * (j + 30 * k)] = 50 + i + j;
    const volume = { data, shape: [30, 30, 10], spacing: [1, 1, 1] };
    // 8 px at 2 px/mm = 4 voxels: i 6…18, j 1…24; screen x = 29 − i (radiological), screen y = 29 − j
    const plain = slicePanel({ image: volume, plane: "axial", index: 4, markers: false });
    expect(plain.crop).toEqual({ x: 11, y: 5, width: 13, height: 24 });
    expect([plain.image.width, plain.image.height]).toEqual([26, 48]);
    // 24 px = 12 voxels: i 0…26, j 0…29 (clipped to the volume)
    expect(slicePanel({ image: volume, plane: "axial", index: 4 }).crop).toEqual({
      x: 3,
      y: 0,
      width: 27,
      height: 30,
    });
    expect(slicePanel({ image: volume, plane: "axial", index: 4, crop: false }).crop).toEqual({
      x: 0,
      y: 0,
      width: 30,
      height: 30,
    });
    expect(nonzeroBox(volume)).toEqual([
      [10, 14],
      [5, 20],
      [2, 6],
    ]);
    expect(nonzeroBox({ ...volume, data: new Float32Array(9000) })).toBeNull();
  });

  it("rejects labels on another grid and bad options with a RangeError", () => {
    const small = {
      ...ras.labels,
      shape: [20, 32, 24],
      data: ras.labels.data.subarray(0, 20 * 32 * 24),
    };
    expect(() => slicePanel({ image: ras.image, labels: small })).toThrow(RangeError);
    expect(() => slicePanel({ image: ras.image, index: 24 })).toThrow(RangeError);
    expect(() => slicePanel({ image: ras.image, scale: 0 })).toThrow(RangeError);
    expect(() => slicePanel({ image: ras.image, labels: ras.labels, alpha: 2 })).toThrow(
      RangeError,
    );
  });
});

describe("figures on a synthetic case", () => {
  const { image, labels } = syntheticCase("LPS");

  it("renderOverlay: one panel with the tumour on the screen's left and a legend of the three labels", () => {
    const parts = overlayFigure({ image, labels, index: 13 });
    const { image: fig, layout } = composeFigureWithLayout(parts.panels, parts);
    expect(sameBytes(renderOverlay({ image, labels, index: 13 }).data, fig.data)).toBe(true);
    expect(parts.title).toBe("Axial slice 13");
    const panel = layout.panels[0]!;
    const c = centroid(fig, (r, g, b) => isEt(r, g, b) && !(r === 255 && g === 255 && b === 0))!;
    expect(c.x).toBeLessThan(panel.x + panel.w / 2);
    // legend: one swatch per label, in the pure label colours
    expect(layout.legend).toHaveLength(3);
    layout.legend.forEach(({ swatch }, i) => {
      const color = [
        [255, 0, 0],
        [0, 255, 0],
        [255, 255, 0],
      ][i]!;
      expect(countPixels(fig, swatch, pure(color))).toBeGreaterThan(swatch.w * swatch.h * 0.8);
    });
  });

  it("renderThreePlane: three panels side by side, tumour in each", () => {
    const fig = renderThreePlane({ image, labels });
    // panels 80, 80 and 64 px wide, plus gaps and margins
    expect(fig.width).toBeGreaterThanOrEqual(80 + 80 + 64);
    for (const third of [0, 1, 2]) {
      const region = { x: (third * fig.width) / 3, y: 0, w: fig.width / 3, h: fig.height - 40 };
      expect(countPixels(fig, region, isEd)).toBeGreaterThan(20);
    }
  });

  it("renderComparison: ground truth, prediction and an error map with false positives and negatives", () => {
    // the prediction is the ground truth moved 3 voxels along i: errors on both sides
    const shifted = new Uint8Array(labels.data.length);
    for (let at = 0; at < labels.data.length; at++)
      if (labels.data[at]) shifted[at + 3] = labels.data[at]!;
    const opts = { image, gt: labels, pred: { ...labels, data: shifted } };
    const parts = comparisonFigure(opts);
    const { image: fig, layout } = composeFigureWithLayout(parts.panels, parts);
    expect(sameBytes(renderComparison(opts).data, fig.data)).toBe(true);
    expect(parts.panels.map((p) => p.title)).toEqual(["Ground truth", "Prediction", "Errors (WT)"]);
    const [gtBox, predBox, errorBox] = layout.panels as Box[];
    const fp = (r: number, g: number, b: number) => r > g + 60 && b > g + 60; // magenta over grey
    const fn = (r: number, g: number, b: number) => g > r + 60 && b > r + 60; // cyan over grey
    expect(countPixels(fig, errorBox!, fp)).toBeGreaterThan(10);
    expect(countPixels(fig, errorBox!, fn)).toBeGreaterThan(10);
    for (const box of [gtBox!, predBox!]) {
      expect(countPixels(fig, box, fp) + countPixels(fig, box, fn)).toBe(0);
      expect(countPixels(fig, box, isEd)).toBeGreaterThan(20);
    }
    // the prediction moved towards +i, i.e. towards the patient's left (LPS): the screen's right
    const gtC = centroidIn(fig, gtBox!, isEd)!;
    const predC = centroidIn(fig, predBox!, isEd)!;
    expect(predC - gtC).toBeCloseTo(3 * 2, 0);
    // legend: the three label colours, then false positive, false negative, faint true positive
    const colours = layout.legend.map(({ swatch }) =>
      rgbAt(fig, swatch.x + swatch.w / 2, swatch.y + swatch.h / 2),
    );
    expect(colours).toEqual([
      [255, 0, 0],
      [0, 255, 0],
      [255, 255, 0],
      [...ERROR_COLORS.fp],
      [...ERROR_COLORS.fn],
      [96, 160, 96],
    ]);
    for (const item of layout.legend)
      expect(countPixels(fig, item.text, (r) => r > 150)).toBeGreaterThan(10);
  });

  it("renderMontage: rows of volumes × columns of slices spread over the tumour", () => {
    const fig = renderMontage({
      volumes: [
        { name: "A", volume: image },
        { name: "B", volume: { ...image, data: image.data.map((v) => 300 - v) } },
      ],
      labels,
      slices: 3,
      planes: ["axial", "coronal"],
    });
    // 6 columns of at least 40 px (scale 1), 2 rows of at least 32 px
    expect(fig.width).toBeGreaterThan(6 * 40);
    expect(fig.height).toBeGreaterThan(2 * 32);
    expect(countPixels(fig, { x: 0, y: 0, w: fig.width, h: fig.height }, isEd)).toBeGreaterThan(50);
    expect(() => renderMontage({ volumes: [] })).toThrow(RangeError);
    expect(() => renderMontage({ volumes: [{ name: "A", volume: image }], slices: 0 })).toThrow(
      RangeError,
    );
  });

  it("encodes figures as PNG that decode to the same pixels", async () => {
    const rgba = renderThreePlane({ image, labels });
    const png = renderThreePlanePng({ image, labels });
    expect(png.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    const decoded = await decodePng(png);
    expect([decoded.width, decoded.height]).toEqual([rgba.width, rgba.height]);
    expect(sameBytes(decoded.data, rgba.data)).toBe(true);
  });
});

const here = dirname(fileURLToPath(import.meta.url));
const shared = resolve(here, "../../../../shared");

/** A NiftiImage as the plain volume the renderers take: scaled intensities, or raw integer labels. */
function volumeOf(image: NiftiImage, scaled = true) {
  const raw = image.data;
  if (raw instanceof BigInt64Array || raw instanceof BigUint64Array)
    throw new Error("64-bit integer labels are not expected here");
  return {
    data: scaled || raw === null ? getScaledData(image) : raw,
    shape: image.shape,
    spacing: image.spacing,
    affine: image.affine,
  };
}

describe("real files", () => {
  const anatomical = join(shared, "fixtures/nifti/nibabel/anatomical.nii");
  it.skipIf(!existsSync(anatomical))(
    "nibabel's anatomical.nii (LAS) looks the same as its RAS reorientation",
    async () => {
      const las = await readNifti(anatomical);
      const ras = asClosestCanonical(las);
      const a = volumeOf(las);
      const b = volumeOf(ras);
      for (const [plane, ia, ib] of [
        ["axial", 12, 12],
        ["coronal", 20, 20],
        ["sagittal", 10, 32 - 10],
      ] as const) {
        const pa = slicePanel({ image: a, plane, index: ia });
        const pb = slicePanel({ image: b, plane, index: ib });
        expect(sameBytes(pb.image.data, pa.image.data)).toBe(true);
      }
    },
  );
  if (!existsSync(anatomical)) console.warn(`skipping the fixture test: ${anatomical} is absent`);

  const id = "Brats18_CBICA_ABM_1";
  const caseDir = join(shared, "data/brats", id);
  const predPath = join(shared, "data/peer-predictions/deepbrainseg", `${id}.nii.gz`);
  const haveCase = existsSync(caseDir) && existsSync(predPath);
  if (!haveCase)
    console.warn(`skipping the real-case test: ${caseDir} or ${predPath} is absent (../shared)`);

  it.skipIf(!haveCase)(
    `renders ${id}: three planes and ground truth vs DeepBrainSeg, tumour on the correct side`,
    async () => {
      const [flairImg, t1ceImg, segImg, predImg] = await Promise.all([
        readNifti(join(caseDir, `${id}_flair.nii.gz`)),
        readNifti(join(caseDir, `${id}_t1ce.nii.gz`)),
        readNifti(join(caseDir, `${id}_seg.nii.gz`)),
        readNifti(predPath),
      ]);
      const seg = volumeOf(segImg, false);
      const three = renderThreePlanePng({ image: volumeOf(flairImg), labels: seg });
      const comparison = renderComparisonPng({
        image: volumeOf(t1ceImg),
        gt: seg,
        pred: volumeOf(predImg, false),
        predLabelMap: { 3: 4 },
      });
      const out = mkdtempSync(join(tmpdir(), "brats-viz-"));
      writeFileSync(join(out, `${id}_three_plane.png`), three);
      writeFileSync(join(out, `${id}_comparison.png`), comparison);
      console.warn(`real-case pictures written to ${out}`);

      const threeRgba = await decodePng(three);
      const cmpRgba = await decodePng(comparison);
      // 1 mm voxels at 2 px/mm, cropped to the head: each panel is twice its crop, the crop lies in the
      // slice (240×240 axial, 240×155 coronal and sagittal), and the figure holds the three side by side
      const flair = volumeOf(flairImg);
      const panels = threePlaneFigure({ image: flair, labels: seg }).panels as SlicePanel[];
      const sliceSizes = [
        [240, 240],
        [240, 155],
        [240, 155],
      ];
      panels.forEach((p, i) => {
        expect([p.image.width, p.image.height]).toEqual([2 * p.crop.width, 2 * p.crop.height]);
        expect(p.crop.x + p.crop.width).toBeLessThanOrEqual(sliceSizes[i]![0]!);
        expect(p.crop.y + p.crop.height).toBeLessThanOrEqual(sliceSizes[i]![1]!);
        expect(p.crop.width).toBeGreaterThan(120); // a whole head, not a sliver
      });
      expect(threeRgba.width).toBeGreaterThan(panels.reduce((w, p) => w + p.image.width, 0));
      expect(threeRgba.height).toBeGreaterThan(Math.max(...panels.map((p) => p.image.height)));
      // Cropping only removes background: the cropped panel is a window into the uncropped one.
      const whole = slicePanel({
        image: flair,
        labels: seg,
        plane: "axial",
        index: panels[0]!.geometry.index,
        crop: false,
      });
      const c = panels[0]!.crop;
      for (let y = 0; y < panels[0]!.image.height; y += 3) {
        const from = ((2 * c.y + y) * whole.image.width + 2 * c.x) * 4;
        const row = whole.image.data.subarray(from, from + panels[0]!.image.width * 4);
        expect(row).toEqual(
          panels[0]!.image.data.subarray(
            y * panels[0]!.image.width * 4,
            (y + 1) * panels[0]!.image.width * 4,
          ),
        );
      }

      // Where is the tumour? Its centroid in world RAS+ from the affine, independently of the renderer.
      const [nx, ny] = seg.shape as [number, number, number];
      let sum = [0, 0, 0];
      let n = 0;
      for (let at = 0; at < seg.data.length; at++) {
        if (!seg.data[at]) continue;
        const v = [at % nx, Math.floor(at / nx) % ny, Math.floor(at / (nx * ny))];
        sum = sum.map(
          (s, r) =>
            s +
            segImg.affine[r]![0]! * v[0]! +
            segImg.affine[r]![1]! * v[1]! +
            segImg.affine[r]![2]! * v[2]! +
            segImg.affine[r]![3]!,
        );
        n++;
      }
      const worldX = sum[0]! / n;
      expect(Math.abs(worldX)).toBeGreaterThan(10); // clearly lateralised
      // The PNGs hold exactly the composed figures, whose layouts say where the panels are.
      const threeParts = threePlaneFigure({ image: flair, labels: seg });
      const threeLayout = composeFigureWithLayout(threeParts.panels, threeParts);
      expect(sameBytes(threeRgba.data, threeLayout.image.data)).toBe(true);
      const cmpOpts = {
        image: volumeOf(t1ceImg),
        gt: seg,
        pred: volumeOf(predImg, false),
        predLabelMap: { 3: 4 },
      };
      const cmpParts = comparisonFigure(cmpOpts);
      const cmpLayout = composeFigureWithLayout(cmpParts.panels, cmpParts);
      expect(sameBytes(cmpRgba.data, cmpLayout.image.data)).toBe(true);

      // In the axial panel the patient's left is on the screen's right (radiological).
      const axial = threeLayout.layout.panels[0]!;
      const tumourX = centroidIn(threeRgba, axial, isEd)!;
      expect(tumourX > axial.w / 2).toBe(worldX < 0);

      // Every label colour is in the pictures, and the error map has both kinds of error.
      for (const box of threeLayout.layout.panels) {
        for (const test of [isEd, isEt])
          expect(countPixels(threeRgba, box!, test)).toBeGreaterThan(200);
      }
      const errors = cmpLayout.layout.panels[2]!;
      expect(countPixels(cmpRgba, errors, (r, g, b) => r > g + 60 && b > g + 60)).toBeGreaterThan(
        50,
      );
      expect(countPixels(cmpRgba, errors, (r, g, b) => g > r + 60 && b > r + 60)).toBeGreaterThan(
        50,
      );
    },
  );
});

function centroidIn(
  image: RgbaImage,
  box: { x: number; y: number; w: number; h: number },
  test: (r: number, g: number, b: number) => boolean,
): number | null {
  let sx = 0;
  let n = 0;
  for (let y = Math.floor(box.y); y < box.y + box.h; y++) {
    for (let x = Math.floor(box.x); x < box.x + box.w; x++) {
      if (test(...rgbAt(image, x, y))) {
        sx += x;
        n++;
      }
    }
  }
  return n === 0 ? null : sx / n - box.x;
}
