// Splitting a dataset between processes: shard i of n takes every n-th case of the list sorted
// by id, starting at i, so a job array (or several machines) covers every case exactly once
// without talking to each other.
import { InferError } from "./errors.js";

export interface Shard {
  /** 0-based shard index, 0 ≤ index < count. */
  index: number;
  count: number;
}

/** Parses "i/n" (0 ≤ i < n, both integers); BAD_OPTION otherwise. */
export function parseShard(spec: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(spec.trim());
  if (match === null) {
    throw new InferError("BAD_OPTION", `--shard must be i/n (e.g. 0/4), got "${spec}"`);
  }
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(count) || count < 1 || index >= count) {
    throw new InferError("BAD_OPTION", `--shard i/n needs n ≥ 1 and 0 ≤ i < n, got "${spec}"`);
  }
  return { index, count };
}

function compareIds(a: string, b: string): number {
  // Code-unit order, the same on every machine and locale (localeCompare is not).
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The cases of one shard: sorted by id, then every `count`-th from `index`. Without a shard, all
 * cases sorted by id. Duplicate ids are refused (BAD_OPTION): they would make shards overlap.
 */
export function shardCases<T extends { id: string }>(
  cases: readonly T[],
  shard: Shard | null = null,
): T[] {
  const sorted = [...cases].sort((a, b) => compareIds(a.id, b.id));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.id === sorted[i - 1]!.id) {
      throw new InferError("BAD_OPTION", `case id ${sorted[i]!.id} appears twice`);
    }
  }
  if (shard === null) return sorted;
  const { index, count } = shard;
  if (
    !Number.isInteger(index) ||
    !Number.isInteger(count) ||
    count < 1 ||
    index < 0 ||
    index >= count
  ) {
    throw new InferError("BAD_OPTION", `shard ${index}/${count} needs 0 ≤ i < n`);
  }
  return sorted.filter((_, position) => position % count === index);
}
