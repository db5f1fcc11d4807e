/*
 * ipc: encoding, decoding, phase checks and transport of the messages
 * between a session child and the master (wire format: docs/PROTOCOL.ipc).
 *
 * Bytes are read through a bounded cursor and written through a bounded
 * sink; each message type has one small decoder and one small encoder
 * that walk the fields in declaration order.  The encoder checks exactly
 * what the decoder checks, so whatever one side can send the other side
 * accepts, and the encoding of a message is unique.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"

/* Enough room to see (and close) a few fds more than the one allowed. */
#define IPC_FDS_MAX	8

/* The largest messages must fit in one datagram. */
_Static_assert(4 + 4 + 4 + IPC_REASON_MAX + 3 * 4 + 4 + IPC_TEXT_MAX <=
    IPC_MSG_MAX, "IPC_AUTH_ANS does not fit in IPC_MSG_MAX");
_Static_assert(4 + 4 + IPC_USER_MAX + 4 + 4 + IPC_KEY_MAX <= IPC_MSG_MAX,
    "IPC_AUTH_PUBKEY does not fit in IPC_MSG_MAX");
_Static_assert(4 + 4 + 4 + 4 + IPC_DNS_MAX + 4 + IPC_REASON_MAX <=
    IPC_MSG_MAX, "IPC_DNS_ANS does not fit in IPC_MSG_MAX");
_Static_assert(4 + 4 + 4 + IPC_DNS_MAX <= IPC_MSG_MAX,
    "IPC_DNS_REQ does not fit in IPC_MSG_MAX");
_Static_assert(4 + 4 + 4 + IPC_TEXT_MAX <= IPC_MSG_MAX,
    "IPC_SHUTTLE_ANS does not fit in IPC_MSG_MAX");

struct cursor {
	const uint8_t	*p;
	size_t		 left;
};

struct sink {
	uint8_t		*p;
	size_t		 len;
	size_t		 off;
};

static int
get_u32(struct cursor *c, uint32_t *v)
{
	if (c->left < 4)
		return -1;
	*v = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 |
	    (uint32_t)c->p[2] << 8 | (uint32_t)c->p[3];
	c->p += 4;
	c->left -= 4;
	return 0;
}

static int
get_u64(struct cursor *c, uint64_t *v)
{
	uint32_t hi, lo;

	if (get_u32(c, &hi) != 0 || get_u32(c, &lo) != 0)
		return -1;
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

/* A u32 that must lie in [min, max]. */
static int
get_range(struct cursor *c, uint32_t *v, uint32_t min, uint32_t max)
{
	if (get_u32(c, v) != 0 || *v < min || *v > max)
		return -1;
	return 0;
}

/* A blob of at most max bytes into dst; its length into *lenp. */
static int
get_blob(struct cursor *c, uint8_t *dst, size_t max, size_t *lenp)
{
	uint32_t n;

	if (get_u32(c, &n) != 0 || n > max || n > c->left)
		return -1;
	memcpy(dst, c->p, n);
	*lenp = n;
	c->p += n;
	c->left -= n;
	return 0;
}

/* A string without NUL into dst (dstsize - 1 bytes at most), terminated. */
static int
get_str(struct cursor *c, char *dst, size_t dstsize)
{
	size_t n;

	if (get_blob(c, (uint8_t *)dst, dstsize - 1, &n) != 0)
		return -1;
	if (memchr(dst, '\0', n) != NULL)
		return -1;
	dst[n] = '\0';
	return 0;
}

static int
put_bytes(struct sink *s, const void *p, size_t n)
{
	if (n > s->len - s->off)
		return -1;
	if (n > 0)
		memcpy(s->p + s->off, p, n);
	s->off += n;
	return 0;
}

static int
put_u32(struct sink *s, uint32_t v)
{
	uint8_t b[4];

	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
	return put_bytes(s, b, sizeof(b));
}

static int
put_u64(struct sink *s, uint64_t v)
{
	if (put_u32(s, (uint32_t)(v >> 32)) != 0 ||
	    put_u32(s, (uint32_t)v) != 0)
		return -1;
	return 0;
}

static int
put_range(struct sink *s, uint32_t v, uint32_t min, uint32_t max)
{
	if (v < min || v > max)
		return -1;
	return put_u32(s, v);
}

static int
put_blob(struct sink *s, const uint8_t *p, size_t n, size_t max)
{
	if (n > max || put_u32(s, (uint32_t)n) != 0)
		return -1;
	return put_bytes(s, p, n);
}

/* A string field of srcsize bytes; it must be terminated inside it. */
static int
put_str(struct sink *s, const char *src, size_t srcsize)
{
	size_t n;

	if ((n = strnlen(src, srcsize)) == srcsize)
		return -1;
	return put_blob(s, (const uint8_t *)src, n, srcsize - 1);
}

#define GET_STR(c, f)	get_str((c), (f), sizeof(f))
#define PUT_STR(s, f)	put_str((s), (f), sizeof(f))

static int
dec_log(struct cursor *c, struct ipc_msg *m)
{
	struct ipc_log *x = &m->u.log;

	if (get_range(c, &x->level, LOG_LVL_ERROR, LOG_LVL_DEBUG) != 0 ||
	    GET_STR(c, x->text) != 0)
		return -1;
	return 0;
}

static int
enc_log(struct sink *s, const struct ipc_msg *m)
{
	const struct ipc_log *x = &m->u.log;

	if (put_range(s, x->level, LOG_LVL_ERROR, LOG_LVL_DEBUG) != 0 ||
	    PUT_STR(s, x->text) != 0)
		return -1;
	return 0;
}

static int
dec_client_info(struct cursor *c, struct ipc_msg *m)
{
	return GET_STR(c, m->u.client_info.version);
}

static int
enc_client_info(struct sink *s, const struct ipc_msg *m)
{
	return PUT_STR(s, m->u.client_info.version);
}

static int
dec_auth_pubkey(struct cursor *c, struct ipc_msg *m)
{
	struct ipc_auth_pubkey *x = &m->u.auth_pubkey;

	if (GET_STR(c, x->user) != 0 ||
	    get_range(c, &x->probe, 0, 1) != 0 ||
	    get_blob(c, x->key, sizeof(x->key), &x->keylen) != 0)
		return -1;
	return 0;
}

static int
enc_auth_pubkey(struct sink *s, const struct ipc_msg *m)
{
	const struct ipc_auth_pubkey *x = &m->u.auth_pubkey;

	if (PUT_STR(s, x->user) != 0 ||
	    put_range(s, x->probe, 0, 1) != 0 ||
	    put_blob(s, x->key, x->keylen, sizeof(x->key)) != 0)
		return -1;
	return 0;
}

static int
dec_auth_totp(struct cursor *c, struct ipc_msg *m)
{
	struct ipc_auth_totp *x = &m->u.auth_totp;

	if (GET_STR(c, x->user) != 0 || GET_STR(c, x->code) != 0)
		return -1;
	return 0;
}

static int
enc_auth_totp(struct sink *s, const struct ipc_msg *m)
{
	const struct ipc_auth_totp *x = &m->u.auth_totp;

	if (PUT_STR(s, x->user) != 0 || PUT_STR(s, x->code) != 0)
		return -1;
	return 0;
}

static int
dec_auth_failed(struct cursor *c, struct ipc_msg *m)
{
	struct ipc_auth_failed *x = &m->u.auth_failed;

	if (GET_STR(c, x->user) != 0 || GET_STR(c, x->method) != 0 ||
	    GET_STR(c, x->reason) != 0)
		return -1;
	return 0;
}

static int
enc_auth_failed(struct sink *s, const struct ipc_msg *m)
{
	const struct ipc_auth_failed *x = &m->u.auth_failed;

	if (PUT_STR(s, x->user) != 0 || PUT_STR(s, x->method) != 0 ||
	    PUT_STR(s, x->reason) != 0)
		return -1;
	return 0;
}

static int
dec_connect(struct cursor *c, struct ipc_msg *m)
{
	struct ipc_connect *x = &m->u.connect;

	if (get_u32(c, &x->chan) != 0 ||
	    GET_STR(c, x->host) != 0 ||
	    get_range(c, &x->port, 1, 65535) != 0 ||
	    GET_STR(c, x->orig_host) != 0 ||
	    get_range(c, &x->orig_port, 0, 65535) != 0 ||
	    get_range(c, &x->via, IPC_VIA_DIRECT_TCPIP, IPC_VIA_SSHUTTLE) != 0)
		return -1;
	return 0;
}

static int
enc_connect(struct sink *s, const struct ipc_msg *m)
{
	const struct ipc_connect *x = &m->u.connect;

	if (put_u32(s, x->chan) != 0 ||
	    PUT_STR(s, x->host) != 0 ||
	    put_range(s, x->port, 1, 65535) != 0 ||
	    PUT_STR(s, x->orig_host) != 0 ||
	    put_range(s, x->orig_port, 0, 65535) != 0 ||
	    put_range(s, x->via, IPC_VIA_DIRECT_TCPIP, IPC_VIA_SSHUTTLE) != 0)
		return -1;
	return 0;
}

static int
dec_channel_close(struct cursor *c, struct ipc_msg *m)
{
	struct ipc_channel_close *x = &m->u.channel_close;

	if (get_u32(c, &x->chan) != 0 ||
	    get_u64(c, &x->bytes_up) != 0 ||
	    get_u64(c, &x->bytes_down) != 0 ||
	    get_u64(c, &x->duration_ms) != 0)
		return -1;
	return 0;
}

static int
enc_channel_close(struct sink *s, const struct ipc_msg *m)
{
	const struct ipc_channel_close *x = &m->u.channel_close;

	if (put_u32(s, x->chan) != 0 ||
	    put_u64(s, x->bytes_up) != 0 ||
	    put_u64(s, x->bytes_down) != 0 ||
	    put_u64(s, x->duration_ms) != 0)
		return -1;
	return 0;
}

static int
dec_refused(struct cursor *c, struct ipc_msg *m)
{
	struct ipc_refused *x = &m->u.refused;

	if (GET_STR(c, x->what) != 0 || GET_STR(c, x->detail) != 0)
		return -1;
	return 0;
}

static int
enc_refused(struct sink *s, const struct ipc_msg *m)
{
	const struct ipc_refused *x = &m->u.refused;

	if (PUT_STR(s, x->what) != 0 || PUT_STR(s, x->detail) != 0)
		return -1;
	return 0;
}

static int
dec_auth_ans(struct cursor *c, struct ipc_msg *m)
{
	struct ipc_auth_ans *x = &m->u.auth_ans;

	if (get_range(c, &x->result, IPC_AUTH_DENY, IPC_AUTH_PROBE_OK) != 0 ||
	    GET_STR(c, x->reason) != 0 ||
	    get_u32(c, &x->max_channels) != 0 ||
	    get_u32(c, &x->idle_timeout) != 0 ||
	    get_u32(c, &x->max_session_time) != 0 ||
	    GET_STR(c, x->shell_text) != 0)
		return -1;
	return 0;
}

static int
enc_auth_ans(struct sink *s, const struct ipc_msg *m)
{
	const struct ipc_auth_ans *x = &m->u.auth_ans;

	if (put_range(s, x->result, IPC_AUTH_DENY, IPC_AUTH_PROBE_OK) != 0 ||
	    PUT_STR(s, x->reason) != 0 ||
	    put_u32(s, x->max_channels) != 0 ||
	    put_u32(s, x->idle_timeout) != 0 ||
	    put_u32(s, x->max_session_time) != 0 ||
	    PUT_STR(s, x->shell_text) != 0)
		return -1;
	return 0;
}

static int
dec_connect_ans(struct cursor *c, struct ipc_msg *m)
{
	struct ipc_connect_ans *x = &m->u.connect_ans;

	if (get_u32(c, &x->chan) != 0 ||
	    get_range(c, &x->ok, 0, 1) != 0 ||
	    GET_STR(c, x->reason) != 0 ||
	    GET_STR(c, x->addr) != 0 ||
	    get_range(c, &x->port, 0, 65535) != 0)
		return -1;
	return 0;
}

static int
enc_connect_ans(struct sink *s, const struct ipc_msg *m)
{
	const struct ipc_connect_ans *x = &m->u.connect_ans;

	if (put_u32(s, x->chan) != 0 ||
	    put_range(s, x->ok, 0, 1) != 0 ||
	    PUT_STR(s, x->reason) != 0 ||
	    PUT_STR(s, x->addr) != 0 ||
	    put_range(s, x->port, 0, 65535) != 0)
		return -1;
	return 0;
}

static int
dec_shuttle_start(struct cursor *c, struct ipc_msg *m)
{
	struct ipc_shuttle_start *x = &m->u.shuttle_start;

	if (get_u32(c, &x->verbosity) != 0 ||
	    get_u32(c, &x->assembler_len) != 0 ||
	    GET_STR(c, x->form) != 0)
		return -1;
	return 0;
}

static int
enc_shuttle_start(struct sink *s, const struct ipc_msg *m)
{
	const struct ipc_shuttle_start *x = &m->u.shuttle_start;

	if (put_u32(s, x->verbosity) != 0 ||
	    put_u32(s, x->assembler_len) != 0 ||
	    PUT_STR(s, x->form) != 0)
		return -1;
	return 0;
}

static int
dec_dns_req(struct cursor *c, struct ipc_msg *m)
{
	struct ipc_dns_req *x = &m->u.dns_req;

	/* An empty query is no DNS message; refuse it here, once. */
	if (get_u32(c, &x->chan) != 0 ||
	    get_blob(c, x->query, sizeof(x->query), &x->querylen) != 0 ||
	    x->querylen == 0)
		return -1;
	return 0;
}

static int
enc_dns_req(struct sink *s, const struct ipc_msg *m)
{
	const struct ipc_dns_req *x = &m->u.dns_req;

	if (x->querylen == 0 ||
	    put_u32(s, x->chan) != 0 ||
	    put_blob(s, x->query, x->querylen, sizeof(x->query)) != 0)
		return -1;
	return 0;
}

static int
dec_shuttle_ans(struct cursor *c, struct ipc_msg *m)
{
	struct ipc_shuttle_ans *x = &m->u.shuttle_ans;

	if (get_range(c, &x->dns_allowed, 0, 1) != 0 ||
	    GET_STR(c, x->routes) != 0)
		return -1;
	return 0;
}

static int
enc_shuttle_ans(struct sink *s, const struct ipc_msg *m)
{
	const struct ipc_shuttle_ans *x = &m->u.shuttle_ans;

	if (put_range(s, x->dns_allowed, 0, 1) != 0 ||
	    PUT_STR(s, x->routes) != 0)
		return -1;
	return 0;
}

static int
dec_dns_ans(struct cursor *c, struct ipc_msg *m)
{
	struct ipc_dns_ans *x = &m->u.dns_ans;

	if (get_u32(c, &x->chan) != 0 ||
	    get_range(c, &x->ok, 0, 1) != 0 ||
	    get_blob(c, x->answer, sizeof(x->answer), &x->answerlen) != 0 ||
	    GET_STR(c, x->reason) != 0)
		return -1;
	return 0;
}

static int
enc_dns_ans(struct sink *s, const struct ipc_msg *m)
{
	const struct ipc_dns_ans *x = &m->u.dns_ans;

	if (put_u32(s, x->chan) != 0 ||
	    put_range(s, x->ok, 0, 1) != 0 ||
	    put_blob(s, x->answer, x->answerlen, sizeof(x->answer)) != 0 ||
	    PUT_STR(s, x->reason) != 0)
		return -1;
	return 0;
}

static const struct ipc_codec {
	const char	*name;
	int		(*dec)(struct cursor *, struct ipc_msg *);
	int		(*enc)(struct sink *, const struct ipc_msg *);
} codecs[IPC_TYPE_MAX] = {
	[IPC_LOG] = { "log", dec_log, enc_log },
	[IPC_CLIENT_INFO] = { "client_info", dec_client_info,
	    enc_client_info },
	[IPC_AUTH_PUBKEY] = { "auth_pubkey", dec_auth_pubkey,
	    enc_auth_pubkey },
	[IPC_AUTH_TOTP] = { "auth_totp", dec_auth_totp, enc_auth_totp },
	[IPC_AUTH_FAILED] = { "auth_failed", dec_auth_failed,
	    enc_auth_failed },
	[IPC_CONNECT] = { "connect", dec_connect, enc_connect },
	[IPC_CHANNEL_CLOSE] = { "channel_close", dec_channel_close,
	    enc_channel_close },
	[IPC_REFUSED] = { "refused", dec_refused, enc_refused },
	[IPC_AUTH_ANS] = { "auth_ans", dec_auth_ans, enc_auth_ans },
	[IPC_CONNECT_ANS] = { "connect_ans", dec_connect_ans,
	    enc_connect_ans },
	[IPC_SHUTTLE_START] = { "shuttle_start", dec_shuttle_start,
	    enc_shuttle_start },
	[IPC_DNS_REQ] = { "dns_req", dec_dns_req, enc_dns_req },
	[IPC_SHUTTLE_ANS] = { "shuttle_ans", dec_shuttle_ans,
	    enc_shuttle_ans },
	[IPC_DNS_ANS] = { "dns_ans", dec_dns_ans, enc_dns_ans },
};

static const struct ipc_codec *
codec_find(uint32_t type)
{
	if (type == 0 || type >= IPC_TYPE_MAX)
		return NULL;
	return &codecs[type];
}

int
ipc_encode(const struct ipc_msg *m, uint8_t *buf, size_t buflen)
{
	const struct ipc_codec *k;
	struct sink s;

	if ((k = codec_find(m->type)) == NULL)
		return -1;
	s.p = buf;
	s.len = buflen < IPC_MSG_MAX ? buflen : IPC_MSG_MAX;
	s.off = 0;
	if (put_u32(&s, m->type) != 0 || k->enc(&s, m) != 0)
		return -1;
	return (int)s.off;
}

int
ipc_decode(const uint8_t *buf, size_t len, struct ipc_msg *m)
{
	const struct ipc_codec *k;
	struct cursor c;

	memset(m, 0, sizeof(*m));
	c.p = buf;
	c.left = len;
	if (get_u32(&c, &m->type) != 0 || (k = codec_find(m->type)) == NULL)
		return -1;
	if (k->dec(&c, m) != 0 || c.left != 0)
		return -1;
	return 0;
}

int
ipc_allowed(enum ipc_phase phase, uint32_t type)
{
	switch (type) {
	case IPC_LOG:
		return phase == IPC_PHASE_PREAUTH || phase == IPC_PHASE_TOTP ||
		    phase == IPC_PHASE_AUTHED;
	case IPC_CLIENT_INFO:
	case IPC_AUTH_PUBKEY:
		return phase == IPC_PHASE_PREAUTH;
	case IPC_AUTH_TOTP:
		return phase == IPC_PHASE_TOTP;
	case IPC_AUTH_FAILED:
		return phase == IPC_PHASE_PREAUTH || phase == IPC_PHASE_TOTP;
	case IPC_CONNECT:
	case IPC_CHANNEL_CLOSE:
	case IPC_REFUSED:
	case IPC_SHUTTLE_START:
	case IPC_DNS_REQ:
		return phase == IPC_PHASE_AUTHED;
	default:
		/* Master -> child types and unknown ones. */
		return 0;
	}
}

const char *
ipc_type_name(uint32_t type)
{
	const struct ipc_codec *k;

	return (k = codec_find(type)) != NULL ? k->name : "unknown";
}

/* 1 if a message of this type and content carries exactly one fd. */
static int
ipc_wants_fd(const struct ipc_msg *m)
{
	return m->type == IPC_CONNECT_ANS && m->u.connect_ans.ok == 1;
}

int
ipc_send(int sock, const struct ipc_msg *m, int fd)
{
	uint8_t buf[IPC_MSG_MAX];
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct cmsghdr *cmsg;
	struct msghdr msg;
	struct iovec iov;
	ssize_t n;
	int len;

	if ((len = ipc_encode(m, buf, sizeof(buf))) == -1) {
		errno = EMSGSIZE;
		return -1;
	}
	if (ipc_wants_fd(m) != (fd >= 0)) {
		errno = EINVAL;
		return -1;
	}
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = buf;
	iov.iov_len = (size_t)len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (fd >= 0) {
		memset(&cmsgbuf, 0, sizeof(cmsgbuf));
		msg.msg_control = cmsgbuf.buf;
		msg.msg_controllen = sizeof(cmsgbuf.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
	do {
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if (n != len) {
		/* Cannot happen on SOCK_SEQPACKET; never report success. */
		errno = EIO;
		return -1;
	}
	return 0;
}

/*
 * Collect every fd that arrived with msg into fds and their number into
 * *nfds (room for max, which the control buffer cannot exceed).  Returns
 * 0, or -1 if anything but SCM_RIGHTS came along; the fds are collected
 * even then, so that the caller can close them.
 */
static int
ipc_collect_fds(struct msghdr *msg, int *fds, size_t max, size_t *nfds)
{
	struct cmsghdr *cmsg;
	size_t i, n;
	int r = 0;

	*nfds = 0;
	for (cmsg = CMSG_FIRSTHDR(msg); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS ||
		    cmsg->cmsg_len < CMSG_LEN(0)) {
			r = -1;
			continue;
		}
		n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n && *nfds < max; i++) {
			memcpy(&fds[*nfds], CMSG_DATA(cmsg) + i * sizeof(int),
			    sizeof(int));
			(*nfds)++;
		}
	}
	return r;
}

static void
ipc_close_fds(const int *fds, size_t nfds)
{
	size_t i;

	for (i = 0; i < nfds; i++)
		close(fds[i]);
}

int
ipc_recv(int sock, struct ipc_msg *m, int *fd)
{
	uint8_t buf[IPC_MSG_MAX + 1];
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(IPC_FDS_MAX * sizeof(int))];
	} cmsgbuf;
	struct msghdr msg;
	struct iovec iov;
	int fds[IPC_FDS_MAX];
	size_t nfds;
	ssize_t n;
	int bad;

	*fd = -1;
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cmsgbuf.buf;
	msg.msg_controllen = sizeof(cmsgbuf.buf);
	do {
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	bad = ipc_collect_fds(&msg, fds, IPC_FDS_MAX, &nfds) != 0 ||
	    (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0;
	/* An empty datagram cannot be told from EOF, unless it brought more. */
	if (n == 0 && !bad && nfds == 0)
		return 0;
	if (bad || nfds > 1 || (size_t)n > IPC_MSG_MAX ||
	    ipc_decode(buf, (size_t)n, m) != 0 ||
	    ipc_wants_fd(m) != (nfds == 1)) {
		ipc_close_fds(fds, nfds);
		errno = EBADMSG;
		return -1;
	}
	if (nfds == 1)
		*fd = fds[0];
	return 1;
}
