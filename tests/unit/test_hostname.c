/*
 * test_hostname: requested names are normalised once so no spelling can
 * slip past a rule, address-like strings are refused, and globs match the
 * way a policy author reads them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hostname.h"

static void
assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL) {
		fail_msg("\"%s\" does not contain \"%s\"", hay, needle);
	}
}

static void
norm_ok(const char *in, const char *want)
{
	char out[HOSTNAME_MAX + 1], err[256];

	if (hostname_normalise(in, out, sizeof(out), err, sizeof(err)) != 0) {
		fail_msg("hostname_normalise(\"%s\"): %s", in, err);
	}
	assert_string_equal(out, want);
}

static void
norm_bad(const char *in, const char *want)
{
	char out[HOSTNAME_MAX + 1], err[256] = "";

	if (hostname_normalise(in, out, sizeof(out), err, sizeof(err)) !=
	    -1) {
		fail_msg("hostname_normalise accepted \"%s\" as \"%s\"", in,
		    out);
	}
	assert_contains(err, want);
}

static void
pat_ok(const char *in, const char *want)
{
	char out[HOSTNAME_MAX + 1], err[256];

	if (hostname_pattern(in, out, sizeof(out), err, sizeof(err)) != 0) {
		fail_msg("hostname_pattern(\"%s\"): %s", in, err);
	}
	assert_string_equal(out, want);
}

static void
pat_bad(const char *in, const char *want)
{
	char out[HOSTNAME_MAX + 1], err[256] = "";

	if (hostname_pattern(in, out, sizeof(out), err, sizeof(err)) != -1) {
		fail_msg("hostname_pattern accepted \"%s\"", in);
	}
	assert_contains(err, want);
}

/* Does the requested name, normalised, match the rule pattern? */
static int
matches(const char *pattern, const char *name)
{
	char p[HOSTNAME_MAX + 1], n[HOSTNAME_MAX + 1], err[256];

	if (hostname_pattern(pattern, p, sizeof(p), err, sizeof(err)) != 0) {
		fail_msg("pattern \"%s\": %s", pattern, err);
	}
	if (hostname_normalise(name, n, sizeof(n), err, sizeof(err)) != 0) {
		fail_msg("name \"%s\": %s", name, err);
	}
	return hostname_match(p, n);
}

/* A name of len characters: labels of 63 'a's joined by dots. */
static void
long_name(char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		buf[i] = (i % 64 == 63) ? '.' : 'a';
	}
	buf[len] = '\0';
}

static void
test_normalise_case_and_dot(void **state)
{
	(void)state;
	norm_ok("db.internal", "db.internal");
	norm_ok("DB.Internal", "db.internal");
	norm_ok("db.internal.", "db.internal");
	norm_ok("DB.INTERNAL.", "db.internal");
	norm_ok("localhost", "localhost");
	norm_ok("a", "a");
	/* Only one trailing dot is the root; two make an empty label. */
	norm_bad("db.internal..", "empty label");
	norm_bad(".", "empty label");
	norm_bad("", "empty host name");
}

static void
test_normalise_labels(void **state)
{
	char name[300];

	(void)state;
	norm_bad("a..b", "empty label in host name");
	norm_bad(".a", "empty label");
	norm_bad("-a.example", "label starts or ends with '-'");
	norm_bad("a-.example", "label starts or ends with '-'");
	norm_bad("a.-b", "label starts or ends with '-'");
	norm_ok("a-b.example", "a-b.example");
	norm_ok("xn--bcher-kva.example", "xn--bcher-kva.example");
	/* Underscores appear in real names (_dmarc, SRV owners). */
	norm_ok("_dmarc.Example.com", "_dmarc.example.com");
	norm_ok("my_host.internal", "my_host.internal");
	/* Labels: 63 characters at most. */
	memset(name, 'a', 63);
	strcpy(name + 63, ".example");
	norm_ok(name, name);
	memset(name, 'a', 64);
	strcpy(name + 64, ".example");
	norm_bad(name, "label longer than 63 characters");
}

static void
test_normalise_length(void **state)
{
	char name[300], want[300];

	(void)state;
	long_name(name, 253);
	assert_int_equal(strlen(name), 253);
	norm_ok(name, name);
	/* 253 and the root dot is still 253. */
	strcpy(want, name);
	strcat(name, ".");
	norm_ok(name, want);
	long_name(name, 254);
	norm_bad(name, "host name longer than 253 characters");
	long_name(name, 299);
	norm_bad(name, "host name longer than 253 characters");
}

static void
test_normalise_small_buffer(void **state)
{
	char out[8], err[256] = "";

	(void)state;
	assert_int_equal(hostname_normalise("abcdefghij.example", out,
	    sizeof(out), err, sizeof(err)), -1);
	assert_contains(err, "longer than");
}

static void
test_normalise_addresslike(void **state)
{
	(void)state;
	/* What inet_aton would turn into an address no rule names. */
	norm_bad("10.1", "looks like an address but is not a valid one");
	norm_bad("127.1", "looks like an address");
	norm_bad("0x7f.1", "looks like an address");
	norm_bad("0X7F.1", "looks like an address");
	norm_bad("0x7f", "looks like an address");
	norm_bad("0x7f000001", "looks like an address");
	norm_bad("2130706433", "looks like an address");
	norm_bad("017700000001", "looks like an address");
	norm_bad("1.2.3.4", "looks like an address");
	norm_bad("1.2.3.4.", "looks like an address");
	norm_bad("1.2.3.4.5", "looks like an address");
	norm_bad("example.123", "looks like an address");
	/* Digits elsewhere are fine. */
	norm_ok("123.example", "123.example");
	norm_ok("1a.example", "1a.example");
	norm_ok("10.1.example", "10.1.example");
	norm_ok("host-1.example", "host-1.example");
	norm_ok("0xg.example", "0xg.example");
	norm_ok("cafe", "cafe");
}

static void
test_normalise_bad_chars(void **state)
{
	(void)state;
	norm_bad("a b", "character ' ' is not allowed in a host name");
	norm_bad("a*b.example", "character '*' is not allowed");
	norm_bad("fe80::1%eth0", "character ':' is not allowed");
	norm_bad("[::1]", "character '[' is not allowed");
	norm_bad("a/b", "character '/' is not allowed");
	norm_bad("a\x01" "b", "byte 0x01 is not allowed in a host name");
	norm_bad("a\x7f" "b", "byte 0x7f is not allowed");
	norm_bad("b\xc3\xbc" "cher.example", "byte 0xc3 is not allowed");
}

static void
test_pattern(void **state)
{
	(void)state;
	pat_ok("*.DB.internal", "*.db.internal");
	pat_ok("db-*.x", "db-*.x");
	pat_ok("*", "*");
	pat_ok("Host.Example", "host.example");
	pat_ok("*.*.example", "*.*.example");
	pat_bad("*.db.internal.", "host pattern must not end with '.'");
	pat_bad("a..b", "empty label");
	pat_bad("-*.x", "label starts or ends with '-'");
	pat_bad("a b", "character ' ' is not allowed");
	pat_bad("a?b", "character '?' is not allowed");
	pat_bad("", "empty host name");
	/* Address-looking patterns are pointed at CIDR syntax. */
	pat_bad("10.*", "use a CIDR such as 10.0.0.0/24");
	pat_bad("*.1", "looks like an address");
	pat_bad("10.1", "looks like an address");
}

static void
test_match_globs(void **state)
{
	(void)state;
	assert_true(matches("*.db.internal", "a.db.internal"));
	assert_true(matches("*.db.internal", "primary-1.db.internal"));
	/* '*' crosses dots. */
	assert_true(matches("*.db.internal", "x.y.db.internal"));
	assert_false(matches("*.db.internal", "db.internal"));
	assert_false(matches("*.db.internal", "a.db.internal.evil.com"));
	assert_false(matches("*.db.internal", "a.db.internalx"));
	assert_false(matches("*.db.internal", "a.xdb.internal"));
	assert_false(matches("*.db.internal", "a.db.example"));
	assert_true(matches("db-*.x", "db-1.x"));
	assert_true(matches("db-*.x", "db-primary.eu.x"));
	assert_false(matches("db-*.x", "db1.x"));
	assert_false(matches("db-*.x", "xdb-1.x"));
	assert_false(matches("db-*.x", "db-1.y"));
	assert_true(matches("*", "anything.example"));
	assert_true(matches("*", "a"));
	assert_true(matches("host.example", "host.example"));
	assert_false(matches("host.example", "www.host.example"));
	assert_false(matches("host.example", "host.example.com"));
	/* Backtracking over several stars. */
	assert_true(matches("a*b*c.x", "aXbYbZc.x"));
	assert_true(matches("a*b*c.x", "abc.x"));
	assert_false(matches("a*b*c.x", "aXbYbZd.x"));
	assert_true(matches("*.*.example", "a.b.example"));
	assert_false(matches("*.*.example", "a.example"));
}

static void
test_match_case_and_dot(void **state)
{
	(void)state;
	assert_true(matches("*.db.internal", "A.DB.Internal"));
	assert_true(matches("*.db.internal", "a.db.internal."));
	assert_true(matches("*.DB.INTERNAL", "a.db.internal"));
	assert_true(matches("Host.Example", "HOST.EXAMPLE."));
}

static void
test_match_pathological(void **state)
{
	char name[HOSTNAME_MAX + 1];

	(void)state;
	/* Linear-time glob: this must answer at once, and say no. */
	memset(name, 'a', 63);
	name[63] = '\0';
	assert_false(hostname_match("*a*a*a*a*a*a*a*a*a*a*b", name));
	assert_true(hostname_match("*a*a*a*a*a*a*a*a*a*a*", name));
	/* Raw matching is exact: callers must normalise first. */
	assert_false(hostname_match("host.example", "HOST.EXAMPLE"));
	assert_true(hostname_match("", ""));
	assert_false(hostname_match("", "a"));
	assert_true(hostname_match("*", ""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalise_case_and_dot),
		cmocka_unit_test(test_normalise_labels),
		cmocka_unit_test(test_normalise_length),
		cmocka_unit_test(test_normalise_small_buffer),
		cmocka_unit_test(test_normalise_addresslike),
		cmocka_unit_test(test_normalise_bad_chars),
		cmocka_unit_test(test_pattern),
		cmocka_unit_test(test_match_globs),
		cmocka_unit_test(test_match_case_and_dot),
		cmocka_unit_test(test_match_pathological),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
