/**
 * Converters of the normalisation layers. Batch normalisation folds into the preceding linear
 * convolution with its moving (inference) statistics where it can; instance and group
 * normalisation become InstanceNormalization nodes (group norm over reshaped groups).
 */
import {
  float,
  oneInput,
  requireWeight,
  unsupported,
  weightsOf,
  type LayerConverter,
} from "./graph.js";

export const convertBatchNormalization3D: LayerConverter = (c) => {
  const { g, base, config } = c;
  const x = oneInput(c);
  const weights = weightsOf(c.layer);
  const mean = requireWeight(weights, "moving_mean", base).data;
  const variance = requireWeight(weights, "moving_variance", base).data;
  const channels = mean.length;
  const gamma = weights.get("gamma")?.data ?? new Float32Array(channels).fill(1);
  const beta = weights.get("beta")?.data ?? new Float32Array(channels);
  const epsilon = Number(config["epsilon"] ?? 1e-3);
  const conv = c.foldableConvs.get(x);
  if (conv !== undefined && c.firstInputReaders === 1 && conv.outChannels === channels) {
    // y = γ·(Wx + b − μ)/√(σ² + ε) + β = (sW)x + s(b − μ) + β with s = γ/√(σ² + ε).
    const perChannel = conv.weight.length / channels;
    for (let ch = 0; ch < channels; ch++) {
      const s = gamma[ch]! / Math.sqrt(variance[ch]! + epsilon);
      for (let i = ch * perChannel; i < (ch + 1) * perChannel; i++) conv.weight[i]! *= s;
      conv.bias[ch] = (conv.bias[ch]! - mean[ch]!) * s + beta[ch]!;
    }
    c.foldableConvs.delete(x);
    return x;
  }
  const out = g.unique(`${base}/out`);
  g.node(
    "BatchNormalization",
    base,
    [
      x,
      g.floatInit(`${base}/scale`, [channels], gamma),
      g.floatInit(`${base}/bias`, [channels], beta),
      g.floatInit(`${base}/mean`, [channels], mean),
      g.floatInit(`${base}/var`, [channels], variance),
    ],
    [out],
    [float("epsilon", epsilon)],
  );
  return out;
};

export const convertInstanceNormalization: LayerConverter = (c) => {
  const { g, base } = c;
  const x = oneInput(c);
  const weights = weightsOf(c.layer);
  const channels = c.outShape[c.outShape.length - 1];
  if (typeof channels !== "number") throw unsupported(`layer "${base}": unknown channels`);
  const gamma = weights.get("gamma")?.data ?? new Float32Array(channels).fill(1);
  const beta = weights.get("beta")?.data ?? new Float32Array(channels);
  const out = g.unique(`${base}/out`);
  g.node(
    "InstanceNormalization",
    base,
    [
      x,
      g.floatInit(`${base}/scale`, [channels], gamma),
      g.floatInit(`${base}/bias`, [channels], beta),
    ],
    [out],
    [float("epsilon", Number(c.config["epsilon"] ?? 1e-5))],
  );
  return out;
};

/** [N, C, ...] → [N, G, C/G·spatial] → instance norm per group → back → per-channel affine. */
export const convertGroupNormalization: LayerConverter = (c) => {
  const { g, base } = c;
  const x = oneInput(c);
  const weights = weightsOf(c.layer);
  const channels = c.outShape[c.outShape.length - 1];
  const groups = Number(c.config["groups"]);
  if (typeof channels !== "number" || !Number.isInteger(groups) || channels % groups !== 0) {
    throw unsupported(`layer "${base}": ${String(channels)} channels, ${groups} groups`);
  }
  const grouped = g.unique(`${base}/grouped`);
  g.node(
    "Reshape",
    `${base}/group`,
    [x, g.int64Init(`${base}/group_shape`, [0, groups, -1])],
    [grouped],
  );
  const normed = g.unique(`${base}/normed`);
  g.node(
    "InstanceNormalization",
    base,
    [
      grouped,
      g.floatInit(`${base}/ones`, [groups], new Float32Array(groups).fill(1)),
      g.floatInit(`${base}/zeros`, [groups], new Float32Array(groups)),
    ],
    [normed],
    [float("epsilon", Number(c.config["epsilon"] ?? 1e-5))],
  );
  const shape = g.unique(`${base}/shape`);
  g.node("Shape", `${base}/shape`, [x], [shape]);
  let y = g.unique(`${base}/ungrouped`);
  g.node("Reshape", `${base}/ungroup`, [normed, shape], [y]);
  const affineDims = [channels, ...Array<number>(c.outShape.length - 2).fill(1)];
  const gamma = weights.get("gamma");
  if (gamma !== undefined) {
    const scaled = g.unique(`${base}/scaled`);
    g.node(
      "Mul",
      `${base}/gamma`,
      [y, g.floatInit(`${base}/gamma`, affineDims, gamma.data)],
      [scaled],
    );
    y = scaled;
  }
  const beta = weights.get("beta");
  if (beta !== undefined) {
    const shifted = g.unique(`${base}/shifted`);
    g.node(
      "Add",
      `${base}/beta`,
      [y, g.floatInit(`${base}/beta`, affineDims, beta.data)],
      [shifted],
    );
    y = shifted;
  }
  return y;
};
