// Runs the CLI from source in a child process, for tests that need another
// uid. With PANIC_DRIFT_TEST_UID set (the parent is root), privileges are
// dropped after every module is loaded, so the repository's own path need
// not be readable by that user: only the files the test hands to the CLI.
import Database from "better-sqlite3";
import { runMain } from "../../src/cli/main.js";
// Loaded (below) before the CLI would load it: set what src/sources/sqliteFile.ts sets first.
import "../../src/sources/sqlite/sqliteFile.js";

const uid = process.env.PANIC_DRIFT_TEST_UID;
if (uid !== undefined) {
  // Load better-sqlite3's native addon now; it is otherwise loaded lazily.
  new Database(":memory:").close();
  process.setgid!(Number(uid));
  process.setuid!(Number(uid));
}
await runMain(process.argv);
