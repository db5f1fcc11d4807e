/*
 * addr: strict parsing and matching of IP addresses and CIDR networks.
 * Decisions are always made on these binary forms, never on strings.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

static const uint8_t v4mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

static size_t
addr_len(int af)
{
	return af == AF_INET ? 4 : 16;
}

void
addr_normalise(struct addr *a)
{
	if (a->af != AF_INET6 ||
	    memcmp(a->a, v4mapped_prefix, sizeof(v4mapped_prefix)) != 0)
		return;
	memmove(a->a, a->a + 12, 4);
	memset(a->a + 4, 0, 12);
	a->af = AF_INET;
}

int
addr_parse(const char *s, struct addr *out)
{
	memset(out, 0, sizeof(*out));
	if (strchr(s, ':') != NULL) {
		if (inet_pton(AF_INET6, s, out->a) != 1)
			return -1;
		out->af = AF_INET6;
		addr_normalise(out);
		return 0;
	}
	if (inet_pton(AF_INET, s, out->a) != 1)
		return -1;
	out->af = AF_INET;
	return 0;
}

static void
addr_mask(struct addr *a, unsigned int bits)
{
	size_t i, len = addr_len(a->af);

	for (i = 0; i < len; i++) {
		if (bits >= 8) {
			bits -= 8;
			continue;
		}
		a->a[i] &= (uint8_t)(0xff00 >> bits);
		bits = 0;
	}
}

static int
parse_bits(const char *s, unsigned int max, unsigned int *out)
{
	unsigned long v = 0;

	/* Digits only: no sign, no spaces, no leading zeros beyond "0". */
	if (*s == '\0' || strlen(s) > 3 || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v > max)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

int
addr_parse_net(const char *s, struct addr_net *out)
{
	char buf[ADDR_STRLEN];
	const char *slash;
	struct addr raw, masked;
	unsigned int bits, max;
	size_t alen;
	int mapped;

	memset(out, 0, sizeof(*out));
	slash = strchr(s, '/');
	alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof(buf))
		return -1;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	/* Parse without normalising so a mapped prefix length is known. */
	memset(&raw, 0, sizeof(raw));
	if (strchr(buf, ':') != NULL) {
		if (inet_pton(AF_INET6, buf, raw.a) != 1)
			return -1;
		raw.af = AF_INET6;
	} else {
		if (inet_pton(AF_INET, buf, raw.a) != 1)
			return -1;
		raw.af = AF_INET;
	}
	max = raw.af == AF_INET ? 32 : 128;
	bits = max;
	if (slash != NULL && parse_bits(slash + 1, max, &bits) != 0)
		return -2;
	masked = raw;
	addr_mask(&masked, bits);
	if (!addr_eq(&masked, &raw))
		return -3;
	mapped = raw.af == AF_INET6 && bits >= 96 &&
	    memcmp(raw.a, v4mapped_prefix, sizeof(v4mapped_prefix)) == 0;
	if (mapped) {
		addr_normalise(&raw);
		bits -= 96;
	}
	out->base = raw;
	out->bits = bits;
	return 0;
}

int
addr_net_suggest(const char *s, char *buf, size_t len)
{
	char host[ADDR_STRLEN];
	const char *slash = strchr(s, '/');
	struct addr_net n;
	struct addr a;
	unsigned int bits;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(slash - s));
	host[slash - s] = '\0';
	if (addr_parse(host, &a) != 0 || parse_bits(slash + 1,
	    a.af == AF_INET ? 32 : 128, &bits) != 0)
		return -1;
	/* A mapped address was normalised: its prefix counts from 96. */
	if (a.af == AF_INET && strchr(host, ':') != NULL) {
		if (bits < 96)
			return -1;
		bits -= 96;
	}
	n.base = a;
	n.bits = bits;
	addr_mask(&n.base, bits);
	addr_net_ntop(&n, buf, len);
	return 0;
}

int
addr_eq(const struct addr *a, const struct addr *b)
{
	return a->af == b->af && memcmp(a->a, b->a, addr_len(a->af)) == 0;
}

int
addr_in_net(const struct addr *a, const struct addr_net *n)
{
	struct addr x = *a;

	addr_normalise(&x);
	if (x.af != n->base.af)
		return 0;
	addr_mask(&x, n->bits);
	return addr_eq(&x, &n->base);
}

int
addr_net_within(const struct addr_net *a, const struct addr_net *b)
{
	return a->base.af == b->base.af && a->bits >= b->bits &&
	    addr_in_net(&a->base, b);
}

void
addr_ntop(const struct addr *a, char *buf, size_t len)
{
	if (len == 0)
		return;
	if ((a->af != AF_INET && a->af != AF_INET6) ||
	    inet_ntop(a->af, a->a, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
}

void
addr_net_ntop(const struct addr_net *n, char *buf, size_t len)
{
	char tmp[ADDR_STRLEN];

	addr_ntop(&n->base, tmp, sizeof(tmp));
	snprintf(buf, len, "%s/%u", tmp, n->bits);
}

int
addr_from_sockaddr(const struct sockaddr *sa, size_t salen, struct addr *out)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET && salen >= sizeof(*sin)) {
		sin = (const struct sockaddr_in *)(const void *)sa;
		memcpy(out->a, &sin->sin_addr, 4);
		out->af = AF_INET;
		return 0;
	}
	if (sa->sa_family == AF_INET6 && salen >= sizeof(*sin6)) {
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		memcpy(out->a, &sin6->sin6_addr, 16);
		out->af = AF_INET6;
		addr_normalise(out);
		return 0;
	}
	return -1;
}

int
addr_to_sockaddr(const struct addr *a, unsigned int port,
    struct sockaddr_storage *ss, unsigned int *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (port > 65535)
		return -1;
	if (a->af == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		memcpy(&sin->sin_addr, a->a, 4);
		*len = sizeof(*sin);
		return 0;
	}
	if (a->af == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		memcpy(&sin6->sin6_addr, a->a, 16);
		*len = sizeof(*sin6);
		return 0;
	}
	return -1;
}

int
addr_source_key(const struct addr *src, uint8_t key[ADDR_SOURCE_KEY_LEN])
{
	struct addr a = *src;

	addr_normalise(&a);
	memset(key, 0, ADDR_SOURCE_KEY_LEN);
	if (a.af == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, a.a, 4);
		return 0;
	}
	if (a.af == AF_INET6) {
		key[0] = 6;
		memcpy(key + 1, a.a, 8);
		return 0;
	}
	return -1;
}
