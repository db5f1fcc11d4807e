/*
 * spa_cache: knockd's two bounded caches of 16-byte values with an expiry
 * time -- the seen cache (tags of datagrams that were opened, section 8
 * step 3) and the replay cache (nonces of accepted knocks, step 11/13).
 *
 * Lookups and inserts are O(1) on average: an open hash table indexed by
 * crypto_shorthash with a random key per cache (chosen inputs cannot
 * degrade it), plus a binary min-heap on the expiry time.  Expired entries
 * are gone for lookups at once and are removed lazily.  When the cache is
 * full, the entry that expires first is evicted and counted.  Memory is
 * allocated once, at creation, for the capacity.
 */
#ifndef RAMPART_SPA_CACHE_H
#define RAMPART_SPA_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct spa_cache;

/* 1 <= capacity <= 2^30.  NULL if out of memory or out of range. */
struct spa_cache *spa_cache_new(size_t capacity);
void	spa_cache_free(struct spa_cache *c);

/* 1 if v is present and expires > now, else 0. */
int	spa_cache_has(struct spa_cache *c, const uint8_t v[16], uint64_t now);

/*
 * Insert v to expire at expires (an entry "expires > now" is live).  If v
 * is already live its expiry becomes the later of the two; an entry with
 * expires <= now is not stored.  When full, expired entries are dropped
 * first, then the live one expiring soonest (an eviction; ties go to the
 * smaller value).  Returns 1 if an eviction happened, else 0.
 */
int	spa_cache_add(struct spa_cache *c, const uint8_t v[16],
	    uint64_t expires, uint64_t now);

/*
 * Entries held: expired ones are removed lazily, a few per add, so the
 * count may include some that are no longer live.
 */
size_t	spa_cache_count(const struct spa_cache *c);
uint64_t spa_cache_evictions(const struct spa_cache *c);

#endif /* RAMPART_SPA_CACHE_H */
