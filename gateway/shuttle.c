/*
 * shuttle: one sshuttle session on a session channel -- the bootstrap,
 * the mux input, control frames, the output queue, flow control and the
 * end of the session.  Sub-channels are in shuttle_chan.c.
 *
 * libssh hands the data callback everything it holds for the channel
 * (channels.c channel_rcv_data), so the callback copies what fits into rx
 * and parses whole frames from there; what does not fit stays in libssh
 * ("unconsumed") and is pulled by shuttle_service() once rx drains.
 * Parsing stops while a destination is over its cap: the SSH window then
 * throttles the client, and nothing is lost.
 *
 * Output is written only from shuttle_service(), outside
 * ssh_event_dopoll(), and never more than the client's window:
 * ssh_channel_write() would otherwise process packets itself (nested
 * callbacks) while it waits for a window or a key re-exchange.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "shuttle_exec.h"
#include "shuttle_int.h"

#define SH_OUT_HARD	(8u << 20)	/* never queue more for the client */

static const char rttest[] = "rttest";

static size_t
min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* Room for need more bytes at the end of out; 0 or -1. */
int
sh_out_room(struct shuttle *sh, size_t need)
{
	size_t cap;
	uint8_t *p;

	if (sh->out_off + sh->out_len + need <= sh->out_cap)
		return 0;
	if (sh->out_off > 0) {
		memmove(sh->out, sh->out + sh->out_off, sh->out_len);
		sh->out_off = 0;
	}
	if (sh->out_len + need <= sh->out_cap)
		return 0;
	if (sh->out_len + need > SH_OUT_HARD)
		return -1;
	cap = sh->out_cap * 2;
	if (cap < sh->out_len + need)
		cap = sh->out_len + need;
	if ((p = realloc(sh->out, cap)) == NULL)
		return -1;
	sh->out = p;
	sh->out_cap = cap;
	return 0;
}

/* Queue one frame for the client; 0, or -1 (the session is ending). */
int
sh_put(struct shuttle *sh, unsigned int chan, unsigned int cmd,
    const void *payload, size_t len)
{
	uint8_t *p;

	if (sh->state >= SH_DONE)
		return -1;
	if (sh_out_room(sh, SHUTTLE_HDR_LEN + len) != 0) {
		/* Only a client that never reads gets here. */
		sh->state = SH_DONE;
		sh->c->dead = 1;
		error("sshuttle: %zu bytes queued for a client that does "
		    "not read; closing", sh->out_len);
		return -1;
	}
	p = sh->out + sh->out_off + sh->out_len;
	if (shuttle_frame_put_hdr(p, SHUTTLE_HDR_LEN, chan, cmd, len) != 0)
		return -1;
	if (len > 0)
		memcpy(p + SHUTTLE_HDR_LEN, payload, len);
	sh->out_len += SHUTTLE_HDR_LEN + len;
	sh->fullness += SHUTTLE_HDR_LEN + len;
	return 0;
}

static void
err_text(struct shuttle *sh, const char *fmt, va_list ap)
{
	size_t room = sizeof(sh->err) - sh->err_off - sh->err_len;
	int n;

	/* Whole lines only: a cut line would read as a different text. */
	if (room < 16)
		return;
	n = vsnprintf(sh->err + sh->err_off + sh->err_len, room, fmt, ap);
	if (n < 0 || (size_t)n >= room)
		return;
	sh->err_len += (size_t)n;
}

static void
err_line(struct shuttle *sh, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_text(sh, fmt, ap);
	va_end(ap);
}

/*
 * A line on the client's terminal (ssh passes our stderr through), in
 * the Python server's " s: " style; bounded per session.
 */
void
sh_note(struct shuttle *sh, const char *fmt, ...)
{
	char line[300];
	va_list ap;

	if (sh->notes >= SH_STDERR_LINES || sh->state >= SH_ENDING)
		return;
	if (++sh->notes == SH_STDERR_LINES) {
		err_line(sh, " s: rampart: further notes suppressed\n");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	err_line(sh, " s: rampart: %s\n", line);
}

static void
sh_refused(struct shuttle *sh, const char *detail)
{
	struct ipc_msg m;

	memset(&m, 0, sizeof(m));
	m.type = IPC_REFUSED;
	snprintf(m.u.refused.what, sizeof(m.u.refused.what), "sshuttle");
	snprintf(m.u.refused.detail, sizeof(m.u.refused.detail), "%s",
	    detail);
	sess_ipc_send(sh->s, &m);
}

static void
sh_end(struct shuttle *sh, int status)
{
	if (sh->state >= SH_ENDING)
		return;
	sh->state = SH_ENDING;
	sh->exit_status = status;
	/*
	 * What is queued still goes out (a frame cut in half would read as
	 * garbage), but a client that no longer reads (killed, or its ssh
	 * keeps the channel and grants no window) must not keep us here:
	 * the flush is given SH_END_SECS.
	 */
	sh->end_deadline = sess_now() + SH_END_SECS;
	shc_abort_all(sh);
}

/*
 * Bad input from the client ends this sshuttle session (never the
 * process): a note on its terminal, an audit record, exit-status 1.
 */
void
sh_fail(struct shuttle *sh, const char *fmt, ...)
{
	char why[IPC_REASON_MAX + 1];
	va_list ap;

	if (sh->state >= SH_ENDING)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	verbose("sshuttle session of %s ends: %s", sh->s->user, why);
	err_line(sh, " s: rampart: %s\n", why);
	sh_refused(sh, why);
	sh_end(sh, 1);
}

/* The client's PING: answered at once, but see the rttest rule. */
static void
on_ping(struct shuttle *sh, const struct shuttle_frame *f)
{
	/*
	 * The client pings "rttest" when it has sent latency_buffer_size
	 * bytes since our last PONG and then queues no more data until
	 * the PONG: holding it while a destination lags is how a slow
	 * destination slows the client down without blocking the mux.
	 */
	if (f->len == sizeof(rttest) - 1 &&
	    memcmp(f->payload, rttest, f->len) == 0 && sh->nover_low > 0 &&
	    !sh->pong_held) {
		sh->pong_held = 1;
		sh->held_chan = f->chan;
		sh->held_len = f->len;
		memcpy(sh->held, f->payload, f->len);
		return;
	}
	(void)sh_put(sh, f->chan, SHUTTLE_CMD_PONG, f->payload, f->len);
}

static void
on_udp(struct shuttle *sh, const struct shuttle_frame *f)
{
	if (f->cmd != SHUTTLE_CMD_UDP_OPEN || sh->udp_noted)
		return;
	/* Refused cleanly, once: the client keeps sending, we drop it. */
	sh->udp_noted = 1;
	sh_note(sh, "UDP is not served by this gateway; datagrams are "
	    "dropped");
	sh_refused(sh, "udp not supported (UDP_OPEN); datagrams dropped");
}

/* One whole frame from the client. */
static void
on_frame(struct shuttle *sh, const struct shuttle_frame *f)
{
	switch (f->cmd) {
	case SHUTTLE_CMD_PING:
		on_ping(sh, f);
		break;
	case SHUTTLE_CMD_PONG:
		sh->fullness = 0;
		sh->too_full = 0;
		break;
	case SHUTTLE_CMD_HOST_REQ:
		break;		/* no host list: it would rewrite /etc/hosts */
	case SHUTTLE_CMD_EXIT:
		sh_end(sh, 0);
		break;
	case SHUTTLE_CMD_TCP_CONNECT:
		(void)shc_tcp_connect(sh, f->chan, f->payload, f->len);
		break;
	case SHUTTLE_CMD_TCP_DATA:
		shc_tcp_data(sh, f->chan, f->payload, f->len);
		break;
	case SHUTTLE_CMD_TCP_EOF:
		shc_tcp_eof(sh, f->chan);
		break;
	case SHUTTLE_CMD_TCP_STOP_SENDING:
		shc_tcp_stop(sh, f->chan);
		break;
	case SHUTTLE_CMD_DNS_REQ:
		(void)shc_dns_req(sh, f->chan, f->payload, f->len);
		break;
	case SHUTTLE_CMD_UDP_OPEN:
	case SHUTTLE_CMD_UDP_DATA:
	case SHUTTLE_CMD_UDP_CLOSE:
		on_udp(sh, f);
		break;
	case SHUTTLE_CMD_ROUTES:
	case SHUTTLE_CMD_HOST_LIST:
	case SHUTTLE_CMD_DNS_RESPONSE:
		sh_fail(sh, "the client sent %s, which only a server sends",
		    shuttle_cmd_name(f->cmd));
		break;
	default:
		sh_fail(sh, "unknown command 0x%04x on channel %u", f->cmd,
		    f->chan);
		break;
	}
}

/* After the bootstrap: the sync header and the one ROUTES, one write. */
static int
sh_ready(struct shuttle *sh)
{
	size_t rlen = strlen(sh->routes);

	if (sh_out_room(sh, SHUTTLE_SYNC_LEN) != 0)
		return -1;
	memcpy(sh->out + sh->out_off + sh->out_len, SHUTTLE_SYNC,
	    SHUTTLE_SYNC_LEN);
	sh->out_len += SHUTTLE_SYNC_LEN;
	sh->state = SH_MUX;
	verbose("sshuttle bootstrap of %s swallowed: %zu bytes, %u modules",
	    sh->s->user, shuttle_boot_total(sh->boot),
	    shuttle_boot_records(sh->boot));
	shuttle_boot_free(sh->boot);
	sh->boot = NULL;
	return sh_put(sh, 0, SHUTTLE_CMD_ROUTES, sh->routes, rlen);
}

/* Parse what rx holds: bootstrap bytes first, then whole frames. */
static void
sh_input(struct shuttle *sh)
{
	struct shuttle_frame f;
	size_t used;
	int r;

	while (sh->rx_len > 0 && sh->state < SH_ENDING) {
		if (sh->state == SH_BOOT) {
			r = shuttle_boot_feed(sh->boot, sh->rx + sh->rx_off,
			    sh->rx_len, &used);
			sh->rx_off += used;
			sh->rx_len -= used;
			if (r < 0)
				sh_fail(sh, "bad bootstrap: %s",
				    shuttle_boot_strerror(r));
			else if (r == 1 && sh_ready(sh) != 0)
				sh_fail(sh, "out of memory");
			continue;
		}
		/* Lossless backpressure: leave the rest to the SSH window. */
		if (sh->nover_cap > 0 || sh->out_len > SH_OUT_SOFT)
			break;
		r = shuttle_frame_peek(sh->rx + sh->rx_off, sh->rx_len, &f);
		if (r < 0) {
			sh_fail(sh, "bad frame: %s (a second bootstrap?)",
			    shuttle_frame_strerror(r));
			break;
		}
		if (r == 0)
			break;
		on_frame(sh, &f);
		sh->rx_off += SHUTTLE_HDR_LEN + (size_t)f.len;
		sh->rx_len -= SHUTTLE_HDR_LEN + (size_t)f.len;
	}
	if (sh->rx_len == 0)
		sh->rx_off = 0;
}

/* Append up to len bytes to rx; how many were taken. */
static size_t
rx_take(struct shuttle *sh, const uint8_t *data, size_t len)
{
	size_t room;

	if (sh->rx_off > 0 && sh->rx_off + sh->rx_len + len > SH_RX_CAP) {
		memmove(sh->rx, sh->rx + sh->rx_off, sh->rx_len);
		sh->rx_off = 0;
	}
	room = SH_RX_CAP - sh->rx_off - sh->rx_len;
	len = min_size(len, room);
	memcpy(sh->rx + sh->rx_off + sh->rx_len, data, len);
	sh->rx_len += len;
	return len;
}

static int
shuttle_data_cb(ssh_session session, ssh_channel channel, void *data,
    uint32_t len, int is_stderr, void *userdata)
{
	struct chan *c = userdata;
	struct shuttle *sh = c->shuttle;
	size_t take;

	(void)session;
	(void)channel;
	if (is_stderr || sh == NULL || sh->state >= SH_ENDING)
		return (int)len;	/* nobody will read it */
	c->sess->last_active = sess_now();
	sh->fresh = 1;
	take = rx_take(sh, data, len);
	/* libssh offers all it holds each time: this is the exact rest. */
	sh->unconsumed = len - take;
	sh_input(sh);
	return (int)take;
}

/* Pull what the data callback left in libssh, once rx has room. */
static void
sh_pull(struct shuttle *sh)
{
	size_t room;
	int r;

	while (sh->unconsumed > 0 && sh->state < SH_ENDING) {
		if (sh->rx_off > 0) {
			memmove(sh->rx, sh->rx + sh->rx_off, sh->rx_len);
			sh->rx_off = 0;
		}
		room = SH_RX_CAP - sh->rx_len;
		if (room == 0)
			return;
		r = ssh_channel_read_nonblocking(sh->c->ch,
		    sh->rx + sh->rx_len,
		    (uint32_t)min_size(room, sh->unconsumed), 0);
		if (r <= 0) {
			sh->unconsumed = 0;
			if (r < 0)
				sh->c->dead = 1;
			return;
		}
		sh->unconsumed -= min_size((size_t)r, sh->unconsumed);
		sh->rx_len += (size_t)r;
		sh_input(sh);
		if (sh->rx_len > 0 && (sh->nover_cap > 0 ||
		    sh->out_len > SH_OUT_SOFT))
			return;
	}
}

/*
 * Write buf[*off..*off+*len) as far as the client's window allows (see
 * above); 0, or -1 when the channel is gone.
 */
static int
write_some(struct shuttle *sh, int is_stderr, const void *buf, size_t *off,
    size_t *len)
{
	uint32_t win;
	int n;

	while (*len > 0) {
		if ((win = ssh_channel_window_size(sh->c->ch)) == 0)
			return 0;
		n = is_stderr ? ssh_channel_write_stderr(sh->c->ch,
		    (const uint8_t *)buf + *off, (uint32_t)min_size(*len,
		    win)) : ssh_channel_write(sh->c->ch,
		    (const uint8_t *)buf + *off, (uint32_t)min_size(*len, win));
		if (n == SSH_ERROR)
			return -1;
		if (n == 0)
			return 0;	/* key re-exchange: later */
		*off += (size_t)n;
		*len -= (size_t)n;
	}
	*off = 0;
	return 0;
}

static void
sh_flush(struct shuttle *sh)
{
	if (write_some(sh, 1, sh->err, &sh->err_off, &sh->err_len) != 0 ||
	    write_some(sh, 0, sh->out, &sh->out_off, &sh->out_len) != 0) {
		sh->state = SH_DONE;
		sh->c->dead = 1;
	}
}

/* Whether destinations may be read now (PROTOCOL.sshuttle 3.9). */
int
sh_can_read(struct shuttle *sh)
{
	if (sh->state != SH_MUX || sh->too_full)
		return 0;
	if (sh->out_len > SH_OUT_SOFT)
		return 0;
	return ssh_channel_window_size(sh->c->ch) > 0;
}

static void
sh_latency(struct shuttle *sh)
{
	if (sh->state != SH_MUX)
		return;
	if (!sh->too_full && sh->fullness > SH_LATENCY_MIN) {
		if (sh_put(sh, 0, SHUTTLE_CMD_PING, rttest,
		    sizeof(rttest) - 1) == 0)
			sh->too_full = 1;
	}
	if (sh->pong_held && sh->nover_low == 0) {
		sh->pong_held = 0;
		(void)sh_put(sh, sh->held_chan, SHUTTLE_CMD_PONG, sh->held,
		    sh->held_len);
	}
}

static void
sh_finish(struct shuttle *sh)
{
	struct chan *c = sh->c;

	if ((sh->out_len > 0 || sh->err_len > 0) && !c->ch_closed &&
	    sess_now() < sh->end_deadline)
		return;
	if (!c->ch_closed && ssh_channel_is_open(c->ch)) {
		ssh_channel_request_send_exit_status(c->ch, sh->exit_status);
		ssh_channel_send_eof(c->ch);
	}
	sh->state = SH_DONE;
	c->dead = 1;
}

long long
shuttle_deadline(const struct shuttle *sh)
{
	if (sh->state == SH_BOOT)
		return (long long)sh->boot_deadline;
	if (sh->state == SH_ENDING)
		return (long long)sh->end_deadline;
	if (sh->deferred)
		return (long long)sess_now();
	return (long long)sess_now() + 3600;
}

void
shuttle_service(struct sess *s, struct chan *c)
{
	struct shuttle *sh = c->shuttle;

	if (sh->state == SH_DONE)
		return;
	if (c->ch_closed) {
		/* CLOSE from the client: nobody to flush to. */
		sh->out_len = sh->err_len = 0;
		sh_end(sh, 0);
	} else if (c->ch_eof && sh->state < SH_ENDING) {
		/* sshuttle exited: its stdin closed. */
		verbose("sshuttle session of %s: the client closed",
		    s->user);
		sh_end(sh, 0);
	} else if (sh->state == SH_BOOT && sess_now() >= sh->boot_deadline) {
		sh_fail(sh, "the bootstrap did not arrive within %d s",
		    SH_BOOT_SECS);
	}
	if (sh->state < SH_ENDING) {
		sh_pull(sh);
		sh_input(sh);
	}
	shc_service(sh);
	sh->fresh = 0;
	sh_latency(sh);
	if (!c->dead && sh->state < SH_DONE)
		sh_flush(sh);
	if (sh->state == SH_ENDING)
		sh_finish(sh);
	/* After the flush: a drained queue may re-enable reading. */
	shc_arm(sh);
}

int
shuttle_ipc_answer(struct sess *s, const struct ipc_msg *m, int fd)
{
	struct chan *c;

	if (m->type != IPC_CONNECT_ANS && m->type != IPC_DNS_ANS)
		return 0;
	for (c = s->chans; c != NULL; c = c->next) {
		if (c->shuttle != NULL && shc_answer(c->shuttle, m, fd))
			return 1;
	}
	return shc_orphan_answer(s, m, fd);
}

/* Ask the master (audit, DNS policy, routes), then switch the channel. */
static int
sh_master_start(struct shuttle *sh, const struct shuttle_exec *ex)
{
	struct ipc_msg m, ans;
	int fd = -1;

	memset(&m, 0, sizeof(m));
	m.type = IPC_SHUTTLE_START;
	m.u.shuttle_start.verbosity = ex->verbosity;
	m.u.shuttle_start.assembler_len = (uint32_t)ex->assembler_len;
	snprintf(m.u.shuttle_start.form, sizeof(m.u.shuttle_start.form),
	    "%s", shuttle_exec_form_name(ex->form));
	if (sess_ipc_call(sh->s, &m, IPC_SHUTTLE_ANS, &ans, &fd, 10000) != 0)
		return -1;
	sh->dns_allowed = ans.u.shuttle_ans.dns_allowed;
	snprintf(sh->routes, sizeof(sh->routes), "%s",
	    ans.u.shuttle_ans.routes);
	return 0;
}

int
shuttle_start(struct sess *s, struct chan *c, const char *command,
    size_t len, char *why, size_t whylen)
{
	struct shuttle_exec ex;
	struct shuttle *sh;
	int r;

	if ((r = shuttle_exec_parse(command, len, &ex)) != 0) {
		snprintf(why, whylen, "%s", r == SHUTTLE_EXEC_ERR_NOTSHUTTLE ||
		    r == SHUTTLE_EXEC_ERR_TOOLONG ? "" :
		    shuttle_exec_strerror(r));
		return -1;
	}
	if ((sh = calloc(1, sizeof(*sh))) == NULL ||
	    (sh->rx = malloc(SH_RX_CAP)) == NULL ||
	    (sh->byno = calloc(SH_CHANNELS, sizeof(*sh->byno))) == NULL ||
	    (sh->boot = shuttle_boot_new(ex.assembler_len)) == NULL) {
		snprintf(why, whylen, "out of memory");
		goto fail;
	}
	sh->s = s;
	sh->c = c;
	sh->state = SH_BOOT;
	sh->boot_deadline = sess_now() + SH_BOOT_SECS;
	if (sh_master_start(sh, &ex) != 0) {
		snprintf(why, whylen, "no answer from the gateway");
		goto fail;
	}
	verbose("sshuttle session for %s (%s form, -v x%u, assembler %zu "
	    "bytes, dns %s)", s->user, shuttle_exec_form_name(ex.form),
	    ex.verbosity, ex.assembler_len, sh->dns_allowed ? "allowed" :
	    "not allowed");
	c->shuttle = sh;
	/* The callback struct is libssh's by pointer: switch it in place. */
	c->cb.channel_data_function = shuttle_data_cb;
	return 0;
 fail:
	if (sh != NULL) {
		shuttle_boot_free(sh->boot);
		free(sh->byno);
		free(sh->rx);
		free(sh);
	}
	return -1;
}

void
shuttle_free(struct sess *s, struct chan *c)
{
	struct shuttle *sh = c->shuttle;

	(void)s;
	if (sh == NULL)
		return;
	shc_free_all(sh);
	shuttle_boot_free(sh->boot);
	free(sh->byno);
	free(sh->rx);
	free(sh->out);
	free(sh);
	c->shuttle = NULL;
}
