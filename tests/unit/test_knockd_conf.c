/*
 * test_knockd_conf: knockd.conf.  Every keyword with its default, a good
 * value, both ends of its range and the first value past each end, every
 * error as the exact "file:line: message" an operator reads, whole-file
 * behaviour (every error reported, nothing applied on error), and the
 * dump (-T) loading back to the same settings.
 */
#include <sys/socket.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "knockd_conf.h"
#include "log.h"

#define KEYLINE		"ServerKey /etc/rampart/knockd.key\n"

/* Every message, one a line, and how many. */
struct errs {
	char		text[8192];
	unsigned int	n;
};

static void
collect(void *ctx, const char *msg)
{
	struct errs *e = ctx;
	size_t used = strlen(e->text);

	snprintf(e->text + used, sizeof(e->text) - used, "%s\n", msg);
	e->n++;
}

/*
 * Load text with the required ServerKey line added after it (so the line
 * numbers of text stay what they are).  0 or -1; errors in *e.
 */
static int
load(const char *text, struct knockd_conf *c, struct errs *e)
{
	char buf[8192];

	memset(e, 0, sizeof(*e));
	snprintf(buf, sizeof(buf), "%s%s", text, KEYLINE);
	return knockd_conf_load_buf("k.conf", buf, strlen(buf), c, collect,
	    e);
}

static void
ok(const char *text, struct knockd_conf *c)
{
	struct errs e;

	if (load(text, c, &e) != 0)
		fail_msg("rejected \"%s\": %s", text, e.text);
	assert_int_equal(e.n, 0);
}

/* Exactly one error, with exactly this text; *c untouched. */
static void
bad(const char *text, const char *want)
{
	struct knockd_conf c, before;
	char line[DIAG_MSG_MAX + 1];
	struct errs e;

	memset(&c, 0x5a, sizeof(c));
	before = c;
	if (load(text, &c, &e) != -1)
		fail_msg("accepted \"%s\"", text);
	snprintf(line, sizeof(line), "%s\n", want);
	if (strcmp(e.text, line) != 0)
		fail_msg("for \"%s\" want \"%s\", got %u error(s):\n%s", text,
		    want, e.n, e.text);
	assert_memory_equal(&c, &before, sizeof(c));
}

static void
test_defaults(void **state)
{
	struct knockd_conf c, d;

	(void)state;
	knockd_conf_defaults(&c);
	assert_int_equal(c.nlisten, 0);
	assert_int_equal(c.listen_port, 62022);
	assert_int_equal(c.nserver_keys, 0);
	assert_string_equal(c.policy, "/etc/rampart/policy.conf");
	assert_int_equal(c.nports, 1);
	assert_int_equal(c.ports[0], 22);
	assert_int_equal(c.address_mode, KNOCKD_MODE_BOTH);
	assert_int_equal(c.window, 30);
	assert_int_equal(c.open_time, 30);
	assert_int_equal(c.budget.open_rate, 4000);
	assert_int_equal(c.budget.returning_rate, 1000);
	assert_int_equal(c.budget.returning_time, 7 * 86400);
	assert_int_equal(c.budget.source_rate, 2);
	assert_int_equal(c.budget.source_burst, 10);
	assert_int_equal(c.budget.user_rate, 10);
	assert_int_equal(c.budget.user_burst, 10);
	assert_int_equal(c.budget.source_table, 65536);
	assert_int_equal(c.budget.returning_table, 65536);
	assert_int_equal(c.seen_cache, 262144);
	assert_int_equal(c.replay_cache, 65536);
	assert_string_equal(c.bind_socket, "");
	assert_string_equal(c.user, "rampart-knockd");
	assert_string_equal(c.audit_log,
	    "/var/log/rampart-knockd/audit.jsonl");
	assert_string_equal(c.metrics_file, "");
	assert_int_equal(c.metrics_interval, 15);
	assert_string_equal(c.nft_table, "rampart");
	assert_string_equal(c.nft_set4, "knock4");
	assert_string_equal(c.nft_set6, "knock6");
	assert_int_equal(c.nft_create, 0);
	assert_int_equal(c.log_level, LOG_LVL_INFO);

	/* Only the key line: the defaults plus that key. */
	memset(&d, 0x77, sizeof(d));
	ok("# nothing\n\n  \t\n", &d);
	assert_int_equal(d.nserver_keys, 1);
	assert_string_equal(d.server_keys[0], "/etc/rampart/knockd.key");
	memset(d.server_keys, 0, sizeof(d.server_keys));
	d.nserver_keys = 0;
	memset(c.server_keys, 0, sizeof(c.server_keys));
	assert_memory_equal(&c, &d, sizeof(c));
}

static void
test_server_key(void **state)
{
	struct knockd_conf c;
	struct errs e;
	const char *t;

	(void)state;
	/* Required: a file without it is refused, naming the file. */
	memset(&e, 0, sizeof(e));
	t = "ListenPort 1\n";
	assert_int_equal(knockd_conf_load_buf("k.conf", t, strlen(t), &c,
	    collect, &e), -1);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.text, "k.conf: ServerKey is missing (the "
	    "file \"rampartctl knock keygen --server\" writes)\n");
	/* Two on one line, or on two lines; the first is the newest. */
	ok("ServerKey /a/new\n", &c);
	assert_int_equal(c.nserver_keys, 2);
	assert_string_equal(c.server_keys[0], "/a/new");
	assert_string_equal(c.server_keys[1], "/etc/rampart/knockd.key");
	t = "ServerKey /new /old\n";
	memset(&e, 0, sizeof(e));
	assert_int_equal(knockd_conf_load_buf("k.conf", t, strlen(t), &c,
	    collect, &e), 0);
	assert_int_equal(c.nserver_keys, 2);
	assert_string_equal(c.server_keys[1], "/old");
	bad("ServerKey /a /b\n", "k.conf:2: ServerKey: more than 2 keys (the "
	    "new one and the old one)");
	bad("ServerKey /a /b /c\n", "k.conf:1: ServerKey: too many values; "
	    "usage: ServerKey /PATH [/OLDPATH]");
	bad("ServerKey /etc/rampart/knockd.key\n", "k.conf:2: ServerKey "
	    "/etc/rampart/knockd.key given twice (first at line 1)");
	bad("ServerKey key\n", "k.conf:1: ServerKey: \"key\" is not an "
	    "absolute path");
}

static void
test_syntax(void **state)
{
	struct knockd_conf c;

	(void)state;
	ok("LISTENPORT 1\n", &c);
	assert_int_equal(c.listen_port, 1);
	ok("\t  listenport   2   # the port\r\n#ListenPort 3\n", &c);
	assert_int_equal(c.listen_port, 2);
	bad("Bogus 1\n", "k.conf:1: unknown keyword \"Bogus\"");
	bad("ListenPort=1\n", "k.conf:1: unknown keyword \"ListenPort=1\" "
	    "(write \"Keyword value\", without '=')");
	bad("\nListenPort\n", "k.conf:2: ListenPort: missing value; usage: "
	    "ListenPort N");
	bad("ListenPort 1 2\n", "k.conf:1: ListenPort: too many values; "
	    "usage: ListenPort N");
	bad("ListenPort 1\nListenPort 2\n", "k.conf:2: ListenPort given "
	    "twice (first at line 1)");
	bad("Ports 1 2 3 4 5 6 7 8 9\n",
	    "k.conf:1: more than 8 words on one line");
	bad("ListenPort \xc3\xa9\n",
	    "k.conf:1: ListenPort: \"\\xc3\\xa9\" is not a port number");
	bad("ListenPort 1\x01\n", "k.conf:1: control character 0x01 at "
	    "column 13");
}

/* Several errors are all reported, each at its line, nothing applied. */
static void
test_all_errors(void **state)
{
	static const char text[] = "ListenPort 0\nOpenRate x\nPorts 22\n"
	    "NftTable 9x\n";
	struct knockd_conf c, before;
	struct errs e;

	(void)state;
	memset(&c, 0x11, sizeof(c));
	before = c;
	assert_int_equal(load(text, &c, &e), -1);
	assert_int_equal(e.n, 3);
	assert_string_equal(e.text,
	    "k.conf:1: ListenPort: port 0 is out of range (1-65535)\n"
	    "k.conf:2: OpenRate: \"x\" is not a number\n"
	    "k.conf:4: NftTable: \"9x\" is not an nftables name (a letter, "
	    "then letters, digits or '_'; at most 63 characters)\n");
	assert_memory_equal(&c, &before, sizeof(c));
}

static void
test_listen(void **state)
{
	struct knockd_conf c;
	char buf[2048];
	size_t i;

	(void)state;
	ok("ListenAddress 192.0.2.1\nListenAddress ::1\n", &c);
	assert_int_equal(c.nlisten, 2);
	assert_int_equal(c.listen[0].af, AF_INET);
	assert_int_equal(c.listen[1].af, AF_INET6);
	ok("ListenPort 65535\n", &c);
	assert_int_equal(c.listen_port, 65535);
	bad("ListenPort 65536\n", "k.conf:1: ListenPort: port 65536 is out "
	    "of range (1-65535)");
	bad("ListenPort -1\n", "k.conf:1: ListenPort: \"-1\" is not a port "
	    "number");
	bad("ListenAddress host.example\n", "k.conf:1: ListenAddress: "
	    "\"host.example\" is not a numeric IP address (the port is "
	    "ListenPort; host names are not resolved)");
	bad("ListenAddress 192.0.2.1:5\n", "k.conf:1: ListenAddress: "
	    "\"192.0.2.1:5\" is not a numeric IP address (the port is "
	    "ListenPort; host names are not resolved)");
	bad("ListenAddress ::\nListenAddress ::0\n", "k.conf:2: "
	    "ListenAddress ::0 given twice (first at line 1)");
	buf[0] = '\0';
	for (i = 1; i <= KNOCKD_CONF_MAX_LISTEN; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
		    "ListenAddress 192.0.2.%zu\n", i);
	ok(buf, &c);
	assert_int_equal(c.nlisten, KNOCKD_CONF_MAX_LISTEN);
	snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
	    "ListenAddress 192.0.2.99\n");
	bad(buf, "k.conf:17: ListenAddress: more than 16 addresses");
}

static void
test_ports(void **state)
{
	struct knockd_conf c;

	(void)state;
	ok("Ports 2222\n", &c);
	assert_int_equal(c.nports, 1);
	assert_int_equal(c.ports[0], 2222);
	ok("Ports 22,443,1,65535\n", &c);
	assert_int_equal(c.nports, 4);
	assert_int_equal(c.ports[3], 65535);
	ok("Ports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16\n", &c);
	assert_int_equal(c.nports, 16);
	bad("Ports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17\n",
	    "k.conf:1: Ports: more than 16 ports");
	bad("Ports 22,22\n", "k.conf:1: Ports: port 22 listed twice");
	bad("Ports 22-23\n", "k.conf:1: Ports: \"22-23\" is not a port "
	    "number");
	bad("Ports any\n", "k.conf:1: Ports: \"any\" is not a port number");
	bad("Ports 22,\n", "k.conf:1: Ports: \"\" is not a port number");
	bad("Ports 0\n", "k.conf:1: Ports: port 0 is out of range (1-65535)");
}

static void
test_mode(void **state)
{
	struct knockd_conf c;

	(void)state;
	ok("AddressMode source\n", &c);
	assert_int_equal(c.address_mode, KNOCKD_MODE_SOURCE);
	ok("AddressMode EXPLICIT\n", &c);
	assert_int_equal(c.address_mode, KNOCKD_MODE_EXPLICIT);
	ok("AddressMode both\n", &c);
	assert_int_equal(c.address_mode, KNOCKD_MODE_BOTH);
	bad("AddressMode any\n", "k.conf:1: AddressMode: \"any\" is not "
	    "source, explicit or both");
}

struct bound {
	const char	*kw;
	size_t		 off;
	int		 is_size;
	const char	*lo_bad, *lo, *hi, *hi_bad;
	unsigned long	 lo_v, hi_v;
	const char	*range;		/* the text of the out-of-range error */
};

#define O(f)	offsetof(struct knockd_conf, f)

static const struct bound bounds[] = {
	{ "KnockWindow", O(window), 0, "4s", "5s", "2m", "121s", 5, 120,
	    "(5s to 2m)" },
	{ "OpenTime", O(open_time), 0, "0s", "1s", "1h", "3601", 1, 3600,
	    "(1s to 1h)" },
	{ "ReturningTime", O(budget.returning_time), 0, "59s", "1m", "90d",
	    "91d", 60, 90 * 86400, "(1m to 90d)" },
	{ "MetricsInterval", O(metrics_interval), 0, "0", "1s", "1h", "61m",
	    1, 3600, "(1s to 1h)" },
	{ "OpenRate", O(budget.open_rate), 0, "0", "1", "1000000", "1000001",
	    1, 1000000, "(1-1000000)" },
	{ "ReturningRate", O(budget.returning_rate), 0, "0", "1", "1000000",
	    "1000001", 1, 1000000, "(1-1000000)" },
	{ "SourceRate", O(budget.source_rate), 0, "0", "1", "1000000",
	    "1000001", 1, 1000000, "(1-1000000)" },
	{ "SourceBurst", O(budget.source_burst), 0, "0", "1", "1000000",
	    "1000001", 1, 1000000, "(1-1000000)" },
	{ "UserRate", O(budget.user_rate), 0, "0", "1", "600", "601", 1, 600,
	    "(1-600)" },
	{ "UserBurst", O(budget.user_burst), 0, "0", "1", "1000", "1001", 1,
	    1000, "(1-1000)" },
	{ "SeenCacheSize", O(seen_cache), 1, "15", "16", "4194304", "4194305",
	    16, 4194304, "(16-4194304)" },
	{ "ReplayCacheSize", O(replay_cache), 1, "15", "16", "4194304",
	    "4194305", 16, 4194304, "(16-4194304)" },
	{ "SourceTableSize", O(budget.source_table), 1, "15", "16", "4194304",
	    "4194305", 16, 4194304, "(16-4194304)" },
	{ "ReturningTableSize", O(budget.returning_table), 1, "15", "16",
	    "4194304", "4194305", 16, 4194304, "(16-4194304)" },
};

#undef O

static unsigned long
field(const struct knockd_conf *c, const struct bound *b)
{
	const char *p = (const char *)c + b->off;

	if (b->is_size)
		return *(const size_t *)(const void *)p;
	return *(const unsigned long *)(const void *)p;
}

/* The error conv gives for a value out of range, durations or counts. */
static void
want_range(const struct bound *b, const char *v, char *out, size_t len)
{
	if (b->range[1] >= '0' && b->range[1] <= '9' && strchr(b->range, 's')
	    == NULL && strchr(b->range, 'h') == NULL && strchr(b->range, 'm')
	    == NULL && strchr(b->range, 'd') == NULL)
		snprintf(out, len, "k.conf:1: %s: %s is out of range %s",
		    b->kw, v, b->range);
	else
		snprintf(out, len, "k.conf:1: %s: duration \"%s\" is out of "
		    "range %s", b->kw, v, b->range);
}

static void
test_bounds(void **state)
{
	const struct bound *b;
	struct knockd_conf c;
	struct errs e;
	char line[128], want[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
		b = &bounds[i];
		snprintf(line, sizeof(line), "%s %s\n", b->kw, b->lo);
		ok(line, &c);
		assert_int_equal(field(&c, b), b->lo_v);
		snprintf(line, sizeof(line), "%s %s\n", b->kw, b->hi);
		ok(line, &c);
		assert_int_equal(field(&c, b), b->hi_v);
		snprintf(line, sizeof(line), "%s %s\n", b->kw, b->lo_bad);
		want_range(b, b->lo_bad, want, sizeof(want));
		bad(line, want);
		snprintf(line, sizeof(line), "%s %s\n", b->kw, b->hi_bad);
		want_range(b, b->hi_bad, want, sizeof(want));
		bad(line, want);
		/* Not a number or duration at all: conv's own words. */
		snprintf(line, sizeof(line), "%s 1x\n", b->kw);
		assert_int_equal(load(line, &c, &e), -1);
		assert_int_equal(e.n, 1);
		snprintf(want, sizeof(want), "k.conf:1: %s: \"1x\" is not a ",
		    b->kw);
		assert_true(strncmp(e.text, want, strlen(want)) == 0);
	}
	/* Durations in any unit and mixed. */
	ok("OpenTime 1m30s\nReturningTime 2d\n", &c);
	assert_int_equal(c.open_time, 90);
	assert_int_equal(c.budget.returning_time, 2 * 86400);
}

static void
test_paths(void **state)
{
	struct knockd_conf c;
	char buf[5000];

	(void)state;
	ok("Policy /p\nAuditLog /a\nBindSocket /run/rampart/knock.sock\n"
	    "MetricsFile /m.prom\n", &c);
	assert_string_equal(c.policy, "/p");
	assert_string_equal(c.audit_log, "/a");
	assert_string_equal(c.bind_socket, "/run/rampart/knock.sock");
	assert_string_equal(c.metrics_file, "/m.prom");
	ok("BindSocket none\nMetricsFile NONE\n", &c);
	assert_string_equal(c.bind_socket, "");
	assert_string_equal(c.metrics_file, "");
	bad("Policy p\n", "k.conf:1: Policy: \"p\" is not an absolute path");
	bad("AuditLog none\n", "k.conf:1: AuditLog: \"none\" is not an absolute "
	    "path");
	bad("MetricsFile m\n", "k.conf:1: MetricsFile: \"m\" is not an "
	    "absolute path");
	/* A unix socket path fits sun_path: 107 bytes at most. */
	memset(buf, 'b', sizeof(buf));
	memcpy(buf, "BindSocket /", 12);
	buf[11 + 107] = '\n';
	buf[11 + 108] = '\0';
	ok(buf, &c);
	assert_int_equal(strlen(c.bind_socket), 107);
	buf[11 + 107] = 'b';
	buf[11 + 108] = '\n';
	buf[11 + 109] = '\0';
	bad(buf, "k.conf:1: BindSocket: \"/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb...\" is longer than 107 bytes");
	memset(buf, 'p', sizeof(buf));
	memcpy(buf, "Policy /", 8);
	buf[7 + PATH_MAX] = '\n';
	buf[8 + PATH_MAX] = '\0';
	bad(buf, "k.conf:1: line is longer than 4096 bytes");
}

static void
test_user_log_nft(void **state)
{
	struct knockd_conf c;

	(void)state;
	ok("User knockd\nLogLevel debug\nNftTable t_1\nNftSet4 a\nNftSet6 "
	    "B9\nNftCreate yes\n", &c);
	assert_string_equal(c.user, "knockd");
	assert_int_equal(c.log_level, LOG_LVL_DEBUG);
	assert_string_equal(c.nft_table, "t_1");
	assert_string_equal(c.nft_set4, "a");
	assert_string_equal(c.nft_set6, "B9");
	assert_int_equal(c.nft_create, 1);
	ok("NftCreate NO\n", &c);
	assert_int_equal(c.nft_create, 0);
	bad("User root\n", "k.conf:1: User: \"root\" is refused: knockd "
	    "parses network bytes and keeps only CAP_NET_ADMIN, never root");
	bad("User Bob\n", "k.conf:1: User: \"Bob\" is not a valid user name "
	    "(lower case letters, digits, '_', '-', '.'; starting with a "
	    "letter or '_'; at most 32 characters)");
	bad("LogLevel loud\n", "k.conf:1: LogLevel: \"loud\" is not error, "
	    "info, verbose or debug");
	bad("NftCreate maybe\n", "k.conf:1: NftCreate: \"maybe\" is not yes "
	    "or no");
	bad("LogLevel\n", "k.conf:1: LogLevel: missing value; usage: LogLevel "
	    "error|info|verbose|debug");
	bad("NftSet4 a-b\n", "k.conf:1: NftSet4: \"a-b\" is not an nftables "
	    "name (a letter, then letters, digits or '_'; at most 63 "
	    "characters)");
	bad("NftSet6 "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	    "k.conf:1: NftSet6: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaa\" is not an nftables name (a letter, then "
	    "letters, digits or '_'; at most 63 characters)");
	bad("NftSet4 s\nNftSet6 s\n", "k.conf:2: NftSet6: \"s\" is also "
	    "NftSet4 (IPv4 and IPv6 need a set each)");
	bad("NftSet4 knock6\n", "k.conf: NftSet6: \"knock6\" is also NftSet4 "
	    "(IPv4 and IPv6 need a set each)");
}

static void
test_nft_conf(void **state)
{
	struct knock_nft_conf n;
	struct knockd_conf c;

	(void)state;
	ok("Ports 22,2222\nNftTable t\nNftCreate yes\n", &c);
	knockd_conf_nft(&c, &n);
	assert_string_equal(n.table, "t");
	assert_string_equal(n.set4, "knock4");
	assert_string_equal(n.set6, "knock6");
	assert_int_equal(n.nports, 2);
	assert_int_equal(n.ports[0], 22);
	assert_int_equal(n.ports[1], 2222);
	assert_int_equal(n.create, 1);
}

/* Load, dump, load the dump: the same settings; dump again: same text. */
static void
roundtrip(const char *text)
{
	struct knockd_conf a, b;
	char *d1 = NULL, *d2 = NULL;
	size_t l1 = 0, l2 = 0;
	struct errs e;
	FILE *f;

	ok(text, &a);
	assert_non_null(f = open_memstream(&d1, &l1));
	knockd_conf_dump(&a, f);
	assert_int_equal(fclose(f), 0);
	memset(&e, 0, sizeof(e));
	if (knockd_conf_load_buf("dump", d1, l1, &b, collect, &e) != 0)
		fail_msg("dump does not load: %s\n%s", e.text, d1);
	/* No ListenAddress dumps as the two it means: equal, not same. */
	if (a.nlisten > 0)
		assert_memory_equal(&a, &b, sizeof(a));
	assert_non_null(f = open_memstream(&d2, &l2));
	knockd_conf_dump(&b, f);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(d1, d2);
	free(d1);
	free(d2);
}

static void
test_dump(void **state)
{
	struct knockd_conf c;
	char *d = NULL;
	size_t l = 0;
	FILE *f;

	(void)state;
	ok("", &c);
	assert_non_null(f = open_memstream(&d, &l));
	knockd_conf_dump(&c, f);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(d,
	    "listenaddress 0.0.0.0\n"
	    "listenaddress ::\n"
	    "listenport 62022\n"
	    "serverkey /etc/rampart/knockd.key\n"
	    "policy /etc/rampart/policy.conf\n"
	    "ports 22\n"
	    "addressmode both\n"
	    "knockwindow 30s\n"
	    "opentime 30s\n"
	    "openrate 4000\n"
	    "returningrate 1000\n"
	    "returningtime 7d\n"
	    "sourcerate 2\n"
	    "sourceburst 10\n"
	    "userrate 10\n"
	    "userburst 10\n"
	    "seencachesize 262144\n"
	    "replaycachesize 65536\n"
	    "sourcetablesize 65536\n"
	    "returningtablesize 65536\n"
	    "bindsocket none\n"
	    "user rampart-knockd\n"
	    "auditlog /var/log/rampart-knockd/audit.jsonl\n"
	    "metricsfile none\n"
	    "metricsinterval 15s\n"
	    "nfttable rampart\n"
	    "nftset4 knock4\n"
	    "nftset6 knock6\n"
	    "nftcreate no\n"
	    "loglevel info\n");
	free(d);
	roundtrip("");
	roundtrip("ListenAddress 192.0.2.1\nListenAddress 2001:db8::1\n"
	    "ListenPort 1\nServerKey /old\nPorts 22,2222\nAddressMode explicit\n"
	    "KnockWindow 1m\nOpenTime 1m30s\nOpenRate 5\nReturningRate 6\n"
	    "ReturningTime 1h\nSourceRate 7\nSourceBurst 8\nUserRate 9\n"
	    "UserBurst 11\nSeenCacheSize 100\nReplayCacheSize 200\n"
	    "SourceTableSize 300\nReturningTableSize 400\nBindSocket /s\n"
	    "User k\nAuditLog /a\nMetricsFile /m\nMetricsInterval 1m\n"
	    "NftTable t\nNftSet4 s4\nNftSet6 s6\nNftCreate yes\n"
	    "LogLevel verbose\nPolicy /p\n");
}

static void
test_load_file(void **state)
{
	char path[] = "/tmp/test_knockd_conf.XXXXXX", want[256];
	struct knockd_conf c;
	struct errs e;
	int fd;

	(void)state;
	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(write(fd, "ServerKey /k\nOpenTime 9s\n", 25), 25);
	close(fd);
	memset(&e, 0, sizeof(e));
	assert_int_equal(knockd_conf_load(path, &c, collect, &e), 0);
	assert_int_equal(c.open_time, 9);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(knockd_conf_load(path, &c, collect, &e), -1);
	snprintf(want, sizeof(want), "%s: cannot open: No such file or "
	    "directory\n", path);
	assert_string_equal(e.text, want);
}

/* The example shipped in docs/examples loads as it is. */
static void
test_example(void **state)
{
	struct knockd_conf c;
	struct errs e;
	const char *dir = getenv("RAMPART_TESTDATA");
	char path[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/../../docs/examples/knockd.conf",
	    dir != NULL ? dir : "tests/data");
	memset(&e, 0, sizeof(e));
	if (knockd_conf_load(path, &c, collect, &e) != 0)
		fail_msg("%s", e.text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_server_key),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_all_errors),
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_mode),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_user_log_nft),
		cmocka_unit_test(test_nft_conf),
		cmocka_unit_test(test_dump),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_example),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
