// Light: the up-to-date check of a dataset reads its manifest and stats its files.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PanicDriftError } from "../common/errors.js";
import { refuseInputs, type ProtectedInput } from "./outputGuard.js";
import { STATE_DIRECTORY } from "./datasetState.js";

/**
 * A dataset directory: hive-partitioned part files that DuckDB, polars,
 * pyarrow and Spark read as one table, and beside them, in `_panic_drift/`
 * (a name every one of those readers skips), one manifest per shard and its
 * lock:
 *
 *     DIR/experiment_id=<id>/part-<i>of<n>-<seq>.parquet
 *     DIR/_panic_drift/shard-<i>of<n>.json
 *
 * Runs without an experiment go to `experiment_id=__HIVE_DEFAULT_PARTITION__`,
 * the name Hive, Spark and pyarrow read as NULL.
 */
export const NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__";

export interface Shard {
  readonly index: number;
  readonly count: number;
}

export function shardTag(shard: Shard): string {
  return `${shard.index}of${shard.count}`;
}

/** The partition directory of an experiment (relative to the dataset). */
export function partitionOf(experimentId: string | null): string {
  return `experiment_id=${experimentId ?? NULL_PARTITION}`;
}

/** A part file's name (relative to the dataset). */
export function partFileName(partition: string, shard: Shard, sequence: number): string {
  return `${partition}/part-${shardTag(shard)}-${String(sequence).padStart(6, "0")}.parquet`;
}

const PART_NAME = /^part-(\d+)of(\d+)-(\d+)\.parquet$/;

/** A part file found in the dataset: its name (relative), the shard that wrote it and its number. */
export interface FoundPart {
  readonly name: string;
  readonly shard: Shard;
  readonly sequence: number;
}

/** Every part file in the dataset's partitions (any shard). */
export function listParts(dir: string): FoundPart[] {
  const parts: FoundPart[] = [];
  for (const partition of readdirSafe(dir)) {
    if (!partition.startsWith("experiment_id=")) continue;
    for (const name of readdirSafe(join(dir, partition))) {
      const match = PART_NAME.exec(name);
      if (match === null) continue;
      parts.push({ name: `${partition}/${name}`, shard: { index: Number(match[1]), count: Number(match[2]) }, sequence: Number(match[3]) });
    }
  }
  return parts.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** A run as a part file and the manifest record it: id, invocations, sum of invocation rowids, digest of its own columns. */
export type RunSignature = [runId: string, invocations: number, invocationRowids: number, record: string];

export interface ManifestFile {
  /** Relative to the dataset. */
  readonly name: string;
  readonly size: string;
  readonly mtimeNs: string;
  /** Index into the manifest's sources. */
  readonly source: number;
  readonly runs: RunSignature[];
  /** Per run (same order): its tally as runTalliesJson writes one (JSON text). */
  readonly tallies: string;
}

export interface ManifestSource {
  readonly path: string;
  readonly description: string;
  /** JSON of its input fingerprint when it was read. */
  readonly fingerprint: string;
  /** The embedding table's state then (SQLite sources that tell what changed), for the next update. */
  readonly embeddings: { maxRowid: number; maxId: string | null; count: number } | null;
}

/** What one shard of a dataset holds, written after its files (see computeDataset). */
export interface Manifest {
  readonly format: "1";
  readonly shard: [number, number];
  /** The settings every part file records (source and fingerprint aside). */
  readonly settings: Record<string, string>;
  readonly sources: ManifestSource[];
  /** Inputs left out as byte-identical copies of a source (absolute path, fingerprint JSON): still watched by the up-to-date check. */
  readonly copies?: { path: string; fingerprint: string }[];
  readonly files: ManifestFile[];
  /** What an up-to-date run reports. */
  readonly result: { rows: number; rows_with_drift: number; null_reasons: Record<string, number>; warnings: string[] };
  readonly sourceCounts: { path: string; runs: number; rows: number; rows_with_drift: number }[];
}

export function manifestPath(dir: string, shard: Shard): string {
  return join(dir, STATE_DIRECTORY, `shard-${shardTag(shard)}.json`);
}

/** The manifest of `shard`, or undefined when there is none or it is not readable as one. */
export function readManifest(dir: string, shard: Shard): Manifest | undefined {
  return parseManifest(manifestPath(dir, shard));
}

/** Every manifest in the dataset (other shards', other shard counts'). */
export function readAllManifests(dir: string): { shard: Shard; manifest: Manifest }[] {
  const found: { shard: Shard; manifest: Manifest }[] = [];
  for (const name of readdirSafe(join(dir, STATE_DIRECTORY))) {
    const match = /^shard-(\d+)of(\d+)\.json$/.exec(name);
    if (match === null) continue;
    const manifest = parseManifest(join(dir, STATE_DIRECTORY, name));
    if (manifest !== undefined) found.push({ shard: { index: Number(match[1]), count: Number(match[2]) }, manifest });
  }
  return found;
}

function parseManifest(path: string): Manifest | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, "utf8")) as Partial<Manifest>;
    if (parsed.format !== "1" || !Array.isArray(parsed.files) || !Array.isArray(parsed.sources) || parsed.settings === undefined) return undefined;
    return parsed as Manifest;
  } catch {
    return undefined;
  }
}

/** Whether a file is as the manifest recorded it (size and nanosecond mtime). */
export function fileUnchanged(dir: string, file: Pick<ManifestFile, "name" | "size" | "mtimeNs">): boolean {
  const stamp = fileStamp(join(dir, file.name));
  return stamp !== undefined && stamp.size === file.size && stamp.mtimeNs === file.mtimeNs;
}

export function fileStamp(path: string): { size: string; mtimeNs: string } | undefined {
  try {
    const s = statSync(path, { bigint: true });
    return { size: s.size.toString(), mtimeNs: s.mtimeNs.toString() };
  } catch {
    return undefined;
  }
}

/** Writes the manifest atomically (never over an input). */
export function writeManifest(dir: string, shard: Shard, manifest: Manifest, inputs: readonly ProtectedInput[]): void {
  const path = manifestPath(dir, shard);
  refuseInputs(path, { label: "the dataset's manifest", remedy: "choose another --out", inputs });
  const temporary = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(temporary, `${JSON.stringify(manifest)}\n`);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new PanicDriftError("OUTPUT_WRITE_FAILED", `cannot write ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** Creates the dataset directory's state directory (and the dataset directory, whose parent must exist). */
export function prepareDataset(dir: string): void {
  try {
    mkdirSync(join(dir, STATE_DIRECTORY), { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new PanicDriftError(
      code === "ENOENT" ? "OUTPUT_DIR_MISSING" : code === "ENOTDIR" || code === "EEXIST" ? "OUTPUT_IS_DIRECTORY" : "OUTPUT_NOT_WRITABLE",
      `cannot make the dataset directory ${dir} (${code ?? "error"}): choose another --out`,
      { cause: error },
    );
  }
}
