/*
 * knockd_proc: one datagram through docs/PROTOCOL.knock section 8.
 *
 * The steps are grouped as the protocol groups them: the outer checks on
 * unauthenticated bytes (size, tag, seen cache, budgets: cheap, and only
 * summarised in the audit trail, since an attacker may send 150 000 of
 * them a second), the inner ones (seal, decode, key, signature), the
 * freshness of an authenticated knock (time, replay, the user's budget),
 * the policy, and the door.  Each group returns 0 to go on or the reason
 * to drop.  The user name is only the sender's claim until the signature
 * verified, and the audit record says so.
 */
#include <sys/socket.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "knockd_proc.h"
#include "log.h"
#include "spa_budget.h"
#include "spa_cache.h"

#define WARN_EVERY_MS	60000	/* a full replay cache is said once a minute */
#define DETAIL_MAX	256

static const char *const reasons[KNOCKD_NDROP] = {
	"accepted", "size", "tag", "duplicate", "open_budget",
	"source_budget", "seal", "version", "flags", "malformed",
	"unknown_key", "signature", "stale", "replay", "user_budget",
	"expired", "port", "address_mode", "address", "from", "door",
};

struct knockd_proc {
	/* settings */
	unsigned int			 window;
	unsigned int			 open_time;
	unsigned int			 ports[KNOCK_NFT_MAX_PORTS];
	size_t				 nports;
	int				 address_mode;
	const struct spa_server_key	*keys;
	size_t				 nkeys;
	uint64_t			 start;
	/* state */
	uint64_t			 last_now;	/* the clock never goes back */
	struct spa_cache		*seen;
	struct spa_cache		*replay;
	struct spa_budget		*budget;
	const struct policy		*pol;
	knockd_door_fn			*door;
	void				*door_ctx;
	knockd_bind_fn			*bind;
	void				*bind_ctx;
	struct audit			*audit;
	struct knockd_counters		 n;
	/* the summary of steps 1-4 since the last one */
	uint64_t			 pending[KNOCKD_DROP_SOURCE_BUDGET + 1];
	uint64_t			 summary_ms;
	int				 summary_written;
	/* the knock-rejected rate limit */
	uint64_t			 rej_sec;
	unsigned int			 rej_in_sec;
	uint64_t			 rej_left_out;
	uint64_t			 replay_warn_ms;
	int				 replay_warned;
};

/* One datagram on its way through the steps. */
struct knock {
	const uint8_t		*pkt;
	size_t			 len;
	struct addr		 src;
	unsigned int		 src_port;
	uint64_t		 now, now_ms;
	size_t			 key_idx;
	uint64_t		 bucket;
	uint8_t			 inner[SPA_INNER_SIZE];
	struct spa_inner	 in;
	int			 decoded;	/* in holds the sender's claims */
	int			 authed;	/* the signature verified */
	const struct policy_user *u;
	struct addr		 target;	/* the address to open */
	uint64_t		 until;
	char			 detail[DETAIL_MAX];
};

const char *
knockd_proc_reason(int r)
{
	if (r < 0 || r >= KNOCKD_NDROP)
		return "unknown";
	return reasons[r];
}

void
knockd_proc_fingerprint(const uint8_t key_id[SPA_KEYID_SIZE], char *buf,
    size_t len)
{
	char b64[sodium_base64_ENCODED_LEN(SPA_KEYID_SIZE,
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];

	sodium_bin2base64(b64, sizeof(b64), key_id, SPA_KEYID_SIZE,
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	snprintf(buf, len, "SHA256:%s", b64);
}

struct knockd_proc *
knockd_proc_new(const struct knockd_conf *c, const struct spa_server_key *keys,
    size_t nkeys, uint64_t start, uint64_t now_ms, struct audit *audit)
{
	struct knockd_proc *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->window = (unsigned int)c->window;
	p->open_time = (unsigned int)c->open_time;
	p->nports = c->nports < KNOCK_NFT_MAX_PORTS ? c->nports :
	    KNOCK_NFT_MAX_PORTS;
	memcpy(p->ports, c->ports, p->nports * sizeof(p->ports[0]));
	p->address_mode = c->address_mode;
	p->keys = keys;
	p->nkeys = nkeys;
	p->start = start;
	p->last_now = start;
	p->audit = audit;
	if ((p->seen = spa_cache_new(c->seen_cache)) == NULL ||
	    (p->replay = spa_cache_new(c->replay_cache)) == NULL ||
	    (p->budget = spa_budget_new(&c->budget, now_ms)) == NULL) {
		knockd_proc_free(p);
		return NULL;
	}
	return p;
}

void
knockd_proc_free(struct knockd_proc *p)
{
	if (p == NULL)
		return;
	spa_cache_free(p->seen);
	spa_cache_free(p->replay);
	spa_budget_free(p->budget);
	free(p);
}

void
knockd_proc_set_policy(struct knockd_proc *p, const struct policy *pol)
{
	p->pol = pol;
	spa_budget_users_reset(p->budget);
}

void
knockd_proc_set_door(struct knockd_proc *p, knockd_door_fn *fn, void *ctx)
{
	p->door = fn;
	p->door_ctx = ctx;
}

void
knockd_proc_set_bind(struct knockd_proc *p, knockd_bind_fn *fn, void *ctx)
{
	p->bind = fn;
	p->bind_ctx = ctx;
}

void
knockd_proc_counters(const struct knockd_proc *p, struct knockd_counters *out)
{
	*out = p->n;
	out->seen_evictions = spa_cache_evictions(p->seen);
	out->replay_evictions = spa_cache_evictions(p->replay);
	out->source_evictions = spa_budget_evictions(p->budget);
	out->seen_size = spa_cache_count(p->seen);
	out->replay_size = spa_cache_count(p->replay);
}

/* ---- the steps ---- */

/* Steps 1-5: everything before the first public-key operation. */
static int
check_outer(struct knockd_proc *p, struct knock *k, int truncated)
{
	uint64_t expires;

	if (truncated || k->len != SPA_SIZE)
		return KNOCKD_DROP_SIZE;
	if (spa_tag_check(k->pkt, k->len, p->keys, p->nkeys, k->now,
	    p->window, &k->key_idx, &k->bucket) != 0)
		return KNOCKD_DROP_TAG;
	if (spa_cache_has(p->seen, k->pkt, k->now))
		return KNOCKD_DROP_DUPLICATE;
	switch (spa_budget_take(p->budget, &k->src, k->now_ms)) {
	case SPA_BUDGET_OK:
		break;
	case SPA_BUDGET_OPEN:
		return KNOCKD_DROP_OPEN_BUDGET;
	default:
		return KNOCKD_DROP_SOURCE_BUDGET;
	}
	/* Kept until the bucket has left the window: then the tag fails. */
	expires = (k->bucket + 1) * SPA_BUCKET + p->window;
	(void)spa_cache_add(p->seen, k->pkt, expires, k->now);
	return 0;
}

/* Steps 6-9: open, decode, find the key, verify. */
static int
check_inner(struct knockd_proc *p, struct knock *k)
{
	uint8_t pk[SPA_PK_SIZE];

	if (spa_open(k->pkt, &p->keys[k->key_idx], k->inner) != 0) {
		snprintf(k->detail, sizeof(k->detail), "the sealed box did "
		    "not open with server key %zu", k->key_idx + 1);
		return KNOCKD_DROP_SEAL;
	}
	switch (spa_decode(k->inner, k->bucket, &k->in)) {
	case 0:
		break;
	case SPA_ERR_VERSION:
		snprintf(k->detail, sizeof(k->detail), "inner version is not "
		    "%d", SPA_VERSION);
		return KNOCKD_DROP_VERSION;
	case SPA_ERR_FLAGS:
		snprintf(k->detail, sizeof(k->detail), "a reserved flag is "
		    "set");
		return KNOCKD_DROP_FLAGS;
	default:
		snprintf(k->detail, sizeof(k->detail), "a field breaks "
		    "PROTOCOL.knock section 5");
		return KNOCKD_DROP_MALFORMED;
	}
	k->decoded = 1;
	if (p->pol == NULL ||
	    (k->u = policy_user_find(p->pol, k->in.user)) == NULL ||
	    !policy_user_knock_key(k->u, k->in.key_id, pk)) {
		snprintf(k->detail, sizeof(k->detail), "no such user, or no "
		    "such ssh-ed25519 key for the user");
		return KNOCKD_DROP_UNKNOWN_KEY;
	}
	if (spa_verify(k->inner, p->keys[k->key_idx].pk, pk) != 0) {
		snprintf(k->detail, sizeof(k->detail), "the signature does "
		    "not verify");
		return KNOCKD_DROP_SIGNATURE;
	}
	k->authed = 1;
	return 0;
}

/* Steps 10-13, for an authenticated knock. */
static int
check_fresh(struct knockd_proc *p, struct knock *k)
{
	uint64_t ts = k->in.timestamp, off;

	off = ts > k->now ? ts - k->now : k->now - ts;
	if (off > p->window) {
		snprintf(k->detail, sizeof(k->detail), "timestamp %s%" PRIu64
		    "s from knockd's clock (KnockWindow %us)",
		    ts > k->now ? "+" : "-", off, p->window);
		return KNOCKD_DROP_STALE;
	}
	if (ts < p->start) {
		snprintf(k->detail, sizeof(k->detail), "made %" PRIu64 "s "
		    "before knockd started", p->start - ts);
		return KNOCKD_DROP_STALE;
	}
	if (spa_cache_has(p->replay, k->in.nonce, k->now)) {
		snprintf(k->detail, sizeof(k->detail), "this knock's nonce "
		    "was accepted before");
		return KNOCKD_DROP_REPLAY;
	}
	if (spa_budget_user_take(p->budget, k->in.user, k->now_ms) !=
	    SPA_BUDGET_OK) {
		snprintf(k->detail, sizeof(k->detail), "over the user's "
		    "budget (UserRate, UserBurst)");
		return KNOCKD_DROP_USER_BUDGET;
	}
	/* Live while now <= timestamp + window; then it is stale anyway. */
	if (spa_cache_add(p->replay, k->in.nonce, ts + p->window + 1,
	    k->now) == 1 && (!p->replay_warned ||
	    k->now_ms - p->replay_warn_ms >= WARN_EVERY_MS)) {
		p->replay_warned = 1;
		p->replay_warn_ms = k->now_ms;
		error("the replay cache is full: an evicted nonce can be "
		    "replayed within its window (raise ReplayCacheSize)");
	}
	return 0;
}

/* Step 14: the authenticated user's policy and knockd.conf's doors. */
static int
check_policy(struct knockd_proc *p, struct knock *k)
{
	char a[ADDR_STRLEN];
	size_t i;
	int source = k->in.addr_type == SPA_ADDR_SOURCE;

	if (policy_user_expired(k->u, (time_t)k->now)) {
		snprintf(k->detail, sizeof(k->detail), "the account has "
		    "expired");
		return KNOCKD_DROP_EXPIRED;
	}
	for (i = 0; i < p->nports && p->ports[i] != k->in.port; i++)
		;
	if (i == p->nports) {
		snprintf(k->detail, sizeof(k->detail), "port %u is not a door "
		    "(Ports)", k->in.port);
		return KNOCKD_DROP_PORT;
	}
	if (!(p->address_mode & (source ? KNOCKD_MODE_SOURCE :
	    KNOCKD_MODE_EXPLICIT))) {
		snprintf(k->detail, sizeof(k->detail), "%s mode is not allowed "
		    "(AddressMode)", source ? "source" : "explicit");
		return KNOCKD_DROP_ADDRESS_MODE;
	}
	k->target = source ? k->src : k->in.addr;
	addr_ntop(&k->target, a, sizeof(a));
	if (source && !spa_addr_usable(&k->src)) {
		snprintf(k->detail, sizeof(k->detail), "source %s is not a "
		    "usable unicast address", a);
		return KNOCKD_DROP_ADDRESS;
	}
	if (!policy_user_source_ok(k->u, &k->target)) {
		snprintf(k->detail, sizeof(k->detail), "%s is outside the "
		    "user's \"from\"", a);
		return KNOCKD_DROP_FROM;
	}
	return 0;
}

/* Step 16: tell the master; a failure leaves the door open. */
static void
tell_master(struct knockd_proc *p, const struct knock *k)
{
	struct knock_bind_msg m;
	char err[256];

	if (p->bind == NULL)
		return;
	memset(&m, 0, sizeof(m));
	m.addr = k->target;
	m.port = k->in.port;
	snprintf(m.user, sizeof(m.user), "%s", k->in.user);
	m.until = k->until;
	memcpy(m.key_id, k->in.key_id, sizeof(m.key_id));
	memcpy(m.knock_id, k->in.nonce, sizeof(m.knock_id));
	err[0] = '\0';
	if (p->bind(p->bind_ctx, &m, err, sizeof(err)) != 0) {
		p->n.bind_errors++;
		error("binding for %s not sent to the gateway: %s", m.user,
		    err);
	}
}

/* Steps 15-16: the door, then the master. */
static int
open_door(struct knockd_proc *p, struct knock *k)
{
	char err[DETAIL_MAX - 16];

	err[0] = '\0';
	if (p->door == NULL)
		snprintf(err, sizeof(err), "no door is configured");
	else if (p->door(p->door_ctx, &k->target, k->in.port, p->open_time,
	    err, sizeof(err)) == 0) {
		k->until = k->now + p->open_time;
		tell_master(p, k);
		return 0;
	}
	snprintf(k->detail, sizeof(k->detail), "nftables: %s", err);
	return KNOCKD_DROP_DOOR;
}

/* ---- audit ---- */

static void
audit_source(struct audit_rec *r, const struct knock *k)
{
	char ip[ADDR_STRLEN];

	addr_ntop(&k->src, ip, sizeof(ip));
	audit_str(r, "source.ip", ip);
	audit_uint(r, "source.port", k->src_port);
}

/* The fields that exist once the signature verified. */
static void
audit_knock(struct audit_rec *r, const struct knock *k)
{
	char fp[64], id[SPA_NONCE_SIZE * 2 + 1];

	audit_str(r, "user.name", k->in.user);
	knockd_proc_fingerprint(k->in.key_id, fp, sizeof(fp));
	audit_str(r, "rampart.key.fingerprint", fp);
	sodium_bin2hex(id, sizeof(id), k->in.nonce, sizeof(k->in.nonce));
	audit_str(r, "rampart.knock.id", id);
}

/* A failing audit log is said at 1, 10, 100... records lost, not each. */
static void
audit_write_rec(struct knockd_proc *p, struct audit_rec *r)
{
	uint64_t n;

	if (audit_write(p->audit, r) == 0)
		return;
	n = ++p->n.audit_errors;
	while (n % 10 == 0)
		n /= 10;
	if (n == 1)
		error("cannot write the audit log: %s (%" PRIu64 " records "
		    "lost)", strerror(errno), p->n.audit_errors);
}

static void
audit_accepted(struct knockd_proc *p, const struct knock *k)
{
	struct audit_rec r;
	char a[ADDR_STRLEN], src[ADDR_STRLEN];
	const char *mode = k->in.addr_type == SPA_ADDR_SOURCE ? "source" :
	    "explicit";

	addr_ntop(&k->target, a, sizeof(a));
	addr_ntop(&k->src, src, sizeof(src));
	logit("knock accepted: %s from %s opened %s port %u for %us (%s)",
	    k->in.user, src, a, k->in.port, p->open_time, mode);
	if (p->audit == NULL)
		return;
	audit_begin(p->audit, &r, "knock-accepted", "success", NULL);
	audit_source(&r, k);
	audit_knock(&r, k);
	audit_str(&r, "rampart.knock.address", a);
	audit_str(&r, "rampart.knock.mode", mode);
	audit_uint(&r, "destination.port", k->in.port);
	audit_uint(&r, "rampart.knock.until", k->until);
	audit_write_rec(p, &r);
}

/* At most KNOCKD_REJECTED_PER_SEC a second; the next says how many not. */
static void
audit_rejected(struct knockd_proc *p, const struct knock *k, int why)
{
	struct audit_rec r;
	char reason[DETAIL_MAX + 32], src[ADDR_STRLEN];

	if (k->now_ms / 1000 != p->rej_sec) {
		p->rej_sec = k->now_ms / 1000;
		p->rej_in_sec = 0;
	}
	if (++p->rej_in_sec > KNOCKD_REJECTED_PER_SEC) {
		p->rej_left_out++;
		p->n.audit_suppressed++;
		return;
	}
	snprintf(reason, sizeof(reason), "%s: %s", reasons[why], k->detail);
	addr_ntop(&k->src, src, sizeof(src));
	verbose("knock from %s rejected: %s", src, reason);
	if (p->audit == NULL)
		return;
	audit_begin(p->audit, &r, "knock-rejected", "failure", NULL);
	audit_source(&r, k);
	audit_str(&r, "event.reason", reason);
	if (k->authed)
		audit_knock(&r, k);
	else if (k->decoded)
		audit_str(&r, "rampart.knock.claimed_user", k->in.user);
	if (why == KNOCKD_DROP_STALE)
		audit_int(&r, "rampart.knock.skew",
		    (int64_t)(k->in.timestamp - k->now));
	if (p->rej_left_out > 0)
		audit_uint(&r, "rampart.rejections_not_recorded",
		    p->rej_left_out);
	p->rej_left_out = 0;
	audit_write_rec(p, &r);
}

void
knockd_proc_tick(struct knockd_proc *p, uint64_t now_ms)
{
	static const char *const keys[] = { NULL, "rampart.drops.size",
	    "rampart.drops.tag", "rampart.drops.duplicate",
	    "rampart.drops.open_budget", "rampart.drops.source_budget" };
	struct audit_rec r;
	uint64_t any = 0;
	size_t i;

	for (i = KNOCKD_DROP_SIZE; i <= KNOCKD_DROP_SOURCE_BUDGET; i++)
		any += p->pending[i];
	if (any == 0 || (p->summary_written &&
	    now_ms - p->summary_ms < KNOCKD_SUMMARY_MS))
		return;
	p->summary_written = 1;
	p->summary_ms = now_ms;
	if (p->audit != NULL) {
		audit_begin(p->audit, &r, "knock-drop-summary", "failure",
		    NULL);
		for (i = KNOCKD_DROP_SIZE; i <= KNOCKD_DROP_SOURCE_BUDGET; i++)
			audit_uint(&r, keys[i], p->pending[i]);
		audit_write_rec(p, &r);
	}
	memset(p->pending, 0, sizeof(p->pending));
}

/* ---- one datagram ---- */

static int
run_steps(struct knockd_proc *p, struct knock *k, int truncated)
{
	int r;

	if ((r = check_outer(p, k, truncated)) != 0 ||
	    (r = check_inner(p, k)) != 0 ||
	    (r = check_fresh(p, k)) != 0 ||
	    (r = check_policy(p, k)) != 0 ||
	    (r = open_door(p, k)) != 0)
		return r;
	return KNOCKD_ACCEPTED;
}

int
knockd_proc_datagram(struct knockd_proc *p, const uint8_t *pkt, size_t len,
    int truncated, const struct addr *src, unsigned int src_port,
    uint64_t now, uint64_t now_ms)
{
	struct knock k;
	int r;

	memset(&k, 0, sizeof(k));
	if (now < p->last_now)
		now = p->last_now;
	p->last_now = now;
	k.pkt = pkt;
	k.len = len;
	k.src = *src;
	addr_normalise(&k.src);
	k.src_port = src_port;
	k.now = now;
	k.now_ms = now_ms;
	p->n.datagrams++;
	r = run_steps(p, &k, truncated);
	if (r == KNOCKD_ACCEPTED) {
		p->n.accepted++;
		audit_accepted(p, &k);
		/* Step 17. */
		spa_budget_returning(p->budget, &k.src, now_ms);
	} else {
		p->n.dropped[r]++;
		if (KNOCKD_SUMMARISED(r))
			p->pending[r]++;
		else
			audit_rejected(p, &k, r);
	}
	sodium_memzero(k.inner, sizeof(k.inner));
	return r;
}
