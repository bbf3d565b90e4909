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
  /** Where batches go once reading: the main thread takes them synchronously (receiveMessageOnPort). */
  data: MessagePort;
}

/** pin: (re)start the read snapshot; go: claim and read units until none are left. */
export type ToWorker = { type: "pin" } | { type: "go"; units: number };

/** On the worker's own port, before reading. */
export type SetupMessage =
  | { type: "ready" }
  | { type: "pinned" }
  | ErrorMessage;

/** On the data port, while reading. */
export type DataMessage =
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
