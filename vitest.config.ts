import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Pinned so that no test passes only on a UTC machine or a colour terminal.
    env: { TZ: "Pacific/Chatham", NO_COLOR: "1", FORCE_COLOR: "0" },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
  },
});
