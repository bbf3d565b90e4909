import type { Data, Float64, RecordBatch } from "apache-arrow";
import { ReferencePairs } from "./frame/referencePairs.js";
import { BatchDrift, type ReferenceLookup } from "./kernel/batchDrift.js";
import type { DriftTally } from "./kernel/driftTally.js";
import type { Metric } from "./kernel/metric.js";
import type { DriftSource, ScanProgress } from "./sources/driftSource.js";

/** A source batch (at least the frame's columns) with its computed drift column. */
export interface DriftedBatch {
  readonly batch: RecordBatch;
  readonly drift: Data<Float64>;
}

/** Source and kernel together: what the sink consumes, however many threads produce it. */
export interface DriftStream {
  batches(): AsyncIterable<DriftedBatch>;
  progress(): ScanProgress;
  /** Complete once `batches()` is exhausted. */
  tally(): DriftTally;
  warnings(): string[];
  /** Stops early (threads ended); only needed when `batches()` is not run to its end. */
  close(): Promise<void>;
}

export interface DriftStreamOptions {
  readonly excludePrompts: ReadonlySet<string>;
  readonly batchRows: number;
  readonly metric: Metric;
  readonly lookup: ReferenceLookup;
}

/** Source and kernel on this thread, batch after batch. */
export function localDriftStream(source: DriftSource, options: DriftStreamOptions): DriftStream {
  const pairs = new ReferencePairs();
  const kernel = new BatchDrift(pairs, options.lookup, options.metric);
  return {
    async *batches() {
      const scan = { excludePrompts: options.excludePrompts, pairs, batchRows: options.batchRows, reuseVectors: true };
      // The kernel is done with a batch's vectors before the next is asked for.
      for (const batch of source.scan(scan)) {
        yield { batch, drift: kernel.run(batch) };
        // Let the event loop breathe (spinner frames, signals) between batches.
        await new Promise<void>((r) => setImmediate(r));
      }
    },
    progress: () => source.progress(),
    tally: () => kernel.tally,
    warnings: () => [...source.warnings],
    close: async () => {},
  };
}
