/*
 * knockd_proc: what rampart-knockd does with one datagram -- the steps of
 * docs/PROTOCOL.knock section 8, in that order, with the counters and the
 * audit records of section 11.
 *
 * It is pure of I/O but for the audit file: the caller passes the bytes,
 * the source, the clock, and two callbacks, one that opens the door
 * (knock_nft in the daemon, a recorder in tests) and one that tells the
 * gateway's master (the binding socket).  It never fails on input: every
 * datagram ends as "accepted" or as one drop reason, counted.
 */
#ifndef RAMPART_KNOCKD_PROC_H
#define RAMPART_KNOCKD_PROC_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "audit.h"
#include "knock_bind.h"
#include "knockd_conf.h"
#include "policy.h"
#include "spa.h"

/* The outcome of one datagram: accepted, or the reason of section 11. */
enum knockd_drop {
	KNOCKD_ACCEPTED = 0,
	KNOCKD_DROP_SIZE,		/* step 1 */
	KNOCKD_DROP_TAG,		/* 2 */
	KNOCKD_DROP_DUPLICATE,		/* 3 */
	KNOCKD_DROP_OPEN_BUDGET,	/* 4 */
	KNOCKD_DROP_SOURCE_BUDGET,	/* 4 */
	KNOCKD_DROP_SEAL,		/* 6 */
	KNOCKD_DROP_VERSION,		/* 7 */
	KNOCKD_DROP_FLAGS,		/* 7 */
	KNOCKD_DROP_MALFORMED,		/* 7 */
	KNOCKD_DROP_UNKNOWN_KEY,	/* 8 */
	KNOCKD_DROP_SIGNATURE,		/* 9 */
	KNOCKD_DROP_STALE,		/* 10 */
	KNOCKD_DROP_REPLAY,		/* 11 */
	KNOCKD_DROP_USER_BUDGET,	/* 12 */
	KNOCKD_DROP_EXPIRED,		/* 14 */
	KNOCKD_DROP_PORT,		/* 14 */
	KNOCKD_DROP_ADDRESS_MODE,	/* 14 */
	KNOCKD_DROP_ADDRESS,		/* 14 */
	KNOCKD_DROP_FROM,		/* 14 */
	KNOCKD_DROP_DOOR,		/* 15 */
	KNOCKD_NDROP			/* 21: accepted and 20 reasons */
};

/* The drops of steps 1-4 are summarised, not audited one by one. */
#define KNOCKD_SUMMARISED(r)	((r) >= KNOCKD_DROP_SIZE && \
				    (r) <= KNOCKD_DROP_SOURCE_BUDGET)

#define KNOCKD_SUMMARY_MS	60000	/* at most one summary a minute */
#define KNOCKD_REJECTED_PER_SEC	10	/* knock-rejected records a second */

/* Opens (addr, port) for seconds.  0, or -1 with a reason in err. */
typedef int knockd_door_fn(void *ctx, const struct addr *a,
	    unsigned int port, unsigned int seconds, char *err,
	    size_t errlen);
/* Sends m to the gateway's master.  0, or -1 with a reason in err. */
typedef int knockd_bind_fn(void *ctx, const struct knock_bind_msg *m,
	    char *err, size_t errlen);

struct knockd_counters {
	uint64_t	datagrams;		/* every datagram */
	uint64_t	accepted;
	uint64_t	dropped[KNOCKD_NDROP];	/* [0] unused */
	uint64_t	seen_evictions;
	uint64_t	replay_evictions;
	uint64_t	source_evictions;
	uint64_t	bind_errors;
	uint64_t	audit_suppressed;	/* knock-rejected left out */
	uint64_t	audit_errors;		/* records not written */
	size_t		seen_size;		/* entries now */
	size_t		replay_size;
};

struct knockd_proc;

/*
 * keys (newest first) must stay valid and unchanged while p lives; the
 * settings are copied from c.  start is knockd's clock (Unix seconds) at
 * start, now_ms the monotonic clock in milliseconds.  audit may be NULL
 * (nothing is recorded).  NULL if out of memory.
 */
struct knockd_proc *knockd_proc_new(const struct knockd_conf *c,
	    const struct spa_server_key *keys, size_t nkeys, uint64_t start,
	    uint64_t now_ms, struct audit *audit);
void	knockd_proc_free(struct knockd_proc *p);

/*
 * The policy whose users and keys may knock; NULL refuses every knock
 * ("unknown_key").  Not owned: the caller swaps it on SIGHUP and frees
 * the old one after this call.  Each user's budget starts afresh.
 */
void	knockd_proc_set_policy(struct knockd_proc *p,
	    const struct policy *pol);

void	knockd_proc_set_door(struct knockd_proc *p, knockd_door_fn *fn,
	    void *ctx);
/* Without a bind function (BindSocket none) nobody is told. */
void	knockd_proc_set_bind(struct knockd_proc *p, knockd_bind_fn *fn,
	    void *ctx);

/*
 * Steps 1-17 for one datagram of len bytes (truncated: the kernel said
 * MSG_TRUNC) from src:src_port.  now is CLOCK_REALTIME in seconds (a value
 * below one seen before counts as that one: knockd's clock never goes
 * back), now_ms the monotonic clock.  Returns the enum knockd_drop.
 */
int	knockd_proc_datagram(struct knockd_proc *p, const uint8_t *pkt,
	    size_t len, int truncated, const struct addr *src,
	    unsigned int src_port, uint64_t now, uint64_t now_ms);

/*
 * Periodic work: the knock-drop-summary record when steps 1-4 dropped
 * anything and the last summary is KNOCKD_SUMMARY_MS old.  Cheap; call
 * it after each batch and from a timer.
 */
void	knockd_proc_tick(struct knockd_proc *p, uint64_t now_ms);

void	knockd_proc_counters(const struct knockd_proc *p,
	    struct knockd_counters *out);

/* "size", "tag", ... "door" (section 11); "accepted" for 0. */
const char *knockd_proc_reason(int r);

/* "SHA256:" and the unpadded base64 of key_id, as ssh-keygen -l shows. */
void	knockd_proc_fingerprint(const uint8_t key_id[SPA_KEYID_SIZE],
	    char *buf, size_t len);

#endif /* RAMPART_KNOCKD_PROC_H */
