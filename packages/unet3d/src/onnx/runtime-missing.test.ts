// Without onnxruntime-node, loading a model fails with a typed error and the install hint. The
// package is present in this workspace, so the test replaces it by a module that fails to load.
import { describe, expect, it, vi } from "vitest";
import { ProtoWriter } from "./proto.js";
import { loadOnnxModel, ONNXRUNTIME_INSTALL_HINT } from "./runtime.js";

vi.mock("onnxruntime-node", () => {
  throw new Error("Cannot find package 'onnxruntime-node'");
});

describe("loadOnnxModel without onnxruntime-node", () => {
  it("throws ONNX_RUNTIME_MISSING with the install hint", async () => {
    const bytes = new ProtoWriter().int(1, 7).message(7, new ProtoWriter().string(2, "g")).finish();
    const error = await loadOnnxModel(bytes).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "ONNX_RUNTIME_MISSING" });
    expect((error as Error).message).toContain(ONNXRUNTIME_INSTALL_HINT);
    expect(ONNXRUNTIME_INSTALL_HINT).toBe("ONNXRUNTIME_NODE_INSTALL=skip npm i onnxruntime-node");
  });
});
