/**
 * Converters of the convolutional layers: Conv3D, Conv3DTranspose and SpatialAttention3D (whose
 * gate is a convolution). Kernels are re-laid out from TF.js' taps-first to ONNX's taps-last.
 */
import type { Attr } from "./encode.js";
import {
  activationOf,
  emitActivation,
  int,
  ints,
  oneInput,
  requireWeight,
  str,
  triple,
  unsupported,
  weightsOf,
  type GraphBuilder,
  type LayerConverter,
} from "./graph.js";

type Triple = [number, number, number];

/**
 * Kernel [k..., A, B] (TF.js, taps first) → [B, A, k...] (ONNX, taps last). A Conv3D kernel
 * [k..., Cin, Cout] becomes Conv's [Cout, Cin, k...]; a conv3dTranspose kernel [k..., Cout, Cin]
 * becomes ConvTranspose's [Cin, Cout, k...].
 */
export function kernelToOnnx(data: Float32Array, taps: number, a: number, b: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let t = 0; t < taps; t++)
    for (let i = 0; i < a; i++)
      for (let j = 0; j < b; j++) out[(j * a + i) * taps + t] = data[(t * a + i) * b + j]!;
  return out;
}

/** Conv pads (or auto_pad) of a TF padding mode. */
function convPadding(padding: unknown, kernel: Triple, strides: Triple, base: string): Attr {
  if (padding === "same") {
    if (strides.every((s) => s === 1)) {
      // TF 'same' with stride 1: k − 1 padding, the odd one at the end.
      const before = kernel.map((kk) => Math.floor((kk - 1) / 2));
      const after = kernel.map((kk, i) => kk - 1 - before[i]!);
      return ints("pads", [...before, ...after]);
    }
    return str("auto_pad", "SAME_UPPER");
  }
  if (padding === "valid") return ints("pads", [0, 0, 0, 0, 0, 0]);
  throw unsupported(`layer "${base}": padding "${String(padding)}"`);
}

export const convertConv3D: LayerConverter = (c) => {
  const { g, base, config } = c;
  const x = oneInput(c);
  const kernel = triple(config["kernelSize"], "kernelSize", base);
  const strides = triple(config["strides"] ?? 1, "strides", base);
  const dilation = triple(config["dilationRate"] ?? 1, "dilationRate", base);
  if (dilation.some((d) => d !== 1)) throw unsupported(`layer "${base}": dilation ≠ 1`);
  if ((config["dataFormat"] ?? "channelsLast") !== "channelsLast") {
    throw unsupported(`layer "${base}": dataFormat must be channelsLast`);
  }
  const weights = weightsOf(c.layer);
  const k = requireWeight(weights, "kernel", base);
  const [, , , cin, cout] = k.shape as [number, number, number, number, number];
  const taps = kernel[0] * kernel[1] * kernel[2];
  const weight = kernelToOnnx(k.data, taps, cin, cout);
  const bias = weights.get("bias")?.data ?? new Float32Array(cout);
  const attrs: Attr[] = [
    ints("kernel_shape", kernel),
    ints("strides", strides),
    convPadding(config["padding"], kernel, strides, base),
  ];
  const wName = g.floatInit(`${base}/weight`, [cout, cin, ...kernel], weight);
  const bName = g.floatInit(`${base}/bias`, [cout], bias);
  const out = g.unique(`${base}/out`);
  g.node("Conv", base, [x, wName, bName], [out], attrs);
  const activation = activationOf(config);
  if (activation === "linear") c.foldableConvs.set(out, { weight, bias, outChannels: cout });
  return emitActivation(g, activation, out, base);
};

export const convertConv3DTranspose: LayerConverter = (c) => {
  const { g, base, config } = c;
  const x = oneInput(c);
  const kernel = triple(config["kernelSize"], "kernelSize", base);
  const strides = triple(config["strides"] ?? 1, "strides", base);
  const dilation = triple(config["dilationRate"] ?? 1, "dilationRate", base);
  if (dilation.some((d) => d !== 1)) throw unsupported(`layer "${base}": dilation ≠ 1`);
  const padding = config["padding"];
  // 'same' with kernel = stride needs no padding and equals 'valid'; other 'same' cases
  // crop asymmetrically in ways ONNX's auto_pad does not match reliably.
  if (!(
    padding === "valid" ||
    (padding === "same" && kernel.every((kk, i) => kk === strides[i]))
  )) {
    throw unsupported(
      `layer "${base}": Conv3DTranspose padding "${String(padding)}" with kernel ≠ stride`,
    );
  }
  const weights = weightsOf(c.layer);
  const k = requireWeight(weights, "kernel", base);
  const [, , , cout, cin] = k.shape as [number, number, number, number, number];
  const taps = kernel[0] * kernel[1] * kernel[2];
  const weight = kernelToOnnx(k.data, taps, cout, cin);
  const bias = weights.get("bias")?.data ?? new Float32Array(cout);
  const activation = activationOf(config);
  if (kernel[0] === strides[0]) {
    const up = depthFoldedConvTranspose(g, base, x, weight, bias, cin, cout, kernel, strides);
    return emitActivation(g, activation, up, base);
  }
  const wName = g.floatInit(`${base}/weight`, [cin, cout, ...kernel], weight);
  const bName = g.floatInit(`${base}/bias`, [cout], bias);
  const out = g.unique(`${base}/out`);
  g.node(
    "ConvTranspose",
    base,
    [x, wName, bName],
    [out],
    [ints("kernel_shape", kernel), ints("strides", strides), ints("pads", [0, 0, 0, 0, 0, 0])],
  );
  return emitActivation(g, activation, out, base);
};

/**
 * A 3D transposed convolution whose depth kernel equals its depth stride (no overlap along D, as
 * the U-Net's 2×2×2 stride-2 up-convolutions) as a 2D one over the depth slices: output slice
 * d·kD + kd of channel co is the 2D transposed convolution of input slice d with tap kd, so the kD
 * taps become kD·Cout output channels and a reshape interleaves them back along D.
 * onnxruntime's 3D ConvTranspose scatters its columns back with a generic N-d col2im; this form
 * took 0.17 s instead of 0.30 s for a [1, 32, 64³] → [1, 16, 128³] up-convolution here.
 * x [N, Cin, D, H, W] → [N, D, Cin, H, W] → [N·D, Cin, H, W] → ConvTranspose 2D →
 * [N·D, kD·Cout, H', W'] → [N, D, kD, Cout, H', W'] → [N, Cout, D, kD, H', W'] → [N, Cout, D·kD, H', W'].
 */
function depthFoldedConvTranspose(
  g: GraphBuilder,
  base: string,
  x: string,
  weight: Float32Array, // ONNX [Cin, Cout, kD, kH, kW]
  bias: Float32Array,
  cin: number,
  cout: number,
  [kd, kh, kw]: Triple,
  [, sh, sw]: Triple,
): string {
  const plane = kh * kw;
  const weight2d = new Float32Array(weight.length);
  for (let ci = 0; ci < cin; ci++)
    for (let co = 0; co < cout; co++)
      for (let d = 0; d < kd; d++) {
        const src = ((ci * cout + co) * kd + d) * plane;
        const dst = (ci * kd * cout + d * cout + co) * plane;
        weight2d.set(weight.subarray(src, src + plane), dst);
      }
  const bias2d = new Float32Array(kd * cout);
  for (let d = 0; d < kd; d++) bias2d.set(bias, d * cout);

  const value = (name: string): string => g.unique(`${base}/${name}`);
  const slice = (src: string, from: number, to: number, name: string): string => {
    const out = value(name);
    g.node(
      "Slice",
      `${base}/${name}`,
      [
        src,
        g.int64Init(`${base}/${name}_starts`, [from]),
        g.int64Init(`${base}/${name}_ends`, [to]),
      ],
      [out],
    );
    return out;
  };
  const concat = (parts: string[], name: string): string => {
    const out = value(name);
    g.node("Concat", `${base}/${name}`, parts, [out], [int("axis", 0)]);
    return out;
  };
  const shape = (src: string, name: string): string => {
    const out = value(name);
    g.node("Shape", `${base}/${name}`, [src], [out]);
    return out;
  };

  const inShape = shape(x, "in_shape");
  const n = slice(inShape, 0, 1, "n");
  const depth = slice(inShape, 2, 3, "d");
  const hw = slice(inShape, 3, 5, "hw");
  const slicesFirst = value("slices_first");
  g.node("Transpose", `${base}/slices_first`, [x], [slicesFirst], [ints("perm", [0, 2, 1, 3, 4])]);
  const slices = value("slices");
  g.node(
    "Reshape",
    `${base}/slices`,
    [slicesFirst, concat([g.int64Init(`${base}/minus_one_cin`, [-1, cin]), hw], "slices_shape")],
    [slices],
  );
  const up2d = value("up2d");
  g.node(
    "ConvTranspose",
    base,
    [
      slices,
      g.floatInit(`${base}/weight`, [cin, kd * cout, kh, kw], weight2d),
      g.floatInit(`${base}/bias`, [kd * cout], bias2d),
    ],
    [up2d],
    [ints("kernel_shape", [kh, kw]), ints("strides", [sh, sw]), ints("pads", [0, 0, 0, 0])],
  );
  const upHw = slice(shape(up2d, "up_shape"), 2, 4, "up_hw");
  const taps = value("taps");
  g.node(
    "Reshape",
    `${base}/taps`,
    [up2d, concat([n, depth, g.int64Init(`${base}/kd_cout`, [kd, cout]), upHw], "taps_shape")],
    [taps],
  );
  const channelsFirst = value("channels_first");
  g.node(
    "Transpose",
    `${base}/channels_first`,
    [taps],
    [channelsFirst],
    [ints("perm", [0, 3, 1, 2, 4, 5])],
  );
  const out = value("out");
  g.node(
    "Reshape",
    `${base}/out`,
    [
      channelsFirst,
      concat([n, g.int64Init(`${base}/cout_minus_one`, [cout, -1]), upHw], "out_shape"),
    ],
    [out],
  );
  return out;
}

/** x · sigmoid(conv([mean_c x, max_c x])), channel order [mean, max] as in layers.ts. */
export const convertSpatialAttention3D: LayerConverter = (c) => {
  const { g, base } = c;
  const x = oneInput(c);
  const k = Number(c.config["kernelSize"] ?? 1);
  const weights = weightsOf(c.layer);
  const kernel = requireWeight(weights, "kernel", base);
  const bias = requireWeight(weights, "bias", base);
  const taps = k * k * k;
  const mean = g.unique(`${base}/mean`);
  g.node("ReduceMean", `${base}/mean`, [x], [mean], [ints("axes", [1]), int("keepdims", 1)]);
  const max = g.unique(`${base}/max`);
  g.node("ReduceMax", `${base}/max`, [x], [max], [ints("axes", [1]), int("keepdims", 1)]);
  const maps = g.unique(`${base}/maps`);
  g.node("Concat", `${base}/maps`, [mean, max], [maps], [int("axis", 1)]);
  const logits = g.unique(`${base}/logits`);
  const pad = (k - 1) / 2;
  g.node(
    "Conv",
    `${base}/conv`,
    [
      maps,
      g.floatInit(`${base}/weight`, [1, 2, k, k, k], kernelToOnnx(kernel.data, taps, 2, 1)),
      g.floatInit(`${base}/bias`, [1], bias.data),
    ],
    [logits],
    [ints("kernel_shape", [k, k, k]), ints("pads", [pad, pad, pad, pad, pad, pad])],
  );
  const gate = g.unique(`${base}/gate`);
  g.node("Sigmoid", `${base}/gate`, [logits], [gate]);
  const out = g.unique(`${base}/out`);
  g.node("Mul", base, [x, gate], [out]);
  return out;
};
