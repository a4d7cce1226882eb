// The six real BraTS cases (30 volumes) read with readNifti and compared with nibabel's facts.
// The volumes are research data that is never committed: they are read from <repo>/../shared/data/brats
// and the tests skip, saying so, where that folder is absent.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  expectCanonicalMatches,
  expectHeaderMatches,
  expectStatsMatch,
  isRefusal,
  loadGolden,
  type GoldenEntry,
} from "./__golden__/compare.js";
import { readNifti } from "./read.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const bratsDir = join(repoRoot, "..", "shared", "data", "brats");
const present = existsSync(bratsDir);
if (!present) {
  console.warn(
    `brats.test.ts: skipped, ${bratsDir} is absent (the BraTS volumes are not redistributed)`,
  );
}

const golden = loadGolden();
const bratsEntries = Object.entries(golden.files)
  .filter(([key]) => key.startsWith("brats/"))
  .filter((e): e is [string, GoldenEntry] => !isRefusal(e[1]));

function volumesOnDisk(): string[] {
  return readdirSync(bratsDir)
    .flatMap((id) =>
      readdirSync(join(bratsDir, id))
        .filter((name) => /\.nii(\.gz)?$/.test(name))
        .map((name) => `brats/${id}/${name}`),
    )
    .sort();
}

describe.skipIf(!present)("BraTS volumes against nibabel", () => {
  it("the golden facts cover every volume on disk (6 cases × 5)", () => {
    expect(bratsEntries.map(([key]) => key).sort()).toEqual(volumesOnDisk());
    expect(bratsEntries).toHaveLength(30);
  });

  it.each(bratsEntries)("%s", async (key, want) => {
    const image = await readNifti(join(bratsDir, key.slice("brats/".length)));
    expectHeaderMatches(image, want);
    expectStatsMatch(image, want);
    expectCanonicalMatches(image, want);
  });
});
