/**
 * Where one reference training step spends its time, kernel by kernel: runs a warm-up step, then
 * one step under tf.profile and prints, per kernel name, calls, total ms and share, largest first
 * (JSON lines with --json). Run from packages/unet3d:
 *   node --import tsx bench/profile-step.ts [--size 64] [--engine wasm|native] [--json]
 * "wasm" is the wasm backend with the fast Conv3D kernels; "native" adds the oneDNN kernels.
 */
import { parseArgs } from "node:util";
import type { Tensor, Variable } from "@tensorflow/tfjs-core";

const { values } = parseArgs({
  options: {
    size: { type: "string", default: "64" },
    engine: { type: "string", default: "native" },
    json: { type: "boolean", default: false },
  },
});
const size = Number(values.size);
const tf = await import("@tensorflow/tfjs-core");
const { setupTfjs } = await import("../src/setup.js");
const { createUNet3D } = await import("../src/model.js");
const { diceCELoss } = await import("../src/losses.js");
const setup = await setupTfjs({
  backend: "wasm",
  native: values.engine === "native",
  log: (l) => process.stderr.write(`${l}\n`),
});
void setup;
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
const step = async (): Promise<void> => {
  const loss = optimizer.minimize(
    () => diceCELoss(y, model.apply(x, { training: true }) as Tensor),
    true,
    variables,
  )!;
  await loss.data();
  loss.dispose();
};
await step();
const t0 = performance.now();
await step();
const plainMs = performance.now() - t0;
const info = await tf.profile(step);
const byName = new Map<string, { calls: number; ms: number }>();
let total = 0;
for (const k of info.kernels) {
  const ms = typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
  const e = byName.get(k.name) ?? { calls: 0, ms: 0 };
  e.calls++;
  e.ms += ms;
  byName.set(k.name, e);
  total += ms;
}
const rows = [...byName].sort((a, b) => b[1].ms - a[1].ms);
if (values.json) {
  for (const [name, e] of rows)
    console.log(JSON.stringify({ kernel: name, calls: e.calls, ms: +e.ms.toFixed(1) }));
} else {
  console.log(
    `step ${plainMs.toFixed(0)} ms unprofiled; kernels ${total.toFixed(0)} ms in ${info.kernels.length} calls`,
  );
  for (const [name, e] of rows) {
    console.log(
      `${name.padEnd(28)} ${String(e.calls).padStart(5)} ${e.ms.toFixed(1).padStart(9)} ms ${((100 * e.ms) / total).toFixed(1).padStart(5)}%`,
    );
  }
}
if (process.env.PROFILE_SHAPES) {
  const want = new Set(process.env.PROFILE_SHAPES.split(","));
  const agg = new Map<string, { calls: number; ms: number }>();
  for (const k of info.kernels) {
    if (!want.has(k.name)) continue;
    const key = `${k.name} ${JSON.stringify(k.inputShapes)} -> ${JSON.stringify(k.outputShapes)} ${JSON.stringify((k as { extraInfo?: string }).extraInfo ?? "")}`;
    const e = agg.get(key) ?? { calls: 0, ms: 0 };
    e.calls++;
    e.ms += typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
    agg.set(key, e);
  }
  for (const [key, e] of [...agg].sort((a, b) => b[1].ms - a[1].ms).slice(0, 40))
    console.log(`${e.ms.toFixed(1).padStart(8)} ${e.calls} ${key}`);
}
