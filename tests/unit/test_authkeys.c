/*
 * test_authkeys: authorized_keys lines and files.  Options that would
 * widen access are refused by name, never dropped; every bad line is
 * reported with its file and line number.
 */
#include <sys/stat.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "authkeys.h"
#include "diag.h"
#include "pubkey.h"

#define ALICE "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICgiuonoJXRft8z1xwuRuFf/" \
	"WFhzd+R3NkUOIHmgmKUs"
#define BOB "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBRNZ4JMr24XTwI8sCgfmp8" \
	"703O3ju9uQ4s3jr5tcy59"
#define CI "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICgbY0PS6vY7ja0yH9+jjy6Wu" \
	"cdNjsRC13JrDOHIApVL"
#define RSA2048 "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCbqWW8sSsD6N9Lx7Qjr6" \
	"Atsu5UeAGmAa2+L7m0BCz0GMkmm3qMAXaEfPG+g3TGfhWr4oGZYKg/Iy81pmWdX9Xm" \
	"v7ntPrKNS4gAoTUvJorkjiberV57HYBWQE7a61G7mF8LbiHokFpXu8IXx9dlS91caY" \
	"BETd43BjqJIyxdktFrLeGwxKktqE1uaYm7qniJg/mKFAr117232zxnI0j0uZv6TDYA" \
	"+GB9AWWPwATv+YUj6FmqzYnUNRDULqCqcBKyKC00I7luFRkRohIZ8MbGymjgxZ0MDR" \
	"qRorkSmJ3Bm2F6bkFaNbgF2FNVrWBCrqyB+l8R6yUswqzbPMB7dEQNTJpx"
#define ALICE_FP "SHA256:DIU/6qKiB5zbHjPxqfk3SyXHwATFn3D60NsOJrBy9hA"
#define BOB_FP "SHA256:q5GBPLtcU7jI87sgmyP+CQ+cZOaDjvXlq0M6XRnhaSc"
#define CI_FP "SHA256:m6YSBwosZ2XuZOdbFJ+tPicp5tvdzZ7gk3qeOu8FqRA"

#define MAX_SEEN	16

/* What the parse callbacks saw: messages and keys. */
struct seen {
	char		*msg[MAX_SEEN];
	size_t		 nmsg;
	char		 fp[MAX_SEEN][PUBKEY_FP_LEN];
	char		 comment[MAX_SEEN][PUBKEY_COMMENT_MAX];
	unsigned long	 line[MAX_SEEN];
	size_t		 nkeys;
	int		 fail_after;	/* callback fails on this key, or -1 */
};

static void
on_msg(void *ctx, const char *msg)
{
	struct seen *s = ctx;

	if (s->nmsg < MAX_SEEN) {
		s->msg[s->nmsg++] = strdup(msg);
	}
}

static int
on_key(void *ctx, const struct pubkey *k, unsigned long line)
{
	struct seen *s = ctx;

	if (s->fail_after >= 0 && s->nkeys == (size_t)s->fail_after) {
		return -1;
	}
	if (s->nkeys < MAX_SEEN) {
		pubkey_fingerprint(k, s->fp[s->nkeys], PUBKEY_FP_LEN);
		snprintf(s->comment[s->nkeys], PUBKEY_COMMENT_MAX, "%s",
		    k->comment);
		s->line[s->nkeys] = line;
		s->nkeys++;
	}
	return 0;
}

static int
setup(void **state)
{
	struct seen *s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		return -1;
	}
	s->fail_after = -1;
	*state = s;
	return 0;
}

static int
teardown(void **state)
{
	struct seen *s = *state;
	size_t i;

	for (i = 0; i < s->nmsg; i++) {
		free(s->msg[i]);
	}
	free(s);
	return 0;
}

static void
dump_msgs(const struct seen *s)
{
	size_t i;

	for (i = 0; i < s->nmsg; i++) {
		print_error("  message: %s\n", s->msg[i]);
	}
}

/* Some message starts with prefix and contains text. */
static void
assert_msg(const struct seen *s, const char *prefix, const char *text)
{
	size_t i;

	for (i = 0; i < s->nmsg; i++) {
		if (strncmp(s->msg[i], prefix, strlen(prefix)) == 0 &&
		    strstr(s->msg[i], text) != NULL) {
			return;
		}
	}
	dump_msgs(s);
	fail_msg("no message \"%s ... %s\"", prefix, text);
}

static int
parse_buf(struct seen *s, const char *file, const char *buf)
{
	struct diag d = { on_msg, s, 0 };
	size_t before = s->nmsg;
	int r;

	r = authkeys_parse(file, buf, strlen(buf), &d, on_key, s);
	/* Every error counted was also handed to the callback. */
	assert_int_equal(d.count, s->nmsg - before);
	return r;
}

static int
line_parse(const char *line, int opts, struct pubkey *k, char *err,
    size_t errlen)
{
	return authkeys_parse_line(line, strlen(line), opts, k, err, errlen);
}

static void
line_ok(const char *line, int opts, const char *fp, const char *comment)
{
	struct pubkey k;
	char err[DIAG_MSG_MAX], buf[PUBKEY_FP_LEN];
	int r;

	if ((r = line_parse(line, opts, &k, err, sizeof(err))) != 1) {
		fail_msg("\"%s\": %d %s", line, r, r < 0 ? err : "");
	}
	pubkey_fingerprint(&k, buf, sizeof(buf));
	assert_string_equal(buf, fp);
	assert_string_equal(k.comment, comment);
	pubkey_clear(&k);
}

static void
line_bad(const char *line, int opts, const char *want)
{
	struct pubkey k;
	char err[DIAG_MSG_MAX] = "";
	int r;

	if ((r = line_parse(line, opts, &k, err, sizeof(err))) != -1) {
		if (r == 1) {
			pubkey_clear(&k);
		}
		fail_msg("\"%s\" gave %d, wanted error \"%s\"", line, r,
		    want);
	}
	if (strstr(err, want) == NULL) {
		fail_msg("\"%s\": error \"%s\" lacks \"%s\"", line, err,
		    want);
	}
}

static void
line_skipped(const char *line)
{
	struct pubkey k;
	char err[DIAG_MSG_MAX];

	assert_int_equal(line_parse(line, 1, &k, err, sizeof(err)), 0);
	assert_null(k.blob);
}

static void
test_line_plain(void **state)
{
	(void)state;
	line_ok(ALICE " alice@example", 1, ALICE_FP, "alice@example");
	line_ok(ALICE " alice@example", 0, ALICE_FP, "alice@example");
	line_ok(ALICE, 1, ALICE_FP, "");
	/* Leading blanks, tabs between fields, trailing blanks. */
	line_ok("  \t" ALICE "\t alice@example \t", 1, ALICE_FP,
	    "alice@example");
	/* A comment keeps its inner spaces. */
	line_ok(BOB " Bob's laptop  (2024)", 1, BOB_FP,
	    "Bob's laptop  (2024)");
}

static void
test_line_blank_and_comment(void **state)
{
	(void)state;
	line_skipped("");
	line_skipped("   ");
	line_skipped("\t");
	line_skipped("# a comment");
	line_skipped("   # an indented comment");
	line_skipped("#" ALICE);
}

static void
test_line_long_comment(void **state)
{
	char line[1024], want[PUBKEY_COMMENT_MAX];
	size_t o;

	(void)state;
	/* Cut to 255 bytes. */
	o = (size_t)snprintf(line, sizeof(line), "%s ", ALICE);
	memset(line + o, 'c', 400);
	line[o + 400] = '\0';
	memset(want, 'c', PUBKEY_COMMENT_MAX - 1);
	want[PUBKEY_COMMENT_MAX - 1] = '\0';
	line_ok(line, 1, ALICE_FP, want);
	/* Never in the middle of a UTF-8 sequence: 254 + 2-byte e-acute. */
	memset(line + o, 'c', 254);
	memcpy(line + o + 254, "\xc3\xa9zzz", 6);
	line[o + 260] = '\0';
	want[254] = '\0';
	line_ok(line, 1, ALICE_FP, want);
	/* 253 + e-acute fits exactly. */
	memset(line + o, 'c', 253);
	memcpy(line + o + 253, "\xc3\xa9zzz", 6);
	line[o + 259] = '\0';
	memset(want, 'c', 253);
	memcpy(want + 253, "\xc3\xa9", 3);
	line_ok(line, 1, ALICE_FP, want);
}

static void
test_line_harmless_options(void **state)
{
	(void)state;
	line_ok("no-pty " ALICE " a", 1, ALICE_FP, "a");
	line_ok("no-pty,no-x11-forwarding,no-agent-forwarding,no-user-rc "
	    ALICE " a", 1, ALICE_FP, "a");
	/* Option names are case-insensitive, as in sshd. */
	line_ok("No-Pty,NO-USER-RC " ALICE, 1, ALICE_FP, "");
}

static void
test_line_refused_options(void **state)
{
	(void)state;
	line_bad("from=\"10.0.0.0/8\" " ALICE, 1,
	    "key option \"from\" is not supported; express limits with the "
	    "policy's from/allow keywords instead");
	line_bad("command=\"/usr/bin/backup --all\" " ALICE, 1,
	    "key option \"command\" is not supported");
	line_bad("restrict " ALICE, 1, "key option \"restrict\" is not "
	    "supported");
	line_bad("permitopen=\"db:5432\" " ALICE, 1,
	    "key option \"permitopen\" is not supported");
	line_bad("permitlisten=\"8080\" " ALICE, 1, "\"permitlisten\"");
	line_bad("environment=\"A=b\" " ALICE, 1, "\"environment\"");
	line_bad("cert-authority " ALICE, 1, "\"cert-authority\"");
	line_bad("no-port-forwarding " ALICE, 1, "\"no-port-forwarding\"");
	/* One bad option among harmless ones is named. */
	line_bad("no-pty,restrict,no-user-rc " ALICE, 1, "\"restrict\"");
	line_bad("no-pty,from=\"1.2.3.4\" " ALICE, 1, "\"from\"");
	/* A quoted comma does not split an option. */
	line_bad("command=\"a,no-pty\" " ALICE, 1, "\"command\"");
	/* A near miss of a harmless option is not harmless. */
	line_bad("no-pty=1 " ALICE, 1, "\"no-pty\"");
	line_bad("no-ptyx " ALICE, 1, "\"no-ptyx\"");
	line_bad("no-pty,," ALICE, 1, "unknown key type");
	line_bad("no-pty,, " ALICE, 1, "key option \"\" is not supported");
}

static void
test_line_no_options_in_policy(void **state)
{
	(void)state;
	/* The policy's "key" keyword takes no options at all. */
	line_bad("no-pty " ALICE, 0, "unknown key type \"no-pty\"");
	line_bad("from=\"10.0.0.0/8\" " ALICE, 0, "unknown key type");
}

static void
test_line_errors(void **state)
{
	(void)state;
	line_bad("command=\"never closed " ALICE, 1,
	    "unterminated quote in options");
	line_bad("ssh-ed25519", 1, "missing key data after ssh-ed25519");
	line_bad("ssh-ed25519   ", 1, "missing key data after ssh-ed25519");
	line_bad("no-pty ssh-ed25519", 1, "missing key data after "
	    "ssh-ed25519");
	/* A misspelt type is named, not mistaken for an option. */
	line_bad("ssh-ed2551 AAAAC3NzaC1lZDI1NTE5AAAAICgiuonoJXRft8z1xwuRuFf/"
	    "WFhzd+R3NkUOIHmgmKUs", 1, "unknown key type \"ssh-ed2551\"");
	line_bad("ssh-ed2551 AAAA", 0, "unknown key type \"ssh-ed2551\"");
	line_bad("no-pty", 1, "unknown key type \"no-pty\"");
	line_bad("ssh-ed25519 AAAA!!!!", 1, "key data is not valid base64");
	line_bad("ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAICgiuonoJXRft8z1xwuRuFf/"
	    "WFhzd+R3NkUOIHmgmKUs", 1, "key data does not match type "
	    "ssh-rsa");
	line_bad(RSA2048 " rsa", 1, "RSA key of 2048 bits is too weak");
	line_bad("ssh-dss AAAAB3NzaC1kc3MAAACBAML4", 1,
	    "ssh-dss: DSA keys are weak");
}

static void
test_file_good(void **state)
{
	struct seen *s = *state;
	const char *buf =
	    "# keys for the ci account\n"
	    "\n"
	    ALICE " alice@example\n"
	    "   \n"
	    "no-pty " BOB " bob@example\n"
	    "\t# indented comment\n"
	    CI " ci@example";		/* no final newline */

	assert_int_equal(parse_buf(s, "ak", buf), 3);
	assert_int_equal(s->nmsg, 0);
	assert_int_equal(s->nkeys, 3);
	assert_string_equal(s->fp[0], ALICE_FP);
	assert_int_equal(s->line[0], 3);
	assert_string_equal(s->comment[0], "alice@example");
	assert_string_equal(s->fp[1], BOB_FP);
	assert_int_equal(s->line[1], 5);
	assert_string_equal(s->fp[2], CI_FP);
	assert_int_equal(s->line[2], 7);
	assert_string_equal(s->comment[2], "ci@example");
}

static void
test_file_crlf(void **state)
{
	struct seen *s = *state;
	const char *buf = ALICE " alice@example\r\n\r\n" BOB " bob\r\n";

	assert_int_equal(parse_buf(s, "ak", buf), 2);
	assert_string_equal(s->comment[0], "alice@example");
	assert_string_equal(s->comment[1], "bob");
	assert_int_equal(s->line[1], 3);
}

static void
test_file_errors(void **state)
{
	struct seen *s = *state;
	const char *buf =
	    ALICE " alice@example\n"			/* 1 */
	    "\n"					/* 2 */
	    "# comment\n"				/* 3 */
	    BOB " bob@example\n"			/* 4 */
	    RSA2048 " rsa2048@example\n"		/* 5 */
	    "ssh-dss AAAAB3NzaC1kc3MAAACBAML4 dsa\n"	/* 6 */
	    "from=\"10.0.0.0/8\" " CI " ci\n"		/* 7 */
	    "ssh-ed25519 AAAA\x01 bad\n"		/* 8 */
	    "ssh-ed25519 \xff\n"			/* 9 */
	    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA\n";	/* 10 */

	/* Every bad line is reported; the good ones still reach cb. */
	assert_int_equal(parse_buf(s, "keys/ci", buf), -1);
	assert_int_equal(s->nmsg, 6);
	assert_msg(s, "keys/ci:5: ", "RSA key of 2048 bits is too weak");
	assert_msg(s, "keys/ci:6: ", "ssh-dss: DSA keys are weak");
	assert_msg(s, "keys/ci:7: ", "key option \"from\" is not supported");
	assert_msg(s, "keys/ci:8: ", "control character 0x01 at column 17");
	assert_msg(s, "keys/ci:9: ", "invalid UTF-8 at column 13");
	assert_msg(s, "keys/ci:10: ", "Ed25519 key is not 32 bytes");
	assert_int_equal(s->nkeys, 2);
	assert_int_equal(s->line[0], 1);
	assert_int_equal(s->line[1], 4);
}

static void
test_file_callback_fails(void **state)
{
	struct seen *s = *state;
	const char *buf = ALICE "\n" BOB "\n" CI "\n";

	s->fail_after = 1;
	assert_int_equal(parse_buf(s, "ak", buf), -1);
	assert_int_equal(s->nkeys, 1);
	assert_int_equal(s->nmsg, 1);
	assert_msg(s, "ak:2: ", "out of memory");
}

static void
test_file_empty(void **state)
{
	struct seen *s = *state;

	assert_int_equal(parse_buf(s, "ak", ""), 0);
	assert_int_equal(parse_buf(s, "ak", "# nothing here\n\n"), 0);
	assert_int_equal(s->nmsg, 0);
}

static void
test_load(void **state)
{
	struct seen *s = *state;
	struct diag d = { on_msg, s, 0 };
	const char *td = getenv("RAMPART_TESTDATA");
	char path[1024];

	snprintf(path, sizeof(path), "%s/keys/alice.pub",
	    td != NULL ? td : "tests/data");
	assert_int_equal(authkeys_load(path, &d, on_key, s), 1);
	assert_int_equal(s->nkeys, 1);
	assert_string_equal(s->fp[0], ALICE_FP);
	assert_string_equal(s->comment[0], "alice@example");
	snprintf(path, sizeof(path), "%s/keys/dsa.pub",
	    td != NULL ? td : "tests/data");
	assert_int_equal(authkeys_load(path, &d, on_key, s), -1);
	assert_msg(s, path, ":1: ssh-dss: DSA keys are weak");
	snprintf(path, sizeof(path), "%s/keys/rsa2048.pub",
	    td != NULL ? td : "tests/data");
	assert_int_equal(authkeys_load(path, &d, on_key, s), -1);
	assert_msg(s, path, ":1: RSA key of 2048 bits is too weak");
}

static void
test_load_errors(void **state)
{
	struct seen *s = *state;
	struct diag d = { on_msg, s, 0 };
	char dir[] = "/tmp/rampart-authkeys-XXXXXX", path[128];

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(authkeys_load(path, &d, on_key, s), -1);
	/* No line number for a file that could not be read. */
	assert_msg(s, path, ": cannot open: No such file or directory");
	assert_int_equal(authkeys_load(dir, &d, on_key, s), -1);
	assert_msg(s, dir, ": is not a regular file");
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(authkeys_load(path, &d, on_key, s), -1);
	assert_msg(s, path, ": is not a regular file");
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(s->nkeys, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_plain),
		cmocka_unit_test(test_line_blank_and_comment),
		cmocka_unit_test(test_line_long_comment),
		cmocka_unit_test(test_line_harmless_options),
		cmocka_unit_test(test_line_refused_options),
		cmocka_unit_test(test_line_no_options_in_policy),
		cmocka_unit_test(test_line_errors),
		cmocka_unit_test_setup_teardown(test_file_good, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_file_crlf, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_file_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_file_callback_fails,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_empty, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_errors, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
