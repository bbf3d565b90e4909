import { createHash } from "node:crypto";
import type { RunRecord } from "../frame/runTable.js";

/**
 * What an incremental update compares between the snapshot a cached file
 * was computed from and the database now: cheap facts read from indexes,
 * never from vector pages.
 */
export interface SnapshotState {
  /** The runs (filters applied) in the output's run order: run_id, invocation count, sum of invocation rowids, digest of the run's own columns. */
  runs: [runId: string, invocations: number, invocationRowids: number, record: string][];
  /** The embedding table: its highest rowid, that row's id, and how many rows it holds. */
  embeddings: { maxRowid: number; maxId: string | null; count: number };
}

/** What changed since an earlier snapshot, as far as the source can tell without reading vectors. */
export interface SnapshotChanges {
  /** The current snapshot's state. */
  readonly state: SnapshotState;
  /** Runs with embedding rows added since (a rowid above the earlier maximum). */
  readonly runsWithNewRows: ReadonlySet<string>;
  /** Embedding rows the earlier snapshot had (rowid up to its maximum) that are still there. */
  readonly keptRows: number;
  /** Whether the earlier snapshot's last embedding row is still the same row. */
  readonly sameLastRow: boolean;
  /** Text-embedding rows of a run that are still there from the earlier snapshot (as the scan would read them). */
  keptRowsOfRun(runId: string): number;
}

/** A short digest of a run's own columns: a run whose prompt, network or experiment changed is recomputed. */
export function runRecordDigest(record: RunRecord): string {
  return createHash("sha256")
    .update(JSON.stringify([record.initial_prompt, record.network, record.experiment_id]))
    .digest("hex")
    .slice(0, 16);
}
