import { usageError } from "../common/errors.js";
import { OUTPUT_COLUMN_NAMES, type OutputColumn } from "../frame/frameColumns.js";

/** The drift frame's columns, in order (from a module that loads nothing). */
export const FRAME_COLUMN_NAMES = OUTPUT_COLUMN_NAMES;
export type FrameColumnName = OutputColumn;

/** `--by` as given (names, or comma-separated lists of them), checked and without repeats. */
export function groupColumns(by: string | readonly string[]): FrameColumnName[] {
  const names = (typeof by === "string" ? [by] : by).flatMap((b) => b.split(",")).map((n) => n.trim());
  const allowed = FRAME_COLUMN_NAMES.join(", ");
  if (names.every((n) => n === "")) throw usageError(`--by needs at least one column: ${allowed}`);
  const columns: FrameColumnName[] = [];
  for (const name of names) {
    if (name === "") continue;
    if (!(FRAME_COLUMN_NAMES as readonly string[]).includes(name)) {
      throw usageError(`--by: unknown column '${name}': allowed are ${allowed} (comma-separated)`);
    }
    if (!columns.includes(name as FrameColumnName)) columns.push(name as FrameColumnName);
  }
  return columns;
}

/** A column name as a SQL identifier (names come from FRAME_COLUMN_NAMES or are our own). */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
