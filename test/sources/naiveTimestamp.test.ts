import { describe, expect, it } from "vitest";
import { parseNaiveTimestamp, parseNaiveTimestampMicros } from "../../src/sources/naiveTimestamp.js";

describe("parseNaiveTimestamp", () => {
  it("reads SQLAlchemy's DATETIME text as naive UTC microseconds", () => {
    // Reference: Date.UTC is time-zone free.
    const ms = Date.UTC(2025, 6, 24, 13, 5, 59);
    expect(parseNaiveTimestamp("2025-07-24 13:05:59.123456")).toBe(BigInt(ms) * 1000n + 123456n);
  });

  it("ignores the machine's time zone (tests run in Pacific/Chatham)", () => {
    expect(process.env.TZ).toBe("Pacific/Chatham");
    expect(parseNaiveTimestamp("1970-01-01 00:00:00.000000")).toBe(0n);
    expect(parseNaiveTimestamp("2024-03-31 02:30:00.000001")).toBe(BigInt(Date.UTC(2024, 2, 31, 2, 30)) * 1000n + 1n);
  });

  it.each([
    ["2025-01-02 03:04:05", 0n],
    ["2025-01-02T03:04:05.5", 500000n],
    ["2025-01-02 03:04:05.1234567", 123456n],
    ["2025-01-02 03:04:05.000001Z", 1n],
    ["2025-01-02 03:04:05.000001+00:00", 1n],
  ])("accepts %s", (text, micros) => {
    expect(parseNaiveTimestamp(text)).toBe(BigInt(Date.UTC(2025, 0, 2, 3, 4, 5)) * 1000n + micros);
  });

  it("handles dates before 1970 and leap days", () => {
    expect(parseNaiveTimestamp("1969-12-31 23:59:59.999999")).toBe(-1n);
    expect(parseNaiveTimestamp("2024-02-29 00:00:00")).toBe(BigInt(Date.UTC(2024, 1, 29)) * 1000n);
  });

  it.each([null, undefined, 42, "", "yesterday", "2025-13-01 00:00:00", "2025-02-30 00:00:00", "2025-01-01 24:00:00"])(
    "gives null for %j",
    (value) => {
      expect(parseNaiveTimestamp(value)).toBeNull();
    },
  );
});

describe("parseNaiveTimestampMicros (the hot-path parser)", () => {
  it("agrees with parseNaiveTimestamp on canonical, odd and invalid text", () => {
    const samples = [
      "2025-07-24 13:05:59.123456",
      "1970-01-01 00:00:00.000000",
      "2024-02-29 23:59:59.999999",
      "2023-02-29 00:00:00.000000",
      "2025-01-02T03:04:05.5",
      "2025-01-02 03:04:05",
      "1969-12-31 23:59:59.999999",
      "9999-12-31 23:59:59.999999",
      "2025-13-01 00:00:00.000000",
      "2025-1a-01 00:00:00.000000",
      "garbage",
      null,
    ];
    for (const text of samples) {
      const exact = parseNaiveTimestamp(text);
      const fast = parseNaiveTimestampMicros(text);
      expect(fast === null ? null : BigInt(fast), String(text)).toBe(exact);
    }
  });

  it("agrees on random canonical timestamps", () => {
    for (let i = 0; i < 2000; i++) {
      const ms = Math.floor(Math.random() * Date.UTC(2200, 0, 1));
      const iso = new Date(ms).toISOString();
      const micros = String(Math.floor(Math.random() * 1e6)).padStart(6, "0");
      const text = `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${micros}`;
      expect(BigInt(parseNaiveTimestampMicros(text)!)).toBe(parseNaiveTimestamp(text));
    }
  });
});
