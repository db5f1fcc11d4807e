/*
 * test_ipc: the child <-> master messages.  The wire format is described a
 * second time here, as a table of field kinds and limits, independently of
 * gateway/ipc.c: messages built from that table must match what
 * ipc_encode() writes byte for byte, decode back to the same struct, and
 * every way of breaking one field (too long, NUL inside, out of range,
 * cut short, one byte more) must be refused.  The transport is tested on
 * real SOCK_SEQPACKET socketpairs, including fd passing and the fds that
 * must be closed when a datagram is refused.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipc.h"

/* Field kinds; for F_STR and F_BLOB, min and max limit the length. */
enum fkind { F_U32, F_U64, F_STR, F_BLOB };

struct fdesc {
	enum fkind	kind;
	uint32_t	min;
	uint32_t	max;
};

#define NFIELDS	6

struct tdesc {
	uint32_t	type;
	const char	*name;
	size_t		nf;
	struct fdesc	f[NFIELDS];
};

#define U32ANY	{ F_U32, 0, UINT32_MAX }
#define U64ANY	{ F_U64, 0, 0 }
#define STR(n)	{ F_STR, 0, (n) }

static const struct tdesc types[] = {
	{ IPC_LOG, "log", 2,
	    { { F_U32, 0, 3 }, STR(IPC_TEXT_MAX) } },
	{ IPC_CLIENT_INFO, "client_info", 1,
	    { STR(IPC_VERSION_MAX) } },
	{ IPC_AUTH_PUBKEY, "auth_pubkey", 3,
	    { STR(IPC_USER_MAX), { F_U32, 0, 1 },
	    { F_BLOB, 0, IPC_KEY_MAX } } },
	{ IPC_AUTH_TOTP, "auth_totp", 2,
	    { STR(IPC_USER_MAX), STR(IPC_CODE_MAX) } },
	{ IPC_AUTH_FAILED, "auth_failed", 3,
	    { STR(IPC_USER_MAX), STR(IPC_WHAT_MAX), STR(IPC_REASON_MAX) } },
	{ IPC_CONNECT, "connect", 6,
	    { U32ANY, STR(IPC_HOST_MAX), { F_U32, 1, 65535 },
	    STR(IPC_HOST_MAX), { F_U32, 0, 65535 }, { F_U32, 0, 1 } } },
	{ IPC_CHANNEL_CLOSE, "channel_close", 4,
	    { U32ANY, U64ANY, U64ANY, U64ANY } },
	{ IPC_REFUSED, "refused", 2,
	    { STR(IPC_WHAT_MAX), STR(IPC_REASON_MAX) } },
	{ IPC_AUTH_ANS, "auth_ans", 6,
	    { { F_U32, 0, 3 }, STR(IPC_REASON_MAX), U32ANY, U32ANY, U32ANY,
	    STR(IPC_TEXT_MAX) } },
	{ IPC_CONNECT_ANS, "connect_ans", 5,
	    { U32ANY, { F_U32, 0, 1 }, STR(IPC_REASON_MAX),
	    STR(IPC_ADDR_MAX), { F_U32, 0, 65535 } } },
	{ IPC_SHUTTLE_START, "shuttle_start", 3,
	    { U32ANY, U32ANY, STR(IPC_WHAT_MAX) } },
	{ IPC_DNS_REQ, "dns_req", 2,
	    { U32ANY, { F_BLOB, 1, IPC_DNS_MAX } } },
	{ IPC_SHUTTLE_ANS, "shuttle_ans", 2,
	    { { F_U32, 0, 1 }, STR(IPC_TEXT_MAX) } },
	{ IPC_DNS_ANS, "dns_ans", 4,
	    { U32ANY, { F_U32, 0, 1 }, { F_BLOB, 0, IPC_DNS_MAX },
	    STR(IPC_REASON_MAX) } },
};
#define NTYPES	(sizeof(types) / sizeof(types[0]))

/* Field values: all minimal, all maximal, or distinct in between. */
enum mode { M_MIN, M_MAX, M_MID };
static const enum mode modes[] = { M_MIN, M_MAX, M_MID };
#define NMODES	(sizeof(modes) / sizeof(modes[0]))

/* One way to break field `field` of a message built from the table. */
enum mutkind { X_NONE, X_LEN, X_NUL, X_VAL };

struct mut {
	enum mutkind	kind;
	size_t		field;
	uint32_t	v;	/* X_LEN: length; X_NUL: NUL offset; X_VAL */
};

static const struct mut nomut = { X_NONE, 0, 0 };

struct wire {
	uint8_t	b[IPC_MSG_MAX * 2];
	size_t	len;
};

static uint32_t
val32(const struct fdesc *f, size_t i, enum mode mode)
{
	uint64_t span = (uint64_t)f->max - f->min + 1;

	switch (mode) {
	case M_MIN:
		return f->min;
	case M_MAX:
		return f->max;
	default:
		return f->min + (uint32_t)((0x9e3779b9ULL * (i + 1)) % span);
	}
}

static uint64_t
val64(size_t i, enum mode mode)
{
	switch (mode) {
	case M_MIN:
		return 0;
	case M_MAX:
		return UINT64_MAX;
	default:
		return 0x0102030405060708ULL * (i + 1);
	}
}

static size_t
vlen(const struct fdesc *f, size_t i, enum mode mode)
{
	switch (mode) {
	case M_MIN:
		return f->min;
	case M_MAX:
		return f->max;
	default:
		return f->max / 3 + i;
	}
}

static uint8_t
vbyte(const struct fdesc *f, size_t i, size_t j)
{
	if (f->kind == F_STR)
		return (uint8_t)('a' + (i * 7 + j) % 26);
	return (uint8_t)(i * 31 + j * 7);	/* blobs may hold NUL */
}

static void
put32(struct wire *w, uint32_t v)
{
	w->b[w->len++] = (uint8_t)(v >> 24);
	w->b[w->len++] = (uint8_t)(v >> 16);
	w->b[w->len++] = (uint8_t)(v >> 8);
	w->b[w->len++] = (uint8_t)v;
}

static void
put_field(struct wire *w, const struct fdesc *f, size_t i, enum mode mode,
    const struct mut *mu)
{
	size_t j, n;
	int hit = mu->kind != X_NONE && mu->field == i;

	switch (f->kind) {
	case F_U32:
		put32(w, hit && mu->kind == X_VAL ? mu->v : val32(f, i, mode));
		break;
	case F_U64:
		put32(w, (uint32_t)(val64(i, mode) >> 32));
		put32(w, (uint32_t)val64(i, mode));
		break;
	default:
		n = hit && mu->kind == X_LEN ? mu->v : vlen(f, i, mode);
		assert_true(n <= IPC_MSG_MAX);
		put32(w, (uint32_t)n);
		for (j = 0; j < n; j++)
			w->b[w->len++] = vbyte(f, i, j);
		if (hit && mu->kind == X_NUL) {
			assert_true(mu->v < n);
			w->b[w->len - n + mu->v] = 0;
		}
		break;
	}
}

static void
build(struct wire *w, const struct tdesc *t, enum mode mode,
    const struct mut *mu)
{
	size_t i;

	w->len = 0;
	put32(w, t->type);
	for (i = 0; i < t->nf; i++)
		put_field(w, &t->f[i], i, mode, mu);
}

static void
fill_str(char *dst, size_t dstsize, const struct tdesc *t, size_t i,
    enum mode mode)
{
	size_t j, n = vlen(&t->f[i], i, mode);

	assert_int_equal(t->f[i].kind, F_STR);
	assert_int_equal(dstsize, t->f[i].max + 1);
	for (j = 0; j < n; j++)
		dst[j] = (char)vbyte(&t->f[i], i, j);
	dst[n] = '\0';
}

#define FS(dst, i)	fill_str((dst), sizeof(dst), t, (i), mode)
#define F32(i)		val32(&t->f[(i)], (i), mode)

static void
fill_blob(uint8_t *dst, size_t dstsize, size_t *lenp, const struct tdesc *t,
    size_t i, enum mode mode)
{
	size_t j;

	assert_int_equal(t->f[i].kind, F_BLOB);
	assert_int_equal(t->f[i].max, dstsize);
	*lenp = vlen(&t->f[i], i, mode);
	for (j = 0; j < *lenp; j++)
		dst[j] = vbyte(&t->f[i], i, j);
}

#define FB(dst, lenp, i)	fill_blob((dst), sizeof(dst), (lenp), t, (i), \
				    mode)

/* The same message as build(), written into the struct by hand. */
static void
fill(struct ipc_msg *m, const struct tdesc *t, enum mode mode)
{
	memset(m, 0, sizeof(*m));
	m->type = t->type;
	switch (t->type) {
	case IPC_LOG:
		m->u.log.level = F32(0);
		FS(m->u.log.text, 1);
		break;
	case IPC_CLIENT_INFO:
		FS(m->u.client_info.version, 0);
		break;
	case IPC_AUTH_PUBKEY:
		FS(m->u.auth_pubkey.user, 0);
		m->u.auth_pubkey.probe = F32(1);
		FB(m->u.auth_pubkey.key, &m->u.auth_pubkey.keylen, 2);
		break;
	case IPC_AUTH_TOTP:
		FS(m->u.auth_totp.user, 0);
		FS(m->u.auth_totp.code, 1);
		break;
	case IPC_AUTH_FAILED:
		FS(m->u.auth_failed.user, 0);
		FS(m->u.auth_failed.method, 1);
		FS(m->u.auth_failed.reason, 2);
		break;
	case IPC_CONNECT:
		m->u.connect.chan = F32(0);
		FS(m->u.connect.host, 1);
		m->u.connect.port = F32(2);
		FS(m->u.connect.orig_host, 3);
		m->u.connect.orig_port = F32(4);
		m->u.connect.via = F32(5);
		break;
	case IPC_CHANNEL_CLOSE:
		m->u.channel_close.chan = F32(0);
		m->u.channel_close.bytes_up = val64(1, mode);
		m->u.channel_close.bytes_down = val64(2, mode);
		m->u.channel_close.duration_ms = val64(3, mode);
		break;
	case IPC_REFUSED:
		FS(m->u.refused.what, 0);
		FS(m->u.refused.detail, 1);
		break;
	case IPC_AUTH_ANS:
		m->u.auth_ans.result = F32(0);
		FS(m->u.auth_ans.reason, 1);
		m->u.auth_ans.max_channels = F32(2);
		m->u.auth_ans.idle_timeout = F32(3);
		m->u.auth_ans.max_session_time = F32(4);
		FS(m->u.auth_ans.shell_text, 5);
		break;
	case IPC_CONNECT_ANS:
		m->u.connect_ans.chan = F32(0);
		m->u.connect_ans.ok = F32(1);
		FS(m->u.connect_ans.reason, 2);
		FS(m->u.connect_ans.addr, 3);
		m->u.connect_ans.port = F32(4);
		break;
	case IPC_SHUTTLE_START:
		m->u.shuttle_start.verbosity = F32(0);
		m->u.shuttle_start.assembler_len = F32(1);
		FS(m->u.shuttle_start.form, 2);
		break;
	case IPC_DNS_REQ:
		m->u.dns_req.chan = F32(0);
		FB(m->u.dns_req.query, &m->u.dns_req.querylen, 1);
		break;
	case IPC_SHUTTLE_ANS:
		m->u.shuttle_ans.dns_allowed = F32(0);
		FS(m->u.shuttle_ans.routes, 1);
		break;
	case IPC_DNS_ANS:
		m->u.dns_ans.chan = F32(0);
		m->u.dns_ans.ok = F32(1);
		FB(m->u.dns_ans.answer, &m->u.dns_ans.answerlen, 2);
		FS(m->u.dns_ans.reason, 3);
		break;
	default:
		fail_msg("no filler for type %u", t->type);
	}
}

static void
decode_bad(const struct wire *w, const char *what, const struct tdesc *t,
    size_t field)
{
	struct ipc_msg m;

	if (ipc_decode(w->b, w->len, &m) != -1) {
		fail_msg("%s: %s field %zu accepted", t->name, what, field);
	}
}

static void
decode_good(const struct wire *w, const char *what, const struct tdesc *t,
    size_t field)
{
	struct ipc_msg m;

	if (ipc_decode(w->b, w->len, &m) != 0) {
		fail_msg("%s: %s field %zu refused", t->name, what, field);
	}
}

/* Encoding the struct gives the table's bytes; decoding gives the struct. */
static void
test_round_trip(void **state)
{
	struct ipc_msg m, d;
	struct wire w;
	uint8_t buf[IPC_MSG_MAX];
	size_t i, k;
	int n;

	(void)state;
	for (i = 0; i < NTYPES; i++) {
		for (k = 0; k < NMODES; k++) {
			fill(&m, &types[i], modes[k]);
			build(&w, &types[i], modes[k], &nomut);
			n = ipc_encode(&m, buf, sizeof(buf));
			if (n < 0 || (size_t)n != w.len ||
			    memcmp(buf, w.b, w.len) != 0) {
				fail_msg("%s mode %zu: encoded %d bytes, "
				    "wanted %zu", types[i].name, k, n, w.len);
			}
			assert_int_equal(ipc_decode(w.b, w.len, &d), 0);
			if (memcmp(&m, &d, sizeof(m)) != 0) {
				fail_msg("%s mode %zu: decoded differently",
				    types[i].name, k);
			}
		}
	}
}

/* A few messages spelled out byte by byte: order and big-endian. */
static void
test_golden(void **state)
{
	static const uint8_t want_connect[] = {
		0, 0, 0, 6,			/* IPC_CONNECT */
		0, 0, 0, 9,			/* chan */
		0, 0, 0, 2, 'd', 'b',		/* host */
		0, 0, 0x15, 0x38,		/* port 5432 */
		0, 0, 0, 1, 'h',		/* orig_host */
		0, 0, 0xff, 0xff,		/* orig_port */
		0, 0, 0, 0,			/* via direct-tcpip */
	};
	static const uint8_t want_dns_ans[] = {
		0, 0, 0, 14,			/* IPC_DNS_ANS */
		0, 0, 0, 5,			/* chan */
		0, 0, 0, 1,			/* ok */
		0, 0, 0, 3, 0x12, 0x34, 0x00,	/* answer, may hold NUL */
		0, 0, 0, 0,			/* reason "" */
	};
	static const uint8_t want_shuttle_start[] = {
		0, 0, 0, 11,			/* IPC_SHUTTLE_START */
		0, 0, 0, 2,			/* verbosity */
		0, 0, 0x03, 0x7a,		/* assembler_len 890 */
		0, 0, 0, 2, 's', 'h',		/* form */
	};
	static const uint8_t want_close[] = {
		0, 0, 0, 7,
		0x01, 0x02, 0x03, 0x04,
		0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
		0, 0, 0, 0, 0, 0, 0, 1,
		0x80, 0, 0, 0, 0, 0, 0, 0,
	};
	struct ipc_msg m;
	uint8_t buf[IPC_MSG_MAX];

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = IPC_CONNECT;
	m.u.connect.chan = 9;
	strcpy(m.u.connect.host, "db");
	m.u.connect.port = 5432;
	strcpy(m.u.connect.orig_host, "h");
	m.u.connect.orig_port = 65535;
	assert_int_equal(ipc_encode(&m, buf, sizeof(buf)),
	    sizeof(want_connect));
	assert_memory_equal(buf, want_connect, sizeof(want_connect));

	memset(&m, 0, sizeof(m));
	m.type = IPC_CHANNEL_CLOSE;
	m.u.channel_close.chan = 0x01020304;
	m.u.channel_close.bytes_up = 0x1011121314151617ULL;
	m.u.channel_close.bytes_down = 1;
	m.u.channel_close.duration_ms = 0x8000000000000000ULL;
	assert_int_equal(ipc_encode(&m, buf, sizeof(buf)),
	    sizeof(want_close));
	assert_memory_equal(buf, want_close, sizeof(want_close));

	/* The numbers of the sshuttle types are part of the protocol. */
	assert_int_equal(IPC_SHUTTLE_START, 11);
	assert_int_equal(IPC_DNS_REQ, 12);
	assert_int_equal(IPC_SHUTTLE_ANS, 13);
	assert_int_equal(IPC_DNS_ANS, 14);
	memset(&m, 0, sizeof(m));
	m.type = IPC_DNS_ANS;
	m.u.dns_ans.chan = 5;
	m.u.dns_ans.ok = 1;
	memcpy(m.u.dns_ans.answer, "\x12\x34", 3);
	m.u.dns_ans.answerlen = 3;
	assert_int_equal(ipc_encode(&m, buf, sizeof(buf)),
	    sizeof(want_dns_ans));
	assert_memory_equal(buf, want_dns_ans, sizeof(want_dns_ans));
	memset(&m, 0, sizeof(m));
	m.type = IPC_SHUTTLE_START;
	m.u.shuttle_start.verbosity = 2;
	m.u.shuttle_start.assembler_len = 890;
	strcpy(m.u.shuttle_start.form, "sh");
	assert_int_equal(ipc_encode(&m, buf, sizeof(buf)),
	    sizeof(want_shuttle_start));
	assert_memory_equal(buf, want_shuttle_start,
	    sizeof(want_shuttle_start));

	assert_int_equal(ipc_decode(want_close, sizeof(want_close), &m), 0);
	assert_int_equal(m.u.channel_close.bytes_up, 0x1011121314151617ULL);
	assert_int_equal(m.u.channel_close.duration_ms,
	    0x8000000000000000ULL);
}

/* Every strict prefix of every message is refused. */
static void
test_truncated(void **state)
{
	struct ipc_msg m;
	struct wire w;
	size_t i, k, len;

	(void)state;
	for (i = 0; i < NTYPES; i++) {
		for (k = 0; k < NMODES; k++) {
			build(&w, &types[i], modes[k], &nomut);
			for (len = 0; len < w.len; len++) {
				if (ipc_decode(w.b, len, &m) != -1) {
					fail_msg("%s mode %zu: %zu of %zu "
					    "bytes accepted", types[i].name, k,
					    len, w.len);
				}
			}
		}
	}
}

static void
test_trailing(void **state)
{
	struct ipc_msg m;
	struct wire w;
	size_t i, k;

	(void)state;
	for (i = 0; i < NTYPES; i++) {
		for (k = 0; k < NMODES; k++) {
			build(&w, &types[i], modes[k], &nomut);
			assert_int_equal(ipc_decode(w.b, w.len, &m), 0);
			w.b[w.len++] = 0;
			if (ipc_decode(w.b, w.len, &m) != -1) {
				fail_msg("%s: trailing byte accepted",
				    types[i].name);
			}
		}
	}
}

/* NUL at the start, middle and end of each string, and a lone NUL. */
static void
test_string_nul(void **state)
{
	const struct tdesc *t;
	struct mut mu;
	struct wire w;
	size_t i, f, p, n, checked = 0;

	(void)state;
	for (i = 0; i < NTYPES; i++) {
		t = &types[i];
		for (f = 0; f < t->nf; f++) {
			if (t->f[f].kind != F_STR)
				continue;
			n = t->f[f].max;
			for (p = 0; p < 3; p++) {
				mu.kind = X_NUL;
				mu.field = f;
				mu.v = (uint32_t)(p == 0 ? 0 :
				    p == 1 ? n / 2 : n - 1);
				build(&w, t, M_MAX, &mu);
				decode_bad(&w, "NUL in", t, f);
			}
			mu.kind = X_LEN;
			mu.v = 1;
			build(&w, t, M_MAX, &mu);
			decode_good(&w, "one byte", t, f);
			mu.kind = X_NUL;
			mu.v = 0;
			build(&w, t, M_MAX, &mu);
			decode_bad(&w, "lone NUL in", t, f);
			checked++;
		}
	}
	assert_int_equal(checked, 19);
}

/* Every string and blob at its maximum is fine, one byte more is not. */
static void
test_string_long(void **state)
{
	const struct tdesc *t;
	struct mut mu;
	struct wire w;
	size_t i, f, checked = 0;

	(void)state;
	for (i = 0; i < NTYPES; i++) {
		t = &types[i];
		for (f = 0; f < t->nf; f++) {
			if (t->f[f].kind != F_STR && t->f[f].kind != F_BLOB)
				continue;
			mu.kind = X_LEN;
			mu.field = f;
			mu.v = t->f[f].max;
			build(&w, t, M_MIN, &mu);
			decode_good(&w, "maximal", t, f);
			mu.v = t->f[f].max + 1;
			build(&w, t, M_MIN, &mu);
			decode_bad(&w, "over-long", t, f);
			if (t->f[f].min > 0) {
				mu.v = t->f[f].min - 1;
				build(&w, t, M_MIN, &mu);
				decode_bad(&w, "too short", t, f);
			}
			checked++;
		}
	}
	assert_int_equal(checked, 22);
}

/* A string length that points past the datagram. */
static void
test_length_past_end(void **state)
{
	static const uint8_t lens[][4] = {
		{ 0xff, 0xff, 0xff, 0xff }, { 0x80, 0, 0, 0 },
		{ 0, 0, 0, 2 },
	};
	uint8_t b[12];
	struct ipc_msg m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		memset(b, 'x', sizeof(b));
		b[0] = b[1] = b[2] = 0;
		b[3] = IPC_CLIENT_INFO;
		memcpy(b + 4, lens[i], 4);
		/* Only one byte of string follows. */
		assert_int_equal(ipc_decode(b, 9, &m), -1);
	}
	/* Sanity: the same with a length of 1 is a good message. */
	b[4] = b[5] = b[6] = 0;
	b[7] = 1;
	assert_int_equal(ipc_decode(b, 9, &m), 0);
	assert_string_equal(m.u.client_info.version, "x");
}

/* Each ranged u32 at both bounds is fine; one step outside is not. */
static void
test_bad_values(void **state)
{
	const struct tdesc *t;
	struct mut mu;
	struct wire w;
	size_t i, f, checked = 0;

	(void)state;
	for (i = 0; i < NTYPES; i++) {
		t = &types[i];
		for (f = 0; f < t->nf; f++) {
			if (t->f[f].kind != F_U32 ||
			    (t->f[f].min == 0 && t->f[f].max == UINT32_MAX))
				continue;
			mu.kind = X_VAL;
			mu.field = f;
			mu.v = t->f[f].min;
			build(&w, t, M_MID, &mu);
			decode_good(&w, "minimum in", t, f);
			mu.v = t->f[f].max;
			build(&w, t, M_MID, &mu);
			decode_good(&w, "maximum in", t, f);
			mu.v = t->f[f].max + 1;
			build(&w, t, M_MID, &mu);
			decode_bad(&w, "maximum + 1 in", t, f);
			mu.v = UINT32_MAX;
			build(&w, t, M_MID, &mu);
			decode_bad(&w, "UINT32_MAX in", t, f);
			if (t->f[f].min > 0) {
				mu.v = t->f[f].min - 1;
				build(&w, t, M_MID, &mu);
				decode_bad(&w, "minimum - 1 in", t, f);
			}
			checked++;
		}
	}
	/*
	 * level, probe, port, orig_port, via, result, ok, port, dns_allowed,
	 * ok
	 */
	assert_int_equal(checked, 10);
}

static void
test_ports(void **state)
{
	struct ipc_msg m, d;
	uint8_t buf[IPC_MSG_MAX];
	int n;

	(void)state;
	fill(&m, &types[5], M_MID);
	assert_int_equal(m.type, IPC_CONNECT);
	m.u.connect.port = 0;
	assert_int_equal(ipc_encode(&m, buf, sizeof(buf)), -1);
	m.u.connect.port = 65536;
	assert_int_equal(ipc_encode(&m, buf, sizeof(buf)), -1);
	m.u.connect.port = 65535;
	m.u.connect.orig_port = 65536;
	assert_int_equal(ipc_encode(&m, buf, sizeof(buf)), -1);
	m.u.connect.orig_port = 0;
	assert_true((n = ipc_encode(&m, buf, sizeof(buf))) > 0);
	assert_int_equal(ipc_decode(buf, (size_t)n, &d), 0);
	assert_int_equal(d.u.connect.port, 65535);
	assert_int_equal(d.u.connect.orig_port, 0);
	/* Port 0 and 65536 on the wire; the port is the 3rd field of 6. */
	buf[n - 4 - 4 - 4 - strlen(m.u.connect.orig_host) - 2] = 0;
	buf[n - 4 - 4 - 4 - strlen(m.u.connect.orig_host) - 1] = 0;
	assert_int_equal(ipc_decode(buf, (size_t)n, &d), -1);
	buf[n - 4 - 4 - 4 - strlen(m.u.connect.orig_host) - 3] = 1;
	assert_int_equal(ipc_decode(buf, (size_t)n, &d), -1);
	buf[n - 4 - 4 - 4 - strlen(m.u.connect.orig_host) - 3] = 0;
	buf[n - 4 - 4 - 4 - strlen(m.u.connect.orig_host) - 1] = 22;
	assert_int_equal(ipc_decode(buf, (size_t)n, &d), 0);
	assert_int_equal(d.u.connect.port, 22);

	fill(&m, &types[9], M_MID);
	assert_int_equal(m.type, IPC_CONNECT_ANS);
	m.u.connect_ans.port = 65536;
	assert_int_equal(ipc_encode(&m, buf, sizeof(buf)), -1);
	m.u.connect_ans.port = 0;
	assert_true(ipc_encode(&m, buf, sizeof(buf)) > 0);
}

static void
test_unknown_types(void **state)
{
	static const uint32_t bad[] = {
		0, IPC_TYPE_MAX, IPC_TYPE_MAX + 1, 0x01000000, UINT32_MAX,
	};
	struct ipc_msg m;
	struct wire w;
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* The type followed by any body that some type would take. */
		for (j = 0; j < NTYPES; j++) {
			build(&w, &types[j], M_MID, &nomut);
			w.b[0] = (uint8_t)(bad[i] >> 24);
			w.b[1] = (uint8_t)(bad[i] >> 16);
			w.b[2] = (uint8_t)(bad[i] >> 8);
			w.b[3] = (uint8_t)bad[i];
			assert_int_equal(ipc_decode(w.b, w.len, &m), -1);
			assert_int_equal(ipc_decode(w.b, 4, &m), -1);
		}
		memset(&m, 0, sizeof(m));
		m.type = bad[i];
		assert_int_equal(ipc_encode(&m, w.b, sizeof(w.b)), -1);
	}
	assert_int_equal(ipc_decode(w.b, 0, &m), -1);
}

static void
encode_bad(struct ipc_msg *m, const char *what)
{
	uint8_t buf[IPC_MSG_MAX];

	if (ipc_encode(m, buf, sizeof(buf)) != -1) {
		fail_msg("encoded %s", what);
	}
}

/* The encoder refuses what the decoder would refuse. */
static void
test_encode_errors(void **state)
{
	struct ipc_msg m;

	(void)state;
	fill(&m, &types[0], M_MAX);
	memset(m.u.log.text, 'x', sizeof(m.u.log.text));
	encode_bad(&m, "an unterminated log text");
	fill(&m, &types[0], M_MID);
	m.u.log.level = 4;
	encode_bad(&m, "log level 4");
	fill(&m, &types[2], M_MID);
	m.u.auth_pubkey.probe = 2;
	encode_bad(&m, "probe 2");
	fill(&m, &types[2], M_MID);
	m.u.auth_pubkey.keylen = IPC_KEY_MAX + 1;
	encode_bad(&m, "an over-long key");
	fill(&m, &types[2], M_MID);
	memset(m.u.auth_pubkey.user, 'u', sizeof(m.u.auth_pubkey.user));
	encode_bad(&m, "an unterminated user");
	fill(&m, &types[3], M_MID);
	memset(m.u.auth_totp.code, '1', sizeof(m.u.auth_totp.code));
	encode_bad(&m, "an unterminated code");
	fill(&m, &types[8], M_MID);
	m.u.auth_ans.result = 4;
	encode_bad(&m, "auth result 4");
	fill(&m, &types[9], M_MID);
	m.u.connect_ans.ok = 2;
	encode_bad(&m, "ok 2");
	fill(&m, &types[9], M_MID);
	memset(m.u.connect_ans.addr, '1', sizeof(m.u.connect_ans.addr));
	encode_bad(&m, "an unterminated addr");
	fill(&m, &types[5], M_MID);
	m.u.connect.via = 2;
	encode_bad(&m, "via 2");
	fill(&m, &types[11], M_MID);
	assert_int_equal(m.type, IPC_DNS_REQ);
	m.u.dns_req.querylen = 0;
	encode_bad(&m, "an empty query");
	m.u.dns_req.querylen = IPC_DNS_MAX + 1;
	encode_bad(&m, "an over-long query");
	fill(&m, &types[12], M_MAX);
	memset(m.u.shuttle_ans.routes, '2', sizeof(m.u.shuttle_ans.routes));
	encode_bad(&m, "unterminated routes");
	fill(&m, &types[12], M_MID);
	m.u.shuttle_ans.dns_allowed = 2;
	encode_bad(&m, "dns_allowed 2");
	fill(&m, &types[13], M_MID);
	m.u.dns_ans.answerlen = IPC_DNS_MAX + 1;
	encode_bad(&m, "an over-long answer");
	fill(&m, &types[13], M_MID);
	m.u.dns_ans.ok = 2;
	encode_bad(&m, "dns ok 2");
}

/* A short buffer fails the encoding and is never written past its end. */
static void
test_encode_short_buffer(void **state)
{
	uint8_t buf[IPC_MSG_MAX + 16];
	struct ipc_msg m;
	struct wire w;
	size_t i, len, j;

	(void)state;
	for (i = 0; i < NTYPES; i++) {
		fill(&m, &types[i], M_MAX);
		build(&w, &types[i], M_MAX, &nomut);
		for (len = 0; len < w.len; len++) {
			memset(buf, 0xa5, sizeof(buf));
			if (ipc_encode(&m, buf, len) != -1) {
				fail_msg("%s: encoded into %zu bytes",
				    types[i].name, len);
			}
			for (j = len; j < sizeof(buf); j++)
				assert_int_equal(buf[j], 0xa5);
		}
		assert_int_equal(ipc_encode(&m, buf, w.len), (int)w.len);
	}
}

/*
 * Deterministic mutations: every single-bit flip of every message either
 * fails to decode or decodes to something that encodes to exactly the
 * flipped bytes (the encoding is unique).
 */
static void
test_bit_flips(void **state)
{
	uint8_t out[IPC_MSG_MAX];
	struct ipc_msg m;
	struct wire w;
	size_t i, k, bit, accepted = 0;
	int n;

	(void)state;
	for (i = 0; i < NTYPES; i++) {
		for (k = 0; k < NMODES; k++) {
			build(&w, &types[i], modes[k], &nomut);
			for (bit = 0; bit < w.len * 8; bit++) {
				w.b[bit / 8] ^= (uint8_t)(1 << (bit % 8));
				if (ipc_decode(w.b, w.len, &m) == 0) {
					n = ipc_encode(&m, out, sizeof(out));
					assert_int_equal(n, (int)w.len);
					assert_memory_equal(out, w.b, w.len);
					accepted++;
				}
				w.b[bit / 8] ^= (uint8_t)(1 << (bit % 8));
			}
		}
	}
	/* String bytes flip to other bytes often enough. */
	assert_true(accepted > 1000);
}

static void
test_allowed(void **state)
{
	/* Rows: type 0 .. IPC_TYPE_MAX; columns: PREAUTH, TOTP, AUTHED. */
	static const int want[IPC_TYPE_MAX + 1][3] = {
		[0] = { 0, 0, 0 },
		[IPC_LOG] = { 1, 1, 1 },
		[IPC_CLIENT_INFO] = { 1, 0, 0 },
		[IPC_AUTH_PUBKEY] = { 1, 0, 0 },
		[IPC_AUTH_TOTP] = { 0, 1, 0 },
		[IPC_AUTH_FAILED] = { 1, 1, 0 },
		[IPC_CONNECT] = { 0, 0, 1 },
		[IPC_CHANNEL_CLOSE] = { 0, 0, 1 },
		[IPC_REFUSED] = { 0, 0, 1 },
		[IPC_AUTH_ANS] = { 0, 0, 0 },
		[IPC_CONNECT_ANS] = { 0, 0, 0 },
		[IPC_SHUTTLE_START] = { 0, 0, 1 },
		[IPC_DNS_REQ] = { 0, 0, 1 },
		[IPC_SHUTTLE_ANS] = { 0, 0, 0 },
		[IPC_DNS_ANS] = { 0, 0, 0 },
		[IPC_TYPE_MAX] = { 0, 0, 0 },
	};
	static const enum ipc_phase phases[] = {
		IPC_PHASE_PREAUTH, IPC_PHASE_TOTP, IPC_PHASE_AUTHED,
	};
	uint32_t type;
	size_t p;

	(void)state;
	for (type = 0; type <= IPC_TYPE_MAX; type++) {
		for (p = 0; p < 3; p++) {
			if (ipc_allowed(phases[p], type) != want[type][p]) {
				fail_msg("ipc_allowed(%zu, %s=%u) != %d", p,
				    ipc_type_name(type), type, want[type][p]);
			}
		}
	}
	for (p = 0; p < 3; p++) {
		assert_int_equal(ipc_allowed(phases[p], UINT32_MAX), 0);
		assert_int_equal(ipc_allowed(phases[p], 0x01000000), 0);
	}
	/* A phase the master never sets allows nothing. */
	for (type = 0; type <= IPC_TYPE_MAX; type++)
		assert_int_equal(ipc_allowed((enum ipc_phase)3, type), 0);
}

static void
test_type_names(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NTYPES; i++)
		assert_string_equal(ipc_type_name(types[i].type),
		    types[i].name);
	assert_int_equal(NTYPES, IPC_TYPE_MAX - 1);
	assert_string_equal(ipc_type_name(0), "unknown");
	assert_string_equal(ipc_type_name(IPC_TYPE_MAX), "unknown");
	assert_string_equal(ipc_type_name(UINT32_MAX), "unknown");
}

/* Transport. */

#define SNAP_FDS	1024

/* Which descriptors of this process are open. */
struct fdsnap {
	unsigned char	open[SNAP_FDS];
};

static void
snap(struct fdsnap *s)
{
	int i;

	for (i = 0; i < SNAP_FDS; i++)
		s->open[i] = fcntl(i, F_GETFD) != -1;
}

static void
assert_same_fds(const struct fdsnap *before)
{
	struct fdsnap now;
	int i;

	snap(&now);
	for (i = 0; i < SNAP_FDS; i++) {
		if (now.open[i] != before->open[i]) {
			fail_msg("fd %d was %s, is %s", i,
			    before->open[i] ? "open" : "closed",
			    now.open[i] ? "open" : "closed");
		}
	}
}

static void
pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
}

static void
close_pair(int sv[2])
{
	close(sv[0]);
	close(sv[1]);
}

/* Send raw bytes with any number of fds, bypassing ipc_send's checks. */
static void
raw_send(int sock, const void *p, size_t len, const int *fds, size_t nfds)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(16 * sizeof(int))];
	} cb;
	struct cmsghdr *cmsg;
	struct msghdr msg;
	struct iovec iov;

	assert_true(nfds <= 16);
	memset(&msg, 0, sizeof(msg));
	memset(&cb, 0, sizeof(cb));
	iov.iov_base = (void *)p;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (nfds > 0) {
		msg.msg_control = cb.buf;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cmsg), fds, nfds * sizeof(int));
	}
	assert_int_equal(sendmsg(sock, &msg, MSG_NOSIGNAL), (ssize_t)len);
}

/* Receive expecting a refused datagram; no fd may be left behind. */
static void
recv_bad(int sock, const char *what)
{
	struct fdsnap before;
	struct ipc_msg m;
	int fd = 1234;

	snap(&before);
	errno = 0;
	if (ipc_recv(sock, &m, &fd) != -1 || errno != EBADMSG) {
		fail_msg("%s: not refused with EBADMSG (errno %d)", what,
		    errno);
	}
	assert_int_equal(fd, -1);
	assert_same_fds(&before);
}

static void
test_send_recv_all(void **state)
{
	struct ipc_msg m, d;
	size_t i, k;
	int sv[2], p[2], fd, sendfd;

	(void)state;
	pair(sv);
	for (i = 0; i < NTYPES; i++) {
		for (k = 0; k < NMODES; k++) {
			fill(&m, &types[i], modes[k]);
			sendfd = -1;
			if (m.type == IPC_CONNECT_ANS && m.u.connect_ans.ok) {
				assert_int_equal(pipe(p), 0);
				sendfd = p[1];
			}
			assert_int_equal(ipc_send(sv[0], &m, sendfd), 0);
			assert_int_equal(ipc_recv(sv[1], &d, &fd), 1);
			if (memcmp(&m, &d, sizeof(m)) != 0) {
				fail_msg("%s mode %zu differs after transport",
				    types[i].name, k);
			}
			if (sendfd == -1) {
				assert_int_equal(fd, -1);
				continue;
			}
			assert_true(fd >= 0);
			close(fd);
			close(p[0]);
			close(p[1]);
		}
	}
	close_pair(sv);
}

static void
test_fd_passing(void **state)
{
	struct fdsnap before;
	struct ipc_msg m, d;
	char buf[16];
	int sv[2], p[2], fd;

	(void)state;
	pair(sv);
	assert_int_equal(pipe(p), 0);
	memset(&m, 0, sizeof(m));
	m.type = IPC_CONNECT_ANS;
	m.u.connect_ans.chan = 3;
	m.u.connect_ans.ok = 1;
	strcpy(m.u.connect_ans.addr, "192.0.2.7");
	m.u.connect_ans.port = 22;
	assert_int_equal(ipc_send(sv[0], &m, p[1]), 0);
	/* ipc_send does not take the fd: the sender closes its copy. */
	assert_int_not_equal(fcntl(p[1], F_GETFD), -1);
	close(p[1]);

	snap(&before);
	assert_int_equal(ipc_recv(sv[1], &d, &fd), 1);
	assert_true(fd >= 0);
	assert_false(before.open[fd]);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(d.u.connect_ans.chan, 3);
	assert_string_equal(d.u.connect_ans.addr, "192.0.2.7");

	assert_int_equal(write(fd, "through", 7), 7);
	assert_int_equal(read(p[0], buf, sizeof(buf)), 7);
	assert_memory_equal(buf, "through", 7);
	/* The received fd was the only write end left. */
	close(fd);
	assert_int_equal(read(p[0], buf, sizeof(buf)), 0);
	close(p[0]);
	close_pair(sv);
}

/* An fd on any type but CONNECT_ANS is refused, and closed. */
static void
test_fd_wrong_type(void **state)
{
	struct ipc_msg m;
	struct wire w;
	size_t i;
	int sv[2], p[2];

	(void)state;
	pair(sv);
	assert_int_equal(pipe(p), 0);
	for (i = 0; i < NTYPES; i++) {
		if (types[i].type == IPC_CONNECT_ANS)
			continue;
		fill(&m, &types[i], M_MID);
		errno = 0;
		assert_int_equal(ipc_send(sv[0], &m, p[1]), -1);
		assert_int_equal(errno, EINVAL);
		build(&w, &types[i], M_MID, &nomut);
		raw_send(sv[0], w.b, w.len, &p[1], 1);
		recv_bad(sv[1], types[i].name);
	}
	/* Only our own write end is left. */
	close(p[1]);
	assert_int_equal(read(p[0], w.b, 1), 0);
	close(p[0]);
	close_pair(sv);
}

static void
test_fd_connect_ans_rules(void **state)
{
	struct ipc_msg m, d;
	struct wire w;
	int sv[2], p[2], fds[12], fd;
	size_t i;

	(void)state;
	pair(sv);
	assert_int_equal(pipe(p), 0);
	fill(&m, &types[9], M_MID);

	/* ok=0 with an fd. */
	m.u.connect_ans.ok = 0;
	errno = 0;
	assert_int_equal(ipc_send(sv[0], &m, p[1]), -1);
	assert_int_equal(errno, EINVAL);
	assert_true(ipc_encode(&m, w.b, sizeof(w.b)) > 0);
	w.len = (size_t)ipc_encode(&m, w.b, sizeof(w.b));
	raw_send(sv[0], w.b, w.len, &p[1], 1);
	recv_bad(sv[1], "ok=0 with an fd");
	raw_send(sv[0], w.b, w.len, NULL, 0);
	assert_int_equal(ipc_recv(sv[1], &d, &fd), 1);
	assert_int_equal(fd, -1);

	/* ok=1 without one. */
	m.u.connect_ans.ok = 1;
	errno = 0;
	assert_int_equal(ipc_send(sv[0], &m, -1), -1);
	assert_int_equal(errno, EINVAL);
	w.len = (size_t)ipc_encode(&m, w.b, sizeof(w.b));
	raw_send(sv[0], w.b, w.len, NULL, 0);
	recv_bad(sv[1], "ok=1 without an fd");

	/* Two fds, and more than the receiver has room for. */
	raw_send(sv[0], w.b, w.len, (int[]){ p[1], p[0] }, 2);
	recv_bad(sv[1], "two fds");
	for (i = 0; i < 12; i++)
		fds[i] = p[1];
	raw_send(sv[0], w.b, w.len, fds, 12);
	recv_bad(sv[1], "twelve fds");

	/* An fd with a malformed message. */
	w.b[w.len - 3] = 0x01;	/* port >= 65536 */
	raw_send(sv[0], w.b, w.len, &p[1], 1);
	recv_bad(sv[1], "an fd with a bad port");

	close(p[1]);
	assert_int_equal(read(p[0], w.b, 1), 0);
	close(p[0]);
	close_pair(sv);
}

static void
test_truncated_datagram(void **state)
{
	static uint8_t big[IPC_MSG_MAX + 100];
	struct ipc_msg m, d;
	int sv[2], p[2], fd;
	int n;

	(void)state;
	pair(sv);
	assert_int_equal(pipe(p), 0);
	/* A good message at the start of an over-long datagram. */
	fill(&m, &types[0], M_MID);
	n = ipc_encode(&m, big, sizeof(big));
	assert_true(n > 0);
	memset(big + n, 0, sizeof(big) - (size_t)n);
	assert_int_equal(send(sv[0], big, sizeof(big), 0),
	    (ssize_t)sizeof(big));
	recv_bad(sv[1], "IPC_MSG_MAX + 100 bytes");

	/* The same with an fd riding along. */
	raw_send(sv[0], big, sizeof(big), &p[1], 1);
	recv_bad(sv[1], "IPC_MSG_MAX + 100 bytes and an fd");

	/* Exactly one byte over, which the buffer still holds. */
	assert_int_equal(send(sv[0], big, IPC_MSG_MAX + 1, 0),
	    IPC_MSG_MAX + 1);
	recv_bad(sv[1], "IPC_MSG_MAX + 1 bytes");

	/* The rest of a refused datagram is gone; the next one is fine. */
	assert_int_equal(ipc_send(sv[0], &m, -1), 0);
	assert_int_equal(ipc_recv(sv[1], &d, &fd), 1);
	assert_memory_equal(&m, &d, sizeof(m));

	close(p[1]);
	assert_int_equal(read(p[0], big, 1), 0);
	close(p[0]);
	close_pair(sv);
}

static void
test_empty_datagram(void **state)
{
	struct ipc_msg m;
	uint8_t b = 0;
	int sv[2], p[2], fd;

	(void)state;
	pair(sv);
	assert_int_equal(pipe(p), 0);
	raw_send(sv[0], &b, 0, &p[1], 1);
	recv_bad(sv[1], "an empty datagram with an fd");
	/* Without one it cannot be told from EOF, and counts as EOF. */
	assert_int_equal(send(sv[0], &b, 0, 0), 0);
	assert_int_equal(ipc_recv(sv[1], &m, &fd), 0);
	close(p[1]);
	assert_int_equal(read(p[0], &b, 1), 0);
	close(p[0]);
	close_pair(sv);
}

static void
test_eof_and_eagain(void **state)
{
	struct ipc_msg m, d;
	int sv[2], fd;

	(void)state;
	pair(sv);
	assert_int_equal(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	errno = 0;
	assert_int_equal(ipc_recv(sv[1], &d, &fd), -1);
	assert_int_equal(errno, EAGAIN);

	fill(&m, &types[6], M_MAX);
	assert_int_equal(ipc_send(sv[0], &m, -1), 0);
	close(sv[0]);
	assert_int_equal(ipc_recv(sv[1], &d, &fd), 1);
	assert_memory_equal(&m, &d, sizeof(m));
	assert_int_equal(ipc_recv(sv[1], &d, &fd), 0);
	assert_int_equal(fd, -1);
	assert_int_equal(ipc_recv(sv[1], &d, &fd), 0);
	close(sv[1]);
}

static void
test_send_errors(void **state)
{
	struct ipc_msg m;
	int sv[2], fd;

	(void)state;
	pair(sv);
	assert_int_equal(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	fill(&m, &types[5], M_MID);
	m.u.connect.port = 0;
	errno = 0;
	assert_int_equal(ipc_send(sv[0], &m, -1), -1);
	assert_int_equal(errno, EMSGSIZE);
	m.type = 0;
	errno = 0;
	assert_int_equal(ipc_send(sv[0], &m, -1), -1);
	assert_int_equal(errno, EMSGSIZE);
	/* Nothing went out. */
	assert_int_equal(ipc_recv(sv[1], &m, &fd), -1);
	assert_int_equal(errno, EAGAIN);

	/*
	 * A closed peer is EPIPE.  (Linux raises no SIGPIPE on SEQPACKET
	 * sockets even without MSG_NOSIGNAL, so that flag, kept in case,
	 * cannot be tested here.)
	 */
	close(sv[1]);
	fill(&m, &types[0], M_MID);
	errno = 0;
	assert_int_equal(ipc_send(sv[0], &m, -1), -1);
	assert_int_equal(errno, EPIPE);
	close(sv[0]);
}

static volatile sig_atomic_t alarms;

static void
on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/* A signal while blocked in recvmsg does not lose the message. */
static void
test_recv_eintr(void **state)
{
	struct itimerval it;
	struct sigaction sa, old;
	struct ipc_msg m, d;
	pid_t pid;
	int sv[2], fd, status, r;

	(void)state;
	pair(sv);
	fill(&m, &types[1], M_MID);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = 0;	/* no SA_RESTART: recvmsg sees EINTR */
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
	alarms = 0;

	if ((pid = fork()) == 0) {
		usleep(300 * 1000);
		_exit(ipc_send(sv[0], &m, -1) == 0 ? 0 : 1);
	}
	assert_true(pid > 0);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_usec = 50 * 1000;
	assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
	r = ipc_recv(sv[1], &d, &fd);
	sigaction(SIGALRM, &old, NULL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(alarms, 1);
	assert_int_equal(r, 1);
	assert_memory_equal(&m, &d, sizeof(m));
	close_pair(sv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_trailing),
		cmocka_unit_test(test_string_nul),
		cmocka_unit_test(test_string_long),
		cmocka_unit_test(test_length_past_end),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_unknown_types),
		cmocka_unit_test(test_encode_errors),
		cmocka_unit_test(test_encode_short_buffer),
		cmocka_unit_test(test_bit_flips),
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_send_recv_all),
		cmocka_unit_test(test_fd_passing),
		cmocka_unit_test(test_fd_wrong_type),
		cmocka_unit_test(test_fd_connect_ans_rules),
		cmocka_unit_test(test_truncated_datagram),
		cmocka_unit_test(test_empty_datagram),
		cmocka_unit_test(test_eof_and_eagain),
		cmocka_unit_test(test_send_errors),
		cmocka_unit_test(test_recv_eintr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
