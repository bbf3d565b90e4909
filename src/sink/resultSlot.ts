import { randomBytes } from "node:crypto";
import { closeSync, fstatSync, openSync, readSync, writeSync } from "node:fs";

/**
 * Room reserved in the parquet footer for what is known only once every
 * row is written (row counts, NULL reasons, warnings). DuckDB takes the
 * key-value metadata when the COPY starts, and the COPY streams the rows as
 * they are computed, so the value is first a placeholder of fixed length
 * and is overwritten in place afterwards: same length, so every offset in
 * the footer stays valid (the footer has no checksum). The value is JSON
 * padded with trailing spaces, which JSON parsers skip.
 */
export const RESULT_SLOT_BYTES = 16_384;

/**
 * Room for each run's tally beside that (see DriftTally.runs), so that an
 * incremental update can keep the counts of the runs it does not recompute.
 */
export const RUN_TALLY_BYTES = 160;

/** The slot's size for a file of `runs` runs. */
export function resultSlotBytes(runs: number): number {
  return RESULT_SLOT_BYTES + RUN_TALLY_BYTES * runs;
}

/** A placeholder of `bytes` bytes that cannot occur anywhere else in the file: a random token, padded. */
export function resultPlaceholder(bytes = RESULT_SLOT_BYTES): string {
  return `panic-drift-slot-${randomBytes(16).toString("hex")}`.padEnd(bytes, "~");
}

/** Overwrites the placeholder in the footer of the parquet file at `path` with `value` (at most the placeholder's length of UTF-8). */
export function fillResultSlot(path: string, placeholder: string, value: string): void {
  const bytes = Buffer.from(value, "utf8");
  const slot = placeholder.length;
  if (bytes.byteLength > slot) throw new Error(`result metadata of ${bytes.byteLength} bytes does not fit its ${slot}-byte slot`);
  const padded = Buffer.alloc(slot, " ");
  bytes.copy(padded);
  const fd = openSync(path, "r+");
  try {
    const size = fstatSync(fd).size;
    const tail = Buffer.alloc(8);
    readSync(fd, tail, 0, 8, size - 8);
    const footerLength = tail.readUInt32LE(0);
    if (tail.toString("latin1", 4) !== "PAR1" || footerLength + 8 > size) throw new Error("not a parquet file");
    const footerStart = size - 8 - footerLength;
    const footer = Buffer.alloc(footerLength);
    readSync(fd, footer, 0, footerLength, footerStart);
    const needle = Buffer.from(placeholder, "latin1");
    const at = footer.indexOf(needle);
    if (at < 0 || footer.indexOf(needle, at + 1) >= 0) throw new Error("the reserved metadata slot is not in the footer exactly once");
    writeSync(fd, padded, 0, padded.byteLength, footerStart + at);
  } finally {
    closeSync(fd);
  }
}
