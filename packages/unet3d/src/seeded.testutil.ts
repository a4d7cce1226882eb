import { seededUniform } from "@brats/kit/random";
// Test-only: mulberry32, a small seeded generator of uniforms in [0, 1), so that every run of a
// test sees the same numbers.
export const seeded: (seed: number) => () => number = seededUniform;
