// Light: compute runs it before taking the output's lock.
import { realpathSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { PanicDriftError } from "../common/errors.js";
import { datasetAbove, isDataset, STATE_DIRECTORY } from "./datasetState.js";
import { existingOutputKind, type OutputKind } from "./outputKind.js";

/** A file a command reads: no output of that command may ever replace it. */
export interface ProtectedInput {
  readonly path: string;
  /** What it is, for messages: "the database", "the --prompt-vectors file", … */
  readonly what: string;
}

/** What may be written at an output path, and how to name it in messages. */
export interface OutputPolicy {
  readonly kind: OutputKind;
  /** How the output is named to the user: "--out", "--spec", "the reference cache". */
  readonly label: string;
  /** What to do instead, e.g. "choose another --out". */
  readonly remedy: string;
  /** Every file the command reads. */
  readonly inputs: readonly ProtectedInput[];
  /** Replace an existing file even if panic-drift did not write it, or wrote another kind of file. */
  readonly overwrite: boolean;
  /** A dataset's own part file, written inside it (any other parquet output inside a dataset is refused). */
  readonly datasetPart?: boolean;
}

/**
 * The one check before anything is written (AtomicOutput.begin runs it, and
 * commands run it early, before any work, with `place: false`): the output's
 * directory exists and the output is not a directory; `target` must not be any input,
 * by path through symbolic links (of the file or of a directory above it)
 * or as the same file by a hard link; and an existing file there is
 * replaced only when panic-drift wrote it and it is of the same kind, unless
 * `overwrite`. Inputs are refused even with `overwrite`. A parquet file
 * inside a dataset directory (other than the dataset's own part files) is
 * refused too: the dataset's readers (a glob of every parquet file under
 * the directory) would take it for part of the dataset.
 */
export function guardOutput(target: string, policy: OutputPolicy, options: { place?: boolean } = {}): void {
  // Early calls (before the inputs are opened) leave a missing directory to be reported after the inputs' own problems.
  if (options.place !== false) checkPlace(target, policy.label);
  refuseInputs(target, policy);
  if (policy.datasetPart !== true && target.endsWith(".parquet")) {
    const dataset = datasetAbove(target);
    if (dataset !== undefined) {
      throw new PanicDriftError(
        "OUTPUT_INSIDE_DATASET",
        `${policy.label} ${target} is inside the dataset ${dataset} (it has ${STATE_DIRECTORY}/), whose readers would take it for part of the dataset: ${policy.remedy} outside ${dataset}`,
      );
    }
  }
  if (policy.overwrite || isDirectory(target)) return;
  const found = existingOutputKind(target);
  if (found === "absent" || found === "empty" || found === policy.kind) return;
  const what =
    found === "foreign"
      ? "already exists and panic-drift did not write it"
      : `holds a ${found} that panic-drift wrote, not a ${policy.kind}`;
  throw new PanicDriftError("OUTPUT_FOREIGN", `${policy.label} ${target} ${what}: ${policy.remedy}, or pass --overwrite to replace it`);
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The output's directory must exist, and the output must not be a directory. */
function checkPlace(target: string, label: string): void {
  const dir = dirname(resolve(target));
  let dirStats;
  try {
    dirStats = statSync(dir);
  } catch {
    throw new PanicDriftError("OUTPUT_DIR_MISSING", `output directory ${dir} does not exist: create it or choose another ${label}`);
  }
  if (!dirStats.isDirectory()) throw new PanicDriftError("OUTPUT_DIR_MISSING", `output directory ${dir} is not a directory: choose another ${label}`);
  let stats;
  try {
    stats = statSync(target);
  } catch {
    return;
  }
  if (stats.isDirectory()) {
    if (isDataset(target)) throw new PanicDriftError("OUTPUT_IS_DIRECTORY", `output ${target} is a dataset directory, not a file: give ${label} DIR/ (or --layout dataset) to update the dataset, or a file name outside it`);
    throw new PanicDriftError("OUTPUT_IS_DIRECTORY", `output ${target} is a directory: give ${label} a file name such as ${join(target, "drift.parquet")}`);
  }
}

/** Refuses an output that is one of the inputs (OUTPUT_IS_INPUT), however it is spelled. */
export function refuseInputs(target: string, policy: Pick<OutputPolicy, "label" | "remedy" | "inputs">): void {
  const output = identity(target);
  for (const input of policy.inputs) {
    const found = identity(input.path);
    const samePath = output.paths.some((p) => found.paths.includes(p));
    const sameFile = output.file !== undefined && output.file === found.file;
    if (!samePath && !sameFile) continue;
    const plain = resolve(target) === resolve(input.path);
    const how = plain ? "" : samePath ? " (through a symbolic link)" : " (the same file by a hard link)";
    throw new PanicDriftError(
      "OUTPUT_IS_INPUT",
      `${policy.label} ${target} is ${input.what} ${input.path}${how}: writing it would destroy it; ${policy.remedy}`,
    );
  }
}

interface FileIdentity {
  /** Absolute paths that name it: as given, and with every symbolic link resolved. */
  readonly paths: readonly string[];
  /** device:inode, when it exists. */
  readonly file: string | undefined;
}

/**
 * The ways to name `path`. An output that does not exist yet is named by its
 * directory's real path and its own name (rename puts the new file there).
 */
function identity(path: string): FileIdentity {
  const absolute = resolve(path);
  const paths = [absolute];
  let file: string | undefined;
  try {
    paths.push(realpathSync(absolute));
    const stats = statSync(absolute, { bigint: true });
    file = `${stats.dev}:${stats.ino}`;
  } catch {
    /* missing: named by its directory below */
  }
  try {
    paths.push(join(realpathSync(dirname(absolute)), basename(absolute)));
  } catch {
    /* a missing directory is reported by whoever writes */
  }
  return { paths: [...new Set(paths)], file };
}
