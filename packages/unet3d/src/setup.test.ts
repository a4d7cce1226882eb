// setupTfjs: the backend chosen, the layers and the kernels registered for it, the one report line.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  isOnednnRegistered,
  loadAddon,
  onednnInfo,
  unregisterOnednnKernels,
} from "@brats/tfjs-onednn";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, describe, expect, it, vi } from "vitest";
import { UNet3DError } from "./errors.js";
import { isFastConv3DRegistered, unregisterFastConv3D } from "./fast-conv3d/index.js";
import { BRATS_LAYER_CLASSES } from "./layers.js";
import {
  estimateTrainStepHeapBytes,
  setupTfjs,
  setupTfjsWith,
  WASM_HEAP_LIMIT_BYTES,
  type KernelProvider,
} from "./setup.js";

afterAll(() => {
  // The native kernels fall back to the fast ones: take them out first.
  unregisterOnednnKernels();
  unregisterFastConv3D();
});

// On wasm the native kernels go in front where the addon loads (always under CI, as in
// @brats/tfjs-onednn's own tests); elsewhere the report says why they did not.
const onednn = loadAddon();
if (!onednn.ok && process.env.CI) {
  throw new Error(`CI: the oneDNN addon must load here: ${onednn.reason}`);
}
const WASM_KERNELS = onednn.ok ? ["onednn", "fast Conv3D kernels"] : ["fast Conv3D kernels"];
const WASM = `wasm${WASM_KERNELS.map((k) => ` + ${k}`).join("")}`;
const CPU = onednn.ok ? "cpu + onednn" : "cpu";

/** What the onednn provider adds to the reasons: oneDNN's version and threads, or why not. */
function onednnWhy(): string {
  if (!onednn.ok) return `onednn unavailable: ${onednn.reason}`;
  const info = onednnInfo()!;
  return `oneDNN ${info.onednn} on ${info.threads} thread${info.threads === 1 ? "" : "s"}`;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

const registeredLayers = () => Object.keys(tf.serialization.SerializationMap.getMap().classNameMap);

/** A provider registering one made-up kernel on `backends`, counting its registrations. */
function testProvider(label: string, backends: KernelProvider["backends"], fail = false) {
  const calls = { count: 0 };
  const provider: KernelProvider = {
    label,
    backends,
    register: () => {
      calls.count++;
      if (fail) throw new Error("no native addon here\nsecond line");
      for (const backendName of backends) {
        if (tf.getKernel("BratsTestKernel", backendName) === undefined) {
          tf.registerKernel({
            kernelName: "BratsTestKernel",
            backendName,
            kernelFunc: () => ({ dataId: {}, shape: [], dtype: "float32" }),
          });
        }
      }
    },
  };
  return { provider, calls };
}

describe("setupTfjs", () => {
  it("cpu: the layers, the native kernels (no fast wasm ones), one report line through the sink", async () => {
    const log = vi.fn<(line: string) => void>();
    const setup = await setupTfjs({ backend: "cpu", log });
    expect(tf.getBackend()).toBe("cpu");
    expect(setup).toEqual({
      name: "cpu",
      tried: [{ name: "cpu", ok: true }],
      kernels: onednn.ok ? ["onednn"] : [],
      threads: null,
      line: `tfjs backend: ${CPU} (asked for; ${onednnWhy()})`,
    });
    expect(isOnednnRegistered("cpu")).toBe(onednn.ok);
    expect(log.mock.calls).toEqual([[setup.line]]);
    for (const cls of BRATS_LAYER_CLASSES) expect(registeredLayers()).toContain(cls.className);
    expect(isFastConv3DRegistered()).toBe(false);
  });

  it("wasm: the native kernels, over the fast Conv3D ones, replace the stock ones", async () => {
    const stock = tf.getKernel("Conv3D", "wasm")?.kernelFunc;
    const setup = await setupTfjs({ backend: "wasm" });
    expect(tf.getBackend()).toBe("wasm");
    expect(setup.kernels).toEqual(WASM_KERNELS);
    expect(setup.line).toBe(`tfjs backend: ${WASM} (asked for; ${onednnWhy()})`);
    expect(isFastConv3DRegistered()).toBe(true);
    expect(isOnednnRegistered()).toBe(onednn.ok);
    expect(tf.getKernel("Conv3D", "wasm")?.kernelFunc).not.toBe(stock);
    // It works: a 1×1×1 convolution of ones.
    const y = tf.conv3d(
      tf.tensor5d([1, 1, 1, 1, 1, 1, 1, 1], [1, 2, 2, 2, 1]),
      tf.tensor5d([1], [1, 1, 1, 1, 1]),
      1,
      "valid",
    );
    expect(Array.from(await y.data())).toEqual(new Array(8).fill(1));
  });

  it("auto: says which faster backends were skipped and why, prints nothing itself", async () => {
    const printed = (["log", "info", "warn", "error", "debug"] as const).map((m) =>
      vi.spyOn(console, m).mockImplementation(() => undefined),
    );
    const lines: string[] = [];
    const setup = await setupTfjs({ log: (l) => lines.push(l) });
    for (const spy of printed) expect(spy).not.toHaveBeenCalled();
    vi.restoreAllMocks();
    // Here neither tfjs-node package runs (absent, or present without its native addon).
    expect(setup.name).toBe("wasm");
    expect(lines).toEqual([setup.line]);
    const skipped = "(not installed|failed to initialise: [^;]+)";
    expect(setup.line).toMatch(
      new RegExp(
        `^${escapeRegExp(`tfjs backend: ${WASM} (`)}tensorflow-gpu ${skipped}; tensorflow ${skipped}` +
          `${escapeRegExp(`; ${onednnWhy()})`)}$`,
      ),
    );
  });

  it.each<[string, { threads: number; backend: "wasm" | "cpu" }, () => string]>([
    [
      "wasm under Node runs one thread whatever is asked (the native kernels run them)",
      { backend: "wasm", threads: 2 },
      () =>
        `tfjs backend: ${WASM}, 1 thread (asked for; ${onednnWhy()}; 2 threads asked, wasm runs 1 here)`,
    ],
    [
      "one thread asked on wasm",
      { backend: "wasm", threads: 1 },
      () => `tfjs backend: ${WASM}, 1 thread (asked for; ${onednnWhy()})`,
    ],
    [
      "the cpu backend has no thread count; the native kernels on it take one",
      { backend: "cpu", threads: 4 },
      () =>
        onednn.ok
          ? `tfjs backend: cpu + onednn (asked for; ${onednnWhy()})`
          : "tfjs backend: cpu (asked for; onednn unavailable: " +
            `${(onednn as { reason: string }).reason}; the cpu backend runs one thread)`,
    ],
  ])("threads: %s", async (_name, opts, line) => {
    const setup = await setupTfjs(opts);
    expect(setup.line).toBe(line());
    if (onednn.ok) expect(onednnInfo()?.threads).toBe(opts.threads);
  });

  it.each<[string, Parameters<typeof setupTfjs>[0], string]>([
    ["an unknown backend", { backend: "webgl" as never }, "BAD_CONFIG"],
    ["zero threads", { backend: "cpu", threads: 0 }, "BAD_CONFIG"],
    ["fractional threads", { backend: "cpu", threads: 1.5 }, "BAD_CONFIG"],
    ["a backend that cannot start", { backend: "tensorflow" }, "BACKEND"],
  ])("rejects %s", async (_name, opts, code) => {
    const log = vi.fn();
    const error: unknown = await setupTfjs({ ...opts, log }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UNet3DError);
    expect((error as UNet3DError).code).toBe(code);
    expect(log).not.toHaveBeenCalled();
  });
});

describe("kernel providers (where native kernels plug in)", () => {
  it("registers the providers of the chosen backend only", async () => {
    const forCpu = testProvider("test kernels", ["cpu"]);
    const forWasm = testProvider("wasm test kernels", ["wasm"]);
    const setup = await setupTfjsWith({ backend: "cpu" }, [forWasm.provider, forCpu.provider]);
    expect(setup.kernels).toEqual(["test kernels"]);
    expect(setup.line).toBe("tfjs backend: cpu + test kernels (asked for)");
    expect(forCpu.calls.count).toBe(1);
    expect(forWasm.calls.count).toBe(0);
    expect(tf.getKernel("BratsTestKernel", "cpu")).toBeDefined();
  });

  it("keeps the stock kernels and says why when a provider cannot run", async () => {
    const failing = testProvider("native kernels", ["cpu"], true);
    const setup = await setupTfjsWith({ backend: "cpu" }, [failing.provider]);
    expect(failing.calls.count).toBe(1);
    expect(setup.kernels).toEqual([]);
    expect(setup.line).toBe(
      "tfjs backend: cpu (asked for; native kernels unavailable: no native addon here)",
    );
  });

  it("leaves native providers out with native: false, and says so", async () => {
    const native = testProvider("native kernels", ["cpu"]);
    native.provider.native = true;
    const plain = testProvider("test kernels", ["cpu"]);
    const setup = await setupTfjsWith({ backend: "cpu", native: false }, [
      native.provider,
      plain.provider,
    ]);
    expect(native.calls.count).toBe(0);
    expect(plain.calls.count).toBe(1);
    expect(setup.kernels).toEqual(["test kernels"]);
    expect(setup.line).toBe(
      "tfjs backend: cpu + test kernels (asked for; native kernels off (native: false))",
    );
  });
});

describe("estimateTrainStepHeapBytes (a step that does not fit the wasm heap moves to cpu)", () => {
  const MiB = 2 ** 20;
  // Measured wasm heap after two reference steps (16 base filters, batch 1): 48³ 615 MiB, 64³
  // 1,220, 80³ 2,344, 96³ 3,893. The estimate must not fall below them and stays within 10 %.
  it.each([
    [48, 615],
    [64, 1220],
    [80, 2344],
    [96, 3893],
  ])("%i³: at least the measured %i MiB, at most 10 %% above", (patch, measured) => {
    const mib = estimateTrainStepHeapBytes({ patch, batch: 1, baseFilters: 16 }) / MiB;
    expect(mib).toBeGreaterThanOrEqual(measured);
    expect(mib).toBeLessThan(measured * 1.1);
  });

  it.each<[string, Parameters<typeof estimateTrainStepHeapBytes>[0], boolean]>([
    ["96³ fits", { patch: 96, batch: 1, baseFilters: 16 }, true],
    ["128³ does not", { patch: 128, batch: 1, baseFilters: 16 }, false],
    ["96³ at batch 2 does not", { patch: 96, batch: 2, baseFilters: 16 }, false],
    ["128³ at 4 base filters fits", { patch: 128, batch: 1, baseFilters: 4 }, true],
    ["a 160×160×128 box does not", { patch: [160, 160, 128], batch: 1, baseFilters: 16 }, false],
  ])("%s", (_name, step, fits) => {
    expect(estimateTrainStepHeapBytes(step) <= WASM_HEAP_LIMIT_BYTES).toBe(fits);
  });

  const big = { patch: 128, batch: 1, baseFilters: 16 };
  const need = "a training step needs about 9.1 GiB, more than the wasm heap's 4";

  it("auto + a step too big for the heap: cpu with the native kernels, and why", async () => {
    const native = testProvider("native kernels", ["wasm", "cpu"]);
    native.provider.native = true;
    const setup = await setupTfjsWith({ trainStep: big }, [native.provider]);
    expect(setup.name).toBe("cpu");
    expect(tf.getBackend()).toBe("cpu");
    expect(setup.kernels).toEqual(["native kernels"]);
    expect(setup.line).toMatch(
      new RegExp(
        `^tfjs backend: cpu \\+ native kernels \\(.*; ${escapeRegExp(`cpu, not wasm: ${need})`)}$`,
      ),
    );
  });

  it("stays on wasm and says so when no native kernels load on cpu", async () => {
    const failing = testProvider("native kernels", ["wasm", "cpu"], true);
    failing.provider.native = true;
    const setup = await setupTfjsWith({ trainStep: big }, [failing.provider]);
    expect(setup.name).toBe("wasm");
    expect(tf.getBackend()).toBe("wasm");
    expect(setup.line).toContain(
      `${need}, and native kernels do not load on cpu (native kernels unavailable: no native addon here)`,
    );
  });

  it.each<[string, Parameters<typeof setupTfjsWith>[0]]>([
    ["a step that fits", { trainStep: { patch: 64, batch: 1, baseFilters: 16 } }],
    ["a backend asked for", { backend: "wasm", trainStep: big }],
  ])("keeps wasm for %s", async (_name, opts) => {
    const native = testProvider("native kernels", ["wasm", "cpu"]);
    native.provider.native = true;
    const setup = await setupTfjsWith(opts, [native.provider]);
    expect(setup.name).toBe("wasm");
    expect(setup.line).not.toContain("not wasm");
  });
});

describe("setupTfjs in a fresh process (the addon loads once per process)", () => {
  const packageDir = fileURLToPath(new URL("..", import.meta.url));
  const here = (file: string) => JSON.stringify(new URL(file, import.meta.url).href);

  /** setupTfjs on wasm in a child, then one Conv3D; what was registered and which kernel ran. */
  function setupInChild(opts: { native?: boolean }, env: NodeJS.ProcessEnv) {
    const script = `
      import * as tf from "@tensorflow/tfjs-core";
      import { isOnednnRegistered } from "@brats/tfjs-onednn";
      import { setupTfjs } from ${here("./setup.ts")};
      import { getFastConv3DStats, isFastConv3DRegistered } from ${here("./fast-conv3d/index.ts")};
      const setup = await setupTfjs({ backend: "wasm", ...${JSON.stringify(opts)} });
      await tf.conv3d(tf.ones([1, 4, 4, 4, 2]), tf.ones([3, 3, 3, 2, 3]), 1, "same").data();
      console.log(JSON.stringify({
        kernels: setup.kernels,
        line: setup.line,
        onednn: isOnednnRegistered(),
        fastConv3D: isFastConv3DRegistered(),
        fastCalls: getFastConv3DStats().fast.Conv3D,
      }));
    `;
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    if (env.BRATS_ONEDNN === undefined) delete childEnv.BRATS_ONEDNN;
    const child = spawnSync(
      process.execPath,
      ["--conditions=source", "--import", "tsx", "--input-type=module", "-e", script],
      { cwd: packageDir, encoding: "utf8", env: childEnv, timeout: 60_000 },
    );
    expect(child.stderr).toBe("");
    expect(child.status).toBe(0);
    return JSON.parse(child.stdout) as {
      kernels: string[];
      line: string;
      onednn: boolean;
      fastConv3D: boolean;
      fastCalls: number;
    };
  }

  it("no addon (BRATS_ONEDNN_ADDON at a missing file): the wasm fast kernels, and why", () => {
    const missing = join(packageDir, "no-such-dir", "brats_onednn.node");
    const child = setupInChild({}, { BRATS_ONEDNN_ADDON: missing });
    expect(child).toEqual({
      kernels: ["fast Conv3D kernels"],
      line:
        "tfjs backend: wasm + fast Conv3D kernels (asked for; onednn unavailable: addon not built " +
        `(no ${missing}; rebuild: pnpm --filter @brats/tfjs-onednn build:native))`,
      onednn: false,
      fastConv3D: true,
      fastCalls: 1,
    });
  });

  it("native: false: the wasm fast kernels alone, even where the addon loads", () => {
    const child = setupInChild({ native: false }, {});
    expect(child).toEqual({
      kernels: ["fast Conv3D kernels"],
      line: "tfjs backend: wasm + fast Conv3D kernels (asked for; onednn off (native: false))",
      onednn: false,
      fastConv3D: true,
      fastCalls: 1,
    });
  });
});
