/**
 * The user's embedding command as a process: started through the shell in a
 * process group of its own, its stdout read line by line, the end of its
 * stderr kept for messages, and stopped with SIGTERM to the whole group,
 * then SIGKILL if anything of it is still there after a grace period.
 */
import { spawn } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { createInterface, type Interface } from "node:readline";
import { setTimeout as delay } from "node:timers/promises";

import { onInterrupt } from "../common/interruptCleanup.js";

/** Once the shell has exited, how long its output may take to drain (a child it left behind can hold the pipes). */
const DRAIN_MS = 1_000;
/** How much of the command's stderr is kept for messages. */
const STDERR_TAIL_CHARS = 2_048;
/**
 * The command runs in its own process group so that a kill reaches what the
 * shell started too: /bin/sh (dash) does not exec the last command, so
 * killing the shell alone would leave the user's tool running. (This is why
 * spawn's own `signal`/`killSignal`, which signal the shell alone, are not used.)
 */
const PROCESS_GROUPS = process.platform !== "win32";

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** What the process tells its owner; each is called synchronously, from an event of the child. */
interface CommandEvents {
  /** A whole line of stdout, without its line end. */
  line(line: string): void;
  /** The command could not be started; `gone` follows. */
  startError(err: Error): void;
  /** The command stopped reading its stdin, and has not exited a while later. */
  stdinClosed(err: unknown): void;
  /** The command has exited and its output has drained (or it never started): `isGone` is true by now. */
  gone(): void;
}

const ignore = (): void => undefined;

export class CommandProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: Interface;
  /** Aborted once the command is gone: ends the waits (output drain, stdin check) that were for it. */
  private readonly ended = new AbortController();
  /** Aborted once nothing of the command's process group is left, so nothing is to be SIGKILLed. */
  private readonly groupEnded = new AbortController();
  /** Resolves once the command is gone. */
  readonly gone: Promise<void>;
  private status: ExitStatus | undefined;
  /** Set once it has been signalled; it is not to be trusted after that. */
  private stopping = false;
  private stdinFailed = false;
  private stdoutEnded = false;
  /** Stdout after its last line end. */
  private rest = "";
  private stderr = "";
  /** Unregisters the last-resort SIGKILL of the command's process group. */
  private readonly forgetGroup: () => void;

  /** Starts `command`; throws if it cannot even be spawned. */
  constructor(command: string, private readonly events: CommandEvents) {
    const child = spawn(command, { shell: true, stdio: "pipe", detached: PROCESS_GROUPS, windowsHide: true });
    this.child = child;
    this.gone = once(this.ended.signal, "abort").then(ignore);
    // Should the process have to end at once (a second Ctrl-C), the command and what it started go with it.
    this.forgetGroup = onInterrupt(() => { this.kill("SIGKILL"); });

    let spawned = false;
    child.on("spawn", () => {
      spawned = true;
    });
    child.on("error", (err) => {
      if (spawned) return; // a signal could not be delivered: the exit, or the timeout, still comes
      events.startError(err);
      this.end();
    });
    child.on("exit", (code, signal) => {
      this.status = { code, signal };
      delay(DRAIN_MS, undefined, { signal: this.ended.signal }).then(() => { this.end(); }, ignore);
    });
    child.on("close", (code, signal) => {
      this.status ??= { code, signal };
      this.end();
    });

    // EPIPE: the command no longer reads its stdin, almost always because it
    // exited, and the exit says more. One that lives on is reported.
    child.stdin.on("error", (err) => {
      if (this.stdinFailed || this.isGone) return;
      this.stdinFailed = true;
      delay(DRAIN_MS, undefined, { signal: this.ended.signal }).then(() => {
        if (this.status === undefined) events.stdinClosed(err);
      }, ignore);
    });
    child.stdout.on("error", ignore);
    child.stderr.on("error", ignore);

    // setEncoding keeps a character split across chunks whole, for readline and for `rest` alike.
    child.stdout.setEncoding("utf8");
    // At the end of its input readline hands over what follows the last line
    // end as one more line; that is no answer, so this listener, registered
    // before readline's own, marks it.
    child.stdout.once("end", () => {
      this.stdoutEnded = true;
    });
    child.stdout.on("data", (chunk: string) => {
      const lineEnd = Math.max(chunk.lastIndexOf("\n"), chunk.lastIndexOf("\r"));
      this.rest = lineEnd < 0 ? this.rest + chunk : chunk.slice(lineEnd + 1);
    });
    this.lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
    this.lines.on("error", ignore);
    this.lines.on("line", (line) => {
      if (!this.stdoutEnded) events.line(line);
    });

    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-STDERR_TAIL_CHARS);
    });
  }

  /** Whether the command has exited and its output has drained, or never started. */
  get isGone(): boolean {
    return this.ended.signal.aborted;
  }

  get exitStatus(): ExitStatus | undefined {
    return this.status;
  }

  /** What it printed after its last line end. */
  get unterminated(): string {
    return this.rest;
  }

  /** The end of what it wrote to stderr. */
  get stderrTail(): string {
    return this.stderr;
  }

  write(text: string): void {
    this.child.stdin.write(text);
  }

  /** Closes its stdin, the command's cue to exit. */
  endInput(): void {
    this.child.stdin.end();
  }

  /** Whether it is gone within `ms`. */
  async goneWithin(ms: number): Promise<boolean> {
    const waited = new AbortController();
    try {
      return await Promise.race([this.gone.then(() => true), delay(ms, false, { signal: waited.signal })]);
    } finally {
      waited.abort();
    }
  }

  /** SIGTERM to the command's process group, then SIGKILL if anything of it is still there after `graceMs`. */
  stop(graceMs: number): void {
    if (this.isGone || this.stopping) return;
    this.stopping = true;
    // A child the shell started that ignores signals still sees the end of its input.
    this.child.stdin.destroy();
    this.kill("SIGTERM");
    delay(graceMs, undefined, { signal: this.groupEnded.signal }).then(() => {
      this.kill("SIGKILL");
      this.forgetGroup();
    }, ignore);
  }

  private end(): void {
    if (this.isGone) return;
    // Stopped, the shell may be gone while what it started lives on (it ignores SIGTERM): that still gets its SIGKILL.
    if (!(this.stopping && this.groupAlive())) {
      this.groupEnded.abort();
      this.forgetGroup();
    }
    this.ended.abort();
    // A child the shell left behind may still hold the pipes; nothing more is read from them.
    this.child.stdin.destroy();
    this.child.stdout.destroy();
    this.child.stderr.destroy();
    this.lines.close();
    this.events.gone();
  }

  /** Whether a process of the command's group is still there (never true without process groups). */
  private groupAlive(): boolean {
    const pid = this.child.pid;
    if (!PROCESS_GROUPS || pid === undefined) return false;
    try {
      process.kill(-pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  private kill(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (PROCESS_GROUPS && pid !== undefined) {
      try {
        process.kill(-pid, signal);
        return;
      } catch {
        // The group is gone already: only the shell's own exit may still be pending.
      }
    }
    this.child.kill(signal);
  }
}
