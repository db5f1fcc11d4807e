/*
 * test_spa_budget: knockd's token buckets (PROTOCOL.knock section 8,
 * steps 4, 12 and 17).
 * What knockd relies on: a new source starts with SourceBurst tokens,
 * buckets refill exactly per millisecond, returning sources draw from R
 * and not from G, an empty S(x) passes only while G is at least half
 * full, a dropped datagram takes nothing, the tables evict the least
 * recently used entry (counted), users have their own per-minute budget,
 * and neither a clock that goes back nor the largest times overflow
 * anything.  Half a million random operations are checked step by step
 * against a plain model of section 8.  The ns/op figure printed at the
 * end is information only.
 */
#include <sys/socket.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "addr.h"
#include "spa_budget.h"

#define OK	SPA_BUDGET_OK
#define OPEN	SPA_BUDGET_OPEN
#define SOURCE	SPA_BUDGET_SOURCE
#define USER	SPA_BUDGET_USER

static struct spa_budget_conf
conf_default(void)
{
	struct spa_budget_conf c;

	memset(&c, 0, sizeof(c));
	c.open_rate = 4000;
	c.returning_rate = 1000;
	c.returning_time = 7 * 24 * 3600;
	c.source_rate = 2;
	c.source_burst = 10;
	c.user_rate = 10;
	c.user_burst = 10;
	c.source_table = 65536;
	c.returning_table = 65536;
	return c;
}

static struct spa_budget *
new_budget(const struct spa_budget_conf *c, uint64_t now)
{
	struct spa_budget *b;

	if ((b = spa_budget_new(c, now)) == NULL) {
		fail_msg("spa_budget_new failed");
	}
	return b;
}

/* Source number i: 10.x.y.z, or 2001:db8:X:Y::1 (a /64 each) for v6. */
static struct addr
src(uint32_t i, int v6)
{
	char buf[ADDR_STRLEN];
	struct addr a;

	if (v6) {
		snprintf(buf, sizeof(buf), "2001:db8:%x:%x::1", i >> 16,
		    i & 0xffff);
	} else {
		snprintf(buf, sizeof(buf), "10.%u.%u.%u", (i >> 16) & 0xff,
		    (i >> 8) & 0xff, i & 0xff);
	}
	if (addr_parse(buf, &a) != 0) {
		fail_msg("addr_parse(\"%s\") failed", buf);
	}
	return a;
}

static int
take(struct spa_budget *b, uint32_t i, uint64_t now)
{
	struct addr a = src(i, 0);

	return spa_budget_take(b, &a, now);
}

static void
returning(struct spa_budget *b, uint32_t i, uint64_t now)
{
	struct addr a = src(i, 0);

	spa_budget_returning(b, &a, now);
}

/* n takes from source i at now, each expected to give want. */
static void
takes(struct spa_budget *b, uint32_t i, int n, uint64_t now, int want)
{
	int k;

	for (k = 0; k < n; k++) {
		if (take(b, i, now) != want) {
			fail_msg("take %d of source %u at %llu: not %d", k, i,
			    (unsigned long long)now, want);
		}
	}
}

/* Use up G exactly: sources first..first+n-1, SourceBurst (10) each. */
static void
drain_g(struct spa_budget *b, uint32_t first, uint32_t n, uint64_t now)
{
	uint32_t i;

	for (i = first; i < first + n; i++) {
		takes(b, i, 10, now, OK);
	}
}

static void
test_bad_conf(void **state)
{
	struct spa_budget_conf c = conf_default();

	(void)state;
	c.source_table = 0;
	assert_null(spa_budget_new(&c, 0));
	c = conf_default();
	c.returning_table = 0;
	assert_null(spa_budget_new(&c, 0));
	spa_budget_free(NULL);
}

/*
 * G holds 30, half is 15.  A new source has 10 tokens; then it passes on
 * G's spare capacity while G >= 15; a dropped datagram takes nothing.
 */
static void
test_new_source_and_half_rule(void **state)
{
	struct spa_budget_conf c = conf_default();
	struct spa_budget *b;

	(void)state;
	c.open_rate = 30;
	b = new_budget(&c, 0);
	takes(b, 1, 10, 0, OK);		/* S(1) 10 -> 0, G 30 -> 20 */
	takes(b, 1, 6, 0, OK);		/* on G alone: 20 -> 14 */
	takes(b, 1, 100, 0, SOURCE);	/* 14 < 15 */
	takes(b, 2, 10, 0, OK);		/* a new one is full: G -> 4 */
	takes(b, 2, 1, 0, SOURCE);
	takes(b, 3, 4, 0, OK);		/* G -> 0 */
	takes(b, 3, 100, 0, OPEN);	/* S(3) has 6, G none */
	/* 34 ms: G has 1.02 tokens, S(3) still its 6 (plus 0.068). */
	takes(b, 3, 1, 33, OPEN);
	takes(b, 3, 1, 34, OK);
	takes(b, 3, 1, 34, OPEN);
	/* 500 ms: S(1) has 1 token again, G 0.02 + 13.98 = 14. */
	takes(b, 1, 1, 500, OK);	/* G 13 */
	takes(b, 1, 1, 500, SOURCE);	/* 13 < 15 */
	assert_int_equal(spa_budget_evictions(b), 0);
	spa_budget_free(b);
}

/* S(x) refills SourceRate tokens a second, to the millisecond. */
static void
test_source_refill_exact(void **state)
{
	struct spa_budget_conf c = conf_default();
	struct spa_budget *b;

	(void)state;
	c.open_rate = 100;
	b = new_budget(&c, 1000);
	drain_g(b, 1, 10, 1000);	/* G and S(1..10) empty */
	/* 499 ms: S(10) 0.998, G 49.9 < half; 500 ms: S(10) 1, G 50. */
	takes(b, 10, 1, 1499, SOURCE);
	takes(b, 10, 1, 1500, OK);	/* on S and G: G 49 */
	takes(b, 10, 1, 1500, SOURCE);	/* empty S, G 49 < 50 */
	drain_g(b, 11, 4, 1500);	/* G 9 */
	takes(b, 15, 9, 1500, OK);	/* G 0 */
	/* G refills OpenRate (100) a second: one token in 10 ms. */
	takes(b, 16, 1, 1500, OPEN);
	takes(b, 16, 1, 1509, OPEN);
	takes(b, 16, 1, 1510, OK);
	spa_budget_free(b);
}

/* G: 1 token a ms from empty, checked for each ms of a second. */
static void
test_global_refill_each_ms(void **state)
{
	struct spa_budget_conf c = conf_default();
	struct spa_budget *b;
	uint32_t i, next = 1000;
	uint64_t t;

	(void)state;
	c.open_rate = 1000;
	b = new_budget(&c, 0);
	drain_g(b, 0, 100, 0);
	for (t = 1; t <= 1000; t++) {
		/* Each ms brings exactly one token, taken by a new source. */
		takes(b, next++, 1, t, OK);
		takes(b, next++, 1, t, OPEN);
	}
	for (i = 0; i < 100; i++) {
		/* S(i) refilled 2 tokens in that second: one each is OPEN. */
		takes(b, i, 1, 1000, OPEN);
	}
	spa_budget_free(b);
}

/* A returning source draws from R; G is untouched by it. */
static void
test_returning_uses_r(void **state)
{
	struct spa_budget_conf c = conf_default();
	struct spa_budget *b;

	(void)state;
	c.open_rate = 100;
	c.returning_rate = 5;
	b = new_budget(&c, 0);
	returning(b, 1, 0);
	takes(b, 1, 5, 0, OK);		/* R 5 -> 0, S(1) 10 -> 5 */
	drain_g(b, 100, 10, 0);		/* all 100 of G still there */
	takes(b, 1, 1, 0, OPEN);	/* neither R nor G */
	takes(b, 200, 1, 0, OPEN);
	/* R refills 5 a second: 1 token in 200 ms; G has 20 then. */
	takes(b, 1, 1, 199, OK);	/* falls back on G: 19.9 */
	takes(b, 1, 1, 200, OK);	/* R again */
	spa_budget_free(b);
}

/* Returning for ReturningTime after the last accepted knock, not 1 ms more. */
static void
test_returning_expires(void **state)
{
	struct spa_budget_conf c = conf_default();
	struct spa_budget *b;

	(void)state;
	c.open_rate = 1;		/* one G token: used up by source 9 */
	c.returning_time = 60;
	b = new_budget(&c, 0);
	returning(b, 1, 0);
	returning(b, 2, 10000);		/* refreshed later: 70 s */
	returning(b, 2, 5000);		/* an earlier one: no shorter */
	takes(b, 9, 1, 59999, OK);
	takes(b, 1, 3, 59999, OK);	/* on R */
	takes(b, 1, 1, 60000, OPEN);	/* no longer returning, G empty */
	takes(b, 9, 1, 69999, OK);	/* G full again: empty it */
	takes(b, 2, 1, 69999, OK);	/* on R */
	takes(b, 2, 1, 70000, OPEN);
	spa_budget_free(b);
}

/* Step 4 and the half rule on the largest and odd capacities. */
static void
test_half_of_odd_capacity(void **state)
{
	struct spa_budget_conf c = conf_default();
	struct spa_budget *b;

	(void)state;
	c.open_rate = 21;		/* half is 10.5 */
	b = new_budget(&c, 0);
	takes(b, 1, 10, 0, OK);		/* G 11 */
	takes(b, 1, 1, 0, OK);		/* 11 >= 10.5: G 10 */
	takes(b, 1, 1, 0, SOURCE);
	/* 23 ms later G is 10.483; 24 ms: 10.504. */
	takes(b, 1, 1, 23, SOURCE);
	takes(b, 1, 1, 24, OK);
	spa_budget_free(b);
}

/* A datagram dropped for open_budget leaves S(x) its token. */
static void
test_drop_takes_nothing(void **state)
{
	struct spa_budget_conf c = conf_default();
	struct spa_budget *b;
	uint32_t i;

	(void)state;
	c.open_rate = 100;
	c.source_table = 16;
	b = new_budget(&c, 0);
	takes(b, 1, 9, 0, OK);		/* S(1) 1, G 91 */
	drain_g(b, 2, 9, 0);		/* G 1 */
	takes(b, 20, 1, 0, OK);		/* G 0 */
	takes(b, 1, 1000, 0, OPEN);
	/* Dropped new sources are not even entered in the (16) table. */
	for (i = 1000; i < 1100; i++) {
		takes(b, i, 1, 0, OPEN);
	}
	assert_int_equal(spa_budget_evictions(b), 0);
	takes(b, 1, 1, 10, OK);		/* its last S token, 1 of G */
	takes(b, 1, 1, 10, SOURCE);
	spa_budget_free(b);
}

/* G 24 (half 12), two source entries, least recently used goes. */
static void
test_source_lru(void **state)
{
	struct spa_budget_conf c = conf_default();
	struct spa_budget *b;

	(void)state;
	c.open_rate = 24;
	c.source_table = 2;
	b = new_budget(&c, 0);
	takes(b, 1, 10, 0, OK);		/* G 14 */
	takes(b, 2, 1, 0, OK);		/* G 13 */
	takes(b, 1, 1, 0, OK);		/* empty S(1), half rule: G 12 */
	takes(b, 3, 1, 0, OK);		/* G 11, evicts 2, not 1 */
	assert_int_equal(spa_budget_evictions(b), 1);
	takes(b, 1, 1, 0, SOURCE);	/* S(1) is still empty, and used */
	takes(b, 2, 1, 0, OK);		/* new and full: G 10, evicts 3 */
	assert_int_equal(spa_budget_evictions(b), 2);
	takes(b, 1, 1, 0, SOURCE);	/* 1 survived again */
	takes(b, 3, 1, 0, OK);		/* evicts 2 (1 used after it) */
	takes(b, 2, 1, 0, OK);		/* evicts 1 */
	assert_int_equal(spa_budget_evictions(b), 4);
	takes(b, 1, 1, 0, OK);		/* forgotten: full again */
	assert_int_equal(spa_budget_evictions(b), 5);
	spa_budget_free(b);
}

/* Two returning entries; the one refreshed least recently goes. */
static void
test_returning_lru(void **state)
{
	struct spa_budget_conf c = conf_default();
	struct spa_budget *b;

	(void)state;
	c.open_rate = 1;
	c.returning_table = 2;
	c.returning_time = 100;
	b = new_budget(&c, 0);
	returning(b, 1, 0);
	returning(b, 2, 1);
	returning(b, 1, 2);		/* 1 refreshed */
	returning(b, 3, 3);		/* evicts 2 */
	assert_int_equal(spa_budget_evictions(b), 1);
	takes(b, 9, 1, 4, OK);		/* G empty */
	takes(b, 1, 1, 4, OK);
	takes(b, 3, 1, 4, OK);
	takes(b, 2, 1, 4, OPEN);
	/* An expired entry makes room without an eviction. */
	returning(b, 4, 100002);	/* 1 expired at 100002 */
	assert_int_equal(spa_budget_evictions(b), 1);
	returning(b, 5, 100003);	/* 3 expired at 100003 */
	assert_int_equal(spa_budget_evictions(b), 1);
	returning(b, 6, 100004);	/* 4 and 5 live: evicts 4 */
	assert_int_equal(spa_budget_evictions(b), 2);
	spa_budget_free(b);
}

/* An IPv6 /64 is one source, and ::ffff:a.b.c.d is a.b.c.d. */
static void
test_prefixes(void **state)
{
	struct spa_budget_conf c = conf_default();
	struct spa_budget *b;
	struct addr a, m;
	int k;

	(void)state;
	c.open_rate = 30;
	b = new_budget(&c, 0);
	a = src(7, 1);
	for (k = 0; k < 10; k++) {
		a.a[15] = (uint8_t)k;	/* other hosts, same /64 */
		assert_int_equal(spa_budget_take(b, &a, 0), OK);
	}
	a.a[8] = 0xff;
	takes(b, 1, 6, 0, OK);		/* G 20 -> 14 through S(1) */
	assert_int_equal(spa_budget_take(b, &a, 0), SOURCE);
	a.a[7] ^= 1;			/* the next /64: its own S */
	assert_int_equal(spa_budget_take(b, &a, 0), OK);
	/* 10.0.0.1 has 4 tokens left; the mapped form shares them. */
	assert_int_equal(addr_parse("::ffff:10.0.0.1", &m), 0);
	m.af = AF_INET6;		/* as a raw sockaddr_in6 has it */
	memset(m.a, 0, 10);
	m.a[10] = m.a[11] = 0xff;
	m.a[12] = 10;
	m.a[15] = 1;
	for (k = 0; k < 4; k++) {
		assert_int_equal(spa_budget_take(b, &m, 0), OK);
	}
	assert_int_equal(spa_budget_take(b, &m, 0), SOURCE);
	/* Not an address at all. */
	memset(&a, 0, sizeof(a));
	assert_int_equal(spa_budget_take(b, &a, 0), SOURCE);
	spa_budget_returning(b, &a, 0);
	assert_int_equal(spa_budget_evictions(b), 0);
	spa_budget_free(b);
}

/* UserRate a minute, UserBurst at most; reset forgets everyone. */
static void
test_user_budget(void **state)
{
	struct spa_budget_conf c = conf_default();
	struct spa_budget *b;
	int k;

	(void)state;
	c.user_rate = 10;		/* one every 6000 ms */
	c.user_burst = 3;
	b = new_budget(&c, 0);
	for (k = 0; k < 3; k++) {
		assert_int_equal(spa_budget_user_take(b, "alice", 0), OK);
	}
	assert_int_equal(spa_budget_user_take(b, "alice", 0), USER);
	assert_int_equal(spa_budget_user_take(b, "bob", 0), OK);
	assert_int_equal(spa_budget_user_take(b, "alice", 5999), USER);
	assert_int_equal(spa_budget_user_take(b, "alice", 6000), OK);
	assert_int_equal(spa_budget_user_take(b, "alice", 6000), USER);
	/* A long wait refills only up to the burst. */
	for (k = 0; k < 3; k++) {
		assert_int_equal(spa_budget_user_take(b, "alice", 3600000),
		    OK);
	}
	assert_int_equal(spa_budget_user_take(b, "alice", 3600000), USER);
	spa_budget_users_reset(b);
	assert_int_equal(spa_budget_user_take(b, "alice", 3600000), OK);
	spa_budget_users_reset(b);
	spa_budget_users_reset(b);
	spa_budget_free(b);
}

/* Many users: the table grows and keeps each one's own bucket. */
static void
test_many_users(void **state)
{
	struct spa_budget_conf c = conf_default();
	struct spa_budget *b;
	char name[32];
	int i, k;

	(void)state;
	c.user_burst = 2;
	b = new_budget(&c, 0);
	for (k = 0; k < 3; k++) {
		for (i = 0; i < 5000; i++) {
			snprintf(name, sizeof(name), "user%d", i);
			assert_int_equal(spa_budget_user_take(b, name, 0),
			    k < 2 ? OK : USER);
		}
	}
	spa_budget_users_reset(b);
	assert_int_equal(spa_budget_user_take(b, "user4999", 0), OK);
	spa_budget_free(b);
}

/* A clock that goes back is no time passing, for every bucket. */
static void
test_clock_backwards(void **state)
{
	struct spa_budget_conf c = conf_default();
	struct spa_budget *b;

	(void)state;
	c.open_rate = 100;
	b = new_budget(&c, 10000);
	drain_g(b, 1, 10, 10000);
	takes(b, 1, 1, 5000, SOURCE);	/* back: S(1) and G still empty */
	takes(b, 1, 1, 0, SOURCE);
	takes(b, 1, 1, 10499, SOURCE);	/* G 49.9, S(1) 0.998 */
	takes(b, 1, 1, 10500, OK);
	assert_int_equal(spa_budget_user_take(b, "carol", 10000), OK);
	assert_int_equal(spa_budget_user_take(b, "carol", 9000), OK);
	spa_budget_users_reset(b);
	c.user_burst = 1;
	spa_budget_free(b);
	b = new_budget(&c, 0);
	assert_int_equal(spa_budget_user_take(b, "carol", 60000), OK);
	assert_int_equal(spa_budget_user_take(b, "carol", 1000), USER);
	assert_int_equal(spa_budget_user_take(b, "carol", 65999), USER);
	assert_int_equal(spa_budget_user_take(b, "carol", 66000), OK);
	spa_budget_free(b);
}

/* The largest times and rates neither overflow nor wrap. */
static void
test_huge_values(void **state)
{
	struct spa_budget_conf c = conf_default();
	struct spa_budget *b;

	(void)state;
	c.open_rate = 20;
	b = new_budget(&c, 0);
	takes(b, 1, 10, 0, OK);
	takes(b, 1, 1, 0, OK);		/* G 9 < 10 now */
	takes(b, 1, 1, 0, SOURCE);
	/* UINT64_MAX ms later: everything full again, not wrapped. */
	takes(b, 1, 10, UINT64_MAX, OK);
	takes(b, 1, 1, UINT64_MAX, OK);
	takes(b, 1, 1, UINT64_MAX, SOURCE);
	returning(b, 2, UINT64_MAX - 1);	/* expiry saturates */
	takes(b, 2, 10, UINT64_MAX - 1, OK);	/* on R */
	takes(b, 3, 9, UINT64_MAX, OK);		/* G 9 -> 0 */
	takes(b, 3, 1, UINT64_MAX, OPEN);
	assert_int_equal(spa_budget_user_take(b, "dave", UINT64_MAX), OK);
	spa_budget_free(b);

	c.open_rate = c.returning_rate = ULONG_MAX;
	c.source_rate = c.source_burst = ULONG_MAX;
	c.user_rate = c.user_burst = ULONG_MAX;
	c.returning_time = ULONG_MAX;
	b = new_budget(&c, UINT64_MAX - 5);
	takes(b, 1, 1000, UINT64_MAX - 5, OK);
	takes(b, 1, 1000, UINT64_MAX, OK);
	returning(b, 1, UINT64_MAX - 3);
	takes(b, 1, 10, UINT64_MAX, OK);
	assert_int_equal(spa_budget_user_take(b, "erin", UINT64_MAX - 1), OK);
	assert_int_equal(spa_budget_user_take(b, "erin", UINT64_MAX), OK);
	spa_budget_free(b);

	/* Capacities and times whose products do not fit in 64 bits. */
	c = conf_default();
	c.source_burst = ULONG_MAX / 1000 + 1;
	c.returning_time = ULONG_MAX / 1000 + 1;
	c.open_rate = 1;
	b = new_budget(&c, 0);
	takes(b, 9, 1, 0, OK);		/* G empty */
	returning(b, 1, 0);
	takes(b, 1, 1000, 3600000, OK);	/* on S(1) and R: 1000 of each */
	spa_budget_free(b);

	/* Zero rates: what was there is used, and nothing comes back. */
	c = conf_default();
	c.source_rate = 0;
	c.open_rate = 20;
	b = new_budget(&c, 0);
	takes(b, 1, 11, 0, OK);
	drain_g(b, 2, 2, UINT64_MAX);	/* G was full again */
	takes(b, 1, 1, UINT64_MAX, SOURCE);	/* S(1) still empty */
	spa_budget_free(b);
}

/*
 * The model: section 8 step 4 written out the plain way, with 128-bit
 * arithmetic instead of saturation, linear scans instead of hash tables,
 * and "last used" counters instead of lists.  A random run with a clock
 * that sometimes goes back must agree with spa_budget at every step.
 */
#define M_SRC		8	/* SourceTableSize */
#define M_RET		5	/* ReturningTableSize */
#define M_REAP		4	/* spa_cache's reaping per insert */
#define M_USERS		3
#define M_OPS		500000

typedef unsigned __int128 u128;

struct mbucket {
	u128		level;
	uint64_t	last;
	u128		full, rate, token;
};

struct msrc {
	uint32_t	id;
	uint64_t	used;
	struct mbucket	s;
};

struct mret {
	uint32_t	id;
	uint64_t	expires;
};

struct mbudget {
	struct mbucket	g, r, src_proto, user_proto, user[M_USERS];
	struct msrc	src[M_SRC];
	struct mret	ret[M_RET];
	size_t		nsrc, nret;
	int		user_known[M_USERS];
	uint64_t	seq, evictions, returning_ms;
};

static struct mbucket
mb_new(unsigned long rate, unsigned long cap, uint64_t scale, uint64_t now)
{
	struct mbucket m;

	m.full = (u128)cap * scale;
	m.rate = rate;
	m.token = scale;
	m.level = m.full;
	m.last = now;
	return m;
}

static void
mb_refill(struct mbucket *m, uint64_t now)
{
	u128 l;

	if (now > m->last) {
		l = m->level + (u128)(now - m->last) * m->rate;
		m->level = l < m->full ? l : m->full;
		m->last = now;
	}
}

static int
mb_take(struct mbucket *m)
{
	if (m->level < m->token) {
		return 0;
	}
	m->level -= m->token;
	return 1;
}

static int
m_returning(const struct mbudget *m, uint32_t id, uint64_t now)
{
	size_t i;

	for (i = 0; i < m->nret; i++) {
		if (m->ret[i].id == id) {
			return m->ret[i].expires > now;
		}
	}
	return 0;
}

/* The entry that goes first: soonest expiry, then the smaller key. */
static size_t
m_ret_min(const struct mbudget *m)
{
	size_t i, best = 0;

	for (i = 1; i < m->nret; i++) {
		if (m->ret[i].expires < m->ret[best].expires ||
		    (m->ret[i].expires == m->ret[best].expires &&
		    m->ret[i].id < m->ret[best].id)) {
			best = i;
		}
	}
	return best;
}

static void
m_ret_add(struct mbudget *m, uint32_t id, uint64_t now)
{
	uint64_t exp = now + m->returning_ms;
	size_t i;
	int k;

	for (k = 0; k < M_REAP && m->nret > 0; k++) {
		i = m_ret_min(m);
		if (m->ret[i].expires > now) {
			break;
		}
		m->ret[i] = m->ret[--m->nret];
	}
	for (i = 0; i < m->nret; i++) {
		if (m->ret[i].id == id) {
			if (m->ret[i].expires <= now ||
			    m->ret[i].expires < exp) {
				m->ret[i].expires = exp;
			}
			return;
		}
	}
	if (m->nret == M_RET) {
		i = m_ret_min(m);
		m->ret[i] = m->ret[--m->nret];
		m->evictions++;
	}
	m->ret[m->nret].id = id;
	m->ret[m->nret].expires = exp;
	m->nret++;
}

static void
m_src_add(struct mbudget *m, uint32_t id, const struct mbucket *s)
{
	size_t i, lru = 0;

	if (m->nsrc == M_SRC) {
		for (i = 1; i < m->nsrc; i++) {
			if (m->src[i].used < m->src[lru].used) {
				lru = i;
			}
		}
		m->src[lru] = m->src[--m->nsrc];
		m->evictions++;
	}
	m->src[m->nsrc].id = id;
	m->src[m->nsrc].s = *s;
	m->src[m->nsrc].used = ++m->seq;
	m->nsrc++;
}

static int
m_take(struct mbudget *m, uint32_t id, uint64_t now)
{
	struct msrc *e = NULL;
	struct mbucket fresh, *s;
	size_t i;

	mb_refill(&m->g, now);
	mb_refill(&m->r, now);
	for (i = 0; i < m->nsrc; i++) {
		if (m->src[i].id == id) {
			e = &m->src[i];
		}
	}
	if (e != NULL) {
		e->used = ++m->seq;
		mb_refill(&e->s, now);
		s = &e->s;
	} else {
		fresh = m->src_proto;
		fresh.last = now;
		s = &fresh;
	}
	if (s->level < s->token) {
		if (2 * m->g.level >= m->g.full && mb_take(&m->g)) {
			return OK;
		}
		return SOURCE;
	}
	if (!(m_returning(m, id, now) && mb_take(&m->r)) &&
	    !mb_take(&m->g)) {
		return OPEN;
	}
	(void)mb_take(s);
	if (e == NULL) {
		m_src_add(m, id, s);
	}
	return OK;
}

static int
m_user_take(struct mbudget *m, int u, uint64_t now)
{
	if (!m->user_known[u]) {
		m->user[u] = m->user_proto;
		m->user[u].last = now;
		m->user_known[u] = 1;
	}
	mb_refill(&m->user[u], now);
	return mb_take(&m->user[u]) ? OK : USER;
}

/*
 * The next time from the random word w: mostly forward in small steps,
 * sometimes a jump forward, sometimes back.
 */
static uint64_t
m_clock(uint64_t now, uint64_t w)
{
	uint64_t r = w % 100, d = w >> 32;

	if (r < 3) {
		return now > 1500 ? now - d % 1500 : now;
	}
	if (r < 5) {
		return now + d % 5000;
	}
	return now + d % 40;
}

static void
test_differential(void **state)
{
	static const char *users[M_USERS] = { "alice", "bob", "carol" };
	struct spa_budget_conf c = conf_default();
	struct spa_budget *b;
	struct mbudget m;
	static const unsigned char seed[randombytes_SEEDBYTES] = { 5 };
	uint64_t *w, now = 100000, r, counts[4] = { 0, 0, 0, 0 };
	unsigned long op;
	uint32_t id;
	int got, want, u;

	(void)state;
	/* Two random words an operation, the same on every run. */
	if ((w = calloc(2 * M_OPS, sizeof(*w))) == NULL) {
		fail_msg("out of memory");
	}
	randombytes_buf_deterministic(w, 2 * M_OPS * sizeof(*w), seed);
	c.open_rate = 50;
	c.returning_rate = 20;
	c.returning_time = 2;
	c.source_rate = 3;
	c.source_burst = 4;
	c.user_rate = 30;
	c.user_burst = 3;
	c.source_table = M_SRC;
	c.returning_table = M_RET;
	b = new_budget(&c, now);
	memset(&m, 0, sizeof(m));
	m.g = mb_new(c.open_rate, c.open_rate, 1000, now);
	m.r = mb_new(c.returning_rate, c.returning_rate, 1000, now);
	m.src_proto = mb_new(c.source_rate, c.source_burst, 1000, now);
	m.user_proto = mb_new(c.user_rate, c.user_burst, 60000, now);
	m.returning_ms = c.returning_time * 1000;
	for (op = 0; op < M_OPS; op++) {
		now = m_clock(now, w[2 * op]);
		r = w[2 * op + 1] % 100;
		id = (uint32_t)((w[2 * op + 1] >> 16) % 20);
		u = (int)((w[2 * op + 1] >> 32) % M_USERS);
		if (r < 75) {
			got = take(b, id, now);
			want = m_take(&m, id, now);
			counts[-want]++;
		} else if (r < 85) {
			returning(b, id, now);
			m_ret_add(&m, id, now);
			got = want = 0;
		} else if (r < 99) {
			got = spa_budget_user_take(b, users[u], now);
			want = m_user_take(&m, u, now);
			counts[-want]++;
		} else {
			spa_budget_users_reset(b);
			memset(m.user_known, 0, sizeof(m.user_known));
			got = want = 0;
		}
		if (got != want ||
		    spa_budget_evictions(b) != m.evictions) {
			fail_msg("op %lu at %llu ms: got %d, model %d; "
			    "evictions %llu, model %llu", op,
			    (unsigned long long)now, got, want,
			    (unsigned long long)spa_budget_evictions(b),
			    (unsigned long long)m.evictions);
		}
	}
	/* The run must have taken every path. */
	for (u = 0; u < 4; u++) {
		if (counts[u] == 0) {
			fail_msg("no take returned %d", -u);
		}
	}
	assert_true(m.evictions > 0);
	free(w);
	spa_budget_free(b);
}

/* Information only: a full source table, every take a new source. */
static void
test_perf(void **state)
{
	struct spa_budget_conf c = conf_default();
	struct spa_budget *b;
	struct addr *a;
	uint64_t ok = 0;
	clock_t t0, t1;
	uint32_t i, n = 1000000, nsrc = 200000;

	(void)state;
	c.open_rate = ULONG_MAX;
	b = new_budget(&c, 0);
	if ((a = calloc(nsrc, sizeof(*a))) == NULL) {
		fail_msg("out of memory");
	}
	for (i = 0; i < nsrc; i++) {
		a[i] = src(i, i % 2);
	}
	for (i = 0; i < c.source_table; i++) {
		returning(b, i * 7, 0);
	}
	t0 = clock();
	for (i = 0; i < n; i++) {
		ok += spa_budget_take(b, &a[i % nsrc], i / 1000) == OK;
	}
	t1 = clock();
	assert_int_equal(ok, n);
	assert_true(spa_budget_evictions(b) > 0);
	print_message("spa_budget_take, %zu-entry source table: %.1f ns/op "
	    "(CPU time)\n", c.source_table,
	    (double)(t1 - t0) * 1e9 / CLOCKS_PER_SEC / n);
	free(a);
	spa_budget_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_conf),
		cmocka_unit_test(test_new_source_and_half_rule),
		cmocka_unit_test(test_source_refill_exact),
		cmocka_unit_test(test_global_refill_each_ms),
		cmocka_unit_test(test_returning_uses_r),
		cmocka_unit_test(test_returning_expires),
		cmocka_unit_test(test_half_of_odd_capacity),
		cmocka_unit_test(test_drop_takes_nothing),
		cmocka_unit_test(test_source_lru),
		cmocka_unit_test(test_returning_lru),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_user_budget),
		cmocka_unit_test(test_many_users),
		cmocka_unit_test(test_clock_backwards),
		cmocka_unit_test(test_huge_values),
		cmocka_unit_test(test_differential),
		cmocka_unit_test(test_perf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
