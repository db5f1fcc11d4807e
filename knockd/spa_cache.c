/*
 * spa_cache: the seen and replay caches (see spa_cache.h for the contract).
 *
 * Two structures, both allocated once for the capacity:
 *
 *  - An open-addressing table with linear probing, tabsize a power of two
 *    at least 2 * capacity, so it is never more than half full and every
 *    probe sequence ends at an empty slot.  The home slot is SipHash-2-4
 *    (crypto_shorthash) of the value under a random key per cache: the
 *    values are tags and nonces a sender chooses, and must not be able to
 *    build long probe runs.  Removal is backward-shift deletion (Knuth,
 *    TAOCP 6.4, Algorithm R): the entries after the hole that may move
 *    into it do, so there are no tombstones and a lookup only ever scans
 *    the run of entries that really share its probe path.
 *  - A binary min-heap of table slot numbers ordered by (expires, value).
 *    Each slot records its heap position, and every move of an entry, in
 *    the table or in the heap, updates the other side, so either can find
 *    the other in O(1).  Ordering ties by the value makes the order total:
 *    which entry is reaped or evicted never depends on the history of the
 *    heap, so the behaviour is fully specified (and testable against a
 *    plain model).
 *
 * Expired entries (expires <= now) are invisible to lookups at once.  They
 * are removed lazily, at most SPA_CACHE_REAP per insert, so no single call
 * does unbounded work even when many entries expire together (the seen
 * cache's entries expire in whole buckets); since an insert adds at most
 * one entry, the reaping keeps up.  spa_cache_count() therefore counts the
 * entries held, expired ones not yet removed included.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "spa_cache.h"

/* Expired entries removed per insert: more than the one an insert adds. */
#define SPA_CACHE_REAP		4
#define SPA_CACHE_NONE		UINT32_MAX
/* Slot numbers are uint32_t with NONE reserved: tabsize <= 2^31. */
#define SPA_CACHE_MAXCAP	((size_t)1 << 30)

struct spa_slot {
	uint8_t		v[16];
	uint64_t	expires;
	uint32_t	hash;		/* low bits of the SipHash of v */
	uint32_t	heap;		/* place in c->heap; NONE: empty */
};

struct spa_cache {
	struct spa_slot	*tab;
	uint32_t	*heap;		/* slot numbers, min-heap */
	size_t		 n, cap;
	uint32_t	 mask;		/* tabsize - 1 */
	uint64_t	 evictions;
	unsigned char	 key[crypto_shorthash_KEYBYTES];
};

static uint32_t
cache_hash(const struct spa_cache *c, const uint8_t v[16])
{
	unsigned char out[crypto_shorthash_BYTES];
	uint32_t h;

	crypto_shorthash(out, v, 16, c->key);
	memcpy(&h, out, sizeof(h));
	return h;
}

/* The heap order: 1 if slot a must come before slot b. */
static int
heap_before(const struct spa_cache *c, uint32_t a, uint32_t b)
{
	const struct spa_slot *sa = &c->tab[a], *sb = &c->tab[b];

	if (sa->expires != sb->expires) {
		return sa->expires < sb->expires;
	}
	return memcmp(sa->v, sb->v, 16) < 0;
}

static void
heap_set(struct spa_cache *c, size_t pos, uint32_t slot)
{
	c->heap[pos] = slot;
	c->tab[slot].heap = (uint32_t)pos;
}

static void
heap_up(struct spa_cache *c, size_t pos)
{
	uint32_t slot = c->heap[pos];
	size_t parent;

	while (pos > 0) {
		parent = (pos - 1) / 2;
		if (!heap_before(c, slot, c->heap[parent])) {
			break;
		}
		heap_set(c, pos, c->heap[parent]);
		pos = parent;
	}
	heap_set(c, pos, slot);
}

static void
heap_down(struct spa_cache *c, size_t pos)
{
	uint32_t slot = c->heap[pos];
	size_t child;

	for (;;) {
		child = 2 * pos + 1;
		if (child >= c->n) {
			break;
		}
		if (child + 1 < c->n &&
		    heap_before(c, c->heap[child + 1], c->heap[child])) {
			child++;
		}
		if (!heap_before(c, c->heap[child], slot)) {
			break;
		}
		heap_set(c, pos, c->heap[child]);
		pos = child;
	}
	heap_set(c, pos, slot);
}

/* Restore the heap after the key at pos changed either way. */
static void
heap_fix(struct spa_cache *c, size_t pos)
{
	if (pos > 0 && heap_before(c, c->heap[pos], c->heap[(pos - 1) / 2])) {
		heap_up(c, pos);
	} else {
		heap_down(c, pos);
	}
}

/* The slot holding v (live or not), or NONE. */
static uint32_t
table_find(const struct spa_cache *c, const uint8_t v[16], uint32_t h)
{
	uint32_t i;

	for (i = h & c->mask; c->tab[i].heap != SPA_CACHE_NONE;
	    i = (i + 1) & c->mask) {
		if (c->tab[i].hash == h && memcmp(c->tab[i].v, v, 16) == 0) {
			return i;
		}
	}
	return SPA_CACHE_NONE;
}

/*
 * Empty slot i by backward shift: walk the run after i; an entry whose
 * home slot is not cyclically within (hole, j] may fill the hole, which
 * then moves to j.  The run ends at an empty slot (the table is at most
 * half full).  Moved entries tell the heap where they went.
 */
static void
table_delete(struct spa_cache *c, uint32_t hole)
{
	uint32_t j = hole, home;

	for (;;) {
		j = (j + 1) & c->mask;
		if (c->tab[j].heap == SPA_CACHE_NONE) {
			break;
		}
		home = c->tab[j].hash & c->mask;
		if (((j - home) & c->mask) < ((j - hole) & c->mask)) {
			continue;	/* home in (hole, j]: must stay */
		}
		c->tab[hole] = c->tab[j];
		c->heap[c->tab[hole].heap] = hole;
		hole = j;
	}
	c->tab[hole].heap = SPA_CACHE_NONE;
}

/* Remove the entry at the top of the heap. */
static void
cache_pop(struct spa_cache *c)
{
	uint32_t top = c->heap[0];

	c->n--;
	if (c->n > 0) {
		heap_set(c, 0, c->heap[c->n]);
		heap_down(c, 0);
	}
	table_delete(c, top);
}

static void
cache_reap(struct spa_cache *c, uint64_t now)
{
	int i;

	for (i = 0; i < SPA_CACHE_REAP && c->n > 0 &&
	    c->tab[c->heap[0]].expires <= now; i++) {
		cache_pop(c);
	}
}

struct spa_cache *
spa_cache_new(size_t capacity)
{
	struct spa_cache *c = NULL;
	size_t tabsize = 2, i;

	if (capacity < 1 || capacity > SPA_CACHE_MAXCAP) {
		errno = EINVAL;
		return NULL;
	}
	while (tabsize < 2 * capacity) {
		tabsize *= 2;
	}
	if (sodium_init() < 0 || (c = calloc(1, sizeof(*c))) == NULL ||
	    (c->tab = calloc(tabsize, sizeof(*c->tab))) == NULL ||
	    (c->heap = calloc(capacity, sizeof(*c->heap))) == NULL) {
		spa_cache_free(c);
		return NULL;
	}
	for (i = 0; i < tabsize; i++) {
		c->tab[i].heap = SPA_CACHE_NONE;
	}
	c->cap = capacity;
	c->mask = (uint32_t)(tabsize - 1);
	randombytes_buf(c->key, sizeof(c->key));
	return c;
}

void
spa_cache_free(struct spa_cache *c)
{
	if (c == NULL) {
		return;
	}
	free(c->tab);
	free(c->heap);
	sodium_memzero(c->key, sizeof(c->key));
	free(c);
}

int
spa_cache_has(struct spa_cache *c, const uint8_t v[16], uint64_t now)
{
	uint32_t i;

	i = table_find(c, v, cache_hash(c, v));
	return i != SPA_CACHE_NONE && c->tab[i].expires > now;
}

/* Put v into a free slot of its probe sequence and into the heap. */
static void
cache_insert(struct spa_cache *c, const uint8_t v[16], uint32_t h,
    uint64_t expires)
{
	uint32_t i;

	for (i = h & c->mask; c->tab[i].heap != SPA_CACHE_NONE;
	    i = (i + 1) & c->mask) {
		;
	}
	memcpy(c->tab[i].v, v, 16);
	c->tab[i].expires = expires;
	c->tab[i].hash = h;
	heap_set(c, c->n, i);
	c->n++;
	heap_up(c, c->n - 1);
}

/*
 * The steps, in this order (the unit test's model follows them): reap;
 * an entry already dead is not stored; an existing v (even an expired one
 * not reaped yet) is updated in place; else, when full, the heap's top is
 * evicted -- it is live, because a full cache with an expired entry has
 * just reaped at least one -- and v is inserted.
 */
int
spa_cache_add(struct spa_cache *c, const uint8_t v[16], uint64_t expires,
    uint64_t now)
{
	uint32_t h, i;
	int evicted = 0;

	cache_reap(c, now);
	if (expires <= now) {
		return 0;
	}
	h = cache_hash(c, v);
	if ((i = table_find(c, v, h)) != SPA_CACHE_NONE) {
		if (c->tab[i].expires <= now || c->tab[i].expires < expires) {
			c->tab[i].expires = expires;
			heap_fix(c, c->tab[i].heap);
		}
		return 0;
	}
	if (c->n == c->cap) {
		cache_pop(c);
		c->evictions++;
		evicted = 1;
	}
	cache_insert(c, v, h, expires);
	return evicted;
}

size_t
spa_cache_count(const struct spa_cache *c)
{
	return c->n;
}

uint64_t
spa_cache_evictions(const struct spa_cache *c)
{
	return c->evictions;
}
