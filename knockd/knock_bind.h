/*
 * knock_bind: the message knockd sends the gateway's master after opening
 * a door, "user U opened address A for port P until T" (docs/PROTOCOL.knock
 * section 12), and the master's table of live bindings.
 *
 * Encoding and decoding are pure; the decoder treats its input as hostile
 * (exact size, known type, the user and address rules of section 5, no
 * non-zero padding).  The table is bounded: at most KNOCK_BIND_PER_USER
 * bindings per user (the oldest goes first) and KNOCK_BIND_MAX in all
 * (the one that ends first goes first).
 */
#ifndef RAMPART_KNOCK_BIND_H
#define RAMPART_KNOCK_BIND_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"

#define KNOCK_BIND_SIZE		112
#define KNOCK_BIND_OPEN		1
#define KNOCK_BIND_PER_USER	16
#define KNOCK_BIND_MAX		65536

struct knock_bind_msg {
	struct addr	addr;		/* the address opened */
	unsigned int	port;		/* the door */
	char		user[33];
	uint64_t	until;		/* Unix seconds, T */
	uint8_t		key_id[32];
	uint8_t		knock_id[16];	/* the knock's nonce */
};

/* 0, or -1 if m breaks the rules (the encoder checks like the decoder). */
int	knock_bind_encode(const struct knock_bind_msg *m,
	    uint8_t out[KNOCK_BIND_SIZE]);
/* 0, or -1 with a short reason in err. */
int	knock_bind_decode(const uint8_t *buf, size_t len,
	    struct knock_bind_msg *m, char *err, size_t errlen);

struct knock_bind_table;

struct knock_bind_table *knock_bind_table_new(void);
void	knock_bind_table_free(struct knock_bind_table *t);
/* Record m, live until m->until + grace.  0 or -1 (out of memory). */
int	knock_bind_table_add(struct knock_bind_table *t,
	    const struct knock_bind_msg *m, unsigned long grace);
/*
 * 1 if user has a live binding for addr at now (addr normalised), and
 * copies the knock_id of the newest one to knock_id if not NULL.
 */
int	knock_bind_table_check(struct knock_bind_table *t, const char *user,
	    const struct addr *addr, time_t now, uint8_t knock_id[16]);
/* Forget expired bindings; returns how many are live. */
size_t	knock_bind_table_expire(struct knock_bind_table *t, time_t now);

#endif /* RAMPART_KNOCK_BIND_H */
