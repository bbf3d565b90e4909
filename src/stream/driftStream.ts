import type { DriftedBatch, DriftedBatches } from "../frame/driftedBatch.js";
import { inOutputOrder } from "../frame/outputOrder.js";
import { ReferencePairs } from "../frame/referencePairs.js";
import { BatchDrift, type ReferenceLookup } from "../kernel/batchDrift.js";
import type { DriftTally } from "../kernel/driftTally.js";
import type { Metric } from "../kernel/metric.js";
import { driftAgainstRows } from "../kernel/rowReferences.js";
import type { ReferenceMode } from "../kernel/referenceMode.js";
import type { DriftSource, ScanOptions, ScanProgress } from "../sources/driftSource.js";

/** Source and kernel together: what the sink consumes, however many threads produce it. */
export interface DriftStream extends DriftedBatches {
  progress(): ScanProgress;
  /** Complete once `next()` has returned undefined. */
  tally(): DriftTally;
  warnings(): string[];
  /** Embedding rows with an unreadable timestamp so far, over all readers (complete once `next()` has returned undefined). */
  badTimestamps(): number;
  /** Stops early (threads ended); only needed when `next()` is not run to its end. */
  close(): Promise<void>;
}

export interface DriftStreamOptions {
  readonly excludePrompts: ReadonlySet<string>;
  readonly reference: ReferenceMode;
  readonly batchRows: number;
  readonly metric: Metric;
  readonly lookup: ReferenceLookup;
}

/**
 * One unit of the source through the kernel. From an ordered source the
 * unit's rows come back in the output's order (see frame/outputOrder.ts);
 * otherwise batch by batch as read.
 */
export function* driftUnit(
  source: DriftSource,
  unit: number,
  kernel: BatchDrift,
  scan: ScanOptions,
  reference: ReferenceMode,
  /** Called after each batch read (a sign of life while a big unit is gathered). */
  onRead?: () => void,
): Generator<DriftedBatch, void, undefined> {
  if (reference !== "prompt") {
    // References are rows of the unit's own runs: every vector is kept until the unit is read.
    if (!source.ordered) throw new Error("--reference first/previous needs a source that reads whole runs");
    const batches = [];
    for (const batch of source.scanUnit(scan, unit)) {
      batches.push(batch);
      onRead?.();
    }
    yield* inOutputOrder(driftAgainstRows(batches, kernel, reference), scan.batchRows);
    return;
  }
  if (!source.ordered) {
    for (const batch of source.scanUnit(scan, unit)) {
      yield { batch, drift: kernel.run(batch) };
      onRead?.();
    }
    return;
  }
  // The kernel is done with a batch's vectors before the next is read: only frame columns are kept.
  const pieces: DriftedBatch[] = [];
  for (const batch of source.scanUnit(scan, unit)) {
    pieces.push({ batch, drift: kernel.run(batch) });
    onRead?.();
  }
  yield* inOutputOrder(pieces, scan.batchRows);
}

/** Vector buffers are reused batch by batch, or (other rows as references) unit by unit. */
export function reuseFor(reference: ReferenceMode): true | "unit" {
  return reference === "prompt" ? true : "unit";
}

/** The warnings a finished scan leaves: the snapshot's, and unreadable timestamps counted over all readers. */
export function scanWarnings(source: DriftSource, badTimestamps: number): string[] {
  const warnings = [...source.warnings];
  if (badTimestamps > 0) {
    warnings.push(
      `${badTimestamps} embedding rows of ${source.path} have a started_at/completed_at that is not a YYYY-MM-DD HH:MM:SS[.ffffff] timestamp; they are NULL in the output`,
    );
  }
  return warnings;
}

/** Source and kernel on this thread, unit after unit. */
export function localDriftStream(source: DriftSource, options: DriftStreamOptions): DriftStream {
  const pairs = new ReferencePairs();
  const kernel = new BatchDrift(pairs, options.lookup, options.metric);
  const scan = { excludePrompts: options.excludePrompts, pairs, batchRows: options.batchRows, reuseVectors: reuseFor(options.reference) };
  function* all(): Generator<DriftedBatch, void, undefined> {
    const units = source.units(options.batchRows);
    for (let unit = 0; unit < units; unit++) yield* driftUnit(source, unit, kernel, scan, options.reference);
  }
  const batches = all();
  return {
    ordered: source.ordered,
    next: () => {
      const step = batches.next();
      return step.done ? undefined : step.value;
    },
    progress: () => source.progress(),
    tally: () => kernel.tally,
    warnings: () => scanWarnings(source, source.badTimestamps),
    badTimestamps: () => source.badTimestamps,
    // Nothing to wait for on this thread; what return() throws (a generator's finally) rejects.
    close: () =>
      new Promise<void>((resolve) => {
        batches.return(undefined);
        resolve();
      }),
  };
}
