import { axcodes, createImage, getScaledData, readNifti, writeNifti } from "@brats/nifti";

// A 4×3×2 int16 volume (x fastest) with the LPS affine BraTS files carry.
const image = createImage({
  data: Int16Array.from({ length: 24 }, (_, i) => i * 10),
  shape: [4, 3, 2],
  spacing: [1, 1, 1],
  affine: [
    [-1, 0, 0, 0],
    [0, -1, 0, 2],
    [0, 0, 1, 0],
    [0, 0, 0, 1],
  ],
});
await writeNifti(image, "example.nii.gz"); // gzipped because of .gz; atomic (temp file, then rename)

const back = await readNifti("example.nii.gz");
console.log(back.shape, back.datatype, axcodes(back.affine), getScaledData(back)[23]);
// [ 4, 3, 2 ] int16 LPS 230
