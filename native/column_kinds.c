/*
 * The two conversions panic_drift_rows_into applies to the columns its spec
 * names, so that the reader gets numbers and bytes instead of a JavaScript
 * string per id and timestamp, which it would only parse again. Each does
 * exactly what its JavaScript twin does on the text it accepts, and accepts
 * nothing more: any other text goes to the reader as text, and the twin
 * decides. Probed at load (rowPacking.ts) and tested against the twins
 * (test/sources/sqlite/rowPacking.test.ts).
 */
#include "column_kinds.h"

static int hexDigits(const unsigned char *text, int count, uint32_t *out) {
  uint32_t value = 0;
  for (int i = 0; i < count; i++) {
    unsigned char c = text[i];
    uint32_t digit;
    if (c >= '0' && c <= '9') {
      digit = (uint32_t)(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = (uint32_t)(c - 'a' + 10);
    } else {
      return 0;
    }
    value = value * 16 + digit;
  }
  *out = value;
  return 1;
}

static void put32(unsigned char *at, uint32_t value) {
  for (int i = 0; i < 4; i++) at[i] = (unsigned char)(value >> (8 * i));
}

/*
 * frame/uuidBytes.ts writeUuid: 32 lowercase hex digits, or 8-4-4-4-12, into
 * DuckDB's UUID layout: four little-endian words, the UUID's least
 * significant first, the most significant with its top bit flipped.
 */
int packUuid(const unsigned char *text, int length, unsigned char out[16]) {
  uint32_t words[4];
  if (length == 32) {
    for (int k = 0; k < 4; k++) {
      if (!hexDigits(text + 8 * k, 8, &words[k])) return 0;
    }
  } else if (length == 36 && text[8] == '-' && text[13] == '-' && text[18] == '-' && text[23] == '-') {
    uint32_t high, low;
    if (!hexDigits(text, 8, &words[0])) return 0;
    if (!hexDigits(text + 9, 4, &high) || !hexDigits(text + 14, 4, &low)) return 0;
    words[1] = high << 16 | low;
    if (!hexDigits(text + 19, 4, &high) || !hexDigits(text + 24, 4, &low)) return 0;
    words[2] = high << 16 | low;
    if (!hexDigits(text + 28, 8, &words[3])) return 0;
  } else {
    return 0;
  }
  put32(out, words[3]);
  put32(out + 4, words[2]);
  put32(out + 8, words[1]);
  put32(out + 12, words[0] ^ 0x80000000u);
  return 1;
}

static int decimal(const unsigned char *text, int count, int64_t *out) {
  int64_t value = 0;
  for (int i = 0; i < count; i++) {
    if (text[i] < '0' || text[i] > '9') return 0;
    value = value * 10 + (text[i] - '0');
  }
  *out = value;
  return 1;
}

static int64_t daysInMonth(int64_t year, int64_t month) {
  if (month == 2) return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28;
  return month == 4 || month == 6 || month == 9 || month == 11 ? 30 : 31;
}

/* sources/naiveTimestamp.ts daysFromCivil, for years from 1970 (no negative divisions). */
static int64_t daysFromCivil(int64_t year, int64_t month, int64_t day) {
  int64_t y = month <= 2 ? year - 1 : year;
  int64_t era = y / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/*
 * sources/naiveTimestamp.ts parseNaiveTimestampMicros's fast path:
 * `YYYY-MM-DD HH:MM:SS.ffffff` or `YYYY-MM-DDTHH:MM:SS.ffffff`, optionally
 * ending in Z, from 1970 to 2249, as microseconds since the epoch.
 */
int packMicros(const unsigned char *text, int length, int64_t *out) {
  if (!(length == 26 || (length == 27 && text[26] == 'Z'))) return 0;
  if (text[4] != '-' || text[7] != '-' || (text[10] != ' ' && text[10] != 'T') || text[13] != ':' || text[16] != ':' || text[19] != '.') return 0;
  int64_t year, month, day, hour, minute, second, micros;
  if (!decimal(text, 4, &year) || !decimal(text + 5, 2, &month) || !decimal(text + 8, 2, &day) || !decimal(text + 11, 2, &hour) ||
      !decimal(text + 14, 2, &minute) || !decimal(text + 17, 2, &second) || !decimal(text + 20, 6, &micros)) {
    return 0;
  }
  if (year < 1970 || year >= 2250 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    return 0;
  }
  *out = daysFromCivil(year, month, day) * 86400000000LL + ((hour * 60 + minute) * 60 + second) * 1000000LL + micros;
  return 1;
}

/*
 * Whether text is well-formed UTF-8 (no overlong forms, no surrogates,
 * nothing past U+10FFFF): exactly the text that Node decodes and encodes
 * back to the same bytes. Other text goes to the reader as text, which
 * decodes it with replacement characters as better-sqlite3 would.
 */
int isWellFormedUtf8(const unsigned char *text, int length) {
  int i = 0;
  while (i < length) {
    unsigned char c = text[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    int more;
    unsigned char low = 0x80, high = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      more = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      more = 2;
      if (c == 0xE0) low = 0xA0;
      if (c == 0xED) high = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      more = 3;
      if (c == 0xF0) low = 0x90;
      if (c == 0xF4) high = 0x8F;
    } else {
      return 0;
    }
    if (i + more >= length) return 0; /* cut short */
    if (text[i + 1] < low || text[i + 1] > high) return 0;
    for (int k = 2; k <= more; k++) {
      if (text[i + k] < 0x80 || text[i + k] > 0xBF) return 0;
    }
    i += more + 1;
  }
  return 1;
}
