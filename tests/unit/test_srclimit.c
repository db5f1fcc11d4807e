/*
 * test_srclimit: per-source penalties and the start-up limit.
 * What the accept loop relies on: penalties double and cap, end at the
 * right second, follow an IPv6 /64 and an IPv4-mapped address, spare the
 * exempt networks, and the table never grows past its size however many
 * addresses an attacker has.
 */
#include <sys/socket.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"
#include "srclimit.h"

#define BIG_N	1000000

static struct addr
A(const char *s)
{
	struct addr a;

	if (addr_parse(s, &a) != 0) {
		fail_msg("addr_parse(\"%s\") failed", s);
	}
	return a;
}

static struct addr_net
N(const char *s)
{
	struct addr_net n;

	if (addr_parse_net(s, &n) != 0) {
		fail_msg("addr_parse_net(\"%s\") failed", s);
	}
	return n;
}

/* A distinct source for every i: IPv4 when even, an IPv6 /64 when odd. */
static struct addr
nth(uint32_t i)
{
	struct addr a;

	memset(&a, 0, sizeof(a));
	if (i % 2 == 0) {
		a.af = AF_INET;
		a.a[0] = 10;
		a.a[1] = (uint8_t)(i >> 16);
		a.a[2] = (uint8_t)(i >> 8);
		a.a[3] = (uint8_t)i;
	} else {
		a.af = AF_INET6;
		a.a[0] = 0x20;
		a.a[1] = 0x01;
		a.a[2] = 0x0d;
		a.a[3] = 0xb8;
		a.a[4] = (uint8_t)(i >> 24);
		a.a[5] = (uint8_t)(i >> 16);
		a.a[6] = (uint8_t)(i >> 8);
		a.a[7] = (uint8_t)i;
		a.a[15] = 1;
	}
	return a;
}

static struct srclimit_conf
conf_default(void)
{
	struct srclimit_conf c;

	memset(&c, 0, sizeof(c));
	c.penalty[SRCLIMIT_AUTHFAIL] = 5;
	c.penalty[SRCLIMIT_NOAUTH] = 2;
	c.penalty[SRCLIMIT_ERROR] = 10;
	c.penalty_max = 600;
	c.table_size = 1024;
	c.startups_begin = 10;
	c.startups_rate = 30;
	c.startups_full = 100;
	return c;
}

static struct srclimit *
new_default(void)
{
	struct srclimit_conf c = conf_default();
	struct srclimit *s;

	if ((s = srclimit_new(&c)) == NULL) {
		fail_msg("srclimit_new failed");
	}
	return s;
}

/* Penalised at now, with exactly want seconds left (0: not penalised). */
static void
assert_left(struct srclimit *s, const char *src, time_t now,
    unsigned long want)
{
	struct addr a = A(src);
	unsigned long left = 12345;

	assert_int_equal(srclimit_penalised(s, &a, now, &left), want > 0);
	assert_int_equal(left, want);
}

static unsigned long
pen(struct srclimit *s, const char *src, enum srclimit_offence what,
    time_t now)
{
	struct addr a = A(src);

	return srclimit_penalise(s, &a, what, now);
}

static void
test_doubles_and_caps(void **state)
{
	/* 5 * 2^n: the eighth offence would be 640, capped at 600. */
	static const unsigned long want[] = {
		5, 10, 20, 40, 80, 160, 320, 600, 600, 600
	};
	struct srclimit *s = new_default();
	time_t now = 1000;
	unsigned long got;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		/* Each offence comes as soon as the last penalty is over. */
		assert_left(s, "192.0.2.1", now, 0);
		got = pen(s, "192.0.2.1", SRCLIMIT_AUTHFAIL, now);
		assert_int_equal(got, want[i]);
		assert_left(s, "192.0.2.1", now, want[i]);
		now += (time_t)got;
	}
	/* Another source starts from its own base. */
	assert_int_equal(pen(s, "192.0.2.2", SRCLIMIT_ERROR, now), 10);
	assert_int_equal(pen(s, "192.0.2.3", SRCLIMIT_NOAUTH, now), 2);
	srclimit_free(s);
}

static void
test_overlapping_offences(void **state)
{
	struct srclimit *s = new_default();

	(void)state;
	/* Two offences in the same second: the later, longer one wins. */
	assert_int_equal(pen(s, "192.0.2.1", SRCLIMIT_AUTHFAIL, 100), 5);
	assert_int_equal(pen(s, "192.0.2.1", SRCLIMIT_AUTHFAIL, 100), 10);
	/* A short offence never shortens a running penalty. */
	assert_int_equal(pen(s, "192.0.2.1", SRCLIMIT_NOAUTH, 101), 9);
	srclimit_free(s);
}

static void
test_expires_on_the_second(void **state)
{
	struct srclimit *s = new_default();

	(void)state;
	assert_int_equal(pen(s, "198.51.100.7", SRCLIMIT_ERROR, 100), 10);
	assert_left(s, "198.51.100.7", 100, 10);
	assert_left(s, "198.51.100.7", 105, 5);
	assert_left(s, "198.51.100.7", 109, 1);
	assert_left(s, "198.51.100.7", 110, 0);
	assert_left(s, "198.51.100.7", 111, 0);
	assert_left(s, "198.51.100.8", 100, 0);
	/* NULL for left is allowed. */
	{
		struct addr a = A("198.51.100.7");

		assert_int_equal(srclimit_penalised(s, &a, 109, NULL), 1);
	}
	srclimit_free(s);
}

static void
test_count_remembered_then_forgotten(void **state)
{
	struct srclimit *s = new_default();

	(void)state;
	/* Expiry 105, then 115. */
	assert_int_equal(pen(s, "192.0.2.1", SRCLIMIT_AUTHFAIL, 100), 5);
	assert_int_equal(pen(s, "192.0.2.1", SRCLIMIT_AUTHFAIL, 105), 10);
	assert_int_equal(pen(s, "192.0.2.2", SRCLIMIT_AUTHFAIL, 100), 5);
	assert_int_equal(pen(s, "192.0.2.2", SRCLIMIT_AUTHFAIL, 105), 10);
	/* Remembered for penalty_max (600) after the penalty ends... */
	assert_int_equal(pen(s, "192.0.2.1", SRCLIMIT_AUTHFAIL, 714), 20);
	/* ...and a fresh start after that. */
	assert_int_equal(pen(s, "192.0.2.2", SRCLIMIT_AUTHFAIL, 715), 5);
	srclimit_free(s);

	/*
	 * The same with older entries about, so the forgotten source is
	 * still in the table (only a few are reaped per call) and has to
	 * be reset rather than found missing.
	 */
	s = new_default();
	assert_int_equal(pen(s, "198.51.100.1", SRCLIMIT_AUTHFAIL, 90), 5);
	assert_int_equal(pen(s, "198.51.100.2", SRCLIMIT_AUTHFAIL, 90), 5);
	assert_int_equal(pen(s, "198.51.100.3", SRCLIMIT_AUTHFAIL, 90), 5);
	assert_int_equal(pen(s, "198.51.100.4", SRCLIMIT_AUTHFAIL, 90), 5);
	assert_int_equal(pen(s, "198.51.100.5", SRCLIMIT_AUTHFAIL, 90), 5);
	assert_int_equal(pen(s, "192.0.2.2", SRCLIMIT_AUTHFAIL, 100), 5);
	assert_int_equal(pen(s, "192.0.2.2", SRCLIMIT_AUTHFAIL, 105), 10);
	assert_int_equal(pen(s, "192.0.2.2", SRCLIMIT_AUTHFAIL, 715), 5);
	assert_int_equal(pen(s, "192.0.2.2", SRCLIMIT_AUTHFAIL, 720), 10);
	srclimit_free(s);
}

static void
test_ipv6_slash64(void **state)
{
	struct srclimit *s = new_default();

	(void)state;
	assert_int_equal(pen(s, "2001:db8:1:2::1", SRCLIMIT_AUTHFAIL, 100), 5);
	assert_left(s, "2001:db8:1:2::1", 100, 5);
	assert_left(s, "2001:db8:1:2:ffff:ffff:ffff:ffff", 100, 5);
	assert_left(s, "2001:db8:1:2:1234::99", 101, 4);
	/* Neighbouring /64s are different sources. */
	assert_left(s, "2001:db8:1:3::1", 100, 0);
	assert_left(s, "2001:db8:1:1:ffff:ffff:ffff:ffff", 100, 0);
	/* Another host of the same /64 is a repeat offender. */
	assert_int_equal(pen(s, "2001:db8:1:2::beef", SRCLIMIT_AUTHFAIL, 105),
	    10);
	assert_left(s, "2001:db8:1:2::1", 105, 10);
	/* An IPv4 address and an IPv6 prefix with the same bytes differ. */
	assert_int_equal(pen(s, "1.2.3.4", SRCLIMIT_ERROR, 200), 10);
	assert_left(s, "102:304::", 200, 0);
	assert_left(s, "102:304::1", 200, 0);
	srclimit_free(s);
}

static void
test_ipv4_mapped(void **state)
{
	struct srclimit *s = new_default();
	struct addr raw;
	unsigned long left;

	(void)state;
	assert_int_equal(pen(s, "::ffff:192.0.2.7", SRCLIMIT_AUTHFAIL, 100),
	    5);
	assert_left(s, "192.0.2.7", 100, 5);
	assert_left(s, "192.0.2.8", 100, 0);
	/* And the other way round, as a repeat offence. */
	assert_int_equal(pen(s, "192.0.2.7", SRCLIMIT_AUTHFAIL, 105), 10);
	assert_left(s, "::ffff:192.0.2.7", 105, 10);
	/* A mapped address that skipped normalisation is still the same. */
	memset(&raw, 0, sizeof(raw));
	raw.af = AF_INET6;
	raw.a[10] = 0xff;
	raw.a[11] = 0xff;
	raw.a[12] = 192;
	raw.a[14] = 2;
	raw.a[15] = 7;
	assert_int_equal(srclimit_penalised(s, &raw, 105, &left), 1);
	assert_int_equal(left, 10);
	srclimit_free(s);
}

static void
test_exempt(void **state)
{
	struct addr_net ex[3];
	struct srclimit_conf c = conf_default();
	struct srclimit *s;

	(void)state;
	ex[0] = N("10.0.0.0/8");
	ex[1] = N("2001:db8:aa::/48");
	ex[2] = N("2001:db8:1:2::7");
	c.exempt = ex;
	c.nexempt = 3;
	s = srclimit_new(&c);
	/* The copy is ours: the caller's array may go away on reload. */
	memset(ex, 0, sizeof(ex));
	assert_non_null(s);

	assert_int_equal(pen(s, "10.1.2.3", SRCLIMIT_ERROR, 100), 0);
	assert_int_equal(pen(s, "::ffff:10.1.2.3", SRCLIMIT_ERROR, 100), 0);
	assert_int_equal(pen(s, "2001:db8:aa:5::1", SRCLIMIT_ERROR, 100), 0);
	assert_left(s, "10.1.2.3", 100, 0);
	assert_left(s, "2001:db8:aa:5::1", 100, 0);
	assert_int_equal(srclimit_active(s, 100), 0);
	/* Just outside is not exempt. */
	assert_int_equal(pen(s, "11.0.0.1", SRCLIMIT_ERROR, 100), 10);
	assert_int_equal(pen(s, "2001:db8:ab::1", SRCLIMIT_ERROR, 100), 10);
	/* An exempt host is let in even when its /64 is penalised. */
	assert_int_equal(pen(s, "2001:db8:1:2::8", SRCLIMIT_ERROR, 100), 10);
	assert_left(s, "2001:db8:1:2::9", 100, 10);
	assert_left(s, "2001:db8:1:2::7", 100, 0);
	assert_int_equal(pen(s, "2001:db8:1:2::7", SRCLIMIT_ERROR, 100), 0);
	assert_int_equal(srclimit_active(s, 100), 3);
	srclimit_free(s);
}

static void
test_zero_base_not_recorded(void **state)
{
	struct srclimit_conf c = conf_default();
	struct srclimit *s;

	(void)state;
	c.penalty[SRCLIMIT_NOAUTH] = 0;
	assert_non_null(s = srclimit_new(&c));
	assert_int_equal(pen(s, "192.0.2.1", SRCLIMIT_NOAUTH, 100), 0);
	assert_int_equal(srclimit_active(s, 100), 0);
	/* It leaves a running penalty and the count alone. */
	assert_int_equal(pen(s, "192.0.2.1", SRCLIMIT_AUTHFAIL, 100), 5);
	assert_int_equal(pen(s, "192.0.2.1", SRCLIMIT_NOAUTH, 101), 4);
	assert_int_equal(pen(s, "192.0.2.1", SRCLIMIT_AUTHFAIL, 105), 10);
	srclimit_free(s);
}

static void
test_table_bound(void **state)
{
	struct srclimit_conf c = conf_default();
	struct srclimit *s;
	struct addr a;
	unsigned long left;
	uint32_t i;
	time_t t0 = 1000, last = t0 + BIG_N - 1;

	(void)state;
	/* Long penalties, so every entry is still running at the end. */
	c.penalty[SRCLIMIT_AUTHFAIL] = 2 * BIG_N;
	c.penalty_max = 8 * BIG_N;
	c.table_size = 1024;
	assert_non_null(s = srclimit_new(&c));
	for (i = 0; i < BIG_N; i++) {
		a = nth(i);
		if (srclimit_penalise(s, &a, SRCLIMIT_AUTHFAIL,
		    t0 + (time_t)i) != 2 * BIG_N) {
			fail_msg("offender %u was not recorded", i);
		}
		if (i % 4096 == 0 && srclimit_active(s, t0 + (time_t)i) >
		    1024) {
			fail_msg("table over its bound at %u", i);
		}
	}
	assert_int_equal(srclimit_active(s, last), 1024);
	assert_int_equal(srclimit_evictions(s), BIG_N - 1024);
	/* The most recent 1024 offenders are the ones kept... */
	for (i = BIG_N - 1024; i < BIG_N; i++) {
		a = nth(i);
		if (srclimit_penalised(s, &a, last, &left) != 1 ||
		    left != 2 * BIG_N - (BIG_N - 1 - i)) {
			fail_msg("recent offender %u was evicted", i);
		}
	}
	/* ...with their counts: a repeat offence doubles. */
	a = nth(BIG_N - 1);
	assert_int_equal(srclimit_penalise(s, &a, SRCLIMIT_AUTHFAIL, last),
	    4 * BIG_N);
	/* The older ones are gone. */
	for (i = 0; i < BIG_N - 1024; i += 9973) {
		a = nth(i);
		assert_int_equal(srclimit_penalised(s, &a, last, NULL), 0);
	}
	a = nth(BIG_N - 1025);
	assert_int_equal(srclimit_penalised(s, &a, last, NULL), 0);
	srclimit_free(s);
}

static void
test_long_penalty_not_displaced(void **state)
{
	struct srclimit_conf c = conf_default();
	struct srclimit *s;
	struct addr a;
	uint32_t i;

	(void)state;
	c.table_size = 16;
	c.penalty[SRCLIMIT_ERROR] = 500;
	assert_non_null(s = srclimit_new(&c));
	for (i = 0; i < 16; i++) {
		a = nth(i);
		assert_int_equal(srclimit_penalise(s, &a, SRCLIMIT_ERROR, 0),
		    500);
	}
	/* A shorter new penalty is the one that expires soonest: dropped. */
	a = nth(100);
	assert_int_equal(srclimit_penalise(s, &a, SRCLIMIT_AUTHFAIL, 1), 0);
	assert_int_equal(srclimit_penalised(s, &a, 1, NULL), 0);
	assert_int_equal(srclimit_evictions(s), 1);
	assert_int_equal(srclimit_active(s, 1), 16);
	/* A longer one displaces the soonest-expiring entry. */
	assert_int_equal(srclimit_penalise(s, &a, SRCLIMIT_ERROR, 2), 500);
	assert_int_equal(srclimit_evictions(s), 2);
	assert_int_equal(srclimit_active(s, 2), 16);
	assert_int_equal(srclimit_penalised(s, &a, 2, NULL), 1);
	srclimit_free(s);

	/* A penalty that is over goes before any running one. */
	assert_non_null(s = srclimit_new(&c));
	for (i = 0; i < 15; i++) {
		a = nth(i);
		(void)srclimit_penalise(s, &a, SRCLIMIT_ERROR, 0);
	}
	assert_int_equal(pen(s, "192.0.2.1", SRCLIMIT_AUTHFAIL, 0), 5);
	assert_int_equal(pen(s, "192.0.2.2", SRCLIMIT_AUTHFAIL, 10), 5);
	assert_int_equal(srclimit_evictions(s), 1);
	assert_int_equal(srclimit_active(s, 10), 16);
	assert_left(s, "192.0.2.2", 10, 5);
	srclimit_free(s);
}

static void
test_startup_drop(void **state)
{
	struct srclimit_conf c = conf_default();
	struct srclimit *s;

	(void)state;
	/* begin 10, rate 30%, full 100. */
	assert_non_null(s = srclimit_new(&c));
	assert_int_equal(srclimit_startup_drop(s, 0, 0), 0);
	assert_int_equal(srclimit_startup_drop(s, 9, 0), 0);
	/* At begin: 30%. */
	assert_int_equal(srclimit_startup_drop(s, 10, 0), 1);
	assert_int_equal(srclimit_startup_drop(s, 10, 29), 1);
	assert_int_equal(srclimit_startup_drop(s, 10, 30), 0);
	assert_int_equal(srclimit_startup_drop(s, 10, 99), 0);
	/* Midpoint 55: 30 + 70 * 45 / 90 = 65%. */
	assert_int_equal(srclimit_startup_drop(s, 55, 64), 1);
	assert_int_equal(srclimit_startup_drop(s, 55, 65), 0);
	/* 99: 30 + 70 * 89 / 90 = 99%. */
	assert_int_equal(srclimit_startup_drop(s, 99, 98), 1);
	assert_int_equal(srclimit_startup_drop(s, 99, 99), 0);
	/* At and past full: always. */
	assert_int_equal(srclimit_startup_drop(s, 100, 99), 1);
	assert_int_equal(srclimit_startup_drop(s, 5000, 99), 1);
	srclimit_free(s);

	/* begin == full: a hard limit. */
	c.startups_begin = c.startups_full = 10;
	assert_non_null(s = srclimit_new(&c));
	assert_int_equal(srclimit_startup_drop(s, 9, 0), 0);
	assert_int_equal(srclimit_startup_drop(s, 10, 99), 1);
	srclimit_free(s);

	/* Rate 100 drops everything from begin. */
	c = conf_default();
	c.startups_rate = 100;
	assert_non_null(s = srclimit_new(&c));
	assert_int_equal(srclimit_startup_drop(s, 9, 0), 0);
	assert_int_equal(srclimit_startup_drop(s, 10, 99), 1);
	srclimit_free(s);

	/* Huge limits do not overflow. */
	c = conf_default();
	c.startups_begin = 0;
	c.startups_rate = 0;
	c.startups_full = (unsigned long)-1;
	assert_non_null(s = srclimit_new(&c));
	/* Just under half way: 49%. */
	assert_int_equal(srclimit_startup_drop(s, (size_t)-1 / 2, 48), 1);
	assert_int_equal(srclimit_startup_drop(s, (size_t)-1 / 2, 50), 0);
	srclimit_free(s);
}

static void
test_bad_conf(void **state)
{
	struct srclimit_conf c;
	struct srclimit *s;

	(void)state;
	c = conf_default();
	c.startups_rate = 101;
	assert_null(srclimit_new(&c));
	c = conf_default();
	c.startups_begin = 101;
	assert_null(srclimit_new(&c));
	c = conf_default();
	c.nexempt = 1;
	assert_null(srclimit_new(&c));

	/* A bad reload keeps the old limits. */
	c = conf_default();
	assert_non_null(s = srclimit_new(&c));
	c.startups_rate = 200;
	c.penalty[SRCLIMIT_AUTHFAIL] = 77;
	assert_int_equal(srclimit_reconfigure(s, &c), -1);
	assert_int_equal(srclimit_startup_drop(s, 10, 30), 0);
	assert_int_equal(pen(s, "192.0.2.1", SRCLIMIT_AUTHFAIL, 100), 5);
	srclimit_free(s);
	srclimit_free(NULL);
}

static void
test_table_size_clamped(void **state)
{
	struct srclimit_conf c = conf_default();
	struct srclimit *s;
	struct addr a;
	uint32_t i;

	(void)state;
	/* Below the minimum of 16: 16. */
	c.table_size = 0;
	assert_non_null(s = srclimit_new(&c));
	for (i = 0; i < 100; i++) {
		a = nth(i);
		(void)srclimit_penalise(s, &a, SRCLIMIT_ERROR, (time_t)i);
	}
	assert_int_equal(srclimit_active(s, 99), 10);
	assert_int_equal(srclimit_active(s, 90), 16);
	assert_int_equal(srclimit_evictions(s), 100 - 16);
	srclimit_free(s);

	/* Above the maximum of 1,048,576: that many, grown to on demand. */
	c.table_size = (size_t)-1;
	c.penalty[SRCLIMIT_ERROR] = 2 * BIG_N;
	c.penalty_max = 2 * BIG_N;
	assert_non_null(s = srclimit_new(&c));
	for (i = 0; i < 1048576 + 100; i++) {
		a = nth(i);
		(void)srclimit_penalise(s, &a, SRCLIMIT_ERROR, (time_t)i);
	}
	assert_int_equal(srclimit_evictions(s), 100);
	assert_int_equal(srclimit_active(s, (time_t)i), 1048576);
	a = nth(99);
	assert_int_equal(srclimit_penalised(s, &a, (time_t)i, NULL), 0);
	a = nth(100);
	assert_int_equal(srclimit_penalised(s, &a, (time_t)i, NULL), 1);
	srclimit_free(s);
}

static void
test_reconfigure_shrink(void **state)
{
	struct srclimit_conf c = conf_default();
	struct addr_net ex = N("192.0.2.0/24");
	struct srclimit *s;
	struct addr a;
	unsigned long left;
	uint32_t i;

	(void)state;
	c.penalty[SRCLIMIT_ERROR] = 5000;
	c.penalty_max = 10000;
	assert_non_null(s = srclimit_new(&c));
	for (i = 0; i < 1000; i++) {
		a = nth(i);
		(void)srclimit_penalise(s, &a, SRCLIMIT_ERROR, (time_t)i);
	}
	assert_int_equal(pen(s, "192.0.2.1", SRCLIMIT_ERROR, 0), 5000);
	assert_int_equal(srclimit_active(s, 1000), 1001);
	assert_int_equal(srclimit_evictions(s), 0);

	/* Shrink to 16: the 16 that expire last stay, penalties kept. */
	c.table_size = 16;
	c.penalty[SRCLIMIT_ERROR] = 10;
	assert_int_equal(srclimit_reconfigure(s, &c), 0);
	assert_int_equal(srclimit_active(s, 1000), 16);
	assert_int_equal(srclimit_evictions(s), 1001 - 16);
	for (i = 1000 - 16; i < 1000; i++) {
		a = nth(i);
		assert_int_equal(srclimit_penalised(s, &a, 1000, &left), 1);
		assert_int_equal(left, 5000 + i - 1000);
	}
	a = nth(1000 - 17);
	assert_int_equal(srclimit_penalised(s, &a, 1000, NULL), 0);
	/* Now full of longer penalties: a new 10 s one is not kept. */
	assert_int_equal(pen(s, "192.0.2.1", SRCLIMIT_ERROR, 1000), 0);
	assert_int_equal(srclimit_evictions(s), 1001 - 16 + 1);

	/* Still bounded, and new limits apply. */
	for (i = 2000; i < 2100; i++) {
		a = nth(i);
		assert_int_equal(srclimit_penalise(s, &a, SRCLIMIT_ERROR,
		    10000), 10);
	}
	assert_int_equal(srclimit_active(s, 10000), 16);

	/* Growing again makes room; a new exempt list applies at once. */
	c.table_size = 64;
	c.exempt = &ex;
	c.nexempt = 1;
	assert_int_equal(pen(s, "192.0.2.1", SRCLIMIT_ERROR, 10000), 10);
	assert_int_equal(srclimit_reconfigure(s, &c), 0);
	assert_left(s, "192.0.2.1", 10000, 0);
	for (i = 3000; i < 3100; i++) {
		a = nth(i);
		(void)srclimit_penalise(s, &a, SRCLIMIT_ERROR, 10001);
	}
	assert_int_equal(srclimit_active(s, 10001), 64);
	srclimit_free(s);
}

/*
 * A plain model of the table, checked call by call against the real one
 * under random offences, look-ups and reaping.  Times are whole "units"
 * plus the call's own number in the low bits, and penalties are whole
 * units, so an entry's expiry carries the number of the call that set
 * it: no two entries ever expire together, and which one is evicted or
 * forgotten is fully determined.  Mixed offences and doubling make
 * entries reach the heap out of expiry order, so that entries are also
 * forgotten from inside it, not only from its top.
 */
#define MODEL_TABLE	40
#define MODEL_POOL	120
#define MODEL_STEPS	1000000
#define MODEL_UNIT	((int64_t)1 << 24)

struct model {
	int64_t		expiry[MODEL_POOL];	/* 0: not in the table */
	unsigned int	count[MODEL_POOL];
	size_t		n;
	uint64_t	evictions;
	unsigned long	base[SRCLIMIT_NOFFENCE], max;
};

static int
model_min(const struct model *m)
{
	int i, min = -1;

	for (i = 0; i < MODEL_POOL; i++) {
		if (m->expiry[i] != 0 &&
		    (min < 0 || m->expiry[i] < m->expiry[min])) {
			min = i;
		}
	}
	return min;
}

static int
model_stale(const struct model *m, int i, int64_t now)
{
	return m->expiry[i] + (int64_t)m->max <= now;
}

static void
model_forget(struct model *m, int i)
{
	m->expiry[i] = 0;
	m->n--;
}

/* Up to four entries past remembering, soonest first. */
static void
model_reap(struct model *m, int64_t now)
{
	int k, min;

	for (k = 0; k < 4 && (min = model_min(m)) >= 0; k++) {
		if (!model_stale(m, min, now)) {
			break;
		}
		model_forget(m, min);
	}
}

static unsigned long
model_penalise(struct model *m, int i, enum srclimit_offence what,
    int64_t now)
{
	unsigned long p;
	int min;

	model_reap(m, now);
	if (m->expiry[i] == 0) {
		p = m->base[what] < m->max ? m->base[what] : m->max;
		if (m->n == MODEL_TABLE) {
			min = model_min(m);
			m->evictions++;
			if (m->expiry[min] > now + (int64_t)p) {
				/* The newcomer expires soonest. */
				return 0;
			}
			model_forget(m, min);
		}
		m->n++;
		m->count[i] = 0;
	} else if (model_stale(m, i, now)) {
		m->count[i] = 0;
	}
	p = m->base[what];
	if (m->count[i] >= 32 || p << m->count[i] > m->max) {
		p = m->max;
	} else {
		p <<= m->count[i];
	}
	if (now + (int64_t)p > m->expiry[i]) {
		m->expiry[i] = now + (int64_t)p;
	}
	m->count[i]++;
	return (unsigned long)(m->expiry[i] - now);
}

static unsigned long
model_penalised(struct model *m, int i, int64_t now)
{
	model_reap(m, now);
	if (m->expiry[i] == 0) {
		return 0;
	}
	if (m->expiry[i] <= now) {
		if (model_stale(m, i, now)) {
			model_forget(m, i);
		}
		return 0;
	}
	return (unsigned long)(m->expiry[i] - now);
}

static size_t
model_active(struct model *m, int64_t now)
{
	size_t k = 0;
	int i;

	model_reap(m, now);
	for (i = 0; i < MODEL_POOL; i++) {
		if (m->expiry[i] > now) {
			k++;
		}
	}
	return k;
}

static void
test_against_model(void **state)
{
	struct srclimit_conf c = conf_default();
	struct srclimit *s;
	struct model m;
	struct addr a;
	enum srclimit_offence what;
	unsigned long left, want;
	uint32_t x = 1, op, step;
	int64_t now, walk = 1;
	int i, got;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.base[SRCLIMIT_AUTHFAIL] = c.penalty[SRCLIMIT_AUTHFAIL] =
	    5 * MODEL_UNIT;
	m.base[SRCLIMIT_NOAUTH] = c.penalty[SRCLIMIT_NOAUTH] =
	    2 * MODEL_UNIT;
	m.base[SRCLIMIT_ERROR] = c.penalty[SRCLIMIT_ERROR] =
	    10 * MODEL_UNIT;
	m.max = c.penalty_max = 60 * MODEL_UNIT;
	c.table_size = MODEL_TABLE;
	assert_non_null(s = srclimit_new(&c));
	for (step = 1; step < MODEL_STEPS; step++) {
		x = x * 1103515245 + 12345;
		op = (x >> 4) % 8;
		i = (int)((x >> 8) % MODEL_POOL);
		what = (enum srclimit_offence)((x >> 12) % 3);
		a = nth((uint32_t)i);
		/*
		 * Busy enough to keep the table full; now and then a quiet
		 * spell after which everything is past remembering.
		 */
		walk += (x >> 20) % 3 == 0;
		if ((x >> 24) % 256 == 0) {
			walk += 200;
		}
		now = walk * MODEL_UNIT + step;
		if (op < 3) {
			want = model_penalise(&m, i, what, now);
			if (srclimit_penalise(s, &a, what, (time_t)now) !=
			    want) {
				fail_msg("call %u: penalise", step);
			}
		} else if (op < 7) {
			want = model_penalised(&m, i, now);
			got = srclimit_penalised(s, &a, (time_t)now, &left);
			if (got != (want > 0) || left != want) {
				fail_msg("call %u: source %d: %d/%lu, want %lu",
				    step, i, got, left, want);
			}
		} else if (srclimit_active(s, (time_t)now) !=
		    model_active(&m, now)) {
			fail_msg("call %u: active", step);
		}
		if (srclimit_evictions(s) != m.evictions) {
			fail_msg("call %u: evictions", step);
		}
	}
	assert_true(m.evictions > 1000);
	srclimit_free(s);
}

static void
test_many_calls(void **state)
{
	struct srclimit_conf c = conf_default();
	struct srclimit *s;
	struct addr a;
	unsigned long p, left;
	uint32_t i, src, x = 12345;
	size_t calls = 0, penalised = 0;
	time_t now = 0;

	(void)state;
	c.table_size = 8192;
	assert_non_null(s = srclimit_new(&c));
	for (i = 0; i < BIG_N; i++) {
		/* 500 attempts a second from a pool of 100,000 sources. */
		now = (time_t)(i / 500);
		x = x * 1103515245 + 12345;
		src = (x >> 8) % 100000;
		a = nth(src);
		p = srclimit_penalise(s, &a, (enum srclimit_offence)(i % 3),
		    now);
		calls++;
		if (srclimit_penalised(s, &a, now, &left)) {
			penalised++;
			if (left != p) {
				fail_msg("call %u: penalised %lu, left %lu",
				    i, p, left);
			}
		} else if (p != 0) {
			fail_msg("call %u: penalised %lu but not refused",
			    i, p);
		}
		calls++;
	}
	assert_int_equal(calls, 2 * BIG_N);
	assert_true(penalised > 0);
	assert_true(srclimit_active(s, now) <= 8192);
	srclimit_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doubles_and_caps),
		cmocka_unit_test(test_overlapping_offences),
		cmocka_unit_test(test_expires_on_the_second),
		cmocka_unit_test(test_count_remembered_then_forgotten),
		cmocka_unit_test(test_ipv6_slash64),
		cmocka_unit_test(test_ipv4_mapped),
		cmocka_unit_test(test_exempt),
		cmocka_unit_test(test_zero_base_not_recorded),
		cmocka_unit_test(test_table_bound),
		cmocka_unit_test(test_long_penalty_not_displaced),
		cmocka_unit_test(test_startup_drop),
		cmocka_unit_test(test_bad_conf),
		cmocka_unit_test(test_table_size_clamped),
		cmocka_unit_test(test_reconfigure_shrink),
		cmocka_unit_test(test_against_model),
		cmocka_unit_test(test_many_calls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
