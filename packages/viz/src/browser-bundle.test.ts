// The browser claim, checked: @brats/nifti (its "browser" export) and @brats/viz/core bundled by esbuild
// for the browser, loaded in headless Chromium, read a real NIfTI fixture over fetch, extract, window
// and overlay a slice and draw it on a <canvas>; the canvas pixels must equal the same pipeline in Node.
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { getScaledData, readNifti } from "@brats/nifti";
import { build, type Plugin } from "esbuild";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HAS_CHROMIUM, launchChromium } from "./browser-launch.js";
import { renderNiftiSlice, type RenderedSlice } from "./browser-fixture.js";
import * as core from "./core.js";

const PACKAGES = fileURLToPath(new URL("../../", import.meta.url));
const FIXTURES = join(PACKAGES, "nifti", "test-fixtures");
const ORIGIN = "http://brats.test";

/**
 * Resolves @brats/<pkg>[/sub] the way a browser bundler resolves the published package (the "browser"
 * export when there is one, else "import"), but to the TypeScript source of that dist file, so the
 * test needs no build: dist/browser.js → src/browser.ts.
 */
const bratsBrowserSources: Plugin = {
  name: "brats-browser-sources",
  setup(b) {
    b.onResolve({ filter: /^@brats\// }, (args) => {
      const m = /^@brats\/([^/]+)(\/.*)?$/.exec(args.path);
      if (m === null) return null;
      const dir = join(PACKAGES, m[1]!);
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        exports: Record<string, { browser?: string; import?: string }>;
      };
      const entry = pkg.exports[`.${m[2] ?? ""}`];
      const target = entry?.browser ?? entry?.import;
      if (target === undefined) return { errors: [{ text: `no export for ${args.path}` }] };
      return { path: join(dir, target.replace(/^\.\/dist\//, "src/").replace(/\.js$/, ".ts")) };
    });
  },
};

const ENTRY = `
import * as core from "@brats/viz/core";
import { getScaledData, readNifti } from "@brats/nifti";
import { drawOnCanvas, renderNiftiSlice } from ${JSON.stringify(fileURLToPath(new URL("./browser-fixture.ts", import.meta.url)))};
globalThis.bratsRender = async (url) => {
  const out = await renderNiftiSlice({ core, readNifti, getScaledData }, url);
  const canvas = document.createElement("canvas");
  document.body.append(canvas);
  const pixels = drawOnCanvas(canvas, out);
  return { ...out, rgba: Array.from(out.rgba), canvas: Array.from(pixels) };
};
`;

async function bundle(): Promise<string> {
  const result = await build({
    stdin: { contents: ENTRY, resolveDir: dirname(fileURLToPath(import.meta.url)), loader: "ts" },
    bundle: true,
    platform: "browser",
    format: "esm",
    conditions: ["browser"],
    plugins: [bratsBrowserSources],
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

describe("browser bundle of @brats/nifti + @brats/viz/core", () => {
  let code = "";
  beforeAll(async () => {
    code = await bundle();
  }, 60_000);

  it("has no Node built-ins, no canvas package and the browser NIfTI reader", () => {
    expect(code).not.toMatch(/from\s*["']node:|require\(["']node:/);
    expect(code).not.toContain("@napi-rs/canvas");
    // the browser entry fetches URLs; the Node entry would read files
    expect(code).toContain("cannot fetch");
    expect(code).toContain("fflate");
  });

  describe.skipIf(!HAS_CHROMIUM)("in headless Chromium", () => {
    let browser: Browser;
    let page: Page;
    const external: string[] = [];

    beforeAll(async () => {
      browser = await launchChromium();
      page = await browser.newPage();
      // a local stand-in for the web server an app would be served from
      await page.route("**/*", async (route) => {
        const url = new URL(route.request().url());
        if (url.origin !== ORIGIN) {
          external.push(url.href);
          return route.abort();
        }
        if (url.pathname === "/") {
          return route.fulfill({
            contentType: "text/html",
            body: `<!DOCTYPE html><meta charset="utf-8"><body><script type="module" src="/bundle.js"></script></body>`,
          });
        }
        if (url.pathname === "/bundle.js") {
          return route.fulfill({ contentType: "text/javascript", body: code });
        }
        try {
          const body = await readFile(join(FIXTURES, decodeURIComponent(url.pathname)));
          return route.fulfill({ contentType: "application/octet-stream", body });
        } catch {
          return route.fulfill({ status: 404, body: "" });
        }
      });
      await page.goto(`${ORIGIN}/`);
      await page.waitForFunction(() => "bratsRender" in globalThis);
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
    });

    it.each(["nifti-reader-js/little.nii.gz", "nibabel/anatomical.nii"])(
      "reads %s over fetch and draws the overlaid slice: the canvas holds the Node pixels",
      async (file) => {
        const inBrowser = (await page.evaluate(
          (url) =>
            (
              globalThis as unknown as {
                bratsRender: (u: string) => Promise<unknown>;
              }
            ).bratsRender(url),
          `${ORIGIN}/${file}`,
        )) as Omit<RenderedSlice, "rgba"> & { rgba: number[]; canvas: number[] };
        const inNode = await renderNiftiSlice(
          { core, readNifti, getScaledData },
          join(FIXTURES, file),
        );
        expect(inBrowser.shape).toEqual(inNode.shape);
        expect(inBrowser.affine).toEqual(inNode.affine);
        expect(inBrowser.window).toEqual(inNode.window);
        expect(inBrowser.labelCounts).toEqual(inNode.labelCounts);
        expect(inBrowser.index).toBe(inNode.index);
        expect([inBrowser.width, inBrowser.height]).toEqual([inNode.width, inNode.height]);
        // every label is present and the overlay is drawn: the test is not vacuous
        for (const count of inNode.labelCounts) expect(count).toBeGreaterThan(0);
        const node = Array.from(inNode.rgba);
        expect(inBrowser.rgba).toEqual(node);
        expect(inBrowser.canvas).toEqual(node);
        let red = 0;
        const grey = new Set<number>();
        for (let i = 0; i < node.length; i += 4) {
          if (node[i]! > node[i + 1]! + 60 && node[i]! > node[i + 2]! + 60) red++;
          if (node[i] === node[i + 1] && node[i] === node[i + 2]) grey.add(node[i]!);
        }
        expect(red).toBeGreaterThan(0);
        expect(grey.size).toBeGreaterThan(20);
        expect(external).toEqual([]);
      },
    );
  });
});
