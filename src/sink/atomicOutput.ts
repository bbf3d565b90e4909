import { randomBytes } from "node:crypto";
import { closeSync, openSync, readdirSync, renameSync, rmSync, fsyncSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { PanicDriftError } from "../common/errors.js";
import { onInterrupt } from "../common/interruptCleanup.js";
import { processAlive } from "../common/processAlive.js";
import { guardOutput, type OutputPolicy } from "./outputGuard.js";

/**
 * The output is written under a temporary name in its own directory, then
 * renamed over the target: readers see the old complete file or the new
 * complete file, never a partial one. Creating the temporary file up front
 * also proves the directory is writable before any work is done. Every
 * output goes through here, so the output guard (outputGuard.ts) runs
 * before any output is written: never over an input, never over a file
 * panic-drift did not write unless the policy allows it.
 */
export class AtomicOutput {
  readonly target: string;
  readonly temporary: string;
  private settled = false;

  private readonly unregister: () => void;

  private constructor(target: string, temporary: string) {
    this.target = target;
    this.temporary = temporary;
    this.unregister = onInterrupt(() => { rmSync(temporary, { force: true }); });
  }

  static begin(target: string, policy: OutputPolicy): AtomicOutput {
    guardOutput(target, policy);
    const dir = dirname(target);
    removeStaleTemporaries(target);
    const temporary = join(dir, `${temporaryPrefix(target)}${process.pid}-${randomBytes(4).toString("hex")}`);
    try {
      closeSync(openSync(temporary, "wx"));
    } catch (error) {
      throw outputError(error, target);
    }
    return new AtomicOutput(target, temporary);
  }

  /** Makes the temporary file durable, then puts it in place. */
  commit(): void {
    if (this.settled) throw new Error("output already committed or aborted");
    try {
      const fd = openSync(this.temporary, "r");
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(this.temporary, this.target);
      this.settled = true;
      this.unregister();
    } catch (error) {
      this.abort();
      throw outputError(error, this.target);
    }
  }

  /** Removes the temporary file; the target is left as it was. */
  abort(): void {
    if (this.settled) return;
    this.settled = true;
    rmSync(this.temporary, { force: true });
    this.unregister();
  }
}

function temporaryPrefix(target: string): string {
  return `.${basename(target)}.tmp-`;
}

/** Temporary files of runs that were killed (-9: nothing of theirs ran) while writing `target`. */
function removeStaleTemporaries(target: string): void {
  const prefix = temporaryPrefix(target);
  let names: string[];
  try {
    names = readdirSync(dirname(target)).filter((n) => n.startsWith(prefix));
  } catch {
    return; // the guard has reported a missing directory
  }
  for (const name of names) {
    const pid = Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1]);
    if (!processAlive(pid)) rmSync(join(dirname(target), name), { force: true });
  }
}

function outputError(error: unknown, target: string): PanicDriftError {
  if (error instanceof PanicDriftError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const dir = dirname(target);
  if (code === "EACCES" || code === "EPERM" || code === "EROFS") {
    return new PanicDriftError("OUTPUT_NOT_WRITABLE", `cannot write ${target}: directory ${dir} is not writable (${code}): choose another --out`, { cause: error });
  }
  if (code === "ENOENT") {
    return new PanicDriftError("OUTPUT_DIR_MISSING", `output directory ${dir} does not exist: create it or choose another --out`, { cause: error });
  }
  return new PanicDriftError("OUTPUT_WRITE_FAILED", `cannot write ${target}: ${(error as Error).message}`, { cause: error });
}
