/*
 * libFuzzer target for the policy parser, matcher, routes and dump.
 * Files are never opened (POLICY_F_NO_FILES): keys-file lines are
 * refused.
 */
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
decide_some(const struct policy *pol)
{
	static const char *const users[] = { "alice", "packer-ci", "bob" };
	static const char *const hosts[] = {
		"10.0.0.5", "db-1.internal.example.com", "::ffff:169.254.169.254",
		"x.internal.example.com.", "fe80::1",
	};
	struct policy_decision d;
	struct addr a[2];
	size_t i, j;

	addr_parse("10.1.2.3", &a[0]);
	addr_parse("2001:db8::5", &a[1]);
	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++)
		for (j = 0; j < sizeof(hosts) / sizeof(hosts[0]); j++)
			(void)policy_decide(pol, users[i], hosts[j], a, 2,
			    22 + (unsigned int)j, 1700000000, &d);
}

static uint32_t
v4(const struct addr *a)
{
	return (uint32_t)a->a[0] << 24 | (uint32_t)a->a[1] << 16 |
	    (uint32_t)a->a[2] << 8 | a->a[3];
}

/*
 * sshuttle's view: the DNS setting, and routes that are sorted, disjoint
 * IPv4 prefixes without host bits, with the gateway's address outside
 * them all.
 */
static void
routes_some(const struct policy *pol)
{
	static const char *const users[] = { "alice", "packer-ci", "bob" };
	const struct policy_user *u;
	struct addr_net *r;
	struct addr self;
	uint32_t b, m, end = 0, s;
	size_t i, j, n;

	addr_parse("10.0.0.5", &self);
	s = v4(&self);
	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		if ((u = policy_user_find(pol, users[i])) != NULL)
			(void)policy_user_dns_allowed(u);
		if (policy_user_routes(pol, users[i], &self, 1, &r, &n) != 0)
			continue;
		for (j = 0; j < n; j++) {
			if (r[j].base.af != AF_INET || r[j].bits > 32)
				abort();
			m = r[j].bits == 0 ? 0 :
			    0xffffffffU << (32 - r[j].bits);
			b = v4(&r[j].base);
			if ((b & ~m) != 0 || (j > 0 && b <= end) ||
			    (s & m) == b)
				abort();
			end = b | ~m;
		}
		free(r);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct policy *pol = NULL;

	if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
		return 0;
	if (policy_load_buf("fuzz.conf", (const char *)data, size,
	    POLICY_F_NO_FILES, NULL, NULL, &pol) == 0) {
		decide_some(pol);
		routes_some(pol);
		policy_dump(pol, devnull);
		policy_free(pol);
	}
	return 0;
}
