/* p9/p9_owner.c: the "uid:gid:muid" tag, /adm/users groups and the
 * owner/group/other check, as Plan 9's file servers make it. */
#include "p9/p9_owner.h"
#include "unit.h"

#include <stdlib.h>

static void
tags(void)
{
	struct p9_owner o;
	const char *ok = "glenda:sys:bob";

	CHECK(p9_owner_parse(ok, strlen(ok), &o) && strcmp(o.uid, "glenda") == 0 &&
	    strcmp(o.gid, "sys") == 0 && strcmp(o.muid, "bob") == 0, "a tag splits in three");
	const char *bad[] = { "", "a:b", "a:b:c:d", "a::c", ":b:c", "a:b:", "a:b\t:c", "a/x:b:c" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK(!p9_owner_parse(bad[i], strlen(bad[i]), &o), "tag \"%s\" is refused", bad[i]);
	char lng[200];
	memset(lng, 'x', sizeof lng);
	lng[100] = lng[150] = ':';
	CHECK(!p9_owner_parse(lng, sizeof lng, &o), "a name longer than a Plan 9 user name is refused");
}

static const char users_text[] =
	"# comment\n"
	"-1:adm:adm:bootes\n"
	"0:none::\n"
	"1:tor:tor:\n"
	"10000:sys::glenda,bob\n"
	"10001:glenda:glenda:\n"
	"10002:bob:bob:\n"
	"10003:proj:alice:carol\n"
	"not a line\n"
	"9:bad\n";

static void
groups(void)
{
	int bad = -1;
	struct p9_users *u = p9_users_parse(users_text, sizeof users_text - 1, &bad);

	CHECK(bad == 2, "two malformed lines counted (%d)", bad);
	CHECK(p9_users_member(u, "glenda", "sys") && p9_users_member(u, "bob", "sys"),
	    "members of sys");
	CHECK(!p9_users_member(u, "alice", "sys"), "alice is not in sys");
	CHECK(p9_users_member(u, "alice", "proj") && p9_users_member(u, "carol", "proj"),
	    "a leader and a member are in proj");
	CHECK(p9_users_member(u, "glenda", "glenda"), "each user is their own group");
	CHECK(p9_users_member(u, "zed", "zed"), "even one /adm/users does not list");
	CHECK(p9_users_leader(u, "alice", "proj") && !p9_users_leader(u, "carol", "proj"),
	    "proj's leader is alice alone");
	CHECK(p9_users_leader(u, "bob", "sys"), "sys has no leader: every member leads");
	CHECK(!p9_users_leader(u, "alice", "sys"), "but not a stranger");
	p9_users_free(u);

	/* a bound on what one file makes us hold */
	size_t n = (P9_USERS_MAX + 10) * 24, len = 0;
	char *big = malloc(n);
	for (int i = 0; i < P9_USERS_MAX + 10; i++)
		len += (size_t)snprintf(big + len, n - len, "%d:g%d::\n", i, i);
	u = p9_users_parse(big, len, NULL);
	CHECK(!p9_users_member(u, "x", "g4100") && p9_users_member(u, "g4100", "g4100"),
	    "groups past %d are not read", P9_USERS_MAX);
	p9_users_free(u);
	free(big);
}

static void
access_rules(void)
{
	struct p9_users *u = p9_users_parse(users_text, sizeof users_text - 1, NULL);
	struct p9_owner glenda_sys = { "glenda", "sys", "glenda" };
	struct p9_owner none_file = { "none", "none", "none" };

	CHECK(p9_may(u, "glenda", &glenda_sys, 0644, P9_MAY_WRITE), "the owner writes 0644");
	CHECK(!p9_may(u, "alice", &glenda_sys, 0644, P9_MAY_WRITE), "other does not write 0644");
	CHECK(p9_may(u, "alice", &glenda_sys, 0644, P9_MAY_READ), "other reads 0644");
	CHECK(!p9_may(u, "bob", &glenda_sys, 0644, P9_MAY_WRITE), "a group member does not write 0644");
	CHECK(p9_may(u, "bob", &glenda_sys, 0664, P9_MAY_WRITE), "a group member writes 0664");
	CHECK(!p9_may(u, "alice", &glenda_sys, 0664, P9_MAY_WRITE), "a stranger does not write 0664");
	CHECK(p9_may(u, "glenda", &glenda_sys, 0464, P9_MAY_WRITE | P9_MAY_READ) &&
	    !p9_may(u, "alice", &glenda_sys, 0464, P9_MAY_WRITE),
	    "the owner's bits and the group's add up, as in cwfs (0464: the owner, in sys, writes)");
	CHECK(p9_may(u, "alice", &glenda_sys, 0606, P9_MAY_WRITE), "other's bits apply to everyone");
	CHECK(!p9_may(u, "none", &none_file, 0640, P9_MAY_READ),
	    "none is only other, even on a file tagged none");
	CHECK(p9_may(u, "none", &none_file, 0644, P9_MAY_READ), "none reads what other may");
	CHECK(!p9_may(u, "glenda", &glenda_sys, 0666, P9_MAY_EXEC) &&
	    p9_may(u, "glenda", &glenda_sys, 0755, P9_MAY_EXEC | P9_MAY_READ), "execute is its own bit");
	CHECK(p9_may(NULL, "glenda", &glenda_sys, 0600, P9_MAY_WRITE) &&
	    !p9_may(NULL, "bob", &glenda_sys, 0660, P9_MAY_WRITE),
	    "without /adm/users only the owner and the group's own name count");
	p9_users_free(u);
}

int
main(void)
{
	tags();
	groups();
	access_rules();
	return UNIT_DONE();
}
