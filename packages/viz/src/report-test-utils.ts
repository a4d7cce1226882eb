// A sample inference report for the report tests (HTML tables, escaping, links) and the real-browser
// test: four cases, three with metrics (one undefined value each in TC and ET) and one without ground
// truth, whose id and paths hold characters HTML and URLs treat specially.
import type { InferenceReport, ReportMetrics } from "./report.js";
import { renderComparisonPng, renderThreePlanePng } from "./render.js";
import { syntheticCase } from "./render-test-utils.js";

export const TRICKY_ID = `<b>x</b> & "q" 'a'#1`;

function metrics(
  dice: [number, number | null, number | null],
  hd95: [number, number | null, number | null],
  gtMl: [number, number, number],
): ReportMetrics {
  const set = (i: 0 | 1 | 2) => ({
    dice: dice[i],
    hd95: hd95[i],
    sensitivity: dice[i] === null ? null : 0.5 + i / 10,
    specificity: 0.9995,
    precision: dice[i] === null ? null : 0.25 * (i + 1),
    volumeGtMl: gtMl[i],
    // fields the table ignores, as in a brats-eval --json case
    hd: 1,
    jaccard: 0.5,
  });
  return { WT: set(0), TC: set(1), ET: set(2) };
}

/**
 * WT Dice 0.9, 0.8, 0.1 (mean 0.6000, median 0.8000); TC 0.8, null, 0.5 (mean and median 0.6500);
 * ET null, 0.7, 0.1 (0.4000); WT HD95 2, 5.5, 373.12866 (mean 126.8762, median 5.50).
 */
export function sampleReport(): InferenceReport {
  const lps = syntheticCase("LPS");
  const ras = syntheticCase("RAS", [-8, 4, -2]);
  const three = renderThreePlanePng({ image: lps.image, labels: lps.labels, scale: 2 });
  const comparison = renderComparisonPng({
    image: ras.image,
    gt: ras.labels,
    pred: syntheticCase("RAS", [-6, 4, -2]).labels,
    scale: 3,
  });
  return {
    title: "Run <1> & co",
    date: "2026-11-26T19:30:00.000Z",
    engine: "onnx",
    backend: "cpu",
    software: "brats-infer 0.1.0",
    models: [
      { name: "fold0", path: "runs/fold 0", modelCard: "runs/fold 0/MODEL_CARD.md" },
      { name: "model.onnx", path: "/models/model.onnx", modelCard: null },
    ],
    settings: { tta: true, overlap: 0.5, "ET threshold (voxels)": 200, "min component": null },
    labelConvention: "brats2021",
    cases: [
      {
        id: "BraTS2021_00001",
        segmentation: "BraTS2021_00001.nii.gz",
        seconds: 12.34,
        volumesMl: { WT: 80.5, TC: 30.25, ET: 10 },
        metrics: metrics([0.9, 0.8, null], [2, 3, null], [81, 31, 0]),
        images: [{ title: "Three planes", png: three }],
      },
      {
        id: "BraTS2021_00002",
        segmentation: "BraTS2021_00002.nii.gz",
        seconds: 9.5,
        volumesMl: { WT: 50, TC: 20, ET: 5.125 },
        metrics: metrics([0.8, null, 0.7], [5.5, null, 4], [52, 0, 6]),
        images: [{ title: "Ground truth | prediction | WT errors", png: base64(comparison) }],
        skipped: true,
      },
      {
        id: "BraTS2021_00003",
        segmentation: "BraTS2021_00003.nii.gz",
        seconds: 10,
        volumesMl: { WT: 0.5, TC: 0, ET: 0 },
        metrics: metrics([0.1, 0.5, 0.1], [373.12866, 8, 9], [40, 20, 10]),
      },
      {
        id: TRICKY_ID,
        segmentation: `out/${TRICKY_ID}.nii.gz`,
        seconds: null,
        volumesMl: { WT: 1, TC: null, ET: 0 },
        images: [{ title: `Overlay of ${TRICKY_ID}`, png: three }],
      },
    ],
    failed: [{ id: "BraTS2021_00009", error: "missing t1ce <file>" }],
  };
}

export function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64");
}
