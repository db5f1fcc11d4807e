/*
 * knock_key: server key files, server public keys, and OpenSSH
 * "openssh-key-v1" ed25519 key files for knocking (see knock_key.h).
 *
 * The private key format is OpenSSH's PROTOCOL.key:
 *
 *	"openssh-key-v1" NUL
 *	string ciphername ("none")	string kdfname ("none")
 *	string kdfoptions (empty)	uint32 number of keys (1)
 *	string public key blob		string private section
 *
 * and the private section, a multiple of 8 bytes (the block size of
 * "none"): uint32 checkint, uint32 the same checkint, string
 * "ssh-ed25519", string pk (32), string seed || pk (64), string comment,
 * then padding bytes 1, 2, 3, ...  Everything is checked; an encrypted
 * file is refused, since rampart-knock never asks for a passphrase: the
 * agent does that better.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "diag.h"
#include "knock_key.h"
#include "pubkey.h"
#include "spa.h"
#include "textfile.h"

#define MAGIC		"openssh-key-v1"	/* and its NUL */
#define ARMOUR_BEGIN	"-----BEGIN OPENSSH PRIVATE KEY-----"
#define ARMOUR_END	"-----END OPENSSH PRIVATE KEY-----"
#define ARMOUR_WIDTH	70			/* as ssh-keygen wraps */
#define BLOCK		8			/* cipher "none" */
#define KEYTYPE		"ssh-ed25519"
#define BIN_MAX		(KNOCK_KEY_FILE_MAX / 4 * 3)
#define FIELD_MAX	1024			/* cipher names, kdf options */

/* ---- the wire reader and writer ---- */

int
knock_key_get_bytes(struct knock_key_cur *c, size_t n, const uint8_t **p)
{
	if (n > c->left)
		return -1;
	*p = c->p;
	c->p += n;
	c->left -= n;
	return 0;
}

int
knock_key_get_u8(struct knock_key_cur *c, uint8_t *v)
{
	const uint8_t *p;

	if (knock_key_get_bytes(c, 1, &p) != 0)
		return -1;
	*v = *p;
	return 0;
}

int
knock_key_get_u32(struct knock_key_cur *c, uint32_t *v)
{
	const uint8_t *p;

	if (knock_key_get_bytes(c, 4, &p) != 0)
		return -1;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
	return 0;
}

int
knock_key_get_string(struct knock_key_cur *c, size_t max, const uint8_t **p,
    size_t *len)
{
	struct knock_key_cur save = *c;
	uint32_t n;

	if (knock_key_get_u32(c, &n) != 0 || n > max ||
	    knock_key_get_bytes(c, n, p) != 0) {
		*c = save;
		return -1;
	}
	*len = n;
	return 0;
}

int
knock_key_str_is(const uint8_t *p, size_t len, const char *s)
{
	return strlen(s) == len && memcmp(p, s, len) == 0;
}

void
knock_key_put_bytes(struct knock_key_buf *w, const void *p, size_t n)
{
	if (w->overflow || n > w->cap - w->len) {
		w->overflow = 1;
		return;
	}
	memcpy(w->b + w->len, p, n);
	w->len += n;
}

void
knock_key_put_u8(struct knock_key_buf *w, uint8_t v)
{
	knock_key_put_bytes(w, &v, 1);
}

void
knock_key_put_u32(struct knock_key_buf *w, uint32_t v)
{
	uint8_t b[4] = {
		(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
		(uint8_t)v
	};

	knock_key_put_bytes(w, b, sizeof(b));
}

void
knock_key_put_string(struct knock_key_buf *w, const void *p, size_t n)
{
	if (n > UINT32_MAX) {
		w->overflow = 1;
		return;
	}
	knock_key_put_u32(w, (uint32_t)n);
	knock_key_put_bytes(w, p, n);
}

/* ---- secret files ---- */

/*
 * Read a small secret file into buf (NUL-terminated).  Refused: not a
 * regular file, larger than cap - 1, or any access for group or others.
 */
static int
secret_read(const char *path, char *buf, size_t cap, size_t *len, char *err,
    size_t errlen)
{
	struct stat st;
	ssize_t n;
	int fd, r = -1;

	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK))
	    == -1) {
		snprintf(err, errlen, "%s: cannot open: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s: permissions %04o are too open for "
		    "a secret key (group or others may access it); fix them "
		    "with: chmod 600 %s", path, (unsigned)(st.st_mode & 07777),
		    path);
		goto out;
	}
	while ((n = read(fd, buf + *len, cap - 1 - *len)) > 0)
		*len += (size_t)n;
	if (n < 0) {
		snprintf(err, errlen, "%s: cannot read: %s", path,
		    strerror(errno));
		goto out;
	}
	if (*len == cap - 1 && read(fd, buf, 1) != 0) {
		snprintf(err, errlen, "%s: larger than %zu bytes: not a key "
		    "file", path, cap - 1);
		goto out;
	}
	buf[*len] = '\0';
	r = 0;
out:
	close(fd);
	if (r != 0)
		sodium_memzero(buf, cap);
	return r;
}

/*
 * Sockets are written with MSG_NOSIGNAL, so that a peer that went away is
 * an error (EPIPE), not a signal; anything else with write().
 */
int
knock_key_write_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;
	int sock = 1;
	ssize_t n;

	while (len > 0) {
		n = sock ? send(fd, p, len, MSG_NOSIGNAL) : write(fd, p, len);
		if (n < 0 && sock && errno == ENOTSOCK) {
			sock = 0;
			continue;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Create path with data and mode, atomically: a temporary file in the
 * same directory, then rename() (force) or link(), which fails if path
 * exists, so that an existing key is never half overwritten.
 */
static int
file_write(const char *path, const void *data, size_t len, mode_t mode,
    int force, char *err, size_t errlen)
{
	char tmp[4096];
	int fd, r = -1;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >=
	    (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	if ((fd = mkstemp(tmp)) == -1) {
		snprintf(err, errlen, "%s: cannot create: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fchmod(fd, mode) != 0 || knock_key_write_all(fd, data, len) != 0 ||
	    fsync(fd) != 0) {
		snprintf(err, errlen, "%s: cannot write: %s", path,
		    strerror(errno));
		close(fd);
		goto out;
	}
	if (close(fd) != 0) {
		snprintf(err, errlen, "%s: cannot write: %s", path,
		    strerror(errno));
		goto out;
	}
	if ((force ? rename(tmp, path) : link(tmp, path)) != 0) {
		if (errno == EEXIST)
			snprintf(err, errlen, "%s exists; use --force to "
			    "replace it", path);
		else
			snprintf(err, errlen, "%s: cannot create: %s", path,
			    strerror(errno));
		goto out;
	}
	r = 0;
out:
	if (r != 0 || !force)
		unlink(tmp);
	return r;
}

/* ---- the server key and public keys ---- */

/* Exactly 44 characters of canonical padded base64 for 32 bytes. */
static int
b64_32(const char *s, size_t len, uint8_t out[32])
{
	char again[KNOCK_KEY_PUB_B64_LEN + 1];
	const char *end;
	size_t n;

	if (len != KNOCK_KEY_PUB_B64_LEN ||
	    sodium_base642bin(out, 32, s, len, NULL, &n, &end,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || n != 32 || end != s + len)
		return -1;
	/* The last character carries 4 unused bits: they must be zero. */
	sodium_bin2base64(again, sizeof(again), out, 32,
	    sodium_base64_VARIANT_ORIGINAL);
	return memcmp(again, s, len) == 0 ? 0 : -1;
}

int
knock_key_parse_pub(const char *s, size_t len, uint8_t pk[32], char *err,
    size_t errlen)
{
	char safe[64];

	if (len != KNOCK_KEY_PUB_B64_LEN) {
		snprintf(err, errlen, "server key \"%s\" is %zu characters "
		    "long; a server public key is 44 characters of base64",
		    diag_safe(s, len, safe, sizeof(safe)), len);
		return -1;
	}
	if (b64_32(s, len, pk) != 0) {
		snprintf(err, errlen, "server key \"%s\" is not valid base64 "
		    "of 32 bytes", diag_safe(s, len, safe, sizeof(safe)));
		return -1;
	}
	return 0;
}

void
knock_key_pub_b64(const uint8_t pk[32], char *buf, size_t len)
{
	if (len < KNOCK_KEY_PUB_B64_LEN + 1) {
		if (len > 0)
			buf[0] = '\0';
		return;
	}
	sodium_bin2base64(buf, len, pk, 32, sodium_base64_VARIANT_ORIGINAL);
}

int
knock_key_server_read(const char *path, uint8_t sk[32], char *err,
    size_t errlen)
{
	char buf[256];
	size_t len;
	int r = -1;

	if (secret_read(path, buf, sizeof(buf), &len, err, errlen) != 0)
		return -1;
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (b64_32(buf, len, sk) != 0) {
		snprintf(err, errlen, "%s: not a server key file (one line "
		    "of 44 base64 characters, the 32-byte secret key, "
		    "expected)", path);
		sodium_memzero(sk, 32);
		goto out;
	}
	r = 0;
out:
	sodium_memzero(buf, sizeof(buf));
	return r;
}

int
knock_key_server_write(const char *path, const uint8_t sk[32], int force,
    char *err, size_t errlen)
{
	char line[KNOCK_KEY_PUB_B64_LEN + 2];
	int r;

	knock_key_pub_b64(sk, line, sizeof(line));
	line[KNOCK_KEY_PUB_B64_LEN] = '\n';
	line[KNOCK_KEY_PUB_B64_LEN + 1] = '\0';
	r = file_write(path, line, KNOCK_KEY_PUB_B64_LEN + 1, 0600, force,
	    err, errlen);
	sodium_memzero(line, sizeof(line));
	return r;
}

/* ---- openssh-key-v1: parsing ---- */

/* A message "NAME: WHAT" into err; returns -1. */
static int
bad(char *err, size_t errlen, const char *name, const char *what)
{
	snprintf(err, errlen, "%s: %s", name, what);
	return -1;
}

/*
 * Strip the armour and decode the base64 inside into bin.  The lines
 * between the markers may only hold base64; after the end marker, only
 * empty lines.
 */
static int
dearmour(const char *name, const char *text, size_t len, uint8_t *bin,
    size_t cap, size_t *binlen, char *err, size_t errlen)
{
	const char *b, *e, *end;
	size_t blen = strlen(ARMOUR_BEGIN);

	if (len < blen || memcmp(text, ARMOUR_BEGIN, blen) != 0) {
		if (len > 11 && memcmp(text, "-----BEGIN ", 11) == 0)
			return bad(err, errlen, name, "not an OpenSSH private "
			    "key (another PEM format); convert it with "
			    "ssh-keygen -p -f FILE, or make a new one with "
			    "rampartctl knock keygen");
		if (len > 12 && memcmp(text, "ssh-ed25519 ", 12) == 0)
			return bad(err, errlen, name, "is a public key; give "
			    "the private key file, or a .pub file of a key "
			    "in ssh-agent");
		return bad(err, errlen, name, "not an OpenSSH private key "
		    "(no \"" ARMOUR_BEGIN "\" line)");
	}
	b = text + blen;
	if (len - blen < 1 || (b[0] != '\n' && b[0] != '\r'))
		return bad(err, errlen, name, "garbled: text after \""
		    ARMOUR_BEGIN "\"");
	if ((e = memmem(b, len - blen, ARMOUR_END, strlen(ARMOUR_END)))
	    == NULL)
		return bad(err, errlen, name, "truncated: no \"" ARMOUR_END
		    "\" line");
	for (end = e + strlen(ARMOUR_END); end < text + len; end++) {
		if (*end != '\n' && *end != '\r')
			return bad(err, errlen, name, "garbled: text after "
			    "the end of the key");
	}
	if (sodium_base642bin(bin, cap, b, (size_t)(e - b), "\r\n", binlen,
	    &end, sodium_base64_VARIANT_ORIGINAL) != 0 || end != e)
		return bad(err, errlen, name, "garbled: the key's base64 is "
		    "damaged");
	return 0;
}

/* The header up to the public key blob; rejects encrypted files. */
static int
parse_header(const char *name, struct knock_key_cur *c, char *err,
    size_t errlen)
{
	const uint8_t *magic, *cipher, *kdf, *opts;
	size_t clen, klen, olen;
	uint32_t nkeys;
	char msg[KNOCK_KEY_ERR_MAX], safe[80];

	if (knock_key_get_bytes(c, sizeof(MAGIC), &magic) != 0 ||
	    memcmp(magic, MAGIC, sizeof(MAGIC)) != 0)
		return bad(err, errlen, name, "garbled: no openssh-key-v1 "
		    "header");
	if (knock_key_get_string(c, FIELD_MAX, &cipher, &clen) != 0 ||
	    knock_key_get_string(c, FIELD_MAX, &kdf, &klen) != 0 ||
	    knock_key_get_string(c, FIELD_MAX, &opts, &olen) != 0 ||
	    knock_key_get_u32(c, &nkeys) != 0)
		return bad(err, errlen, name, "truncated or garbled header");
	if (!knock_key_str_is(cipher, clen, "none")) {
		snprintf(msg, sizeof(msg), "is encrypted (cipher %s); "
		    "rampart-knock does not ask for passphrases: load it "
		    "into ssh-agent instead (ssh-add FILE) and use -i "
		    "FILE.pub", diag_safe((const char *)cipher, clen, safe,
		    sizeof(safe)));
		return bad(err, errlen, name, msg);
	}
	if (!knock_key_str_is(kdf, klen, "none") || olen != 0)
		return bad(err, errlen, name, "garbled: a key derivation "
		    "without a cipher");
	if (nkeys != 1) {
		snprintf(msg, sizeof(msg), "holds %lu keys; a knock key file "
		    "holds exactly one", (unsigned long)nkeys);
		return bad(err, errlen, name, msg);
	}
	return 0;
}

/* A key blob: string "ssh-ed25519", string pk (32 bytes), nothing else. */
static int
parse_blob(const char *name, const uint8_t *blob, size_t len, uint8_t pk[32],
    char *err, size_t errlen)
{
	struct knock_key_cur c = { blob, len };
	const uint8_t *type, *p;
	size_t tlen, plen;
	char msg[KNOCK_KEY_ERR_MAX], safe[80];

	if (knock_key_get_string(&c, FIELD_MAX, &type, &tlen) != 0)
		return bad(err, errlen, name, "garbled public key");
	if (!knock_key_str_is(type, tlen, KEYTYPE)) {
		snprintf(msg, sizeof(msg), "holds a %s key; knocking needs an "
		    "ssh-ed25519 key", diag_safe((const char *)type, tlen,
		    safe, sizeof(safe)));
		return bad(err, errlen, name, msg);
	}
	if (knock_key_get_string(&c, 32, &p, &plen) != 0 || plen != 32 ||
	    c.left != 0)
		return bad(err, errlen, name, "garbled ssh-ed25519 public key");
	memcpy(pk, p, 32);
	return 0;
}

/* The comment, cut to KNOCK_KEY_COMMENT_MAX, non-printable bytes '?'. */
static void
copy_comment(char *dst, const uint8_t *p, size_t len)
{
	size_t i;

	if (len > KNOCK_KEY_COMMENT_MAX)
		len = KNOCK_KEY_COMMENT_MAX;
	for (i = 0; i < len; i++)
		dst[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	dst[len] = '\0';
}

/* The private section: check-ints, the key pair, comment, padding. */
static int
parse_private(const char *name, const uint8_t *sec, size_t len,
    const uint8_t pk[32], struct knock_key_ed25519 *k, char *err,
    size_t errlen)
{
	struct knock_key_cur c = { sec, len };
	const uint8_t *type, *p, *s, *comment;
	size_t tlen, plen, slen, clen, i;
	uint32_t check1, check2;
	uint8_t derived[32], skcopy[64];

	if (len % BLOCK != 0)
		return bad(err, errlen, name, "garbled: the private section "
		    "is not a multiple of 8 bytes");
	if (knock_key_get_u32(&c, &check1) != 0 ||
	    knock_key_get_u32(&c, &check2) != 0 || check1 != check2)
		return bad(err, errlen, name, "garbled: the check-ints of the "
		    "private section differ");
	if (knock_key_get_string(&c, FIELD_MAX, &type, &tlen) != 0 ||
	    !knock_key_str_is(type, tlen, KEYTYPE) ||
	    knock_key_get_string(&c, 32, &p, &plen) != 0 || plen != 32 ||
	    knock_key_get_string(&c, 64, &s, &slen) != 0 || slen != 64 ||
	    knock_key_get_string(&c, c.left, &comment, &clen) != 0)
		return bad(err, errlen, name, "truncated or garbled private "
		    "key");
	if (memcmp(p, pk, 32) != 0 || memcmp(s + 32, pk, 32) != 0)
		return bad(err, errlen, name, "garbled: the private key "
		    "belongs to another public key");
	memcpy(skcopy, s, 64);
	crypto_sign_seed_keypair(derived, skcopy, s);
	sodium_memzero(skcopy, sizeof(skcopy));
	if (memcmp(derived, pk, 32) != 0)
		return bad(err, errlen, name, "garbled: the private key does "
		    "not match its public key");
	if (c.left >= BLOCK)
		return bad(err, errlen, name, "garbled: data after the key");
	for (i = 0; i < c.left; i++) {
		if (c.p[i] != (uint8_t)(i + 1))
			return bad(err, errlen, name, "garbled: the padding "
			    "of the private section is wrong");
	}
	memcpy(k->pk, pk, 32);
	memcpy(k->sk, s, 64);
	copy_comment(k->comment, comment, clen);
	return 0;
}

static int
parse_bin(const char *name, const uint8_t *bin, size_t len,
    struct knock_key_ed25519 *k, char *err, size_t errlen)
{
	struct knock_key_cur c = { bin, len };
	const uint8_t *blob, *sec;
	size_t bloblen, seclen;
	uint8_t pk[32];

	if (parse_header(name, &c, err, errlen) != 0)
		return -1;
	if (knock_key_get_string(&c, FIELD_MAX, &blob, &bloblen) != 0)
		return bad(err, errlen, name, "truncated: no public key");
	if (parse_blob(name, blob, bloblen, pk, err, errlen) != 0)
		return -1;
	if (knock_key_get_string(&c, c.left, &sec, &seclen) != 0)
		return bad(err, errlen, name, "truncated: the private section "
		    "is cut short");
	if (c.left != 0)
		return bad(err, errlen, name, "garbled: data after the "
		    "private section");
	return parse_private(name, sec, seclen, pk, k, err, errlen);
}

int
knock_key_openssh_parse(const char *name, const char *text, size_t len,
    struct knock_key_ed25519 *k, char *err, size_t errlen)
{
	uint8_t bin[BIN_MAX];
	size_t binlen;
	int r = -1;

	memset(k, 0, sizeof(*k));
	if (len > KNOCK_KEY_FILE_MAX)
		return bad(err, errlen, name, "too large for a key file");
	if (dearmour(name, text, len, bin, sizeof(bin), &binlen, err,
	    errlen) != 0)
		goto out;
	r = parse_bin(name, bin, binlen, k, err, errlen);
out:
	sodium_memzero(bin, sizeof(bin));
	if (r != 0)
		knock_key_ed25519_clear(k);
	return r;
}

int
knock_key_openssh_read(const char *path, struct knock_key_ed25519 *k,
    char *err, size_t errlen)
{
	char buf[KNOCK_KEY_FILE_MAX + 1];
	size_t len;
	int r;

	memset(k, 0, sizeof(*k));
	if (secret_read(path, buf, sizeof(buf), &len, err, errlen) != 0)
		return -1;
	r = knock_key_openssh_parse(path, buf, len, k, err, errlen);
	sodium_memzero(buf, sizeof(buf));
	return r;
}

/* ---- openssh-key-v1: writing ---- */

static void
put_blob(struct knock_key_buf *w, const uint8_t pk[32])
{
	uint8_t blob[SPA_ED25519_BLOB_SIZE];

	spa_key_blob(pk, blob);
	knock_key_put_string(w, blob, sizeof(blob));
}

/* The binary form of k into bin (cap bytes); its length or 0. */
static size_t
format_bin(const struct knock_key_ed25519 *k, uint8_t *bin, size_t cap)
{
	uint8_t sec[512];
	struct knock_key_buf w = { bin, 0, cap, 0 };
	struct knock_key_buf sw = { sec, 0, sizeof(sec), 0 };
	uint32_t check = randombytes_random();
	uint8_t pad = 1;

	knock_key_put_u32(&sw, check);
	knock_key_put_u32(&sw, check);
	knock_key_put_string(&sw, KEYTYPE, strlen(KEYTYPE));
	knock_key_put_string(&sw, k->pk, 32);
	knock_key_put_string(&sw, k->sk, 64);
	knock_key_put_string(&sw, k->comment, strlen(k->comment));
	while (sw.len % BLOCK != 0)
		knock_key_put_u8(&sw, pad++);

	knock_key_put_bytes(&w, MAGIC, sizeof(MAGIC));
	knock_key_put_string(&w, "none", 4);
	knock_key_put_string(&w, "none", 4);
	knock_key_put_string(&w, "", 0);
	knock_key_put_u32(&w, 1);
	put_blob(&w, k->pk);
	knock_key_put_string(&w, sec, sw.len);
	sodium_memzero(sec, sizeof(sec));
	return w.overflow || sw.overflow ? 0 : w.len;
}

int
knock_key_openssh_format(const struct knock_key_ed25519 *k, char *buf,
    size_t buflen, size_t *outlen)
{
	uint8_t bin[1024];
	char b64[1400];
	size_t binlen, b64len, off, n, need;
	int r = -1;

	*outlen = 0;
	if ((binlen = format_bin(k, bin, sizeof(bin))) == 0)
		goto out;
	sodium_bin2base64(b64, sizeof(b64), bin, binlen,
	    sodium_base64_VARIANT_ORIGINAL);
	b64len = strlen(b64);
	need = strlen(ARMOUR_BEGIN) + strlen(ARMOUR_END) + 2 + b64len +
	    b64len / ARMOUR_WIDTH + 2;
	if (need >= buflen)
		goto out;
	off = (size_t)snprintf(buf, buflen, "%s\n", ARMOUR_BEGIN);
	for (n = 0; n < b64len; n += ARMOUR_WIDTH) {
		off += (size_t)snprintf(buf + off, buflen - off, "%.*s\n",
		    (int)(b64len - n < ARMOUR_WIDTH ? b64len - n :
		    ARMOUR_WIDTH), b64 + n);
	}
	off += (size_t)snprintf(buf + off, buflen - off, "%s\n", ARMOUR_END);
	*outlen = off;
	r = 0;
out:
	sodium_memzero(bin, sizeof(bin));
	sodium_memzero(b64, sizeof(b64));
	return r;
}

int
knock_key_pub_line(const uint8_t pk[32], const char *comment, char *buf,
    size_t len)
{
	uint8_t blob[SPA_ED25519_BLOB_SIZE];
	char b64[sodium_base64_ENCODED_LEN(SPA_ED25519_BLOB_SIZE,
	    sodium_base64_VARIANT_ORIGINAL)];
	int n;

	spa_key_blob(pk, blob);
	sodium_bin2base64(b64, sizeof(b64), blob, sizeof(blob),
	    sodium_base64_VARIANT_ORIGINAL);
	n = snprintf(buf, len, "%s %s%s%s", KEYTYPE, b64,
	    comment != NULL && *comment != '\0' ? " " : "",
	    comment != NULL ? comment : "");
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
knock_key_openssh_write(const char *path, const struct knock_key_ed25519 *k,
    int force, char *err, size_t errlen)
{
	char text[2048], pubpath[4096], line[KNOCK_KEY_LINE_MAX + 1];
	struct stat st;
	size_t len;
	int r = -1;

	if (snprintf(pubpath, sizeof(pubpath), "%s.pub", path) >=
	    (int)sizeof(pubpath))
		return bad(err, errlen, path, "path too long");
	if (!force && lstat(pubpath, &st) == 0) {
		snprintf(err, errlen, "%s exists; use --force to replace it",
		    pubpath);
		return -1;
	}
	if (knock_key_openssh_format(k, text, sizeof(text), &len) != 0 ||
	    knock_key_pub_line(k->pk, k->comment, line, sizeof(line)) != 0)
		return bad(err, errlen, path, "key too large to write");
	if (file_write(path, text, len, 0600, force, err, errlen) != 0)
		goto out;
	len = strlen(line);
	line[len++] = '\n';
	r = file_write(pubpath, line, len, 0644, force, err, errlen);
out:
	sodium_memzero(text, sizeof(text));
	return r;
}

/* ---- .pub files ---- */

int
knock_key_pub_read(const char *path, uint8_t pk[32], char *err,
    size_t errlen)
{
	char *buf = NULL, words[TEXTFILE_LINE_MAX + 1], *av[3], why[256];
	const char *line;
	size_t len, off = 0, linelen;
	struct pubkey key;
	int n = 0, r = -1;

	memset(&key, 0, sizeof(key));
	if (textfile_read(path, &buf, &len, why, sizeof(why)) != 0)
		return bad(err, errlen, path, why);
	if (!textfile_next(buf, len, &off, &line, &linelen) ||
	    (n = textfile_words(line, linelen, words, av, 3, 0, why,
	    sizeof(why))) < 2) {
		bad(err, errlen, path, n == -1 ? why : "not a public key "
		    "line (\"ssh-ed25519 BASE64 COMMENT\")");
		goto out;
	}
	if (strcmp(av[0], KEYTYPE) != 0) {
		snprintf(err, errlen, "%s: holds a %.48s key; knocking needs "
		    "an ssh-ed25519 key", path, av[0]);
		goto out;
	}
	if (pubkey_parse(av[0], av[1], strlen(av[1]), &key, why,
	    sizeof(why)) != 0) {
		bad(err, errlen, path, why);
		goto out;
	}
	memcpy(pk, key.blob + key.bloblen - 32, 32);
	r = 0;
out:
	pubkey_clear(&key);
	free(buf);
	return r;
}

void
knock_key_ed25519_generate(struct knock_key_ed25519 *k, const char *comment)
{
	memset(k, 0, sizeof(*k));
	crypto_sign_keypair(k->pk, k->sk);
	copy_comment(k->comment, (const uint8_t *)comment, strlen(comment));
}

void
knock_key_ed25519_clear(struct knock_key_ed25519 *k)
{
	sodium_memzero(k, sizeof(*k));
}
