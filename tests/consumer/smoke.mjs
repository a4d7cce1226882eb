// Runs in an empty npm project where the packed @brats tarballs were installed: imports every public
// package the way a user would (plain ESM, no source condition) and does real work with each. Prints
// one JSON object that tests/release.test.ts checks.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import * as conventions from "@brats/conventions";
import * as data from "@brats/data";
import * as metrics from "@brats/metrics";
import * as nifti from "@brats/nifti";
import * as niftiOrientation from "@brats/nifti/orientation";
import * as runs from "@brats/runs";
import * as onednn from "@brats/tfjs-onednn";
import * as unet3d from "@brats/unet3d";
import * as viz from "@brats/viz";
import * as vizCore from "@brats/viz/core";

const result = {};

// Where each package resolved from: the installed tarballs, never the monorepo's sources.
result.resolved = Object.fromEntries(
  [
    "@brats/conventions",
    "@brats/nifti",
    "@brats/nifti/orientation",
    "@brats/data",
    "@brats/metrics",
    "@brats/viz",
    "@brats/viz/core",
    "@brats/unet3d",
    "@brats/runs",
    "@brats/tfjs-onednn",
  ].map((name) => [name, fileURLToPath(import.meta.resolve(name))]),
);

// @brats/conventions: regions, class maps and a log.jsonl round trip; the orientation entry of nifti.
const epoch = { epoch: 1, loss: 0.5, lr: 0.01, val: { WT: 0.9, TC: 0.8, ET: 0.7 }, time: 2 };
result.conventions = {
  regions2023: conventions.labelConvention("brats2023").regions,
  classes: Array.from(conventions.labelsToClasses([0, 1, 2, 4], "brats2021")),
  labels2023: Array.from(conventions.classesToLabels([0, 1, 2, 3], "brats2023")),
  epochs: conventions.parseTrainingLog(conventions.formatEpochLine(epoch)).epochs,
  orientation: niftiOrientation.ioOrientation([
    [-1, 0, 0, 0],
    [0, -1, 0, 0],
    [0, 0, 1, 0],
    [0, 0, 0, 1],
  ]),
};

// @brats/nifti: createImage → serializeNifti (gzip) → parseNifti round trip.
const voxels = Float32Array.from({ length: 5 * 4 * 3 }, (_, i) => i / 4 - 3);
const affine = [
  [-1.5, 0, 0, 10],
  [0, -1, 0, 20],
  [0, 0, 2, -30],
  [0, 0, 0, 1],
];
const image = nifti.createImage({ data: voxels, shape: [5, 4, 3], affine });
const bytes = nifti.serializeNifti(image, { gzip: true });
const parsed = nifti.parseNifti(bytes);
result.nifti = {
  gzip: bytes[0] === 0x1f && bytes[1] === 0x8b,
  shape: parsed.shape,
  datatype: parsed.datatype,
  spacing: parsed.spacing,
  axcodes: nifti.axcodes(parsed.affine),
  dataEqual: parsed.data.length === voxels.length && voxels.every((v, i) => parsed.data[i] === v),
  affineEqual: affine.every((row, r) => row.every((v, c) => parsed.affine[r][c] === v)),
};

// @brats/data: a seeded phantom.
const phantom = data.generatePhantom({ shape: [48, 48, 32], seed: 5 });
const labelCounts = {};
for (const v of phantom.seg) labelCounts[v] = (labelCounts[v] ?? 0) + 1;
result.data = { shape: phantom.shape, modalities: phantom.modalities, labelCounts };

// @brats/metrics: Dice of the phantom against itself and against a copy shifted by one voxel in x.
const [nx, ny, nz] = phantom.shape;
const shifted = new Uint8Array(phantom.seg.length);
for (let z = 0; z < nz; z++)
  for (let y = 0; y < ny; y++)
    for (let x = 1; x < nx; x++)
      shifted[x + nx * (y + ny * z)] = phantom.seg[x - 1 + nx * (y + ny * z)];
const self = metrics.evaluateCase(phantom.seg, phantom.seg, phantom.shape, phantom.spacing);
const moved = metrics.evaluateCase(shifted, phantom.seg, phantom.shape, phantom.spacing);
const wt = (s) => s.regions.WT;
result.metrics = {
  selfDice: { WT: wt(self).dice, TC: self.regions.TC.dice, ET: self.regions.ET.dice },
  shiftedDiceWT: wt(moved).dice,
  shiftedHd95WT: wt(moved).hd95,
};

// @brats/viz: an overlay PNG; @brats/viz/core: a slice's orientation from the affine, without a canvas.
const geometry = { shape: phantom.shape, spacing: phantom.spacing, affine: phantom.affine };
const png = viz.renderOverlayPng({
  image: { data: phantom.channels[0], ...geometry },
  labels: { data: phantom.seg, ...geometry },
});
const header = new DataView(png.buffer, png.byteOffset, png.byteLength);
const coreAxial = (g) => ({ markers: g.markers, topLeftVoxel: g.voxelOf(0, 0) });
result.viz = {
  signature: Array.from(png.subarray(0, 8)),
  expectedSignature: Array.from(viz.PNG_SIGNATURE),
  width: header.getUint32(16),
  height: header.getUint32(20),
  coreAxial: coreAxial(vizCore.sliceGeometry({ data: phantom.seg, ...geometry }, "axial")),
};

// @brats/unet3d: a small U-Net on the cpu backend, sliding-window probabilities over a volume.
const backend = await unet3d.setupTfjs({ backend: "cpu" });
const model = unet3d.createUNet3D({
  modalities: ["flair", "t1ce"],
  baseFilters: 4,
  depth: 2,
  seed: 1,
});
const inputShape = [20, 24, 16, 2];
const input = Float32Array.from({ length: 20 * 24 * 16 * 2 }, (_, i) => Math.cos(i / 5));
const probabilities = await unet3d.predictVolume(
  model,
  { data: input, shape: inputShape },
  { windowSize: [16, 16, 16], overlap: 0.25, output: "probabilities" },
);
let worstSum = 0;
for (let v = 0; v < probabilities.data.length / 4; v++) {
  const p = probabilities.data;
  worstSum = Math.max(
    worstSum,
    Math.abs(p[4 * v] + p[4 * v + 1] + p[4 * v + 2] + p[4 * v + 3] - 1),
  );
}
result.unet3d = {
  backend: backend.name,
  params: unet3d.countTrainableParams(model),
  outputShape: probabilities.shape,
  worstProbabilitySumError: worstSum,
};

// ONNX: export the same model, run one window in onnxruntime-node (CPU), compare with TF.js.
const window = input.subarray(0, 16 * 16 * 16 * 2);
const session = await unet3d.loadOnnxModel(unet3d.exportOnnx(model));
const fromOnnx = await session.predictWindows(window, [1, 16, 16, 16, 2]);
const fromTfjs = tf.tidy(() => model.predict(tf.tensor5d(window, [1, 16, 16, 16, 2])).dataSync());
let maxAbsDiff = 0;
for (let i = 0; i < fromTfjs.length; i++)
  maxAbsDiff = Math.max(maxAbsDiff, Math.abs(fromOnnx[i] - fromTfjs[i]));
result.onnx = {
  executionProviders: session.executionProviders,
  outputLength: fromOnnx.length,
  tfjsLength: fromTfjs.length,
  maxAbsDiff,
};
await session.dispose();

// @brats/runs: a run folder made by hand around the same model (config.json, last/), its metadata,
// its ONNX export in memory, its model card, and the error of a missing checkpoint.
const runDir = await mkdtemp(join(tmpdir(), "brats-smoke-run-"));
try {
  await runs.writeRunRecord(runDir, {
    config: {
      ...runs.DEFAULT_CONFIG,
      data: "data",
      out: runDir,
      modalities: ["flair", "t1ce"],
      baseFilters: 4,
      depth: 2,
      patch: 16,
    },
    backend: backend.name,
    split: { train: ["a", "b"], val: [] },
    started: "2026-01-01T00:00:00.000Z",
  });
  await unet3d.saveModel(model, join(runDir, "last"));
  // What train() saves before its first step.
  const state = {
    version: 1,
    step: 0,
    epoch: 1,
    stepInEpoch: 0,
    epochLossSum: 0,
    elapsed: 0,
    bestScore: null,
    bestEpoch: null,
    validationsSinceBest: 0,
    history: [],
    sourceState: null,
    dropoutCalls: {},
    moments: [],
    logBytes: 0,
    csvBytes: 0,
    finished: null,
  };
  await writeFile(join(runDir, "last", unet3d.TRAIN_STATE_JSON), JSON.stringify(state));
  const exported = await runs.runOnnxBytes(runDir);
  const fromRun = await unet3d.loadOnnxModel(exported.onnx);
  const fromRunOut = await fromRun.predictWindows(window, [1, 16, 16, 16, 2]);
  let runMaxAbsDiff = 0;
  for (let i = 0; i < fromTfjs.length; i++)
    runMaxAbsDiff = Math.max(runMaxAbsDiff, Math.abs(fromRunOut[i] - fromTfjs[i]));
  await fromRun.dispose();
  let missingBest = null;
  try {
    runs.checkpointOf(runDir, "best");
  } catch (error) {
    missingBest = error instanceof runs.RunsError ? error.code : String(error);
  }
  const card = await readFile(await runs.writeModelCard(runDir), "utf8");
  result.runs = {
    checkpoint: exported.checkpoint,
    windowSize: exported.metadata.windowSize,
    parametersEqual: exported.parameters === unet3d.countTrainableParams(model),
    runMaxAbsDiff,
    missingBest,
    cardStatus: /Status: [^.]*\./.exec(card)?.[0] ?? null,
  };
} finally {
  await rm(runDir, { recursive: true, force: true });
}

// @brats/tfjs-onednn: the addon its install script built from the tarball, put in front of the wasm
// kernels by setupTfjs; a Conv3D there agrees with the cpu backend.
{
  const load = onednn.loadAddon();
  const xShape = [1, 6, 6, 6, 3];
  const wShape = [3, 3, 3, 3, 4];
  const xs = Float32Array.from({ length: 6 * 6 * 6 * 3 }, (_, i) => Math.sin(i / 3));
  const ws = Float32Array.from({ length: 3 * 3 * 3 * 3 * 4 }, (_, i) => Math.cos(i / 7));
  const conv = () => tf.conv3d(tf.tensor5d(xs, xShape), tf.tensor5d(ws, wShape), 1, "same");
  const wasm = await unet3d.setupTfjs({ backend: "wasm" });
  onednn.resetOnednnStats();
  const onWasm = await conv().data();
  const nativeCalls = onednn.getOnednnStats().Conv3D?.native ?? 0;
  await tf.setBackend("cpu");
  const onCpu = await conv().data();
  let maxAbsDiff = 0;
  for (let i = 0; i < onCpu.length; i++)
    maxAbsDiff = Math.max(maxAbsDiff, Math.abs(onWasm[i] - onCpu[i]));
  result.onednn = {
    ok: load.ok,
    reason: load.ok ? null : load.reason,
    path: load.ok ? load.path : null,
    kernels: wasm.kernels,
    nativeCalls,
    maxAbsDiff,
  };
}

console.log(JSON.stringify(result));
