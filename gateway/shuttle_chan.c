/*
 * shuttle_chan: the sub-channels of an sshuttle session.
 *
 * A TCP_CONNECT becomes an IPC_CONNECT (via sshuttle) to the master,
 * which decides by policy and connects, exactly as for direct-tcpip; the
 * answer arrives whenever it does (shc_answer), and the client's early
 * TCP_DATA waits in the channel's bounded up buffer meanwhile.  There is
 * no "refused" message in sshuttle's protocol: a refusal or a failed
 * connect is TCP_EOF + TCP_STOP_SENDING, which the client's application
 * sees as an accepted connection closed at once (curl: exit 52).
 *
 * Each channel keeps the two flags of docs/PROTOCOL.sshuttle 3.5:
 * rd (the client sends no more: it sent TCP_EOF, or we sent
 * TCP_STOP_SENDING) and wr (we send no more: we sent TCP_EOF, or it sent
 * TCP_STOP_SENDING).  With both set the number is free for the client to
 * reuse, so it leaves the number table at once; the structure itself
 * lives on until the master has answered and the destination has been
 * given every byte, and is freed outside ssh_event_dopoll().
 *
 * Sub-channel ids come from the session's id counter, so the master never
 * sees one twice, and they count against the user's max-channels like
 * direct-tcpip channels (the master enforces it too).
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "shuttle_int.h"

/* Channels that outlived their session, awaiting the master's answer. */
static struct shchan *orphans;

/* Set *flag to now, keeping *count (channels with the flag) in step. */
static void
mark(int now, int *flag, size_t *count)
{
	if (now == *flag)
		return;
	if (now)
		(*count)++;
	else if (*count > 0)
		(*count)--;
	*flag = now;
}

/* Keep the session's counts of channels over the marks in step. */
static void
up_account(struct shchan *sc)
{
	struct shuttle *sh = sc->sh;

	if (sc->kind != SHC_TCP || sh == NULL)
		return;
	mark(sc->up_len > SH_UP_LOW, &sc->over_low, &sh->nover_low);
	mark(sc->up_len > SH_UP_CAP, &sc->over_cap, &sh->nover_cap);
}

/* Queue bytes for the destination; 0, or -1 (no memory). */
static int
up_append(struct shchan *sc, const uint8_t *p, size_t len)
{
	size_t need, cap;
	uint8_t *q;

	if (sc->up_off > 0) {
		memmove(sc->up, sc->up + sc->up_off, sc->up_len);
		sc->up_off = 0;
	}
	need = sc->up_len + len;
	if (need > sc->up_cap) {
		/* Over the cap by at most one frame: parsing stops there. */
		cap = sc->up_cap == 0 ? 16384 : sc->up_cap;
		while (cap < need)
			cap *= 2;
		if ((q = realloc(sc->up, cap)) == NULL)
			return -1;
		sc->up = q;
		sc->up_cap = cap;
	}
	memcpy(sc->up + sc->up_len, p, len);
	sc->up_len += len;
	up_account(sc);
	return 0;
}

static void
up_drop(struct shchan *sc)
{
	sc->up_off = sc->up_len = 0;
	up_account(sc);
}

static void
shc_detach(struct shchan *sc)
{
	if (sc->attached && sc->sh != NULL) {
		sc->sh->byno[sc->no] = NULL;
		sc->attached = 0;
	}
}

static void
shc_check_closed(struct shchan *sc)
{
	if (sc->rd && sc->wr)
		shc_detach(sc);
}

/* We send no more: TCP_EOF (sets wr). */
static void
send_eof(struct shchan *sc)
{
	if (sc->wr)
		return;
	sc->wr = 1;
	if (sc->attached)
		(void)sh_put(sc->sh, sc->no, SHUTTLE_CMD_TCP_EOF, NULL, 0);
	shc_check_closed(sc);
}

/* We can deliver no more: TCP_STOP_SENDING (sets rd), drop the queue. */
static void
send_stop(struct shchan *sc)
{
	up_drop(sc);
	if (sc->rd)
		return;
	sc->rd = 1;
	if (sc->attached)
		(void)sh_put(sc->sh, sc->no, SHUTTLE_CMD_TCP_STOP_SENDING,
		    NULL, 0);
	shc_check_closed(sc);
}

static struct shchan *
shc_new(struct shuttle *sh, enum shc_kind kind, uint16_t no)
{
	struct shchan *sc;

	if ((sc = calloc(1, sizeof(*sc))) == NULL)
		return NULL;
	sc->sh = sh;
	sc->kind = kind;
	sc->no = no;
	sc->id = sh->s->next_id++;
	sc->fd = -1;
	clock_gettime(CLOCK_MONOTONIC, &sc->t0);
	sc->next = sh->subs;
	sh->subs = sc;
	sh->byno[no] = sc;
	sc->attached = 1;
	return sc;
}

/* The master writes the close record; the slot is free again. */
static void
shc_report(struct sess *s, struct shchan *sc)
{
	chan_report_close(s, sc->id, sc->bytes_up, sc->bytes_down, &sc->t0);
	if (s->nsub > 0)
		s->nsub--;
}

/* Close and forget one channel; outside ssh_event_dopoll only. */
static void
shc_destroy(struct sess *s, struct shchan *sc)
{
	if (sc->fd >= 0) {
		if (sc->armed)
			ssh_event_remove_fd(s->ev, sc->fd);
		close(sc->fd);
	}
	if (sc->opened)
		shc_report(s, sc);
	free(sc->up);
	free(sc);
}

static void
shc_unlink(struct shuttle *sh, struct shchan *sc)
{
	struct shchan **pp;

	for (pp = &sh->subs; *pp != NULL && *pp != sc; pp = &(*pp)->next)
		;
	if (*pp != NULL)
		*pp = sc->next;
	if (sh->rr == sc)
		sh->rr = sc->next;
	shc_detach(sc);
	sc->up_len = 0;
	up_account(sc);
	if (sc->kind == SHC_DNS && sc->pending && sh->ndns > 0)
		sh->ndns--;
}

static void
refuse_local(struct shchan *sc, const char *why)
{
	struct shuttle *sh = sc->sh;

	sh_note(sh, "TCP %s refused: %s", sc->dst, why);
	send_eof(sc);
	send_stop(sc);
}

int
shc_tcp_connect(struct shuttle *sh, uint16_t no, const uint8_t *p,
    size_t len)
{
	struct sess *s = sh->s;
	char ip[IPC_ADDR_MAX + 1];
	struct shchan *sc;
	struct ipc_msg m;
	struct addr dst;
	unsigned int port;
	int r;

	if (no == 0) {
		sh_fail(sh, "TCP_CONNECT on the control channel");
		return -1;
	}
	if (sh->byno[no] != NULL) {
		sh_fail(sh, "channel %u reused while open", no);
		return -1;
	}
	if ((r = shuttle_parse_tcp_connect(p, len, &dst, &port)) != 0) {
		sh_fail(sh, "bad TCP_CONNECT on channel %u: %s", no,
		    shuttle_frame_strerror(r));
		return -1;
	}
	if ((sc = shc_new(sh, SHC_TCP, no)) == NULL) {
		sh_fail(sh, "out of memory");
		return -1;
	}
	addr_ntop(&dst, ip, sizeof(ip));
	snprintf(sc->dst, sizeof(sc->dst), dst.af == AF_INET6 ? "[%s]:%u" :
	    "%s:%u", ip, port);
	if (s->nchans + s->nsub >= s->max_channels) {
		char why[IPC_REASON_MAX + 1];

		snprintf(why, sizeof(why), "too many channels (limit %u): "
		    "TCP %s", s->max_channels, sc->dst);
		memset(&m, 0, sizeof(m));
		m.type = IPC_REFUSED;
		snprintf(m.u.refused.what, sizeof(m.u.refused.what),
		    "channel");
		snprintf(m.u.refused.detail, sizeof(m.u.refused.detail), "%s",
		    why);
		sess_ipc_send(s, &m);
		refuse_local(sc, "too many channels");
		return 0;
	}
	memset(&m, 0, sizeof(m));
	m.type = IPC_CONNECT;
	m.u.connect.chan = sc->id;
	snprintf(m.u.connect.host, sizeof(m.u.connect.host), "%s", ip);
	m.u.connect.port = port;
	m.u.connect.via = IPC_VIA_SSHUTTLE;
	sess_ipc_send(s, &m);
	sc->pending = 1;
	s->nsub++;
	s->last_active = sess_now();
	return 0;
}

/* Send what the socket takes now; -1 on a write error (then stopped). */
static int
to_dest(struct shchan *sc, const uint8_t *p, size_t len, size_t *sent)
{
	ssize_t n;

	*sent = 0;
	do {
		n = send(sc->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		sc->wblocked = 1;
		return 0;
	}
	if (n < 0) {
		/* EPIPE, reset: the destination takes nothing more. */
		send_stop(sc);
		return -1;
	}
	*sent = (size_t)n;
	sc->bytes_up += (uint64_t)n;
	sc->wblocked = (size_t)n < len;
	return 0;
}

void
shc_tcp_data(struct shuttle *sh, uint16_t no, const uint8_t *p, size_t len)
{
	struct shchan *sc = sh->byno[no];
	size_t sent = 0;

	/* Late data for a closed or refused channel: dropped (3.4). */
	if (sc == NULL || len == 0)
		return;
	if (sc->kind != SHC_TCP) {
		sh_fail(sh, "TCP_DATA on DNS channel %u", no);
		return;
	}
	if (sc->rd)
		return;
	/*
	 * A new connection's request goes out at once; a bulk upload is
	 * sent in batches (shc_service), not one system call per 2 KiB
	 * frame of sshuttle's client.
	 */
	if (sc->fd >= 0 && sc->up_len == 0 && sc->bytes_up < SH_BULK &&
	    to_dest(sc, p, len, &sent) != 0)
		return;
	if (sent < len && up_append(sc, p + sent, len - sent) != 0)
		sh_fail(sh, "out of memory");
}

void
shc_tcp_eof(struct shuttle *sh, uint16_t no)
{
	struct shchan *sc = sh->byno[no];

	if (sc == NULL || sc->kind != SHC_TCP || sc->rd)
		return;
	sc->rd = 1;
	sc->client_eof = 1;	/* shutdown(SHUT_WR) once drained */
	shc_check_closed(sc);
}

void
shc_tcp_stop(struct shuttle *sh, uint16_t no)
{
	struct shchan *sc = sh->byno[no];

	if (sc == NULL || sc->kind != SHC_TCP || sc->wr)
		return;
	sc->wr = 1;		/* stop reading the destination */
	shc_check_closed(sc);
}

/* Our own REFUSED for a query we do not relay: same id and question. */
int
shc_refusal(const uint8_t *q, size_t qlen, uint8_t *out, size_t outlen,
    size_t *written)
{
	size_t off = 12, qd = 0;
	unsigned int lab;

	if (qlen < 12 || outlen < 12)
		return -1;
	/* One question, uncompressed labels: copy it; else none. */
	if (q[4] == 0 && q[5] == 1) {
		while (off < qlen && (lab = q[off]) != 0 && lab <= 63)
			off += 1 + lab;
		if (off < qlen && q[off] == 0 && off + 5 <= qlen &&
		    off + 5 - 12 <= 255 + 4 && off + 5 <= outlen)
			qd = 1;
	}
	memcpy(out, q, 12);
	out[2] = (uint8_t)(0x80 | (q[2] & 0x79));	/* QR, opcode, RD */
	out[3] = (uint8_t)(0x80 | 5);			/* RA, REFUSED */
	memset(out + 4, 0, 8);
	*written = 12;
	if (qd) {
		out[5] = 1;
		memcpy(out + 12, q + 12, off + 5 - 12);
		*written = off + 5;
	}
	return 0;
}

static void
dns_refuse(struct shuttle *sh, uint16_t no, const uint8_t *q, size_t qlen)
{
	uint8_t a[IPC_DNS_MAX];
	size_t n;

	if (shc_refusal(q, qlen, a, sizeof(a), &n) == 0)
		(void)sh_put(sh, no, SHUTTLE_CMD_DNS_RESPONSE, a, n);
}

int
shc_dns_req(struct shuttle *sh, uint16_t no, const uint8_t *p, size_t len)
{
	struct shchan *sc = sh->byno[no];
	struct ipc_msg m;

	if (no == 0 || len == 0 || len > IPC_DNS_MAX) {
		sh_fail(sh, "bad DNS_REQ (channel %u, %zu bytes)", no, len);
		return -1;
	}
	if (sc != NULL) {
		if (sc->kind != SHC_DNS) {
			sh_fail(sh, "channel %u reused while open", no);
			return -1;
		}
		/* The client gave up on it (30 s) and took the number. */
		sc->rd = sc->wr = 1;
		shc_detach(sc);
	}
	if (sh->ndns >= SH_DNS_PENDING) {
		dns_refuse(sh, no, p, len);
		return 0;
	}
	if ((sc = shc_new(sh, SHC_DNS, no)) == NULL ||
	    up_append(sc, p, len) != 0) {
		sh_fail(sh, "out of memory");
		return -1;
	}
	memset(&m, 0, sizeof(m));
	m.type = IPC_DNS_REQ;
	m.u.dns_req.chan = sc->id;
	memcpy(m.u.dns_req.query, p, len);
	m.u.dns_req.querylen = len;
	sess_ipc_send(sh->s, &m);
	sc->pending = 1;
	sh->ndns++;
	return 0;
}

static void
dns_answer(struct shchan *sc, const struct ipc_dns_ans *a)
{
	struct shuttle *sh = sc->sh;

	sc->pending = 0;
	if (sh->ndns > 0)
		sh->ndns--;
	if (sc->attached) {
		if (a->ok && a->answerlen > 0)
			(void)sh_put(sh, sc->no, SHUTTLE_CMD_DNS_RESPONSE,
			    a->answer, a->answerlen);
		else if (!a->ok) {
			sh_note(sh, "DNS refused: %s", a->reason);
			dns_refuse(sh, sc->no, sc->up, sc->up_len);
		}
	}
	/* Answered: the client forgets the channel, so do we. */
	sc->rd = sc->wr = 1;
	shc_detach(sc);
	sc->up_len = 0;
}

static void
connect_answer(struct shchan *sc, const struct ipc_connect_ans *a, int fd)
{
	struct shuttle *sh = sc->sh;

	sc->pending = 0;
	if (a->ok && fd >= 0) {
		sc->fd = fd;
		sc->opened = 1;
		/* Early data, in order, before anything newer. */
		return;
	}
	if (fd >= 0)
		close(fd);
	if (sh->s->nsub > 0)
		sh->s->nsub--;
	if (sc->attached)
		sh_note(sh, "TCP %s: %s", sc->dst, a->reason);
	send_eof(sc);
	send_stop(sc);
}

static struct shchan *
find_pending(struct shchan *list, uint32_t id, enum shc_kind kind)
{
	struct shchan *sc;

	for (sc = list; sc != NULL; sc = sc->next) {
		if (sc->pending && sc->id == id && sc->kind == kind)
			return sc;
	}
	return NULL;
}

int
shc_answer(struct shuttle *sh, const struct ipc_msg *m, int fd)
{
	struct shchan *sc;

	if (m->type == IPC_CONNECT_ANS) {
		sc = find_pending(sh->subs, m->u.connect_ans.chan, SHC_TCP);
		if (sc == NULL)
			return 0;
		connect_answer(sc, &m->u.connect_ans, fd);
		return 1;
	}
	if (m->type == IPC_DNS_ANS) {
		sc = find_pending(sh->subs, m->u.dns_ans.chan, SHC_DNS);
		if (sc == NULL)
			return 0;
		dns_answer(sc, &m->u.dns_ans);
		return 1;
	}
	return 0;
}

/* An answer for a channel whose session has gone: settle it quietly. */
int
shc_orphan_answer(struct sess *s, const struct ipc_msg *m, int fd)
{
	struct shchan *sc, **pp;
	uint32_t id;

	if (m->type != IPC_CONNECT_ANS && m->type != IPC_DNS_ANS)
		return 0;
	id = m->type == IPC_CONNECT_ANS ? m->u.connect_ans.chan :
	    m->u.dns_ans.chan;
	for (pp = &orphans; (sc = *pp) != NULL; pp = &sc->next) {
		if (sc->id == id && (sc->kind == SHC_TCP) ==
		    (m->type == IPC_CONNECT_ANS))
			break;
	}
	if (sc == NULL)
		return 0;
	*pp = sc->next;
	if (m->type == IPC_CONNECT_ANS) {
		if (m->u.connect_ans.ok && fd >= 0) {
			/* The master holds it open until told otherwise. */
			close(fd);
			sc->opened = 1;
			shc_report(s, sc);
		} else {
			if (fd >= 0)
				close(fd);
			if (s->nsub > 0)
				s->nsub--;
		}
	}
	free(sc->up);
	free(sc);
	return 1;
}

/* Give the destination what is queued; shut it when the client is done. */
static void
drain_up(struct shchan *sc)
{
	size_t sent;

	if (sc->fd < 0)
		return;
	if (sc->up_len > 0) {
		if (to_dest(sc, sc->up + sc->up_off, sc->up_len, &sent) != 0)
			return;
		sc->up_off += sent;
		sc->up_len -= sent;
		if (sc->up_len == 0)
			sc->up_off = 0;
		up_account(sc);
	}
	if (sc->client_eof && sc->up_len == 0 && !sc->shut_wr) {
		shutdown(sc->fd, SHUT_WR);
		sc->shut_wr = 1;
	}
}

/* One read from the destination, straight into a frame in out. */
static void
read_dest(struct shchan *sc)
{
	struct shuttle *sh = sc->sh;
	uint8_t *p, peek;
	ssize_t n;

	sc->readable = 0;
	if (sh_out_room(sh, SHUTTLE_HDR_LEN + SH_READ_MAX) != 0)
		return;
	p = sh->out + sh->out_off + sh->out_len;
	do {
		n = recv(sc->fd, p + SHUTTLE_HDR_LEN, SH_READ_MAX,
		    MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		sc->fd_eof = 1;
		if (n < 0) {
			/* A reset reaches the application as a FIN. */
			send_eof(sc);
			send_stop(sc);
		} else
			send_eof(sc);
		return;
	}
	(void)shuttle_frame_put_hdr(p, SHUTTLE_HDR_LEN, sc->no,
	    SHUTTLE_CMD_TCP_DATA, (size_t)n);
	sh->out_len += SHUTTLE_HDR_LEN + (size_t)n;
	sh->fullness += SHUTTLE_HDR_LEN + (size_t)n;
	sc->bytes_down += (uint64_t)n;
	sh->s->last_active = sess_now();
	/*
	 * A short read may be a reply followed by the destination's FIN
	 * (HTTP/1.0): its TCP_EOF then leaves in the same SSH packet as
	 * the data, which saves the client a wake-up per connection.
	 */
	if ((size_t)n < SH_READ_MAX && recv(sc->fd, &peek, 1,
	    MSG_PEEK | MSG_DONTWAIT) == 0) {
		sc->fd_eof = 1;
		send_eof(sc);
	}
}

static int
readable_now(struct shchan *sc)
{
	return sc->readable && sc->fd >= 0 && !sc->fd_eof && !sc->wr &&
	    sc->attached;
}

/* One read per ready destination, starting where the last pass ended. */
static void
read_round(struct shuttle *sh)
{
	struct shchan *sc, *start = sh->rr != NULL ? sh->rr : sh->subs;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		for (sc = pass == 0 ? start : sh->subs;
		    sc != NULL && (pass == 0 || sc != start); sc = sc->next) {
			if (!sh_can_read(sh)) {
				sh->rr = sc;
				return;
			}
			if (readable_now(sc))
				read_dest(sc);
		}
	}
	sh->rr = NULL;
}

static int
finished(const struct shchan *sc)
{
	return sc->rd && sc->wr && !sc->pending &&
	    (sc->up_len == 0 || sc->fd < 0);
}

/*
 * Whether queued bytes go to the destination in this turn of the loop.
 * While the client keeps sending (data arrived in this turn) a channel's
 * bytes wait for SH_SEND_BATCH of them, but at most SH_DEFER_TURNS turns;
 * a turn without new data flushes everything (shuttle_deadline() makes
 * that turn come at once).
 */
static int
flush_now(struct shuttle *sh, struct shchan *sc)
{
	if (!sh->fresh || sc->client_eof || sc->up_len >= SH_SEND_BATCH ||
	    ++sc->defers >= SH_DEFER_TURNS) {
		sc->defers = 0;
		return 1;
	}
	return 0;
}

void
shc_service(struct shuttle *sh)
{
	struct shchan *sc, *next;

	sh->deferred = 0;
	for (sc = sh->subs; sc != NULL; sc = next) {
		next = sc->next;
		if (sc->up_len > 0 && sc->fd >= 0 && !flush_now(sh, sc))
			sh->deferred = 1;
		else if (sc->up_len > 0 || (sc->client_eof && !sc->shut_wr))
			drain_up(sc);
		if (finished(sc)) {
			shc_unlink(sh, sc);
			shc_destroy(sh->s, sc);
		}
	}
	if (sh_can_read(sh))
		read_round(sh);
}

static int
fd_cb(socket_t fd, int revents, void *userdata)
{
	struct shchan *sc = userdata;

	(void)fd;
	if (revents & POLLOUT)
		drain_up(sc);
	if (revents & (POLLIN | POLLHUP | POLLERR))
		sc->readable = 1;
	return 0;
}

void
shc_arm(struct shuttle *sh)
{
	int can_read = sh_can_read(sh);
	struct shchan *sc;
	short ev;

	for (sc = sh->subs; sc != NULL; sc = sc->next) {
		if (sc->fd < 0)
			continue;
		ev = 0;
		if (sc->up_len > 0 && sc->wblocked)
			ev |= POLLOUT;
		if (can_read && !sc->fd_eof && !sc->wr)
			ev |= POLLIN;
		if (ev == sc->armed)
			continue;
		if (sc->armed)
			ssh_event_remove_fd(sh->s->ev, sc->fd);
		sc->armed = 0;
		if (ev != 0 && ssh_event_add_fd(sh->s->ev, sc->fd, ev, fd_cb,
		    sc) == SSH_OK)
			sc->armed = ev;
	}
}

/* The session ends: every channel is done (freed by the next service). */
void
shc_abort_all(struct shuttle *sh)
{
	struct shchan *sc;

	for (sc = sh->subs; sc != NULL; sc = sc->next) {
		sc->rd = sc->wr = 1;
		shc_detach(sc);
		up_drop(sc);
	}
}

void
shc_free_all(struct shuttle *sh)
{
	struct shchan *sc;

	while ((sc = sh->subs) != NULL) {
		shc_unlink(sh, sc);
		if (sc->pending) {
			/* Its answer is still coming: settle it then. */
			sc->sh = NULL;
			sc->next = orphans;
			orphans = sc;
			continue;
		}
		shc_destroy(sh->s, sc);
	}
}
