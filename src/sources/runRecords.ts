import type { RunRecord } from "../frame/runTable.js";
import { hyphenateUuid } from "../frame/uuidText.js";
import { PanicDriftError } from "../common/errors.js";
import { idKey, type SourceFilters } from "./sourceFilters.js";
import { networkPath } from "./networkPath.js";

/** A run as a source stores it (its id as stored), as the frame shows it, and its key in the output's run order. */
export interface StoredRun<Id> {
  readonly storedId: Id;
  /** run_id as the frame shows it, as UTF-8 bytes: the output's run order (DuckDB compares text by bytes). */
  readonly sortKey: Buffer;
  readonly record: RunRecord;
  /** The network is not a JSON list of model names (its column is NULL). */
  readonly badNetwork: boolean;
}

/** One row of a runs table (id, initial_prompt, network, experiment_id) as the frame shows it. */
export function storedRun<Id>(storedId: Id, prompt: unknown, network: unknown, experimentId: unknown): StoredRun<Id> {
  const path = networkPath(network);
  const runId = hyphenateUuid(String(storedId));
  return {
    storedId,
    sortKey: Buffer.from(runId, "utf8"),
    record: {
      run_id: runId,
      initial_prompt: prompt == null ? "" : storedText(prompt),
      network: path ?? null,
      experiment_id: experimentId == null ? null : hyphenateUuid(storedText(experimentId)),
    },
    badNetwork: path === undefined,
  };
}

/** A stored value as String() gives it: an input may hold text as a number or as bytes, so its type is honestly unknown. */
function storedText(value: unknown): string {
  return String(value);
}

/** The runs in the output's order. */
export function inRunOrder<T extends { sortKey: Buffer }>(runs: T[]): T[] {
  return runs.sort((a, b) => Buffer.compare(a.sortKey, b.sortKey));
}

/** A --run, --experiment or --model value that matches nothing in the input, with what the input does hold. */
export interface UnmatchedFilter {
  readonly option: "--run" | "--experiment" | "--model";
  readonly value: string;
  /** The values that exist (models, experiments; not runs: too many to name). */
  readonly known: readonly string[];
}

/**
 * The runs the --run and --experiment filters keep (ids match with or
 * without hyphens, in any case), and each filter value that matches no run.
 */
export function filterRuns<T extends { record: RunRecord }>(runs: T[], filters: SourceFilters): { kept: T[]; unmatched: UnmatchedFilter[] } {
  const wanted = new Set((filters.runs ?? []).map(idKey));
  const experiments = new Set((filters.experiments ?? []).map(idKey));
  if (wanted.size === 0 && experiments.size === 0) return { kept: runs, unmatched: [] };
  const kept = runs.filter(
    ({ record }) =>
      (wanted.size === 0 || wanted.has(idKey(record.run_id))) &&
      (experiments.size === 0 || (record.experiment_id !== null && experiments.has(idKey(record.experiment_id)))),
  );
  const runIds = new Set(runs.map(({ record }) => idKey(record.run_id)));
  const knownExperiments = [...new Set(runs.flatMap(({ record }) => (record.experiment_id === null ? [] : [record.experiment_id])))].sort();
  const unmatched: UnmatchedFilter[] = [
    ...(filters.runs ?? []).filter((r) => !runIds.has(idKey(r))).map((value) => ({ option: "--run" as const, value, known: [] })),
    ...(filters.experiments ?? [])
      .filter((x) => !knownExperiments.some((known) => idKey(known) === idKey(x)))
      .map((value) => ({ option: "--experiment" as const, value, known: knownExperiments })),
  ];
  return { kept, unmatched };
}

/** At most this many existing values are named in the message. */
const NAMED_VALUES = 12;

/**
 * The error for filter values that match nothing (nothing is written): one
 * line naming each value and, for models and experiments, what exists.
 */
export function unmatchedFilterError(unmatched: readonly UnmatchedFilter[], source: string): PanicDriftError {
  const parts = unmatched.map(({ option, value, known }) => {
    const what = option === "--model" ? "embedding" : "run";
    const kinds = option === "--model" ? "embedding models" : "experiments";
    const named = known.length === 0 ? "" : ` (its ${kinds}: ${known.slice(0, NAMED_VALUES).join(", ")}${known.length > NAMED_VALUES ? `, and ${known.length - NAMED_VALUES} more` : ""})`;
    return `${option} ${value} matches no ${what} of ${source}${named}`;
  });
  const advice = unmatched.some((u) => u.option === "--model") ? "check the spelling (model names are case-sensitive)" : "check the id (hyphens optional)";
  return new PanicDriftError("FILTER_MATCHES_NOTHING", `${parts.join("; ")}: ${advice}; nothing was written`);
}

/** The warning for runs whose network is not a JSON list (undefined when there are none). */
export function badNetworksWarning(runs: readonly { badNetwork: boolean }[], source: string): string | undefined {
  const bad = runs.filter((run) => run.badNetwork).length;
  return bad === 0 ? undefined : `${bad} runs of ${source} have a network that is not a JSON list of model names; their network column is NULL`;
}
