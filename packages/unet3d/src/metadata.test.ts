import { describe, expect, it } from "vitest";
import {
  BRATS_METADATA_KEY,
  metadataProps,
  parseModelMetadata,
  type BratsModelMetadata,
} from "./metadata.js";
import { resolveUNet3DConfig } from "./model.js";

function sample(): BratsModelMetadata {
  return {
    format: "brats-unet3d",
    version: 1,
    modalities: ["flair", "t1", "t1ce"],
    labelConvention: "brats2021",
    outputs: "classes",
    numClasses: 4,
    preprocessing: {
      canonical: true,
      spacing: [1, 1, 1],
      crop: true,
      margin: 8,
      normalization: "zscore-nonzero",
    },
    windowSize: [128, 128, 128],
    overlap: 0.5,
    unet: resolveUNet3DConfig({ seed: 0 }),
    training: { run: "runs/a", epochs: 3, validationDice: { WT: 0.8 } },
  };
}

/** The sample's JSON with one field replaced (a path of keys; undefined deletes it). */
function mutated(path: string[], value: unknown): Record<string, string> {
  const raw = JSON.parse(JSON.stringify(sample())) as Record<string, unknown>;
  let obj = raw;
  for (const key of path.slice(0, -1)) obj = obj[key] as Record<string, unknown>;
  const last = path[path.length - 1]!;
  if (value === undefined) delete obj[last];
  else obj[last] = value;
  return { [BRATS_METADATA_KEY]: JSON.stringify(raw) };
}

describe("metadataProps / parseModelMetadata", () => {
  it("round-trips every field under the key 'brats'", () => {
    const props = metadataProps(sample());
    expect(Object.keys(props)).toEqual(["brats"]);
    expect(parseModelMetadata(props)).toEqual(sample());
  });

  it("keeps spacing null and training absent", () => {
    const meta = sample();
    meta.preprocessing.spacing = null;
    delete meta.training;
    meta.outputs = "regions";
    meta.numClasses = 3;
    meta.unet = resolveUNet3DConfig({ outputs: "regions", modalities: ["t1", "t2"] });
    meta.modalities = ["t1", "t2"];
    expect(parseModelMetadata(metadataProps(meta))).toEqual(meta);
  });

  it("ignores other metadata keys", () => {
    expect(parseModelMetadata({ ...metadataProps(sample()), other: "x" })).toEqual(sample());
  });

  const bad: Array<[string, Record<string, string>]> = [
    ["missing key", { other: "{}" }],
    ["not JSON", { brats: "{" }],
    ["not an object", { brats: "[1]" }],
    ["wrong format", mutated(["format"], "unet")],
    ["future version", mutated(["version"], 2)],
    ["empty modalities", mutated(["modalities"], [])],
    ["modality not a string", mutated(["modalities"], ["flair", 1, "t1ce"])],
    ["unknown label convention", mutated(["labelConvention"], "brats2019")],
    ["unknown outputs", mutated(["outputs"], "logits")],
    ["numClasses 0", mutated(["numClasses"], 0)],
    ["numClasses not an integer", mutated(["numClasses"], 2.5)],
    ["regions with 4 channels", mutated(["outputs"], "regions")],
    ["preprocessing missing", mutated(["preprocessing"], undefined)],
    ["spacing of 2 numbers", mutated(["preprocessing", "spacing"], [1, 1])],
    ["negative spacing", mutated(["preprocessing", "spacing"], [1, -1, 1])],
    ["canonical not boolean", mutated(["preprocessing", "canonical"], "yes")],
    ["negative margin", mutated(["preprocessing", "margin"], -1)],
    ["unknown normalization", mutated(["preprocessing", "normalization"], "minmax")],
    ["windowSize of 2", mutated(["windowSize"], [128, 128])],
    ["windowSize not divisible by 2^depth", mutated(["windowSize"], [128, 128, 120])],
    ["overlap 1", mutated(["overlap"], 1)],
    ["overlap negative", mutated(["overlap"], -0.1)],
    ["unet missing", mutated(["unet"], undefined)],
    ["unet channels ≠ modalities", mutated(["unet", "inputShape"], [null, null, null, 4])],
    ["unet depth 0", mutated(["unet", "depth"], 0)],
    ["unet normalization unknown", mutated(["unet", "normalization"], "layer")],
    ["unet outputs disagree", mutated(["unet", "numClasses"], 5)],
    ["training not an object", mutated(["training"], "run 1")],
  ];
  it.each(bad)("%s → BAD_METADATA", (_name, props) => {
    expect(() => parseModelMetadata(props)).toThrow(
      expect.objectContaining({ code: "BAD_METADATA" }),
    );
  });

  it("metadataProps refuses metadata a reader would refuse", () => {
    const meta = sample();
    meta.windowSize = [100, 128, 128];
    expect(() => metadataProps(meta)).toThrow(expect.objectContaining({ code: "BAD_METADATA" }));
  });
});
