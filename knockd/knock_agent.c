/*
 * knock_agent: an ssh-agent client for knocking (see knock_agent.h).
 *
 * One request, one reply, on a unix stream socket: uint32 length, then
 * the message.  The agent is trusted to hold the key, not to answer
 * well: each reply is bounded, read whole, and parsed strictly.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "knock_agent.h"
#include "knock_key.h"
#include "spa.h"

/* OpenSSH's agents also answer with these when they refuse. */
#define AGENT_EXTENSION_FAILURE		28
#define AGENT2_FAILURE			30
#define AGENT_COM_FAILURE		102

#define KEYTYPE		"ssh-ed25519"
#define SIG_BLOB_SIZE	(4 + 11 + 4 + 64)	/* 83 bytes */

int
knock_agent_connect(const char *sockpath, int *fd, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct timeval tv = { KNOCK_AGENT_TIMEOUT, 0 };
	int s;

	*fd = -1;
	if (sockpath == NULL || *sockpath == '\0') {
		snprintf(err, errlen, "no ssh-agent: SSH_AUTH_SOCK is not set "
		    "(start one with 'eval $(ssh-agent)' and 'ssh-add', or "
		    "sign with a knock key file: -i FILE)");
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(sockpath) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "no ssh-agent: SSH_AUTH_SOCK is too long "
		    "for a socket path");
		return -1;
	}
	memcpy(sun.sun_path, sockpath, strlen(sockpath));
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(s, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		snprintf(err, errlen, "cannot reach ssh-agent at %s "
		    "(SSH_AUTH_SOCK): %s", sockpath, strerror(errno));
		if (s != -1)
			close(s);
		return -1;
	}
	(void)setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	*fd = s;
	return 0;
}

/* Receive exactly len bytes.  0, or -1 with errno (0 for EOF). */
static int
recv_all(int fd, uint8_t *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = recv(fd, p, len, 0)) <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n == 0)
				errno = 0;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
io_error(const char *what, char *err, size_t errlen)
{
	if (errno == 0)
		snprintf(err, errlen, "ssh-agent closed the connection %s",
		    what);
	else if (errno == EAGAIN || errno == EWOULDBLOCK)
		snprintf(err, errlen, "ssh-agent did not answer within %d s",
		    KNOCK_AGENT_TIMEOUT);
	else
		snprintf(err, errlen, "ssh-agent connection failed %s: %s",
		    what, strerror(errno));
}

/*
 * Send one request (already framed) and read the whole reply into a
 * malloc'ed buffer.  0 or -1 with err.
 */
static int
transact(int fd, const uint8_t *req, size_t reqlen, uint8_t **reply,
    size_t *replylen, char *err, size_t errlen)
{
	uint8_t hdr[4];
	uint32_t len;

	*reply = NULL;
	*replylen = 0;
	if (knock_key_write_all(fd, req, reqlen) != 0) {
		io_error("while sending", err, errlen);
		return -1;
	}
	if (recv_all(fd, hdr, sizeof(hdr)) != 0) {
		io_error("before answering", err, errlen);
		return -1;
	}
	len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	    (uint32_t)hdr[2] << 8 | hdr[3];
	if (len == 0 || len > KNOCK_AGENT_MSG_MAX) {
		snprintf(err, errlen, "ssh-agent sent a reply of %lu bytes "
		    "(1 to %d allowed)", (unsigned long)len,
		    KNOCK_AGENT_MSG_MAX);
		return -1;
	}
	if ((*reply = malloc(len)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (recv_all(fd, *reply, len) != 0) {
		io_error("in the middle of a reply", err, errlen);
		free(*reply);
		*reply = NULL;
		return -1;
	}
	*replylen = len;
	return 0;
}

static int
is_failure(uint8_t type)
{
	return type == KNOCK_AGENT_FAILURE ||
	    type == AGENT_EXTENSION_FAILURE || type == AGENT2_FAILURE ||
	    type == AGENT_COM_FAILURE;
}

/* The first byte of a reply: want, or an error naming what came. */
static int
reply_type(struct knock_key_cur *c, uint8_t want, const char *what,
    char *err, size_t errlen)
{
	uint8_t type;

	if (knock_key_get_u8(c, &type) != 0) {
		snprintf(err, errlen, "ssh-agent sent an empty reply");
		return -1;
	}
	if (is_failure(type)) {
		snprintf(err, errlen, "ssh-agent refused %s", what);
		return -1;
	}
	if (type != want) {
		snprintf(err, errlen, "ssh-agent answered %s with message "
		    "type %u, not %u", what, type, want);
		return -1;
	}
	return 0;
}

/* 1 if blob is exactly an ssh-ed25519 key blob; then pk is its key. */
static int
ed25519_blob(const uint8_t *blob, size_t len, uint8_t pk[32])
{
	struct knock_key_cur c = { blob, len };
	const uint8_t *type, *p;
	size_t tlen, plen;

	if (knock_key_get_string(&c, len, &type, &tlen) != 0 ||
	    !knock_key_str_is(type, tlen, KEYTYPE) ||
	    knock_key_get_string(&c, 32, &p, &plen) != 0 || plen != 32 ||
	    c.left != 0)
		return 0;
	memcpy(pk, p, 32);
	return 1;
}

int
knock_agent_parse_identities(const uint8_t *msg, size_t len,
    uint8_t (*pks)[32], size_t max, size_t *n, size_t *others, char *err,
    size_t errlen)
{
	struct knock_key_cur c = { msg, len };
	const uint8_t *blob, *comment;
	size_t bloblen, clen;
	uint32_t count, i;
	uint8_t pk[32];

	*n = 0;
	*others = 0;
	if (reply_type(&c, KNOCK_AGENT_IDENTITIES_ANSWER, "to list its keys",
	    err, errlen) != 0)
		return -1;
	if (knock_key_get_u32(&c, &count) != 0 ||
	    count > KNOCK_AGENT_KEYS_MAX) {
		snprintf(err, errlen, "ssh-agent sent a malformed list of "
		    "keys (count)");
		return -1;
	}
	for (i = 0; i < count; i++) {
		if (knock_key_get_string(&c, c.left, &blob, &bloblen) != 0 ||
		    knock_key_get_string(&c, c.left, &comment, &clen) != 0) {
			snprintf(err, errlen, "ssh-agent sent a malformed "
			    "list of keys (key %lu of %lu)",
			    (unsigned long)i + 1, (unsigned long)count);
			return -1;
		}
		if (!ed25519_blob(blob, bloblen, pk))
			(*others)++;
		else if (*n < max)
			memcpy(pks[(*n)++], pk, 32);
	}
	if (c.left != 0) {
		snprintf(err, errlen, "ssh-agent sent %zu bytes after its "
		    "list of keys", c.left);
		return -1;
	}
	return 0;
}

int
knock_agent_ed25519_keys(int fd, uint8_t (*pks)[32], size_t max, size_t *n,
    char *err, size_t errlen)
{
	static const uint8_t req[] = { 0, 0, 0, 1,
	    KNOCK_AGENT_REQUEST_IDENTITIES };
	uint8_t *reply = NULL;
	size_t len, others = 0;
	int r = -1;

	*n = 0;
	if (transact(fd, req, sizeof(req), &reply, &len, err, errlen) != 0)
		return -1;
	if (knock_agent_parse_identities(reply, len, pks, max, n, &others,
	    err, errlen) != 0)
		goto out;
	if (*n == 0) {
		snprintf(err, errlen, "ssh-agent holds no ssh-ed25519 key "
		    "(%zu key%s of other types); add one with ssh-add, or use "
		    "-i FILE", others, others == 1 ? "" : "s");
		goto out;
	}
	r = 0;
out:
	free(reply);
	return r;
}

int
knock_agent_parse_sign(const uint8_t *msg, size_t len, uint8_t sig[64],
    char *err, size_t errlen)
{
	struct knock_key_cur c = { msg, len }, b;
	const uint8_t *blob, *type, *s;
	size_t bloblen, tlen, slen;

	if (reply_type(&c, KNOCK_AGENT_SIGN_RESPONSE, "to sign the knock "
	    "(a key added with 'ssh-add -h' cannot knock; one added with "
	    "'ssh-add -c' needs a confirmation)", err, errlen) != 0)
		return -1;
	if (knock_key_get_string(&c, SIG_BLOB_SIZE, &blob, &bloblen) != 0 ||
	    c.left != 0) {
		snprintf(err, errlen, "ssh-agent sent a malformed signature "
		    "reply");
		return -1;
	}
	b.p = blob;
	b.left = bloblen;
	if (knock_key_get_string(&b, bloblen, &type, &tlen) != 0 ||
	    !knock_key_str_is(type, tlen, KEYTYPE) ||
	    knock_key_get_string(&b, 64, &s, &slen) != 0 || slen != 64 ||
	    b.left != 0) {
		snprintf(err, errlen, "ssh-agent sent a signature that is not "
		    "a plain ssh-ed25519 signature");
		return -1;
	}
	memcpy(sig, s, 64);
	return 0;
}

/* uint32 length, byte 13, string key blob, string data, uint32 flags 0. */
static int
sign_request(const uint8_t pk[32], const uint8_t *data, size_t len,
    uint8_t *buf, size_t cap, size_t *reqlen)
{
	struct knock_key_buf w = { buf, 0, cap, 0 };
	uint8_t blob[SPA_ED25519_BLOB_SIZE];
	size_t body = 1 + 4 + sizeof(blob) + 4 + len + 4;

	spa_key_blob(pk, blob);
	knock_key_put_u32(&w, (uint32_t)body);
	knock_key_put_u8(&w, KNOCK_AGENT_SIGN_REQUEST);
	knock_key_put_string(&w, blob, sizeof(blob));
	knock_key_put_string(&w, data, len);
	knock_key_put_u32(&w, 0);
	*reqlen = w.len;
	return w.overflow ? -1 : 0;
}

int
knock_agent_sign(int fd, const uint8_t pk[32], const uint8_t *data,
    size_t len, uint8_t sig[64], char *err, size_t errlen)
{
	uint8_t req[1024], *reply = NULL;
	size_t reqlen, replylen;
	int r = -1;

	if (sign_request(pk, data, len, req, sizeof(req), &reqlen) != 0) {
		snprintf(err, errlen, "data to sign too long (%zu bytes)",
		    len);
		return -1;
	}
	if (transact(fd, req, reqlen, &reply, &replylen, err, errlen) != 0)
		return -1;
	if (knock_agent_parse_sign(reply, replylen, sig, err, errlen) != 0)
		goto out;
	if (crypto_sign_verify_detached(sig, data, len, pk) != 0) {
		snprintf(err, errlen, "ssh-agent returned a signature that "
		    "does not verify with the key it was asked to use");
		sodium_memzero(sig, 64);
		goto out;
	}
	r = 0;
out:
	free(reply);
	return r;
}
