// Light: read by the up-to-date check.
import { createHash } from "node:crypto";
import { PanicDriftError } from "../common/errors.js";
import { NotRegularFileError, readRegularFileSync } from "../common/regularFile.js";
import type { OutputPolicy, ProtectedInput } from "../sink/outputGuard.js";

/**
 * Reference vectors fetched from a command or a server are kept beside the
 * output, `<out without .parquet>.prompts.parquet`, and reused by every
 * later run: a cron run embeds only prompts it has not seen. An entry
 * counts only for the embedder it came from (its `source`).
 */
export function referenceCachePath(out: string): string {
  return `${out.replace(/\.parquet$/i, "")}.prompts.parquet`;
}

/** What the up-to-date check compares: the cache's bytes (empty when there is none). */
export function referenceCacheDigest(path: string): string {
  let bytes: Buffer;
  try {
    bytes = readRegularFileSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "";
    if (error instanceof NotRegularFileError) {
      throw new PanicDriftError("REFERENCE_CACHE_INVALID", `the reference cache ${path} is ${error.kind}, not a file: move it away, or choose another --out (the cache is kept beside it)`);
    }
    throw error;
  }
  return createHash("sha256").update(bytes).digest("hex");
}


/** How compute may write the reference cache beside `out`: never over an input, over a foreign file only with --overwrite. */
export function referenceCachePolicy(inputs: readonly ProtectedInput[], overwrite: boolean): OutputPolicy {
  return { kind: "reference cache", label: "the reference cache", remedy: "choose another --out (the cache is kept beside it)", inputs, overwrite };
}
