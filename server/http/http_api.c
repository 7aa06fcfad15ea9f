/* The JSON API under /api/v1 (jansson builds and parses every document).
 *
 *   GET    /machines                     the inventory's machines, with state
 *   GET    /machines/ID                  one (name or MAC), with its plan9.ini
 *   GET    /machines/ID/timeline         its boot events (?after=SEQ)
 *   PUT    /machines/ID/role             {"role": R, "power": "cycle"?}: change a
 *                                        machine's role (and power cycle it into it)
 *   POST   /machines/ID/power            {"op": "on"|"off"|"cycle"|"pxe"|"status"}:
 *                                        queued for its BMC (202; 409 while one
 *                                        runs for it); the outcome is on its
 *                                        timeline and in its "power"
 *   GET    /discovered                   machines seen but not in the inventory
 *                                        (a summary of each one's facts)
 *   GET    /discovered/MAC               one of them, with all its facts
 *   POST   /discovered/MAC/assign        {"role": R, "name": N?, "power": "cycle"?}:
 *                                        adopt one
 *   GET    /assignments                  what the API changed (assignments.h)
 *   DELETE /assignments/MAC              undo it
 *   GET    /roles                        roles with their kernel and arch
 *   GET    /leases                       reservations and live leases
 *   GET    /timeline                     recent events of every machine
 *   POST   /enroll                       {"mac": M, ...facts}: discovery image
 *   GET    /events                       Server-Sent Events (http_sse.c)
 *
 * Mutating calls need "Authorization: Bearer <grid.api_token>" (checked in
 * http.c before any body is read), except /enroll: the discovery image is
 * an anonymous netbooted client and any token given to it would be
 * readable by anyone from its iPXE script, so enroll can only record facts
 * about a MAC, never change what a machine boots. Errors are
 * {"error": "..."} with a 4xx. An enroll is accepted only from the
 * address that holds a lease for its MAC (speaks_for) and within rate
 * limits per source and overall. Role changes are written to
 * STATE/assignments.json and applied by reloading the inventory. */
#include "http/http.h"
#include "boot/machstate.h"
#include "config/assignments.h"
#include "config/discovered.h"
#include "core/store.h"
#include "core/events.h"
#include "boot/leases.h"
#include "boot/leases6.h"
#include "core/log.h"
#include "core/metrics.h"
#include "config/plan9ini.h"
#include "core/util.h"
#include "power/power.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>


/* ---- JSON documents ---- */

static json_t *
mac_json(const uint8_t mac[6])
{
	char s[18];
	mac_format(mac, s);
	return json_string(s);
}

json_t *
http_api_event_json(const struct bootevent *ev)
{
	json_t *j = json_pack("{s:I, s:I, s:s, s:s}", "seq", (json_int_t)ev->seq,
	    "time_ms", (json_int_t)ev->time_ms, "kind", events_kind_name(ev->kind), "text", ev->text);
	json_object_set_new(j, "mac", ev->has_mac ? mac_json(ev->mac) : json_null());
	return j;
}

/* listed: the MAC is an inventory machine (the caller knows already). */
static const char *
state_of(const uint8_t mac[6], bool listed, int64_t *last)
{
	const char *s = machstate_get(mac, last);
	if (s)
		return s;
	return listed ? "idle" : "discovered";
}

/* The last boot as steps with their times and how long each took after
 * the one before (the web page draws them as a waterfall). */
static json_t *
boot_steps_json(const uint8_t mac[6])
{
	int64_t ms[STEP_COUNT], prev = 0;
	json_t *list = json_array();

	machstate_steps(mac, ms);
	for (int i = 0; i < STEP_COUNT; i++) {
		if (ms[i] == 0)
			continue;
		json_array_append_new(list, json_pack("{s:s, s:I, s:I}", "step",
		    machstate_step_name((enum machstep)i), "time_ms", (json_int_t)ms[i],
		    "took_ms", (json_int_t)(prev ? ms[i] - prev : 0)));
		prev = ms[i];
	}
	return list;
}

/* What is known of its power; never the BMC's address or credentials
 * (the inventory file holds those, the API does not show them). */
static json_t *
power_json(const struct machine *m)
{
	struct power_view v;

	if (!power_view(m, &v))
		return json_null();
	json_t *j = json_pack("{s:s, s:s}", "driver", v.driver, "state",
	    power_state_name(v.state));
	json_object_set_new(j, "checked_ms", v.checked_ms ? json_integer(v.checked_ms) : json_null());
	json_object_set_new(j, "running", v.busy ? json_string(power_op_name(v.busy_op)) :
	    json_null());
	json_object_set_new(j, "last", v.has_last ? json_pack("{s:s, s:b, s:I}", "op",
	    power_op_name(v.last_op), "ok", v.last_ok, "time_ms", (json_int_t)v.last_ms) :
	    json_null());
	json_object_set_new(j, "error", v.last_error[0] ? json_string(v.last_error) : json_null());
	return j;
}

static json_t *
machine_json(const struct inventory *inv, const struct machine *m,
    bool full)
{
	char ip[16] = "", hex[13];
	int64_t last = 0;
	const char *state = state_of(m->mac, true, &last);

	if (m->ip)
		ip_format(m->ip, ip);
	mac_hex(m->mac, hex);
	json_t *j = json_pack("{s:s, s:o, s:s?, s:s, s:s, s:s?, s:s?, s:s?, s:s, s:s}",
	    "name", m->name, "mac", mac_json(m->mac), "ip", m->ip ? ip : NULL,
	    "arch", arch_name(m->arch), "firmware", firmware_name(m->firmware),
	    "role", m->role ? m->role->name : NULL,
	    "kernel", m->kernel ? m->kernel->name : NULL,
	    "payload", m->kernel ? (m->kernel->payload == PAYLOAD_LINUX ? "linux" : "plan9") : NULL,
	    "boot", boot_name(machine_boot(m)), "state", state);
	json_object_set_new(j, "last_event_ms", last ? json_integer(last) : json_null());
	json_object_set_new(j, "source", json_string(m->line ? "inventory" : "api"));
	json_object_set_new(j, "mac12", json_string(hex));
	if (m->power)
		json_object_set_new(j, "power", power_json(m));
	if (m->v6 && m->v6->has_ip6) {
		char ip6[46];
		ip6_format(m->v6->ip6, ip6);
		json_object_set_new(j, "ip6", json_string(ip6));
	}
	if (m->v6 && m->v6->duid_len) {
		char d[3 * DUID_MAX + 1];
		hex_bytes_format(m->v6->duid, m->v6->duid_len, d, sizeof d);
		json_object_set_new(j, "duid", json_string(d));
	}
	if (full) {
		char why[256];
		char *ini = plan9ini_render(inv, m, why, sizeof why);
		json_object_set_new(j, "plan9ini", ini ? json_string(ini) : json_null());
		free(ini);
		json_object_set_new(j, "boot_steps", boot_steps_json(m->mac));
	}
	return j;
}

/* What add_discovered is given: the list it fills (or NULL for one
 * record, left in one), the module, and whether to show the whole facts. */
struct discovered_list {
	json_t *list;
	struct http_state *h;
	bool full;
	json_t *one;
};

/* The list shows a few of the top-level facts (numbers, booleans, short
 * strings), never the whole document: a list of every record's facts
 * would cost tens of MiB per request. GET /discovered/MAC has them all. */
#define SUMMARY_KEYS 8
#define SUMMARY_TEXT 64

static json_t *
facts_summary(const char *facts_json)
{
	json_t *facts = facts_json ? json_loads(facts_json, 0, NULL) : NULL;
	json_t *out = json_object(), *v;
	const char *k;
	int n = 0;

	if (facts == NULL)
		return out;
	json_object_foreach(facts, k, v) {
		if (n == SUMMARY_KEYS)
			break;
		if (strcmp(k, "mac") == 0 || strlen(k) > SUMMARY_TEXT)
			continue;
		if (json_is_string(v) && json_string_length(v) > SUMMARY_TEXT)
			json_object_set_new(out, k, json_stringn(json_string_value(v), SUMMARY_TEXT));
		else if (json_is_number(v) || json_is_boolean(v) || json_is_string(v))
			json_object_set(out, k, v);
		else
			continue;
		n++;
	}
	json_decref(facts);
	return out;
}

static void
add_discovered(const struct discovered *d, void *arg)
{
	struct discovered_list *dl = arg;
	const struct inventory *inv = dl->h->d->inv;
	const struct machine *m = inv_machine_by_mac(inv, d->mac);
	enum arch a;
	enum firmware f;
	int64_t last = 0;
	bool known = arch_from_option93(d->client_arch, &a, &f);

	json_t *j = json_pack("{s:o, s:i, s:s?, s:s?, s:s, s:s, s:I, s:I, s:s}",
	    "mac", mac_json(d->mac), "client_arch", d->client_arch,
	    "arch", known ? arch_name(a) : NULL, "firmware", known ? firmware_name(f) : NULL,
	    "vendor_class", d->vendor_class, "uuid", d->uuid,
	    "first_seen_ms", (json_int_t)d->first_seen_ms,
	    "last_seen_ms", (json_int_t)d->last_seen_ms,
	    "state", state_of(d->mac, m != NULL, &last));
	json_object_set_new(j, "machine", m ? json_string(m->name) : json_null());
	json_object_set_new(j, "enrolled", json_boolean(d->facts_json != NULL));
	json_object_set_new(j, "facts_bytes", json_integer(d->facts_json ?
	    (json_int_t)strlen(d->facts_json) : 0));
	if (dl->full) {
		json_t *facts = d->facts_json ? json_loads(d->facts_json, 0, NULL) : NULL;
		json_object_set_new(j, "facts", facts ? facts : json_null());
	} else
		json_object_set_new(j, "summary", facts_summary(d->facts_json));
	if (dl->list)
		json_array_append_new(dl->list, j);
	else
		dl->one = j;
}

static void
add_lease(const struct lease_info *l, void *arg)
{
	char ip[16];

	ip_format(l->ip, ip);
	json_array_append_new(arg, json_pack("{s:o, s:s, s:I, s:b, s:s?}",
	    "mac", mac_json(l->mac), "ip", ip, "expires_ms", (json_int_t)l->expires_ms,
	    "reserved", l->reserved, "hostname", l->hostname));
}

/* An IPv6 lease (boot/leases6.h) in the same list: "ip6" instead of "ip". */
static void
add_lease6(const struct lease6_info *l, void *arg)
{
	char ip6[46], d[3 * DUID_MAX + 1] = "";

	ip6_format(l->ip6, ip6);
	if (l->duid)
		hex_bytes_format(l->duid, l->duid_len, d, sizeof d);
	json_t *j = json_pack("{s:s, s:I, s:b, s:s?, s:s?}", "ip6", ip6,
	    "expires_ms", (json_int_t)l->expires_ms, "reserved", l->reserved,
	    "hostname", l->hostname, "duid", l->duid ? d : NULL);
	json_object_set_new(j, "mac", l->has_mac ? mac_json(l->mac) : json_null());
	if (!l->reserved)
		json_object_set_new(j, "iaid", json_integer(l->iaid));
	json_array_append_new(arg, j);
}

static void
add_event(const struct bootevent *ev, void *arg)
{
	json_array_append_new(arg, http_api_event_json(ev));
}

/* ---- helpers ---- */

bool
http_api_authorized(const struct http_state *hs, struct MHD_Connection *c)
{
	const char *tok = hs->d->inv->grid.api_token;
	const char *h = http_header(c, MHD_HTTP_HEADER_AUTHORIZATION);
	unsigned char want[SHA256_DIGEST_LENGTH], got[SHA256_DIGEST_LENGTH];

	if (tok == NULL || h == NULL || strncmp(h, "Bearer ", 7) != 0)
		return false;
	h += 7;
	/* Digests of equal size compared in constant time: neither the
	 * token's length nor its first differing byte shows in the time an
	 * answer takes (a length check first would tell the length). */
	SHA256((const unsigned char *)tok, strlen(tok), want);
	SHA256((const unsigned char *)h, strlen(h), got);
	return CRYPTO_memcmp(want, got, sizeof want) == 0;
}

static uint64_t
arg_u64(struct MHD_Connection *c, const char *name, uint64_t dflt)
{
	const char *s = http_arg(c, name);
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return dflt;
	unsigned long long v = strtoull(s, &end, 10);
	return *end ? dflt : (uint64_t)v;
}

/* Parses the request body as a JSON object; on failure queues the 400
 * and returns NULL. */
static json_t *
body_object(struct MHD_Connection *c, struct http_req *r, enum MHD_Result *res)
{
	json_error_t err;
	json_t *j;

	if (r->body == NULL || r->len == 0) {
		*res = http_error(c, r, 400, "the request needs a JSON object body");
		return NULL;
	}
	j = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, &err);
	if (j == NULL) {
		*res = http_error(c, r, 400, "bad JSON at line %d column %d: %s", err.line,
		    err.column, err.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		*res = http_error(c, r, 400, "the body must be a JSON object");
		return NULL;
	}
	return j;
}

/* Splits "a/b/c" into at most max parts (in place in buf). */
static int
split(char *buf, char **parts, int max)
{
	int n = 0;
	char *save = NULL;

	for (char *p = strtok_r(buf, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
		if (n == max)
			return -1;
		parts[n++] = p;
	}
	return n;
}

/* ---- role changes ---- */

/* The reload a role change asks for runs at the end of this loop turn,
 * outside MHD's callback (core/module.h): the connection waits suspended
 * and MHD calls on_request again once it is resumed, which answers from
 * http_api_reload_answer. */
static void
on_reloaded(bool ok, void *arg)
{
	struct http_req *r = arg;

	r->reload_ok = ok;
	r->reload_done = true;
	MHD_resume_connection(r->conn);
	/* MHD sees the resumed connection when it next runs: now. */
	http_run_now(r->h);
}

/* "power": "cycle" with a role change: once the machine boots by its new
 * role, its BMC power cycles it into it (docs/power.md). What happened,
 * for the answer: "queued", or why not. */
static json_t *
power_cycle_into_role(const struct machine *m)
{
	char why[256];

	if (power_request(m, POP_CYCLE, "the API (into its new role)", why, sizeof why) != 0)
		return json_string(why);
	return json_string("queued");
}

enum MHD_Result
http_api_reload_answer(struct MHD_Connection *c, struct http_req *r)
{
	if (r->removed)     /* the file no longer has it, whatever the load said */
		return http_reply_json(c, r, 200, json_pack("{s:b}", "ok", 1));
	if (!r->reload_ok)
		return http_reply_json(c, r, 202, json_pack("{s:b, s:b, s:s}", "stored", 1,
		    "applied", 0, "error",
		    "the inventory file has errors now; the assignment applies at the next good reload"));
	const struct machine *m = inv_machine_by_mac(r->h->d->inv, r->mac);
	if (m == NULL)
		return http_reply_json(c, r, 202, json_pack("{s:b, s:b, s:s}", "stored", 1,
		    "applied", 0, "error", "the reloaded inventory skipped it; see the log"));
	json_t *j = machine_json(r->h->d->inv, m, true);
	if (r->power_cycle)
		json_object_set_new(j, "power_cycle", power_cycle_into_role(m));
	return http_reply_json(c, r, 200, j);
}

/* Stores the assignment and has the inventory reloaded so it applies now. */
static enum MHD_Result
apply_assignment(struct MHD_Connection *c, struct http_req *r, const uint8_t mac[6],
    const char *role, const char *name, int client_arch)
{
	char why[256];
	int status = assignments_apply(r->h->d->inv, mac, role, name, client_arch, "the API",
	    why, sizeof why);

	if (status != 0)
		return http_error(c, r, (unsigned)status, "%s", why);
	memcpy(r->mac, mac, 6);
	r->conn = c;
	r->waiter = (struct reload_waiter){ .done = on_reloaded, .arg = r };
	MHD_suspend_connection(c);
	daemon_request_assignment(r->h->d, mac, &r->waiter);
	return MHD_YES;
}

/* The optional "power": "cycle" of a role change or an adoption. */
static bool
power_flag(json_t *j, struct http_req *r)
{
	json_t *p = json_object_get(j, "power");

	r->power_cycle = false;
	if (p == NULL)
		return true;
	if (!json_is_string(p) || strcmp(json_string_value(p), "cycle") != 0)
		return false;
	r->power_cycle = true;
	return true;
}

static enum MHD_Result
put_role(struct MHD_Connection *c, struct http_req *r, const struct machine *m)
{
	enum MHD_Result res;
	json_t *j = body_object(c, r, &res);

	if (j == NULL)
		return res;
	const char *role = json_string_value(json_object_get(j, "role"));
	if (role == NULL) {
		json_decref(j);
		return http_error(c, r, 400, "missing \"role\" (a string)");
	}
	if (!power_flag(j, r)) {
		json_decref(j);
		return http_error(c, r, 400, "\"power\" may only be \"cycle\"");
	}
	uint8_t mac[6];
	memcpy(mac, m->mac, 6);
	res = apply_assignment(c, r, mac, role, m->line ? NULL : m->name, -1);
	json_decref(j);
	return res;
}

static enum MHD_Result
assign_discovered(struct MHD_Connection *c, struct http_req *r, const uint8_t mac[6])
{
	const struct discovered *d = discovered_find(mac);
	enum MHD_Result res;
	json_t *j, *nm;

	if (d == NULL)
		return http_error(c, r, 404, "no discovered machine with that MAC");
	if ((j = body_object(c, r, &res)) == NULL)
		return res;
	const char *role = json_string_value(json_object_get(j, "role"));
	nm = json_object_get(j, "name");
	if (role == NULL || (nm && !json_is_string(nm))) {
		json_decref(j);
		return http_error(c, r, 400, "needs \"role\" (a string) and optionally \"name\" (a string)");
	}
	if (!power_flag(j, r)) {
		json_decref(j);
		return http_error(c, r, 400, "\"power\" may only be \"cycle\"");
	}
	char defname[32], hex[13];
	mac_hex(mac, hex);
	snprintf(defname, sizeof defname, "m-%s", hex);
	res = apply_assignment(c, r, mac, role, nm ? json_string_value(nm) : defname,
	    d->client_arch);
	json_decref(j);
	return res;
}

/* Enroll costs nothing to send: it is limited per source address and
 * overall, token buckets refilled with time. */
#define ENROLL_SRC_BURST 10
#define ENROLL_SRC_EVERY_MS 6000        /* one more per source every 6 s */
#define ENROLL_ALL_BURST 50
#define ENROLL_ALL_EVERY_MS 50          /* 20 a second over all sources */
#define ENROLL_SEEN_MS (10 * 60 * 1000) /* proxy networks: DHCP seen this recently */

/* The source's own bucket, before anything else is read: a source over
 * its limit is refused without a look at its body. */
static bool
enroll_src_allowed(struct http_state *h, const uint8_t src[16])
{
	struct http_enroll_limit *el = &h->enroll;
	uint8_t key[LIM_KEYLEN];

	lim_key_addr(key, src);
	return lim_take(lim_find(&el->src, key), ENROLL_SRC_BURST, ENROLL_SRC_EVERY_MS, mono_ms());
}

/* The shared bucket, only for an enroll that passed the lease check: a
 * crowd of sources that hold no lease (300 rotating IPv6 addresses) must
 * not spend the budget the real machines need. */
static bool
enroll_all_allowed(struct http_state *h)
{
	return lim_take(&h->enroll.all, ENROLL_ALL_BURST, ENROLL_ALL_EVERY_MS, mono_ms());
}

/* May the host at src (IPv4 as ::ffff:a.b.c.d) speak for mac? It must
 * hold mac's address: a reservation or live lease of ours, DHCPv4's or
 * DHCPv6's. On a proxy network (the site's DHCP hands out addresses, we
 * see none) it must be on that network and mac must have been seen by
 * our DHCP lately. Anyone else could write facts about any MAC. */
static bool
speaks_for(const struct http_state *h, const uint8_t src[16], const uint8_t mac[6])
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	const struct inventory *inv = h->d->inv;
	const struct discovered *d = discovered_find(mac);
	bool seen = d && d->last_seen_ms > wall_ms() - ENROLL_SEEN_MS;
	uint8_t held[6];

	if (memcmp(src, mapped, 12) == 0) {
		uint32_t ip = (uint32_t)src[12] << 24 | (uint32_t)src[13] << 16 | (uint32_t)src[14] << 8 | src[15];
		if (leases_mac_for_ip(inv, ip, held))
			return memcmp(held, mac, 6) == 0;
		const struct network *n = inv_network_for(inv, ip);
		return n && n->dhcp == DHCP_PROXY && seen;
	}
	if (leases6_mac_for_ip6(inv, src, held))
		return memcmp(held, mac, 6) == 0;
	const struct network *n = inv_network_for6(inv, src);
	return n && n->dhcp6 == DHCP_PROXY && seen;
}

static enum MHD_Result
enroll(struct MHD_Connection *c, struct http_req *r)
{
	enum MHD_Result res;
	uint8_t mac[6];
	uint8_t src[16];

	if (!http_client_addr(c, src))
		return http_error(c, r, 403, "enroll: no client address");
	if (!enroll_src_allowed(r->h, src)) {
		(*r->h->enroll.refused)++;
		return http_error(c, r, 429, "too many enrolls from this address; try again later");
	}
	json_t *j = body_object(c, r, &res);
	if (j == NULL)
		return res;
	const char *macs = json_string_value(json_object_get(j, "mac"));
	if (macs == NULL || !mac_parse(macs, mac)) {
		json_decref(j);
		return http_error(c, r, 400, "needs \"mac\": a MAC address like 52:54:00:00:00:11");
	}
	if (!speaks_for(r->h, src, mac)) {
		char m[18], a[INET6_ADDRSTRLEN];
		mac_format(mac, m);
		json_decref(j);
		(*r->h->enroll.refused)++;
		if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(const void *)src))
			inet_ntop(AF_INET, src + 12, a, sizeof a);
		else
			inet_ntop(AF_INET6, src, a, sizeof a);
		return http_error(c, r, 403, "this address (%s) holds no lease for %s", a, m);
	}
	if (!enroll_all_allowed(r->h)) {
		json_decref(j);
		(*r->h->enroll.refused)++;
		return http_error(c, r, 429, "too many enrolls; try again later");
	}
	if (discovered_facts_depth(j) > DISCOVERED_MAX_DEPTH) {
		json_decref(j);
		return http_error(c, r, 422, "facts nested deeper than %d levels", DISCOVERED_MAX_DEPTH);
	}
	char *facts = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	if (strlen(facts) > DISCOVERED_MAX_FACTS) {
		free(facts);
		return http_error(c, r, 413, "facts larger than %d bytes", DISCOVERED_MAX_FACTS);
	}
	int rc = discovered_set_facts(mac, facts);
	free(facts);
	if (rc < 0)
		return http_error(c, r, 422, "facts not stored");
	events_emit(mac, EVK_ENROLL, "enrolled: %zu bytes of hardware facts", r->len);
	/* Answered at the end of this turn, once the store is written
	 * (group commit: one write for every enroll of the turn). */
	r->conn = c;
	r->next_enroll = r->h->enrolls;
	r->h->enrolls = r;
	MHD_suspend_connection(c);
	return MHD_YES;
}

void
http_api_enrolls_sync(struct http_state *h)
{
	struct http_req *r = h->enrolls;

	if (r == NULL)
		return;
	h->enrolls = NULL;
	bool ok = discovered_flush_now() == 0;
	for (struct http_req *next; r; r = next) {
		next = r->next_enroll;
		r->enroll_done = true;
		r->enroll_ok = ok;
		MHD_resume_connection(r->conn);
	}
	http_run_now(h);     /* MHD sees them now */
}

enum MHD_Result
http_api_enroll_answer(struct MHD_Connection *c, struct http_req *r)
{
	if (!r->enroll_ok)
		return http_error(c, r, 500, "facts kept in memory but not written to disk");
	return http_reply_json(c, r, 200, json_pack("{s:b}", "ok", 1));
}

/* ---- power ---- */

static enum MHD_Result
post_power(struct MHD_Connection *c, struct http_req *r, const struct machine *m)
{
	enum MHD_Result res;
	json_t *j = body_object(c, r, &res);
	enum power_op op;
	char why[256];

	if (j == NULL)
		return res;
	const char *s = json_string_value(json_object_get(j, "op"));
	if (s == NULL || !power_op_parse(s, &op)) {
		json_decref(j);
		return http_error(c, r, 400, "needs \"op\": one of on, off, cycle, pxe, status");
	}
	json_decref(j);
	int status = power_request(m, op, "the API", why, sizeof why);
	if (status != 0)
		return http_error(c, r, (unsigned)status, "%s", why);
	return http_reply_json(c, r, 202, json_pack("{s:s, s:s, s:b, s:s}", "machine", m->name,
	    "op", power_op_name(op), "accepted", 1, "timeline",
	    "the outcome is an event of kind power on the machine's timeline"));
}

/* ---- routing ---- */

static enum MHD_Result
machines(struct MHD_Connection *c, struct http_req *r, const char *method,
    char **p, int n)
{
	struct inventory *inv = r->h->d->inv;

	if (n == 1) {
		if (strcmp(method, "GET") != 0)
			return http_error(c, r, 405, "%s is not allowed on machines", method);
		json_t *list = json_array();
		for (size_t i = 0; i < inv->nmachines; i++)
			json_array_append_new(list, machine_json(inv, &inv->machines[i], false));
		return http_reply_json(c, r, 200, json_pack("{s:o}", "machines", list));
	}
	const struct machine *m = inv_machine_lookup(inv, p[1]);
	if (m == NULL)
		return http_error(c, r, 404, "no machine %s in the inventory", p[1]);
	if (n == 2 && strcmp(method, "GET") == 0)
		return http_reply_json(c, r, 200, machine_json(inv, m, true));
	if (n == 3 && strcmp(p[2], "timeline") == 0 && strcmp(method, "GET") == 0) {
		json_t *list = json_array();
		events_since(arg_u64(c, "after", 0), m->mac, add_event, list);
		return http_reply_json(c, r, 200, json_pack("{s:s, s:o}", "machine", m->name,
		    "events", list));
	}
	if (n == 3 && strcmp(p[2], "role") == 0 && strcmp(method, "PUT") == 0)
		return put_role(c, r, m);
	if (n == 3 && strcmp(p[2], "power") == 0)
		return strcmp(method, "POST") == 0 ? post_power(c, r, m) :
		    http_error(c, r, 405, "power takes POST {\"op\": ...}; GET the machine for its state");
	return http_error(c, r, 404, "no such API call");
}

static enum MHD_Result
get_list(struct MHD_Connection *c, struct http_req *r, const char *what)
{
	json_t *list = json_array();

	if (strcmp(what, "discovered") == 0) {
		struct discovered_list dl = { list, r->h, false, NULL };
		discovered_foreach(add_discovered, &dl);
	} else if (strcmp(what, "roles") == 0) {
		const struct inventory *inv = r->h->d->inv;
		for (size_t i = 0; i < inv->nroles; i++) {
			const struct role *ro = &inv->roles[i];
			const struct kernel *k = ro->kernel;
			json_array_append_new(list, json_pack("{s:s, s:s?, s:s?, s:s?, s:s}",
			    "name", ro->name, "kernel", k ? k->name : NULL,
			    "arch", k ? arch_name(k->arch) : NULL,
			    "payload", k ? (k->payload == PAYLOAD_LINUX ? "linux" : "plan9") : NULL,
			    "boot", boot_name(ro->boot)));
		}
	}
	else if (strcmp(what, "leases") == 0) {
		leases_foreach(r->h->d->inv, add_lease, list);
		leases6_foreach(r->h->d->inv, add_lease6, list);
	}
	else {
		uint64_t last = events_last_seq(), dflt = last > 200 ? last - 200 : 0;
		events_since(arg_u64(c, "after", dflt), NULL, add_event, list);
	}
	return http_reply_json(c, r, 200, json_pack("{s:o}", what, list));
}

/* Where the leases live and, with a database, whether it is there and
 * which instances share it (docs/scale.md). */
static enum MHD_Result
get_store(struct MHD_Connection *c, struct http_req *r)
{
	const struct store *st = r->h->d->store;
	int npeers;
	const char *peers = store_peers(st, &npeers);
	json_t *list = json_array();
	char *copy = estrdup(peers), *save = NULL;

	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
		json_array_append_new(list, json_string(w));
	free(copy);
	return http_reply_json(c, r, 200, json_pack("{s:s, s:b, s:s, s:o}",
	    "backend", store_shared(st) ? "postgresql" : "files", "up", store_up(st),
	    "instance", r->h->d->inv->grid.instance ? r->h->d->inv->grid.instance : "",
	    "instances", list));
}

static enum MHD_Result
assignments(struct MHD_Connection *c, struct http_req *r, const char *method, char **p, int n)
{
	uint8_t mac[6];

	if (n == 1 && strcmp(method, "GET") == 0) {
		char *path = esprintf("%s/assignments.json", r->h->d->inv->grid.state);
		json_t *j = json_load_file(path, 0, NULL);
		free(path);
		return http_reply_json(c, r, 200, j ? j : json_pack("{s:[]}", "assignments"));
	}
	if (n != 2 || strcmp(method, "DELETE") != 0)
		return http_error(c, r, n == 2 ? 405 : 404, "no such API call");
	if (!mac_parse(p[1], mac))
		return http_error(c, r, 400, "%s is not a MAC address", p[1]);
	if (!assignments_may_change())
		return http_error(c, r, 503, "the store's database is away: role changes wait until it is back");
	int rc = assignments_remove(r->h->d->inv->grid.state, mac);
	if (rc < 0)
		return http_error(c, r, 500, "cannot write the assignments file");
	if (rc == 0)
		return http_error(c, r, 404, "no assignment for %s", p[1]);
	/* Answered once the reload has run, so the caller's next request
	 * sees the inventory role (as a role change's does). */
	r->removed = true;
	r->conn = c;
	r->waiter = (struct reload_waiter){ .done = on_reloaded, .arg = r };
	MHD_suspend_connection(c);
	daemon_request_reload(r->h->d, &r->waiter);
	return MHD_YES;
}

enum MHD_Result
http_api(struct MHD_Connection *c, struct http_req *r, const char *method, const char *path)
{
	char buf[HTTP_MAX_URL + 1], *p[6];
	int n;
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

	if (*path != '/' && *path != '\0')
		return http_error(c, r, 404, "no such API call");
	str_copy(buf, path, sizeof buf);
	if ((n = split(buf, p, (int)nelem(p))) <= 0)
		return http_error(c, r, 404, "no such API call");
	if (get && strcmp(method, "HEAD") == 0)
		method = "GET";
	if (strcmp(p[0], "machines") == 0)
		return machines(c, r, method, p, n);
	if (strcmp(p[0], "assignments") == 0)
		return assignments(c, r, method, p, n);
	if (n == 1 && (strcmp(p[0], "discovered") == 0 || strcmp(p[0], "leases") == 0 ||
	    strcmp(p[0], "roles") == 0 ||
	    strcmp(p[0], "timeline") == 0))
		return get ? get_list(c, r, p[0]) : http_error(c, r, 405, "%s is read-only", p[0]);
	if (n == 2 && strcmp(p[0], "discovered") == 0) {
		uint8_t mac[6];
		const struct discovered *d;
		if (!get)
			return http_error(c, r, 405, "discovered machines are read-only");
		if (!mac_parse(p[1], mac))
			return http_error(c, r, 400, "%s is not a MAC address", p[1]);
		if ((d = discovered_find(mac)) == NULL)
			return http_error(c, r, 404, "no discovered machine with that MAC");
		struct discovered_list one = { NULL, r->h, true, NULL };
		add_discovered(d, &one);
		return http_reply_json(c, r, 200, one.one);
	}
	if (n == 3 && strcmp(p[0], "discovered") == 0 && strcmp(p[2], "assign") == 0) {
		uint8_t mac[6];
		if (strcmp(method, "POST") != 0)
			return http_error(c, r, 405, "assign takes POST");
		if (!mac_parse(p[1], mac))
			return http_error(c, r, 400, "%s is not a MAC address", p[1]);
		return assign_discovered(c, r, mac);
	}
	if (n == 1 && strcmp(p[0], "store") == 0)
		return get ? get_store(c, r) : http_error(c, r, 405, "store is read-only");
	if (n == 1 && strcmp(p[0], "enroll") == 0)
		return strcmp(method, "POST") == 0 ? enroll(c, r) :
		    http_error(c, r, 405, "enroll takes POST");
	return http_error(c, r, 404, "no such API call");
}

/* ---- /metrics ---- */

struct census {
	struct http_state *h;
	uint64_t discovered, booting, up, idle;
};

static void
count_discovered(const struct discovered *d, void *arg)
{
	struct census *n = arg;
	if (inv_machine_by_mac(n->h->d->inv, d->mac))
		return;     /* counted with the inventory's machines */
	const char *s = state_of(d->mac, false, NULL);
	if (strcmp(s, "up") == 0)
		n->up++;
	else
		n->discovered++;
}

static void
count_listed(const uint8_t mac[6], const char *state, void *arg)
{
	struct census *n = arg;
	if (inv_machine_by_mac(n->h->d->inv, mac) == NULL)
		return;     /* a discovered machine: counted below */
	if (strcmp(state, "booting") == 0)
		n->booting++;
	else
		n->up++;
}

enum MHD_Result
http_metrics(struct MHD_Connection *c, struct http_req *r)
{
	struct inventory *inv = r->h->d->inv;
	struct census n = { .h = r->h };

	/* Only the machines seen since the start are visited: a scrape of a
	 * large inventory whose machines are idle costs nothing per machine. */
	machstate_foreach(count_listed, &n);
	n.idle = inv->nmachines - n.booting - n.up;
	discovered_foreach(count_discovered, &n);
	static const char help[] = "Machines by state: discovered (not in the inventory), "
	    "booting (last seen in DHCP/TFTP/HTTP), up (9P, auth or enroll), idle (no event yet)";
	*metric_gauge("gridboot_machines", "state=\"discovered\"", help) = n.discovered;
	*metric_gauge("gridboot_machines", "state=\"booting\"", help) = n.booting;
	*metric_gauge("gridboot_machines", "state=\"up\"", help) = n.up;
	*metric_gauge("gridboot_machines", "state=\"idle\"", help) = n.idle;
	char *text = metrics_render();
	return http_reply_text(c, r, 200, "text/plain; version=0.0.4; charset=utf-8", text,
	    strlen(text));
}
