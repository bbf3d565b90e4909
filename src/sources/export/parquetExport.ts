import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { notRegularFile } from "../../common/regularFile.js";
import { PanicDriftError } from "../../common/errors.js";
import { errorFromMessage } from "../../common/threadErrors.js";
import { ExportClient } from "./exportClient.js";
import type { RecordBatch } from "../../frame/arrow.js";
import { RunTable } from "../../frame/runTable.js";
import type { PromptVector } from "../../frame/promptVector.js";
import type { DriftSource, PairCount, ScanOptions, ScanProgress } from "../driftSource.js";
import type { SourceFilters } from "../sourceFilters.js";
import { exportFingerprint, type ExportFingerprint } from "../inputFingerprint.js";
import { fromSourceBatchTransfer } from "../../frame/batchTransfer.js";
import type { PinnedExport } from "./parquetExportProtocol.js";
import { EXPORT_FILES } from "./exportTables.js";
import { unitStarts } from "./exportUnits.js";
import type { UnmatchedFilter } from "../runRecords.js";

/** Batches the DuckDB thread may have posted ahead of the consumer. */
const MAX_IN_FLIGHT = 4;

/**
 * A directory written by upstream's `mix experiment.export_data` (the
 * Elixir-era panic-tda): `runs.parquet`, `invocations.parquet`,
 * `embeddings.parquet` and `experiments.parquet` (other files are
 * ignored), read through DuckDB in a thread of its own
 * (parquetExportWorker.ts).
 *
 * The DriftSource interface is synchronous (the sink pulls batches from
 * inside DuckDB's scan); DuckDB's API is not. The thread answers requests
 * and streams batches on a MessagePort, and this side waits for them with
 * Atomics.wait on a shared counter the thread bumps after each post, then
 * takes them with receiveMessageOnPort: no event loop turn is needed.
 *
 * Output rows are the text embeddings of the runs' TEXT invocations, as for
 * the SQLite layouts. The prompt rows upstream adds with --embed-prompts
 * (invocation `'prompt-' || run_id`, sequence_number -1) are never rows:
 * their embeddings are reference vectors (storedReferences()).
 */
export class ParquetExportSource implements DriftSource {
  readonly description = "panic-tda parquet export directory";
  readonly fingerprint: ExportFingerprint;
  readonly ordered = true;
  readonly maxReaders = 1;
  readonly warnings: string[] = [];
  badTimestamps = 0;
  private readonly client: ExportClient;
  private pinned: PinnedExport | undefined;
  private runTable = new RunTable();
  private unitStarts: number[] = [];
  private unitCount = 0;
  private unitsDone = 0;
  private rowsDone = 0;
  private stored: PromptVector[] | undefined;
  private nextScanId = 1;
  private stream: { scanId: number; nextUnit: number; options: ScanOptions; unitStarts: number[]; keys: number[] } | undefined;

  constructor(
    readonly path: string,
    filters: SourceFilters = {},
  ) {
    requireExportFiles(path);
    // Before anything is read: a file rewritten during the read is a change the next run sees.
    this.fingerprint = exportFingerprint(path, EXPORT_FILES);
    this.client = new ExportClient(path, filters);
    try {
      this.client.request({ type: "check" });
    } catch (error) {
      this.client.close();
      throw error;
    }
  }

  progress(): ScanProgress {
    return { done: this.unitsDone, total: this.unitCount, rows: this.rowsDone };
  }

  /** Reads the runs, what each holds and the prompt rows' vectors (idempotent). */
  pin(): void {
    if (this.pinned !== undefined) return;
    const pinned = this.client.request({ type: "pin" });
    this.runTable = new RunTable();
    for (const record of pinned.runs) this.runTable.add(record);
    for (const warning of pinned.warnings) if (!this.warnings.includes(warning)) this.warnings.push(warning);
    this.pinned = pinned;
  }

  /** Nothing is held between reads but a scan under way: it is stopped. */
  release(): void {
    this.stopStream();
  }

  runRecords(): RunTable {
    this.pin();
    return this.runTable;
  }

  unmatchedFilters(): UnmatchedFilter[] {
    this.pin();
    return this.pinned!.unmatched;
  }

  estimatedRows(): number {
    this.pin();
    return this.pinned!.rows.reduce((sum, n) => sum + n, 0);
  }

  /** Consecutive runs, as many as fit in `batchRows` rows (a longer run is a unit of its own). */
  units(batchRows: number): number {
    this.pin();
    const starts = unitStarts(this.pinned!.rows, batchRows);
    if (JSON.stringify(starts) !== JSON.stringify(this.unitStarts)) {
      this.stopStream();
      this.unitStarts = starts;
    }
    this.unitCount = starts.length;
    return this.unitCount;
  }

  *scanUnit(options: ScanOptions, unit: number): Generator<RecordBatch, void, undefined> {
    this.pin();
    if (this.unitCount === 0) this.units(options.batchRows);
    const stream = this.streamFor(options, unit);
    let finished = false;
    try {
      for (;;) {
        const message = this.client.receive();
        if (!("scanId" in message) || message.scanId !== stream.scanId) {
          this.client.discard(message);
          continue;
        }
        if (message.type === "scanError") throw errorFromMessage(message.error);
        if (message.unit !== unit) throw new Error(`the DuckDB thread sent unit ${message.unit} while unit ${unit} was read`);
        if (message.type === "batch") {
          for (const [prompt, model] of message.pairs) stream.keys.push(options.pairs.keyFor(prompt, model));
          const batch = fromSourceBatchTransfer(message.batch, this.runTable, stream.keys);
          this.client.taken();
          this.rowsDone += batch.numRows;
          yield batch;
        } else {
          this.badTimestamps += message.badTimestamps;
          this.unitsDone++;
          stream.nextUnit = unit + 1;
          finished = true;
          if (stream.nextUnit === this.unitCount) this.requireUnchanged();
          return;
        }
      }
    } finally {
      if (!finished) this.stopStream();
    }
  }

  /** The scan under way if it is at `unit` for these options, or a new one from there. */
  private streamFor(options: ScanOptions, unit: number): NonNullable<ParquetExportSource["stream"]> {
    const current = this.stream;
    if (current !== undefined && current.nextUnit === unit && current.options === options && current.unitStarts === this.unitStarts) return current;
    this.stopStream();
    const scanId = this.nextScanId++;
    this.client.request({
      type: "scan",
      scan: {
        scanId,
        fromUnit: unit,
        unitStarts: this.unitStarts,
        batchRows: options.batchRows,
        excludedRuns: this.excludedRuns(options.excludePrompts),
        maxInFlight: MAX_IN_FLIGHT,
      },
    });
    this.stream = { scanId, nextUnit: unit, options, unitStarts: this.unitStarts, keys: [] };
    return this.stream;
  }

  private stopStream(): void {
    if (this.stream === undefined) return;
    const { scanId } = this.stream;
    this.stream = undefined;
    this.client.request({ type: "cancel", scanId });
  }

  private excludedRuns(excludePrompts: ReadonlySet<string>): number[] {
    const excluded: number[] = [];
    this.pinned!.runs.forEach((run, index) => {
      if (excludePrompts.has(run.initial_prompt)) excluded.push(index);
    });
    return excluded;
  }

  /** Files rewritten while they were read could give a frame of two exports: refused. */
  private requireUnchanged(): void {
    let now: string;
    try {
      now = JSON.stringify(exportFingerprint(this.path, EXPORT_FILES));
    } catch {
      now = "";
    }
    if (now !== JSON.stringify(this.fingerprint)) {
      throw new PanicDriftError("EXPORT_CHANGED", `the export ${this.path} changed while it was read: rerun once it is written completely`);
    }
  }

  pairCounts(excludePrompts: ReadonlySet<string>): PairCount[] {
    this.pin();
    this.stopStream();
    return this.client.request({ type: "pairCounts", excludedRuns: this.excludedRuns(excludePrompts) });
  }

  storedReferences(): PromptVector[] {
    this.pin();
    this.stored ??= this.pinned!.stored.map(({ initialPrompt, embeddingModel, vector }) => ({ initialPrompt, embeddingModel, vector: Float64Array.from(vector) }));
    return this.stored;
  }

  close(): void {
    try {
      this.stopStream();
    } catch {
      /* closing anyway */
    }
    this.client.close();
  }
}

/** Whether `path` is a directory (then it can only be an export). */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The four files must be there; a directory with none of them is not an export at all. */
function requireExportFiles(dir: string): void {
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch (error) {
    throw new PanicDriftError("EXPORT_UNREADABLE", `cannot read the directory ${dir}: ${(error as Error).message}`, { cause: error });
  }
  const kindOf = (name: string) => {
    try {
      return notRegularFile(statSync(join(dir, name)));
    } catch {
      return "missing";
    }
  };
  const kinds = new Map(EXPORT_FILES.map((name) => [name, entries.includes(name) ? kindOf(name) : "missing"]));
  // Read by DuckDB's thread, where a FIFO would block it for good: refused.
  const odd = EXPORT_FILES.find((name) => kinds.get(name) !== undefined && kinds.get(name) !== "missing" && kinds.get(name) !== "a directory");
  if (odd !== undefined) {
    throw new PanicDriftError("EXPORT_UNREADABLE", `${join(dir, odd)} is ${kinds.get(odd)}, not a file: export the experiment again with mix experiment.export_data, which writes files`);
  }
  const missing = EXPORT_FILES.filter((name) => kinds.get(name) !== undefined);
  if (missing.length === 0) return;
  const parquet = entries.filter((name) => name.endsWith(".parquet"));
  const shown = (names: string[]) => (names.length <= 12 ? names.join(", ") : `${names.slice(0, 12).join(", ")}, … (${names.length} in all)`);
  if (missing.length === EXPORT_FILES.length) {
    throw new PanicDriftError(
      "DB_IS_DIRECTORY",
      `${dir} is a directory, not a database file, nor a panic-tda export (it has none of ${EXPORT_FILES.join(", ")}; ${entries.length === 0 ? "it is empty" : `found: ${shown(entries)}`}): point --db at the experiment's .sqlite file inside it, or at a directory written by mix experiment.export_data`,
    );
  }
  throw new PanicDriftError(
    "EXPORT_INCOMPLETE",
    `incomplete panic-tda export ${dir}: ${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} missing (found: ${shown(parquet)}): export the experiment again with mix experiment.export_data, which writes all four`,
  );
}
