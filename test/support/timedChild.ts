/**
 * Runs a child process to its end and measures it from outside: wall time
 * here, CPU seconds (user + system, every thread) and peak RSS from
 * `/usr/bin/time -v` (python's getrusage of its child when that is missing). Used by the bench and by `npm run faults`.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";

export const TIME = "/usr/bin/time";
export const HAVE_TIME = fs.existsSync(TIME);
/** Where the peak RSS comes from, for reports. */
export const PEAK_RSS_FROM = HAVE_TIME ? `${TIME} -v` : `python getrusage (${TIME} is missing)`;

// Fallback when /usr/bin/time is missing: python's getrusage of its child (adds ~20 ms of python start-up to the wall time).
const RUSAGE_WRAPPER = `import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:])
u = resource.getrusage(resource.RUSAGE_CHILDREN)
open(sys.argv[1], "w").write("User time (seconds): %.2f\\nSystem time (seconds): %.2f\\nMaximum resident set size (kbytes): %d\\n" % (u.ru_utime, u.ru_stime, u.ru_maxrss))
sys.exit(rc)`;

export interface TimedRun {
  seconds: number;
  /** User + system CPU seconds, or null when they could not be read. */
  cpu: number | null;
  /** Peak resident set size in MiB, or null when it could not be read. */
  rssMB: number | null;
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** What the timer says about an abnormal end ("Command terminated by signal 9", …), one line each. */
  timerLines: string[];
}

/** Runs `cmd args` in `cwd`; `rssFile` is scratch space for the timer's report. */
export function timedChild(cmd: string, args: string[], rssFile: string, cwd: string): TimedRun {
  const [exe, argv] = HAVE_TIME ? [TIME, ["-v", "-o", rssFile, cmd, ...args]] : ["python3", ["-c", RUSAGE_WRAPPER, rssFile, cmd, ...args]];
  fs.rmSync(rssFile, { force: true });
  const t0 = process.hrtime.bigint();
  const r = spawnSync(exe, argv, { cwd, encoding: "utf8", maxBuffer: 64 * 1024 ** 2 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const report = fs.existsSync(rssFile) ? fs.readFileSync(rssFile, "utf8") : "";
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(report);
  const user = /User time \(seconds\): ([\d.]+)/.exec(report);
  const system = /System time \(seconds\): ([\d.]+)/.exec(report);
  const timerLines = report
    .split("\n")
    .filter((l) => /Command terminated|Exit status/.exec(l) !== null)
    .map((l) => l.trim());
  return { seconds, cpu: user && system ? Number(user[1]) + Number(system[1]) : null, rssMB: m ? Number(m[1]) / 1024 : null, status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, timerLines };
}
