// What the custom layers share: argument types and the checks of inputs, shapes and options.
import type * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import type { Shape } from "@tensorflow/tfjs-layers";
import { UNet3DError } from "./errors.js";

export type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;
export type Kwargs = Record<string, unknown>;

export function oneTensor(inputs: tf.Tensor | tf.Tensor[], layer: string): tf.Tensor {
  if (Array.isArray(inputs)) {
    if (inputs.length !== 1 || inputs[0] === undefined) {
      throw new UNet3DError(
        "SHAPE_MISMATCH",
        `${layer} expects exactly one input tensor, got ${inputs.length}`,
      );
    }
    return inputs[0];
  }
  return inputs;
}

export function oneShape(inputShape: Shape | Shape[], layer: string): Shape {
  // A single shape is an array of numbers/nulls; a list of shapes is an array of arrays.
  if (inputShape.length > 0 && Array.isArray(inputShape[0])) {
    const shapes = inputShape as Shape[];
    if (shapes.length !== 1 || shapes[0] === undefined) {
      throw new UNet3DError(
        "SHAPE_MISMATCH",
        `${layer} expects exactly one input, got ${shapes.length}`,
      );
    }
    return shapes[0];
  }
  return inputShape as Shape;
}

export function requireRank(shape: Shape | readonly number[], rank: number, layer: string): void {
  if (shape.length !== rank) {
    throw new UNet3DError(
      "SHAPE_MISMATCH",
      `${layer} expects rank-${rank} input [N, D, H, W, C], got shape [${shape.join(", ")}]`,
    );
  }
}

export function isTraining(kwargs: Kwargs | undefined): boolean {
  return kwargs?.["training"] === true;
}

/** JSON turns `undefined` into `null`; treat both as "not given". */
export function optionalSeed(seed: number | null | undefined): number | undefined {
  if (seed === null || seed === undefined) return undefined;
  if (!Number.isFinite(seed))
    throw new UNet3DError("BAD_CONFIG", `seed must be a finite number, got ${seed}`);
  return seed;
}

export function positiveInt(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new UNet3DError("BAD_CONFIG", `${what} must be a positive integer, got ${value}`);
  }
  return value;
}
