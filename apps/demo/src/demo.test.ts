// The demo end to end at reduced size ("ci" preset), checking every output it promises. The model
// it trains is the one tiny trained model the other end-to-end checks here reuse (TF.js engine on
// the same run, idempotent re-run), so the suite trains once.
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { loadImage } from "@napi-rs/canvas";
import { readNifti } from "@brats/nifti";
import { runInference } from "@brats/infer-app";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DemoError, runDemo, type DemoSummary } from "./demo.js";

const CHROMIUM = "/usr/bin/chromium";
const HAS_CHROMIUM = existsSync(CHROMIUM);
if (!HAS_CHROMIUM) {
  console.warn(
    `${CHROMIUM} not found: the demo report is not rendered in a browser (apt install chromium)`,
  );
}

let root: string;
let demo: DemoSummary;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "brats-demo-test-"));
  demo = await runDemo({ out: join(root, "demo"), preset: "ci", backend: "wasm" });
}, 600_000);

afterAll(async () => {
  if (root !== undefined) await rm(root, { recursive: true, force: true });
});

describe("pnpm demo (ci preset)", () => {
  it("writes a segmentation with the held-out case's exact grid and BraTS labels", async () => {
    const seg = await readNifti(demo.files.segmentation);
    const flair = await readNifti(
      join(demo.data.test, demo.heldOut, `${demo.heldOut}_flair.nii.gz`),
    );
    expect(seg.datatype).toBe("uint8");
    expect(seg.shape).toEqual(flair.shape);
    expect(seg.affine).toEqual(flair.affine);
    expect(seg.spacing).toEqual(flair.spacing);
    expect(seg.header.sformCode).toBe(flair.header.sformCode);
    expect(seg.header.qformCode).toBe(flair.header.qformCode);
    const values = new Set(seg.data as Uint8Array);
    for (const v of values) expect([0, 1, 2, 4]).toContain(v);
  });

  it("writes metrics JSON and CSV for the held-out case", async () => {
    const json = JSON.parse(await readFile(demo.files.metricsJson, "utf8")) as {
      cases: Array<{ case: string; regions: Record<string, { dice: number; hd95: number }> }>;
    };
    expect(json.cases.map((c) => c.case)).toEqual([demo.heldOut]);
    for (const region of ["WT", "TC", "ET"]) {
      const m = json.cases[0]!.regions[region]!;
      expect(m.dice).toBeGreaterThanOrEqual(0);
      expect(m.dice).toBeLessThanOrEqual(1);
    }
    expect(json.cases[0]!.regions.WT!.dice).toBe(demo.dice.WT);
    const csv = (await readFile(demo.files.metricsCsv, "utf8")).trim().split("\n");
    expect(csv[0]).toMatch(/^case,kind,name,dice,hd95/);
    expect(csv.filter((line) => line.startsWith(`${demo.heldOut},region,`))).toHaveLength(3);
  });

  it("writes PNGs that decode: overlays and training curves", async () => {
    const pngs = [...demo.files.overlays, demo.files.curves];
    expect(demo.files.overlays.length).toBeGreaterThanOrEqual(1);
    for (const path of pngs) {
      const image = await loadImage(await readFile(path));
      expect(image.width, path).toBeGreaterThan(16);
      expect(image.height, path).toBeGreaterThan(16);
    }
  });

  it("writes the model card and the ONNX model next to the run", async () => {
    const card = await readFile(demo.files.modelCard, "utf8");
    for (const id of demo.training.split.train) expect(card).toContain(id);
    expect(card).toMatch(/intended use/i);
    expect((await stat(demo.files.model)).size).toBeGreaterThan(1000);
  });

  it.skipIf(!HAS_CHROMIUM)("has a report that renders in Chromium", async () => {
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const requests: string[] = [];
      page.on("request", (r) => requests.push(r.url()));
      await page.goto(pathToFileURL(demo.files.report).href, { waitUntil: "load" });
      const text = await page.locator("body").innerText();
      expect(text).toContain(demo.heldOut);
      expect(text).toMatch(/Dice/);
      expect(text).toContain("Training curves");
      expect(await page.locator('a[href$="MODEL_CARD.md"]').count()).toBeGreaterThan(0);
      const sizes = await page.$$eval("img", (imgs) =>
        imgs.map((i) => [i.naturalWidth, i.naturalHeight]),
      );
      // The overlays and the training curves.
      expect(sizes.length).toBeGreaterThanOrEqual(demo.files.overlays.length + 1);
      for (const [w, h] of sizes) {
        expect(w).toBeGreaterThan(0);
        expect(h).toBeGreaterThan(0);
      }
      // Self-contained: the only request is the page itself.
      expect(requests).toEqual([pathToFileURL(demo.files.report).href]);
      const shot = await loadImage(await page.screenshot({ fullPage: false }));
      const { createCanvas } = await import("@napi-rs/canvas");
      const canvas = createCanvas(shot.width, shot.height);
      const ctx = canvas.getContext("2d");
      ctx.drawImage(shot, 0, 0);
      const pixels = ctx.getImageData(0, 0, shot.width, shot.height).data;
      const colours = new Set<number>();
      for (let i = 0; i < pixels.length; i += 4 * 7) {
        colours.add((pixels[i]! << 16) | (pixels[i + 1]! << 8) | pixels[i + 2]!);
      }
      // A blank or error page has a handful of colours; text, tables and MRI slices have many.
      expect(colours.size).toBeGreaterThan(50);
    } finally {
      await browser.close();
    }
  });

  it("segments the same case with the TF.js engine from the same run, in agreement", async () => {
    const out = join(root, "tfjs");
    const summary = await runInference({
      models: [demo.run],
      input: demo.data.test,
      out,
      engine: "tfjs",
      backend: "cpu",
      report: false,
    });
    expect(summary.engine).toBe("tfjs");
    expect(summary.counts.failed).toBe(0);
    const a = (await readNifti(demo.files.segmentation)).data as Uint8Array;
    const b = (await readNifti(join(out, `${demo.heldOut}.nii.gz`))).data as Uint8Array;
    let differ = 0;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) differ++;
    // Probabilities agree to 1e-4 (unet3d's ONNX tests); labels can only flip at near-ties.
    expect(differ / a.length).toBeLessThan(1e-3);
  });

  it("re-running the inference skips the finished case and leaves the files unchanged", async () => {
    const before = await readFile(demo.files.segmentation);
    const again = await runInference({
      models: [demo.files.model],
      input: demo.data.test,
      out: demo.results,
      engine: "onnx",
      overlays: true,
    });
    expect(again.counts).toMatchObject({ done: 0, skipped: 1, failed: 0 });
    expect(Buffer.compare(before, await readFile(demo.files.segmentation))).toBe(0);
  });

  it("refuses to replace a folder that is not a demo's", async () => {
    const foreign = join(root, "foreign");
    await mkdir(foreign, { recursive: true });
    await writeFile(join(foreign, "x.txt"), "x");
    const attempt = runDemo({ out: foreign, preset: "ci" });
    await expect(attempt).rejects.toBeInstanceOf(DemoError);
    await expect(attempt).rejects.toMatchObject({ code: "OUT_NOT_DEMO" });
    expect(await readdir(foreign)).toEqual(["x.txt"]);
  });
});
