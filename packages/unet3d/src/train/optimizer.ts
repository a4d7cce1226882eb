// Adam, implemented here rather than taken from tf.train.adam: TF.js' AdamOptimizer fixes its
// learning rate at construction and, on setWeights, recomputes its bias-correction products as
// pow(β, t + 1) instead of the running products it multiplied up while training, so a resumed run
// would drift from an uninterrupted one. Here the moments are saved bit for bit (checkpoint.ts), the
// step count is an integer and the bias corrections are computed in float64 from it, so a resumed
// run repeats the uninterrupted one exactly (same backend).
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";

export interface AdamOptions {
  beta1: number;
  beta2: number;
  epsilon: number;
}

/** The trainable variables of a model and their first (m) and second (v) moments. */
export interface Adam {
  variables: tf.Variable[];
  m: tf.Variable[];
  v: tf.Variable[];
}

export function createAdam(model: tfl.LayersModel): Adam {
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  return {
    variables,
    m: variables.map((x) => tf.variable(tf.zerosLike(x), false)),
    v: variables.map((x) => tf.variable(tf.zerosLike(x), false)),
  };
}

export function disposeAdam(adam: Adam): void {
  tf.dispose([...adam.m, ...adam.v]);
}

/** Moment tensors in checkpoint order: m of every variable, then v. */
export function momentTensors(adam: Adam): tf.Variable[] {
  return [...adam.m, ...adam.v];
}

/** Applies Adam step `t` (1-based) with learning rate `lr` to the variables that have a gradient. */
export function applyAdam(
  adam: Adam,
  grads: tf.NamedTensorMap,
  lr: number,
  t: number,
  o: AdamOptions,
): void {
  // Bias corrections in float64 from the integer step: exact on resume.
  const alpha = lr / (1 - Math.pow(o.beta1, t));
  const correction2 = 1 - Math.pow(o.beta2, t);
  tf.tidy(() => {
    adam.variables.forEach((variable, i) => {
      const g = grads[variable.name];
      if (g === undefined) return;
      const m = adam.m[i]!;
      const v = adam.v[i]!;
      const newM = tf.add(tf.mul(m, o.beta1), tf.mul(g, 1 - o.beta1));
      const newV = tf.add(tf.mul(v, o.beta2), tf.mul(tf.square(g), 1 - o.beta2));
      m.assign(newM);
      v.assign(newV);
      const denom = tf.add(tf.sqrt(tf.div(newV, correction2)), o.epsilon);
      variable.assign(tf.sub(variable, tf.mul(tf.div(newM, denom), alpha)));
    });
  });
}
