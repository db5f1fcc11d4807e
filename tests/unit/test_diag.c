/*
 * test_diag: "file:line: message" delivery, and escaping of untrusted
 * text so that a message can never carry control bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "diag.h"

struct last {
	char		msg[DIAG_MSG_MAX];
	unsigned int	calls;
};

static void
on_msg(void *ctx, const char *msg)
{
	struct last *l = ctx;

	snprintf(l->msg, sizeof(l->msg), "%s", msg);
	l->calls++;
}

static void
test_diag_at(void **state)
{
	struct last l;
	struct diag d = { on_msg, &l, 0 };

	(void)state;
	memset(&l, 0, sizeof(l));
	diag_at(&d, "policy.conf", 12, "unknown keyword \"%s\"", "frob");
	assert_string_equal(l.msg, "policy.conf:12: unknown keyword \"frob\"");
	assert_int_equal(d.count, 1);
	/* Line 0: the file as a whole. */
	diag_at(&d, "/etc/rampart/policy", 0, "cannot open: %s", "denied");
	assert_string_equal(l.msg, "/etc/rampart/policy: cannot open: denied");
	assert_int_equal(d.count, 2);
	assert_int_equal(l.calls, 2);
}

static void
test_diag_count_only(void **state)
{
	struct diag d = { NULL, NULL, 0 };

	(void)state;
	diag_at(&d, "f", 1, "x");
	diag_at(&d, "f", 2, "y");
	assert_int_equal(d.count, 2);
}

static void
test_diag_long(void **state)
{
	char big[2000];
	struct last l;
	struct diag d = { on_msg, &l, 0 };

	(void)state;
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	diag_at(&d, "f", 7, "%s", big);
	assert_int_equal(strlen(l.msg), DIAG_MSG_MAX - 1);
	assert_memory_equal(l.msg, "f:7: zzz", 8);
}

static void
test_safe(void **state)
{
	char buf[80];

	(void)state;
	assert_string_equal(diag_safe("alice", 5, buf, sizeof(buf)), "alice");
	assert_string_equal(diag_safe("a\x1b[2Jb", 6, buf, sizeof(buf)),
	    "a\\x1b[2Jb");
	assert_string_equal(diag_safe("a\nb\r", 4, buf, sizeof(buf)),
	    "a\\x0ab\\x0d");
	/* The escape character itself is escaped, so output is unambiguous. */
	assert_string_equal(diag_safe("a\\x41", 5, buf, sizeof(buf)),
	    "a\\x5cx41");
	assert_string_equal(diag_safe("\xc3\xa9", 2, buf, sizeof(buf)),
	    "\\xc3\\xa9");
	assert_string_equal(diag_safe("a\0b", 3, buf, sizeof(buf)),
	    "a\\x00b");
	assert_string_equal(diag_safe("", 0, buf, sizeof(buf)), "");
}

static void
test_safe_cut(void **state)
{
	char in[200], buf[16], tiny[4];
	size_t i;

	(void)state;
	memset(in, 'x', sizeof(in));
	diag_safe(in, sizeof(in), buf, sizeof(buf));
	assert_true(strlen(buf) < sizeof(buf));
	assert_string_equal(buf + strlen(buf) - 3, "...");
	for (i = 0; i < sizeof(in); i++) {
		in[i] = '\x01';
	}
	diag_safe(in, sizeof(in), buf, sizeof(buf));
	assert_true(strlen(buf) < sizeof(buf));
	assert_string_equal(buf + strlen(buf) - 3, "...");
	assert_null(strchr(buf, '\x01'));
	/* Too small to say anything: empty, still terminated. */
	memset(tiny, 'q', sizeof(tiny));
	assert_string_equal(diag_safe("abc", 3, tiny, sizeof(tiny)), "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diag_at),
		cmocka_unit_test(test_diag_count_only),
		cmocka_unit_test(test_diag_long),
		cmocka_unit_test(test_safe),
		cmocka_unit_test(test_safe_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
