#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.trim_threshold=536870912 node --max-semi-space-size=2
// Thin launcher: all behaviour lives in the compiled library (dist/).
// A small young generation: the main thread reads too and makes short-lived
// garbage fast; a big nursery only holds more of it (measured: −45 MB peak
// RSS on 200k rows, same speed). Reader threads get theirs in resourceLimits.
// glibc's malloc keeps up to 512 MB of freed heap instead of handing it back
// to the kernel at once: better-sqlite3 allocates a buffer per vector, and
// the trimming and the page faults after it cost 4-10% of a compute
// (measured interleaved on the 200k-row bench database: 3.39 s against
// 3.55 s, 3.86 s against 4.10 s; +8 MB peak RSS). Other C libraries ignore it.
import { runMain } from "../dist/cli/main.js";

await runMain(process.argv);
