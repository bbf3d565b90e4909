import { displayWidth, shortText, shortTexts } from "../common/shortText.js";
import type { ResultCell, ResultColumn } from "./alignedTable.js";
import { STATISTICS, type Statistic } from "./summarySql.js";

/** The most columns the `table` format takes (less on a narrower terminal). */
export const TABLE_WIDTH = 100;
/** Long values (prompts, networks) are cut to this before any column is left out; a run id to its first 8 digits. */
const COMFORTABLE_TEXT = 32;
const COMFORTABLE_ID = 9;
/** And at the most to this. */
const NARROWEST_TEXT = 8;
const GAP = 2;
/** Left out first when the table is too wide (final and the group's columns never are). */
const DROP_ORDER = ["mean", "max", "first_over", "steps", "auc", "runs"];

/**
 * The summary as a table for a terminal, at most `width` columns wide: the
 * group (or run) columns, then one column per statistic, for a group its
 * mean ± the half-width of its 95% t-interval. Long values are cut at word
 * boundaries (to 32 columns, a run id to 8 digits); if that is not enough,
 * columns are left out in DROP_ORDER, then values cut further. A last line
 * says what is left out, and that `--format wide` shows everything.
 * Numbers keep 3 significant digits of the column's largest value.
 */
export function terminalTable(columns: readonly ResultColumn[], rows: readonly Record<string, ResultCell>[], width: number): string {
  const grouped = columns.some((c) => c.name === "final_mean");
  const computed = new Set<string>(["runs", "steps", "steps_min", "steps_max", ...STATISTICS, ...STATISTICS.flatMap((s) => [`${s}_mean`, `${s}_ci_low`, `${s}_ci_high`])]);
  const table: TableColumn[] = columns
    .filter((c) => !computed.has(c.name))
    .map((c) => ({ name: c.name, cells: rows.map((r) => text(r[c.name])), numeric: false, cut: c.name === "run_id" ? COMFORTABLE_ID : COMFORTABLE_TEXT }));
  if (grouped) {
    table.push({ name: "runs", cells: rows.map((r) => text(r.runs)), numeric: true });
    table.push({ name: "steps", cells: rows.map((r) => (r.steps_min === r.steps_max ? text(r.steps_min) : `${text(r.steps_min)}–${text(r.steps_max)}`)), numeric: true });
  } else {
    table.push({ name: "steps", cells: rows.map((r) => text(r.steps)), numeric: true });
  }
  const integer = new Set(columns.filter((c) => /INT/.test(c.type)).map((c) => c.name));
  for (const statistic of STATISTICS) table.push(statisticColumn(statistic, rows, grouped, integer.has(statistic)));

  const { shown, hidden, cut } = fit(table, width);
  const line = (value: (column: TableColumn, width: number) => string) =>
    shown
      .map((column) => {
        const w = cut.get(column)?.width ?? naturalWidth(column);
        const v = value(column, w);
        const fill = " ".repeat(Math.max(0, w - displayWidth(v)));
        return column.numeric ? fill + v : v + fill;
      })
      .join(" ".repeat(GAP))
      .trimEnd();
  const lines = [
    line((c, w) => shortText(c.name, w)),
    line((_, w) => "-".repeat(w)),
    ...rows.map((_, i) => line((c) => (cut.get(c)?.cells ?? c.cells)[i]!)),
  ];
  const notes = [
    ...(grouped ? ["±: 95% t-interval of the mean"] : []),
    ...(hidden.length > 0 ? [`not shown: ${hidden.join(", ")}`] : []),
    ...(hidden.length > 0 || cut.size > 0 ? ["--format wide shows all"] : []),
  ];
  const note = notes.join("; ");
  return [...lines, ...(notes.length === 0 ? [] : displayWidth(note) + 2 <= width ? [`(${note})`] : notes.map((n) => `(${n})`))].join("\n") + "\n";
}

interface TableColumn {
  name: string;
  cells: string[];
  numeric: boolean;
  /** Text that may be cut (at word boundaries), and the width it is cut to before columns are left out. */
  cut?: number;
}

function text(value: ResultCell | undefined): string {
  return value === null || value === undefined ? "NULL" : String(value);
}

/** One statistic: a group's mean ± the half-width of its interval, aligned on "±", or a run's value (`integer`: a whole number, first_over). */
function statisticColumn(statistic: Statistic, rows: readonly Record<string, ResultCell>[], grouped: boolean, integer: boolean): TableColumn {
  const value = (r: Record<string, ResultCell>) => (grouped ? r[`${statistic}_mean`] : r[statistic]);
  const largest = Math.max(0, ...rows.map(value).map((v) => (typeof v === "number" ? Math.abs(v) : 0)));
  // Three significant digits of the largest value: 0.709, 25.3, 150.
  const decimals = integer ? 0 : largest === 0 ? 3 : Math.min(6, Math.max(0, 2 - Math.floor(Math.log10(largest))));
  const means = rows.map((r) => {
    const v = value(r);
    return typeof v === "number" ? v.toFixed(decimals) : text(v);
  });
  const halves = rows.map((r) => {
    const [low, high] = grouped ? [r[`${statistic}_ci_low`], r[`${statistic}_ci_high`]] : [null, null];
    return typeof low === "number" && typeof high === "number" ? ((high - low) / 2).toFixed(decimals) : "";
  });
  const meanWidth = Math.max(...means.map(displayWidth));
  const halfWidth = Math.max(0, ...halves.map(displayWidth));
  const cells = means.map((mean, i) => {
    const left = mean.padStart(meanWidth);
    const half = halves[i]!;
    if (halfWidth === 0) return left;
    return half === "" ? left + " ".repeat(3 + halfWidth) : `${left} ± ${half.padStart(halfWidth)}`;
  });
  return { name: statistic, cells, numeric: true };
}

function naturalWidth(column: TableColumn): number {
  return Math.max(displayWidth(column.name), ...column.cells.map(displayWidth));
}

/**
 * Which columns to show, and the text columns to cut (with their cells cut
 * and the width they then take): the widest text is cut first, to its
 * comfortable width, then columns are left out, then text is cut further;
 * words end before the width, so the room that frees takes back columns.
 */
function fit(columns: readonly TableColumn[], width: number): { shown: TableColumn[]; hidden: string[]; cut: Map<TableColumn, { width: number; cells: string[] }> } {
  const target = new Map(columns.map((c) => [c, naturalWidth(c)]));
  let shown = [...columns];
  const total = () => shown.reduce((sum, c) => sum + target.get(c)!, 0) + GAP * (shown.length - 1);
  const shrink = (floor: (c: TableColumn) => number) => {
    while (total() > width) {
      const widest = shown.filter((c) => c.cut !== undefined && target.get(c)! > floor(c)).sort((a, b) => target.get(b)! - target.get(a)!)[0];
      if (widest === undefined) return;
      target.set(widest, target.get(widest)! - 1);
    }
  };
  shrink((c) => c.cut!);
  const dropped: TableColumn[] = [];
  for (const name of DROP_ORDER) {
    if (total() <= width) break;
    const column = shown.find((c) => c.name === name);
    if (column === undefined) continue;
    shown = shown.filter((c) => c !== column);
    dropped.push(column);
  }
  shrink((c) => Math.min(c.cut!, NARROWEST_TEXT));

  const cut = new Map<TableColumn, { width: number; cells: string[] }>();
  for (const column of shown) {
    const w = target.get(column)!;
    if (column.cut === undefined || w >= naturalWidth(column)) continue;
    const short = shortTexts(column.cells, w);
    const cells = column.cells.map((c) => short.get(c)!);
    const taken = Math.max(displayWidth(shortText(column.name, w)), ...cells.map(displayWidth));
    cut.set(column, { width: taken, cells });
    target.set(column, taken);
  }
  // Back, most useful first, what fits in the room the cuts left.
  for (const column of [...dropped].reverse()) {
    if (total() + GAP + target.get(column)! > width) continue;
    shown.push(column);
    dropped.splice(dropped.indexOf(column), 1);
  }
  shown = columns.filter((c) => shown.includes(c));
  return { shown, hidden: columns.filter((c) => dropped.includes(c)).map((c) => c.name), cut };
}
