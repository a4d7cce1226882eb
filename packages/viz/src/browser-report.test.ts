// The HTML report in a real browser: Debian's Chromium opens report.html from disk; the DOM must hold
// the table cells the report data says, every image must decode, no request may leave the page, and a
// screenshot must show the overlays pixel for pixel.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HAS_CHROMIUM, launchChromium } from "./browser-launch.js";
import { renderReportHtml } from "./report.js";
import { TRICKY_ID, sampleReport } from "./report-test-utils.js";
import { decodePng, isColoured } from "./render-test-utils.js";
import type { RgbaImage } from "./rgba.js";

describe.skipIf(!HAS_CHROMIUM)("report.html in headless Chromium", () => {
  let browser: Browser;
  let page: Page;
  let dir: string;
  let reportUrl: string;
  const requests: string[] = [];
  const report = sampleReport();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "brats-report-"));
    const file = join(dir, "report.html");
    await writeFile(file, renderReportHtml(report));
    reportUrl = pathToFileURL(file).href;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1200, height: 900 }, deviceScaleFactor: 1 });
    page.on("request", (r) => requests.push(r.url()));
    await page.goto(reportUrl, { waitUntil: "load" });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("makes no request but the page itself", () => {
    // data: images do not go through the network stack as requests to anywhere
    expect(requests.filter((u) => !u.startsWith("data:"))).toEqual([reportUrl]);
  });

  it("shows the metrics table: case rows, cells and summary rows", async () => {
    const rows = await page.$$eval("#metrics tbody tr", (trs) =>
      trs.map((tr) => tr.getAttribute("data-case")),
    );
    expect(rows).toEqual(["BraTS2021_00001", "BraTS2021_00002", "BraTS2021_00003"]);
    const cell = (row: string, metric: string, region: string) =>
      page.$eval(
        `#metrics tr[${row}] td[data-metric="${metric}"][data-region="${region}"]`,
        (td) => td.textContent,
      );
    expect(await cell('data-case="BraTS2021_00001"', "dice", "WT")).toBe("0.9000");
    expect(await cell('data-case="BraTS2021_00001"', "dice", "ET")).toBe("n/a");
    expect(await cell('data-summary="mean"', "dice", "WT")).toBe("0.6000");
    expect(await cell('data-summary="median"', "dice", "WT")).toBe("0.8000");
    expect(await cell('data-summary="mean"', "hd95", "WT")).toBe("126.88");
    const columns = await page.$$eval("#metrics tbody tr:first-child td", (tds) => tds.length);
    expect(columns).toBe(15);
  });

  it("shows escaped text as the original text, and links that resolve beside the report", async () => {
    const headings = await page.$$eval("section.case h2", (hs) => hs.map((h) => h.textContent));
    expect(headings).toEqual(report.cases.map((c) => c.id));
    expect(await page.title()).toBe(report.title);
    // the tricky id made no element of its own
    expect(await page.$$eval("section.case b", (bs) => bs.length)).toBe(0);
    const card = await page.$eval("#models a", (a) => (a as HTMLAnchorElement).href);
    expect(card).toBe(new URL("runs/fold%200/MODEL_CARD.md", reportUrl).href);
    const seg = await page.$eval("#case-3 .segmentation a", (a) => ({
      href: (a as HTMLAnchorElement).href,
      text: a.textContent,
    }));
    expect(seg.text).toBe(`out/${TRICKY_ID}.nii.gz`);
    // "#", quotes and "&" of the id stay in the file name; its "/" is a folder separator
    const target = new URL(seg.href);
    expect(target.hash).toBe("");
    expect(decodeURIComponent(target.pathname)).toBe(`${dir}/out/${TRICKY_ID}.nii.gz`);
  });

  it("decodes every image at its PNG size", async () => {
    const images = await page.$$eval("img", (imgs) =>
      imgs.map((img) => ({
        complete: img.complete,
        natural: [img.naturalWidth, img.naturalHeight],
        attrs: [Number(img.getAttribute("width")), Number(img.getAttribute("height"))],
      })),
    );
    expect(images).toHaveLength(3);
    for (const im of images) {
      expect(im.complete).toBe(true);
      expect(im.natural[0]).toBeGreaterThan(0);
      expect(im.natural).toEqual(im.attrs);
    }
  });

  it("takes a screenshot that shows the overlays exactly as rendered", async () => {
    const shot = await decodePng(await page.screenshot({ fullPage: true, type: "png" }));
    expect(shot.width).toBe(1200);
    // many distinct colours: text, tables, grey MRI, the label colours
    const colours = new Set<number>();
    for (let i = 0; i < shot.data.length; i += 4) {
      colours.add((shot.data[i]! << 16) | (shot.data[i + 1]! << 8) | shot.data[i + 2]!);
    }
    expect(colours.size).toBeGreaterThan(200);

    const boxes = await page.$$eval("section.case img", (imgs) =>
      imgs.map((img) => {
        // the content box: inside the border
        const r = img.getBoundingClientRect();
        return {
          x: r.left + img.clientLeft + window.scrollX,
          y: r.top + img.clientTop + window.scrollY,
          w: img.clientWidth,
          h: img.clientHeight,
        };
      }),
    );
    const first = report.cases[0]!.images![0]!.png as Uint8Array;
    const expected = await decodePng(first);
    const box = boxes[0]!;
    // shown at its natural size (it fits the page), so the screenshot holds the PNG's pixels
    expect([box.w, box.h]).toEqual([expected.width, expected.height]);
    const crop = cropRgba(
      shot,
      Math.round(box.x),
      Math.round(box.y),
      expected.width,
      expected.height,
    );
    let maxDiff = 0;
    for (let i = 0; i < crop.data.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(crop.data[i]! - expected.data[i]!));
    }
    expect(maxDiff).toBeLessThanOrEqual(2);
    // the overlay colours are on screen: oedema green and enhancing yellow over grey
    const count = (test: (r: number, g: number, b: number) => boolean) => {
      let n = 0;
      for (let i = 0; i < crop.data.length; i += 4) {
        if (test(crop.data[i]!, crop.data[i + 1]!, crop.data[i + 2]!)) n++;
      }
      return n;
    };
    expect(count((r, g, b) => isColoured(r, g, b) && g > r + 40 && g > b + 40)).toBeGreaterThan(20);
    expect(count((r, g, b) => isColoured(r, g, b) && r > b + 40 && g > b + 40)).toBeGreaterThan(5);
  });
});

function cropRgba(image: RgbaImage, x0: number, y0: number, w: number, h: number): RgbaImage {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) {
    const from = ((y0 + y) * image.width + x0) * 4;
    data.set(image.data.subarray(from, from + w * 4), y * w * 4);
  }
  return { width: w, height: h, data };
}
