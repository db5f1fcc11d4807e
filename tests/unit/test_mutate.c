/*
 * Deterministic mutation test of the policy parser (after OpenSSH's
 * test_sshbuf_fuzz.c): each example policy is mutated thousands of times
 * with a fixed seed -- bit flips, deletions, insertions of syntax bytes,
 * duplicated and truncated lines -- and every result must either load
 * cleanly or be rejected with at least one file:line error; a loaded
 * result must survive decisions and dump back to a policy that loads.
 * Under SAN=1, ASan and LeakSanitizer check memory on every path.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"
#include "textfile.h"

#define MUTATIONS	10000

static uint64_t rng_state;

static uint32_t
rng(void)
{
	/* xorshift64*: deterministic across runs and machines. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 2685821657736338717ULL) >> 32);
}

static const char syntax[] = " \t\n#/:*-,.0123456789abcdefxAZ\"=\xc3\xff";

static size_t
mutate(char *buf, size_t len, size_t cap)
{
	size_t pos = len ? rng() % len : 0, n, i;

	switch (rng() % 6) {
	case 0:		/* flip a bit */
		if (len)
			buf[pos] ^= (char)(1u << (rng() % 8));
		return len;
	case 1:		/* delete a run */
		n = 1 + rng() % 8;
		if (n > len - pos)
			n = len - pos;
		memmove(buf + pos, buf + pos + n, len - pos - n);
		return len - n;
	case 2:		/* insert a syntax byte */
		if (len + 1 >= cap)
			return len;
		memmove(buf + pos + 1, buf + pos, len - pos);
		buf[pos] = syntax[rng() % (sizeof(syntax) - 1)];
		return len + 1;
	case 3:		/* duplicate the line around pos */
		for (i = pos; i > 0 && buf[i - 1] != '\n'; i--)
			;
		for (n = pos; n < len && buf[n] != '\n'; n++)
			;
		n = n - i + (n < len ? 1 : 0);
		if (len + n >= cap)
			return len;
		memmove(buf + i + n, buf + i, len - i);
		return len + n;
	case 4:		/* truncate */
		return pos;
	default:	/* overwrite a byte with anything */
		if (len)
			buf[pos] = (char)rng();
		return len;
	}
}

struct errcount {
	unsigned int	n;
	int		has_location;
};

static void
count_err(void *ctx, const char *msg)
{
	struct errcount *ec = ctx;

	ec->n++;
	if (strncmp(msg, "mut.conf:", 9) == 0)
		ec->has_location = 1;
}

static void
exercise(const struct policy *pol)
{
	static const char *const hosts[] = {
		"10.0.0.5", "db-1.internal.example.com", "::ffff:10.9.0.1",
	};
	struct policy_decision d;
	struct addr a;
	size_t i;

	assert_int_equal(addr_parse("10.20.0.5", &a), 0);
	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		assert_int_equal(policy_decide(pol, "alice", hosts[i], &a, 1,
		    22, 1700000000, &d), 0);
		assert_true(d.reason[0] != '\0');
	}
}

/* A loaded policy dumps to text that loads again. */
static void
redump(const struct policy *pol)
{
	struct policy *again = NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	assert_non_null(f = open_memstream(&text, &len));
	policy_dump(pol, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(policy_load_buf("dump.conf", text, len,
	    POLICY_F_NO_FILES, NULL, NULL, &again), 0);
	policy_free(again);
	free(text);
}

static void
mutate_file(const char *path, unsigned int *loaded, unsigned int *rejected)
{
	char err[256], *orig, *buf;
	size_t olen, len, cap;
	struct policy *pol;
	struct errcount ec;
	int i, k, r;

	assert_int_equal(textfile_read(path, &orig, &olen, err,
	    sizeof(err)), 0);
	cap = olen * 2 + 64;
	assert_non_null(buf = malloc(cap));
	for (i = 0; i < MUTATIONS; i++) {
		memcpy(buf, orig, olen);
		len = olen;
		for (k = 1 + (int)(rng() % 4); k > 0; k--)
			len = mutate(buf, len, cap);
		memset(&ec, 0, sizeof(ec));
		pol = NULL;
		r = policy_load_buf("mut.conf", buf, len, POLICY_F_NO_FILES,
		    count_err, &ec, &pol);
		if (r == 0) {
			assert_non_null(pol);
			assert_int_equal(ec.n, 0);
			exercise(pol);
			redump(pol);
			policy_free(pol);
			(*loaded)++;
		} else {
			/* Rejected: nothing returned, and it said where. */
			assert_int_equal(r, -1);
			assert_null(pol);
			assert_true(ec.n > 0);
			assert_true(ec.has_location);
			(*rejected)++;
		}
	}
	free(buf);
	free(orig);
}

static void
test_mutations(void **state)
{
	static const char *const files[] = {
		"policies/full.conf", "../fuzz/corpus/policy/example.conf",
	};
	const char *dir = getenv("RAMPART_TESTDATA");
	unsigned int loaded = 0, rejected = 0;
	char path[1024];
	size_t i;

	(void)state;
	rng_state = 0x5eed5eed5eed5eedULL;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/data",
		    files[i]);
		mutate_file(path, &loaded, &rejected);
	}
	print_message("%u mutants loaded, %u rejected\n", loaded, rejected);
	/* Both outcomes must occur, or the mutator is not doing its job. */
	assert_true(loaded > 100);
	assert_true(rejected > 100);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
