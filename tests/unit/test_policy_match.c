/*
 * test_policy_match: the questions a loaded policy answers.  Deny wins
 * wherever it is written, the first allow in file order is the deciding
 * rule, decisions are made on addresses (mapped IPv6 included), a name is
 * allowed only if every address it resolved to is, and the built-in deny
 * list holds unless a lift names a part of it.
 */
#include <sys/socket.h>
#include <arpa/inet.h>

#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

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

/* 2023-11-14, before every expiry below. */
#define NOW	((time_t)1700000000)

/* The policy most tests ask; line numbers matter. */
static const char policy_text[] =
    "deny 10.99.0.0/16\n"				/* 1 */
    "deny *.blocked.example port 22\n"			/* 2 */
    "allow 192.0.2.10 port 22\n"			/* 3 */
    "\n"						/* 4 */
    "group eng\n"					/* 5 */
    "\tallow 10.0.0.0/8 port 22\n"			/* 6 */
    "\tallow 2001:db8::/32 port 22,443\n"		/* 7 */
    "\tallow *.internal.example port 22,443,8000-8999\n"	/* 8 */
    "\tdeny 10.66.0.0/16\n"				/* 9 */
    "\n"						/* 10 */
    "group ops\n"					/* 11 */
    "\tallow 10.0.0.0/8 port any\n"			/* 12 */
    "\tdeny 10.7.0.0/16\n"				/* 13 */
    "\n"						/* 14 */
    "user alice\n"					/* 15 */
    "\tkey " ALICE "\n"					/* 16 */
    "\tmember eng\n"					/* 17 */
    "\tallow 10.66.1.1 port 22\n"			/* 18 */
    "\tdeny 10.5.0.0/16\n"				/* 19 */
    "\tallow 10.99.1.1 port 22\n"			/* 20 */
    "\tallow 1.2.3.4 port 1,65535\n"			/* 21 */
    "\tallow 169.254.169.254 port 80\n"			/* 22 */
    "\tallow * port 2222\n"				/* 23 */
    "\texpires 2027-06-30\n"				/* 24 */
    "\n"						/* 25 */
    "user bob\n"					/* 26 */
    "\tkey " BOB "\n"					/* 27 */
    "\tmember eng ops\n"				/* 28 */
    "\tfrom 198.51.100.0/24 2001:db8:100::/48\n"	/* 29 */
    "\ttotp none\n"					/* 30 */
    "\n"						/* 31 */
    "user carol\n"					/* 32 */
    "\tkey " CI "\n";					/* 33 */

static void
on_msg(void *ctx, const char *msg)
{
	(void)ctx;
	print_error("  message: %s\n", msg);
}

static struct policy *
load_named(const char *name, const char *text)
{
	struct policy *pol = NULL;

	if (policy_load_buf(name, text, strlen(text), 0, on_msg, NULL,
	    &pol) != 0) {
		fail_msg("policy did not load:\n%s", text);
	}
	return pol;
}

static int
group_setup(void **state)
{
	struct policy *pol = NULL;

	if (policy_load_buf("m.conf", policy_text, strlen(policy_text), 0,
	    on_msg, NULL, &pol) != 0) {
		return -1;
	}
	*state = pol;
	return 0;
}

static int
group_teardown(void **state)
{
	policy_free(*state);
	return 0;
}

/*
 * Addresses from "a,b,c".  "raw:" before an IPv6 address keeps it as the
 * resolver would hand it over, without normalising a mapped address.
 */
static size_t
parse_addrs(const char *list, struct addr *out, size_t max)
{
	char buf[4096], *s, *tok, *save = NULL;
	size_t n = 0;

	if (list == NULL) {
		return 0;
	}
	snprintf(buf, sizeof(buf), "%s", list);
	for (s = buf; (tok = strtok_r(s, ",", &save)) != NULL; s = NULL) {
		assert_true(n < max);
		if (strncmp(tok, "raw:", 4) == 0) {
			memset(&out[n], 0, sizeof(out[n]));
			out[n].af = AF_INET6;
			assert_int_equal(inet_pton(AF_INET6, tok + 4,
			    out[n].a), 1);
		} else if (addr_parse(tok, &out[n]) != 0) {
			fail_msg("bad test address %s", tok);
		}
		n++;
	}
	return n;
}

static int
decide_at(const struct policy *pol, const char *user, const char *host,
    const char *addrs, unsigned int port, time_t now,
    struct policy_decision *d)
{
	struct addr a[64];
	size_t n;

	n = parse_addrs(addrs, a, 64);
	return policy_decide(pol, user, host, a, n, port, now, d);
}

static void
decide(const struct policy *pol, const char *user, const char *host,
    const char *addrs, unsigned int port, struct policy_decision *d)
{
	assert_int_equal(decide_at(pol, user, host, addrs, port, NOW, d), 0);
}

static void
assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL) {
		fail_msg("\"%s\" does not contain \"%s\"", hay, needle);
	}
}

static void
allowed(const struct policy *pol, const char *user, const char *host,
    const char *addrs, unsigned int port, const char *rule)
{
	struct policy_decision d;

	decide(pol, user, host, addrs, port, &d);
	if (!d.allowed) {
		fail_msg("%s -> %s:%u denied (%s), wanted allowed by %s",
		    user, host, port, d.reason, rule);
	}
	assert_string_equal(d.rule, rule);
}

static void
denied(const struct policy *pol, const char *user, const char *host,
    const char *addrs, unsigned int port, const char *rule,
    const char *reason)
{
	struct policy_decision d;

	decide(pol, user, host, addrs, port, &d);
	if (d.allowed) {
		fail_msg("%s -> %s:%u allowed (%s), wanted denied", user,
		    host, port, d.reason);
	}
	assert_string_equal(d.rule, rule);
	assert_contains(d.reason, reason);
}

static void
test_global_rules(void **state)
{
	const struct policy *pol = *state;
	struct policy_decision d;

	allowed(pol, "carol", "192.0.2.10", NULL, 22, "m.conf:3");
	decide(pol, "carol", "192.0.2.10", NULL, 22, &d);
	assert_string_equal(d.reason,
	    "allowed by m.conf:3 (allow 192.0.2.10/32 port 22)");
	assert_int_equal(d.naddrs, 1);
	assert_true(d.addr[0].allowed);
	denied(pol, "carol", "192.0.2.10", NULL, 23, "", "no rule matches");
	denied(pol, "carol", "192.0.2.11", NULL, 22, "", "no rule matches");
	/* Global rules apply to users in groups too. */
	allowed(pol, "alice", "192.0.2.10", NULL, 22, "m.conf:3");
	allowed(pol, "bob", "192.0.2.10", NULL, 22, "m.conf:3");
}

static void
test_group_and_user_rules(void **state)
{
	const struct policy *pol = *state;

	/* Group rules apply to members only. */
	allowed(pol, "alice", "10.1.2.3", NULL, 22, "m.conf:6");
	denied(pol, "carol", "10.1.2.3", NULL, 22, "", "no rule matches");
	denied(pol, "alice", "10.1.2.3", NULL, 23, "", "no rule matches");
	allowed(pol, "bob", "10.1.2.3", NULL, 23, "m.conf:12");
	/* User rules apply to their user only. */
	allowed(pol, "alice", "1.2.3.4", NULL, 1, "m.conf:21");
	denied(pol, "bob", "1.2.3.4", NULL, 1, "", "no rule matches");
	denied(pol, "carol", "1.2.3.4", NULL, 1, "", "no rule matches");
	/* A group's deny does not reach users outside it. */
	allowed(pol, "alice", "10.7.0.1", NULL, 22, "m.conf:6");
	denied(pol, "bob", "10.7.0.1", NULL, 22, "m.conf:13",
	    "denied by m.conf:13 (deny 10.7.0.0/16 port any)");
}

static void
test_deny_wins(void **state)
{
	const struct policy *pol = *state;

	/* A global deny beats a user allow written later. */
	denied(pol, "alice", "10.99.1.1", NULL, 22, "m.conf:1",
	    "denied by m.conf:1 (deny 10.99.0.0/16 port any)");
	/* A group deny beats a user allow. */
	denied(pol, "alice", "10.66.1.1", NULL, 22, "m.conf:9",
	    "denied by m.conf:9 (deny 10.66.0.0/16 port any)");
	/* A user deny beats a group allow written earlier. */
	denied(pol, "alice", "10.5.0.1", NULL, 22, "m.conf:19",
	    "denied by m.conf:19 (deny 10.5.0.0/16 port any)");
	/* A group deny beats another group's allow. */
	denied(pol, "bob", "10.66.0.9", NULL, 23, "m.conf:9", "denied by");
	/* A deny with ports denies only those ports. */
	allowed(pol, "alice", "x.blocked.example", "10.1.2.3", 2222,
	    "m.conf:23");
	denied(pol, "alice", "x.blocked.example", "10.1.2.3", 22, "m.conf:2",
	    "denied by m.conf:2 (deny *.blocked.example port 22)");
}

static void
test_first_allow_in_file_order(void **state)
{
	const struct policy *pol = *state;
	struct policy *p2;

	/* Lines 6 and 12 both allow bob 10.1.2.3:22; 6 comes first. */
	allowed(pol, "bob", "10.1.2.3", NULL, 22, "m.conf:6");
	/* File order, not scope: a user rule before a global one wins. */
	p2 = load_named("o.conf",
	    "user u\n"
	    "\tkey " ALICE "\n"
	    "\tallow 10.0.0.0/8 port 22\n"
	    "allow 10.1.0.0/16 port 22\n"
	    "allow 10.0.0.0/8 port any\n");
	allowed(p2, "u", "10.1.2.3", NULL, 22, "o.conf:3");
	allowed(p2, "u", "10.1.2.3", NULL, 80, "o.conf:5");
	policy_free(p2);
	p2 = load_named("o.conf",
	    "allow 10.1.0.0/16 port 22\n"
	    "user u\n"
	    "\tkey " ALICE "\n"
	    "\tallow 10.0.0.0/8 port 22\n");
	allowed(p2, "u", "10.1.2.3", NULL, 22, "o.conf:1");
	allowed(p2, "u", "10.2.2.3", NULL, 22, "o.conf:4");
	policy_free(p2);
}

static void
test_ipv6(void **state)
{
	const struct policy *pol = *state;

	allowed(pol, "alice", "2001:db8::1", NULL, 443, "m.conf:7");
	allowed(pol, "alice", "2001:DB8:0:0::1", NULL, 22, "m.conf:7");
	allowed(pol, "alice", "2001:db8:ffff::1", NULL, 22, "m.conf:7");
	denied(pol, "alice", "2001:db8::1", NULL, 80, "", "no rule matches");
	denied(pol, "alice", "2001:db9::1", NULL, 22, "", "no rule matches");
	/* IPv4 rules never match IPv6 addresses. */
	denied(pol, "alice", "::a01:203", NULL, 22, "", "no rule matches");
	denied(pol, "alice", "fe80::1", NULL, 22, "built-in",
	    "denied by the built-in deny list (fe80::/10)");
}

static void
test_mapped_literal(void **state)
{
	const struct policy *pol = *state;
	struct policy_decision d;

	denied(pol, "alice", "::ffff:10.99.0.1", NULL, 22, "m.conf:1",
	    "denied by m.conf:1");
	denied(pol, "alice", "::ffff:169.254.169.254", NULL, 80, "built-in",
	    "denied by the built-in deny list (169.254.0.0/16)");
	denied(pol, "alice", "::FFFF:a9fe:a9fe", NULL, 80, "built-in",
	    "(169.254.0.0/16)");
	denied(pol, "alice", "::ffff:127.0.0.1", NULL, 22, "built-in",
	    "(127.0.0.0/8)");
	/* Mapped addresses are allowed by IPv4 rules as well. */
	allowed(pol, "alice", "::ffff:10.1.2.3", NULL, 22, "m.conf:6");
	decide(pol, "alice", "::ffff:10.1.2.3", NULL, 22, &d);
	assert_int_equal(d.addr[0].addr.af, AF_INET);
}

static void
test_mapped_resolved(void **state)
{
	const struct policy *pol = *state;
	struct policy_decision d;

	/* A name that resolves to a mapped address of a denied one. */
	denied(pol, "alice", "meta.internal.example",
	    "raw:::ffff:169.254.169.254", 22, "built-in",
	    "denied by the built-in deny list (169.254.0.0/16)");
	denied(pol, "alice", "db.internal.example", "raw:::ffff:10.99.0.1",
	    22, "m.conf:1", "denied by m.conf:1");
	denied(pol, "alice", "db.internal.example", "raw:::ffff:10.66.0.1",
	    22, "m.conf:9", "denied by m.conf:9");
	decide(pol, "alice", "db.internal.example", "raw:::ffff:10.1.2.3",
	    22, &d);
	assert_true(d.allowed);
	assert_int_equal(d.addr[0].addr.af, AF_INET);
}

static void
test_ports(void **state)
{
	const struct policy *pol = *state;
	struct policy_decision d;

	allowed(pol, "alice", "1.2.3.4", NULL, 1, "m.conf:21");
	allowed(pol, "alice", "1.2.3.4", NULL, 65535, "m.conf:21");
	denied(pol, "alice", "1.2.3.4", NULL, 2, "", "no rule matches");
	denied(pol, "alice", "1.2.3.4", NULL, 65534, "", "no rule matches");
	/* Lists and ranges. */
	allowed(pol, "alice", "a.internal.example", "203.0.113.5", 22,
	    "m.conf:8");
	allowed(pol, "alice", "a.internal.example", "203.0.113.5", 443,
	    "m.conf:8");
	allowed(pol, "alice", "a.internal.example", "203.0.113.5", 8000,
	    "m.conf:8");
	allowed(pol, "alice", "a.internal.example", "203.0.113.5", 8999,
	    "m.conf:8");
	denied(pol, "alice", "a.internal.example", "203.0.113.5", 7999, "",
	    "no rule matches");
	denied(pol, "alice", "a.internal.example", "203.0.113.5", 9000, "",
	    "no rule matches");
	denied(pol, "alice", "a.internal.example", "203.0.113.5", 444, "",
	    "no rule matches");
	/* Ports outside 1..65535 are a caller error. */
	assert_int_equal(decide_at(pol, "alice", "1.2.3.4", NULL, 0, NOW,
	    &d), -1);
	assert_false(d.allowed);
	assert_string_equal(d.reason, "port 0 is not valid");
	assert_int_equal(decide_at(pol, "alice", "1.2.3.4", NULL, 65536, NOW,
	    &d), -1);
	assert_false(d.allowed);
	assert_string_equal(d.reason, "port 65536 is not valid");
}

static void
test_globs(void **state)
{
	const struct policy *pol = *state;

	allowed(pol, "alice", "x.y.internal.example", "203.0.113.5", 443,
	    "m.conf:8");
	denied(pol, "alice", "internal.example", "203.0.113.5", 443, "",
	    "no rule matches");
	denied(pol, "alice", "a.internal.example.evil.com", "203.0.113.5",
	    443, "", "no rule matches");
	denied(pol, "alice", "a.internal.examplex", "203.0.113.5", 443, "",
	    "no rule matches");
	/* Name rules are for group members only, like any other rule. */
	denied(pol, "carol", "a.internal.example", "203.0.113.5", 443, "",
	    "no rule matches");
	/* The bare "*" matches every name. */
	allowed(pol, "alice", "anything.example", "203.0.113.5", 2222,
	    "m.conf:23");
}

static void
test_names_never_match_literals(void **state)
{
	const struct policy *pol = *state;

	/* "allow * port 2222" is about names: a literal is not one. */
	denied(pol, "alice", "203.0.113.5", NULL, 2222, "",
	    "no rule matches");
	denied(pol, "alice", "2001:db8:1::5", NULL, 2222, "",
	    "no rule matches");
	/* Nor does a name deny catch the literal address. */
	allowed(pol, "alice", "10.1.2.3", NULL, 22, "m.conf:6");
	/* A literal is decided on itself, whatever addresses came along. */
	allowed(pol, "alice", "10.1.2.3", "127.0.0.1", 22, "m.conf:6");
	denied(pol, "alice", "127.0.0.1", "10.1.2.3", 22, "built-in",
	    "(127.0.0.0/8)");
}

static void
test_name_spelling(void **state)
{
	const struct policy *pol = *state;

	denied(pol, "alice", "X.BLOCKED.EXAMPLE.", "10.1.2.3", 22,
	    "m.conf:2", "denied by m.conf:2");
	denied(pol, "alice", "x.Blocked.Example", "10.1.2.3", 22, "m.conf:2",
	    "denied by m.conf:2");
	denied(pol, "alice", "x.blocked.example.", "10.1.2.3", 22,
	    "m.conf:2", "denied by m.conf:2");
	allowed(pol, "alice", "A.Internal.Example.", "203.0.113.5", 443,
	    "m.conf:8");
	allowed(pol, "alice", "A.INTERNAL.EXAMPLE", "203.0.113.5", 443,
	    "m.conf:8");
}

static void
test_longest_name(void **state)
{
	const struct policy *pol = *state;
	char name[300];

	/* 63.63.63.44 + ".internal.example": 253, the most DNS allows. */
	memset(name, 'a', 236);
	name[63] = name[127] = name[191] = '.';
	strcpy(name + 236, ".internal.example");
	assert_int_equal(strlen(name), 253);
	allowed(pol, "alice", name, "203.0.113.5", 443, "m.conf:8");
	strcat(name, ".");
	allowed(pol, "alice", name, "203.0.113.5", 443, "m.conf:8");
	name[0] = 'A';
	allowed(pol, "alice", name, "203.0.113.5", 443, "m.conf:8");
	/* One more is not a host name. */
	memmove(name + 1, name, strlen(name) + 1);
	denied(pol, "alice", name, "203.0.113.5", 443, "",
	    "host name longer than 253 characters");
}

static void
test_every_address(void **state)
{
	const struct policy *pol = *state;
	struct policy_decision d;

	allowed(pol, "alice", "db.internal.example", "10.1.1.1,10.1.1.2", 22,
	    "m.conf:6");
	decide(pol, "alice", "db.internal.example", "10.1.1.1,10.99.0.1", 22,
	    &d);
	assert_false(d.allowed);
	assert_string_equal(d.rule, "m.conf:1");
	assert_string_equal(d.reason, "db.internal.example resolves to "
	    "10.99.0.1, denied by m.conf:1 (deny 10.99.0.0/16 port any)");
	assert_int_equal(d.naddrs, 2);
	assert_true(d.addr[0].allowed);
	assert_string_equal(d.addr[0].rule, "m.conf:6");
	assert_false(d.addr[1].allowed);
	assert_string_equal(d.addr[1].rule, "m.conf:1");
	/* The bad address may come first. */
	denied(pol, "alice", "db.internal.example", "10.99.0.1,10.1.1.1", 22,
	    "m.conf:1", "db.internal.example resolves to 10.99.0.1, denied");
	denied(pol, "alice", "DB.Internal.Example.", "10.1.1.1,127.0.0.1",
	    22, "built-in", "db.internal.example resolves to 127.0.0.1, "
	    "denied by the built-in deny list (127.0.0.0/8)");
	denied(pol, "alice", "db.internal.example",
	    "10.1.1.1,2001:db8::5,::1", 22, "built-in",
	    "db.internal.example resolves to ::1, denied by the built-in");
	denied(pol, "alice", "db.internal.example", "10.1.1.1,10.5.3.3",
	    22, "m.conf:19", "resolves to 10.5.3.3, denied by m.conf:19");
	/* A name rule allows what it resolves to, but not a denied part. */
	denied(pol, "alice", "x.internal.example", "203.0.113.5,10.66.0.1",
	    443, "m.conf:9", "resolves to 10.66.0.1");
}

static void
test_resolution_limits(void **state)
{
	const struct policy *pol = *state;
	struct policy_decision d;
	char list[1024];
	size_t i, o = 0;

	denied(pol, "alice", "db.internal.example", NULL, 22, "",
	    "db.internal.example did not resolve to any address");
	for (i = 0; i < POLICY_MAX_ADDRS; i++) {
		o += (size_t)snprintf(list + o, sizeof(list) - o,
		    "%s10.1.0.%zu", i ? "," : "", i + 1);
	}
	allowed(pol, "alice", "db.internal.example", list, 22, "m.conf:6");
	decide(pol, "alice", "db.internal.example", list, 22, &d);
	assert_int_equal(d.naddrs, POLICY_MAX_ADDRS);
	snprintf(list + o, sizeof(list) - o, ",10.1.1.1");
	denied(pol, "alice", "db.internal.example", list, 22, "",
	    "db.internal.example resolved to too many addresses");
}

static void
test_invalid_names(void **state)
{
	const struct policy *pol = *state;
	struct policy_decision d;

	denied(pol, "alice", "10.1", "10.0.0.1", 22, "",
	    "invalid host name \"10.1\": looks like an address");
	denied(pol, "alice", "0x7f.1", "127.0.0.1", 22, "",
	    "invalid host name \"0x7f.1\"");
	denied(pol, "alice", "2130706433", "127.0.0.1", 22, "",
	    "looks like an address");
	denied(pol, "alice", "a..internal.example", "10.1.1.1", 22, "",
	    "empty label");
	denied(pol, "alice", "fe80::1%eth0", "10.1.1.1", 22, "",
	    "invalid host name");
	/* The requested text is escaped in the reason. */
	decide(pol, "alice", "evil\x1b[2J.example", "10.1.1.1", 22, &d);
	assert_false(d.allowed);
	assert_contains(d.reason, "\"evil\\x1b[2J.example\"");
	assert_null(strchr(d.reason, '\x1b'));
}

static void
test_builtin_deny_list(void **state)
{
	/* Each built-in entry, an address inside it, and one just outside. */
	static const struct {
		const char	*entry, *inside, *outside;
	} list[] = {
		{ "0.0.0.0/8", "0.0.0.0", "1.0.0.0" },
		{ "0.0.0.0/8", "0.255.255.255", "1.0.0.1" },
		{ "127.0.0.0/8", "127.0.0.1", "128.0.0.1" },
		{ "127.0.0.0/8", "127.255.255.254", "126.255.255.255" },
		{ "169.254.0.0/16", "169.254.169.254", "169.255.0.1" },
		{ "169.254.0.0/16", "169.254.0.1", "169.253.255.255" },
		{ "::/128", "::", "::2" },
		{ "::1/128", "::1", "::3" },
		{ "fe80::/10", "fe80::1", "fec0::1" },
		{ "fe80::/10", "febf:ffff::1", "fe7f::1" },
		{ "fd00:ec2::254/128", "fd00:ec2::254", "fd00:ec2::253" },
	};
	struct policy *pol;
	char reason[128];
	size_t i;

	(void)state;
	pol = load_named("d.conf", "allow 0.0.0.0/0 ::/0 port any\n"
	    "user u\n\tkey " ALICE "\n");
	for (i = 0; i < sizeof(list) / sizeof(list[0]); i++) {
		snprintf(reason, sizeof(reason), "denied by the built-in deny "
		    "list (%s)", list[i].entry);
		denied(pol, "u", list[i].inside, NULL, 443, "built-in",
		    reason);
		allowed(pol, "u", list[i].outside, NULL, 443, "d.conf:1");
		/* The same through a name. */
		denied(pol, "u", "svc.example", list[i].inside, 443,
		    "built-in", reason);
	}
	policy_free(pol);
}

static void
test_lift(void **state)
{
	struct policy *pol;

	(void)state;
	pol = load_named("l.conf",
	    "lift-default-deny 169.254.169.254\n"		/* 1 */
	    "lift-default-deny fd00:ec2::254\n"			/* 2 */
	    "lift-default-deny 127.0.0.0/8\n"			/* 3 */
	    "allow 0.0.0.0/0 ::/0 port any\n"			/* 4 */
	    "deny 127.0.0.2\n"					/* 5 */
	    "user u\n\tkey " ALICE "\n");
	allowed(pol, "u", "169.254.169.254", NULL, 80, "l.conf:4");
	allowed(pol, "u", "::ffff:169.254.169.254", NULL, 80, "l.conf:4");
	allowed(pol, "u", "fd00:ec2::254", NULL, 80, "l.conf:4");
	allowed(pol, "u", "127.0.0.1", NULL, 80, "l.conf:4");
	/* Only what is named is lifted. */
	denied(pol, "u", "169.254.169.253", NULL, 80, "built-in",
	    "(169.254.0.0/16)");
	denied(pol, "u", "::1", NULL, 80, "built-in", "(::1/128)");
	denied(pol, "u", "fe80::1", NULL, 80, "built-in", "(fe80::/10)");
	/* An explicit deny still wins over a lift. */
	denied(pol, "u", "127.0.0.2", NULL, 80, "l.conf:5",
	    "denied by l.conf:5");
	policy_free(pol);
	/* A lift only removes the built-in deny; it allows nothing. */
	pol = load_named("l.conf", "lift-default-deny 127.0.0.0/8\n"
	    "user u\n\tkey " ALICE "\n");
	denied(pol, "u", "127.0.0.1", NULL, 80, "", "no rule matches");
	policy_free(pol);
}

static void
test_expiry(void **state)
{
	const struct policy *pol = *state;
	const struct policy_user *u;
	struct policy_decision d;
	struct policy *p2;

	assert_non_null(u = policy_user_find(pol, "alice"));
	/* "expires 2027-06-30": usable all that day, UTC. */
	assert_false(policy_user_expired(u, NOW));
	assert_false(policy_user_expired(u, 1814399999));
	assert_true(policy_user_expired(u, 1814400000));
	assert_true(policy_user_expired(u, 1814400001));
	assert_int_equal(decide_at(pol, "alice", "10.1.2.3", NULL, 22,
	    1814399999, &d), 0);
	assert_true(d.allowed);
	assert_int_equal(decide_at(pol, "alice", "10.1.2.3", NULL, 22,
	    1814400000, &d), 0);
	assert_false(d.allowed);
	assert_string_equal(d.reason, "account expired (2027-06-30)");
	assert_string_equal(d.rule, "");
	/* Without expires, never. */
	assert_non_null(u = policy_user_find(pol, "bob"));
	assert_false(policy_user_expired(u, (time_t)LLONG_MAX));
	/* The exact-second form. */
	p2 = load_named("e.conf", "user u\n\tkey " ALICE "\n"
	    "\texpires 2030-01-01T12:00:00Z\n");
	assert_non_null(u = policy_user_find(p2, "u"));
	assert_false(policy_user_expired(u, 1893499199));
	assert_true(policy_user_expired(u, 1893499200));
	policy_free(p2);
	/* An expiry at the epoch itself is in the past, not "never". */
	p2 = load_named("e.conf", "allow 10.0.0.0/8 port 22\n"
	    "user u\n\tkey " ALICE "\n\texpires 1970-01-01T00:00:00Z\n");
	assert_non_null(u = policy_user_find(p2, "u"));
	assert_true(policy_user_expired(u, NOW));
	assert_int_equal(decide_at(p2, "u", "10.1.2.3", NULL, 22, NOW, &d),
	    0);
	assert_false(d.allowed);
	assert_string_equal(d.reason,
	    "account expired (1970-01-01T00:00:00Z)");
	policy_free(p2);
}

static void
test_unknown_user(void **state)
{
	const struct policy *pol = *state;
	struct policy_decision d;

	assert_null(policy_user_find(pol, "mallory"));
	assert_null(policy_user_find(pol, "Alice"));
	assert_null(policy_user_find(pol, ""));
	assert_int_equal(decide_at(pol, "mallory", "192.0.2.10", NULL, 22,
	    NOW, &d), 0);
	assert_false(d.allowed);
	assert_string_equal(d.reason, "unknown user");
	assert_string_equal(d.rule, "");
	denied(pol, "Alice", "10.1.2.3", NULL, 22, "", "unknown user");
}

static int
source_ok(const struct policy *pol, const char *user, const char *src)
{
	const struct policy_user *u;
	struct addr a;

	assert_non_null(u = policy_user_find(pol, user));
	assert_int_equal(parse_addrs(src, &a, 1), 1);
	return policy_user_source_ok(u, &a);
}

static void
test_source(void **state)
{
	const struct policy *pol = *state;

	assert_true(source_ok(pol, "bob", "198.51.100.7"));
	assert_true(source_ok(pol, "bob", "198.51.100.255"));
	assert_false(source_ok(pol, "bob", "198.51.101.1"));
	assert_false(source_ok(pol, "bob", "10.0.0.1"));
	assert_true(source_ok(pol, "bob", "raw:::ffff:198.51.100.7"));
	assert_false(source_ok(pol, "bob", "raw:::ffff:198.51.101.7"));
	assert_true(source_ok(pol, "bob", "2001:db8:100::5"));
	assert_false(source_ok(pol, "bob", "2001:db8:101::5"));
	/* No "from": any source. */
	assert_true(source_ok(pol, "alice", "203.0.113.9"));
	assert_true(source_ok(pol, "alice", "2001:db8:ffff::1"));
}

static int
has_key(const struct policy *pol, const char *user, const char *b64,
    size_t cut)
{
	const struct policy_user *u;
	struct pubkey k;
	char err[256];
	int r;

	assert_non_null(u = policy_user_find(pol, user));
	if (pubkey_parse("ssh-ed25519", b64, strlen(b64), &k, err,
	    sizeof(err)) != 0) {
		fail_msg("%s", err);
	}
	r = policy_user_has_key(u, k.blob, k.bloblen - cut);
	pubkey_clear(&k);
	return r;
}

static void
test_keys(void **state)
{
	const struct policy *pol = *state;
	const struct policy_user *u;

	assert_true(has_key(pol, "alice", ALICE_B64, 0));
	assert_false(has_key(pol, "alice", BOB_B64, 0));
	assert_false(has_key(pol, "alice", CI_B64, 0));
	assert_true(has_key(pol, "bob", BOB_B64, 0));
	assert_false(has_key(pol, "bob", ALICE_B64, 0));
	/* A prefix of the right blob is not the key. */
	assert_false(has_key(pol, "alice", ALICE_B64, 1));
	assert_non_null(u = policy_user_find(pol, "alice"));
	assert_false(policy_user_has_key(u, (const uint8_t *)"", 0));
}

/* key_id of a key (SHA-256 of its blob), as a knock names it. */
static void
key_id_of(const char *type, const char *b64, uint8_t id[32], uint8_t pk[32])
{
	struct pubkey k;
	char err[256];

	if (pubkey_parse(type, b64, strlen(b64), &k, err, sizeof(err)) != 0) {
		fail_msg("%s", err);
	}
	crypto_hash_sha256(id, k.blob, k.bloblen);
	if (pk != NULL) {
		memcpy(pk, k.blob + k.bloblen - 32, 32);
	}
	pubkey_clear(&k);
}

static int
knock_key(const struct policy *pol, const char *user, const uint8_t id[32],
    const uint8_t want[32])
{
	uint8_t pk[32];
	int r;

	memset(pk, 0, sizeof(pk));
	r = policy_user_knock_key(policy_user_find(pol, user), id, pk);
	if (r == 1 && want != NULL) {
		assert_memory_equal(pk, want, 32);
	}
	return r;
}

/* The first base64 word of a key file under the test data. */
static void
file_b64(const char *name, char *path, size_t plen, char *b64, size_t blen)
{
	char line[2048], *sp;
	const char *td = getenv("RAMPART_TESTDATA");
	FILE *f;

	snprintf(line, sizeof(line), "%s/keys/%s.pub",
	    td != NULL ? td : "tests/data", name);
	if (realpath(line, path) == NULL || plen < PATH_MAX ||
	    (f = fopen(path, "r")) == NULL) {
		fail_msg("cannot open %s", line);
	}
	if (fgets(line, sizeof(line), f) == NULL) {
		fail_msg("cannot read %s", path);
	}
	fclose(f);
	assert_non_null(sp = strchr(line, ' '));
	snprintf(b64, blen, "%.*s", (int)strcspn(sp + 1, " \n"), sp + 1);
}

/*
 * A knock-key may knock and never log in; knock lookups find the
 * ssh-ed25519 keys of key, keys-file and knock-key lines by key_id, for
 * their own user only, and nothing of another type.
 */
static void
test_knock_keys(void **state)
{
	char text[8192], ci[PATH_MAX], ec[PATH_MAX], ci64[512], ec64[1024];
	uint8_t id_a[32], id_b[32], id_ci[32], id_ec[32], pk_a[32], pk_b[32];
	uint8_t pk_ci[32];
	struct policy *pol;

	(void)state;
	file_b64("ci", ci, sizeof(ci), ci64, sizeof(ci64));
	file_b64("ecdsa256", ec, sizeof(ec), ec64, sizeof(ec64));
	snprintf(text, sizeof(text),
	    "user alice\n"
	    "\tkey " ALICE "\n"
	    "\tknock-key " BOB "\n"
	    "\tkeys-file %s\n"
	    "\tkeys-file %s\n"
	    "user dave\n"
	    "\tkey " BOB "\n", ci, ec);
	pol = load_named("k.conf", text);
	assert_true(has_key(pol, "alice", ALICE_B64, 0));
	assert_false(has_key(pol, "alice", BOB_B64, 0));	/* knock only */
	assert_true(has_key(pol, "dave", BOB_B64, 0));	/* a login key there */
	key_id_of("ssh-ed25519", ALICE_B64, id_a, pk_a);
	key_id_of("ssh-ed25519", BOB_B64, id_b, pk_b);
	key_id_of("ssh-ed25519", ci64, id_ci, pk_ci);
	key_id_of("ecdsa-sha2-nistp256", ec64, id_ec, NULL);
	assert_int_equal(knock_key(pol, "alice", id_a, pk_a), 1);
	assert_int_equal(knock_key(pol, "alice", id_b, pk_b), 1);
	assert_int_equal(knock_key(pol, "alice", id_ci, pk_ci), 1);
	assert_int_equal(knock_key(pol, "alice", id_ec, NULL), 0);
	assert_int_equal(knock_key(pol, "dave", id_b, pk_b), 1);
	assert_int_equal(knock_key(pol, "dave", id_a, NULL), 0);
	id_a[31] ^= 1;
	assert_int_equal(knock_key(pol, "alice", id_a, NULL), 0);
	policy_free(pol);
}

static void
test_knock_required(void **state)
{
	const struct policy *pol = *state;
	struct policy *p2;

	assert_false(policy_user_knock_required(policy_user_find(pol,
	    "alice")));
	p2 = load_named("kr.conf",
	    "user a\n\tkey " ALICE "\n"
	    "user b\n\tkey " BOB "\n\tknock optional\n"
	    "knock required\n"
	    "user c\n\tkey " CI "\n\tknock required\n");
	assert_true(policy_user_knock_required(policy_user_find(p2, "a")));
	assert_false(policy_user_knock_required(policy_user_find(p2, "b")));
	assert_true(policy_user_knock_required(policy_user_find(p2, "c")));
	policy_free(p2);
	p2 = load_named("kr.conf",
	    "user a\n\tkey " ALICE "\n"
	    "user c\n\tkey " CI "\n\tknock required\n");
	assert_false(policy_user_knock_required(policy_user_find(p2, "a")));
	assert_true(policy_user_knock_required(policy_user_find(p2, "c")));
	policy_free(p2);
}

static void
assert_limits(const struct policy *pol, const char *user,
    unsigned long conn, unsigned long chan, unsigned long idle,
    unsigned long life)
{
	const struct policy_user *u;
	struct policy_limits l;

	assert_non_null(u = policy_user_find(pol, user));
	memset(&l, 0xa5, sizeof(l));
	policy_user_limits(u, &l);
	assert_int_equal(l.max_connections, conn);
	assert_int_equal(l.max_channels, chan);
	assert_int_equal(l.idle_timeout, idle);
	assert_int_equal(l.max_session_time, life);
}

static void
test_limits(void **state)
{
	const struct policy *pol = *state;
	struct policy *p2;

	/* Built-in defaults. */
	assert_limits(pol, "alice", 10, 32, 3600, 43200);
	assert_limits(pol, "alice", POLICY_DEF_MAX_CONNECTIONS,
	    POLICY_DEF_MAX_CHANNELS, POLICY_DEF_IDLE_TIMEOUT,
	    POLICY_DEF_MAX_SESSION_TIME);
	/* Global overrides; a user overrides those; order does not matter. */
	p2 = load_named("lim.conf",
	    "max-connections 20\n"
	    "idle-timeout 30m\n"
	    "user a\n"
	    "\tkey " ALICE "\n"
	    "\tmax-connections 4\n"
	    "\tmax-session-time 2h\n"
	    "user b\n"
	    "\tkey " BOB "\n"
	    "\tidle-timeout 1h30m\n"
	    "max-channels 16\n"
	    "user c\n"
	    "\tkey " CI "\n");
	assert_limits(p2, "a", 4, 16, 1800, 7200);
	assert_limits(p2, "b", 20, 16, 5400, 43200);
	assert_limits(p2, "c", 20, 16, 1800, 43200);
	policy_free(p2);
}

static void
test_totp(void **state)
{
	const struct policy *pol = *state;
	struct policy *p2;

	assert_true(policy_user_totp_required(policy_user_find(pol,
	    "alice")));
	assert_false(policy_user_totp_required(policy_user_find(pol, "bob")));
	assert_true(policy_user_totp_required(policy_user_find(pol,
	    "carol")));
	p2 = load_named("t.conf", "user u\n\tkey " ALICE "\n"
	    "\ttotp required\n");
	assert_true(policy_user_totp_required(policy_user_find(p2, "u")));
	policy_free(p2);
	assert_string_equal(policy_user_name(policy_user_find(pol, "bob")),
	    "bob");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_global_rules),
		cmocka_unit_test(test_group_and_user_rules),
		cmocka_unit_test(test_deny_wins),
		cmocka_unit_test(test_first_allow_in_file_order),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_mapped_literal),
		cmocka_unit_test(test_mapped_resolved),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_globs),
		cmocka_unit_test(test_names_never_match_literals),
		cmocka_unit_test(test_name_spelling),
		cmocka_unit_test(test_longest_name),
		cmocka_unit_test(test_every_address),
		cmocka_unit_test(test_resolution_limits),
		cmocka_unit_test(test_invalid_names),
		cmocka_unit_test(test_builtin_deny_list),
		cmocka_unit_test(test_lift),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_unknown_user),
		cmocka_unit_test(test_source),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_knock_keys),
		cmocka_unit_test(test_knock_required),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_totp),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
