/*
 * broker: the master's outbound connections, for children that may not
 * make any themselves.
 *
 * A request (user, host, port) is resolved asynchronously (c-ares, never
 * blocking the master), decided by the policy on every resolved address,
 * and connected non-blocking with a timeout to an address that was allowed
 * -- the very address that was checked, so DNS cannot change the answer
 * between check and connect.  The gateway's own interface addresses are
 * refused like the built-in deny list.  Completion is always reported from
 * broker_process(), never from inside broker_connect(), so callers never
 * see reentrant callbacks.
 *
 * The broker owns an epoll fd that the master adds to its own loop; when
 * it is readable, or broker_timeout_ms() has passed, call broker_process().
 */
#ifndef RAMPART_BROKER_H
#define RAMPART_BROKER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "policy.h"

struct broker;

struct broker_result {
	int		fd;		/* connected, non-blocking; or -1 */
	int		allowed;	/* the policy said yes */
	char		rule[POLICY_WHERE_MAX];		/* deciding rule */
	char		reason[POLICY_REASON_MAX];	/* for user and audit */
	struct addr	addr;		/* connected or first refused address */
	int		has_addr;
	unsigned int	port;
};

/* Called once per request, from broker_process().  Takes ownership of fd. */
typedef void broker_done_fn(void *ctx, uint64_t id,
	    const struct broker_result *res);

/*
 * polp points at the master's current policy; it is read when a decision
 * is made, so a reload applies to every request decided after it.  Must be
 * called before any sandbox is entered (c-ares reads resolv.conf here).
 */
struct broker *broker_new(const struct policy *const *polp, char *err,
	    size_t errlen);
void	broker_free(struct broker *b);	/* cancels everything outstanding */

int	broker_fd(const struct broker *b);
/* Milliseconds until broker_process() must run again; -1 if never. */
int	broker_timeout_ms(const struct broker *b);
void	broker_process(struct broker *b);

/* Refresh the list of the gateway's own addresses (startup, SIGHUP). */
int	broker_refresh_self(struct broker *b);

/*
 * Start a request.  timeout_ms bounds resolution plus connecting.  Returns
 * 0 and sets *id, or -1 if the broker cannot take it (out of memory, too
 * many outstanding requests); fn is then never called.
 */
int	broker_connect(struct broker *b, const char *user, const char *host,
	    unsigned int port, unsigned int timeout_ms, broker_done_fn *fn,
	    void *ctx, uint64_t *id);

/* Forget a request (its child died): fn will not be called. */
void	broker_cancel(struct broker *b, uint64_t id);

/* The gateway's own addresses, as last listed by broker_refresh_self(). */
const struct addr *broker_self(const struct broker *b, size_t *n);

/*
 * DNS relay (sshuttle's DNS_REQ).  ok = 1: ans is the resolver's answer,
 * len bytes (at most BROKER_DNS_MAX), its id set back to the query's;
 * ok = 0: reason says why ("resolver: timeout").  ans is only valid
 * during the call.
 */
#define BROKER_DNS_MAX		4096
#define BROKER_DNS_HDR		12	/* a DNS header; shorter is no query */

typedef void broker_dns_fn(void *ctx, uint64_t id, int ok,
	    const uint8_t *ans, size_t len, const char *reason);

/*
 * Send the raw query q (BROKER_DNS_HDR..BROKER_DNS_MAX bytes) to the
 * bastion's own resolvers (resolv.conf, as c-ares read it) with c-ares'
 * timeouts and retries.  Like broker_connect(), fn runs exactly once and
 * only from broker_process().  Returns 0 and sets *id, or -1 if the query
 * has a bad length or the broker is full; fn is then never called.
 */
int	broker_dns(struct broker *b, const uint8_t *q, size_t len,
	    broker_dns_fn *fn, void *ctx, uint64_t *id);
/* Forget a DNS request: fn will not be called. */
void	broker_dns_cancel(struct broker *b, uint64_t id);

#endif /* RAMPART_BROKER_H */
