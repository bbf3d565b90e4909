import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Pinned so that no test passes only on a UTC machine or a colour terminal.
    // SQLITE_USE_URI: a test may load better-sqlite3 (building a database) before the product's first connection,
    // which otherwise sets it (see src/sources/sqlite/sqliteFile.ts).
    env: { TZ: "Pacific/Chatham", NO_COLOR: "1", FORCE_COLOR: "0", SQLITE_USE_URI: "1" },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Vitest's default is one file at a time on two cores; much of the suite waits on child processes (CLI runs,
    // signals, locks), so two at a time fit there: measured 183 s against 250 s on two cores, same results.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
