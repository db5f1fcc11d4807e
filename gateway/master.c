/*
 * master: accept, fork, reap, signals and reload -- one epoll loop that
 * never blocks.  Children are forked, not exec'ed: the host keys and
 * algorithm settings are already in memory, and the child closes every
 * descriptor but its client socket and its IPC socket before it starts.
 */
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "master_int.h"
#include "sandbox.h"
#include "session.h"

#define TICK_MS		1000
#define GRACE_SLACK	5	/* s past LoginGraceTime before we kill */

time_t
master_totp_now(void)
{
	time_t now = time(NULL);
#ifdef RAMPART_TEST_HOOKS
	/* Test builds: shift the clock by the seconds in this file. */
	const char *f = getenv("RAMPART_TEST_CLOCK");
	FILE *fp;
	long off;

	if (f != NULL && (fp = fopen(f, "r")) != NULL) {
		if (fscanf(fp, "%ld", &off) == 1)
			now += off;
		fclose(fp);
	}
#endif
	return now;
}

time_t
master_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

void
master_kill_child(struct master *m, struct child *c, const char *why)
{
	(void)m;
	if (c->killed)
		return;
	c->killed = 1;
	snprintf(c->kill_reason, sizeof(c->kill_reason), "%s", why);
	verbose("killing session %ld: %s", (long)c->pid, why);
	kill(c->pid, SIGKILL);
}

static int
ep_add(struct master *m, struct evsrc *e, uint32_t events)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = e;
	return epoll_ctl(m->epfd, EPOLL_CTL_ADD, e->fd, &ev);
}

static size_t
preauth_count(struct master *m)
{
	struct child *c;
	size_t n = 0;

	for (c = m->children; c != NULL; c = c->next) {
		if (c->phase != IPC_PHASE_AUTHED)
			n++;
	}
	return n;
}

static void
audit_connection(struct master *m, struct child *c, const char *action,
    const char *outcome, const char *reason)
{
	struct audit_rec r;
	struct timespec now;

	monitor_audit_begin(m, c, &r, action, outcome);
	if (c->client_version[0] != '\0')
		audit_str(&r, "user_agent.original", c->client_version);
	if (strcmp(action, "connection-close") == 0) {
		clock_gettime(CLOCK_REALTIME, &now);
		audit_uint(&r, "event.duration",
		    (uint64_t)(now.tv_sec - c->started_real.tv_sec) *
		    1000000000ULL + (uint64_t)(now.tv_nsec -
		    c->started_real.tv_nsec));
		master_shuttle_summary(c, &r);
	}
	if (reason != NULL)
		audit_str(&r, "event.reason", reason);
	monitor_audit_write(m, &r);
}

/* In the child: keep only the client and IPC sockets, then run. */
static void __attribute__((noreturn))
child_start(struct master *m, int client, int ipc)
{
	struct session_args a;

	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	sigprocmask(SIG_SETMASK, &(sigset_t){ 0 }, NULL);
	/* Out of the way first, so the dup2s cannot clobber each other. */
	if ((client = fcntl(client, F_DUPFD, 16)) < 0 ||
	    (ipc = fcntl(ipc, F_DUPFD, 16)) < 0 ||
	    dup2(client, 3) < 0 || dup2(ipc, 4) < 0)
		_exit(SESSION_EXIT_SETUP);
	/* Listeners, epoll, other children's sockets, the audit file... */
	if (close_range(5, ~0U, 0) != 0)
		_exit(SESSION_EXIT_SETUP);
	memset(&a, 0, sizeof(a));
	a.bind = m->ms->bind;
	a.client_fd = 3;
	a.ipc_fd = 4;
	a.login_grace = m->conf.login_grace;
	a.max_auth_tries = m->conf.max_auth_tries;
	a.connect_timeout = m->conf.connect_timeout;
	a.test_hooks = m->ms->test_hooks;
	session_main(&a);
}

static struct child *
child_new(struct master *m, const struct addr *peer, unsigned int port)
{
	struct child *c;
	uint8_t id[8];

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->m = m;
	c->peer = *peer;
	c->peer_port = port;
	addr_ntop(peer, c->peer_str, sizeof(c->peer_str));
	randombytes_buf(id, sizeof(id));
	sodium_bin2hex(c->session_id, sizeof(c->session_id), id, sizeof(id));
	c->started = master_now();
	clock_gettime(CLOCK_REALTIME, &c->started_real);
	c->ipc = -1;
	return c;
}

static void
spawn(struct master *m, int client, const struct addr *peer,
    unsigned int port)
{
	struct child *c;
	int sv[2] = { -1, -1 };
	pid_t pid;

	if ((c = child_new(m, peer, port)) == NULL ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		error("cannot start a session: %s", strerror(errno));
		free(c);
		return;
	}
	if ((pid = fork()) < 0) {
		error("fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		free(c);
		return;
	}
	if (pid == 0)
		child_start(m, client, sv[1]);
	close(sv[1]);
	c->pid = pid;
	c->ipc = sv[0];
	(void)fcntl(c->ipc, F_SETFL, O_NONBLOCK);
	c->ev.kind = EV_CHILD;
	c->ev.fd = c->ipc;
	c->ev.p = c;
	if (ep_add(m, &c->ev, EPOLLIN) != 0) {
		error("epoll_ctl: %s", strerror(errno));
		kill(pid, SIGKILL);
	}
	c->next = m->children;
	m->children = c;
	m->nchildren++;
	audit_connection(m, c, "connection-open", "success", NULL);
}

/* IPv4 addresses, or IPv6 /64s: what one host usually controls. */
static int
same_source(const struct addr *a, const struct addr *b)
{
	if (a->af != b->af)
		return 0;
	return memcmp(a->a, b->a, a->af == AF_INET ? 4 : 8) == 0;
}

static size_t
preauth_from(struct master *m, const struct addr *peer)
{
	struct child *c;
	size_t n = 0;

	for (c = m->children; c != NULL; c = c->next) {
		if (c->phase != IPC_PHASE_AUTHED && same_source(&c->peer, peer))
			n++;
	}
	return n;
}

/*
 * Refused connections are audited, but a flood must not become a flood of
 * records: at most REFUSED_PER_SEC a second, and the next record says how
 * many were left out.
 */
#define REFUSED_PER_SEC	10

static void
audit_refused(struct master *m, const struct addr *peer, unsigned int port,
    const char *why)
{
	static time_t window;
	static unsigned int in_window;
	static uint64_t suppressed;
	struct audit_rec r;
	char ip[ADDR_STRLEN];
	time_t now = master_now();

	if (now != window) {
		window = now;
		in_window = 0;
	}
	if (++in_window > REFUSED_PER_SEC) {
		suppressed++;
		return;
	}
	addr_ntop(peer, ip, sizeof(ip));
	monitor_audit_begin(m, NULL, &r, "connection-refused", "failure");
	audit_str(&r, "source.ip", ip);
	audit_uint(&r, "source.port", port);
	audit_str(&r, "event.reason", why);
	if (suppressed > 0)
		audit_uint(&r, "rampart.refusals_not_recorded", suppressed);
	suppressed = 0;
	monitor_audit_write(m, &r);
}

/* Refuse before any SSH byte is spent on it; no reply, just a close. */
static int
refuse_early(struct master *m, const struct addr *peer, char *why,
    size_t len)
{
	unsigned long left;

	if (m->audit_failed) {
		snprintf(why, len, "audit log cannot be written");
		return 1;
	}
	if (srclimit_penalised(m->src, peer, master_now(), &left)) {
		snprintf(why, len, "source penalised for %lus more", left);
		return 1;
	}
	if (preauth_from(m, peer) >= m->conf.per_source_startups) {
		snprintf(why, len, "too many unauthenticated connections from "
		    "this source (PerSourceMaxStartups)");
		return 1;
	}
	if (srclimit_startup_drop(m->src, preauth_count(m),
	    randombytes_uniform(100))) {
		snprintf(why, len, "too many unauthenticated connections "
		    "(MaxStartups)");
		return 1;
	}
	return 0;
}

static void
on_accept(struct master *m, int lfd)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct addr peer;
	char why[128], p[ADDR_STRLEN];
	unsigned int port;
	int fd, n, one = 1;

	for (n = 0; n < 64; n++) {
		sl = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				error("accept: %s", strerror(errno));
			return;
		}
		if (addr_from_sockaddr((struct sockaddr *)&ss, sl, &peer)
		    != 0) {
			close(fd);
			continue;
		}
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		if (refuse_early(m, &peer, why, sizeof(why))) {
			addr_ntop(&peer, p, sizeof(p));
			verbose("refused %s: %s", p, why);
			close(fd);
			audit_refused(m, &peer, port, why);
			continue;
		}
		/*
		 * SSH sends small packets back to back during key exchange and
		 * authentication; without this each waits for a delayed ACK
		 * (measured: ~45 ms, three times per login).
		 */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		spawn(m, fd, &peer, port);
		close(fd);
	}
}

static const char *
exit_reason(int status, enum srclimit_offence *offence, int *penalise)
{
	*penalise = 0;
	if (WIFSIGNALED(status)) {
		*offence = SRCLIMIT_ERROR;
		*penalise = 1;
		switch (WTERMSIG(status)) {
		case SIGSYS:
			return "sandbox violation";
		case SIGALRM:
			*offence = SRCLIMIT_NOAUTH;
			return "login grace time expired";
		case SIGKILL:
			*penalise = 0;
			return "killed";
		default:
			return "crashed";
		}
	}
	switch (WEXITSTATUS(status)) {
	case SESSION_EXIT_OK:
		return "client disconnected";
	case SESSION_EXIT_IDLE:
		return "idle timeout";
	case SESSION_EXIT_LIFETIME:
		return "session lifetime reached";
	case SESSION_EXIT_AUTH:
		return "too many authentication failures";
	case SESSION_EXIT_PROTOCOL:
		/*
		 * Mostly a client that went away during key exchange (a port
		 * probe, a scanner): the mild penalty.  Crashes and sandbox
		 * kills get the heavy one.
		 */
		*offence = SRCLIMIT_NOAUTH;
		*penalise = 1;
		return "key exchange failed";
	case SESSION_EXIT_MASTER:
		return "lost the master";
	case SESSION_EXIT_STOPPED:
		return "gateway stopping";
	default:
		*offence = SRCLIMIT_ERROR;
		*penalise = 1;
		return "session setup failed";
	}
}

void
master_penalise(struct master *m, struct child *c, int offence,
    const char *why)
{
	struct audit_rec r;
	unsigned long secs;

	secs = srclimit_penalise(m->src, &c->peer,
	    (enum srclimit_offence)offence, master_now());
	if (secs == 0)
		return;
	monitor_audit_begin(m, c, &r, "penalty", "success");
	audit_uint(&r, "rampart.penalty.seconds", secs);
	audit_str(&r, "event.reason", why);
	monitor_audit_write(m, &r);
}

static void
audit_sandbox(struct master *m, struct child *c)
{
	struct audit_rec r;

	error("session %ld from %s was killed by its seccomp filter",
	    (long)c->pid, c->peer_str);
	monitor_audit_begin(m, c, &r, "sandbox-violation", "failure");
	audit_str(&r, "event.reason", "forbidden system call: the session "
	    "was killed by its seccomp filter");
	monitor_audit_write(m, &r);
}

static void
child_exited(struct master *m, struct child *c, int status)
{
	enum srclimit_offence off = SRCLIMIT_ERROR;
	const char *why;
	int pen;

	why = exit_reason(status, &off, &pen);
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		audit_sandbox(m, c);
	if (c->killed) {
		why = c->kill_reason;
		off = SRCLIMIT_ERROR;
		pen = c->phase != IPC_PHASE_AUTHED;
	} else if (c->phase != IPC_PHASE_AUTHED && WIFEXITED(status) &&
	    WEXITSTATUS(status) == SESSION_EXIT_OK && c->auth_failures == 0) {
		/* Left without trying to log in: scanners, probes.  (Failed
		 * attempts were penalised one by one already.) */
		off = SRCLIMIT_NOAUTH;
		pen = 1;
	}
	if (pen)
		master_penalise(m, c, off, why);
	monitor_child_gone(m, c);
	audit_connection(m, c, "connection-close", !c->killed &&
	    WIFEXITED(status) && (WEXITSTATUS(status) == SESSION_EXIT_OK ||
	    WEXITSTATUS(status) == SESSION_EXIT_IDLE ||
	    WEXITSTATUS(status) == SESSION_EXIT_STOPPED ||
	    WEXITSTATUS(status) == SESSION_EXIT_LIFETIME) ? "success" :
	    "failure", why);
}

static void
reap(struct master *m)
{
	struct child *c, **pp;
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (pp = &m->children; *pp != NULL && (*pp)->pid != pid;
		    pp = &(*pp)->next)
			;
		if ((c = *pp) == NULL)
			continue;
		/* Read what it said before it died: its last words count. */
		monitor_read(m, c);
		child_exited(m, c, status);
		*pp = c->next;
		m->nchildren--;
		epoll_ctl(m->epfd, EPOLL_CTL_DEL, c->ipc, NULL);
		close(c->ipc);
		c->ipc = -1;
		/*
		 * Not freed yet: the epoll batch being handled may still hold
		 * an event pointing at it.  run_loop() frees the dead after
		 * the batch.
		 */
		c->next = m->dead;
		m->dead = c;
	}
}

static void
bury_dead(struct master *m)
{
	struct child *c;

	while ((c = m->dead) != NULL) {
		m->dead = c->next;
		free(c);
	}
}

static void
srclimit_conf_from(const struct config *cf, struct srclimit_conf *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->penalty[SRCLIMIT_AUTHFAIL] = cf->penalty_authfail;
	sc->penalty[SRCLIMIT_NOAUTH] = cf->penalty_noauth;
	sc->penalty[SRCLIMIT_ERROR] = cf->penalty_error;
	sc->penalty_max = cf->penalty_max;
	sc->table_size = cf->penalty_table;
	sc->exempt = cf->exempt;
	sc->nexempt = cf->nexempt;
	sc->startups_begin = cf->startups_begin;
	sc->startups_rate = cf->startups_rate;
	sc->startups_full = cf->startups_full;
}

/* Log each reload error; keep the first for the audit record. */
static void
log_diag(void *ctx, const char *msg)
{
	char *first = ctx;

	error("%s", msg);
	if (first != NULL && first[0] == '\0')
		snprintf(first, 256, "%s", msg);
}

/*
 * The secrets file, as strictly as at start-up (mode and owner).  A file
 * that does not exist means "no TOTP users yet": not an error.
 */
static int
load_secrets(struct master *m, const char *path, struct totp_secrets **out)
{
	*out = NULL;
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return 0;
	return totp_secrets_load(path, 1, m->ms->uid, m->ms->gid, log_diag,
	    NULL, out);
}

static void
audit_reload(struct master *m, const char *outcome, const char *reason)
{
	struct audit_rec r;

	monitor_audit_begin(m, NULL, &r, "policy-reload", outcome);
	audit_str(&r, "file.path", m->conf.policy);
	if (reason != NULL)
		audit_str(&r, "event.reason", reason);
	monitor_audit_write(m, &r);
}

/*
 * SIGHUP: a new configuration and policy, both or neither.  Sessions
 * already running keep their limits; new requests see the new policy.
 * What needs a restart (listen addresses, host keys, the user, the audit
 * path) is reported, not half-applied.
 */
static void
reload(struct master *m)
{
	struct config nc;
	struct policy *np = NULL;
	struct totp_secrets *ns = NULL;
	struct srclimit_conf sc;
	char first[256] = "", why[400];

	logit("SIGHUP: reloading %s", m->ms->conf_path);
	config_defaults(&nc);
	if (config_load(m->ms->conf_path, &nc, log_diag, first) != 0 ||
	    policy_load_file(nc.policy, 0, log_diag, first, &np) != 0) {
		error("reload failed: keeping the running configuration and "
		    "policy");
		snprintf(why, sizeof(why), "%s; the previous configuration "
		    "and policy stay in force", first);
		audit_reload(m, "failure", why);
		return;
	}
	if (nc.nlisten != m->conf.nlisten || nc.port != m->conf.port ||
	    nc.nhostkeys != m->conf.nhostkeys ||
	    strcmp(nc.user, m->conf.user) != 0 ||
	    strcmp(nc.audit_log, m->conf.audit_log) != 0)
		logit("listen addresses, host keys, User and AuditLog changes "
		    "take effect at the next restart");
	memcpy(nc.listen, m->conf.listen, sizeof(nc.listen));
	nc.nlisten = m->conf.nlisten;
	nc.port = m->conf.port;
	snprintf(nc.user, sizeof(nc.user), "%s", m->conf.user);
	snprintf(nc.audit_log, sizeof(nc.audit_log), "%s", m->conf.audit_log);
	if (strcmp(nc.knock_bind_socket, m->conf.knock_bind_socket) != 0 ||
	    strcmp(nc.knockd_user, m->conf.knockd_user) != 0)
		logit("KnockBindSocket and KnockdUser changes take effect at "
		    "the next restart");
	memcpy(nc.knock_bind_socket, m->conf.knock_bind_socket,
	    sizeof(nc.knock_bind_socket));
	memcpy(nc.knockd_user, m->conf.knockd_user, sizeof(nc.knockd_user));
	if (load_secrets(m, nc.totp_secrets, &ns) != 0) {
		policy_free(np);
		audit_reload(m, "failure", "TOTP secrets did not load; the "
		    "previous configuration, policy and secrets stay in force");
		return;
	}
	m->conf = nc;
	policy_free(m->pol);
	m->pol = np;
	totp_secrets_free(m->secrets);
	m->secrets = ns;
	srclimit_conf_from(&m->conf, &sc);
	(void)srclimit_reconfigure(m->src, &sc);
	(void)broker_refresh_self(m->broker);
	log_set_level((enum log_level)m->conf.log_level);
	master_knock_check_policy(m);
	audit_reload(m, "success", NULL);
}

static void
stop_listening(struct master *m)
{
	size_t i;

	for (i = 0; i < m->ms->nlisteners; i++) {
		if (m->lst_ev[i].fd < 0)
			continue;
		epoll_ctl(m->epfd, EPOLL_CTL_DEL, m->lst_ev[i].fd, NULL);
		close(m->lst_ev[i].fd);
		m->lst_ev[i].fd = -1;
	}
}

static void
on_signal(struct master *m)
{
	struct signalfd_siginfo si;

	while (read(m->sig_ev.fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			reap(m);
			break;
		case SIGHUP:
			reload(m);
			break;
		case SIGTERM:
		case SIGINT:
			if (!m->stopping)
				logit("stopping: no new connections");
			m->stopping = 1;
			stop_listening(m);
			break;
		}
	}
}

/* Backstops for limits the child enforces itself. */
static void
tick(struct master *m)
{
	struct child *c;
	time_t now = master_now();

	for (c = m->children; c != NULL; c = c->next) {
		if (c->phase != IPC_PHASE_AUTHED && now > c->started +
		    (time_t)m->conf.login_grace + GRACE_SLACK)
			master_kill_child(m, c, "login grace time expired");
	}
}

static void
dispatch_event(struct master *m, struct evsrc *e)
{
	switch (e->kind) {
	case EV_LISTENER:
		on_accept(m, e->fd);
		break;
	case EV_SIGNAL:
		on_signal(m);
		break;
	case EV_BROKER:
		broker_process(m->broker);
		break;
	case EV_KNOCK:
		master_knock_read(m);
		break;
	case EV_CHILD:
		/* Its SIGCHLD may have come earlier in this same batch. */
		if (((struct child *)e->p)->ipc >= 0)
			monitor_read(m, e->p);
		break;
	}
}

/*
 * Sleep until the broker needs us, or, while someone is still logging in,
 * until the next grace-time check: an idle gateway does not wake at all.
 */
static int
loop_timeout(struct master *m)
{
	int t = broker_timeout_ms(m->broker);

	if (preauth_count(m) > 0 && (t < 0 || t > TICK_MS))
		t = TICK_MS;
	return t;
}

/* After SIGTERM: ask every session to end, wait a little, then insist. */
static void
shutdown_children(struct master *m)
{
	struct child *c;
	int i;

	for (c = m->children; c != NULL; c = c->next)
		kill(c->pid, SIGTERM);
	for (i = 0; i < 50 && m->children != NULL; i++) {
		usleep(100000);
		reap(m);
	}
	for (c = m->children; c != NULL; c = c->next)
		master_kill_child(m, c, "gateway stopping");
	/* SIGKILL cannot be ignored: they all go, and are audited. */
	for (i = 0; i < 500 && m->children != NULL; i++) {
		usleep(10000);
		reap(m);
	}
	bury_dead(m);
}

static int
setup_events(struct master *m)
{
	sigset_t set;
	size_t i;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0 ||
	    (m->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (m->sig_ev.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC))
	    < 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	m->sig_ev.kind = EV_SIGNAL;
	m->broker_ev.kind = EV_BROKER;
	m->broker_ev.fd = broker_fd(m->broker);
	if (ep_add(m, &m->sig_ev, EPOLLIN) != 0 ||
	    ep_add(m, &m->broker_ev, EPOLLIN) != 0)
		return -1;
	for (i = 0; i < m->ms->nlisteners; i++) {
		m->lst_ev[i].kind = EV_LISTENER;
		m->lst_ev[i].fd = m->ms->listeners[i];
		if (ep_add(m, &m->lst_ev[i], EPOLLIN) != 0)
			return -1;
	}
	return 0;
}

static void
run_loop(struct master *m)
{
	struct epoll_event evs[64];
	int i, n;

	while (!m->stopping) {
		n = epoll_wait(m->epfd, evs, 64, loop_timeout(m));
		if (n < 0 && errno != EINTR) {
			error("epoll_wait: %s", strerror(errno));
			break;
		}
		for (i = 0; i < n; i++)
			dispatch_event(m, evs[i].data.ptr);
		bury_dead(m);
		broker_process(m->broker);
		tick(m);
	}
}

int
master_run(struct master_setup *ms)
{
	struct master m;
	struct srclimit_conf sc;
	struct audit_rec r;
	char err[256];

	memset(&m, 0, sizeof(m));
	m.ms = ms;
	m.conf = ms->conf;
	m.pol = ms->pol;
	srclimit_conf_from(&m.conf, &sc);
	if ((m.audit = audit_open(m.conf.audit_log, "rampart-gateway",
	    !ms->foreground, err, sizeof(err))) == NULL) {
		error("audit log %s: %s", m.conf.audit_log, err);
		return 1;
	}
	if ((m.src = srclimit_new(&sc)) == NULL ||
	    (m.broker = broker_new((const struct policy *const *)&m.pol, err,
	    sizeof(err))) == NULL || setup_events(&m) != 0 ||
	    master_knock_start(&m) != 0) {
		error("cannot start the master: %s", err);
		return 1;
	}
	master_knock_check_policy(&m);
	(void)broker_refresh_self(m.broker);
	m.secrets = ms->secrets;
	if (totp_state_open(m.conf.totp_state, err, sizeof(err), &m.tstate)
	    != 0)
		error("TOTP state %s: %s; codes will be refused until it can "
		    "be opened (restart)", m.conf.totp_state, err);
	/* Everything is open and initialised: from here on, the filter. */
	if (!ms->no_sandbox && sandbox_master() != 0) {
		error("cannot load the master's seccomp filter");
		return 1;
	}
	monitor_audit_begin(&m, NULL, &r, "service-start", "success");
	monitor_audit_write(&m, &r);
	logit("accepting connections");
	run_loop(&m);
	shutdown_children(&m);
	monitor_audit_begin(&m, NULL, &r, "service-stop", "success");
	monitor_audit_write(&m, &r);
	broker_free(m.broker);
	srclimit_free(m.src);
	master_knock_stop(&m);
	totp_state_close(m.tstate);
	totp_secrets_free(m.secrets);
	audit_close(m.audit);
	policy_free(m.pol);
	logit("stopped");
	return 0;
}
