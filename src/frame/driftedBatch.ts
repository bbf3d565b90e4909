import type { Data, Float64, RecordBatch } from "apache-arrow";

/** A source batch (at least the frame's columns) with its computed drift column. */
export interface DriftedBatch {
  readonly batch: RecordBatch;
  readonly drift: Data<Float64>;
}

/** Drifted batches as a sink pulls them. */
export interface DriftedBatches {
  /** Whether batches come in the output's order; otherwise the sink sorts. */
  readonly ordered: boolean;
  /**
   * The next drifted batch, or undefined once everything is read.
   * Synchronous: the sink pulls batches from inside DuckDB's scan.
   */
  next(): DriftedBatch | undefined;
}
