/**
 * Reads one run's rows as packed slices (see rowPacking.ts): the next
 * invocations after a rowid, joined to their embeddings, packed into one
 * blob of about SLICE_BYTES. A keyset, not an offset: however long the run,
 * no invocation is read twice, and no slice is a big buffer.
 */
import type Database from "better-sqlite3";
import { isTooLarge, unpackRows } from "./rowPacking.js";
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
  private rowByRow: Database.Statement | undefined;
  /** Invocations per slice, adapted to the rows' size. */
  private sliceInvocations = 1024;

  constructor(
    private readonly db: Database.Database,
    private readonly layout: SqliteLayout,
    private readonly modelClause: string,
  ) {
    this.packed = db.prepare(runSliceQuery(layout, modelClause)).raw(true);
  }

  /**
   * Calls `onRow` with each row of the run (better-sqlite3's raw values; see
   * unpackRows for how long a row lives), and yields after each slice, or
   * after each row of a slice too large to pack, which is read row by row.
   */
  *read(storedId: unknown, models: readonly string[], onRow: (row: SqliteValue[]) => void): Generator<void, void, undefined> {
    for (let after = Number.MIN_SAFE_INTEGER; ; ) {
      const limit = this.sliceInvocations;
      const [invocations, last, slice] = this.packed.get(storedId, after, limit, ...models) as [number, number | null, Buffer | null];
      if (slice !== null && isTooLarge(slice)) {
        this.rowByRow ??= this.db.prepare(runSliceQuery(this.layout, this.modelClause, { rows: true })).raw(true);
        for (const row of this.rowByRow.iterate(storedId, after, limit, ...models) as IterableIterator<SqliteValue[]>) {
          onRow(row);
          yield;
        }
      } else if (slice !== null) {
        unpackRows(slice, onRow);
        const perInvocation = slice.byteLength / invocations;
        this.sliceInvocations = Math.min(MAX_SLICE_INVOCATIONS, Math.max(MIN_SLICE_INVOCATIONS, Math.round(SLICE_BYTES / perInvocation)));
        yield;
      }
      if (invocations < limit || last === null) return;
      after = last;
    }
  }
}
