import { generatePhantom } from "@brats/data";
import { evaluateCase } from "@brats/metrics";

const gt = generatePhantom({ shape: [64, 64, 64], seed: 3 }); // labels 1 NCR, 2 ED, 4 ET
// A prediction that calls all enhancing tumour necrosis: whole tumour and core are right, ET is missed.
const pred = gt.seg.map((v) => (v === 4 ? 1 : v));

const m = evaluateCase(pred, gt.seg, gt.shape, gt.spacing, { convention: "brats2021" });
console.log(m.regions.WT.dice, m.regions.TC.dice, m.regions.ET.dice, m.regions.ET.hd95);
// 1 1 0 373.12866 (an empty prediction scores the image diagonal, as nnU-Net's BraTS evaluation)
