/*
 * session_chan: what a client may open and ask for.
 *
 * direct-tcpip (ssh -J, -W, -L, -D) carries data: the child asks the
 * master for a connected socket, and only a socket in hand turns into an
 * accepted channel.  A session channel may ask for a shell, which prints
 * where the user may go and exits 1, or exec sshuttle's bootstrap
 * command, which turns it into an sshuttle session served in C
 * (shuttle.h).  Everything else -- pty, any other exec, subsystems
 * (sftp), x11, agent, env, tcpip-forward -- is refused and reported to
 * the master for the audit.
 */
#include <sys/socket.h>
#include <sys/syscall.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "session_int.h"
#include "shuttle.h"

static void
refused(struct sess *s, const char *what, const char *detail)
{
	struct ipc_msg m;

	memset(&m, 0, sizeof(m));
	m.type = IPC_REFUSED;
	snprintf(m.u.refused.what, sizeof(m.u.refused.what), "%s", what);
	snprintf(m.u.refused.detail, sizeof(m.u.refused.detail), "%s",
	    detail != NULL ? detail : "");
	sess_ipc_send(s, &m);
}

static struct chan *
chan_new(struct sess *s, enum chan_kind kind)
{
	struct chan *c;

	/* sshuttle's TCP channels count too: the master counts them. */
	if (s->nchans + s->nsub >= s->max_channels)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->sess = s;
	c->id = s->next_id++;
	c->kind = kind;
	c->fd = -1;
	clock_gettime(CLOCK_MONOTONIC, &c->t0);
	c->next = s->chans;
	s->chans = c;
	s->nchans++;
	return c;
}

void
chan_report_close(struct sess *s, uint32_t id, uint64_t up, uint64_t down,
    const struct timespec *t0)
{
	struct timespec now;
	struct ipc_msg m;

	clock_gettime(CLOCK_MONOTONIC, &now);
	memset(&m, 0, sizeof(m));
	m.type = IPC_CHANNEL_CLOSE;
	m.u.channel_close.chan = id;
	m.u.channel_close.bytes_up = up;
	m.u.channel_close.bytes_down = down;
	m.u.channel_close.duration_ms =
	    (uint64_t)(now.tv_sec - t0->tv_sec) * 1000 +
	    (uint64_t)((now.tv_nsec - t0->tv_nsec) / 1000000);
	sess_ipc_send(s, &m);
}

/* Only ever called outside ssh_event_dopoll (libssh-server.md 2.2). */
void
chan_free(struct sess *s, struct chan *c)
{
	struct chan **pp;

	for (pp = &s->chans; *pp != NULL && *pp != c; pp = &(*pp)->next)
		;
	if (*pp == NULL)
		return;
	*pp = c->next;
	s->nchans--;
	if (c->fd >= 0) {
		if (c->armed)
			ssh_event_remove_fd(s->ev, c->fd);
		close(c->fd);
	}
	if (c->shuttle != NULL)
		shuttle_free(s, c);
	if (c->ch != NULL) {
		ssh_remove_channel_callbacks(c->ch, &c->cb);
		if (!ssh_channel_is_closed(c->ch))
			ssh_channel_close(c->ch);
		ssh_channel_free(c->ch);
	}
	if (c->kind == CHAN_DIRECT && c->ch != NULL)
		chan_report_close(s, c->id, c->up, c->down, &c->t0);
	free(c->spill);
	free(c->tx);
	free(c);
}

/* Ask the master for a connected socket: (decision + connect). */
static int
connect_via_master(struct sess *s, struct chan *c, ssh_message msg,
    char *reason, size_t rlen)
{
	const char *host = ssh_message_channel_request_open_destination(msg);
	const char *orig = ssh_message_channel_request_open_originator(msg);
	struct ipc_msg m, ans;
	int fd = -1, port;

	port = ssh_message_channel_request_open_destination_port(msg);
	if (host == NULL || strlen(host) > IPC_HOST_MAX || port < 1 ||
	    port > 65535) {
		snprintf(reason, rlen, "invalid destination");
		return -1;
	}
	memset(&m, 0, sizeof(m));
	m.type = IPC_CONNECT;
	m.u.connect.chan = c->id;
	snprintf(m.u.connect.host, sizeof(m.u.connect.host), "%s", host);
	m.u.connect.port = (uint32_t)port;
	if (orig != NULL && strlen(orig) <= IPC_HOST_MAX)
		snprintf(m.u.connect.orig_host, sizeof(m.u.connect.orig_host),
		    "%s", orig);
	port = ssh_message_channel_request_open_originator_port(msg);
	m.u.connect.orig_port = port >= 0 && port <= 65535 ?
	    (uint32_t)port : 0;
	if (sess_ipc_call(s, &m, IPC_CONNECT_ANS, &ans, &fd,
	    (int)(s->args->connect_timeout + 5) * 1000) != 0) {
		snprintf(reason, rlen, "no answer from the gateway");
		return -1;
	}
	if (ans.u.connect_ans.chan != c->id || !ans.u.connect_ans.ok ||
	    fd < 0) {
		if (fd >= 0)
			close(fd);
		snprintf(reason, rlen, "%s", ans.u.connect_ans.reason);
		return -1;
	}
	return fd;
}

static int
open_direct(struct sess *s, ssh_message msg)
{
	char reason[IPC_REASON_MAX + 64];
	struct chan *c;
	int fd;

	if ((c = chan_new(s, CHAN_DIRECT)) == NULL) {
		snprintf(reason, sizeof(reason), "too many channels (limit "
		    "%u)", s->max_channels);
		refused(s, "channel", reason);
		ssh_send_debug(s->ssh, reason, 1);
		return 1;
	}
#ifdef RAMPART_TEST_HOOKS
	/* Test builds only: prove that the filter kills a forbidden call. */
	const char *dst = ssh_message_channel_request_open_destination(msg);

	if (s->args->test_hooks && dst != NULL &&
	    strcmp(dst, "forbidden-syscall.rampart-test") == 0)
		(void)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
#endif
	if ((fd = connect_via_master(s, c, msg, reason, sizeof(reason))) < 0) {
		/*
		 * libssh 0.10 sends OPEN_FAILURE "administratively
		 * prohibited" with an empty description and has no way to
		 * set one; the reason travels as an SSH debug message, which
		 * "ssh -v" shows as "Remote: policy: ...".
		 */
		ssh_send_debug(s->ssh, reason, 1);
		c->dead = 1;
		return 1;
	}
	c->ch = ssh_message_channel_request_open_reply_accept(msg);
	if (c->ch == NULL || pump_start(s, c, fd) != 0) {
		if (c->ch == NULL)
			close(fd);
		c->dead = 1;
		return c->ch == NULL ? 1 : 0;
	}
	s->last_active = sess_now();
	return 0;
}

static int
shell_request(ssh_session session, ssh_channel channel, void *userdata)
{
	struct chan *c = userdata;
	struct sess *s = c->sess;

	(void)session;
	(void)channel;
	refused(s, "shell", "printed the usage text");
	/* Answer success now; the text follows from the main loop. */
	c->shell = 1;
	return 0;
}

/*
 * exec: sshuttle's bootstrap command starts an sshuttle session; any
 * other command is refused, as before.
 */
static int
exec_request(ssh_session session, ssh_channel channel, const char *command,
    void *userdata)
{
	struct chan *c = userdata;
	struct sess *s = c->sess;
	char why[IPC_REASON_MAX + 1];

	(void)session;
	(void)channel;
	if (command == NULL)
		command = "";
	if (c->shell || c->shuttle != NULL) {
		refused(s, "exec", "a second request on one channel");
		return -1;
	}
	why[0] = '\0';
	if (shuttle_start(s, c, command, strlen(command), why,
	    sizeof(why)) == 0) {
		s->last_active = sess_now();
		return 0;
	}
	/* The command itself is what the audit trail needs to show. */
	if (why[0] != '\0')
		verbose("exec refused: sshuttle's command, but %s", why);
	refused(s, "exec", command);
	return -1;
}

static ssh_channel
open_session(ssh_session session, void *userdata)
{
	struct sess *s = userdata;
	struct chan *c;

	if ((c = chan_new(s, CHAN_SESSION)) == NULL) {
		refused(s, "channel", "too many channels");
		return NULL;
	}
	if ((c->ch = ssh_channel_new(session)) == NULL) {
		c->dead = 1;
		return NULL;
	}
	memset(&c->cb, 0, sizeof(c->cb));
	c->cb.userdata = c;
	c->cb.channel_shell_request_function = shell_request;
	c->cb.channel_exec_request_function = exec_request;
	c->cb.channel_data_function = pump_data_cb;
	c->cb.channel_eof_function = pump_eof_cb;
	c->cb.channel_close_function = pump_close_cb;
	ssh_callbacks_init(&c->cb);
	ssh_set_channel_callbacks(c->ch, &c->cb);
	return c->ch;
}

void
chan_install_handlers(struct sess *s)
{
	s->scb.channel_open_request_session_function = open_session;
}

static const char *
request_name(int subtype)
{
	switch (subtype) {
	case SSH_CHANNEL_REQUEST_PTY:		return "pty";
	case SSH_CHANNEL_REQUEST_EXEC:		return "exec";
	case SSH_CHANNEL_REQUEST_SHELL:		return "shell";
	case SSH_CHANNEL_REQUEST_ENV:		return "env";
	case SSH_CHANNEL_REQUEST_SUBSYSTEM:	return "subsystem";
	case SSH_CHANNEL_REQUEST_WINDOW_CHANGE:	return "window-change";
	case SSH_CHANNEL_REQUEST_X11:		return "x11";
	default:				return "channel-request";
	}
}

int
chan_message(struct sess *s, ssh_message msg)
{
	int type = ssh_message_type(msg), sub = ssh_message_subtype(msg);
	const char *detail = NULL;

	if (type == SSH_REQUEST_CHANNEL_OPEN) {
		if (sub == SSH_CHANNEL_DIRECT_TCPIP)
			return open_direct(s, msg);
		refused(s, "channel-open", sub == SSH_CHANNEL_X11 ? "x11" :
		    sub == SSH_CHANNEL_FORWARDED_TCPIP ? "forwarded-tcpip" :
		    "unsupported channel type");
		return 1;
	}
	if (type == SSH_REQUEST_CHANNEL) {
		if (sub == SSH_CHANNEL_REQUEST_EXEC)
			detail = ssh_message_channel_request_command(msg);
		else if (sub == SSH_CHANNEL_REQUEST_SUBSYSTEM)
			detail = ssh_message_channel_request_subsystem(msg);
		else if (sub == SSH_CHANNEL_REQUEST_ENV)
			detail = ssh_message_channel_request_env_name(msg);
		/* window-change without a pty is noise, not a refusal */
		if (sub != SSH_CHANNEL_REQUEST_WINDOW_CHANGE)
			refused(s, request_name(sub), detail);
		return 1;
	}
	if (type == SSH_REQUEST_GLOBAL) {
		refused(s, sub == SSH_GLOBAL_REQUEST_TCPIP_FORWARD ?
		    "tcpip-forward" : "global-request", NULL);
		return 1;
	}
	return 1;
}
