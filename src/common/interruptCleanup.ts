import { setTimeout as sleep } from "node:timers/promises";
import { PanicDriftError } from "./errors.js";

/**
 * What must not outlive an interrupted run: temporary outputs, the output's
 * lock, DuckDB's spill directory, the embedding command's processes.
 * Whoever creates such a thing registers its removal here and unregisters it
 * once done. An interrupted run normally unwinds and removes them itself
 * (see `interruptedError`); these actions are the last resort, run
 * synchronously when the CLI has to end the process at once (a second
 * SIGINT/SIGTERM, or a run that did not stop in time). (After kill -9
 * nothing runs: the next run removes what was left, see atomicOutput.ts and
 * outputLock.ts.)
 */
const actions = new Set<() => void>();

/** Registers `action`; the returned function unregisters it. */
export function onInterrupt(action: () => void): () => void {
  actions.add(action);
  return () => actions.delete(action);
}

/** Runs every registered action once, synchronously, whatever each throws. */
export function runInterruptCleanup(): void {
  for (const action of [...actions]) {
    actions.delete(action);
    try {
      action();
    } catch {
      /* best effort: the process is going away */
    }
  }
}

/**
 * What a run stopped through its AbortSignal rejects with: exit 143 when the
 * reason is "SIGTERM", else 130 (as shells report SIGINT).
 */
export function interruptedError(signal: AbortSignal, outcome = "the output was left as it was"): PanicDriftError {
  const terminated = signal.reason === "SIGTERM";
  return new PanicDriftError(terminated ? "TERMINATED" : "INTERRUPTED", `${terminated ? "terminated" : "interrupted"}: ${outcome}`);
}

/** Throws `interruptedError` once `signal` is aborted. */
export function throwIfInterrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw interruptedError(signal);
}

/**
 * Calls `action` when `signal` is aborted (at once if it is already);
 * the returned function stops listening.
 */
export function whenInterrupted(signal: AbortSignal | undefined, action: () => void): () => void {
  if (signal === undefined) return () => {};
  if (signal.aborted) {
    action();
    return () => {};
  }
  signal.addEventListener("abort", action, { once: true });
  return () => { signal.removeEventListener("abort", action); };
}

/** Resolves after `ms`, or rejects with `interruptedError` as soon as `signal` is aborted. */
export async function interruptibleDelay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await sleep(ms, undefined, signal === undefined ? {} : { signal });
  } catch (error) {
    throw signal?.aborted === true ? interruptedError(signal) : error;
  }
}
