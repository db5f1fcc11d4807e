/*
 * spa_open_tool: check one datagram as knockd would (PROTOCOL.knock
 * section 8, steps 1, 2, 6, 7 and 9: size, tag, seal, decode, signature),
 * for the client tests, which have no knockd.  Prints the decoded fields
 * on one line, or the first error; exit 0 or 1.
 *
 * usage: spa_open_tool SERVERKEYFILE USER.pub DATAGRAMFILE [NOW]
 */
#include <sys/socket.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <sodium.h>

#include "addr.h"
#include "knock_key.h"
#include "spa.h"

static int
check(const uint8_t *pkt, size_t len, const struct spa_server_key *k,
    const uint8_t user_pk[32], uint64_t now, struct spa_inner *in)
{
	uint8_t inner[SPA_INNER_SIZE];
	uint64_t bucket;
	size_t idx;
	int r;

	if ((r = spa_tag_check(pkt, len, k, 1, now, 30, &idx, &bucket)) != 0 ||
	    (r = spa_open(pkt, k, inner)) != 0 ||
	    (r = spa_decode(inner, bucket, in)) != 0)
		return r;
	return spa_verify(inner, k->pk, user_pk);
}

int
main(int argc, char **argv)
{
	struct spa_server_key k;
	struct spa_inner in;
	uint8_t sk[32], pk[32], pkt[SPA_MAX + 1];
	char err[KNOCK_KEY_ERR_MAX], a[ADDR_STRLEN], id[65];
	uint64_t now;
	size_t len;
	FILE *f;
	int r;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: spa_open_tool SERVERKEY USER.pub "
		    "DATAGRAM [NOW]\n");
		return 2;
	}
	now = argc == 5 ? strtoull(argv[4], NULL, 10) : (uint64_t)time(NULL);
	if (spa_init() != 0 ||
	    knock_key_server_read(argv[1], sk, err, sizeof(err)) != 0 ||
	    spa_server_key_set(&k, sk) != 0 ||
	    knock_key_pub_read(argv[2], pk, err, sizeof(err)) != 0) {
		fprintf(stderr, "spa_open_tool: %s\n", err);
		return 1;
	}
	if ((f = fopen(argv[3], "rb")) == NULL) {
		perror(argv[3]);
		return 1;
	}
	len = fread(pkt, 1, sizeof(pkt), f);
	fclose(f);
	if ((r = check(pkt, len, &k, pk, now, &in)) != 0) {
		printf("refused: %s\n", spa_strerror(r));
		return 1;
	}
	if (in.addr_type == SPA_ADDR_SOURCE)
		snprintf(a, sizeof(a), "source");
	else
		addr_ntop(&in.addr, a, sizeof(a));
	sodium_bin2hex(id, sizeof(id), in.key_id, sizeof(in.key_id));
	printf("ok user=%s port=%u addr=%s skew=%" PRId64 " key_id=%s\n",
	    in.user, in.port, a, (int64_t)(in.timestamp - now), id);
	sodium_memzero(&k, sizeof(k));
	sodium_memzero(sk, sizeof(sk));
	return 0;
}
