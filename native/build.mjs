// The package's install script: builds the SQLite row-packing extension
// (binding.gyp) with node-gyp, unless it is already built from these
// sources. `npm install -g .` in a clone, or any later install, then leaves a
// working library alone instead of deleting and rebuilding it under readers
// that may be loading it. Without a C compiler it warns and succeeds: compute
// reads row by row without the library.
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const library = `${root}/build/Release/panic_drift_sqlite.node`;
const sources = [`${root}/native/panic_drift_sqlite.c`, `${root}/native/readahead_vfs.c`, `${root}/native/packed_output.c`, `${root}/native/packed_output.h`, `${root}/native/column_kinds.c`, `${root}/native/column_kinds.h`, `${root}/binding.gyp`];

const built = existsSync(library) && sources.every((source) => statSync(source).mtimeMs <= statSync(library).mtimeMs);
if (!built) {
  const result = spawnSync("node-gyp", ["rebuild"], { cwd: root, stdio: "inherit", shell: process.platform === "win32" });
  if (result.status !== 0) {
    process.stderr.write("panic-drift: warning: the SQLite row-packing extension did not build (a C compiler is needed); compute works without it, with more CPU\n");
  }
}
