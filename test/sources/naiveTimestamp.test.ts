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
      // A letter in the hour, minute or second once made the fast path read -1 and return a time.
      "2024-01-01 0x:00:00.000000",
      "2024-01-01 00:x0:00.000000",
      "2024-01-01 00:00:0x.000000",
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

describe("second-generation (ISO 8601) timestamps", () => {
  const utc = (y: number, mo: number, d: number, h: number, mi: number, s: number, us = 0): bigint =>
    BigInt(Date.UTC(y, mo - 1, d, h, mi, s)) * 1000n + BigInt(us);

  it("reads ecto_sqlite3's utc_datetime_usec text (T, microseconds, Z) as UTC", () => {
    expect(parseNaiveTimestamp("2025-01-02T03:04:05.123456Z")).toBe(utc(2025, 1, 2, 3, 4, 5, 123456));
    expect(parseNaiveTimestampMicros("2025-01-02T03:04:05.123456Z")).toBe(Number(utc(2025, 1, 2, 3, 4, 5, 123456)));
    expect(parseNaiveTimestamp("2025-01-02T03:04:05Z")).toBe(utc(2025, 1, 2, 3, 4, 5));
  });

  it.each([
    ["2025-01-02T13:04:05.123456+10:00", utc(2025, 1, 2, 3, 4, 5, 123456)],
    ["2025-01-01T20:04:05.123456-07:00", utc(2025, 1, 2, 3, 4, 5, 123456)],
    ["2025-01-02T08:34:05+0530", utc(2025, 1, 2, 3, 4, 5)],
    ["2025-01-02T05:04:05+02", utc(2025, 1, 2, 3, 4, 5)],
    ["2025-01-02T03:04:05-00:00", utc(2025, 1, 2, 3, 4, 5)],
    // Across a day, a month, a year and a leap day.
    ["2025-01-01T09:00:00+10:00", utc(2024, 12, 31, 23, 0, 0)],
    ["2024-02-28T23:30:00-01:00", utc(2024, 2, 29, 0, 30, 0)],
    ["1970-01-01T09:00:00.000001+10:00", -(3600n * 1_000_000n) + 1n],
  ])("moves %s to UTC", (text, micros) => {
    expect(parseNaiveTimestamp(text)).toBe(micros);
    expect(BigInt(parseNaiveTimestampMicros(text)!)).toBe(micros);
  });

  it.each(["2025-01-02T03:04:05+24:00", "2025-01-02T03:04:05+10:60", "2025-01-02T03:04:05+1", "2025-01-02T03:04:05ZZ", "2025-01-02T03:04:05.123456X"])(
    "gives null for %j",
    (text) => {
      expect(parseNaiveTimestamp(text)).toBeNull();
      expect(parseNaiveTimestampMicros(text)).toBeNull();
    },
  );

  it("the hot-path parser agrees with the general one on ISO text, canonical or not", () => {
    const samples = [
      "2025-07-24T13:05:59.123456Z",
      "2024-02-29T23:59:59.999999Z",
      "2023-02-29T00:00:00.000000Z",
      "1969-12-31T23:59:59.999999Z",
      "2025-07-24T13:05:59.123456z",
      "2025-07-24T13:05:59.12345Z",
      "2025-07-24T13:05:59.1234567Z",
      "2025-07-24T25:05:59.123456Z",
    ];
    for (const text of samples) {
      const exact = parseNaiveTimestamp(text);
      const fast = parseNaiveTimestampMicros(text);
      expect(fast === null ? null : BigInt(fast), text).toBe(exact);
    }
    for (let i = 0; i < 2000; i++) {
      const ms = Math.floor(Math.random() * Date.UTC(2200, 0, 1));
      const micros = String(Math.floor(Math.random() * 1e6)).padStart(6, "0");
      const text = `${new Date(ms).toISOString().slice(0, 19)}.${micros}Z`;
      expect(BigInt(parseNaiveTimestampMicros(text)!)).toBe(BigInt(Math.floor(ms / 1000)) * 1_000_000n + BigInt(micros));
    }
  });
});
