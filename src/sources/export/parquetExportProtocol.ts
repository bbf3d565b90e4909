import type { MessagePort } from "node:worker_threads";
import type { RunRecord } from "../../frame/runTable.js";
import type { SourceFilters } from "../sourceFilters.js";
import type { UnmatchedFilter } from "../runRecords.js";
import type { PairCount } from "../driftSource.js";
import type { SourceBatchTransfer } from "../../frame/batchTransfer.js";
import type { ErrorMessage } from "../../common/threadErrors.js";

/**
 * Messages between a parquet export source (main thread) and its DuckDB
 * thread (parquetExportWorker.ts). The main thread asks synchronously: it
 * posts a request and waits on `signal` (bumped by the thread after every
 * post, and every 250 ms while it works) until the reply is on its port.
 */
export interface ExportWorkerSetup {
  dir: string;
  filters: SourceFilters;
  /** DuckDB's spill directory (created and removed by the main thread). */
  tempDir: string;
  /** [0]: bumped on every post and as a heartbeat; [1]: batches posted and not yet taken. */
  signal: SharedArrayBuffer;
  port: MessagePort;
}


export type ToExportWorker =
  | { id: number; type: "check" }
  | { id: number; type: "pin" }
  | { id: number; type: "pairCounts"; excludedRuns: number[] }
  | { id: number; type: "scan"; scan: ScanRequest }
  | { id: number; type: "cancel"; scanId: number }
  | { id: number; type: "close" };

/** What the thread replies to each request ("scan" is answered at once; its batches follow). */
interface ExportReplies {
  check: null;
  pin: PinnedExport;
  pairCounts: PairCount[];
  scan: null;
  cancel: null;
  close: null;
}
export type ExportReply<T extends ToExportWorker["type"]> = ExportReplies[T];

export interface ScanRequest {
  scanId: number;
  /** The first unit to read; units after it follow in order. */
  fromUnit: number;
  /** Index (in the pinned runs) of each unit's first run. */
  unitStarts: number[];
  batchRows: number;
  /** Runs left out (their initial prompt is excluded). */
  excludedRuns: number[];
  /** Batches the thread may post ahead of the main thread. */
  maxInFlight: number;
}

/** What the DuckDB thread found in the export: its runs in the output's order and what each holds. */
export interface PinnedExport {
  runs: RunRecord[];
  /** Per run: output rows (text embeddings, prompt rows left out, --model applied). */
  rows: number[];
  /** Per run: the first and last row number of those rows in embeddings.parquet (-1 when none). */
  firstRow: number[];
  lastRow: number[];
  /** Reference vectors from the prompt rows, as float32 bytes. */
  stored: { initialPrompt: string; embeddingModel: string; vector: Float32Array }[];
  warnings: string[];
  /** The --run, --experiment and --model values that match nothing. */
  unmatched: UnmatchedFilter[];
}

export type FromExportWorker =
  | { id: number; type: "reply"; value: unknown }
  | { id: number; type: "error"; error: ErrorMessage }
  | { type: "batch"; scanId: number; unit: number; batch: SourceBatchTransfer; pairs: [string, string][] }
  | { type: "unit"; scanId: number; unit: number; rows: number; badTimestamps: number }
  | { type: "scanError"; scanId: number; error: ErrorMessage };
