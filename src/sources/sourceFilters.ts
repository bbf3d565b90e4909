/** The --experiment, --run and --model filters, and how a frame records them. */

/**
 * What to read of a database: only these experiments, runs or embedding
 * models (each list, when given and not empty, must match). Ids match with or
 * without hyphens and in any case: the frame shows them hyphenated, first-
 * generation databases store them bare.
 */
export interface SourceFilters {
  readonly experiments?: readonly string[];
  readonly runs?: readonly string[];
  readonly models?: readonly string[];
}

export function idKey(id: string): string {
  return id.replaceAll("-", "").toLowerCase();
}

/** The filters in one canonical string, for the up-to-date check ("" when there are none). */
export function filtersKey(filters: SourceFilters = {}): string {
  const entries = (["experiments", "runs", "models"] as const)
    .map((k) => [k, [...new Set((filters[k] ?? []).map((v) => (k === "models" ? v : idKey(v))))].sort()] as const)
    .filter(([, v]) => v.length > 0);
  return entries.length === 0 ? "" : JSON.stringify(Object.fromEntries(entries));
}

/** The filters as options, for messages: `--experiment … --run … --model …`. */
export function filtersText(filters: SourceFilters = {}): string {
  const options = [
    ["--experiment", filters.experiments],
    ["--run", filters.runs],
    ["--model", filters.models],
  ] as const;
  return options.flatMap(([option, values]) => (values ?? []).map((v) => `${option} ${v}`)).join(" ");
}
