/*
 * test_totp_state: the verdict and the state file -- replay refused, the
 * next step accepted, the window's edges, scratch codes once, lockout and
 * its end, state that survives a reopen, corrupt records, resets from a
 * second process, and (as root, in a private mount namespace) a full
 * disk.  Every call passes `now`: nothing sleeps.
 */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <liboath/oath.h>

#include "totp.h"

/* 2026-01-01 00:00:00 UTC; its step (30 s) is 58907520. */
#define T0	1767225600
#define STEP0	58907520ULL

static char tmpdir[64];
static struct totp_entry alice, bob;

static struct totp_entry
entry(const char *user, const char *secret)
{
	struct totp_entry e;

	memset(&e, 0, sizeof(e));
	snprintf(e.user, sizeof(e.user), "%s", user);
	e.alg = TOTP_SHA1;
	e.digits = 6;
	e.period = 30;
	e.secretlen = strlen(secret);
	memcpy(e.secret, secret, e.secretlen);
	return e;
}

static int
setup(void **state)
{
	(void)state;
	alice = entry("alice", "12345678901234567890");
	bob = entry("bob", "abcdefghijklmnopqrst");
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_totp_state.XXXXXX");
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

/* A fresh state file for one test. */
static struct totp_state *
fresh(const char *name, char *path, size_t len)
{
	struct totp_state *st = NULL;
	char err[256];

	snprintf(path, len, "%s/%s", tmpdir, name);
	unlink(path);
	if (totp_state_open(path, err, sizeof(err), &st) != 0)
		fail_msg("open: %s", err);
	return st;
}

static struct totp_state *
reopen(const char *path)
{
	struct totp_state *st = NULL;
	char err[256];

	if (totp_state_open(path, err, sizeof(err), &st) != 0)
		fail_msg("reopen: %s", err);
	return st;
}

/* The code of e for the step that holds t. */
static const char *
code(const struct totp_entry *e, time_t t)
{
	static char buf[4][16];
	static int i;

	i = (i + 1) % 4;
	assert_int_equal(oath_totp_generate2((const char *)e->secret,
	    e->secretlen, t, e->period, 0, e->digits, 0, buf[i]), OATH_OK);
	return buf[i];
}

static struct totp_verdict
check(struct totp_state *st, const struct totp_entry *e, const char *user,
    const char *c, time_t now, unsigned int window, enum totp_result want,
    const char *reason)
{
	struct totp_verdict v;

	totp_verify(st, e, user, c, now, window, &v);
	if (v.result != want)
		fail_msg("%s: got %s (%s), wanted %s", user,
		    totp_result_name(v.result), v.reason,
		    totp_result_name(want));
	if (reason != NULL)
		assert_string_equal(v.reason, reason);
	return v;
}

static void
test_replay_and_next(void **state)
{
	struct totp_state *st;
	struct totp_verdict v;
	char path[128];

	(void)state;
	st = fresh("replay", path, sizeof(path));
	v = check(st, &alice, "alice", code(&alice, T0), T0 + 5, 1, TOTP_OK,
	    "code accepted (step 58907520)");
	assert_int_equal(v.step, STEP0);
	assert_int_equal(v.persisted, 1);
	check(st, &alice, "alice", code(&alice, T0), T0 + 6, 1, TOTP_REPLAY,
	    "code reused (step 58907520 already used)");
	/* The same code is still within the window a step later. */
	check(st, &alice, "alice", code(&alice, T0), T0 + 30, 1, TOTP_REPLAY,
	    NULL);
	v = check(st, &alice, "alice", code(&alice, T0 + 30), T0 + 31, 1,
	    TOTP_OK, NULL);
	assert_int_equal(v.step, STEP0 + 1);
	/* A code of the future step, then the one before it: too old. */
	check(st, &alice, "alice", code(&alice, T0 + 90), T0 + 60, 1, TOTP_OK,
	    NULL);
	check(st, &alice, "alice", code(&alice, T0 + 60), T0 + 60, 1,
	    TOTP_REPLAY, "code reused (step 58907522 is before step 58907523, "
	    "already used)");
	/* Replays are not failures: the next good code is the first. */
	check(st, &alice, "alice", "000000", T0 + 120, 1, TOTP_BAD,
	    "wrong code (1 failure in a row)");
	/* Users do not share steps. */
	check(st, &bob, "bob", code(&bob, T0), T0, 1, TOTP_OK, NULL);
	check(st, &bob, "bob", code(&bob, T0), T0, 1, TOTP_REPLAY, NULL);
	totp_state_close(st);
}

static void
test_window(void **state)
{
	struct totp_state *st;
	struct totp_verdict v;
	char path[128];

	(void)state;
	st = fresh("window", path, sizeof(path));
	/* +1 and -1 pass with the default window; +-2 do not. */
	check(st, &alice, "alice", code(&alice, T0 - 60), T0, 1, TOTP_BAD,
	    NULL);
	v = check(st, &alice, "alice", code(&alice, T0 - 30), T0, 1, TOTP_OK,
	    NULL);
	assert_int_equal(v.step, STEP0 - 1);
	check(st, &alice, "alice", code(&alice, T0 + 60), T0, 1, TOTP_BAD,
	    NULL);
	v = check(st, &alice, "alice", code(&alice, T0 + 30), T0, 1, TOTP_OK,
	    NULL);
	assert_int_equal(v.step, STEP0 + 1);
	/* A wider window reaches +2; window 0 only now's step. */
	v = check(st, &alice, "alice", code(&alice, T0 + 60), T0, 2, TOTP_OK,
	    NULL);
	assert_int_equal(v.step, STEP0 + 2);
	check(st, &bob, "bob", code(&bob, T0 + 30), T0, 0, TOTP_BAD, NULL);
	check(st, &bob, "bob", code(&bob, T0), T0, 0, TOTP_OK, NULL);
	check(st, &bob, "bob", code(&bob, T0), T0, 11, TOTP_ERROR,
	    "window 11 is wider than 10 steps");
	totp_state_close(st);
}

static void
test_scratch_once(void **state)
{
	char codes[3][TOTP_SCRATCH_LEN + 1], path[128];
	const char *ptrs[1];
	struct totp_state *st;
	struct totp_entry e;

	(void)state;
	assert_int_equal(totp_entry_generate(&e, "carol", TOTP_SHA1, 8, 30,
	    20, codes, 3), 0);
	st = fresh("scratch", path, sizeof(path));
	check(st, &e, "carol", codes[1], T0, 1, TOTP_OK_SCRATCH,
	    "scratch code 2 used (2 left)");
	check(st, &e, "carol", codes[1], T0 + 1, 1, TOTP_REPLAY,
	    "scratch code 2 already used");
	check(st, &e, "carol", codes[0], T0 + 2, 1, TOTP_OK_SCRATCH,
	    "scratch code 1 used (1 left)");
	/* TOTP codes still work, and used scratch codes stay used. */
	check(st, &e, "carol", code(&e, T0), T0 + 3, 1, TOTP_OK, NULL);
	totp_state_close(st);
	st = reopen(path);
	check(st, &e, "carol", codes[1], T0 + 4, 1, TOTP_REPLAY, NULL);
	check(st, &e, "carol", codes[2], T0 + 5, 1, TOTP_OK_SCRATCH,
	    "scratch code 3 used (0 left)");
	/* A new set of scratch codes starts unused. */
	ptrs[0] = codes[1];
	assert_int_equal(totp_entry_set_scratch(&e, ptrs, 1), 0);
	check(st, &e, "carol", codes[1], T0 + 6, 1, TOTP_OK_SCRATCH,
	    "scratch code 1 used (0 left)");
	check(st, &e, "carol", codes[1], T0 + 7, 1, TOTP_REPLAY, NULL);
	check(st, &e, "carol", codes[0], T0 + 8, 1, TOTP_BAD, NULL);
	totp_state_close(st);
}

static void
test_lockout(void **state)
{
	static const long long locks[] = { 30, 60, 120, 240, 480, 900, 900 };
	struct totp_state *st;
	struct totp_verdict v;
	char path[128], want[160];
	time_t t = T0;
	size_t i;

	(void)state;
	st = fresh("lockout", path, sizeof(path));
	check(st, &alice, "alice", "000000", t, 1, TOTP_BAD,
	    "wrong code (1 failure in a row)");
	check(st, &alice, "alice", "12345", t, 1, TOTP_BAD,
	    "wrong code (2 failures in a row)");
	v = check(st, &alice, "alice", "", t, 1, TOTP_BAD,
	    "wrong code (3 failures in a row); locked for 30s");
	assert_int_equal(v.locked_until, t + 30);
	/* Locked: even the right code is not looked at. */
	v = check(st, &alice, "alice", code(&alice, t + 3), t + 3, 1,
	    TOTP_LOCKED, "locked for 27s after 3 failed codes");
	assert_int_equal(v.locked_until, t + 30);
	check(st, &alice, "alice", code(&alice, t + 29), t + 29, 1,
	    TOTP_LOCKED, "locked for 1s after 3 failed codes");
	/* Other users are not affected. */
	check(st, &bob, "bob", code(&bob, t), t, 1, TOTP_OK, NULL);
	/* The lock ends by itself, and a success resets the count. */
	check(st, &alice, "alice", code(&alice, t + 30), t + 30, 1, TOTP_OK,
	    NULL);
	check(st, &alice, "alice", "000000", t + 31, 1, TOTP_BAD,
	    "wrong code (1 failure in a row)");
	check(st, &alice, "alice", "000000", t + 32, 1, TOTP_BAD, NULL);
	/* Each failure after the lock doubles it, up to 900 s. */
	t += 33;
	for (i = 0; i < sizeof(locks) / sizeof(locks[0]); i++) {
		snprintf(want, sizeof(want), "wrong code (%zu failures in a "
		    "row); locked for %llds", i + 3, locks[i]);
		v = check(st, &alice, "alice", "000000", t, 1, TOTP_BAD, want);
		assert_int_equal(v.locked_until, t + locks[i]);
		t += locks[i];
	}
	/* The lock survives a restart. */
	check(st, &alice, "alice", "000000", t, 1, TOTP_BAD, NULL);
	totp_state_close(st);
	st = reopen(path);
	check(st, &alice, "alice", code(&alice, t + 10), t + 10, 1,
	    TOTP_LOCKED, "locked for 890s after 10 failed codes");
	check(st, &alice, "alice", code(&alice, t + 900), t + 900, 1, TOTP_OK,
	    NULL);
	/* A user without a secret fails, and is locked the same way. */
	check(st, NULL, "dave", "123456", t, 1, TOTP_NO_SECRET,
	    "no TOTP secret for this user (1 failure in a row)");
	check(st, NULL, "dave", "123456", t, 1, TOTP_NO_SECRET, NULL);
	check(st, NULL, "dave", "123456", t, 1, TOTP_NO_SECRET,
	    "no TOTP secret for this user (3 failures in a row); locked for "
	    "30s");
	check(st, NULL, "dave", "123456", t, 1, TOTP_LOCKED, NULL);
	totp_state_close(st);
}

static void
test_survives_reopen(void **state)
{
	struct totp_state *st;
	char path[128];
	struct stat sb;
	int i;

	(void)state;
	st = fresh("reopen", path, sizeof(path));
	check(st, &alice, "alice", code(&alice, T0), T0, 1, TOTP_OK, NULL);
	totp_state_close(st);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	assert_int_equal(sb.st_size, 65 * 128);	/* header, 64 free */
	st = reopen(path);
	check(st, &alice, "alice", code(&alice, T0), T0 + 1, 1, TOTP_REPLAY,
	    "code reused (step 58907520 already used)");
	check(st, &alice, "alice", code(&alice, T0 + 30), T0 + 30, 1, TOTP_OK,
	    NULL);
	/* Past 64 users the file grows by another reserved chunk. */
	for (i = 0; i < 100; i++) {
		char user[16];

		snprintf(user, sizeof(user), "u%03d", i);
		check(st, &alice, user, code(&alice, T0), T0, 1, TOTP_OK,
		    NULL);
	}
	totp_state_close(st);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, (1 + 64 * 2) * 128);
	st = reopen(path);
	for (i = 0; i < 100; i++) {
		char user[16];

		snprintf(user, sizeof(user), "u%03d", i);
		check(st, &alice, user, code(&alice, T0), T0, 1, TOTP_REPLAY,
		    NULL);
	}
	check(st, &alice, "alice", code(&alice, T0 + 30), T0 + 30, 1,
	    TOTP_REPLAY, NULL);
	totp_state_close(st);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, (1 + 64 * 2) * 128);
}

static void
poke(const char *path, off_t off, unsigned char byte)
{
	int fd;

	assert_true((fd = open(path, O_WRONLY)) >= 0);
	assert_int_equal(pwrite(fd, &byte, 1, off), 1);
	close(fd);
}

/*
 * A record whose checksum fails, with its name intact: that user's steps
 * up to the reopen's (plus the window) count as used, the scratch codes
 * as spent; the record is rewritten at once.
 */
static void
test_corrupt_record(void **state)
{
	char codes[2][TOTP_SCRATCH_LEN + 1], path[128];
	struct totp_state *st;
	struct totp_entry e, carol;
	time_t t0 = time(NULL), t1;

	(void)state;
	assert_int_equal(totp_entry_generate(&e, "alice", TOTP_SHA1, 6, 30,
	    20, codes, 2), 0);
	st = fresh("corrupt", path, sizeof(path));
	check(st, &e, "alice", code(&e, t0), t0, 1, TOTP_OK, NULL);
	totp_state_close(st);
	poke(path, 128 + 40, 0x5a);		/* alice's locked_until */
	t1 = time(NULL);	/* at or before the reopen */
	st = reopen(path);
	/* The code just used, and the next step's, are refused... */
	check(st, &e, "alice", code(&e, t0), t0, 1, TOTP_REPLAY, NULL);
	check(st, &e, "alice", code(&e, t1 + 30), t1, 1, TOTP_REPLAY, NULL);
	check(st, &e, "alice", codes[0], t1, 1, TOTP_REPLAY,
	    "scratch code 1 already used");
	/* ...but not for long: a few steps on, alice is back. */
	check(st, &e, "alice", code(&e, t1 + 90), t1 + 90, 1, TOTP_OK, NULL);
	totp_state_close(st);
	/* Repaired: nothing is distrusted any more. */
	st = reopen(path);
	carol = entry("carol", "carolcarolcarolcarol");
	check(st, &carol, "carol", code(&carol, time(NULL)), time(NULL), 1,
	    TOTP_OK, NULL);
	check(st, &e, "alice", codes[1], t1 + 91, 1, TOTP_REPLAY, NULL);
	totp_state_close(st);
}

/*
 * A record whose name is unreadable cannot be given to anyone: every
 * user without a record gets the floor (no replay); the slot is never
 * reused.  Their scratch codes are not voided (docs/totp.md).
 */
static void
test_corrupt_name(void **state)
{
	char codes[1][TOTP_SCRATCH_LEN + 1], path[128];
	struct totp_state *st;
	struct totp_entry e;
	time_t t0 = time(NULL), t1;
	struct stat sb;

	(void)state;
	assert_int_equal(totp_entry_generate(&e, "alice", TOTP_SHA1, 6, 30,
	    20, codes, 1), 0);
	st = fresh("badname", path, sizeof(path));
	check(st, &e, "alice", code(&e, t0), t0, 1, TOTP_OK, NULL);
	totp_state_close(st);
	poke(path, 128, 0xff);
	t1 = time(NULL);
	st = reopen(path);
	check(st, &e, "alice", code(&e, t0), t0, 1, TOTP_REPLAY, NULL);
	check(st, &bob, "bob", code(&bob, t1), t1, 1, TOTP_REPLAY, NULL);
	check(st, &e, "alice", code(&e, t1 + 90), t1 + 90, 1, TOTP_OK, NULL);
	check(st, &e, "alice", codes[0], t1 + 91, 1, TOTP_OK_SCRATCH, NULL);
	totp_state_close(st);
	st = reopen(path);
	check(st, &e, "alice", code(&e, t1 + 90), t1 + 91, 1, TOTP_REPLAY,
	    NULL);
	check(st, &e, "alice", codes[0], t1 + 91, 1, TOTP_REPLAY, NULL);
	totp_state_close(st);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, 65 * 128);
}

static void
test_bad_files(void **state)
{
	struct totp_state *st = NULL;
	char path[128], link[128], err[256], want[512];
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/notstate", tmpdir);
	assert_true((fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600)) >=
	    0);
	assert_int_equal(write(fd, "hello, world\n", 13), 13);
	close(fd);
	assert_int_equal(totp_state_open(path, err, sizeof(err), &st), -1);
	assert_null(st);
	snprintf(want, sizeof(want), "%s: not a Rampart TOTP state file (no "
	    "\"RAMPTOTP\" header); move it away to start afresh", path);
	assert_string_equal(err, want);

	/* Another version or record size is not guessed at. */
	st = fresh("version", path, sizeof(path));
	totp_state_close(st);
	poke(path, 8, 2);
	assert_int_equal(totp_state_open(path, err, sizeof(err), &st), -1);
	snprintf(want, sizeof(want), "%s: state file version 2; this build "
	    "reads version 1", path);
	assert_string_equal(err, want);
	poke(path, 8, 1);
	poke(path, 12, 64);
	assert_int_equal(totp_state_open(path, err, sizeof(err), &st), -1);
	snprintf(want, sizeof(want), "%s: record size 64, expected 128", path);
	assert_string_equal(err, want);

	/* Writable by others, a symlink, a directory. */
	poke(path, 12, 128);
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(totp_state_open(path, err, sizeof(err), &st), -1);
	snprintf(want, sizeof(want), "%s: writable by group or others (mode "
	    "0666); run: chmod 0600 %s", path, path);
	assert_string_equal(err, want);
	assert_int_equal(chmod(path, 0600), 0);
	snprintf(link, sizeof(link), "%s/link", tmpdir);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(totp_state_open(link, err, sizeof(err), &st), -1);
	snprintf(want, sizeof(want), "%s: is a symbolic link; name the file "
	    "itself", link);
	assert_string_equal(err, want);
	assert_int_equal(totp_state_open(tmpdir, err, sizeof(err), &st), -1);

	/* A file cut short while being created is started afresh. */
	assert_true((fd = open(path, O_WRONLY | O_TRUNC)) >= 0);
	assert_int_equal(write(fd, "RAMPT", 5), 5);
	close(fd);
	st = reopen(path);
	check(st, &alice, "alice", code(&alice, T0), T0, 1, TOTP_OK, NULL);
	totp_state_close(st);
	/* A cut-off tail: its record is unusable and distrusted. */
	assert_true((fd = open(path, O_WRONLY | O_APPEND)) >= 0);
	assert_int_equal(write(fd, "junk", 4), 4);
	close(fd);
	st = reopen(path);
	check(st, &alice, "alice", code(&alice, T0), T0, 1, TOTP_REPLAY, NULL);
	check(st, &bob, "bob", code(&bob, time(NULL)), time(NULL), 1,
	    TOTP_REPLAY, NULL);
	totp_state_close(st);
}

static void
test_reset(void **state)
{
	char codes[1][TOTP_SCRATCH_LEN + 1], path[128];
	struct totp_state *gw, *ctl;
	struct totp_entry e;

	(void)state;
	assert_int_equal(totp_entry_generate(&e, "alice", TOTP_SHA1, 6, 30,
	    20, codes, 1), 0);
	gw = fresh("reset", path, sizeof(path));
	check(gw, &e, "alice", codes[0], T0, 1, TOTP_OK_SCRATCH, NULL);
	check(gw, &e, "alice", code(&e, T0), T0, 1, TOTP_OK, NULL);
	check(gw, &e, "alice", "1", T0, 1, TOTP_BAD, NULL);
	check(gw, &e, "alice", "1", T0, 1, TOTP_BAD, NULL);
	check(gw, &e, "alice", "1", T0, 1, TOTP_BAD, NULL);
	check(gw, &e, "alice", code(&e, T0 + 10), T0 + 10, 1, TOTP_LOCKED,
	    NULL);
	/* rampartctl resets alice while the gateway runs. */
	ctl = reopen(path);
	assert_int_equal(totp_state_reset(ctl, "alice"), 0);
	assert_int_equal(totp_state_reset(ctl, "nobody"), 0);
	assert_int_equal(totp_state_reset(ctl, "Bad Name"), -1);
	totp_state_close(ctl);
	/* Unlocked, the last step forgotten; the scratch code stays used. */
	check(gw, &e, "alice", code(&e, T0), T0 + 1, 1, TOTP_OK, NULL);
	check(gw, &e, "alice", codes[0], T0 + 2, 1, TOTP_REPLAY, NULL);

	/* A user the gateway adds after rampartctl opened the file. */
	ctl = reopen(path);
	check(gw, &bob, "bob", "1", T0, 1, TOTP_BAD, NULL);
	check(gw, &bob, "bob", "1", T0, 1, TOTP_BAD, NULL);
	check(gw, &bob, "bob", "1", T0, 1, TOTP_BAD, NULL);
	assert_int_equal(totp_state_reset(ctl, "bob"), 0);
	check(gw, &bob, "bob", code(&bob, T0), T0 + 1, 1, TOTP_OK, NULL);
	totp_state_close(ctl);
	totp_state_close(gw);
}

static void
test_misc(void **state)
{
	struct totp_state *st;
	struct totp_verdict v;
	char path[128];

	(void)state;
	st = fresh("misc", path, sizeof(path));
	check(st, &alice, "Alice", code(&alice, T0), T0, 1, TOTP_ERROR,
	    "state unusable: invalid user name");
	check(st, &alice, "", code(&alice, T0), T0, 1, TOTP_ERROR, NULL);
	check(st, &alice, "alice", NULL, T0, 1, TOTP_BAD, NULL);
	totp_verify(NULL, &alice, "alice", "123456", T0, 1, &v);
	assert_int_equal(v.result, TOTP_ERROR);
	assert_string_equal(v.reason, "state unusable: not open");
	totp_state_close(st);
	totp_state_close(NULL);
	assert_string_equal(totp_result_name(TOTP_OK), "ok");
	assert_string_equal(totp_result_name(TOTP_OK_SCRATCH), "ok-scratch");
	assert_string_equal(totp_result_name(TOTP_BAD), "bad");
	assert_string_equal(totp_result_name(TOTP_REPLAY), "replay");
	assert_string_equal(totp_result_name(TOTP_LOCKED), "locked");
	assert_string_equal(totp_result_name(TOTP_NO_SECRET), "no-secret");
	assert_string_equal(totp_result_name(TOTP_ERROR), "error");
	assert_string_equal(totp_result_name((enum totp_result)42), "unknown");
}

/* ---- a full disk (root, private mount namespace, small tmpfs) ---- */

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: failed: %s\n", __FILE__,	\
		    __LINE__, #c);					\
		_exit(1);						\
	}								\
} while (0)

static enum totp_result
vr(struct totp_state *st, const struct totp_entry *e, const char *user,
    const char *c, time_t now, int *persisted)
{
	struct totp_verdict v;

	totp_verify(st, e, user, c, now, 1, &v);
	if (persisted != NULL)
		*persisted = v.persisted;
	return v.result;
}

static void
fill(const char *path)
{
	static char block[4096];
	struct statvfs sv;
	int fd;

	CHECK((fd = open(path, O_CREAT | O_WRONLY | O_APPEND, 0600)) >= 0);
	while (write(fd, block, sizeof(block)) > 0)
		;
	while (write(fd, block, 1) > 0)
		;
	CHECK(errno == ENOSPC);
	close(fd);
	CHECK(statvfs(path, &sv) == 0 && sv.f_bavail == 0);
}

static struct totp_state *
copen(const char *path)
{
	struct totp_state *st = NULL;
	char err[256];

	if (totp_state_open(path, err, sizeof(err), &st) != 0) {
		fprintf(stderr, "open: %s\n", err);
		_exit(1);
	}
	return st;
}

static void
full_disk_checks(const char *dir)
{
	char state[128], junk[128], user[16];
	struct totp_state *st;
	int p, i;

	snprintf(state, sizeof(state), "%s/totp.state", dir);
	snprintf(junk, sizeof(junk), "%s/junk", dir);
	st = copen(state);
	CHECK(vr(st, &alice, "alice", code(&alice, T0), T0, &p) == TOTP_OK);
	CHECK(p == 1);
	fill(junk);

	/* (a) A login still succeeds and reaches the disk, for a known
	 * user and for a new one in the reserved room. */
	CHECK(vr(st, &alice, "alice", code(&alice, T0 + 30), T0 + 30, &p) ==
	    TOTP_OK && p == 1);
	CHECK(vr(st, &bob, "bob", code(&bob, T0), T0, &p) == TOTP_OK &&
	    p == 1);
	/* (b) Its replay is refused. */
	CHECK(vr(st, &alice, "alice", code(&alice, T0 + 30), T0 + 31, &p) ==
	    TOTP_REPLAY);
	/* (c) And still after a restart, with the disk still full. */
	totp_state_close(st);
	st = copen(state);
	CHECK(vr(st, &alice, "alice", code(&alice, T0 + 30), T0 + 32, NULL) ==
	    TOTP_REPLAY);
	CHECK(vr(st, &bob, "bob", code(&bob, T0), T0 + 1, NULL) ==
	    TOTP_REPLAY);

	/* Use up the reserved room (alice and bob hold two records). */
	for (i = 0; i < 62; i++) {
		snprintf(user, sizeof(user), "u%02d", i);
		CHECK(vr(st, NULL, user, "1", T0, &p) == TOTP_NO_SECRET &&
		    p == 1);
	}
	/* A new user now finds no room: accepted, kept in memory only,
	 * and its replay refused all the same. */
	CHECK(vr(st, &alice, "zed", code(&alice, T0), T0, &p) == TOTP_OK &&
	    p == 0);
	CHECK(vr(st, &alice, "zed", code(&alice, T0), T0 + 1, &p) ==
	    TOTP_REPLAY && p == 0);
	/* Known users are not affected. */
	CHECK(vr(st, &alice, "alice", code(&alice, T0 + 60), T0 + 60, &p) ==
	    TOTP_OK && p == 1);
	/* Room again: the next call writes zed's record too. */
	CHECK(unlink(junk) == 0);
	CHECK(vr(st, &bob, "bob", "1", T0 + 2, &p) == TOTP_BAD && p == 1);
	totp_state_close(st);
	st = copen(state);
	CHECK(vr(st, &alice, "zed", code(&alice, T0), T0 + 3, NULL) ==
	    TOTP_REPLAY);
	totp_state_close(st);

	/* A state file created on a full disk: memory only, still safe. */
	fill(junk);
	snprintf(state, sizeof(state), "%s/new.state", dir);
	st = copen(state);
	CHECK(vr(st, &alice, "alice", code(&alice, T0), T0, &p) == TOTP_OK &&
	    p == 0);
	CHECK(vr(st, &alice, "alice", code(&alice, T0), T0, &p) ==
	    TOTP_REPLAY);
	CHECK(unlink(junk) == 0);
	CHECK(vr(st, &bob, "bob", code(&bob, T0), T0, &p) == TOTP_OK &&
	    p == 1);
	totp_state_close(st);
	st = copen(state);
	CHECK(vr(st, &alice, "alice", code(&alice, T0), T0, NULL) ==
	    TOTP_REPLAY);
	totp_state_close(st);
}

static void
test_full_disk(void **state)
{
	char dir[64];
	pid_t pid;
	int status;

	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	snprintf(dir, sizeof(dir), "%s/tmpfs", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_true((pid = fork()) >= 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) != 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
		    mount("tmpfs", dir, "tmpfs", 0, "size=64k") != 0)
			_exit(77);
		full_disk_checks(dir);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77) {
		skip();	/* no mount namespaces here */
		return;
	}
	assert_int_equal(WEXITSTATUS(status), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay_and_next),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_scratch_once),
		cmocka_unit_test(test_lockout),
		cmocka_unit_test(test_survives_reopen),
		cmocka_unit_test(test_corrupt_record),
		cmocka_unit_test(test_corrupt_name),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_misc),
		cmocka_unit_test(test_full_disk),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
