/*
 * test_knock_key: the key files of knocking (knockd/knock_key.c).  Round
 * trips of the server key and of knock key files; files written by the
 * real ssh-keygen (the external oracle for openssh-key-v1) read correctly;
 * truncated, garbled, encrypted, foreign and too-open files are refused
 * with messages that say what is wrong.  Bad binary files are built by
 * hand from a good one, field by field.
 */
#include <sys/stat.h>

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

#include "knock_key.h"

#define BEGIN	"-----BEGIN OPENSSH PRIVATE KEY-----\n"
#define END	"-----END OPENSSH PRIVATE KEY-----\n"

static char tmpdir[] = "/tmp/test_knock_key.XXXXXX";

static void
path_in(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

static void
assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("\"%s\" does not contain \"%s\"", hay, needle);
}

static void
slurp(const char *path, char *buf, size_t cap, size_t *len)
{
	FILE *f = fopen(path, "r");

	if (f == NULL)
		fail_msg("cannot open %s", path);
	*len = fread(buf, 1, cap - 1, f);
	buf[*len] = '\0';
	fclose(f);
}

static void
spit(const char *path, const void *data, size_t len, mode_t mode)
{
	FILE *f;

	unlink(path);
	if ((f = fopen(path, "w")) == NULL)
		fail_msg("cannot create %s", path);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

/* ssh-keygen -q -t TYPE -N PASS -C COMMENT -f tmpdir/NAME */
static void
keygen(const char *type, const char *pass, const char *name)
{
	char cmd[1024], path[512];

	path_in(path, sizeof(path), name);
	unlink(path);
	snprintf(path + strlen(path), sizeof(path) - strlen(path), ".pub");
	unlink(path);
	path_in(path, sizeof(path), name);
	snprintf(cmd, sizeof(cmd), "ssh-keygen -q -t %s -N '%s' -C "
	    "'someone@example' -f '%s' </dev/null >/dev/null", type, pass,
	    path);
	if (system(cmd) != 0)
		fail_msg("%s failed", cmd);
}

static int
setup(void **state)
{
	(void)state;
	if (sodium_init() < 0 || mkdtemp(tmpdir) == NULL)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- the server key ---- */

static void
test_server_roundtrip(void **state)
{
	uint8_t sk[32], back[32];
	char path[512], err[KNOCK_KEY_ERR_MAX], text[128];
	struct stat st;
	size_t len;

	(void)state;
	path_in(path, sizeof(path), "server.key");
	randombytes_buf(sk, sizeof(sk));
	assert_int_equal(knock_key_server_write(path, sk, 0, err,
	    sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	slurp(path, text, sizeof(text), &len);
	assert_int_equal(len, 45);
	assert_int_equal(text[44], '\n');
	assert_int_equal(knock_key_server_read(path, back, err, sizeof(err)),
	    0);
	assert_memory_equal(sk, back, 32);
	/* No overwrite without force; with it, the new key. */
	sk[0] ^= 1;
	assert_int_equal(knock_key_server_write(path, sk, 0, err,
	    sizeof(err)), -1);
	assert_contains(err, "exists; use --force");
	assert_int_equal(knock_key_server_read(path, back, err, sizeof(err)),
	    0);
	assert_memory_not_equal(sk, back, 32);
	assert_int_equal(knock_key_server_write(path, sk, 1, err,
	    sizeof(err)), 0);
	assert_int_equal(knock_key_server_read(path, back, err, sizeof(err)),
	    0);
	assert_memory_equal(sk, back, 32);
}

static void
server_bad(const char *content, mode_t mode, const char *needle)
{
	char path[512], err[KNOCK_KEY_ERR_MAX];
	uint8_t sk[32];

	path_in(path, sizeof(path), "bad.key");
	spit(path, content, strlen(content), mode);
	if (knock_key_server_read(path, sk, err, sizeof(err)) == 0)
		fail_msg("\"%s\" (mode %o) accepted", content, mode);
	assert_contains(err, path);
	assert_contains(err, needle);
}

static void
test_server_refused(void **state)
{
	static const char good[] =
	    "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=\n";
	char path[512], err[KNOCK_KEY_ERR_MAX];
	uint8_t sk[32];

	(void)state;
	server_bad(good, 0640, "chmod 600");
	server_bad(good, 0604, "permissions 0604 are too open");
	server_bad(good, 0660, "chmod 600");
	server_bad("", 0600, "not a server key file");
	server_bad("ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8\n", 0600,
	    "not a server key file");
	server_bad("ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=\nx\n", 0600,
	    "not a server key file");
	server_bad("ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj9=\n", 0600,
	    "not a server key file");	/* non-zero unused bits */
	server_bad("ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9P*8=\n", 0600,
	    "not a server key file");
	server_bad(" ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=\n", 0600,
	    "not a server key file");
	/* Read-only for its owner, without the newline: fine. */
	path_in(path, sizeof(path), "bad.key");
	spit(path, good, strlen(good) - 1, 0400);
	assert_int_equal(knock_key_server_read(path, sk, err, sizeof(err)), 0);
	assert_int_equal(sk[0], 0x20);
	assert_int_equal(sk[31], 0x3f);
	assert_int_equal(knock_key_server_read(tmpdir, sk, err, sizeof(err)),
	    -1);
	assert_contains(err, "not a regular file");
	path_in(path, sizeof(path), "missing.key");
	assert_int_equal(knock_key_server_read(path, sk, err, sizeof(err)),
	    -1);
	assert_contains(err, "No such file");
}

static void
test_parse_pub(void **state)
{
	static const char vec[] = "NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYlQ=";
	static const char *const bad[] = {
		"NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYlQ",
		"NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYlQ==",
		"NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYlR=",
		"NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYl-=",
		"NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WY Q=",
		"", "x",
	};
	char err[KNOCK_KEY_ERR_MAX], back[64];
	uint8_t pk[32];
	size_t i;

	(void)state;
	assert_int_equal(knock_key_parse_pub(vec, strlen(vec), pk, err,
	    sizeof(err)), 0);
	assert_int_equal(pk[0], 0x35);
	assert_int_equal(pk[31], 0x54);
	knock_key_pub_b64(pk, back, sizeof(back));
	assert_string_equal(back, vec);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (knock_key_parse_pub(bad[i], strlen(bad[i]), pk, err,
		    sizeof(err)) == 0)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_contains(err, "server key");
	}
}

/* ---- openssh-key-v1 ---- */

static void
test_openssh_roundtrip(void **state)
{
	struct knock_key_ed25519 k, back;
	char path[512], pubpath[512], err[KNOCK_KEY_ERR_MAX], text[4096];
	char line[KNOCK_KEY_LINE_MAX + 1], file[KNOCK_KEY_LINE_MAX + 2];
	uint8_t pk[32];
	struct stat st;
	size_t len;

	(void)state;
	knock_key_ed25519_generate(&k, "knock@host");
	assert_int_equal(knock_key_openssh_format(&k, text, sizeof(text),
	    &len), 0);
	assert_int_equal(len, strlen(text));
	assert_int_equal(strncmp(text, BEGIN, strlen(BEGIN)), 0);
	assert_int_equal(knock_key_openssh_parse("mem", text, len, &back, err,
	    sizeof(err)), 0);
	assert_memory_equal(k.pk, back.pk, 32);
	assert_memory_equal(k.sk, back.sk, 64);
	assert_string_equal(back.comment, "knock@host");
	assert_int_equal(knock_key_openssh_format(&k, text, 100, &len), -1);

	path_in(path, sizeof(path), "knock");
	path_in(pubpath, sizeof(pubpath), "knock.pub");
	assert_int_equal(knock_key_openssh_write(path, &k, 0, err,
	    sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(pubpath, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(knock_key_openssh_read(path, &back, err,
	    sizeof(err)), 0);
	assert_memory_equal(k.sk, back.sk, 64);
	assert_int_equal(knock_key_pub_line(k.pk, k.comment, line,
	    sizeof(line)), 0);
	slurp(pubpath, file, sizeof(file), &len);
	assert_int_equal(len, strlen(line) + 1);
	assert_memory_equal(file, line, strlen(line));
	assert_int_equal(knock_key_pub_read(pubpath, pk, err, sizeof(err)), 0);
	assert_memory_equal(pk, k.pk, 32);
	/* Neither file is replaced without force, not even the .pub alone. */
	assert_int_equal(knock_key_openssh_write(path, &k, 0, err,
	    sizeof(err)), -1);
	assert_contains(err, "--force");
	unlink(path);
	assert_int_equal(knock_key_openssh_write(path, &k, 0, err,
	    sizeof(err)), -1);
	assert_contains(err, "knock.pub exists");
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(knock_key_openssh_write(path, &k, 1, err,
	    sizeof(err)), 0);
	knock_key_ed25519_clear(&k);
	knock_key_ed25519_clear(&back);
}

static void
test_ssh_keygen_files(void **state)
{
	struct knock_key_ed25519 k;
	char path[512], err[KNOCK_KEY_ERR_MAX], line[KNOCK_KEY_LINE_MAX + 1];
	char file[1024];
	uint8_t pk[32], derived[32], sk[64];
	size_t len;
	int i;

	(void)state;
	for (i = 0; i < 5; i++) {
		keygen("ed25519", "", "sshkey");
		path_in(path, sizeof(path), "sshkey");
		if (knock_key_openssh_read(path, &k, err, sizeof(err)) != 0)
			fail_msg("%s", err);
		assert_string_equal(k.comment, "someone@example");
		crypto_sign_seed_keypair(derived, sk, k.sk);
		assert_memory_equal(derived, k.pk, 32);
		/* The .pub ssh-keygen wrote is the line we would write. */
		assert_int_equal(knock_key_pub_line(k.pk, k.comment, line,
		    sizeof(line)), 0);
		path_in(path, sizeof(path), "sshkey.pub");
		slurp(path, file, sizeof(file), &len);
		assert_int_equal(len, strlen(line) + 1);
		assert_memory_equal(file, line, strlen(line));
		assert_int_equal(knock_key_pub_read(path, pk, err,
		    sizeof(err)), 0);
		assert_memory_equal(pk, k.pk, 32);
		knock_key_ed25519_clear(&k);
	}
	sodium_memzero(sk, sizeof(sk));
}

static void
read_bad(const char *name, const char *needle)
{
	struct knock_key_ed25519 k;
	char path[512], err[KNOCK_KEY_ERR_MAX];

	path_in(path, sizeof(path), name);
	if (knock_key_openssh_read(path, &k, err, sizeof(err)) == 0)
		fail_msg("%s accepted", name);
	assert_contains(err, path);
	assert_contains(err, needle);
}

static void
test_foreign_files(void **state)
{
	char path[512], err[KNOCK_KEY_ERR_MAX];
	uint8_t pk[32];

	(void)state;
	keygen("ed25519", "a passphrase", "encrypted");
	read_bad("encrypted", "is encrypted (cipher aes256-ctr)");
	read_bad("encrypted", "load it into ssh-agent instead");
	keygen("ecdsa", "", "ecdsa");
	read_bad("ecdsa", "holds a ecdsa-sha2-nistp256 key; knocking needs "
	    "an ssh-ed25519 key");
	path_in(path, sizeof(path), "ecdsa.pub");
	assert_int_equal(knock_key_pub_read(path, pk, err, sizeof(err)), -1);
	assert_contains(err, "knocking needs an ssh-ed25519 key");
	keygen("ed25519", "", "open");
	path_in(path, sizeof(path), "open");
	assert_int_equal(chmod(path, 0644), 0);
	read_bad("open", "chmod 600");
	read_bad("open.pub", "chmod 600");	/* 0644: and not a key */
	assert_int_equal(chmod(path, 0600), 0);
	path_in(path, sizeof(path), "open.pub");
	assert_int_equal(chmod(path, 0600), 0);
	read_bad("open.pub", "is a public key");
	spit(path, "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n", 37, 0600);
	read_bad("open.pub", "another PEM format");
	spit(path, "hello\n", 6, 0600);
	read_bad("open.pub", "not an OpenSSH private key");
	path_in(path, sizeof(path), "pub");
	spit(path, "ssh-ed25519 AAAA\n", 17, 0644);
	assert_int_equal(knock_key_pub_read(path, pk, err, sizeof(err)), -1);
	spit(path, "ssh-ed25519\n", 12, 0644);
	assert_int_equal(knock_key_pub_read(path, pk, err, sizeof(err)), -1);
	assert_contains(err, "not a public key line");
}

/* ---- hand-made bad binaries ---- */

/* The binary inside a key file's armour. */
static size_t
unarmour(const char *text, uint8_t *bin, size_t cap)
{
	const char *b = text + strlen(BEGIN), *e = strstr(text, END);
	size_t len;

	assert_non_null(e);
	assert_int_equal(sodium_base642bin(bin, cap, b, (size_t)(e - b), "\n",
	    &len, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	return len;
}

static void
armour(const uint8_t *bin, size_t len, char *text, size_t cap)
{
	char b64[4096];

	sodium_bin2base64(b64, sizeof(b64), bin, len,
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(text, cap, "%s%s\n%s", BEGIN, b64, END);
}

/* Parse bin (armoured); it must be refused with needle in the message. */
static void
bin_bad(const uint8_t *bin, size_t len, const char *needle)
{
	struct knock_key_ed25519 k;
	char text[8192], err[KNOCK_KEY_ERR_MAX];

	armour(bin, len, text, sizeof(text));
	if (knock_key_openssh_parse("F", text, strlen(text), &k, err,
	    sizeof(err)) == 0)
		fail_msg("accepted, wanted \"%s\"", needle);
	assert_contains(err, "F: ");
	assert_contains(err, needle);
}

/*
 * Offsets in the file that knock_key_openssh_format() writes for a
 * comment of c bytes: header 15 + 8 + 8 + 4 + 4 = 39, public key 4 + 51,
 * private section length at 94, its content from 98.
 */
#define OFF_NKEYS	35
#define OFF_PUBTYPE	43
#define OFF_SECLEN	94
#define OFF_SEC		98

static void
test_garbled_binaries(void **state)
{
	struct knock_key_ed25519 k;
	uint8_t good[2048], bin[2048];
	char text[8192];
	size_t len, glen, seclen, i;

	(void)state;
	knock_key_ed25519_generate(&k, "abc");		/* 3 bytes: pad 1, 2 */
	assert_int_equal(knock_key_openssh_format(&k, text, sizeof(text),
	    &len), 0);
	glen = unarmour(text, good, sizeof(good));
	seclen = glen - OFF_SEC;
	assert_int_equal(seclen % 8, 0);
	assert_int_equal(good[OFF_SECLEN + 3], seclen);
	/* The good one, re-armoured by the test, still parses. */
	armour(good, glen, text, sizeof(text));
	assert_int_equal(knock_key_openssh_parse("F", text, strlen(text), &k,
	    text, sizeof(text)), 0);

#define PATCH(off, val, needle) do {					\
	memcpy(bin, good, glen);					\
	bin[(off)] = (uint8_t)(val);					\
	bin_bad(bin, glen, (needle));					\
} while (0)
	PATCH(0, 'O', "no openssh-key-v1 header");
	PATCH(14, 'x', "no openssh-key-v1 header");	/* the NUL */
	PATCH(15, 0x7f, "truncated or garbled header");	/* cipher length */
	PATCH(19, 'N', "is encrypted (cipher None)");
	PATCH(27, 'N', "a key derivation without a cipher");
	PATCH(34, 1, "a key derivation without a cipher");
	PATCH(OFF_NKEYS + 3, 2, "holds 2 keys");
	PATCH(OFF_NKEYS + 3, 0, "holds 0 keys");
	PATCH(OFF_PUBTYPE + 4, 'x', "holds a xsh-ed25519 key");
	PATCH(OFF_PUBTYPE + 18, 0, "garbled ssh-ed25519 public key");
	PATCH(OFF_PUBTYPE + 30, 0x55, "belongs to another public key");
	PATCH(OFF_SEC, good[OFF_SEC] ^ 1, "check-ints");
	PATCH(OFF_SEC + 8 + 4, 'x', "truncated or garbled private key");
	PATCH(OFF_SEC + 27 + 10, good[OFF_SEC + 37] ^ 1,
	    "belongs to another public key");		/* private pk copy */
	PATCH(OFF_SEC + 8 + 15 + 36 + 4, good[OFF_SEC + 63] ^ 1,
	    "does not match its public key");		/* the seed */
	PATCH(OFF_SEC + 8 + 15 + 36 + 4 + 32, good[OFF_SEC + 95] ^ 1,
	    "belongs to another public key");		/* pk after seed */
	PATCH(glen - 1, 6, "padding");
	PATCH(glen - 2, 0, "padding");
	PATCH(OFF_SECLEN + 3, seclen - 1, "data after the private section");
	PATCH(OFF_SECLEN + 3, seclen + 8, "the private section is cut short");
#undef PATCH
	/* Cut anywhere: refused, never read past the end. */
	for (i = 0; i < glen; i++)
		bin_bad(good, i, "");
	/* Data after the private section; a section of 135 bytes. */
	memcpy(bin, good, glen);
	bin[glen] = 0;
	bin_bad(bin, glen + 1, "data after the private section");
	bin[OFF_SECLEN + 3] = (uint8_t)(seclen - 1);
	bin_bad(bin, glen - 1, "not a multiple of 8");
	/* Eight more bytes of padding: a whole block too many. */
	memcpy(bin, good, glen);
	memcpy(bin + glen, "\x03\x04\x05\x06\x07\x08\x09\x0a", 8);
	bin[OFF_SECLEN + 3] = (uint8_t)(seclen + 8);
	bin_bad(bin, glen + 8, "data after the key");
	knock_key_ed25519_clear(&k);
}

static void
test_truncated_text(void **state)
{
	struct knock_key_ed25519 k;
	char text[4096], cut[4096], err[KNOCK_KEY_ERR_MAX];
	size_t len, i;

	(void)state;
	knock_key_ed25519_generate(&k, "t");
	assert_int_equal(knock_key_openssh_format(&k, text, sizeof(text),
	    &len), 0);
	/* Every cut except after the END line's last character. */
	for (i = 0; i + 1 < len; i++) {
		memcpy(cut, text, i);
		cut[i] = '\0';
		if (knock_key_openssh_parse("T", cut, i, &k, err,
		    sizeof(err)) == 0)
			fail_msg("cut at %zu accepted", i);
		assert_contains(err, "T: ");
	}
	assert_int_equal(knock_key_openssh_parse("T", text, len - 1, &k, err,
	    sizeof(err)), 0);
	/* Text after the end, a broken base64 character. */
	memcpy(cut, text, len);
	memcpy(cut + len, "x\n", 3);
	assert_int_equal(knock_key_openssh_parse("T", cut, len + 2, &k, err,
	    sizeof(err)), -1);
	assert_contains(err, "text after the end");
	memcpy(cut, text, len + 1);
	cut[strlen(BEGIN) + 5] = '*';
	assert_int_equal(knock_key_openssh_parse("T", cut, len, &k, err,
	    sizeof(err)), -1);
	assert_contains(err, "base64 is damaged");
	knock_key_ed25519_clear(&k);
}

/* The wire reader refuses lengths past the end, without moving. */
static void
test_cursor(void **state)
{
	static const uint8_t in[] = { 0, 0, 0, 3, 'a', 'b', 'c', 0xff, 0xff,
	    0xff, 0xff, 'x' };
	struct knock_key_cur c = { in, sizeof(in) };
	const uint8_t *p;
	size_t len;
	uint32_t v;

	(void)state;
	assert_int_equal(knock_key_get_string(&c, 2, &p, &len), -1);
	assert_int_equal(c.left, sizeof(in));
	assert_int_equal(knock_key_get_string(&c, 3, &p, &len), 0);
	assert_true(knock_key_str_is(p, len, "abc"));
	assert_int_equal(knock_key_get_string(&c, SIZE_MAX, &p, &len), -1);
	assert_int_equal(c.left, 5);
	assert_int_equal(knock_key_get_u32(&c, &v), 0);
	assert_int_equal(v, 0xffffffffu);
	assert_int_equal(knock_key_get_u32(&c, &v), -1);
	assert_int_equal(c.left, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_roundtrip),
		cmocka_unit_test(test_server_refused),
		cmocka_unit_test(test_parse_pub),
		cmocka_unit_test(test_openssh_roundtrip),
		cmocka_unit_test(test_ssh_keygen_files),
		cmocka_unit_test(test_foreign_files),
		cmocka_unit_test(test_garbled_binaries),
		cmocka_unit_test(test_truncated_text),
		cmocka_unit_test(test_cursor),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
