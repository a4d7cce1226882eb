import { labelsToClasses } from "@brats/conventions";
import {
  discoverCases,
  loadCase,
  preprocessCase,
  undoPreprocess,
  writePhantomDataset,
} from "@brats/data";

// Two synthetic BraTS-like cases as NIfTI case folders (a real BraTS folder works the same way).
await writePhantomDataset("phantoms", { cases: 2, shape: [48, 48, 40], seed: 1 });
const cases = await discoverCases("phantoms"); // sorted by id; images and seg per case
const c = await loadCase(cases[0]!, { modalities: ["flair", "t1ce"] });

// Canonical orientation, 1 mm, cropped to the brain plus 4 voxels, z-scored; `record` undoes it.
const { case: pre, record } = preprocessCase(c, { spacing: [1, 1, 1], margin: 4 });
const classes = labelsToClasses(pre.seg!, "brats2021"); // labels 0, 1, 2, 4 → classes 0..3
const back = undoPreprocess({ data: pre.seg! }, record, "labels");

console.log(
  cases.map((x) => x.id),
  c.shape,
  pre.shape,
  Math.max(...classes),
);
console.log(back.data.every((v, i) => v === c.seg![i])); // true: the original grid, voxel for voxel
