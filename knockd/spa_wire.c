/*
 * spa_wire: the knock datagram of docs/PROTOCOL.knock, built and taken
 * apart (the contract is knockd/spa.h).
 *
 * Decoding reads the inner message through a cursor, one field after the
 * other, and checks every value, including every byte that must be zero,
 * so that each valid knock has exactly one encoding.  Nothing here does
 * I/O or reads the clock; the callers pass "now".
 */
#include <sys/socket.h>

#include <string.h>

#include <sodium.h>

#include "conv.h"
#include "spa.h"

/* A bounded reader over the inner message. */
struct spa_cur {
	const uint8_t	*p;
	size_t		 left;
};

static const char *const spa_errors[] = {
	"success",
	"datagram is not exactly 238 bytes",
	"no pre-check tag matched",
	"sealed box does not open",
	"inner version is not 1",
	"a reserved flag is set",
	"malformed inner message",
	"signature does not verify",
	"invalid argument",
	"libsodium failed",
};

const char *
spa_strerror(int err)
{
	if (err > 0 || -err >= (int)(sizeof(spa_errors) /
	    sizeof(spa_errors[0])))
		return "unknown error";
	return spa_errors[-err];
}

int
spa_init(void)
{
	return sodium_init() < 0 ? SPA_ERR_CRYPTO : 0;
}

static void
put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put_u64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

void
spa_tag_key(const uint8_t server_pk[SPA_PK_SIZE], uint8_t tag_key[32])
{
	uint8_t in[sizeof(SPA_TAG_DOMAIN) - 1 + SPA_PK_SIZE];

	memcpy(in, SPA_TAG_DOMAIN, sizeof(SPA_TAG_DOMAIN) - 1);
	memcpy(in + sizeof(SPA_TAG_DOMAIN) - 1, server_pk, SPA_PK_SIZE);
	crypto_generichash(tag_key, 32, in, sizeof(in), NULL, 0);
}

int
spa_server_key_set(struct spa_server_key *k, const uint8_t sk[SPA_SK_SIZE])
{
	if (crypto_scalarmult_base(k->pk, sk) != 0)
		return SPA_ERR_CRYPTO;
	memcpy(k->sk, sk, SPA_SK_SIZE);
	spa_tag_key(k->pk, k->tag_key);
	return 0;
}

void
spa_key_blob(const uint8_t ed25519_pk[SPA_PK_SIZE],
    uint8_t blob[SPA_ED25519_BLOB_SIZE])
{
	static const uint8_t head[19] = {
		0, 0, 0, 11, 's', 's', 'h', '-', 'e', 'd', '2', '5', '5',
		'1', '9', 0, 0, 0, SPA_PK_SIZE
	};

	memcpy(blob, head, sizeof(head));
	memcpy(blob + sizeof(head), ed25519_pk, SPA_PK_SIZE);
}

void
spa_key_id(const uint8_t ed25519_pk[SPA_PK_SIZE],
    uint8_t key_id[SPA_KEYID_SIZE])
{
	uint8_t blob[SPA_ED25519_BLOB_SIZE];

	spa_key_blob(ed25519_pk, blob);
	crypto_hash_sha256(key_id, blob, sizeof(blob));
}

int
spa_user_ok(const char *user, size_t len)
{
	char buf[SPA_USER_MAX + 1];

	/* conv_name_ok() reads a C string: an embedded NUL must not pass. */
	if (len == 0 || len > SPA_USER_MAX || memchr(user, '\0', len) != NULL)
		return 0;
	memcpy(buf, user, len);
	buf[len] = '\0';
	return conv_name_ok(buf, SPA_USER_MAX);
}

static int
all_zero(const uint8_t *p, size_t len)
{
	uint8_t acc = 0;
	size_t i;

	for (i = 0; i < len; i++)
		acc |= p[i];
	return acc == 0;
}

static int
v4_usable(const uint8_t *a)
{
	if (a[0] == 0 || a[0] == 127 || a[0] >= 224)
		return 0;	/* 0/8, 127/8, 224/4 and 240/4 */
	if (a[0] == 169 && a[1] == 254)
		return 0;
	return 1;
}

static int
v6_usable(const uint8_t *a)
{
	static const uint8_t mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	/* ::/96 holds ::, ::1 and the IPv4-compatible addresses. */
	if (all_zero(a, 12) || memcmp(a, mapped, sizeof(mapped)) == 0)
		return 0;
	if (a[0] == 0xff || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80))
		return 0;
	return 1;
}

int
spa_addr_usable(const struct addr *a)
{
	if (a->af == AF_INET)
		return v4_usable(a->a);
	if (a->af == AF_INET6)
		return v6_usable(a->a);
	return 0;
}

/* Write addr_type and the 16 address bytes; SPA_ERR_ARG if unusable. */
static int
encode_addr(const struct spa_inner *in, int check, uint8_t *p)
{
	p[0] = in->addr_type;
	memset(p + 1, 0, 16);
	switch (in->addr_type) {
	case SPA_ADDR_SOURCE:
		return 0;
	case SPA_ADDR_IPV4:
		if (in->addr.af != AF_INET)
			return SPA_ERR_ARG;
		memcpy(p + 1, in->addr.a, 4);
		break;
	case SPA_ADDR_IPV6:
		if (in->addr.af != AF_INET6)
			return SPA_ERR_ARG;
		memcpy(p + 1, in->addr.a, 16);
		break;
	default:
		return check ? SPA_ERR_ARG : 0;
	}
	if (check && !spa_addr_usable(&in->addr))
		return SPA_ERR_ARG;
	return 0;
}

/* signed_data = SPA_DOMAIN || server_pk || inner[0..109] (section 7.1). */
static void
signed_data_make(const uint8_t server_pk[SPA_PK_SIZE],
    const uint8_t inner[SPA_INNER_SIZE], uint8_t out[SPA_SIGNED_SIZE])
{
	memcpy(out, SPA_DOMAIN, sizeof(SPA_DOMAIN) - 1);
	memcpy(out + sizeof(SPA_DOMAIN) - 1, server_pk, SPA_PK_SIZE);
	memcpy(out + sizeof(SPA_DOMAIN) - 1 + SPA_PK_SIZE, inner,
	    SPA_SIGNED_PART);
}

int
spa_encode_signed(const struct spa_inner *in,
    const uint8_t server_pk[SPA_PK_SIZE], uint8_t inner[SPA_INNER_SIZE],
    uint8_t signed_data[SPA_SIGNED_SIZE])
{
	size_t ulen = strnlen(in->user, sizeof(in->user));
	int check = in->version == SPA_VERSION && in->flags == 0;

	memset(inner, 0, SPA_INNER_SIZE);
	if (ulen > SPA_USER_MAX)
		return SPA_ERR_ARG;
	if (check && (in->port == 0 || !spa_user_ok(in->user, ulen)))
		return SPA_ERR_ARG;
	inner[0] = in->version;
	inner[1] = in->flags;
	put_u16(inner + 2, in->port);
	put_u64(inner + 4, in->timestamp);
	memcpy(inner + 12, in->nonce, SPA_NONCE_SIZE);
	if (encode_addr(in, check, inner + 28) != 0) {
		memset(inner, 0, SPA_INNER_SIZE);
		return SPA_ERR_ARG;
	}
	inner[45] = (uint8_t)ulen;
	memcpy(inner + 46, in->user, ulen);
	memcpy(inner + 78, in->key_id, SPA_KEYID_SIZE);

	signed_data_make(server_pk, inner, signed_data);
	return 0;
}

/* tag = BLAKE2b-128(key = tag_key, uint64 bucket || sealed). */
static void
spa_tag(const uint8_t tag_key[32], uint64_t bucket, const uint8_t *sealed,
    uint8_t tag[SPA_TAG_SIZE])
{
	crypto_generichash_state st;
	uint8_t b[8];

	put_u64(b, bucket);
	crypto_generichash_init(&st, tag_key, 32, SPA_TAG_SIZE);
	crypto_generichash_update(&st, b, sizeof(b));
	crypto_generichash_update(&st, sealed, SPA_SEALED_SIZE);
	crypto_generichash_final(&st, tag, SPA_TAG_SIZE);
}

static void
finish_tag(uint64_t timestamp, const uint8_t server_pk[SPA_PK_SIZE],
    uint8_t out[SPA_SIZE])
{
	uint8_t tag_key[32];

	spa_tag_key(server_pk, tag_key);
	spa_tag(tag_key, timestamp / SPA_BUCKET, out + SPA_TAG_SIZE, out);
}

int
spa_seal(uint8_t inner[SPA_INNER_SIZE], const uint8_t sig[SPA_SIG_SIZE],
    uint64_t timestamp, const uint8_t server_pk[SPA_PK_SIZE],
    uint8_t out[SPA_SIZE])
{
	memcpy(inner + SPA_SIGNED_PART, sig, SPA_SIG_SIZE);
	if (crypto_box_seal(out + SPA_TAG_SIZE, inner, SPA_INNER_SIZE,
	    server_pk) != 0)
		return SPA_ERR_CRYPTO;
	finish_tag(timestamp, server_pk, out);
	return 0;
}

/*
 * What crypto_box_seal() does, with the ephemeral key given:
 * nonce24 = BLAKE2b-192(epk || server_pk), then
 * epk || crypto_box_easy(inner, nonce24, server_pk, esk).
 */
int
spa_seal_with(uint8_t inner[SPA_INNER_SIZE], const uint8_t sig[SPA_SIG_SIZE],
    uint64_t timestamp, const uint8_t server_pk[SPA_PK_SIZE],
    const uint8_t eph_sk[SPA_SK_SIZE], uint8_t out[SPA_SIZE])
{
	crypto_generichash_state st;
	uint8_t *epk = out + SPA_TAG_SIZE;
	uint8_t nonce[crypto_box_NONCEBYTES];

	memcpy(inner + SPA_SIGNED_PART, sig, SPA_SIG_SIZE);
	if (crypto_scalarmult_base(epk, eph_sk) != 0)
		return SPA_ERR_CRYPTO;
	crypto_generichash_init(&st, NULL, 0, sizeof(nonce));
	crypto_generichash_update(&st, epk, SPA_PK_SIZE);
	crypto_generichash_update(&st, server_pk, SPA_PK_SIZE);
	crypto_generichash_final(&st, nonce, sizeof(nonce));
	if (crypto_box_easy(epk + SPA_PK_SIZE, inner, SPA_INNER_SIZE, nonce,
	    server_pk, eph_sk) != 0)
		return SPA_ERR_CRYPTO;
	finish_tag(timestamp, server_pk, out);
	return 0;
}

/* Try one bucket with every key; the first match wins. */
static int
tag_try(const uint8_t *pkt, const struct spa_server_key *keys, size_t nkeys,
    uint64_t b, size_t *key_idx)
{
	uint8_t tag[SPA_TAG_SIZE];
	size_t k;

	for (k = 0; k < nkeys; k++) {
		spa_tag(keys[k].tag_key, b, pkt + SPA_TAG_SIZE, tag);
		if (crypto_verify_16(tag, pkt) == 0) {
			*key_idx = k;
			return 0;
		}
	}
	return -1;
}

/*
 * A window above SPA_WINDOW_MAX is taken as SPA_WINDOW_MAX: the range
 * of buckets, and so the cost per datagram, stays bounded whatever the
 * caller passes.
 */
int
spa_tag_check(const uint8_t *pkt, size_t len,
    const struct spa_server_key *keys, size_t nkeys, uint64_t now,
    unsigned int window, size_t *key_idx, uint64_t *bucket)
{
	uint64_t lo, hi, b, nb = now / SPA_BUCKET;

	if (len != SPA_SIZE)
		return SPA_ERR_SIZE;
	if (window > SPA_WINDOW_MAX)
		window = SPA_WINDOW_MAX;
	lo = now >= window ? (now - window) / SPA_BUCKET : 0;
	hi = now <= UINT64_MAX - window ? (now + window) / SPA_BUCKET :
	    UINT64_MAX / SPA_BUCKET;
	if (tag_try(pkt, keys, nkeys, nb, key_idx) == 0) {
		*bucket = nb;
		return 0;
	}
	for (b = lo; b <= hi; b++) {
		if (b != nb && tag_try(pkt, keys, nkeys, b, key_idx) == 0) {
			*bucket = b;
			return 0;
		}
	}
	return SPA_ERR_TAG;
}

int
spa_open(const uint8_t pkt[SPA_SIZE], const struct spa_server_key *key,
    uint8_t inner[SPA_INNER_SIZE])
{
	if (crypto_box_seal_open(inner, pkt + SPA_TAG_SIZE, SPA_SEALED_SIZE,
	    key->pk, key->sk) != 0) {
		sodium_memzero(inner, SPA_INNER_SIZE);
		return SPA_ERR_SEAL;
	}
	return 0;
}

/* ---- the decoder's cursor ---- */

static int
cur_bytes(struct spa_cur *c, size_t n, const uint8_t **p)
{
	if (n > c->left)
		return -1;
	*p = c->p;
	c->p += n;
	c->left -= n;
	return 0;
}

static int
cur_u8(struct spa_cur *c, uint8_t *v)
{
	const uint8_t *p;

	if (cur_bytes(c, 1, &p) != 0)
		return -1;
	*v = p[0];
	return 0;
}

static int
cur_u16(struct spa_cur *c, uint16_t *v)
{
	const uint8_t *p;

	if (cur_bytes(c, 2, &p) != 0)
		return -1;
	*v = (uint16_t)(p[0] << 8 | p[1]);
	return 0;
}

static int
cur_u64(struct spa_cur *c, uint64_t *v)
{
	const uint8_t *p;
	int i;

	if (cur_bytes(c, 8, &p) != 0)
		return -1;
	*v = 0;
	for (i = 0; i < 8; i++)
		*v = *v << 8 | p[i];
	return 0;
}

/* addr_type and addr (section 5.2). */
static int
decode_addr(struct spa_cur *c, struct spa_inner *out)
{
	const uint8_t *a;

	if (cur_u8(c, &out->addr_type) != 0 || cur_bytes(c, 16, &a) != 0)
		return -1;
	switch (out->addr_type) {
	case SPA_ADDR_SOURCE:
		return all_zero(a, 16) ? 0 : -1;
	case SPA_ADDR_IPV4:
		if (!all_zero(a + 4, 12))
			return -1;
		out->addr.af = AF_INET;
		memcpy(out->addr.a, a, 4);
		break;
	case SPA_ADDR_IPV6:
		out->addr.af = AF_INET6;
		memcpy(out->addr.a, a, 16);
		break;
	default:
		return -1;
	}
	return spa_addr_usable(&out->addr) ? 0 : -1;
}

/* user_len, then user: the name and zero bytes to 32 in all. */
static int
decode_user(struct spa_cur *c, struct spa_inner *out)
{
	const uint8_t *u;
	uint8_t len;

	if (cur_u8(c, &len) != 0 || cur_bytes(c, SPA_USER_MAX, &u) != 0)
		return -1;
	if (!spa_user_ok((const char *)u, len) ||
	    !all_zero(u + len, SPA_USER_MAX - len))
		return -1;
	memcpy(out->user, u, len);
	out->user[len] = '\0';
	return 0;
}

/* Everything after version and flags. */
static int
decode_rest(struct spa_cur *c, uint64_t bucket, struct spa_inner *out)
{
	const uint8_t *p;

	if (cur_u16(c, &out->port) != 0 || out->port == 0)
		return -1;
	if (cur_u64(c, &out->timestamp) != 0 ||
	    out->timestamp / SPA_BUCKET != bucket)
		return -1;
	if (cur_bytes(c, SPA_NONCE_SIZE, &p) != 0)
		return -1;
	memcpy(out->nonce, p, SPA_NONCE_SIZE);
	if (decode_addr(c, out) != 0 || decode_user(c, out) != 0)
		return -1;
	if (cur_bytes(c, SPA_KEYID_SIZE, &p) != 0)
		return -1;
	memcpy(out->key_id, p, SPA_KEYID_SIZE);
	if (cur_bytes(c, SPA_SIG_SIZE, &p) != 0)
		return -1;
	memcpy(out->sig, p, SPA_SIG_SIZE);
	return c->left == 0 ? 0 : -1;
}

int
spa_decode(const uint8_t inner[SPA_INNER_SIZE], uint64_t bucket,
    struct spa_inner *out)
{
	struct spa_cur c = { inner, SPA_INNER_SIZE };

	memset(out, 0, sizeof(*out));
	if (cur_u8(&c, &out->version) != 0 || out->version != SPA_VERSION)
		return SPA_ERR_VERSION;
	if (cur_u8(&c, &out->flags) != 0 || out->flags != 0)
		return SPA_ERR_FLAGS;
	if (decode_rest(&c, bucket, out) != 0) {
		memset(out, 0, sizeof(*out));
		return SPA_ERR_MALFORMED;
	}
	return 0;
}

int
spa_verify(const uint8_t inner[SPA_INNER_SIZE],
    const uint8_t server_pk[SPA_PK_SIZE],
    const uint8_t ed25519_pk[SPA_PK_SIZE])
{
	uint8_t signed_data[SPA_SIGNED_SIZE];

	signed_data_make(server_pk, inner, signed_data);
	if (crypto_sign_verify_detached(inner + SPA_SIGNED_PART, signed_data,
	    SPA_SIGNED_SIZE, ed25519_pk) != 0)
		return SPA_ERR_SIGNATURE;
	return 0;
}
