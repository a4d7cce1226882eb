// Pictures of one real BraTS case with its ground truth and the DeepBrainSeg peer prediction.
//
//   pnpm --filter @brats/viz exec tsx scripts/render-real-case.ts [caseId] [--out DIR] [--shared DIR]
//
// Always writes the README figure, docs/<caseId>.png (FLAIR in three planes with the ground truth;
// T1ce with ground truth | prediction | error map). With --out it also writes every renderer's
// picture there (three-plane, comparison, montage, contour overlay), which are not committed.
// The data are read from ../shared (beside the repository) and never copied; only the rendered
// figure is committed, with the data's citation under it.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { getScaledData, readNifti, type NiftiImage } from "@brats/nifti";
import {
  comparisonFigure,
  composeFigure,
  encodePng,
  renderComparisonPng,
  renderMontagePng,
  renderOverlayPng,
  renderThreePlanePng,
  threePlaneFigure,
  type Volume,
} from "../src/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const id =
  args.find((a, i) => !a.startsWith("--") && !args[i - 1]?.startsWith("--")) ??
  "Brats18_CBICA_ABM_1";
const shared = resolve(option("--shared") ?? join(here, "../../../../shared"));
const out = option("--out");

function volumeOf(image: NiftiImage, scaled = true): Volume {
  const raw = image.data;
  if (raw === null || raw instanceof BigInt64Array || raw instanceof BigUint64Array || scaled) {
    return {
      data: getScaledData(image),
      shape: image.shape,
      spacing: image.spacing,
      affine: image.affine,
    };
  }
  return { data: raw, shape: image.shape, spacing: image.spacing, affine: image.affine };
}

const caseDir = join(shared, "data/brats", id);
const [flair, t1ce, seg, pred] = await Promise.all([
  readNifti(join(caseDir, `${id}_flair.nii.gz`)).then((i) => volumeOf(i)),
  readNifti(join(caseDir, `${id}_t1ce.nii.gz`)).then((i) => volumeOf(i)),
  readNifti(join(caseDir, `${id}_seg.nii.gz`)).then((i) => volumeOf(i, false)),
  readNifti(join(shared, "data/peer-predictions/deepbrainseg", `${id}.nii.gz`)).then((i) =>
    volumeOf(i, false),
  ),
]);
// DeepBrainSeg writes enhancing tumour as 3; the ground truth (BraTS 2018) as 4.
const predLabelMap = { 3: 4 };
const dataCredit = "BraTS data: Menze et al., IEEE TMI 2015; Bakas et al., Sci Data 2017.";
const citation = `${dataCredit} Prediction: DeepBrainSeg.`;

// The README figure: two rows of three panels at 1.25 px/mm.
const scale = 1.25;
const three = threePlaneFigure({ image: flair, labels: seg, scale });
const comparison = comparisonFigure({ image: t1ce, gt: seg, pred, predLabelMap, scale });
const planes = ["axial", "coronal", "sagittal"];
const figure = composeFigure(
  [
    ...three.panels.map((p, i) => ({
      ...p,
      title: `FLAIR, ${planes[i]} ${p.title?.replace(/^\w+ slice /, "slice ") ?? ""}`,
    })),
    ...comparison.panels.map((p, i) => ({
      ...p,
      title:
        i === 0
          ? "T1ce, ground truth"
          : i === 1
            ? "T1ce, DeepBrainSeg"
            : `${p.title ?? ""}, ${comparison.title?.toLowerCase() ?? ""}`,
    })),
  ],
  {
    columns: 3,
    title: `${id}: ground truth and a peer prediction`,
    legend: comparison.legend,
    caption: citation,
    fontSize: 13,
  },
);
const docs = join(here, "../docs");
mkdirSync(docs, { recursive: true });
const readmePng = encodePng(figure, {
  level: 9,
  text: { Source: `${id}, rendered by @brats/viz scripts/render-real-case.ts`, Credit: citation },
});
writeFileSync(join(docs, `${id}.png`), readmePng);
console.log(
  `wrote ${join(docs, `${id}.png`)} (${figure.width}×${figure.height}, ${(readmePng.length / 1024).toFixed(0)} KiB)`,
);

if (out) {
  mkdirSync(out, { recursive: true });
  const pictures: Record<string, Uint8Array> = {
    three_plane: renderThreePlanePng({ image: flair, labels: seg, caption: dataCredit }),
    comparison: renderComparisonPng({
      image: t1ce,
      gt: seg,
      pred,
      predLabelMap,
      predTitle: "DeepBrainSeg",
      caption: citation,
    }),
    montage: renderMontagePng({
      volumes: [
        { name: "FLAIR", volume: flair },
        { name: "T1ce", volume: t1ce },
      ],
      labels: seg,
      slices: 4,
      caption: dataCredit,
    }),
    contour_coronal: renderOverlayPng({
      image: flair,
      labels: seg,
      plane: "coronal",
      mode: "contour",
      caption: dataCredit,
    }),
  };
  for (const [name, png] of Object.entries(pictures)) {
    const path = join(out, `${id}_${name}.png`);
    writeFileSync(path, png);
    console.log(`wrote ${path}`);
  }
}
