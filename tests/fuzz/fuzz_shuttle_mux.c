/*
 * libFuzzer target for what an sshuttle client streams after its exec
 * request: the bootstrap swallower (gateway/shuttle_boot.c), then the mux
 * frame decoder and payload parsers (gateway/shuttle_frame.c), as the
 * session child runs them.
 *
 * Input: byte 0..1 give the assembler length N (1..8192), byte 2 seeds
 * the chunk sizes, the rest is the client's stdin.  Checks:
 *   - the bootstrap gives the same result and split point whole and in
 *     chunks, and never consumes past what it was given;
 *   - the frames after it decode to the same sequence whole and in
 *     chunks, with the decoder never holding a whole frame or more;
 *   - an accepted TCP_CONNECT prints back ("FAMILY,IP,PORT" with the
 *     address from inet_ntop) to a payload that parses to the same;
 *   - an accepted UDP_DATA's datagram lies inside the payload;
 *   - a ROUTES payload read as 5-byte (address, prefix) records writes
 *     lines that parse back to exactly those networks.
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
#include "shuttle_boot.h"
#include "shuttle_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t
chunk_size(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return 1 + (*seed >> 16) % 97;
}

/* Swallow the bootstrap; returns where the mux starts, or size if never. */
static size_t
boot(const uint8_t *p, size_t size, size_t n, uint32_t seed)
{
	struct shuttle_boot *b1, *b2;
	size_t used1, used2 = 0, off = 0, c, u;
	int r1, r2 = 0;

	if ((b1 = shuttle_boot_new(n)) == NULL ||
	    (b2 = shuttle_boot_new(n)) == NULL)
		abort();
	r1 = shuttle_boot_feed(b1, p, size, &used1);
	if (used1 > size || (r1 == 0 && used1 != size))
		abort();
	while (off < size) {
		c = chunk_size(&seed);
		if (c > size - off)
			c = size - off;
		r2 = shuttle_boot_feed(b2, p + off, c, &u);
		if (u > c)
			abort();
		off += u;
		used2 += u;
		if (r2 != 0)
			break;
	}
	if (r1 != r2 || (r1 >= 0 && used1 != used2) ||
	    shuttle_boot_total(b1) != shuttle_boot_total(b2) ||
	    shuttle_boot_records(b1) > SHUTTLE_BOOT_RECORDS)
		abort();
	(void)shuttle_boot_strerror(r1);
	shuttle_boot_free(b1);
	shuttle_boot_free(b2);
	return r1 == 1 ? used1 : size;
}

static void
check_connect(const struct shuttle_frame *f)
{
	char ip[INET6_ADDRSTRLEN], again[80];
	struct addr a, a2;
	unsigned int port, port2;
	int n;

	if (shuttle_parse_tcp_connect(f->payload, f->len, &a, &port) != 0)
		return;
	if (port < 1 || port > 65535 ||
	    (a.af != AF_INET && a.af != AF_INET6) ||
	    inet_ntop(a.af, a.a, ip, sizeof(ip)) == NULL)
		abort();
	n = snprintf(again, sizeof(again), "%d,%s,%u",
	    a.af == AF_INET ? 2 : 10, ip, port);
	if (n < 0 || (size_t)n >= sizeof(again) ||
	    shuttle_parse_tcp_connect((const uint8_t *)again, (size_t)n, &a2,
	    &port2) != 0 || !addr_eq(&a, &a2) || port != port2)
		abort();
}

static void
check_udp(const struct shuttle_frame *f)
{
	const uint8_t *d;
	struct addr a;
	unsigned int port;
	size_t dl;
	int af;

	if (shuttle_parse_udp_data(f->payload, f->len, &a, &port, &d,
	    &dl) == 0 && (port < 1 || port > 65535 || d < f->payload ||
	    d + dl != f->payload + f->len))
		abort();
	if (shuttle_parse_udp_open(f->payload, f->len, &af) == 0 &&
	    af != AF_INET && af != AF_INET6)
		abort();
}

static void
check_routes(const struct shuttle_frame *f)
{
	static struct addr_net nets[SHUTTLE_PAYLOAD_MAX / 5];
	static char out[SHUTTLE_PAYLOAD_MAX];
	struct addr_net got;
	char *line, *nl, cidr[48];
	size_t i, n = f->len / 5, w;
	uint32_t a;
	unsigned int bits;

	for (i = 0; i < n; i++) {
		memset(&nets[i], 0, sizeof(nets[i]));
		bits = f->payload[i * 5 + 4] % 33;
		a = (uint32_t)f->payload[i * 5] << 24 |
		    (uint32_t)f->payload[i * 5 + 1] << 16 |
		    (uint32_t)f->payload[i * 5 + 2] << 8 | f->payload[i * 5 + 3];
		a &= bits == 0 ? 0 : 0xffffffffU << (32 - bits);
		nets[i].base.af = AF_INET;
		nets[i].base.a[0] = (uint8_t)(a >> 24);
		nets[i].base.a[1] = (uint8_t)(a >> 16);
		nets[i].base.a[2] = (uint8_t)(a >> 8);
		nets[i].base.a[3] = (uint8_t)a;
		nets[i].bits = bits;
	}
	if (shuttle_routes_write(nets, n, out, sizeof(out), &w) != 0)
		return;
	if (w > sizeof(out))
		abort();
	/* Every line "2,A.B.C.D,BITS\n" is the next network, in order. */
	for (i = 0, line = out; i < n; i++, line = nl + 1) {
		if ((nl = memchr(line, '\n', w - (size_t)(line - out))) == NULL ||
		    (size_t)(nl - line) >= sizeof(cidr) || line[0] != '2' ||
		    line[1] != ',')
			abort();
		memcpy(cidr, line + 2, (size_t)(nl - line - 2));
		cidr[nl - line - 2] = '\0';
		if (strchr(cidr, ',') == NULL)
			abort();
		*strchr(cidr, ',') = '/';
		if (addr_parse_net(cidr, &got) != 0 ||
		    !addr_eq(&got.base, &nets[i].base) ||
		    got.bits != nets[i].bits)
			abort();
	}
	if ((size_t)(line - out) != w)
		abort();
}

/* Decode all frames, whole or in chunks; a hash of what came out. */
static uint64_t
frames(const uint8_t *p, size_t size, uint32_t seed, int chunked, int *res,
    int check)
{
	struct shuttle_dec *d;
	struct shuttle_frame f;
	size_t off = 0, c, used;
	uint64_t h = 1469598103934665603ULL;
	int r = 0;

	if ((d = shuttle_dec_new()) == NULL)
		abort();
	while (off < size && r >= 0) {
		c = chunked ? chunk_size(&seed) : size - off;
		if (c > size - off)
			c = size - off;
		while ((r = shuttle_dec_next(d, p + off, c, &used, &f)) == 1) {
			if (used > c || (f.len > 0 && f.payload == NULL))
				abort();
			h = (h ^ ((uint64_t)f.chan << 32 | (uint64_t)f.cmd << 16 |
			    f.len)) * 1099511628211ULL;
			if (f.len > 0)
				h ^= (uint64_t)f.payload[0] << 8 |
				    f.payload[f.len - 1];
			(void)shuttle_cmd_name(f.cmd);
			if (check && f.cmd == SHUTTLE_CMD_TCP_CONNECT)
				check_connect(&f);
			if (check && (f.cmd == SHUTTLE_CMD_UDP_DATA ||
			    f.cmd == SHUTTLE_CMD_UDP_OPEN))
				check_udp(&f);
			if (check && f.cmd == SHUTTLE_CMD_ROUTES)
				check_routes(&f);
			off += used;
			c -= used;
		}
		if (r == 0) {
			off += used;
			if (shuttle_dec_pending(d) >= SHUTTLE_FRAME_MAX)
				abort();
		}
	}
	(void)shuttle_frame_strerror(r);
	shuttle_dec_free(d);
	*res = r;
	return h;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n, start;
	uint32_t seed;
	int r1, r2;

	if (size < 3)
		return 0;
	n = 1 + ((size_t)data[0] << 8 | data[1]) % 8192;
	seed = data[2];
	data += 3;
	size -= 3;
	start = boot(data, size, n, seed);
	if (frames(data + start, size - start, seed, 0, &r1, 1) !=
	    frames(data + start, size - start, seed, 1, &r2, 0) || r1 != r2)
		abort();
	return 0;
}
