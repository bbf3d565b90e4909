// Light: the output guard asks it before anything is written.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/** The directory inside a dataset where each shard's manifest and lock live: what marks a directory as a dataset. */
export const STATE_DIRECTORY = "_panic_drift";

/** Whether `dir` is a dataset panic-drift made. */
export function isDataset(dir: string): boolean {
  return existsSync(join(dir, STATE_DIRECTORY));
}

/** The dataset directory `path` lies in (the nearest directory above it with a _panic_drift/), or undefined. */
export function datasetAbove(path: string): string | undefined {
  let dir = dirname(resolve(path));
  for (;;) {
    if (isDataset(dir)) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}
