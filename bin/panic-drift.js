#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.trim_threshold=8388608:glibc.malloc.mmap_threshold=4194304:glibc.malloc.hugetlb=1 node --max-semi-space-size=2
// Thin launcher: all behaviour lives in the compiled library (dist/).
// A small young generation: the main thread reads too and makes short-lived
// garbage fast; a big nursery only holds more of it (measured: −45 MB peak
// RSS on 200k rows, same speed). Reader threads get theirs in resourceLimits.
// glibc's malloc keeps up to 8 MB of freed heap instead of handing it back
// to the kernel at once, and serves blocks up to 4 MB from the heap rather
// than from a mapping of their own: a reader allocates a buffer per packed
// slice (~1 MB) or, without the row-packing extension, per vector; mapping,
// trimming and faulting those pages in again cost 4-10% of a compute with
// per-vector buffers and more than half again with per-slice ones (measured
// interleaved on the 200k-row bench database; docs/performance.md). Other C
// libraries ignore it. hugetlb=1: glibc asks for transparent huge pages for
// its heap (where the kernel gives them on request), a fifth fewer page faults
// and 2-4% less CPU (measured the same way); an older glibc ignores it.
// The line is 156 characters: Linux reads up to 255 since 5.1 (older kernels
// cut a shebang at 127, which also cut the line before this one).
import { runMain } from "../dist/cli/main.js";

await runMain(process.argv);
