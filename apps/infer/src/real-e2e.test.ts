// Issue 8 end to end on real data: brats-train on five of the six real cases in ../shared (read in
// place, never copied) for a short budget with a tiny model, then brats-infer segments the sixth
// with both engines. The run validates on the sixth once, at its end, so the held-out Dice that
// brats-train reports (preprocessed grid) must equal the one brats-infer measures on the original grid.
import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { EvaluationReport } from "@brats/metrics";
import { readNifti } from "@brats/nifti";
import { DEFAULT_CONFIG } from "@brats/runs";
import { runTraining } from "@brats/train-app";
import { afterAll, describe, expect, it } from "vitest";
import { runInference } from "./run.js";

const shared = fileURLToPath(new URL("../../../../shared/data/brats", import.meta.url));
const present = existsSync(shared);
if (!present) console.log(`real end-to-end test skipped: ${shared} is absent`);

describe.skipIf(!present)("train on five real cases, segment the sixth", () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("with both engines, on the input's grid, scored like the training run scored it", async () => {
    dir = await mkdtemp(join(tmpdir(), "brats-infer-e2e-"));
    const ids = readdirSync(shared).sort();
    const heldOut = ids[ids.length - 1]!;
    const started = performance.now();
    const run = await runTraining(
      {
        ...DEFAULT_CONFIG,
        data: shared,
        out: join(dir, "run"),
        patch: 32,
        epochs: 2,
        stepsPerEpoch: 12,
        baseFilters: 4,
        depth: 2,
        workers: 0,
        backend: "wasm",
        learningRate: 3e-3,
        split: { kind: "ids", ids: [heldOut] },
        valEvery: 1000, // validated once, after the last epoch
        valOverlap: 0.25,
      },
      { handleSigint: false },
    );
    const trainSeconds = (performance.now() - started) / 1000;
    expect(run.split.train).toEqual(ids.slice(0, -1));
    expect(run.split.val).toEqual([heldOut]);
    const val = run.lastVal!;

    const caseDir = join(shared, heldOut);
    const outputs: Record<string, string> = {};
    const seconds: Record<string, number> = {};
    for (const engine of ["onnx", "tfjs"] as const) {
      const out = join(dir, `out-${engine}`);
      const t0 = performance.now();
      const s = await runInference({
        models: [run.runDir],
        input: caseDir,
        out,
        engine,
        ...(engine === "tfjs" ? { backend: "wasm" } : {}),
        checkpoint: "last",
        overlays: engine === "onnx",
      });
      seconds[engine] = (performance.now() - t0) / 1000;
      expect(s.counts).toEqual({ cases: 1, done: 1, skipped: 0, failed: 0 });
      outputs[engine] = join(out, `${heldOut}.nii.gz`);
      const report = JSON.parse(await readFile(s.metrics!.json, "utf8")) as EvaluationReport;
      const dice = report.cases[0]!.regions;
      console.log(
        `${engine}: held-out ${heldOut} Dice WT ${dice.WT.dice.toFixed(4)} TC ${dice.TC.dice.toFixed(4)} ` +
          `ET ${dice.ET.dice.toFixed(4)} in ${seconds[engine].toFixed(1)} s ` +
          `(brats-train validation: WT ${val.WT.toFixed(4)} TC ${val.TC.toFixed(4)} ET ${val.ET.toFixed(4)})`,
      );
      // Same windows, overlap and checkpoint: the same labels, only the grid differs (exactly undone).
      expect(dice.WT.dice).toBeCloseTo(val.WT, 3);
      expect(dice.TC.dice).toBeCloseTo(val.TC, 3);
      expect(dice.ET.dice).toBeCloseTo(val.ET, 3);
      expect(existsSync(join(out, "overlays", `${heldOut}_comparison.png`))).toBe(
        engine === "onnx",
      );
      expect(existsSync(join(out, "report.html"))).toBe(true);
    }
    console.log(`training: ${trainSeconds.toFixed(1)} s (${run.step} steps on ${run.backend})`);

    const a = await readNifti(outputs.onnx!);
    const b = await readNifti(outputs.tfjs!);
    const flair = readdirSync(caseDir).find((n) => /_flair\.nii(\.gz)?$/.test(n))!;
    const input = await readNifti(join(caseDir, flair));
    expect(a.shape).toEqual(input.shape);
    expect(a.affine).toEqual(input.affine);
    const la = a.data as Uint8Array;
    const lb = b.data as Uint8Array;
    let differing = 0;
    for (let i = 0; i < la.length; i++) if (la[i] !== lb[i]) differing++;
    console.log(`onnx vs tfjs: ${differing} of ${la.length} voxels differ`);
    expect(differing / la.length).toBeLessThan(1e-4);
  });
});
