/* Role assignments from the API, merged over the inventory at load time.
 * See assignments.h for the file format and the merge rules. */
#include "config/assignments.h"
#include "core/store.h"
#include "config/plan9ini.h"
#include "core/events.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STORE_MAX (4 * 1024 * 1024)

static char *
store_path(const char *statedir)
{
	return esprintf("%s/assignments.json", statedir);
}

bool
assignments_check(const struct inventory *inv, const uint8_t mac[6], const char *rolename,
    const char *name, int client_arch, enum arch *arch, enum firmware *fw,
    char *why, size_t whycap)
{
	const struct role *role = inv_role(inv, rolename);
	const struct machine *m = inv_machine_by_mac(inv, mac), *other;

	if (role == NULL) {
		size_t n = (size_t)snprintf(why, whycap, "no role \"%s\"; roles:", rolename);
		for (size_t i = 0; i < inv->nroles && n < whycap; i++)
			n += (size_t)snprintf(why + n, whycap - n, " %s", inv->roles[i].name);
		return false;
	}
	if (role->kernel == NULL) {
		snprintf(why, whycap, "role %s has no kernel", rolename);
		return false;
	}
	if (m != NULL) {
		*arch = m->arch;
		*fw = m->firmware;
	} else if (client_arch >= 0) {
		if (!arch_from_option93(client_arch, arch, fw)) {
			snprintf(why, whycap, "client architecture %d (DHCP option 93) cannot be booted",
			    client_arch);
			return false;
		}
	} else {
		*arch = role->kernel->arch;
		*fw = default_firmware(*arch);
	}
	if (role->kernel->arch != *arch) {
		snprintf(why, whycap, "role %s boots an %s kernel but the machine is %s",
		    rolename, arch_name(role->kernel->arch), arch_name(*arch));
		return false;
	}
	if (m == NULL && name != NULL) {
		if (!name_ok(name)) {
			snprintf(why, whycap, "name %s: use letters, digits, '-', '_' or '.', at most 27",
			    name);
			return false;
		}
		if ((other = inv_machine_by_name(inv, name)) != NULL &&
		    memcmp(other->mac, mac, 6) != 0) {
			snprintf(why, whycap, "name %s is already used by another machine", name);
			return false;
		}
	}
	return true;
}

/* The stored document, or NULL: none, or (*corrupt) one that is not an
 * assignments file (or could not be read). */
static json_t *
load_store(const char *statedir, bool *corrupt)
{
	char *path = store_path(statedir);
	json_error_t err;
	json_t *root = NULL;
	char *text = read_state_file(path, NULL, STORE_MAX);

	*corrupt = text == NULL && errno != ENOENT;
	if (*corrupt)
		log_warn("%s: %s; ignoring it", path, state_strerror(errno));
	if (text != NULL) {
		root = json_loads(text, 0, &err);
		if (root == NULL || !json_is_array(json_object_get(root, "assignments"))) {
			log_warn("%s:%d: not an assignments file (%s); ignoring it", path, err.line,
			    root ? "no \"assignments\" list" : err.text);
			json_decref(root);
			root = NULL;
			*corrupt = true;
		}
	}
	free(text);
	free(path);
	return root;
}

/* Before a new store replaces one that could not be read, the old one is
 * kept beside it: an operator's role changes are never lost silently. */
static void
keep_corrupt(const char *statedir)
{
	char *path = store_path(statedir), *to = move_aside(path);

	if (to)
		log_err("%s could not be read: moved aside to %s; starting a new one", path, to);
	else if (errno != ENOENT)
		log_err("%s could not be read nor moved aside: %s", path, strerror(errno));
	free(to);
	free(path);
}

/* Gives an inventory machine a new role, keeping what it set itself. */
static void
reassign(struct machine *m, struct role *role)
{
	if (!m->assigned && !m->from_store) {
		m->file_role = m->role;
		m->file_kernel = m->kernel;
		m->file_boot = m->boot;
	}
	if (m->role == NULL || m->kernel == m->role->kernel)
		m->kernel = role->kernel;
	if (m->role == NULL || m->boot == m->role->boot)
		m->boot = role->boot;
	m->role = role;
}

/* A machine that exists only through an assignment; name is borrowed. */
static void
fill_machine(struct machine *m, const uint8_t mac[6], const char *name,
    struct role *role, enum arch arch, enum firmware fw)
{
	memset(m, 0, sizeof *m);
	m->name = (char *)name;
	memcpy(m->mac, mac, 6);
	m->arch = arch;
	m->firmware = fw;
	m->role = role;
	m->kernel = role->kernel;
	m->boot = role->boot;
	m->from_store = true;
}

/* In a derived inventory the table has room for one more already. */
static void
add_machine(struct inventory *inv, const uint8_t mac[6], const char *name,
    struct role *role, enum arch arch, enum firmware fw)
{
	if (inv->base == NULL)
		inv->machines = erealloc(inv->machines, (inv->nmachines + 1) * sizeof *inv->machines);
	struct machine *m = &inv->machines[inv->nmachines++];
	fill_machine(m, mac, estrdup(name), role, arch, fw);
}

bool
assignments_fits(const struct inventory *inv, const uint8_t mac[6], const char *rolename,
    const char *name, enum arch arch, enum firmware fw, char *why, size_t cap)
{
	const struct machine *m = inv_machine_by_mac(inv, mac);
	struct role *role = inv_role(inv, rolename);
	struct machine t;
	char *text;

	if (role == NULL)
		return true;        /* assignments_check reports that */
	if (m != NULL) {
		t = *m;
		reassign(&t, role);
	} else
		fill_machine(&t, mac, name ? name : "new", role, arch, fw);
	text = plan9ini_render(inv, &t, why, cap);
	free(text);
	return text != NULL;
}

/* A stored assignment must never make the operator's inventory fail to
 * load (it would keep failing at every reload and restart): one whose
 * plan9.ini no longer fits Plan 9's limits is skipped and logged. */
static bool
plan9ini_fits(const struct inventory *inv, const struct machine *m,
    const char *path, const char *macs)
{
	char why[256];
	char *text = plan9ini_render(inv, m, why, sizeof why);

	if (text == NULL) {
		log_warn("%s: %s: role %s: %s; skipped", path, macs, m->role->name, why);
		((struct inventory *)inv)->assign_skipped++;
		return false;
	}
	free(text);
	return true;
}

static void
merge_one(struct inventory *inv, const char *path, size_t idx, json_t *a)
{
	const char *macs = json_string_value(json_object_get(a, "mac"));
	const char *rolename = json_string_value(json_object_get(a, "role"));
	const char *name = json_string_value(json_object_get(a, "name"));
	enum arch arch = ARCH_NONE;
	enum firmware fw = FW_NONE;
	struct role *role;
	struct machine *m;
	uint8_t mac[6];
	char why[160], defname[32], hex[13];

	if (macs == NULL || !mac_parse(macs, mac) || rolename == NULL) {
		log_warn("%s: assignment %zu has no valid mac and role; skipped", path, idx + 1);
		inv->assign_skipped++;
		return;
	}
	mac_hex(mac, hex);
	if (name == NULL) {
		snprintf(defname, sizeof defname, "m-%s", hex);
		name = defname;
	}
	arch_parse(json_string_value(json_object_get(a, "arch")), &arch);
	firmware_parse(json_string_value(json_object_get(a, "firmware")), &fw);
	role = inv_role(inv, rolename);
	m = inv_machine_by_mac(inv, mac);
	if (m == NULL && arch != ARCH_NONE && role && role->kernel && role->kernel->arch != arch) {
		log_warn("%s: %s: role %s boots %s but the machine is %s; skipped", path, macs,
		    rolename, role->kernel ? arch_name(role->kernel->arch) : "nothing",
		    arch_name(arch));
		inv->assign_skipped++;
		return;
	}
	enum arch a2;
	enum firmware f2;
	if (!assignments_check(inv, mac, rolename, name, -1, &a2, &f2, why, sizeof why)) {
		log_warn("%s: %s: %s; skipped", path, macs, why);
		inv->assign_skipped++;
		return;
	}
	if (m != NULL) {
		struct machine saved = *m;
		reassign(m, role);
		if (!plan9ini_fits(inv, m, path, macs)) {
			*m = saved;
			return;
		}
		m->assigned = true;
		return;
	}
	if (arch == ARCH_NONE)
		arch = a2;
	if (fw == FW_NONE || !firmware_runs_on(fw, arch))
		fw = default_firmware(arch);
	add_machine(inv, mac, name, role, arch, fw);
	m = &inv->machines[inv->nmachines - 1];
	if (!plan9ini_fits(inv, m, path, macs)) {
		free(m->name);
		inv->nmachines--;
	} else if (inv->base) {
		inv_own(inv, m->name);
		inv_index_add(inv, inv->nmachines - 1);
	}
}

/* What a full load would give, made from inv and the one record for mac
 * that a role change just stored (the last in the store, where it is
 * merged last), without reading the inventory file: its table is copied
 * and the record merged over the machine as the file has it, with the
 * same checks (plan9.ini limits included). NULL when that cannot be sure
 * to equal a full load (the file changed on disk, a record was skipped at
 * the last load and might fit now, the machine exists only by an earlier
 * record, the store holds no such record last): the caller reloads. */
struct inventory *
assignments_derive(const struct inventory *inv, const uint8_t mac[6])
{
	struct inventory *next = NULL;
	bool corrupt;
	json_t *root, *list, *a;
	uint8_t last[6];
	const char *s;

	if (inv->grid.state == NULL || inv->assign_skipped || !inv_file_unchanged(inv))
		return NULL;
	if ((root = load_store(inv->grid.state, &corrupt)) == NULL)
		return NULL;
	list = json_object_get(root, "assignments");
	size_t n = json_array_size(list);
	a = n ? json_array_get(list, n - 1) : NULL;
	s = a ? json_string_value(json_object_get(a, "mac")) : NULL;
	const struct machine *m = inv_machine_by_mac(inv, mac);
	if (s && mac_parse(s, last) && memcmp(last, mac, 6) == 0 && (m == NULL || !m->from_store)) {
		char *path = store_path(inv->grid.state);
		next = inv_derive(inv);
		struct machine *nm = inv_machine_by_mac(next, mac);
		if (nm && nm->assigned) {           /* back to what the file says */
			nm->role = nm->file_role;
			nm->kernel = nm->file_kernel;
			nm->boot = nm->file_boot;
			nm->assigned = false;
		}
		merge_one(next, path, n - 1, a);
		free(path);
		if (next->assign_skipped) {         /* a full load says why */
			inv_unref(next);
			next = NULL;
		}
	}
	json_decref(root);
	return next;
}

bool
assignments_merge(struct inventory *inv)
{
	json_t *root, *a;
	char *path;
	size_t i;
	bool merged = false;

	bool corrupt;
	if (inv->grid.state == NULL || (root = load_store(inv->grid.state, &corrupt)) == NULL)
		return false;
	path = store_path(inv->grid.state);
	json_array_foreach(json_object_get(root, "assignments"), i, a) {
		merge_one(inv, path, i, a);
		merged = true;
	}
	free(path);
	json_decref(root);
	return merged;
}

static int
save_store(const char *statedir, json_t *root)
{
	char *path = store_path(statedir);
	char *text = json_dumps(root, JSON_INDENT(1));
	int rc;

	if (mkdir_p(statedir, 0750) < 0)
		rc = -1;
	else
		rc = write_file_atomic(path, text, strlen(text));
	if (rc < 0)
		log_err("%s: %s", path, strerror(errno));
	free(text);
	free(path);
	return rc;
}

/* Removes mac's record from list; returns whether there was one. */
static bool
drop(json_t *list, const uint8_t mac[6])
{
	size_t i;
	json_t *a;
	uint8_t other[6];

	json_array_foreach(list, i, a) {
		const char *s = json_string_value(json_object_get(a, "mac"));
		if (s && mac_parse(s, other) && memcmp(other, mac, 6) == 0) {
			json_array_remove(list, i);
			return true;
		}
	}
	return false;
}

/* Another instance shares this one's store (core/store.h): role changes
 * go to it too, and come from it (assignments_take). */
static struct store_tab *shared;

void
assignments_share(struct store_tab *t)
{
	shared = t;
}

/* The record for mac in list after the change: to the store. */
static void
share_one(const uint8_t mac[6], json_t *a)
{
	char m12[13], *text, *data;

	if (shared == NULL)
		return;
	mac_hex(mac, m12);
	if (a == NULL) {
		struct store_rec r = { .op = 'F', .owner = m12 };
		store_put(shared, &r);
	} else {
		text = json_dumps(a, JSON_COMPACT);
		data = store_data_encode(text);
		struct store_rec r = { 'B', m12, m12, INT64_C(1) << 40, data };
		store_put(shared, &r);
		free(data);
		free(text);
	}
	store_commit(shared);
}

/* Replaces mac's record in STATE/assignments.json with a (NULL: none). */
static int
store_local(const char *statedir, const uint8_t mac[6], json_t *a)
{
	bool corrupt;
	json_t *root = load_store(statedir, &corrupt);
	int rc;

	if (corrupt)
		keep_corrupt(statedir);
	if (root == NULL)
		root = json_pack("{s:[]}", "assignments");
	json_t *list = json_object_get(root, "assignments");
	drop(list, mac);
	if (a)
		json_array_append(list, a);
	rc = save_store(statedir, root);
	json_decref(root);
	return rc;
}

int
assignments_store(const char *statedir, const uint8_t mac[6], const char *role,
    const char *name, enum arch arch, enum firmware fw)
{
	char macs[18];
	int rc;

	mac_format(mac, macs);
	json_t *a = json_pack("{s:s, s:s, s:s, s:s, s:I}", "mac", macs, "role", role,
	    "arch", arch_name(arch), "firmware", firmware_name(fw),
	    "set_ms", (json_int_t)wall_ms());
	if (name)
		json_object_set_new(a, "name", json_string(name));
	if ((rc = store_local(statedir, mac, a)) == 0)
		share_one(mac, a);
	json_decref(a);
	return rc;
}

/* The record for mac in STATE/assignments.json, or NULL (a new reference). */
static json_t *
local_record(const char *statedir, const uint8_t mac[6])
{
	bool corrupt;
	json_t *root = load_store(statedir, &corrupt), *a, *found = NULL;
	size_t i;
	uint8_t m[6];

	if (root == NULL)
		return NULL;
	json_array_foreach(json_object_get(root, "assignments"), i, a) {
		const char *s = json_string_value(json_object_get(a, "mac"));
		if (s && mac_parse(s, m) && memcmp(m, mac, 6) == 0)
			found = json_incref(a);
	}
	json_decref(root);
	return found;
}

static bool
same_assignment(json_t *a, json_t *b)
{
	static const char *const keys[] = { "role", "name", "arch", "firmware" };

	for (size_t i = 0; i < nelem(keys); i++)
		if (!json_equal(json_object_get(a, keys[i]), json_object_get(b, keys[i])) &&
		    (json_object_get(a, keys[i]) || json_object_get(b, keys[i])))
			return false;
	return true;
}

bool
assignments_take(const char *statedir, const struct store_rec *r)
{
	uint8_t mac[6];
	json_t *mine, *theirs = NULL;
	char *text;
	bool changed = false;

	if (!mac_parse(r->owner, mac))
		return false;
	if (r->op == 'B') {
		if ((text = store_data_decode(r->data)) == NULL)
			return false;
		theirs = json_loads(text, 0, NULL);
		free(text);
		if (!json_is_object(theirs) || !json_is_string(json_object_get(theirs, "role"))) {
			json_decref(theirs);
			return false;
		}
	} else if (r->op != 'F')
		return false;
	mine = local_record(statedir, mac);
	/* Two instances changing one machine at once: the later change wins
	 * everywhere, whichever record arrives last. */
	if (mine && theirs && json_integer_value(json_object_get(mine, "set_ms")) >
	    json_integer_value(json_object_get(theirs, "set_ms"))) {
		json_decref(mine);
		json_decref(theirs);
		return false;
	}
	if (theirs ? mine == NULL || !same_assignment(mine, theirs) : mine != NULL)
		changed = store_local(statedir, mac, theirs) == 0;
	json_decref(mine);
	json_decref(theirs);
	return changed;
}

bool
assignments_may_change(void)
{
	return shared == NULL || store_tab_up(shared);
}

int
assignments_remove(const char *statedir, const uint8_t mac[6])
{
	bool corrupt;
	json_t *root = load_store(statedir, &corrupt);
	int rc = 0;

	if (root == NULL)
		return 0;
	if (drop(json_object_get(root, "assignments"), mac))
		rc = save_store(statedir, root) < 0 ? -1 : 1;
	json_decref(root);
	if (rc == 1)
		share_one(mac, NULL);
	return rc;
}

int
assignments_apply(const struct inventory *inv, const uint8_t mac[6], const char *role,
    const char *name, int client_arch, const char *via, char *why, size_t whycap)
{
	enum arch arch;
	enum firmware fw;
	char macs[18], fitwhy[200];

	/* Made only here while the database is away, it could not reach the
	 * other instances, and their older record would come back over it. */
	if (shared && !store_tab_up(shared)) {
		snprintf(why, whycap, "the store's database is away: role changes wait until it is back");
		return 503;
	}
	if (!assignments_check(inv, mac, role, name, client_arch, &arch, &fw, why, whycap))
		return inv_role(inv, role) ? 409 : 422;
	if (!assignments_fits(inv, mac, role, name, arch, fw, fitwhy, sizeof fitwhy)) {
		snprintf(why, whycap, "with role %s its plan9.ini would not boot: %s", role, fitwhy);
		return 422;
	}
	if (assignments_store(inv->grid.state, mac, role, name, arch, fw) < 0) {
		snprintf(why, whycap, "cannot write the assignments file");
		return 500;
	}
	mac_format(mac, macs);
	log_info("%s: %s assigned role %s", via, macs, role);
	events_emit(mac, EVK_SYSTEM, "role set to %s through %s", role, via);
	return 0;
}
