import { displayWidth } from "../common/shortText.js";

/** A result column as DuckDB typed it. */
export interface ResultColumn {
  readonly name: string;
  readonly type: string;
}

export type ResultCell = string | number | null;

const NUMBER_TYPE = /^(DOUBLE|FLOAT|DECIMAL|TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|U\w*INT)/;
const FRACTION_TYPE = /^(DOUBLE|FLOAT|DECIMAL)/;

/**
 * Rows as a table for a terminal: a header, a rule, numbers right-aligned
 * (fractions to 4 decimals, enough to tell drift values apart), NULL shown
 * as NULL, every column (the `wide` format; `table` fits a terminal, see
 * terminalTable.ts). Widths in terminal columns: CJK and emoji count 2.
 * CSV and JSON carry every digit.
 */
export function alignedTable(columns: readonly ResultColumn[], rows: readonly Record<string, ResultCell>[]): string {
  const numeric = columns.map((c) => NUMBER_TYPE.test(c.type));
  const fraction = columns.map((c) => FRACTION_TYPE.test(c.type));
  const cells = rows.map((row) =>
    columns.map((c, i) => {
      const value = row[c.name] ?? null;
      if (value === null) return "NULL";
      if (fraction[i] && typeof value === "number") return value.toFixed(4);
      return String(value);
    }),
  );
  const width = displayWidth;
  const widths = columns.map((c, i) => Math.max(width(c.name), ...cells.map((r) => width(r[i]!))));
  const pad = (s: string, i: number) => {
    const fill = " ".repeat(widths[i]! - width(s));
    return numeric[i] ? fill + s : s + fill;
  };
  const line = (values: readonly string[]) => values.map(pad).join("  ").trimEnd();
  return [line(columns.map((c) => c.name)), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n") + "\n";
}
