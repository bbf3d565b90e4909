/**
 * Reads one run's rows as packed slices (see rowPacking.ts): the next
 * invocations after a rowid, joined to their embeddings, packed into one
 * blob of about SLICE_BYTES. A keyset, not an offset: however long the run,
 * no invocation is read twice, and no slice is a big buffer.
 */
import type Database from "better-sqlite3";
import { packedOutput, type PackedOutput } from "./nativeLibrary.js";
import { isTooLarge, packsIntoOutput, unpackRows, type PackedValue } from "./rowPacking.js";
import type { SqliteValue } from "./sqliteFile.js";
import type { SqliteLayout } from "./sqliteLayouts.js";
import { runSliceQuery } from "./sqliteQueries.js";

/**
 * Bytes per packed slice: big enough that a slice costs one query for
 * hundreds of rows, small enough that a long run is not one big buffer
 * (measured on the bench databases; docs/performance.md).
 */
const SLICE_BYTES = 1024 * 1024;
const MIN_SLICE_INVOCATIONS = 16;
const MAX_SLICE_INVOCATIONS = 65_536;

export class PackedRunReader {
  private readonly packed: Database.Statement;
  /** This thread's buffer the slices are written into, if the library loads as an addon too (else each slice is a blob). */
  private readonly output: PackedOutput | undefined;
  private rowByRow: Database.Statement | undefined;
  /** Invocations per slice, adapted to the rows' size. */
  private sliceInvocations = 1024;

  constructor(
    private readonly db: Database.Database,
    private readonly layout: SqliteLayout,
    private readonly modelClause: string,
  ) {
    const output = packedOutput(2 * SLICE_BYTES);
    this.output = output !== undefined && packsIntoOutput(db, output) ? output : undefined;
    this.packed = db.prepare(runSliceQuery(layout, modelClause, { into: this.output !== undefined })).raw(true);
  }

  /**
   * Calls `onRow` with each row of the run (see unpackRows for its values
   * and how long a row lives), and yields after each slice, or after each row
   * of a slice too large to pack, which is read row by row. `converted`
   * tells whether the row's ids and timestamps went through
   * panic_drift_rows_into's conversions (else they are as stored).
   */
  *read(storedId: unknown, models: readonly string[], onRow: (row: PackedValue[], converted: boolean) => void): Generator<void, void, undefined> {
    for (let after = Number.MIN_SAFE_INTEGER; ; ) {
      const limit = this.sliceInvocations;
      const [invocations, last, packed] = this.packed.get(storedId, after, limit, ...models) as [number, number | null, Buffer | number | null];
      // A length: the slice is in this thread's output buffer. A blob: it did not fit there (the buffer grows for the next one).
      let slice: Buffer | null;
      if (typeof packed === "number") {
        slice = this.output!.view(packed);
      } else {
        slice = packed;
        if (slice !== null && !isTooLarge(slice)) this.output?.grow(slice.byteLength);
      }
      if (slice !== null && isTooLarge(slice)) {
        this.rowByRow ??= this.db.prepare(runSliceQuery(this.layout, this.modelClause, { rows: true })).raw(true);
        for (const row of this.rowByRow.iterate(storedId, after, limit, ...models) as IterableIterator<SqliteValue[]>) {
          onRow(row, false);
          yield;
        }
      } else if (slice !== null) {
        const converted = this.output !== undefined;
        unpackRows(slice, (row) => {
          onRow(row, converted);
        });
        const perInvocation = slice.byteLength / invocations;
        this.sliceInvocations = Math.min(MAX_SLICE_INVOCATIONS, Math.max(MIN_SLICE_INVOCATIONS, Math.round(SLICE_BYTES / perInvocation)));
        yield;
      }
      if (invocations < limit || last === null) return;
      after = last;
    }
  }
}
