/**
 * First-generation panic-tda stores DATETIME as naive UTC text,
 * `YYYY-MM-DD HH:MM:SS.ffffff`; the second generation (ecto_sqlite3's
 * utc_datetime_usec) as ISO 8601 UTC, `YYYY-MM-DDTHH:MM:SS.ffffffZ`. We turn
 * either into microseconds since the Unix epoch (the output's naive UTC) with
 * integer arithmetic, never through `Date`, so the machine's time zone cannot
 * shift it. Text with an explicit offset (`+10:00`) is moved to UTC; text
 * without one is taken as UTC already.
 */
const PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(?:Z|([+-])(\d{2})(?::?(\d{2}))?)?$/;

/** Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's algorithm). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/**
 * Microseconds since the epoch, or null for NULL or text that is not a
 * timestamp (the caller counts those; data is never an error).
 * Fractions beyond microseconds are truncated, as Python's datetime would.
 */
export function parseNaiveTimestamp(text: unknown): bigint | null {
  if (typeof text !== "string") return null;
  const m = PATTERN.exec(text);
  if (m === null) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const micros = m[7] === undefined ? 0 : Number(m[7].slice(0, 6).padEnd(6, "0"));
  // The offset of local time from UTC (`+10:00`: 10 hours ahead), taken off to give UTC.
  const offsetHours = m[9] === undefined ? 0 : Number(m[9]);
  const offsetMinutes = m[10] === undefined ? 0 : Number(m[10]);
  if (offsetHours > 23 || offsetMinutes > 59) return null;
  const offset = (m[8] === "-" ? -1 : 1) * (offsetHours * 3600 + offsetMinutes * 60);
  const seconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
  // Seconds stay far inside 2^53; the multiplication happens in bigint.
  return BigInt(seconds) * 1_000_000n + BigInt(micros);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

const ZERO = 48;
/** Microseconds in a day and in an hour, minute, second. */
const DAY_US = 86_400_000_000;

/**
 * The same value as parseNaiveTimestamp, as a number (exact: timestamps up
 * to the year 2255 are below 2^53 µs), without a regex or a bigint for the
 * canonical spellings panic-tda writes, `YYYY-MM-DD HH:MM:SS.ffffff` (first
 * generation) and `YYYY-MM-DDTHH:MM:SS.ffffffZ` (second): this runs twice
 * per row on the hot path. Other spellings take the general parser.
 */
export function parseNaiveTimestampMicros(text: unknown): number | bigint | null {
  if (typeof text !== "string") return null;
  const length = text.length;
  if ((length === 26 || (length === 27 && text.charCodeAt(26) === 90)) && text.charCodeAt(4) === 45 && text.charCodeAt(7) === 45 &&
      (text.charCodeAt(10) === 32 || text.charCodeAt(10) === 84) &&
      text.charCodeAt(13) === 58 && text.charCodeAt(16) === 58 && text.charCodeAt(19) === 46) {
    const year = digits(text, 0, 4);
    const month = digits(text, 5, 2);
    const day = digits(text, 8, 2);
    const hour = digits(text, 11, 2);
    const minute = digits(text, 14, 2);
    const second = digits(text, 17, 2);
    const micros = digits(text, 20, 6);
    if (
      year >= 1970 && year < 2250 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month) &&
      hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59 && second >= 0 && second <= 59 && micros >= 0
    ) {
      return daysFromCivil(year, month, day) * DAY_US + ((hour * 60 + minute) * 60 + second) * 1_000_000 + micros;
    }
  }
  const exact = parseNaiveTimestamp(text);
  if (exact === null) return null;
  return exact <= BigInt(Number.MAX_SAFE_INTEGER) && exact >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(exact) : exact;
}

/** The decimal number in text[at, at+length), or -1 if any character is not a digit. */
function digits(text: string, at: number, length: number): number {
  let value = 0;
  for (let i = at; i < at + length; i++) {
    const d = text.charCodeAt(i) - ZERO;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}
