/*
 * test_knock_nft: the door against the real kernel.  As root the test
 * moves itself into a network namespace of its own (unshare CLONE_NEWNET),
 * so the tables it makes and deletes are never the host's; the namespace
 * goes away with the process.  Not root, or no unshare: every test is
 * skipped with a message.
 *
 * What is checked is what the kernel holds afterwards, read back through
 * a second libnftables context as JSON: one element per door, with a
 * timeout; a renewed door's expiry moves forward and the element is not
 * duplicated; the table knockd builds is the one rampart.nft loads.
 */
#include <sys/socket.h>
#include <sched.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <nftables/libnftables.h>

#include "addr.h"
#include "knock_nft.h"

static int in_netns;

struct fx {
	struct nft_ctx	*nft;		/* the test's own view */
	char		 out[65536];
};

static void
conf_default(struct knock_nft_conf *c, int create)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->table, sizeof(c->table), "rampart");
	snprintf(c->set4, sizeof(c->set4), "knock4");
	snprintf(c->set6, sizeof(c->set6), "knock6");
	c->ports[0] = 22;
	c->nports = 1;
	c->create = create;
}

/* Run cmd in the test's context; its output (or error) into f->out. */
static int
run(struct fx *f, const char *cmd)
{
	const char *o;
	int r;

	r = nft_run_cmd_from_buffer(f->nft, cmd);
	o = r == 0 ? nft_ctx_get_output_buffer(f->nft) :
	    nft_ctx_get_error_buffer(f->nft);
	snprintf(f->out, sizeof(f->out), "%s", o != NULL ? o : "");
	return r;
}

static int
setup(void **state)
{
	struct fx *f;

	if (!in_netns)
		return 0;
	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->nft = nft_ctx_new(NFT_CTX_DEFAULT);
	assert_non_null(f->nft);
	assert_int_equal(nft_ctx_buffer_output(f->nft), 0);
	assert_int_equal(nft_ctx_buffer_error(f->nft), 0);
	(void)run(f, "flush ruleset");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	if (f == NULL)
		return 0;
	(void)run(f, "flush ruleset");
	nft_ctx_free(f->nft);
	free(f);
	return 0;
}

#define NEED_NETNS() do {						\
	if (!in_netns) {						\
		print_message("skipped: needs root and a network "	\
		    "namespace of its own\n");				\
		skip();							\
	}								\
} while (0)

static int
count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/*
 * List set as JSON; the number of elements, and the "timeout" and
 * "expires" of the last one (-1 if absent).
 */
static int
list_set(struct fx *f, const char *set, long *timeout, long *expires)
{
	char cmd[128];
	const char *p;
	unsigned int flags = nft_ctx_output_get_flags(f->nft);

	nft_ctx_output_set_flags(f->nft, flags | NFT_CTX_OUTPUT_JSON);
	snprintf(cmd, sizeof(cmd), "list set inet rampart %s", set);
	assert_int_equal(run(f, cmd), 0);
	nft_ctx_output_set_flags(f->nft, flags);
	*timeout = *expires = -1;
	if ((p = strstr(f->out, "\"timeout\": ")) != NULL)
		*timeout = strtol(p + 11, NULL, 10);
	if ((p = strstr(f->out, "\"expires\": ")) != NULL)
		*expires = strtol(p + 11, NULL, 10);
	return count(f->out, "{\"elem\": {");
}

static void
must_contain(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL) {
		fail_msg("\"%s\" does not contain \"%s\"", hay, needle);
	}
}

static struct knock_nft *
open_ok(const struct knock_nft_conf *c)
{
	struct knock_nft *n;
	char err[512] = "";

	if ((n = knock_nft_open(c, err, sizeof(err))) == NULL) {
		fail_msg("knock_nft_open: %s", err);
	}
	return n;
}

static void
door_ok(struct knock_nft *n, const char *text, unsigned int sec)
{
	struct addr a;
	char err[512] = "";

	assert_int_equal(addr_parse(text, &a), 0);
	if (knock_nft_open_door(n, &a, 22, sec, err, sizeof(err)) != 0) {
		fail_msg("open_door %s: %s", text, err);
	}
}

/* Skip without a namespace; else the door of the default configuration. */
static struct knock_nft *
start(int create)
{
	struct knock_nft_conf c;

	NEED_NETNS();
	conf_default(&c, create);
	return open_ok(&c);
}

static void
test_create_and_doors(void **state)
{
	struct fx *f = *state;
	struct knock_nft *n;
	long to, ex;

	n = start(1);
	assert_int_equal(list_set(f, "knock4", &to, &ex), 0);
	assert_int_equal(list_set(f, "knock6", &to, &ex), 0);
	door_ok(n, "203.0.113.7", 30);
	door_ok(n, "2001:db8::7", 45);
	assert_int_equal(list_set(f, "knock4", &to, &ex), 1);
	must_contain(f->out, "\"203.0.113.7\", 22");
	assert_int_equal(to, 30);
	assert_true(ex >= 28 && ex <= 30);
	assert_int_equal(list_set(f, "knock6", &to, &ex), 1);
	must_contain(f->out, "\"2001:db8::7\", 22");
	assert_int_equal(to, 45);
	/* A mapped address goes to the IPv4 set as the address it maps. */
	door_ok(n, "::ffff:198.51.100.9", 30);
	assert_int_equal(list_set(f, "knock4", &to, &ex), 2);
	must_contain(f->out, "\"198.51.100.9\", 22");
	assert_int_equal(list_set(f, "knock6", &to, &ex), 1);
	knock_nft_close(n, 0);
	/* Closing without remove_table leaves the doors to time out. */
	assert_int_equal(list_set(f, "knock4", &to, &ex), 2);
}

/*
 * The renewal transaction: after two seconds the expiry has run down;
 * renewing puts it back at the full timeout, still one element.  A plain
 * add would leave it where it was (see knock_nft.c), so this fails if the
 * transaction is ever reduced to one add.
 */
static void
test_renew(void **state)
{
	struct fx *f = *state;
	struct knock_nft *n;
	struct timespec ts = { 2, 100000000 };
	long to, ex, ex6;

	n = start(1);
	door_ok(n, "203.0.113.7", 30);
	door_ok(n, "2001:db8::7", 30);
	nanosleep(&ts, NULL);
	assert_int_equal(list_set(f, "knock4", &to, &ex), 1);
	assert_true(ex <= 28);
	assert_int_equal(list_set(f, "knock6", &to, &ex6), 1);
	assert_true(ex6 <= 28);
	door_ok(n, "203.0.113.7", 30);
	door_ok(n, "2001:db8::7", 30);
	assert_int_equal(list_set(f, "knock4", &to, &ex), 1);
	assert_int_equal(to, 30);
	assert_true(ex >= 29);
	assert_int_equal(list_set(f, "knock6", &to, &ex6), 1);
	assert_true(ex6 >= 29);
	/* Renewing with another OpenTime takes the new one. */
	door_ok(n, "203.0.113.7", 90);
	assert_int_equal(list_set(f, "knock4", &to, &ex), 1);
	assert_int_equal(to, 90);
	assert_true(ex >= 88);
	knock_nft_close(n, 1);
}

static void
test_check_existing(void **state)
{
	struct fx *f = *state;
	struct knock_nft *n;
	long to, ex;

	n = start(1);
	knock_nft_close(n, 0);
	n = start(0);
	door_ok(n, "192.0.2.1", 30);
	knock_nft_close(n, 1);	/* not created by it: the table stays */
	assert_int_equal(list_set(f, "knock4", &to, &ex), 1);
}

static void
test_missing(void **state)
{
	struct fx *f = *state;
	struct knock_nft_conf c;
	char err[512];

	NEED_NETNS();
	conf_default(&c, 0);
	assert_null(knock_nft_open(&c, err, sizeof(err)));
	must_contain(err, "table inet rampart does not exist");
	assert_int_equal(run(f, "add table inet rampart; add set inet "
	    "rampart knock4 { type ipv4_addr . inet_service; flags timeout; "
	    "}"), 0);
	assert_null(knock_nft_open(&c, err, sizeof(err)));
	must_contain(err, "set knock6 is missing from table inet rampart");
	assert_int_equal(run(f, "delete set inet rampart knock4; add set inet "
	    "rampart knock6 { type ipv6_addr . inet_service; flags timeout; "
	    "}"), 0);
	assert_null(knock_nft_open(&c, err, sizeof(err)));
	must_contain(err, "set knock4 is missing from table inet rampart");
	/* A set without timeouts could never close a door. */
	assert_int_equal(run(f, "add set inet rampart knock4 { type ipv4_addr "
	    ". inet_service; }"), 0);
	assert_null(knock_nft_open(&c, err, sizeof(err)));
	must_contain(err, "set knock4 in table inet rampart is not");
	/* Another table of the same name in another family is not it. */
	assert_int_equal(run(f, "delete table inet rampart; add table ip "
	    "rampart"), 0);
	assert_null(knock_nft_open(&c, err, sizeof(err)));
	must_contain(err, "table inet rampart does not exist");
}

static void
test_close_removes(void **state)
{
	struct fx *f = *state;
	struct knock_nft *n;

	n = start(1);
	door_ok(n, "192.0.2.1", 30);
	knock_nft_close(n, 1);
	assert_int_equal(run(f, "list tables"), 0);
	assert_null(strstr(f->out, "rampart"));
}

/* create replaces an older table whole, elements and stray rules too. */
static void
test_create_replaces(void **state)
{
	struct fx *f = *state;
	struct knock_nft *n;
	long to, ex;

	NEED_NETNS();
	assert_int_equal(run(f, "add table inet rampart; add chain inet "
	    "rampart stray; add set inet rampart knock4 { type ipv4_addr . "
	    "inet_service; flags timeout; elements = { 192.0.2.5 . 22 } }"),
	    0);
	n = start(1);
	assert_int_equal(list_set(f, "knock4", &to, &ex), 0);
	assert_int_equal(run(f, "list table inet rampart"), 0);
	assert_null(strstr(f->out, "stray"));
	knock_nft_close(n, 1);
}

/*
 * knock_nft_ruleset() and knockd/rampart.nft describe one table: load
 * each and compare what the kernel lists.
 */
static void
test_ruleset_matches_file(void **state)
{
	struct fx *f = *state;
	struct knock_nft *n;
	const char *td = getenv("RAMPART_TESTDATA");
	char path[1024], *made;

	n = start(1);
	assert_int_equal(run(f, "list table inet rampart"), 0);
	made = strdup(f->out);
	assert_non_null(made);
	knock_nft_close(n, 1);
	snprintf(path, sizeof(path), "%s/../../knockd/rampart.nft",
	    td != NULL ? td : "tests/data");
	assert_int_equal(nft_run_cmd_from_filename(f->nft, path), 0);
	assert_int_equal(run(f, "list table inet rampart"), 0);
	assert_string_equal(f->out, made);
	free(made);
}

static void
test_ruleset_text(void **state)
{
	struct knock_nft_conf c;
	char buf[2048], small[64];

	(void)state;
	conf_default(&c, 1);
	c.ports[1] = 2222;
	c.nports = 2;
	assert_int_equal(knock_nft_ruleset(&c, buf, sizeof(buf)), 0);
	must_contain(buf, "table inet rampart {");
	must_contain(buf, "tcp dport { 22, 2222 } drop");
	must_contain(buf, "ip6 saddr . tcp dport @knock6 accept");
	assert_int_equal(knock_nft_ruleset(&c, small, sizeof(small)), -1);
}

/* Names reach nft only if they are plain identifiers. */
static void
test_bad_conf(void **state)
{
	static const char *const bad[] = {
		"", "ramp art", "x;flush ruleset", "a\"b", "r\n", "tab}le",
	};
	struct knock_nft_conf c;
	char err[512], buf[2048];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		conf_default(&c, 1);
		snprintf(c.table, sizeof(c.table), "%s", bad[i]);
		assert_null(knock_nft_open(&c, err, sizeof(err)));
		must_contain(err, "table name must be");
		assert_int_equal(knock_nft_ruleset(&c, buf, sizeof(buf)), -1);
		conf_default(&c, 1);
		snprintf(c.set6, sizeof(c.set6), "%s", bad[i]);
		assert_null(knock_nft_open(&c, err, sizeof(err)));
		must_contain(err, "IPv6 set name must be");
	}
	conf_default(&c, 1);
	memset(c.set4, 'a', sizeof(c.set4));
	assert_null(knock_nft_open(&c, err, sizeof(err)));
	must_contain(err, "IPv4 set name must be");
	conf_default(&c, 1);
	snprintf(c.set6, sizeof(c.set6), "knock4");
	assert_null(knock_nft_open(&c, err, sizeof(err)));
	must_contain(err, "different names");
	conf_default(&c, 1);
	c.nports = 0;
	assert_null(knock_nft_open(&c, err, sizeof(err)));
	must_contain(err, "door ports");
	conf_default(&c, 1);
	c.ports[0] = 65536;
	assert_null(knock_nft_open(&c, err, sizeof(err)));
	must_contain(err, "door port 65536");
}

static void
test_bad_door(void **state)
{
	struct knock_nft *n;
	struct addr a;
	char err[512];

	n = start(1);
	assert_int_equal(addr_parse("192.0.2.1", &a), 0);
	assert_int_equal(knock_nft_open_door(n, &a, 0, 30, err, sizeof(err)),
	    -1);
	must_contain(err, "out of range");
	assert_int_equal(knock_nft_open_door(n, &a, 22, 0, err, sizeof(err)),
	    -1);
	assert_int_equal(knock_nft_open_door(n, &a, 22, 86401, err,
	    sizeof(err)), -1);
	a.af = AF_UNIX;
	assert_int_equal(knock_nft_open_door(n, &a, 22, 30, err, sizeof(err)),
	    -1);
	must_contain(err, "neither IPv4 nor IPv6");
	knock_nft_close(n, 1);
	/* The table is gone: nft's reason is passed on with ours. */
	n = start(1);
	assert_int_equal(addr_parse("192.0.2.1", &a), 0);
	assert_int_equal(nft_run_cmd_from_buffer(((struct fx *)*state)->nft,
	    "delete table inet rampart"), 0);
	assert_int_equal(knock_nft_open_door(n, &a, 22, 30, err, sizeof(err)),
	    -1);
	must_contain(err, "opening 192.0.2.1 port 22: Error:");
	knock_nft_close(n, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ruleset_text),
		cmocka_unit_test(test_bad_conf),
		cmocka_unit_test_setup_teardown(test_create_and_doors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_renew, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_existing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_removes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_create_replaces, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ruleset_matches_file,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_door, setup,
		    teardown),
	};

	if (geteuid() != 0)
		fprintf(stderr, "test_knock_nft: not root, the nftables "
		    "tests are skipped\n");
	else if (unshare(CLONE_NEWNET) != 0)
		perror("test_knock_nft: unshare(CLONE_NEWNET), the nftables "
		    "tests are skipped");
	else
		in_netns = 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
