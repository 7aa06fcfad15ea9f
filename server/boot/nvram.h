/* The nvram image a 9front cpu server reads its host owner's credentials
 * from (libauthsrv readnvram: the `nvram` partition, or plan9.nvr on a FAT
 * partition), in 9front's Nvrsafe layout, every field a plain byte array:
 *
 *   off  len  field
 *     0    7  machkey      the host owner's DES key (zero: p9sk1 off)
 *     7    1  machsum      nvcsum(machkey)
 *     8    7  authkey      unused (zero)
 *    15    1  authsum      unused (zero, as 9front leaves it)
 *    16   14  config       secstore key (zero: none)
 *    30    1  configsum    nvcsum(config)
 *    31   28  authid       NUL-padded
 *    59    1  authidsum    nvcsum(authid)
 *    60   48  authdom      NUL-padded
 *   108    1  authdomsum   nvcsum(authdom)
 *   109   16  aesmachkey   the host owner's AES key (dp9ik)
 *   125    1  aesmachsum   nvcsum(aesmachkey)
 *   126  386  zero padding to one 512-byte sector (readnvram reads 512
 *             bytes of plan9.nvr, sizeof(Nvrsafe) = 126 of a partition)
 *
 * nvcsum(p, n) = (9 + p[0] + ... + p[n-1]) mod 256.
 *
 * The image holds the host owner's keys: whoever reads it is the host
 * owner of every cpu server of the grid. Served over TFTP/HTTP only with
 * grid.serve_nvram, only to the machine's own address; see docs/auth.md. */
#ifndef GRIDBOOT_NVRAM_H
#define GRIDBOOT_NVRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/inventory.h"

#define NVRAM_LEN 512
#define NVRAM_SAFELEN 126

uint8_t nvram_csum(const uint8_t *p, size_t n);
/* Fills out (NVRAM_LEN bytes). des may be NULL (p9sk1 off: zero key).
 * false when authid or authdom does not fit (27 / 47 bytes). */
bool nvram_image(uint8_t out[NVRAM_LEN], const char *authid, const char *authdom,
    const uint8_t des[7], const uint8_t aes[16]);

/* Where the served image gets the host owner's keys: the auth module
 * registers this at start (it holds the key file); without it, or when it
 * answers false, nvram/<mac12> is not found. */
typedef bool (*nvram_keys_fn)(void *ctx, const struct inventory *inv, uint8_t out[NVRAM_LEN]);
void nvram_set_source(nvram_keys_fn fn, void *ctx);
/* The image for inv's host owner through the registered source. */
bool nvram_render(const struct inventory *inv, uint8_t out[NVRAM_LEN]);

#endif
