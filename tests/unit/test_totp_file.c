/*
 * test_totp_file: the secrets file -- every error with file:line, loads
 * all-or-nothing, write -> load -> write gives the same bytes, atomic
 * writes keep mode and owner, the owner and mode checks of
 * totp_secrets_load, and a deterministic mutation run of the parser.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <grp.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "totp.h"

#define SALT1	"000102030405060708090a0b0c0d0e0f"
#define HASH1	"a0a1a2a3a4a5a6a7a8a9aaabacadaeaf" \
		"b0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
#define SH1	SALT1 ":" HASH1

/* A file in the canonical form: load -> write gives these bytes. */
static const char canonical[] =
    "# Rampart TOTP secrets\n"
    "alice sha1 6 30 JBSWY3DPEHPK3PXP\n"
    "\n"
    "   # an indented comment stays as it is\n"
    "bob sha256 8 60 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA "
    "scratch=" SH1 "," SH1 "\n"
    "_svc.ci-1 sha512 7 15 GEZDGNBVGY3TQOJQGE\n";

static char msgs[16384];

static void
collect(void *ctx, const char *msg)
{
	size_t n = strlen(msgs);

	(void)ctx;
	snprintf(msgs + n, sizeof(msgs) - n, "%s\n", msg);
}

static struct totp_secrets *
load_ok(const char *text)
{
	struct totp_secrets *s = NULL;

	msgs[0] = '\0';
	if (totp_secrets_load_buf("t.secrets", text, strlen(text), collect,
	    NULL, &s) != 0)
		fail_msg("refused: %s", msgs);
	assert_non_null(s);
	return s;
}

/* Load must fail and report exactly want (lines ending in \n). */
static void
load_bad(const char *text, const char *want)
{
	struct totp_secrets *s = (struct totp_secrets *)1;

	msgs[0] = '\0';
	assert_int_equal(totp_secrets_load_buf("t.secrets", text, strlen(text),
	    collect, NULL, &s), -1);
	assert_null(s);
	assert_string_equal(msgs, want);
}

static char tmpdir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_totp_file.XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
path_in(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

static void
put_file(const char *path, const char *text, mode_t mode)
{
	FILE *f;

	unlink(path);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static char *
slurp(const char *path)
{
	static char buf[16384];
	size_t n;
	FILE *f;

	assert_non_null(f = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* ---- parsing ---- */

static void
test_load_fields(void **state)
{
	struct totp_secrets *s;
	const struct totp_entry *e;

	(void)state;
	s = load_ok(canonical);
	assert_int_equal(totp_secrets_count(s), 3);
	assert_non_null(e = totp_secrets_find(s, "alice"));
	assert_int_equal(e->alg, TOTP_SHA1);
	assert_int_equal(e->digits, 6);
	assert_int_equal(e->period, 30);
	assert_int_equal(e->secretlen, 10);
	assert_memory_equal(e->secret, "Hello!\xde\xad\xbe\xef", 10);
	assert_int_equal(e->nscratch, 0);
	assert_int_equal(e->line, 2);
	assert_non_null(e = totp_secrets_find(s, "bob"));
	assert_int_equal(e->alg, TOTP_SHA256);
	assert_int_equal(e->digits, 8);
	assert_int_equal(e->period, 60);
	assert_int_equal(e->secretlen, 32);
	assert_memory_equal(e->secret, "12345678901234567890123456789012",
	    32);
	assert_int_equal(e->nscratch, 2);
	assert_int_equal(e->scratch[1].salt[15], 0x0f);
	assert_int_equal(e->scratch[1].hash[0], 0xa0);
	assert_int_equal(e->scratch[1].hash[31], 0xbf);
	assert_int_equal(e->line, 5);
	assert_non_null(e = totp_secrets_find(s, "_svc.ci-1"));
	assert_int_equal(e->alg, TOTP_SHA512);
	assert_int_equal(e->digits, 7);
	assert_int_equal(e->period, 15);
	assert_int_equal(e->secretlen, 11);
	assert_null(totp_secrets_find(s, "carol"));
	assert_null(totp_secrets_find(s, "alic"));
	totp_secrets_free(s);

	/* Tabs, runs of blanks, lower case base32, CRLF, padding. */
	s = load_ok("  alice\tSHA1  6 30  jbswy3dpehpk3pxp \r\n"
	    "bob sha1 6 30 GEZDGNBVGY3TQOJQGE======\n"
	    "carol sha1 6 300 JBSWY3DPEHPK3PXP");
	assert_int_equal(totp_secrets_count(s), 3);
	assert_memory_equal(totp_secrets_find(s, "alice")->secret,
	    "Hello!\xde\xad\xbe\xef", 10);
	assert_int_equal(totp_secrets_find(s, "bob")->secretlen, 11);
	assert_int_equal(totp_secrets_find(s, "carol")->period, 300);
	totp_secrets_free(s);

	/* Empty and comment-only files hold nobody. */
	s = load_ok("");
	assert_int_equal(totp_secrets_count(s), 0);
	totp_secrets_free(s);
	s = load_ok("# nobody yet\n\n");
	assert_int_equal(totp_secrets_count(s), 0);
	totp_secrets_free(s);
}

static void
test_load_errors(void **state)
{
	(void)state;
	load_bad("alice sha1 6 30\n", "t.secrets:1: expected USER ALG DIGITS "
	    "PERIOD SECRET [scratch=SALT:HASH,...]\n");
	load_bad("Alice sha1 6 30 JBSWY3DPEHPK3PXP\n", "t.secrets:1: "
	    "\"Alice\" is not a valid user name (lower case letters, digits, "
	    "'_', '-', '.'; starting with a letter or '_'; at most 32 "
	    "characters)\n");
	load_bad("1alice sha1 6 30 JBSWY3DPEHPK3PXP\n", "t.secrets:1: "
	    "\"1alice\" is not a valid user name (lower case letters, digits, "
	    "'_', '-', '.'; starting with a letter or '_'; at most 32 "
	    "characters)\n");
	load_bad("abcdefghijabcdefghijabcdefghijabc sha1 6 30 "
	    "JBSWY3DPEHPK3PXP\n", "t.secrets:1: \"abcdefghijabcdefghijabcdefgh"
	    "ijabc\" is not a valid user name (lower case letters, digits, "
	    "'_', '-', '.'; starting with a letter or '_'; at most 32 "
	    "characters)\n");
	load_bad("alice md5 6 30 JBSWY3DPEHPK3PXP\n", "t.secrets:1: unknown "
	    "algorithm \"md5\" (sha1, sha256 or sha512)\n");
	load_bad("alice sha1 5 30 JBSWY3DPEHPK3PXP\n",
	    "t.secrets:1: digits must be 6, 7 or 8\n");
	load_bad("alice sha1 9 30 JBSWY3DPEHPK3PXP\n",
	    "t.secrets:1: digits must be 6, 7 or 8\n");
	load_bad("alice sha1 06 30 JBSWY3DPEHPK3PXP\n",
	    "t.secrets:1: digits must be 6, 7 or 8\n");
	load_bad("alice sha1 6 14 JBSWY3DPEHPK3PXP\n", "t.secrets:1: period "
	    "must be a number of seconds from 15 to 300\n");
	load_bad("alice sha1 6 301 JBSWY3DPEHPK3PXP\n", "t.secrets:1: period "
	    "must be a number of seconds from 15 to 300\n");
	load_bad("alice sha1 6 030 JBSWY3DPEHPK3PXP\n", "t.secrets:1: period "
	    "must be a number of seconds from 15 to 300\n");
	load_bad("alice sha1 6 30s JBSWY3DPEHPK3PXP\n", "t.secrets:1: period "
	    "must be a number of seconds from 15 to 300\n");
	load_bad("alice sha1 6 30 JBSWY3DPEHPK3PX1\n", "t.secrets:1: the "
	    "secret is not base32 (RFC 4648: A-Z and 2-7)\n");
	load_bad("alice sha1 6 30 =\n", "t.secrets:1: the "
	    "secret is not base32 (RFC 4648: A-Z and 2-7)\n");
	load_bad("alice sha1 6 30 JBSWY3DP\n", "t.secrets:1: the secret is "
	    "5 bytes; at least 10 (80 bits) are needed\n");
	load_bad("alice sha1 6 30 JBSWY3DPEHPK3PXPA\n", "t.secrets:1: the "
	    "secret is not valid base32 (wrong length or padding)\n");
	load_bad("alice sha1 6 30 JBSWY3DPEHPK3PXP=\n", "t.secrets:1: the "
	    "secret is not valid base32 (wrong length or padding)\n");
	load_bad("alice sha1 6 30 GEZDGNBVGY3TQOJQGF\n", "t.secrets:1: the "
	    "secret is not canonical base32 (its last character carries bits "
	    "that are not part of any byte)\n");
	/* 65 bytes. */
	load_bad("alice sha1 6 30 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3T"
	    "QOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNCY\n",
	    "t.secrets:1: the secret is longer than 64 bytes\n");
	load_bad("alice sha1 6 30 JBSWY3DPEHPK3PXP\n"
	    "bob sha1 6 30 JBSWY3DPEHPK3PXP\n"
	    "alice sha1 6 30 JBSWY3DPEHPK3PXP\n"
	    "alice sha256 6 30 JBSWY3DPEHPK3PXP\n",
	    "t.secrets:3: duplicate user alice (first at line 1)\n"
	    "t.secrets:4: duplicate user alice (first at line 1)\n");
	load_bad("alice sha1 6 30 JBSWY3DPEHPK3PXP foo=bar\n", "t.secrets:1: "
	    "unknown field \"foo=bar\" (only scratch= may follow the "
	    "secret)\n");
	load_bad("alice sha1 6 30 JBSWY3DPEHPK3PXP # alice's phone\n",
	    "t.secrets:1: a comment must be on a line of its own\n"
	    "t.secrets:1: unexpected \"alice's\" after the secret\n"
	    "t.secrets:1: unexpected \"phone\" after the secret\n");
	load_bad("alice sha1 6 30 JBSWY3DPEHPK3PXP \x01\n", "t.secrets:1: "
	    "control character 0x01 at column 34\n");
	load_bad("alice sha1 6 30 JBSWY3DPEHPK3PXP \xff\n", "t.secrets:1: "
	    "invalid UTF-8 at column 34\n");
	load_bad("a b c d e f g h i j k l m n o p q\n",
	    "t.secrets:1: more than 16 fields\n");
}

static void
test_load_scratch_errors(void **state)
{
	char line[4096];
	size_t i, o;

	(void)state;
	load_bad("alice sha1 6 30 JBSWY3DPEHPK3PXP scratch=\n", "t.secrets:1: "
	    "scratch= needs at least one SALT:HASH\n");
	load_bad("alice sha1 6 30 JBSWY3DPEHPK3PXP scratch=abc\n",
	    "t.secrets:1: scratch code 1 is malformed: expected SALT:HASH, 32 "
	    "and 64 lower-case hex digits\n");
	load_bad("alice sha1 6 30 JBSWY3DPEHPK3PXP scratch=" SH1 ","
	    "000102030405060708090A0B0C0D0E0F:" HASH1 "\n", "t.secrets:1: "
	    "scratch code 2 is malformed: expected SALT:HASH, 32 and 64 "
	    "lower-case hex digits\n");
	load_bad("alice sha1 6 30 JBSWY3DPEHPK3PXP scratch=" SH1 ",\n",
	    "t.secrets:1: scratch code 2 is malformed: expected SALT:HASH, 32 "
	    "and 64 lower-case hex digits\n");
	load_bad("alice sha1 6 30 JBSWY3DPEHPK3PXP scratch=" SALT1 HASH1 "\n",
	    "t.secrets:1: scratch code 1 is malformed: expected SALT:HASH, 32 "
	    "and 64 lower-case hex digits\n");
	load_bad("alice sha1 6 30 JBSWY3DPEHPK3PXP scratch=" SH1 " scratch="
	    SH1 "\n", "t.secrets:1: scratch= given twice\n");
	o = (size_t)snprintf(line, sizeof(line), "alice sha1 6 30 "
	    "JBSWY3DPEHPK3PXP scratch=");
	for (i = 0; i < TOTP_SCRATCH_MAX; i++)
		o += (size_t)snprintf(line + o, sizeof(line) - o, "%s%s",
		    i ? "," : "", SH1);
	snprintf(line + o, sizeof(line) - o, "\n");
	totp_secrets_free(load_ok(line));
	snprintf(line + o, sizeof(line) - o, ",%s\n", SH1);
	load_bad(line, "t.secrets:1: more than 16 scratch codes\n");
}

static void
test_load_reports_all(void **state)
{
	(void)state;
	/* Every bad line and every bad field, and nothing loads. */
	load_bad("alice sha1 6 30 JBSWY3DPEHPK3PXP\n"
	    "Bob md5 5 10 !!\n"
	    "# fine\n"
	    "carol sha1 6 30 JBSWY3DP\n",
	    "t.secrets:2: \"Bob\" is not a valid user name (lower case "
	    "letters, digits, '_', '-', '.'; starting with a letter or '_'; "
	    "at most 32 characters)\n"
	    "t.secrets:2: unknown algorithm \"md5\" (sha1, sha256 or sha512)\n"
	    "t.secrets:2: digits must be 6, 7 or 8\n"
	    "t.secrets:2: period must be a number of seconds from 15 to 300\n"
	    "t.secrets:2: the secret is not base32 (RFC 4648: A-Z and 2-7)\n"
	    "t.secrets:4: the secret is 5 bytes; at least 10 (80 bits) are "
	    "needed\n");
}

/* ---- the container ---- */

static void
test_put_remove(void **state)
{
	struct totp_secrets *s;
	struct totp_entry e;
	char codes[2][TOTP_SCRATCH_LEN + 1];
	const struct totp_entry *f;

	(void)state;
	assert_non_null(s = totp_secrets_new());
	assert_int_equal(totp_secrets_count(s), 0);
	assert_int_equal(totp_entry_generate(&e, "mallory", TOTP_SHA1, 6, 30,
	    20, codes, 2), 0);
	assert_int_equal(totp_secrets_put(s, &e), 0);
	assert_int_equal(totp_entry_generate(&e, "carol", TOTP_SHA512, 8, 30,
	    64, NULL, 0), 0);
	assert_int_equal(totp_secrets_put(s, &e), 0);
	assert_int_equal(totp_entry_generate(&e, "dave", TOTP_SHA1, 6, 30, 10,
	    NULL, 0), 0);
	assert_int_equal(totp_secrets_put(s, &e), 0);
	assert_int_equal(totp_secrets_count(s), 3);
	assert_non_null(f = totp_secrets_find(s, "carol"));
	assert_int_equal(f->secretlen, 64);
	/* The same user again replaces the entry. */
	assert_int_equal(totp_entry_generate(&e, "carol", TOTP_SHA256, 6, 60,
	    20, NULL, 0), 0);
	assert_int_equal(totp_secrets_put(s, &e), 0);
	assert_int_equal(totp_secrets_count(s), 3);
	assert_int_equal(totp_secrets_find(s, "carol")->alg, TOTP_SHA256);
	assert_int_equal(totp_secrets_remove(s, "carol"), 1);
	assert_int_equal(totp_secrets_remove(s, "carol"), 0);
	assert_null(totp_secrets_find(s, "carol"));
	assert_non_null(totp_secrets_find(s, "dave"));
	assert_non_null(totp_secrets_find(s, "mallory"));
	assert_int_equal(totp_secrets_count(s), 2);
	/* Entries that could not be loaded back are refused. */
	e.digits = 9;
	assert_int_equal(totp_secrets_put(s, &e), -1);
	e.digits = 6;
	snprintf(e.user, sizeof(e.user), "Dave");
	assert_int_equal(totp_secrets_put(s, &e), -1);
	assert_int_equal(totp_secrets_count(s), 2);
	totp_secrets_free(s);
	totp_secrets_free(NULL);
}

/* ---- writing ---- */

static void
test_write_identity(void **state)
{
	struct totp_secrets *s, *s2;
	const char *users[] = { "alice", "bob", "_svc.ci-1" };
	const struct totp_entry *a, *b;
	char path[128], err[256];
	struct totp_entry e;
	struct stat sb;
	size_t i;

	(void)state;
	path_in(path, sizeof(path), "totp.secrets");
	s = load_ok(canonical);
	assert_int_equal(totp_secrets_write(s, path, err, sizeof(err)), 0);
	assert_string_equal(slurp(path), canonical);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	s2 = load_ok(slurp(path));
	for (i = 0; i < 3; i++) {
		a = totp_secrets_find(s, users[i]);
		b = totp_secrets_find(s2, users[i]);
		assert_non_null(a);
		assert_non_null(b);
		assert_memory_equal(a, b, sizeof(*a));
	}
	totp_secrets_free(s2);

	/* A removed user leaves the comments; a new one goes last. */
	assert_int_equal(totp_secrets_remove(s, "alice"), 1);
	assert_int_equal(totp_entry_generate(&e, "aaron", TOTP_SHA1, 6, 30,
	    10, NULL, 0), 0);
	assert_int_equal(totp_secrets_put(s, &e), 0);
	assert_int_equal(totp_secrets_write(s, path, err, sizeof(err)), 0);
	assert_non_null(strstr(slurp(path), "# Rampart TOTP secrets\n\n   # "
	    "an indented comment stays as it is\nbob "));
	assert_non_null(strstr(slurp(path), "\n_svc.ci-1 sha512 7 15 "
	    "GEZDGNBVGY3TQOJQGE\naaron sha1 6 30 "));
	assert_null(strstr(slurp(path), "alice"));
	totp_secrets_free(s);

	/* Non-canonical input is written canonically. */
	s = load_ok("alice\tSHA1  6 30  jbswy3dpehpk3pxp \r\n"
	    "bob sha1 6 30 GEZDGNBVGY3TQOJQGE======");
	assert_int_equal(totp_secrets_write(s, path, err, sizeof(err)), 0);
	assert_string_equal(slurp(path), "alice sha1 6 30 JBSWY3DPEHPK3PXP\n"
	    "bob sha1 6 30 GEZDGNBVGY3TQOJQGE\n");
	totp_secrets_free(s);

	/* A new file starts with a header that says what it is. */
	assert_non_null(s = totp_secrets_new());
	assert_int_equal(totp_secrets_write(s, path, err, sizeof(err)), 0);
	assert_int_equal(strncmp(slurp(path), "# Rampart TOTP secrets", 22), 0);
	totp_secrets_free(s);
}

static size_t
dir_entries(void)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	assert_non_null(d = opendir(tmpdir));
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.' || (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0);
	closedir(d);
	return n;
}

static void
test_write_keeps_mode_owner(void **state)
{
	struct totp_secrets *s;
	char path[128], err[256];
	struct stat sb;
	size_t before;

	(void)state;
	path_in(path, sizeof(path), "kept.secrets");
	put_file(path, "# old\n", 0640);
	if (geteuid() == 0)
		assert_int_equal(chown(path, 12345, 54321), 0);
	before = dir_entries();
	s = load_ok(canonical);
	assert_int_equal(totp_secrets_write(s, path, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0640);
	if (geteuid() == 0) {
		assert_int_equal(sb.st_uid, 12345);
		assert_int_equal(sb.st_gid, 54321);
	}
	assert_string_equal(slurp(path), canonical);
	assert_int_equal(dir_entries(), before);	/* no temporary left */

	/* Errors say what failed, and leave nothing behind. */
	assert_int_equal(totp_secrets_write(s, "/nonexistent/dir/x", err,
	    sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/dir/x: cannot create a "
	    "temporary file: No such file or directory");
	assert_int_equal(totp_secrets_write(s, tmpdir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ": is not a regular file"));
	assert_int_equal(dir_entries(), before);
	totp_secrets_free(s);
}

/* ---- owner and mode ---- */

static int
load_checked(const char *path, uid_t uid, gid_t gid)
{
	struct totp_secrets *s = NULL;
	int r;

	msgs[0] = '\0';
	r = totp_secrets_load(path, 1, uid, gid, collect, NULL, &s);
	assert_true(r == 0 ? s != NULL : s == NULL);
	totp_secrets_free(s);
	return r;
}

static void
test_modes(void **state)
{
	char path[128], want[1024], link[128], grname[64];
	struct totp_secrets *s = NULL;
	struct group *gr;
	struct stat sb;
	gid_t gid;

	(void)state;
	path_in(path, sizeof(path), "modes.secrets");
	put_file(path, canonical, 0600);
	assert_int_equal(stat(path, &sb), 0);
	gid = sb.st_gid;
	if ((gr = getgrgid(gid)) != NULL)
		snprintf(grname, sizeof(grname), "%s", gr->gr_name);
	else
		snprintf(grname, sizeof(grname), "gid %lu",
		    (unsigned long)gid);
	assert_int_equal(load_checked(path, sb.st_uid, (gid_t)-1), 0);

	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(load_checked(path, sb.st_uid, gid), -1);
	snprintf(want, sizeof(want), "%s: readable by others (mode 0644); "
	    "run: chmod 0640 %s\n", path, path);
	assert_string_equal(msgs, want);
	assert_int_equal(load_checked(path, sb.st_uid, (gid_t)-1), -1);
	snprintf(want, sizeof(want), "%s: readable by others, readable by "
	    "group %s (mode 0644); run: chmod 0600 %s\n", path, grname, path);
	assert_string_equal(msgs, want);

	/* Group read is for the gateway's group only. */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(load_checked(path, sb.st_uid, gid), 0);
	assert_int_equal(load_checked(path, sb.st_uid, gid + 1), -1);
	snprintf(want, sizeof(want), "%s: readable by group %s (mode 0640); "
	    "run: chmod 0600 %s\n", path, grname, path);
	assert_string_equal(msgs, want);

	assert_int_equal(chmod(path, 0660), 0);
	assert_int_equal(load_checked(path, sb.st_uid, gid), -1);
	snprintf(want, sizeof(want), "%s: writable by group (mode 0660); "
	    "run: chmod 0640 %s\n", path, path);
	assert_string_equal(msgs, want);

	assert_int_equal(chmod(path, 0602), 0);
	assert_int_equal(load_checked(path, sb.st_uid, gid), -1);
	snprintf(want, sizeof(want), "%s: writable by others (mode 0602); "
	    "run: chmod 0600 %s\n", path, path);
	assert_string_equal(msgs, want);

	/* Without check_owner the mode is not looked at. */
	assert_int_equal(chmod(path, 0666), 0);
	msgs[0] = '\0';
	assert_int_equal(totp_secrets_load(path, 0, 0, 0, collect, NULL, &s),
	    0);
	totp_secrets_free(s);

	/* Symlinks, directories, missing files. */
	assert_int_equal(chmod(path, 0600), 0);
	path_in(link, sizeof(link), "link.secrets");
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(load_checked(link, sb.st_uid, gid), -1);
	snprintf(want, sizeof(want), "%s: is a symbolic link; name the file "
	    "itself\n", link);
	assert_string_equal(msgs, want);
	assert_int_equal(load_checked(tmpdir, sb.st_uid, gid), -1);
	snprintf(want, sizeof(want), "%s: is not a regular file\n", tmpdir);
	assert_string_equal(msgs, want);
	path_in(link, sizeof(link), "missing.secrets");
	assert_int_equal(load_checked(link, sb.st_uid, gid), -1);
	snprintf(want, sizeof(want), "%s: cannot open: No such file or "
	    "directory\n", link);
	assert_string_equal(msgs, want);

	/* Parse errors still carry the file's path and the line. */
	put_file(path, "alice sha1 6 30 JBSWY3DP\n", 0600);
	assert_int_equal(load_checked(path, sb.st_uid, gid), -1);
	snprintf(want, sizeof(want), "%s:1: the secret is 5 bytes; at least "
	    "10 (80 bits) are needed\n", path);
	assert_string_equal(msgs, want);
}

static void
test_owner(void **state)
{
	char path[128], want[512];

	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	path_in(path, sizeof(path), "owner.secrets");
	put_file(path, canonical, 0600);
	assert_int_equal(load_checked(path, 23456, (gid_t)-1), 0); /* root */
	assert_int_equal(chown(path, 12345, 0), 0);
	assert_int_equal(load_checked(path, 12345, (gid_t)-1), 0);
	assert_int_equal(load_checked(path, 23456, (gid_t)-1), -1);
	snprintf(want, sizeof(want), "%s: owned by uid 12345, not by root or "
	    "uid 23456; run: chown root %s\n", path, path);
	assert_string_equal(msgs, want);
	/* Both problems at once. */
	assert_int_equal(chmod(path, 0604), 0);
	assert_int_equal(load_checked(path, 23456, (gid_t)-1), -1);
	snprintf(want, sizeof(want), "%s: owned by uid 12345, not by root or "
	    "uid 23456; run: chown root %s\n%s: readable by others (mode "
	    "0604); run: chmod 0600 %s\n", path, path, path, path);
	assert_string_equal(msgs, want);
}

/* ---- mutations ---- */

static uint64_t rng_state = 0x746f7470u;

static uint32_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 2685821657736338717ULL) >> 32);
}

static const char syntax[] = " \t\n#=:,0123456789abcdefAZsha\xc3\xff";

/*
 * Every mutant either loads, and then writes a file that loads to the
 * same entries and writes the same bytes again, or is refused with at
 * least one file:line message.
 */
static void
test_mutations(void **state)
{
	char buf[1024], path[128], err[256], *first;
	struct totp_secrets *s, *s2;
	size_t len, pos, i, loaded = 0;

	(void)state;
	path_in(path, sizeof(path), "mut.secrets");
	for (i = 0; i < 2000; i++) {
		len = strlen(canonical);
		memcpy(buf, canonical, len);
		pos = rng() % len;
		switch (rng() % 3) {
		case 0:
			buf[pos] ^= (char)(1u << (rng() % 8));
			break;
		case 1:
			memmove(buf + pos, buf + pos + 1, len - pos - 1);
			len--;
			break;
		default:
			memmove(buf + pos + 1, buf + pos, len - pos);
			buf[pos] = syntax[rng() % (sizeof(syntax) - 1)];
			len++;
		}
		msgs[0] = '\0';
		s = NULL;
		if (totp_secrets_load_buf("m", buf, len, collect, NULL,
		    &s) != 0) {
			assert_null(s);
			assert_true(strncmp(msgs, "m:", 2) == 0);
			continue;
		}
		loaded++;
		assert_int_equal(totp_secrets_write(s, path, err, sizeof(err)),
		    0);
		first = strdup(slurp(path));
		s2 = load_ok(first);
		assert_int_equal(totp_secrets_count(s), totp_secrets_count(s2));
		assert_int_equal(totp_secrets_write(s2, path, err,
		    sizeof(err)), 0);
		assert_string_equal(slurp(path), first);
		free(first);
		totp_secrets_free(s);
		totp_secrets_free(s2);
	}
	assert_true(loaded > 50);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_fields),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_load_scratch_errors),
		cmocka_unit_test(test_load_reports_all),
		cmocka_unit_test(test_put_remove),
		cmocka_unit_test(test_write_identity),
		cmocka_unit_test(test_write_keeps_mode_owner),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_owner),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
