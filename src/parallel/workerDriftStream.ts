import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { DriftStream, DriftStreamOptions, DriftedBatch } from "../driftStream.js";
import { PanicDriftError, type ErrorCode } from "../errors.js";
import { emptyTally, mergeTally } from "../kernel/driftTally.js";
import type { PromptVector } from "../reference/promptVector.js";
import type { DriftSource, ScanProgress } from "../sources/driftSource.js";
import { sqliteFingerprint } from "../sources/inputFingerprint.js";
import { fromBatchMessage } from "./batchMessage.js";
import type { FromWorker, ToWorker, WorkerSetup } from "./workerProtocol.js";

/** Batches a worker may have posted ahead of the sink. */
const MAX_IN_FLIGHT = 4;
/**
 * How hard to try pinning every reader on one snapshot of a database that
 * keeps changing, before reading it on one thread instead (one connection
 * has one snapshot by construction).
 */
const MAX_PIN_ATTEMPTS = 20;
const MAX_PIN_MILLISECONDS = 300;

export interface WorkerStreamOptions extends DriftStreamOptions {
  readonly workers: number;
  readonly fileVectors: readonly PromptVector[];
}

/**
 * Source and kernel in `workers` threads, each reading one rowid range of
 * the same read snapshot over its own connection; the caller (the sink's
 * thread) receives their batches as they come. Undefined (threads stopped)
 * when commits kept landing while the readers pinned their snapshots: the
 * caller then reads on one thread.
 */
export async function workerDriftStream(source: DriftSource, options: WorkerStreamOptions): Promise<DriftStream | undefined> {
  const threads: { worker: Worker; inFlight: Int32Array; progress: ScanProgress; done: boolean }[] = [];
  const queue: (FromWorker & { from: number })[] = [];
  let wake: (() => void) | undefined;
  const next = () =>
    new Promise<void>((resolve) => {
      if (queue.length > 0) resolve();
      else wake = resolve;
    });

  for (let i = 0; i < options.workers; i++) {
    const inFlight = new SharedArrayBuffer(4);
    const setup: WorkerSetup = {
      path: source.path,
      excludePrompts: [...options.excludePrompts],
      batchRows: options.batchRows,
      metric: options.metric,
      fileVectors: [...options.fileVectors],
      inFlight,
      maxInFlight: MAX_IN_FLIGHT,
    };
    const worker = startWorker(setup);
    const thread = { worker, inFlight: new Int32Array(inFlight), progress: { done: 0, total: 0, rows: 0 }, done: false };
    threads.push(thread);
    worker.on("message", (message: FromWorker) => {
      queue.push({ ...message, from: i });
      wake?.();
      wake = undefined;
    });
    worker.on("error", (error) => {
      queue.push({ type: "error", message: error.message, stack: error.stack, from: i });
      wake?.();
      wake = undefined;
    });
  }
  const stopAll = () => Promise.all(threads.map((t) => t.worker.terminate()));

  /** Waits for one message of `type` from every worker, failing on an error. */
  async function fromEach(type: "ready" | "pinned"): Promise<void> {
    const seen = new Set<number>();
    while (seen.size < threads.length) {
      await next();
      const message = queue.shift()!;
      if (message.type === "error") throw workerError(message);
      if (message.type === type) seen.add(message.from);
    }
  }

  try {
    await fromEach("ready");
    // All readers share one snapshot if nothing was committed while they pinned theirs.
    const deadline = performance.now() + MAX_PIN_MILLISECONDS;
    for (let attempt = 1; ; attempt++) {
      const before = JSON.stringify(sqliteFingerprint(source.path));
      source.release();
      source.pin();
      for (const t of threads) t.worker.postMessage({ type: "pin" } satisfies ToWorker);
      await fromEach("pinned");
      if (JSON.stringify(sqliteFingerprint(source.path)) === before) break;
      if (attempt >= MAX_PIN_ATTEMPTS || performance.now() > deadline) {
        await stopAll();
        return undefined;
      }
    }
  } catch (error) {
    await stopAll();
    throw error;
  }

  const ranges = source.partitions(threads.length);
  const runs = source.runRecords();
  threads.forEach((t, i) => {
    const range = ranges[i];
    if (range === undefined) {
      t.worker.postMessage({ type: "go", range: { from: 1, to: 0 } } satisfies ToWorker);
    } else {
      t.worker.postMessage({ type: "go", range } satisfies ToWorker);
    }
  });

  const tally = emptyTally();
  const warnings: string[] = [];
  return {
    async *batches(): AsyncGenerator<DriftedBatch> {
      try {
        while (threads.some((t) => !t.done)) {
          await next();
          const message = queue.shift()!;
          const thread = threads[message.from]!;
          if (message.type === "error") throw workerError(message);
          if (message.type === "batch") {
            thread.progress = message.progress;
            yield fromBatchMessage(message.batch, runs);
            Atomics.sub(thread.inFlight, 0, 1);
            Atomics.notify(thread.inFlight, 0);
          } else if (message.type === "done") {
            thread.progress = message.progress;
            thread.done = true;
            mergeTally(tally, message.tally);
            warnings.push(...message.warnings);
          }
        }
      } finally {
        await stopAll();
      }
    },
    progress: () =>
      threads.reduce(
        (sum, t) => ({ done: sum.done + t.progress.done, total: sum.total + t.progress.total, rows: sum.rows + t.progress.rows }),
        { done: 0, total: 0, rows: 0 },
      ),
    tally: () => tally,
    warnings: () => warnings,
    close: async () => {
      await stopAll();
    },
  };
}

function workerError(message: { code?: string | undefined; message: string; stack?: string | undefined }): Error {
  if (message.code !== undefined && !message.code.startsWith("SQLITE_") && !message.code.startsWith("ERR_")) {
    return new PanicDriftError(message.code as ErrorCode, message.message);
  }
  const error = new Error(message.message);
  if (message.stack) error.stack = message.stack;
  return error;
}

/**
 * Compiled, the worker is scanWorker.js beside this file. Run from source
 * (the tests), it is the .ts file, loaded through tsx's loader.
 */
function startWorker(setup: WorkerSetup): Worker {
  // A small young generation: readers make short-lived garbage at a high
  // rate, and a big nursery only holds more of it (measured: −60 MB peak RSS
  // on 200k rows, same speed).
  const options = { workerData: setup, resourceLimits: { maxYoungGenerationSizeMb: 4 } };
  const compiled = new URL("./scanWorker.js", import.meta.url);
  if (existsSync(fileURLToPath(compiled))) return new Worker(compiled, options);
  const api = import.meta.resolve("tsx/esm/api");
  const source = new URL("./scanWorker.ts", import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(api)}).then(({ register }) => { register(); return import(${JSON.stringify(source)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
