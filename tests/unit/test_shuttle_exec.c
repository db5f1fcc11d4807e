/*
 * Unit tests for shuttle_exec: the exec strings real sshuttle clients send
 * (verbatim from notes/sshuttle-protocol.md section 1.3, captured live),
 * every form built independently here with shlex-style quoting, the
 * bounds on V and N, things that are not sshuttle, and a deterministic
 * mutation test whose oracle is that independent builder: a string is
 * accepted exactly when rebuilding it from what the parser reported gives
 * the same bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shuttle_exec.h"

/* Captured from sshuttle 1.1.1 (Debian 12), default, V=0: 222 bytes. */
static const char exec_111[] =
    "/bin/sh -c 'P=python3; $P -V 2>/dev/null || P=python; exec \"$P\" -c "
    "'\"'\"'import sys, os; verbosity=0; sys.stdin = os.fdopen(0, \"rb\"); "
    "exec(compile(sys.stdin.read(1704), \"assembler.py\", \"exec\")); "
    "sys.exit(98);'\"'\"'; exit 97'";

/* Captured from sshuttle master (1.3.2+), default, V=0: 310 bytes. */
static const char exec_new[] =
    "/bin/sh -c 'P=python3; $P -V 2>/dev/null || P=python; exec \"$P\" -c "
    "'\"'\"'import sys, os; verbosity=0; stdin = os.fdopen(0, "
    "'\"'\"'\"'\"'\"'\"'\"'\"'rb'\"'\"'\"'\"'\"'\"'\"'\"'); "
    "exec(compile(stdin.read(1785), "
    "'\"'\"'\"'\"'\"'\"'\"'\"'assembler.py'\"'\"'\"'\"'\"'\"'\"'\"', "
    "'\"'\"'\"'\"'\"'\"'\"'\"'exec'\"'\"'\"'\"'\"'\"'\"'\"')); "
    "sys.exit(98);'\"'\"'; exit 97'";

/* 1.1.1 --python PY -v. */
static const char exec_111_py[] =
    "'PY' -c 'import sys, os; verbosity=1; sys.stdin = os.fdopen(0, \"rb\"); "
    "exec(compile(sys.stdin.read(1704), \"assembler.py\", \"exec\")); "
    "sys.exit(98);'";

/* newest --python PY. */
static const char exec_new_py[] =
    "\"PY\" -c \"import sys, os; verbosity=0; stdin = os.fdopen(0, 'rb'); "
    "exec(compile(stdin.read(1785), 'assembler.py', 'exec')); "
    "sys.exit(98);\"";

/* newest --remote-shell cmd. */
static const char exec_new_cmd[] =
    "\"python\" -c \"import sys, os; verbosity=0; stdin = os.fdopen(0, "
    "'rb'); exec(compile(stdin.read(1785), 'assembler.py', 'exec')); "
    "sys.exit(98);\"";

/* newest --remote-shell powershell. */
static const char exec_new_ps[] =
    "python -c import` sys`,` os`;` verbosity=0`;` stdin` =` "
    "os.fdopen`(0`,` `'rb`'`)`;` exec`(compile`(stdin.read`(1785`)`,` "
    "`'assembler.py`'`,` `'exec`'`)`)`;` sys.exit`(98`)`;";

/* --- an independent builder of every form ------------------------------ */

static void
one_liner(char *out, size_t len, int v12, unsigned long v, unsigned long n)
{
	if (v12)
		snprintf(out, len, "import sys, os; verbosity=%lu; stdin = "
		    "os.fdopen(0, 'rb'); exec(compile(stdin.read(%lu), "
		    "'assembler.py', 'exec')); sys.exit(98);", v, n);
	else
		snprintf(out, len, "import sys, os; verbosity=%lu; sys.stdin = "
		    "os.fdopen(0, \"rb\"); exec(compile(sys.stdin.read(%lu), "
		    "\"assembler.py\", \"exec\")); sys.exit(98);", v, n);
}

/* Python's shlex.quote for strings that need quoting. */
static void
shquote(char *out, size_t len, const char *s)
{
	size_t o = 0;

	out[o++] = '\'';
	for (; *s != '\0' && o + 6 < len; s++) {
		if (*s == '\'') {
			memcpy(out + o, "'\"'\"'", 5);
			o += 5;
		} else
			out[o++] = *s;
	}
	out[o++] = '\'';
	out[o] = '\0';
}

/* What a client with these settings sends, from sshuttle's own recipe. */
static void
build(char *out, size_t len, enum shuttle_form form, int v12,
    unsigned long v, unsigned long n, const char *py)
{
	char one[512], q[2048], inner[2048];
	const char *s;
	size_t o;

	one_liner(one, sizeof(one), v12, v, n);
	switch (form) {
	case SHUTTLE_FORM_SH:
		shquote(q, sizeof(q), one);
		snprintf(inner, sizeof(inner), "P=python3; $P -V 2>/dev/null "
		    "|| P=python; exec \"$P\" -c %s; exit 97", q);
		shquote(q, sizeof(q), inner);
		snprintf(out, len, "/bin/sh -c %s", q);
		break;
	case SHUTTLE_FORM_PYTHON:
	case SHUTTLE_FORM_CMD:
		if (v12)
			snprintf(out, len, "\"%s\" -c \"%s\"", py, one);
		else
			snprintf(out, len, "'%s' -c '%s'", py, one);
		break;
	case SHUTTLE_FORM_POWERSHELL:
		o = (size_t)snprintf(out, len, "%s -c ", py);
		for (s = one; *s != '\0' && o + 3 < len; s++) {
			if (strchr("' ;(),", *s) != NULL)
				out[o++] = '`';
			out[o++] = *s;
		}
		out[o] = '\0';
		break;
	}
}

static void
expect(const char *s, enum shuttle_form form, int v12, unsigned int v,
    size_t n, const char *py)
{
	struct shuttle_exec e;

	assert_int_equal(shuttle_exec_parse(s, strlen(s), &e), 0);
	assert_int_equal(e.form, form);
	assert_int_equal(e.v12, v12);
	assert_int_equal(e.verbosity, v);
	assert_int_equal(e.assembler_len, n);
	assert_string_equal(e.python, py);
}

static void
test_captured(void **state)
{
	(void)state;
	assert_int_equal(strlen(exec_111), 222);
	assert_int_equal(strlen(exec_new), 310);
	expect(exec_111, SHUTTLE_FORM_SH, 0, 0, 1704, "");
	expect(exec_new, SHUTTLE_FORM_SH, 1, 0, 1785, "");
	expect(exec_111_py, SHUTTLE_FORM_PYTHON, 0, 1, 1704, "PY");
	expect(exec_new_py, SHUTTLE_FORM_PYTHON, 1, 0, 1785, "PY");
	expect(exec_new_cmd, SHUTTLE_FORM_CMD, 1, 0, 1785, "python");
	expect(exec_new_ps, SHUTTLE_FORM_POWERSHELL, 1, 0, 1785, "python");
}

/* The builder reproduces the captures, so it can serve as an oracle. */
static void
test_builder_matches_captures(void **state)
{
	char b[4096];

	(void)state;
	build(b, sizeof(b), SHUTTLE_FORM_SH, 0, 0, 1704, NULL);
	assert_string_equal(b, exec_111);
	build(b, sizeof(b), SHUTTLE_FORM_SH, 1, 0, 1785, NULL);
	assert_string_equal(b, exec_new);
	build(b, sizeof(b), SHUTTLE_FORM_PYTHON, 0, 1, 1704, "PY");
	assert_string_equal(b, exec_111_py);
	build(b, sizeof(b), SHUTTLE_FORM_PYTHON, 1, 0, 1785, "PY");
	assert_string_equal(b, exec_new_py);
	build(b, sizeof(b), SHUTTLE_FORM_POWERSHELL, 1, 0, 1785, "python");
	assert_string_equal(b, exec_new_ps);
}

static void
test_all_forms_v_n(void **state)
{
	static const unsigned long ns[] = { 1, 9, 10, 1704, 1785, 65536 };
	char b[4096];
	unsigned long v;
	size_t i;
	int v12;

	(void)state;
	for (v = 0; v <= 9; v++) {
		for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
			for (v12 = 0; v12 <= 1; v12++) {
				build(b, sizeof(b), SHUTTLE_FORM_SH, v12, v,
				    ns[i], NULL);
				expect(b, SHUTTLE_FORM_SH, v12, v, ns[i], "");
				build(b, sizeof(b), SHUTTLE_FORM_PYTHON, v12,
				    v, ns[i], "/usr/bin/python3.11");
				expect(b, SHUTTLE_FORM_PYTHON, v12, v, ns[i],
				    "/usr/bin/python3.11");
			}
			build(b, sizeof(b), SHUTTLE_FORM_POWERSHELL, 1, v,
			    ns[i], "C:\\Python\\python.exe");
			expect(b, SHUTTLE_FORM_POWERSHELL, 1, v, ns[i],
			    "C:\\Python\\python.exe");
		}
	}
	/* A path with spaces is fine inside quotes. */
	build(b, sizeof(b), SHUTTLE_FORM_PYTHON, 0, 2, 1704, "/opt/my py/py");
	expect(b, SHUTTLE_FORM_PYTHON, 0, 2, 1704, "/opt/my py/py");
}

static void
test_bounds(void **state)
{
	struct shuttle_exec e;
	char b[4096], py[SHUTTLE_EXEC_PY_MAX + 2];

	(void)state;
	build(b, sizeof(b), SHUTTLE_FORM_SH, 0, 10, 1704, NULL);
	assert_int_equal(shuttle_exec_parse(b, strlen(b), &e),
	    SHUTTLE_EXEC_ERR_VERBOSITY);
	build(b, sizeof(b), SHUTTLE_FORM_SH, 1, 99999999999UL, 1704, NULL);
	assert_int_equal(shuttle_exec_parse(b, strlen(b), &e),
	    SHUTTLE_EXEC_ERR_VERBOSITY);
	build(b, sizeof(b), SHUTTLE_FORM_SH, 1, 0, 0, NULL);
	assert_int_equal(shuttle_exec_parse(b, strlen(b), &e),
	    SHUTTLE_EXEC_ERR_LENGTH);
	build(b, sizeof(b), SHUTTLE_FORM_SH, 0, 0, 65537, NULL);
	assert_int_equal(shuttle_exec_parse(b, strlen(b), &e),
	    SHUTTLE_EXEC_ERR_LENGTH);
	/* 30 digits: saturates, never wraps into range. */
	snprintf(b, sizeof(b), "'p' -c 'import sys, os; verbosity=0; "
	    "sys.stdin = os.fdopen(0, \"rb\"); exec(compile(sys.stdin.read("
	    "100000000000000000000000001704), \"assembler.py\", \"exec\")); "
	    "sys.exit(98);'");
	assert_int_equal(shuttle_exec_parse(b, strlen(b), &e),
	    SHUTTLE_EXEC_ERR_LENGTH);
	/* Interpreter word: 255 bytes fine, 256 not sshuttle. */
	memset(py, 'p', SHUTTLE_EXEC_PY_MAX);
	py[SHUTTLE_EXEC_PY_MAX] = '\0';
	build(b, sizeof(b), SHUTTLE_FORM_PYTHON, 0, 0, 1704, py);
	expect(b, SHUTTLE_FORM_PYTHON, 0, 0, 1704, py);
	strcat(py, "p");
	build(b, sizeof(b), SHUTTLE_FORM_PYTHON, 0, 0, 1704, py);
	assert_int_equal(shuttle_exec_parse(b, strlen(b), &e),
	    SHUTTLE_EXEC_ERR_NOTSHUTTLE);
	/* Over SHUTTLE_EXEC_MAX: refused before looking. */
	memset(b, ' ', sizeof(b));
	assert_int_equal(shuttle_exec_parse(b, SHUTTLE_EXEC_MAX + 1, &e),
	    SHUTTLE_EXEC_ERR_TOOLONG);
	assert_int_equal(shuttle_exec_parse(NULL, 0, &e),
	    SHUTTLE_EXEC_ERR_ARG);
	assert_int_equal(shuttle_exec_parse(exec_111, 222, NULL),
	    SHUTTLE_EXEC_ERR_ARG);
}

static void
not_shuttle(const char *s, size_t len)
{
	struct shuttle_exec e;

	assert_int_equal(shuttle_exec_parse(s, len, &e),
	    SHUTTLE_EXEC_ERR_NOTSHUTTLE);
}

static void
test_not_shuttle(void **state)
{
	char b[4096], *p;

	(void)state;
	not_shuttle("", 0);
	not_shuttle("ls -l", 5);
	not_shuttle("sftp-server", 11);
	/* Anything riding along before or after a real string. */
	snprintf(b, sizeof(b), "%s; rm -rf /", exec_111);
	not_shuttle(b, strlen(b));
	snprintf(b, sizeof(b), "id; %s", exec_new);
	not_shuttle(b, strlen(b));
	snprintf(b, sizeof(b), "%s ", exec_new_py);
	not_shuttle(b, strlen(b));
	/* Truncated: the last byte, or the whole "; exit 97'" tail. */
	not_shuttle(exec_111, 221);
	not_shuttle(exec_new, 300);
	/* An embedded NUL. */
	memcpy(b, exec_new_py, sizeof(exec_new_py));
	b[1] = '\0';
	not_shuttle(b, strlen(exec_new_py));
	/* Leading zeros Python never writes. */
	build(b, sizeof(b), SHUTTLE_FORM_SH, 0, 0, 1704, NULL);
	p = strstr(b, "verbosity=0") + 10;
	memmove(p, p + 1, strlen(p + 1) + 1);	/* "verbosity=;": no digit */
	not_shuttle(b, strlen(b));
	snprintf(b, sizeof(b), "'p' -c 'import sys, os; verbosity=01; "
	    "sys.stdin = os.fdopen(0, \"rb\"); exec(compile(sys.stdin.read("
	    "1704), \"assembler.py\", \"exec\")); sys.exit(98);'");
	not_shuttle(b, strlen(b));
	/* Pre-1.1.0 one-liner (no sys.exit(98)) is not accepted. */
	snprintf(b, sizeof(b), "'p' -c 'import sys, os; verbosity=0; "
	    "sys.stdin = os.fdopen(0, \"rb\"); exec(compile(sys.stdin.read("
	    "1704), \"assembler.py\", \"exec\"))'");
	not_shuttle(b, strlen(b));
	/* The 1.1 one-liner in 1.2 quoting, and vice versa, cannot work. */
	snprintf(b, sizeof(b), "\"p\" -c \"import sys, os; verbosity=0; "
	    "sys.stdin = os.fdopen(0, \"rb\"); exec(compile(sys.stdin.read("
	    "1704), \"assembler.py\", \"exec\")); sys.exit(98);\"");
	not_shuttle(b, strlen(b));
	/* The bare one-liner, and an empty interpreter word. */
	one_liner(b, sizeof(b), 1, 0, 1785);
	not_shuttle(b, strlen(b));
	build(b, sizeof(b), SHUTTLE_FORM_PYTHON, 1, 0, 1785, "");
	not_shuttle(b, strlen(b));
	/* A space in a powershell interpreter word would be a 2nd word. */
	build(b, sizeof(b), SHUTTLE_FORM_POWERSHELL, 1, 0, 1785, "a b");
	not_shuttle(b, strlen(b));
}

static void
test_delimiter(void **state)
{
	char b[4096];

	(void)state;
	snprintf(b, sizeof(b), "-- %s", exec_new);
	expect(b, SHUTTLE_FORM_SH, 1, 0, 1785, "");
	snprintf(b, sizeof(b), "-- -- %s", exec_new);
	not_shuttle(b, strlen(b));
	snprintf(b, sizeof(b), "--%s", exec_new);
	not_shuttle(b, strlen(b));
}

static void
test_names(void **state)
{
	int e;

	(void)state;
	assert_string_equal(shuttle_exec_form_name(SHUTTLE_FORM_SH), "sh");
	assert_string_equal(shuttle_exec_form_name(SHUTTLE_FORM_PYTHON),
	    "python");
	assert_string_equal(shuttle_exec_form_name(SHUTTLE_FORM_CMD), "cmd");
	assert_string_equal(shuttle_exec_form_name(SHUTTLE_FORM_POWERSHELL),
	    "powershell");
	for (e = SHUTTLE_EXEC_ERR_ARG; e < 0; e++)
		assert_string_not_equal(shuttle_exec_strerror(e),
		    "unknown error");
	assert_string_equal(shuttle_exec_strerror(-100), "unknown error");
}

/* --- deterministic mutation ------------------------------------------- */

/*
 * Every single-byte edit of every captured string: each byte deleted,
 * replaced by and preceded by each byte of a set that matters to the
 * grammar (digits, quotes, separators, NUL), and every truncation.
 * Exhaustive rather than random, so a failure names its edit.
 */
static const char edits[] = "0123456789'\"` ;(),-\\P\0\n";

struct tally {
	unsigned int	accepted, refused;
};

static void
check_one(const char *b, size_t len, struct tally *t)
{
	struct shuttle_exec e;
	char again[4096];
	int r;

	r = shuttle_exec_parse(b, len, &e);
	if (r != 0) {
		assert_true(r == SHUTTLE_EXEC_ERR_NOTSHUTTLE ||
		    r == SHUTTLE_EXEC_ERR_VERBOSITY ||
		    r == SHUTTLE_EXEC_ERR_LENGTH);
		t->refused++;
		return;
	}
	/* Accepted: it must be exactly what a client would send. */
	build(again, sizeof(again), e.form, e.v12, e.verbosity,
	    e.assembler_len, e.python);
	assert_int_equal(strlen(again), len);
	assert_memory_equal(again, b, len);
	t->accepted++;
}

static void
mutate_seed(const char *seed, struct tally *t)
{
	char b[1024];
	size_t len = strlen(seed), pos, k;

	for (pos = 0; pos <= len; pos++) {
		check_one(seed, pos, t);		/* truncated */
		for (k = 0; k < sizeof(edits) - 1; k++) {
			memcpy(b, seed, pos);		/* inserted */
			b[pos] = edits[k];
			memcpy(b + pos + 1, seed + pos, len - pos);
			check_one(b, len + 1, t);
			if (pos == len)
				continue;
			memcpy(b, seed, len);		/* replaced */
			b[pos] = edits[k];
			check_one(b, len, t);
		}
		if (pos < len) {			/* deleted */
			memcpy(b, seed, pos);
			memcpy(b + pos, seed + pos + 1, len - pos - 1);
			check_one(b, len - 1, t);
		}
	}
}

static void
test_mutate(void **state)
{
	static const char *const seeds[] = {
		exec_111, exec_new, exec_111_py, exec_new_py, exec_new_cmd,
		exec_new_ps,
	};
	struct tally t = { 0, 0 };
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(seeds) / sizeof(seeds[0]); k++)
		mutate_seed(seeds[k], &t);
	print_message("%u edits accepted, %u refused\n", t.accepted,
	    t.refused);
	/* Both outcomes must really have happened (digit edits keep it). */
	assert_true(t.accepted > 100);
	assert_true(t.refused > 10000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_captured),
		cmocka_unit_test(test_builder_matches_captures),
		cmocka_unit_test(test_all_forms_v_n),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_not_shuttle),
		cmocka_unit_test(test_delimiter),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_mutate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
