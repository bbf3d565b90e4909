import { createHash } from "node:crypto";
import { createReadStream, statSync } from "node:fs";
import { join } from "node:path";
import { PanicDriftError } from "../../common/errors.js";
import { throwIfInterrupted } from "../../common/interruptCleanup.js";
import type { RunRecord } from "../../frame/runTable.js";
import { EXPORT_FILES } from "../../sources/export/exportTables.js";
import type { InputFingerprint } from "../../sources/inputFingerprint.js";
import { openSource } from "../../sources/openSource.js";
import type { SourceFilters } from "../../sources/sourceFilters.js";
import type { DriftSource } from "../../sources/driftSource.js";

/** One input of a compute over several, as found before anything is computed. */
export interface SourceInventory {
  readonly path: string;
  /** What it is, for messages: "first-generation panic-tda SQLite database", … */
  readonly description: string;
  readonly fingerprint: InputFingerprint;
  /** Its runs (filters applied), in the output's run order. */
  readonly runs: readonly RunRecord[];
}

/** Called with each input while it is open (its snapshot pinned): what an update needs to know of it. */
export type Examine = (source: DriftSource, inventory: SourceInventory) => void;

/**
 * Opens each input in turn (one at a time: a lab may have hundreds), reads
 * its runs and, where the source can tell, its snapshot state. A run id met
 * in two inputs is an error naming both (copies of one database are a common
 * mistake), unless the two are byte-identical files: then the second is left
 * out, with a warning (and listed among the copies: still an input to watch).
 */
export async function takeInventory(
  paths: readonly string[],
  options: { immutable: boolean; filters: SourceFilters; signal?: AbortSignal; examine?: Examine },
): Promise<{ sources: SourceInventory[]; copies: SourceInventory[]; warnings: string[] }> {
  const sources: SourceInventory[] = [];
  const copies: SourceInventory[] = [];
  const warnings: string[] = [];
  const owner = new Map<string, SourceInventory>();
  for (const path of paths) {
    throwIfInterrupted(options.signal);
    const inventory = readInventory(path, options);
    const shared = inventory.runs.filter((run) => owner.has(run.run_id));
    const first = shared[0];
    if (first !== undefined) {
      const other = owner.get(first.run_id)!;
      if (await sameContent(other.path, path)) {
        warnings.push(`${path} is a copy of ${other.path} (the same bytes): it was read once`);
        copies.push(inventory);
        continue;
      }
      const more = shared.length > 1 ? ` (and ${shared.length - 1} more of its runs)` : "";
      throw new PanicDriftError(
        "RUN_IN_TWO_SOURCES",
        `run ${first.run_id}${more} is in both ${other.path} and ${path}, which are not copies of one file: give each experiment's database once (a copy made while the experiment ran differs from the original)`,
      );
    }
    for (const run of inventory.runs) owner.set(run.run_id, inventory);
    sources.push(inventory);
  }
  return { sources, copies, warnings };
}

function readInventory(path: string, options: { immutable: boolean; filters: SourceFilters; examine?: Examine }): SourceInventory {
  // The filters apply as to one input; a --run or --model value that matches nothing here may match in another (checked over all of them).
  const source = openSource(path, { immutable: options.immutable, filters: options.filters });
  try {
    source.pin();
    const table = source.runRecords();
    const runs: RunRecord[] = [];
    for (let index = 0; index < table.size; index++) runs.push(table.record(index));
    // The source's own, taken as it opened (after SQLite made the -wal it keeps beside a WAL database).
    const inventory = { path, description: source.description, fingerprint: source.fingerprint, runs };
    options.examine?.(source, inventory);
    return inventory;
  } finally {
    source.close();
  }
}

/** Whether two inputs hold the same bytes: two files, or two export directories file by file. */
async function sameContent(a: string, b: string): Promise<boolean> {
  const directory = statSync(a).isDirectory();
  if (directory !== statSync(b).isDirectory()) return false;
  const pairs = directory ? EXPORT_FILES.map((name) => [join(a, name), join(b, name)] as const) : [[a, b] as const];
  for (const [x, y] of pairs) {
    if (statSync(x).size !== statSync(y).size) return false;
    if ((await digest(x)) !== (await digest(y))) return false;
  }
  return true;
}

async function digest(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
