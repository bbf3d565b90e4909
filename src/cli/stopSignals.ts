import { runInterruptCleanup } from "../common/interruptCleanup.js";
import type { CliIO } from "./cliIO.js";

type StopSignal = "SIGINT" | "SIGTERM";
const SIGNALS: readonly StopSignal[] = ["SIGINT", "SIGTERM"];

/**
 * How long an interrupted run may take to unwind (threads, DuckDB, the
 * embedder ended; temporary files and the lock removed) before the process
 * is ended at once. It normally takes milliseconds; this is the backstop.
 */
export const STOP_BACKSTOP_MS = 1_500;

/** One command of the CLI, as SIGINT and SIGTERM see it. */
export interface CommandRun {
  /**
   * Aborted (with "SIGINT" or "SIGTERM" as its reason) on the first signal.
   * A command that passes it on unwinds by itself; see `cancellable`.
   */
  readonly signal: AbortSignal;
  /**
   * Says that the command stops when `signal` is aborted; `onStop` runs
   * first (a spinner to take off the terminal). Until then a signal ends the
   * process at once (after the synchronous clean-up).
   */
  cancellable(onStop?: () => void): void;
  /** The command is over: a signal now only makes sure the process ends. */
  end(): void;
}

interface State {
  io: CliIO;
  controller: AbortController;
  cancellable: boolean;
  onStop: (() => void) | undefined;
  /** The first signal, once one came. */
  received: StopSignal | undefined;
  backstop: NodeJS.Timeout | undefined;
  ended: boolean;
}

let current: State | undefined;
/** The signal that came while no command ran (the process is ending). */
let idleSignal: StopSignal | undefined;
let installed = false;

/**
 * SIGINT and SIGTERM for one command. The first signal asks the command to
 * stop: its AbortSignal is aborted, and a cancellable command (compute)
 * ends its threads, DuckDB and its embedding command, removes its temporary
 * files and its lock, and exits 130 (SIGINT) or 143 (SIGTERM) once that has
 * unwound. A second signal, or a run still there STOP_BACKSTOP_MS after the
 * first, ends the process at once: what is registered with onInterrupt is
 * removed synchronously, then the signal is raised again with its default
 * action, so the process dies of it (a shell sees 130 or 143 all the same).
 * process.exit() is never used for that: it joins libuv's thread pool, where
 * a DuckDB query may be blocked waiting for this very thread.
 *
 * The listeners are installed once per process and stay: a signal that
 * comes after the command ended, while the process ends, changes nothing
 * (the exit code stays the command's) unless the process fails to end.
 */
export function startCommandRun(io: CliIO): CommandRun {
  install();
  const state: State = { io, controller: new AbortController(), cancellable: false, onStop: undefined, received: undefined, backstop: undefined, ended: false };
  current = state;
  return {
    signal: state.controller.signal,
    cancellable(onStop) {
      state.cancellable = true;
      state.onStop = onStop;
    },
    end() {
      state.ended = true;
      clearTimeout(state.backstop);
      if (current === state) current = undefined;
    },
  };
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const signal of SIGNALS) process.on(signal, () => { onSignal(signal); });
}

function onSignal(signal: StopSignal): void {
  const state = current;
  if (state === undefined) {
    // No command runs: the process is ending by itself. Make sure it does.
    if (idleSignal !== undefined) {
      endNow(signal, undefined);
      return;
    }
    idleSignal = signal;
    setTimeout(() => { endNow(signal, undefined); }, STOP_BACKSTOP_MS).unref();
    return;
  }
  if (state.received !== undefined || !state.cancellable) {
    endNow(state.received ?? signal, state);
    return;
  }
  state.received = signal;
  try {
    state.onStop?.();
  } catch {
    /* only a spinner */
  }
  state.controller.abort(signal);
  // Unref'd: a run that unwinds lets the process exit before it fires.
  state.backstop = setTimeout(() => { endNow(signal, state); }, STOP_BACKSTOP_MS);
  state.backstop.unref();
}

/** Synchronous clean-up, a line on stderr, then death by `signal` itself. */
function endNow(signal: StopSignal, state: State | undefined): void {
  runInterruptCleanup();
  if (state !== undefined && !state.ended) {
    try {
      state.onStop?.();
      const word = signal === "SIGINT" ? "interrupted" : "terminated";
      state.io.stderr.write(`panic-drift: ${word}: stopped at once (its temporary files removed)\n`);
    } catch {
      /* the process is going away */
    }
  }
  for (const s of SIGNALS) process.removeAllListeners(s);
  // The default action now: the process ends here, before the next line runs.
  process.kill(process.pid, signal);
  process.kill(process.pid, "SIGKILL");
}
