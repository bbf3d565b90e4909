import type { RecordBatch } from "apache-arrow";
import type { ReferencePairs } from "../frame/referencePairs.js";
import type { RunTable } from "../frame/runTable.js";
import type { PromptVector } from "../frame/promptVector.js";
import type { InputFingerprint } from "./inputFingerprint.js";
import type { UnmatchedFilter } from "./runRecords.js";
import type { SnapshotChanges, SnapshotState } from "./snapshotState.js";

export interface ScanOptions {
  /** Runs whose initial prompt is in this set are left out. */
  readonly excludePrompts: ReadonlySet<string>;
  /** Shared registry that tags each row with its (prompt, model) key. */
  readonly pairs: ReferencePairs;
  /** Upper bound on rows per batch; memory is bounded by it. */
  readonly batchRows: number;
  /**
   * Reuse a batch's vector buffer once the next batch is asked for (`true`:
   * for consumers done with the vectors by then, as the kernel is), or once
   * the next unit is (`"unit"`: for consumers that need a whole unit's
   * vectors at once, as --reference first/previous do).
   */
  readonly reuseVectors?: boolean | "unit";
}

export interface ScanProgress {
  /** Work done and total in the source's own unit (e.g. rowids); total may be 0 when unknown. */
  readonly done: number;
  readonly total: number;
  readonly rows: number;
}





/** How many text-embedding rows one (initial_prompt, embedding_model) pair has. */
export interface PairCount {
  readonly initialPrompt: string;
  readonly embeddingModel: string;
  readonly rows: number;
  /** Rows whose vector is not NULL. */
  readonly rowsWithVector: number;
}

/**
 * One input format. A source reads its input once, cut into units that
 * readers claim one at a time (in any order, on any thread). An ordered
 * source yields, unit by unit, the runs in the output's run order (the rows
 * of a unit in any order); otherwise the sink sorts everything.
 */
export interface DriftSource {
  /** What was detected, for messages: e.g. "first-generation panic-tda SQLite database". */
  readonly description: string;
  readonly path: string;
  /** Identity of the input's content, taken before reading; cheap. */
  readonly fingerprint: InputFingerprint;
  /** Whether units come in the output's run order (see above). */
  readonly ordered: boolean;
  /** Starts the read snapshot (idempotent); every read until release() sees it. */
  pin(): void;
  release(): void;
  /** The runs of the pinned snapshot, in the output's order; rows refer to them by index. */
  runRecords(): RunTable;
  /** About how many embedding rows the pinned snapshot holds (cheap; an upper bound). */
  estimatedRows(): number;
  /** How many units the pinned snapshot is cut into, for batches of about `batchRows` rows. */
  units(batchRows: number): number;
  /** Reads one unit as source batches, inside the pinned snapshot. */
  scanUnit(options: ScanOptions, unit: number): Generator<RecordBatch, void, undefined>;
  /**
   * The (initial_prompt, embedding_model) pairs of the rows a scan would
   * give (runs with an excluded prompt left out), with their row counts:
   * one pass over the embeddings, vectors not read.
   */
  pairCounts(excludePrompts: ReadonlySet<string>): PairCount[];
  /** Rows read so far; `done`/`total` count units. */
  progress(): ScanProgress;
  /**
   * The --run, --experiment and --model values that match nothing in the
   * pinned snapshot (a compute or a listing with them is an error).
   */
  unmatchedFilters(): UnmatchedFilter[];
  /** Things about the snapshot worth telling the user (never errors); the same on every connection. */
  readonly warnings: readonly string[];
  /** Rows read so far whose started_at/completed_at could not be read (NULL in the output). */
  readonly badTimestamps: number;
  close(): void;
  /**
   * Incremental updates, for sources that can tell cheaply what changed
   * (see snapshotState.ts): the pinned snapshot's state, what changed in it
   * since an earlier state, and reading only some runs from then on (run
   * indices stay those of runRecords()).
   */
  snapshotState?(): SnapshotState;
  snapshotChanges?(previous: SnapshotState): SnapshotChanges;
  limitToRuns?(runIds: ReadonlySet<string>): void;
  /**
   * Reference vectors the input itself holds (a parquet export's prompt
   * rows, see parquetExport.ts), one per (initial_prompt, embedding_model)
   * pair of the kept runs: they win over the built-in embedders, and a
   * --prompt-vectors file wins over them. Part of the input, so its
   * fingerprint covers them.
   */
  storedReferences?(): PromptVector[];
  /**
   * At most this many readers may read the source at once (default: any).
   * A parquet export is read by one DuckDB thread of its own: 1.
   */
  readonly maxReaders?: number;
}
