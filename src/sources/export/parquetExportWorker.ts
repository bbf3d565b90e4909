/**
 * The DuckDB thread of a parquet export source (see parquetExport.ts). It
 * owns the DuckDB instance that reads the export's files, answers the main
 * thread's requests one at a time, and for a scan streams source batches
 * (vectors included, moved, not copied) unit by unit in the output's run
 * order. Vectors go from DuckDB's list vectors into the batches as bytes:
 * no number is ever a JavaScript value on the way.
 */
import { workerData } from "node:worker_threads";
import { errorToMessage } from "../../common/threadErrors.js";
import { bump } from "../../common/threadSignal.js";
import { ExportReader } from "./exportReader.js";
import type { ExportWorkerSetup, FromExportWorker, ToExportWorker } from "./parquetExportProtocol.js";

const setup = workerData as ExportWorkerSetup;
const signal = new Int32Array(setup.signal);

/** Tells the main thread something happened (a post, or a sign of life). */
function signalPost(): void {
  bump(signal, 0);
}

function post(message: FromExportWorker, transfer: ArrayBuffer[] = []): void {
  setup.port.postMessage(message, transfer);
  signalPost();
}

const reader = new ExportReader(setup.dir, setup.filters, setup.tempDir, post, new Int32Array(setup.signal, 4, 1));
// A sign of life while DuckDB works (the main thread waits synchronously and would otherwise take silence for death).
const heartbeat = setInterval(signalPost, 250);
let queue: Promise<void> = Promise.resolve();

setup.port.on("message", (message: ToExportWorker) => {
  if (message.type === "cancel") {
    reader.cancelled.add(message.scanId);
    post({ id: message.id, type: "reply", value: null });
    return;
  }
  queue = queue.then(async () => {
    try {
      switch (message.type) {
        case "check":
          await reader.check();
          post({ id: message.id, type: "reply", value: null });
          break;
        case "pin":
          post({ id: message.id, type: "reply", value: await reader.pin() });
          break;
        case "pairCounts":
          post({ id: message.id, type: "reply", value: await reader.pairCounts(message.excludedRuns) });
          break;
        case "scan":
          // Answered at once; the batches follow, then an end or an error of this scan.
          post({ id: message.id, type: "reply", value: null });
          try {
            await reader.scan(message.scan);
          } catch (error) {
            post({ type: "scanError", scanId: message.scan.scanId, error: errorToMessage(error) });
          }
          break;
        case "close":
          reader.close();
          clearInterval(heartbeat);
          post({ id: message.id, type: "reply", value: null });
          setup.port.close();
          break;
      }
    } catch (error) {
      post({ id: message.id, type: "error", error: errorToMessage(error) });
    }
  });
});
