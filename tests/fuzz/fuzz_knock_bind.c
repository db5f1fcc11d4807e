/*
 * libFuzzer target for knock_bind_decode(), the master's reader of
 * knockd's binding message (docs/PROTOCOL.knock section 12).
 *
 * A rejected message must come with a reason, even into a one-byte
 * buffer.  An accepted one must obey the rules it was checked for, encode
 * again to exactly the bytes it came from (the encoding is unique: no
 * free padding), and decode once more to the same message.  It then goes
 * through a fresh binding table: live just before until + grace, for that
 * user and address with its own knock_id, and gone at that second.
 */
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "knock_bind.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
same_msg(const struct knock_bind_msg *a, const struct knock_bind_msg *b)
{
	return a->addr.af == b->addr.af &&
	    memcmp(a->addr.a, b->addr.a, sizeof(a->addr.a)) == 0 &&
	    a->port == b->port && strcmp(a->user, b->user) == 0 &&
	    a->until == b->until &&
	    memcmp(a->key_id, b->key_id, sizeof(a->key_id)) == 0 &&
	    memcmp(a->knock_id, b->knock_id, sizeof(a->knock_id)) == 0;
}

static void
check_rejected(const uint8_t *data, size_t size, const char *err)
{
	struct knock_bind_msg m;
	char tiny[1] = { 'x' };

	if (err[0] == '\0' || memchr(err, '\0', 128) == NULL) {
		abort();
	}
	if (knock_bind_decode(data, size, &m, tiny, sizeof(tiny)) != -1 ||
	    tiny[0] != '\0') {
		abort();
	}
}

static void
check_rules(const struct knock_bind_msg *m, size_t size)
{
	size_t ulen = strnlen(m->user, sizeof(m->user));

	if (size != KNOCK_BIND_SIZE ||
	    (m->addr.af != AF_INET && m->addr.af != AF_INET6) ||
	    m->port < 1 || m->port > 65535 || ulen < 1 || ulen > 32 ||
	    m->until == 0 || m->until > INT64_MAX) {
		abort();
	}
}

/* Live at until + grace - 1 with m's knock_id; dead at until + grace. */
static void
check_table(const struct knock_bind_msg *m, unsigned long grace)
{
	struct knock_bind_table *t;
	uint8_t id[16];
	uint64_t end = m->until + grace;	/* until <= INT64_MAX */

	if ((t = knock_bind_table_new()) == NULL) {
		return;
	}
	if (knock_bind_table_add(t, m, grace) != 0) {
		goto out;
	}
	if (end - 1 <= INT64_MAX) {
		memset(id, 0, sizeof(id));
		if (knock_bind_table_check(t, m->user, &m->addr,
		    (time_t)(end - 1), id) != 1 ||
		    memcmp(id, m->knock_id, sizeof(id)) != 0) {
			abort();
		}
		if (knock_bind_table_check(t, "fuzz-nobody", &m->addr,
		    (time_t)(end - 1), NULL) != 0) {
			abort();
		}
	}
	if (end <= INT64_MAX) {
		if (knock_bind_table_check(t, m->user, &m->addr,
		    (time_t)end, NULL) != 0) {
			abort();
		}
		if (knock_bind_table_expire(t, (time_t)end) != 0) {
			abort();
		}
	}
 out:
	knock_bind_table_free(t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct knock_bind_msg m, m2;
	uint8_t b1[KNOCK_BIND_SIZE], b2[KNOCK_BIND_SIZE];
	char err[128];

	memset(err, 'x', sizeof(err));
	if (knock_bind_decode(data, size, &m, err, sizeof(err)) != 0) {
		check_rejected(data, size, err);
		return 0;
	}
	check_rules(&m, size);
	if (knock_bind_encode(&m, b1) != 0 ||
	    memcmp(b1, data, KNOCK_BIND_SIZE) != 0) {
		abort();
	}
	if (knock_bind_decode(b1, sizeof(b1), &m2, err, sizeof(err)) != 0 ||
	    !same_msg(&m, &m2)) {
		abort();
	}
	if (knock_bind_encode(&m2, b2) != 0 ||
	    memcmp(b1, b2, sizeof(b1)) != 0) {
		abort();
	}
	/* The grace from the key_id, so the fuzzer can steer it too. */
	check_table(&m, (unsigned long)m.key_id[0] << 8 | m.key_id[1]);
	return 0;
}
