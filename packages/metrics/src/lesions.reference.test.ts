// Agreement with scripts/lesionwise_reference.py (numpy + scipy, written from the challenges'
// description): seeded synthetic multi-lesion cases and, when ../shared is present, the deepbrainseg
// predictions scored under every challenge's parameters. Its output is src/__golden__/lesionwise.json.
// Dice within 1e-6, HD95 within 1e-3 mm, counts exact.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { labelConvention, REGION_NAMES } from "@brats/conventions";
import { describe, expect, it } from "vitest";
import { lesionWise } from "./lesions.js";
import type { Challenge } from "./types.js";
import { readLabelVolume } from "./read.js";
import { hd95Surface } from "./surfels.js";
import type { Shape, Spacing } from "./types.js";

interface RegionScores {
  lesionWise: { dice: number; hd95: number; tp: number; fn: number; fp: number };
  hd95Surface: number;
}
interface GoldenCase {
  case: string;
  shape?: Shape;
  spacing: Spacing;
  pred?: number[];
  gt?: number[];
  challenges: Record<Challenge, Record<string, RegionScores>>;
}
const golden = JSON.parse(
  readFileSync(new URL("./__golden__/lesionwise.json", import.meta.url), "utf8"),
) as { synthetic: GoldenCase[]; real: GoldenCase[]; realSkipped?: string };

function decodeRuns(runs: number[]): Uint8Array {
  let n = 0;
  for (let i = 1; i < runs.length; i += 2) n += runs[i]!;
  const out = new Uint8Array(n);
  let at = 0;
  for (let i = 0; i < runs.length; i += 2) {
    out.fill(runs[i]!, at, at + runs[i + 1]!);
    at += runs[i + 1]!;
  }
  return out;
}

const REGIONS = labelConvention("brats2021").regions;
const regionMask = (labels: ArrayLike<number>, region: (typeof REGION_NAMES)[number]) => {
  const wanted = new Set(REGIONS[region]);
  return Uint8Array.from(labels, (v) => (wanted.has(v === 3 ? 4 : v) ? 1 : 0));
};

function expectAgrees(
  name: string,
  pred: ArrayLike<number>,
  gt: ArrayLike<number>,
  shape: Shape,
  spacing: Spacing,
  want: GoldenCase["challenges"],
): void {
  for (const region of REGION_NAMES) {
    const p = regionMask(pred, region);
    const g = regionMask(gt, region);
    const surface = hd95Surface(p, g, shape, spacing);
    expect(
      Math.abs(surface - want.GLI[region]!.hd95Surface),
      `${name} ${region} hd95Surface`,
    ).toBeLessThanOrEqual(1e-3);
    for (const challenge of Object.keys(want) as Challenge[]) {
      const w = want[challenge][region]!.lesionWise;
      const got = lesionWise(p, g, shape, spacing, { challenge });
      const where = `${name} ${challenge} ${region}`;
      expect([got.tp, got.fn, got.fp], where).toEqual([w.tp, w.fn, w.fp]);
      expect(Math.abs(got.dice - w.dice), `${where} dice`).toBeLessThanOrEqual(1e-6);
      expect(Math.abs(got.hd95 - w.hd95), `${where} hd95`).toBeLessThanOrEqual(1e-3);
    }
  }
}

describe("lesion-wise scores against the scipy reference", () => {
  it.each(golden.synthetic.map((c) => [c.case, c] as const))("%s", (name, c) => {
    expectAgrees(name, decodeRuns(c.pred!), decodeRuns(c.gt!), c.shape!, c.spacing, c.challenges);
  });

  const shared = fileURLToPath(new URL("../../../../shared/data", import.meta.url));
  const present = existsSync(join(shared, "peer-predictions")) && golden.real.length > 0;
  it.skipIf(!present)(
    "the deepbrainseg predictions (3 read as 4), every challenge",
    async () => {
      for (const c of golden.real) {
        const pred = await readLabelVolume(
          join(shared, "peer-predictions", "deepbrainseg", `${c.case}.nii.gz`),
        );
        const gt = await readLabelVolume(join(shared, "brats", c.case, `${c.case}_seg.nii.gz`));
        expectAgrees(c.case, pred.data, gt.data, gt.shape, c.spacing, c.challenges);
      }
    },
    300_000,
  );
  if (!present) {
    it.skip(`the deepbrainseg predictions: ${golden.realSkipped ?? "../shared/data is absent"}`, () =>
      undefined);
  }
});
