/*
 * broker: resolve, decide and connect on behalf of sandboxed children.
 *
 * Everything here runs inside the master's event loop and must never
 * block.  A request moves through a few states:
 *
 *	RESOLVING	c-ares is looking the name up
 *	DECIDE		addresses known (or the name was refused outright);
 *			waiting on the ready queue for broker_process()
 *	CONNECTING	a non-blocking connect to one allowed address
 *
 * and is reported exactly once, always from broker_process(): work that
 * could finish at once (literals, refusals, c-ares answering from
 * /etc/hosts inside ares_getaddrinfo()) goes on the ready queue and an
 * eventfd makes the broker's epoll fd readable.
 *
 * c-ares cannot cancel one query, so a request that was cancelled or timed
 * out while its lookup is outstanding stays allocated as an ORPHAN until
 * c-ares calls back; orphans count against the request limit, so memory
 * stays bounded however hostile the children are.
 *
 * DNS relay requests (broker_dns) are simpler: one ares_send(), whose
 * callback puts the result on a ready queue of their own; the same rules
 * hold (reported once, from broker_process(); orphans until c-ares lets go;
 * a bounded number in all).
 */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <ares.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"
#include "hostname.h"
#include "log.h"

#define BROKER_MAX_REQS		4096	/* outstanding, orphans included */
#define BROKER_HOST_MAX		255	/* longest host a child may send */
#define BROKER_EVENTS		64	/* epoll events per broker_process() */
#define BROKER_DNS_TIMEOUT_MS	2000	/* per c-ares try */
#define BROKER_DNS_TRIES	2
#define BROKER_LOG_MAX		128	/* escaped host in log lines */
#define BROKER_MAX_DNS		1024	/* relayed queries, orphans included */

enum bev_kind {
	BEV_WAKE,		/* the eventfd */
	BEV_ARES,		/* a c-ares socket */
	BEV_REQ,		/* a request's connecting socket */
};

/* What an epoll event points at. */
struct bev {
	enum bev_kind	kind;
	int		fd;
};

enum breq_state {
	BREQ_RESOLVING,
	BREQ_DECIDE,
	BREQ_CONNECTING,
	BREQ_ORPHAN,		/* reported or cancelled; lookup outstanding */
};

struct breq {
	struct bev		ev;	/* first: epoll points here */
	TAILQ_ENTRY(breq)	link;	/* b->reqs */
	TAILQ_ENTRY(breq)	qlink;	/* b->ready, if queued */
	struct broker		*b;
	uint64_t		id;
	enum breq_state		state;
	int			queued;
	uint64_t		qseq;
	int			lookup;	/* c-ares holds a pointer to us */
	broker_done_fn		*fn;
	void			*ctx;

	uint64_t		deadline;	/* ms, CLOCK_MONOTONIC */
	uint64_t		try_deadline;	/* this connect attempt */
	unsigned int		port;
	char			user[POLICY_NAME_MAX + 1];
	int			user_bad;	/* too long to be anybody */
	char			host[BROKER_HOST_MAX + 1];	/* as asked */
	char			name[HOSTNAME_MAX + 1];		/* normalised */
	char			refuse[POLICY_REASON_MAX]; /* decided early */

	/* One more than policy_decide takes, so it can say "too many". */
	struct addr		addrs[POLICY_MAX_ADDRS + 1];
	size_t			naddrs;

	/* After an allow: where to connect, in order. */
	struct addr		tries[POLICY_MAX_ADDRS];
	size_t			ntries;
	size_t			next;
	char			failed[POLICY_REASON_MAX];	/* last try */
	struct broker_result	res;
};

TAILQ_HEAD(breq_list, breq);

/* A relayed DNS query. */
struct bdns {
	TAILQ_ENTRY(bdns)	link;	/* b->dns */
	TAILQ_ENTRY(bdns)	qlink;	/* b->dns_ready, if queued */
	struct broker		*b;
	uint64_t		id;
	uint64_t		qseq;
	int			queued;
	int			lookup;	/* c-ares holds a pointer to us */
	int			orphan;	/* cancelled while c-ares holds it */
	broker_dns_fn		*fn;
	void			*ctx;
	uint8_t			qid[2];	/* the client's id, given back */
	int			ok;
	uint8_t			*ans;	/* malloc'd, if ok */
	size_t			anslen;
	char			reason[POLICY_REASON_MAX];
};

TAILQ_HEAD(bdns_list, bdns);

struct broker {
	const struct policy *const *polp;
	ares_channel		ch;
	int			ares_lib;
	int			epfd;
	struct bev		wake;
	int			kicked;
	int			processing;
	int			dying;

	struct bev		asock[ARES_GETSOCK_MAXNUM];
	size_t			nasock;

	struct breq_list	reqs;	/* every live request, orphans too */
	struct breq_list	ready;	/* waiting for broker_process() */
	size_t			nreqs;
	uint64_t		next_id;
	uint64_t		qseq;

	struct addr		*self;	/* the gateway's own addresses */
	size_t			nself;

	struct bdns_list	dns;		/* every DNS request, orphans */
	struct bdns_list	dns_ready;	/* answered, to report */
	size_t			ndns;

	struct policy_decision	dec;	/* scratch: too big for the stack */
};

static void	broker_try_next(struct broker *, struct breq *);

static uint64_t
broker_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* "10.0.0.5:22" or "[2001:db8::1]:22". */
static void
broker_addrport(const struct addr *a, unsigned int port, char *buf,
    size_t len)
{
	char s[ADDR_STRLEN];

	addr_ntop(a, s, sizeof(s));
	if (a->af == AF_INET6)
		snprintf(buf, len, "[%s]:%u", s, port);
	else
		snprintf(buf, len, "%s:%u", s, port);
}

static const char *
breq_host(const struct breq *r)
{
	return r->name[0] != '\0' ? r->name : r->host;
}

static void
broker_kick(struct broker *b)
{
	uint64_t one = 1;

	if (b->kicked || b->processing)
		return;
	if (write(b->wake.fd, &one, sizeof(one)) == (ssize_t)sizeof(one) ||
	    errno == EAGAIN)
		b->kicked = 1;
	else
		error("eventfd write: %s", strerror(errno));
}

static void
broker_queue(struct broker *b, struct breq *r)
{
	if (r->queued)
		return;
	r->queued = 1;
	r->qseq = b->qseq++;
	TAILQ_INSERT_TAIL(&b->ready, r, qlink);
	broker_kick(b);
}

static void
broker_unqueue(struct broker *b, struct breq *r)
{
	if (!r->queued)
		return;
	TAILQ_REMOVE(&b->ready, r, qlink);
	r->queued = 0;
}

static void
broker_close_sock(struct broker *b, struct breq *r)
{
	if (r->ev.fd == -1)
		return;
	if (epoll_ctl(b->epfd, EPOLL_CTL_DEL, r->ev.fd, NULL) == -1 &&
	    errno != ENOENT)
		error("epoll_ctl del: %s", strerror(errno));
	close(r->ev.fd);
	r->ev.fd = -1;
}

/* Forget r entirely, or leave it to its lookup's callback. */
static void
broker_release(struct broker *b, struct breq *r)
{
	broker_unqueue(b, r);
	broker_close_sock(b, r);
	if (r->lookup) {
		r->state = BREQ_ORPHAN;
		return;
	}
	TAILQ_REMOVE(&b->reqs, r, link);
	b->nreqs--;
	free(r);
}

/*
 * Keep the epoll set equal to what c-ares wants watched.  Called right
 * after every c-ares call, before the broker makes any socket of its own,
 * so a descriptor number c-ares closed cannot have been reused by us.
 * MOD then ADD also covers a number c-ares closed and reopened itself.
 */
static void
broker_ares_sync(struct broker *b)
{
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	struct epoll_event ev;
	uint32_t want[ARES_GETSOCK_MAXNUM];
	size_t i, j, n = 0;
	int bits;

	bits = ares_getsock(b->ch, socks, ARES_GETSOCK_MAXNUM);
	for (i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
		want[n] = 0;
		if (ARES_GETSOCK_READABLE(bits, i))
			want[n] |= EPOLLIN;
		if (ARES_GETSOCK_WRITABLE(bits, i))
			want[n] |= EPOLLOUT;
		if (want[n] == 0)
			break;
		socks[n++] = socks[i];
	}
	for (i = 0; i < b->nasock; i++) {
		for (j = 0; j < n; j++) {
			if (socks[j] == b->asock[i].fd)
				break;
		}
		if (j == n)	/* usually closed, and so gone already */
			(void)epoll_ctl(b->epfd, EPOLL_CTL_DEL, b->asock[i].fd,
			    NULL);
	}
	b->nasock = 0;
	for (i = 0; i < n; i++) {
		b->asock[b->nasock].kind = BEV_ARES;
		b->asock[b->nasock].fd = socks[i];
		memset(&ev, 0, sizeof(ev));
		ev.events = want[i];
		ev.data.ptr = &b->asock[b->nasock];
		if (epoll_ctl(b->epfd, EPOLL_CTL_MOD, socks[i], &ev) == -1 &&
		    (errno != ENOENT ||
		    epoll_ctl(b->epfd, EPOLL_CTL_ADD, socks[i], &ev) == -1)) {
			/* c-ares' own timeouts will end its queries */
			error("epoll_ctl c-ares socket %d: %s", socks[i],
			    strerror(errno));
			continue;
		}
		b->nasock++;
	}
}

/* Report r to its owner and forget it. */
static void
broker_finish(struct broker *b, struct breq *r)
{
	struct broker_result res = r->res;
	broker_done_fn *fn = r->fn;
	void *ctx = r->ctx;
	uint64_t id = r->id;
	char u[BROKER_LOG_MAX], h[BROKER_LOG_MAX], a[ADDR_STRLEN + 8] = "";

	res.port = r->port;
	log_safe(r->user, u, sizeof(u));
	log_safe(r->host, h, sizeof(h));
	if (res.has_addr)
		broker_addrport(&res.addr, r->port, a, sizeof(a));
	if (res.fd != -1)
		verbose("request %llu: %s to %s port %u: connected to %s",
		    (unsigned long long)id, u, h, r->port, a);
	else
		verbose("request %llu: %s to %s port %u: %s: %s",
		    (unsigned long long)id, u, h, r->port,
		    res.allowed ? "failed" : "refused", res.reason);
	if (res.fd == -1)
		broker_close_sock(b, r);
	r->ev.fd = -1;		/* the fd, if any, belongs to fn now */
	broker_release(b, r);
	fn(ctx, id, &res);
}

static void
broker_refuse(struct broker *b, struct breq *r, const char *rule,
    const char *reason)
{
	r->res.fd = -1;
	r->res.allowed = 0;
	snprintf(r->res.rule, sizeof(r->res.rule), "%s", rule);
	snprintf(r->res.reason, sizeof(r->res.reason), "%s", reason);
	broker_finish(b, r);
}

static int
broker_is_self(const struct broker *b, const struct addr *a)
{
	static const uint8_t zero[16];
	size_t i;

	/* 0.0.0.0 and :: connect to this host. */
	if (memcmp(a->a, zero, a->af == AF_INET ? 4 : 16) == 0)
		return 1;
	for (i = 0; i < b->nself; i++) {
		if (addr_eq(a, &b->self[i]))
			return 1;
	}
	return 0;
}

/*
 * The policy said yes; the gateway's own addresses are refused on top,
 * like the built-in deny list (sshd or the metrics port must not be
 * reachable through the gateway).  0 if something was refused.
 */
static int
broker_check_self(struct broker *b, struct breq *r)
{
	const struct policy_decision *d = &b->dec;
	char a[ADDR_STRLEN], why[POLICY_REASON_MAX];
	size_t i;

	for (i = 0; i < d->naddrs; i++) {
		if (!broker_is_self(b, &d->addr[i].addr))
			continue;
		addr_ntop(&d->addr[i].addr, a, sizeof(a));
		if (r->name[0] != '\0' && d->naddrs > 1)
			snprintf(why, sizeof(why), "%s resolves to %s, %s is "
			    "an address of the gateway itself", r->name, a, a);
		else
			snprintf(why, sizeof(why), "%s is an address of the "
			    "gateway itself", a);
		r->res.addr = d->addr[i].addr;
		r->res.has_addr = 1;
		broker_refuse(b, r, "built-in", why);
		return 0;
	}
	return 1;
}

/* Decide with the policy in force now, then connect or refuse. */
static void
broker_decide(struct broker *b, struct breq *r)
{
	struct policy_decision *d = &b->dec;
	size_t i;

	if (r->refuse[0] != '\0') {
		broker_refuse(b, r, "", r->refuse);
		return;
	}
	if (r->user_bad) {
		broker_refuse(b, r, "", "unknown user");
		return;
	}
	if (*b->polp == NULL) {
		broker_refuse(b, r, "", "no policy is loaded");
		return;
	}
	if (policy_decide(*b->polp, r->user, breq_host(r), r->addrs,
	    r->naddrs, r->port, time(NULL), d) == -1) {
		broker_refuse(b, r, "", d->reason);
		return;
	}
	if (!d->allowed) {
		for (i = 0; i < d->naddrs; i++) {
			if (!d->addr[i].allowed) {
				r->res.addr = d->addr[i].addr;
				r->res.has_addr = 1;
				break;
			}
		}
		broker_refuse(b, r, d->rule, d->reason);
		return;
	}
	if (d->naddrs == 0) {		/* cannot happen: allowed */
		broker_refuse(b, r, "", "no address to connect to");
		return;
	}
	if (!broker_check_self(b, r))
		return;
	r->res.allowed = 1;
	snprintf(r->res.rule, sizeof(r->res.rule), "%s", d->rule);
	snprintf(r->res.reason, sizeof(r->res.reason), "%s", d->reason);
	for (i = 0; i < d->naddrs && i < POLICY_MAX_ADDRS; i++)
		r->tries[i] = d->addr[i].addr;
	r->ntries = i;
	r->next = 0;
	broker_try_next(b, r);
}

static void
broker_connected(struct broker *b, struct breq *r)
{
	int one = 1;

	if (epoll_ctl(b->epfd, EPOLL_CTL_DEL, r->ev.fd, NULL) == -1 &&
	    errno != ENOENT)
		error("epoll_ctl del: %s", strerror(errno));
	if (setsockopt(r->ev.fd, IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one)) == -1 ||
	    setsockopt(r->ev.fd, SOL_SOCKET, SO_KEEPALIVE, &one,
	    sizeof(one)) == -1)
		debug("request %llu: setsockopt: %s",
		    (unsigned long long)r->id, strerror(errno));
	r->res.fd = r->ev.fd;
	r->res.addr = r->tries[r->next - 1];
	r->res.has_addr = 1;
	broker_finish(b, r);
}

/* Record why the current attempt failed; the caller moves on. */
static void
broker_attempt_failed(struct broker *b, struct breq *r, int err)
{
	char ap[ADDR_STRLEN + 8];

	broker_close_sock(b, r);
	broker_addrport(&r->tries[r->next - 1], r->port, ap, sizeof(ap));
	if (err == ETIMEDOUT)
		snprintf(r->failed, sizeof(r->failed),
		    "connect to %s timed out", ap);
	else
		snprintf(r->failed, sizeof(r->failed),
		    "connect to %s failed: %s", ap, strerror(err));
	debug("request %llu: %s", (unsigned long long)r->id, r->failed);
}

/* Start a non-blocking connect to a; 0 in progress, 1 done, or -errno. */
static int
broker_start_connect(struct broker *b, struct breq *r, const struct addr *a)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct epoll_event ev;
	socklen_t len;
	int fd;

	memset(&ss, 0, sizeof(ss));
	if (a->af == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)r->port);
		memcpy(&sin->sin_addr, a->a, 4);
		len = sizeof(*sin);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)r->port);
		memcpy(&sin6->sin6_addr, a->a, 16);
		len = sizeof(*sin6);
	}
	if ((fd = socket(a->af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -errno;
	r->ev.fd = fd;
	if (connect(fd, (struct sockaddr *)&ss, len) == 0)
		return 1;
	if (errno != EINPROGRESS)
		return -errno;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLOUT;
	ev.data.ptr = &r->ev;
	if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		return -errno;
	return 0;
}

/*
 * Connect to the next allowed address.  Each attempt gets an equal share
 * of the time left, so one black-holed address cannot use up the whole
 * timeout while another would have answered.
 */
static void
broker_try_next(struct broker *b, struct breq *r)
{
	char ap[ADDR_STRLEN + 8];
	uint64_t now;
	int rc;

	while (r->next < r->ntries) {
		now = broker_now();
		if (now >= r->deadline) {
			if (r->next == 0) {	/* the lookup used it all */
				r->next = 1;
				broker_attempt_failed(b, r, ETIMEDOUT);
			}
			break;
		}
		broker_addrport(&r->tries[r->next], r->port, ap, sizeof(ap));
		debug("request %llu: connecting to %s",
		    (unsigned long long)r->id, ap);
		rc = broker_start_connect(b, r, &r->tries[r->next++]);
		if (rc == 1) {
			broker_connected(b, r);
			return;
		}
		if (rc < 0) {
			broker_attempt_failed(b, r, -rc);
			continue;
		}
		r->state = BREQ_CONNECTING;
		r->try_deadline = now + (r->deadline > now ?
		    (r->deadline - now) / (r->ntries - r->next + 1) : 0);
		return;
	}
	/* Allowed, but nothing answered: say why the last try failed. */
	snprintf(r->res.reason, sizeof(r->res.reason), "%s", r->failed);
	r->res.addr = r->tries[r->next - 1];
	r->res.has_addr = 1;
	broker_finish(b, r);
}

/* A connecting request woke up or its attempt ran out of time. */
static void
broker_check_connect(struct broker *b, struct breq *r, uint64_t now)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(r->ev.fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == 0) {
		len = sizeof(ss);
		if (getpeername(r->ev.fd, (struct sockaddr *)&ss, &len) == 0) {
			broker_connected(b, r);
			return;
		}
		if (errno != ENOTCONN)
			err = errno;
		else if (now < r->try_deadline)
			return;		/* still in progress */
		else
			err = ETIMEDOUT;
	}
	broker_attempt_failed(b, r, err);
	broker_try_next(b, r);
}

static void
broker_step(struct broker *b, struct breq *r, uint64_t now)
{
	char why[POLICY_REASON_MAX];

	switch (r->state) {
	case BREQ_RESOLVING:
		if (now < r->deadline)
			break;
		snprintf(why, sizeof(why), "%s: name lookup timed out",
		    r->name);
		broker_refuse(b, r, "", why);
		break;
	case BREQ_DECIDE:
		broker_decide(b, r);
		break;
	case BREQ_CONNECTING:
		broker_check_connect(b, r, now);
		break;
	case BREQ_ORPHAN:
		break;
	}
}

/* Keep the address once, and at most one more than policy will weigh. */
static void
broker_add_addr(struct breq *r, const struct addr *a)
{
	size_t i;

	for (i = 0; i < r->naddrs; i++) {
		if (addr_eq(&r->addrs[i], a))
			return;
	}
	if (r->naddrs < POLICY_MAX_ADDRS + 1)
		r->addrs[r->naddrs++] = *a;
}

/* c-ares' answer; may run inside ares_getaddrinfo() itself. */
static void
broker_resolved(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
	struct breq *r = arg;
	struct broker *b = r->b;
	struct ares_addrinfo_node *n;
	struct addr a;

	(void)timeouts;
	r->lookup = 0;
	if (b->dying) {
		/* broker_free() frees r after ares_destroy() */
	} else if (r->state == BREQ_ORPHAN) {
		broker_release(b, r);
	} else if (status == ARES_SUCCESS && ai != NULL) {
		for (n = ai->nodes; n != NULL; n = n->ai_next) {
			if (n->ai_addr != NULL && addr_from_sockaddr(n->ai_addr,
			    n->ai_addrlen, &a) == 0)
				broker_add_addr(r, &a);
		}
		r->state = BREQ_DECIDE;
		broker_queue(b, r);
	} else {
		/* Not found: policy_decide says it did not resolve. */
		if (status != ARES_ENOTFOUND && status != ARES_ENODATA &&
		    status != ARES_SUCCESS)
			snprintf(r->refuse, sizeof(r->refuse), "cannot "
			    "resolve %s: %s", r->name, ares_strerror(status));
		r->state = BREQ_DECIDE;
		broker_queue(b, r);
	}
	if (ai != NULL)
		ares_freeaddrinfo(ai);
}

int
broker_refresh_self(struct broker *b)
{
	struct ifaddrs *ifa = NULL, *i;
	struct addr a, *self = NULL;
	size_t n = 0, cap = 0, k;
	void *p;
	int ret = -1;

	if (getifaddrs(&ifa) == -1) {
		error("getifaddrs: %s", strerror(errno));
		goto out;
	}
	for (i = ifa; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL ||
		    addr_from_sockaddr(i->ifa_addr, i->ifa_addr->sa_family ==
		    AF_INET ? sizeof(struct sockaddr_in) :
		    sizeof(struct sockaddr_in6), &a) != 0)
			continue;
		/*
		 * Loopback is the built-in deny list's business, which a
		 * policy may lift on purpose (tests do).
		 */
		if ((a.af == AF_INET && a.a[0] == 127) ||
		    (a.af == AF_INET6 && IN6_IS_ADDR_LOOPBACK(
		    (const struct in6_addr *)(const void *)a.a)))
			continue;
		for (k = 0; k < n && !addr_eq(&self[k], &a); k++)
			;
		if (k < n)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			if ((p = reallocarray(self, cap, sizeof(*self))) ==
			    NULL) {
				error("out of memory");
				goto out;
			}
			self = p;
		}
		self[n++] = a;
	}
	free(b->self);
	b->self = self;
	b->nself = n;
	self = NULL;
	debug("%zu addresses of the gateway itself", n);
	ret = 0;
 out:
	free(self);
	if (ifa != NULL)
		freeifaddrs(ifa);
	return ret;
}

/* c-ares makes its sockets without SOCK_CLOEXEC. */
static int
broker_ares_socket(ares_socket_t fd, int type, void *arg)
{
	(void)type;
	(void)arg;
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		error("fcntl: %s", strerror(errno));
	return 0;
}

static int
broker_ares_init(struct broker *b, char *err, size_t errlen)
{
	struct ares_options o;
	int rc, mask;

	if ((rc = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares: %s", ares_strerror(rc));
		return -1;
	}
	b->ares_lib = 1;
	/*
	 * Files, then DNS.  No search domains: the policy decides on the
	 * name as asked, so "db" must not quietly become "db.corp.example"
	 * (ares_getaddrinfo ignores ARES_FLAG_NOSEARCH, hence zero domains).
	 * No HOSTALIASES either.
	 */
	memset(&o, 0, sizeof(o));
	o.lookups = (char *)"fb";
	o.timeout = BROKER_DNS_TIMEOUT_MS;
	o.tries = BROKER_DNS_TRIES;
	o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
	o.domains = NULL;
	o.ndomains = 0;
	mask = ARES_OPT_LOOKUPS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
	    ARES_OPT_FLAGS | ARES_OPT_DOMAINS;
	if ((rc = ares_init_options(&b->ch, &o, mask)) != ARES_SUCCESS) {
		b->ch = NULL;
		snprintf(err, errlen, "c-ares: %s", ares_strerror(rc));
		return -1;
	}
	ares_set_socket_callback(b->ch, broker_ares_socket, NULL);
	return 0;
}

struct broker *
broker_new(const struct policy *const *polp, char *err, size_t errlen)
{
	struct broker *b = NULL, *ret = NULL;
	struct epoll_event ev;

	if ((b = calloc(1, sizeof(*b))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	b->polp = polp;
	b->epfd = -1;
	b->wake.kind = BEV_WAKE;
	b->wake.fd = -1;
	b->next_id = 1;
	TAILQ_INIT(&b->reqs);
	TAILQ_INIT(&b->ready);
	TAILQ_INIT(&b->dns);
	TAILQ_INIT(&b->dns_ready);
	if ((b->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (b->wake.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		snprintf(err, errlen, "broker: %s", strerror(errno));
		goto out;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &b->wake;
	if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, b->wake.fd, &ev) == -1) {
		snprintf(err, errlen, "broker: epoll_ctl: %s",
		    strerror(errno));
		goto out;
	}
	if (broker_ares_init(b, err, errlen) == -1)
		goto out;
	if (broker_refresh_self(b) == -1) {
		snprintf(err, errlen, "broker: cannot list the gateway's own "
		    "addresses");
		goto out;
	}
	ret = b;
	b = NULL;
 out:
	broker_free(b);
	return ret;
}

void
broker_free(struct broker *b)
{
	struct breq *r;
	struct bdns *d;

	if (b == NULL)
		return;
	b->dying = 1;
	if (b->ch != NULL)
		ares_destroy(b->ch);	/* callbacks see b->dying */
	while ((r = TAILQ_FIRST(&b->reqs)) != NULL) {
		if (r->ev.fd != -1)
			close(r->ev.fd);
		TAILQ_REMOVE(&b->reqs, r, link);
		free(r);
	}
	while ((d = TAILQ_FIRST(&b->dns)) != NULL) {
		TAILQ_REMOVE(&b->dns, d, link);
		free(d->ans);
		free(d);
	}
	if (b->ares_lib)
		ares_library_cleanup();
	if (b->wake.fd != -1)
		close(b->wake.fd);
	if (b->epfd != -1)
		close(b->epfd);
	free(b->self);
	free(b);
}

int
broker_fd(const struct broker *b)
{
	return b->epfd;
}

int
broker_timeout_ms(const struct broker *b)
{
	const struct breq *r;
	struct timeval tv;
	uint64_t now, next = UINT64_MAX, ms;

	if (!TAILQ_EMPTY(&b->ready) || !TAILQ_EMPTY(&b->dns_ready))
		return 0;
	now = broker_now();
	TAILQ_FOREACH(r, &b->reqs, link) {
		if (r->state == BREQ_RESOLVING && r->deadline < next)
			next = r->deadline;
		else if (r->state == BREQ_CONNECTING && r->try_deadline < next)
			next = r->try_deadline;
	}
	ms = next == UINT64_MAX ? UINT64_MAX : next > now ? next - now : 0;
	if (ares_timeout(b->ch, NULL, &tv) != NULL &&
	    (uint64_t)tv.tv_sec * 1000 + ((uint64_t)tv.tv_usec + 999) / 1000
	    < ms)
		ms = (uint64_t)tv.tv_sec * 1000 +
		    ((uint64_t)tv.tv_usec + 999) / 1000;
	if (ms == UINT64_MAX)
		return -1;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* Hand socket readiness to c-ares or to the request that waits on it. */
static void
broker_events(struct broker *b)
{
	struct epoll_event evs[BROKER_EVENTS];
	struct bev *e;
	struct breq *r;
	int i, n;
	uint64_t v;

	if ((n = epoll_wait(b->epfd, evs, BROKER_EVENTS, 0)) == -1) {
		if (errno != EINTR)
			error("epoll_wait: %s", strerror(errno));
		n = 0;
	}
	for (i = 0; i < n; i++) {
		e = evs[i].data.ptr;
		switch (e->kind) {
		case BEV_WAKE:
			while (read(b->wake.fd, &v, sizeof(v)) > 0)
				;
			break;
		case BEV_ARES:
			ares_process_fd(b->ch, evs[i].events &
			    (EPOLLIN | EPOLLERR | EPOLLHUP) ? e->fd :
			    ARES_SOCKET_BAD, evs[i].events & EPOLLOUT ? e->fd :
			    ARES_SOCKET_BAD);
			break;
		case BEV_REQ:
			/* Only queued here: no callback runs in this loop. */
			r = (struct breq *)(void *)e;
			if (r->state == BREQ_CONNECTING)
				broker_queue(b, r);
			break;
		}
	}
	/* c-ares' own timeouts, then watch what it now wants watched. */
	ares_process_fd(b->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	broker_ares_sync(b);
}

static void
broker_dns_free(struct broker *b, struct bdns *d)
{
	if (d->queued)
		TAILQ_REMOVE(&b->dns_ready, d, qlink);
	TAILQ_REMOVE(&b->dns, d, link);
	b->ndns--;
	free(d->ans);
	free(d);
}

/* Report the DNS answers that were ready before this call began. */
static void
broker_dns_report(struct broker *b, uint64_t limit)
{
	struct bdns *d;
	broker_dns_fn *fn;
	void *ctx;
	uint64_t id;
	uint8_t *ans;
	size_t len;
	char reason[POLICY_REASON_MAX];
	int ok;

	while ((d = TAILQ_FIRST(&b->dns_ready)) != NULL && d->qseq < limit) {
		/* Copy out first: fn may start or cancel other requests. */
		fn = d->fn;
		ctx = d->ctx;
		id = d->id;
		ok = d->ok;
		ans = d->ans;
		len = d->anslen;
		d->ans = NULL;
		snprintf(reason, sizeof(reason), "%s", d->reason);
		broker_dns_free(b, d);
		debug("dns %llu: %s", (unsigned long long)id,
		    ok ? "answered" : reason);
		fn(ctx, id, ok, ans, len, reason);
		free(ans);
	}
}

/* The resolver's side of a few c-ares errors, in words for the user. */
static const char *
broker_dns_error(int status)
{
	switch (status) {
	case ARES_ETIMEOUT:
		return "timeout";
	case ARES_ESERVFAIL:
		return "server failure";
	case ARES_EREFUSED:
		return "refused";
	case ARES_ECONNREFUSED:
		/* every server failed or refused */
		return "no server would answer";
	case ARES_EBADQUERY:
		return "bad query";
	case ARES_EBADRESP:
		return "bad response";
	default:
		return ares_strerror(status);
	}
}

/* c-ares' answer; may run inside ares_send() itself. */
static void
broker_dns_answered(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct bdns *d = arg;
	struct broker *b = d->b;

	(void)timeouts;
	d->lookup = 0;
	if (b->dying)
		return;		/* broker_free() frees d */
	if (d->orphan) {
		broker_dns_free(b, d);
		return;
	}
	if (status != ARES_SUCCESS || abuf == NULL || alen < BROKER_DNS_HDR)
		snprintf(d->reason, sizeof(d->reason), "resolver: %s",
		    status == ARES_SUCCESS ? "short answer" :
		    broker_dns_error(status));
	else if (alen > BROKER_DNS_MAX)
		snprintf(d->reason, sizeof(d->reason), "resolver: answer too "
		    "long (%d bytes)", alen);
	else if ((d->ans = malloc((size_t)alen)) == NULL)
		snprintf(d->reason, sizeof(d->reason), "gateway out of "
		    "memory");
	else {
		/* c-ares sent the query with an id of its own. */
		memcpy(d->ans, abuf, (size_t)alen);
		memcpy(d->ans, d->qid, 2);
		d->anslen = (size_t)alen;
		d->ok = 1;
	}
	d->queued = 1;
	d->qseq = b->qseq++;
	TAILQ_INSERT_TAIL(&b->dns_ready, d, qlink);
	broker_kick(b);
}

int
broker_dns(struct broker *b, const uint8_t *q, size_t len, broker_dns_fn *fn,
    void *ctx, uint64_t *id)
{
	struct bdns *d;

	if (len < BROKER_DNS_HDR || len > BROKER_DNS_MAX)
		return -1;
	if (b->ndns >= BROKER_MAX_DNS) {
		verbose("too many outstanding DNS queries (%d)",
		    BROKER_MAX_DNS);
		return -1;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		error("out of memory");
		return -1;
	}
	d->b = b;
	d->id = b->next_id++;
	d->fn = fn;
	d->ctx = ctx;
	memcpy(d->qid, q, 2);
	d->lookup = 1;
	TAILQ_INSERT_TAIL(&b->dns, d, link);
	b->ndns++;
	*id = d->id;
	debug("dns %llu: %zu-byte query", (unsigned long long)d->id, len);
	/* may call broker_dns_answered() before it returns */
	ares_send(b->ch, q, (int)len, broker_dns_answered, d);
	broker_ares_sync(b);
	return 0;
}

void
broker_dns_cancel(struct broker *b, uint64_t id)
{
	struct bdns *d;

	TAILQ_FOREACH(d, &b->dns, link) {
		if (d->id == id && !d->orphan) {
			debug("dns %llu: cancelled", (unsigned long long)id);
			if (d->lookup) {
				d->orphan = 1;
				return;
			}
			broker_dns_free(b, d);
			return;
		}
	}
}

const struct addr *
broker_self(const struct broker *b, size_t *n)
{
	*n = b->nself;
	return b->self;
}

void
broker_process(struct broker *b)
{
	struct breq *r;
	uint64_t now, limit;

	b->processing = 1;
	b->kicked = 0;
	broker_events(b);
	now = broker_now();
	TAILQ_FOREACH(r, &b->reqs, link) {
		if ((r->state == BREQ_RESOLVING && now >= r->deadline) ||
		    (r->state == BREQ_CONNECTING && now >= r->try_deadline))
			broker_queue(b, r);
	}
	/*
	 * Callbacks may start and cancel requests; whatever they queue
	 * waits for the next call, so this loop always ends.
	 */
	limit = b->qseq;
	while ((r = TAILQ_FIRST(&b->ready)) != NULL && r->qseq < limit) {
		broker_unqueue(b, r);
		broker_step(b, r, now);
	}
	broker_dns_report(b, limit);
	b->processing = 0;
	if (!TAILQ_EMPTY(&b->ready) || !TAILQ_EMPTY(&b->dns_ready))
		broker_kick(b);
}

/*
 * Literals are decided as they are, names that cannot be names are refused
 * without a lookup, and only the rest goes to c-ares.
 */
static void
broker_start(struct broker *b, struct breq *r, const char *host)
{
	struct ares_addrinfo_hints hints;
	char err[POLICY_REASON_MAX], safe[BROKER_LOG_MAX];
	size_t len = strlen(host);

	if (len <= BROKER_HOST_MAX && addr_parse(host, &r->addrs[0]) == 0) {
		r->naddrs = 1;
	} else if (len > BROKER_HOST_MAX) {
		snprintf(r->refuse, sizeof(r->refuse), "invalid host name "
		    "\"%s\": longer than %d bytes",
		    log_safe(host, safe, sizeof(safe)), HOSTNAME_MAX);
	} else if (hostname_normalise(host, r->name, sizeof(r->name), err,
	    sizeof(err)) != 0) {
		r->name[0] = '\0';
		snprintf(r->refuse, sizeof(r->refuse), "invalid host name "
		    "\"%s\": %s", log_safe(host, safe, sizeof(safe)), err);
	} else {
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		/* no RFC 6724 sort: it costs a connect() per address */
		hints.ai_flags = ARES_AI_NOSORT;
		r->state = BREQ_RESOLVING;
		r->lookup = 1;
		/* may call broker_resolved() before it returns */
		ares_getaddrinfo(b->ch, r->name, NULL, &hints,
		    broker_resolved, r);
		broker_ares_sync(b);
		return;
	}
	r->state = BREQ_DECIDE;
	broker_queue(b, r);
}

int
broker_connect(struct broker *b, const char *user, const char *host,
    unsigned int port, unsigned int timeout_ms, broker_done_fn *fn,
    void *ctx, uint64_t *id)
{
	char u[BROKER_LOG_MAX], h[BROKER_LOG_MAX];
	struct breq *r;

	if (b->nreqs >= BROKER_MAX_REQS) {
		verbose("too many outstanding requests (%d)", BROKER_MAX_REQS);
		return -1;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		error("out of memory");
		return -1;
	}
	r->b = b;
	r->ev.kind = BEV_REQ;
	r->ev.fd = -1;
	r->res.fd = -1;
	r->id = b->next_id++;
	r->fn = fn;
	r->ctx = ctx;
	r->port = port;
	r->deadline = broker_now() + timeout_ms;
	/* Cut copies for the log; too long means refused anyway. */
	r->user_bad = strlen(user) > POLICY_NAME_MAX;
	snprintf(r->user, sizeof(r->user), "%s", user);
	snprintf(r->host, sizeof(r->host), "%s", host);
	TAILQ_INSERT_TAIL(&b->reqs, r, link);
	b->nreqs++;
	*id = r->id;
	debug("request %llu: %s to %s port %u", (unsigned long long)r->id,
	    log_safe(r->user, u, sizeof(u)), log_safe(host, h, sizeof(h)),
	    port);
	broker_start(b, r, host);
	return 0;
}

void
broker_cancel(struct broker *b, uint64_t id)
{
	struct breq *r;

	TAILQ_FOREACH(r, &b->reqs, link) {
		if (r->id == id && r->state != BREQ_ORPHAN) {
			debug("request %llu: cancelled",
			    (unsigned long long)id);
			broker_release(b, r);
			return;
		}
	}
}
