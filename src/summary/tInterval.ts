import type { DuckDBConnection } from "@duckdb/node-api";

/**
 * The 95% t-interval of a mean: mean ± t_{0.975,n−1}·sd/√n. DuckDB has no
 * Student t quantile, so the few quantiles a query needs are computed here
 * and handed to it as a table; every mean, sd and interval stays SQL.
 */

/** t_{0.975,df}: the upper 2.5% point of Student's t with `df` (≥ 1) degrees of freedom. */
export function tQuantile975(df: number): number {
  if (!Number.isInteger(df) || df < 1) throw new RangeError(`degrees of freedom must be an integer ≥ 1, not ${df}`);
  // P(|T| > t) = I_{df/(df+t²)}(df/2, 1/2), falling in t: bisect for 0.05. t_{0.975,1} ≈ 12.7 is the largest.
  let low = 0;
  let high = 64;
  for (let i = 0; i < 200 && high - low > 0; i++) {
    const mid = (low + high) / 2;
    if (mid === low || mid === high) break;
    const t2 = mid * mid;
    if (regularizedBeta(df / 2, 0.5, df / (df + t2), t2 / (df + t2)) > 0.05) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

/** Creates the temporary table `name`(df BIGINT, t DOUBLE) with t_{0.975,df} for each of `dfs` (those < 1 are skipped). */
export async function createTQuantileTable(connection: DuckDBConnection, name: string, dfs: Iterable<number>): Promise<void> {
  const wanted = [...new Set([...dfs].filter((df) => Number.isInteger(df) && df >= 1))].sort((a, b) => a - b);
  await connection.run(`CREATE OR REPLACE TEMP TABLE ${name} (df BIGINT PRIMARY KEY, t DOUBLE NOT NULL)`);
  // String(x) of a double reads back as the same double.
  if (wanted.length > 0) await connection.run(`INSERT INTO ${name} VALUES ${wanted.map((df) => `(${df}, ${tQuantile975(df)})`).join(", ")}`);
}

/** I_x(a, b), with y = 1 − x passed in so that x near 1 loses no digits. */
function regularizedBeta(a: number, b: number, x: number, y: number): number {
  if (x <= 0) return 0;
  if (y <= 0) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(y));
  // The continued fraction converges fast on this side; the other side by symmetry.
  if (x < (a + 1) / (a + b + 2)) return (front * betaFraction(a, b, x)) / a;
  return 1 - (front * betaFraction(b, a, y)) / b;
}

/** Lentz's evaluation of the incomplete beta continued fraction (Numerical Recipes, betacf). */
function betaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-16) break;
  }
  return h;
}

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
  9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(z) for z > 0 (Lanczos, g = 7: about 15 significant digits). */
function logGamma(z: number): number {
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - logGamma(1 - z);
  const x = z - 1;
  let sum = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i]! / (x + i);
  const t = x + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(sum);
}
