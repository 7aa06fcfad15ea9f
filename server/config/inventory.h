/* The inventory: the operator's libconfig file parsed into an immutable,
 * fully validated structure. A running daemon holds one by reference and
 * swaps it whole on reload; a bad file never replaces a good one.
 * IPv4 addresses are in host byte order throughout. */
#ifndef GRIDBOOT_INVENTORY_H
#define GRIDBOOT_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/errlist.h"

enum arch { ARCH_NONE, ARCH_AMD64, ARCH_386, ARCH_ARM64 };
enum firmware { FW_NONE, FW_BIOS, FW_UEFI, FW_UBOOT };
enum payload { PAYLOAD_PLAN9, PAYLOAD_LINUX };
/* How a machine gets its kernel: AUTO picks per firmware (BIOS: iPXE
 * multiboot over HTTP; UEFI: 9front's EFI loader; U-Boot: script image). */
enum bootmethod { BOOT_AUTO, BOOT_IPXE, BOOT_9BOOT };
enum dhcpmode { DHCP_OFF, DHCP_FULL, DHCP_PROXY };
/* Router advertisements on a network's link (server/ra): AUTO sends only
 * while no other router advertises there. */
enum ramode { RA_AUTO, RA_ON, RA_OFF };

#define MAXADDRS 4      /* dns, fs and auth lists */

struct kv {
	char *key;
	char *val;
	int line;           /* where it was set, for error messages */
};

struct kvlist {
	struct kv *v;
	size_t n;
};

struct kernel {
	char *name;
	enum arch arch;
	enum payload payload;
	char *file;         /* relative to grid.files */
	char *initrd;       /* linux only, may be NULL */
	char *cmdline;      /* linux only, may be NULL */
	int line;
};

struct role {
	char *name;
	struct kernel *kernel;
	enum bootmethod boot;
	struct kvlist plan9ini;
	int line;
};

struct network {
	uint32_t subnet;
	int prefix;
	uint32_t mask;
	uint32_t router;            /* 0 if none */
	uint32_t dns[MAXADDRS];
	int ndns;
	uint32_t pool_lo, pool_hi;  /* 0, 0 if no pool */
	uint32_t lease;             /* seconds */
	enum dhcpmode dhcp;
	char *interface;            /* may be NULL: any interface in the subnet */
	enum ramode ra;             /* networks[].ra, default auto */
	int line;
	/* IPv6 (DHCPv6 module, docs/dhcp6.md): has_subnet6 false for none */
	bool has_subnet6;
	uint8_t subnet6[16];
	int prefix6;
	uint8_t pool6_lo[16], pool6_hi[16]; /* both zero: no pool */
	uint8_t dns6[MAXADDRS][16];
	int ndns6;
	enum dhcpmode dhcp6;        /* FULL when subnet6 is set, unless told */
	int line6;                  /* subnet6's line */
};

/* The longest DUID (RFC 8415 11.1: 2 bytes of type and at most 128). */
#define DUID_MAX 130

/* A machine's IPv6 reservation, out of line: most machines have none,
 * and inline (a 130-byte DUID) it cost 170 bytes every machine
 * (docs/inventory.md). Allocated by the load that parses ip6 or duid and
 * freed with that full load; a derived inventory (config/assignments.c)
 * shares it as it shares names. */
struct machine6 {
	struct network *network6;   /* the network whose subnet6 holds ip6 */
	bool has_ip6;               /* a reserved IPv6 address (ip6) */
	uint8_t ip6[16];
	uint8_t duid_len;           /* 0: match by MAC only */
	uint8_t duid[];             /* a DHCPv6 reservation by DUID (duid) */
};

struct machine {
	char *name;
	uint8_t mac[6];
	uint32_t ip;
	enum arch arch;
	enum firmware firmware;
	struct role *role;
	struct kernel *kernel;      /* the machine's own, else its role's */
	enum bootmethod boot;       /* the machine's own, else its role's */
	struct network *network;
	struct kvlist plan9ini;
	int line;
	/* Set by a stored role change (config/assignments.c): what the file
	 * said, so a later change starts from the file as a full load does. */
	bool assigned;              /* role (kernel, boot) from STATE/assignments.json */
	bool from_store;            /* not in the file: it exists by an assignment */
	enum bootmethod file_boot;
	struct role *file_role;
	struct kernel *file_kernel;
	struct machine6 *v6;        /* NULL: no ip6, no duid */
	struct machine_power *power;    /* NULL: no power driver (docs/power.md) */
};

/* How gridbootd reaches a machine's BMC (docs/power.md). The password is
 * never here: password_file names the file it is read from, by the power
 * worker, at each operation, so nothing that shows the inventory (API,
 * 9P, a core file of the loop's structures) can show it. */
enum power_driver { POWER_IPMI = 1, POWER_REDFISH };

struct machine_power {
	enum power_driver driver;
	char *address;      /* IPMI: host or host:port; Redfish: https://host[:port] */
	char *user;
	char *password_file;    /* absolute */
	char *system;       /* Redfish: the ComputerSystem, /redfish/v1/Systems/1 */
	char *ca_file;      /* Redfish: trust anchors (PEM), absolute, or NULL */
	char *pin;          /* Redfish: sha256//BASE64 of the BMC's public key, or NULL */
	int timeout_ms;     /* one attempt */
	int retries;        /* attempts after the first that timed out */
	unsigned workarounds;   /* IPMI: PW_* (a BMC's known deviations) */
	int line;
};
/* IPMI workarounds, by libfreeipmi's names for them (ipmipower -W). */
enum {
	PW_AUTHCAP = 1 << 0, PW_INTEL20 = 1 << 1, PW_SUPERMICRO20 = 1 << 2,
	PW_SUN20 = 1 << 3, PW_OPENSESSPRIV = 1 << 4, PW_INTEGRITYCHECKVALUE = 1 << 5,
};

/* A host directory served over 9P; the attach name picks it ("" is the
 * root diskless machines mount). docs/9p.md. */
struct export {
	char *name;
	char *path;                 /* absolute */
	char **writable;            /* paths under it that 9P may change */
	int nwritable;
	char *owner;                /* Plan 9 name shown for the daemon's own files, or NULL */
	struct kvlist generated;    /* path under it -> generated file ("ndb") */
	int line;
};

struct grid {
	char *name;
	char *authdom;
	uint32_t server;
	uint8_t server6[16];        /* grid.server6; zero: the serving interface's address */
	char *files;                /* absolute path of the served tree */
	char *templates;            /* absolute path of plan9ini templates, or NULL */
	char *state;                /* state directory (leases, discovered, API changes) */
	char *store;                /* "files" or a postgresql:// URI (core/store.h) */
	int store_line;
	char *instance;             /* this daemon's name among several on one store */
	int http_port, tftp_port, dhcp_port, proxy_port;
	uint32_t fs[MAXADDRS], auth[MAXADDRS];
	int nfs, nauth;
	struct kvlist plan9ini;     /* grid-wide defaults */
	struct kvlist loaders;      /* boot loader paths by kind, under files */
	char *api_token;            /* NULL: mutating API calls are refused */
	char *user;                 /* run as this user after start-up, or NULL */
	int user_line;
	struct role *unknown;       /* what unknown PXE clients get; NULL: nothing */
	char **interfaces;
	int ninterfaces;
	/* HTTP module (docs/http.md) */
	char *web;                  /* the web page's files, or NULL */
	char *ipxe_scripts;         /* directory of iPXE templates, or NULL */
	struct kvlist ipxe;         /* template name -> text read from it */
	int http_per_source;        /* HTTP connections from one address (32) */
	int http_workers;           /* HTTP threads; 0: on the loop (cores) */
	int p9_port;                /* 9P module (docs/9p.md) */
	bool p9_auth;               /* 9P attaches must authenticate (docs/auth.md) */
	bool p9_nonone;             /* ... and none may not attach unproved, even to read */
	bool p9_grid_open;          /* anyone may write the grid tree (a lab) */
	char **admins;              /* who may write it with p9_auth (default: authid) */
	int nadmins;
	/* auth module (docs/auth.md) */
	int auth_port, rcpu_port;
	bool auth_des;              /* p9sk1 too, as authsrv without -N */
	char *p9any;                /* what p9any offers on rcpu and 9P auth, in
	                             * order: "dp9ik", "p9sk1", space-separated */
	char *authid;               /* the grid's host owner, e.g. bootes */
	char *keys;                 /* the key file's path (never its contents) */
	struct speaksfor *speaksfor;
	int nspeaksfor;
	bool serve_nvram;           /* nvram/<mac12> over TFTP and HTTP */
	/* power (docs/power.md) */
	int power_poll;             /* seconds between state polls; 0: none */
	int power_workers;          /* threads that talk to BMCs */
};

/* One speaks-for rule (grid.speaksfor): the host may ask the auth server
 * for tickets as these users. users are "*" (everyone), a name, or
 * "!name" (never this one; wins over "*"). A host always speaks for
 * itself. docs/auth.md. */
struct speaksfor {
	char *host;
	char **users;
	int nusers;
	int line;
};

/* The keys machines are indexed by (inventory_index.c: inv_index). */
enum inv_key { KEY_MAC, KEY_IP, KEY_NAME, KEY_IP6, KEY_DUID, KEY_COUNT };

struct inventory {
	int refs;
	unsigned long serial;       /* unique per load in this process */
	char *path;                 /* the file as given */
	char *dir;                  /* its directory, for relative paths */
	struct grid grid;
	struct network *networks;
	size_t nnetworks;
	struct kernel *kernels;
	size_t nkernels;
	struct role *roles;
	size_t nroles;
	struct machine *machines;
	size_t nmachines;
	struct export *exports;
	size_t nexports;
	/* Problems that do not stop serving but will stop a boot: a loader
	 * grid.loaders does not name, a kernel file not in the tree yet.
	 * Same "FILE:LINE: key: why" form; `check` prints them. */
	struct errlist warnings;
	/* Hash indexes of machines by MAC, address and name, built at load:
	 * lookups per packet do not grow with the inventory. */
	uint32_t *index[KEY_COUNT];     /* NULL: no machine has that key */
	uint8_t *index_tag[KEY_COUNT];  /* a byte of each slot's hash */
	size_t index_cap;
	/* An inventory derived from another by one role change (inv_derive)
	 * has its own machine table, indexes and warnings and borrows the
	 * rest from base, the full load it holds a reference to. */
	struct inventory *base;
	char **owned;               /* base only: names added by derived ones */
	size_t nowned;
	struct { unsigned long dev, ino, mtime_ns; long long size; } file;  /* at load */
	size_t assign_skipped;      /* stored assignments the merge skipped */
};

/* Parses and validates path: every value, every cross-reference inside
 * the file. On any error returns NULL with every error appended to errs.
 * What other layers check (plan9.ini limits, templates, stored role
 * changes) is composed above this by the loader (config/loader.h). */
struct inventory *inv_parse(const char *path, struct errlist *errs);
/* A large file's machines list is handed to libconfig a slice at a time
 * (config/cfgscan.h): files of min_bytes or more with more than
 * min_machines machines, slice machines at a time. Tests lower them so
 * that every bad inventory is read that way too. */
struct inv_slicing {
	size_t min_bytes, min_machines, slice;
};
extern struct inv_slicing inv_slicing;
extern _Atomic unsigned long inv_sliced_loads;  /* loads that were (tests) */
/* Rebuilds the machine indexes after machines were added or removed. */
void inv_index(struct inventory *inv);
struct inventory *inv_ref(struct inventory *inv);
/* inv_unref for the loop: when that was the last reference to a whole
 * inventory, it is freed in a thread of its own (a million machines'
 * free held the loop for a quarter of a second); it touches nothing
 * shared. */
void inv_unref_later(struct inventory *inv);
/* A copy of inv for one change to its machines: the machine table (with
 * room for one more), indexes and warnings are copied, everything else is
 * shared with inv's base. Never reads the file. */
struct inventory *inv_derive(const struct inventory *inv);
/* Keeps s (malloc'd) until the base of inv is freed. */
void inv_own(struct inventory *inv, char *s);
/* Indexes machine i (added at the end of a derived inventory). */
void inv_index_add(struct inventory *inv, size_t i);
/* Whether the file inv was loaded from is still the same (size, mtime). */
bool inv_file_unchanged(const struct inventory *inv);
void inv_unref(struct inventory *inv);

struct machine *inv_machine_by_mac(const struct inventory *inv, const uint8_t mac[6]);
struct machine *inv_machine_by_name(const struct inventory *inv, const char *name);
struct machine *inv_machine_by_ip(const struct inventory *inv, uint32_t ip);
/* Accepts a machine name or any MAC spelling. */
struct machine *inv_machine_lookup(const struct inventory *inv, const char *name_or_mac);
struct role *inv_role(const struct inventory *inv, const char *name);
struct kernel *inv_kernel(const struct inventory *inv, const char *name);
struct network *inv_network_for(const struct inventory *inv, uint32_t ip);
/* IPv6: the machine reserving ip6 or holding duid; the network whose
 * subnet6 holds ip6. */
struct machine *inv_machine_by_ip6(const struct inventory *inv, const uint8_t ip6[16]);
struct machine *inv_machine_by_duid(const struct inventory *inv, const uint8_t *duid, size_t len);
struct network *inv_network_for6(const struct inventory *inv, const uint8_t ip6[16]);
const char *inv_loader(const struct inventory *inv, const char *kind);
/* True if grid.interfaces is empty or names ifname (both DHCP servers). */
bool inv_interface_served(const struct inventory *inv, const char *ifname);

/* A Plan 9 user, machine, role or export name: letters, digits, '-',
 * '_' or '.', at most 27 bytes (Plan 9's ANAMELEN is 28). */
bool name_ok(const char *s);
const char *arch_name(enum arch a);
const char *firmware_name(enum firmware f);
/* The inventory's spellings back to values; false for anything else. */
bool arch_parse(const char *s, enum arch *a);
bool firmware_parse(const char *s, enum firmware *f);
/* Maps DHCP option 93 (RFC 4578 and IANA's registry) to what gridboot
 * knows. Returns false for codes it cannot boot. */
bool arch_from_option93(int code, enum arch *arch, enum firmware *fw);
/* What a machine of that arch has when the inventory does not say. */
enum firmware default_firmware(enum arch a);
/* BIOS is not on arm64 and U-Boot only there; UEFI is on both. */
bool firmware_runs_on(enum firmware f, enum arch a);
const char *boot_name(enum bootmethod b);
/* The method a machine really uses once AUTO is resolved by firmware. */
enum bootmethod machine_boot(const struct machine *m);

const char *kv_get(const struct kvlist *l, const char *key);
/* Sets key (replacing in place, so first-set order is kept). */
void kv_set(struct kvlist *l, const char *key, const char *val, int line);
void kv_free(struct kvlist *l);
void machine_power_free(struct machine_power *p);
const char *power_driver_name(enum power_driver d);

#endif
