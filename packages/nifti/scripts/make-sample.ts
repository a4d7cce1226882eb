// Writes <repo>/samples/sample_t1.nii.gz: a small synthetic T1-like head (no patient data) with BraTS geometry
// (1 mm voxels, LPS axes). Run: node --import tsx packages/nifti/scripts/make-sample.ts
import { fileURLToPath } from "node:url";
import { createImage, writeNifti } from "../src/index.js";

const [nx, ny, nz] = [64, 64, 40];
const data = new Int16Array(nx * ny * nz);
for (let k = 0; k < nz; k++) {
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const x = (i - nx / 2) / 28;
      const y = (j - ny / 2) / 30;
      const z = (k - nz / 2) / 18;
      const head = x * x + y * y + z * z;
      const lesion = ((i - 40) / 6) ** 2 + ((j - 26) / 7) ** 2 + ((k - 22) / 5) ** 2;
      let value = head < 1 ? 600 + Math.round(200 * Math.cos(i / 3) * Math.sin(j / 4)) : 0;
      if (head < 0.15) value = 300; // ventricles: dark on T1
      if (lesion < 1) value = 900;
      data[i + nx * (j + ny * k)] = value;
    }
  }
}
// BraTS volumes are LPS: x and y flipped, origin at the far corner of y.
const affine = [
  [-1, 0, 0, 0],
  [0, -1, 0, ny - 1],
  [0, 0, 1, 0],
  [0, 0, 0, 1],
];
const image = createImage({
  data,
  shape: [nx, ny, nz],
  affine,
  description: "@brats synthetic sample",
});
await writeNifti(
  image,
  fileURLToPath(new URL("../../../samples/sample_t1.nii.gz", import.meta.url)),
);
