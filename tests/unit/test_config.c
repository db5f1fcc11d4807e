/*
 * test_config: gateway.conf.  Every keyword with good and bad values,
 * every error as "file:line: message" (the exact text an operator reads),
 * whole-file behaviour (all errors reported, nothing applied on error),
 * and the dump (-T) loading back to the same settings.
 */
#include <sys/socket.h>
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

#include "config.h"
#include "log.h"

#define MAX_ERRS	32

struct errs {
	char		msg[MAX_ERRS][DIAG_MSG_MAX];
	unsigned int	n;
};

static void
collect(void *ctx, const char *msg)
{
	struct errs *e = ctx;

	if (e->n < MAX_ERRS)
		snprintf(e->msg[e->n], sizeof(e->msg[0]), "%s", msg);
	e->n++;
}

static void
assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL) {
		fail_msg("\"%s\" does not contain \"%s\"", hay, needle);
	}
}

/* Load text that must be accepted; returns the result in *c. */
static void
load_ok(const char *text, struct config *c)
{
	struct errs e;

	memset(&e, 0, sizeof(e));
	if (config_load_buf("t.conf", text, strlen(text), c, collect,
	    &e) != 0) {
		fail_msg("rejected \"%s\": %s", text, e.n ? e.msg[0] : "?");
	}
	assert_int_equal(e.n, 0);
}

/* Load text that must be refused with errors; *c must stay untouched. */
static void
load_bad(const char *text, struct errs *e)
{
	struct config c, before;

	memset(e, 0, sizeof(*e));
	memset(&c, 0x5a, sizeof(c));
	before = c;
	if (config_load_buf("t.conf", text, strlen(text), &c, collect,
	    e) != -1) {
		fail_msg("accepted \"%s\"", text);
	}
	assert_true(e->n > 0);
	assert_memory_equal(&c, &before, sizeof(c));
}

/* Exactly one error, with exactly this text. */
static void
bad1(const char *text, const char *want)
{
	struct errs e;

	load_bad(text, &e);
	if (e.n != 1 || strcmp(e.msg[0], want) != 0) {
		fail_msg("for \"%s\" want \"%s\", got %u error(s), first "
		    "\"%s\"", text, want, e.n, e.msg[0]);
	}
}

/* At least one error; the first names t.conf:line and contains want. */
static void
bad_at(const char *text, unsigned long line, const char *want)
{
	char prefix[32];
	struct errs e;

	load_bad(text, &e);
	snprintf(prefix, sizeof(prefix), "t.conf:%lu: ", line);
	if (strncmp(e.msg[0], prefix, strlen(prefix)) != 0) {
		fail_msg("\"%s\" does not start with \"%s\"", e.msg[0],
		    prefix);
	}
	assert_contains(e.msg[0], want);
}

static void
test_defaults(void **state)
{
	struct config c, d;

	(void)state;
	config_defaults(&c);
	assert_int_equal(c.nlisten, 0);
	assert_int_equal(c.port, 22);
	assert_int_equal(c.nhostkeys, 1);
	assert_string_equal(c.hostkeys[0],
	    "/etc/rampart/ssh_host_ed25519_key");
	assert_string_equal(c.policy, "/etc/rampart/policy.conf");
	assert_string_equal(c.totp_secrets, "/etc/rampart/totp.secrets");
	assert_string_equal(c.audit_log, "/var/log/rampart/audit.jsonl");
	assert_string_equal(c.user, "rampart");
	assert_int_equal(c.login_grace, 30);
	assert_int_equal(c.max_auth_tries, 3);
	assert_int_equal(c.startups_begin, 30);
	assert_int_equal(c.startups_rate, 30);
	assert_int_equal(c.startups_full, 100);
	assert_int_equal(c.connect_timeout, 10);
	assert_int_equal(c.penalty_authfail, 5);
	assert_int_equal(c.penalty_noauth, 2);
	assert_int_equal(c.penalty_error, 10);
	assert_int_equal(c.penalty_max, 600);
	assert_int_equal(c.penalty_table, 8192);
	assert_int_equal(c.nexempt, 0);
	assert_int_equal(c.log_level, LOG_LVL_INFO);

	/* An empty file, or only comments and blanks, is the defaults. */
	memset(&d, 0x77, sizeof(d));
	load_ok("", &d);
	assert_memory_equal(&c, &d, sizeof(c));
	memset(&d, 0x77, sizeof(d));
	load_ok("# nothing\n\n   \t\n  # indented comment\r\n", &d);
	assert_memory_equal(&c, &d, sizeof(c));

	/* A load starts from the defaults, not from what *c held. */
	load_ok("Port 2222\n", &d);
	load_ok("User gw\n", &d);
	assert_int_equal(d.port, 22);
	assert_string_equal(d.user, "gw");
}

static void
test_syntax(void **state)
{
	struct config c;

	(void)state;
	/* Keywords in any case; indentation and trailing comments. */
	load_ok("PORT 1\n", &c);
	assert_int_equal(c.port, 1);
	load_ok("port 2\n", &c);
	assert_int_equal(c.port, 2);
	load_ok("\t  pOrT   3   # the port\n", &c);
	assert_int_equal(c.port, 3);
	load_ok("Port 4\r\n#Port 5\n", &c);
	assert_int_equal(c.port, 4);
	load_ok("Port 6", &c);		/* no final newline */
	assert_int_equal(c.port, 6);

	bad1("Bogus 1\n", "t.conf:1: unknown keyword \"Bogus\"");
	bad1("\nMatch User x\n", "t.conf:2: unknown keyword \"Match\"");
	bad1("Port=22\n", "t.conf:1: unknown keyword \"Port=22\" (write "
	    "\"Keyword value\", without '=')");
	bad1("Port\n", "t.conf:1: Port: missing value; usage: Port N");
	bad1("Port # 22\n", "t.conf:1: Port: missing value; usage: Port N");
	bad1("Port 22 23\n", "t.conf:1: Port: too many values; usage: "
	    "Port N");
	/* '#' inside a word is not a comment. */
	bad1("Port 22#x\n", "t.conf:1: Port: \"22#x\" is not a port number");
	bad1("Port 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
	    "t.conf:1: more than 16 words on one line");
	/* Untrusted text in messages is escaped. */
	bad1("Port \xc3\xa9\n",
	    "t.conf:1: Port: \"\\xc3\\xa9\" is not a port number");
}

static void
test_hygiene(void **state)
{
	static const char nul[] = "Port 22\nPort\0 22\n";
	char *big;
	struct config c, before;
	struct errs e;

	(void)state;
	memset(&e, 0, sizeof(e));
	config_defaults(&c);
	before = c;
	assert_int_equal(config_load_buf("t.conf", nul, sizeof(nul) - 1, &c,
	    collect, &e), -1);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.msg[0], "t.conf:2: NUL byte at column 5");
	assert_memory_equal(&c, &before, sizeof(c));

	bad1("# ok\nPort 22\x1b[2J\n",
	    "t.conf:2: control character 0x1b at column 8");
	bad1("Port 22\nUser \xff\n", "t.conf:2: invalid UTF-8 at column 6");
	bad1("User \xc0\xaf\n", "t.conf:1: invalid UTF-8 at column 6");

	assert_non_null(big = malloc(5000));
	memset(big, ' ', 5000);
	memcpy(big, "\n\n# ", 4);
	big[4999] = '\0';
	bad1(big, "t.conf:3: line is longer than 4096 bytes");
	/* 4096 bytes exactly is fine. */
	big[2 + 4096] = '\0';
	load_ok(big, &c);
	free(big);
}

static void
listen_ok(const char *text, int af, const char *addr, unsigned int port)
{
	char ntop[ADDR_STRLEN];
	struct config c;

	load_ok(text, &c);
	assert_int_equal(c.nlisten, 1);
	assert_int_equal(c.listen[0].addr.af, af);
	addr_ntop(&c.listen[0].addr, ntop, sizeof(ntop));
	assert_string_equal(ntop, addr);
	assert_int_equal(c.listen[0].port, port);
}

static void
test_listen(void **state)
{
	char text[2048];
	struct config c;
	size_t o = 0;
	int i;

	(void)state;
	listen_ok("ListenAddress 0.0.0.0\n", AF_INET, "0.0.0.0", 0);
	listen_ok("ListenAddress 192.0.2.1:2222\n", AF_INET, "192.0.2.1",
	    2222);
	listen_ok("ListenAddress ::\n", AF_INET6, "::", 0);
	listen_ok("ListenAddress 2001:db8::1\n", AF_INET6, "2001:db8::1", 0);
	listen_ok("ListenAddress [2001:db8::1]:22\n", AF_INET6,
	    "2001:db8::1", 22);
	listen_ok("ListenAddress [::1]\n", AF_INET6, "::1", 0);
	/* A mapped address is the IPv4 address it carries. */
	listen_ok("ListenAddress ::ffff:10.0.0.1\n", AF_INET, "10.0.0.1", 0);

	load_ok("ListenAddress 0.0.0.0\nListenAddress ::\n"
	    "ListenAddress 127.0.0.1:2222\n", &c);
	assert_int_equal(c.nlisten, 3);
	/* The same address on different ports is two sockets. */
	load_ok("ListenAddress 10.0.0.1\nListenAddress 10.0.0.1:2222\n", &c);
	assert_int_equal(c.nlisten, 2);

	for (i = 0; i < CONFIG_MAX_LISTEN; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o,
		    "ListenAddress 10.0.0.%d\n", i + 1);
	load_ok(text, &c);
	assert_int_equal(c.nlisten, CONFIG_MAX_LISTEN);
	snprintf(text + o, sizeof(text) - o, "ListenAddress 10.0.1.1\n");
	bad1(text, "t.conf:17: ListenAddress: more than 16 addresses");
}

static void
test_listen_bad(void **state)
{
	static const char *const bad[] = {
		"localhost", "gw.example.com", "10.1", "010.0.0.1",
		"[::1", "[::1]x", "fe80::1%eth0", "10.0.0.1/8",
		"*", "[]:22", "[localhost]:22",
	};
	char text[128], want[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "ListenAddress %s\n", bad[i]);
		snprintf(want, sizeof(want), "t.conf:1: ListenAddress: \"%s\" "
		    "is not a numeric IP address, ADDR:PORT or [ADDR]:PORT "
		    "(host names are not resolved)", bad[i]);
		bad1(text, want);
	}
	bad1("ListenAddress 10.0.0.1:0\n",
	    "t.conf:1: ListenAddress: port 0 is out of range (1-65535)");
	bad1("ListenAddress [::1]:70000\n",
	    "t.conf:1: ListenAddress: port 70000 is out of range (1-65535)");
	bad1("ListenAddress [::1]:\n",
	    "t.conf:1: ListenAddress: \"\" is not a port number");
	bad1("ListenAddress 10.0.0.1:ssh\n",
	    "t.conf:1: ListenAddress: \"ssh\" is not a port number");
	bad1("ListenAddress\n", "t.conf:1: ListenAddress: missing value; "
	    "usage: ListenAddress ADDR | IPV4:PORT | [ADDR]:PORT");
	bad1("ListenAddress 10.0.0.1 10.0.0.2\n", "t.conf:1: ListenAddress: "
	    "too many values; usage: ListenAddress ADDR | IPV4:PORT | "
	    "[ADDR]:PORT");

	/* Duplicates, comparing the port each will really use. */
	bad1("ListenAddress 0.0.0.0\n# x\nListenAddress 0.0.0.0\n",
	    "t.conf:3: ListenAddress 0.0.0.0:22 given twice (first at "
	    "line 1)");
	bad1("ListenAddress [::]:2222\nPort 2222\nListenAddress ::\n",
	    "t.conf:3: ListenAddress [::]:2222 given twice (first at "
	    "line 1)");
	bad1("ListenAddress ::ffff:10.0.0.1\nListenAddress 10.0.0.1:22\n",
	    "t.conf:2: ListenAddress 10.0.0.1:22 given twice (first at "
	    "line 1)");
}

static void
test_port(void **state)
{
	struct config c;

	(void)state;
	load_ok("Port 1\n", &c);
	assert_int_equal(c.port, 1);
	load_ok("Port 65535\n", &c);
	assert_int_equal(c.port, 65535);
	bad1("Port 70000\n",
	    "t.conf:1: Port: port 70000 is out of range (1-65535)");
	bad1("Port 0\n", "t.conf:1: Port: port 0 is out of range (1-65535)");
	bad1("Port 022\n", "t.conf:1: Port: \"022\" is not a port number");
	bad1("Port -1\n", "t.conf:1: Port: \"-1\" is not a port number");
	bad1("Port +22\n", "t.conf:1: Port: \"+22\" is not a port number");
	bad1("Port any\n", "t.conf:1: Port: \"any\" is not a port number");
	bad1("Port 22,2222\n",
	    "t.conf:1: Port: \"22,2222\" is not a port number");
	bad1("Port 22-23\n", "t.conf:1: Port: \"22-23\" is not a port number");
	bad1("Port 99999999999999999999\n", "t.conf:1: Port: "
	    "\"99999999999999999999\" is not a port number");
	bad1("# c\nPort 22\nport 2222\n",
	    "t.conf:3: Port given twice (first at line 2)");
}

static void
test_hostkey(void **state)
{
	struct config c;

	(void)state;
	/* The first HostKey replaces the default; more are added. */
	load_ok("HostKey /k/ed25519\nHostKey /k/rsa\n", &c);
	assert_int_equal(c.nhostkeys, 2);
	assert_string_equal(c.hostkeys[0], "/k/ed25519");
	assert_string_equal(c.hostkeys[1], "/k/rsa");
	load_ok("HostKey /etc/rampart/ssh_host_ed25519_key\n", &c);
	assert_int_equal(c.nhostkeys, 1);
	load_ok("HostKey /a\nHostKey /b\nHostKey /c\nHostKey /d\n", &c);
	assert_int_equal(c.nhostkeys, CONFIG_MAX_HOSTKEYS);
	assert_string_equal(c.hostkeys[3], "/d");

	bad1("HostKey /a\nHostKey /b\nHostKey /c\nHostKey /d\nHostKey /e\n",
	    "t.conf:5: HostKey: more than 4 host keys");
	bad1("HostKey /a\nHostKey /b\nHostKey /a\n",
	    "t.conf:3: HostKey /a given twice (first at line 1)");
	bad1("HostKey keys/ed25519\n",
	    "t.conf:1: HostKey: path must be absolute: \"keys/ed25519\"");
	bad1("HostKey ~/key\n",
	    "t.conf:1: HostKey: path must be absolute: \"~/key\"");
	bad1("HostKey\n",
	    "t.conf:1: HostKey: missing value; usage: HostKey /PATH");
}

static void
test_paths(void **state)
{
	static const struct {
		const char	*kw;
		size_t		 off;
	} kws[] = {
		{ "Policy", offsetof(struct config, policy) },
		{ "TotpSecrets", offsetof(struct config, totp_secrets) },
		{ "AuditLog", offsetof(struct config, audit_log) },
	};
	char text[5000], want[256];
	struct config c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(kws) / sizeof(kws[0]); i++) {
		snprintf(text, sizeof(text), "%s /srv/x.y\n", kws[i].kw);
		load_ok(text, &c);
		assert_string_equal((char *)&c + kws[i].off, "/srv/x.y");
		snprintf(text, sizeof(text), "%s x.y\n", kws[i].kw);
		snprintf(want, sizeof(want), "t.conf:1: %s: path must be "
		    "absolute: \"x.y\"", kws[i].kw);
		bad1(text, want);
		snprintf(text, sizeof(text), "%s /a\n%s /b\n", kws[i].kw,
		    kws[i].kw);
		snprintf(want, sizeof(want), "t.conf:2: %s given twice (first "
		    "at line 1)", kws[i].kw);
		bad1(text, want);
	}
	/* A path fills the line: the longest possible still fits. */
	memset(text, 'a', sizeof(text));
	memcpy(text, "Policy /", 8);
	text[4096] = '\0';
	load_ok(text, &c);
	assert_int_equal(strlen(c.policy), 4096 - 7);
}

static void
test_user(void **state)
{
	char text[128];
	struct config c;

	(void)state;
	load_ok("User _rampart-gw.1\n", &c);
	assert_string_equal(c.user, "_rampart-gw.1");
	snprintf(text, sizeof(text), "User %s\n",
	    "abcdefghijklmnopqrstuvwxyz012345");	/* 32 */
	load_ok(text, &c);
	assert_int_equal(strlen(c.user), 32);
	snprintf(text, sizeof(text), "User %s\n",
	    "abcdefghijklmnopqrstuvwxyz0123456");	/* 33 */
	bad_at(text, 1, "is not a valid user name");
	bad1("User Rampart\n", "t.conf:1: User: \"Rampart\" is not a valid "
	    "user name (lower case letters, digits, '_', '-', '.'; starting "
	    "with a letter or '_'; at most 32 characters)");
	bad_at("User 1abc\n", 1, "is not a valid user name");
	bad_at("User a;b\n", 1, "is not a valid user name");
	bad_at("User -x\n", 1, "is not a valid user name");
	bad1("User root\n", "t.conf:1: User: the gateway must not run as "
	    "root (the point of User is to drop privileges)");
	bad1("User a\nUser b\n", "t.conf:2: User given twice (first at "
	    "line 1)");
}

/* KnockBindSocket and KnockdUser: together, and knockd is not User. */
static void
test_knock(void **state)
{
	char text[256];
	struct config c;

	(void)state;
	load_ok("KnockBindSocket /run/rampart/knock.sock\n"
	    "KnockdUser rampart-knockd\n", &c);
	assert_string_equal(c.knock_bind_socket, "/run/rampart/knock.sock");
	assert_string_equal(c.knockd_user, "rampart-knockd");
	load_ok("KnockBindSocket none\nKnockdUser NONE\n", &c);
	assert_string_equal(c.knock_bind_socket, "");
	assert_string_equal(c.knockd_user, "");
	bad1("KnockBindSocket /run/k.sock\n", "t.conf:1: KnockBindSocket "
	    "needs KnockdUser: the user rampart-knockd runs as, whose "
	    "datagrams alone are accepted");
	bad1("User gw\nKnockdUser kd\n", "t.conf:2: KnockdUser without "
	    "KnockBindSocket has no effect");
	bad1("User gw\nKnockBindSocket /run/k.sock\nKnockdUser gw\n",
	    "t.conf:3: KnockdUser must not be the gateway's User gw: its "
	    "session processes run as that user, and only knockd may tell "
	    "who knocked");
	bad_at("KnockBindSocket /run/k.sock\nKnockdUser rampart\n", 2,
	    "must not be the gateway's User rampart");
	bad_at("KnockBindSocket run/k.sock\nKnockdUser kd\n", 1,
	    "KnockBindSocket: path must be absolute");
	snprintf(text, sizeof(text), "KnockBindSocket /%0108d\nKnockdUser "
	    "kd\n", 0);
	bad_at(text, 1, "KnockBindSocket: path is longer than 107 bytes");
	bad_at("KnockBindSocket /k\nKnockdUser Kd\n", 2,
	    "KnockdUser: \"Kd\" is not a valid user name");
	bad_at("KnockBindSocket /k\nKnockBindSocket /j\nKnockdUser kd\n", 2,
	    "KnockBindSocket given twice (first at line 1)");
}

static void
test_durations(void **state)
{
	struct config c;

	(void)state;
	load_ok("LoginGraceTime 45\nConnectTimeout 1m30s\n", &c);
	assert_int_equal(c.login_grace, 45);
	assert_int_equal(c.connect_timeout, 90);
	load_ok("LoginGraceTime 10m\nConnectTimeout 5m\n", &c);
	assert_int_equal(c.login_grace, 600);
	assert_int_equal(c.connect_timeout, 300);
	load_ok("LoginGraceTime 1s\nConnectTimeout 1\n", &c);
	assert_int_equal(c.login_grace, 1);
	assert_int_equal(c.connect_timeout, 1);

	bad1("LoginGraceTime 11m\n", "t.conf:1: LoginGraceTime: duration "
	    "\"11m\" is out of range (1s to 10m)");
	bad1("LoginGraceTime 601\n", "t.conf:1: LoginGraceTime: duration "
	    "\"601\" is out of range (1s to 10m)");
	bad1("LoginGraceTime 0\n", "t.conf:1: LoginGraceTime: duration "
	    "\"0\" is out of range (1s to 10m)");
	bad1("LoginGraceTime 0s\n", "t.conf:1: LoginGraceTime: duration "
	    "\"0s\" is out of range (1s to 10m)");
	bad1("LoginGraceTime 2y\n", "t.conf:1: LoginGraceTime: \"2y\" is "
	    "not a duration (examples: 90s, 15m, 8h, 1h30m, 2d)");
	bad1("ConnectTimeout 5m1s\n", "t.conf:1: ConnectTimeout: duration "
	    "\"5m1s\" is out of range (1s to 5m)");
	bad1("ConnectTimeout 999999999d\n", "t.conf:1: ConnectTimeout: "
	    "duration \"999999999d\" is out of range (1s to 5m)");
	bad1("ConnectTimeout s\n", "t.conf:1: ConnectTimeout: \"s\" is not "
	    "a duration (examples: 90s, 15m, 8h, 1h30m, 2d)");
	bad1("LoginGraceTime 30s\nLoginGraceTime 30s\n", "t.conf:2: "
	    "LoginGraceTime given twice (first at line 1)");
	bad1("ConnectTimeout 1\nConnectTimeout 1\n", "t.conf:2: "
	    "ConnectTimeout given twice (first at line 1)");
}

static void
test_max_auth_tries(void **state)
{
	struct config c;

	(void)state;
	load_ok("MaxAuthTries 1\n", &c);
	assert_int_equal(c.max_auth_tries, 1);
	load_ok("MaxAuthTries 20\n", &c);
	assert_int_equal(c.max_auth_tries, 20);
	bad1("MaxAuthTries 0\n",
	    "t.conf:1: MaxAuthTries: 0 is out of range (1-20)");
	bad1("MaxAuthTries 21\n",
	    "t.conf:1: MaxAuthTries: 21 is out of range (1-20)");
	bad1("MaxAuthTries three\n",
	    "t.conf:1: MaxAuthTries: \"three\" is not a number");
	bad1("MaxAuthTries 3\nMaxAuthTries 3\n",
	    "t.conf:2: MaxAuthTries given twice (first at line 1)");
}

static void
test_startups(void **state)
{
	struct config c;

	(void)state;
	load_ok("MaxStartups 20:50:60\n", &c);
	assert_int_equal(c.startups_begin, 20);
	assert_int_equal(c.startups_rate, 50);
	assert_int_equal(c.startups_full, 60);
	load_ok("MaxStartups 7\n", &c);
	assert_int_equal(c.startups_begin, 7);
	assert_int_equal(c.startups_rate, 100);
	assert_int_equal(c.startups_full, 7);
	load_ok("MaxStartups 1:100:1\n", &c);
	load_ok("MaxStartups 100000:1:100000\n", &c);

	bad1("MaxStartups 10:30\n", "t.conf:1: MaxStartups: \"10:30\" is not "
	    "START:RATE:FULL (e.g. 10:30:100) or a single number");
	bad_at("MaxStartups 1:2:3:4\n", 1, "is not START:RATE:FULL");
	bad_at("MaxStartups :::\n", 1, "is not START:RATE:FULL");
	bad1("MaxStartups 200:30:100\n",
	    "t.conf:1: MaxStartups: start 200 is more than full 100");
	bad1("MaxStartups 10:0:100\n",
	    "t.conf:1: MaxStartups: rate: 0 is out of range (1-100)");
	bad1("MaxStartups 10:101:100\n",
	    "t.conf:1: MaxStartups: rate: 101 is out of range (1-100)");
	bad1("MaxStartups 0:30:100\n",
	    "t.conf:1: MaxStartups: start: 0 is out of range (1-100000)");
	bad1("MaxStartups 1:30:100001\n",
	    "t.conf:1: MaxStartups: full: 100001 is out of range (1-100000)");
	bad1("MaxStartups 10::100\n",
	    "t.conf:1: MaxStartups: rate: \"\" is not a number");
	bad1("MaxStartups 0\n",
	    "t.conf:1: MaxStartups: limit: 0 is out of range (1-100000)");
	bad_at("MaxStartups 1111111111111111111111111111111111111111111111111"
	    "111111111111111111111\n", 1, "is not START:RATE:FULL");
	bad1("MaxStartups 5\nMaxStartups 5\n",
	    "t.conf:2: MaxStartups given twice (first at line 1)");
}

static void
test_penalties(void **state)
{
	struct config c;
	struct errs e;

	(void)state;
	load_ok("PerSourcePenalties authfail:1m noauth:3s error:1h max:1d "
	    "table:100\n", &c);
	assert_int_equal(c.penalty_authfail, 60);
	assert_int_equal(c.penalty_noauth, 3);
	assert_int_equal(c.penalty_error, 3600);
	assert_int_equal(c.penalty_max, 86400);
	assert_int_equal(c.penalty_table, 100);
	/* A subset; the rest keep their defaults.  Names in any case. */
	load_ok("PerSourcePenalties TABLE:16 authfail:30\n", &c);
	assert_int_equal(c.penalty_authfail, 30);
	assert_int_equal(c.penalty_noauth, 2);
	assert_int_equal(c.penalty_error, 10);
	assert_int_equal(c.penalty_max, 600);
	assert_int_equal(c.penalty_table, 16);

	bad1("PerSourcePenalties off\n", "t.conf:1: PerSourcePenalties cannot "
	    "be turned off: a bastion always penalises sources that fail "
	    "(exempt trusted networks with PerSourcePenaltyExemptList)");
	bad_at("PerSourcePenalties no\n", 1, "cannot be turned off");
	bad1("PerSourcePenalties crash:90s\n", "t.conf:1: PerSourcePenalties: "
	    "unknown option \"crash\" (use authfail:, noauth:, error:, max: "
	    "with a duration, or table:N)");
	bad1("PerSourcePenalties authfail\n", "t.conf:1: PerSourcePenalties: "
	    "authfail needs a value, as in authfail:30s");
	bad1("PerSourcePenalties table\n", "t.conf:1: PerSourcePenalties: "
	    "table needs a value, as in table:8192");
	bad1("PerSourcePenalties authfail:1s authfail:2s\n",
	    "t.conf:1: PerSourcePenalties: authfail given twice");
	bad1("PerSourcePenalties noauth:0\n", "t.conf:1: PerSourcePenalties "
	    "noauth: duration \"0\" is out of range (1s to 1d)");
	bad1("PerSourcePenalties max:8d\n", "t.conf:1: PerSourcePenalties "
	    "max: duration \"8d\" is out of range (1s to 7d)");
	bad1("PerSourcePenalties error:x\n", "t.conf:1: PerSourcePenalties "
	    "error: \"x\" is not a duration (examples: 90s, 15m, 8h, 1h30m, "
	    "2d)");
	bad1("PerSourcePenalties table:0\n", "t.conf:1: PerSourcePenalties "
	    "table: 0 is out of range (1-1000000)");
	bad1("PerSourcePenalties\n", "t.conf:1: PerSourcePenalties: missing "
	    "value; usage: PerSourcePenalties [authfail:D] [noauth:D] "
	    "[error:D] [max:D] [table:N]");
	bad_at("PerSourcePenalties authfail:1 noauth:1 error:1 max:1 table:1 "
	    "x:1\n", 1, "PerSourcePenalties: too many values");
	bad1("PerSourcePenalties table:1\nPerSourcePenalties max:1m\n",
	    "t.conf:2: PerSourcePenalties given twice (first at line 1)");

	/* Base penalties may not exceed the cap (default or given). */
	bad1("# x\nPerSourcePenalties authfail:20m\n", "t.conf:2: "
	    "PerSourcePenalties: authfail:20m is longer than max:10m");
	load_ok("PerSourcePenalties authfail:20m max:1h\n", &c);
	load_bad("PerSourcePenalties max:1s\n", &e);
	assert_int_equal(e.n, 3);
	assert_string_equal(e.msg[2], "t.conf:1: PerSourcePenalties: "
	    "error:10s is longer than max:1s");
	/* Every bad option on the line is reported. */
	load_bad("PerSourcePenalties authfail:x noauth:y\n", &e);
	assert_int_equal(e.n, 2);
}

static void
test_exempt(void **state)
{
	char text[4096], want[256], ntop[ADDR_STRLEN];
	struct config c;
	size_t o;
	int i;

	(void)state;
	load_ok("PerSourcePenaltyExemptList 10.0.0.0/8,192.0.2.7,"
	    "2001:db8::/32\n", &c);
	assert_int_equal(c.nexempt, 3);
	addr_net_ntop(&c.exempt[1], ntop, sizeof(ntop));
	assert_string_equal(ntop, "192.0.2.7/32");
	addr_net_ntop(&c.exempt[2], ntop, sizeof(ntop));
	assert_string_equal(ntop, "2001:db8::/32");
	load_ok("PerSourcePenaltyExemptList none\n", &c);
	assert_int_equal(c.nexempt, 0);

	bad1("PerSourcePenaltyExemptList 10.0.0.1/8\n", "t.conf:1: "
	    "PerSourcePenaltyExemptList: \"10.0.0.1/8\" has host bits set "
	    "(write the network address, e.g. 10.0.0.0/8 for 10.0.0.1/8)");
	bad1("PerSourcePenaltyExemptList 10.0.0.0/8,10.0.0.0/33\n",
	    "t.conf:1: PerSourcePenaltyExemptList: \"10.0.0.0/33\" has a "
	    "prefix length out of range (0-32 for IPv4, 0-128 for IPv6)");
	bad1("PerSourcePenaltyExemptList office.example.com\n", "t.conf:1: "
	    "PerSourcePenaltyExemptList: \"office.example.com\" is not an IP "
	    "address or CIDR");
	bad1("PerSourcePenaltyExemptList 10.0.0.0/8,\n", "t.conf:1: "
	    "PerSourcePenaltyExemptList: \"\" is not an IP address or CIDR");
	bad_at("PerSourcePenaltyExemptList none,10.0.0.0/8\n", 1,
	    "\"none\" is not an IP address or CIDR");
	bad_at("PerSourcePenaltyExemptList 10.0.0.0/8 192.0.2.0/24\n", 1,
	    "too many values");
	bad1("PerSourcePenaltyExemptList none\nPerSourcePenaltyExemptList "
	    "none\n", "t.conf:2: PerSourcePenaltyExemptList given twice "
	    "(first at line 1)");

	o = (size_t)snprintf(text, sizeof(text),
	    "PerSourcePenaltyExemptList ");
	for (i = 0; i < CONFIG_MAX_EXEMPT; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%s10.%d.0.0"
		    "/16", i ? "," : "", i);
	load_ok(text, &c);
	assert_int_equal(c.nexempt, CONFIG_MAX_EXEMPT);
	snprintf(text + o, sizeof(text) - o, ",192.0.2.0/24");
	snprintf(want, sizeof(want), "t.conf:1: PerSourcePenaltyExemptList: "
	    "more than %d networks", CONFIG_MAX_EXEMPT);
	bad1(text, want);
}

static void
test_loglevel(void **state)
{
	static const struct {
		const char	*s;
		int		 lv;
	} ok[] = {
		{ "error", LOG_LVL_ERROR }, { "info", LOG_LVL_INFO },
		{ "verbose", LOG_LVL_VERBOSE }, { "debug", LOG_LVL_DEBUG },
		{ "DEBUG", LOG_LVL_DEBUG }, { "Verbose", LOG_LVL_VERBOSE },
	};
	char text[64];
	struct config c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(text, sizeof(text), "LogLevel %s\n", ok[i].s);
		load_ok(text, &c);
		assert_int_equal(c.log_level, ok[i].lv);
	}
	bad1("LogLevel debug3\n", "t.conf:1: LogLevel: \"debug3\" is not a "
	    "log level (error, info, verbose, debug)");
	bad_at("LogLevel quiet\n", 1, "is not a log level");
	bad1("LogLevel info\nLogLevel debug\n",
	    "t.conf:2: LogLevel given twice (first at line 1)");
}

/* Every error in the file is reported, each at its own line. */
static void
test_all_errors(void **state)
{
	static const char text[] =
	    "Port 0\n"
	    "User root\n"
	    "# fine\n"
	    "HostKey rel\n"
	    "Frobnicate yes\n"
	    "LogLevel info\n"
	    "Port 22\n"
	    "PerSourcePenalties off\n";
	struct errs e;

	(void)state;
	load_bad(text, &e);
	assert_int_equal(e.n, 6);
	assert_contains(e.msg[0], "t.conf:1: Port: port 0");
	assert_contains(e.msg[1], "t.conf:2: User:");
	assert_contains(e.msg[2], "t.conf:4: HostKey:");
	assert_contains(e.msg[3], "t.conf:5: unknown keyword");
	assert_contains(e.msg[4], "t.conf:7: Port given twice (first at "
	    "line 1)");
	assert_contains(e.msg[5], "t.conf:8: PerSourcePenalties cannot");
}

/* A failing load leaves a loaded config exactly as it was. */
static void
test_all_or_nothing(void **state)
{
	static const char bad[] = "Port 22\nListenAddress ::\nHostKey /k/b\n"
	    "LogLevel error\nUser x\nMaxAuthTries 99\n";
	struct config c, before;
	struct errs e;

	(void)state;
	load_ok("Port 2222\nListenAddress 10.0.0.1\nHostKey /k/a\n"
	    "PerSourcePenaltyExemptList 10.0.0.0/8\nLogLevel debug\n", &c);
	before = c;
	memset(&e, 0, sizeof(e));
	/* Valid lines first, then one mistake at the very end. */
	assert_int_equal(config_load_buf("t.conf", bad, sizeof(bad) - 1, &c,
	    collect, &e), -1);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.msg[0],
	    "t.conf:6: MaxAuthTries: 99 is out of range (1-20)");
	assert_memory_equal(&c, &before, sizeof(c));

	/* No callback: still refused, still untouched. */
	assert_int_equal(config_load_buf("t.conf", "Port 0\n", 7, &c, NULL,
	    NULL), -1);
	assert_memory_equal(&c, &before, sizeof(c));
}

static char *
write_tmp(const char *text, char *path, size_t len)
{
	int fd;

	snprintf(path, len, "%s/test_config.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(close(fd), 0);
	return path;
}

static void
test_load_file(void **state)
{
	char path[1024], want[1200];
	struct config c, before;
	struct errs e;

	(void)state;
	write_tmp("Port 2200\nUser gw\n", path, sizeof(path));
	memset(&e, 0, sizeof(e));
	assert_int_equal(config_load(path, &c, collect, &e), 0);
	assert_int_equal(c.port, 2200);
	assert_string_equal(c.user, "gw");
	unlink(path);

	/* Errors name the real path. */
	write_tmp("# one\nPort 2200 2201\n", path, sizeof(path));
	before = c;
	memset(&e, 0, sizeof(e));
	assert_int_equal(config_load(path, &c, collect, &e), -1);
	assert_int_equal(e.n, 1);
	snprintf(want, sizeof(want), "%s:2: Port: too many values; usage: "
	    "Port N", path);
	assert_string_equal(e.msg[0], want);
	assert_memory_equal(&c, &before, sizeof(c));
	unlink(path);

	memset(&e, 0, sizeof(e));
	assert_int_equal(config_load("/nonexistent/gateway.conf", &c,
	    collect, &e), -1);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.msg[0], "/nonexistent/gateway.conf: cannot "
	    "open: No such file or directory");
	memset(&e, 0, sizeof(e));
	assert_int_equal(config_load("/", &c, collect, &e), -1);
	assert_string_equal(e.msg[0], "/: is not a regular file");
	memset(&e, 0, sizeof(e));
	assert_int_equal(config_load("/dev/null", &c, collect, &e), -1);
	assert_string_equal(e.msg[0], "/dev/null: is not a regular file");
	assert_memory_equal(&c, &before, sizeof(c));
}

static char *
dump(const struct config *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	assert_non_null(f = open_memstream(&text, &len));
	config_dump(c, f);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void
test_dump_defaults(void **state)
{
	static const char want[] =
	    "listenaddress 0.0.0.0\n"
	    "listenaddress ::\n"
	    "port 22\n"
	    "hostkey /etc/rampart/ssh_host_ed25519_key\n"
	    "policy /etc/rampart/policy.conf\n"
	    "totpsecrets /etc/rampart/totp.secrets\n"
	    "totpstate /var/lib/rampart/totp.state\n"
	    "totpwindow 1\n"
	    "auditlog /var/log/rampart/audit.jsonl\n"
	    "user rampart\n"
	    "logingracetime 30s\n"
	    "maxauthtries 3\n"
	    "maxstartups 30:30:100\n"
	    "persourcemaxstartups 10\n"
	    "connecttimeout 10s\n"
	    "persourcepenalties authfail:5s noauth:2s error:10s max:10m "
	    "table:8192\n"
	    "persourcepenaltyexemptlist none\n"
	    "loglevel info\n"
	    "knockbindsocket none\n"
	    "knockduser none\n";
	struct config c, again;
	char *text, *text2;

	(void)state;
	config_defaults(&c);
	text = dump(&c);
	assert_string_equal(text, want);
	/*
	 * "No ListenAddress" dumps as what it means; loading that back gives
	 * the same sockets and dumps to the same text.
	 */
	load_ok(text, &again);
	assert_int_equal(again.nlisten, 2);
	text2 = dump(&again);
	assert_string_equal(text, text2);
	again.nlisten = 0;
	memset(again.listen, 0, sizeof(again.listen));
	assert_memory_equal(&c, &again, sizeof(c));
	free(text);
	free(text2);
}

static void
test_dump_roundtrip(void **state)
{
	static const char conf[] =
	    "ListenAddress 192.0.2.10\n"
	    "ListenAddress [2001:db8::10]:2222\n"
	    "ListenAddress 198.51.100.1:22\n"
	    "Port 2022\n"
	    "HostKey /etc/rampart/ssh_host_ed25519_key\n"
	    "HostKey /etc/rampart/ssh_host_rsa_key\n"
	    "Policy /srv/rampart/policy.conf\n"
	    "TotpSecrets /srv/rampart/totp.secrets\n"
	    "AuditLog /srv/log/audit.jsonl\n"
	    "User _rampart\n"
	    "LoginGraceTime 1m30s\n"
	    "MaxAuthTries 6\n"
	    "MaxStartups 4\n"
	    "ConnectTimeout 5m\n"
	    "PerSourcePenalties error:1h max:2h table:10\n"
	    "PerSourcePenaltyExemptList 10.0.0.0/8,2001:db8:1::/48\n"
	    "LogLevel verbose\n"
	    "KnockBindSocket /run/rampart/knock.sock\n"
	    "KnockdUser rampart-knockd\n";
	struct config c, again;
	char *text, *text2, *line;

	(void)state;
	load_ok(conf, &c);
	text = dump(&c);
	assert_contains(text, "listenaddress [2001:db8::10]:2222\n");
	assert_contains(text, "listenaddress 198.51.100.1:22\n");
	assert_contains(text, "logingracetime 1m30s\n");
	assert_contains(text, "maxstartups 4:100:4\n");
	assert_contains(text, "persourcepenalties authfail:5s noauth:2s "
	    "error:1h max:2h table:10\n");
	assert_contains(text, "persourcepenaltyexemptlist 10.0.0.0/8,"
	    "2001:db8:1::/48\n");
	assert_contains(text, "loglevel verbose\n");
	assert_contains(text, "knockbindsocket /run/rampart/knock.sock\n");
	assert_contains(text, "knockduser rampart-knockd\n");
	/* Every keyword lower case, one space, one value. */
	for (line = text; *line != '\0'; line = strchr(line, '\n') + 1) {
		assert_true(line[0] >= 'a' && line[0] <= 'z');
		assert_true(strcspn(line, " ") < strcspn(line, "\n"));
	}
	load_ok(text, &again);
	assert_memory_equal(&c, &again, sizeof(c));
	text2 = dump(&again);
	assert_string_equal(text, text2);
	free(text);
	free(text2);
}

/* The example of DESIGN.md section 10 and gateway.conf(5), as written. */
static void
test_design_example(void **state)
{
	static const char conf[] =
	    "ListenAddress 0.0.0.0          # repeatable; IPv6 too\n"
	    "Port 22\n"
	    "HostKey /etc/rampart/ssh_host_ed25519_key\n"
	    "Policy /etc/rampart/policy.conf\n"
	    "TotpSecrets /etc/rampart/totp.secrets\n"
	    "AuditLog /var/log/rampart/audit.jsonl\n"
	    "User rampart\n"
	    "LoginGraceTime 30s\n"
	    "MaxStartups 10:30:100\n";
	struct config c, def;

	(void)state;
	load_ok(conf, &c);
	assert_int_equal(c.nlisten, 1);
	assert_int_equal(c.listen[0].addr.af, AF_INET);
	config_defaults(&def);
	def.nlisten = 1;
	def.listen[0] = c.listen[0];
	/* The design's example sets the sshd-style MaxStartups start. */
	def.startups_begin = 10;
	assert_memory_equal(&c, &def, sizeof(c));
}

/* docs/examples/gateway.conf lists every default: it loads as defaults. */
static void
test_example_file(void **state)
{
	const char *dir = getenv("RAMPART_TESTDATA");
	char path[1024];
	struct config c, def;
	struct errs e;

	(void)state;
	snprintf(path, sizeof(path), "%s/../../docs/examples/gateway.conf",
	    dir ? dir : "tests/data");
	memset(&e, 0, sizeof(e));
	if (config_load(path, &c, collect, &e) != 0) {
		fail_msg("%s: %s", path, e.n ? e.msg[0] : "?");
	}
	config_defaults(&def);
	assert_memory_equal(&c, &def, sizeof(c));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_hygiene),
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_listen_bad),
		cmocka_unit_test(test_port),
		cmocka_unit_test(test_hostkey),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_user),
		cmocka_unit_test(test_knock),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_max_auth_tries),
		cmocka_unit_test(test_startups),
		cmocka_unit_test(test_penalties),
		cmocka_unit_test(test_exempt),
		cmocka_unit_test(test_loglevel),
		cmocka_unit_test(test_all_errors),
		cmocka_unit_test(test_all_or_nothing),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_dump_defaults),
		cmocka_unit_test(test_dump_roundtrip),
		cmocka_unit_test(test_design_example),
		cmocka_unit_test(test_example_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
