/*
 * knockd_loop: the daemon's one loop.
 *
 * Datagrams are read in batches of KNOCKD_BATCH with recvmmsg into buffers
 * one byte larger than a knock, so a longer datagram shows itself (and the
 * kernel's MSG_TRUNC says so too), and go through knockd_proc one by one;
 * the clock is read once per batch.  A socket is read for at most
 * MAX_ROUNDS batches before the others get their turn.  The policy is
 * swapped whole on SIGHUP, or not at all.  The door is knock_nft, the
 * binding goes to the master with MSG_DONTWAIT, and nothing ever goes back
 * to a sender.
 */
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "knock_bind.h"
#include "knockd_loop.h"
#include "knockd_metrics.h"
#include "knockd_proc.h"
#include "knockd_sandbox.h"
#include "log.h"

#define KNOCKD_BATCH	64
#define MAX_ROUNDS	16		/* batches per socket per wake-up */
#define EV_SIGNAL	(KNOCKD_LOOP_MAX_SOCKS + 1)
#define EV_TIMER	(KNOCKD_LOOP_MAX_SOCKS + 2)
#define SUMMARY_TICK	60		/* s: the timer without metrics */

struct knockd_loop {
	struct knockd_loop_setup *s;
	struct knockd_proc	*proc;
	int			 epfd, sigfd, timerfd;
	int			 stopping;
	uint64_t		 metrics_fail_ms;
	uint64_t		 recv_err_ms;
	struct mmsghdr		 msgs[KNOCKD_BATCH];
	struct iovec		 iov[KNOCKD_BATCH];
	struct sockaddr_storage	 from[KNOCKD_BATCH];
	uint8_t			 buf[KNOCKD_BATCH][SPA_SIZE + 1];
};

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t
real_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec > 0 ? (uint64_t)ts.tv_sec : 0;
}

/* ---- the door and the master ---- */

static int
door_open(void *ctx, const struct addr *a, unsigned int port,
    unsigned int seconds, char *err, size_t errlen)
{
	return knock_nft_open_door(ctx, a, port, seconds, err, errlen);
}

static int
bind_send(void *ctx, const struct knock_bind_msg *m, char *err,
    size_t errlen)
{
	struct knockd_loop_setup *s = ctx;
	uint8_t msg[KNOCK_BIND_SIZE];

	if (knock_bind_encode(m, msg) != 0) {
		snprintf(err, errlen, "the binding message does not encode");
		return -1;
	}
	if (sendto(s->bind_fd, msg, sizeof(msg), MSG_DONTWAIT,
	    (struct sockaddr *)&s->bind_addr, s->bind_len) !=
	    (ssize_t)sizeof(msg)) {
		snprintf(err, errlen, "%s: %s", s->conf.bind_socket,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- datagrams ---- */

static void
batch_prepare(struct knockd_loop *l)
{
	size_t i;

	memset(l->msgs, 0, sizeof(l->msgs));
	for (i = 0; i < KNOCKD_BATCH; i++) {
		l->iov[i].iov_base = l->buf[i];
		l->iov[i].iov_len = sizeof(l->buf[i]);
		l->msgs[i].msg_hdr.msg_iov = &l->iov[i];
		l->msgs[i].msg_hdr.msg_iovlen = 1;
		l->msgs[i].msg_hdr.msg_name = &l->from[i];
		l->msgs[i].msg_hdr.msg_namelen = sizeof(l->from[i]);
	}
}

static unsigned int
sock_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)(const void *)
		    ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)(const void *)
	    ss)->sin6_port);
}

static void
batch_process(struct knockd_loop *l, int n)
{
	const struct msghdr *h;
	struct addr src;
	uint64_t now = real_s(), now_ms = mono_ms();
	int i;

	for (i = 0; i < n; i++) {
		h = &l->msgs[i].msg_hdr;
		/* Mapped IPv4 comes back as IPv4 (addr_from_sockaddr). */
		if (addr_from_sockaddr(h->msg_name, h->msg_namelen, &src) != 0)
			continue;
		(void)knockd_proc_datagram(l->proc, l->buf[i],
		    l->msgs[i].msg_len, (h->msg_flags & MSG_TRUNC) != 0, &src,
		    sock_port(h->msg_name), now, now_ms);
	}
}

/* Said once a minute at most: a failing socket must not flood the log. */
static void
recv_error(struct knockd_loop *l)
{
	uint64_t now = mono_ms();

	if (l->recv_err_ms != 0 && now - l->recv_err_ms < 60000)
		return;
	l->recv_err_ms = now;
	error("recvmmsg: %s", strerror(errno));
}

static void
on_socket(struct knockd_loop *l, int fd)
{
	int n, round;

	for (round = 0; round < MAX_ROUNDS; round++) {
		batch_prepare(l);
		n = recvmmsg(fd, l->msgs, KNOCKD_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				recv_error(l);
			break;
		}
		batch_process(l, n);
		if (n < KNOCKD_BATCH)
			break;
	}
	knockd_proc_tick(l->proc, mono_ms());
}

/* ---- signals, timer ---- */

/* Each reload error goes to the log; the first also to the audit. */
static void
reload_diag(void *ctx, const char *msg)
{
	char *first = ctx;

	error("%s", msg);
	if (first[0] == '\0')
		snprintf(first, 256, "%s", msg);
}

static void
audit_event(struct knockd_loop *l, const char *action, const char *outcome,
    const char *reason)
{
	struct audit_rec r;

	audit_begin(l->s->audit, &r, action, outcome, NULL);
	if (strcmp(action, "policy-reload") == 0)
		audit_str(&r, "file.path", l->s->conf.policy);
	if (reason != NULL)
		audit_str(&r, "event.reason", reason);
	if (audit_write(l->s->audit, &r) != 0)
		error("cannot write the audit log: %s", strerror(errno));
}

/* SIGHUP: the policy (users and their keys), whole or not at all. */
static void
reload(struct knockd_loop *l)
{
	struct policy *np = NULL;
	char first[256] = "", why[400];

	logit("SIGHUP: reloading the policy %s", l->s->conf.policy);
	if (policy_load_file(l->s->conf.policy, 0, reload_diag, first, &np)
	    != 0) {
		error("reload failed: keeping the running policy");
		snprintf(why, sizeof(why), "%s; the previous policy stays in "
		    "force", first);
		audit_event(l, "policy-reload", "failure", why);
		return;
	}
	knockd_proc_set_policy(l->proc, np);
	policy_free(l->s->pol);
	l->s->pol = np;
	audit_event(l, "policy-reload", "success", NULL);
}

static void
on_signal(struct knockd_loop *l)
{
	struct signalfd_siginfo si;

	while (read(l->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			reload(l);
		else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			l->stopping = 1;
	}
}

static void
write_metrics(struct knockd_loop *l, int up)
{
	struct knockd_counters n;
	char err[512];

	if (l->s->conf.metrics_file[0] == '\0')
		return;
	knockd_proc_counters(l->proc, &n);
	if (knockd_metrics_write(l->s->conf.metrics_file, &n, up, err,
	    sizeof(err)) == 0) {
		l->metrics_fail_ms = 0;
		return;
	}
	/* Said once, and again every ten minutes while it lasts. */
	if (l->metrics_fail_ms == 0 || mono_ms() - l->metrics_fail_ms >=
	    600000) {
		error("metrics: %s", err);
		l->metrics_fail_ms = mono_ms();
	}
}

static void
on_timer(struct knockd_loop *l)
{
	uint64_t expirations;

	/* Nonblocking: nothing to read just means a spurious wake-up. */
	if (read(l->timerfd, &expirations, sizeof(expirations)) < 0 &&
	    errno != EAGAIN)
		error("timerfd: %s", strerror(errno));
	knockd_proc_tick(l->proc, mono_ms());
	write_metrics(l, 1);
}

/* ---- setup ---- */

static int
ep_add(struct knockd_loop *l, int fd, uint32_t id)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u32 = id;
	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int
setup_events(struct knockd_loop *l)
{
	struct itimerspec its;
	sigset_t set;
	size_t i;
	time_t period = l->s->conf.metrics_file[0] != '\0' ?
	    (time_t)l->s->conf.metrics_interval : SUMMARY_TICK;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	memset(&its, 0, sizeof(its));
	its.it_interval.tv_sec = period;
	its.it_value.tv_sec = period;
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0 ||
	    (l->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (l->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
	    (l->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK |
	    TFD_CLOEXEC)) < 0 ||
	    timerfd_settime(l->timerfd, 0, &its, NULL) != 0 ||
	    ep_add(l, l->sigfd, EV_SIGNAL) != 0 ||
	    ep_add(l, l->timerfd, EV_TIMER) != 0)
		return -1;
	for (i = 0; i < l->s->nsocks; i++) {
		if (ep_add(l, l->s->socks[i], (uint32_t)i) != 0)
			return -1;
	}
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static int
start(struct knockd_loop *l)
{
	struct knockd_loop_setup *s = l->s;

	l->epfd = l->sigfd = l->timerfd = -1;
	if ((l->proc = knockd_proc_new(&s->conf, s->keys, s->nkeys, s->start,
	    mono_ms(), s->audit)) == NULL) {
		error("out of memory for the caches (SeenCacheSize, "
		    "ReplayCacheSize, SourceTableSize, ReturningTableSize)");
		return -1;
	}
	knockd_proc_set_policy(l->proc, s->pol);
	knockd_proc_set_door(l->proc, door_open, s->nft);
	if (s->bind_fd >= 0)
		knockd_proc_set_bind(l->proc, bind_send, s);
	if (setup_events(l) != 0) {
		error("cannot set up the event loop: %s", strerror(errno));
		return -1;
	}
	/* Everything is open: from here on, the filter. */
	return knockd_sandbox_load();
}

static void
run(struct knockd_loop *l)
{
	struct epoll_event evs[KNOCKD_LOOP_MAX_SOCKS + 2];
	int i, n;

	while (!l->stopping) {
		n = epoll_wait(l->epfd, evs, KNOCKD_LOOP_MAX_SOCKS + 2, -1);
		if (n < 0 && errno != EINTR) {
			error("epoll_wait: %s", strerror(errno));
			break;
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.u32 == EV_SIGNAL)
				on_signal(l);
			else if (evs[i].data.u32 == EV_TIMER)
				on_timer(l);
			else if (evs[i].data.u32 < l->s->nsocks)
				on_socket(l, l->s->socks[evs[i].data.u32]);
		}
	}
}

static void
finish(struct knockd_loop *l)
{
	struct knockd_loop_setup *s = l->s;
	size_t i;

	if (l->proc != NULL)
		knockd_proc_tick(l->proc, UINT64_MAX);
	if (l->proc != NULL)
		write_metrics(l, 0);
	knockd_proc_free(l->proc);
	/* With NftCreate the table is knockd's: it goes with knockd. */
	knock_nft_close(s->nft, s->conf.nft_create);
	s->nft = NULL;
	for (i = 0; i < s->nsocks; i++)
		close(s->socks[i]);
	if (s->bind_fd >= 0)
		close(s->bind_fd);
	policy_free(s->pol);
	s->pol = NULL;
	sodium_free(s->keys);
	s->keys = NULL;
}

int
knockd_loop_run(struct knockd_loop_setup *s)
{
	struct knockd_loop *l;
	int r = 1;

	if ((l = calloc(1, sizeof(*l))) == NULL) {
		error("out of memory");
		return 1;
	}
	l->s = s;
	if (start(l) == 0) {
		audit_event(l, "service-start", "success", NULL);
		logit("listening for knocks on %zu socket(s)", s->nsocks);
		write_metrics(l, 1);
		run(l);
		logit("stopping");
		r = 0;
	}
	finish(l);
	if (r == 0)
		audit_event(l, "service-stop", "success", NULL);
	audit_close(s->audit);
	s->audit = NULL;
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->sigfd >= 0)
		close(l->sigfd);
	if (l->timerfd >= 0)
		close(l->timerfd);
	free(l);
	return r;
}
