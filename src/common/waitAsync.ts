/**
 * Atomics.waitAsync (Node ≥ 16; not in the ES2023 lib's types): resolves
 * when `array[index]` is no longer `value`, or after `timeout` ms.
 */
export function waitAsync(array: Int32Array, index: number, value: number, timeout: number): Promise<unknown> {
  const atomics = Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, t: number): { value: Promise<unknown> | string } };
  const result = atomics.waitAsync(array, index, value, timeout).value;
  return typeof result === "string" ? Promise.resolve(result) : result;
}
