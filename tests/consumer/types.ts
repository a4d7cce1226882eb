// Type-checked (never run) in an empty npm project where the packed @brats tarballs were installed,
// once with moduleResolution NodeNext and once with Bundler: every package's public types must
// resolve to real declarations, not to `any`.
import type { Affine, NiftiError, NiftiErrorCode, NiftiHeader, NiftiImage } from "@brats/nifti";
import { createImage, serializeNifti } from "@brats/nifti";
import type {
  ConventionsErrorCode,
  EpochRecord,
  LabelConvention,
  RegionName,
  TrainingLog,
} from "@brats/conventions";
import { labelsToClasses, regionLabels } from "@brats/conventions";
import type { Ornt } from "@brats/nifti/orientation";
import { ioOrientation } from "@brats/nifti/orientation";
import type { CaseFiles, DataErrorCode, LoadedCase, Phantom } from "@brats/data";
import { generatePhantom } from "@brats/data";
import type { CaseMetrics, MetricSet, MetricsErrorCode, Summary } from "@brats/metrics";
import { evaluateCase } from "@brats/metrics";
import type { RenderOverlayOptions, RgbaImage, Volume } from "@brats/viz";
import { renderOverlayPng } from "@brats/viz";
import type { Plane, Window } from "@brats/viz/core";
import type {
  BackendReport,
  OnnxModel,
  PredictOptions,
  PredictResult,
  TrainOptions,
  UNet3DConfig,
  UNet3DErrorCode,
} from "@brats/unet3d";
import { createUNet3D } from "@brats/unet3d";
import type { RunOnnxBytes, RunRecord, RunsErrorCode, TrainConfig } from "@brats/runs";
import { DEFAULT_CONFIG, runMetadata } from "@brats/runs";
import type { AddonLoad, KernelStats, OnednnErrorCode, OnednnInfo } from "@brats/tfjs-onednn";
import { conv3dGeometry, registerOnednnKernels } from "@brats/tfjs-onednn";
import type { LayersModel } from "@tensorflow/tfjs-layers";

// `true` only when T is a real type; an unresolved import would make it `any` and this `false`.
type NotAny<T> = 0 extends 1 & T ? false : true;
export const resolved: [
  NotAny<ConventionsErrorCode>,
  NotAny<EpochRecord>,
  NotAny<RegionName>,
  NotAny<TrainingLog>,
  NotAny<Ornt>,
  NotAny<Affine>,
  NotAny<NiftiError>,
  NotAny<NiftiErrorCode>,
  NotAny<NiftiHeader>,
  NotAny<NiftiImage>,
  NotAny<CaseFiles>,
  NotAny<DataErrorCode>,
  NotAny<LabelConvention>,
  NotAny<LoadedCase>,
  NotAny<Phantom>,
  NotAny<CaseMetrics>,
  NotAny<MetricSet>,
  NotAny<MetricsErrorCode>,
  NotAny<Summary>,
  NotAny<RenderOverlayOptions>,
  NotAny<RgbaImage>,
  NotAny<Volume>,
  NotAny<Plane>,
  NotAny<Window>,
  NotAny<BackendReport>,
  NotAny<OnnxModel>,
  NotAny<PredictOptions>,
  NotAny<PredictResult>,
  NotAny<TrainOptions>,
  NotAny<UNet3DConfig>,
  NotAny<UNet3DErrorCode>,
  NotAny<ReturnType<typeof createUNet3D>>,
  NotAny<RunOnnxBytes>,
  NotAny<RunRecord>,
  NotAny<RunsErrorCode>,
  NotAny<TrainConfig>,
  NotAny<AddonLoad>,
  NotAny<KernelStats>,
  NotAny<OnednnErrorCode>,
  NotAny<OnednnInfo>,
] = [
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
];

// Values flow between packages with the declared types.
const phantom: Phantom = generatePhantom({ shape: [16, 16, 16], seed: 1 });
const image: NiftiImage = createImage({ data: phantom.seg, shape: [...phantom.shape] });
export const bytes: Uint8Array = serializeNifti(image, { gzip: true });
const m: CaseMetrics = evaluateCase(phantom.seg, phantom.seg, phantom.shape, phantom.spacing);
export const dice: number = m.regions.WT.dice;
export const png: Uint8Array = renderOverlayPng({
  image: { data: phantom.seg, shape: phantom.shape },
});
export const classes: Uint8Array = labelsToClasses(phantom.seg, "brats2021");
export const orientation: Ornt = ioOrientation(phantom.affine);
export const model: LayersModel = createUNet3D({ baseFilters: 4, depth: 2 });
export const config: TrainConfig = { ...DEFAULT_CONFIG, data: "data", out: "run" };
export const windowSize: Promise<[number, number, number]> = runMetadata("run").then(
  (m) => m.windowSize,
);
export const onednn: () => OnednnInfo = () => registerOnednnKernels({ threads: 2 });
export const outDepth: number = conv3dGeometry([1, 8, 8, 8, 2], [3, 3, 3, 2, 4], 1, "same").od;
const plane: Plane = "axial";
export { plane };

// Wrong uses must be type errors (each directive fails the check if its line compiles).
// @ts-expect-error depth is a number
createUNet3D({ depth: "4" });
// @ts-expect-error an unknown label convention
evaluateCase(phantom.seg, phantom.seg, phantom.shape, phantom.spacing, { convention: "brats1999" });
// @ts-expect-error a checkpoint that does not exist
runMetadata("run", { checkpoint: "first" });
// @ts-expect-error a region that does not exist
regionLabels("NCR");
// @ts-expect-error threads is a number
registerOnednnKernels({ threads: "all" });
// @ts-expect-error a plane that does not exist
export const badPlane: Plane = "oblique";
