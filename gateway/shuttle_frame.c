/*
 * shuttle_frame: sshuttle mux frames and payloads (see shuttle_frame.h).
 *
 * The decoder copies only what it must: a frame that arrives whole in the
 * caller's chunk is handed over in place, and only a frame split across
 * chunks is gathered in the decoder's one fixed buffer.  Payload text is
 * parsed through a cursor (pos, end) and must be consumed exactly.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "shuttle_frame.h"

struct shuttle_dec {
	size_t	have;		/* bytes of an incomplete frame */
	int	err;		/* sticky */
	uint8_t	buf[SHUTTLE_FRAME_MAX];
};

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static void
put16(uint8_t *p, unsigned int v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

int
shuttle_frame_peek(const void *buf, size_t len, struct shuttle_frame *f)
{
	const uint8_t *p = buf;

	if (f == NULL || (p == NULL && len > 0))
		return SHUTTLE_FRAME_ERR_ARG;
	if (len >= 1 && p[0] != 'S')
		return SHUTTLE_FRAME_ERR_MAGIC;
	if (len >= 2 && p[1] != 'S')
		return SHUTTLE_FRAME_ERR_MAGIC;
	if (len < SHUTTLE_HDR_LEN)
		return 0;
	f->chan = get16(p + 2);
	f->cmd = get16(p + 4);
	f->len = get16(p + 6);
	if (len - SHUTTLE_HDR_LEN < f->len)
		return 0;
	f->payload = f->len > 0 ? p + SHUTTLE_HDR_LEN : NULL;
	return 1;
}

struct shuttle_dec *
shuttle_dec_new(void)
{
	return calloc(1, sizeof(struct shuttle_dec));
}

void
shuttle_dec_free(struct shuttle_dec *d)
{
	free(d);
}

size_t
shuttle_dec_pending(const struct shuttle_dec *d)
{
	return d == NULL ? 0 : d->have;
}

/* Move up to want bytes from p[*i..len) into the decoder's buffer. */
static void
dec_take(struct shuttle_dec *d, const uint8_t *p, size_t len, size_t *i,
    size_t want)
{
	size_t n = len - *i;

	if (n > want)
		n = want;
	if (n == 0)		/* p may be NULL then */
		return;
	memcpy(d->buf + d->have, p + *i, n);
	d->have += n;
	*i += n;
}

int
shuttle_dec_next(struct shuttle_dec *d, const void *buf, size_t len,
    size_t *used, struct shuttle_frame *f)
{
	const uint8_t *p = buf;
	size_t i = 0, need;
	int r;

	if (used == NULL)
		return SHUTTLE_FRAME_ERR_ARG;
	*used = 0;
	if (d == NULL || f == NULL || (p == NULL && len > 0))
		return SHUTTLE_FRAME_ERR_ARG;
	if (d->err != 0)
		return d->err;
	if (d->have == 0) {
		/* The fast path: a whole frame in the caller's chunk. */
		if ((r = shuttle_frame_peek(p, len, f)) == 1) {
			*used = SHUTTLE_HDR_LEN + (size_t)f->len;
			return 1;
		}
		if (r < 0)
			return (d->err = r);
		/* A valid prefix, shorter than one frame: it fits. */
		if (len > 0)
			memcpy(d->buf, p, len);
		d->have = len;
		*used = len;
		return 0;
	}
	if (d->have < SHUTTLE_HDR_LEN)
		dec_take(d, p, len, &i, SHUTTLE_HDR_LEN - d->have);
	if ((r = shuttle_frame_peek(d->buf, d->have, f)) < 0)
		return (d->err = r);
	if (d->have >= SHUTTLE_HDR_LEN) {
		need = SHUTTLE_HDR_LEN + (size_t)get16(d->buf + 6) - d->have;
		dec_take(d, p, len, &i, need);
		r = shuttle_frame_peek(d->buf, d->have, f);
	}
	*used = i;
	if (r == 1)
		d->have = 0;	/* payload stays in buf till next call */
	return r;
}

int
shuttle_frame_put_hdr(uint8_t *out, size_t outlen, unsigned int chan,
    unsigned int cmd, size_t len)
{
	if (out == NULL)
		return SHUTTLE_FRAME_ERR_ARG;
	if (chan > 0xffff || cmd > 0xffff || len > SHUTTLE_PAYLOAD_MAX)
		return SHUTTLE_FRAME_ERR_RANGE;
	if (outlen < SHUTTLE_HDR_LEN)
		return SHUTTLE_FRAME_ERR_SPACE;
	out[0] = 'S';
	out[1] = 'S';
	put16(out + 2, chan);
	put16(out + 4, cmd);
	put16(out + 6, (unsigned int)len);
	return 0;
}

/*
 * Decimal as the Python client writes str(int): 1..maxdigits digits, no
 * sign, no leading zero.  Stops at the first non-digit.  0 or ERR_SYNTAX;
 * a value too long for maxdigits is ERR_RANGE so callers can say "port".
 */
static int
get_uint(const uint8_t **pos, const uint8_t *end, size_t maxdigits,
    unsigned long *v)
{
	const uint8_t *s = *pos;

	*v = 0;
	while (*pos < end && **pos >= '0' && **pos <= '9') {
		if ((size_t)(*pos - s) == maxdigits)
			return SHUTTLE_FRAME_ERR_RANGE;
		*v = *v * 10 + (unsigned long)(**pos - '0');
		(*pos)++;
	}
	if (*pos == s || (*s == '0' && *pos - s > 1))
		return SHUTTLE_FRAME_ERR_SYNTAX;
	return 0;
}

/* A port field: 1..65535. */
static int
get_port(const uint8_t **pos, const uint8_t *end, unsigned int *port)
{
	unsigned long v;
	int r;

	if ((r = get_uint(pos, end, 5, &v)) == SHUTTLE_FRAME_ERR_RANGE)
		return SHUTTLE_FRAME_ERR_PORT;
	if (r != 0)
		return r;
	if (v == 0 || v > 65535)
		return SHUTTLE_FRAME_ERR_PORT;
	*port = (unsigned int)v;
	return 0;
}

/* An address family number: 2 is AF_INET, any other AF_INET6. */
static int
get_family(const uint8_t **pos, const uint8_t *end, int *af)
{
	unsigned long v;

	if (get_uint(pos, end, 5, &v) != 0 || v > 65535)
		return SHUTTLE_FRAME_ERR_SYNTAX;
	*af = v == 2 ? AF_INET : AF_INET6;
	return 0;
}

/* A literal byte. */
static int
get_char(const uint8_t **pos, const uint8_t *end, uint8_t c)
{
	if (*pos == end || **pos != c)
		return SHUTTLE_FRAME_ERR_SYNTAX;
	(*pos)++;
	return 0;
}

/*
 * An IP address up to the next ',' (not taken).  af is AF_INET, AF_INET6,
 * or AF_UNSPEC for "whichever parses".  inet_pton has the final word, so
 * "10.1", zones and embedded NULs are all refused.
 */
static int
get_ip(const uint8_t **pos, const uint8_t *end, int af, struct addr *dst)
{
	char text[INET6_ADDRSTRLEN];
	const uint8_t *comma;
	size_t n;

	comma = memchr(*pos, ',', (size_t)(end - *pos));
	if (comma == NULL)
		return SHUTTLE_FRAME_ERR_SYNTAX;
	n = (size_t)(comma - *pos);
	if (n == 0 || n >= sizeof(text) || memchr(*pos, '\0', n) != NULL)
		return SHUTTLE_FRAME_ERR_ADDR;
	memcpy(text, *pos, n);
	text[n] = '\0';
	memset(dst, 0, sizeof(*dst));
	if ((af == AF_INET || af == AF_UNSPEC) &&
	    inet_pton(AF_INET, text, dst->a) == 1)
		dst->af = AF_INET;
	else if ((af == AF_INET6 || af == AF_UNSPEC) &&
	    inet_pton(AF_INET6, text, dst->a) == 1)
		dst->af = AF_INET6;
	else
		return SHUTTLE_FRAME_ERR_ADDR;
	/* ::ffff:a.b.c.d is connected over IPv4: policy must see IPv4. */
	addr_normalise(dst);
	*pos = comma;
	return 0;
}

int
shuttle_parse_tcp_connect(const uint8_t *p, size_t len, struct addr *dst,
    unsigned int *port)
{
	const uint8_t *pos, *end;
	int af, r;

	if ((p == NULL && len > 0) || dst == NULL || port == NULL)
		return SHUTTLE_FRAME_ERR_ARG;
	if (p == NULL)		/* an empty frame's payload */
		return SHUTTLE_FRAME_ERR_SYNTAX;
	pos = p;
	end = p + len;
	if ((r = get_family(&pos, end, &af)) != 0 ||
	    (r = get_char(&pos, end, ',')) != 0 ||
	    (r = get_ip(&pos, end, af, dst)) != 0 ||
	    (r = get_char(&pos, end, ',')) != 0 ||
	    (r = get_port(&pos, end, port)) != 0)
		return r;
	return pos == end ? 0 : SHUTTLE_FRAME_ERR_SYNTAX;
}

int
shuttle_parse_udp_data(const uint8_t *p, size_t len, struct addr *dst,
    unsigned int *port, const uint8_t **data, size_t *datalen)
{
	const uint8_t *pos, *end;
	int r;

	if ((p == NULL && len > 0) || dst == NULL || port == NULL ||
	    data == NULL || datalen == NULL)
		return SHUTTLE_FRAME_ERR_ARG;
	if (p == NULL)
		return SHUTTLE_FRAME_ERR_SYNTAX;
	pos = p;
	end = p + len;
	if ((r = get_ip(&pos, end, AF_UNSPEC, dst)) != 0 ||
	    (r = get_char(&pos, end, ',')) != 0 ||
	    (r = get_port(&pos, end, port)) != 0 ||
	    (r = get_char(&pos, end, ',')) != 0)
		return r;
	*data = pos;
	*datalen = (size_t)(end - pos);
	return 0;
}

int
shuttle_parse_udp_open(const uint8_t *p, size_t len, int *af)
{
	const uint8_t *pos, *end;
	int r;

	if ((p == NULL && len > 0) || af == NULL)
		return SHUTTLE_FRAME_ERR_ARG;
	if (p == NULL)
		return SHUTTLE_FRAME_ERR_SYNTAX;
	pos = p;
	end = p + len;
	if ((r = get_family(&pos, end, af)) != 0)
		return r;
	return pos == end ? 0 : SHUTTLE_FRAME_ERR_SYNTAX;
}

/* 1 if n is an IPv4 network with no host bits set. */
static int
routes_valid4(const struct addr_net *n)
{
	uint32_t a, mask;

	if (n->bits > 32)
		return 0;
	a = ((uint32_t)n->base.a[0] << 24) | ((uint32_t)n->base.a[1] << 16) |
	    ((uint32_t)n->base.a[2] << 8) | n->base.a[3];
	mask = n->bits == 0 ? 0 : 0xffffffffU << (32 - n->bits);
	return (a & ~mask) == 0;
}

int
shuttle_routes_write(const struct addr_net *nets, size_t n, char *out,
    size_t outlen, size_t *written)
{
	char ip[INET_ADDRSTRLEN], line[INET_ADDRSTRLEN + 8];
	size_t k, off = 0, cap = outlen;
	int l;

	if ((nets == NULL && n > 0) || (out == NULL && outlen > 0) ||
	    written == NULL)
		return SHUTTLE_FRAME_ERR_ARG;
	*written = 0;
	if (cap > SHUTTLE_PAYLOAD_MAX)
		cap = SHUTTLE_PAYLOAD_MAX;
	for (k = 0; k < n; k++) {
		if (nets[k].base.af != AF_INET)
			continue;
		if (!routes_valid4(&nets[k]) ||
		    inet_ntop(AF_INET, nets[k].base.a, ip, sizeof(ip)) == NULL)
			return SHUTTLE_FRAME_ERR_ARG;
		l = snprintf(line, sizeof(line), "2,%s,%u\n", ip, nets[k].bits);
		if (l < 0 || (size_t)l >= sizeof(line))
			return SHUTTLE_FRAME_ERR_ARG;
		if ((size_t)l > cap - off)
			return SHUTTLE_FRAME_ERR_SPACE;
		memcpy(out + off, line, (size_t)l);
		off += (size_t)l;
	}
	*written = off;
	return 0;
}

const char *
shuttle_cmd_name(unsigned int cmd)
{
	static const char *const names[] = {
		"EXIT", "PING", "PONG", "TCP_CONNECT", "TCP_STOP_SENDING",
		"TCP_EOF", "TCP_DATA", "ROUTES", "HOST_REQ", "HOST_LIST",
		"DNS_REQ", "DNS_RESPONSE", "UDP_OPEN", "UDP_DATA", "UDP_CLOSE"
	};

	if (cmd < SHUTTLE_CMD_EXIT || cmd > SHUTTLE_CMD_UDP_CLOSE)
		return "unknown";
	return names[cmd - SHUTTLE_CMD_EXIT];
}

const char *
shuttle_frame_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case SHUTTLE_FRAME_ERR_MAGIC:
		return "bad frame magic";
	case SHUTTLE_FRAME_ERR_SYNTAX:
		return "malformed payload";
	case SHUTTLE_FRAME_ERR_ADDR:
		return "bad address in payload";
	case SHUTTLE_FRAME_ERR_PORT:
		return "bad port in payload";
	case SHUTTLE_FRAME_ERR_SPACE:
		return "output buffer too small";
	case SHUTTLE_FRAME_ERR_RANGE:
		return "value out of range";
	case SHUTTLE_FRAME_ERR_ARG:
		return "invalid argument";
	case SHUTTLE_FRAME_ERR_NOMEM:
		return "out of memory";
	}
	return "unknown error";
}
