/*
 * pubkey: decoding and validation of OpenSSH public key blobs.
 *
 * The blob is read through a bounded cursor (RFC 4251 "string" and
 * "mpint"), every field is checked, and the whole blob must be consumed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "pubkey.h"

struct cursor {
	const uint8_t	*p;
	size_t		 left;
};

enum kind { K_ED25519, K_SK_ED25519, K_ECDSA, K_SK_ECDSA, K_RSA };

static const struct keytype {
	const char	*name;
	enum kind	 kind;
	const char	*curve;		/* ECDSA only */
	size_t		 qlen;		/* uncompressed point length */
	unsigned int	 bits;
} keytypes[] = {
	{ "ssh-ed25519", K_ED25519, NULL, 0, 256 },
	{ "sk-ssh-ed25519@openssh.com", K_SK_ED25519, NULL, 0, 256 },
	{ "ecdsa-sha2-nistp256", K_ECDSA, "nistp256", 65, 256 },
	{ "ecdsa-sha2-nistp384", K_ECDSA, "nistp384", 97, 384 },
	{ "ecdsa-sha2-nistp521", K_ECDSA, "nistp521", 133, 521 },
	{ "sk-ecdsa-sha2-nistp256@openssh.com", K_SK_ECDSA, "nistp256", 65,
	    256 },
	{ "ssh-rsa", K_RSA, NULL, 0, 0 },
};

/* Known but refused, with the reason a user can act on. */
static const struct refused {
	const char	*name;
	const char	*why;
} refused[] = {
	{ "ssh-dss", "DSA keys are weak and not accepted; use ssh-ed25519" },
	{ "ssh-ed25519-cert-v01@openssh.com",
	    "certificates are not accepted as keys" },
	{ "ssh-rsa-cert-v01@openssh.com",
	    "certificates are not accepted as keys" },
	{ "ecdsa-sha2-nistp256-cert-v01@openssh.com",
	    "certificates are not accepted as keys" },
	{ "ecdsa-sha2-nistp384-cert-v01@openssh.com",
	    "certificates are not accepted as keys" },
	{ "ecdsa-sha2-nistp521-cert-v01@openssh.com",
	    "certificates are not accepted as keys" },
	{ "sk-ssh-ed25519-cert-v01@openssh.com",
	    "certificates are not accepted as keys" },
	{ "ssh-dss-cert-v01@openssh.com",
	    "certificates are not accepted as keys" },
};

static const struct keytype *
keytype_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(keytypes) / sizeof(keytypes[0]); i++) {
		if (strlen(keytypes[i].name) == len &&
		    memcmp(keytypes[i].name, name, len) == 0)
			return &keytypes[i];
	}
	return NULL;
}

static const struct refused *
refused_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		if (strlen(refused[i].name) == len &&
		    memcmp(refused[i].name, name, len) == 0)
			return &refused[i];
	}
	return NULL;
}

int
pubkey_is_type_name(const char *s, size_t len)
{
	return keytype_find(s, len) != NULL || refused_find(s, len) != NULL;
}

static int
cur_string(struct cursor *c, const uint8_t **p, size_t *len)
{
	uint32_t n;

	if (c->left < 4)
		return -1;
	n = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 |
	    (uint32_t)c->p[2] << 8 | (uint32_t)c->p[3];
	if (n > c->left - 4)
		return -1;
	*p = c->p + 4;
	*len = n;
	c->p += 4 + (size_t)n;
	c->left -= 4 + (size_t)n;
	return 0;
}

static int
str_is(const uint8_t *p, size_t len, const char *s)
{
	return strlen(s) == len && memcmp(p, s, len) == 0;
}

/* A positive, minimally encoded mpint; returns its bit length or 0. */
static unsigned int
mpint_bits(const uint8_t *p, size_t len)
{
	unsigned int bits;
	uint8_t top;

	if (len == 0 || (p[0] & 0x80) != 0)
		return 0;
	if (p[0] == 0) {
		/* A leading zero is only allowed to clear the sign bit. */
		if (len < 2 || (p[1] & 0x80) == 0)
			return 0;
		p++;
		len--;
	}
	if (len > PUBKEY_RSA_MAX_BITS / 8 + 1)
		return 0;
	for (bits = 8, top = p[0]; (top & 0x80) == 0; top <<= 1)
		bits--;
	return (unsigned int)((len - 1) * 8) + bits;
}

static int
check_rsa(struct cursor *c, unsigned int *bits, char *err, size_t errlen)
{
	const uint8_t *e, *n;
	size_t elen, nlen;

	if (cur_string(c, &e, &elen) != 0 || cur_string(c, &n, &nlen) != 0) {
		snprintf(err, errlen, "truncated RSA key");
		return -1;
	}
	if (mpint_bits(e, elen) < 2 || mpint_bits(e, elen) > 64 ||
	    (e[elen - 1] & 1) == 0) {
		snprintf(err, errlen, "RSA key has an invalid public exponent");
		return -1;
	}
	if (nlen > PUBKEY_RSA_MAX_BITS / 8 + 1) {
		snprintf(err, errlen, "RSA key is larger than %u bits",
		    PUBKEY_RSA_MAX_BITS);
		return -1;
	}
	*bits = mpint_bits(n, nlen);
	if (*bits == 0 || (n[nlen - 1] & 1) == 0) {
		snprintf(err, errlen, "RSA key has an invalid modulus");
		return -1;
	}
	if (*bits < PUBKEY_RSA_MIN_BITS) {
		snprintf(err, errlen, "RSA key of %u bits is too weak "
		    "(minimum %u); use ssh-ed25519", *bits,
		    PUBKEY_RSA_MIN_BITS);
		return -1;
	}
	return 0;
}

static int
check_fields(const struct keytype *kt, struct cursor *c, unsigned int *bits,
    char *err, size_t errlen)
{
	const uint8_t *p;
	size_t len;

	*bits = kt->bits;
	switch (kt->kind) {
	case K_RSA:
		return check_rsa(c, bits, err, errlen);
	case K_ED25519:
	case K_SK_ED25519:
		if (cur_string(c, &p, &len) != 0 || len != 32) {
			snprintf(err, errlen, "Ed25519 key is not 32 bytes");
			return -1;
		}
		break;
	case K_ECDSA:
	case K_SK_ECDSA:
		if (cur_string(c, &p, &len) != 0 || !str_is(p, len, kt->curve)) {
			snprintf(err, errlen, "ECDSA key names the wrong curve");
			return -1;
		}
		if (cur_string(c, &p, &len) != 0 || len != kt->qlen ||
		    p[0] != 0x04) {
			snprintf(err, errlen, "ECDSA key has an invalid point");
			return -1;
		}
		break;
	}
	if (kt->kind == K_SK_ED25519 || kt->kind == K_SK_ECDSA) {
		if (cur_string(c, &p, &len) != 0 || len == 0 || len > 256) {
			snprintf(err, errlen, "security key has no valid "
			    "application string");
			return -1;
		}
	}
	return 0;
}

static int
decode_blob(const char *b64, size_t b64len, uint8_t **blob, size_t *len,
    char *err, size_t errlen)
{
	const char *end = NULL;
	uint8_t *buf;

	if (b64len == 0 || b64len > (PUBKEY_BLOB_MAX / 3 + 1) * 4) {
		snprintf(err, errlen, "key data is empty or too long");
		return -1;
	}
	if ((buf = malloc(PUBKEY_BLOB_MAX)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (sodium_base642bin(buf, PUBKEY_BLOB_MAX, b64, b64len, NULL, len,
	    &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != b64 + b64len) {
		free(buf);
		snprintf(err, errlen, "key data is not valid base64");
		return -1;
	}
	*blob = buf;
	return 0;
}

int
pubkey_parse(const char *type, const char *b64, size_t b64len,
    struct pubkey *out, char *err, size_t errlen)
{
	const struct keytype *kt;
	const struct refused *rf;
	struct cursor c;
	const uint8_t *p;
	uint8_t *blob = NULL;
	size_t len, bloblen;
	unsigned int bits;

	memset(out, 0, sizeof(*out));
	if ((rf = refused_find(type, strlen(type))) != NULL) {
		snprintf(err, errlen, "%s: %s", type, rf->why);
		return -1;
	}
	if ((kt = keytype_find(type, strlen(type))) == NULL) {
		snprintf(err, errlen, "unknown key type");
		return -1;
	}
	if (decode_blob(b64, b64len, &blob, &bloblen, err, errlen) != 0)
		return -1;
	c.p = blob;
	c.left = bloblen;
	if (cur_string(&c, &p, &len) != 0 || !str_is(p, len, kt->name)) {
		snprintf(err, errlen, "key data does not match type %s",
		    kt->name);
		goto fail;
	}
	if (check_fields(kt, &c, &bits, err, errlen) != 0)
		goto fail;
	if (c.left != 0) {
		snprintf(err, errlen, "trailing bytes after the key data");
		goto fail;
	}
	snprintf(out->type, sizeof(out->type), "%s", kt->name);
	out->blob = blob;
	out->bloblen = bloblen;
	out->bits = bits;
	return 0;
 fail:
	free(blob);
	return -1;
}

void
pubkey_clear(struct pubkey *k)
{
	free(k->blob);
	memset(k, 0, sizeof(*k));
}

int
pubkey_copy(struct pubkey *dst, const struct pubkey *src)
{
	*dst = *src;
	if ((dst->blob = malloc(src->bloblen)) == NULL) {
		memset(dst, 0, sizeof(*dst));
		return -1;
	}
	memcpy(dst->blob, src->blob, src->bloblen);
	return 0;
}

int
pubkey_blob_eq(const struct pubkey *k, const uint8_t *blob, size_t len)
{
	return k->bloblen == len && memcmp(k->blob, blob, len) == 0;
}

void
pubkey_fingerprint(const struct pubkey *k, char *buf, size_t len)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	char b64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES,
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];

	crypto_hash_sha256(h, k->blob, k->bloblen);
	sodium_bin2base64(b64, sizeof(b64), h, sizeof(h),
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	snprintf(buf, len, "SHA256:%s", b64);
}

char *
pubkey_to_line(const struct pubkey *k)
{
	size_t b64len, len;
	char *line;
	int n;

	b64len = sodium_base64_ENCODED_LEN(k->bloblen,
	    sodium_base64_VARIANT_ORIGINAL);
	len = strlen(k->type) + 1 + b64len + 1 + strlen(k->comment) + 1;
	if ((line = malloc(len)) == NULL)
		return NULL;
	n = snprintf(line, len, "%s ", k->type);
	sodium_bin2base64(line + n, len - (size_t)n, k->blob, k->bloblen,
	    sodium_base64_VARIANT_ORIGINAL);
	if (k->comment[0] != '\0') {
		strncat(line, " ", len - strlen(line) - 1);
		strncat(line, k->comment, len - strlen(line) - 1);
	}
	return line;
}
