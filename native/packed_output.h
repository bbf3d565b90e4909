/* The calling thread's bound output buffer (packed_output.c), or NULL. */
#include <stddef.h>
unsigned char *packedOutput(size_t *capacity);
