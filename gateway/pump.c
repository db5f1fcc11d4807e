/*
 * pump: moving bytes between a direct-tcpip channel and its destination
 * socket with bounded buffers and backpressure both ways
 * (libssh-server.md 2.4 and 2.5).
 *
 * channel -> destination: the data callback sends what the socket takes
 * and copies the rest into a bounded spill; whatever does not fit stays in
 * libssh's buffer ("unconsumed"), which stops the client at its window.
 * When the socket drains, the spill is flushed and the rest pulled out of
 * libssh.
 *
 * destination -> channel: read only when the client's window has room and
 * the previous read was written out; a short ssh_channel_write (a key
 * re-exchange) keeps the rest and stops reading until it is written.
 *
 * Callbacks only do I/O and set flags.  Adding and removing fds from the
 * event happens in pump_service(), after ssh_event_dopoll() returns.
 *
 * Window top-up: libssh 0.10.6 grants a client at most 1.28 MB of window
 * per channel, which caps uploads at about 25 MB/s over a 50 ms path.  The
 * only way to grant more is a read asking for more than is buffered plus
 * the current window (libssh-server.md 2.3): pump_service() does that
 * with TOPUP_WINDOW whenever the channel has consumed another TOPUP_EVERY
 * bytes and nothing is pending, and forwards whatever the read returns.
 * 8 MiB was measured to reach 0.9x plain TCP at 50 ms (4 MiB: 0.73x).
 * The price: a client may send up to that much ahead of a destination
 * that stops reading, per channel, so a session's worst case is
 * max-channels x 8 MiB (256 MiB with the default 32) -- bounded by the
 * policy's limits, and only for an authenticated user.
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "session_int.h"

#define TOPUP_WINDOW	(8u << 20)
#define TOPUP_EVERY	(256u << 10)

/* Where a top-up read lands; untouched pages cost no memory. */
static uint8_t topup_buf[TOPUP_WINDOW];

static size_t
min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* Send as much of buf as the socket takes.  Bytes sent, or -1. */
static ssize_t
send_some(int fd, const void *buf, size_t len)
{
	ssize_t n;

	do {
		n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	return n;
}

/* Queue bytes behind what the spill already holds; 0, or -1 (no memory). */
static int
spill_append(struct chan *c, const uint8_t *data, size_t len)
{
	size_t need = c->spill_len + len, cap;
	uint8_t *p;

	if (c->spill_off > 0 && c->spill_len > 0)
		memmove(c->spill, c->spill + c->spill_off, c->spill_len);
	c->spill_off = 0;
	if (need > c->spill_cap) {
		cap = need > PUMP_BUF ? need : PUMP_BUF;
		if ((p = realloc(c->spill, cap)) == NULL)
			return -1;
		c->spill = p;
		c->spill_cap = cap;
	}
	memcpy(c->spill + c->spill_len, data, len);
	c->spill_len += len;
	return 0;
}

int
pump_data_cb(ssh_session session, ssh_channel channel, void *data,
    uint32_t len, int is_stderr, void *userdata)
{
	struct chan *c = userdata;
	size_t room, take;
	ssize_t n = 0;

	(void)session;
	(void)channel;
	/* Session channels carry no data here; nor does stderr. */
	if (c->kind != CHAN_DIRECT || is_stderr || c->dead || c->shut_wr)
		return (int)len;
	c->sess->last_active = sess_now();
	if (c->spill_len == 0 && (n = send_some(c->fd, data, len)) < 0) {
		c->dead = 1;
		return (int)len;
	}
	c->up += (uint64_t)n;
	room = c->spill_len < PUMP_BUF ? PUMP_BUF - c->spill_len : 0;
	take = min_size(room, len - (size_t)n);
	if (take > 0 && spill_append(c, (uint8_t *)data + n, take) != 0) {
		c->dead = 1;
		return (int)len;
	}
	c->unconsumed = len - (size_t)n - take;
	return (int)((size_t)n + take);
}

void
pump_eof_cb(ssh_session session, ssh_channel channel, void *userdata)
{
	struct chan *c = userdata;

	(void)session;
	(void)channel;
	c->ch_eof = 1;
}

void
pump_close_cb(ssh_session session, ssh_channel channel, void *userdata)
{
	struct chan *c = userdata;

	(void)session;
	(void)channel;
	c->ch_eof = 1;
	c->ch_closed = 1;
}

/* Flush the spill, then pull what libssh still holds. */
static void
drain_to_fd(struct chan *c)
{
	ssize_t n;
	int r;

	for (;;) {
		if (c->spill_len > 0) {
			n = send_some(c->fd, c->spill + c->spill_off,
			    c->spill_len);
			if (n < 0) {
				c->dead = 1;
				return;
			}
			c->up += (uint64_t)n;
			c->spill_off += (size_t)n;
			c->spill_len -= (size_t)n;
			if (c->spill_len > 0)
				return;		/* socket full */
			c->spill_off = 0;
		}
		if (c->unconsumed == 0)
			return;
		/* unconsumed > 0 means the spill was allocated. */
		r = ssh_channel_read_nonblocking(c->ch, c->spill,
		    (uint32_t)min_size(c->unconsumed, c->spill_cap), 0);
		if (r <= 0) {
			c->unconsumed = 0;
			if (r < 0)
				c->dead = 1;
			return;
		}
		c->unconsumed -= min_size((size_t)r, c->unconsumed);
		c->spill_len = (size_t)r;
	}
}

/* Write pending destination bytes into the channel. */
static void
flush_tx(struct chan *c)
{
	int n;

	while (c->tx_len > 0) {
		n = ssh_channel_write(c->ch, c->tx + c->tx_off,
		    (uint32_t)c->tx_len);
		if (n == SSH_ERROR) {
			c->dead = 1;
			return;
		}
		if (n == 0)
			return;	/* rekey or no window: retry later */
		c->down += (uint64_t)n;
		c->tx_off += (size_t)n;
		c->tx_len -= (size_t)n;
	}
	c->tx_off = 0;
}

static void
read_from_fd(struct chan *c)
{
	uint32_t win = ssh_channel_window_size(c->ch);
	ssize_t n;

	if (c->tx_len > 0 || win == 0 || c->fd_eof)
		return;
	if (c->tx == NULL && (c->tx = malloc(PUMP_BUF)) == NULL) {
		c->dead = 1;
		return;
	}
	do {
		n = recv(c->fd, c->tx, min_size(win, PUMP_BUF), MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		c->fd_eof = 1;	/* EOF or error: the destination is done */
		return;
	}
	c->sess->last_active = sess_now();
	c->tx_off = 0;
	c->tx_len = (size_t)n;
	flush_tx(c);
}

static int
fd_cb(socket_t fd, int revents, void *userdata)
{
	struct chan *c = userdata;

	(void)fd;
	if (c->dead)
		return 0;
	if (revents & POLLOUT)
		drain_to_fd(c);
	if (revents & (POLLIN | POLLHUP | POLLERR))
		read_from_fd(c);
	return 0;
}

int
pump_start(struct sess *s, struct chan *c, int fd)
{
	c->fd = fd;
	memset(&c->cb, 0, sizeof(c->cb));
	c->cb.userdata = c;
	c->cb.channel_data_function = pump_data_cb;
	c->cb.channel_eof_function = pump_eof_cb;
	c->cb.channel_close_function = pump_close_cb;
	ssh_callbacks_init(&c->cb);
	if (ssh_set_channel_callbacks(c->ch, &c->cb) != SSH_OK)
		return -1;
	(void)s;
	return 0;
}

/* Grant the client a larger window than libssh would (see above). */
static void
topup_window(struct chan *c)
{
	int r;

	if (c->spill_len > 0 || c->unconsumed > 0 || c->ch_eof || c->dead ||
	    c->up - c->topup_mark < TOPUP_EVERY)
		return;
	c->topup_mark = c->up;
	r = ssh_channel_read_timeout(c->ch, topup_buf, TOPUP_WINDOW, 0, 0);
	if (r < 0) {
		c->dead = 1;
		return;
	}
	/* Bytes the callback did not take: they go out after the spill. */
	if (r > 0) {
		c->unconsumed -= min_size((size_t)r, c->unconsumed);
		if (spill_append(c, topup_buf, (size_t)r) != 0)
			c->dead = 1;
	}
}

static void
service_shell(struct chan *c)
{
	const char *text = c->sess->shell_text;
	size_t len = strlen(text);
	int n;

	if (c->shell_off < len) {
		n = ssh_channel_write(c->ch, text + c->shell_off,
		    (uint32_t)(len - c->shell_off));
		if (n == SSH_ERROR) {
			c->dead = 1;
			return;
		}
		c->shell_off += (size_t)n;
		if (c->shell_off < len)
			return;
	}
	ssh_channel_request_send_exit_status(c->ch, 1);
	ssh_channel_send_eof(c->ch);
	c->dead = 1;
}

/* Which events the destination socket needs now. */
static short
wanted_events(struct chan *c)
{
	short ev = 0;

	if (c->spill_len > 0)
		ev |= POLLOUT;
	if (!c->fd_eof && c->tx_len == 0 &&
	    ssh_channel_window_size(c->ch) > 0)
		ev |= POLLIN;
	return ev;
}

static void
rearm(struct sess *s, struct chan *c)
{
	short ev = wanted_events(c);

	if (ev == c->armed)
		return;
	if (c->armed)
		ssh_event_remove_fd(s->ev, c->fd);
	c->armed = 0;
	if (ev != 0 && ssh_event_add_fd(s->ev, c->fd, ev, fd_cb, c) ==
	    SSH_OK)
		c->armed = ev;
}

void
pump_service(struct sess *s, struct chan *c)
{
	if (c->kind == CHAN_SESSION) {
		if (c->shell)
			service_shell(c);
		else if (c->ch_eof)
			c->dead = 1;
		return;
	}
	drain_to_fd(c);
	topup_window(c);
	if (c->ch_eof && c->spill_len == 0 && c->unconsumed == 0 &&
	    !c->shut_wr) {
		shutdown(c->fd, SHUT_WR);
		c->shut_wr = 1;
	}
	flush_tx(c);
	if (c->fd_eof && c->tx_len == 0 && !c->eof_sent) {
		ssh_channel_send_eof(c->ch);
		c->eof_sent = 1;
	}
	if (c->dead || c->ch_closed || (c->shut_wr && c->eof_sent)) {
		if (!(c->ch_closed && (c->spill_len > 0 || c->unconsumed > 0)))
			c->dead = 1;
	}
	if (!c->dead)
		rearm(s, c);
}
