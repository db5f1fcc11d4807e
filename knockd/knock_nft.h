/*
 * knock_nft: the door -- nftables sets of (address . port) elements with
 * timeouts, changed through libnftables in this process (no shell, no
 * exec; DESIGN.md section 6).
 *
 * The ruleset (knockd/rampart.nft, what the image loads) declares table
 * "inet rampart" with sets knock4 (ipv4_addr . inet_service) and knock6
 * (ipv6_addr . inet_service), both "flags timeout", and an input chain that
 * accepts established traffic, accepts new connections to a door port only
 * from an element of the set, and drops the rest for those ports.
 * knock_nft_create() builds exactly that when knockd.conf says NftCreate
 * yes; otherwise knockd expects it to exist and knock_nft_open() checks it.
 *
 * Opening an address that is already in the set renews its timeout in one
 * atomic transaction (add, delete, add), never a duplicate element.
 */
#ifndef RAMPART_KNOCK_NFT_H
#define RAMPART_KNOCK_NFT_H

#include <stddef.h>

#include "addr.h"

#define KNOCK_NFT_NAME_MAX	64
#define KNOCK_NFT_MAX_PORTS	16

struct knock_nft;

struct knock_nft_conf {
	char		table[KNOCK_NFT_NAME_MAX];	/* "rampart" (family inet) */
	char		set4[KNOCK_NFT_NAME_MAX];	/* "knock4" */
	char		set6[KNOCK_NFT_NAME_MAX];	/* "knock6" */
	unsigned int	ports[KNOCK_NFT_MAX_PORTS];	/* door ports (Ports) */
	size_t		nports;
	int		create;		/* NftCreate: build table, sets, chain */
};

/*
 * Make the libnftables context; with c->create, (re)create the table, its
 * sets and chain (replacing an older "inet <table>" whole, in one
 * transaction); without, check that both sets exist.  Needs CAP_NET_ADMIN.
 * Returns NULL with a reason (nft's own message included) in err.
 */
struct knock_nft *knock_nft_open(const struct knock_nft_conf *c, char *err,
	    size_t errlen);

/*
 * Add (a, port) to the set of a's family with a timeout of seconds, or
 * renew its timeout.  a must be normalised (IPv4 as AF_INET).  0, or -1
 * with a reason in err.
 */
int	knock_nft_open_door(struct knock_nft *n, const struct addr *a,
	    unsigned int port, unsigned int seconds, char *err, size_t errlen);

/* With create: delete the table knockd made.  Always frees n. */
void	knock_nft_close(struct knock_nft *n, int remove_table);

/* The ruleset text knock_nft_create() loads, for -T and the docs test. */
int	knock_nft_ruleset(const struct knock_nft_conf *c, char *buf,
	    size_t len);

#endif /* RAMPART_KNOCK_NFT_H */
