/* The Redfish driver: HTTPS and JSON through libcurl and jansson, on a
 * power thread (DMTF DSP0266; the ComputerSystem schema).
 *
 *   status  GET the system: PowerState
 *   on/off  POST its #ComputerSystem.Reset target: ResetType On / ForceOff
 *   cycle   ResetType PowerCycle (ForceRestart where the system's
 *           AllowableValues lack it); a system that is Off gets On
 *   pxe     PATCH Boot: BootSourceOverrideTarget Pxe, ...Enabled Once
 *
 * Every operation starts with a GET of the system (the Reset target and
 * the values it allows are the system's to say) and ends with another
 * for the state. Basic authentication; TLS checked against ca_file or
 * the system's trust store, and against the public key pin when one is
 * set (a pin alone trusts exactly that key: a BMC's self-signed
 * certificate). Replies are read up to REPLY_MAX, no redirects, https
 * only. */
#include "power/power_driver.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLY_MAX (256 * 1024)

struct reply {
	char *p;
	size_t len;
	bool too_big;
};

static size_t
on_data(char *data, size_t size, size_t n, void *arg)
{
	struct reply *b = arg;
	size_t k = size * n;

	if (b->len + k > REPLY_MAX) {
		b->too_big = true;
		return 0;       /* libcurl stops with CURLE_WRITE_ERROR */
	}
	char *q = realloc(b->p, b->len + k + 1);
	if (q == NULL)
		return 0;
	b->p = q;
	memcpy(b->p + b->len, data, k);
	b->len += k;
	b->p[b->len] = '\0';
	return k;
}

int
power_redfish_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void
power_redfish_global_cleanup(void)
{
	curl_global_cleanup();
}

static void
fail(struct power_result *r, enum power_err err, const struct power_target *t,
    const char *what, const char *fmt, const char *a, const char *b)
{
	char why[160];

	r->err = err;
	snprintf(why, sizeof why, fmt, a, b);
	snprintf(r->msg, sizeof r->msg, "redfish %s: %s: %s", t->address, what, why);
}

/* The message a Redfish error body carries, if any. */
static const char *
error_text(json_t *j)
{
	json_t *e = json_object_get(j, "error");
	json_t *info = json_array_get(json_object_get(e, "@Message.ExtendedInfo"), 0);
	const char *s = json_string_value(json_object_get(info, "Message"));

	return s ? s : json_string_value(json_object_get(e, "message"));
}

/* One request. *out (may be NULL) gets the reply's JSON object. */
static bool
request(const struct power_target *t, const char *password, const char *method,
    const char *path, json_t *body, json_t **out, const char *what, struct power_result *r)
{
	CURL *c = curl_easy_init();
	struct reply rep = { 0 };
	struct curl_slist *hdrs = NULL;
	char url[512], errbuf[CURL_ERROR_SIZE] = "", *text = NULL;
	long status = 0;
	bool ok = false;

	if (out)
		*out = NULL;
	if (c == NULL) {
		fail(r, PERR_REFUSED, t, what, "%s", "out of memory", NULL);
		return false;
	}
	size_t alen = strlen(t->address);
	snprintf(url, sizeof url, "%.*s%s", (int)(alen && t->address[alen - 1] == '/' ?
	    alen - 1 : alen), t->address, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)t->timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)t->timeout_ms);
	curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	curl_easy_setopt(c, CURLOPT_USERNAME, t->user);
	curl_easy_setopt(c, CURLOPT_PASSWORD, password);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &rep);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (t->ca_file[0])
		curl_easy_setopt(c, CURLOPT_CAINFO, t->ca_file);
	if (t->pin[0]) {
		curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, t->pin);
		if (!t->ca_file[0]) {
			/* The pin is the trust: a BMC's certificate is self-signed
			 * and names what its maker chose. libcurl still checks the
			 * key against the pin. */
			curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
			curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
		}
	}
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if (body) {
		text = json_dumps(body, JSON_COMPACT);
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);

	CURLcode rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	json_t *j = rep.len ? json_loadb(rep.p, rep.len, 0, NULL) : NULL;
	if (rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH)
		fail(r, PERR_REFUSED, t, what, "the BMC's public key does not match the pin "
		    "(power.pin): %s", errbuf, NULL);
	else if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE)
		fail(r, PERR_REFUSED, t, what, "the BMC's certificate is not trusted: %s", errbuf,
		    NULL);
	else if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST)
		fail(r, PERR_UNREACHED, t, what, "cannot connect: %s", errbuf, NULL);
	else if (rc == CURLE_OPERATION_TIMEDOUT)
		fail(r, strcmp(method, "GET") == 0 ? PERR_UNREACHED : PERR_TIMEOUT, t, what,
		    "no answer from the BMC in time: %s", errbuf, NULL);
	else if (rc == CURLE_WRITE_ERROR && rep.too_big)
		fail(r, PERR_REFUSED, t, what, "the reply is larger than 256 KiB%s", "", NULL);
	else if (rc != CURLE_OK)
		fail(r, PERR_TIMEOUT, t, what, "%s: %s", curl_easy_strerror(rc), errbuf);
	else if (status == 401 || status == 403)
		fail(r, PERR_REFUSED, t, what, "the BMC refused user %s (HTTP %s)", t->user,
		    status == 401 ? "401" : "403");
	else if (status < 200 || status > 299) {
		char code[16];
		snprintf(code, sizeof code, "%ld", status);
		const char *e = error_text(j);
		fail(r, status >= 500 ? PERR_TIMEOUT : PERR_REFUSED, t, what, "HTTP %s%s", code,
		    e ? e : "");
		if (e) {
			size_t at = strlen(r->msg);
			snprintf(r->msg + at, sizeof r->msg - at, ": %s", e);
		}
	} else if (out && !json_is_object(j))
		fail(r, PERR_REFUSED, t, what, "the reply is not a JSON object%s", "", NULL);
	else {
		ok = true;
		if (out) {
			*out = j;
			j = NULL;
		}
	}
	json_decref(j);
	free(text);
	free(rep.p);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return ok;
}

static enum power_state
state_of(json_t *sys)
{
	const char *s = json_string_value(json_object_get(sys, "PowerState"));

	if (s && (strcmp(s, "On") == 0 || strcmp(s, "PoweringOff") == 0))
		return PST_ON;
	if (s && (strcmp(s, "Off") == 0 || strcmp(s, "PoweringOn") == 0))
		return PST_OFF;
	return PST_UNKNOWN;
}

/* The system's Reset target if it names one under /redfish/v1/, else the
 * conventional one. */
static void
reset_target(const struct power_target *t, json_t *sys, char *out, size_t cap)
{
	json_t *a = json_object_get(json_object_get(sys, "Actions"), "#ComputerSystem.Reset");
	const char *s = json_string_value(json_object_get(a, "target"));

	if (s && strncmp(s, "/redfish/v1/", 12) == 0 && strlen(s) < cap && !strstr(s, "..") &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-") ==
	    strlen(s))
		snprintf(out, cap, "%s", s);
	else
		snprintf(out, cap, "%s/Actions/ComputerSystem.Reset", t->system);
}

static bool
allows(json_t *sys, const char *type)
{
	json_t *a = json_object_get(json_object_get(sys, "Actions"), "#ComputerSystem.Reset");
	json_t *l = json_object_get(a, "ResetType@Redfish.AllowableValues"), *v;
	size_t i;

	if (!json_is_array(l))
		return true;    /* not said: assume the schema's values */
	json_array_foreach(l, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), type) == 0)
			return true;
	return false;
}

void
power_redfish_run(const struct power_target *t, const char *password, enum power_op op,
    struct power_result *r)
{
	json_t *sys = NULL, *body = NULL;
	char target[256];
	const char *type = NULL, *done = "status";

	r->state = PST_UNKNOWN;
	if (!request(t, password, "GET", t->system, NULL, &sys, "system", r))
		return;
	r->state = state_of(sys);
	switch (op) {
	case POP_STATUS:
		break;
	case POP_ON: type = "On"; done = "powered on"; break;
	case POP_OFF: type = "ForceOff"; done = "powered off"; break;
	case POP_CYCLE:
		if (r->state == PST_OFF) {
			type = "On";
			done = "was off: powered on";
		} else {
			type = allows(sys, "PowerCycle") ? "PowerCycle" : "ForceRestart";
			done = type[0] == 'P' ? "power cycled" : "restarted (ForceRestart)";
		}
		break;
	case POP_PXE:
		body = json_pack("{s:{s:s, s:s}}", "Boot", "BootSourceOverrideTarget", "Pxe",
		    "BootSourceOverrideEnabled", "Once");
		done = "next boot from the network (Pxe, Once)";
		break;
	default:
		break;
	}
	bool ok = true;
	if (type) {
		reset_target(t, sys, target, sizeof target);
		body = json_pack("{s:s}", "ResetType", type);
		ok = request(t, password, "POST", target, body, NULL, "reset", r);
	} else if (body)
		ok = request(t, password, "PATCH", t->system, body, NULL, "boot override", r);
	json_decref(body);
	json_decref(sys);
	sys = NULL;
	if (!ok)
		return;
	if (op != POP_STATUS) {
		struct power_result after = { 0 };
		if (request(t, password, "GET", t->system, NULL, &sys, "system", &after))
			r->state = state_of(sys);
		else
			r->state = PST_UNKNOWN;     /* it acted; the state after is unknown */
		json_decref(sys);
	}
	r->err = PERR_OK;
	snprintf(r->msg, sizeof r->msg, "redfish %s: %s", t->address, done);
}
