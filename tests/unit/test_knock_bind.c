/*
 * test_knock_bind: the message knockd sends the master and the master's
 * table of bindings.  The message is docs/PROTOCOL.knock section 13's
 * example, byte for byte; every field that can be wrong is made wrong
 * once and must be refused.  The table admits a user only from an address
 * that user opened, until until + grace, at most 16 addresses per user.
 */
#include <sys/socket.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"
#include "knock_bind.h"

/* Section 13: "alice" opened 203.0.113.7 port 22 until 1767225630. */
static const uint8_t example[KNOCK_BIND_SIZE] = {
	0x00, 0x00, 0x00, 0x01,				/* type */
	0x04,						/* family */
	0x05,						/* user_len */
	0x00, 0x16,					/* port 22 */
	0xcb, 0x00, 0x71, 0x07, 0x00, 0x00, 0x00, 0x00,	/* addr */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x61, 0x6c, 0x69, 0x63, 0x65, 0x00, 0x00, 0x00,	/* "alice" */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x69, 0x55, 0xb9, 0x1e,	/* until */
	0x95, 0xb9, 0xac, 0xa0, 0x0d, 0x32, 0x20, 0x47,	/* key_id */
	0x04, 0x89, 0x50, 0xd1, 0x9c, 0xc5, 0xae, 0xce,
	0x6f, 0xa7, 0x57, 0xed, 0xd9, 0x10, 0x4a, 0x55,
	0x21, 0x44, 0x6a, 0x16, 0x87, 0x92, 0xb2, 0x98,
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,	/* knock_id */
	0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
};

#define UNTIL	1767225630ULL

static void
must_contain(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL) {
		fail_msg("\"%s\" does not contain \"%s\"", hay, needle);
	}
}

static void
test_example_round_trip(void **state)
{
	struct knock_bind_msg m;
	uint8_t out[KNOCK_BIND_SIZE];
	char err[128], text[ADDR_STRLEN];
	size_t i;

	(void)state;
	assert_int_equal(knock_bind_decode(example, sizeof(example), &m, err,
	    sizeof(err)), 0);
	assert_int_equal(m.addr.af, AF_INET);
	addr_ntop(&m.addr, text, sizeof(text));
	assert_string_equal(text, "203.0.113.7");
	assert_int_equal(m.port, 22);
	assert_string_equal(m.user, "alice");
	assert_true(m.until == UNTIL);
	assert_int_equal(m.key_id[0], 0x95);
	assert_int_equal(m.key_id[31], 0x98);
	for (i = 0; i < 16; i++)
		assert_int_equal(m.knock_id[i], 0xa0 + i);
	assert_int_equal(knock_bind_encode(&m, out), 0);
	assert_memory_equal(out, example, sizeof(example));
}

static void
test_ipv6_round_trip(void **state)
{
	struct knock_bind_msg m, d;
	uint8_t out[KNOCK_BIND_SIZE];
	char err[128];

	(void)state;
	memset(&m, 0, sizeof(m));
	assert_int_equal(addr_parse("2001:db8::7", &m.addr), 0);
	m.port = 65535;
	snprintf(m.user, sizeof(m.user), "%s",
	    "_a.very-long-user-name-of-32-ch");
	m.until = UNTIL;
	memset(m.key_id, 0xee, sizeof(m.key_id));
	memset(m.knock_id, 0x11, sizeof(m.knock_id));
	assert_int_equal(knock_bind_encode(&m, out), 0);
	assert_int_equal(out[4], 6);
	assert_int_equal(knock_bind_decode(out, sizeof(out), &d, err,
	    sizeof(err)), 0);
	assert_memory_equal(&d, &m, sizeof(m));
}

/* Change one byte of the example; decoding must fail naming why. */
static void
bad_byte(size_t off, uint8_t v, const char *why)
{
	struct knock_bind_msg m;
	uint8_t buf[KNOCK_BIND_SIZE];
	char err[128] = "";

	memcpy(buf, example, sizeof(buf));
	buf[off] = v;
	if (knock_bind_decode(buf, sizeof(buf), &m, err, sizeof(err)) == 0) {
		fail_msg("byte %zu = 0x%02x was accepted", off, v);
	}
	must_contain(err, why);
	assert_int_equal(m.user[0], 0);		/* nothing half-filled */
}

/*
 * Put an address in the example as knockd would write it (inet_pton, so a
 * mapped IPv6 address stays one) and expect a refusal.
 */
static void
bad_addr(const char *text)
{
	uint8_t buf[KNOCK_BIND_SIZE];
	struct knock_bind_msg m;
	char err[128] = "";
	int v6 = strchr(text, ':') != NULL;

	memcpy(buf, example, sizeof(buf));
	memset(buf + 8, 0, 16);
	buf[4] = v6 ? 6 : 4;
	assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, text, buf + 8), 1);
	if (knock_bind_decode(buf, sizeof(buf), &m, err, sizeof(err)) == 0) {
		fail_msg("address %s was accepted", text);
	}
	must_contain(err, "usable");
}

static void
test_bad_fields(void **state)
{
	struct knock_bind_msg m;
	uint8_t big[KNOCK_BIND_SIZE + 1], zero_until[KNOCK_BIND_SIZE];
	char err[128];
	size_t i;

	(void)state;
	memcpy(big, example, sizeof(example));
	big[KNOCK_BIND_SIZE] = 0;
	assert_int_equal(knock_bind_decode(big, sizeof(big), &m, err,
	    sizeof(err)), -1);
	must_contain(err, "not 112 bytes");
	assert_int_equal(knock_bind_decode(example, 111, &m, err,
	    sizeof(err)), -1);
	assert_int_equal(knock_bind_decode(example, 0, &m, err, sizeof(err)),
	    -1);
	bad_byte(3, 0x02, "unknown type");
	bad_byte(3, 0x00, "unknown type");
	bad_byte(0, 0x80, "unknown type");
	bad_byte(4, 0, "family");
	bad_byte(4, 5, "family");
	bad_byte(4, 46, "family");
	bad_byte(5, 0, "user_len");
	bad_byte(5, 33, "user_len");
	bad_byte(5, 255, "user_len");
	bad_byte(5, 6, "user name");	/* "alice\0" */
	bad_byte(24, 'A', "user name");
	bad_byte(24, '1', "user name");
	bad_byte(25, '/', "user name");
	bad_byte(26, 0, "NUL");
	bad_byte(7, 0, "port");		/* port 0 */
	for (i = 12; i < 24; i++)
		bad_byte(i, 1, "after the IPv4 address");
	for (i = 29; i < 56; i++)
		bad_byte(i, 'x', "after the user name");
	bad_byte(56, 0x80, "until");	/* beyond any time_t */
	memcpy(zero_until, example, sizeof(zero_until));
	memset(zero_until + 56, 0, 8);
	assert_int_equal(knock_bind_decode(zero_until, sizeof(zero_until), &m,
	    err, sizeof(err)), -1);
	must_contain(err, "until");
	bad_addr("127.0.0.1");
	bad_addr("0.0.0.0");
	bad_addr("169.254.169.254");
	bad_addr("224.0.0.1");
	bad_addr("255.255.255.255");
	bad_addr("::1");
	bad_addr("::");
	bad_addr("fe80::1");
	bad_addr("ff02::1");
	bad_addr("::ffff:203.0.113.7");
}

static void
test_encode_refuses(void **state)
{
	struct knock_bind_msg m, good;
	uint8_t out[KNOCK_BIND_SIZE];
	char err[128];

	(void)state;
	assert_int_equal(knock_bind_decode(example, sizeof(example), &good,
	    err, sizeof(err)), 0);
	m = good;
	m.port = 0;
	assert_int_equal(knock_bind_encode(&m, out), -1);
	m = good;
	m.port = 65536;
	assert_int_equal(knock_bind_encode(&m, out), -1);
	m = good;
	m.user[0] = '\0';
	assert_int_equal(knock_bind_encode(&m, out), -1);
	m = good;
	snprintf(m.user, sizeof(m.user), "Alice");
	assert_int_equal(knock_bind_encode(&m, out), -1);
	m = good;
	m.until = 0;
	assert_int_equal(knock_bind_encode(&m, out), -1);
	m = good;
	m.addr.af = AF_UNIX;
	assert_int_equal(knock_bind_encode(&m, out), -1);
	m = good;
	assert_int_equal(addr_parse("127.0.0.1", &m.addr), 0);
	assert_int_equal(knock_bind_encode(&m, out), -1);
}

static struct knock_bind_msg
msg(const char *user, const char *addr, uint64_t until, uint8_t id)
{
	struct knock_bind_msg m;

	memset(&m, 0, sizeof(m));
	snprintf(m.user, sizeof(m.user), "%s", user);
	assert_int_equal(addr_parse(addr, &m.addr), 0);
	m.port = 22;
	m.until = until;
	memset(m.knock_id, id, sizeof(m.knock_id));
	return m;
}

static int
check(struct knock_bind_table *t, const char *user, const char *text,
    time_t now)
{
	struct addr a;

	assert_int_equal(addr_parse(text, &a), 0);
	return knock_bind_table_check(t, user, &a, now, NULL);
}

static void
test_table_user_and_addr(void **state)
{
	struct knock_bind_table *t;
	struct knock_bind_msg m;
	struct addr mapped;
	uint8_t id[16];

	(void)state;
	assert_non_null(t = knock_bind_table_new());
	m = msg("alice", "203.0.113.7", 1000, 1);
	assert_int_equal(knock_bind_table_add(t, &m, 120), 0);
	m = msg("alice", "2001:db8::7", 1000, 2);
	assert_int_equal(knock_bind_table_add(t, &m, 120), 0);
	assert_int_equal(check(t, "alice", "203.0.113.7", 999), 1);
	assert_int_equal(check(t, "alice", "2001:db8::7", 999), 1);
	/* user A's door does not admit user B, nor A from elsewhere */
	assert_int_equal(check(t, "bob", "203.0.113.7", 999), 0);
	assert_int_equal(check(t, "alic", "203.0.113.7", 999), 0);
	assert_int_equal(check(t, "alice", "203.0.113.8", 999), 0);
	assert_int_equal(check(t, "alice", "2001:db8::8", 999), 0);
	/* families never cross: the v4 bytes as a v6 address are not it */
	assert_int_equal(check(t, "alice", "cb00:7107::", 999), 0);
	/* the gateway's dual-stack socket sees a mapped address */
	memset(&mapped, 0, sizeof(mapped));
	mapped.af = AF_INET6;
	mapped.a[10] = mapped.a[11] = 0xff;
	memcpy(mapped.a + 12, "\xcb\x00\x71\x07", 4);
	memset(id, 0, sizeof(id));
	assert_int_equal(knock_bind_table_check(t, "alice", &mapped, 999, id),
	    1);
	assert_int_equal(id[0], 1);
	knock_bind_table_free(t);
}

static void
test_table_expiry(void **state)
{
	struct knock_bind_table *t;
	struct knock_bind_msg m;

	(void)state;
	assert_non_null(t = knock_bind_table_new());
	m = msg("alice", "203.0.113.7", 1000, 1);
	assert_int_equal(knock_bind_table_add(t, &m, 120), 0);
	m = msg("bob", "203.0.113.7", 2000, 2);
	assert_int_equal(knock_bind_table_add(t, &m, 0), 0);
	assert_int_equal(check(t, "alice", "203.0.113.7", 1119), 1);
	assert_int_equal(check(t, "alice", "203.0.113.7", 1120), 0);
	assert_int_equal(knock_bind_table_expire(t, 1119), 2);
	assert_int_equal(knock_bind_table_expire(t, 1120), 1);
	assert_int_equal(check(t, "bob", "203.0.113.7", 1999), 1);
	assert_int_equal(check(t, "bob", "203.0.113.7", 2000), 0);
	assert_int_equal(knock_bind_table_expire(t, 2000), 0);
	/* a user whose bindings all expired can be bound again */
	m = msg("alice", "203.0.113.7", 3000, 3);
	assert_int_equal(knock_bind_table_add(t, &m, 1), 0);
	assert_int_equal(check(t, "alice", "203.0.113.7", 3000), 1);
	knock_bind_table_free(t);
}

static void
test_table_renew_and_cap(void **state)
{
	struct knock_bind_table *t;
	struct knock_bind_msg m;
	char a[32];
	uint8_t id[16];
	int i;

	(void)state;
	assert_non_null(t = knock_bind_table_new());
	/* a repeat knock from one address renews, it is not a second one */
	m = msg("alice", "203.0.113.7", 1000, 1);
	assert_int_equal(knock_bind_table_add(t, &m, 0), 0);
	m = msg("alice", "203.0.113.7", 1100, 2);
	assert_int_equal(knock_bind_table_add(t, &m, 0), 0);
	assert_int_equal(knock_bind_table_expire(t, 0), 1);
	assert_int_equal(knock_bind_table_check(t, "alice", &m.addr, 1050,
	    id), 1);
	assert_int_equal(id[0], 2);
	/* 16 more addresses: the oldest (203.0.113.7) goes first */
	for (i = 0; i < KNOCK_BIND_PER_USER; i++) {
		snprintf(a, sizeof(a), "198.51.100.%d", i + 1);
		m = msg("alice", a, 5000, (uint8_t)(10 + i));
		assert_int_equal(knock_bind_table_add(t, &m, 0), 0);
	}
	assert_int_equal(knock_bind_table_expire(t, 0), KNOCK_BIND_PER_USER);
	assert_int_equal(check(t, "alice", "203.0.113.7", 500), 0);
	assert_int_equal(check(t, "alice", "198.51.100.1", 500), 1);
	/* and the next one pushes out 198.51.100.1, then .2 */
	m = msg("alice", "192.0.2.1", 5000, 40);
	assert_int_equal(knock_bind_table_add(t, &m, 0), 0);
	assert_int_equal(check(t, "alice", "198.51.100.1", 500), 0);
	assert_int_equal(check(t, "alice", "198.51.100.2", 500), 1);
	assert_int_equal(check(t, "alice", "192.0.2.1", 500), 1);
	/* renewing .2 makes it the newest: .3 goes next */
	m = msg("alice", "198.51.100.2", 5000, 41);
	assert_int_equal(knock_bind_table_add(t, &m, 0), 0);
	m = msg("alice", "192.0.2.2", 5000, 42);
	assert_int_equal(knock_bind_table_add(t, &m, 0), 0);
	assert_int_equal(check(t, "alice", "198.51.100.2", 500), 1);
	assert_int_equal(check(t, "alice", "198.51.100.3", 500), 0);
	assert_int_equal(knock_bind_table_expire(t, 0), KNOCK_BIND_PER_USER);
	/* another user's cap is their own */
	m = msg("bob", "192.0.2.9", 5000, 43);
	assert_int_equal(knock_bind_table_add(t, &m, 0), 0);
	assert_int_equal(knock_bind_table_expire(t, 0),
	    KNOCK_BIND_PER_USER + 1);
	knock_bind_table_free(t);
}

/* Full: the binding that ends first makes room. */
static void
test_table_global_cap(void **state)
{
	struct knock_bind_table *t;
	struct knock_bind_msg m;
	char user[16];
	size_t i;

	(void)state;
	assert_non_null(t = knock_bind_table_new());
	for (i = 0; i < KNOCK_BIND_MAX; i++) {
		snprintf(user, sizeof(user), "u%zu", i / KNOCK_BIND_PER_USER);
		m = msg(user, "192.0.2.1", 10000 + i, 0);
		m.addr.a[3] = (uint8_t)(i % KNOCK_BIND_PER_USER + 1);
		assert_int_equal(knock_bind_table_add(t, &m, 0), 0);
	}
	assert_int_equal(knock_bind_table_expire(t, 0), KNOCK_BIND_MAX);
	m = msg("late", "192.0.2.200", 20000, 0);
	assert_int_equal(knock_bind_table_add(t, &m, 0), 0);
	assert_int_equal(knock_bind_table_expire(t, 0), KNOCK_BIND_MAX);
	assert_int_equal(check(t, "late", "192.0.2.200", 1), 1);
	assert_int_equal(check(t, "u0", "192.0.2.1", 1), 0);
	assert_int_equal(check(t, "u0", "192.0.2.2", 1), 1);
	knock_bind_table_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_round_trip),
		cmocka_unit_test(test_ipv6_round_trip),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test(test_table_user_and_addr),
		cmocka_unit_test(test_table_expiry),
		cmocka_unit_test(test_table_renew_and_cap),
		cmocka_unit_test(test_table_global_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
