import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { PanicDriftError } from "../../common/errors.js";
import { onInterrupt } from "../../common/interruptCleanup.js";
import { processAlive } from "../../common/processAlive.js";
import type { Metric } from "../../kernel/metric.js";
import type { ReferenceMode } from "../../kernel/referenceMode.js";
import type { ProtectedInput } from "../../sink/outputGuard.js";
import { filtersText } from "../../sources/sourceFilters.js";
import type { ComputeOptions, ComputePlan } from "../plan.js";

/** A compute over several inputs, or into a dataset, as computeDrift planned it. */
export interface SeveralPlan {
  readonly options: ComputeOptions;
  /** The inputs, globs expanded (as given, or absolute from a glob). */
  readonly paths: readonly string[];
  readonly metric: Metric;
  readonly reference: ReferenceMode;
  readonly excluded: string[];
  readonly started: number;
  /** The output file, or the dataset's directory (absolute). */
  readonly output: string;
  /** Every file the compute reads. */
  readonly inputs: readonly ProtectedInput[];
}

/** The single-input plan each input's frame is computed with. */
export function singlePlan(plan: SeveralPlan, db: string, output: string): ComputePlan {
  const { options, metric, reference, excluded, started, inputs } = plan;
  return { options: { ...options, db }, metric, reference, output, excluded, started, inputs };
}

export function framePolicy(plan: SeveralPlan) {
  return { kind: "drift frame", label: "--out", remedy: "choose another --out", inputs: plan.inputs, overwrite: plan.options.overwrite === true } as const;
}

/** A --run value that is in none of the inputs (in one of them is enough). */
export function refuseUnmatchedRuns(plan: SeveralPlan, runIds: readonly string[]): void {
  const wanted = plan.options.filters?.runs ?? [];
  if (wanted.length === 0) return;
  const key = (id: string) => id.replaceAll("-", "").toLowerCase();
  const present = new Set(runIds.map(key));
  const missing = wanted.filter((id) => !present.has(key(id)));
  if (missing.length > 0) {
    throw new PanicDriftError("FILTER_MATCHES_NOTHING", `--run ${missing[0]} matches no run of the ${plan.paths.length} inputs: check the id (hyphens optional); nothing was written`);
  }
}

/** Filters that together keep no row of any input. */
export function refuseEmptyFilters(plan: SeveralPlan, rows: number): void {
  const filters = filtersText(plan.options.filters);
  if (filters !== "" && rows === 0) {
    throw new PanicDriftError("FILTER_MATCHES_NOTHING", `${filters} together match no text embedding of the ${plan.paths.length} inputs: check the filters; nothing was written`);
  }
}

/** A directory of the run's own beside `output` (same disk), removed at the end or on a signal. */
export function workDirectory(output: string): { path: string; remove(): void } {
  removeStaleWorkDirectories(output);
  let path: string;
  try {
    path = mkdtempSync(join(dirname(output), `.${basename(output)}.work-${process.pid}-`));
  } catch (error) {
    throw new PanicDriftError("OUTPUT_NOT_WRITABLE", `cannot write in ${dirname(output)} (${(error as NodeJS.ErrnoException).code ?? "error"}): choose another --out`, { cause: error });
  }
  const unregister = onInterrupt(() => { rmSync(path, { recursive: true, force: true }); });
  return {
    path,
    remove() {
      rmSync(path, { recursive: true, force: true });
      unregister();
    },
  };
}


/** Work directories of runs that were killed (-9: nothing of theirs ran) while writing `output` (also when it is now up to date). */
export function removeStaleWorkDirectories(output: string): void {
  const prefix = `.${basename(output)}.work-`;
  let names: string[];
  try {
    names = readdirSync(dirname(output)).filter((name) => name.startsWith(prefix));
  } catch {
    return; // a missing directory is reported when the work directory is made
  }
  for (const name of names) {
    const pid = Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1]);
    if (!processAlive(pid)) rmSync(join(dirname(output), name), { recursive: true, force: true });
  }
}
