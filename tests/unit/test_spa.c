/*
 * test_spa: the knock datagram codec (knockd/spa_wire.c) against the
 * example of docs/PROTOCOL.knock section 13, byte for byte; every drop
 * reason from a hand-made bad datagram; and a deterministic mutation
 * test (after OpenSSH's test_sshbuf_fuzz.c) of the datagram and of the
 * inner message.  The expected bytes are copied from the document, which
 * was computed independently (libsodium 1.0.18, OpenSSH 9.2's ssh-agent).
 */
#include <sys/socket.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "addr.h"
#include "spa.h"

#define MUTATIONS	20000
#define T0		1767225600ULL	/* the example's timestamp */
#define BUCKET0		27612900ULL
#define WINDOW		30

/* ---- section 13, as printed ---- */

static const char vec_server_pk[] =
    "35 80 72 d6 36 58 80 d1 ae ea 32 9a df 91 21 38"
    "38 51 ed 21 a2 8e 3b 75 e9 65 d0 d2 cd 16 62 54";
static const char vec_user_pk[] =
    "03 a1 07 bf f3 ce 10 be 1d 70 dd 18 e7 4b c0 99"
    "67 e4 d6 30 9b a5 0d 5f 1d dc 86 64 12 55 31 b8";
static const char vec_epk[] =
    "79 a6 31 ee de 1b f9 c9 8f 12 03 2c de ad d0 e7"
    "a0 79 39 8f c7 86 b8 8c c8 46 ec 89 af 85 a5 1a";
static const char vec_key_id[] =
    "95 b9 ac a0 0d 32 20 47 04 89 50 d1 9c c5 ae ce"
    "6f a7 57 ed d9 10 4a 55 21 44 6a 16 87 92 b2 98";
static const char vec_inner[] =
    "01 00 00 16 00 00 00 00 69 55 b9 00"
    "a0 a1 a2 a3 a4 a5 a6 a7 a8 a9 aa ab ac ad ae af"
    "04 cb 00 71 07 00 00 00 00 00 00 00 00 00 00 00 00"
    "05 61 6c 69 63 65 00 00 00"
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
    "00 00 00 00 00 00 00 00"
    "95 b9 ac a0 0d 32 20 47 04 89 50 d1 9c c5 ae ce"
    "6f a7 57 ed d9 10 4a 55 21 44 6a 16 87 92 b2 98"
    "c5 0c 2f 7d e2 d8 85 f7 c4 36 f7 14 32 45 f1 1b"
    "d9 c3 bd f0 fd 2e 9e ed 94 5f 11 30 10 cb 3a c0"
    "7b e5 a7 5b 08 ac 7f ad 32 9c ba c9 f3 e5 44 b2"
    "2f b3 22 43 c2 15 df 6e a9 c7 61 c7 e6 5a 61 0a";
static const char vec_signed[] =
    "72 61 6d 70 61 72 74 2d 6b 6e 6f 63 6b 2d 76 31"
    "35 80 72 d6 36 58 80 d1 ae ea 32 9a df 91 21 38"
    "38 51 ed 21 a2 8e 3b 75 e9 65 d0 d2 cd 16 62 54"
    "01 00 00 16 00 00 00 00 69 55 b9 00 a0 a1 a2 a3"
    "a4 a5 a6 a7 a8 a9 aa ab ac ad ae af 04 cb 00 71"
    "07 00 00 00 00 00 00 00 00 00 00 00 00 05 61 6c"
    "69 63 65 00 00 00 00 00 00 00 00 00 00 00 00 00"
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 95 b9"
    "ac a0 0d 32 20 47 04 89 50 d1 9c c5 ae ce 6f a7"
    "57 ed d9 10 4a 55 21 44 6a 16 87 92 b2 98";
static const char vec_agent_sig[] =
    "00 00 00 0b 73 73 68 2d 65 64 32 35 35 31 39 00"
    "00 00 40 c5 0c 2f 7d e2 d8 85 f7 c4 36 f7 14 32"
    "45 f1 1b d9 c3 bd f0 fd 2e 9e ed 94 5f 11 30 10"
    "cb 3a c0 7b e5 a7 5b 08 ac 7f ad 32 9c ba c9 f3"
    "e5 44 b2 2f b3 22 43 c2 15 df 6e a9 c7 61 c7 e6"
    "5a 61 0a";
static const char vec_nonce24[] =
    "d9 b0 cf 0c 10 e7 60 74 b2 e1 10 5d 97 df 0d 1c"
    "ac 65 e3 1b ce 02 3d 0c";
static const char vec_tag_key[] =
    "b0 71 0a 6e b7 ce 68 dc ab 2b 59 f6 c0 31 4f b2"
    "fa 58 48 87 05 1d 8e a9 1b b2 f2 1d 29 b5 44 61";
static const char vec_datagram[] =
    "e4 16 8f 39 2a 7d f1 86 56 f0 b9 3f 63 ba 16 2f"
    "79 a6 31 ee de 1b f9 c9 8f 12 03 2c de ad d0 e7"
    "a0 79 39 8f c7 86 b8 8c c8 46 ec 89 af 85 a5 1a"
    "64 4f 05 94 fb ff 5a 8c 5d 03 22 4d 2a 7d 52 15"
    "8c 41 94 a3 b9 fa ca 28 40 3d 9f a1 c4 8f cf f3"
    "92 8f 71 50 73 be 89 7f 06 84 08 6b ff ca 0c 86"
    "5c 4c de fd a8 17 74 76 fb ca 34 93 ae 77 40 da"
    "bf 60 2c 63 a2 6c 98 c2 c0 44 c4 dc 9b 7f f7 1b"
    "d7 98 46 2a e5 2a b1 79 2c 25 19 98 96 24 4b 96"
    "53 c7 fd ac 94 8a ac a8 05 e4 5a 31 50 1d 1c df"
    "d2 2c cf 64 1e 55 1e 4f c3 af 11 57 fc 3d 40 c2"
    "60 89 e0 4c 32 10 3c 0f 33 8e 1e 1d dd 27 a4 27"
    "22 28 ca 60 fb 29 8f 8b 4e 22 e2 ad 3d 32 cd b0"
    "8e f5 46 e7 87 b8 cf fc 4c ea f9 18 44 e5 1a 82"
    "06 9f 21 38 be 5a 0d b5 57 4b 01 53 0f ce";

/* The example's keys, made from the counting-up seeds. */
struct fixture {
	struct spa_server_key	server;
	uint8_t			user_pk[SPA_PK_SIZE];
	uint8_t			user_sk[crypto_sign_SECRETKEYBYTES];
	uint8_t			eph_sk[SPA_SK_SIZE];
	uint8_t			inner[SPA_INNER_SIZE];
	uint8_t			pkt[SPA_SIZE];
};

static struct fixture fx;
/* A deterministic byte stream: the same mutations on every run. */
static uint8_t	rng_pool[4096];
static size_t	rng_off = sizeof(rng_pool);
static uint64_t	rng_seed, rng_block;

static void
rng_start(uint64_t seed)
{
	rng_seed = seed;
	rng_block = 0;
	rng_off = sizeof(rng_pool);
}

static uint32_t
rng(void)
{
	uint8_t seed[randombytes_SEEDBYTES];
	uint32_t v;

	if (rng_off + 4 > sizeof(rng_pool)) {
		memset(seed, 0, sizeof(seed));
		memcpy(seed, &rng_seed, sizeof(rng_seed));
		memcpy(seed + 8, &rng_block, sizeof(rng_block));
		rng_block++;
		randombytes_buf_deterministic(rng_pool, sizeof(rng_pool), seed);
		rng_off = 0;
	}
	memcpy(&v, rng_pool + rng_off, sizeof(v));
	rng_off += 4;
	return v;
}

/* Hex with spaces, as the document prints it; exactly want bytes. */
static void
hex(const char *s, uint8_t *out, size_t want)
{
	size_t n = 0;
	unsigned int v;

	for (; *s != '\0'; s++) {
		if (*s == ' ')
			continue;
		assert_true(n < want);
		assert_int_equal(sscanf(s, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
		s++;
	}
	assert_int_equal(n, want);
}

static void
assert_hex(const uint8_t *got, const char *want_hex, size_t len)
{
	uint8_t want[SPA_MAX];
	size_t i;

	hex(want_hex, want, len);
	for (i = 0; i < len; i++) {
		if (got[i] != want[i])
			fail_msg("byte %zu: 0x%02x, wanted 0x%02x", i, got[i],
			    want[i]);
	}
}

static void
count_up(uint8_t *p, size_t len, uint8_t first)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(first + i);
}

/* The inner message of section 13 as a struct. */
static void
example_inner(struct spa_inner *in)
{
	memset(in, 0, sizeof(*in));
	in->version = SPA_VERSION;
	in->port = 22;
	in->timestamp = T0;
	count_up(in->nonce, sizeof(in->nonce), 0xa0);
	in->addr_type = SPA_ADDR_IPV4;
	assert_int_equal(addr_parse("203.0.113.7", &in->addr), 0);
	strcpy(in->user, "alice");
	spa_key_id(fx.user_pk, in->key_id);
}

static int
setup(void **state)
{
	uint8_t sk[SPA_SK_SIZE], seed[crypto_sign_SEEDBYTES];

	(void)state;
	if (spa_init() != 0)
		return -1;
	count_up(sk, sizeof(sk), 0x20);
	if (spa_server_key_set(&fx.server, sk) != 0)
		return -1;
	count_up(seed, sizeof(seed), 0x00);
	crypto_sign_seed_keypair(fx.user_pk, fx.user_sk, seed);
	count_up(fx.eph_sk, sizeof(fx.eph_sk), 0x40);
	hex(vec_inner, fx.inner, SPA_INNER_SIZE);
	hex(vec_datagram, fx.pkt, SPA_SIZE);
	return 0;
}

/* ---- the example ---- */

static void
test_example_keys(void **state)
{
	uint8_t blob[SPA_ED25519_BLOB_SIZE], id[SPA_KEYID_SIZE], tk[32];
	char b64[128];

	(void)state;
	assert_hex(fx.server.pk, vec_server_pk, SPA_PK_SIZE);
	sodium_bin2base64(b64, sizeof(b64), fx.server.pk, SPA_PK_SIZE,
	    sodium_base64_VARIANT_ORIGINAL);
	assert_string_equal(b64,
	    "NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYlQ=");
	assert_hex(fx.server.tag_key, vec_tag_key, 32);
	spa_tag_key(fx.server.pk, tk);
	assert_hex(tk, vec_tag_key, 32);

	assert_hex(fx.user_pk, vec_user_pk, SPA_PK_SIZE);
	spa_key_blob(fx.user_pk, blob);
	sodium_bin2base64(b64, sizeof(b64), blob, sizeof(blob),
	    sodium_base64_VARIANT_ORIGINAL);
	assert_string_equal(b64, "AAAAC3NzaC1lZDI1NTE5AAAAIAOhB7/zzhC+HXDd"
	    "GOdLwJln5NYwm6UNXx3chmQSVTG4");
	spa_key_id(fx.user_pk, id);
	assert_hex(id, vec_key_id, SPA_KEYID_SIZE);
	sodium_bin2base64(b64, sizeof(b64), id, sizeof(id),
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	assert_string_equal(b64, "lbmsoA0yIEcEiVDRnMWuzm+nV+3ZEEpVIURqFoeSspg");
}

static void
test_example_signed(void **state)
{
	struct spa_inner in;
	uint8_t inner[SPA_INNER_SIZE], sd[SPA_SIGNED_SIZE], agent[83];
	uint8_t sig[SPA_SIG_SIZE];
	unsigned long long siglen;

	(void)state;
	example_inner(&in);
	assert_int_equal(spa_encode_signed(&in, fx.server.pk, inner, sd), 0);
	assert_hex(sd, vec_signed, SPA_SIGNED_SIZE);
	assert_memory_equal(inner, fx.inner, SPA_SIGNED_PART);
	/* The agent's blob: string "ssh-ed25519", string sig (64 bytes). */
	hex(vec_agent_sig, agent, sizeof(agent));
	assert_int_equal(crypto_sign_detached(sig, &siglen, sd, sizeof(sd),
	    fx.user_sk), 0);
	assert_int_equal(siglen, SPA_SIG_SIZE);
	assert_memory_equal(sig, agent + 19, SPA_SIG_SIZE);
	assert_memory_equal(sig, fx.inner + SPA_SIGNED_PART, SPA_SIG_SIZE);
}

static void
test_example_datagram(void **state)
{
	struct spa_inner in;
	uint8_t inner[SPA_INNER_SIZE], sd[SPA_SIGNED_SIZE], out[SPA_SIZE];
	uint8_t n24[24], both[2 * SPA_PK_SIZE];

	(void)state;
	example_inner(&in);
	assert_int_equal(spa_encode_signed(&in, fx.server.pk, inner, sd), 0);
	assert_int_equal(spa_seal_with(inner, fx.inner + SPA_SIGNED_PART, T0,
	    fx.server.pk, fx.eph_sk, out), 0);
	assert_memory_equal(inner, fx.inner, SPA_INNER_SIZE);
	assert_hex(out + SPA_TAG_SIZE, vec_epk, SPA_PK_SIZE);
	assert_hex(out, vec_datagram, SPA_SIZE);
	/* nonce24 as the document derives it, from the document's epk. */
	memcpy(both, out + SPA_TAG_SIZE, SPA_PK_SIZE);
	memcpy(both + SPA_PK_SIZE, fx.server.pk, SPA_PK_SIZE);
	crypto_generichash(n24, sizeof(n24), both, sizeof(both), NULL, 0);
	assert_hex(n24, vec_nonce24, sizeof(n24));
	/* libsodium's own opener agrees that this is crypto_box_seal. */
	assert_int_equal(crypto_box_seal_open(inner, out + SPA_TAG_SIZE,
	    SPA_SEALED_SIZE, fx.server.pk, fx.server.sk), 0);
	assert_memory_equal(inner, fx.inner, SPA_INNER_SIZE);
}

/* The whole check of knockd at now: the first error, or 0. */
static int
check_at(const uint8_t *pkt, size_t len, uint64_t now, struct spa_inner *out)
{
	uint8_t inner[SPA_INNER_SIZE];
	uint64_t bucket = 0;
	size_t idx = 99;
	int r;

	if ((r = spa_tag_check(pkt, len, &fx.server, 1, now, WINDOW, &idx,
	    &bucket)) != 0)
		return r;
	assert_int_equal(idx, 0);
	if ((r = spa_open(pkt, &fx.server, inner)) != 0)
		return r;
	if ((r = spa_decode(inner, bucket, out)) != 0)
		return r;
	return spa_verify(inner, fx.server.pk, fx.user_pk);
}

static void
test_example_accepted(void **state)
{
	static const uint64_t ok[] = {
		1767225570, 1767225600, 1767225630, 1767225631, 1767225693,
	};
	static const uint64_t refused[] = {
		1767225694, 1767225569, 1767226000, 0, UINT64_MAX,
	};
	struct spa_inner in;
	uint64_t bucket;
	size_t i, idx;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(check_at(fx.pkt, SPA_SIZE, ok[i], &in), 0);
		assert_int_equal(spa_tag_check(fx.pkt, SPA_SIZE, &fx.server, 1,
		    ok[i], WINDOW, &idx, &bucket), 0);
		assert_int_equal(bucket, BUCKET0);
	}
	assert_int_equal(in.version, 1);
	assert_int_equal(in.flags, 0);
	assert_int_equal(in.port, 22);
	assert_int_equal(in.timestamp, T0);
	assert_int_equal(in.addr_type, SPA_ADDR_IPV4);
	assert_int_equal(in.addr.af, AF_INET);
	assert_memory_equal(in.addr.a, "\xcb\x00\x71\x07", 4);
	assert_string_equal(in.user, "alice");
	assert_memory_equal(in.nonce, fx.inner + 12, SPA_NONCE_SIZE);
	assert_hex(in.key_id, vec_key_id, SPA_KEYID_SIZE);
	assert_memory_equal(in.sig, fx.inner + SPA_SIGNED_PART, SPA_SIG_SIZE);
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		assert_int_equal(check_at(fx.pkt, SPA_SIZE, refused[i], &in),
		    SPA_ERR_TAG);
	}
	/* A window of 120 s reaches one bucket further. */
	assert_int_equal(spa_tag_check(fx.pkt, SPA_SIZE, &fx.server, 1,
	    1767225694, 120, &idx, &bucket), 0);
	/* ... and a window above 120 s is taken as 120 s. */
	assert_int_equal(spa_tag_check(fx.pkt, SPA_SIZE, &fx.server, 1,
	    1767225600 + 64 + 120 + 64, 100000, &idx, &bucket), SPA_ERR_TAG);
}

static void
test_two_keys(void **state)
{
	struct spa_server_key keys[2];
	uint8_t sk[SPA_SK_SIZE];
	uint64_t bucket;
	size_t idx;

	(void)state;
	randombytes_buf(sk, sizeof(sk));
	assert_int_equal(spa_server_key_set(&keys[0], sk), 0);
	keys[1] = fx.server;
	assert_int_equal(spa_tag_check(fx.pkt, SPA_SIZE, keys, 2, T0, WINDOW,
	    &idx, &bucket), 0);
	assert_int_equal(idx, 1);
	assert_int_equal(spa_tag_check(fx.pkt, SPA_SIZE, keys, 1, T0, WINDOW,
	    &idx, &bucket), SPA_ERR_TAG);
	assert_int_equal(spa_tag_check(fx.pkt, SPA_SIZE, keys, 0, T0, WINDOW,
	    &idx, &bucket), SPA_ERR_TAG);
	sodium_memzero(keys, sizeof(keys));
}

static void
test_random_seal(void **state)
{
	struct spa_inner in;
	uint8_t inner[SPA_INNER_SIZE], sd[SPA_SIGNED_SIZE], out[SPA_SIZE];
	uint8_t sig[SPA_SIG_SIZE];

	(void)state;
	example_inner(&in);
	in.addr_type = SPA_ADDR_SOURCE;
	memset(&in.addr, 0, sizeof(in.addr));
	assert_int_equal(spa_encode_signed(&in, fx.server.pk, inner, sd), 0);
	crypto_sign_detached(sig, NULL, sd, sizeof(sd), fx.user_sk);
	assert_int_equal(spa_seal(inner, sig, T0, fx.server.pk, out), 0);
	assert_memory_not_equal(out, fx.pkt, SPA_SIZE);
	assert_int_equal(check_at(out, SPA_SIZE, T0, &in), 0);
	assert_int_equal(in.addr_type, SPA_ADDR_SOURCE);
	assert_int_equal(in.addr.af, 0);
}

/* ---- every drop reason ---- */

/*
 * Seal a hand-made inner message as the example's datagram, with the tag
 * of the example's bucket, and run knockd's checks on it at T0.
 */
static int
check_inner(const uint8_t inner_in[SPA_INNER_SIZE])
{
	uint8_t inner[SPA_INNER_SIZE], out[SPA_SIZE];
	struct spa_inner in;

	memcpy(inner, inner_in, sizeof(inner));
	assert_int_equal(spa_seal_with(inner, inner_in + SPA_SIGNED_PART, T0,
	    fx.server.pk, fx.eph_sk, out), 0);
	return check_at(out, SPA_SIZE, T0, &in);
}

/* check_inner on the example with n bytes at off replaced. */
static int
check_patched(size_t off, const void *bytes, size_t n)
{
	uint8_t inner[SPA_INNER_SIZE];

	memcpy(inner, fx.inner, sizeof(inner));
	memcpy(inner + off, bytes, n);
	return check_inner(inner);
}

/* The example, re-signed after the patch: only the patch can be wrong. */
static int
check_resigned(size_t off, const void *bytes, size_t n)
{
	uint8_t inner[SPA_INNER_SIZE], sd[SPA_SIGNED_SIZE];

	memcpy(inner, fx.inner, sizeof(inner));
	memcpy(inner + off, bytes, n);
	memcpy(sd, SPA_DOMAIN, 16);
	memcpy(sd + 16, fx.server.pk, SPA_PK_SIZE);
	memcpy(sd + 48, inner, SPA_SIGNED_PART);
	crypto_sign_detached(inner + SPA_SIGNED_PART, NULL, sd, sizeof(sd),
	    fx.user_sk);
	return check_inner(inner);
}

static void
test_drop_size_and_tag(void **state)
{
	uint8_t big[SPA_SIZE + 1], pkt[SPA_SIZE];
	struct spa_server_key other;
	struct spa_inner in;
	uint8_t sk[SPA_SK_SIZE];
	uint64_t bucket;
	size_t i, idx;

	(void)state;
	memcpy(big, fx.pkt, SPA_SIZE);
	big[SPA_SIZE] = 0;
	assert_int_equal(check_at(big, SPA_SIZE + 1, T0, &in), SPA_ERR_SIZE);
	assert_int_equal(check_at(fx.pkt, SPA_SIZE - 1, T0, &in),
	    SPA_ERR_SIZE);
	assert_int_equal(check_at(fx.pkt, 0, T0, &in), SPA_ERR_SIZE);
	assert_int_equal(check_at(big, SPA_MAX, T0, &in), SPA_ERR_SIZE);
	for (i = 0; i < SPA_SIZE; i += 17) {
		memcpy(pkt, fx.pkt, SPA_SIZE);
		pkt[i] ^= 0x01;
		assert_int_equal(check_at(pkt, SPA_SIZE, T0, &in),
		    SPA_ERR_TAG);
	}
	/* Another server's key: the tag key differs. */
	count_up(sk, sizeof(sk), 0x21);
	assert_int_equal(spa_server_key_set(&other, sk), 0);
	assert_int_equal(spa_tag_check(fx.pkt, SPA_SIZE, &other, 1, T0,
	    WINDOW, &idx, &bucket), SPA_ERR_TAG);
	sodium_memzero(&other, sizeof(other));
}

/* The tag recomputed independently over a changed sealed part. */
static void
retag(uint8_t pkt[SPA_SIZE], uint64_t bucket)
{
	crypto_generichash_state st;
	uint8_t b[8];
	int i;

	for (i = 0; i < 8; i++)
		b[i] = (uint8_t)(bucket >> (56 - 8 * i));
	crypto_generichash_init(&st, fx.server.tag_key, 32, SPA_TAG_SIZE);
	crypto_generichash_update(&st, b, sizeof(b));
	crypto_generichash_update(&st, pkt + SPA_TAG_SIZE, SPA_SEALED_SIZE);
	crypto_generichash_final(&st, pkt, SPA_TAG_SIZE);
}

static void
test_drop_seal(void **state)
{
	struct spa_server_key other;
	uint8_t pkt[SPA_SIZE], inner[SPA_INNER_SIZE], sk[SPA_SK_SIZE];
	struct spa_inner in;
	size_t i;

	(void)state;
	/* The retag helper is right: the example's tag comes out. */
	memcpy(pkt, fx.pkt, SPA_SIZE);
	memset(pkt, 0, SPA_TAG_SIZE);
	retag(pkt, BUCKET0);
	assert_memory_equal(pkt, fx.pkt, SPA_SIZE);
	for (i = SPA_TAG_SIZE; i < SPA_SIZE; i += 13) {
		memcpy(pkt, fx.pkt, SPA_SIZE);
		pkt[i] ^= 0x80;
		retag(pkt, BUCKET0);
		assert_int_equal(check_at(pkt, SPA_SIZE, T0, &in),
		    SPA_ERR_SEAL);
	}
	/* A box sealed to another key, with a tag for this server. */
	count_up(sk, sizeof(sk), 0x60);
	assert_int_equal(spa_server_key_set(&other, sk), 0);
	memcpy(inner, fx.inner, sizeof(inner));
	assert_int_equal(spa_seal(inner, fx.inner + SPA_SIGNED_PART, T0,
	    other.pk, pkt), 0);
	retag(pkt, BUCKET0);
	assert_int_equal(check_at(pkt, SPA_SIZE, T0, &in), SPA_ERR_SEAL);
	assert_int_equal(spa_open(fx.pkt, &other, inner), SPA_ERR_SEAL);
	sodium_memzero(&other, sizeof(other));
}

static void
test_drop_version_flags(void **state)
{
	static const uint8_t versions[] = { 0, 2, 0x81, 0xff };
	uint8_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(versions); i++) {
		assert_int_equal(check_patched(0, &versions[i], 1),
		    SPA_ERR_VERSION);
	}
	for (i = 0; i < 8; i++) {
		v = (uint8_t)(1u << i);
		assert_int_equal(check_patched(1, &v, 1), SPA_ERR_FLAGS);
	}
	/* Version is checked before flags. */
	assert_int_equal(check_patched(0, "\x02\x01", 2), SPA_ERR_VERSION);
}

static void
test_drop_port_time(void **state)
{
	uint8_t ts[8];
	uint64_t t;
	int i;

	(void)state;
	assert_int_equal(check_patched(2, "\x00\x00", 2), SPA_ERR_MALFORMED);
	assert_int_equal(check_resigned(2, "\xff\xff", 2), 0);
	assert_int_equal(check_resigned(2, "\x00\x01", 2), 0);
	/* Timestamps in the matched bucket pass; others are malformed. */
	for (t = T0 - 1; t <= T0 + 64; t++) {
		for (i = 0; i < 8; i++)
			ts[i] = (uint8_t)(t >> (56 - 8 * i));
		assert_int_equal(check_resigned(4, ts, 8),
		    t / SPA_BUCKET == BUCKET0 ? 0 : SPA_ERR_MALFORMED);
	}
	memset(ts, 0xff, sizeof(ts));
	assert_int_equal(check_patched(4, ts, 8), SPA_ERR_MALFORMED);
}

/* addr_type and 16 address bytes (text parsed without normalising). */
static void
addr_bytes(uint8_t type, const char *text, uint8_t out[17])
{
	memset(out, 0, 17);
	out[0] = type;
	if (text == NULL)
		return;
	if (strchr(text, ':') != NULL) {
		assert_int_equal(inet_pton(AF_INET6, text, out + 1), 1);
	} else {
		assert_int_equal(inet_pton(AF_INET, text, out + 1), 1);
	}
}

/* Each address of list as an explicit address of type: want or fail. */
static void
addr_list(uint8_t type, const char *const *list, size_t n, int want)
{
	uint8_t a[17];
	size_t i;

	for (i = 0; i < n; i++) {
		addr_bytes(type, list[i], a);
		if (check_resigned(28, a, sizeof(a)) != want)
			fail_msg("type %u address %s: not %s", type, list[i],
			    want == 0 ? "accepted" : "refused");
	}
}

static void
test_drop_address(void **state)
{
	static const char *const bad4[] = {
		"0.0.0.0", "0.1.2.3", "127.0.0.1", "127.255.255.254",
		"169.254.0.1", "169.254.255.255", "224.0.0.1",
		"239.255.255.255", "240.0.0.1", "255.255.255.255",
	};
	static const char *const good4[] = {
		"1.0.0.1", "126.255.255.255", "128.0.0.1", "169.253.1.1",
		"169.255.0.1", "223.255.255.255", "10.0.0.1", "203.0.113.7",
	};
	static const char *const bad6[] = {
		"::", "::1", "::ffff:203.0.113.7", "::ffff:0:0", "::1.2.3.4",
		"::ffff:ffff", "fe80::1", "febf:ffff::1", "ff02::1",
		"ff00::",
	};
	static const char *const good6[] = {
		"2001:db8::1", "fec0::1", "fe7f::1", "::1:0:0:1",
		"::fffe:1.2.3.4", "1::", "fc00::1",
	};
	uint8_t a[17];
	size_t i;

	(void)state;
	addr_list(SPA_ADDR_IPV4, bad4, sizeof(bad4) / sizeof(bad4[0]),
	    SPA_ERR_MALFORMED);
	addr_list(SPA_ADDR_IPV4, good4, sizeof(good4) / sizeof(good4[0]), 0);
	addr_list(SPA_ADDR_IPV6, bad6, sizeof(bad6) / sizeof(bad6[0]),
	    SPA_ERR_MALFORMED);
	addr_list(SPA_ADDR_IPV6, good6, sizeof(good6) / sizeof(good6[0]), 0);
	/* Source mode: 16 zero bytes, and nothing else. */
	addr_bytes(SPA_ADDR_SOURCE, NULL, a);
	assert_int_equal(check_resigned(28, a, sizeof(a)), 0);
	for (i = 1; i < sizeof(a); i++) {
		addr_bytes(SPA_ADDR_SOURCE, NULL, a);
		a[i] = 0x01;
		assert_int_equal(check_resigned(28, a, sizeof(a)),
		    SPA_ERR_MALFORMED);
	}
	/* IPv4: the 12 bytes after the address must be zero. */
	for (i = 5; i < sizeof(a); i++) {
		addr_bytes(SPA_ADDR_IPV4, "203.0.113.7", a);
		a[i] = 0x80;
		assert_int_equal(check_resigned(28, a, sizeof(a)),
		    SPA_ERR_MALFORMED);
	}
	/* Unknown address types, even with a good address behind them. */
	for (i = 0; i < 256; i++) {
		if (i == 0 || i == 4 || i == 6)
			continue;
		addr_bytes((uint8_t)i, "203.0.113.7", a);
		assert_int_equal(check_resigned(28, a, sizeof(a)),
		    SPA_ERR_MALFORMED);
	}
}

/* user_len and the 32 user bytes, re-signed. */
static int
check_user(const char *name, size_t len, uint8_t user_len)
{
	uint8_t u[1 + SPA_USER_MAX];

	memset(u, 0, sizeof(u));
	u[0] = user_len;
	memcpy(u + 1, name, len);
	return check_resigned(45, u, sizeof(u));
}

static void
test_drop_user(void **state)
{
	static const char *const bad[] = {
		"Alice", "1alice", "-x", ".x", "a b", "al/ce", "alice:",
		"\xc3\xa9t\xc3\xa9", "a\tb", "x@y", "A", "_X",
	};
	static const char *const good[] = {
		"a", "_", "_x", "a.b-c_9", "root", "z0",
		"abcdefghijklmnopqrstuvwxyz012345",
	};
	uint8_t u[1 + SPA_USER_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (check_user(bad[i], strlen(bad[i]), (uint8_t)strlen(bad[i]))
		    != SPA_ERR_MALFORMED)
			fail_msg("user \"%s\" accepted", bad[i]);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (check_user(good[i], strlen(good[i]),
		    (uint8_t)strlen(good[i])) != 0)
			fail_msg("user \"%s\" refused", good[i]);
	}
	/* An embedded NUL inside user_len. */
	assert_int_equal(check_user("al\0ce", 5, 5), SPA_ERR_MALFORMED);
	/* user_len 0, over 32, or shorter/longer than the name. */
	assert_int_equal(check_user("", 0, 0), SPA_ERR_MALFORMED);
	assert_int_equal(check_user("alice", 5, 0), SPA_ERR_MALFORMED);
	assert_int_equal(check_user("alice", 5, 33), SPA_ERR_MALFORMED);
	assert_int_equal(check_user("alice", 5, 255), SPA_ERR_MALFORMED);
	assert_int_equal(check_user("alice", 5, 6), SPA_ERR_MALFORMED);
	assert_int_equal(check_user("alice", 5, 4), SPA_ERR_MALFORMED);
	assert_int_equal(check_user("alice", 5, 5), 0);
	/* Every padding byte after the name must be zero. */
	for (i = 6; i < sizeof(u); i++) {
		memset(u, 0, sizeof(u));
		u[0] = 5;
		memcpy(u + 1, "alice", 5);
		u[i] = 'x';
		assert_int_equal(check_resigned(45, u, sizeof(u)),
		    SPA_ERR_MALFORMED);
	}
}

static void
test_drop_signature(void **state)
{
	uint8_t inner[SPA_INNER_SIZE], other_pk[SPA_PK_SIZE];
	uint8_t other_sk[crypto_sign_SECRETKEYBYTES];
	size_t i;

	(void)state;
	/* A changed signature byte, and a changed signed byte. */
	for (i = SPA_SIGNED_PART; i < SPA_INNER_SIZE; i += 7) {
		memcpy(inner, fx.inner, sizeof(inner));
		inner[i] ^= 0x04;
		assert_int_equal(check_inner(inner), SPA_ERR_SIGNATURE);
	}
	assert_int_equal(check_patched(12, "\xa1", 1), SPA_ERR_SIGNATURE);
	assert_int_equal(check_patched(78, "\x00", 1), SPA_ERR_SIGNATURE);
	assert_int_equal(check_patched(46, "alicf", 5), SPA_ERR_SIGNATURE);
	/* Another user's key, another server's public key. */
	crypto_sign_keypair(other_pk, other_sk);
	assert_int_equal(spa_verify(fx.inner, fx.server.pk, other_pk),
	    SPA_ERR_SIGNATURE);
	assert_int_equal(spa_verify(fx.inner, other_pk, fx.user_pk),
	    SPA_ERR_SIGNATURE);
	assert_int_equal(spa_verify(fx.inner, fx.server.pk, fx.user_pk), 0);
	sodium_memzero(other_sk, sizeof(other_sk));
}

/* ---- helpers of spa.h ---- */

static void
test_user_ok(void **state)
{
	(void)state;
	assert_int_equal(spa_user_ok("alice", 5), 1);
	assert_int_equal(spa_user_ok("alice", 3), 1);
	assert_int_equal(spa_user_ok("alice", 0), 0);
	assert_int_equal(spa_user_ok("a\0", 2), 0);
	assert_int_equal(spa_user_ok("abcdefghijklmnopqrstuvwxyz0123456",
	    33), 0);
	assert_int_equal(spa_user_ok("abcdefghijklmnopqrstuvwxyz012345",
	    32), 1);
}

static void
test_addr_usable(void **state)
{
	struct addr a;

	(void)state;
	memset(&a, 0, sizeof(a));
	assert_int_equal(spa_addr_usable(&a), 0);	/* no family */
	assert_int_equal(addr_parse("192.0.2.1", &a), 0);
	assert_int_equal(spa_addr_usable(&a), 1);
	assert_int_equal(addr_parse("2001:db8::5", &a), 0);
	assert_int_equal(spa_addr_usable(&a), 1);
	a.af = AF_UNIX;
	assert_int_equal(spa_addr_usable(&a), 0);
}

static void
test_encode_refuses(void **state)
{
	struct spa_inner in;
	uint8_t inner[SPA_INNER_SIZE], sd[SPA_SIGNED_SIZE];

	(void)state;
	example_inner(&in);
	in.port = 0;
	assert_int_equal(spa_encode_signed(&in, fx.server.pk, inner, sd),
	    SPA_ERR_ARG);
	example_inner(&in);
	strcpy(in.user, "Alice");
	assert_int_equal(spa_encode_signed(&in, fx.server.pk, inner, sd),
	    SPA_ERR_ARG);
	example_inner(&in);
	memset(in.user, 'a', sizeof(in.user));	/* not terminated */
	assert_int_equal(spa_encode_signed(&in, fx.server.pk, inner, sd),
	    SPA_ERR_ARG);
	example_inner(&in);
	assert_int_equal(addr_parse("127.0.0.1", &in.addr), 0);
	assert_int_equal(spa_encode_signed(&in, fx.server.pk, inner, sd),
	    SPA_ERR_ARG);
	example_inner(&in);
	in.addr_type = SPA_ADDR_IPV6;		/* an IPv4 address */
	assert_int_equal(spa_encode_signed(&in, fx.server.pk, inner, sd),
	    SPA_ERR_ARG);
	example_inner(&in);
	in.addr_type = 5;
	assert_int_equal(spa_encode_signed(&in, fx.server.pk, inner, sd),
	    SPA_ERR_ARG);
	/* A bad version builds anyway, so that tests can send it. */
	example_inner(&in);
	in.version = 2;
	in.port = 0;
	assert_int_equal(spa_encode_signed(&in, fx.server.pk, inner, sd), 0);
	assert_int_equal(inner[0], 2);
	assert_int_equal(check_inner(inner), SPA_ERR_VERSION);
	example_inner(&in);
	in.flags = 0x10;
	in.addr_type = 9;
	assert_int_equal(spa_encode_signed(&in, fx.server.pk, inner, sd), 0);
	assert_int_equal(check_inner(inner), SPA_ERR_FLAGS);
}

static void
test_strerror(void **state)
{
	int e;

	(void)state;
	assert_string_equal(spa_strerror(0), "success");
	for (e = SPA_ERR_SIZE; e >= SPA_ERR_CRYPTO; e--) {
		assert_string_not_equal(spa_strerror(e), "unknown error");
	}
	assert_string_equal(spa_strerror(SPA_ERR_CRYPTO - 1), "unknown error");
	assert_string_equal(spa_strerror(1), "unknown error");
}

/* ---- deterministic mutation ---- */

/* Change 1 to 4 bytes: bit flips, new values, inverted bytes. */
static void
mutate(uint8_t *buf, size_t len)
{
	unsigned int n = 1 + rng() % 4, i;
	size_t pos = rng() % len;

	for (i = 0; i < n; i++) {
		switch (rng() % 3) {
		case 0:
			buf[pos] ^= (uint8_t)(1u << (rng() % 8));
			break;
		case 1:
			buf[pos] = (uint8_t)rng();
			break;
		default:
			pos = rng() % len;	/* jump elsewhere */
			buf[pos] ^= 0xff;
			break;
		}
		if (rng() % 2 && pos + 1 < len)
			pos++;
	}
}

static void
test_mutate_datagram(void **state)
{
	uint8_t pkt[SPA_SIZE], inner[SPA_INNER_SIZE];
	uint64_t bucket;
	size_t i, idx, same = 0, opened = 0;
	int r, tag_only;

	(void)state;
	rng_start(1);
	for (i = 0; i < MUTATIONS; i++) {
		memcpy(pkt, fx.pkt, SPA_SIZE);
		mutate(pkt, SPA_SIZE);
		r = spa_tag_check(pkt, SPA_SIZE, &fx.server, 1, T0, WINDOW,
		    &idx, &bucket);
		if (memcmp(pkt, fx.pkt, SPA_SIZE) == 0) {
			assert_int_equal(r, 0);
			same++;
			continue;
		}
		assert_int_equal(r, SPA_ERR_TAG);
		/* Past the tag, the seal catches every change but the tag's. */
		tag_only = memcmp(pkt + SPA_TAG_SIZE, fx.pkt + SPA_TAG_SIZE,
		    SPA_SEALED_SIZE) == 0;
		if (i % 4 == 0 || tag_only) {
			r = spa_open(pkt, &fx.server, inner);
			assert_int_equal(r, tag_only ? 0 : SPA_ERR_SEAL);
			opened++;
		}
		/* Cut or grown, it never gets past the size. */
		assert_int_equal(spa_tag_check(pkt, 1 + rng() % (SPA_SIZE - 1),
		    &fx.server, 1, T0, WINDOW, &idx, &bucket), SPA_ERR_SIZE);
	}
	print_message("datagram: %d mutations, %zu identical, %zu opened\n",
	    MUTATIONS, same, opened);
}

static void
test_mutate_inner(void **state)
{
	uint8_t inner[SPA_INNER_SIZE];
	struct spa_inner out;
	size_t i, same = 0, decoded = 0;
	int r;

	(void)state;
	rng_start(2);
	for (i = 0; i < MUTATIONS; i++) {
		memcpy(inner, fx.inner, sizeof(inner));
		mutate(inner, sizeof(inner));
		r = spa_decode(inner, BUCKET0, &out);
		if (r == 0) {
			decoded++;
			r = spa_verify(inner, fx.server.pk, fx.user_pk);
		}
		if (memcmp(inner, fx.inner, sizeof(inner)) == 0) {
			assert_int_equal(r, 0);
			same++;
			continue;
		}
		if (r == 0)
			fail_msg("mutation %zu accepted", i);
		assert_true(r == SPA_ERR_VERSION || r == SPA_ERR_FLAGS ||
		    r == SPA_ERR_MALFORMED || r == SPA_ERR_SIGNATURE);
	}
	print_message("inner: %d mutations, %zu identical, %zu decoded\n",
	    MUTATIONS, same, decoded);
	assert_true(decoded > MUTATIONS / 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_keys),
		cmocka_unit_test(test_example_signed),
		cmocka_unit_test(test_example_datagram),
		cmocka_unit_test(test_example_accepted),
		cmocka_unit_test(test_two_keys),
		cmocka_unit_test(test_random_seal),
		cmocka_unit_test(test_drop_size_and_tag),
		cmocka_unit_test(test_drop_seal),
		cmocka_unit_test(test_drop_version_flags),
		cmocka_unit_test(test_drop_port_time),
		cmocka_unit_test(test_drop_address),
		cmocka_unit_test(test_drop_user),
		cmocka_unit_test(test_drop_signature),
		cmocka_unit_test(test_user_ok),
		cmocka_unit_test(test_addr_usable),
		cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_mutate_datagram),
		cmocka_unit_test(test_mutate_inner),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
