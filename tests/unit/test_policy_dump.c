/*
 * test_policy_dump: the effective-policy dump is itself a policy.  It must
 * load again (without touching any file), answer every question the same
 * way, and dump to the same text once "# ..." comments are set aside.
 */
#include <sys/socket.h>
#include <arpa/inet.h>

#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "policy.h"
#include "pubkey.h"

#define ALICE_B64 "AAAAC3NzaC1lZDI1NTE5AAAAICgiuonoJXRft8z1xwuRuFf/WFhzd+R3" \
	"NkUOIHmgmKUs"
#define BOB_B64 "AAAAC3NzaC1lZDI1NTE5AAAAIBRNZ4JMr24XTwI8sCgfmp8703O3ju9u" \
	"Q4s3jr5tcy59"
#define CI_B64 "AAAAC3NzaC1lZDI1NTE5AAAAICgbY0PS6vY7ja0yH9+jjy6WucdNjsRC1" \
	"3JrDOHIApVL"
#define ALICE	"ssh-ed25519 " ALICE_B64 " alice@example"
#define BOB	"ssh-ed25519 " BOB_B64 " bob@example"
#define CI	"ssh-ed25519 " CI_B64 " ci@example"

#define NOW	((time_t)1700000000)

static void
on_msg(void *ctx, const char *msg)
{
	(void)ctx;
	print_error("  message: %s\n", msg);
}

static const char *
testdata(void)
{
	const char *d = getenv("RAMPART_TESTDATA");

	return d != NULL ? d : "tests/data";
}

/* A key file's first line, without its newline. */
static void
key_line(const char *name, char *out, size_t outlen)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/keys/%s.pub", testdata(), name);
	if ((f = fopen(path, "r")) == NULL || fgets(out, (int)outlen, f) ==
	    NULL) {
		fail_msg("cannot read %s", path);
	}
	fclose(f);
	out[strcspn(out, "\n")] = '\0';
}

static struct policy *
load(const char *name, const char *text, int flags)
{
	struct policy *pol = NULL;

	if (policy_load_buf(name, text, strlen(text), flags, on_msg, NULL,
	    &pol) != 0) {
		fail_msg("policy %s did not load:\n%s", name, text);
	}
	return pol;
}

static char *
dump(const struct policy *pol)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	assert_non_null(f = open_memstream(&buf, &len));
	policy_dump(pol, f);
	assert_int_equal(fclose(f), 0);
	assert_non_null(buf);
	assert_int_equal(strlen(buf), len);
	return buf;
}

/*
 * The text without comments (a word starting with '#' runs to the end of
 * the line), trailing blanks and empty lines.
 */
static char *
strip_comments(const char *in)
{
	char *out, *o;
	const char *line, *end, *cut;

	assert_non_null(out = malloc(strlen(in) + 1));
	o = out;
	for (line = in; *line != '\0'; line = *end ? end + 1 : end) {
		end = line + strcspn(line, "\n");
		for (cut = line; cut < end; cut++) {
			if (*cut == '#' && (cut == line || cut[-1] == ' ' ||
			    cut[-1] == '\t')) {
				break;
			}
		}
		while (cut > line && (cut[-1] == ' ' || cut[-1] == '\t')) {
			cut--;
		}
		if (cut == line) {
			continue;
		}
		memcpy(o, line, (size_t)(cut - line));
		o += cut - line;
		*o++ = '\n';
	}
	*o = '\0';
	return out;
}

static void
assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL) {
		fail_msg("\"%s\" does not contain \"%s\"", hay, needle);
	}
}

static void
assert_has_line(const char *text, const char *line)
{
	const char *p = text;
	size_t n = strlen(line);

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' ||
		    p[n] == '\0')) {
			return;
		}
		p++;
	}
	print_error("%s", text);
	fail_msg("no line \"%s\" in the dump above", line);
}

/*
 * Dump pol, load the dump (with files forbidden: it must be
 * self-contained), dump again and compare.  Returns the reloaded policy;
 * *text1 gets the first dump.
 */
static struct policy *
roundtrip(const struct policy *pol, char **text1)
{
	struct policy *pol2;
	char *t1, *t2, *s1, *s2;

	t1 = dump(pol);
	pol2 = load("dump.conf", t1, POLICY_F_NO_FILES);
	t2 = dump(pol2);
	s1 = strip_comments(t1);
	s2 = strip_comments(t2);
	if (strcmp(s1, s2) != 0) {
		print_error("first dump:\n%s\nsecond dump:\n%s\n", t1, t2);
		fail_msg("dumps differ");
	}
	/* Only the comments name the file; the rest is identical. */
	assert_true(strlen(s1) > 0 || strlen(t1) > 0);
	free(s1);
	free(s2);
	free(t2);
	*text1 = t1;
	return pol2;
}

struct query {
	const char	*user, *host, *addrs;
	unsigned int	 port;
	time_t		 now;
};

static size_t
parse_addrs(const char *list, struct addr *out, size_t max)
{
	char buf[1024], *s, *tok, *save = NULL;
	size_t n = 0;

	if (list == NULL) {
		return 0;
	}
	snprintf(buf, sizeof(buf), "%s", list);
	for (s = buf; (tok = strtok_r(s, ",", &save)) != NULL; s = NULL) {
		assert_true(n < max);
		if (addr_parse(tok, &out[n]) != 0) {
			fail_msg("bad test address %s", tok);
		}
		n++;
	}
	return n;
}

/* The reason without "file:line" references, which differ by design. */
static const char *
reason_text(const char *reason)
{
	const char *p = strchr(reason, '(');

	return p != NULL ? p : reason;
}

static void
assert_same_decisions(const struct policy *a, const struct policy *b,
    const struct query *q, size_t nq)
{
	struct policy_decision da, db;
	struct addr addrs[16];
	size_t i, n;

	for (i = 0; i < nq; i++) {
		n = parse_addrs(q[i].addrs, addrs, 16);
		assert_int_equal(policy_decide(a, q[i].user, q[i].host, addrs,
		    n, q[i].port, q[i].now, &da), 0);
		assert_int_equal(policy_decide(b, q[i].user, q[i].host, addrs,
		    n, q[i].port, q[i].now, &db), 0);
		if (da.allowed != db.allowed || strcmp(reason_text(da.reason),
		    reason_text(db.reason)) != 0) {
			fail_msg("%s -> %s:%u: \"%s\" vs \"%s\"", q[i].user,
			    q[i].host, q[i].port, da.reason, db.reason);
		}
	}
}

static int
holds_key(const struct policy_user *u, const char *line)
{
	char type[64], b64[4096], err[256];
	struct pubkey k;
	int r;

	assert_int_equal(sscanf(line, "%63s %4095s", type, b64), 2);
	if (pubkey_parse(type, b64, strlen(b64), &k, err, sizeof(err)) != 0) {
		fail_msg("%s", err);
	}
	r = policy_user_has_key(u, k.blob, k.bloblen);
	pubkey_clear(&k);
	return r;
}

static void
assert_same_user(const struct policy *a, const struct policy *b,
    const char *name, const char *const *keys, size_t nkeys)
{
	static const char *const srcs[] = {
		"192.0.2.1", "198.51.100.7", "198.51.101.7",
		"2001:db8:100::1", "2001:db8:101::1", "10.0.0.1",
	};
	static const time_t times[] = {
		NOW, 1814399999, 1814400000, 1893499199, 1893499200,
	};
	const struct policy_user *ua, *ub;
	struct policy_limits la, lb;
	struct addr src;
	size_t i;

	assert_non_null(ua = policy_user_find(a, name));
	assert_non_null(ub = policy_user_find(b, name));
	assert_int_equal(policy_user_totp_required(ua),
	    policy_user_totp_required(ub));
	assert_int_equal(policy_user_knock_required(ua),
	    policy_user_knock_required(ub));
	for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		assert_int_equal(policy_user_expired(ua, times[i]),
		    policy_user_expired(ub, times[i]));
	}
	for (i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
		assert_int_equal(addr_parse(srcs[i], &src), 0);
		assert_int_equal(policy_user_source_ok(ua, &src),
		    policy_user_source_ok(ub, &src));
	}
	for (i = 0; i < nkeys; i++) {
		assert_int_equal(holds_key(ua, keys[i]), holds_key(ub,
		    keys[i]));
	}
	policy_user_limits(ua, &la);
	policy_user_limits(ub, &lb);
	assert_memory_equal(&la, &lb, sizeof(la));
}

static void
test_roundtrip_rich(void **state)
{
	static const struct query q[] = {
		{ "alice", "10.1.2.3", NULL, 22, NOW },
		{ "alice", "10.1.2.3", NULL, 23, NOW },
		{ "alice", "10.66.0.1", NULL, 22, NOW },
		{ "alice", "10.5.0.1", NULL, 22, NOW },
		{ "alice", "10.5.0.1", NULL, 23, NOW },
		{ "alice", "10.99.0.1", NULL, 22, NOW },
		{ "alice", "169.254.169.254", NULL, 80, NOW },
		{ "alice", "169.254.169.253", NULL, 80, NOW },
		{ "alice", "::1", NULL, 22, NOW },
		{ "alice", "2001:db8::7", NULL, 22, NOW },
		{ "alice", "x.internal.example", "203.0.113.5", 8080, NOW },
		{ "alice", "x.internal.example", "203.0.113.5,10.66.1.1",
		    443, NOW },
		{ "alice", "X.BLOCKED.EXAMPLE.", "10.1.1.1", 22, NOW },
		{ "alice", "x.blocked.example", "10.1.1.1", 3389, NOW },
		{ "alice", "x.blocked.example", "10.1.1.1", 23, NOW },
		{ "alice", "10.200.3.4", NULL, 80, NOW },
		{ "alice", "::ffff:10.200.3.4", NULL, 80, NOW },
		{ "alice", "10.201.3.4", NULL, 80, NOW },
		{ "alice", "10.1.2.3", NULL, 22, 1814400000 },
		{ "bob", "db.example", "203.0.113.9", 1024, NOW },
		{ "bob", "db.example", "203.0.113.9", 1025, NOW },
		{ "bob", "db.example", "203.0.113.9", 65535, NOW },
		{ "bob", "2001:db8:aa::1", NULL, 80, NOW },
		{ "bob", "10.10.10.10", NULL, 1, NOW },
		{ "packer-ci", "10.1.2.3", NULL, 22, NOW },
		{ "packer-ci", "10.2.2.3", NULL, 22, NOW },
		{ "packer-ci", "10.1.2.3", NULL, 22, 1893499200 },
		{ "mallory", "10.1.2.3", NULL, 22, NOW },
	};
	char dir[] = "/tmp/rampart-dump-XXXXXX", keys[128], rsa[1024];
	char ecdsa[512], text[8192];
	const char *ukeys[5];
	struct policy *pol, *pol2;
	char *t1;
	FILE *f;

	(void)state;
	key_line("rsa3072", rsa, sizeof(rsa));
	key_line("ecdsa256", ecdsa, sizeof(ecdsa));
	assert_non_null(mkdtemp(dir));
	snprintf(keys, sizeof(keys), "%s/packer-ci", dir);
	assert_non_null(f = fopen(keys, "w"));
	fprintf(f, "# packer keys\n\n%s #3\nno-pty %s\n", CI, ecdsa);
	fclose(f);
	snprintf(text, sizeof(text),
	    "# a policy using every keyword\n"
	    "MAX-CONNECTIONS 20\n"
	    "idle-timeout 90m\n"
	    "lift-default-deny 169.254.169.254\n"
	    "lift-default-deny ::1\n"
	    "deny 10.99.0.0/16\n"
	    "deny *.Blocked.Example port 22,3389\n"
	    "allow 192.0.2.10 port 22\n"
	    "allow ::ffff:10.200.0.0/112 port 80\n"
	    "allow 10.10.10.10 2001:db8:aa::1 DB.example port 1-1024,65535\n"
	    "\n"
	    "group eng\n"
	    "\tallow 10.0.0.0/8 2001:db8::/32 port 22\n"
	    "\tallow *.internal.example port 22,443,8000-8999\n"
	    "\tdeny 10.66.0.0/16\n"
	    "group empty\n"
	    "\n"
	    "user alice\n"
	    "\tkey %s\n"
	    "\tkey %s\n"
	    "\tmember eng\n"
	    "\ttotp required\n"
	    "\tmax-connections 4\n"
	    "\texpires 2027-06-30\n"
	    "\tallow 169.254.169.254 port 80\n"
	    "\tdeny 10.5.0.0/16 port 22\n"
	    "user packer-ci\n"
	    "\tkeys-file %s\n"
	    "\ttotp none\n"
	    "\tfrom 192.0.2.0/24 ::ffff:198.51.100.0/120 2001:db8:100::/48\n"
	    "\tallow 10.1.0.0/16 port 22\n"
	    "\tmax-session-time 2h\n"
	    "\texpires 2030-01-01T12:00:00Z\n"
	    "user bob\n"
	    "\tkey %s\n"
	    "\tmember eng empty\n"
	    "\tidle-timeout 1d\n"
	    "\tknock-key %s\n"
	    "\tknock optional\n"
	    "knock required\n", ALICE, rsa, keys, BOB, CI);
	pol = load("r.conf", text, 0);
	pol2 = roundtrip(pol, &t1);

	/* The dump is normalised and explicit. */
	assert_has_line(t1, "lift-default-deny 169.254.169.254/32\t# "
	    "r.conf:4: WARNING: makes built-in denied addresses reachable");
	assert_has_line(t1, "lift-default-deny ::1/128\t# r.conf:5: WARNING: "
	    "makes built-in denied addresses reachable");
	assert_has_line(t1, "deny *.blocked.example port 22,3389\t# "
	    "r.conf:7");
	assert_has_line(t1, "allow 10.200.0.0/16 port 80\t# r.conf:9");
	assert_has_line(t1, "allow 10.10.10.10/32 2001:db8:aa::1/128 "
	    "db.example port 1-1024,65535\t# r.conf:10");
	assert_has_line(t1, "deny 10.99.0.0/16 port any\t# r.conf:6");
	assert_has_line(t1, "group empty\t# r.conf:16");
	assert_has_line(t1, "\tdeny 10.66.0.0/16 port any\t# r.conf:15");
	assert_has_line(t1, "user alice\t# r.conf:18");
	assert_has_line(t1, "\tkey " ALICE "\t# r.conf:19");
	assert_has_line(t1, "\tmember eng");
	assert_has_line(t1, "\ttotp required");
	assert_has_line(t1, "\tmax-connections 4");
	assert_has_line(t1, "\tmax-channels 32");
	assert_has_line(t1, "\tidle-timeout 1h30m");
	assert_has_line(t1, "\tmax-session-time 12h");
	assert_has_line(t1, "\texpires 2027-06-30");
	assert_has_line(t1, "\tdeny 10.5.0.0/16 port 22\t# r.conf:26");
	assert_has_line(t1, "\tfrom 192.0.2.0/24 198.51.100.0/24 "
	    "2001:db8:100::/48");
	assert_has_line(t1, "\ttotp none");
	assert_has_line(t1, "\tmax-connections 20");
	assert_has_line(t1, "\tmax-session-time 2h");
	assert_has_line(t1, "\texpires 2030-01-01T12:00:00Z");
	assert_has_line(t1, "\tmember eng empty");
	assert_has_line(t1, "\tidle-timeout 1d");
	/* knock as written at the top, and made explicit per user */
	assert_has_line(t1, "knock required");
	assert_has_line(t1, "\tknock optional");
	assert_has_line(t1, "\tknock-key " CI "\t# r.conf:38");
	assert_false(holds_key(policy_user_find(pol2, "bob"), CI));
	/* keys-file contents are expanded, with where they came from. */
	assert_null(strstr(t1, "keys-file"));
	snprintf(text, sizeof(text), "\tkey %s #3\t# %s:3", CI, keys);
	assert_has_line(t1, text);
	snprintf(text, sizeof(text), "\tkey %s\t# %s:4", ecdsa, keys);
	assert_has_line(t1, text);

	/* And it means the same. */
	assert_same_decisions(pol, pol2, q, sizeof(q) / sizeof(q[0]));
	ukeys[0] = ALICE;
	ukeys[1] = BOB;
	ukeys[2] = CI;
	ukeys[3] = rsa;
	ukeys[4] = ecdsa;
	assert_same_user(pol, pol2, "alice", ukeys, 5);
	assert_same_user(pol, pol2, "bob", ukeys, 5);
	assert_same_user(pol, pol2, "packer-ci", ukeys, 5);
	assert_null(policy_user_find(pol2, "mallory"));
	free(t1);
	policy_free(pol);
	policy_free(pol2);
	assert_int_equal(unlink(keys), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void
test_roundtrip_example(void **state)
{
	static const struct query q[] = {
		{ "alice", "10.1.2.3", NULL, 22, NOW },
		{ "alice", "169.254.169.254", NULL, 22, NOW },
		{ "alice", "db-1.internal.example.com", "10.3.3.3", 5432,
		    NOW },
		{ "alice", "web.internal.example.com", "203.0.113.1", 8443,
		    NOW },
		{ "alice", "10.1.2.3", NULL, 22, 1814400000 },
		{ "packer-ci", "10.1.2.3", NULL, 22, NOW },
		{ "packer-ci", "10.2.2.3", NULL, 22, NOW },
	};
	char dir[] = "/tmp/rampart-dump-XXXXXX", keys[128], path[PATH_MAX];
	char text[8192], out[8192];
	const char *tag = "/etc/rampart/keys/packer-ci", *at;
	const char *ukeys[] = { ALICE, CI };
	struct policy *pol, *pol2;
	char *t1;
	size_t len;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/policies/example.conf", testdata());
	assert_non_null(f = fopen(path, "r"));
	len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[len] = '\0';
	assert_non_null(mkdtemp(dir));
	snprintf(keys, sizeof(keys), "%s/packer-ci", dir);
	assert_non_null(f = fopen(keys, "w"));
	fprintf(f, "%s\n", CI);
	fclose(f);
	assert_non_null(at = strstr(text, tag));
	snprintf(out, sizeof(out), "%.*s%s%s", (int)(at - text), text, keys,
	    at + strlen(tag));
	pol = load("example.conf", out, 0);
	pol2 = roundtrip(pol, &t1);
	assert_has_line(t1, "# effective policy from example.conf");
	assert_has_line(t1, "deny 169.254.0.0/16 port any\t# example.conf:3");
	assert_has_line(t1, "\tallow db-*.internal.example.com port 5432\t# "
	    "example.conf:10");
	assert_same_decisions(pol, pol2, q, sizeof(q) / sizeof(q[0]));
	assert_same_user(pol, pol2, "alice", ukeys, 2);
	assert_same_user(pol, pol2, "packer-ci", ukeys, 2);
	free(t1);
	policy_free(pol);
	policy_free(pol2);
	assert_int_equal(unlink(keys), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void
test_roundtrip_empty(void **state)
{
	struct policy *pol, *pol2;
	char *t1;

	(void)state;
	pol = load("e.conf", "", 0);
	pol2 = roundtrip(pol, &t1);
	/* Only comments: the built-in list is shown, not applied twice. */
	assert_has_line(t1, "#\tdeny 169.254.0.0/16 port any");
	assert_has_line(t1, "#\tdeny fd00:ec2::254/128 port any");
	free(t1);
	policy_free(pol);
	policy_free(pol2);
}

static void
test_roundtrip_epoch_expiry(void **state)
{
	struct policy *pol, *pol2;
	char *t1;

	(void)state;
	pol = load("x.conf", "user u\n\tkey " ALICE "\n"
	    "\texpires 1970-01-01T00:00:00Z\n", 0);
	pol2 = roundtrip(pol, &t1);
	assert_has_line(t1, "\texpires 1970-01-01T00:00:00Z");
	assert_true(policy_user_expired(policy_user_find(pol2, "u"), NOW));
	free(t1);
	policy_free(pol);
	policy_free(pol2);
}

/* A valid host pattern of exactly n characters (n <= 253). */
static void
name_of_len(char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		buf[i] = i % 62 == 61 ? '.' : 'a';
	}
	if (buf[n - 1] == '.') {
		buf[n - 1] = 'a';
	}
	buf[n] = '\0';
}

/*
 * A rule line of exactly 4096 bytes, the longest the parser takes, must
 * still load once the dump has added its "# file:line" comment.
 */
static void
test_roundtrip_long_line(void **state)
{
	char *text, label[64], name[256];
	struct policy *pol, *pol2;
	size_t o, start, cap = 8192;
	char *t1;
	int i;

	(void)state;
	assert_non_null(text = malloc(cap));
	memset(label, 'a', 60);
	label[60] = '\0';
	o = (size_t)snprintf(text, cap, "user u\n\tkey " ALICE "\n");
	start = o;
	o += (size_t)snprintf(text + o, cap - o, "\tallow");
	for (i = 0; i < 54; i++) {
		o += (size_t)snprintf(text + o, cap - o, " h%02d.%s.example",
		    i, label);
	}
	name_of_len(name, 4096 - (o - start) - 1 - strlen(" port 22"));
	o += (size_t)snprintf(text + o, cap - o, " %s port 22", name);
	assert_int_equal(o - start, 4096);
	snprintf(text + o, cap - o, "\n");
	pol = load("long.conf", text, 0);
	pol2 = roundtrip(pol, &t1);
	free(t1);
	policy_free(pol);
	policy_free(pol2);
	free(text);
}

/* policy_decide for one address or a literal; returns d->allowed. */
static int
allowed_to(const struct policy *pol, const char *user, const char *host,
    const char *addr, unsigned int port, struct policy_decision *d)
{
	struct addr a;
	size_t n = 0;

	if (addr != NULL) {
		assert_int_equal(addr_parse(addr, &a), 0);
		n = 1;
	}
	assert_int_equal(policy_decide(pol, user, host, &a, n, port, NOW, d),
	    0);
	return d->allowed;
}

/*
 * Normalising can lengthen a line ("deny X" gains " port any", a bare
 * address gains "/32"), and several from or member lines are printed
 * together.  Whatever the dump prints must load again and mean the same.
 */
static void
test_roundtrip_growing_lines(void **state)
{
	char *text, last[256], label[64], host[256], src[64];
	const struct policy_user *u1, *u2;
	struct policy *pol, *pol2;
	struct policy_decision d;
	struct addr a;
	size_t o, start, cap = 65536;
	char *t1;
	int i, j;

	(void)state;
	assert_non_null(text = malloc(cap));
	memset(label, 'b', 60);
	label[60] = '\0';
	/* A deny of exactly 4096 bytes without a port. */
	o = (size_t)snprintf(text, cap, "deny");
	for (i = 0; i < 54; i++) {
		o += (size_t)snprintf(text + o, cap - o, " d%02d.%s.example",
		    i, label);
	}
	name_of_len(last, 4096 - o - 1);
	o += (size_t)snprintf(text + o, cap - o, " %s\n", last);
	/* An allow of 4096 bytes with bare addresses that gain "/32". */
	start = o;
	o += (size_t)snprintf(text + o, cap - o, "allow");
	for (i = 0; i < 30; i++) {
		o += (size_t)snprintf(text + o, cap - o, " 10.%d.%d.%d",
		    100 + i, 100 + i, 100 + i);
	}
	for (i = 0; i < 18; i++) {
		o += (size_t)snprintf(text + o, cap - o, " a%02d.%s.%s.%s.x",
		    i, label, label, label);
	}
	name_of_len(host, 4096 - (o - start) - 1 - strlen(" port 22"));
	host[0] = 'c';
	o += (size_t)snprintf(text + o, cap - o, " %s port 22\n", host);
	for (i = 0; i < 150; i++) {
		o += (size_t)snprintf(text + o, cap - o,
		    "group g%03d-abcdefghijklmnopqrstuvwx\n", i);
	}
	o += (size_t)snprintf(text + o, cap - o,
	    "\tallow 10.200.0.0/16 port 22\n");
	o += (size_t)snprintf(text + o, cap - o, "user u\n\tkey " ALICE "\n");
	/* Three from lines that make one long list. */
	for (j = 0; j < 3; j++) {
		o += (size_t)snprintf(text + o, cap - o, "\tfrom");
		for (i = 0; i < 80; i++) {
			o += (size_t)snprintf(text + o, cap - o,
			    " 2001:db8:%x::/48", j * 80 + i + 0x1000);
		}
		o += (size_t)snprintf(text + o, cap - o, "\n");
	}
	/* Member of 150 groups, 50 to a line. */
	for (j = 0; j < 3; j++) {
		o += (size_t)snprintf(text + o, cap - o, "\tmember");
		for (i = 0; i < 50; i++) {
			o += (size_t)snprintf(text + o, cap - o,
			    " g%03d-abcdefghijklmnopqrstuvwx", j * 50 + i);
		}
		o += (size_t)snprintf(text + o, cap - o, "\n");
	}
	assert_true(o < cap - 1);
	pol = load("grow.conf", text, 0);
	pol2 = roundtrip(pol, &t1);

	/* The same answers, at both ends of every list. */
	snprintf(host, sizeof(host), "d00.%s.example", label);
	assert_false(allowed_to(pol2, "u", host, "10.200.0.1", 22, &d));
	assert_contains(d.reason, "denied by dump.conf:");
	snprintf(host, sizeof(host), "d53.%s.example", label);
	assert_false(allowed_to(pol2, "u", host, "10.200.0.1", 22, &d));
	assert_false(allowed_to(pol2, "u", last, "10.200.0.1", 22, &d));
	assert_contains(d.reason, "denied by dump.conf:");
	assert_true(allowed_to(pol2, "u", "e.example", "10.200.0.1", 22, &d));
	assert_true(allowed_to(pol2, "u", "10.100.100.100", NULL, 22, &d));
	assert_true(allowed_to(pol2, "u", "10.129.129.129", NULL, 22, &d));
	assert_false(allowed_to(pol2, "u", "10.130.130.130", NULL, 22, &d));
	assert_true(allowed_to(pol2, "u", "10.200.9.9", NULL, 22, &d));
	assert_non_null(u1 = policy_user_find(pol, "u"));
	assert_non_null(u2 = policy_user_find(pol2, "u"));
	for (i = 0; i < 240; i++) {
		snprintf(src, sizeof(src), "2001:db8:%x::1", i + 0x1000);
		assert_int_equal(addr_parse(src, &a), 0);
		assert_true(policy_user_source_ok(u1, &a));
		assert_true(policy_user_source_ok(u2, &a));
	}
	assert_int_equal(addr_parse("2001:db8:10f0::1", &a), 0);
	assert_false(policy_user_source_ok(u2, &a));
	free(t1);
	policy_free(pol);
	policy_free(pol2);
	free(text);
}

static void
test_roundtrip_odd_file_names(void **state)
{
	char name[6000];
	struct policy *pol, *pol2;
	struct policy_decision d;
	char *t1;

	(void)state;
	/* A name with a newline must not start a line of policy. */
	pol = load("x\nallow 0.0.0.0/0 port any\x1b[2J.conf", "user u\n"
	    "\tkey " ALICE "\nlift-default-deny 127.0.0.1\n", 0);
	pol2 = roundtrip(pol, &t1);
	assert_null(strchr(t1, '\x1b'));
	assert_false(allowed_to(pol2, "u", "10.0.0.1", NULL, 22, &d));
	assert_false(allowed_to(pol2, "u", "127.0.0.1", NULL, 22, &d));
	assert_string_equal(d.reason, "no rule matches");
	free(t1);
	policy_free(pol);
	policy_free(pol2);
	/* A very long name is cut, not made into an overlong line. */
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	pol = load(name, "allow 10.0.0.0/8 port 22\nuser u\n\tkey " ALICE
	    "\n", 0);
	pol2 = roundtrip(pol, &t1);
	free(t1);
	policy_free(pol);
	policy_free(pol2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_rich),
		cmocka_unit_test(test_roundtrip_example),
		cmocka_unit_test(test_roundtrip_empty),
		cmocka_unit_test(test_roundtrip_epoch_expiry),
		cmocka_unit_test(test_roundtrip_long_line),
		cmocka_unit_test(test_roundtrip_growing_lines),
		cmocka_unit_test(test_roundtrip_odd_file_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
