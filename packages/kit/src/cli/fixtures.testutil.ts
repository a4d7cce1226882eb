// Option tables shaped like the real tools', shared by the cli tests.
import { defineCli } from "../cli.js";

/** A table like brats-infer's: values, a repeatable required option, booleans, a default. */
export const infer = defineCli({
  name: "brats-infer",
  version: "1.2.3",
  summary: "Segment BraTS cases.",
  options: {
    model: {
      type: "string",
      placeholder: "PATH",
      multiple: true,
      required: true,
      description: "a run folder or an .onnx file; repeat it for an ensemble",
    },
    input: { type: "string", placeholder: "DIR", required: true, description: "case folders" },
    out: { type: "string", short: "o", placeholder: "DIR", required: true, description: "output" },
    engine: { type: "string", placeholder: "NAME", default: "onnx", description: "onnx or tfjs" },
    threads: {
      type: "string",
      placeholder: "N",
      defaultText: "the physical cores",
      description: "onnxruntime threads",
    },
    tta: { type: "boolean", description: "mirroring test-time augmentation" },
    "no-report": { type: "boolean", description: "do not write report.html" },
    json: { type: "boolean", description: "print one JSON summary" },
  },
  epilogue: "Exit status: 0 done, 1 failure, 2 usage error.",
});

/** A table like brats-nifti's: positionals (a command and files). */
export const nifti = defineCli({
  name: "brats-nifti",
  version: "0.1.0",
  usage: "brats-nifti info FILE... [--json]",
  options: { json: { type: "boolean", description: "one JSON object per file" } },
  positionals: { name: "FILE", min: 1, max: 3 },
});

export const REQUIRED = ["--model", "m.onnx", "--input", "in", "--out", "o"];
