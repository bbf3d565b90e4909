/**
 * An Embedder that runs the user's own command once per run and talks to it
 * over pipes. For each batch it writes one request line to the command's
 * stdin and reads one answer line from its stdout (see commandReply.ts for
 * the protocol, commandProcess.ts for the process).
 *
 * The command is someone else's program, so every answer is checked before a
 * vector leaves this file, and every way it can go wrong (not found, crash,
 * silence, a malformed answer) ends in one PanicDriftError that names the
 * command, the model and the texts concerned.
 */
import { setTimeout as delay } from "node:timers/promises";

import { type PanicDriftError, usageError } from "../common/errors.js";
import { firstLine } from "../common/text.js";
import {
  type Batch,
  batchWhere,
  checkAnswer,
  commandFailure,
  errorCode,
  exitFix,
  exitProblem,
  MAX_TEXT_CHARS,
  requestLine,
  stderrNote,
  unterminatedNote,
} from "./commandReply.js";
import { CommandProcess } from "./commandProcess.js";
import type { Embedder } from "./embedder.js";
import { preview } from "./messageText.js";
import { checkNumber } from "./optionChecks.js";

export interface CommandEmbedderOptions {
  /** Texts per request line (default 64). */
  batchSize?: number;
  /** How long the command may take to answer one request (default 300000); it is killed then. */
  timeoutMs?: number;
  /**
   * How long close() gives the command to exit once its stdin is closed, and
   * a stopped command to die of SIGTERM before SIGKILL (default 5000).
   */
  closeGraceMs?: number;
}

const DEFAULT_BATCH_SIZE = 64;
const DEFAULT_TIMEOUT_MS = 300_000;
const DEFAULT_CLOSE_GRACE_MS = 5_000;
/** close({ now: true }): how long the command has to die of SIGTERM before SIGKILL. */
const INTERRUPT_GRACE_MS = 500;

const STOPPED_ON_PURPOSE = "nothing to do if the run was stopped on purpose";

/** The request the command is working on. */
interface Pending {
  batch: Batch;
  resolve(vectors: Float64Array[]): void;
  reject(err: PanicDriftError): void;
  /** Aborted once the request is settled, which ends its time limit. */
  settled: AbortController;
}

export class CommandEmbedder implements Embedder {
  readonly source: string;
  private readonly command: string;
  private readonly batchSize: number;
  private readonly timeoutMs: number;
  private readonly closeGraceMs: number;
  /** First dimension seen per panic-tda model, so later answers must match it. */
  private readonly dimensions = new Map<string, number>();

  private running: CommandProcess | undefined;
  private pending: Pending | undefined;
  private lastBatch: Batch | undefined;
  /** The first failure: every later call reports it again and the command is not asked anything more. */
  private failure: PanicDriftError | undefined;
  /** Whether a caller has seen `failure`; if not, close() throws it. */
  private failureReported = false;
  /** Concurrent embed() calls wait here: the command answers one request at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  private closing: Promise<void> | undefined;

  constructor(command: string, options: CommandEmbedderOptions = {}) {
    if (command.trim() === "") {
      throw usageError('The embedding command is empty; pass a shell command such as "python embed.py".');
    }
    this.command = command;
    this.source = `cmd:${command}`;
    this.batchSize = checkNumber("embedding command", "batchSize", options.batchSize ?? DEFAULT_BATCH_SIZE, 1, true);
    this.timeoutMs = checkNumber("embedding command", "timeoutMs", options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 1, false);
    this.closeGraceMs = checkNumber("embedding command", "closeGraceMs", options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS, 0, false);
  }

  embed(model: string, texts: readonly string[]): Promise<Float64Array[]> {
    // Using a closed embedder is a bug in the caller, not a problem with the command.
    if (this.closing !== undefined) return Promise.reject(new Error("CommandEmbedder.embed() called after close()"));
    const run = this.queue.then(() => this.embedAll(model, texts));
    this.queue = run.catch(() => undefined);
    return run;
  }

  close(options: { now?: boolean } = {}): Promise<void> {
    this.closing ??= this.shutDown(options.now === true);
    return this.closing;
  }

  // -------------------------------------------------------------------------
  // Requests

  private async embedAll(model: string, texts: readonly string[]): Promise<Float64Array[]> {
    if (this.failure !== undefined) throw this.report();
    const out: Float64Array[] = [];
    for (let offset = 0; offset < texts.length; offset += this.batchSize) {
      const batch: Batch = { model, texts: texts.slice(offset, offset + this.batchSize), offset, total: texts.length };
      out.push(...(await this.embedBatch(batch)));
    }
    return out;
  }

  private embedBatch(batch: Batch): Promise<Float64Array[]> {
    if (this.failure !== undefined) return Promise.reject(this.report());
    if (this.closing !== undefined) {
      const problem = "the embedder was closed before these texts were sent";
      return Promise.reject(commandFailure(this.command, batchWhere(batch), problem, STOPPED_ON_PURPOSE));
    }
    this.lastBatch = batch;
    const running = this.running ?? this.start(batch);
    if (running === undefined) return Promise.reject(this.report());
    if (running.isGone) {
      // It answered everything so far and then exited on its own.
      this.fail(batch, `${exitProblem(running.exitStatus)} before answering`, exitFix(running.exitStatus));
      return Promise.reject(this.report());
    }
    return new Promise((resolve, reject) => {
      const settled = new AbortController();
      this.pending = { batch, resolve, reject, settled };
      delay(this.timeoutMs, undefined, { signal: settled.signal }).then(() => { this.onTimeout(); }, () => undefined);
      running.write(requestLine(batch));
    });
  }

  /** Starts the command, or records why it could not be. */
  private start(batch: Batch): CommandProcess | undefined {
    try {
      this.running = new CommandProcess(this.command, {
        line: (line) => { this.onLine(line); },
        startError: (err) => {
          this.fail(this.pending?.batch ?? batch, `it could not be started (${firstLine(err)})`, "check the command", err);
        },
        stdinClosed: (err) => {
          if (this.failure !== undefined) return;
          this.fail(
            this.pending?.batch ?? this.lastBatch,
            `it stopped reading its stdin (${errorCode(err)})`,
            "it must read request lines until its stdin closes",
          );
        },
        gone: () => { this.onGone(); },
      });
    } catch (err) {
      this.fail(batch, `it could not be started (${firstLine(err)})`, "check the command", err);
      return undefined;
    }
    return this.running;
  }

  private onLine(line: string): void {
    if (this.failure !== undefined) return;
    // A blank line answers nothing (print(json + "\n") in Python writes one after each answer).
    if (line.trim() === "") return;
    const pending = this.pending;
    if (pending === undefined) {
      this.fail(
        this.lastBatch,
        `it printed a line that answers no request (${preview(line, MAX_TEXT_CHARS)})`,
        "print exactly one line per request to stdout, and diagnostics to stderr",
      );
      return;
    }
    const checked = checkAnswer(pending.batch, line, this.dimensions.get(pending.batch.model));
    if ("problem" in checked) {
      this.fail(pending.batch, checked.problem, checked.fix);
      return;
    }
    this.settle();
    this.dimensions.set(pending.batch.model, checked.dimension);
    pending.resolve(checked.vectors);
  }

  private onTimeout(): void {
    const pending = this.pending;
    if (pending === undefined || this.failure !== undefined) return;
    this.fail(
      pending.batch,
      `no answer within ${this.timeoutMs} ms, so it was stopped${this.unterminatedNote()}`,
      "check that it flushes stdout after each answer line (in Python, print(..., flush=True)), " +
        "or allow more time or send smaller batches if it is just slow",
    );
  }

  private onGone(): void {
    const pending = this.pending;
    if (pending === undefined || this.failure !== undefined) return;
    const status = this.running?.exitStatus;
    this.fail(pending.batch, `${exitProblem(status)} before answering${this.unterminatedNote()}`, exitFix(status));
  }

  // -------------------------------------------------------------------------
  // Ending

  private async shutDown(now: boolean): Promise<void> {
    const running = this.running;
    if (running === undefined) return; // never started
    const pending = this.pending;
    if (pending !== undefined && this.failure === undefined) {
      // Its caller learns of it; close() itself has nothing to report.
      this.fail(
        pending.batch,
        "the embedder was closed while the command was working on these texts",
        STOPPED_ON_PURPOSE,
        undefined,
        now ? INTERRUPT_GRACE_MS : this.closeGraceMs,
      );
    }
    // Whether close() had to kill a command still running: its exit status is then ours, not its own.
    let killedAtClose = false;
    if (this.failure === undefined && !running.isGone) {
      if (now) {
        // Interrupted: no goodbye through stdin; its exit status says nothing about its answers.
        killedAtClose = true;
        running.stop(INTERRUPT_GRACE_MS);
      } else {
        // End of input is the command's cue to exit.
        running.endInput();
        if (!(await running.goneWithin(this.closeGraceMs))) {
          killedAtClose = true;
          running.stop(this.closeGraceMs);
        }
      }
    } else {
      running.stop(this.closeGraceMs);
    }
    await running.gone;

    if (this.failure !== undefined) {
      if (!this.failureReported) throw this.report();
      return;
    }
    const status = running.exitStatus;
    if (killedAtClose || status === undefined || (status.code === 0 && status.signal === null)) return;
    // Every request was answered, but the command says it failed: its answers are not to be trusted.
    const last = this.lastBatch;
    const where = last === undefined ? "" : ` after its last answer (${batchWhere(last).trimStart()})`;
    this.failure = commandFailure(this.command, where, exitProblem(status) + this.stderrNote(), exitFix(status));
    throw this.report();
  }

  /** Records the first failure, stops the command and rejects the pending request with it. */
  private fail(batch: Batch | undefined, problem: string, fix: string, cause?: unknown, graceMs = this.closeGraceMs): void {
    if (this.failure === undefined) {
      const where = batch === undefined ? "" : batchWhere(batch);
      this.failure = commandFailure(this.command, where, problem + this.stderrNote(), fix, cause);
      this.running?.stop(graceMs);
    }
    const pending = this.settle();
    if (pending !== undefined) pending.reject(this.report());
  }

  /** Takes the pending request, ending its time limit. */
  private settle(): Pending | undefined {
    const pending = this.pending;
    this.pending = undefined;
    pending?.settled.abort();
    return pending;
  }

  private report(): PanicDriftError {
    this.failureReported = true;
    // Only called once a failure is recorded.
    return this.failure as PanicDriftError;
  }

  private unterminatedNote(): string {
    return unterminatedNote(this.running?.unterminated ?? "");
  }

  private stderrNote(): string {
    return stderrNote(this.running?.stderrTail ?? "");
  }
}
