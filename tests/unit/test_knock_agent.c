/*
 * test_knock_agent: the ssh-agent client of rampart-knock against a fake
 * agent on a socketpair.  The fake's reply is queued before the call, and
 * the request the client sent is read back afterwards and compared byte
 * for byte with PROTOCOL.knock section 7.2, using the section 13 example
 * (the reply is the blob OpenSSH 9.2's ssh-agent returned there).  Bad
 * replies of every kind are refused with a message.  The real agent is
 * tested in tests/ctl/knock_client.sh.
 */
#include <sys/socket.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "knock_agent.h"
#include "knock_key.h"
#include "spa.h"

/* The user key of section 13, some signed_data, and its signature. */
static uint8_t user_pk[32], signed_data[SPA_SIGNED_SIZE], agent_sig[64];

/* A message under construction. */
struct msg {
	uint8_t			b[4096];
	struct knock_key_buf	w;
};

static void
msg_start(struct msg *m)
{
	m->w.b = m->b;
	m->w.len = 0;
	m->w.cap = sizeof(m->b);
	m->w.overflow = 0;
}

static void
put_cstring(struct msg *m, const char *s)
{
	knock_key_put_string(&m->w, s, strlen(s));
}

static void
put_ed25519_blob(struct msg *m, const uint8_t pk[32])
{
	uint8_t blob[SPA_ED25519_BLOB_SIZE];

	spa_key_blob(pk, blob);
	knock_key_put_string(&m->w, blob, sizeof(blob));
}

/* A sign response whose blob is type, then a signature of siglen. */
static void
sign_response(struct msg *m, const char *type, const uint8_t *sig,
    size_t siglen, int extra_in_blob)
{
	struct msg blob;

	msg_start(&blob);
	put_cstring(&blob, type);
	knock_key_put_string(&blob.w, sig, siglen);
	if (extra_in_blob)
		knock_key_put_u8(&blob.w, 0);
	msg_start(m);
	knock_key_put_u8(&m->w, KNOCK_AGENT_SIGN_RESPONSE);
	knock_key_put_string(&m->w, blob.b, blob.w.len);
}

static int
setup(void **state)
{
	uint8_t seed[32], sk[64], sd_server[32];
	size_t i;

	(void)state;
	if (sodium_init() < 0)
		return -1;
	for (i = 0; i < 32; i++) {
		seed[i] = (uint8_t)i;
		sd_server[i] = (uint8_t)i;
	}
	crypto_sign_seed_keypair(user_pk, sk, seed);
	/* Any 158 bytes do: the agent signs whatever it is given. */
	memcpy(signed_data, SPA_DOMAIN, 16);
	memcpy(signed_data + 16, sd_server, 32);
	memset(signed_data + 48, 0x5a, SPA_SIGNED_PART);
	crypto_sign_detached(agent_sig, NULL, signed_data,
	    sizeof(signed_data), sk);
	sodium_memzero(sk, sizeof(sk));
	return 0;
}

/*
 * Queue reply (framed with its length unless raw) on one end of a
 * socketpair, run the client's sign on the other, then read back what it
 * sent into req.  Returns the client's result.
 */
static int
fake_sign(const uint8_t *reply, size_t len, int raw, uint8_t *req,
    size_t *reqlen, uint8_t sig[64], char *err, size_t errlen)
{
	uint8_t hdr[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16),
	    (uint8_t)(len >> 8), (uint8_t)len };
	ssize_t n;
	int sv[2], r;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	if (!raw)
		assert_int_equal(write(sv[1], hdr, 4), 4);
	assert_int_equal(write(sv[1], reply, len), (ssize_t)len);
	shutdown(sv[1], SHUT_WR);
	r = knock_agent_sign(sv[0], user_pk, signed_data, sizeof(signed_data),
	    sig, err, errlen);
	close(sv[0]);
	n = read(sv[1], req, 4096);
	*reqlen = n > 0 ? (size_t)n : 0;
	close(sv[1]);
	return r;
}

static void
sign_bad(const struct msg *m, const char *needle)
{
	char err[512];
	uint8_t req[4096], sig[64];
	size_t reqlen;

	if (fake_sign(m->b, m->w.len, 0, req, &reqlen, sig, err,
	    sizeof(err)) == 0)
		fail_msg("reply accepted, wanted \"%s\"", needle);
	if (strstr(err, needle) == NULL)
		fail_msg("\"%s\" does not contain \"%s\"", err, needle);
}

static void
test_sign_request_exact(void **state)
{
	struct msg m, want;
	char err[512];
	uint8_t req[4096], sig[64];
	size_t reqlen;

	(void)state;
	sign_response(&m, "ssh-ed25519", agent_sig, 64, 0);
	assert_int_equal(m.w.len, 1 + 4 + 83);
	assert_int_equal(fake_sign(m.b, m.w.len, 0, req, &reqlen, sig, err,
	    sizeof(err)), 0);
	assert_memory_equal(sig, agent_sig, 64);
	/* uint32 length, byte 13, string blob, string data, uint32 0. */
	msg_start(&want);
	knock_key_put_u32(&want.w, 1 + 4 + 51 + 4 + 158 + 4);
	knock_key_put_u8(&want.w, 13);
	put_ed25519_blob(&want, user_pk);
	knock_key_put_string(&want.w, signed_data, sizeof(signed_data));
	knock_key_put_u32(&want.w, 0);
	assert_int_equal(reqlen, want.w.len);
	assert_memory_equal(req, want.b, reqlen);
	assert_int_equal(req[3], 222);
}

static void
test_sign_refused(void **state)
{
	static const uint8_t failures[] = { 5, 28, 30, 102 };
	struct msg m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(failures); i++) {
		msg_start(&m);
		knock_key_put_u8(&m.w, failures[i]);
		sign_bad(&m, "ssh-agent refused to sign the knock");
	}
	msg_start(&m);
	knock_key_put_u8(&m.w, KNOCK_AGENT_IDENTITIES_ANSWER);
	sign_bad(&m, "with message type 12, not 14");
}

static void
test_sign_malformed(void **state)
{
	uint8_t bad[65];
	struct msg m;

	(void)state;
	memcpy(bad, agent_sig, 64);
	bad[64] = 0;
	sign_response(&m, "ssh-rsa", agent_sig, 64, 0);
	sign_bad(&m, "not a plain ssh-ed25519 signature");
	sign_response(&m, "ssh-ed25519", agent_sig, 63, 0);
	sign_bad(&m, "not a plain ssh-ed25519 signature");
	sign_response(&m, "ssh-ed25519", bad, 65, 0);
	sign_bad(&m, "malformed signature reply");	/* blob > 83 */
	sign_response(&m, "ssh-ed25519", agent_sig, 64, 1);
	sign_bad(&m, "malformed signature reply");
	sign_response(&m, "ssh-ed25519", agent_sig, 64, 0);
	knock_key_put_u8(&m.w, 0);			/* after the blob */
	sign_bad(&m, "malformed signature reply");
	sign_response(&m, "ssh-ed25519", agent_sig, 64, 0);
	m.w.len -= 1;
	m.b[4] -= 1;					/* blob length */
	sign_bad(&m, "not a plain ssh-ed25519 signature");
	/* Well formed, but over something else. */
	bad[0] ^= 0x01;
	sign_response(&m, "ssh-ed25519", bad, 64, 0);
	sign_bad(&m, "does not verify with the key");
}

static void
test_reply_framing(void **state)
{
	static const uint8_t zero[4] = { 0, 0, 0, 0 };
	static const uint8_t huge[4] = { 0, 4, 0, 1 };	/* 262145 */
	static const uint8_t cut[8] = { 0, 0, 0, 100, 14, 0, 0, 0 };
	char err[512];
	uint8_t req[4096], sig[64];
	size_t reqlen;

	(void)state;
	assert_int_equal(fake_sign(zero, 4, 1, req, &reqlen, sig, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "reply of 0 bytes"));
	assert_int_equal(fake_sign(huge, 4, 1, req, &reqlen, sig, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "reply of 262145 bytes (1 to 262144"));
	assert_int_equal(fake_sign(cut, 8, 1, req, &reqlen, sig, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "closed the connection in the middle"));
	assert_int_equal(fake_sign(cut, 2, 1, req, &reqlen, sig, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "closed the connection before "
	    "answering"));
}

/* ---- identities ---- */

static void
ids_start(struct msg *m, uint32_t count)
{
	msg_start(m);
	knock_key_put_u8(&m->w, KNOCK_AGENT_IDENTITIES_ANSWER);
	knock_key_put_u32(&m->w, count);
}

static void
test_identities(void **state)
{
	uint8_t pks[4][32], other[32], ecdsa[80];
	char err[512];
	struct msg m;
	size_t n, others;

	(void)state;
	memset(other, 0x77, sizeof(other));
	memset(ecdsa, 0x04, sizeof(ecdsa));
	ids_start(&m, 5);
	knock_key_put_string(&m.w, ecdsa, sizeof(ecdsa));
	put_cstring(&m, "not a key at all");
	put_ed25519_blob(&m, user_pk);
	put_cstring(&m, "alice@example");
	/* An ed25519 blob with a byte too many is not an ed25519 key. */
	knock_key_put_u32(&m.w, 52);
	put_cstring(&m, "ssh-ed25519");
	knock_key_put_string(&m.w, other, 32);
	knock_key_put_u8(&m.w, 0);
	put_cstring(&m, "");
	put_ed25519_blob(&m, other);
	put_cstring(&m, "second");
	knock_key_put_u32(&m.w, 0);			/* an empty blob */
	put_cstring(&m, "");
	assert_int_equal(knock_agent_parse_identities(m.b, m.w.len, pks, 4,
	    &n, &others, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(others, 3);
	assert_memory_equal(pks[0], user_pk, 32);
	assert_memory_equal(pks[1], other, 32);
	/* max 1: the first only. */
	assert_int_equal(knock_agent_parse_identities(m.b, m.w.len, pks, 1,
	    &n, &others, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	/* Cut anywhere: refused. */
	for (; m.w.len > 0; m.w.len--) {
		if (knock_agent_parse_identities(m.b, m.w.len - 1, pks, 4, &n,
		    &others, err, sizeof(err)) == 0)
			fail_msg("cut at %zu accepted", m.w.len - 1);
	}
}

static void
ids_bad(const struct msg *m, const char *needle)
{
	uint8_t pks[4][32];
	char err[512];
	size_t n, others;

	if (knock_agent_parse_identities(m->b, m->w.len, pks, 4, &n, &others,
	    err, sizeof(err)) == 0)
		fail_msg("accepted, wanted \"%s\"", needle);
	if (strstr(err, needle) == NULL)
		fail_msg("\"%s\" does not contain \"%s\"", err, needle);
}

static void
test_identities_bad(void **state)
{
	struct msg m;

	(void)state;
	ids_start(&m, KNOCK_AGENT_KEYS_MAX + 1);
	ids_bad(&m, "malformed list of keys (count)");
	ids_start(&m, 3);
	put_ed25519_blob(&m, user_pk);
	put_cstring(&m, "a");
	put_ed25519_blob(&m, user_pk);
	ids_bad(&m, "key 2 of 3");
	ids_start(&m, 1);
	put_ed25519_blob(&m, user_pk);
	put_cstring(&m, "a");
	knock_key_put_u8(&m.w, 0);
	ids_bad(&m, "1 bytes after its list of keys");
	ids_start(&m, 0);
	m.b[0] = KNOCK_AGENT_FAILURE;
	ids_bad(&m, "ssh-agent refused to list its keys");
	msg_start(&m);
	ids_bad(&m, "empty reply");
	/* A blob length past the end of the reply. */
	ids_start(&m, 1);
	knock_key_put_u32(&m.w, 0xffffffffu);
	ids_bad(&m, "key 1 of 1");
}

static void
test_keys_over_socket(void **state)
{
	static const uint8_t request[5] = { 0, 0, 0, 1, 11 };
	uint8_t pks[4][32], req[64], hdr[4];
	char err[512];
	struct msg m;
	size_t n;
	int sv[2];

	(void)state;
	ids_start(&m, 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	hdr[0] = hdr[1] = hdr[2] = 0;
	hdr[3] = (uint8_t)m.w.len;
	assert_int_equal(write(sv[1], hdr, 4), 4);
	assert_int_equal(write(sv[1], m.b, m.w.len), (ssize_t)m.w.len);
	assert_int_equal(knock_agent_ed25519_keys(sv[0], pks, 4, &n, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "ssh-agent holds no ssh-ed25519 key (0 "
	    "keys of other types)"));
	assert_int_equal(read(sv[1], req, sizeof(req)), 5);
	assert_memory_equal(req, request, 5);
	close(sv[0]);
	close(sv[1]);
}

static void
test_connect_errors(void **state)
{
	char err[512], path[200];
	int fd;

	(void)state;
	assert_int_equal(knock_agent_connect(NULL, &fd, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "SSH_AUTH_SOCK is not set"));
	assert_int_equal(knock_agent_connect("", &fd, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "SSH_AUTH_SOCK is not set"));
	assert_int_equal(knock_agent_connect("/nonexistent/agent.sock", &fd,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot reach ssh-agent at "
	    "/nonexistent/agent.sock (SSH_AUTH_SOCK): No such file"));
	memset(path, 'a', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(knock_agent_connect(path, &fd, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "too long"));
	assert_int_equal(fd, -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_request_exact),
		cmocka_unit_test(test_sign_refused),
		cmocka_unit_test(test_sign_malformed),
		cmocka_unit_test(test_reply_framing),
		cmocka_unit_test(test_identities),
		cmocka_unit_test(test_identities_bad),
		cmocka_unit_test(test_keys_over_socket),
		cmocka_unit_test(test_connect_errors),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
