// evaluateCase's `lesionWise` option: hand-computed region scores on labelled lesions, agreement
// with the pure lesionWise/hd95Surface on each region's full-image masks (the crop evaluateCase
// works in must change nothing, lesions at the image border included), summaries, CSVs, errors.
import { labelConvention, REGION_NAMES } from "@brats/conventions";
import { describe, expect, it } from "vitest";
import { BratsMetric } from "./accumulator.js";
import type { MetricsError } from "./errors.js";
import { evaluateCase } from "./evaluate.js";
import { lesionWise } from "./lesions.js";
import { LESION_CSV_COLUMNS, lesionsToCsv, reportToCsv, scoredCase } from "./report.js";
import { LESION_WISE_METRIC_NAMES, METRIC_NAMES, summarizeCases } from "./summary.js";
import { hd95Surface } from "./surfels.js";
import { randomBlobs, rng } from "./test-utils.js";
import type { Challenge, LabelVolume, Shape, Spacing } from "./types.js";

// The layout of lesions.test.ts, with labels (brats2023: 1 NCR, 2 ED, 3 ET): lesions A, B, E, D
// are edema, C is necrosis, F enhancing; the prediction has A, B, C shifted by one voxel, D, and a
// false positive labelled enhancing.
const SHAPE: Shape = [70, 8, 8];
const [NX, NY] = SHAPE;
type Box6 = [number, number, number, number, number, number];
const cube = (x0: number): Box6 => [x0, x0 + 3, 2, 5, 2, 5];
const row = (x0: number, x1: number): Box6 => [x0, x1, 3, 3, 3, 3];

function labelled(list: Array<[Box6, number]>): Uint8Array {
  const out = new Uint8Array(SHAPE[0] * SHAPE[1] * SHAPE[2]);
  for (const [[x0, x1, y0, y1, z0, z1], label] of list) {
    for (let z = z0; z <= z1; z++)
      for (let y = y0; y <= y1; y++)
        for (let x = x0; x <= x1; x++) out[x + NX * (y + NY * z)] = label;
  }
  return out;
}

const GT = labelled([
  [cube(1), 2],
  [cube(8), 2],
  [cube(20), 1],
  [row(32, 33), 2],
  [row(42, 44), 2],
  [cube(53), 3],
]);
const PRED = labelled([
  [cube(1), 2],
  [cube(8), 2],
  [cube(21), 1],
  [row(42, 44), 2],
  [[65, 66, 3, 4, 3, 4], 3],
]);

function maskOf(volume: LabelVolume, labels: readonly number[]): Uint8Array {
  return Uint8Array.from({ length: volume.length }, (_, i) =>
    labels.includes(volume[i]!) ? 1 : 0,
  );
}

describe("evaluateCase with lesionWise", () => {
  it.each<[string, { dice: number; hd95: number; tp: number; fp: number; fn: number }]>([
    // WT is lesions.test.ts's case under GLI: AB (1, 0), C (0.75, 1), F (0, 374), one FP.
    ["WT", { dice: 1.75 / 4, hd95: 749 / 4, tp: 2, fp: 1, fn: 1 }],
    // TC = {1, 3}: C matched by its shifted copy (0.75, 1), F unmatched, the FP: 0.75/3, 749/3.
    ["TC", { dice: 0.75 / 3, hd95: 749 / 3, tp: 1, fp: 1, fn: 1 }],
    // ET = {3}: F unmatched and the FP: Dice 0, HD95 (374 + 374)/2.
    ["ET", { dice: 0, hd95: 374, tp: 0, fp: 1, fn: 1 }],
  ])("GLI, %s: hand-computed scores", (region, want) => {
    const m = evaluateCase(PRED, GT, SHAPE, [1, 1, 1], {
      convention: "brats2023",
      lesionWise: { challenge: "GLI" },
    });
    const r = m.regions[region as "WT"];
    expect(r.lesionWise!.dice).toBeCloseTo(want.dice, 12);
    expect(r.lesionWise!.hd95).toBeCloseTo(want.hd95, 12);
    expect([r.lesionWise!.tp, r.lesionWise!.fp, r.lesionWise!.fn]).toEqual([
      want.tp,
      want.fp,
      want.fn,
    ]);
    // The whole-region Dice is untouched, and labels get no lesion-wise scores.
    expect(r.dice).toBe(
      evaluateCase(PRED, GT, SHAPE, [1, 1, 1], { convention: "brats2023" }).regions[region as "WT"]
        .dice,
    );
    for (const l of Object.values(m.labels)) expect(l.lesionWise).toBeUndefined();
    // The false positive of every region is the enhancing box: 2 × 2 × 2 voxels.
    expect(m.lesions![region as "WT"].falsePositives.map((f) => [f.voxels, f.volume])).toEqual([
      [8, 8],
    ]);
  });

  it("without the option, nothing lesion-wise is added", () => {
    const m = evaluateCase(PRED, GT, SHAPE, [1, 1, 1], { convention: "brats2023" });
    expect(m.lesions).toBeUndefined();
    for (const r of REGION_NAMES) {
      expect(m.regions[r].lesionWise).toBeUndefined();
      expect(m.regions[r].hd95Surface).toBeUndefined();
    }
  });

  it("distances: false skips HD, HD95 and ASSD (NaN) and changes nothing else", () => {
    const opts = { convention: "brats2023", lesionWise: { challenge: "GLI" } } as const;
    const full = evaluateCase(PRED, GT, SHAPE, [1, 1, 1], opts);
    const skipped = evaluateCase(PRED, GT, SHAPE, [1, 1, 1], { ...opts, distances: false });
    expect(skipped.lesions).toEqual(full.lesions);
    const sets = (m: typeof full) => [
      ...REGION_NAMES.map((r) => m.regions[r]),
      ...Object.values(m.labels),
    ];
    const [got, want] = [sets(skipped), sets(full)];
    for (const [i, set] of got.entries()) {
      expect([set.hd, set.hd95, set.assd]).toEqual([NaN, NaN, NaN]);
      expect({ ...set, hd: 0, hd95: 0, assd: 0 }).toEqual({ ...want[i]!, hd: 0, hd95: 0, assd: 0 });
    }
    expect(want.some((set) => Number.isFinite(set.hd95) && set.hd95 > 0)).toBe(true);
  });

  it("a label map and any array type give the same scores (brats2021, ET written as 3)", () => {
    const opts = {
      convention: "brats2021" as const,
      labelMap: { 3: 4 },
      lesionWise: { challenge: "MET" as Challenge },
    };
    const gt2021 = GT.map((v) => (v === 3 ? 4 : v));
    const raw = evaluateCase(PRED, gt2021, SHAPE, [1, 1, 1], opts);
    const floats = evaluateCase(
      Float32Array.from(PRED),
      Int16Array.from(gt2021),
      SHAPE,
      [1, 1, 1],
      opts,
    );
    expect(floats).toEqual(raw);
    const same2023 = evaluateCase(PRED, GT, SHAPE, [1, 1, 1], {
      convention: "brats2023",
      lesionWise: { challenge: "MET" },
    });
    for (const r of REGION_NAMES)
      expect(raw.regions[r].lesionWise).toEqual(same2023.regions[r].lesionWise);
  });

  // Random labelled blobs, some on the image border, in a small image: the crop evaluateCase
  // works in (scored box grown by the dilation, clipped at the image) must not change a thing.
  const border: Shape = [23, 17, 13];
  const randomCase = (seed: number): [Uint8Array, Uint8Array] => {
    const random = rng(seed);
    const labels = (): Uint8Array => {
      const out = new Uint8Array(border[0] * border[1] * border[2]);
      for (const v of [1, 2, 3]) {
        randomBlobs(border, random, 3).forEach((b, i) => {
          if (b !== 0) out[i] = v;
        });
      }
      return out;
    };
    return [labels(), labels()];
  };
  it.each<[number, Challenge, Spacing]>([
    [1, "GLI", [1, 1, 1]],
    [2, "MEN", [1, 1, 1]],
    [3, "MET", [1, 1, 1]],
    [4, "GLI", [0.8, 1.2, 2.5]],
    [5, "PED", [2, 2, 2]],
  ])(
    "seed %d, %s at %j: equals lesionWise and hd95Surface on the full-image masks",
    (seed, challenge, spacing) => {
      const [pred, gt] = randomCase(seed);
      const m = evaluateCase(pred, gt, border, spacing, {
        convention: "brats2023",
        lesionWise: { challenge },
      });
      const regions = labelConvention("brats2023").regions;
      for (const r of REGION_NAMES) {
        const p = maskOf(pred, regions[r]);
        const g = maskOf(gt, regions[r]);
        const want = lesionWise(p, g, border, spacing, { challenge });
        const { dice, hd95, tp, fp, fn } = want;
        expect(m.regions[r].lesionWise, r).toEqual({ dice, hd95, tp, fp, fn });
        expect(m.lesions![r].lesions, r).toEqual(want.lesions);
        expect(
          m.lesions![r].falsePositives.map((f) => f.id),
          r,
        ).toEqual(want.falsePositives);
        expect(m.regions[r].hd95Surface, r).toBe(hd95Surface(p, g, border, spacing));
      }
    },
  );

  it("both volumes empty: Dice 1, HD95 0, surface HD95 0, no lesions", () => {
    const empty = new Uint8Array(SHAPE[0] * SHAPE[1] * SHAPE[2]);
    const m = evaluateCase(empty, empty, SHAPE, [1, 1, 1], { lesionWise: { challenge: "GLI" } });
    for (const r of REGION_NAMES) {
      expect(m.regions[r].lesionWise).toEqual({ dice: 1, hd95: 0, tp: 0, fp: 0, fn: 0 });
      expect(m.regions[r].hd95Surface).toBe(0);
      expect(m.lesions![r]).toEqual({ lesions: [], falsePositives: [] });
    }
  });

  it("only the prediction has tumour: every component a false positive, surface HD95 374", () => {
    const empty = new Uint8Array(GT.length);
    const m = evaluateCase(PRED, empty, SHAPE, [1, 1, 1], {
      convention: "brats2023",
      lesionWise: { challenge: "GLI" },
    });
    // WT: A, B, C+1, D and the FP: 5 components, each Dice 0 and HD95 374.
    expect(m.regions.WT.lesionWise).toEqual({ dice: 0, hd95: 374, tp: 0, fp: 5, fn: 0 });
    expect(m.regions.WT.hd95Surface).toBe(374);
  });

  it.each<[string, object]>([
    ["no challenge and no parameters", {}],
    ["a negative dilation", { dilation: -1, threshold: 50 }],
    ["an unknown challenge", { challenge: "XYZ" }],
  ])("BAD_OPTION for %s, from evaluateCase and from BratsMetric's constructor", (_name, lw) => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return (err as MetricsError).code;
      }
      return undefined;
    };
    expect(code(() => evaluateCase(PRED, GT, SHAPE, [1, 1, 1], { lesionWise: lw }))).toBe(
      "BAD_OPTION",
    );
    expect(code(() => new BratsMetric({ lesionWise: lw }))).toBe("BAD_OPTION");
  });
});

describe("lesion-wise summaries and CSVs", () => {
  const opts = { convention: "brats2023" as const, lesionWise: { challenge: "GLI" as Challenge } };
  const one = evaluateCase(PRED, GT, SHAPE, [1, 1, 1], opts);
  const empty = new Uint8Array(GT.length);
  const two = evaluateCase(empty, empty, SHAPE, [1, 1, 1], opts);

  it("the summary has the lesion-wise means only when cases have them", () => {
    const summary = summarizeCases([one, two]);
    expect(summary.WT.lesionWiseDice!.mean).toBeCloseTo((1.75 / 4 + 1) / 2, 12);
    expect(summary.ET.lesionWiseHd95!.mean).toBeCloseTo((374 + 0) / 2, 12);
    expect(summary.TC.lesionWiseFp!.mean).toBe(0.5);
    expect(Object.keys(summary.WT)).toEqual([...METRIC_NAMES, ...LESION_WISE_METRIC_NAMES]);
    const plain = summarizeCases([evaluateCase(PRED, GT, SHAPE, [1, 1, 1])]);
    expect(Object.keys(plain.WT)).toEqual([...METRIC_NAMES]);
  });

  it("BratsMetric keeps them", () => {
    const metric = new BratsMetric(opts);
    metric.add("a", PRED, GT, SHAPE, [1, 1, 1]);
    expect(metric.summary().WT.lesionWiseDice!.mean).toBeCloseTo(1.75 / 4, 12);
  });

  it("the report CSV gains the lesion-wise columns, empty on label rows", () => {
    const lines = reportToCsv([scoredCase("c1", one)])
      .trimEnd()
      .split("\n");
    const header = lines[0]!.split(",");
    expect(header).toEqual(["case", "kind", "name", ...METRIC_NAMES, ...LESION_WISE_METRIC_NAMES]);
    const cell = (line: string, name: string) => line.split(",")[header.indexOf(name)];
    const wt = lines.find((l) => l.startsWith("c1,region,WT,"))!;
    expect(Number(cell(wt, "lesionWiseDice"))).toBeCloseTo(1.75 / 4, 12);
    expect(cell(wt, "lesionWiseTp")).toBe("2");
    const label = lines.find((l) => l.startsWith("c1,label,1,"))!;
    expect(cell(label, "lesionWiseDice")).toBe("");
    expect(cell(label, "hd95Surface")).toBe("");
  });

  it("the lesions CSV: a row per lesion and per false positive", () => {
    const text = lesionsToCsv([{ case: "c1", lesions: one.lesions! }]);
    const lines = text.trimEnd().split("\n");
    expect(lines[0]).toBe(LESION_CSV_COLUMNS.join(","));
    const wt = lines.filter((l) => l.startsWith("c1,WT,"));
    // Numbered in x-fastest order of first voxel (z slowest): lesions AB (merged by GLI's
    // dilation), C, F start at z = 2, E and D at z = 3; predicted components A, B, C+1, then D and
    // the false positive. E and D (2 and 3 mm³) are not counted; D is still matched.
    expect(wt).toEqual([
      "c1,WT,lesion,1,128,128,true,1 2,1,0",
      "c1,WT,lesion,2,64,64,true,3,0.75,1",
      "c1,WT,lesion,3,64,64,true,,0,374",
      "c1,WT,lesion,4,2,2,false,,0,374",
      "c1,WT,lesion,5,3,3,false,4,1,0",
      "c1,WT,false_positive,5,8,8,true,,0,374",
    ]);
  });
});
