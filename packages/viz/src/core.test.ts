import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import * as core from "./core.js";
import { pixelAt } from "./rgba.js";

const SRC = fileURLToPath(new URL("./", import.meta.url));

/** Relative modules imported by a source file, transitively, starting from core.ts. */
function moduleClosure(entry: string): Map<string, string> {
  const seen = new Map<string, string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    const text = readFileSync(SRC + file, "utf8");
    seen.set(file, text);
    for (const m of text.matchAll(/from\s+"\.\/([\w-]+)\.js"/g)) visit(`${m[1]!}.ts`);
  };
  visit(entry);
  return seen;
}

describe("core entry", () => {
  it("is browser-safe: no node:* module, no canvas, only browser-safe @brats entries in its import graph", () => {
    const files = moduleClosure("core.ts");
    expect([...files.keys()].sort()).toEqual([
      "colors.ts",
      "core.ts",
      "orient.ts",
      "overlay.ts",
      "report.ts",
      "rgba.ts",
      "select.ts",
      "slice.ts",
      "window.ts",
    ]);
    // Dependency-free @brats/conventions and the pure-maths entry of @brats/nifti (both bundled
    // for the browser in browser-bundle.test.ts); never nifti's main entry, which reads files.
    const BROWSER_SAFE = ["@brats/conventions", "@brats/nifti/orientation"];
    for (const [file, text] of files) {
      const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)].map((m) => m[1]!);
      for (const s of specifiers) {
        if (BROWSER_SAFE.includes(s)) continue;
        expect(s, `${file} imports ${s}`).toMatch(/^\.\/[\w-]+\.js$/);
      }
    }
  });

  it("a synthetic LPS volume through the whole pipeline: the right colour at the right place", () => {
    // 4×5×3 voxels of 1×1×3 mm in LPS order; brain 100, one voxel 200 at the patient's
    // left-anterior (LPS: high i = left, low j = anterior) in the middle slice k = 1, labelled ET.
    const shape = [4, 5, 3];
    const affine = [
      [-1, 0, 0, 0],
      [0, -1, 0, 0],
      [0, 0, 3, 0],
      [0, 0, 0, 1],
    ];
    const image = new Float32Array(60).fill(100);
    const labels = new Uint8Array(60);
    const at = 3 + 4 * (0 + 5 * 1);
    image[at] = 200;
    labels[at] = 4;
    const volume: core.Volume = { data: image, shape, affine };
    const seg: core.Volume = { data: labels, shape, affine };

    const plane = "coronal";
    const index = core.largestTumourSlice(seg, plane);
    expect(index).toBe(0); // j = 0, the anterior end
    const g = core.sliceGeometry(volume, plane, index);
    expect([g.width, g.height, g.pixelSpacing, g.markers]).toEqual([
      4,
      3,
      [1, 3],
      { left: "R", right: "L", top: "S", bottom: "I" },
    ]);
    const w = core.percentileWindow(image, 0, 100);
    expect(w).toEqual({ low: 100, high: 200 });
    const grey = core.applyWindow(core.extractSlice(volume, g), w, g.width, g.height);
    const drawn = core.overlayLabels(grey, core.extractSlice(seg, g), core.labelStyles());
    const square = core.scaleToSpacing(drawn, g.pixelSpacing);
    expect([square.width, square.height]).toEqual([4, 9]);
    // patient's left → screen right (x = 3); k = 1 of 3, superior up → rows 3–5 after 3× stretch.
    // white 255 under 40% yellow: 255, 255, 255·0.6 = 153
    for (let y = 0; y < 9; y++) {
      for (let x = 0; x < 4; x++) {
        const expected = x === 3 && y >= 3 && y <= 5 ? [255, 255, 153, 255] : [0, 0, 0, 255];
        expect(pixelAt(square, x, y), `(${x}, ${y})`).toEqual(expected);
      }
    }
  });
});
