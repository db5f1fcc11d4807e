/*
 * srclimit: per-source penalties and the pre-auth start-up limit (see
 * srclimit.h for the contract).
 *
 * The table is a chained hash table over a dense array of entries, plus a
 * binary min-heap of the same entries ordered by expiry:
 *
 *  - Buckets are indexed by SipHash-2-4 (libsodium crypto_shorthash) under
 *    a random per-process key, so a remote attacker cannot pick addresses
 *    that land in one chain.  The number of buckets is the power of two at
 *    or above the entry capacity, so chains stay short.
 *  - The heap gives the entry that expires soonest in O(1) and removes it
 *    in O(log n): that is the one evicted when the table is full, and the
 *    first one to be forgotten.
 *  - Entries stay dense in ent[0..n): a removal moves the last entry into
 *    the hole.  The arrays grow by doubling up to the configured size, so
 *    a small table costs little and a large one is only paid for under
 *    attack; they never grow beyond it.
 *
 * An entry outlives its penalty.  A penalised source is refused at
 * accept(), so it can only offend again after its penalty is over: if the
 * entry were dropped at expiry, the offence count would never pass one and
 * penalties would never double.  So an entry is remembered for penalty_max
 * seconds after its penalty expires; an offence within that time doubles
 * the penalty, and after it the source starts afresh (count 0).  Such
 * remembered-but-expired entries sort first in the heap and are therefore
 * the first to be evicted.
 */
#include <sys/socket.h>

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "addr.h"
#include "srclimit.h"

#define SRCLIMIT_TABLE_MIN	16
#define SRCLIMIT_TABLE_MAX	(1024 * 1024)
#define SRCLIMIT_INITIAL_CAP	64
/* Enough doublings to reach any penalty_max; the count saturates here. */
#define SRCLIMIT_COUNT_MAX	63
/* Forgotten entries reclaimed per call, so no call does unbounded work. */
#define SRCLIMIT_REAP_BATCH	4
#define SRCLIMIT_NONE		UINT32_MAX

/* Family tag and IPv4 address or IPv6 /64 prefix. */
#define SRCKEY_LEN		ADDR_SOURCE_KEY_LEN

struct srcent {
	int64_t		expiry;		/* penalised while now < expiry */
	uint32_t	hash;		/* low bits of the SipHash of key */
	uint32_t	next;		/* next in bucket chain, or NONE */
	uint32_t	heapidx;	/* position in s->heap */
	uint8_t		count;		/* offences, saturating */
	uint8_t		key[SRCKEY_LEN];
};

struct srclimit {
	struct srcent	*ent;		/* dense: ent[0..n) in use */
	uint32_t	*heap;		/* ent indices, min-heap on expiry */
	uint32_t	*bucket;	/* chain heads, or NONE */
	size_t		 n, cap, max;
	size_t		 nbucket;	/* power of two, >= cap */
	uint64_t	 evictions;
	unsigned char	 hkey[crypto_shorthash_KEYBYTES];

	unsigned long	 penalty[SRCLIMIT_NOFFENCE];
	unsigned long	 penalty_max;
	struct addr_net	*exempt;	/* our own copy */
	size_t		 nexempt;
	unsigned long	 startups_begin, startups_rate, startups_full;
};

/* Keys and hashing. */

static uint32_t
srclimit_hash(const struct srclimit *s, const uint8_t key[SRCKEY_LEN])
{
	unsigned char out[crypto_shorthash_BYTES];
	uint32_t h;

	crypto_shorthash(out, key, SRCKEY_LEN, s->hkey);
	memcpy(&h, out, sizeof(h));
	return h;
}

static int
srclimit_exempt(const struct srclimit *s, const struct addr *src)
{
	size_t i;

	for (i = 0; i < s->nexempt; i++) {
		if (addr_in_net(src, &s->exempt[i])) {
			return 1;
		}
	}
	return 0;
}

/* Time arithmetic, saturating rather than overflowing. */

static int64_t
time_add(int64_t t, unsigned long secs)
{
	if (secs > (uint64_t)INT64_MAX ||
	    (t > 0 && (int64_t)secs > INT64_MAX - t)) {
		return INT64_MAX;
	}
	return t + (int64_t)secs;
}

static unsigned long
time_left(int64_t expiry, int64_t now)
{
	uint64_t d;

	if (expiry <= now) {
		return 0;
	}
	d = (uint64_t)expiry - (uint64_t)now;
	return d > ULONG_MAX ? ULONG_MAX : (unsigned long)d;
}

/* 1 if e's penalty is over and it is past remembering too. */
static int
srclimit_stale(const struct srclimit *s, const struct srcent *e, int64_t now)
{
	return time_add(e->expiry, s->penalty_max) <= now;
}

/* The min-heap on expiry. */

static void
heap_set(struct srclimit *s, size_t pos, uint32_t i)
{
	s->heap[pos] = i;
	s->ent[i].heapidx = (uint32_t)pos;
}

static void
heap_up(struct srclimit *s, size_t pos)
{
	uint32_t i = s->heap[pos];
	size_t parent;

	while (pos > 0) {
		parent = (pos - 1) / 2;
		if (s->ent[s->heap[parent]].expiry <= s->ent[i].expiry) {
			break;
		}
		heap_set(s, pos, s->heap[parent]);
		pos = parent;
	}
	heap_set(s, pos, i);
}

static void
heap_down(struct srclimit *s, size_t pos)
{
	uint32_t i = s->heap[pos];
	size_t child;

	for (;;) {
		child = 2 * pos + 1;
		if (child >= s->n) {
			break;
		}
		if (child + 1 < s->n && s->ent[s->heap[child + 1]].expiry <
		    s->ent[s->heap[child]].expiry) {
			child++;
		}
		if (s->ent[i].expiry <= s->ent[s->heap[child]].expiry) {
			break;
		}
		heap_set(s, pos, s->heap[child]);
		pos = child;
	}
	heap_set(s, pos, i);
}

/* Buckets. */

/* Where the link to entry i is stored: a bucket head or a next field. */
static uint32_t *
chain_link(struct srclimit *s, uint32_t i)
{
	uint32_t *p;

	p = &s->bucket[s->ent[i].hash & (s->nbucket - 1)];
	while (*p != i) {
		p = &s->ent[*p].next;
	}
	return p;
}

static int
buckets_rebuild(struct srclimit *s, size_t cap)
{
	uint32_t *b, h;
	size_t nb, i;

	nb = SRCLIMIT_TABLE_MIN;
	while (nb < cap) {
		nb *= 2;
	}
	if (nb == s->nbucket) {
		return 0;
	}
	if ((b = calloc(nb, sizeof(*b))) == NULL) {
		return -1;
	}
	for (i = 0; i < nb; i++) {
		b[i] = SRCLIMIT_NONE;
	}
	for (i = 0; i < s->n; i++) {
		h = s->ent[i].hash & (uint32_t)(nb - 1);
		s->ent[i].next = b[h];
		b[h] = (uint32_t)i;
	}
	free(s->bucket);
	s->bucket = b;
	s->nbucket = nb;
	return 0;
}

/*
 * Resize the entry and heap arrays to cap (>= n).  On failure the old
 * arrays are kept; whichever one was resized is still large enough.
 */
static int
srclimit_resize(struct srclimit *s, size_t cap)
{
	struct srcent *e;
	uint32_t *h;

	if ((e = reallocarray(s->ent, cap, sizeof(*e))) == NULL) {
		return -1;
	}
	s->ent = e;
	if ((h = reallocarray(s->heap, cap, sizeof(*h))) == NULL) {
		if (cap > s->cap) {
			return -1;
		}
		/* Shrinking failed: the old heap array is big enough. */
	} else {
		s->heap = h;
	}
	s->cap = cap;
	/* Longer chains if this fails, but still correct. */
	(void)buckets_rebuild(s, cap);
	return 0;
}

/* Entries. */

static uint32_t
srclimit_find(struct srclimit *s, const uint8_t key[SRCKEY_LEN], uint32_t h)
{
	uint32_t i;

	for (i = s->bucket[h & (s->nbucket - 1)]; i != SRCLIMIT_NONE;
	    i = s->ent[i].next) {
		if (s->ent[i].hash == h &&
		    memcmp(s->ent[i].key, key, SRCKEY_LEN) == 0) {
			return i;
		}
	}
	return SRCLIMIT_NONE;
}

static void
srclimit_remove(struct srclimit *s, uint32_t i)
{
	uint32_t last = (uint32_t)(s->n - 1), moved;
	size_t pos = s->ent[i].heapidx;

	/* Out of its chain and out of the heap. */
	*chain_link(s, i) = s->ent[i].next;
	moved = s->heap[s->n - 1];
	s->n--;
	if (pos < s->n) {
		heap_set(s, pos, moved);
		heap_up(s, pos);
		heap_down(s, s->ent[moved].heapidx);
	}
	/* Keep the array dense: the last entry takes the hole. */
	if (i != last) {
		*chain_link(s, last) = i;
		s->ent[i] = s->ent[last];
		s->heap[s->ent[i].heapidx] = i;
	}
}

static void
srclimit_evict(struct srclimit *s)
{
	srclimit_remove(s, s->heap[0]);
	s->evictions++;
}

/* Forget a few entries that are past remembering. */
static void
srclimit_reap(struct srclimit *s, int64_t now)
{
	int k;

	for (k = 0; k < SRCLIMIT_REAP_BATCH && s->n > 0; k++) {
		if (!srclimit_stale(s, &s->ent[s->heap[0]], now)) {
			break;
		}
		srclimit_remove(s, s->heap[0]);
	}
}

/*
 * Add an entry expiring at expiry.  When the table is full the entry that
 * expires soonest goes, which may be the new one: then nothing is added
 * and NONE is returned.  A long penalty is never pushed out by a shorter
 * one, and among equals the most recent offender wins.  The caller has
 * just reaped, so a full table holds no entry past remembering: every
 * eviction loses a penalty or an offence count, and is counted.
 */
static uint32_t
srclimit_insert(struct srclimit *s, const uint8_t key[SRCKEY_LEN],
    uint32_t h, int64_t expiry)
{
	struct srcent *e;
	size_t ncap;
	uint32_t i;

	if (s->n == s->cap && s->cap < s->max) {
		/* Grow; if that fails, carry on at the present size. */
		ncap = s->cap > s->max / 2 ? s->max : s->cap * 2;
		(void)srclimit_resize(s, ncap);
	}
	if (s->n >= s->max || s->n >= s->cap) {
		/* Full, or out of memory: make room rather than fail. */
		if (s->ent[s->heap[0]].expiry > expiry) {
			s->evictions++;
			return SRCLIMIT_NONE;
		}
		srclimit_evict(s);
	}
	i = (uint32_t)s->n;
	e = &s->ent[i];
	memset(e, 0, sizeof(*e));
	memcpy(e->key, key, SRCKEY_LEN);
	e->hash = h;
	e->expiry = expiry;
	e->next = s->bucket[h & (s->nbucket - 1)];
	s->bucket[h & (s->nbucket - 1)] = i;
	s->n++;
	heap_set(s, s->n - 1, i);
	heap_up(s, s->n - 1);
	return i;
}

/* base * 2^count, capped at max. */
static unsigned long
srclimit_penalty(unsigned long base, unsigned int count, unsigned long max)
{
	if (count >= sizeof(base) * 8 || base > (ULONG_MAX >> count)) {
		return max;
	}
	base <<= count;
	return base > max ? max : base;
}

/* Configuration. */

static int
srclimit_apply(struct srclimit *s, const struct srclimit_conf *conf)
{
	struct addr_net *ex = NULL;
	size_t i;

	if (conf->startups_rate > 100 ||
	    conf->startups_begin > conf->startups_full) {
		return -1;
	}
	if (conf->nexempt > 0) {
		if (conf->exempt == NULL ||
		    (ex = calloc(conf->nexempt, sizeof(*ex))) == NULL) {
			return -1;
		}
		memcpy(ex, conf->exempt, conf->nexempt * sizeof(*ex));
	}
	free(s->exempt);
	s->exempt = ex;
	s->nexempt = conf->nexempt;
	for (i = 0; i < SRCLIMIT_NOFFENCE; i++) {
		s->penalty[i] = conf->penalty[i];
	}
	s->penalty_max = conf->penalty_max;
	s->startups_begin = conf->startups_begin;
	s->startups_rate = conf->startups_rate;
	s->startups_full = conf->startups_full;
	/* Out-of-range sizes are clamped: the table is never unbounded. */
	s->max = conf->table_size;
	if (s->max < SRCLIMIT_TABLE_MIN) {
		s->max = SRCLIMIT_TABLE_MIN;
	}
	if (s->max > SRCLIMIT_TABLE_MAX) {
		s->max = SRCLIMIT_TABLE_MAX;
	}
	return 0;
}

struct srclimit *
srclimit_new(const struct srclimit_conf *conf)
{
	struct srclimit *s = NULL;

	if (sodium_init() < 0 || (s = calloc(1, sizeof(*s))) == NULL) {
		return NULL;
	}
	randombytes_buf(s->hkey, sizeof(s->hkey));
	if (srclimit_apply(s, conf) != 0) {
		goto fail;
	}
	s->cap = s->max < SRCLIMIT_INITIAL_CAP ? s->max : SRCLIMIT_INITIAL_CAP;
	if ((s->ent = calloc(s->cap, sizeof(*s->ent))) == NULL ||
	    (s->heap = calloc(s->cap, sizeof(*s->heap))) == NULL ||
	    buckets_rebuild(s, s->cap) != 0) {
		goto fail;
	}
	return s;
 fail:
	srclimit_free(s);
	return NULL;
}

void
srclimit_free(struct srclimit *s)
{
	if (s == NULL) {
		return;
	}
	free(s->ent);
	free(s->heap);
	free(s->bucket);
	free(s->exempt);
	sodium_memzero(s->hkey, sizeof(s->hkey));
	free(s);
}

/*
 * Invalid limits (rate above 100, begin above full) leave the old ones in
 * place and return -1.  A smaller table evicts the entries that expire
 * soonest (counted) and gives the memory back.
 */
int
srclimit_reconfigure(struct srclimit *s, const struct srclimit_conf *conf)
{
	if (srclimit_apply(s, conf) != 0) {
		return -1;
	}
	while (s->n > s->max) {
		srclimit_evict(s);
	}
	if (s->cap > s->max) {
		(void)srclimit_resize(s, s->max);
	}
	return 0;
}

/* Penalties. */

/*
 * An offence type with a zero base penalty (or a zero penalty_max) is not
 * recorded at all; the source keeps whatever penalty it already has.
 */
unsigned long
srclimit_penalise(struct srclimit *s, const struct addr *src,
    enum srclimit_offence what, time_t now)
{
	uint8_t key[SRCKEY_LEN];
	struct srcent *e;
	unsigned long base, p;
	int64_t t = (int64_t)now, expiry;
	uint32_t h, i;

	if ((unsigned int)what >= SRCLIMIT_NOFFENCE ||
	    srclimit_exempt(s, src) || addr_source_key(src, key) != 0) {
		return 0;
	}
	srclimit_reap(s, t);
	h = srclimit_hash(s, key);
	i = srclimit_find(s, key, h);
	base = s->penalty[what];
	if (base == 0 || s->penalty_max == 0) {
		return i == SRCLIMIT_NONE ? 0 : time_left(s->ent[i].expiry, t);
	}
	if (i == SRCLIMIT_NONE) {
		p = srclimit_penalty(base, 0, s->penalty_max);
		if ((i = srclimit_insert(s, key, h, time_add(t, p))) ==
		    SRCLIMIT_NONE) {
			return 0;
		}
		e = &s->ent[i];
	} else {
		e = &s->ent[i];
		if (srclimit_stale(s, e, t)) {
			e->count = 0;
		}
		p = srclimit_penalty(base, e->count, s->penalty_max);
		expiry = time_add(t, p);
		if (expiry > e->expiry) {
			e->expiry = expiry;
			heap_down(s, e->heapidx);
		}
	}
	if (e->count < SRCLIMIT_COUNT_MAX) {
		e->count++;
	}
	return time_left(e->expiry, t);
}

int
srclimit_penalised(struct srclimit *s, const struct addr *src,
    time_t now, unsigned long *left)
{
	uint8_t key[SRCKEY_LEN];
	int64_t t = (int64_t)now;
	uint32_t i;

	if (left != NULL) {
		*left = 0;
	}
	/* Checked first: an exempt host may share a /64 with an offender. */
	if (srclimit_exempt(s, src) || addr_source_key(src, key) != 0) {
		return 0;
	}
	srclimit_reap(s, t);
	if ((i = srclimit_find(s, key, srclimit_hash(s, key))) ==
	    SRCLIMIT_NONE) {
		return 0;
	}
	if (s->ent[i].expiry <= t) {
		if (srclimit_stale(s, &s->ent[i], t)) {
			srclimit_remove(s, i);
		}
		return 0;
	}
	if (left != NULL) {
		*left = time_left(s->ent[i].expiry, t);
	}
	return 1;
}

/* Start-ups: random early drop, as OpenSSH's drop_connection(). */
int
srclimit_startup_drop(const struct srclimit *s, size_t pending,
    unsigned int rnd)
{
	uint64_t num, den, p;

	if (pending < s->startups_begin) {
		return 0;
	}
	if (pending >= s->startups_full) {
		return 1;
	}
	/* begin <= pending < full, so den > num >= 0. */
	num = (uint64_t)pending - s->startups_begin;
	den = (uint64_t)s->startups_full - s->startups_begin;
	while (num > UINT64_MAX / 100) {
		num >>= 1;
		den >>= 1;
	}
	p = s->startups_rate + (100 - s->startups_rate) * num / den;
	return rnd < p;
}

/* Counters. */

/* Sources penalised at now.  O(n): for logs and metrics, not per accept. */
size_t
srclimit_active(struct srclimit *s, time_t now)
{
	int64_t t = (int64_t)now;
	size_t i, k = 0;

	srclimit_reap(s, t);
	for (i = 0; i < s->n; i++) {
		if (s->ent[i].expiry > t) {
			k++;
		}
	}
	return k;
}

uint64_t
srclimit_evictions(const struct srclimit *s)
{
	return s->evictions;
}
