/*
 * spa_budget: knockd's token buckets (see spa_budget.h and section 8 of
 * docs/PROTOCOL.knock).
 *
 * A bucket is kept in fixed point: one token is "scale" units, the bucket
 * gains "rate" units per millisecond and holds at most "full" units.  For
 * the per-second buckets scale is 1000, so a rate of r tokens a second is
 * exactly r units a millisecond; the user bucket counts per minute, so
 * its scale is 60000.  Refill is exact at millisecond granularity, with no
 * rounding drift, and every product saturates instead of overflowing, so
 * any uint64 now_ms works.  A clock that goes back is no time passing:
 * the bucket keeps its last time and refills again only once now_ms has
 * passed it.
 *
 * Tables:
 *  - sources: chained hash over a fixed array of source_table entries,
 *    allocated at creation, with a doubly linked LRU list; when full, the
 *    least recently used entry is reused (an eviction).  An entry is used
 *    whenever a datagram from its prefix reaches step 4, dropped or not:
 *    a flooding prefix must not age out and come back with a full bucket.
 *    A prefix without an entry has a full bucket by definition, so one is
 *    only created when the datagram goes on and takes a token.
 *  - returning: a spa_cache of prefix keys expiring returning_time after
 *    the last accepted knock.  With one fixed duration, the entry that
 *    expires soonest is the one refreshed least recently, so the cache's
 *    eviction is this table's LRU order ("use" being an accepted knock;
 *    a mere lookup does not keep a prefix returning), and expired entries
 *    go first without counting as evictions.
 *  - users: a chained hash of heap-allocated entries that grows with the
 *    user names it sees (bounded by the policy) and is emptied by reset.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "addr.h"
#include "spa_budget.h"
#include "spa_cache.h"

#define TB_SEC		1000ULL	/* units a token, per second */
#define TB_MIN		60000ULL	/* units a token, per minute */
#define SRC_NONE		UINT32_MAX
#define SRC_TABLE_MAX		((size_t)1 << 30)
#define USER_BUCKETS_MIN	16

struct tb {
	uint64_t	level;		/* units */
	uint64_t	last;		/* ms of the last refill */
};

struct tb_param {
	uint64_t	rate;		/* units per ms */
	uint64_t	full;		/* capacity, units */
	uint64_t	token;		/* units per token */
};

struct src_ent {
	uint8_t		key[16];
	struct tb	tb;
	uint32_t	hash;
	uint32_t	chain;		/* next in hash chain */
	uint32_t	newer, older;	/* LRU list */
};

struct user_ent {
	struct user_ent	*next;
	struct tb	 tb;
	uint32_t	 hash;
	char		 name[];
};

struct spa_budget {
	struct tb_param	 p_open, p_ret, p_src, p_user;
	uint64_t	 returning_ms;
	struct tb	 g, r;

	struct src_ent	*src;
	uint32_t	*src_head;	/* hash chains */
	size_t		 nsrc, src_cap;
	uint32_t	 src_mask;
	uint32_t	 lru_new, lru_old;

	struct spa_cache *ret;

	struct user_ent	**user_head;
	size_t		 nuser, nuser_bucket;

	uint64_t	 evictions;
	unsigned char	 key[crypto_shorthash_KEYBYTES];
};

/* Saturating arithmetic. */

static uint64_t
sat_mul(uint64_t a, uint64_t b)
{
	if (a != 0 && b > UINT64_MAX / a) {
		return UINT64_MAX;
	}
	return a * b;
}

static uint64_t
sat_add(uint64_t a, uint64_t b)
{
	return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

/* Token buckets. */

static struct tb_param
tb_param(unsigned long rate, unsigned long cap, uint64_t scale)
{
	struct tb_param p;

	p.rate = rate;
	p.full = sat_mul(cap, scale);
	p.token = scale;
	return p;
}

static void
tb_fill(struct tb *t, const struct tb_param *p, uint64_t now)
{
	t->level = p->full;
	t->last = now;
}

static void
tb_refill(struct tb *t, const struct tb_param *p, uint64_t now)
{
	uint64_t elapsed;

	if (now <= t->last) {
		return;	/* no time passed, or the clock went back */
	}
	elapsed = now - t->last;
	t->last = now;
	if (t->level >= p->full) {
		return;
	}
	if (p->rate != 0 && elapsed > (p->full - t->level) / p->rate) {
		t->level = p->full;
	} else {
		t->level += elapsed * p->rate;
	}
}

static int
tb_has(const struct tb *t, const struct tb_param *p)
{
	return t->level >= p->token;
}

/* At least half of the capacity, and a whole token to take. */
static int
tb_half(const struct tb *t, const struct tb_param *p)
{
	return t->level >= p->full - p->full / 2 && tb_has(t, p);
}

/* Source prefixes. */

/*
 * The prefix's key, in the 16 bytes the returning table (a spa_cache)
 * stores: addr_source_key() and zeros.
 */
static int
prefix_key(const struct addr *src, uint8_t key[16])
{
	memset(key, 0, 16);
	return addr_source_key(src, key);
}

static uint32_t
budget_hash(const struct spa_budget *b, const void *p, size_t len)
{
	unsigned char out[crypto_shorthash_BYTES];
	uint32_t h;

	crypto_shorthash(out, p, len, b->key);
	memcpy(&h, out, sizeof(h));
	return h;
}

static uint32_t
src_find(const struct spa_budget *b, const uint8_t key[16], uint32_t h)
{
	uint32_t i;

	for (i = b->src_head[h & b->src_mask]; i != SRC_NONE;
	    i = b->src[i].chain) {
		if (b->src[i].hash == h &&
		    memcmp(b->src[i].key, key, 16) == 0) {
			return i;
		}
	}
	return SRC_NONE;
}

static void
lru_unlink(struct spa_budget *b, uint32_t i)
{
	struct src_ent *e = &b->src[i];

	if (e->newer != SRC_NONE) {
		b->src[e->newer].older = e->older;
	} else {
		b->lru_new = e->older;
	}
	if (e->older != SRC_NONE) {
		b->src[e->older].newer = e->newer;
	} else {
		b->lru_old = e->newer;
	}
}

static void
lru_push(struct spa_budget *b, uint32_t i)
{
	b->src[i].newer = SRC_NONE;
	b->src[i].older = b->lru_new;
	if (b->lru_new != SRC_NONE) {
		b->src[b->lru_new].newer = i;
	} else {
		b->lru_old = i;
	}
	b->lru_new = i;
}

static void
lru_touch(struct spa_budget *b, uint32_t i)
{
	if (b->lru_new != i) {
		lru_unlink(b, i);
		lru_push(b, i);
	}
}

/* Take entry i out of its hash chain and the LRU list. */
static void
src_unlink(struct spa_budget *b, uint32_t i)
{
	uint32_t *p;

	p = &b->src_head[b->src[i].hash & b->src_mask];
	while (*p != i) {
		p = &b->src[*p].chain;
	}
	*p = b->src[i].chain;
	lru_unlink(b, i);
}

/* A new entry for key with a full bucket, evicting the LRU one if full. */
static uint32_t
src_add(struct spa_budget *b, const uint8_t key[16], uint32_t h,
    uint64_t now)
{
	uint32_t i;

	if (b->nsrc < b->src_cap) {
		i = (uint32_t)b->nsrc++;
	} else {
		i = b->lru_old;
		src_unlink(b, i);
		b->evictions++;
	}
	memcpy(b->src[i].key, key, 16);
	b->src[i].hash = h;
	tb_fill(&b->src[i].tb, &b->p_src, now);
	b->src[i].chain = b->src_head[h & b->src_mask];
	b->src_head[h & b->src_mask] = i;
	lru_push(b, i);
	return i;
}

/* Creation. */

static int
src_table_init(struct spa_budget *b, size_t cap)
{
	size_t nb = 1, i;

	if (cap < 1 || cap > SRC_TABLE_MAX) {
		errno = EINVAL;
		return -1;
	}
	while (nb < cap) {
		nb *= 2;
	}
	if ((b->src = calloc(cap, sizeof(*b->src))) == NULL ||
	    (b->src_head = calloc(nb, sizeof(*b->src_head))) == NULL) {
		return -1;
	}
	for (i = 0; i < nb; i++) {
		b->src_head[i] = SRC_NONE;
	}
	b->src_cap = cap;
	b->src_mask = (uint32_t)(nb - 1);
	b->lru_new = b->lru_old = SRC_NONE;
	return 0;
}

struct spa_budget *
spa_budget_new(const struct spa_budget_conf *c, uint64_t now_ms)
{
	struct spa_budget *b = NULL;

	if (sodium_init() < 0 || (b = calloc(1, sizeof(*b))) == NULL) {
		return NULL;
	}
	randombytes_buf(b->key, sizeof(b->key));
	b->p_open = tb_param(c->open_rate, c->open_rate, TB_SEC);
	b->p_ret = tb_param(c->returning_rate, c->returning_rate, TB_SEC);
	b->p_src = tb_param(c->source_rate, c->source_burst, TB_SEC);
	b->p_user = tb_param(c->user_rate, c->user_burst, TB_MIN);
	b->returning_ms = sat_mul(c->returning_time, 1000);
	tb_fill(&b->g, &b->p_open, now_ms);
	tb_fill(&b->r, &b->p_ret, now_ms);
	if (src_table_init(b, c->source_table) != 0 ||
	    (b->ret = spa_cache_new(c->returning_table)) == NULL) {
		spa_budget_free(b);
		return NULL;
	}
	return b;
}

void
spa_budget_free(struct spa_budget *b)
{
	if (b == NULL) {
		return;
	}
	spa_budget_users_reset(b);
	free(b->user_head);
	free(b->src);
	free(b->src_head);
	spa_cache_free(b->ret);
	sodium_memzero(b->key, sizeof(b->key));
	free(b);
}

/* Step 4. */

/*
 * Decide with the buckets as they are, and take tokens only once the
 * datagram goes on: a dropped datagram uses none.
 */
int
spa_budget_take(struct spa_budget *b, const struct addr *src, uint64_t now_ms)
{
	uint8_t key[16];
	struct tb fresh, *s;
	uint32_t h, i;

	if (prefix_key(src, key) != 0) {
		return SPA_BUDGET_SOURCE;
	}
	tb_refill(&b->g, &b->p_open, now_ms);
	tb_refill(&b->r, &b->p_ret, now_ms);
	h = budget_hash(b, key, sizeof(key));
	if ((i = src_find(b, key, h)) != SRC_NONE) {
		lru_touch(b, i);
		s = &b->src[i].tb;
		tb_refill(s, &b->p_src, now_ms);
	} else {
		tb_fill(&fresh, &b->p_src, now_ms);
		s = &fresh;
	}
	if (!tb_has(s, &b->p_src)) {
		if (!tb_half(&b->g, &b->p_open)) {
			return SPA_BUDGET_SOURCE;
		}
		b->g.level -= b->p_open.token;
		return SPA_BUDGET_OK;
	}
	if (tb_has(&b->r, &b->p_ret) && spa_cache_has(b->ret, key, now_ms)) {
		b->r.level -= b->p_ret.token;
	} else if (tb_has(&b->g, &b->p_open)) {
		b->g.level -= b->p_open.token;
	} else {
		return SPA_BUDGET_OPEN;
	}
	if (i == SRC_NONE) {
		i = src_add(b, key, h, now_ms);
		s = &b->src[i].tb;
	}
	s->level -= b->p_src.token;
	return SPA_BUDGET_OK;
}

/* Step 17. */

void
spa_budget_returning(struct spa_budget *b, const struct addr *src,
    uint64_t now_ms)
{
	uint8_t key[16];

	if (prefix_key(src, key) != 0) {
		return;
	}
	b->evictions += (uint64_t)spa_cache_add(b->ret, key,
	    sat_add(now_ms, b->returning_ms), now_ms);
}

/* Step 12: users. */

static int
users_grow(struct spa_budget *b)
{
	struct user_ent **nh, *e, *next;
	size_t nb, i;

	nb = b->nuser_bucket == 0 ? USER_BUCKETS_MIN : 2 * b->nuser_bucket;
	if ((nh = calloc(nb, sizeof(*nh))) == NULL) {
		return -1;
	}
	for (i = 0; i < b->nuser_bucket; i++) {
		for (e = b->user_head[i]; e != NULL; e = next) {
			next = e->next;
			e->next = nh[e->hash & (nb - 1)];
			nh[e->hash & (nb - 1)] = e;
		}
	}
	free(b->user_head);
	b->user_head = nh;
	b->nuser_bucket = nb;
	return 0;
}

/* user's entry, created with a full bucket if new; NULL if out of memory. */
static struct user_ent *
user_get(struct spa_budget *b, const char *user, uint64_t now)
{
	struct user_ent *e;
	size_t len = strlen(user);
	uint32_t h = budget_hash(b, user, len);

	if (b->nuser_bucket != 0) {
		for (e = b->user_head[h & (b->nuser_bucket - 1)]; e != NULL;
		    e = e->next) {
			if (e->hash == h && strcmp(e->name, user) == 0) {
				return e;
			}
		}
	}
	if (b->nuser >= b->nuser_bucket && users_grow(b) != 0) {
		return NULL;
	}
	if ((e = malloc(sizeof(*e) + len + 1)) == NULL) {
		return NULL;
	}
	memcpy(e->name, user, len + 1);
	e->hash = h;
	tb_fill(&e->tb, &b->p_user, now);
	e->next = b->user_head[h & (b->nuser_bucket - 1)];
	b->user_head[h & (b->nuser_bucket - 1)] = e;
	b->nuser++;
	return e;
}

/* Out of memory refuses the knock: the budget must never be skipped. */
int
spa_budget_user_take(struct spa_budget *b, const char *user, uint64_t now_ms)
{
	struct user_ent *e;

	if ((e = user_get(b, user, now_ms)) == NULL) {
		return SPA_BUDGET_USER;
	}
	tb_refill(&e->tb, &b->p_user, now_ms);
	if (!tb_has(&e->tb, &b->p_user)) {
		return SPA_BUDGET_USER;
	}
	e->tb.level -= b->p_user.token;
	return SPA_BUDGET_OK;
}

void
spa_budget_users_reset(struct spa_budget *b)
{
	struct user_ent *e, *next;
	size_t i;

	for (i = 0; i < b->nuser_bucket; i++) {
		for (e = b->user_head[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
		b->user_head[i] = NULL;
	}
	b->nuser = 0;
}

uint64_t
spa_budget_evictions(const struct spa_budget *b)
{
	return b->evictions;
}
