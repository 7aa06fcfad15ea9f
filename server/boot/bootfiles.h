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

enum genresult bootfile_generate(const struct inventory *inv, const char *path,
    const uint8_t *client_mac, struct genfile *out);
/* Parses 12 hex digits (any case) into a MAC. */
bool mac12_parse(const char *s, uint8_t mac[6]);

/* ---- iPXE scripts (bootfiles_ipxe.c, templates documented in
 * ipxe-scripts/README.md) and U-Boot script images (bootfiles_uboot.c) ---- */

/* Reads DIR/<name>.ipxe for each template gridboot knows into out (name ->
 * text); missing files fall back to the built-in text. */
void ipxe_templates_load(const char *dir, struct kvlist *out, struct errlist *errs);
/* The built-in text of a template, NULL for an unknown name. */
const char *ipxe_builtin(const char *name);
/* Replaces ${name} for the names in vars; any other ${...} is left for
 * iPXE itself (${mac:hexraw}, ${net0/ip}). malloc'd. */
char *ipxe_subst(const char *tmpl, const struct kvlist *vars);
/* The boot.ipxe entry script and the per-machine script for mac (known or
 * not: unknown machines get grid.unknown's or an exit script). */
enum genresult ipxe_entry(const struct inventory *inv, struct genfile *out);
enum genresult ipxe_machine(const struct inventory *inv, const uint8_t mac[6],
    struct genfile *out);
/* The template a machine's script is rendered from, and the variables. */
const char *ipxe_template_for(const struct inventory *inv, const struct machine *m,
    const struct role *role, struct kvlist *vars);

/* A U-Boot legacy script image (header CRC, data CRC, type script) for
 * mac; with mac NULL a script that chains to uboot/${ethaddr}.scr.uimg. */
enum genresult uboot_machine(const struct inventory *inv, const uint8_t *mac,
    struct genfile *out);
/* Wraps script text in a legacy image. malloc'd, length in *len. */
uint8_t *uboot_image(const char *name, const char *script, size_t *len);
uint32_t crc32_ieee(uint32_t crc, const void *data, size_t len);
/* http://SERVER[:PORT] for scripts and kernel command lines. */
void bootfile_base_url(const struct inventory *inv, char *out, size_t cap);

#endif
