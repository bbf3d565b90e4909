import { randomBytes } from "node:crypto";
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from "node:fs";

/**
 * What is known only once every row is written (row counts, NULL reasons,
 * warnings, run tallies) goes into the parquet footer afterwards. DuckDB
 * takes the key-value metadata when the COPY starts, and the COPY streams
 * the rows as they are computed, so the value is first a short placeholder;
 * once the file is complete, the footer is rewritten with the value in the
 * placeholder's place. The footer is the last thing in a parquet file and
 * holds no offsets into itself, and a thrift binary field is its length (a
 * varint) followed by its bytes, so replacing the varint and the bytes and
 * writing the new footer length leaves every other byte of the file as
 * DuckDB wrote it. No padding: the value takes exactly its own bytes.
 */

/** A placeholder that cannot occur anywhere else in the file: a random token. */
export function resultPlaceholder(): string {
  return `panic-drift-result-${randomBytes(16).toString("hex")}`;
}

/** Unsigned LEB128, thrift compact's varint. */
function varint(value: number): Buffer {
  const bytes: number[] = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    bytes.push(byte);
  } while (value > 0);
  return Buffer.from(bytes);
}

/**
 * Replaces the placeholder in the footer of the parquet file at `path`
 * (a file of our own, not yet in place) with `value`, rewriting the footer
 * and truncating the file to its new end.
 */
export function fillResultSlot(path: string, placeholder: string, value: string): void {
  const fd = openSync(path, "r+");
  try {
    const size = fstatSync(fd).size;
    const tail = Buffer.alloc(8);
    if (size < 12) throw new Error("not a parquet file");
    readSync(fd, tail, 0, 8, size - 8);
    const footerLength = tail.readUInt32LE(0);
    if (tail.toString("latin1", 4) !== "PAR1" || footerLength + 12 > size) throw new Error("not a parquet file");
    const footerStart = size - 8 - footerLength;
    const footer = Buffer.alloc(footerLength);
    readSync(fd, footer, 0, footerLength, footerStart);
    const needle = Buffer.from(placeholder, "utf8");
    const at = footer.indexOf(needle);
    if (at < 0 || footer.indexOf(needle, at + 1) >= 0) throw new Error("the reserved metadata slot is not in the footer exactly once");
    const oldLength = varint(needle.byteLength);
    if (at < oldLength.byteLength || !footer.subarray(at - oldLength.byteLength, at).equals(oldLength)) {
      throw new Error("the reserved metadata slot is not a thrift binary value");
    }
    const bytes = Buffer.from(value, "utf8");
    const rewritten = Buffer.concat([
      footer.subarray(0, at - oldLength.byteLength),
      varint(bytes.byteLength),
      bytes,
      footer.subarray(at + needle.byteLength),
    ]);
    const end = Buffer.alloc(8);
    end.writeUInt32LE(rewritten.byteLength, 0);
    end.write("PAR1", 4, "latin1");
    const whole = Buffer.concat([rewritten, end]);
    writeSync(fd, whole, 0, whole.byteLength, footerStart);
    ftruncateSync(fd, footerStart + whole.byteLength);
  } finally {
    closeSync(fd);
  }
}
