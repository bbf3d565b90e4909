// Light imports only: reader threads may be started before the heavy half loads.
import { MessageChannel, type Worker, type MessagePort } from "node:worker_threads";
import { startThread } from "../common/startThread.js";
import type { SourceFilters } from "../sources/sourceFilters.js";
import type { WorkerSetup } from "./workerProtocol.js";

/** Batches a thread may have posted ahead of the sink. */
const MAX_IN_FLIGHT = 8;

export interface ReaderThread {
  readonly worker: Worker;
  /** Everything the thread says comes here (see DataMessage). */
  readonly data: MessagePort;
  /** Posted batches the main thread has not taken yet. */
  readonly inFlight: Int32Array;
}

/** Reader threads on one database, sharing [0] the next unit to claim and [1] a signal bumped on every post. */
export interface ReaderThreads {
  readonly path: string;
  readonly shared: Int32Array;
  readonly threads: readonly ReaderThread[];
}

/**
 * Starts `count` reader threads on the database at `path`. Each opens it
 * and starts its read snapshot as soon as it is up, then waits to be told
 * to read (or is sent away): starting them is the slow part, so it is done
 * as early as possible, even before the rest of panic-drift has loaded.
 */
export function startReaderThreads(path: string, count: number, immutable: boolean, filters: SourceFilters): ReaderThreads {
  const shared = new Int32Array(new SharedArrayBuffer(8));
  const threads: ReaderThread[] = [];
  for (let i = 0; i < count; i++) {
    const inFlight = new SharedArrayBuffer(4);
    const channel = new MessageChannel();
    const setup: WorkerSetup = { path, immutable, filters, inFlight, maxInFlight: MAX_IN_FLIGHT, shared: shared.buffer, data: channel.port2 };
    threads.push({ worker: startWorker(setup, [channel.port2]), data: channel.port1, inFlight: new Int32Array(inFlight) });
  }
  return { path, shared, threads };
}

export async function stopReaderThreads(readers: ReaderThreads): Promise<void> {
  for (const t of readers.threads) t.data.close();
  await Promise.all(readers.threads.map((t) => t.worker.terminate()));
}

/** A reader thread (see startThread for how it is found). */
function startWorker(setup: WorkerSetup, transferList: MessagePort[]): Worker {
  // A small young generation: readers make short-lived garbage at a high
  // rate, and a big nursery only holds more of it (measured: −60 MB peak RSS
  // on 200k rows, same speed).
  const options = { workerData: setup, transferList, resourceLimits: { maxYoungGenerationSizeMb: 4 } };
  return startThread(new URL("./scanWorker.js", import.meta.url), options);
}
