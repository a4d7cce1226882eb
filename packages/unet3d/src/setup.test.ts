// setupTfjs: the backend chosen, the layers and the kernels registered for it, the one report line.
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, describe, expect, it, vi } from "vitest";
import { UNet3DError } from "./errors.js";
import { isFastConv3DRegistered, unregisterFastConv3D } from "./fast-conv3d/index.js";
import { BRATS_LAYER_CLASSES } from "./layers.js";
import { setupTfjs, setupTfjsWith, type KernelProvider } from "./setup.js";

afterAll(() => {
  unregisterFastConv3D();
});

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
  it("cpu: the layers, no fast kernels, one report line through the sink", async () => {
    const log = vi.fn<(line: string) => void>();
    const setup = await setupTfjs({ backend: "cpu", log });
    expect(tf.getBackend()).toBe("cpu");
    expect(setup).toEqual({
      name: "cpu",
      tried: [{ name: "cpu", ok: true }],
      kernels: [],
      threads: null,
      line: "tfjs backend: cpu (asked for)",
    });
    expect(log.mock.calls).toEqual([[setup.line]]);
    for (const cls of BRATS_LAYER_CLASSES) expect(registeredLayers()).toContain(cls.className);
    expect(isFastConv3DRegistered()).toBe(false);
  });

  it("wasm: the fast Conv3D kernels replace the stock ones", async () => {
    const stock = tf.getKernel("Conv3D", "wasm")?.kernelFunc;
    const setup = await setupTfjs({ backend: "wasm" });
    expect(tf.getBackend()).toBe("wasm");
    expect(setup.kernels).toEqual(["fast Conv3D kernels"]);
    expect(setup.line).toBe("tfjs backend: wasm + fast Conv3D kernels (asked for)");
    expect(isFastConv3DRegistered()).toBe(true);
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
    expect(setup.line).toMatch(
      /^tfjs backend: wasm \+ fast Conv3D kernels \(tensorflow-gpu (not installed|failed to initialise: [^;]+); tensorflow (not installed|failed to initialise: [^;]+)\)$/,
    );
  });

  it.each<[string, { threads: number; backend: "wasm" | "cpu" }, string]>([
    [
      "wasm under Node runs one thread whatever is asked",
      { backend: "wasm", threads: 2 },
      "tfjs backend: wasm + fast Conv3D kernels, 1 thread (asked for; 2 threads asked, wasm runs 1 here)",
    ],
    [
      "one thread asked on wasm",
      { backend: "wasm", threads: 1 },
      "tfjs backend: wasm + fast Conv3D kernels, 1 thread (asked for)",
    ],
    [
      "the cpu backend has no thread count",
      { backend: "cpu", threads: 4 },
      "tfjs backend: cpu (asked for; the cpu backend runs one thread)",
    ],
  ])("threads: %s", async (_name, opts, line) => {
    expect((await setupTfjs(opts)).line).toBe(line);
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
});
