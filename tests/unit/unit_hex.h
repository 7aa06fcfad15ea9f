/* Known answers written as hex strings, for the unit tests of the curve
 * and the auth pieces: unhex fills bytes (a wrong length is a broken test,
 * exit 2), eqhex compares and prints both sides as TAP comments. */
#ifndef GRIDBOOT_UNIT_HEX_H
#define GRIDBOOT_UNIT_HEX_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void
unhex(uint8_t *out, size_t n, const char *hex)
{
	if (strlen(hex) != 2 * n) {
		fprintf(stderr, "bad hex length %zu for %zu bytes\n", strlen(hex), n);
		exit(2);
	}
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

static inline int
eqhex(const uint8_t *got, size_t n, const char *hex)
{
	uint8_t want[512];

	unhex(want, n, hex);
	if (memcmp(got, want, n) == 0)
		return 1;
	printf("#   got:  ");
	for (size_t i = 0; i < n; i++)
		printf("%02x", got[i]);
	printf("\n#   want: %s\n", hex);
	return 0;
}

#endif
