// Lesion-wise scores on a hand-built case whose every number is worked out below: lesions A and B
// 3 voxels apart (one lesion when dilated 3 times, two when dilated once), C matched by a copy
// shifted one voxel (Dice 48·2/128 = 0.75, surface HD95 one voxel), F unmatched (FN), two small
// lesions (E unmatched, D matched) that only MET's 2 mm³ threshold counts, and a false positive.
import { describe, expect, it } from "vitest";
import { MetricsError } from "./errors.js";
import { lesionWise, parseChallenge } from "./lesions.js";
import { hd95Surface } from "./surfels.js";
import type { Challenge } from "./types.js";
import type { Shape, Spacing } from "./types.js";

const SHAPE: Shape = [70, 8, 8];
const [NX, NY] = SHAPE;

function boxes(list: Array<[number, number, number, number, number, number]>): Uint8Array {
  const out = new Uint8Array(SHAPE[0] * SHAPE[1] * SHAPE[2]);
  for (const [x0, x1, y0, y1, z0, z1] of list) {
    for (let z = z0; z <= z1; z++)
      for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) out[x + NX * (y + NY * z)] = 1;
  }
  return out;
}

const cube = (x0: number): [number, number, number, number, number, number] => [
  x0,
  x0 + 3,
  2,
  5,
  2,
  5,
];
const row = (x0: number, x1: number): [number, number, number, number, number, number] => [
  x0,
  x1,
  3,
  3,
  3,
  3,
];
const GT = boxes([cube(1), cube(8), cube(20), row(32, 33), row(42, 44), cube(53)]); // A B C E D F
const PRED = boxes([cube(1), cube(8), cube(21), row(42, 44), [65, 66, 3, 4, 3, 4]]); // A B C+1 D FP

describe("lesionWise on the hand-built case", () => {
  it.each<[Challenge, Spacing, number, number, [number, number, number], number[]]>([
    // GLI: AB merged (1, 0), C (0.75, 1), F (0, 374), FP: Dice 1.75/4, HD95 749/4; E, D left out.
    ["GLI", [1, 1, 1], 1.75 / 4, 749 / 4, [2, 1, 1], [128, 64, 64, 2, 3]],
    ["SSA", [1, 1, 1], 1.75 / 4, 749 / 4, [2, 1, 1], [128, 64, 64, 2, 3]],
    ["PED", [1, 1, 1], 1.75 / 4, 749 / 4, [2, 1, 1], [128, 64, 64, 2, 3]],
    // MEN: dilated once, A and B stay apart: 2.75/5, 749/5.
    ["MEN", [1, 1, 1], 2.75 / 5, 749 / 5, [3, 1, 1], [64, 64, 64, 64, 2, 3]],
    // MET: and D (3 mm³ > 2) counts, matched exactly; E (2 mm³) does not: 3.75/6, 749/6.
    ["MET", [1, 1, 1], 3.75 / 6, 749 / 6, [4, 1, 1], [64, 64, 64, 64, 2, 3]],
    // 3 mm voxels (27 mm³): E (54 mm³) and D (81 mm³) pass GLI's 50; C's HD95 is 3 mm.
    ["GLI", [3, 3, 3], 2.75 / 6, (3 + 3 * 374) / 6, [3, 2, 1], [128, 64, 64, 2, 3]],
    // Anisotropic 1 × 2 × 3 mm: 6 mm³ voxels (E 12, D 18 left out); C's shift is along x: 1 mm.
    ["GLI", [1, 2, 3], 1.75 / 4, 749 / 4, [2, 1, 1], [128, 64, 64, 2, 3]],
  ])(
    "%s at spacing %j: Dice %d, HD95 %d",
    (challenge, spacing, dice, hd95, [tp, fn, fp], voxels) => {
      const r = lesionWise(PRED, GT, SHAPE, spacing, { challenge });
      expect(r.dice).toBeCloseTo(dice, 12);
      expect(r.hd95).toBeCloseTo(hd95, 9);
      expect([r.tp, r.fn, r.fp]).toEqual([tp, fn, fp]);
      expect(r.lesions.map((l) => l.voxels)).toEqual(voxels);
      // Predicted components in order of first voxel: A, B, C+1, D, the false positive.
      expect(r.falsePositives).toEqual([5]);
    },
  );

  it("reports each lesion: volume, matches, Dice, HD95, whether it counts", () => {
    const r = lesionWise(PRED, GT, SHAPE, [1, 1, 1], { challenge: "GLI" });
    expect(
      r.lesions.map(({ id, volume, matched, dice, hd95, counted }) => ({
        id,
        volume,
        matched,
        dice: Number(dice.toFixed(6)),
        hd95,
        counted,
      })),
    ).toEqual([
      { id: 1, volume: 128, matched: [1, 2], dice: 1, hd95: 0, counted: true }, // A and B
      { id: 2, volume: 64, matched: [3], dice: 0.75, hd95: 1, counted: true }, // C
      { id: 3, volume: 64, matched: [], dice: 0, hd95: 374, counted: true }, // F
      { id: 4, volume: 2, matched: [], dice: 0, hd95: 374, counted: false }, // E
      { id: 5, volume: 3, matched: [4], dice: 1, hd95: 0, counted: false }, // D
    ]);
  });

  it("scores 1 and 0 with nothing to count, 0 and 374 for false positives alone", () => {
    const none = new Uint8Array(GT.length);
    expect(lesionWise(none, none, SHAPE, [1, 1, 1], { challenge: "GLI" })).toMatchObject({
      dice: 1,
      hd95: 0,
      tp: 0,
      fn: 0,
      fp: 0,
    });
    // Only a lesion below the threshold, unmatched, and nothing else predicted.
    const small = boxes([row(32, 33)]);
    expect(lesionWise(none, small, SHAPE, [1, 1, 1], { challenge: "GLI" })).toMatchObject({
      dice: 1,
      hd95: 0,
    });
    const fpOnly = lesionWise(boxes([cube(20)]), none, SHAPE, [1, 1, 1], { challenge: "GLI" });
    expect([fpOnly.dice, fpOnly.hd95, fpOnly.fp]).toEqual([0, 374, 1]);
  });

  it("takes explicit dilation and threshold, and refuses bad ones", () => {
    const r = lesionWise(PRED, GT, SHAPE, [1, 1, 1], { dilation: 1, threshold: 2 });
    expect(r.dice).toBeCloseTo(3.75 / 6, 12);
    const bad = (opts: object) => () => lesionWise(PRED, GT, SHAPE, [1, 1, 1], opts);
    for (const opts of [
      {},
      { dilation: -1, threshold: 50 },
      { dilation: 1.5, threshold: 50 },
      { dilation: 1, threshold: -1 },
    ]) {
      expect(bad(opts)).toThrow(MetricsError);
    }
  });
});

describe("parseChallenge", () => {
  it.each([
    ["GLI", "GLI"],
    ["gli", "GLI"],
    ["BraTS-GLI", "GLI"],
    ["BraTS2023-MEN", "MEN"],
    ["brats_met", "MET"],
    [" PED ", "PED"],
    ["SSA", "SSA"],
  ])("%j → %s", (name, challenge) => {
    expect(parseChallenge(name)).toBe(challenge);
  });

  it("refuses anything else with BAD_OPTION", () => {
    for (const name of ["", "GLIO", "BraTS", "2023"]) {
      expect(() => parseChallenge(name)).toThrow(expect.objectContaining({ code: "BAD_OPTION" }));
    }
  });
});

describe("the surface HD95s found together equal hd95Surface of their own masks", () => {
  // One lesion holding the whole ground truth shares its distances with the region's; the region's
  // gt → pred is then the nearer of the matches and the false positives, so a false positive
  // nearer to part of the lesion than its match must win there (and only for the region).
  const spacing: Spacing = [1, 1.5, 2];
  const only = (mask: Uint8Array, x0: number, x1: number) =>
    mask.map((v, i) => (v !== 0 && i % NX >= x0 && i % NX <= x1 ? 1 : 0));
  it.each<[string, Uint8Array, Uint8Array, Array<[number, number]>]>([
    ["one lesion, every component matched", boxes([cube(20)]), boxes([cube(22)]), [[0, 69]]],
    [
      "one lesion and a far false positive",
      boxes([cube(20)]),
      boxes([cube(21), [60, 61, 3, 4, 3, 4]]),
      [[0, 40]],
    ],
    [
      "one long lesion, a false positive beside its far end",
      boxes([[10, 40, 2, 5, 2, 5]]),
      boxes([cube(9), [46, 47, 3, 4, 3, 4]]),
      [[0, 44]],
    ],
    [
      "two lesions",
      boxes([cube(1), cube(30)]),
      boxes([cube(2), cube(31), [60, 61, 3, 4, 3, 4]]),
      [
        [0, 10],
        [20, 40],
      ],
    ],
  ])("%s", (_, gt, pred, lesionRanges) => {
    const lw = lesionWise(pred, gt, SHAPE, spacing, { dilation: 1, threshold: 0 });
    expect(lw.hd95Surface).toBe(hd95Surface(pred, gt, SHAPE, spacing));
    expect(lw.lesions.map((l) => l.hd95)).toEqual(
      lesionRanges.map(([x0, x1]) =>
        hd95Surface(only(pred, x0, x1), only(gt, x0, x1), SHAPE, spacing),
      ),
    );
  });

  it("the false positive nearer than the match changes the region's HD95, not the lesion's", () => {
    const gt = boxes([[10, 40, 2, 5, 2, 5]]);
    const pred = boxes([cube(9), [46, 47, 3, 4, 3, 4]]);
    const lw = lesionWise(pred, gt, SHAPE, spacing, { dilation: 1, threshold: 0 });
    expect(lw.fp).toBe(1);
    expect(lw.hd95Surface).toBeLessThan(lw.lesions[0]!.hd95);
  });
});
