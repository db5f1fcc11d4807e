/*
 * spa: the knock datagram of docs/PROTOCOL.knock, version 1 -- building it
 * (rampart-knock) and taking it apart (rampart-knockd), nothing else.
 *
 * The datagram is tag || crypto_box_seal(inner).  Checking is split in the
 * order the daemon needs it, cheapest first: spa_tag_check() (a keyed
 * hash, before any public-key work), spa_open() (the seal), spa_decode()
 * (every field through a cursor), then the caller finds the user's key and
 * calls spa_verify().  Every function here is pure: no I/O, no clock, no
 * policy; the caller passes "now" and the window.  Nothing is cast from
 * packet bytes; every byte the protocol requires to be zero is checked.
 */
#ifndef RAMPART_SPA_H
#define RAMPART_SPA_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define SPA_VERSION		1
#define SPA_DOMAIN		"rampart-knock-v1"	/* 16 bytes */
#define SPA_TAG_DOMAIN		"rampart-knock-v1 tag"	/* 20 bytes */
#define SPA_SIZE		238	/* the whole datagram */
#define SPA_INNER_SIZE		174
#define SPA_SIGNED_PART		110	/* inner bytes covered by the signature */
#define SPA_SIGNED_SIZE		158	/* domain || server_pk || inner[0..109] */
#define SPA_TAG_SIZE		16
#define SPA_SEALED_SIZE		222	/* SPA_INNER_SIZE + crypto_box_SEALBYTES */
#define SPA_BUCKET		64	/* seconds per tag time bucket */
#define SPA_MAX			1200	/* no version may ever exceed this */
#define SPA_NONCE_SIZE		16
#define SPA_KEYID_SIZE		32	/* SHA-256 of the ssh-ed25519 key blob */
#define SPA_SIG_SIZE		64
#define SPA_PK_SIZE		32	/* X25519 and Ed25519 public keys */
#define SPA_SK_SIZE		32	/* X25519 secret key */
#define SPA_USER_MAX		32
#define SPA_WINDOW_MAX		120	/* KnockWindow upper bound, seconds */
#define SPA_ED25519_BLOB_SIZE	51	/* string "ssh-ed25519", string pk */

/* addr_type values (section 5.2) */
#define SPA_ADDR_SOURCE		0
#define SPA_ADDR_IPV4		4
#define SPA_ADDR_IPV6		6

/* Errors: 0 is success; these are negative.  spa_strerror() names them. */
#define SPA_ERR_SIZE		-1	/* not exactly SPA_SIZE bytes */
#define SPA_ERR_TAG		-2	/* no candidate bucket's tag matched */
#define SPA_ERR_SEAL		-3	/* crypto_box_seal_open failed */
#define SPA_ERR_VERSION		-4	/* inner version not 1 */
#define SPA_ERR_FLAGS		-5	/* a reserved flag bit set */
#define SPA_ERR_MALFORMED	-6	/* a field breaks section 5 */
#define SPA_ERR_SIGNATURE	-7	/* Ed25519 signature does not verify */
#define SPA_ERR_ARG		-8	/* caller error (bad argument to encode) */
#define SPA_ERR_CRYPTO		-9	/* libsodium failed (init, seal) */

/* The inner message, decoded (section 5.1). */
struct spa_inner {
	uint8_t		version;	/* 1 */
	uint8_t		flags;		/* 0 */
	uint16_t	port;		/* 1..65535 */
	uint64_t	timestamp;	/* Unix seconds */
	uint8_t		nonce[SPA_NONCE_SIZE];
	uint8_t		addr_type;	/* SPA_ADDR_* */
	struct addr	addr;		/* valid when addr_type != SOURCE */
	char		user[SPA_USER_MAX + 1];	/* NUL-terminated */
	uint8_t		key_id[SPA_KEYID_SIZE];
	uint8_t		sig[SPA_SIG_SIZE];
};

/* One server key as knockd holds it; tag_key is derived (section 6.1). */
struct spa_server_key {
	uint8_t		sk[SPA_SK_SIZE];	/* keep in sodium_mlock'ed memory */
	uint8_t		pk[SPA_PK_SIZE];
	uint8_t		tag_key[32];
};

const char *spa_strerror(int err);

/* sodium_init() once; 0 or SPA_ERR_CRYPTO. */
int	spa_init(void);

/* tag_key = BLAKE2b-256(SPA_TAG_DOMAIN || server_pk). */
void	spa_tag_key(const uint8_t server_pk[SPA_PK_SIZE], uint8_t tag_key[32]);

/*
 * Fill k from a secret key: pk = crypto_scalarmult_base(sk), tag_key.
 * 0 or SPA_ERR_CRYPTO.
 */
int	spa_server_key_set(struct spa_server_key *k,
	    const uint8_t sk[SPA_SK_SIZE]);

/* key_id = SHA-256(ssh-ed25519 key blob of pk). */
void	spa_key_id(const uint8_t ed25519_pk[SPA_PK_SIZE],
	    uint8_t key_id[SPA_KEYID_SIZE]);
/* The 51-byte key blob of an Ed25519 public key (section 3.2). */
void	spa_key_blob(const uint8_t ed25519_pk[SPA_PK_SIZE],
	    uint8_t blob[SPA_ED25519_BLOB_SIZE]);

/*
 * The valid user name rule of section 5.2 (1..32 bytes of a-z 0-9 _ - .,
 * first a letter or _).  1 or 0.
 */
int	spa_user_ok(const char *user, size_t len);

/*
 * 1 if a may be opened (section 5.2: not unspecified, loopback,
 * link-local, multicast, reserved, IPv4-mapped or -compatible).
 */
int	spa_addr_usable(const struct addr *a);

/* ---- building (rampart-knock) ---- */

/*
 * Encode the first SPA_SIGNED_PART bytes of the inner message from in
 * (version and flags are taken from in, so tests can build bad ones), and
 * write signed_data (SPA_SIGNED_SIZE bytes) for server_pk.  Checks the
 * user name, port and address like the decoder, unless in->flags or
 * in->version already make it invalid on purpose.  0 or SPA_ERR_ARG.
 */
int	spa_encode_signed(const struct spa_inner *in,
	    const uint8_t server_pk[SPA_PK_SIZE],
	    uint8_t inner[SPA_INNER_SIZE],
	    uint8_t signed_data[SPA_SIGNED_SIZE]);

/*
 * Finish a datagram: put sig at inner[110..173], seal inner to server_pk
 * (fresh ephemeral key), compute the tag for the bucket of timestamp, and
 * write SPA_SIZE bytes to out.  0 or SPA_ERR_CRYPTO.
 */
int	spa_seal(uint8_t inner[SPA_INNER_SIZE], const uint8_t sig[SPA_SIG_SIZE],
	    uint64_t timestamp, const uint8_t server_pk[SPA_PK_SIZE],
	    uint8_t out[SPA_SIZE]);

/* As spa_seal with a given ephemeral secret key (test vector, §13). */
int	spa_seal_with(uint8_t inner[SPA_INNER_SIZE],
	    const uint8_t sig[SPA_SIG_SIZE], uint64_t timestamp,
	    const uint8_t server_pk[SPA_PK_SIZE],
	    const uint8_t eph_sk[SPA_SK_SIZE], uint8_t out[SPA_SIZE]);

/* ---- checking (rampart-knockd), in this order ---- */

/*
 * Steps 1-2: exact size, then the tag against every server key (keys[0]
 * first) and every bucket from floor((now-window)/64) to
 * floor((now+window)/64), the bucket of now first, compared with
 * crypto_verify_16.  On success *key_idx and *bucket say what matched.
 * SPA_ERR_SIZE, SPA_ERR_TAG or 0.  No public-key work.
 */
int	spa_tag_check(const uint8_t *pkt, size_t len,
	    const struct spa_server_key *keys, size_t nkeys, uint64_t now,
	    unsigned int window, size_t *key_idx, uint64_t *bucket);

/*
 * Step 6: open the seal of a datagram that passed spa_tag_check with key.
 * 0 or SPA_ERR_SEAL.
 */
int	spa_open(const uint8_t pkt[SPA_SIZE], const struct spa_server_key *key,
	    uint8_t inner[SPA_INNER_SIZE]);

/*
 * Step 7: decode every field through a cursor; bucket is the one the tag
 * matched and must equal floor(timestamp / 64).  SPA_ERR_VERSION,
 * SPA_ERR_FLAGS, SPA_ERR_MALFORMED or 0.
 */
int	spa_decode(const uint8_t inner[SPA_INNER_SIZE], uint64_t bucket,
	    struct spa_inner *out);

/*
 * Step 9: verify out->sig over SPA_DOMAIN || server_pk || inner[0..109]
 * with the user's Ed25519 public key.  0 or SPA_ERR_SIGNATURE.
 */
int	spa_verify(const uint8_t inner[SPA_INNER_SIZE],
	    const uint8_t server_pk[SPA_PK_SIZE],
	    const uint8_t ed25519_pk[SPA_PK_SIZE]);

#endif /* RAMPART_SPA_H */
