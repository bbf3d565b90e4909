import type { DriftTally } from "../kernel/driftTally.js";
import type { Metric } from "../kernel/metric.js";
import type { PromptVector } from "../reference/promptVector.js";
import type { RowidRange, ScanProgress } from "../sources/driftSource.js";
import type { BatchMessage } from "./batchMessage.js";

/** What a scan worker is started with. */
export interface WorkerSetup {
  path: string;
  excludePrompts: string[];
  batchRows: number;
  metric: Metric;
  fileVectors: PromptVector[];
  /** Int32 counter of posted batches the main thread has not appended yet. */
  inFlight: SharedArrayBuffer;
  maxInFlight: number;
}

/** pin: (re)start the read snapshot; go: read this range in it. */
export type ToWorker = { type: "pin" } | { type: "go"; range: RowidRange };

export type FromWorker =
  | { type: "ready" }
  | { type: "pinned" }
  | { type: "batch"; batch: BatchMessage; progress: ScanProgress }
  | { type: "done"; tally: DriftTally; warnings: string[]; progress: ScanProgress }
  | { type: "error"; code?: string | undefined; message: string; stack?: string | undefined };
