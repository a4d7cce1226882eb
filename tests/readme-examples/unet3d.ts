import {
  countTrainableParams,
  createUNet3D,
  loadModel,
  predictVolume,
  registerBratsLayers,
  saveModel,
  selectBackend,
} from "@brats/unet3d";

const backend = await selectBackend("cpu"); // "auto": tfjs-node-gpu, tfjs-node, wasm, cpu
registerBratsLayers(); // the custom layers, so that loadModel can rebuild the model

// A small U-Net (the defaults build the 5,648,784-parameter reference model).
const model = createUNet3D({ modalities: ["flair", "t1ce"], baseFilters: 4, depth: 2, seed: 0 });
await saveModel(model, "unet-small"); // model.json + weights.bin, atomically
const loaded = await loadModel("unet-small");

// Channels-last [D, H, W, C] input; 16³ windows overlapping by half, Gaussian-weighted.
const shape: [number, number, number, number] = [40, 40, 24, 2];
const data = Float32Array.from({ length: 40 * 40 * 24 * 2 }, (_, i) => Math.sin(i / 7));
const labels = await predictVolume(
  loaded,
  { data, shape },
  { windowSize: [16, 16, 16], output: "labels" },
);
console.log(backend.name, countTrainableParams(model), labels.shape); // cpu … [ 40, 40, 24 ]
