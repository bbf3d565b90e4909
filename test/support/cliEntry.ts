// Runs the CLI from source in a child process, for tests that need another
// uid. With PANIC_DRIFT_TEST_UID set (the parent is root), privileges are
// dropped after every module is loaded, so the repository's own path need
// not be readable by that user: only the files the test hands to the CLI.
import Database from "better-sqlite3";
import { runMain } from "../../src/cli/main.js";

const uid = process.env.PANIC_DRIFT_TEST_UID;
if (uid !== undefined) {
  // Load better-sqlite3's native addon now; it is otherwise loaded lazily. It reads SQLITE_USE_URI once, as it loads
  // (see src/sources/sqlite/sqliteFile.ts): set it as the product would before its first connection.
  process.env.SQLITE_USE_URI ??= "1";
  new Database(":memory:").close();
  process.setgid!(Number(uid));
  process.setuid!(Number(uid));
}
await runMain(process.argv);
