/*
 * addr: IPv4/IPv6 addresses and CIDR networks for policy decisions.
 *
 * Addresses are kept in a fixed-size, family-tagged struct.  An IPv4-mapped
 * IPv6 address (::ffff:a.b.c.d) is always normalised to the IPv4 address it
 * carries, because the kernel connects an AF_INET6 socket to such an address
 * over IPv4: a rule about 10.0.0.0/8 must also see ::ffff:10.0.0.5.
 */
#ifndef RAMPART_ADDR_H
#define RAMPART_ADDR_H

#include <stddef.h>
#include <stdint.h>

/* Longest text form: a full IPv6 address and "/128", plus NUL. */
#define ADDR_STRLEN	64

struct addr {
	int	af;		/* AF_INET or AF_INET6 */
	uint8_t	a[16];		/* network order; IPv4 uses a[0..3] */
};

struct addr_net {
	struct addr	base;	/* host bits are always zero */
	unsigned int	bits;	/* 0..32 or 0..128 */
};

/*
 * Parse a strict numeric address (inet_pton: no "10.1", no octal, no zone).
 * Mapped IPv6 is normalised to IPv4.  Returns 0, or -1 if not an address.
 */
int	addr_parse(const char *s, struct addr *out);

/*
 * Parse "ADDR" or "ADDR/BITS".  A bare address is a host route.  Returns 0;
 * -1 if it is not an address, -2 if the prefix length is bad, -3 if host
 * bits are set (10.0.0.1/8: almost always a typo for something else).
 */
int	addr_parse_net(const char *s, struct addr_net *out);

/*
 * For an "ADDR/BITS" with host bits set, the network it most likely meant
 * ("10.0.0.1/8" -> "10.0.0.0/8"), for error messages.  0 or -1.
 */
int	addr_net_suggest(const char *s, char *buf, size_t len);

/* Normalise a mapped IPv6 address to IPv4 in place. */
void	addr_normalise(struct addr *a);

/* 1 if a (normalised) lies inside n, else 0.  Families never cross. */
int	addr_in_net(const struct addr *a, const struct addr_net *n);

/* 1 if the network a lies entirely inside the network b. */
int	addr_net_within(const struct addr_net *a, const struct addr_net *b);

/* 1 if equal. */
int	addr_eq(const struct addr *a, const struct addr *b);

/* Text forms; buf must hold ADDR_STRLEN bytes. Always NUL-terminated. */
void	addr_ntop(const struct addr *a, char *buf, size_t len);
void	addr_net_ntop(const struct addr_net *n, char *buf, size_t len);

/* From/to a sockaddr (sockaddr_in or sockaddr_in6). Return 0 or -1. */
struct sockaddr;
struct sockaddr_storage;
int	addr_from_sockaddr(const struct sockaddr *sa, size_t salen,
	    struct addr *out);
/* a and port (0..65535) as a sockaddr in ss, its size in *len. */
int	addr_to_sockaddr(const struct addr *a, unsigned int port,
	    struct sockaddr_storage *ss, unsigned int *len);

/*
 * The key under which per-source state is kept: a family tag, then the
 * IPv4 address or the IPv6 /64 (one host usually owns a whole /64), mapped
 * IPv6 counted as IPv4; the rest of key zero.  0, or -1 for another family.
 */
#define ADDR_SOURCE_KEY_LEN	9
int	addr_source_key(const struct addr *src, uint8_t key[ADDR_SOURCE_KEY_LEN]);

#endif /* RAMPART_ADDR_H */
