/*
 * knock_bind: knockd's message to the master (docs/PROTOCOL.knock section
 * 12), and the master's table of who opened which address.
 *
 * The master reads these messages from a socket that only knockd's user
 * can write to, but decodes them as untrusted all the same: a bug or a
 * compromise in knockd must not become one in the master.  The table is
 * what the monitor asks at login, "did alice knock from this address?";
 * it is bounded per user and in all, and expires by itself.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "knock_bind.h"
#include "spa.h"

/* Offsets of section 12. */
#define O_TYPE		0
#define O_FAMILY	4
#define O_ULEN		5
#define O_PORT		6
#define O_ADDR		8
#define O_USER		24
#define O_UNTIL		56
#define O_KEYID		64
#define O_KNOCKID	96

#define USER_MAX	32
#define NBUCKETS	1024

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static int
all_zero(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] != 0)
			return 0;
	}
	return 1;
}

/* The rules both directions share; NULL if m is a valid message. */
static const char *
msg_problem(const struct knock_bind_msg *m)
{
	size_t ulen = strnlen(m->user, sizeof(m->user));

	if (m->addr.af != AF_INET && m->addr.af != AF_INET6)
		return "address family is neither 4 nor 6";
	if (!spa_addr_usable(&m->addr))
		return "address is not a usable unicast address";
	if (m->port == 0 || m->port > 65535)
		return "port is not 1..65535";
	if (ulen == 0 || ulen > USER_MAX || !spa_user_ok(m->user, ulen))
		return "user name breaks the name rules";
	if (m->until == 0 || m->until > INT64_MAX)
		return "until is out of range";
	return NULL;
}

int
knock_bind_encode(const struct knock_bind_msg *m,
    uint8_t out[KNOCK_BIND_SIZE])
{
	size_t ulen;

	if (msg_problem(m) != NULL)
		return -1;
	ulen = strlen(m->user);
	memset(out, 0, KNOCK_BIND_SIZE);
	put32(out + O_TYPE, KNOCK_BIND_OPEN);
	out[O_FAMILY] = m->addr.af == AF_INET ? 4 : 6;
	out[O_ULEN] = (uint8_t)ulen;
	out[O_PORT] = (uint8_t)(m->port >> 8);
	out[O_PORT + 1] = (uint8_t)m->port;
	memcpy(out + O_ADDR, m->addr.a, m->addr.af == AF_INET ? 4 : 16);
	memcpy(out + O_USER, m->user, ulen);
	put32(out + O_UNTIL, (uint32_t)(m->until >> 32));
	put32(out + O_UNTIL + 4, (uint32_t)m->until);
	memcpy(out + O_KEYID, m->key_id, sizeof(m->key_id));
	memcpy(out + O_KNOCKID, m->knock_id, sizeof(m->knock_id));
	return 0;
}

/* The fields that the shared rules cannot see: type, family, padding. */
static const char *
wire_problem(const uint8_t *buf, size_t len)
{
	if (len != KNOCK_BIND_SIZE)
		return "not 112 bytes";
	if (get32(buf + O_TYPE) != KNOCK_BIND_OPEN)
		return "unknown type";
	if (buf[O_FAMILY] != 4 && buf[O_FAMILY] != 6)
		return "family is neither 4 nor 6";
	if (buf[O_FAMILY] == 4 && !all_zero(buf + O_ADDR + 4, 12))
		return "non-zero bytes after the IPv4 address";
	if (buf[O_ULEN] == 0 || buf[O_ULEN] > USER_MAX)
		return "user_len is not 1..32";
	if (!all_zero(buf + O_USER + buf[O_ULEN], USER_MAX - buf[O_ULEN]))
		return "non-zero bytes after the user name";
	if (memchr(buf + O_USER, 0, buf[O_ULEN]) != NULL)
		return "NUL byte in the user name";
	return NULL;
}

int
knock_bind_decode(const uint8_t *buf, size_t len, struct knock_bind_msg *m,
    char *err, size_t errlen)
{
	const char *why;

	memset(m, 0, sizeof(*m));
	if ((why = wire_problem(buf, len)) != NULL)
		goto bad;
	m->addr.af = buf[O_FAMILY] == 4 ? AF_INET : AF_INET6;
	memcpy(m->addr.a, buf + O_ADDR, m->addr.af == AF_INET ? 4 : 16);
	m->port = (unsigned int)buf[O_PORT] << 8 | buf[O_PORT + 1];
	memcpy(m->user, buf + O_USER, buf[O_ULEN]);
	m->until = get64(buf + O_UNTIL);
	memcpy(m->key_id, buf + O_KEYID, sizeof(m->key_id));
	memcpy(m->knock_id, buf + O_KNOCKID, sizeof(m->knock_id));
	if ((why = msg_problem(m)) != NULL)
		goto bad;
	return 0;
 bad:
	snprintf(err, errlen, "%s", why);
	memset(m, 0, sizeof(*m));
	return -1;
}

/* ---- the master's table ---- */

struct binding {
	struct addr	addr;
	uint64_t	end;		/* until + grace */
	uint64_t	seq;		/* larger is newer */
	uint8_t		knock_id[16];
};

struct bind_user {
	struct bind_user	*next;
	char			 name[USER_MAX + 1];
	struct binding		 b[KNOCK_BIND_PER_USER];
	size_t			 n;
};

struct knock_bind_table {
	struct bind_user	*bucket[NBUCKETS];
	size_t			 total;
	uint64_t		 seq;
	uint8_t			 hkey[crypto_shorthash_KEYBYTES];
};

struct knock_bind_table *
knock_bind_table_new(void)
{
	struct knock_bind_table *t;

	if (sodium_init() < 0 || (t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	/* A keyed hash: bucket placement nobody outside can predict. */
	randombytes_buf(t->hkey, sizeof(t->hkey));
	return t;
}

static size_t
bucket_of(const struct knock_bind_table *t, const char *user)
{
	uint8_t h[crypto_shorthash_BYTES];

	crypto_shorthash(h, (const unsigned char *)user, strlen(user),
	    t->hkey);
	return (size_t)(get32(h) % NBUCKETS);
}

void
knock_bind_table_free(struct knock_bind_table *t)
{
	struct bind_user *u, *next;
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < NBUCKETS; i++) {
		for (u = t->bucket[i]; u != NULL; u = next) {
			next = u->next;
			free(u);
		}
	}
	free(t);
}

static struct bind_user *
user_find(struct knock_bind_table *t, const char *user)
{
	struct bind_user *u;

	for (u = t->bucket[bucket_of(t, user)]; u != NULL; u = u->next) {
		if (strcmp(u->name, user) == 0)
			return u;
	}
	return NULL;
}

static void
binding_drop(struct knock_bind_table *t, struct bind_user *u, size_t i)
{
	u->b[i] = u->b[--u->n];
	t->total--;
}

/* With the table full: the binding that ends first, over all users. */
static void
drop_soonest(struct knock_bind_table *t)
{
	struct bind_user *u, *best = NULL;
	size_t i, j, bi = 0;

	for (i = 0; i < NBUCKETS; i++) {
		for (u = t->bucket[i]; u != NULL; u = u->next) {
			for (j = 0; j < u->n; j++) {
				if (best == NULL ||
				    u->b[j].end < best->b[bi].end) {
					best = u;
					bi = j;
				}
			}
		}
	}
	if (best != NULL)
		binding_drop(t, best, bi);
}

/* The slot for addr in u: its old binding, a free one, or the oldest. */
static struct binding *
slot_for(struct knock_bind_table *t, struct bind_user *u,
    const struct addr *a)
{
	size_t i, oldest = 0;

	for (i = 0; i < u->n; i++) {
		if (addr_eq(&u->b[i].addr, a))
			return &u->b[i];
		if (u->b[i].seq < u->b[oldest].seq)
			oldest = i;
	}
	if (u->n == KNOCK_BIND_PER_USER)
		return &u->b[oldest];
	if (t->total >= KNOCK_BIND_MAX)
		drop_soonest(t);
	t->total++;
	return &u->b[u->n++];
}

int
knock_bind_table_add(struct knock_bind_table *t,
    const struct knock_bind_msg *m, unsigned long grace)
{
	struct bind_user *u;
	struct binding *b;
	struct addr a = m->addr;
	size_t h;

	addr_normalise(&a);
	if ((u = user_find(t, m->user)) == NULL) {
		if ((u = calloc(1, sizeof(*u))) == NULL)
			return -1;
		snprintf(u->name, sizeof(u->name), "%s", m->user);
		h = bucket_of(t, u->name);
		u->next = t->bucket[h];
		t->bucket[h] = u;
	}
	b = slot_for(t, u, &a);
	b->addr = a;
	b->end = m->until > UINT64_MAX - grace ? UINT64_MAX :
	    m->until + grace;
	b->seq = ++t->seq;
	memcpy(b->knock_id, m->knock_id, sizeof(b->knock_id));
	return 0;
}

int
knock_bind_table_check(struct knock_bind_table *t, const char *user,
    const struct addr *addr, time_t now, uint8_t knock_id[16])
{
	const struct binding *best = NULL;
	struct bind_user *u;
	struct addr a = *addr;
	size_t i;

	addr_normalise(&a);
	if (now < 0 || (u = user_find(t, user)) == NULL)
		return 0;
	for (i = 0; i < u->n; i++) {
		if (u->b[i].end > (uint64_t)now &&
		    addr_eq(&u->b[i].addr, &a) &&
		    (best == NULL || u->b[i].seq > best->seq))
			best = &u->b[i];
	}
	if (best != NULL && knock_id != NULL)
		memcpy(knock_id, best->knock_id, 16);
	return best != NULL;
}

size_t
knock_bind_table_expire(struct knock_bind_table *t, time_t now)
{
	struct bind_user **up, *u;
	uint64_t n = now < 0 ? 0 : (uint64_t)now;
	size_t i, j;

	for (i = 0; i < NBUCKETS; i++) {
		for (up = &t->bucket[i]; (u = *up) != NULL;) {
			for (j = u->n; j > 0; j--) {
				if (u->b[j - 1].end <= n)
					binding_drop(t, u, j - 1);
			}
			if (u->n == 0) {
				*up = u->next;
				free(u);
			} else
				up = &u->next;
		}
	}
	return t->total;
}
