// Light: taken before the heavy half loads.
import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { EXIT_LOCKED, PanicDriftError } from "../errors.js";
import { onInterrupt } from "../interruptCleanup.js";
import { processAlive } from "../processAlive.js";

/** How often a waiting run looks at the lock again. */
const POLL_MILLISECONDS = 100;
/** A lock file without readable content this old was left by a run killed while creating it. */
const UNREADABLE_STALE_MILLISECONDS = 10_000;

interface LockOwner {
  pid: number;
  host: string;
  started: string;
}

/**
 * `<out>.lock`: two runs for one output never compute and write it at once.
 * The file names its owner (pid, host, start); a lock whose owner is gone
 * (a process on this host that no longer exists) is taken over.
 */
export class OutputLock {
  private constructor(
    readonly path: string,
    private readonly unregister: () => void,
  ) {}

  /**
   * Takes the lock of `target`, waiting up to `waitSeconds` for another run
   * to finish; undefined when the directory cannot hold a lock file (the
   * sink then reports what is wrong with it).
   */
  static async acquire(target: string, waitSeconds: number): Promise<OutputLock | undefined> {
    const path = `${target}.lock`;
    const deadline = performance.now() + waitSeconds * 1000;
    for (;;) {
      const taken = tryCreate(path);
      if (taken === "created") return new OutputLock(path, onInterrupt(() => rmSync(path, { force: true })));
      if (taken === "unusable") return undefined;
      const owner = readOwner(path);
      if (owner === "gone") continue;
      if (owner === "stale") {
        rmSync(path, { force: true });
        continue;
      }
      if (performance.now() >= deadline) {
        const who = owner === "unknown" ? "another run" : `another panic-drift (pid ${owner.pid} on ${owner.host}, since ${owner.started})`;
        throw new PanicDriftError(
          "OUTPUT_LOCKED",
          `${who} is writing ${target} (lock ${path}): let it finish, or pass --wait SECONDS to wait for it`,
          { exitCode: EXIT_LOCKED },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MILLISECONDS));
    }
  }

  release(): void {
    this.unregister();
    rmSync(this.path, { force: true });
  }
}

function tryCreate(path: string): "created" | "exists" | "unusable" {
  let fd: number;
  try {
    fd = openSync(path, "wx");
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EEXIST" ? "exists" : "unusable";
  }
  try {
    const owner: LockOwner = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
    writeSync(fd, `${JSON.stringify(owner)}\n`);
  } finally {
    closeSync(fd);
  }
  return "created";
}

/** Who holds the lock; "stale" when that process is gone, "gone" when the file vanished meanwhile. */
function readOwner(path: string): LockOwner | "stale" | "gone" | "unknown" {
  let text: string;
  let age: number;
  try {
    text = readFileSync(path, "utf8");
    age = Date.now() - statSync(path).mtimeMs;
  } catch {
    return "gone";
  }
  let owner: LockOwner;
  try {
    owner = JSON.parse(text) as LockOwner;
    if (typeof owner.pid !== "number" || typeof owner.host !== "string") throw new Error("not an owner");
  } catch {
    return age > UNREADABLE_STALE_MILLISECONDS ? "stale" : "unknown";
  }
  // Only a process on this host can be checked; one elsewhere (a shared disk) is trusted.
  if (owner.host === hostname() && !processAlive(owner.pid)) return "stale";
  return owner;
}
