/* Files gridboot generates per machine, served alike by TFTP and HTTP.
 * Paths are relative (no leading slash) and are the contract between the
 * DHCP boot decision (which names them), TFTP and HTTP (which serve them):
 *
 *   cfg/pxe/<mac12>        plan9.ini for 9boot (12 lowercase hex digits)
 *   cfg/pxe/default        plan9.ini for machines not in the inventory
 *   plan9.ini/<mac12>      the same text, the name the HTTP boot path uses
 *   boot.ipxe              iPXE entry script: chains to the machine's own
 *   ipxe/<mac12>.ipxe      per-machine iPXE script          (HTTP module)
 *   boot.scr.uimg          U-Boot script image for the asking client
 *   uboot/<mac12>.scr.uimg per-machine U-Boot script image  (HTTP module)
 *   nvram/<mac12>          the host owner's nvram image (boot/nvram.h), only
 *                          with grid.serve_nvram and only to that machine
 *
 * Anything else is a file from the static tree (grid.files). client_mac is
 * who asks (TFTP finds it from the source address via leases.h); it may be
 * NULL when unknown. */
#ifndef GRIDBOOT_BOOTFILES_H
#define GRIDBOOT_BOOTFILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/inventory.h"

struct genfile {
	char *data;
	size_t len;
	const char *content_type;
	bool has_mac;           /* the path named a machine: mac is its MAC */
	uint8_t mac[6];
};

enum genresult {
	GEN_NOT_GENERATED,      /* not one of ours: serve from the static tree */
	GEN_OK,
	GEN_NOT_FOUND,          /* one of ours, but nothing for this client */
	GEN_BAD_NAME,           /* one of ours, but its MAC part is not a MAC */
};

enum genresult bootfiles_generate(const struct inventory *inv, const char *path,
    const uint8_t *client_mac, struct genfile *out);
/* The same with the base URL of the iPXE scripts' own URLs given
 * (http://[fd99::1] for a client that came over IPv6); NULL: grid.server. */
enum genresult bootfiles_generate_at(const struct inventory *inv, const char *path,
    const uint8_t *client_mac, const char *base_url, struct genfile *out);
/* Parses 12 hex digits (any case) into a MAC. */
bool bootfiles_mac12_parse(const char *s, uint8_t mac[6]);

/* http://SERVER[:PORT] for scripts and kernel command lines. */
void bootfiles_base_url(const struct inventory *inv, char *out, size_t cap);

/* Loader check (warnings only: the inventory is valid, but some boots
 * would fail now): a loader grid.loaders does not name, a kernel file not
 * in the tree yet. */
void bootfiles_check(struct inventory *inv, struct errlist *errs);

#endif
