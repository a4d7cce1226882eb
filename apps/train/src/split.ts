// Train/validation splits by case: a seeded shuffle, then a share held out, explicit ids, or fold
// k of n (as nnU-Net's five folds: every case is validated in exactly one fold).
import { createRng, deriveRngState, randomInt } from "@brats/data";
import type { Split, SplitSpec } from "@brats/runs";

export class SplitError extends Error {
  override readonly name = "SplitError";
}

/** Keys the split shuffle apart from other streams derived from the same seed. */
const SPLIT_KEY = 0x5b117;

/** The ids in a seeded random order (Fisher–Yates); the input order does not matter. */
export function shuffledIds(ids: readonly string[], seed: number): string[] {
  const out = [...ids].sort();
  const rng = createRng(deriveRngState(seed, SPLIT_KEY));
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Splits case ids; both parts sorted. Fold k takes positions k, k + n, k + 2n… of the shuffle. */
export function splitCases(ids: readonly string[], spec: SplitSpec, seed: number): Split {
  if (new Set(ids).size !== ids.length) throw new SplitError("case ids must be unique");
  let val: string[];
  if (spec.kind === "ids") {
    const known = new Set(ids);
    const missing = spec.ids.filter((id) => !known.has(id));
    if (missing.length > 0)
      throw new SplitError(`unknown validation case(s): ${missing.join(", ")}`);
    val = [...new Set(spec.ids)];
  } else if (spec.kind === "fold") {
    const { k, n } = spec;
    if (!Number.isInteger(n) || n < 2 || !Number.isInteger(k) || k < 0 || k >= n) {
      throw new SplitError(`fold must be k/n with n ≥ 2 and 0 ≤ k < n, got ${k}/${n}`);
    }
    if (ids.length < n)
      throw new SplitError(`${n} folds need at least ${n} cases, found ${ids.length}`);
    val = shuffledIds(ids, seed).filter((_, i) => i % n === k);
  } else {
    const { share } = spec;
    if (!(share >= 0 && share < 1))
      throw new SplitError(`val-split must be in [0, 1), got ${share}`);
    // At least one validation case when asked for a share and there are two cases or more.
    const count =
      share === 0 ? 0 : Math.min(ids.length - 1, Math.max(1, Math.round(share * ids.length)));
    val = shuffledIds(ids, seed).slice(0, count);
  }
  const held = new Set(val);
  const train = ids.filter((id) => !held.has(id)).sort();
  if (train.length === 0) throw new SplitError("no training case left after the validation split");
  return { train, val: val.sort() };
}
