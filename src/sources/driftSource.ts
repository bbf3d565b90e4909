import type { RecordBatch } from "apache-arrow";
import type { ReferencePairs } from "../frame/referencePairs.js";
import type { RunTable } from "../frame/runTable.js";
import type { InputFingerprint } from "./inputFingerprint.js";

export interface ScanOptions {
  /** Runs whose initial prompt is in this set are left out. */
  readonly excludePrompts: ReadonlySet<string>;
  /** Shared registry that tags each row with its (prompt, model) key. */
  readonly pairs: ReferencePairs;
  /** Upper bound on rows per batch; memory is bounded by it. */
  readonly batchRows: number;
  /**
   * Reuse a batch's vector buffer once the next batch is asked for: only
   * for consumers that are done with the vectors by then (the kernel is).
   */
  readonly reuseVectors?: boolean;
}

export interface ScanProgress {
  /** Work done and total in the source's own unit (e.g. rowids); total may be 0 when unknown. */
  readonly done: number;
  readonly total: number;
  readonly rows: number;
}

/** An inclusive range of embedding rowids, the unit parallel readers split on. */
export interface RowidRange {
  readonly from: number;
  readonly to: number;
}

/**
 * One input format. A source reads its input once, in whatever order is
 * cheapest, and yields source batches (see frame/sourceBatch.ts); the sink
 * restores the output order.
 */
export interface DriftSource {
  /** What was detected, for messages: e.g. "first-generation panic-tda SQLite database". */
  readonly description: string;
  readonly path: string;
  /** Identity of the input's content, taken before reading; cheap. */
  readonly fingerprint: InputFingerprint;
  /** Starts the read snapshot (idempotent); every read until release() sees it. */
  pin(): void;
  release(): void;
  /** The runs of the pinned snapshot; rows refer to them by index. */
  runRecords(): RunTable;
  /** Cuts the input into about equal ranges for parallel readers. */
  partitions(parts: number): RowidRange[];
  /** Reads the input (or one range of it) as source batches, inside the pinned snapshot. */
  scan(options: ScanOptions, range?: RowidRange): Generator<RecordBatch, void, undefined>;
  progress(): ScanProgress;
  /** Things about the data worth telling the user (never errors). */
  readonly warnings: readonly string[];
  close(): void;
}
