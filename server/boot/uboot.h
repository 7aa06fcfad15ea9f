/* U-Boot legacy script images (the format of mkimage -T script). */
#ifndef GRIDBOOT_UBOOT_H
#define GRIDBOOT_UBOOT_H

#include "boot/bootfiles.h"

/* A U-Boot legacy script image (header CRC, data CRC, type script) for
 * mac; with mac NULL a script that chains to uboot/${ethaddr}.scr.uimg. */
enum genresult uboot_machine(const struct inventory *inv, const uint8_t *mac,
    struct genfile *out);
/* Wraps script text in a legacy image. malloc'd, length in *len. */
uint8_t *uboot_image(const char *name, const char *script, size_t *len);

#endif
