import { createServer, type Server } from "node:http";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as browser from "./browser.js";
import * as node from "./index.js";
import * as orientation from "./orientation.js";

const fixtures = fileURLToPath(new URL("../test-fixtures/", import.meta.url));

// A loopback file server stands in for the web server a browser app would fetch from.
let server: Server;
let base = "";
beforeAll(async () => {
  server = createServer((req, res) => {
    const path = join(fixtures, decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
    readFile(path).then(
      (bytes) => res.end(bytes),
      () => {
        res.statusCode = 404;
        res.end();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  base = `http://127.0.0.1:${address.port}/`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("browser entry", () => {
  it.each([
    "nifti-reader-js/little.nii.gz",
    "nifti-reader-js/air.hdr.gz",
    "nibabel/anatomical.nii",
    "nibabel/example_nifti2.nii.gz",
  ])("reads %s from a URL exactly as the Node reader reads the file", async (file) => {
    const fromUrl = await browser.readNifti(base + file);
    const fromFile = await node.readNifti(join(fixtures, file));
    expect(fromUrl.shape).toEqual(fromFile.shape);
    expect(fromUrl.affine).toEqual(fromFile.affine);
    expect(fromUrl.data).toEqual(fromFile.data);
  });

  it("reads a lone .hdr URL as a header-only image", async () => {
    const image = await browser.readNifti(base + "nibabel/nifti1.hdr");
    expect(image.data).toBeNull();
    expect(image.shape).toEqual([91, 109, 91]);
  });

  it("gives IO for a missing URL and for writeNifti", async () => {
    await expect(browser.readNifti(base + "missing.nii")).rejects.toMatchObject({ code: "IO" });
    const image = await browser.readNifti(base + "nifti-reader-js/little.nii.gz");
    await expect(browser.writeNifti(image, "x.nii")).rejects.toMatchObject({ code: "IO" });
  });

  it("exports the same names as the Node entry, but for scanNifti (it streams a file from disk)", () => {
    const nodeOnly = new Set(["scanNifti"]);
    expect(Object.keys(browser).sort()).toEqual(
      Object.keys(node)
        .filter((name) => !nodeOnly.has(name))
        .sort(),
    );
  });

  it("bundles for the browser with no Node built-ins", async () => {
    const result = await build({
      entryPoints: [fileURLToPath(new URL("./browser.ts", import.meta.url))],
      bundle: true,
      platform: "browser",
      format: "esm",
      write: false,
      logLevel: "silent",
    });
    const code = result.outputFiles[0]!.text;
    expect(code).not.toMatch(/from\s*["']node:/);
    expect(code).toContain("readNifti");
  });
});

describe('the "./orientation" entry', () => {
  it("exports only what the main entry exports, the same functions", () => {
    expect(Object.keys(orientation).length).toBeGreaterThan(5);
    for (const [name, value] of Object.entries(orientation)) {
      expect((node as Record<string, unknown>)[name], name).toBe(value);
    }
  });

  it("bundles for the browser with no Node built-ins and no reader", async () => {
    const result = await build({
      entryPoints: [fileURLToPath(new URL("./orientation.ts", import.meta.url))],
      bundle: true,
      platform: "browser",
      format: "esm",
      write: false,
      logLevel: "silent",
    });
    const code = result.outputFiles[0]!.text;
    expect(code).not.toMatch(/from\s*["']node:/);
    expect(code).toContain("ioOrientation");
    expect(code).not.toContain("fflate");
  });
});
