// BraTS label conventions. The label values changed between challenge years, so the convention is
// always explicit: the same file read under the wrong one gives silently wrong classes and regions.
import { ConventionsError } from "./errors.js";

export type LabelConvention = "brats2021" | "brats2023" | "brats2015";

/** Every supported convention, default first. */
export const LABEL_CONVENTIONS: readonly LabelConvention[] = [
  "brats2021",
  "brats2023",
  "brats2015",
];

/** The convention every function here (and in @brats/data, metrics, viz) defaults to. */
export const DEFAULT_LABEL_CONVENTION: LabelConvention = "brats2021";

/** Whether `value` names a supported convention. */
export function isLabelConvention(value: unknown): value is LabelConvention {
  return (LABEL_CONVENTIONS as readonly unknown[]).includes(value);
}

/** Throws ConventionsError("BAD_OPTION") unless `value` names a supported convention. */
export function checkLabelConvention(value: unknown): asserts value is LabelConvention {
  if (!isLabelConvention(value)) {
    throw new ConventionsError(
      "BAD_OPTION",
      `unknown label convention ${JSON.stringify(value)}; expected one of ${LABEL_CONVENTIONS.join(", ")}`,
    );
  }
}

/**
 * What a label stands for, whatever value a convention gives it: necrotic (or non-enhancing) core,
 * oedema (2023: surrounding FLAIR hyperintensity), enhancing tumour, and brats2015's separate
 * non-enhancing core.
 */
export type TissueCode = "NCR" | "ED" | "ET" | "NET";

/** One tumour label of a convention. */
export interface TumourLabel {
  value: number;
  /** What it stands for; viz keys its colours off this. */
  short: TissueCode;
  /** Legend text, e.g. "Enhancing tumour". */
  name: string;
}

/**
 * The tumour labels of a convention (default brats2021) in value order, with their names:
 * - brats2021 (BraTS 2017–2022): 1 necrotic / non-enhancing core, 2 oedema, 4 enhancing tumour.
 * - brats2023: 1 necrotic core, 2 oedema (surrounding FLAIR hyperintensity), 3 enhancing tumour.
 * - brats2015 (2013–2016): 1 necrosis, 2 oedema, 3 non-enhancing core, 4 enhancing tumour.
 * A fresh array each call. An unknown convention: BAD_OPTION.
 */
export function tumourLabels(
  convention: LabelConvention = DEFAULT_LABEL_CONVENTION,
): TumourLabel[] {
  checkLabelConvention(convention);
  const label = (value: number, short: TissueCode, name: string): TumourLabel => ({
    value,
    short,
    name,
  });
  switch (convention) {
    case "brats2021":
      return [
        label(1, "NCR", "Necrotic / non-enhancing core"),
        label(2, "ED", "Oedema"),
        label(4, "ET", "Enhancing tumour"),
      ];
    case "brats2023":
      return [
        label(1, "NCR", "Necrotic core"),
        label(2, "ED", "Oedema (SNFH)"),
        label(3, "ET", "Enhancing tumour"),
      ];
    case "brats2015":
      return [
        label(1, "NCR", "Necrosis"),
        label(2, "ED", "Oedema"),
        label(3, "NET", "Non-enhancing core"),
        label(4, "ET", "Enhancing tumour"),
      ];
  }
}
