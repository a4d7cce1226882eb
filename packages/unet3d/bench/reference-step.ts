/**
 * The reference training step both benches time (unet3d.bench.ts) and profile (profile-step.ts):
 * createUNet3D({ seed: 0 }) (5,648,784 parameters), batch 1 of `size`³ random normal input and
 * random labels 0..3 as one-hot (like the PyTorch peer's torch.randint target), Dice + CE, Adam
 * 1e-4. Set TF.js up (backend, layers, kernels) before calling it.
 */
import type { Tensor, Variable } from "@tensorflow/tfjs-core";

/** Returns one step as a function resolving to its loss (reading it waits for the step). */
export async function referenceStep(size: number): Promise<() => Promise<number>> {
  const tf = await import("@tensorflow/tfjs-core");
  const { createUNet3D } = await import("../src/model.js");
  const { diceCELoss } = await import("../src/losses.js");
  const model = createUNet3D({ seed: 0 });
  const x = tf.randomNormal([1, size, size, size, 3], 0, 1, "float32", 1);
  const y = tf.tidy(() =>
    tf.oneHot(
      tf.cast(tf.floor(tf.randomUniform([1, size, size, size], 0, 4, "float32", 2)), "int32"),
      4,
    ),
  );
  const optimizer = tf.train.adam(1e-4);
  const variables = model.trainableWeights.map((w) => w.read() as Variable);
  return async () => {
    const loss = optimizer.minimize(
      () => diceCELoss(y, model.apply(x, { training: true }) as Tensor),
      true,
      variables,
    )!;
    const value = (await loss.data())[0]!;
    loss.dispose();
    return value;
  };
}
