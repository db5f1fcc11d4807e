/*
 * srclimit: per-source penalties and the pre-auth start-up limit, for the
 * master's accept loop (after OpenSSH srclimit.c and MaxStartups).
 *
 * Penalties: each offence by a source (failed authentication, login grace
 * expired, protocol error or crash) adds a penalty; a penalised source is
 * refused at accept() until its penalty expires.  Repeated offences double
 * the time, up to a maximum.  Sources are IPv4 addresses or IPv6 /64
 * networks (one host usually owns a whole /64).  The table is bounded:
 * when full, the entry that expires soonest is evicted (and counted), so an
 * attacker with many addresses cannot grow memory.  Exempt networks are
 * never penalised.
 *
 * Start-ups: connections that have not authenticated yet.  Below `begin`
 * all are accepted; from `begin` to `full` a new one is dropped with a
 * probability rising linearly from `rate`% to 100%; at `full` all are
 * dropped.  Random early drop keeps some room for legitimate users while a
 * flood is going on.
 */
#ifndef RAMPART_SRCLIMIT_H
#define RAMPART_SRCLIMIT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"

enum srclimit_offence {
	SRCLIMIT_AUTHFAIL = 0,	/* failed authentication */
	SRCLIMIT_NOAUTH,	/* LoginGraceTime passed, or left pre-auth */
	SRCLIMIT_ERROR,		/* protocol error or child crash */
	SRCLIMIT_NOFFENCE
};

struct srclimit_conf {
	unsigned long	penalty[SRCLIMIT_NOFFENCE];	/* base seconds */
	unsigned long	penalty_max;			/* seconds */
	size_t		table_size;			/* max sources */
	const struct addr_net *exempt;
	size_t		nexempt;
	unsigned long	startups_begin, startups_rate, startups_full;
};

struct srclimit;

struct srclimit *srclimit_new(const struct srclimit_conf *conf);
void	srclimit_free(struct srclimit *s);
/* New limits (SIGHUP); existing penalties are kept. */
int	srclimit_reconfigure(struct srclimit *s,
	    const struct srclimit_conf *conf);

/*
 * Record an offence at now (CLOCK_MONOTONIC seconds).  Returns the
 * seconds the source is now penalised for (0 if exempt).
 */
unsigned long srclimit_penalise(struct srclimit *s, const struct addr *src,
	    enum srclimit_offence what, time_t now);

/*
 * 1 if src is penalised at now; *left gets the seconds remaining.
 * Expired entries are forgotten lazily.
 */
int	srclimit_penalised(struct srclimit *s, const struct addr *src,
	    time_t now, unsigned long *left);

/*
 * 1 if a new pre-auth connection should be dropped, given how many are
 * pending now.  rnd is a uniform random number in [0, 100) supplied by the
 * caller (so tests are deterministic).
 */
int	srclimit_startup_drop(const struct srclimit *s, size_t pending,
	    unsigned int rnd);

/* Counters for logs and metrics. */
size_t	srclimit_active(struct srclimit *s, time_t now);
uint64_t srclimit_evictions(const struct srclimit *s);

#endif /* RAMPART_SRCLIMIT_H */
