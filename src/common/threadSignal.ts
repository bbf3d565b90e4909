/**
 * How the main thread and its helper threads signal each other, for both
 * the reader threads and a parquet export's DuckDB thread. A thread bumps a
 * shared counter after each post (and as a sign of life); the main thread,
 * which must wait synchronously (it is inside DuckDB's scan, or inside the
 * synchronous source interface), sleeps on that counter between tries. A
 * second counter, per thread, holds the batches posted and not taken yet:
 * the thread's back-pressure.
 */

/** Tells the waiting side that something happened. */
export function bump(signal: Int32Array, index: number): void {
  Atomics.add(signal, index, 1);
  Atomics.notify(signal, index);
}

/** One posted batch was taken: the thread may post another. */
export function taken(inFlight: Int32Array, index: number): void {
  Atomics.sub(inFlight, index, 1);
  Atomics.notify(inFlight, index);
}

/**
 * Tries `poll` until it gives something, sleeping on `signal[index]` between
 * tries. A thread gives a sign of life at least every so often; a silence of
 * `stallMilliseconds` means it is gone: `stalled()` is thrown.
 */
export function waitForSignal<T>(signal: Int32Array, index: number, poll: () => T | undefined, stallMilliseconds: number, stalled: () => Error): T {
  const slice = Math.min(1000, stallMilliseconds);
  let quietSince = performance.now();
  for (;;) {
    const seen = Atomics.load(signal, index);
    const got = poll();
    if (got !== undefined) return got;
    if (Atomics.wait(signal, index, seen, slice) !== "timed-out") {
      quietSince = performance.now();
    } else if (performance.now() - quietSince > stallMilliseconds) {
      throw stalled();
    }
  }
}
