import { labelConvention, REGION_NAMES, type LabelConvention } from "@brats/conventions";
import { describe, expect, it } from "vitest";
import { MetricsError } from "./errors.js";
import { computeMetrics, evaluateCase } from "./evaluate.js";
import { randomBlobs, rng, volume } from "./test-utils.js";
import type { EvaluateOptions, LabelVolume, MetricSet, Shape, Spacing } from "./types.js";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof MetricsError ? e.code : `not a MetricsError: ${String(e)}`;
  }
  return undefined;
}

// One row of four labelled voxels, x = 1..4 at y = z = 1:
//   gt   1 2 4 3
//   pred 1 2 3 4
const shape: Shape = [6, 4, 3];
const at = (x: number): number => x + 6 * (1 + 4 * 1);
const gt = new Uint8Array(72);
const pred = new Uint8Array(72);
[1, 2, 4, 3].forEach((l, i) => (gt[at(i + 1)] = l));
[1, 2, 3, 4].forEach((l, i) => (pred[at(i + 1)] = l));

type Dice = Record<string, number>;

describe("evaluateCase: label conventions on one hand-made row", () => {
  it.each<[string, EvaluateOptions, Dice, Dice, { pred: number[]; gt: number[] } | undefined]>([
    // WT: pred {x1,x2,x4} vs gt {x1,x2,x3}: tp 2 → 4/6. TC pred {x1,x4} gt {x1,x3}: 2/4. ET: 0.
    // 3 belongs to no region or label.
    [
      "brats2021 (default)",
      {},
      { WT: 4 / 6, TC: 0.5, ET: 0 },
      { "1": 1, "2": 1, "4": 0 },
      { pred: [3], gt: [3] },
    ],
    // The label map turns pred's 3 into 4: WT pred {x1..x4} vs gt {x1..x3} → 6/7; ET pred {x3,x4} vs {x3} → 2/3.
    [
      "brats2021 with labelMap {3: 4}",
      { labelMap: { 3: 4 } },
      { WT: 6 / 7, TC: 4 / 5, ET: 2 / 3 },
      { "1": 1, "2": 1, "4": 2 / 3 },
      { pred: [], gt: [3] },
    ],
    // ET is 3: pred ET {x3} vs gt ET {x4}: 0; WT pred {x1,x2,x3} vs gt {x1,x2,x4}: 4/6; 4 is unknown.
    [
      "brats2023",
      { convention: "brats2023" },
      { WT: 4 / 6, TC: 0.5, ET: 0 },
      { "1": 1, "2": 1, "3": 0 },
      { pred: [4], gt: [4] },
    ],
    // 3 is core, with 1: WT and TC hold all of {1,3,4} in both → 1; ET {4}: x4 vs x3 → 0.
    [
      "brats2015",
      { convention: "brats2015" },
      { WT: 1, TC: 1, ET: 0 },
      { "1": 1, "2": 1, "3": 0, "4": 0 },
      undefined,
    ],
  ])("%s", (_, opts, regionDice, labelDice, unknown) => {
    const m = evaluateCase(pred, gt, shape, [1, 1, 1], opts);
    expect(Object.fromEntries(REGION_NAMES.map((r) => [r, m.regions[r].dice]))).toEqual(regionDice);
    expect(Object.fromEntries(Object.entries(m.labels).map(([k, v]) => [k, v.dice]))).toEqual(
      labelDice,
    );
    expect(m.unknownLabels).toEqual(unknown);
    if (unknown === undefined) expect("unknownLabels" in m).toBe(false);
  });

  it("WT distances on the row (brats2021): hd 1, hd95 1, assd 1/3", () => {
    // pred WT x = 1,2,4 and gt WT x = 1,2,3: x4 → x3 and x3 → x2 are 1, the rest 0.
    const wt = evaluateCase(pred, gt, shape, [1, 1, 1]).regions.WT;
    expect([wt.hd, wt.hd95, wt.assd]).toEqual([1, 1, 1 / 3]);
  });

  it("brats2015 counts 3 in the core with 1", () => {
    const g = volume([3, 3, 3], [[1, 1, 1]], 3);
    const p = volume([3, 3, 3], [[1, 1, 1]], 1);
    const m = evaluateCase(p, g, [3, 3, 3], [1, 1, 1], { convention: "brats2015" });
    expect([m.regions.WT.dice, m.regions.TC.dice, m.regions.ET.dice]).toEqual([1, 1, 1]);
    expect([m.labels["1"]!.dice, m.labels["3"]!.dice]).toEqual([0, 0]);
  });

  it("volumes in mL: voxels × mm³ per voxel / 1000", () => {
    const m = evaluateCase(pred, gt, shape, [2, 2, 2]);
    // WT: 3 voxels each of 8 mm³.
    expect(m.regions.WT.volumePredMl).toBe((3 * 8) / 1000);
    expect(m.regions.WT.volumeGtMl).toBe((3 * 8) / 1000);
    expect(m.labels["4"]!.volumePredMl).toBe(8 / 1000);
  });

  it("returns independent objects for identical label sets (brats2021 ET and label 4)", () => {
    const m = evaluateCase(pred, gt, shape, [1, 1, 1]);
    expect(m.labels["4"]).toEqual(m.regions.ET);
    m.regions.ET.dice = 42;
    expect(m.labels["4"]!.dice).toBe(0);
  });
});

describe("evaluateCase: empty regions", () => {
  const s: Shape = [4, 4, 4];
  const gtNoEt = volume(s, [[1, 1, 1]], 2);
  const predNoEt = volume(s, [[1, 1, 1]], 2);
  const predEt = volume(
    s,
    [
      [1, 1, 1],
      [2, 2, 2],
    ],
    2,
  );
  predEt[2 + 4 * (2 + 4 * 2)] = 4;

  it("both empty: Dice 1, HD95 0, sensitivity and precision 1 (brats); NaN (nan)", () => {
    const et = evaluateCase(predNoEt, gtNoEt, s, [1, 1, 1]).regions.ET;
    expect(et).toEqual({
      dice: 1,
      hd95: 0,
      hd: 0,
      assd: 0,
      sensitivity: 1,
      specificity: 1,
      precision: 1,
      jaccard: 1,
      volumePredMl: 0,
      volumeGtMl: 0,
    });
    const nan = evaluateCase(predNoEt, gtNoEt, s, [1, 1, 1], { emptyPolicy: "nan" }).regions.ET;
    expect([nan.dice, nan.hd95, nan.sensitivity, nan.precision, nan.specificity]).toEqual([
      NaN,
      NaN,
      NaN,
      NaN,
      1,
    ]);
  });

  it("only the prediction has it: Dice 0, HD95 emptyDistance, precision 0 (brats); NaN distances (nan)", () => {
    const et = evaluateCase(predEt, gtNoEt, s, [1, 1, 1]).regions.ET;
    expect([et.dice, et.hd95, et.hd, et.assd, et.sensitivity, et.precision]).toEqual([
      0, 373.12866, 373.12866, 373.12866, 0, 0,
    ]);
    // specificity: gt has no ET, so all 64 voxels are negatives; one is a false positive.
    expect(et.specificity).toBe(63 / 64);
    expect(evaluateCase(predEt, gtNoEt, s, [1, 1, 1], { emptyDistance: 50 }).regions.ET.hd95).toBe(
      50,
    );
    const nan = evaluateCase(predEt, gtNoEt, s, [1, 1, 1], { emptyPolicy: "nan" }).regions.ET;
    expect([nan.dice, nan.hd95, nan.sensitivity, nan.precision]).toEqual([0, NaN, NaN, 0]);
  });

  it("all-zero volumes score every region as both empty", () => {
    const m = evaluateCase(new Uint8Array(64), new Int16Array(64), s, [1, 1, 1]);
    for (const r of REGION_NAMES) expect([m.regions[r].dice, m.regions[r].hd95]).toEqual([1, 0]);
  });
});

/** The binary mask of the voxels whose (mapped) label is in `labels`. */
function maskOf(
  volume: LabelVolume,
  labels: readonly number[],
  map: Record<number, number> = {},
): Uint8Array {
  return Uint8Array.from({ length: volume.length }, (_, i) => {
    const v = volume[i]!;
    return labels.includes(map[v] ?? v) ? 1 : 0;
  });
}

function randomLabels(s: Shape, random: () => number, values: number[]): Uint8Array {
  const out = new Uint8Array(s[0] * s[1] * s[2]);
  for (const v of values) {
    const blob = randomBlobs(s, random, 2, { lo: [1, 1, 1], hi: [s[0] - 2, s[1] - 2, s[2] - 2] });
    blob.forEach((b, i) => {
      if (b !== 0) out[i] = v;
    });
  }
  return out;
}

describe("evaluateCase agrees with computeMetrics on each region's binary masks", () => {
  const conversions: [string, (v: Uint8Array) => LabelVolume][] = [
    ["Uint8Array", (v) => v],
    ["Int16Array", (v) => Int16Array.from(v)],
    ["Float32Array", (v) => Float32Array.from(v)],
    ["Float64Array", (v) => Float64Array.from(v)],
    ["number[]", (v) => Array.from(v)],
    [
      "a Uint8Array at an odd byte offset",
      (v) => {
        const buffer = new Uint8Array(v.length + 1);
        buffer.set(v, 1);
        return buffer.subarray(1);
      },
    ],
  ];
  // Width 8 lets rows be checked a word at a time; width 7 cannot.
  const shapes: Shape[] = [
    [8, 7, 6],
    [7, 9, 5],
  ];
  const conventions: [LabelConvention, number[], Record<number, number> | undefined][] = [
    ["brats2021", [1, 2, 4, 3], { 3: 4 }],
    ["brats2021", [1, 2, 4, 3], undefined],
    ["brats2023", [1, 2, 3], undefined],
    ["brats2015", [1, 2, 3, 4], undefined],
  ];

  it.each(conversions)("%s", (_, convert) => {
    const random = rng(17);
    for (const s of shapes) {
      for (const [convention, values, labelMap] of conventions) {
        const spacing: Spacing = [0.5 + random() * 2, 0.5 + random() * 2, 0.5 + random() * 2];
        const p = randomLabels(s, random, values);
        const g = randomLabels(
          s,
          random,
          values.filter((v) => v !== 3 || convention !== "brats2021"),
        );
        const got = evaluateCase(convert(p), convert(g), s, spacing, { convention, labelMap });
        const info = labelConvention(convention);
        const expected = (labels: number[]): MetricSet =>
          computeMetrics(maskOf(p, labels, labelMap), maskOf(g, labels), s, spacing);
        // Both masks are non-empty, so the distance path (not the empty policy) is compared.
        expect(got.regions.WT.volumePredMl * got.regions.WT.volumeGtMl).toBeGreaterThan(0);
        for (const r of REGION_NAMES) expect(got.regions[r]).toEqual(expected(info.regions[r]));
        for (const l of info.labels) expect(got.labels[String(l)]).toEqual(expected([l]));
      }
    }
  });
});

describe("evaluateCase: label values", () => {
  const s: Shape = [2, 2, 2];
  const zeros = new Uint8Array(8);

  it.each<[string, LabelVolume, LabelVolume]>([
    ["2.5 in pred", Float32Array.from([0, 2.5, 0, 0, 0, 0, 0, 0]), zeros],
    ["300 in pred", Int16Array.from([0, 0, 300, 0, 0, 0, 0, 0]), zeros],
    ["-1 in pred", Int16Array.from([-1, 0, 0, 0, 0, 0, 0, 0]), zeros],
    ["NaN in pred", Float64Array.from([0, 0, 0, 0, 0, 0, 0, NaN]), zeros],
    ["Infinity in pred", [0, 0, 0, 0, 0, Infinity, 0, 0], zeros],
    ["2.5 in gt", zeros, Float32Array.from([0, 0, 0, 2.5, 0, 0, 0, 0])],
    ["300 in gt", zeros, Int16Array.from([0, 0, 0, 0, 300, 0, 0, 0])],
    ["256 in gt", zeros, [0, 0, 0, 0, 0, 0, 256, 0]],
  ])("%s: BAD_LABELS", (_, p, g) => {
    expect(codeOf(() => evaluateCase(p, g, s, [1, 1, 1]))).toBe("BAD_LABELS");
  });

  it("a label map may rescue values outside 0..255 in the prediction", () => {
    const p = Int16Array.from([-1, 300, 0, 0, 0, 0, 0, 0]);
    const g = Uint8Array.from([1, 1, 0, 0, 0, 0, 0, 0]);
    const m = evaluateCase(p, g, s, [1, 1, 1], { labelMap: { [-1]: 1, 300: 1 } });
    expect(m.labels["1"]!.dice).toBe(1);
  });

  it("-0 in a float volume is background", () => {
    const p = Float32Array.from([-0, 4, 0, 0, 0, 0, 0, 0]);
    const g = Float32Array.from([0, 4, -0, 0, 0, 0, 0, 0]);
    const m = evaluateCase(p, g, s, [1, 1, 1]);
    expect([m.regions.ET.dice, m.regions.WT.volumePredMl]).toEqual([1, 0.001]);
  });

  it("values above the convention's labels are unknown, not errors", () => {
    const p = Uint8Array.from([0, 255, 0, 0, 0, 0, 0, 0]);
    const m = evaluateCase(p, zeros, s, [1, 1, 1]);
    expect(m.unknownLabels).toEqual({ pred: [255], gt: [] });
    expect(m.regions.WT.dice).toBe(1);
  });
});

describe("evaluateCase: input checks", () => {
  const s: Shape = [2, 2, 2];
  const v = new Uint8Array(8);
  it.each<[string, () => unknown, string]>([
    ["pred too short", () => evaluateCase(new Uint8Array(7), v, s, [1, 1, 1]), "SHAPE_MISMATCH"],
    ["gt too long", () => evaluateCase(v, new Uint8Array(9), s, [1, 1, 1]), "SHAPE_MISMATCH"],
    [
      "a zero dimension",
      () => evaluateCase(new Uint8Array(0), new Uint8Array(0), [0, 2, 2], [1, 1, 1]),
      "SHAPE_MISMATCH",
    ],
    ["a negative spacing", () => evaluateCase(v, v, s, [1, -1, 1]), "BAD_OPTION"],
    [
      "an unknown convention",
      () => evaluateCase(v, v, s, [1, 1, 1], { convention: "brats2019" as LabelConvention }),
      "BAD_OPTION",
    ],
    [
      "a label map target of 256",
      () => evaluateCase(v, v, s, [1, 1, 1], { labelMap: { 3: 256 } }),
      "BAD_OPTION",
    ],
    [
      "an unknown empty policy",
      () => evaluateCase(v, v, s, [1, 1, 1], { emptyPolicy: "zero" as "nan" }),
      "BAD_OPTION",
    ],
  ])("%s", (_, fn, code) => {
    expect(codeOf(fn)).toBe(code);
  });
});

describe("computeMetrics", () => {
  it("scores two 3×3×3 cubes shifted by one voxel", () => {
    // tp 18, fp 9, fn 9, tn 150 - 45 = 105 in a 6×5×5 image; distances as in distance.test.ts.
    const s: Shape = [6, 5, 5];
    const cubeAt = (x0: number): Uint8Array => {
      const v = new Uint8Array(150);
      for (let z = 1; z <= 3; z++)
        for (let y = 1; y <= 3; y++) for (let x = x0; x < x0 + 3; x++) v[x + 6 * (y + 5 * z)] = 1;
      return v;
    };
    expect(computeMetrics(cubeAt(1), cubeAt(2), s, [1, 1, 1])).toEqual({
      dice: 36 / 54,
      hd95: 1,
      hd: 1,
      assd: 10 / 26,
      sensitivity: 18 / 27,
      specificity: 114 / 123,
      precision: 18 / 27,
      jaccard: 18 / 36,
      volumePredMl: 27 / 1000,
      volumeGtMl: 27 / 1000,
    });
  });
});
