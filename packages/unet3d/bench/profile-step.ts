/**
 * Where one reference training step spends its time, kernel by kernel: runs a warm-up step, then
 * one step under tf.profile and prints, per kernel name, calls, total ms and share, largest first
 * (JSON lines with --json). Run from packages/unet3d:
 *   node --import tsx bench/profile-step.ts [--size 64] [--engine native|native-wasm|wasm] [--json]
 * "native" is the cpu backend with the oneDNN kernels, "native-wasm" the wasm backend with them,
 * "wasm" the wasm backend with the fast Conv3D kernels alone.
 */
import { parseArgs } from "node:util";

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
const { referenceStep } = await import("./reference-step.js");
const setup = await setupTfjs({
  backend: values.engine === "native" ? "cpu" : "wasm",
  native: values.engine !== "wasm",
  log: (l) => process.stderr.write(`${l}\n`),
});
void setup;
const run = await referenceStep(size);
const step = async (): Promise<void> => {
  await run();
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
{
  const backend = tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } };
  const heap = backend.wasm?.HEAPU8.length ?? 0;
  const status = (await import("node:fs")).readFileSync("/proc/self/status", "utf8");
  const hwm = /VmHWM:\s+(\d+)/.exec(status)?.[1];
  console.error(
    `memory: tf peakBytes ${(info.peakBytes / 2 ** 20).toFixed(0)} MiB, wasm heap ${(heap / 2 ** 20).toFixed(0)} MiB, VmHWM ${(Number(hwm) / 1024).toFixed(0)} MiB`,
  );
}
