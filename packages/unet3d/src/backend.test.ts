import { createRequire } from "node:module";
import * as tf from "@tensorflow/tfjs-core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { BACKEND_ORDER, describeImportFailure, selectBackend } from "./backend.js";
import { UNet3DError } from "./errors.js";

/** Whether a package can be resolved from this package (installed), whatever it does on load. */
function resolvable(name: string): boolean {
  try {
    createRequire(import.meta.url).resolve(`${name}/package.json`);
    return true;
  } catch {
    return false;
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("describeImportFailure", () => {
  it.each([
    [
      "@tensorflow/tfjs-node",
      Object.assign(
        new Error("Cannot find package '@tensorflow/tfjs-node' imported from /x/y.js"),
        {
          code: "ERR_MODULE_NOT_FOUND",
        },
      ),
      "not installed",
    ],
    [
      "@tensorflow/tfjs-node",
      Object.assign(
        new Error("Cannot find module '@tensorflow/tfjs-node'\nRequire stack:\n- a.js"),
        {
          code: "MODULE_NOT_FOUND",
        },
      ),
      "not installed",
    ],
    [
      // A dependency of the package missing is not the package missing.
      "@tensorflow/tfjs-node",
      Object.assign(new Error("Cannot find package '@mapbox/node-pre-gyp' imported from /x"), {
        code: "ERR_MODULE_NOT_FOUND",
      }),
      "failed to initialise: Cannot find package '@mapbox/node-pre-gyp' imported from /x",
    ],
    [
      "@tensorflow/tfjs-node-gpu",
      new Error(
        "The Node.js native addon module (tfjs_binding.node) can not be found at path: /p. \nPlease run",
      ),
      "failed to initialise: The Node.js native addon module (tfjs_binding.node) can not be found at path: /p.",
    ],
    ["@tensorflow/tfjs-backend-wasm", "boom", "failed to initialise: boom"],
  ])("%s: %s", (name, error, expected) => {
    expect(describeImportFailure(name, error)).toBe(expected);
  });
});

describe("selectBackend", () => {
  it("picks cpu when asked for cpu", async () => {
    const report = await selectBackend("cpu");
    expect(report).toEqual({ name: "cpu", tried: [{ name: "cpu", ok: true }] });
    expect(tf.getBackend()).toBe("cpu");
  });

  it("picks wasm when asked for wasm, and works", async () => {
    const report = await selectBackend("wasm");
    expect(report).toEqual({ name: "wasm", tried: [{ name: "wasm", ok: true }] });
    expect(tf.getBackend()).toBe("wasm");
    const sum = tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4]));
    expect(Array.from(await sum.data())).toEqual([4, 6]);
  });

  it("auto: skips the tfjs-node packages, says why, picks wasm, prints nothing", async () => {
    await selectBackend("cpu");
    const printed = (["log", "info", "warn", "error", "debug"] as const).map((m) =>
      vi.spyOn(console, m).mockImplementation(() => undefined),
    );
    const report = await selectBackend("auto");
    for (const spy of printed) expect(spy).not.toHaveBeenCalled();
    expect(report.name).toBe("wasm");
    expect(tf.getBackend()).toBe("wasm");
    expect(report.tried.map((t) => t.name)).toEqual(["tensorflow-gpu", "tensorflow", "wasm"]);
    expect(report.tried.map((t) => t.ok)).toEqual([false, false, true]);
    // Here the tfjs-node packages are either absent or present without their native addon.
    for (const [attempt, pkg] of [
      [report.tried[0]!, "@tensorflow/tfjs-node-gpu"],
      [report.tried[1]!, "@tensorflow/tfjs-node"],
    ] as const) {
      if (resolvable(pkg)) expect(attempt.reason).toMatch(/^failed to initialise: .*tfjs_binding/);
      else expect(attempt.reason).toBe("not installed");
    }
    // A second call finds the same and prints nothing either.
    const again = await selectBackend();
    expect(again).toEqual(report);
    for (const spy of printed) expect(spy).not.toHaveBeenCalled();
  });

  it("throws BACKEND when the only backend named cannot run", async () => {
    const error: unknown = await selectBackend("tensorflow").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UNet3DError);
    expect((error as UNet3DError).code).toBe("BACKEND");
  });

  it.each(["webgl", "", "CPU", "gpu"])("rejects the unknown name %j", async (name) => {
    const error: unknown = await selectBackend(name as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UNet3DError);
    expect((error as UNet3DError).code).toBe("BAD_CONFIG");
    expect((error as Error).message).toContain(BACKEND_ORDER.join(", "));
  });
});
