/*
 * monitor: the master's side of the IPC -- it decides, on behalf of a
 * session child that is trusted with nothing, whether a key opens an
 * account, and connects forwards the policy allows.  Every message is
 * decoded by ipc.c and must be allowed in the child's phase; anything
 * else ends the child.  Every decision is audited here.
 */
#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "master_int.h"

void
monitor_audit_begin(struct master *m, struct child *c, struct audit_rec *r,
    const char *action, const char *outcome)
{
	audit_begin(m->audit, r, action, outcome, NULL);
	if (c == NULL)
		return;
	audit_str(r, "rampart.session.id", c->session_id);
	audit_str(r, "source.ip", c->peer_str);
	audit_uint(r, "source.port", c->peer_port);
	audit_int(r, "process.pid", (int64_t)c->pid);
	if (c->user[0] != '\0')
		audit_str(r, "user.name", c->user);
}

void
monitor_audit_write(struct master *m, struct audit_rec *r)
{
	if (audit_write(m->audit, r) == 0) {
		if (m->audit_failed)
			logit("audit log writable again; accepting sessions");
		m->audit_failed = 0;
		return;
	}
	if (!m->audit_failed)
		error("cannot write the audit log (%s): refusing new "
		    "sessions until it can be written", strerror(errno));
	m->audit_failed = 1;
}

void
monitor_answer(struct master *m, struct child *c, const struct ipc_msg *msg,
    int fd)
{
	if (ipc_send(c->ipc, msg, fd) != 0)
		master_kill_child(m, c, "cannot answer the session");
}

static void
auth_answer(struct master *m, struct child *c, uint32_t result,
    const char *reason)
{
	const struct policy_user *u;
	struct policy_limits lim;
	struct ipc_msg a;
	char rules[IPC_TEXT_MAX - 512];

	memset(&a, 0, sizeof(a));
	a.type = IPC_AUTH_ANS;
	a.u.auth_ans.result = result;
	snprintf(a.u.auth_ans.reason, sizeof(a.u.auth_ans.reason), "%s",
	    reason);
	if (result == IPC_AUTH_OK &&
	    (u = policy_user_find(m->pol, c->user)) != NULL) {
		policy_user_limits(u, &lim);
		a.u.auth_ans.max_channels = (uint32_t)lim.max_channels;
		a.u.auth_ans.idle_timeout = (uint32_t)lim.idle_timeout;
		a.u.auth_ans.max_session_time =
		    (uint32_t)lim.max_session_time;
		policy_user_rules_text(m->pol, c->user, rules, sizeof(rules));
		snprintf(a.u.auth_ans.shell_text,
		    sizeof(a.u.auth_ans.shell_text),
		    "This is a Rampart bastion: it forwards connections and "
		    "runs no commands.\r\nYou are %s. Your policy:\r\n%s"
		    "Use it as a jump host, for example:\r\n"
		    "  ssh -J %s@<this bastion> you@<destination>\r\n",
		    c->user, rules, c->user);
	}
	monitor_answer(m, c, &a, -1);
}

static unsigned long
user_sessions(struct master *m, const char *user)
{
	struct child *c;
	unsigned long n = 0;

	for (c = m->children; c != NULL; c = c->next) {
		if (c->phase == IPC_PHASE_AUTHED && strcmp(c->user, user) == 0)
			n++;
	}
	return n;
}

static void
auth_failed(struct master *m, struct child *c, const char *method,
    const char *user, const char *reason)
{
	struct audit_rec r;

	c->auth_failures++;
	monitor_audit_begin(m, c, &r, method, "failure");
	if (c->user[0] == '\0')
		audit_str(&r, "user.name", user);
	audit_str(&r, "event.reason", reason);
	monitor_audit_write(m, &r);
	master_penalise(m, c, SRCLIMIT_AUTHFAIL, reason);
	if (c->auth_failures > m->conf.max_auth_tries)
		master_kill_child(m, c, "too many authentication failures");
}

/* Why user may not log in with this key from here, or NULL if they may. */
static const char *
pubkey_refusal(struct master *m, struct child *c,
    const struct ipc_auth_pubkey *a, const struct policy_user **up,
    char *buf, size_t len)
{
	const struct policy_user *u;
	struct policy_limits lim;
	const char *why;

	*up = u = policy_user_find(m->pol, a->user);
	if (u == NULL)
		return "unknown user";
	if (!policy_user_has_key(u, a->key, a->keylen))
		return "key not listed for user";
	if (policy_user_expired(u, time(NULL)))
		return "account expired";
	if (!policy_user_source_ok(u, &c->peer))
		return "source address not allowed for user";
	if ((why = master_knock_refusal(m, c, u, buf, len)) != NULL)
		return why;
	if (m->audit_failed)
		return "audit log cannot be written";
	policy_user_limits(u, &lim);
	if (!a->probe && user_sessions(m, a->user) >= lim.max_connections)
		return "too many connections for user";
	return NULL;
}

static void
on_auth_pubkey(struct master *m, struct child *c,
    const struct ipc_auth_pubkey *a)
{
	const struct policy_user *u;
	const char *why;
	struct audit_rec r;
	char knock[128], id[33];

	why = pubkey_refusal(m, c, a, &u, knock, sizeof(knock));
	if (a->probe && why == NULL) {
		auth_answer(m, c, IPC_AUTH_PROBE_OK, "");
		return;
	}
	/* A refused query counts like a refused signature, as in sshd. */
	if (why != NULL) {
		auth_answer(m, c, IPC_AUTH_DENY, why);
		auth_failed(m, c, "auth-publickey", a->user, why);
		return;
	}
	snprintf(c->user, sizeof(c->user), "%s", a->user);
	monitor_audit_begin(m, c, &r, "auth-publickey", "success");
	audit_str(&r, "event.reason", policy_user_totp_required(u) ?
	    "key accepted; TOTP code required" : "key-only account");
	if (c->knocked) {
		/* The binding it came through, as knockd audited the knock. */
		sodium_bin2hex(id, sizeof(id), c->knock_id,
		    sizeof(c->knock_id));
		audit_str(&r, "rampart.knock.id", id);
	}
	monitor_audit_write(m, &r);
	if (policy_user_totp_required(u)) {
		c->phase = IPC_PHASE_TOTP;
		auth_answer(m, c, IPC_AUTH_PARTIAL, "");
		return;
	}
	c->phase = IPC_PHASE_AUTHED;
	auth_answer(m, c, IPC_AUTH_OK, "");
}

static void
on_auth_totp(struct master *m, struct child *c, const struct ipc_auth_totp *a)
{
	const struct totp_entry *e = NULL;
	const struct policy_user *u;
	struct policy_limits lim;
	struct totp_verdict v;
	const char *why;
	struct audit_rec r;

	if (m->secrets != NULL)
		e = totp_secrets_find(m->secrets, c->user);
	if (m->tstate == NULL) {
		/* Without the replay state no code can be trusted. */
		memset(&v, 0, sizeof(v));
		v.result = TOTP_ERROR;
		snprintf(v.reason, sizeof(v.reason), "TOTP state unavailable");
	} else
		totp_verify(m->tstate, e, c->user, a->code, master_totp_now(),
		    (unsigned int)m->conf.totp_window, &v);
	if (!v.persisted && (v.result == TOTP_OK ||
	    v.result == TOTP_OK_SCRATCH))
		error("TOTP state for %s not written to disk; the replay "
		    "guard holds in memory until the next restart", c->user);
	if (v.result != TOTP_OK && v.result != TOTP_OK_SCRATCH) {
		auth_answer(m, c, IPC_AUTH_DENY, v.reason);
		auth_failed(m, c, "auth-totp", c->user, v.reason);
		return;
	}
	/* The policy may have changed (or the user gone) since the key. */
	u = policy_user_find(m->pol, c->user);
	if (u != NULL)
		policy_user_limits(u, &lim);
	why = u == NULL || policy_user_expired(u, time(NULL)) ?
	    "account no longer valid" : user_sessions(m, c->user) >=
	    lim.max_connections ? "too many connections for user" : NULL;
	if (why != NULL) {
		auth_answer(m, c, IPC_AUTH_DENY, why);
		auth_failed(m, c, "auth-totp", c->user, why);
		return;
	}
	monitor_audit_begin(m, c, &r, "auth-totp", "success");
	audit_str(&r, "event.reason", v.result == TOTP_OK_SCRATCH ?
	    "scratch code accepted and used up" : "code accepted");
	monitor_audit_write(m, &r);
	c->phase = IPC_PHASE_AUTHED;
	auth_answer(m, c, IPC_AUTH_OK, "");
}

static struct mchan *
chan_find(struct child *c, uint32_t id)
{
	struct mchan *ch;

	for (ch = c->chans; ch != NULL; ch = ch->next) {
		if (ch->id == id)
			return ch;
	}
	return NULL;
}

static void
chan_forget(struct child *c, struct mchan *ch)
{
	struct mchan **pp;

	for (pp = &c->chans; *pp != NULL && *pp != ch; pp = &(*pp)->next)
		;
	if (*pp == NULL)
		return;
	*pp = ch->next;
	c->nchans--;
	free(ch);
}

static const char *
chan_type(const struct mchan *ch)
{
	return ch->via == IPC_VIA_SSHUTTLE ? "sshuttle" : "direct-tcpip";
}

static void
audit_channel_open(struct master *m, struct child *c, const struct mchan *ch,
    const struct broker_result *res)
{
	struct audit_rec r;

	monitor_audit_begin(m, c, &r, "channel-open",
	    res->fd >= 0 ? "success" : "failure");
	audit_str(&r, "rampart.channel.type", chan_type(ch));
	audit_str(&r, "destination.address", ch->host);
	if (res->has_addr)
		audit_str(&r, "destination.ip", ch->ip);
	audit_uint(&r, "destination.port", ch->port);
	audit_uint(&r, "rampart.channel.id", ch->id);
	if (res->rule[0] != '\0')
		audit_str(&r, "rule.name", res->rule);
	if (res->fd < 0)
		audit_str(&r, "event.reason", res->reason);
	monitor_audit_write(m, &r);
}

static void
connect_done(void *ctx, uint64_t req, const struct broker_result *res)
{
	struct mchan *ch = ctx;
	struct child *c = ch->c;
	struct master *m = c->m;
	struct ipc_msg a;

	(void)req;
	ch->pending = 0;
	if (res->has_addr)
		addr_ntop(&res->addr, ch->ip, sizeof(ch->ip));
	audit_channel_open(m, c, ch, res);
	memset(&a, 0, sizeof(a));
	a.type = IPC_CONNECT_ANS;
	a.u.connect_ans.chan = ch->id;
	a.u.connect_ans.ok = res->fd >= 0;
	a.u.connect_ans.port = ch->port;
	if (res->fd >= 0)
		snprintf(a.u.connect_ans.addr, sizeof(a.u.connect_ans.addr),
		    "%s", ch->ip);
	else if (res->allowed)
		snprintf(a.u.connect_ans.reason,
		    sizeof(a.u.connect_ans.reason), "%s", res->reason);
	else
		snprintf(a.u.connect_ans.reason,
		    sizeof(a.u.connect_ans.reason), "policy: %s:%u not "
		    "allowed for %s: %s", ch->host, ch->port, c->user,
		    res->reason);
	if (res->fd < 0)
		chan_forget(c, ch);
	monitor_answer(m, c, &a, res->fd);
	if (res->fd >= 0)
		close(res->fd);
}

static void
refuse_connect(struct master *m, struct child *c, uint32_t id,
    const char *reason)
{
	struct ipc_msg a;

	memset(&a, 0, sizeof(a));
	a.type = IPC_CONNECT_ANS;
	a.u.connect_ans.chan = id;
	snprintf(a.u.connect_ans.reason, sizeof(a.u.connect_ans.reason),
	    "%s", reason);
	monitor_answer(m, c, &a, -1);
}

static void
on_connect(struct master *m, struct child *c, const struct ipc_connect *a)
{
	struct policy_limits lim;
	const struct policy_user *u;
	struct mchan *ch;

	u = policy_user_find(m->pol, c->user);
	if (u != NULL)
		policy_user_limits(u, &lim);
	if (u == NULL || chan_find(c, a->chan) != NULL ||
	    c->nchans >= lim.max_channels) {
		/* The child enforces these; a child that does not is lying. */
		master_kill_child(m, c, u == NULL ? "user left the policy" :
		    "channel limit or id reuse");
		return;
	}
	if ((ch = calloc(1, sizeof(*ch))) == NULL) {
		refuse_connect(m, c, a->chan, "gateway out of memory");
		return;
	}
	ch->c = c;
	ch->id = a->chan;
	ch->port = a->port;
	ch->via = a->via;
	snprintf(ch->host, sizeof(ch->host), "%s", a->host);
	ch->next = c->chans;
	c->chans = ch;
	c->nchans++;
	if (broker_connect(m->broker, c->user, a->host, a->port,
	    (unsigned int)m->conf.connect_timeout * 1000, connect_done, ch,
	    &ch->req) != 0) {
		chan_forget(c, ch);
		refuse_connect(m, c, a->chan, "gateway busy, try again");
		return;
	}
	ch->pending = 1;
}

static void
on_channel_close(struct master *m, struct child *c,
    const struct ipc_channel_close *a)
{
	struct mchan *ch;
	struct audit_rec r;

	if ((ch = chan_find(c, a->chan)) == NULL || ch->pending) {
		master_kill_child(m, c, "close of an unknown channel");
		return;
	}
	monitor_audit_begin(m, c, &r, "channel-close", "success");
	audit_str(&r, "rampart.channel.type", chan_type(ch));
	audit_str(&r, "destination.address", ch->host);
	audit_str(&r, "destination.ip", ch->ip);
	audit_uint(&r, "destination.port", ch->port);
	audit_uint(&r, "rampart.channel.id", ch->id);
	audit_uint(&r, "source.bytes", a->bytes_up);
	audit_uint(&r, "destination.bytes", a->bytes_down);
	audit_uint(&r, "network.bytes", a->bytes_up + a->bytes_down);
	audit_uint(&r, "event.duration", a->duration_ms * 1000000ULL);
	monitor_audit_write(m, &r);
	chan_forget(c, ch);
}

static void
on_refused(struct master *m, struct child *c, const struct ipc_refused *a)
{
	struct audit_rec r;

	monitor_audit_begin(m, c, &r, "request-refused", "failure");
	audit_str(&r, "rampart.request", a->what);
	if (a->detail[0] != '\0')
		audit_str(&r, "event.reason", a->detail);
	monitor_audit_write(m, &r);
}

static void
on_log(struct master *m, struct child *c, const struct ipc_log *a)
{
	char safe[IPC_TEXT_MAX + 1];

	(void)m;
	log_msg((enum log_level)a->level, "session", "[%ld %s%s%s] %s",
	    (long)c->pid, c->user, c->user[0] ? "@" : "", c->peer_str,
	    log_safe(a->text, safe, sizeof(safe)));
}

static void
dispatch(struct master *m, struct child *c, const struct ipc_msg *msg)
{
	switch (msg->type) {
	case IPC_LOG:
		on_log(m, c, &msg->u.log);
		break;
	case IPC_CLIENT_INFO:
		if (c->got_client_info) {
			master_kill_child(m, c, "client info sent twice");
			break;
		}
		c->got_client_info = 1;
		snprintf(c->client_version, sizeof(c->client_version), "%s",
		    msg->u.client_info.version);
		break;
	case IPC_AUTH_PUBKEY:
		on_auth_pubkey(m, c, &msg->u.auth_pubkey);
		break;
	case IPC_AUTH_TOTP:
		if (strcmp(msg->u.auth_totp.user, c->user) != 0)
			master_kill_child(m, c, "user changed between steps");
		else
			on_auth_totp(m, c, &msg->u.auth_totp);
		break;
	case IPC_AUTH_FAILED:
		auth_failed(m, c, strcmp(msg->u.auth_failed.method, "totp") ==
		    0 ? "auth-totp" : "auth-publickey",
		    msg->u.auth_failed.user, msg->u.auth_failed.reason);
		break;
	case IPC_CONNECT:
		on_connect(m, c, &msg->u.connect);
		break;
	case IPC_CHANNEL_CLOSE:
		on_channel_close(m, c, &msg->u.channel_close);
		break;
	case IPC_REFUSED:
		on_refused(m, c, &msg->u.refused);
		break;
	case IPC_SHUTTLE_START:
		master_shuttle_start(m, c, &msg->u.shuttle_start);
		break;
	case IPC_DNS_REQ:
		master_shuttle_dns(m, c, &msg->u.dns_req);
		break;
	}
}

void
monitor_read(struct master *m, struct child *c)
{
	struct ipc_msg msg;
	int fd, r, n;

	/* Bounded per wakeup, so one chatty child cannot starve the rest. */
	for (n = 0; n < 64 && !c->killed; n++) {
		r = ipc_recv(c->ipc, &msg, &fd);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r == 0)
			return;		/* exit is seen through SIGCHLD */
		if (r < 0) {
			master_kill_child(m, c, "malformed IPC message");
			return;
		}
		if (fd >= 0)
			close(fd);	/* children never send descriptors */
		if (!ipc_allowed(c->phase, msg.type)) {
			master_kill_child(m, c, "IPC message out of phase");
			return;
		}
		dispatch(m, c, &msg);
	}
}

void
monitor_child_gone(struct master *m, struct child *c)
{
	struct mchan *ch, *next;

	struct audit_rec r;

	for (ch = c->chans; ch != NULL; ch = next) {
		next = ch->next;
		if (ch->pending)
			broker_cancel(m->broker, ch->req);
		else {
			/* Open when the child died: no byte counts exist. */
			monitor_audit_begin(m, c, &r, "channel-close",
			    "unknown");
			audit_str(&r, "rampart.channel.type", chan_type(ch));
			audit_str(&r, "destination.address", ch->host);
			audit_str(&r, "destination.ip", ch->ip);
			audit_uint(&r, "destination.port", ch->port);
			audit_uint(&r, "rampart.channel.id", ch->id);
			audit_str(&r, "event.reason", "session ended before "
			    "the channel was reported closed");
			monitor_audit_write(m, &r);
		}
		free(ch);
	}
	c->chans = NULL;
	c->nchans = 0;
	master_shuttle_gone(m, c);
}
