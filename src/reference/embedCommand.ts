/**
 * An Embedder that runs the user's own command once per run and talks to it
 * over pipes. For each batch it writes one request line to the command's
 * stdin and reads one answer line from its stdout:
 *
 *   → {"model": "<panic-tda model name>", "texts": ["…", …]}
 *   ← {"vectors": [[…], …]}
 *
 * The command is someone else's program, so every answer is checked before a
 * vector leaves this file, and every way it can go wrong (not found, crash,
 * silence, a malformed answer) ends in one PanicDriftError that names the
 * command, the model and the texts concerned.
 */
import { spawn } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { constants } from "node:os";

import { PanicDriftError, usageError } from "../common/errors.js";
import { onInterrupt } from "../common/interruptCleanup.js";
import type { Embedder } from "./embedder.js";
import { describeValue, oneLine, preview } from "./messageText.js";
import { firstLine } from "../common/text.js";
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
/** Once the shell has exited, how long its output may take to drain (a child it left behind can hold the pipes). */
const DRAIN_MS = 1_000;
/** How much of the command's stderr is kept for messages. */
const STDERR_TAIL_CHARS = 2_048;
const MAX_QUOTED_CHARS = 200;
const MAX_TEXT_CHARS = 60;
/**
 * The command runs in its own process group so that a kill reaches what the
 * shell started too: /bin/sh (dash) does not exec the last command, so
 * killing the shell alone would leave the user's tool running.
 */
const PROCESS_GROUPS = process.platform !== "win32";

const ANSWER_FIX =
  'answer each request line with one line {"vectors": [[...], ...]} holding one array of finite numbers per text, ' +
  "in order, and print diagnostics to stderr";

const STOPPED_ON_PURPOSE = "nothing to do if the run was stopped on purpose";

/** One request: a slice of the texts of one embed() call. */
interface Batch {
  model: string;
  texts: readonly string[];
  /** Index of the batch's first text within the embed() call. */
  offset: number;
  total: number;
}

interface Pending {
  batch: Batch;
  resolve(vectors: Float64Array[]): void;
  reject(err: PanicDriftError): void;
  timer: NodeJS.Timeout;
}

interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

type Checked = { vectors: Float64Array[]; dimension: number } | { problem: string; fix: string };

export class CommandEmbedder implements Embedder {
  readonly source: string;
  private readonly command: string;
  private readonly batchSize: number;
  private readonly timeoutMs: number;
  private readonly closeGraceMs: number;
  /** First dimension seen per panic-tda model, so later answers must match it. */
  private readonly dimensions = new Map<string, number>();

  private child: ChildProcessWithoutNullStreams | undefined;
  /** Resolves once the command has exited and its output has drained. */
  private gone: Promise<void> = Promise.resolve();
  private isGone = false;
  private exitStatus: ExitStatus | undefined;
  /** Set once we have signalled the command; it is not to be trusted after that. */
  private stopping = false;
  private killTimer: NodeJS.Timeout | undefined;
  /** Unregisters the last-resort SIGKILL of the command's process group (see start). */
  private forgetGroup: () => void = () => undefined;
  private drainTimer: NodeJS.Timeout | undefined;
  private stdinTimer: NodeJS.Timeout | undefined;
  /** Stdout since the last newline. */
  private partialLine: string[] = [];
  private stderrTail = "";
  private pending: Pending | undefined;
  private lastBatch: Batch | undefined;
  /** The first failure: every later call reports it again and the command is not asked anything more. */
  private failure: PanicDriftError | undefined;
  /** Whether a caller has seen `failure`; if not, close() throws it. */
  private failureReported = false;
  /** Concurrent embed() calls wait here: the command answers one request at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  private closing: Promise<void> | undefined;
  /** close() had to kill a command that did not exit at the end of its stdin; its exit status is ours, not its own. */
  private killedAtClose = false;

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
      return Promise.reject(failure(this.command, batchWhere(batch), problem, STOPPED_ON_PURPOSE));
    }
    this.lastBatch = batch;
    const child = this.child ?? this.start(batch);
    if (this.failure !== undefined || child === undefined) return Promise.reject(this.report());
    if (this.isGone) {
      // It answered everything so far and then exited on its own.
      this.fail(batch, `${this.exitProblem()} before answering`, this.exitFix());
      return Promise.reject(this.report());
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.onTimeout(); }, this.timeoutMs);
      this.pending = { batch, resolve, reject, timer };
      child.stdin.write(requestLine(batch));
    });
  }

  private start(batch: Batch): ChildProcessWithoutNullStreams | undefined {
    let child: ChildProcessWithoutNullStreams;
    try {
      child = spawn(this.command, { shell: true, stdio: "pipe", detached: PROCESS_GROUPS, windowsHide: true });
    } catch (err) {
      this.fail(batch, `it could not be started (${firstLine(err)})`, "check the command", err);
      return undefined;
    }
    this.child = child;
    // Should the process have to end at once (a second Ctrl-C), the command and what it started go with it.
    this.forgetGroup = onInterrupt(() => { this.signal(child, "SIGKILL"); });
    let markGone: () => void = () => undefined;
    this.gone = new Promise((resolve) => {
      markGone = resolve;
    });
    const onGone = (): void => {
      if (this.isGone) return;
      this.isGone = true;
      // Stopped, the shell may be gone while what it started lives on (it ignores SIGTERM): that still gets its SIGKILL.
      if (!(this.stopping && this.groupAlive(child))) {
        clearTimeout(this.killTimer);
        this.forgetGroup();
      }
      clearTimeout(this.drainTimer);
      clearTimeout(this.stdinTimer);
      // A child the shell left behind may still hold the pipes; nothing more is read from them.
      child.stdin.destroy();
      child.stdout.destroy();
      child.stderr.destroy();
      const pending = this.pending;
      if (pending !== undefined && this.failure === undefined) {
        this.fail(pending.batch, `${this.exitProblem()} before answering${this.unterminatedNote()}`, this.exitFix());
      }
      markGone();
    };

    let spawned = false;
    child.on("spawn", () => {
      spawned = true;
    });
    child.on("error", (err) => {
      if (spawned) return; // a signal could not be delivered: the exit, or the timeout, still comes
      this.fail(this.pending?.batch ?? batch, `it could not be started (${firstLine(err)})`, "check the command", err);
      onGone();
    });
    child.on("exit", (code, signal) => {
      this.exitStatus = { code, signal };
      this.drainTimer = setTimeout(onGone, DRAIN_MS);
    });
    child.on("close", (code, signal) => {
      this.exitStatus ??= { code, signal };
      onGone();
    });

    // EPIPE: the command no longer reads its stdin, almost always because it
    // exited, and the exit says more. One that lives on is reported here.
    child.stdin.on("error", (err) => {
      if (this.stdinTimer !== undefined || this.isGone) return;
      this.stdinTimer = setTimeout(() => {
        if (this.exitStatus !== undefined || this.failure !== undefined) return;
        this.fail(
          this.pending?.batch ?? this.lastBatch,
          `it stopped reading its stdin (${errorCode(err)})`,
          "it must read request lines until its stdin closes",
        );
      }, DRAIN_MS);
    });
    child.stdout.on("error", () => undefined);
    child.stderr.on("error", () => undefined);

    // setEncoding keeps a character split across chunks whole.
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => { this.onStdout(chunk); });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
    });
    return child;
  }

  // -------------------------------------------------------------------------
  // Answers

  private onStdout(chunk: string): void {
    let start = 0;
    for (let newline = chunk.indexOf("\n"); newline >= 0; newline = chunk.indexOf("\n", start)) {
      this.partialLine.push(chunk.slice(start, newline));
      const line = this.partialLine.join("");
      this.partialLine = [];
      start = newline + 1;
      this.onLine(line);
    }
    if (start < chunk.length) this.partialLine.push(chunk.slice(start));
  }

  private onLine(raw: string): void {
    if (this.failure !== undefined) return;
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
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
    const checked = this.check(pending.batch, line);
    if ("problem" in checked) {
      this.fail(pending.batch, checked.problem, checked.fix);
      return;
    }
    this.pending = undefined;
    clearTimeout(pending.timer);
    this.dimensions.set(pending.batch.model, checked.dimension);
    pending.resolve(checked.vectors);
  }

  private check(batch: Batch, line: string): Checked {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      // Python's json.dumps writes NaN and Infinity, which JSON does not have.
      if (/(^|[\s,[:])-?(NaN|Infinity)(?=[\s,\]}]|$)/.test(line)) {
        return {
          problem: `it answered NaN or Infinity (${preview(line, MAX_TEXT_CHARS)}), which are not finite numbers`,
          fix: "check the model's output for these texts; every vector must hold finite numbers",
        };
      }
      return { problem: `it answered ${preview(line, MAX_TEXT_CHARS)}, which is not JSON`, fix: ANSWER_FIX };
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      return { problem: `it answered ${describeValue(parsed)}, not a JSON object`, fix: ANSWER_FIX };
    }
    const record = parsed as Record<string, unknown>;
    const answer = record["vectors"];
    if (!Array.isArray(answer)) {
      const error = record["error"];
      const problem =
        typeof error === "string" && error !== ""
          ? `it answered the error ${preview(oneLine(error), MAX_QUOTED_CHARS)}`
          : answer === undefined
            ? `it answered ${preview(line, MAX_TEXT_CHARS)}, which has no "vectors"`
            : `its answer's "vectors" is ${describeValue(answer)}, not an array`;
      return { problem, fix: ANSWER_FIX };
    }
    const { texts } = batch;
    if (answer.length !== texts.length) {
      const got = `${answer.length} vector${answer.length === 1 ? "" : "s"}`;
      return { problem: `it answered ${got} for ${texts.length} text${texts.length === 1 ? "" : "s"}`, fix: ANSWER_FIX };
    }

    const vectors: Float64Array[] = [];
    for (const [i, vector] of answer.entries()) {
      const where = `vectors[${i}] (for text ${preview(texts[i] ?? "", MAX_TEXT_CHARS)})`;
      if (!Array.isArray(vector)) {
        return { problem: `${where} is ${describeValue(vector)}, not an array of numbers`, fix: ANSWER_FIX };
      }
      if (vector.length === 0) return { problem: `${where} is empty`, fix: ANSWER_FIX };
      const values = new Float64Array(vector.length);
      for (const [j, x] of vector.entries()) {
        if (typeof x !== "number") {
          return { problem: `${where}[${j}] is ${describeValue(x)}, not a number`, fix: ANSWER_FIX };
        }
        // JSON turns 1e400 into Infinity.
        if (!Number.isFinite(x)) return { problem: `${where}[${j}] is ${x}, not a finite number`, fix: ANSWER_FIX };
        values[j] = x;
      }
      vectors.push(values);
    }

    const known = this.dimensions.get(batch.model);
    const dimension = known ?? vectors[0]?.length ?? 0;
    const odd = vectors.findIndex((v) => v.length !== dimension);
    if (odd >= 0) {
      const other = known === undefined ? "vectors[0] has" : "earlier answers for this model have";
      return {
        problem:
          `vectors[${odd}] (for text ${preview(texts[odd] ?? "", MAX_TEXT_CHARS)}) has dimension ` +
          `${vectors[odd]?.length} but ${other} dimension ${dimension}`,
        fix: "every vector of one model must have the same dimension; check that the command serves one model per name",
      };
    }
    return { vectors, dimension };
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

  // -------------------------------------------------------------------------
  // Ending

  private async shutDown(now: boolean): Promise<void> {
    const child = this.child;
    if (child === undefined) return; // never started
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
    if (now && this.failure === undefined && !this.isGone) {
      // Interrupted: no goodbye through stdin; its exit status says nothing about its answers.
      this.killedAtClose = true;
      this.stop(INTERRUPT_GRACE_MS);
      await this.gone;
    } else if (this.failure === undefined && !this.isGone) {
      // End of input is the command's cue to exit.
      child.stdin.end();
      const timer = setTimeout(() => {
        this.killedAtClose = true;
        this.stop();
      }, this.closeGraceMs);
      await this.gone;
      clearTimeout(timer);
    } else {
      this.stop();
      await this.gone;
    }

    if (this.failure !== undefined) {
      if (!this.failureReported) throw this.report();
      return;
    }
    const status = this.exitStatus;
    if (this.killedAtClose || status === undefined || (status.code === 0 && status.signal === null)) return;
    // Every request was answered, but the command says it failed: its answers are not to be trusted.
    const last = this.lastBatch;
    const where = last === undefined ? "" : ` after its last answer (${batchWhere(last).trimStart()})`;
    this.failure = failure(this.command, where, this.exitProblem() + this.stderrNote(), this.exitFix());
    throw this.report();
  }

  /** Records the first failure, kills the command and rejects the pending request with it. */
  private fail(batch: Batch | undefined, problem: string, fix: string, cause?: unknown, graceMs = this.closeGraceMs): void {
    if (this.failure === undefined) {
      const where = batch === undefined ? "" : batchWhere(batch);
      this.failure = failure(this.command, where, problem + this.stderrNote(), fix, cause);
      this.stop(graceMs);
    }
    const pending = this.pending;
    if (pending === undefined) return;
    this.pending = undefined;
    clearTimeout(pending.timer);
    pending.reject(this.report());
  }

  private report(): PanicDriftError {
    this.failureReported = true;
    // Only called once a failure is recorded.
    return this.failure as PanicDriftError;
  }

  /** SIGTERM to the command's process group, then SIGKILL if it is still there after `graceMs`. */
  private stop(graceMs = this.closeGraceMs): void {
    const child = this.child;
    if (child === undefined || this.isGone || this.stopping) return;
    this.stopping = true;
    // A child the shell started that ignores signals still sees the end of its input.
    child.stdin.destroy();
    this.signal(child, "SIGTERM");
    this.killTimer = setTimeout(() => {
      this.signal(child, "SIGKILL");
      this.forgetGroup();
    }, graceMs);
  }

  /** Whether a process of the command's group is still there (never true without process groups). */
  private groupAlive(child: ChildProcessWithoutNullStreams): boolean {
    if (!PROCESS_GROUPS || child.pid === undefined) return false;
    try {
      process.kill(-child.pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  private signal(child: ChildProcessWithoutNullStreams, signal: NodeJS.Signals): void {
    if (PROCESS_GROUPS && child.pid !== undefined) {
      try {
        process.kill(-child.pid, signal);
        return;
      } catch {
        // The group is gone already: only the shell's own exit may still be pending.
      }
    }
    child.kill(signal);
  }

  // -------------------------------------------------------------------------
  // Messages

  private exitProblem(): string {
    const status = this.exitStatus;
    if (status?.signal) return `it was killed by ${status.signal}`;
    const code = status?.code;
    if (code === null || code === undefined) return "it exited";
    // The shell reports a program killed by signal N as exit code 128 + N.
    const signal = code > 128 ? signalName(code - 128) : undefined;
    return signal === undefined ? `it exited with code ${code}` : `it exited with code ${code} (killed by ${signal})`;
  }

  private exitFix(): string {
    const code = this.exitStatus?.code;
    if (code === 127) return "the shell found no such program; check the command's spelling and your PATH";
    if (code === 126) return "the shell could not run the program; check that it is executable";
    if (code === 0) return "the command must answer every request line and exit only when its stdin closes";
    return "run the command by hand with a request line on its stdin to see why it fails";
  }

  /** What the command printed without a final newline, which is never read as an answer. */
  private unterminatedNote(): string {
    const rest = this.partialLine.join("");
    if (rest.trim() === "") return "";
    return ` (its stdout ends with ${preview(rest, MAX_TEXT_CHARS)} and no newline)`;
  }

  /** The last line the command wrote to stderr, where its own diagnostics go. */
  private stderrNote(): string {
    const lines = stripAnsi(this.stderrTail)
      .split(/\r\n|\r|\n/)
      .map((l) => l.trim())
      .filter((l) => l !== "");
    const last = lines.at(-1);
    return last === undefined ? "" : `; its stderr ends with ${preview(last, MAX_QUOTED_CHARS)}`;
  }
}

// ---------------------------------------------------------------------------
// Helpers

/**
 * One line of ASCII JSON, so that a command whose stdin is not read as UTF-8
 * (a Windows pipe, a C locale) still gets every character.
 */
function requestLine(batch: Batch): string {
  const json = JSON.stringify({ model: batch.model, texts: batch.texts });
  // Non-ASCII appears only inside strings, where \uXXXX means the same; it
  // also covers U+2028 and U+2029, which some readers take for line ends.
  return json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`) + "\n";
}

/** ` for model "m", texts starting with "…"` naming the batch of a message. */
function batchWhere(batch: Batch): string {
  const { model, texts, offset, total } = batch;
  const first = preview(texts[0] ?? "", MAX_TEXT_CHARS);
  const which =
    total === texts.length
      ? `texts starting with ${first}`
      : `texts ${offset + 1}-${offset + texts.length} of ${total}, starting with ${first}`;
  return ` for model ${JSON.stringify(model)}, ${which}`;
}

function failure(command: string, where: string, problem: string, fix: string, cause?: unknown): PanicDriftError {
  return new PanicDriftError(
    "EMBED_COMMAND_FAILED",
    `embedding command ${preview(command, MAX_QUOTED_CHARS)} failed${where}: ${problem}: ${fix}`,
    cause === undefined ? undefined : { cause },
  );
}

function signalName(n: number): string | undefined {
  return Object.entries(constants.signals).find(([, value]) => value === n)?.[0];
}

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException | undefined)?.code ?? firstLine(err);
}

function stripAnsi(text: string): string {
  return text.replace(/\u001b\[[0-9;?]*[ -/]*[@-~]/g, "");
}

