/**
 * A parallel reader: opens its own read-only connection, pins a snapshot
 * when told, then reads one rowid range through source and kernel and posts
 * each drifted batch to the main thread, which owns the sink.
 */
import { parentPort, workerData } from "node:worker_threads";
import { ReferencePairs } from "../frame/referencePairs.js";
import { BatchDrift } from "../kernel/batchDrift.js";
import { ReferenceResolver } from "../reference/referenceResolver.js";
import { openSource } from "../sources/openSource.js";
import { toBatchMessage } from "./batchMessage.js";
import type { ToWorker, FromWorker, WorkerSetup } from "./workerProtocol.js";

const setup = workerData as WorkerSetup;
const port = parentPort!;
const post = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
const inFlight = new Int32Array(setup.inFlight);

function fail(error: unknown): void {
  const e = error as { code?: string; message?: string; stack?: string };
  post({ type: "error", code: e.code, message: e.message ?? String(error), stack: e.stack });
}

try {
  const source = openSource(setup.path);
  post({ type: "ready" });
  port.on("message", (message: ToWorker) => {
    try {
      if (message.type === "pin") {
        source.release();
        source.pin();
        post({ type: "pinned" });
      } else if (message.type === "go") {
        const pairs = new ReferencePairs();
        const resolver = new ReferenceResolver(setup.fileVectors);
        const kernel = new BatchDrift(pairs, (pair) => resolver.resolve(pair)?.vector, setup.metric);
        // The kernel is done with a batch's vectors (which never leave this thread) before the next.
        const options = { excludePrompts: new Set(setup.excludePrompts), pairs, batchRows: setup.batchRows, reuseVectors: true };
        for (const batch of source.scan(options, message.range)) {
          const drifted = { batch, drift: kernel.run(batch) };
          // Back-pressure: never more than maxInFlight batches waiting for the sink.
          while (Atomics.load(inFlight, 0) >= setup.maxInFlight) Atomics.wait(inFlight, 0, setup.maxInFlight, 1000);
          Atomics.add(inFlight, 0, 1);
          const { message: batchMessage, transfer } = toBatchMessage(drifted);
          post({ type: "batch", batch: batchMessage, progress: source.progress() }, transfer);
        }
        post({ type: "done", tally: kernel.tally, warnings: [...source.warnings], progress: source.progress() });
        source.close();
        port.close();
      }
    } catch (error) {
      fail(error);
    }
  });
} catch (error) {
  fail(error);
}
