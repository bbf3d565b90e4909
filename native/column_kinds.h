/* Conversions panic_drift_rows_into applies to the columns its spec names (column_kinds.c). */
#include <stdint.h>
int packUuid(const unsigned char *text, int length, unsigned char out[16]);
int packMicros(const unsigned char *text, int length, int64_t *out);
int isWellFormedUtf8(const unsigned char *text, int length);
