/* Nvrsafe images (see nvram.h). */
#include "boot/nvram.h"

#include <string.h>

/* The registration (nvram_set_source): the one auth module of the one
 * daemon in this process hands its key source down; NULL when none runs. */
static nvram_keys_fn source;
static void *source_ctx;

uint8_t
nvram_csum(const uint8_t *p, size_t n)
{
	uint8_t sum = 9;

	for (size_t i = 0; i < n; i++)
		sum = (uint8_t)(sum + p[i]);
	return sum;
}

bool
nvram_image(uint8_t out[NVRAM_LEN], const char *authid, const char *authdom,
    const uint8_t des[7], const uint8_t aes[16])
{
	size_t ni = strlen(authid), nd = strlen(authdom);

	memset(out, 0, NVRAM_LEN);
	if (ni == 0 || ni > 27 || nd == 0 || nd > 47)
		return false;
	if (des)
		memcpy(out + 0, des, 7);
	out[7] = nvram_csum(out + 0, 7);
	out[30] = nvram_csum(out + 16, 14);
	memcpy(out + 31, authid, ni);
	out[59] = nvram_csum(out + 31, 28);
	memcpy(out + 60, authdom, nd);
	out[108] = nvram_csum(out + 60, 48);
	memcpy(out + 109, aes, 16);
	out[125] = nvram_csum(out + 109, 16);
	return true;
}

void
nvram_set_source(nvram_keys_fn fn, void *ctx)
{
	source = fn;
	source_ctx = ctx;
}

bool
nvram_render(const struct inventory *inv, uint8_t out[NVRAM_LEN])
{
	return source != NULL && source(source_ctx, inv, out);
}
