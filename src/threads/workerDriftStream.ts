import { receiveMessageOnPort } from "node:worker_threads";
import { driftUnit, reuseFor, scanWarnings, type DriftStream, type DriftStreamOptions } from "../stream/driftStream.js";
import type { DriftedBatch } from "../frame/driftedBatch.js";
import { PanicDriftError } from "../common/errors.js";
import { errorFromMessage } from "../common/threadErrors.js";
import { taken, waitForSignal } from "../common/threadSignal.js";
import { ReferencePairs } from "../frame/referencePairs.js";
import { BatchDrift } from "../kernel/batchDrift.js";
import { emptyTally, mergeTally } from "../kernel/driftTally.js";
import type { ReferenceVectors } from "../reference/referenceResolver.js";
import type { DriftSource, ScanProgress } from "../sources/driftSource.js";
import type { SourceFilters } from "../sources/sourceFilters.js";
import { sqliteFingerprint } from "../sources/inputFingerprint.js";
import { fromDriftedBatchTransfer } from "../frame/batchTransfer.js";
import { waitAsync } from "../common/waitAsync.js";
import { startReaderThreads, stopReaderThreads, type ReaderThread, type ReaderThreads } from "./readerThreads.js";
import type { DataMessage, ToWorker } from "./workerProtocol.js";

/** Batches the main thread reads ahead of DuckDB, at most. */
const READ_AHEAD_BATCHES = 4;
/**
 * The main thread waits for readers synchronously (inside DuckDB's scan),
 * where a thread's death cannot be seen; readers give a sign of life at
 * least every batch they read, so this long a silence means one is gone.
 */
const STALL_MILLISECONDS = 120_000;

export interface WorkerStreamOptions extends DriftStreamOptions {
  readonly workers: number;
  readonly immutable: boolean;
  readonly filters: SourceFilters;
  readonly references: ReferenceVectors;
}

interface Thread extends ReaderThread {
  progress: ScanProgress;
  /** joining: started, not reading yet; reading: told to go; done: finished, or sent away. */
  state: "joining" | "reading" | "done";
}

interface PendingUnit {
  /** `from` is undefined for the units the main thread read itself. */
  batches: { batch: DriftedBatch; from: Thread | undefined }[];
  complete: boolean;
}

/**
 * Source and kernel on `workers` readers, each with its own connection,
 * claiming units of the source one at a time from a shared counter: the
 * main thread (the sink's), from the start, and `workers - 1` threads as
 * they join. Batches come back in unit order.
 *
 * All readers must read one snapshot of a database that may be being
 * written. The main thread takes the fingerprint of the database and its
 * -wal (sizes, mtimes), then starts its read transaction; a thread that
 * started its own transaction later joins only if the fingerprint is still
 * the same then (no commit fell in between). Otherwise it is sent away and
 * the others read its share; the main thread alone can always finish.
 */
export function workerDriftStream(source: DriftSource, options: WorkerStreamOptions, started?: ReaderThreads): DriftStream {
  source.release();
  const snapshot = JSON.stringify(sqliteFingerprint(source.path));
  source.pin();
  const units = source.units(options.batchRows);
  const runs = source.runRecords();
  const readers = started ?? startReaderThreads(source.path, options.workers - 1, options.immutable, options.filters);
  // [0]: the next unit to claim; [1]: bumped by readers on every post and batch read.
  const shared = readers.shared;
  const threads: Thread[] = readers.threads.map((t) => ({ ...t, progress: { done: 0, total: units, rows: 0 }, state: "joining" }));
  const go: ToWorker = {
    type: "go",
    units,
    excludePrompts: [...options.excludePrompts],
    batchRows: options.batchRows,
    metric: options.metric,
    reference: options.reference,
    references: options.references,
  };

  const sendAway = (thread: Thread) => {
    if (thread.state === "done") return;
    thread.state = "done";
    thread.data.close();
    void thread.worker.terminate();
  };

  /**
   * A joining thread has started its snapshot (or failed to): it reads if
   * nothing was committed from before the earlier of its start and the main
   * thread's to now, i.e. if both snapshots are one.
   */
  const admit = (thread: Thread, pinned: string | undefined) => {
    if (thread.state !== "joining") return;
    if (pinned === snapshot && Atomics.load(shared, 0) < units && JSON.stringify(sqliteFingerprint(source.path)) === snapshot) {
      thread.state = "reading";
      thread.worker.postMessage(go);
    } else {
      // It could not start, the work is done already, or a commit landed meanwhile.
      sendAway(thread);
    }
  };
  // A thread that dies before it is told to go is simply not waited for.
  for (const thread of threads) thread.worker.on("error", () => { admit(thread, undefined); });

  const stopAll = async () => {
    closed = true;
    for (const t of threads) t.state = "done";
    await stopReaderThreads(readers);
  };

  const tally = emptyTally();
  let badTimestamps = 0;
  // The main thread's own reader, on its (pinned) connection.
  const pairs = new ReferencePairs();
  const kernel = new BatchDrift(pairs, options.lookup, options.metric);
  const scan = { excludePrompts: options.excludePrompts, pairs, batchRows: options.batchRows, reuseVectors: reuseFor(options.reference) };
  let mainReading = true;
  const pending = new Map<number, PendingUnit>();
  let nextUnit = 0;
  let failed: Error | undefined;
  /** Set once the stream is stopped: no thread is let in after that. */
  let closed = false;

  const unitOf = (unit: number): PendingUnit => {
    let entry = pending.get(unit);
    if (entry === undefined) {
      entry = { batches: [], complete: false };
      pending.set(unit, entry);
    }
    return entry;
  };

  function handle(thread: Thread, message: DataMessage): void {
    if (thread.state === "joining") {
      admit(thread, message.type === "pinned" ? message.fingerprint : undefined);
      return;
    }
    if (message.type === "pinned") return;
    if (message.type === "error") throw errorFromMessage(message.error);
    thread.progress = message.progress;
    if (message.type === "batch") unitOf(message.unit).batches.push({ batch: fromDriftedBatchTransfer(message.batch, runs), from: thread });
    else if (message.type === "unit") unitOf(message.unit).complete = true;
    else {
      thread.state = "done";
      mergeTally(tally, message.tally);
      badTimestamps += message.badTimestamps;
    }
  }

  /** Takes every message already posted; false when there was none. */
  function drain(): boolean {
    let got = false;
    for (const thread of threads) {
      if (thread.state === "done") continue;
      for (let m = receiveMessageOnPort(thread.data); m !== undefined; m = receiveMessageOnPort(thread.data)) {
        got = true;
        handle(thread, m.message as DataMessage);
        if ((thread.state as Thread["state"]) === "done") break;
      }
    }
    return got;
  }

  /** The next batch in unit order (any order when the source is unordered), or undefined at the end. */
  function take(): DriftedBatch | undefined {
    for (;;) {
      if (source.ordered) {
        while (nextUnit < units && pending.get(nextUnit)?.complete === true && pending.get(nextUnit)!.batches.length === 0) {
          pending.delete(nextUnit++);
        }
        const head = pending.get(nextUnit)?.batches.shift();
        if (head !== undefined) return release(head);
      } else {
        for (const [unit, entry] of pending) {
          const head = entry.batches.shift();
          if (head !== undefined) return release(head);
          if (entry.complete) pending.delete(unit);
        }
      }
      if (mainReading) {
        readOneUnit();
        continue;
      }
      if (threads.every((t) => t.state !== "reading")) return undefined;
      waitForReaders();
    }
  }

  /** Claims the next unit and reads it here, or notes that none is left. */
  function readOneUnit(): void {
    drain();
    const unit = Atomics.add(shared, 0, 1);
    if (unit >= units) {
      mainReading = false;
      for (const t of threads) if (t.state === "joining") sendAway(t);
      mergeTally(tally, kernel.tally);
      badTimestamps += source.badTimestamps;
      return;
    }
    const entry = unitOf(unit);
    // Between its own batches it lets joining threads in and takes theirs.
    for (const batch of driftUnit(source, unit, kernel, scan, options.reference, drain)) entry.batches.push({ batch, from: undefined });
    entry.complete = true;
  }

  function release({ batch, from }: { batch: DriftedBatch; from: Thread | undefined }): DriftedBatch {
    if (from !== undefined) taken(from.inFlight, 0);
    return batch;
  }

  function waitForReaders(): void {
    waitForSignal(
      shared,
      1,
      () => (drain() ? true : undefined),
      STALL_MILLISECONDS,
      () => new PanicDriftError("DB_READERS_STALLED", `the reader threads of ${source.path} stopped responding: rerun; if it persists, report it`),
    );
  }

  /**
   * Between two of DuckDB's calls the main thread would idle while DuckDB
   * encodes a chunk: it reads a unit ahead then, up to a few batches.
   */
  let readAheadScheduled = false;
  function scheduleReadAhead(): void {
    if (readAheadScheduled || !mainReading || failed !== undefined || closed) return;
    readAheadScheduled = true;
    setImmediate(() => {
      readAheadScheduled = false;
      let buffered = 0;
      for (const entry of pending.values()) buffered += entry.batches.length;
      if (!mainReading || failed !== undefined || closed || buffered >= READ_AHEAD_BATCHES) return;
      try {
        readOneUnit();
      } catch (error) {
        failed = error instanceof Error ? error : new Error(String(error));
        void stopAll();
      }
    });
  }

  /**
   * Threads are let in as soon as they have started their snapshots, not
   * when the sink first asks for a batch: until then the main thread is
   * busy loading DuckDB and opening the output, and they can read already.
   */
  const admitEarly = (): void => {
    if (closed || failed !== undefined || !threads.some((t) => t.state === "joining")) return;
    const seen = Atomics.load(shared, 1);
    try {
      drain();
    } catch (error) {
      // A thread's error is the stream's: next() reports it.
      failed = error instanceof Error ? error : new Error(String(error));
      void stopAll();
      return;
    }
    if (threads.some((t) => t.state === "joining")) void waitAsync(shared, 1, seen, 100).then(admitEarly);
  };
  admitEarly();

  return {
    ordered: source.ordered,
    next() {
      if (failed !== undefined) throw failed;
      try {
        const batch = take();
        if (batch !== undefined) scheduleReadAhead();
        return batch;
      } catch (error) {
        failed = error instanceof Error ? error : new Error(String(error));
        void stopAll();
        throw failed;
      }
    },
    progress: () =>
      threads.reduce(
        (sum, t) => ({ done: sum.done + t.progress.done, total: units, rows: sum.rows + t.progress.rows }),
        { done: source.progress().done, total: units, rows: source.progress().rows },
      ),
    tally: () => tally,
    warnings: () => scanWarnings(source, badTimestamps),
    badTimestamps: () => badTimestamps,
    close: stopAll,
  };
}
