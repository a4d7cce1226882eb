import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { labelsToClasses } from "@brats/conventions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { augmentPatch } from "./augment.js";
import { discoverCases, type CaseFiles, type LoadedCase } from "./cases.js";
import { DataError } from "./errors.js";
import { prepareCase } from "./loader-cases.js";
import type { PatchLoaderOptions } from "./loader-options.js";
import { PatchLoader, type Batch } from "./loader.js";
import { samplePatch } from "./patches.js";
import { generatePhantom } from "./phantom.js";
import { writePhantomDataset } from "./phantom-dataset.js";
import { preprocessCase } from "./preprocess.js";
import { createRng, deriveRngState } from "./rng.js";

/** Three small preprocessed phantoms with classes, as a training loop would hand them over. */
function phantomCases(): LoadedCase[] {
  return [11, 12, 13].map((seed, k) => {
    const p = generatePhantom({ shape: [24, 22, 20], seed, id: `P${k}` });
    const c = preprocessCase({ ...p, seg: p.seg }).case;
    return { ...c, seg: labelsToClasses(c.seg!) };
  });
}

const CASES = phantomCases();
const BASE: PatchLoaderOptions = {
  cases: CASES,
  patchSize: [16, 12, 8],
  batchSize: 2,
  seed: 7,
  patchesPerEpoch: 5, // batches of 2, 2, 1 per epoch: the epoch boundary is crossed mid-stream
};

async function take(loader: PatchLoader, n: number): Promise<Batch[]> {
  const out: Batch[] = [];
  for (let i = 0; i < n; i++) out.push(await loader.next());
  return out;
}

async function run(opts: Partial<PatchLoaderOptions>, n: number): Promise<Batch[]> {
  const loader = new PatchLoader({ ...BASE, ...opts });
  try {
    return await take(loader, n);
  } finally {
    await loader.close();
  }
}

/** Patch j of a batch as [image, labels] views. */
function patchOf(b: Batch, j: number): [Float32Array, Uint8Array] {
  const [, d, h, w, c] = b.shape;
  const v = d * h * w;
  return [b.images.subarray(j * v * c, (j + 1) * v * c), b.labels.subarray(j * v, (j + 1) * v)];
}

/** Every patch of the batches keyed by "epoch:index". */
function byPosition(
  batches: Batch[],
): Map<string, { id: string; image: Float32Array; labels: Uint8Array }> {
  const out = new Map<string, { id: string; image: Float32Array; labels: Uint8Array }>();
  for (const b of batches) {
    for (let j = 0; j < b.shape[0]; j++) {
      const [image, labels] = patchOf(b, j);
      out.set(`${b.epoch}:${b.index + j}`, { id: b.caseIds[j]!, image, labels });
    }
  }
  return out;
}

function expectSameBatches(a: Batch[], b: Batch[]): void {
  expect(b.map((x) => [x.epoch, x.index, x.shape, x.caseIds, x.origins])).toEqual(
    a.map((x) => [x.epoch, x.index, x.shape, x.caseIds, x.origins]),
  );
  a.forEach((x, i) => {
    expect(Buffer.from(b[i]!.images.buffer).equals(Buffer.from(x.images.buffer))).toBe(true);
    expect(Buffer.from(b[i]!.labels.buffer).equals(Buffer.from(x.labels.buffer))).toBe(true);
  });
}

describe("PatchLoader batches", () => {
  it("are shaped [B, z, y, x, C] with classes, positions in index order across epochs", async () => {
    const batches = await run({ workers: 0 }, 5);
    expect(batches.map((b) => [b.epoch, b.index, b.shape])).toEqual([
      [0, 0, [2, 8, 12, 16, 4]],
      [0, 2, [2, 8, 12, 16, 4]],
      [0, 4, [1, 8, 12, 16, 4]],
      [1, 0, [2, 8, 12, 16, 4]],
      [1, 2, [2, 8, 12, 16, 4]],
    ]);
    for (const b of batches) {
      expect(b.images).toHaveLength(b.shape[0] * 8 * 12 * 16 * 4);
      expect(b.labels).toHaveLength(b.shape[0] * 8 * 12 * 16);
      expect(Math.max(...b.labels)).toBeLessThanOrEqual(3);
    }
    // Each epoch's first 3 patches visit the 3 cases once (a seeded shuffle).
    const all = new Set(["P0", "P1", "P2"]);
    expect(new Set([...batches[0]!.caseIds, batches[1]!.caseIds[0]!])).toEqual(all);
    expect(new Set([...batches[3]!.caseIds, batches[4]!.caseIds[0]!])).toEqual(all);
  });

  it("patch i of epoch e is samplePatch + augmentPatch with an RNG from (seed, e, i)", async () => {
    const batches = await run({ workers: 0, foregroundShare: 0.5, augment: {} }, 4);
    for (const [key, p] of byPosition(batches)) {
      const [epoch, index] = key.split(":").map(Number) as [number, number];
      const c = CASES.find((x) => x.id === p.id)!;
      const rng = createRng(deriveRngState(7, epoch, index));
      const expected = augmentPatch(
        samplePatch(c, [16, 12, 8], rng, { foregroundShare: 0.5 }),
        rng,
        {},
      );
      expect(Buffer.from(p.image.slice().buffer).equals(Buffer.from(expected.image.buffer))).toBe(
        true,
      );
      expect(Buffer.from(p.labels.slice().buffer).equals(Buffer.from(expected.labels.buffer))).toBe(
        true,
      );
    }
  });

  it("are identical with 0, 1 and 2 workers", async () => {
    const inProcess = await run({ workers: 0 }, 6);
    expectSameBatches(inProcess, await run({ workers: 1 }, 6));
    expectSameBatches(inProcess, await run({ workers: 2, queueSize: 3 }, 6));
  });

  it("differ with the seed and without augmentation", async () => {
    const [a] = await run({ workers: 0 }, 1);
    const [b] = await run({ workers: 0, seed: 8 }, 1);
    const [c] = await run({ workers: 0, augment: false }, 1);
    expect(Buffer.from(b!.images.buffer).equals(Buffer.from(a!.images.buffer))).toBe(false);
    // Same origins (sampling draws first), different values (augmentation draws after).
    expect(c!.origins).toEqual(a!.origins);
    expect(Buffer.from(c!.images.buffer).equals(Buffer.from(a!.images.buffer))).toBe(false);
  });

  it("are equal when next() calls overlap", async () => {
    const loader = new PatchLoader({ ...BASE, workers: 2, queueSize: 2 });
    try {
      const overlapping = await Promise.all([
        loader.next(),
        loader.next(),
        loader.next(),
        loader.next(),
      ]);
      expectSameBatches(await run({ workers: 0 }, 4), overlapping);
      // (0, 0), (0, 2), (0, 4) and (1, 0) handed out: batch (1, 2) is next.
      expect(loader.state()).toEqual({ seed: 7, epoch: 1, index: 2 });
    } finally {
      await loader.close();
    }
  });
});

describe("PatchLoader resume", () => {
  it("from state() continues the uninterrupted stream", async () => {
    const uninterrupted = await run({ workers: 0 }, 7);
    const first = new PatchLoader({ ...BASE, workers: 2 });
    let saved;
    try {
      expectSameBatches(uninterrupted.slice(0, 2), await take(first, 2));
      saved = first.state();
    } finally {
      await first.close();
    }
    expect(saved).toEqual({ seed: 7, epoch: 0, index: 4 });
    const from = { startEpoch: saved.epoch, startIndex: saved.index };
    expectSameBatches(uninterrupted.slice(2), await run({ workers: 1, ...from }, 5));
    expectSameBatches(uninterrupted.slice(2), await run({ workers: 0, ...from }, 5));
  });

  it("at any index gives the same patches at the same positions", async () => {
    const reference = byPosition(await run({ workers: 0 }, 6));
    const shifted = byPosition(await run({ workers: 1, startEpoch: 0, startIndex: 3 }, 3));
    expect([...shifted.keys()]).toEqual(["0:3", "0:4", "1:0", "1:1", "1:2", "1:3"]);
    for (const [key, p] of shifted) {
      const r = reference.get(key)!;
      expect(p.id).toBe(r.id);
      expect(Buffer.from(p.image.slice().buffer).equals(Buffer.from(r.image.slice().buffer))).toBe(
        true,
      );
      expect(
        Buffer.from(p.labels.slice().buffer).equals(Buffer.from(r.labels.slice().buffer)),
      ).toBe(true);
    }
  });
});

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("PatchLoader queue", () => {
  it("never holds more than queueSize batches, and production stops when nobody reads", async () => {
    const loader = new PatchLoader({ ...BASE, workers: 2, queueSize: 3, patchesPerEpoch: 1000 });
    try {
      await loader.next();
      // One batch handed out, then the queue fills up to 3 and stays there.
      await until(() => loader.stats().ready === 3);
      await new Promise((r) => setTimeout(r, 300));
      expect(loader.stats()).toMatchObject({ ready: 3, inFlight: 3, produced: 4, workers: 2 });
      for (let i = 0; i < 10; i++) {
        await loader.next();
        expect(loader.stats().inFlight).toBeLessThanOrEqual(3);
      }
      expect(loader.stats().peakInFlight).toBe(3);
      expect(loader.state()).toEqual({ seed: 7, epoch: 0, index: 22 });
    } finally {
      await loader.close();
    }
  });

  it("with queueSize 1 produces one batch at a time even with 2 workers", async () => {
    const loader = new PatchLoader({ ...BASE, workers: 2, queueSize: 1 });
    try {
      expectSameBatches(await run({ workers: 0 }, 4), await take(loader, 4));
      expect(loader.stats().peakInFlight).toBe(1);
    } finally {
      await loader.close();
    }
  });
});

describe("PatchLoader shutdown and errors", () => {
  it("close() while workers are busy stops them and rejects pending and later next()", async () => {
    const loader = new PatchLoader({
      ...BASE,
      patchSize: 32,
      batchSize: 4,
      workers: 2,
      queueSize: 2,
    });
    await loader.next();
    // Handing out batch 0 started batch 2, which cannot have arrived yet: both workers may be busy.
    const batch1 = loader.next().catch(() => null); // may have arrived before close(), or not
    const pending = expect(loader.next()).rejects.toMatchObject({ code: "BAD_OPTION" });
    expect(loader.stats().inFlight).toBe(2);
    await loader.close();
    await pending;
    await batch1;
    expect(loader.stats()).toMatchObject({ workers: 0, ready: 0 });
    await expect(loader.next()).rejects.toBeInstanceOf(DataError);
    await loader.close(); // idempotent
  });

  it("close() before the workers are ready", async () => {
    const loader = new PatchLoader({ ...BASE, workers: 1 });
    const pending = expect(loader.next()).rejects.toMatchObject({ code: "BAD_OPTION" });
    await loader.close();
    await pending;
    expect(loader.stats().workers).toBe(0);
  });

  it("lets the process exit: after close(), and with a forgotten loader", () => {
    const loaderUrl = new URL("./loader.ts", import.meta.url).href;
    const script = `
      import { generatePhantom, } from ${JSON.stringify(new URL("./phantom.ts", import.meta.url).href)};
      import { labelsToClasses } from "@brats/conventions";
      const { PatchLoader } = await import(${JSON.stringify(loaderUrl)});
      const p = generatePhantom({ shape: [20, 20, 20], seed: 1 });
      const cases = [{ ...p, seg: labelsToClasses(p.seg) }];
      const closed = new PatchLoader({ cases, patchSize: 16, batchSize: 2, seed: 1, workers: 2 });
      await closed.next();
      await closed.close();
      const forgotten = new PatchLoader({ cases, patchSize: 16, batchSize: 2, seed: 1, workers: 2 });
      const b = await forgotten.next();
      console.log("done", b.shape.join("x"));
    `;
    const child = spawnSync(
      process.execPath,
      ["--conditions=source", "--import", "tsx", "--input-type=module", "-e", script],
      { encoding: "utf8", timeout: 30_000, cwd: fileURLToPath(new URL("..", import.meta.url)) },
    );
    expect(child.stderr).toBe("");
    expect(child.status).toBe(0);
    expect(child.stdout.trim()).toBe("done 2x16x16x16x4");
  });

  it("a case that fails to load in a worker rejects next() with a DataError and the cause", async () => {
    const files: CaseFiles[] = [
      {
        id: "Missing_001",
        dir: "/nonexistent",
        images: { flair: "/nonexistent/Missing_001_flair.nii.gz" },
      },
    ];
    const load = { modalities: ["flair" as const] };
    for (const workers of [0, 1]) {
      const loader = new PatchLoader({ ...BASE, cases: files, load, workers });
      try {
        const error = await loader.next().then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(DataError);
        expect(error).toMatchObject({ code: "IO" });
        expect((error as Error).message).toContain("Missing_001");
        if (workers > 0) expect((error as Error).cause).toBeInstanceOf(Error);
        // The loader stays failed, with the same error, and stops its workers by itself.
        await expect(loader.next()).rejects.toBe(error);
        await until(() => loader.stats().workers === 0);
      } finally {
        await loader.close();
      }
    }
  });

  it("rejects bad options", () => {
    const bad: Array<[Partial<PatchLoaderOptions>, string]> = [
      [{ cases: [] }, "NO_CASES"],
      [{ batchSize: 0 }, "BAD_OPTION"],
      [{ patchSize: [16, 16] as unknown as [number, number, number] }, "BAD_OPTION"],
      [{ patchSize: 0 }, "BAD_OPTION"],
      [{ seed: 1.5 }, "BAD_OPTION"],
      [{ workers: -1 }, "BAD_OPTION"],
      [{ queueSize: 0 }, "BAD_OPTION"],
      [{ startIndex: 5 }, "BAD_OPTION"],
      [{ foregroundShare: 2 }, "BAD_OPTION"],
      [{ augment: { flip: { probability: 2 } } }, "BAD_OPTION"],
      [
        { cases: [{ ...CASES[0]!, seg: new Uint8Array(CASES[0]!.seg!.length).fill(4) }] },
        "BAD_LABELS",
      ],
      [
        { cases: [CASES[0]!, { ...CASES[1]!, channels: CASES[1]!.channels.slice(1) }] },
        "BAD_OPTION",
      ],
    ];
    for (const [opts, code] of bad) {
      let error: unknown = null;
      try {
        new PatchLoader({ ...BASE, workers: 0, ...opts });
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(Object.keys(opts))).toBeInstanceOf(DataError);
      expect(error).toMatchObject({ code });
    }
  });
});

describe("PatchLoader from case files", () => {
  let dir = "";
  let files: CaseFiles[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "brats-loader-"));
    await writePhantomDataset(dir, { cases: 2, shape: [24, 24, 20], seed: 3 });
    files = await discoverCases(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads, preprocesses and converts them in the workers, as prepareCase does in process", async () => {
    const cases = await Promise.all(files.map((f) => prepareCase(f)));
    const fromMemory = await run({ cases, workers: 0 }, 3);
    expectSameBatches(fromMemory, await run({ cases: files, workers: 2 }, 3));
    expectSameBatches(fromMemory, await run({ cases: files, workers: 0 }, 3));
    expect(new Set(fromMemory.flatMap((b) => b.caseIds))).toEqual(new Set(files.map((f) => f.id)));
  });
});
