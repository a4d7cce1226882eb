// One optimisation step on one batch: targets in the model's output layout, the loss, its
// gradients and the Adam update.
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { UNet3DError } from "../errors.js";
import { diceCELoss, regionDiceBCELoss } from "../losses.js";
import { unet3dConfigOf } from "../model.js";
import { classInRegion } from "@brats/conventions";
import { applyAdam, type Adam, type AdamOptions } from "./optimizer.js";
import type { TrainBatch, TrainOptions } from "./options.js";

export type LossFn = (yTrue: tf.Tensor5D, yPred: tf.Tensor5D) => tf.Scalar;

/** What the model is trained to output and the loss of it. */
export interface Task {
  outputs: "classes" | "regions";
  classes: number;
  lossFn: LossFn;
}

/** The task of the options, else of the model's own config ("classes", Dice + CE, by default). */
export function taskOf(
  options: Pick<TrainOptions, "outputs" | "loss">,
  model: tfl.LayersModel,
): Task {
  const outputs = options.outputs ?? unet3dConfigOf(model)?.outputs ?? "classes";
  const classes = unet3dConfigOf(model)?.numClasses ?? 4;
  const lossFn =
    options.loss ??
    ((yTrue: tf.Tensor5D, yPred: tf.Tensor5D) =>
      outputs === "classes" ? diceCELoss(yTrue, yPred) : regionDiceBCELoss(yTrue, yPred));
  return { outputs, classes, lossFn };
}

/** One-hot classes [B,D,H,W,4], or WT/TC/ET masks [B,D,H,W,3], as the loss wants them. */
function targetTensor(
  batch: TrainBatch,
  outputs: "classes" | "regions",
  classes: number,
): tf.Tensor5D {
  const [b, d, h, w] = batch.shape;
  const voxels = b * d * h * w;
  if (batch.labels.length !== voxels) {
    throw new UNet3DError(
      "BAD_CONFIG",
      `batch labels hold ${batch.labels.length} voxels, shape ${batch.shape.join("×")} wants ${voxels}`,
    );
  }
  const k = outputs === "classes" ? classes : 3;
  const y = new Float32Array(voxels * k);
  for (let v = 0; v < voxels; v++) {
    const c = batch.labels[v]!;
    if (outputs === "classes") {
      if (c >= classes) {
        throw new UNet3DError(
          "BAD_CONFIG",
          `label ${c} at voxel ${v} is not a class below ${classes}`,
        );
      }
      y[v * k + c] = 1;
    } else {
      y[v * 3] = Number(classInRegion(c, "WT"));
      y[v * 3 + 1] = Number(classInRegion(c, "TC"));
      y[v * 3 + 2] = Number(classInRegion(c, "ET"));
    }
  }
  return tf.tensor5d(y, [b, d, h, w, k]);
}

/** One Adam step (t is 1-based); returns the loss. BAD_CONFIG when the loss is not finite. */
export async function trainStep(
  model: tfl.LayersModel,
  adam: Adam,
  batch: TrainBatch,
  lr: number,
  t: number,
  o: AdamOptions & Task,
): Promise<number> {
  const x = tf.tensor5d(batch.images, [...batch.shape] as [number, number, number, number, number]);
  const y = targetTensor(batch, o.outputs, o.classes);
  try {
    const { value, grads } = tf.variableGrads(
      () => o.lossFn(y, model.apply(x, { training: true }) as tf.Tensor5D),
      adam.variables,
    );
    applyAdam(adam, grads, lr, t, o);
    const loss = (await value.data())[0]!;
    tf.dispose([value, ...Object.values(grads)]);
    if (!Number.isFinite(loss)) {
      throw new UNet3DError(
        "BAD_CONFIG",
        `training loss is ${loss} at step ${t}: lower the learning rate`,
      );
    }
    return loss;
  } finally {
    tf.dispose([x, y]);
  }
}
