/*
 * test_spa_cache: knockd's seen and replay caches.
 * What knockd relies on: an entry is live exactly while expires > now, a
 * repeated add never shortens a live entry, a full cache drops expired
 * entries before live ones and live ones soonest-expiring first (counted),
 * and none of this breaks under heavy churn: a million random operations
 * are checked step by step against a plain array model of the contract.
 * The ns/op figures printed at the end are information, not assertions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "spa_cache.h"

#define DIFF_OPS	1000000
#define MODEL_REAP	4		/* spa_cache.c's SPA_CACHE_REAP */
#define PERF_N		262144
#define NS_PER_OP(t)	((double)(t) * 1e9 / CLOCKS_PER_SEC / PERF_N)

/* Value number i: distinct for distinct i. */
static void
val(uint32_t i, uint8_t v[16])
{
	memset(v, 0xa5, 16);
	v[0] = (uint8_t)(i >> 24);
	v[1] = (uint8_t)(i >> 16);
	v[2] = (uint8_t)(i >> 8);
	v[3] = (uint8_t)i;
}

static int
has(struct spa_cache *c, uint32_t i, uint64_t now)
{
	uint8_t v[16];

	val(i, v);
	return spa_cache_has(c, v, now);
}

static int
add(struct spa_cache *c, uint32_t i, uint64_t expires, uint64_t now)
{
	uint8_t v[16];

	val(i, v);
	return spa_cache_add(c, v, expires, now);
}

static struct spa_cache *
new_cache(size_t cap)
{
	struct spa_cache *c;

	if ((c = spa_cache_new(cap)) == NULL) {
		fail_msg("spa_cache_new(%zu) failed", cap);
	}
	return c;
}

static void
test_bad_capacity(void **state)
{
	(void)state;
	assert_null(spa_cache_new(0));
	assert_null(spa_cache_new((size_t)1 << 31));
	assert_null(spa_cache_new(SIZE_MAX));
	spa_cache_free(NULL);
}

static void
test_expiry_boundary(void **state)
{
	struct spa_cache *c = new_cache(8);

	(void)state;
	assert_int_equal(has(c, 1, 0), 0);
	assert_int_equal(add(c, 1, 100, 50), 0);
	assert_int_equal(has(c, 1, 50), 1);
	assert_int_equal(has(c, 1, 99), 1);
	assert_int_equal(has(c, 1, 100), 0);	/* expires == now: dead */
	assert_int_equal(has(c, 1, 101), 0);
	assert_int_equal(has(c, 2, 50), 0);
	/* The largest time there is; 1 is reaped on the way. */
	assert_int_equal(add(c, 3, UINT64_MAX, UINT64_MAX - 1), 0);
	assert_int_equal(has(c, 3, UINT64_MAX - 1), 1);
	assert_int_equal(has(c, 3, UINT64_MAX), 0);
	assert_int_equal(spa_cache_count(c), 1);
	spa_cache_free(c);
}

static void
test_dead_on_arrival(void **state)
{
	struct spa_cache *c = new_cache(2);

	(void)state;
	/* Already expired: not stored, so it cannot evict anything. */
	assert_int_equal(add(c, 1, 10, 5), 0);
	assert_int_equal(add(c, 2, 10, 5), 0);
	assert_int_equal(add(c, 3, 5, 5), 0);
	assert_int_equal(add(c, 4, 0, 5), 0);
	assert_int_equal(has(c, 3, 0), 0);
	assert_int_equal(has(c, 1, 5), 1);
	assert_int_equal(has(c, 2, 5), 1);
	assert_int_equal(spa_cache_count(c), 2);
	assert_int_equal(spa_cache_evictions(c), 0);
	spa_cache_free(c);
}

static void
test_duplicate_keeps_later(void **state)
{
	struct spa_cache *c = new_cache(4);

	(void)state;
	assert_int_equal(add(c, 1, 100, 0), 0);
	assert_int_equal(add(c, 1, 50, 10), 0);	/* earlier: ignored */
	assert_int_equal(has(c, 1, 99), 1);
	assert_int_equal(add(c, 1, 200, 20), 0);	/* later: kept */
	assert_int_equal(has(c, 1, 199), 1);
	assert_int_equal(has(c, 1, 200), 0);
	assert_int_equal(spa_cache_count(c), 1);
	/* An expired entry comes back with the new expiry, even if earlier. */
	assert_int_equal(add(c, 1, 230, 220), 0);
	assert_int_equal(has(c, 1, 229), 1);
	assert_int_equal(has(c, 1, 230), 0);
	assert_int_equal(spa_cache_count(c), 1);
	assert_int_equal(spa_cache_evictions(c), 0);
	spa_cache_free(c);
}

static void
test_eviction_order(void **state)
{
	struct spa_cache *c = new_cache(4);

	(void)state;
	assert_int_equal(add(c, 1, 40, 0), 0);
	assert_int_equal(add(c, 2, 10, 0), 0);
	assert_int_equal(add(c, 3, 30, 0), 0);
	assert_int_equal(add(c, 4, 20, 0), 0);
	/* Full, nothing expired: the soonest (2, at 10) goes, counted. */
	assert_int_equal(add(c, 5, 50, 0), 1);
	assert_int_equal(has(c, 2, 0), 0);
	assert_int_equal(has(c, 4, 0), 1);
	assert_int_equal(spa_cache_evictions(c), 1);
	/* Then 4 (at 20): raising 3 to 60 moved it to the back. */
	assert_int_equal(add(c, 3, 60, 0), 0);
	assert_int_equal(add(c, 6, 70, 0), 1);
	assert_int_equal(has(c, 4, 0), 0);
	assert_int_equal(has(c, 1, 0), 1);
	assert_int_equal(has(c, 3, 0), 1);
	/* {1@40, 5@50, 3@60, 6@70}; at 45, 1 has expired: it goes first,
	 * and that is not an eviction. */
	assert_int_equal(add(c, 7, 80, 45), 0);
	assert_int_equal(spa_cache_evictions(c), 2);
	assert_int_equal(spa_cache_count(c), 4);
	assert_int_equal(has(c, 5, 45), 1);
	assert_int_equal(has(c, 3, 45), 1);
	assert_int_equal(has(c, 6, 45), 1);
	assert_int_equal(has(c, 7, 45), 1);
	/* Equal expiries: the smaller value goes first (a total order). */
	assert_int_equal(add(c, 9, 90, 46), 1);		/* evicts 5@50 */
	assert_int_equal(add(c, 8, 90, 46), 1);		/* evicts 3@60 */
	assert_int_equal(add(c, 10, 95, 46), 1);	/* evicts 6@70 */
	assert_int_equal(add(c, 11, 95, 46), 1);	/* evicts 7@80 */
	assert_int_equal(add(c, 12, 99, 46), 1);	/* evicts 8@90 */
	assert_int_equal(has(c, 8, 46), 0);
	assert_int_equal(has(c, 9, 46), 1);
	assert_int_equal(spa_cache_evictions(c), 7);
	spa_cache_free(c);
}

static void
test_reaping_is_bounded(void **state)
{
	struct spa_cache *c = new_cache(16);
	uint32_t i;

	(void)state;
	for (i = 0; i < 16; i++) {
		assert_int_equal(add(c, i, 10, 0), 0);
	}
	/* All expired at once: each add removes at most MODEL_REAP... */
	assert_int_equal(add(c, 100, 20, 10), 0);
	assert_int_equal(spa_cache_count(c), 16 - MODEL_REAP + 1);
	for (i = 0; i < 16; i++) {
		assert_int_equal(has(c, i, 10), 0);	/* none seen */
	}
	assert_int_equal(add(c, 101, 20, 10), 0);
	assert_int_equal(add(c, 102, 20, 10), 0);
	assert_int_equal(add(c, 103, 20, 10), 0);
	assert_int_equal(spa_cache_count(c), 4);
	assert_int_equal(spa_cache_evictions(c), 0);
	spa_cache_free(c);
}

static void
test_capacity_one(void **state)
{
	struct spa_cache *c = new_cache(1);

	(void)state;
	assert_int_equal(add(c, 1, 10, 0), 0);
	assert_int_equal(add(c, 1, 12, 0), 0);
	assert_int_equal(add(c, 2, 5, 0), 1);
	assert_int_equal(has(c, 1, 0), 0);
	assert_int_equal(has(c, 2, 4), 1);
	/* 2 has expired: not an eviction. */
	assert_int_equal(add(c, 3, 9, 5), 0);
	assert_int_equal(has(c, 3, 5), 1);
	assert_int_equal(has(c, 2, 4), 0);
	assert_int_equal(spa_cache_count(c), 1);
	assert_int_equal(spa_cache_evictions(c), 1);
	spa_cache_free(c);
}

/*
 * The model: a plain array, a linear scan for everything, and the steps
 * of spa_cache_add() written out the obvious way.
 */
struct model_ent {
	uint32_t	id;
	uint64_t	expires;
};

struct model {
	struct model_ent *e;
	size_t		 n, cap;
	uint64_t	 evictions;
};

/* (expires, value) order; val() puts the id big-endian first. */
static int
model_before(const struct model_ent *a, const struct model_ent *b)
{
	if (a->expires != b->expires) {
		return a->expires < b->expires;
	}
	return a->id < b->id;
}

static size_t
model_min(const struct model *m)
{
	size_t i, best = 0;

	for (i = 1; i < m->n; i++) {
		if (model_before(&m->e[i], &m->e[best])) {
			best = i;
		}
	}
	return best;
}

static void
model_remove(struct model *m, size_t i)
{
	m->e[i] = m->e[--m->n];
}

static size_t
model_find(const struct model *m, uint32_t id)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		if (m->e[i].id == id) {
			return i;
		}
	}
	return SIZE_MAX;
}

static int
model_has(const struct model *m, uint32_t id, uint64_t now)
{
	size_t i = model_find(m, id);

	return i != SIZE_MAX && m->e[i].expires > now;
}

static int
model_add(struct model *m, uint32_t id, uint64_t expires, uint64_t now)
{
	size_t i;
	int k;

	for (k = 0; k < MODEL_REAP && m->n > 0; k++) {
		i = model_min(m);
		if (m->e[i].expires > now) {
			break;
		}
		model_remove(m, i);
	}
	if (expires <= now) {
		return 0;
	}
	if ((i = model_find(m, id)) != SIZE_MAX) {
		if (m->e[i].expires <= now || m->e[i].expires < expires) {
			m->e[i].expires = expires;
		}
		return 0;
	}
	k = 0;
	if (m->n == m->cap) {
		model_remove(m, model_min(m));
		m->evictions++;
		k = 1;
	}
	m->e[m->n].id = id;
	m->e[m->n].expires = expires;
	m->n++;
	return k;
}

/* splitmix64: a fixed seed gives the same run everywhere. */
static uint64_t
rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * ops random operations on a cache of cap entries, checked at each step;
 * the clock moves about once in tick operations.
 */
static void
differential(size_t cap, uint32_t nvals, uint64_t tick, unsigned long ops,
    uint64_t seed)
{
	struct spa_cache *c = new_cache(cap);
	struct model m;
	uint64_t s = seed, now = 1000, exp;
	unsigned long op;
	uint32_t id;
	size_t i;

	memset(&m, 0, sizeof(m));
	m.cap = cap;
	if ((m.e = calloc(cap, sizeof(*m.e))) == NULL) {
		fail_msg("out of memory");
	}
	for (op = 0; op < ops; op++) {
		id = (uint32_t)(rnd(&s) % nvals);
		if (rnd(&s) % tick == 0) {
			now += rnd(&s) % 4;	/* in small steps */
		}
		if (rnd(&s) % 3 == 0) {
			assert_int_equal(has(c, id, now),
			    model_has(&m, id, now));
			continue;
		}
		/* Short lifetimes, many ties, sometimes dead on arrival. */
		exp = now + rnd(&s) % 24 - 2;
		if (add(c, id, exp, now) != model_add(&m, id, exp, now)) {
			fail_msg("op %lu: add(%u, %llu, %llu) disagrees",
			    op, id, (unsigned long long)exp,
			    (unsigned long long)now);
		}
		assert_int_equal(spa_cache_count(c), m.n);
		assert_int_equal(spa_cache_evictions(c), m.evictions);
		if (op % 4096 == 0) {
			for (i = 0; i < m.n; i++) {
				assert_int_equal(has(c, m.e[i].id, now),
				    m.e[i].expires > now);
			}
		}
	}
	assert_true(m.evictions > 0);
	free(m.e);
	spa_cache_free(c);
}

static void
test_differential(void **state)
{
	(void)state;
	/* A million operations in all, over sizes that stress the edges. */
	differential(1, 4, 16, 100000, 1);
	differential(7, 20, 16, 200000, 2);
	differential(64, 200, 64, 300000, 3);
	differential(300, 1000, 256, 400000, 4);
}

/* Information only: a slow machine must not fail the suite. */
static void
test_perf(void **state)
{
	struct spa_cache *c = new_cache(PERF_N);
	clock_t t0, t1, t2;
	uint64_t hits = 0;
	uint32_t i;

	(void)state;
	for (i = 0; i < PERF_N; i++) {
		add(c, i, 1000000 + i, 0);
	}
	t0 = clock();
	for (i = 0; i < PERF_N; i++) {
		hits += (uint64_t)has(c, i * 2, 1);	/* half miss */
	}
	t1 = clock();
	for (i = 0; i < PERF_N; i++) {
		add(c, PERF_N + i, 2000000 + i, 1);	/* each evicts */
	}
	t2 = clock();
	assert_int_equal(hits, PERF_N / 2);
	assert_int_equal(spa_cache_evictions(c), PERF_N);
	print_message("spa_cache at %d entries (CPU time): has %.1f ns/op, "
	    "add (evicting) %.1f ns/op\n", PERF_N, NS_PER_OP(t1 - t0),
	    NS_PER_OP(t2 - t1));
	spa_cache_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_capacity),
		cmocka_unit_test(test_expiry_boundary),
		cmocka_unit_test(test_dead_on_arrival),
		cmocka_unit_test(test_duplicate_keeps_later),
		cmocka_unit_test(test_eviction_order),
		cmocka_unit_test(test_reaping_is_bounded),
		cmocka_unit_test(test_capacity_one),
		cmocka_unit_test(test_differential),
		cmocka_unit_test(test_perf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
