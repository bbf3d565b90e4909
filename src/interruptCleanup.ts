/**
 * What must not outlive an interrupted run: temporary outputs, the output's
 * lock, DuckDB's spill directory. Whoever creates such a thing registers its
 * removal here and unregisters it once done; the CLI runs everything still
 * registered when SIGINT or SIGTERM arrives, then exits. (After kill -9
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
