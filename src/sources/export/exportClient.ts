import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MessageChannel, receiveMessageOnPort, type Worker, type MessagePort } from "node:worker_threads";
import { PanicDriftError } from "../../common/errors.js";
import { startThread } from "../../common/startThread.js";
import { onInterrupt } from "../../common/interruptCleanup.js";
import { errorFromMessage } from "../../common/threadErrors.js";
import { taken, waitForSignal } from "../../common/threadSignal.js";
import type { SourceFilters } from "../sourceFilters.js";
import type { ExportReply, ExportWorkerSetup, FromExportWorker, ToExportWorker } from "./parquetExportProtocol.js";

/** The thread gives a sign of life every 250 ms while it works; this long a silence means it is gone. */
const STALL_MILLISECONDS = 60_000;

type Request = ToExportWorker extends infer T ? (T extends { id: number } ? Omit<T, "id"> : never) : never;

/**
 * The main thread's side of the DuckDB thread: synchronous requests, and
 * the messages of a scan, taken as they come.
 */
export class ExportClient {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  /** [0]: bumped by the thread on every post and every 250 ms; the next Int32 ([1]): its batches not taken yet. */
  private readonly signal: Int32Array;
  private readonly inFlight: Int32Array;
  private readonly tempDir: string;
  private readonly unregister: () => void;
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly dir: string,
    filters: SourceFilters,
  ) {
    const shared = new SharedArrayBuffer(8);
    this.signal = new Int32Array(shared, 0, 1);
    this.inFlight = new Int32Array(shared, 4, 1);
    this.tempDir = mkdtempSync(join(tmpdir(), "panic-drift-export-"));
    this.unregister = onInterrupt(() => { rmSync(this.tempDir, { recursive: true, force: true }); });
    const channel = new MessageChannel();
    this.port = channel.port1;
    const setup: ExportWorkerSetup = { dir, filters, tempDir: this.tempDir, signal: shared, port: channel.port2 };
    this.worker = startWorker(setup, [channel.port2]);
    // The thread never keeps the process alive: a run that stops early must still exit.
    this.worker.unref();
  }

  request<R extends Request>(request: R): ExportReply<R["type"]> {
    if (this.closed) throw new Error("the export's DuckDB thread is closed");
    const id = this.nextId++;
    this.port.postMessage({ ...request, id });
    for (;;) {
      const message = this.receive();
      if ("id" in message && message.id === id) {
        if (message.type === "error") throw errorFromMessage(message.error);
        return message.value as ExportReply<R["type"]>;
      }
      this.discard(message);
    }
  }

  /** The next message from the thread, waiting for it (synchronously). */
  receive(): FromExportWorker {
    const message = waitForSignal(
      this.signal,
      0,
      () => receiveMessageOnPort(this.port),
      STALL_MILLISECONDS,
      () => new PanicDriftError("EXPORT_UNREADABLE", `the DuckDB thread reading ${this.dir} stopped responding: rerun; if it persists, report it`),
    );
    return message.message as FromExportWorker;
  }

  /** A message of a scan given up: its batch no longer counts against the thread's allowance. */
  discard(message: FromExportWorker): void {
    if (message.type === "batch") this.taken();
  }

  /** One posted batch was taken. */
  taken(): void {
    taken(this.inFlight, 0);
  }

  close(): void {
    if (this.closed) return;
    try {
      this.request({ type: "close" });
    } catch {
      /* the thread is ended below anyway */
    }
    this.closed = true;
    this.port.close();
    void this.worker.terminate();
    rmSync(this.tempDir, { recursive: true, force: true });
    this.unregister();
  }
}

/** The export's DuckDB thread (see startThread for how it is found). */
function startWorker(setup: ExportWorkerSetup, transferList: MessagePort[]): Worker {
  const options = { workerData: setup, transferList };
  return startThread(new URL("./parquetExportWorker.js", import.meta.url), options);
}
