/*
 * session: the per-connection child -- setup, sandbox, key exchange,
 * authentication through the master, and the main loop.
 *
 * Order matters and follows libssh-server.md section 10: everything that
 * touches files happens in the master before fork; the child sets limits,
 * installs callbacks, loads its seccomp filter *before* key exchange, and
 * from then on only talks to the client socket and the master.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "sandbox.h"
#include "session_int.h"
#include "shuttle.h"

#define AUTH_POLL_MS	1000
#define MAIN_POLL_MS	60000

static struct sess sess;	/* one per process: the child is the session */
static volatile sig_atomic_t stop_requested;
static int stop_pipe[2] = { -1, -1 };

/*
 * SIGTERM from the master at shutdown: finish the loop, report, leave.
 * libssh restarts poll() on EINTR, so the handler also writes to a pipe
 * the event watches, which is what wakes the loop.
 */
static void
on_term(int sig)
{
	(void)sig;
	stop_requested = 1;
	if (stop_pipe[1] >= 0)
		(void)!write(stop_pipe[1], "", 1);
}

static int
on_stop_pipe(socket_t fd, int revents, void *userdata)
{
	char buf[16];

	(void)revents;
	(void)userdata;
	(void)!read(fd, buf, sizeof(buf));
	return 0;
}

time_t
sess_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void __attribute__((noreturn))
sess_exit(struct sess *s, int code)
{
	if (s->ssh != NULL)
		ssh_disconnect(s->ssh);
	_exit(code);
}

void
sess_ipc_send(struct sess *s, const struct ipc_msg *m)
{
	if (ipc_send(s->ipc, m, -1) != 0) {
		/* The master is gone: nothing we do can be trusted now. */
		sess_exit(s, SESSION_EXIT_MASTER);
	}
}

int
sess_ipc_call(struct sess *s, const struct ipc_msg *m, uint32_t want,
    struct ipc_msg *ans, int *fd, int timeout_ms)
{
	struct timespec t0, now;
	struct pollfd pfd;
	long left;
	int r;

	sess_ipc_send(s, m);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pfd.fd = s->ipc;
	pfd.events = POLLIN;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = timeout_ms - ((now.tv_sec - t0.tv_sec) * 1000L +
		    (now.tv_nsec - t0.tv_nsec) / 1000000L);
		r = poll(&pfd, 1, left > 0 ? (int)left : 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			error("no answer from the master");
			return -1;
		}
		r = ipc_recv(s->ipc, ans, fd);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			sess_exit(s, SESSION_EXIT_MASTER);
		/* sshuttle's answers come whenever the master has them. */
		if (shuttle_ipc_answer(s, ans, *fd)) {
			*fd = -1;
			continue;
		}
		if (ans->type != want) {
			if (*fd >= 0)
				close(*fd);
			error("unexpected %s from the master",
			    ipc_type_name(ans->type));
			sess_exit(s, SESSION_EXIT_MASTER);
		}
		return 0;
	}
}

/*
 * The IPC socket in the main loop's event: answers to sshuttle's
 * connects and DNS queries arrive here, asynchronously.  The socket is
 * blocking (sess_ipc_call), so each receive is preceded by a zero poll:
 * a callback that ran earlier in the same dopoll may have taken the
 * message already.
 */
static int
on_ipc(socket_t fd, int revents, void *userdata)
{
	struct sess *s = userdata;
	struct pollfd pfd;
	struct ipc_msg m;
	int mfd, r, n;

	(void)fd;
	(void)revents;
	for (n = 0; n < 64; n++) {
		pfd.fd = s->ipc;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 0) <= 0)
			break;
		r = ipc_recv(s->ipc, &m, &mfd);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			sess_exit(s, SESSION_EXIT_MASTER);
		if (!shuttle_ipc_answer(s, &m, mfd)) {
			if (mfd >= 0)
				close(mfd);
			error("unexpected %s from the master",
			    ipc_type_name(m.type));
			sess_exit(s, SESSION_EXIT_MASTER);
		}
	}
	return 0;
}

/* The child's log goes to the master: it may not open a syslog socket. */
static void
log_to_master(enum log_level level, const char *func, const char *msg,
    void *ctx)
{
	struct sess *s = ctx;
	struct ipc_msg m;

	memset(&m, 0, sizeof(m));
	m.type = IPC_LOG;
	m.u.log.level = (uint32_t)level;
	snprintf(m.u.log.text, sizeof(m.u.log.text), "%s: %s", func, msg);
	(void)ipc_send(s->ipc, &m, -1);
}

static void
report_failure(struct sess *s, const char *user, const char *method,
    const char *reason)
{
	struct ipc_msg m;

	memset(&m, 0, sizeof(m));
	m.type = IPC_AUTH_FAILED;
	snprintf(m.u.auth_failed.user, sizeof(m.u.auth_failed.user), "%s",
	    user);
	snprintf(m.u.auth_failed.method, sizeof(m.u.auth_failed.method),
	    "%s", method);
	snprintf(m.u.auth_failed.reason, sizeof(m.u.auth_failed.reason),
	    "%s", reason);
	sess_ipc_send(s, &m);
	s->failures++;
}

static void
take_limits(struct sess *s, const struct ipc_auth_ans *a)
{
	s->authed = 1;
	s->max_channels = a->max_channels;
	s->idle_timeout = a->idle_timeout;
	s->max_session_time = a->max_session_time;
	snprintf(s->shell_text, sizeof(s->shell_text), "%s", a->shell_text);
}

/* The key's wire blob, which is what the policy compares. */
static int
key_blob(ssh_key key, uint8_t *blob, size_t *len)
{
	char *b64 = NULL;
	int r = -1;

	if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK)
		return -1;
	if (sodium_base642bin(blob, IPC_KEY_MAX, b64, strlen(b64), NULL, len,
	    NULL, sodium_base64_VARIANT_ORIGINAL) == 0)
		r = 0;
	ssh_string_free_char(b64);
	return r;
}

static int
auth_pubkey(ssh_session session, const char *user, struct ssh_key_struct *key,
    char state, void *userdata)
{
	struct sess *s = userdata;
	struct ipc_msg m, ans;
	int fd = -1;

	(void)session;
	if (s->authed || s->key_ok || strlen(user) > IPC_USER_MAX)
		return SSH_AUTH_DENIED;
	memset(&m, 0, sizeof(m));
	m.type = IPC_AUTH_PUBKEY;
	snprintf(m.u.auth_pubkey.user, sizeof(m.u.auth_pubkey.user), "%s",
	    user);
	m.u.auth_pubkey.probe = state == SSH_PUBLICKEY_STATE_NONE;
	if (key_blob(key, m.u.auth_pubkey.key, &m.u.auth_pubkey.keylen) != 0)
		return SSH_AUTH_DENIED;
	if (sess_ipc_call(s, &m, IPC_AUTH_ANS, &ans, &fd, 10000) != 0)
		return SSH_AUTH_DENIED;
	switch (ans.u.auth_ans.result) {
	case IPC_AUTH_PROBE_OK:
		return m.u.auth_pubkey.probe ? SSH_AUTH_SUCCESS :
		    SSH_AUTH_DENIED;
	case IPC_AUTH_OK:
		if (m.u.auth_pubkey.probe)
			return SSH_AUTH_DENIED;
		take_limits(s, &ans.u.auth_ans);
		snprintf(s->user, sizeof(s->user), "%s", user);
		return SSH_AUTH_SUCCESS;
	case IPC_AUTH_PARTIAL:
		if (m.u.auth_pubkey.probe)
			return SSH_AUTH_DENIED;
		s->key_ok = 1;
		snprintf(s->user, sizeof(s->user), "%s", user);
		ssh_set_auth_methods(s->ssh, SSH_AUTH_METHOD_INTERACTIVE);
		return SSH_AUTH_PARTIAL;
	default:
		s->failures++;
		return SSH_AUTH_DENIED;
	}
}

/* Kerberos is never offered; answering NULL keeps libssh out of krb5. */
static ssh_string
gssapi_refuse(ssh_session session, const char *user, int n_oid,
    ssh_string *oids, void *userdata)
{
	(void)session;
	(void)user;
	(void)n_oid;
	(void)oids;
	(void)userdata;
	return NULL;
}

/* keyboard-interactive: the TOTP code, only after the key (step 2). */
static int
auth_kbdint(struct sess *s, ssh_message msg)
{
	static const char *prompts[] = { "Verification code: " };
	static char echo[] = { 0 };
	const char *user = ssh_message_auth_user(msg);
	struct ipc_msg m, ans;
	const char *code;
	int fd = -1;

	if (!ssh_message_auth_kbdint_is_response(msg)) {
		if (!s->key_ok || user == NULL || strcmp(user, s->user) != 0) {
			report_failure(s, user ? user : "", "totp",
			    !s->key_ok ? "code before key" :
			    "user name changed between steps");
			return 1;
		}
		s->prompted = 1;
		ssh_message_auth_interactive_request(msg, "", "", 1, prompts,
		    echo);
		return 0;
	}
	/* The library checks neither order nor the number of answers. */
	if (!s->prompted || ssh_userauth_kbdint_getnanswers(s->ssh) != 1) {
		report_failure(s, s->user, "totp", "unexpected answer count");
		s->prompted = 0;
		return 1;
	}
	s->prompted = 0;
	code = ssh_userauth_kbdint_getanswer(s->ssh, 0);
	memset(&m, 0, sizeof(m));
	m.type = IPC_AUTH_TOTP;
	snprintf(m.u.auth_totp.user, sizeof(m.u.auth_totp.user), "%s",
	    s->user);
	snprintf(m.u.auth_totp.code, sizeof(m.u.auth_totp.code), "%.*s",
	    IPC_CODE_MAX, code != NULL ? code : "");
	if (sess_ipc_call(s, &m, IPC_AUTH_ANS, &ans, &fd, 10000) != 0 ||
	    ans.u.auth_ans.result != IPC_AUTH_OK) {
		s->failures++;
		return 1;
	}
	take_limits(s, &ans.u.auth_ans);
	ssh_message_auth_reply_success(msg, 0);
	return 0;
}

static int
message_cb(ssh_session session, ssh_message msg, void *userdata)
{
	struct sess *s = userdata;

	(void)session;
	if (ssh_message_type(msg) == SSH_REQUEST_AUTH) {
		if (ssh_message_subtype(msg) == SSH_AUTH_METHOD_INTERACTIVE &&
		    !s->authed)
			return auth_kbdint(s, msg);
		return 1;
	}
	if (!s->authed)
		return 1;
	return chan_message(s, msg);
}

static void
setup_limits(void)
{
	struct sigaction sa;
	struct rlimit rl;

	if (pipe2(stop_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
		stop_pipe[0] = stop_pipe[1] = -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	/* No files, no children, no core with a host key in it. */
	rl.rlim_cur = rl.rlim_max = 0;
	(void)setrlimit(RLIMIT_FSIZE, &rl);
	(void)setrlimit(RLIMIT_NPROC, &rl);
	(void)setrlimit(RLIMIT_CORE, &rl);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* If the master dies, so do we (DESIGN.md section 2). */
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
}

static void
setup_session(struct sess *s, const struct session_args *a)
{
	long timeout = (long)a->login_grace;

	if ((s->ssh = ssh_new()) == NULL)
		_exit(SESSION_EXIT_SETUP);
	if (ssh_bind_accept_fd(a->bind, s->ssh, a->client_fd) != SSH_OK) {
		error("accept: %s", ssh_get_error(a->bind));
		_exit(SESSION_EXIT_SETUP);
	}
	ssh_bind_free(a->bind);
	/* "none" only: "no" would still allow zlib (libssh-server.md 1.1). */
	if (ssh_options_set(s->ssh, SSH_OPTIONS_COMPRESSION_C_S, "none") < 0 ||
	    ssh_options_set(s->ssh, SSH_OPTIONS_COMPRESSION_S_C, "none") < 0 ||
	    ssh_options_set(s->ssh, SSH_OPTIONS_TIMEOUT, &timeout) < 0)
		_exit(SESSION_EXIT_SETUP);
	memset(&s->scb, 0, sizeof(s->scb));
	s->scb.userdata = s;
	s->scb.auth_pubkey_function = auth_pubkey;
	s->scb.gssapi_select_oid_function = gssapi_refuse;
	ssh_callbacks_init(&s->scb);
	chan_install_handlers(s);
	ssh_set_server_callbacks(s->ssh, &s->scb);
	ssh_set_message_callback(s->ssh, message_cb, s);
	ssh_set_auth_methods(s->ssh, SSH_AUTH_METHOD_PUBLICKEY);
}

static void
send_client_info(struct sess *s)
{
	const char *banner = ssh_get_clientbanner(s->ssh);
	struct ipc_msg m;

	memset(&m, 0, sizeof(m));
	m.type = IPC_CLIENT_INFO;
	snprintf(m.u.client_info.version, sizeof(m.u.client_info.version),
	    "%s", banner != NULL ? banner : "");
	sess_ipc_send(s, &m);
}

static void
auth_loop(struct sess *s)
{
	while (!s->authed) {
		if (stop_requested)
			sess_exit(s, SESSION_EXIT_STOPPED);
		if (s->failures >= s->args->max_auth_tries) {
			verbose("too many authentication failures");
			sess_exit(s, SESSION_EXIT_AUTH);
		}
		if (ssh_event_dopoll(s->ev, AUTH_POLL_MS) == SSH_ERROR ||
		    (ssh_get_status(s->ssh) & (SSH_CLOSED | SSH_CLOSED_ERROR)))
			sess_exit(s, SESSION_EXIT_OK);
	}
	alarm(0);
}

/* Seconds the main loop may sleep before a limit needs checking. */
static int
next_deadline_ms(struct sess *s, time_t now)
{
	long left = MAIN_POLL_MS / 1000, t;
	struct chan *c;

	if (s->idle_timeout > 0) {
		t = (long)(s->last_active + s->idle_timeout - now);
		left = t < left ? t : left;
	}
	if (s->max_session_time > 0) {
		t = (long)(s->started + s->max_session_time - now);
		left = t < left ? t : left;
	}
	for (c = s->chans; c != NULL; c = c->next) {
		if (c->shuttle != NULL &&
		    (t = (long)shuttle_deadline(c->shuttle) - now) < left)
			left = t;
	}
	return left <= 0 ? 0 : (int)(left * 1000);
}

static void
check_limits(struct sess *s, time_t now)
{
	if (s->max_session_time > 0 &&
	    now >= s->started + (time_t)s->max_session_time) {
		logit("session lifetime of %us reached for %s",
		    s->max_session_time, s->user);
		sess_exit(s, SESSION_EXIT_LIFETIME);
	}
	if (s->idle_timeout > 0 &&
	    now >= s->last_active + (time_t)s->idle_timeout) {
		logit("idle for %us, closing session of %s", s->idle_timeout,
		    s->user);
		sess_exit(s, SESSION_EXIT_IDLE);
	}
}

static void __attribute__((noreturn))
main_loop(struct sess *s)
{
	struct chan *c, *next;
	time_t now;

	ssh_set_blocking(s->ssh, 0);
	s->started = s->last_active = sess_now();
	if (ssh_event_add_fd(s->ev, s->ipc, POLLIN, on_ipc, s) != SSH_OK)
		sess_exit(s, SESSION_EXIT_SETUP);
	for (;;) {
		for (c = s->chans; c != NULL; c = next) {
			next = c->next;
			if (c->dead)
				chan_free(s, c);
			else if (c->shuttle != NULL)
				shuttle_service(s, c);
			else
				pump_service(s, c);
		}
		now = sess_now();
		check_limits(s, now);
		if (ssh_event_dopoll(s->ev, next_deadline_ms(s, now)) ==
		    SSH_ERROR || (ssh_get_status(s->ssh) &
		    (SSH_CLOSED | SSH_CLOSED_ERROR)) || stop_requested)
			break;
	}
	/* Every channel is reported with its byte counts before we go. */
	for (c = s->chans; c != NULL; c = next) {
		next = c->next;
		chan_free(s, c);
	}
	sess_exit(s, stop_requested ? SESSION_EXIT_STOPPED : SESSION_EXIT_OK);
}

void
session_main(const struct session_args *a)
{
	struct sess *s = &sess;

	memset(s, 0, sizeof(*s));
	s->args = a;
	s->ipc = a->ipc_fd;
	s->exit_code = -1;
	setup_limits();
	log_set_handler(log_to_master, s);
	setup_session(s, a);
	/* The filter goes on before a single byte from the client is read. */
	if (sandbox_child() != 0)
		_exit(SESSION_EXIT_SETUP);
	/* LoginGraceTime: SIGALRM's default action ends the process. */
	alarm((unsigned int)a->login_grace);
	if (ssh_handle_key_exchange(s->ssh) != SSH_OK) {
		verbose("key exchange failed: %s", ssh_get_error(s->ssh));
		sess_exit(s, SESSION_EXIT_PROTOCOL);
	}
	send_client_info(s);
	if ((s->ev = ssh_event_new()) == NULL ||
	    ssh_event_add_session(s->ev, s->ssh) != SSH_OK ||
	    (stop_pipe[0] >= 0 && ssh_event_add_fd(s->ev, stop_pipe[0], POLLIN,
	    on_stop_pipe, NULL) != SSH_OK))
		sess_exit(s, SESSION_EXIT_SETUP);
	auth_loop(s);
	main_loop(s);
}
