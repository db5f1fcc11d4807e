/*
 * libFuzzer target for the knock datagram codec (knockd/spa_wire.c):
 * the first 174 bytes go to spa_decode() as an inner message, which must
 * either be refused or encode back to exactly the same bytes (each knock
 * has one encoding); the whole input goes to spa_tag_check() and, when it
 * has the datagram's size, to spa_open() (which opens the example with
 * any tag: the tag is outside the seal).  The bucket is taken from the
 * inner timestamp half of the time, so that decoding gets past it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spa.h"

#define NOW	1767225600ULL	/* PROTOCOL.knock section 13 */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct spa_server_key key;
static const uint8_t user_pk[SPA_PK_SIZE] = { 0x03, 0xa1, 0x07, 0xbf };

static void
init(void)
{
	static int done;
	uint8_t sk[SPA_SK_SIZE];
	size_t i;

	if (done)
		return;
	if (spa_init() != 0)
		abort();
	for (i = 0; i < sizeof(sk); i++)
		sk[i] = (uint8_t)(0x20 + i);
	if (spa_server_key_set(&key, sk) != 0)
		abort();
	done = 1;
}

static void
decode(const uint8_t *inner)
{
	struct spa_inner in;
	uint8_t again[SPA_INNER_SIZE], sd[SPA_SIGNED_SIZE];
	uint64_t ts = 0, bucket;
	int i;

	for (i = 4; i < 12; i++)
		ts = ts << 8 | inner[i];
	bucket = inner[173] & 1 ? ts / SPA_BUCKET : NOW / SPA_BUCKET;
	if (spa_decode(inner, bucket, &in) != 0)
		return;
	if (spa_encode_signed(&in, key.pk, again, sd) != 0)
		abort();
	memcpy(again + SPA_SIGNED_PART, in.sig, SPA_SIG_SIZE);
	if (memcmp(again, inner, SPA_INNER_SIZE) != 0 ||
	    memcmp(sd + 48, inner, SPA_SIGNED_PART) != 0)
		abort();
	(void)spa_verify(inner, key.pk, user_pk);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t inner[SPA_INNER_SIZE];
	uint64_t bucket;
	size_t idx;

	init();
	if (size >= SPA_INNER_SIZE)
		decode(data);
	if (spa_tag_check(data, size, &key, 1, NOW, SPA_WINDOW_MAX, &idx,
	    &bucket) == 0) {
		if (idx != 0 || spa_open(data, &key, inner) != 0)
			return 0;
		if (spa_decode(inner, bucket, &(struct spa_inner){ 0 }) == 0)
			(void)spa_verify(inner, key.pk, user_pk);
	} else if (size == SPA_SIZE)
		(void)spa_open(data, &key, inner);	/* a changed tag */
	return 0;
}
