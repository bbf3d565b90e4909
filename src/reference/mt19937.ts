/**
 * MT19937, exactly as numpy's legacy `np.random.seed(int)` / `RandomState`
 * drives it, so that seeded vectors match the Python side bit for bit.
 */

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

export class MT19937 {
  private readonly mt = new Uint32Array(N);
  private index = N;

  /** `init_genrand(seed)`; numpy rejects seeds outside [0, 2^32 - 1], so do we. */
  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`MT19937 seed must be an integer in [0, 2^32 - 1], got ${seed}`);
    }
    const mt = this.mt;
    mt[0] = seed;
    let prev = seed >>> 0;
    for (let i = 1; i < N; i++) {
      // Math.imul keeps the low 32 bits exactly; a plain `*` would lose them past 2^53.
      prev = (Math.imul(1812433253, prev ^ (prev >>> 30)) + i) >>> 0;
      mt[i] = prev;
    }
    // index = N makes the first draw regenerate the whole block, as numpy does.
    this.index = N;
  }

  /** The next tempered 32-bit output (`genrand_int32`), as an unsigned number. */
  nextUint32(): number {
    const mt = this.mt;
    if (this.index >= N) this.twist();
    let y = mt[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /**
   * numpy's `random_sample` / `rand`: a 53-bit double in [0, 1) from two
   * outputs (27 high bits of the first, 26 of the second). Every step is exact in float64.
   */
  randomSample(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Regenerate all N words at once (the reference `genrand_int32` refill). */
  private twist(): void {
    const mt = this.mt;
    let kk = 0;
    let y: number;
    for (; kk < N - M; kk++) {
      y = (mt[kk]! & UPPER_MASK) | (mt[kk + 1]! & LOWER_MASK);
      mt[kk] = mt[kk + M]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    for (; kk < N - 1; kk++) {
      y = (mt[kk]! & UPPER_MASK) | (mt[kk + 1]! & LOWER_MASK);
      mt[kk] = mt[kk + (M - N)]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    y = (mt[N - 1]! & UPPER_MASK) | (mt[0]! & LOWER_MASK);
    mt[N - 1] = mt[M - 1]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    this.index = 0;
  }
}
