/*
 * test_policy_parse: the policy language as policy_parse.c's keyword
 * table defines it.  Every mistake must be reported as "NAME:LINE: text",
 * all mistakes in one run, and a file with any mistake must leave the
 * caller with no policy at all.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "policy.h"
#include "pubkey.h"

#define NAME	"t.conf"

#define ALICE "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICgiuonoJXRft8z1xwuRuFf/" \
	"WFhzd+R3NkUOIHmgmKUs alice@example"
#define BOB "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBRNZ4JMr24XTwI8sCgfmp8" \
	"703O3ju9uQ4s3jr5tcy59 bob@example"
#define CI "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICgbY0PS6vY7ja0yH9+jjy6Wu" \
	"cdNjsRC13JrDOHIApVL ci@example"

/* A minimal valid user block, for tests about something else. */
#define USER_ALICE	"user alice\n\tkey " ALICE "\n"

#define MAX_MSGS	64

struct msgs {
	char	*m[MAX_MSGS];
	size_t	 n;
};

static void
on_msg(void *ctx, const char *msg)
{
	struct msgs *ms = ctx;

	if (ms->n < MAX_MSGS) {
		ms->m[ms->n++] = strdup(msg);
	}
}

static void
msgs_free(struct msgs *ms)
{
	size_t i;

	for (i = 0; i < ms->n; i++) {
		free(ms->m[i]);
	}
	ms->n = 0;
}

static void
msgs_print(const struct msgs *ms)
{
	size_t i;

	for (i = 0; i < ms->n; i++) {
		print_error("  message: %s\n", ms->m[i]);
	}
}

/* 1 if some message starts with prefix and contains text. */
static int
msgs_has(const struct msgs *ms, const char *prefix, const char *text)
{
	size_t i;

	for (i = 0; i < ms->n; i++) {
		if (strncmp(ms->m[i], prefix, strlen(prefix)) == 0 &&
		    strstr(ms->m[i], text) != NULL) {
			return 1;
		}
	}
	return 0;
}

static void
assert_msg(const struct msgs *ms, const char *prefix, const char *text)
{
	if (!msgs_has(ms, prefix, text)) {
		msgs_print(ms);
		fail_msg("no message \"%s...%s\"", prefix, text);
	}
}

static const char *
testdata(void)
{
	const char *d = getenv("RAMPART_TESTDATA");

	return d != NULL ? d : "tests/data";
}

/* The absolute path of a file under the test data directory. */
static void
data_path(const char *rel, char *out, size_t outlen)
{
	char path[PATH_MAX], abs[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", testdata(), rel);
	if (realpath(path, abs) == NULL) {
		fail_msg("realpath(%s) failed", path);
	}
	snprintf(out, outlen, "%s", abs);
}

/* The first line of a key file, without its newline. */
static void
key_line(const char *name, char *out, size_t outlen)
{
	char rel[64], path[PATH_MAX];
	FILE *f;

	snprintf(rel, sizeof(rel), "keys/%s.pub", name);
	data_path(rel, path, sizeof(path));
	if ((f = fopen(path, "r")) == NULL || fgets(out, (int)outlen, f) ==
	    NULL) {
		fail_msg("cannot read %s", path);
	}
	fclose(f);
	out[strcspn(out, "\n")] = '\0';
}

/* 1 if the named user holds the ssh-ed25519 key with this base64. */
static int
user_has(const struct policy *pol, const char *user, const char *b64)
{
	const struct policy_user *u;
	struct pubkey k;
	char err[256];
	int r;

	if ((u = policy_user_find(pol, user)) == NULL) {
		fail_msg("no user %s", user);
	}
	if (pubkey_parse("ssh-ed25519", b64, strlen(b64), &k, err,
	    sizeof(err)) != 0) {
		fail_msg("%s", err);
	}
	r = policy_user_has_key(u, k.blob, k.bloblen);
	pubkey_clear(&k);
	return r;
}

#define ALICE_B64 "AAAAC3NzaC1lZDI1NTE5AAAAICgiuonoJXRft8z1xwuRuFf/WFhzd+R3" \
	"NkUOIHmgmKUs"
#define CI_B64 "AAAAC3NzaC1lZDI1NTE5AAAAICgbY0PS6vY7ja0yH9+jjy6WucdNjsRC1" \
	"3JrDOHIApVL"

static struct policy *
load_ok_flags(const char *text, size_t len, int flags)
{
	struct msgs ms = { { NULL }, 0 };
	struct policy *pol = NULL;
	int r;

	r = policy_load_buf(NAME, text, len, flags, on_msg, &ms, &pol);
	if (r != 0 || ms.n != 0) {
		msgs_print(&ms);
		fail_msg("policy did not load (r=%d):\n%s", r, text);
	}
	assert_non_null(pol);
	return pol;
}

static struct policy *
load_ok(const char *text)
{
	return load_ok_flags(text, strlen(text), 0);
}

/*
 * Load text that must fail, with a message "t.conf:LINE: ...want...";
 * if nmsgs is not 0, with exactly that many messages.  Returns the number.
 */
static size_t
expect_err_n(const char *text, size_t len, int flags, unsigned long line,
    const char *want, size_t nmsgs)
{
	struct msgs ms = { { NULL }, 0 };
	struct policy *pol = (struct policy *)&ms;	/* must become NULL */
	char prefix[64];
	size_t n;
	int r;

	r = policy_load_buf(NAME, text, len, flags, on_msg, &ms, &pol);
	if (r != -1) {
		msgs_print(&ms);
		fail_msg("policy loaded, wanted line %lu: %s\n%s", line, want,
		    text);
	}
	assert_null(pol);
	snprintf(prefix, sizeof(prefix), NAME ":%lu: ", line);
	assert_msg(&ms, prefix, want);
	if (nmsgs != 0 && ms.n != nmsgs) {
		msgs_print(&ms);
		fail_msg("%zu messages, wanted %zu", ms.n, nmsgs);
	}
	n = ms.n;
	msgs_free(&ms);
	return n;
}

static size_t
expect_err_len(const char *text, size_t len, int flags, unsigned long line,
    const char *want)
{
	return expect_err_n(text, len, flags, line, want, 0);
}

static size_t
expect_err(const char *text, unsigned long line, const char *want)
{
	return expect_err_n(text, strlen(text), 0, line, want, 0);
}

/* As expect_err, and that message is the only one. */
static void
expect_one_err(const char *text, unsigned long line, const char *want)
{
	expect_err_n(text, strlen(text), 0, line, want, 1);
}

static void
test_example_policy(void **state)
{
	char dir[] = "/tmp/rampart-parse-XXXXXX", keys[PATH_MAX];
	char path[PATH_MAX], text[8192], out[16384], ci[256];
	const char *tag = "/etc/rampart/keys/packer-ci", *at;
	const struct policy_user *u;
	struct policy *pol;
	struct addr a;
	FILE *f;
	size_t len;
	int fd;

	(void)state;
	data_path("policies/example.conf", path, sizeof(path));
	assert_non_null(f = fopen(path, "r"));
	len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[len] = '\0';
	/* Point its keys-file at a copy of ci.pub in a fresh directory. */
	assert_non_null(mkdtemp(dir));
	snprintf(keys, sizeof(keys), "%s/packer-ci", dir);
	key_line("ci", ci, sizeof(ci));
	assert_true((fd = open(keys, O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0);
	assert_int_equal(dprintf(fd, "# ci keys\n%s\n", ci), (int)strlen(ci) +
	    11);
	close(fd);
	assert_non_null(at = strstr(text, tag));
	snprintf(out, sizeof(out), "%.*s%s%s", (int)(at - text), text, keys,
	    at + strlen(tag));
	pol = load_ok(out);

	assert_non_null(u = policy_user_find(pol, "alice"));
	assert_string_equal(policy_user_name(u), "alice");
	assert_true(policy_user_totp_required(u));
	assert_false(policy_user_expired(u, 1814399999));
	assert_true(policy_user_expired(u, 1814400000));
	assert_true(user_has(pol, "alice", ALICE_B64));
	assert_false(user_has(pol, "alice", CI_B64));

	assert_non_null(u = policy_user_find(pol, "packer-ci"));
	assert_false(policy_user_totp_required(u));
	assert_false(policy_user_expired(u, 4102444800));
	assert_true(user_has(pol, "packer-ci", CI_B64));
	assert_false(user_has(pol, "packer-ci", ALICE_B64));
	assert_int_equal(addr_parse("192.0.2.77", &a), 0);
	assert_true(policy_user_source_ok(u, &a));
	assert_int_equal(addr_parse("198.51.100.1", &a), 0);
	assert_false(policy_user_source_ok(u, &a));
	assert_null(policy_user_find(pol, "bob"));
	policy_free(pol);
	assert_int_equal(unlink(keys), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void
test_keys_file_absolute(void **state)
{
	char path[PATH_MAX], text[PATH_MAX + 256];
	struct policy *pol;

	(void)state;
	data_path("keys/ci.pub", path, sizeof(path));
	snprintf(text, sizeof(text), "user ci\n\tkeys-file %s\n", path);
	pol = load_ok(text);
	assert_true(user_has(pol, "ci", CI_B64));
	assert_false(user_has(pol, "ci", ALICE_B64));
	policy_free(pol);
}

static void
test_syntax_accepted(void **state)
{
	struct policy *pol;
	const char *text =
	    "# comment at the top\n"
	    "\n"
	    "   # an indented comment is still a comment\n"
	    "ALLOW 10.0.0.0/8 PORT 22\t# trailing comment\n"
	    "Deny 10.9.0.0/16\n"
	    "USER alice   # owner\r\n"
	    "    Key " ALICE "\r\n"
	    "\tTOTP  required\n"
	    "\t\n"
	    " \tMax-Connections 3\n"
	    "user _svc.bot-1\n"
	    "\tkey " BOB "\n"
	    "\tfrom 192.0.2.0/24   2001:db8::/32\n"
	    "\ttotp none";		/* no final newline */

	(void)state;
	pol = load_ok(text);
	assert_non_null(policy_user_find(pol, "alice"));
	assert_non_null(policy_user_find(pol, "_svc.bot-1"));
	assert_false(policy_user_totp_required(policy_user_find(pol,
	    "_svc.bot-1")));
	policy_free(pol);
}

static void
test_streaming_parser(void **state)
{
	static const char *const lines[] = {
		"user alice", "\tkey " ALICE, "\tmember eng", "group eng",
		"\tallow 10.0.0.0/8 port 22",
	};
	struct msgs ms = { { NULL }, 0 };
	struct policy_parser *p;
	struct policy *pol = NULL;
	size_t i;

	(void)state;
	assert_non_null(p = policy_parser_new("s.conf", 0, on_msg, &ms));
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		policy_parser_line(p, lines[i], strlen(lines[i]));
	}
	assert_int_equal(policy_parser_finish(p, &pol), 0);
	assert_non_null(pol);
	assert_int_equal(ms.n, 0);
	policy_free(pol);
	/* Errors carry the parser's name; a line is fed without "\n". */
	assert_non_null(p = policy_parser_new("s.conf", 0, on_msg, &ms));
	policy_parser_line(p, USER_ALICE, strlen(USER_ALICE));
	policy_parser_line(p, "frob", 4);
	pol = (struct policy *)&ms;
	assert_int_equal(policy_parser_finish(p, &pol), -1);
	assert_null(pol);
	assert_msg(&ms, "s.conf:1: ", "control character 0x0a");
	assert_msg(&ms, "s.conf:2: ", "unknown keyword \"frob\"");
	msgs_free(&ms);
}

static void
test_load_file(void **state)
{
	char dir[] = "/tmp/rampart-parse-XXXXXX", path[128];
	struct msgs ms = { { NULL }, 0 };
	struct policy *pol;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/policy", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs(USER_ALICE "frob\n", f);
	fclose(f);
	pol = (struct policy *)&ms;
	assert_int_equal(policy_load_file(path, 0, on_msg, &ms, &pol), -1);
	assert_null(pol);
	/* Messages name the file as it was given. */
	assert_int_equal(ms.n, 1);
	assert_true(strncmp(ms.m[0], path, strlen(path)) == 0);
	assert_string_equal(ms.m[0] + strlen(path),
	    ":3: unknown keyword \"frob\"");
	msgs_free(&ms);
	assert_non_null(f = fopen(path, "w"));
	fputs(USER_ALICE, f);
	fclose(f);
	assert_int_equal(policy_load_file(path, 0, on_msg, &ms, &pol), 0);
	assert_non_null(pol);
	policy_free(pol);
	assert_int_equal(unlink(path), 0);
	pol = (struct policy *)&ms;
	assert_int_equal(policy_load_file(path, 0, on_msg, &ms, &pol), -1);
	assert_null(pol);
	assert_int_equal(ms.n, 1);
	assert_true(strncmp(ms.m[0], path, strlen(path)) == 0);
	assert_string_equal(ms.m[0] + strlen(path),
	    ": cannot open: No such file or directory");
	msgs_free(&ms);
	assert_int_equal(rmdir(dir), 0);
}

static void
test_err_unknown_keyword(void **state)
{
	(void)state;
	expect_one_err("frobnicate 1\n" USER_ALICE, 1,
	    "unknown keyword \"frobnicate\"");
	expect_one_err(USER_ALICE "\tpermit 10.0.0.0/8\n", 3,
	    "unknown keyword \"permit\"");
	/* A keyword is a whole word. */
	expect_one_err(USER_ALICE "\tkeys 1\n", 3, "unknown keyword \"keys\"");
	expect_one_err("allow-all\n" USER_ALICE, 1,
	    "unknown keyword \"allow-all\"");
}

static void
test_err_placement(void **state)
{
	(void)state;
	expect_one_err("key " ALICE "\n", 1, "'key' belongs inside a user "
	    "block: indent it under a 'user' line");
	expect_one_err(USER_ALICE "totp required\n", 3,
	    "'totp' belongs inside a user block");
	expect_one_err(USER_ALICE "from 10.0.0.0/8\n", 3,
	    "'from' belongs inside a user block");
	expect_one_err(USER_ALICE "member eng\ngroup eng\n", 3,
	    "'member' belongs inside a user block");
	expect_one_err(USER_ALICE "expires 2030-01-01\n", 3,
	    "'expires' belongs inside a user block");
	expect_one_err(USER_ALICE "keys-file /x\n", 3,
	    "'keys-file' belongs inside a user block");
	expect_one_err("group eng\n\ttotp none\n", 2,
	    "'totp' is not allowed in a group block");
	expect_one_err("group eng\n\tkey " ALICE "\n", 2,
	    "'key' is not allowed in a group block");
	expect_one_err("group eng\n\tmember eng\n", 2,
	    "'member' is not allowed in a group block");
	expect_one_err("group eng\n\tmax-connections 3\n", 2,
	    "'max-connections' is not allowed in a group block");
	expect_one_err("\tallow 10.0.0.0/8 port 22\n", 1,
	    "indented line outside a user or group block");
	/* An unindented line closes the block before it. */
	expect_one_err(USER_ALICE "allow 10.0.0.0/8 port 22\n\ttotp none\n",
	    4, "indented line outside a user or group block");
	expect_one_err(USER_ALICE "\tuser bob\n", 3,
	    "'user' must start at the beginning of the line");
	expect_one_err(USER_ALICE "\tgroup eng\n", 3,
	    "'group' must start at the beginning of the line");
	expect_one_err(USER_ALICE "\tlift-default-deny 127.0.0.1\n", 3,
	    "'lift-default-deny' must start at the beginning of the line");
}

static void
test_err_duplicates(void **state)
{
	(void)state;
	/* The duplicate's block is skipped, not attached elsewhere. */
	expect_one_err(USER_ALICE "user bob\n\tkey " BOB "\nuser alice\n"
	    "\tkey " CI "\n\ttotp maybe\n", 5,
	    "duplicate user alice (first defined at line 1)");
	expect_one_err("group eng\n\tallow 10.0.0.0/8 port 22\n" USER_ALICE
	    "group eng\n\tallow 10.0.0.0/8 port 0\n", 5,
	    "duplicate group eng (first defined at line 1)");
	expect_one_err(USER_ALICE "\tkey " ALICE " again\n", 3,
	    "duplicate key for user alice (already at t.conf:2)");
	expect_one_err("group eng\n" USER_ALICE "\tmember eng\n"
	    "\tmember eng\n", 5, "alice is already a member of eng (line 4)");
	expect_one_err(USER_ALICE "\ttotp required\n\ttotp required\n", 4,
	    "totp given twice (first at line 3)");
	expect_one_err(USER_ALICE "\texpires 2030-01-01\n"
	    "\texpires 2031-01-01\n", 4, "expires given twice (first at line "
	    "3)");
	expect_one_err("max-connections 3\nmax-connections 4\n" USER_ALICE,
	    2, "max-connections given twice (first at line 1)");
	expect_one_err(USER_ALICE "\tidle-timeout 1h\n\tidle-timeout 2h\n", 4,
	    "idle-timeout given twice (first at line 3)");
}

static void
test_err_unknown_group(void **state)
{
	(void)state;
	expect_one_err("group eng\n" USER_ALICE "\tmember eng nope\n", 4,
	    "user alice is a member of unknown group \"nope\"");
	/* Groups may be defined after their members. */
	policy_free(load_ok(USER_ALICE "\tmember eng\ngroup eng\n"));
}

static void
test_err_cidr(void **state)
{
	(void)state;
	expect_one_err("allow 10.0.0.0/33 port 22\n" USER_ALICE, 1,
	    "prefix length in 10.0.0.0/33 is out of range (0-32 for IPv4, "
	    "0-128 for IPv6)");
	expect_one_err("allow 10.0.0.1/8 port 22\n" USER_ALICE, 1,
	    "10.0.0.1/8 has host bits set (write the network address");
	expect_one_err(USER_ALICE "\tdeny 2001:db8::/129\n", 3,
	    "prefix length in 2001:db8::/129 is out of range");
	expect_one_err(USER_ALICE "\tdeny 2001:db8::1/32\n", 3,
	    "2001:db8::1/32 has host bits set");
	expect_one_err(USER_ALICE "\tfrom 10.0.0.0/8 192.168.1.1/24\n", 3,
	    "192.168.1.1/24 has host bits set");
	expect_one_err(USER_ALICE "\tfrom 10.0.0.0/33\n", 3,
	    "prefix length in 10.0.0.0/33 is out of range");
	expect_one_err(USER_ALICE "\tfrom db.example\n", 3,
	    "\"db.example\" is not an IP address or CIDR");
	expect_one_err("lift-default-deny 127.0.0.1/8\n" USER_ALICE, 1,
	    "127.0.0.1/8 has host bits set");
	expect_one_err("allow 10.1 port 22\n" USER_ALICE, 1,
	    "\"10.1\" is not an IP address or CIDR");
	expect_one_err("allow 010.0.0.0/8 port 22\n" USER_ALICE, 1,
	    "\"010.0.0.0/8\" is not an IP address or CIDR");
	expect_one_err("allow fe80::1%eth0 port 22\n" USER_ALICE, 1,
	    "is not an IP address or CIDR");
}

static void
test_err_ports(void **state)
{
	char text[2048];
	size_t i, o;

	(void)state;
	expect_one_err("allow 10.0.0.0/8 port 0\n" USER_ALICE, 1,
	    "port 0 is out of range (1-65535)");
	expect_one_err("allow 10.0.0.0/8 port 65536\n" USER_ALICE, 1,
	    "port 65536 is out of range (1-65535)");
	expect_one_err(USER_ALICE "\tallow 10.0.0.0/8 port 90-80\n", 3,
	    "port range 90-80 is reversed");
	expect_one_err(USER_ALICE "\tdeny 10.0.0.0/8 port 22,ssh\n", 3,
	    "\"ssh\" is not a port number");
	expect_one_err("allow 10.0.0.0/8 port\n" USER_ALICE, 1,
	    "'port' takes exactly one list, like 22,443,8000-8999");
	expect_one_err("allow 10.0.0.0/8 port 22 443\n" USER_ALICE, 1,
	    "'port' takes exactly one list");
	expect_one_err("allow 10.0.0.0/8 port 22 port 23\n" USER_ALICE, 1,
	    "'port' takes exactly one list");
	o = (size_t)snprintf(text, sizeof(text), "allow 10.0.0.0/8 port ");
	for (i = 0; i < 65; i++) {
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%s%zu",
		    i ? "," : "", 1000 + i);
	}
	snprintf(text + o, sizeof(text) - o, "\n" USER_ALICE);
	expect_one_err(text, 1, "more than 64 entries in a port list");
	/* Port 1 and 65535 are fine. */
	policy_free(load_ok("allow 10.0.0.0/8 port 1,65535\n" USER_ALICE));
}

static void
test_err_rules(void **state)
{
	char text[4096];
	size_t i, o;

	(void)state;
	expect_one_err("allow 10.0.0.0/8\n" USER_ALICE, 1,
	    "allow needs 'port PORTS' (use 'port any' for every port)");
	expect_one_err(USER_ALICE "\tallow db.example\n", 3,
	    "allow needs 'port PORTS'");
	expect_one_err("allow port 22\n" USER_ALICE, 1,
	    "allow needs at least one destination");
	expect_one_err("deny port 22\n" USER_ALICE, 1,
	    "deny needs at least one destination");
	expect_one_err("allow 10.* port 22\n" USER_ALICE, 1,
	    "destination \"10.*\": looks like an address but is not a valid "
	    "one; use a CIDR such as 10.0.0.0/24");
	expect_one_err("allow db!.example port 22\n" USER_ALICE, 1,
	    "destination \"db!.example\": character '!' is not allowed");
	expect_one_err("allow *.example. port 22\n" USER_ALICE, 1,
	    "host pattern must not end with '.'");
	expect_one_err("allow a..example port 22\n" USER_ALICE, 1,
	    "empty label");
	/* Every bad destination of a rule is reported. */
	assert_int_equal(expect_err("deny 10.0.0.1/8 a..b 10.0.0.0/8 x!y\n"
	    USER_ALICE, 1, "10.0.0.1/8 has host bits set"), 3);
	o = (size_t)snprintf(text, sizeof(text), "deny");
	for (i = 0; i < 65; i++) {
		o += (size_t)snprintf(text + o, sizeof(text) - o,
		    " 10.0.%zu.0/24", i);
	}
	snprintf(text + o, sizeof(text) - o, "\n" USER_ALICE);
	expect_one_err(text, 1, "more than 64 destinations in one rule");
	/* No rule is needed, and deny needs no port. */
	policy_free(load_ok("deny 10.0.0.0/8\n" USER_ALICE));
}

static void
test_err_lift(void **state)
{
	(void)state;
	expect_one_err("lift-default-deny 10.0.0.0/8\n" USER_ALICE, 1,
	    "10.0.0.0/8 is not inside the built-in deny list, so there is "
	    "nothing to lift");
	expect_one_err("lift-default-deny 169.254.0.0/15\n" USER_ALICE, 1,
	    "is not inside the built-in deny list");
	expect_one_err("lift-default-deny 0.0.0.0/0\n" USER_ALICE, 1,
	    "is not inside the built-in deny list");
	expect_one_err("lift-default-deny ::/0\n" USER_ALICE, 1,
	    "is not inside the built-in deny list");
	expect_one_err("lift-default-deny fd00:ec2::/32\n" USER_ALICE, 1,
	    "is not inside the built-in deny list");
	expect_one_err("lift-default-deny metadata.example\n" USER_ALICE, 1,
	    "is not an IP address or CIDR");
	policy_free(load_ok("lift-default-deny 169.254.169.254\n"
	    "lift-default-deny 127.0.0.0/8\nlift-default-deny fe80::/64\n"
	    "lift-default-deny fd00:ec2::254\n" USER_ALICE));
}

static void
test_err_line_hygiene(void **state)
{
	char *text;
	size_t len, o;

	(void)state;
	/* 4096 bytes is the longest line; the next byte is too many. */
	len = strlen(USER_ALICE) + 4097 + 1;
	assert_non_null(text = malloc(len + 1));
	o = (size_t)snprintf(text, len + 1, "%s", USER_ALICE);
	text[o] = '#';
	memset(text + o + 1, 'x', 4095);
	text[o + 4096] = '\n';
	text[o + 4097] = '\0';
	policy_free(load_ok(text));
	text[o + 4096] = 'x';
	text[o + 4097] = '\n';
	text[o + 4098] = '\0';
	expect_one_err(text, 3, "line is longer than 4096 bytes");
	free(text);
	expect_err_len(USER_ALICE "\tfrom 10.0.0.0/8\0\n", strlen(USER_ALICE)
	    + 18, 0, 3, "NUL byte at column 17");
	expect_err_len("\0\n" USER_ALICE, 2 + strlen(USER_ALICE), 0, 1,
	    "NUL byte at column 1");
	expect_one_err(USER_ALICE "\tallow 10.0.0.0/8 port 22 \x1b[2J\n", 3,
	    "control character 0x1b at column 27");
	expect_one_err("# bell \x07\n" USER_ALICE, 1,
	    "control character 0x07 at column 8");
	expect_one_err("# del \x7f\n" USER_ALICE, 1,
	    "control character 0x7f at column 7");
	expect_one_err("deny 10.0.0.0/8\r\r\n" USER_ALICE, 1,
	    "control character 0x0d at column 16");
	expect_one_err("deny 10.0.0.0/8\x0b\n" USER_ALICE, 1,
	    "control character 0x0b");
}

static void
test_err_utf8(void **state)
{
	static const struct {
		const char	*text;
		const char	*want;
	} bad[] = {
		{ "# caf\xe9\n", "invalid UTF-8 at column 6" },
		{ "# \xff\n", "invalid UTF-8 at column 3" },
		{ "# \xc0\xaf overlong slash\n", "invalid UTF-8 at column 3" },
		{ "# \xc1\xbf\n", "invalid UTF-8 at column 3" },
		{ "# \xe0\x80\xaf\n", "invalid UTF-8 at column 3" },
		{ "# \xf0\x80\x80\xaf\n", "invalid UTF-8 at column 3" },
		{ "# \xed\xa0\x80 surrogate\n", "invalid UTF-8 at column 3" },
		{ "# \xed\xbf\xbf\n", "invalid UTF-8 at column 3" },
		{ "# \xf4\x90\x80\x80\n", "invalid UTF-8 at column 3" },
		{ "# \xe2\x82\n", "invalid UTF-8 at column 3" },
		{ "# \x80\n", "invalid UTF-8 at column 3" },
	};
	char text[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "%s%s", bad[i].text, USER_ALICE);
		expect_one_err(text, 1, bad[i].want);
	}
	/* Well-formed UTF-8 is fine in comments. */
	policy_free(load_ok("# caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91\n"
	    USER_ALICE));
}

static void
test_err_names(void **state)
{
	static const char *const bad[] = {
		"Alice", "ALICE", "1alice", "-alice", ".alice", "al;ce",
		"a$(id)", "a`id`", "a|b", "a&b", "a>b", "a'b", "a\"b",
		"a\\b", "a*", "a/b", "../etc", "al\xc3\xad" "ce",
		"abcdefghijklmnopqrstuvwxyz0123456",	/* 33 */
	};
	char text[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "user %s\n\tkey %s\n", bad[i],
		    ALICE);
		expect_one_err(text, 1, "is not a valid user name");
	}
	expect_one_err("user Alice\n\tkey " ALICE "\n", 1,
	    "\"Alice\" is not a valid user name (lower case letters, digits, "
	    "'_', '-', '.'; starting with a letter or '_'; at most 32");
	expect_one_err("group Eng\n", 1, "\"Eng\" is not a valid group name");
	expect_one_err(USER_ALICE "\tmember eng;rm\ngroup eng\n", 3,
	    "\"eng;rm\" is not a valid group name");
	expect_one_err("user\n", 1, "wrong number of values; usage: user "
	    "NAME");
	expect_one_err("user alice bob\n\tkey " ALICE "\n", 1,
	    "wrong number of values; usage: user NAME");
	policy_free(load_ok("user abcdefghijklmnopqrstuvwxyz012345\n\tkey "
	    ALICE "\nuser _\n\tkey " BOB "\nuser a.b-c_9\n\tkey " CI "\n"));
}

static void
test_err_keys(void **state)
{
	char text[4096], line[2048];

	(void)state;
	expect_one_err("user alice\n\tkey ssh-ed25519 AAAA\n", 2,
	    "key data does not match type ssh-ed25519");
	expect_one_err("user alice\n\tkey ssh-ed25519 AAAA!!\n", 2,
	    "key data is not valid base64");
	expect_one_err("user alice\n\tkey ssh-foo AAAA\n", 2,
	    "unknown key type \"ssh-foo\"");
	/* Also "has no key", which is true: the line never became one. */
	expect_err("user alice\n\tkey ssh-ed25519\n", 2,
	    "wrong number of values; usage: key TYPE BASE64 [COMMENT]");
	expect_one_err("user alice\n\tkey no-pty " ALICE "\n", 2,
	    "unknown key type \"no-pty\"");
	key_line("dsa", line, sizeof(line));
	snprintf(text, sizeof(text), "user alice\n\tkey %s\n", line);
	expect_one_err(text, 2, "ssh-dss: DSA keys are weak and not accepted; "
	    "use ssh-ed25519");
	key_line("rsa2048", line, sizeof(line));
	snprintf(text, sizeof(text), "user alice\n\tkey %s\n", line);
	expect_one_err(text, 2, "RSA key of 2048 bits is too weak (minimum "
	    "3072)");
	/* The accepted types from the test data all load. */
	key_line("rsa3072", line, sizeof(line));
	snprintf(text, sizeof(text), "user alice\n\tkey %s\n", line);
	key_line("ecdsa256", line, sizeof(line));
	snprintf(text + strlen(text), sizeof(text) - strlen(text),
	    "\tkey %s\n", line);
	policy_free(load_ok(text));
}

static void
test_err_dates(void **state)
{
	(void)state;
	expect_one_err(USER_ALICE "\texpires 2027-02-29\n", 3,
	    "\"2027-02-29\" is not a valid date");
	expect_one_err(USER_ALICE "\texpires 30/06/2027\n", 3,
	    "\"30/06/2027\" is not a date (YYYY-MM-DD or "
	    "YYYY-MM-DDTHH:MM:SSZ)");
	expect_one_err(USER_ALICE "\texpires 2027-06-30T25:00:00Z\n", 3,
	    "is not a valid date");
	expect_one_err(USER_ALICE "\texpires 2027-06-30 12:00\n", 3,
	    "wrong number of values; usage: expires YYYY-MM-DD");
	policy_free(load_ok(USER_ALICE "\texpires 2028-02-29\n"));
}

static void
test_err_limits(void **state)
{
	(void)state;
	expect_one_err("max-connections 0\n" USER_ALICE, 1,
	    "max-connections: 0 is out of range (1-10000)");
	expect_one_err(USER_ALICE "\tmax-channels 10001\n", 3,
	    "max-channels: 10001 is out of range (1-10000)");
	expect_one_err("max-channels -1\n" USER_ALICE, 1,
	    "max-channels: \"-1\" is not a number");
	expect_one_err("idle-timeout 1h30\n" USER_ALICE, 1,
	    "idle-timeout: \"1h30\" is not a duration");
	expect_one_err(USER_ALICE "\tidle-timeout 31d\n", 3,
	    "idle-timeout: duration \"31d\" is out of range (1s to 30d)");
	expect_one_err("max-session-time 366d\n" USER_ALICE, 1,
	    "max-session-time: duration \"366d\" is out of range");
	expect_one_err("max-session-time 0\n" USER_ALICE, 1,
	    "max-session-time: duration \"0\" is out of range");
}

static void
test_err_totp(void **state)
{
	(void)state;
	expect_one_err(USER_ALICE "\ttotp none\n", 3, "totp none for user "
	    "alice requires 'from': a key-only account must be limited to "
	    "known source addresses");
	expect_one_err(USER_ALICE "\ttotp maybe\n", 3,
	    "totp must be 'required' or 'none'");
	expect_one_err(USER_ALICE "\ttotp nothing\n", 3,
	    "totp must be 'required' or 'none'");
	/* Values are as case-insensitive as keywords. */
	policy_free(load_ok(USER_ALICE "\ttotp REQUIRED\n"));
	/* from may come after totp. */
	policy_free(load_ok(USER_ALICE "\ttotp none\n\tfrom 192.0.2.0/24\n"));
}

static void
test_err_knock(void **state)
{
	char text[4096], line[2048];

	(void)state;
	expect_one_err(USER_ALICE "\tknock maybe\n", 3,
	    "knock must be 'required' or 'optional'");
	expect_one_err("knock required\nknock optional\n" USER_ALICE, 2,
	    "knock given twice (first at line 1)");
	expect_one_err(USER_ALICE "\tknock required\n\tknock required\n", 4,
	    "knock given twice (first at line 3)");
	expect_one_err("group g\n\tknock required\n", 2,
	    "'knock' is not allowed in a group block");
	expect_one_err("knock-key " BOB "\n" USER_ALICE, 1,
	    "'knock-key' belongs inside a user block");
	expect_one_err(USER_ALICE "\tknock-key ssh-ed25519 AAAA\n", 3,
	    "key data does not match type ssh-ed25519");
	/* Only Ed25519 can sign a knock; the error names the line. */
	key_line("ecdsa256", line, sizeof(line));
	snprintf(text, sizeof(text), USER_ALICE "\tknock-key %s\n", line);
	expect_one_err(text, 3, "knock-key must be an ssh-ed25519 key, not "
	    "ecdsa-sha2-nistp256");
	key_line("rsa3072", line, sizeof(line));
	snprintf(text, sizeof(text), USER_ALICE "\tknock-key %s\n", line);
	expect_one_err(text, 3, "knock-key must be an ssh-ed25519 key, not "
	    "ssh-rsa");
	/* A key file without a passphrase must not also log in. */
	expect_one_err(USER_ALICE "\tknock-key " ALICE "\n", 3,
	    "this key is both a login key and a knock-key of user alice "
	    "(the other is at t.conf:2)");
	expect_one_err("user alice\n\tknock-key " BOB "\n\tkey " BOB "\n", 3,
	    "both a login key and a knock-key");
	expect_one_err(USER_ALICE "\tknock-key " BOB "\n\tknock-key " BOB
	    "\n", 4, "duplicate key for user alice (already at t.conf:3)");
	/* A knock-key alone is no way to log in. */
	expect_one_err("user alice\n\tknock-key " BOB "\n", 1,
	    "user alice has no key or keys-file");
	/* The same knock key may serve two users; values ignore case. */
	policy_free(load_ok("KNOCK REQUIRED\n" USER_ALICE "\tknock-key " BOB
	    "\n\tKnock Optional\nuser bob\n\tkey " CI "\n\tknock-key "
	    BOB "\n"));
}

static void
test_err_no_key(void **state)
{
	(void)state;
	expect_one_err("user alice\n\ttotp required\n" "user bob\n\tkey " BOB
	    "\n", 1, "user alice has no key or keys-file");
	expect_one_err("user bob\n\tkey " BOB "\nuser alice\n", 3,
	    "user alice has no key or keys-file");
	/* A key that failed is reported once, not also as "no key". */
	expect_one_err("user alice\n\tkey ssh-ed25519 AAAA\n", 2,
	    "key data does not match type");
}

static void
test_err_keys_file(void **state)
{
	char dir[] = "/tmp/rampart-parse-XXXXXX", path[128], text[512];
	char rsa[2048], want[256];
	struct msgs ms = { { NULL }, 0 };
	struct policy *pol = NULL;
	FILE *f;

	(void)state;
	expect_one_err("user alice\n\tkeys-file keys/alice.pub\n", 2,
	    "keys-file path must be absolute");
	expect_one_err("user alice\n\tkeys-file ~/alice.pub\n", 2,
	    "keys-file path must be absolute");
	/* Refused outright with POLICY_F_NO_FILES, even if it exists. */
	data_path("keys/alice.pub", path, sizeof(path));
	snprintf(text, sizeof(text), "user alice\n\tkeys-file %s\n", path);
	assert_int_equal(expect_err_len(text, strlen(text), POLICY_F_NO_FILES,
	    2, "keys-file is not allowed here"), 1);
	/* A missing file and a bad line are reported at both ends. */
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/keys", dir);
	snprintf(text, sizeof(text), "user alice\n\tkeys-file %s\n", path);
	assert_int_equal(policy_load_buf(NAME, text, strlen(text), 0, on_msg,
	    &ms, &pol), -1);
	assert_null(pol);
	snprintf(want, sizeof(want), "%s: cannot open", path);
	assert_msg(&ms, want, "No such file or directory");
	snprintf(want, sizeof(want), "keys-file %s could not be used", path);
	assert_msg(&ms, NAME ":2: ", want);
	msgs_free(&ms);
	key_line("rsa2048", rsa, sizeof(rsa));
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "%s\n%s\n", ALICE, rsa);
	fclose(f);
	assert_int_equal(policy_load_buf(NAME, text, strlen(text), 0, on_msg,
	    &ms, &pol), -1);
	assert_null(pol);
	snprintf(want, sizeof(want), "%s:2: ", path);
	assert_msg(&ms, want, "RSA key of 2048 bits is too weak");
	assert_msg(&ms, NAME ":2: ", "could not be used");
	msgs_free(&ms);
	/* The same key inline and in the file is a duplicate. */
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "%s\n", ALICE);
	fclose(f);
	snprintf(text, sizeof(text), "user alice\n\tkey %s\n\tkeys-file %s\n",
	    ALICE, path);
	assert_int_equal(policy_load_buf(NAME, text, strlen(text), 0, on_msg,
	    &ms, &pol), -1);
	snprintf(want, sizeof(want), "%s:1: ", path);
	assert_msg(&ms, want, "duplicate key for user alice (already at "
	    NAME ":2)");
	msgs_free(&ms);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void
test_err_words(void **state)
{
	char text[2048];
	size_t i, o;

	(void)state;
	o = (size_t)snprintf(text, sizeof(text), "deny");
	for (i = 0; i < 256; i++) {
		o += (size_t)snprintf(text + o, sizeof(text) - o, " x");
	}
	snprintf(text + o, sizeof(text) - o, "\n" USER_ALICE);
	expect_one_err(text, 1, "more than 256 words on one line");
	expect_one_err("group\n", 1, "wrong number of values; usage: group "
	    "NAME");
	expect_one_err(USER_ALICE "\ttotp\n", 3, "wrong number of values; "
	    "usage: totp required|none");
	expect_one_err("lift-default-deny\n" USER_ALICE, 1,
	    "usage: lift-default-deny CIDR");
	expect_one_err("max-connections 1 2\n" USER_ALICE, 1,
	    "usage: max-connections N");
	expect_one_err(USER_ALICE "\tkeys-file /a /b\n", 3,
	    "usage: keys-file /PATH");
	expect_one_err(USER_ALICE "\tfrom\n", 3, "usage: from CIDR...");
	expect_one_err(USER_ALICE "\tmember\n", 3, "usage: member GROUP...");
	expect_one_err("deny\n" USER_ALICE, 1, "usage: deny DEST... "
	    "[port PORTS]");
}

static void
test_bad_header_skips_block(void **state)
{
	(void)state;
	/* Lines under a refused header are not reported again... */
	expect_one_err("user Alice\n\tkey ssh-foo x\n\ttotp maybe\n"
	    "\tallow 10.0.0.0/8 port 0\n" USER_ALICE, 1,
	    "\"Alice\" is not a valid user name");
	expect_one_err("group Eng\n\tallow 10.0.0.0/8 port 0\n" USER_ALICE, 1,
	    "\"Eng\" is not a valid group name");
	/* ...and never attached to the block before it. */
	expect_one_err(USER_ALICE "user Bob\n\ttotp none\n", 3,
	    "\"Bob\" is not a valid user name");
}

static void
test_multiple_errors(void **state)
{
	struct msgs ms = { { NULL }, 0 };
	struct policy *pol = (struct policy *)&ms;
	const char *text =
	    "frob\n"					/* 1 */
	    "allow 10.0.0.0/8 port 0\n"			/* 2 */
	    "user alice\n"				/* 3 */
	    "\tkey " ALICE "\n"				/* 4 */
	    "\tmember ghosts\n"				/* 5 */
	    "\ttotp none\n"				/* 6 */
	    "\texpires 2027-02-29\n"			/* 7 */
	    "user bob\n"				/* 8 */
	    "key " BOB "\n"				/* 9 */
	    "group eng\n"				/* 10 */
	    "\tallow 10.0.0.1/8 port 22\n"		/* 11 */
	    "group eng\n";				/* 12 */

	(void)state;
	assert_int_equal(policy_load_buf(NAME, text, strlen(text), 0, on_msg,
	    &ms, &pol), -1);
	assert_null(pol);
	assert_msg(&ms, NAME ":1: ", "unknown keyword \"frob\"");
	assert_msg(&ms, NAME ":2: ", "port 0 is out of range");
	assert_msg(&ms, NAME ":5: ", "unknown group \"ghosts\"");
	assert_msg(&ms, NAME ":6: ", "totp none for user alice requires");
	assert_msg(&ms, NAME ":7: ", "is not a valid date");
	assert_msg(&ms, NAME ":8: ", "user bob has no key or keys-file");
	assert_msg(&ms, NAME ":9: ", "'key' belongs inside a user block");
	assert_msg(&ms, NAME ":11: ", "has host bits set");
	assert_msg(&ms, NAME ":12: ", "duplicate group eng");
	assert_int_equal(ms.n, 9);
	msgs_free(&ms);
}

static void
test_no_callback(void **state)
{
	struct policy *pol = (struct policy *)&pol;

	(void)state;
	/* A fuzzer passes no callback: errors still reject the file. */
	assert_int_equal(policy_load_buf(NAME, "frob\n", 5, 0, NULL, NULL,
	    &pol), -1);
	assert_null(pol);
	assert_int_equal(policy_load_buf(NAME, USER_ALICE, strlen(USER_ALICE),
	    0, NULL, NULL, &pol), 0);
	assert_non_null(pol);
	policy_free(pol);
	policy_free(NULL);
}

static void
test_empty_policy(void **state)
{
	struct policy *pol;

	(void)state;
	/* Nothing is allowed, but an empty file is a valid policy. */
	pol = load_ok("");
	assert_null(policy_user_find(pol, "alice"));
	policy_free(pol);
	pol = load_ok("# nothing yet\n\n");
	policy_free(pol);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_policy),
		cmocka_unit_test(test_keys_file_absolute),
		cmocka_unit_test(test_syntax_accepted),
		cmocka_unit_test(test_streaming_parser),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_err_unknown_keyword),
		cmocka_unit_test(test_err_placement),
		cmocka_unit_test(test_err_duplicates),
		cmocka_unit_test(test_err_unknown_group),
		cmocka_unit_test(test_err_cidr),
		cmocka_unit_test(test_err_ports),
		cmocka_unit_test(test_err_rules),
		cmocka_unit_test(test_err_lift),
		cmocka_unit_test(test_err_line_hygiene),
		cmocka_unit_test(test_err_utf8),
		cmocka_unit_test(test_err_names),
		cmocka_unit_test(test_err_keys),
		cmocka_unit_test(test_err_dates),
		cmocka_unit_test(test_err_limits),
		cmocka_unit_test(test_err_totp),
		cmocka_unit_test(test_err_knock),
		cmocka_unit_test(test_err_no_key),
		cmocka_unit_test(test_err_keys_file),
		cmocka_unit_test(test_err_words),
		cmocka_unit_test(test_bad_header_skips_block),
		cmocka_unit_test(test_multiple_errors),
		cmocka_unit_test(test_no_callback),
		cmocka_unit_test(test_empty_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
