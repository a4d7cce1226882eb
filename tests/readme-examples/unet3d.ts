import {
  countTrainableParams,
  createUNet3D,
  loadModel,
  loadOnnxModel,
  predictVolume,
  saveModel,
  saveOnnx,
  setupTfjs,
} from "@brats/unet3d";

// The backend ("auto": tfjs-node-gpu, tfjs-node, wasm with its fast Conv3D, cpu) and the custom
// layers, so that loadModel can rebuild the model.
const backend = await setupTfjs({ backend: "cpu" });

// A small U-Net (the defaults build the 5,648,784-parameter reference model).
const model = createUNet3D({ modalities: ["flair", "t1ce"], baseFilters: 4, depth: 2, seed: 0 });
await saveModel(model, "unet-small"); // model.json + weights.bin, atomically
const loaded = await loadModel("unet-small");

// Channels-last [D, H, W, C] input; 16³ windows overlapping by half, Gaussian-weighted.
const shape: [number, number, number, number] = [40, 40, 24, 2];
const data = Float32Array.from({ length: 40 * 40 * 24 * 2 }, (_, i) => Math.sin(i / 7));
const options = { windowSize: [16, 16, 16] as [number, number, number], output: "labels" as const };
const labels = await predictVolume(loaded, { data, shape }, options);

// The same model exported to ONNX and run by onnxruntime-node (executionProviders: ["cuda"] on a GPU).
await saveOnnx(loaded, "unet-small.onnx");
const session = await loadOnnxModel("unet-small.onnx");
const viaOnnx = await predictVolume(session, { data, shape }, options);
await session.dispose();

let same = 0;
for (let i = 0; i < labels.data.length; i++) if (labels.data[i] === viaOnnx.data[i]) same++;
console.log(backend.name, countTrainableParams(model), labels.shape, same / labels.data.length);
// cpu 21646 [ 40, 40, 24 ] 1
