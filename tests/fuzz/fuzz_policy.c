/*
 * libFuzzer target for the policy parser, matcher and dump.  Files are
 * never opened (POLICY_F_NO_FILES): keys-file lines are refused.
 */
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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
		policy_dump(pol, devnull);
		policy_free(pol);
	}
	return 0;
}
