import { writeFile } from "node:fs/promises";
import { generatePhantom } from "@brats/data";
import { renderOverlayPng, renderThreePlanePng, type Volume } from "@brats/viz";

const p = generatePhantom({ shape: [96, 96, 64], seed: 2 });
const geometry = { shape: p.shape, spacing: p.spacing, affine: p.affine };
const flair: Volume = { data: p.channels[0]!, ...geometry };
const seg: Volume = { data: p.seg, ...geometry };

// The axial slice with the largest tumour area, labels blended at 40 %, L/R/A/P markers, a legend.
await writeFile("overlay.png", renderOverlayPng({ image: flair, labels: seg }));
// Axial, coronal and sagittal side by side, labels as contours.
await writeFile(
  "three-plane.png",
  renderThreePlanePng({ image: flair, labels: seg, mode: "contour" }),
);
