import type { MessagePort } from "node:worker_threads";
import type { DriftTally } from "../kernel/driftTally.js";
import type { Metric } from "../kernel/metric.js";
import type { PromptVector } from "../reference/promptVector.js";
import type { ScanProgress } from "../sources/driftSource.js";
import type { BatchMessage } from "./batchMessage.js";

/** What a scan worker is started with. */
export interface WorkerSetup {
  path: string;
  excludePrompts: string[];
  batchRows: number;
  metric: Metric;
  fileVectors: PromptVector[];
  /** Int32 counter of posted batches the main thread has not taken yet. */
  inFlight: SharedArrayBuffer;
  maxInFlight: number;
  /** Shared by all workers: [0] the next unit to claim, [1] bumped (and notified) on every post and batch read. */
  shared: SharedArrayBuffer;
  /** Where everything the worker says goes: the main thread takes it synchronously (receiveMessageOnPort). */
  data: MessagePort;
}

/** go: claim and read units until none are left; stop: leave (the thread is terminated). */
export type ToWorker = { type: "go"; units: number };

/**
 * On the data port (the main thread takes them synchronously, between and
 * during its own reads): the worker's snapshot has started, then its batches.
 */
export type DataMessage =
  | { type: "pinned" }
  | { type: "batch"; unit: number; batch: BatchMessage; progress: ScanProgress }
  | { type: "unit"; unit: number; progress: ScanProgress }
  | { type: "done"; tally: DriftTally; badTimestamps: number; progress: ScanProgress }
  | ErrorMessage;

export interface ErrorMessage {
  type: "error";
  code?: string | undefined;
  message: string;
  stack?: string | undefined;
}
