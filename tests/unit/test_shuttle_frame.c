/*
 * Unit tests for shuttle_frame: frames from the live captures in
 * notes/sshuttle-protocol.md, a stream of frames (0 to 65535 payload
 * bytes) decoded whole, byte by byte and in uneven chunks with the
 * zero-copy path checked, broken magic, the header encoder's range
 * checks, the strict payload parsers, the ROUTES writer, and mutation
 * tests: every single-byte edit of real payloads against a reference
 * split-and-inet_pton parser, and every single-byte edit of a frame
 * stream decoded in two different chunkings.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"
#include "shuttle_frame.h"

/* TCP_CONNECT on channel 1, 17 bytes, as captured. */
static const uint8_t cap_connect[] =
    "\x53\x53\x00\x01\x42\x03\x00\x11" "2,10.123.0.1,8080";

static void
test_peek(void **state)
{
	struct shuttle_frame f;

	(void)state;
	assert_int_equal(shuttle_frame_peek(cap_connect, 25, &f), 1);
	assert_int_equal(f.chan, 1);
	assert_int_equal(f.cmd, SHUTTLE_CMD_TCP_CONNECT);
	assert_int_equal(f.len, 17);
	assert_ptr_equal(f.payload, cap_connect + 8);
	assert_int_equal(shuttle_frame_peek(cap_connect, 24, &f), 0);
	assert_int_equal(shuttle_frame_peek(cap_connect, 7, &f), 0);
	assert_int_equal(shuttle_frame_peek(cap_connect, 0, &f), 0);
	assert_int_equal(shuttle_frame_peek("X", 1, &f),
	    SHUTTLE_FRAME_ERR_MAGIC);
	assert_int_equal(shuttle_frame_peek("Ss", 2, &f),
	    SHUTTLE_FRAME_ERR_MAGIC);
	assert_int_equal(shuttle_frame_peek("SS\0\0\x42\x01\0\0", 8, &f), 1);
	assert_int_equal(f.len, 0);
	assert_null(f.payload);
	assert_int_equal(shuttle_frame_peek(cap_connect, 25, NULL),
	    SHUTTLE_FRAME_ERR_ARG);
}

/* A stream of frames with payload lengths from lens[], bytes patterned. */
struct stream {
	uint8_t	*p;
	size_t	 len;
};

static const size_t lens[] = { 7, 0, 17, 65535, 1, 2048, 0, 65534, 9, 3 };
#define NFRAMES	(sizeof(lens) / sizeof(lens[0]))

static void
make_stream(struct stream *s)
{
	size_t i, k, o = 0;

	s->len = 0;
	for (i = 0; i < NFRAMES; i++)
		s->len += SHUTTLE_HDR_LEN + lens[i];
	assert_non_null(s->p = malloc(s->len));
	for (i = 0; i < NFRAMES; i++) {
		assert_int_equal(shuttle_frame_put_hdr(s->p + o, s->len - o,
		    (unsigned int)i * 4099 % 65536, SHUTTLE_CMD_EXIT + i,
		    lens[i]), 0);
		o += SHUTTLE_HDR_LEN;
		for (k = 0; k < lens[i]; k++)
			s->p[o++] = (uint8_t)(k * 7 + i);
	}
}

static void
check_frame(const struct shuttle_frame *f, size_t i)
{
	size_t k;

	assert_true(i < NFRAMES);
	assert_int_equal(f->chan, i * 4099 % 65536);
	assert_int_equal(f->cmd, SHUTTLE_CMD_EXIT + i);
	assert_int_equal(f->len, lens[i]);
	for (k = 0; k < lens[i]; k++)
		if (f->payload[k] != (uint8_t)(k * 7 + i))
			fail_msg("frame %zu byte %zu", i, k);
}

/*
 * Decode p[0..len) fed in chunks of sizes[] (cycled); returns the number
 * of frames, how many came without a copy in *direct, the final result
 * (0 at the end, or the error) in *res.
 */
static size_t
decode(const uint8_t *p, size_t len, const size_t *sizes, size_t nsizes,
    size_t *direct, int *res, void (*each)(const struct shuttle_frame *,
    size_t))
{
	struct shuttle_dec *d;
	struct shuttle_frame f;
	size_t off = 0, n, k = 0, used, frames = 0;
	const uint8_t *chunk;
	int r = 0;

	assert_non_null(d = shuttle_dec_new());
	*direct = 0;
	while (off < len && r >= 0) {
		n = sizes[k++ % nsizes];
		if (n > len - off)
			n = len - off;
		chunk = p + off;
		off += n;
		while ((r = shuttle_dec_next(d, chunk, n, &used, &f)) == 1) {
			assert_true(used <= n);
			if (f.payload != NULL && f.payload >= chunk &&
			    f.payload < chunk + n)
				(*direct)++;
			if (each != NULL)
				each(&f, frames);
			frames++;
			chunk += used;
			n -= used;
		}
		if (r == 0) {
			assert_int_equal(used, n);
			assert_true(shuttle_dec_pending(d) < SHUTTLE_FRAME_MAX);
		}
	}
	*res = r;
	shuttle_dec_free(d);
	return frames;
}

static void
test_decode_stream(void **state)
{
	static const size_t whole[] = { SIZE_MAX };
	static const size_t one[] = { 1 };
	static const size_t uneven[] = { 3, 70000, 5, 8, 1, 65543, 4096 };
	struct stream s;
	size_t direct;
	int r;

	(void)state;
	make_stream(&s);
	/* Whole: every frame handed over in place. */
	assert_int_equal(decode(s.p, s.len, whole, 1, &direct, &r,
	    check_frame), NFRAMES);
	assert_int_equal(r, 0);
	assert_int_equal(direct, NFRAMES - 2);	/* two have no payload */
	/* Byte by byte: all gathered in the decoder. */
	assert_int_equal(decode(s.p, s.len, one, 1, &direct, &r,
	    check_frame), NFRAMES);
	assert_int_equal(r, 0);
	assert_int_equal(direct, 0);
	assert_int_equal(decode(s.p, s.len, uneven, 7, &direct, &r,
	    check_frame), NFRAMES);
	assert_int_equal(r, 0);
	assert_true(direct > 0);
	free(s.p);
}

static void
test_decode_magic(void **state)
{
	struct shuttle_dec *d;
	struct shuttle_frame f;
	size_t used;

	(void)state;
	assert_non_null(d = shuttle_dec_new());
	/* One good frame, then garbage: the frame comes out first. */
	assert_int_equal(shuttle_dec_next(d, "SS\0\0\x42\x01\0\1xQ", 10,
	    &used, &f), 1);
	assert_int_equal(used, 9);
	assert_int_equal(shuttle_dec_next(d, "Q", 1, &used, &f),
	    SHUTTLE_FRAME_ERR_MAGIC);
	/* Sticky, and consumes nothing. */
	assert_int_equal(shuttle_dec_next(d, cap_connect, 25, &used, &f),
	    SHUTTLE_FRAME_ERR_MAGIC);
	assert_int_equal(used, 0);
	shuttle_dec_free(d);

	/* Split magic: "S" buffered, then a bad second byte. */
	assert_non_null(d = shuttle_dec_new());
	assert_int_equal(shuttle_dec_next(d, "S", 1, &used, &f), 0);
	assert_int_equal(shuttle_dec_pending(d), 1);
	assert_int_equal(shuttle_dec_next(d, NULL, 0, &used, &f), 0);
	assert_int_equal(shuttle_dec_next(d, "T", 1, &used, &f),
	    SHUTTLE_FRAME_ERR_MAGIC);
	shuttle_dec_free(d);

	/* The most the decoder ever holds: a header and 65534 bytes. */
	assert_non_null(d = shuttle_dec_new());
	{
		static uint8_t big[SHUTTLE_FRAME_MAX];

		assert_int_equal(shuttle_frame_put_hdr(big, sizeof(big), 9,
		    SHUTTLE_CMD_TCP_DATA, SHUTTLE_PAYLOAD_MAX), 0);
		assert_int_equal(shuttle_dec_next(d, big, sizeof(big) - 1,
		    &used, &f), 0);
		assert_int_equal(shuttle_dec_pending(d),
		    SHUTTLE_FRAME_MAX - 1);
		assert_int_equal(shuttle_dec_next(d, big + sizeof(big) - 1,
		    1, &used, &f), 1);
		assert_int_equal(f.len, SHUTTLE_PAYLOAD_MAX);
		assert_int_equal(shuttle_dec_pending(d), 0);
	}
	assert_int_equal(shuttle_dec_next(d, NULL, 0, &used, &f), 0);
	assert_int_equal(shuttle_dec_next(d, NULL, 1, &used, &f),
	    SHUTTLE_FRAME_ERR_ARG);
	assert_int_equal(shuttle_dec_next(NULL, "S", 1, &used, &f),
	    SHUTTLE_FRAME_ERR_ARG);
	shuttle_dec_free(d);
	shuttle_dec_free(NULL);
}

static void
test_put_hdr(void **state)
{
	uint8_t h[SHUTTLE_HDR_LEN];

	(void)state;
	assert_int_equal(shuttle_frame_put_hdr(h, sizeof(h), 1,
	    SHUTTLE_CMD_TCP_CONNECT, 17), 0);
	assert_memory_equal(h, cap_connect, 8);
	assert_int_equal(shuttle_frame_put_hdr(h, sizeof(h), 0xffff, 0xffff,
	    65535), 0);
	assert_memory_equal(h, "SS\xff\xff\xff\xff\xff\xff", 8);
	assert_int_equal(shuttle_frame_put_hdr(h, sizeof(h), 1, 1, 65536),
	    SHUTTLE_FRAME_ERR_RANGE);
	assert_int_equal(shuttle_frame_put_hdr(h, sizeof(h), 65536, 1, 0),
	    SHUTTLE_FRAME_ERR_RANGE);
	assert_int_equal(shuttle_frame_put_hdr(h, sizeof(h), 1, 0x10000, 0),
	    SHUTTLE_FRAME_ERR_RANGE);
	assert_int_equal(shuttle_frame_put_hdr(h, 7, 1, 1, 0),
	    SHUTTLE_FRAME_ERR_SPACE);
	assert_int_equal(shuttle_frame_put_hdr(NULL, 8, 1, 1, 0),
	    SHUTTLE_FRAME_ERR_ARG);
	assert_int_equal(sizeof(SHUTTLE_SYNC) - 1, SHUTTLE_SYNC_LEN);
	assert_memory_equal(SHUTTLE_SYNC, "\0\0SSHUTTLE0001", SHUTTLE_SYNC_LEN);
}

static int
connect_s(const char *s, struct addr *a, unsigned int *port)
{
	return shuttle_parse_tcp_connect((const uint8_t *)s, strlen(s), a,
	    port);
}

static void
expect_connect(const char *s, const char *ip, unsigned int port)
{
	char text[ADDR_STRLEN];
	struct addr a;
	unsigned int p;

	assert_int_equal(connect_s(s, &a, &p), 0);
	addr_ntop(&a, text, sizeof(text));
	assert_string_equal(text, ip);
	assert_int_equal(p, port);
}

static void
test_tcp_connect(void **state)
{
	static const struct {
		const char	*s;
		int		 err;
	} bad[] = {
		{ "", SHUTTLE_FRAME_ERR_SYNTAX },
		{ "2", SHUTTLE_FRAME_ERR_SYNTAX },
		{ "2,10.0.0.1", SHUTTLE_FRAME_ERR_SYNTAX },
		{ "2,10.0.0.1,", SHUTTLE_FRAME_ERR_SYNTAX },
		{ "2,10.0.0.1,80,", SHUTTLE_FRAME_ERR_SYNTAX },
		{ "2,10.0.0.1,80\n", SHUTTLE_FRAME_ERR_SYNTAX },
		{ "2,10.0.0.1,080", SHUTTLE_FRAME_ERR_SYNTAX },
		{ "2,10.0.0.1,+80", SHUTTLE_FRAME_ERR_SYNTAX },
		{ "02,10.0.0.1,80", SHUTTLE_FRAME_ERR_SYNTAX },
		{ "-2,10.0.0.1,80", SHUTTLE_FRAME_ERR_SYNTAX },
		{ "100000,::1,80", SHUTTLE_FRAME_ERR_SYNTAX },
		{ "65536,::1,80", SHUTTLE_FRAME_ERR_SYNTAX },
		{ "2,10.0.0.1,0", SHUTTLE_FRAME_ERR_PORT },
		{ "2,10.0.0.1,65536", SHUTTLE_FRAME_ERR_PORT },
		{ "2,10.0.0.1,123456", SHUTTLE_FRAME_ERR_PORT },
		{ "2,,80", SHUTTLE_FRAME_ERR_ADDR },
		{ "2, 10.0.0.1,80", SHUTTLE_FRAME_ERR_ADDR },
		{ "2,10.1,80", SHUTTLE_FRAME_ERR_ADDR },
		{ "2,010.0.0.1,80", SHUTTLE_FRAME_ERR_ADDR },
		{ "2,fd00::1,80", SHUTTLE_FRAME_ERR_ADDR },
		{ "10,10.0.0.1,80", SHUTTLE_FRAME_ERR_ADDR },
		{ "10,fe80::1%eth0,80", SHUTTLE_FRAME_ERR_ADDR },
		{ "10,host.example,80", SHUTTLE_FRAME_ERR_ADDR },
		{ "10,0000:0000:0000:0000:0000:ffff:255.255.255.255:1,80",
		    SHUTTLE_FRAME_ERR_ADDR },
	};
	const uint8_t *data;
	struct addr a;
	unsigned int p;
	size_t i, dl;
	int af;

	(void)state;
	expect_connect("2,10.123.0.1,8080", "10.123.0.1", 8080);
	expect_connect("10,fd00:123::1,8081", "fd00:123::1", 8081);
	expect_connect("30,fd00::1,1", "fd00::1", 1);	/* macOS */
	expect_connect("23,::1,65535", "::1", 65535);	/* Windows */
	expect_connect("0,::,22", "::", 22);
	expect_connect("10,::ffff:10.0.0.5,22", "10.0.0.5", 22);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (connect_s(bad[i].s, &a, &p) != bad[i].err)
			fail_msg("\"%s\": %d", bad[i].s, connect_s(bad[i].s,
			    &a, &p));
	}
	/* A NUL inside the address. */
	assert_int_equal(shuttle_parse_tcp_connect(
	    (const uint8_t *)"2,10.0.0.1\0,80", 14, &a, &p),
	    SHUTTLE_FRAME_ERR_ADDR);
	assert_int_equal(shuttle_parse_tcp_connect(NULL, 0, &a, &p),
	    SHUTTLE_FRAME_ERR_SYNTAX);
	assert_int_equal(shuttle_parse_udp_data(NULL, 0, &a, &p, &data, &dl),
	    SHUTTLE_FRAME_ERR_SYNTAX);
	assert_int_equal(shuttle_parse_udp_open(NULL, 0, &af),
	    SHUTTLE_FRAME_ERR_SYNTAX);
	assert_int_equal(shuttle_parse_tcp_connect(NULL, 3, &a, &p),
	    SHUTTLE_FRAME_ERR_ARG);
}

static void
test_udp(void **state)
{
	static const char dgram[] = "10.123.0.1,7777,hello,udp";
	const uint8_t *data;
	struct addr a;
	unsigned int p;
	size_t dl;
	int af;

	(void)state;
	assert_int_equal(shuttle_parse_udp_data((const uint8_t *)dgram,
	    strlen(dgram), &a, &p, &data, &dl), 0);
	assert_int_equal(a.af, AF_INET);
	assert_int_equal(p, 7777);
	assert_int_equal(dl, 9);
	assert_memory_equal(data, "hello,udp", 9);
	assert_int_equal(shuttle_parse_udp_data((const uint8_t *)"::1,53,",
	    7, &a, &p, &data, &dl), 0);
	assert_int_equal(a.af, AF_INET6);
	assert_int_equal(dl, 0);
	assert_int_equal(shuttle_parse_udp_data((const uint8_t *)"::1,53",
	    6, &a, &p, &data, &dl), SHUTTLE_FRAME_ERR_SYNTAX);
	assert_int_equal(shuttle_parse_udp_data((const uint8_t *)"x,53,a",
	    6, &a, &p, &data, &dl), SHUTTLE_FRAME_ERR_ADDR);
	assert_int_equal(shuttle_parse_udp_data((const uint8_t *)"::1,0,a",
	    7, &a, &p, &data, &dl), SHUTTLE_FRAME_ERR_PORT);

	assert_int_equal(shuttle_parse_udp_open((const uint8_t *)"2", 1, &af),
	    0);
	assert_int_equal(af, AF_INET);
	assert_int_equal(shuttle_parse_udp_open((const uint8_t *)"10", 2,
	    &af), 0);
	assert_int_equal(af, AF_INET6);
	assert_int_equal(shuttle_parse_udp_open((const uint8_t *)"", 0, &af),
	    SHUTTLE_FRAME_ERR_SYNTAX);
	assert_int_equal(shuttle_parse_udp_open((const uint8_t *)"2x", 2,
	    &af), SHUTTLE_FRAME_ERR_SYNTAX);
}

static void
net(struct addr_net *n, const char *s)
{
	assert_int_equal(addr_parse_net(s, n), 0);
}

static void
test_routes(void **state)
{
	static const char want[] = "2,10.124.0.0,16\n2,192.168.77.0,24\n";
	struct addr_net nets[4];
	char out[128];
	size_t w;

	(void)state;
	net(&nets[0], "10.124.0.0/16");
	net(&nets[1], "fd00::/8");		/* skipped: IPv4 only */
	net(&nets[2], "192.168.77.0/24");
	assert_int_equal(shuttle_routes_write(nets, 3, out, sizeof(out), &w),
	    0);
	assert_int_equal(w, strlen(want));
	assert_memory_equal(out, want, w);
	/* Exactly enough room, then one byte short: nothing partial. */
	assert_int_equal(shuttle_routes_write(nets, 3, out, strlen(want),
	    &w), 0);
	assert_int_equal(shuttle_routes_write(nets, 3, out,
	    strlen(want) - 1, &w), SHUTTLE_FRAME_ERR_SPACE);
	assert_int_equal(w, 0);
	assert_int_equal(shuttle_routes_write(NULL, 0, out, sizeof(out), &w),
	    0);
	assert_int_equal(w, 0);
	net(&nets[3], "10.0.0.1/32");
	assert_int_equal(shuttle_routes_write(&nets[3], 1, out, sizeof(out),
	    &w), 0);
	assert_memory_equal(out, "2,10.0.0.1,32\n", w);
	/* Not a network: host bits, or a prefix too long. */
	nets[3].bits = 8;
	assert_int_equal(shuttle_routes_write(&nets[3], 1, out, sizeof(out),
	    &w), SHUTTLE_FRAME_ERR_ARG);
	nets[3].bits = 33;
	assert_int_equal(shuttle_routes_write(&nets[3], 1, out, sizeof(out),
	    &w), SHUTTLE_FRAME_ERR_ARG);
	net(&nets[3], "0.0.0.0/0");
	assert_int_equal(shuttle_routes_write(&nets[3], 1, out, sizeof(out),
	    &w), 0);
	assert_memory_equal(out, "2,0.0.0.0,0\n", w);
}

static void
test_routes_cap(void **state)
{
	struct addr_net *nets;
	char *out;
	size_t i, w, n = 5000;

	(void)state;
	/* 5000 lines of "2,10.x.y.0,24\n" need more than 65535 bytes. */
	assert_non_null(nets = calloc(n, sizeof(*nets)));
	assert_non_null(out = malloc(100000));
	for (i = 0; i < n; i++) {
		nets[i].base.af = AF_INET;
		nets[i].base.a[0] = 10;
		nets[i].base.a[1] = (uint8_t)(i >> 8);
		nets[i].base.a[2] = (uint8_t)i;
		nets[i].bits = 24;
	}
	assert_int_equal(shuttle_routes_write(nets, n, out, 100000, &w),
	    SHUTTLE_FRAME_ERR_SPACE);
	assert_int_equal(shuttle_routes_write(nets, 1000, out, 100000, &w),
	    0);
	assert_true(w > 10000 && w <= SHUTTLE_PAYLOAD_MAX);
	free(nets);
	free(out);
}

static void
test_names(void **state)
{
	int e;

	(void)state;
	assert_string_equal(shuttle_cmd_name(SHUTTLE_CMD_EXIT), "EXIT");
	assert_string_equal(shuttle_cmd_name(SHUTTLE_CMD_TCP_DATA),
	    "TCP_DATA");
	assert_string_equal(shuttle_cmd_name(SHUTTLE_CMD_DNS_REQ), "DNS_REQ");
	assert_string_equal(shuttle_cmd_name(SHUTTLE_CMD_UDP_CLOSE),
	    "UDP_CLOSE");
	assert_string_equal(shuttle_cmd_name(0x41ff), "unknown");
	assert_string_equal(shuttle_cmd_name(0x420f), "unknown");
	assert_string_equal(shuttle_cmd_name(0x10000 + SHUTTLE_CMD_PING),
	    "unknown");
	for (e = SHUTTLE_FRAME_ERR_NOMEM; e < 0; e++)
		assert_string_not_equal(shuttle_frame_strerror(e),
		    "unknown error");
	assert_string_equal(shuttle_frame_strerror(-100), "unknown error");
}

/* --- mutation ----------------------------------------------------------- */

/* Decimal, 1..maxd digits, no leading zero; -1 if not. */
static long
ref_num(const char *s, size_t n, size_t maxd)
{
	long v = 0;
	size_t i;

	if (n == 0 || n > maxd || (s[0] == '0' && n > 1))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Reference TCP_CONNECT: split at the first two commas, check each. */
static int
ref_connect(const char *s, size_t len, uint8_t ip[16], int *af, long *port)
{
	const char *c1, *c2;
	char text[64];
	long fam;

	if ((c1 = memchr(s, ',', len)) == NULL ||
	    (c2 = memchr(c1 + 1, ',', len - (size_t)(c1 + 1 - s))) == NULL)
		return -1;
	fam = ref_num(s, (size_t)(c1 - s), 5);
	*port = ref_num(c2 + 1, len - (size_t)(c2 + 1 - s), 5);
	if (fam < 0 || fam > 65535 || *port < 1 || *port > 65535 ||
	    (size_t)(c2 - c1 - 1) >= sizeof(text))
		return -1;
	memcpy(text, c1 + 1, (size_t)(c2 - c1 - 1));
	text[c2 - c1 - 1] = '\0';
	if (strlen(text) != (size_t)(c2 - c1 - 1))
		return -1;
	*af = fam == 2 ? AF_INET : AF_INET6;
	return inet_pton(*af, text, ip) == 1 ? 0 : -1;
}

static const char edits[] = "0123456789,:.af% \0\n-";

static void
check_connect(const char *s, size_t len, unsigned int *ok)
{
	struct addr a, want;
	unsigned int port;
	uint8_t ip[16];
	long rport;
	int af, r, rr;

	r = shuttle_parse_tcp_connect((const uint8_t *)s, len, &a, &port);
	rr = ref_connect(s, len, ip, &af, &rport);
	assert_true(r <= 0);
	assert_int_equal(r == 0, rr == 0);
	if (rr != 0)
		return;
	memset(&want, 0, sizeof(want));
	want.af = af;
	memcpy(want.a, ip, af == AF_INET ? 4 : 16);
	addr_normalise(&want);
	assert_true(addr_eq(&a, &want));
	assert_int_equal(port, rport);
	(*ok)++;
}

static void
test_mutate_connect(void **state)
{
	static const char *const seeds[] = {
		"2,10.123.0.1,8080", "10,fd00:123::1,8081",
		"10,::ffff:10.1.2.3,65535", "30,fe80::1,1",
	};
	char b[64];
	size_t k, pos, e, len;
	unsigned int ok = 0, n = 0;

	(void)state;
	for (k = 0; k < sizeof(seeds) / sizeof(seeds[0]); k++) {
		len = strlen(seeds[k]);
		for (pos = 0; pos <= len; pos++, n++) {
			check_connect(seeds[k], pos, &ok);
			for (e = 0; e < sizeof(edits) - 1; e++, n += 2) {
				memcpy(b, seeds[k], pos);
				b[pos] = edits[e];
				memcpy(b + pos + 1, seeds[k] + pos, len - pos);
				check_connect(b, len + 1, &ok);
				if (pos == len)
					continue;
				memcpy(b, seeds[k], len);
				b[pos] = edits[e];
				check_connect(b, len, &ok);
			}
		}
	}
	print_message("%u payloads, %u accepted\n", n, ok);
	assert_true(ok > 100);
	assert_true(ok < n / 2);
}

/* Both chunkings of a mutated stream give the same frames and result. */
struct seen {
	size_t		n;
	uint32_t	sum;
};

static struct seen seen_a, seen_b;

static void
record(struct seen *s, const struct shuttle_frame *f)
{
	size_t k;

	s->sum = s->sum * 31 + f->chan * 7u + f->cmd * 3u + f->len;
	for (k = 0; k < f->len; k++)
		s->sum = s->sum * 33 + f->payload[k];
	s->n++;
}

static void
rec_a(const struct shuttle_frame *f, size_t i)
{
	(void)i;
	record(&seen_a, f);
}

static void
rec_b(const struct shuttle_frame *f, size_t i)
{
	(void)i;
	record(&seen_b, f);
}

static void
test_mutate_stream(void **state)
{
	static const size_t whole[] = { SIZE_MAX };
	static const size_t odd[] = { 5, 1, 3, 9, 2 };
	static const uint8_t edits_b[] = { 0x00, 0x53, 0xff, 0x42, 0x10 };
	uint8_t s[200], m[200];
	size_t len = 0, pos, e, direct, fa, fb;
	int ra, rb;

	(void)state;
	/* Small frames so every header byte of every frame is edited. */
	memcpy(s + len, "SS\0\0\x42\x01\0\7chicken", 15);
	len += 15;
	memcpy(s + len, cap_connect, 25);
	len += 25;
	memcpy(s + len, "SS\0\1\x42\x06\0\4GET ", 12);
	len += 12;
	memcpy(s + len, "SS\0\1\x42\x05\0\0", 8);
	len += 8;
	for (pos = 0; pos < len; pos++) {
		for (e = 0; e < sizeof(edits_b); e++) {
			memcpy(m, s, len);
			m[pos] = edits_b[e];
			memset(&seen_a, 0, sizeof(seen_a));
			memset(&seen_b, 0, sizeof(seen_b));
			fa = decode(m, len, whole, 1, &direct, &ra, rec_a);
			fb = decode(m, len, odd, 5, &direct, &rb, rec_b);
			assert_int_equal(fa, fb);
			assert_int_equal(ra, rb);
			assert_int_equal(seen_a.sum, seen_b.sum);
			/* A broken magic byte is always caught. */
			if ((pos == 0 || pos == 1 || pos == 15 || pos == 16 ||
			    pos == 40 || pos == 41 || pos == 52 || pos == 53) &&
			    edits_b[e] != 'S')
				assert_int_equal(ra, SHUTTLE_FRAME_ERR_MAGIC);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peek),
		cmocka_unit_test(test_decode_stream),
		cmocka_unit_test(test_decode_magic),
		cmocka_unit_test(test_put_hdr),
		cmocka_unit_test(test_tcp_connect),
		cmocka_unit_test(test_udp),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_routes_cap),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_mutate_connect),
		cmocka_unit_test(test_mutate_stream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
