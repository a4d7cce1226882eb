import { describe, expect, it } from "vitest";
import { defineCli, helpText } from "../cli.js";
import { infer } from "./fixtures.testutil.js";

describe("helpText", () => {
  const text = helpText(infer);

  it("lists every option of the table, --help and --version, one per line", () => {
    const lines = text.split("\n");
    for (const name of [...Object.keys(infer.options), "help", "version"]) {
      expect(
        lines.filter((l) => new RegExp(`^  (-\\w, )?--${name}\\b`).test(l)),
        name,
      ).toHaveLength(1);
    }
  });

  it("is laid out from the table", () => {
    expect(text).toBe(
      [
        "Usage: brats-infer --model PATH [--model PATH ...] --input DIR --out DIR [options]",
        "",
        "Segment BraTS cases.",
        "",
        "Options:",
        "  --model PATH   a run folder or an .onnx file; repeat it for an ensemble (required; repeatable)",
        "  --input DIR    case folders (required)",
        "  -o, --out DIR  output (required)",
        "  --engine NAME  onnx or tfjs (default onnx)",
        "  --threads N    onnxruntime threads (default the physical cores)",
        "  --tta          mirroring test-time augmentation",
        "  --no-report    do not write report.html",
        "  --json         print one JSON summary",
        "  -h, --help     show this help",
        "  --version      show the version",
        "",
        "Exit status: 0 done, 1 failure, 2 usage error.",
        "",
      ].join("\n"),
    );
  });

  it("takes a given usage line and puts long labels on a line of their own", () => {
    const long = defineCli({
      name: "t",
      version: "0",
      usage: "t [options] FILE",
      options: {
        "a-rather-long-option-name": { type: "string", placeholder: "VALUE", description: "d" },
        b: { type: "boolean", description: "e ".repeat(60).trim() },
      },
    });
    expect(helpText(long)).toBe(
      [
        "Usage: t [options] FILE",
        "",
        "Options:",
        "  --a-rather-long-option-name VALUE",
        "                            d",
        `  --b                       ${"e ".repeat(36).trim()}`,
        `                            ${"e ".repeat(24).trim()}`,
        "  -h, --help                show this help",
        "  --version                 show the version",
        "",
      ].join("\n"),
    );
  });
});
