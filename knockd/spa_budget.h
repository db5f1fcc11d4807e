/*
 * spa_budget: the token buckets that ration knockd's public-key work
 * (docs/PROTOCOL.knock section 8, step 4) and each user's accepted knocks
 * (step 12).
 *
 *	G	global, open_rate per second, capacity open_rate
 *	R	returning sources, returning_rate per second, same capacity
 *	S(x)	per source prefix x (IPv4 /32, IPv6 /64), source_rate per
 *		second, capacity source_burst; a new prefix starts full
 *	U(u)	per user, user_rate per minute, capacity user_burst
 *
 * Buckets refill continuously; time is passed in by the caller in
 * milliseconds (monotonic), so tests can drive the clock.  The source and
 * returning tables are bounded hash tables keyed with crypto_shorthash
 * (random key) and evict the least recently used entry when full.  Only
 * datagrams that passed the tag reach this module, so outsiders cannot
 * create entries.
 */
#ifndef RAMPART_SPA_BUDGET_H
#define RAMPART_SPA_BUDGET_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct spa_budget;

struct spa_budget_conf {
	unsigned long	open_rate;		/* OpenRate, 4000 */
	unsigned long	returning_rate;		/* ReturningRate, 1000 */
	unsigned long	returning_time;		/* ReturningTime, s, 7 days */
	unsigned long	source_rate;		/* SourceRate, 2 */
	unsigned long	source_burst;		/* SourceBurst, 10 */
	unsigned long	user_rate;		/* UserRate, per minute, 10 */
	unsigned long	user_burst;		/* UserBurst, 10 */
	size_t		source_table;		/* SourceTableSize, 65536 */
	size_t		returning_table;	/* ReturningTableSize, 65536 */
};

#define SPA_BUDGET_OK		0
#define SPA_BUDGET_OPEN		-1	/* "open_budget" */
#define SPA_BUDGET_SOURCE	-2	/* "source_budget" */
#define SPA_BUDGET_USER		-3	/* "user_budget" */

/*
 * G, R and every new bucket start full.  NULL if out of memory, or if a
 * table size is 0 or above 2^30.
 */
struct spa_budget *spa_budget_new(const struct spa_budget_conf *c,
	    uint64_t now_ms);
void	spa_budget_free(struct spa_budget *b);

/*
 * Step 4 for a datagram from src: SPA_BUDGET_OK (tokens taken),
 * SPA_BUDGET_OPEN or SPA_BUDGET_SOURCE (nothing taken).
 */
int	spa_budget_take(struct spa_budget *b, const struct addr *src,
	    uint64_t now_ms);

/*
 * Step 17: src's prefix becomes "returning" for returning_time.  When the
 * returning table is full, expired entries make room first, then the one
 * refreshed least recently is evicted.
 */
void	spa_budget_returning(struct spa_budget *b, const struct addr *src,
	    uint64_t now_ms);

/*
 * Step 12: take one of user's tokens.  SPA_BUDGET_OK or SPA_BUDGET_USER.
 * The user table holds one entry per user name seen here; it is emptied
 * by spa_budget_users_reset() (on policy reload), so it is bounded by the
 * policy's users (names reach this step only after their signature
 * verified).
 */
int	spa_budget_user_take(struct spa_budget *b, const char *user,
	    uint64_t now_ms);
void	spa_budget_users_reset(struct spa_budget *b);

/* LRU evictions from the source and returning tables, together. */
uint64_t spa_budget_evictions(const struct spa_budget *b);

#endif /* RAMPART_SPA_BUDGET_H */
