/*
 * knock_key: the key files of knocking (docs/PROTOCOL.knock section 3).
 *
 *  - The server key file: one line, the standard base64 of knockd's
 *    32-byte X25519 secret key, mode 0600.
 *  - The server's public key as clients write it: 44 base64 characters.
 *  - A knock key file: an unencrypted OpenSSH private key
 *    ("openssh-key-v1", cipher "none", one ssh-ed25519 key; PROTOCOL.key
 *    of OpenSSH), as "rampartctl knock keygen" and "ssh-keygen -t ed25519
 *    -N ''" write it, and its ".pub" line.
 *
 * Secret files are refused when group or others may read them, with the
 * chmod that fixes it.  Parsers walk their input through a bounded cursor
 * (the SSH wire reader below, which knock_agent shares) and require every
 * byte to be accounted for.  Secrets live in fixed arrays that the caller
 * wipes with knock_key_ed25519_clear() or sodium_memzero().  Every error
 * is a sentence in err naming the file and what is wrong.
 */
#ifndef RAMPART_KNOCK_KEY_H
#define RAMPART_KNOCK_KEY_H

#include <stddef.h>
#include <stdint.h>

#define KNOCK_KEY_ERR_MAX	512	/* err buffers of this size suffice */
#define KNOCK_KEY_PUB_B64_LEN	44	/* base64 of a 32-byte key */
#define KNOCK_KEY_COMMENT_MAX	256
#define KNOCK_KEY_FILE_MAX	16384	/* bytes of a key file, at most */
#define KNOCK_KEY_LINE_MAX	(20 + 68 + KNOCK_KEY_COMMENT_MAX + 2)

/* An Ed25519 key pair; sk is libsodium's seed || pk. */
struct knock_key_ed25519 {
	uint8_t	pk[32];
	uint8_t	sk[64];
	char	comment[KNOCK_KEY_COMMENT_MAX + 1];	/* printable ASCII */
};

/* ---- the SSH wire reader (RFC 4251), shared with knock_agent ---- */

struct knock_key_cur {
	const uint8_t	*p;
	size_t		 left;
};

/* Each returns 0, or -1 if the input ends too early. */
int	knock_key_get_u8(struct knock_key_cur *c, uint8_t *v);
int	knock_key_get_u32(struct knock_key_cur *c, uint32_t *v);
int	knock_key_get_bytes(struct knock_key_cur *c, size_t n,
	    const uint8_t **p);
/* A string: uint32 length and that many bytes (at most max). */
int	knock_key_get_string(struct knock_key_cur *c, size_t max,
	    const uint8_t **p, size_t *len);
/* 1 if the string p/len is exactly s. */
int	knock_key_str_is(const uint8_t *p, size_t len, const char *s);

/* The writer: a fixed buffer; overflow is remembered, not a crash. */
struct knock_key_buf {
	uint8_t	*b;
	size_t	 len;
	size_t	 cap;
	int	 overflow;
};

void	knock_key_put_u8(struct knock_key_buf *w, uint8_t v);
void	knock_key_put_u32(struct knock_key_buf *w, uint32_t v);
void	knock_key_put_bytes(struct knock_key_buf *w, const void *p, size_t n);
void	knock_key_put_string(struct knock_key_buf *w, const void *p,
	    size_t n);

/* Write all of data to fd (a socket without SIGPIPE).  0 or -1, errno. */
int	knock_key_write_all(int fd, const void *data, size_t len);

/* ---- the server key ---- */

/*
 * Read the X25519 secret key from path.  0, or -1 with err: the file is
 * missing, not a regular file, readable by group or others ("chmod 600
 * FILE"), or not one line of base64 for 32 bytes.
 */
int	knock_key_server_read(const char *path, uint8_t sk[32], char *err,
	    size_t errlen);

/*
 * Write sk to path (mode 0600) as one base64 line, atomically (a
 * temporary file and a rename); an existing path is replaced only with
 * force.  0 or -1 with err.
 */
int	knock_key_server_write(const char *path, const uint8_t sk[32],
	    int force, char *err, size_t errlen);

/*
 * A server public key: exactly 44 characters of standard base64 with
 * padding, for 32 bytes.  0 or -1 with err.
 */
int	knock_key_parse_pub(const char *s, size_t len, uint8_t pk[32],
	    char *err, size_t errlen);

/* The 44 characters of a public key and a NUL into buf (>= 45 bytes). */
void	knock_key_pub_b64(const uint8_t pk[32], char *buf, size_t len);

/* ---- knock key files: openssh-key-v1 ---- */

/*
 * Parse the text of an OpenSSH private key file (the PEM-like armour and
 * the binary inside).  name is used in messages only.  0 or -1 with err;
 * an encrypted key is refused with "load it into ssh-agent instead".
 */
int	knock_key_openssh_parse(const char *name, const char *text,
	    size_t len, struct knock_key_ed25519 *k, char *err,
	    size_t errlen);

/* Read path (a secret file: mode checked as for the server key). */
int	knock_key_openssh_read(const char *path, struct knock_key_ed25519 *k,
	    char *err, size_t errlen);

/*
 * The file text for k, NUL-terminated, into buf; *outlen its length.
 * 0, or -1 if buf is too small.
 */
int	knock_key_openssh_format(const struct knock_key_ed25519 *k,
	    char *buf, size_t buflen, size_t *outlen);

/*
 * Write path (mode 0600) and path.pub (mode 0644), each atomically; an
 * existing file is replaced only with force.  0 or -1 with err.
 */
int	knock_key_openssh_write(const char *path,
	    const struct knock_key_ed25519 *k, int force, char *err,
	    size_t errlen);

/* "ssh-ed25519 BASE64[ COMMENT]" (no newline) into buf. 0 or -1. */
int	knock_key_pub_line(const uint8_t pk[32], const char *comment,
	    char *buf, size_t len);

/*
 * Read the ssh-ed25519 public key of a ".pub" file (authorized_keys form,
 * first line).  0 or -1 with err (not ssh-ed25519, garbled).
 */
int	knock_key_pub_read(const char *path, uint8_t pk[32], char *err,
	    size_t errlen);

/* A new key pair with this comment (cut to KNOCK_KEY_COMMENT_MAX). */
void	knock_key_ed25519_generate(struct knock_key_ed25519 *k,
	    const char *comment);

void	knock_key_ed25519_clear(struct knock_key_ed25519 *k);

#endif /* RAMPART_KNOCK_KEY_H */
