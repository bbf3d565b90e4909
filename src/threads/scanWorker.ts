/**
 * A parallel reader: opens its own read-only connection and starts its read
 * snapshot at once; told to go (its snapshot is the main thread's), it
 * claims units of the source one at a time (a shared counter), runs each
 * through the kernel and posts its drifted batches to the main thread,
 * which owns the sink.
 */
import { parentPort, workerData } from "node:worker_threads";
import { driftUnit, reuseFor } from "../stream/driftStream.js";
import { ReferencePairs } from "../frame/referencePairs.js";
import { BatchDrift } from "../kernel/batchDrift.js";
import { ReferenceResolver } from "../reference/referenceResolver.js";
import { openSource } from "../sources/openSource.js";
import type { DriftSource } from "../sources/driftSource.js";
import { toDriftedBatchTransfer } from "../frame/batchTransfer.js";
import { errorToMessage } from "../common/threadErrors.js";
import { bump } from "../common/threadSignal.js";
import type { DataMessage, ToWorker, WorkerSetup } from "./workerProtocol.js";

const setup = workerData as WorkerSetup;
const port = parentPort!;
const inFlight = new Int32Array(setup.inFlight);
const shared = new Int32Array(setup.shared);

/** Tells the main thread something happened (a post, or a batch read: a sign of life). */
function signal(): void {
  bump(shared, 1);
}

function postData(message: DataMessage, transfer: ArrayBuffer[] = []): void {
  setup.data.postMessage(message, transfer);
  signal();
}

function fail(error: unknown): void {
  postData({ type: "error", error: errorToMessage(error) });
}

/** Claims units and posts their drifted batches until none is left, then the tally. */
function read(source: DriftSource, go: ToWorker): void {
  const pairs = new ReferencePairs();
  const resolver = new ReferenceResolver(go.references);
  const kernel = new BatchDrift(pairs, (pair) => resolver.resolve(pair)?.vector, go.metric);
  const scan = { excludePrompts: new Set(go.excludePrompts), pairs, batchRows: go.batchRows, reuseVectors: reuseFor(go.reference) };
  // Every connection cuts the same snapshot into the same units.
  if (source.units(go.batchRows) !== go.units) throw new Error("reader threads disagree on the snapshot's units");
  for (let unit = Atomics.add(shared, 0, 1); unit < go.units; unit = Atomics.add(shared, 0, 1)) {
    for (const drifted of driftUnit(source, unit, kernel, scan, go.reference, signal)) {
      // Back-pressure: never more than maxInFlight batches waiting for the sink.
      while (Atomics.load(inFlight, 0) >= setup.maxInFlight) Atomics.wait(inFlight, 0, setup.maxInFlight, 1000);
      Atomics.add(inFlight, 0, 1);
      const { message: batch, transfer } = toDriftedBatchTransfer(drifted);
      postData({ type: "batch", unit, batch, progress: source.progress() }, transfer);
    }
    postData({ type: "unit", unit, progress: source.progress() });
  }
  postData({ type: "done", tally: kernel.tally, badTimestamps: source.badTimestamps, progress: source.progress() });
  source.close();
  port.close();
  setup.data.close();
}

try {
  const source = openSource(setup.path, { immutable: setup.immutable, filters: setup.filters });
  // The snapshot starts now; the main thread decides whether it is the one it reads.
  source.pin();
  postData({ type: "pinned", fingerprint: JSON.stringify(source.fingerprint) });
  // The one message a reader is sent is "go"; a thread not told to go is terminated.
  port.on("message", (go: ToWorker) => {
    try {
      read(source, go);
    } catch (error) {
      fail(error);
    }
  });
} catch (error) {
  fail(error);
}
