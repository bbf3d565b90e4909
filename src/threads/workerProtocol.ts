import type { MessagePort } from "node:worker_threads";
import type { DriftTally } from "../kernel/driftTally.js";
import type { Metric } from "../kernel/metric.js";
import type { ReferenceMode } from "../kernel/referenceMode.js";
import type { ReferenceVectors } from "../reference/referenceResolver.js";
import type { ScanProgress } from "../sources/driftSource.js";
import type { SourceFilters } from "../sources/sourceFilters.js";
import type { ErrorMessage } from "../common/threadErrors.js";
import type { BatchTransfer } from "../frame/batchTransfer.js";

/** What a scan worker is started with (before the rest of the run is known). */
export interface WorkerSetup {
  path: string;
  immutable: boolean;
  filters: SourceFilters;
  /** Int32 counter of posted batches the main thread has not taken yet. */
  inFlight: SharedArrayBuffer;
  maxInFlight: number;
  /** Shared by all workers: [0] the next unit to claim, [1] bumped (and notified) on every post and batch read. */
  shared: SharedArrayBuffer;
  /** Where everything the worker says goes: the main thread takes it synchronously (receiveMessageOnPort). */
  data: MessagePort;
}

/** Claim and read units until none are left (a thread not told to go is terminated). */
export interface GoMessage {
  type: "go";
  units: number;
  excludePrompts: string[];
  batchRows: number;
  metric: Metric;
  reference: ReferenceMode;
  references: ReferenceVectors;
}
export type ToWorker = GoMessage;

/**
 * On the data port (the main thread takes them synchronously, between and
 * during its own reads): the worker's snapshot has started, then its batches.
 */
export type DataMessage =
  /** The input fingerprint taken when the worker opened the database, before its snapshot started. */
  | { type: "pinned"; fingerprint: string }
  | { type: "batch"; unit: number; batch: BatchTransfer; progress: ScanProgress }
  | { type: "unit"; unit: number; progress: ScanProgress }
  | { type: "done"; tally: DriftTally; badTimestamps: number; progress: ScanProgress }
  | { type: "error"; error: ErrorMessage };
