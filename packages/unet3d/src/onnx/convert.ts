/**
 * The table of per-layer converters, by Keras class name: every layer createUNet3D() can produce.
 * The small ones live here; convolutions and normalisations in convert-conv.ts / convert-norm.ts.
 */
import {
  convertConv3D,
  convertConv3DTranspose,
  convertSpatialAttention3D,
} from "./convert-conv.js";
import {
  convertBatchNormalization3D,
  convertGroupNormalization,
  convertInstanceNormalization,
} from "./convert-norm.js";
import {
  activationOf,
  channelsFirstAxis,
  emitActivation,
  int,
  ints,
  oneInput,
  str,
  triple,
  unsupported,
  type LayerConverter,
} from "./graph.js";

const convertReLU: LayerConverter = (c) => {
  const x = oneInput(c);
  const maxValue = c.config["maxValue"];
  if (maxValue !== null && maxValue !== undefined) {
    throw unsupported(`layer "${c.base}": ReLU with maxValue`);
  }
  return emitActivation(c.g, "relu", x, c.base);
};

const convertActivation: LayerConverter = (c) => {
  const x = oneInput(c);
  return emitActivation(c.g, activationOf(c.config), x, c.base);
};

const convertMaxPooling3D: LayerConverter = (c) => {
  const { g, base, config } = c;
  const x = oneInput(c);
  const pool = triple(config["poolSize"], "poolSize", base);
  const strides = triple(config["strides"] ?? pool, "strides", base);
  const padding = config["padding"];
  if (padding !== "valid" && padding !== "same") {
    throw unsupported(`layer "${base}": padding "${String(padding)}"`);
  }
  const out = g.unique(`${base}/out`);
  g.node(
    "MaxPool",
    base,
    [x],
    [out],
    [
      ints("kernel_shape", pool),
      ints("strides", strides),
      padding === "same" ? str("auto_pad", "SAME_UPPER") : ints("pads", [0, 0, 0, 0, 0, 0]),
    ],
  );
  return out;
};

/** Nearest with asymmetric coordinates and floor: out[i] = in[floor(i / s)], a repeat. */
const convertUpSampling3D: LayerConverter = (c) => {
  const { g, base } = c;
  const x = oneInput(c);
  const size = triple(c.config["size"], "size", base);
  const out = g.unique(`${base}/out`);
  g.node(
    "Resize",
    base,
    [x, "", g.floatInit(`${base}/scales`, [5], Float32Array.from([1, 1, ...size]))],
    [out],
    [
      str("mode", "nearest"),
      str("coordinate_transformation_mode", "asymmetric"),
      str("nearest_mode", "floor"),
    ],
  );
  return out;
};

const convertConcatenate: LayerConverter = (c) => {
  const axis = channelsFirstAxis(Number(c.config["axis"] ?? -1), c.outShape.length);
  const out = c.g.unique(`${c.base}/out`);
  c.g.node("Concat", c.base, c.inputs, [out], [int("axis", axis)]);
  return out;
};

/** Dropout is the identity at inference. */
const identity: LayerConverter = (c) => oneInput(c);

export const LAYER_CONVERTERS: ReadonlyMap<string, LayerConverter> = new Map([
  ["Conv3D", convertConv3D],
  ["Conv3DTranspose", convertConv3DTranspose],
  ["BatchNormalization3D", convertBatchNormalization3D],
  ["InstanceNormalization", convertInstanceNormalization],
  ["GroupNormalization", convertGroupNormalization],
  ["ReLU", convertReLU],
  ["Activation", convertActivation],
  ["MaxPooling3D", convertMaxPooling3D],
  ["UpSampling3D", convertUpSampling3D],
  ["Concatenate", convertConcatenate],
  ["SpatialAttention3D", convertSpatialAttention3D],
  ["SpatialDropout3D", identity],
  ["Dropout", identity],
  ["SpatialDropout1D", identity],
  ["SpatialDropout2D", identity],
]);
