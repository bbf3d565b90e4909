// Light: read by the up-to-date check and by the output guard, before DuckDB loads.
import { parquetMetadata } from "hyparquet/src/metadata.js";
import { closeSync, fstatSync, readSync } from "node:fs";
import { openRegularFileSync } from "../common/regularFile.js";

/** What panic-drift reads of a parquet footer: the key-value metadata and the top-level column names. */
export interface ParquetFooter {
  readonly keyValue: ReadonlyMap<string, string>;
  readonly columns: readonly string[];
}

/**
 * The footer of the parquet file at `path`, read without DuckDB (a few
 * syscalls and hyparquet's thrift decoder), or undefined when the file is
 * missing, unreadable or not parquet.
 */
export function readParquetFooter(path: string): ParquetFooter | undefined {
  let fd: number | undefined;
  try {
    // Never blocks on a FIFO (refused, like anything but a file).
    fd = openRegularFileSync(path);
    const stats = fstatSync(fd);
    if (stats.size < 12) return undefined;
    const size = stats.size;
    const tail = Buffer.alloc(8);
    readSync(fd, tail, 0, 8, size - 8);
    const footerLength = tail.readUInt32LE(0) + 8;
    if (tail.toString("latin1", 4) !== "PAR1" || footerLength > size - 4) return undefined;
    const footer = Buffer.alloc(footerLength);
    readSync(fd, footer, 0, footerLength, size - footerLength);
    const metadata = parquetMetadata(footer);
    const keyValue = new Map<string, string>();
    for (const { key, value } of metadata.key_value_metadata ?? []) if (typeof value === "string") keyValue.set(key, value);
    // schema[0] is the root; its num_children top-level columns follow (nested ones count their own children).
    const columns: string[] = [];
    const schema = metadata.schema;
    for (let i = 1, remaining = schema[0]?.num_children ?? 0; i < schema.length && remaining > 0; remaining--) {
      columns.push(schema[i]!.name);
      i = skipElement(schema, i);
    }
    return { keyValue, columns };
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The index just past schema element `i` and all its descendants. */
function skipElement(schema: readonly { num_children?: number }[], i: number): number {
  let next = i + 1;
  for (let child = 0; child < (schema[i]!.num_children ?? 0); child++) next = skipElement(schema, next);
  return next;
}
