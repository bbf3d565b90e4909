import type { RecordBatch } from "apache-arrow";
import { SourceBatchBuilder, type SourceRow } from "./sourceBatch.js";
import { VectorStatus } from "./vectorStatus.js";
import type { RunTable } from "./runTable.js";

/** Vector bytes one open batch may hold, so a corrupt giant blob cannot balloon memory. */
const MAX_BATCH_VECTOR_BYTES = 16 * 1024 * 1024;
/** Open batches kept at once; data with more distinct dimensions flushes early. */
const MAX_OPEN_BATCHES = 8;

/**
 * Routes rows into one open batch per vector dimension (a FixedSizeList has
 * one size), handing back each batch as it fills. Rows without a usable
 * vector join whichever batch was used last: they carry no floats.
 */
export class BatchesByDimension {
  private readonly open = new Map<number, SourceBatchBuilder>();
  private last: SourceBatchBuilder | undefined;
  /** Float buffers of handed-out batches, and those free to reuse, by byte size. */
  private lent: Uint8Array[] = [];
  private readonly free = new Map<number, Uint8Array[]>();

  /**
   * With `reuseVectors`, a batch's float buffer is reused for a later batch
   * as soon as the next row is pushed: the consumer must be done with a
   * batch's vectors (the kernel is) before it asks for the next batch. That
   * keeps memory flat and spares fresh pages, which are slow to fault in.
   */
  constructor(
    private readonly batchRows: number,
    private readonly runs: RunTable,
    private readonly reuseVectors: boolean | "unit" = false,
  ) {}

  /** A new unit begins: with reuse per unit, the previous unit's buffers are free now. */
  startUnit(): void {
    if (this.reuseVectors === "unit") this.recycle();
  }

  /** Batches that filled up, in the order they did; the caller takes them out. */
  readonly ready: RecordBatch[] = [];

  push(row: SourceRow, referenceKey: number, status: VectorStatus, blob: Uint8Array | null): void {
    if (this.reuseVectors === true && this.lent.length > 0 && this.ready.length === 0) this.recycle();
    let builder: SourceBatchBuilder;
    if (status === VectorStatus.ok && blob !== null) {
      const dimension = blob.byteLength / 4;
      const existing = this.open.get(dimension);
      if (existing === undefined) {
        if (this.open.size >= MAX_OPEN_BATCHES) this.flushLargest();
        builder = this.create(dimension);
      } else {
        builder = existing;
      }
    } else {
      builder = this.last ?? this.open.get(0) ?? this.create(0);
    }
    builder.push(row, referenceKey, status, blob);
    this.last = builder;
    if (builder.full) this.retire(builder);
  }

  /** Every open batch that holds rows, emptying the router. */
  *drain(): Generator<RecordBatch> {
    const builders = [...this.open.values()];
    this.open.clear();
    this.last = undefined;
    for (const builder of builders) {
      if (builder.length > 0) yield builder.finish();
      // Free for the next rows (a source that drains per unit keeps its router).
      if (this.reuseVectors !== false) this.lent.push(builder.vectorBuffer);
    }
  }

  private create(dimension: number): SourceBatchBuilder {
    const rowBytes = Math.max(4, dimension * 4);
    const capacity = Math.max(1, Math.min(this.batchRows, Math.floor(MAX_BATCH_VECTOR_BYTES / rowBytes)));
    const bytes = capacity * dimension * 4;
    const builder = new SourceBatchBuilder(dimension, capacity, this.runs, this.free.get(bytes)?.pop());
    this.open.set(dimension, builder);
    return builder;
  }

  private flushLargest(): void {
    let largest: SourceBatchBuilder | undefined;
    for (const b of this.open.values()) if (largest === undefined || b.length > largest.length) largest = b;
    if (largest !== undefined) this.retire(largest);
  }

  private retire(builder: SourceBatchBuilder): void {
    this.open.delete(builder.dimension);
    if (this.last === builder) this.last = undefined;
    if (builder.length > 0) this.ready.push(builder.finish());
    if (this.reuseVectors !== false) this.lent.push(builder.vectorBuffer);
  }

  /** Every handed-out batch has been taken and used: its buffer is free again. */
  private recycle(): void {
    for (const buffer of this.lent) {
      const list = this.free.get(buffer.byteLength) ?? [];
      list.push(buffer);
      this.free.set(buffer.byteLength, list);
    }
    this.lent = [];
  }
}
