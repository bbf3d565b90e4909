import type { RunRecord } from "../frame/runTable.js";
import { hyphenateUuid } from "../frame/uuidText.js";
import { idKey, type SourceFilters } from "./driftSource.js";
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
      initial_prompt: prompt == null ? "" : String(prompt),
      network: path ?? null,
      experiment_id: experimentId == null ? null : hyphenateUuid(String(experimentId)),
    },
    badNetwork: path === undefined,
  };
}

/** The runs in the output's order. */
export function inRunOrder<T extends { sortKey: Buffer }>(runs: T[]): T[] {
  return runs.sort((a, b) => Buffer.compare(a.sortKey, b.sortKey));
}

/**
 * The runs the --run and --experiment filters keep (ids match with or
 * without hyphens, in any case), and a warning for each filter value that
 * matches no run of `source`.
 */
export function filterRuns<T extends { record: RunRecord }>(runs: T[], filters: SourceFilters, source: string): { kept: T[]; warnings: string[] } {
  const wanted = new Set((filters.runs ?? []).map(idKey));
  const experiments = new Set((filters.experiments ?? []).map(idKey));
  if (wanted.size === 0 && experiments.size === 0) return { kept: runs, warnings: [] };
  const kept = runs.filter(
    ({ record }) =>
      (wanted.size === 0 || wanted.has(idKey(record.run_id))) &&
      (experiments.size === 0 || (record.experiment_id !== null && experiments.has(idKey(record.experiment_id)))),
  );
  const warnings = [
    ...[...wanted].filter((r) => !runs.some(({ record }) => idKey(record.run_id) === r)).map((r) => `--run ${r}`),
    ...[...experiments].filter((x) => !runs.some(({ record }) => record.experiment_id !== null && idKey(record.experiment_id) === x)).map((x) => `--experiment ${x}`),
  ].map((filter) => `${filter} matches no run of ${source}`);
  return { kept, warnings };
}

/** The warning for runs whose network is not a JSON list (undefined when there are none). */
export function badNetworksWarning(runs: readonly { badNetwork: boolean }[], source: string): string | undefined {
  const bad = runs.filter((run) => run.badNetwork).length;
  return bad === 0 ? undefined : `${bad} runs of ${source} have a network that is not a JSON list of model names; their network column is NULL`;
}
