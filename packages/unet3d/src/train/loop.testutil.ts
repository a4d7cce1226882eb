// Shared by the train() tests: tiny deterministic cases, a batch source whose position is its
// state, and a tiny U-Net.
import type * as tfl from "@tensorflow/tfjs-layers";
import { createUNet3D } from "../model.js";
import { seeded } from "../seeded.testutil.js";
import type { BatchSource, ValidationCase } from "./options.js";

export const N = 16;

/** Case `index`: noise plus a ball (class 2) holding a smaller ball (class 3), bright in channel 0. */
export function sample(index: number): { image: Float32Array; labels: Uint8Array } {
  const rand = seeded(1000 + index);
  const image = new Float32Array(N * N * N * 2);
  const labels = new Uint8Array(N * N * N);
  const c = [4 + rand() * 8, 4 + rand() * 8, 4 + rand() * 8];
  for (let z = 0; z < N; z++)
    for (let y = 0; y < N; y++)
      for (let x = 0; x < N; x++) {
        const v = (z * N + y) * N + x;
        const d = Math.hypot(z - c[0]!, y - c[1]!, x - c[2]!);
        labels[v] = d < 2 ? 3 : d < 4 ? 2 : 0;
        image[2 * v] = 0.3 * (rand() - 0.5) + (labels[v] > 0 ? 1 : 0);
        image[2 * v + 1] = 0.3 * (rand() - 0.5) + (labels[v] === 3 ? 1 : 0);
      }
  return { image, labels };
}

/** A deterministic batch source whose position is its state. */
export function source(state: unknown): BatchSource & { closed: boolean } {
  let index = state === null ? 0 : (state as { index: number }).index;
  return {
    closed: false,
    next() {
      const s = sample(index++);
      return Promise.resolve({
        images: s.image,
        labels: s.labels,
        shape: [1, N, N, N, 2] as const,
      });
    },
    state: () => ({ index }),
    close() {
      this.closed = true;
      return Promise.resolve();
    },
  };
}

export function validationCases(): ValidationCase[] {
  const s = sample(99_999);
  return [{ id: "v0", image: s.image, shape: [N, N, N, 2], labels: s.labels }];
}

export function tinyModel(): tfl.LayersModel {
  return createUNet3D({
    inputShape: [N, N, N, 2],
    modalities: ["a", "b"],
    depth: 2,
    baseFilters: 2,
    dropout: 0.2,
    seed: 7,
  });
}
