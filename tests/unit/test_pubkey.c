/*
 * test_pubkey: OpenSSH public keys are decoded, checked field by field
 * and fingerprinted exactly as ssh-keygen does.  The expected fingerprints
 * were computed once with `ssh-keygen -lf tests/data/keys/NAME.pub` and are
 * the external oracle here.  Malformed blobs are built by hand.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "pubkey.h"

/* A key file split into its three fields. */
struct keytext {
	char	type[64];
	char	b64[4096];
	char	comment[256];
};

/* A wire blob under construction. */
struct wire {
	uint8_t	b[PUBKEY_BLOB_MAX * 2];
	size_t	len;
};

static const char *
testdata(void)
{
	const char *d = getenv("RAMPART_TESTDATA");

	return d != NULL ? d : "tests/data";
}

static void
read_key(const char *name, struct keytext *kt)
{
	char path[1024], line[8192];
	FILE *f;

	snprintf(path, sizeof(path), "%s/keys/%s.pub", testdata(), name);
	if ((f = fopen(path, "r")) == NULL) {
		fail_msg("cannot open %s", path);
	}
	if (fgets(line, sizeof(line), f) == NULL) {
		fclose(f);
		fail_msg("%s is empty", path);
	}
	fclose(f);
	memset(kt, 0, sizeof(*kt));
	if (sscanf(line, "%63s %4095s %255[^\n]", kt->type, kt->b64,
	    kt->comment) < 2) {
		fail_msg("%s: cannot split \"%s\"", path, line);
	}
}

static void
assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL) {
		fail_msg("\"%s\" does not contain \"%s\"", hay, needle);
	}
}

static void
parse_ok(const char *type, const char *b64, struct pubkey *k)
{
	char err[256];

	if (pubkey_parse(type, b64, strlen(b64), k, err, sizeof(err)) != 0) {
		fail_msg("pubkey_parse(%s): %s", type, err);
	}
}

static void
parse_bad(const char *type, const char *b64, const char *want)
{
	struct pubkey k;
	char err[256] = "";

	if (pubkey_parse(type, b64, strlen(b64), &k, err, sizeof(err)) !=
	    -1) {
		pubkey_clear(&k);
		fail_msg("pubkey_parse(%s) accepted bad key, wanted \"%s\"",
		    type, want);
	}
	assert_null(k.blob);
	assert_contains(err, want);
}

static void
put_u32(struct wire *w, uint32_t v)
{
	w->b[w->len++] = (uint8_t)(v >> 24);
	w->b[w->len++] = (uint8_t)(v >> 16);
	w->b[w->len++] = (uint8_t)(v >> 8);
	w->b[w->len++] = (uint8_t)v;
}

static void
put_bytes(struct wire *w, const void *p, size_t len)
{
	put_u32(w, (uint32_t)len);
	memcpy(w->b + w->len, p, len);
	w->len += len;
}

static void
put_str(struct wire *w, const char *s)
{
	put_bytes(w, s, strlen(s));
}

/* len bytes of value v, as a string field. */
static void
put_fill(struct wire *w, uint8_t v, size_t len)
{
	put_u32(w, (uint32_t)len);
	memset(w->b + w->len, v, len);
	w->len += len;
}

static char *
b64_of(const struct wire *w)
{
	size_t n = sodium_base64_ENCODED_LEN(w->len,
	    sodium_base64_VARIANT_ORIGINAL);
	char *s;

	assert_non_null(s = malloc(n));
	sodium_bin2base64(s, n, w->b, w->len, sodium_base64_VARIANT_ORIGINAL);
	return s;
}

static void
wire_bad(const char *type, const struct wire *w, const char *want)
{
	char *b64 = b64_of(w);

	parse_bad(type, b64, want);
	free(b64);
}

static void
wire_ok(const char *type, const struct wire *w, unsigned int bits)
{
	struct pubkey k;
	char *b64 = b64_of(w);

	parse_ok(type, b64, &k);
	free(b64);
	assert_int_equal(k.bits, bits);
	assert_int_equal(k.bloblen, w->len);
	assert_memory_equal(k.blob, w->b, w->len);
	pubkey_clear(&k);
}

/* An RSA blob with the given exponent and modulus mpint bytes. */
static void
rsa_wire(struct wire *w, const uint8_t *e, size_t elen, const uint8_t *n,
    size_t nlen)
{
	w->len = 0;
	put_str(w, "ssh-rsa");
	put_bytes(w, e, elen);
	put_bytes(w, n, nlen);
}

static void
check_file_key(const char *name, const char *type, unsigned int bits,
    const char *fp)
{
	struct keytext kt;
	struct pubkey k;
	char buf[PUBKEY_FP_LEN];

	read_key(name, &kt);
	assert_string_equal(kt.type, type);
	parse_ok(kt.type, kt.b64, &k);
	assert_string_equal(k.type, type);
	assert_int_equal(k.bits, bits);
	/* The parser leaves the comment to the line parser. */
	assert_string_equal(k.comment, "");
	pubkey_fingerprint(&k, buf, sizeof(buf));
	assert_string_equal(buf, fp);
	pubkey_clear(&k);
}

static void
test_ed25519_alice(void **state)
{
	struct keytext kt;
	struct pubkey k;
	char fp[PUBKEY_FP_LEN];

	(void)state;
	read_key("alice", &kt);
	parse_ok(kt.type, kt.b64, &k);
	assert_string_equal(k.type, "ssh-ed25519");
	assert_int_equal(k.bits, 256);
	/* string "ssh-ed25519" + string of 32 bytes */
	assert_int_equal(k.bloblen, 4 + 11 + 4 + 32);
	pubkey_fingerprint(&k, fp, sizeof(fp));
	/* ssh-keygen -lf tests/data/keys/alice.pub */
	assert_string_equal(fp,
	    "SHA256:DIU/6qKiB5zbHjPxqfk3SyXHwATFn3D60NsOJrBy9hA");
	pubkey_clear(&k);
	assert_null(k.blob);
	assert_int_equal(k.bloblen, 0);
}

static void
test_accepted_key_files(void **state)
{
	(void)state;
	check_file_key("bob", "ssh-ed25519", 256,
	    "SHA256:q5GBPLtcU7jI87sgmyP+CQ+cZOaDjvXlq0M6XRnhaSc");
	check_file_key("ci", "ssh-ed25519", 256,
	    "SHA256:m6YSBwosZ2XuZOdbFJ+tPicp5tvdzZ7gk3qeOu8FqRA");
	check_file_key("ecdsa256", "ecdsa-sha2-nistp256", 256,
	    "SHA256:xz/FQ7JIhQAOz1J/bdSxVaTE2RwfbG1+8BFwdxEdLtg");
	check_file_key("rsa3072", "ssh-rsa", 3072,
	    "SHA256:77OJW2okHRVTcP/YelXfmX2ENkE+ZIOVSGjvVTe3LQo");
}

static void
test_refused_key_files(void **state)
{
	struct keytext kt;

	(void)state;
	read_key("rsa2048", &kt);
	parse_bad(kt.type, kt.b64, "RSA key of 2048 bits is too weak "
	    "(minimum 3072); use ssh-ed25519");
	read_key("dsa", &kt);
	parse_bad(kt.type, kt.b64, "ssh-dss: DSA keys are weak and not "
	    "accepted");
}

static void
test_to_line(void **state)
{
	struct keytext kt;
	struct pubkey k;
	char want[8192], *line;

	(void)state;
	read_key("alice", &kt);
	parse_ok(kt.type, kt.b64, &k);
	assert_non_null(line = pubkey_to_line(&k));
	snprintf(want, sizeof(want), "%s %s", kt.type, kt.b64);
	assert_string_equal(line, want);
	free(line);
	snprintf(k.comment, sizeof(k.comment), "%s", kt.comment);
	assert_non_null(line = pubkey_to_line(&k));
	snprintf(want, sizeof(want), "%s %s %s", kt.type, kt.b64,
	    kt.comment);
	assert_string_equal(line, want);
	free(line);
	pubkey_clear(&k);
	read_key("rsa3072", &kt);
	parse_ok(kt.type, kt.b64, &k);
	assert_non_null(line = pubkey_to_line(&k));
	snprintf(want, sizeof(want), "%s %s", kt.type, kt.b64);
	assert_string_equal(line, want);
	free(line);
	pubkey_clear(&k);
}

static void
test_copy_and_compare(void **state)
{
	struct keytext ka, kb;
	struct pubkey a, b, c;
	uint8_t saved[51];

	(void)state;
	read_key("alice", &ka);
	read_key("bob", &kb);
	parse_ok(ka.type, ka.b64, &a);
	parse_ok(kb.type, kb.b64, &b);
	assert_true(pubkey_blob_eq(&a, a.blob, a.bloblen));
	assert_false(pubkey_blob_eq(&a, b.blob, b.bloblen));
	assert_false(pubkey_blob_eq(&a, a.blob, a.bloblen - 1));
	assert_false(pubkey_blob_eq(&a, a.blob, 0));
	assert_int_equal(pubkey_copy(&c, &a), 0);
	assert_ptr_not_equal(c.blob, a.blob);
	assert_true(pubkey_blob_eq(&c, a.blob, a.bloblen));
	assert_string_equal(c.type, a.type);
	/* The copy is deep: wiping the original leaves it intact. */
	assert_int_equal(a.bloblen, sizeof(saved));
	memcpy(saved, a.blob, sizeof(saved));
	memset(a.blob, 0, a.bloblen);
	pubkey_clear(&a);
	assert_true(pubkey_blob_eq(&c, saved, sizeof(saved)));
	pubkey_clear(&b);
	pubkey_clear(&c);
}

static void
test_type_names(void **state)
{
	static const char *const known[] = {
		"ssh-ed25519", "sk-ssh-ed25519@openssh.com",
		"ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
		"ecdsa-sha2-nistp521", "sk-ecdsa-sha2-nistp256@openssh.com",
		"ssh-rsa", "ssh-dss", "ssh-ed25519-cert-v01@openssh.com",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		assert_true(pubkey_is_type_name(known[i], strlen(known[i])));
	}
	assert_false(pubkey_is_type_name("ssh-ed2551", 10));
	assert_false(pubkey_is_type_name("SSH-ED25519", 11));
	assert_false(pubkey_is_type_name("no-pty", 6));
	assert_false(pubkey_is_type_name("", 0));
	/* Length counts: a prefix of a name is not the name. */
	assert_false(pubkey_is_type_name("ssh-ed25519", 7));
}

static void
test_unknown_and_refused_types(void **state)
{
	struct keytext kt;

	(void)state;
	read_key("alice", &kt);
	parse_bad("ssh-foo", kt.b64, "unknown key type");
	parse_bad("", kt.b64, "unknown key type");
	parse_bad("ssh-ed25519-cert-v01@openssh.com", kt.b64,
	    "certificates are not accepted as keys");
	parse_bad("ssh-rsa-cert-v01@openssh.com", kt.b64,
	    "certificates are not accepted");
}

static void
test_bad_base64(void **state)
{
	struct keytext kt;
	char b64[4096];
	size_t len;

	(void)state;
	read_key("alice", &kt);
	len = strlen(kt.b64);
	/* Truncated by one character: no longer base64. */
	memcpy(b64, kt.b64, len - 1);
	b64[len - 1] = '\0';
	parse_bad(kt.type, b64, "key data is not valid base64");
	/* Garbled characters. */
	snprintf(b64, sizeof(b64), "%s", kt.b64);
	b64[20] = '!';
	parse_bad(kt.type, b64, "key data is not valid base64");
	snprintf(b64, sizeof(b64), "%s", kt.b64);
	b64[20] = ' ';
	parse_bad(kt.type, b64, "key data is not valid base64");
	/* Missing padding, and padding in the middle. */
	read_key("ecdsa256", &kt);
	len = strlen(kt.b64);
	assert_int_equal(kt.b64[len - 1], '=');
	memcpy(b64, kt.b64, len - 1);
	b64[len - 1] = '\0';
	parse_bad(kt.type, b64, "key data is not valid base64");
	snprintf(b64, sizeof(b64), "%s", kt.b64);
	b64[8] = '=';
	parse_bad(kt.type, b64, "key data is not valid base64");
	parse_bad(kt.type, "", "key data is empty or too long");
	/* Valid base64 of zero bytes: an empty type string. */
	memset(b64, 'A', 4092);
	b64[4092] = '\0';
	parse_bad("ssh-rsa", b64, "does not match type");
}

static void
test_too_long(void **state)
{
	char *b64;
	size_t n = 8000;

	(void)state;
	assert_non_null(b64 = malloc(n + 1));
	memset(b64, 'A', n);
	b64[n] = '\0';
	parse_bad("ssh-rsa", b64, "key data is empty or too long");
	free(b64);
}

static void
test_truncated_blob(void **state)
{
	struct keytext kt;
	char b64[4096];
	size_t len;

	(void)state;
	read_key("alice", &kt);
	/* 4 characters less is valid base64 of 3 bytes less. */
	len = strlen(kt.b64);
	memcpy(b64, kt.b64, len - 4);
	b64[len - 4] = '\0';
	parse_bad(kt.type, b64, "Ed25519 key is not 32 bytes");
	/* Just the type string. */
	parse_bad(kt.type, "AAAAC3NzaC1lZDI1NTE5", "Ed25519 key is not 32 "
	    "bytes");
	read_key("rsa3072", &kt);
	len = strlen(kt.b64);
	memcpy(b64, kt.b64, 100);
	b64[100] = '\0';
	parse_bad(kt.type, b64, "truncated RSA key");
	read_key("ecdsa256", &kt);
	memcpy(b64, kt.b64, 60);
	b64[60] = '\0';
	parse_bad(kt.type, b64, "ECDSA key has an invalid point");
}

static void
test_type_mismatch(void **state)
{
	struct keytext kt;

	(void)state;
	read_key("alice", &kt);
	parse_bad("ssh-rsa", kt.b64, "key data does not match type ssh-rsa");
	parse_bad("ecdsa-sha2-nistp256", kt.b64,
	    "key data does not match type ecdsa-sha2-nistp256");
	read_key("rsa3072", &kt);
	parse_bad("ssh-ed25519", kt.b64,
	    "key data does not match type ssh-ed25519");
	read_key("ecdsa256", &kt);
	parse_bad("ecdsa-sha2-nistp384", kt.b64,
	    "key data does not match type ecdsa-sha2-nistp384");
}

static void
test_trailing_bytes(void **state)
{
	struct keytext kt;
	struct pubkey k;
	struct wire w;

	(void)state;
	read_key("alice", &kt);
	parse_ok(kt.type, kt.b64, &k);
	memcpy(w.b, k.blob, k.bloblen);
	w.len = k.bloblen;
	pubkey_clear(&k);
	w.b[w.len++] = 0;
	wire_bad("ssh-ed25519", &w, "trailing bytes after the key data");
	/* An extra string field is trailing data too. */
	w.len--;
	put_str(&w, "x");
	wire_bad("ssh-ed25519", &w, "trailing bytes after the key data");
}

static void
test_ed25519_wire(void **state)
{
	struct wire w;

	(void)state;
	w.len = 0;
	put_str(&w, "ssh-ed25519");
	put_fill(&w, 0x11, 32);
	wire_ok("ssh-ed25519", &w, 256);
	w.len = 0;
	put_str(&w, "ssh-ed25519");
	put_fill(&w, 0x11, 31);
	wire_bad("ssh-ed25519", &w, "Ed25519 key is not 32 bytes");
	w.len = 0;
	put_str(&w, "ssh-ed25519");
	put_fill(&w, 0x11, 33);
	wire_bad("ssh-ed25519", &w, "Ed25519 key is not 32 bytes");
	/* A length field pointing past the end must not be followed. */
	w.len = 0;
	put_str(&w, "ssh-ed25519");
	put_u32(&w, 0xffffffff);
	memset(w.b + w.len, 0x11, 32);
	w.len += 32;
	wire_bad("ssh-ed25519", &w, "Ed25519 key is not 32 bytes");
	w.len = 0;
	put_u32(&w, 0xfffffff0);
	w.b[w.len++] = 's';
	wire_bad("ssh-ed25519", &w, "does not match type");
}

static void
test_sk_wire(void **state)
{
	struct wire w;

	(void)state;
	w.len = 0;
	put_str(&w, "sk-ssh-ed25519@openssh.com");
	put_fill(&w, 0x22, 32);
	put_str(&w, "ssh:");
	wire_ok("sk-ssh-ed25519@openssh.com", &w, 256);
	w.len = 0;
	put_str(&w, "sk-ssh-ed25519@openssh.com");
	put_fill(&w, 0x22, 32);
	wire_bad("sk-ssh-ed25519@openssh.com", &w,
	    "security key has no valid application string");
	w.len = 0;
	put_str(&w, "sk-ssh-ed25519@openssh.com");
	put_fill(&w, 0x22, 32);
	put_str(&w, "");
	wire_bad("sk-ssh-ed25519@openssh.com", &w,
	    "security key has no valid application string");
	w.len = 0;
	put_str(&w, "sk-ecdsa-sha2-nistp256@openssh.com");
	put_str(&w, "nistp256");
	put_fill(&w, 0x04, 65);
	put_str(&w, "ssh:");
	wire_ok("sk-ecdsa-sha2-nistp256@openssh.com", &w, 256);
}

static void
ecdsa_wire(struct wire *w, const char *type, const char *curve,
    size_t qlen, uint8_t first)
{
	w->len = 0;
	put_str(w, type);
	put_str(w, curve);
	put_fill(w, 0x33, qlen);
	w->b[w->len - qlen] = first;
}

static void
test_ecdsa_wire(void **state)
{
	struct wire w;

	(void)state;
	ecdsa_wire(&w, "ecdsa-sha2-nistp384", "nistp384", 97, 0x04);
	wire_ok("ecdsa-sha2-nistp384", &w, 384);
	ecdsa_wire(&w, "ecdsa-sha2-nistp521", "nistp521", 133, 0x04);
	wire_ok("ecdsa-sha2-nistp521", &w, 521);
	ecdsa_wire(&w, "ecdsa-sha2-nistp256", "nistp384", 65, 0x04);
	wire_bad("ecdsa-sha2-nistp256", &w, "ECDSA key names the wrong curve");
	/* Compressed points are not what OpenSSH sends. */
	ecdsa_wire(&w, "ecdsa-sha2-nistp256", "nistp256", 33, 0x02);
	wire_bad("ecdsa-sha2-nistp256", &w, "ECDSA key has an invalid point");
	ecdsa_wire(&w, "ecdsa-sha2-nistp256", "nistp256", 65, 0x02);
	wire_bad("ecdsa-sha2-nistp256", &w, "ECDSA key has an invalid point");
	ecdsa_wire(&w, "ecdsa-sha2-nistp256", "nistp256", 64, 0x04);
	wire_bad("ecdsa-sha2-nistp256", &w, "ECDSA key has an invalid point");
}

static void
test_rsa_wire(void **state)
{
	static const uint8_t e65537[] = { 0x01, 0x00, 0x01 };
	static const uint8_t e_even[] = { 0x01, 0x00, 0x00 };
	static const uint8_t e_one[] = { 0x01 };
	static const uint8_t e_pad[] = { 0x00, 0x01, 0x00, 0x01 };
	uint8_t n[1 + 512];
	struct wire w;

	(void)state;
	/* 3072 bits: a leading zero because the top bit is set. */
	n[0] = 0x00;
	memset(n + 1, 0xc5, 384);
	rsa_wire(&w, e65537, sizeof(e65537), n, 1 + 384);
	wire_ok("ssh-rsa", &w, 3072);
	/* 3071 bits is one too few. */
	memset(n, 0x65, 384);
	rsa_wire(&w, e65537, sizeof(e65537), n, 384);
	wire_bad("ssh-rsa", &w, "RSA key of 3071 bits is too weak");
	/* 4096 bits. */
	n[0] = 0x00;
	memset(n + 1, 0xc5, 512);
	rsa_wire(&w, e65537, sizeof(e65537), n, 1 + 512);
	wire_ok("ssh-rsa", &w, 4096);
	/* A negative modulus (top bit set, no leading zero). */
	memset(n, 0xc5, 384);
	rsa_wire(&w, e65537, sizeof(e65537), n, 384);
	wire_bad("ssh-rsa", &w, "RSA key has an invalid modulus");
	/* A needless leading zero. */
	n[0] = 0x00;
	memset(n + 1, 0x45, 384);
	rsa_wire(&w, e65537, sizeof(e65537), n, 1 + 384);
	wire_bad("ssh-rsa", &w, "RSA key has an invalid modulus");
	/* An even modulus. */
	n[0] = 0x00;
	memset(n + 1, 0xc4, 384);
	rsa_wire(&w, e65537, sizeof(e65537), n, 1 + 384);
	wire_bad("ssh-rsa", &w, "RSA key has an invalid modulus");
	rsa_wire(&w, e65537, sizeof(e65537), n, 0);
	wire_bad("ssh-rsa", &w, "RSA key has an invalid modulus");
	/* Exponents: even, 1, badly encoded, empty. */
	n[0] = 0x00;
	memset(n + 1, 0xc5, 384);
	rsa_wire(&w, e_even, sizeof(e_even), n, 1 + 384);
	wire_bad("ssh-rsa", &w, "RSA key has an invalid public exponent");
	rsa_wire(&w, e_one, sizeof(e_one), n, 1 + 384);
	wire_bad("ssh-rsa", &w, "RSA key has an invalid public exponent");
	rsa_wire(&w, e_pad, sizeof(e_pad), n, 1 + 384);
	wire_bad("ssh-rsa", &w, "RSA key has an invalid public exponent");
	rsa_wire(&w, e65537, 0, n, 1 + 384);
	wire_bad("ssh-rsa", &w, "RSA key has an invalid public exponent");
	/* Exponent present, modulus missing. */
	w.len = 0;
	put_str(&w, "ssh-rsa");
	put_bytes(&w, e65537, sizeof(e65537));
	wire_bad("ssh-rsa", &w, "truncated RSA key");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ed25519_alice),
		cmocka_unit_test(test_accepted_key_files),
		cmocka_unit_test(test_refused_key_files),
		cmocka_unit_test(test_to_line),
		cmocka_unit_test(test_copy_and_compare),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_unknown_and_refused_types),
		cmocka_unit_test(test_bad_base64),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_truncated_blob),
		cmocka_unit_test(test_type_mismatch),
		cmocka_unit_test(test_trailing_bytes),
		cmocka_unit_test(test_ed25519_wire),
		cmocka_unit_test(test_sk_wire),
		cmocka_unit_test(test_ecdsa_wire),
		cmocka_unit_test(test_rsa_wire),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
