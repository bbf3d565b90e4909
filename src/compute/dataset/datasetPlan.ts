import { partitionOf, type ManifestFile } from "../../sink/datasetFiles.js";

/** At most this many runs go to one new part file (a panic-tda run has tens to hundreds of text embeddings per model). */
export const RUNS_PER_FILE = 500;

/** What to do with one input's part files. */
export interface PartsPlan {
  /** Files left as they are. */
  readonly keep: ManifestFile[];
  /**
   * Files written again (same name) with these runs, all recomputed; with
   * none when all of its runs are gone (an empty file, rather than none: a
   * reader that listed the directory just before still finds it).
   */
  readonly rewrite: { name: string; runs: string[] }[];
  /** New files: a partition and its runs (the caller names them). */
  readonly add: { partition: string; runs: string[] }[];
}

/**
 * Which of an input's part files stay and which are written: a file is
 * written again when one of its runs is recomputed, is gone, or moved to
 * another experiment (or when it is not as the manifest recorded it);
 * then it holds its remaining runs, all recomputed (none: an empty file). Runs in no file (new,
 * or moved) go to new files of at most `runsPerFile` runs in their
 * partition. A file never gains a run another file held: a reader during an
 * update never sees a run twice.
 *
 * `current`: the input's runs now (this shard's, in the output's order)
 * with their experiment; `recompute`: the runs to read again, or "all".
 */
export function planParts(
  files: readonly ManifestFile[],
  unchanged: (file: ManifestFile) => boolean,
  current: readonly { runId: string; experimentId: string | null }[],
  recompute: ReadonlySet<string> | "all",
  runsPerFile = RUNS_PER_FILE,
): PartsPlan {
  const partitionNow = new Map(current.map((run) => [run.runId, partitionOf(run.experimentId)]));
  const plan: PartsPlan = { keep: [], rewrite: [], add: [] };
  const placed = new Set<string>();
  for (const file of files) {
    const partition = file.name.slice(0, file.name.indexOf("/"));
    const stays = (runId: string) => partitionNow.get(runId) === partition;
    const dirty =
      recompute === "all" || !unchanged(file) || file.runs.some(([runId]) => recompute.has(runId) || !stays(runId));
    if (!dirty) {
      plan.keep.push(file);
      for (const [runId] of file.runs) placed.add(runId);
      continue;
    }
    const runs = file.runs.map(([runId]) => runId).filter((runId) => stays(runId) && !placed.has(runId));
    for (const runId of runs) placed.add(runId);
    plan.rewrite.push({ name: file.name, runs });
  }
  const byPartition = new Map<string, string[]>();
  for (const { runId } of current) {
    if (placed.has(runId)) continue;
    const partition = partitionNow.get(runId)!;
    const runs = byPartition.get(partition) ?? [];
    runs.push(runId);
    byPartition.set(partition, runs);
  }
  for (const [partition, runs] of [...byPartition].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    for (let start = 0; start < runs.length; start += runsPerFile) plan.add.push({ partition, runs: runs.slice(start, start + runsPerFile) });
  }
  return plan;
}
