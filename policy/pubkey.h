/*
 * pubkey: OpenSSH public keys ("TYPE BASE64 [COMMENT]") parsed and checked.
 *
 * The key blob is decoded and walked field by field, so a key that would
 * fail later in the SSH server fails here, at policy load, with a message.
 * Weak types are refused: DSA, RSA under 3072 bits, certificates (those
 * belong to a CA configuration, not a user's key list).  Keys are compared
 * as blobs: the gateway hands over the blob the client proved possession
 * of, and the policy answers with a byte comparison.
 */
#ifndef RAMPART_PUBKEY_H
#define RAMPART_PUBKEY_H

#include <stddef.h>
#include <stdint.h>

#define PUBKEY_BLOB_MAX		4096	/* fits RSA 16384 */
#define PUBKEY_RSA_MIN_BITS	3072
#define PUBKEY_RSA_MAX_BITS	16384
#define PUBKEY_COMMENT_MAX	256
#define PUBKEY_FP_LEN		64	/* "SHA256:" + 43 + NUL, rounded */

struct pubkey {
	char		 type[48];	/* "ssh-ed25519", ... */
	uint8_t		*blob;		/* decoded wire blob */
	size_t		 bloblen;
	unsigned int	 bits;		/* 256 for ed25519, modulus for RSA */
	char		 comment[PUBKEY_COMMENT_MAX];	/* may be empty */
};

/*
 * Decode and validate one key from its type name and base64 text.  On
 * success *out owns a blob (pubkey_clear frees it) and 0 is returned; on
 * failure -1 and a reason in err (no file/line: the caller adds those).
 */
int	pubkey_parse(const char *type, const char *b64, size_t b64len,
	    struct pubkey *out, char *err, size_t errlen);

/* 1 if the name is an SSH public key algorithm this parser knows of. */
int	pubkey_is_type_name(const char *s, size_t len);

void	pubkey_clear(struct pubkey *k);

/* Deep copy.  0 or -1 (out of memory). */
int	pubkey_copy(struct pubkey *dst, const struct pubkey *src);

/* 1 if the blobs are identical. */
int	pubkey_blob_eq(const struct pubkey *k, const uint8_t *blob,
	    size_t len);

/* "SHA256:<base64>" as OpenSSH prints it. */
void	pubkey_fingerprint(const struct pubkey *k, char *buf, size_t len);

/*
 * The key in authorized_keys form, "type base64 comment", malloc'ed.
 * Returns NULL on allocation failure.
 */
char	*pubkey_to_line(const struct pubkey *k);

#endif /* RAMPART_PUBKEY_H */
