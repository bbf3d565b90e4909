// Light: taken before the heavy half loads.
import { createHash } from "node:crypto";
import { closeSync, linkSync, lstatSync, openSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { hostname } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { PanicDriftError } from "../common/errors.js";
import { interruptibleDelay, onInterrupt, throwIfInterrupted } from "../common/interruptCleanup.js";
import { processAlive } from "../common/processAlive.js";
import { readRegularFileSync } from "../common/regularFile.js";

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
 *
 * The file names its owner (pid, host, start) for messages and for runs on
 * other hosts that share the directory. On this host the lock is also held
 * in the kernel, as a Unix socket bound to an abstract name derived from the
 * lock's real path (Linux): binding is atomic, only one process can hold the
 * name, and the kernel frees it when that process ends, even by kill -9.
 * Only the holder of the name creates the file, or removes a file left by a
 * process of this host that is gone, so that however many runs find a stale
 * lock at once, exactly one of them takes it over. (Elsewhere than Linux
 * the file alone is the lock, and a stale one is removed by whoever finds
 * it first.)
 */
export class OutputLock {
  private constructor(
    readonly path: string,
    private readonly hostMutex: Server | undefined,
    private readonly unregister: () => void,
  ) {}

  /**
   * Takes the lock of `target`, waiting up to `waitSeconds` for another run
   * to finish; undefined when the directory cannot hold a lock file (the
   * sink then reports what is wrong with it).
   */
  static async acquire(target: string, waitSeconds: number, signal?: AbortSignal): Promise<OutputLock | undefined> {
    const path = `${target}.lock`;
    const deadline = performance.now() + waitSeconds * 1000;
    for (;;) {
      refuseNonFile(path, target);
      const mutex = await bindHostMutex(path);
      if (signal?.aborted === true) {
        if (mutex !== "busy") mutex?.close();
        throwIfInterrupted(signal);
      }
      if (mutex !== "busy") {
        if (mutex !== undefined) removeLeftAside(path);
        const taken = takeFile(path, mutex !== undefined);
        if (taken === "created") {
          return new OutputLock(path, mutex, onInterrupt(() => { rmSync(path, { force: true }); }));
        }
        mutex?.close();
        if (taken === "unusable") return undefined;
      }
      if (performance.now() >= deadline) {
        const owner = readOwner(path);
        const who = typeof owner === "object" ? `another panic-drift (pid ${owner.pid} on ${owner.host}, since ${owner.started})` : "another run";
        throw new PanicDriftError("OUTPUT_LOCKED", `${who} is writing ${target} (lock ${path}): let it finish, or pass --wait SECONDS to wait for it`);
      }
      await interruptibleDelay(POLL_MILLISECONDS, signal);
    }
  }

  release(): void {
    this.unregister();
    rmSync(this.path, { force: true });
    this.hostMutex?.close();
  }
}

/**
 * Creates the lock file. With the host mutex held, a file left by a process
 * of this host that is gone (or unreadable for long) is removed first:
 * nobody else on this host can be doing the same.
 */
function takeFile(path: string, mutexHeld: boolean): "created" | "held" | "unusable" {
  for (let attempt = 0; attempt < 2; attempt++) {
    const created = tryCreate(path);
    if (created !== "exists") return created;
    const owner = readOwner(path);
    if (owner === "gone") continue;
    if (owner === "stale" && (mutexHeld || process.platform !== "linux")) {
      rmSync(path, { force: true });
      continue;
    }
    return "held";
  }
  return "held";
}

/** A directory (or anything but a file) at the lock path is never a lock of ours: an error, not a wait. */
function refuseNonFile(path: string, target: string): void {
  let stats;
  try {
    stats = lstatSync(path);
  } catch {
    return;
  }
  if (!stats.isFile()) {
    const what = stats.isDirectory() ? "a directory" : stats.isSymbolicLink() ? "a symbolic link" : "not a regular file";
    throw new PanicDriftError(
      "OUTPUT_LOCK_UNUSABLE",
      `the lock path ${path} of ${target} is ${what}, not panic-drift's lock file: move it away, or choose another --out`,
    );
  }
}

/**
 * Binds the abstract Unix socket that stands for `path` on this host:
 * the server (held), "busy" (another process holds it), or undefined where
 * there are no abstract sockets (not Linux) or binding fails otherwise.
 */
function bindHostMutex(path: string): Promise<Server | "busy" | undefined> {
  if (process.platform !== "linux") return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => { resolve(error.code === "EADDRINUSE" ? "busy" : undefined); });
    server.listen(`\0panic-drift-lock-${createHash("sha256").update(realLockPath(path)).digest("hex")}`, () => {
      // Never keeps the process alive: the lock lasts as long as the run does.
      server.unref();
      resolve(server);
    });
  });
}

/** The lock's path with its directory's symbolic links resolved: one name per file, however it is spelled. */
function realLockPath(path: string): string {
  const absolute = resolve(path);
  try {
    return join(realpathSync(dirname(absolute)), basename(absolute));
  } catch {
    return absolute;
  }
}

function tryCreate(path: string): "created" | "exists" | "unusable" {
  const owner: LockOwner = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  const content = `${JSON.stringify(owner)}\n`;
  // Written aside and hard-linked into place, so that the lock file never exists empty or half-written: a run
  // killed between creating it and writing its owner would otherwise leave a file nobody can tell is stale.
  const aside = `${path}.${owner.host}.${owner.pid}.tmp`;
  try {
    writeFileSync(aside, content, { flag: "w" });
  } catch {
    return createInPlace(path, content);
  }
  try {
    linkSync(aside, path);
    return "created";
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return "exists";
    // A file system without hard links: created in place, as before.
    return createInPlace(path, content);
  } finally {
    rmSync(aside, { force: true });
  }
}

function createInPlace(path: string, content: string): "created" | "exists" | "unusable" {
  let fd: number;
  try {
    fd = openSync(path, "wx");
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EEXIST" ? "exists" : "unusable";
  }
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  return "created";
}

/**
 * Removes what runs of this host killed while taking the lock left beside
 * it (`<lock>.<host>.<pid>.tmp` of a process that is gone). Only called by
 * the holder of the host's name, so no live run's file is touched.
 */
function removeLeftAside(path: string): void {
  const prefix = `${basename(path)}.${hostname()}.`;
  let names: string[];
  try {
    names = readdirSync(dirname(path)).filter((name) => name.startsWith(prefix) && name.endsWith(".tmp"));
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(name.slice(prefix.length, -".tmp".length));
    if (pid !== process.pid && !processAlive(pid)) rmSync(join(dirname(path), name), { force: true });
  }
}

/** Who holds the lock; "stale" when that process is gone, "gone" when the file vanished meanwhile. */
function readOwner(path: string): LockOwner | "stale" | "gone" | "unknown" {
  let text: string;
  let age: number;
  try {
    text = readRegularFileSync(path).toString("utf8");
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
