import { usageError } from "../common/errors.js";
import { OUTPUT_COLUMN_NAMES, type OutputColumn } from "../frame/frameColumns.js";


/** `--by` as given (names, or comma-separated lists of them), checked and without repeats. */
export function groupColumns(by: string | readonly string[]): OutputColumn[] {
  const names = (typeof by === "string" ? [by] : by).flatMap((b) => b.split(",")).map((n) => n.trim());
  const allowed = OUTPUT_COLUMN_NAMES.join(", ");
  if (names.every((n) => n === "")) throw usageError(`--by needs at least one column: ${allowed}`);
  const columns: OutputColumn[] = [];
  for (const name of names) {
    if (name === "") continue;
    if (!(OUTPUT_COLUMN_NAMES as readonly string[]).includes(name)) {
      throw usageError(`--by: unknown column '${name}': allowed are ${allowed} (comma-separated)`);
    }
    if (!columns.includes(name as OutputColumn)) columns.push(name as OutputColumn);
  }
  return columns;
}

/** A column name as a SQL identifier (names come from OUTPUT_COLUMN_NAMES or are our own). */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
