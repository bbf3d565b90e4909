import { createHash } from "node:crypto";
import { usageError } from "../../common/errors.js";
import { idKey } from "../../sources/sourceFilters.js";
import type { Shard } from "../../sink/datasetFiles.js";

/**
 * The shard a run belongs to: the first four bytes of the SHA-256 of its id
 * (hyphens removed, lowercase), as an unsigned big-endian number, modulo the
 * shard count. The same on every machine, whatever the input's order.
 */
export function shardOf(runId: string, count: number): number {
  if (count === 1) return 0;
  return createHash("sha256").update(idKey(runId)).digest().readUInt32BE(0) % count;
}

/** `--shard i/n`: 0 ≤ i < n ≤ 4096. */
export function parseShard(value: string): Shard {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(value);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (match === null || count < 1 || count > 4096 || index >= count) {
    throw usageError(`--shard ${value}: give i/n with 0 ≤ i < n (e.g. --shard 0/4 … --shard 3/4; a job array's task id)`);
  }
  return { index, count };
}
