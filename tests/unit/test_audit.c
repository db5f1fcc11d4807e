/*
 * test_audit: the audit writer, byte for byte.  Escaping is checked against
 * exact expected lines (quotes, controls, invalid and valid UTF-8), then
 * the timestamp, the cut of an overlong record, the file checks of
 * audit_open and the failure of a write over RLIMIT_FSIZE.
 *
 * With AUDIT_TEST_OUT set, every record that should be valid goes to that
 * file, hostile ones included, and tests/ctl/audit_json.sh parses each line
 * with an independent JSON parser.  Records that are meant to be broken
 * (the failed writes) always go to a private file.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "audit.h"

/* 2026-11-22T01:02:03.456789012Z */
static const struct timespec when0 = { 1795309323, 456789012 };

#define HEAD	"{\"@timestamp\":\"2026-11-22T01:02:03.456Z\"," \
		"\"ecs.version\":\"8.11.0\",\"event.kind\":\"event\"," \
		"\"event.action\":\"test\",\"event.outcome\":\"success\"," \
		"\"service.name\":\"rampart-test\""
#define TRUNC	",\"rampart.truncated\":true"

struct fix {
	char		 dir[PATH_MAX];
	char		 path[PATH_MAX];	/* shared: AUDIT_TEST_OUT */
	char		 priv[PATH_MAX];	/* always in dir */
	struct audit	*a;
	char		 line[2 * AUDIT_REC_MAX];
	size_t		 linelen;
};

static int
setup(void **state)
{
	struct fix *f;
	const char *tmp, *out;
	char err[256];

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(f->dir, sizeof(f->dir), "%s/test_audit.XXXXXX", tmp);
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->priv, sizeof(f->priv), "%s/audit.jsonl", f->dir);
	if ((out = getenv("AUDIT_TEST_OUT")) != NULL && *out != '\0')
		snprintf(f->path, sizeof(f->path), "%s", out);
	else
		snprintf(f->path, sizeof(f->path), "%s", f->priv);
	if ((f->a = audit_open(f->path, "rampart-test", 0, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "audit_open: %s\n", err);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix *f = *state;
	char cmd[PATH_MAX + 16];

	audit_close(f->a);
	/* mkdtemp's name has no shell metacharacters. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static off_t
file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

/* Read path from off to its end into buf; returns the length. */
static size_t
slurp(const char *path, off_t off, char *buf, size_t cap)
{
	ssize_t n;
	size_t len = 0;
	int fd;

	assert_true((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1);
	while ((n = pread(fd, buf + len, cap - len, off + (off_t)len)) > 0)
		len += (size_t)n;
	assert_int_equal(n, 0);
	assert_true(len < cap);
	buf[len] = '\0';
	close(fd);
	return len;
}

/* Write r and read back what it added to the file. */
static void
write_back(struct fix *f, struct audit_rec *r)
{
	off_t before = file_size(f->path);

	assert_int_equal(audit_write(f->a, r), 0);
	f->linelen = slurp(f->path, before, f->line, sizeof(f->line));
	assert_int_equal(f->linelen, r->len);
	assert_memory_equal(f->line, r->buf, r->len);
}

static void
expect_line(struct fix *f, const char *want)
{
	if (f->linelen != strlen(want) || memcmp(f->line, want, f->linelen)) {
		fail_msg("got  %.*swant %s", (int)f->linelen, f->line, want);
	}
}

static void
begin(struct fix *f, struct audit_rec *r)
{
	audit_begin(f->a, r, "test", "success", &when0);
}

/* One value through audit_bytes, and through audit_str if it has no NUL. */
static void
value_is(struct fix *f, const char *val, size_t len, const char *want)
{
	struct audit_rec r;
	char line[AUDIT_REC_MAX];

	snprintf(line, sizeof(line), HEAD ",\"v\":\"%s\"}\n", want);
	begin(f, &r);
	audit_bytes(&r, "v", val, len);
	assert_false(r.overflow);
	write_back(f, &r);
	expect_line(f, line);
	if (memchr(val, '\0', len) != NULL)
		return;
	begin(f, &r);
	audit_str(&r, "v", val);
	write_back(f, &r);
	expect_line(f, line);
}

#define VALUE_IS(f, lit, want)	value_is(f, lit, sizeof(lit) - 1, want)

static void
test_plain_record(void **state)
{
	struct fix *f = *state;
	struct audit_rec r;

	begin(f, &r);
	audit_str(&r, "user.name", "alice");
	audit_str(&r, "source.ip", "192.0.2.7");
	audit_uint(&r, "source.port", 50022);
	audit_int(&r, "event.duration", -1);
	audit_int(&r, "process.pid", INT64_MIN);
	audit_uint(&r, "network.bytes", UINT64_MAX);
	audit_str(&r, "event.reason", NULL);	/* omitted */
	audit_str(&r, "rule.name", "");
	write_back(f, &r);
	expect_line(f, HEAD ",\"user.name\":\"alice\","
	    "\"source.ip\":\"192.0.2.7\",\"source.port\":50022,"
	    "\"event.duration\":-1,"
	    "\"process.pid\":-9223372036854775808,"
	    "\"network.bytes\":18446744073709551615,\"rule.name\":\"\"}\n");
}

static void
test_escape_ascii(void **state)
{
	struct fix *f = *state;

	VALUE_IS(f, "plain text 0-9 ~!#$%&'()*+,-./:;<=>?@[]^_`{|}",
	    "plain text 0-9 ~!#$%&'()*+,-./:;<=>?@[]^_`{|}");
	VALUE_IS(f, "say \"hi\"", "say \\\"hi\\\"");
	VALUE_IS(f, "C:\\path\\", "C:\\\\path\\\\");
	VALUE_IS(f, "a\nb\rc\td", "a\\nb\\rc\\td");
	VALUE_IS(f, "\x1b[31mred\x1b[0m", "\\u001b[31mred\\u001b[0m");
	VALUE_IS(f, "\x01\x08\x0b\x0c\x1f\x7f", "\\u0001\\u0008\\u000b"
	    "\\u000c\\u001f\\u007f");
	VALUE_IS(f, "a\0b", "a\\u0000b");
	VALUE_IS(f, "\0", "\\u0000");
	VALUE_IS(f, "", "");
	/* An attempt to end the string and add a field stays a value. */
	VALUE_IS(f, "x\",\"event.outcome\":\"success",
	    "x\\\",\\\"event.outcome\\\":\\\"success");
	VALUE_IS(f, "x\"}\n{\"event.action\":\"fake\"}",
	    "x\\\"}\\n{\\\"event.action\\\":\\\"fake\\\"}");
	VALUE_IS(f, "\\\"", "\\\\\\\"");
}

static void
test_escape_invalid_utf8(void **state)
{
	struct fix *f = *state;

	VALUE_IS(f, "\xff", "\\ufffd");
	VALUE_IS(f, "\xfe\xff", "\\ufffd\\ufffd");
	VALUE_IS(f, "\xc3", "\\ufffd");			/* cut at the end */
	VALUE_IS(f, "\xc3" "A", "\\ufffdA");		/* cut by ASCII */
	VALUE_IS(f, "\xc3\"", "\\ufffd\\\"");		/* cannot eat '"' */
	VALUE_IS(f, "\xe2\x82", "\\ufffd\\ufffd");
	VALUE_IS(f, "\x80", "\\ufffd");			/* lone continuation */
	VALUE_IS(f, "\xbf\xbf", "\\ufffd\\ufffd");
	VALUE_IS(f, "\xc0\xaf", "\\ufffd\\ufffd");	/* overlong '/' */
	VALUE_IS(f, "\xc1\xbf", "\\ufffd\\ufffd");
	VALUE_IS(f, "\xe0\x80\xaf", "\\ufffd\\ufffd\\ufffd");
	VALUE_IS(f, "\xe0\x9f\xbf", "\\ufffd\\ufffd\\ufffd");
	VALUE_IS(f, "\xf0\x80\x80\xaf", "\\ufffd\\ufffd\\ufffd\\ufffd");
	VALUE_IS(f, "\xf0\x8f\xbf\xbf", "\\ufffd\\ufffd\\ufffd\\ufffd");
	VALUE_IS(f, "\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd");	/* U+D800 */
	VALUE_IS(f, "\xed\xbf\xbf", "\\ufffd\\ufffd\\ufffd");	/* U+DFFF */
	VALUE_IS(f, "\xf4\x90\x80\x80",				/* U+110000 */
	    "\\ufffd\\ufffd\\ufffd\\ufffd");
	VALUE_IS(f, "\xf5\x80\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd");
	VALUE_IS(f, "\xf8\x88\x80\x80\x80",
	    "\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd");
	/* A bad byte inside a sequence spoils only what came before it. */
	VALUE_IS(f, "\xe2\x82\xc3\xa9", "\\ufffd\\ufffd\xc3\xa9");
	VALUE_IS(f, "\xe2\n", "\\ufffd\\n");
}

static void
test_escape_valid_utf8(void **state)
{
	struct fix *f = *state;

	VALUE_IS(f, "caf\xc3\xa9", "caf\xc3\xa9");		/* é */
	VALUE_IS(f, "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80");	/* emoji */
	VALUE_IS(f, "\xe2\x82\xac", "\xe2\x82\xac");		/* € */
	VALUE_IS(f, "\xc2\xa0", "\xc2\xa0");			/* U+00A0 */
	VALUE_IS(f, "\xe0\xa0\x80", "\xe0\xa0\x80");		/* U+0800 */
	VALUE_IS(f, "\xed\x9f\xbf", "\xed\x9f\xbf");		/* U+D7FF */
	VALUE_IS(f, "\xee\x80\x80", "\xee\x80\x80");		/* U+E000 */
	VALUE_IS(f, "\xef\xbf\xbd", "\xef\xbf\xbd");		/* U+FFFD */
	VALUE_IS(f, "\xf0\x90\x80\x80", "\xf0\x90\x80\x80");	/* U+10000 */
	VALUE_IS(f, "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf");	/* U+10FFFF */
	/* Valid, but line ends or text reordering to some readers. */
	VALUE_IS(f, "\xc2\x80\xc2\x85\xc2\x9f", "\\u0080\\u0085\\u009f");
	VALUE_IS(f, "a\xe2\x80\xa8" "b\xe2\x80\xa9", "a\\u2028b\\u2029");
	VALUE_IS(f, "\xe2\x80\xae" "txt.exe", "\\u202etxt.exe");
	VALUE_IS(f, "\xe2\x81\xa6\xe2\x81\xa9", "\\u2066\\u2069");
}

static void
test_timestamp(void **state)
{
	struct fix *f = *state;
	struct audit_rec r;
	struct timespec ts;
	struct tm tm;
	time_t now, t;
	int ms, n = 0;

	now = time(NULL);
	audit_begin(f->a, &r, "test", "unknown", NULL);
	write_back(f, &r);
	memset(&tm, 0, sizeof(tm));
	assert_int_equal(sscanf(f->line, "{\"@timestamp\":\""
	    "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ\",%n", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms, &n), 7);
	assert_int_equal(n, (int)strlen("{\"@timestamp\":\""
	    "2026-11-22T01:02:03.456Z\","));
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	assert_true(t >= now - 5 && t <= now + 5);
	assert_true(ms >= 0 && ms <= 999);

	/* Milliseconds are cut, not rounded; the day turns over in UTC. */
	ts.tv_sec = 1798761599;		/* 2026-12-31T23:59:59Z */
	ts.tv_nsec = 999999999;
	audit_begin(f->a, &r, "test", "failure", &ts);
	write_back(f, &r);
	assert_memory_equal(f->line, "{\"@timestamp\":"
	    "\"2026-12-31T23:59:59.999Z\",", 41);
	ts.tv_sec = 0;
	ts.tv_nsec = 0;
	audit_begin(f->a, &r, "test", "failure", &ts);
	write_back(f, &r);
	assert_memory_equal(f->line, "{\"@timestamp\":"
	    "\"1970-01-01T00:00:00.000Z\",", 41);
	/* A caller's nonsense still gives a valid record. */
	ts.tv_sec = INT64_MAX;
	ts.tv_nsec = -5;
	audit_begin(f->a, &r, "test", "failure", &ts);
	write_back(f, &r);
	assert_memory_equal(f->line, "{\"@timestamp\":"
	    "\"1970-01-01T00:00:00.000Z\",", 41);
	ts.tv_sec = 253402300800;	/* 10000-01-01T00:00:00Z */
	ts.tv_nsec = 1000000000;
	audit_begin(f->a, &r, "test", "failure", &ts);
	write_back(f, &r);
	assert_memory_equal(f->line, "{\"@timestamp\":"
	    "\"1970-01-01T00:00:00.000Z\",", 41);
	ts.tv_sec = 253402300799;	/* 9999-12-31T23:59:59Z */
	ts.tv_nsec = 0;
	audit_begin(f->a, &r, "test", "failure", &ts);
	write_back(f, &r);
	assert_memory_equal(f->line, "{\"@timestamp\":"
	    "\"9999-12-31T23:59:59.000Z\",", 41);
	ts.tv_sec = -62167219200;	/* 0000-01-01T00:00:00Z */
	audit_begin(f->a, &r, "test", "failure", &ts);
	write_back(f, &r);
	assert_memory_equal(f->line, "{\"@timestamp\":"
	    "\"0000-01-01T00:00:00.000Z\",", 41);
	ts.tv_sec = -62167219201;
	audit_begin(f->a, &r, "test", "failure", &ts);
	write_back(f, &r);
	assert_memory_equal(f->line, "{\"@timestamp\":"
	    "\"1970-01-01T00:00:00.000Z\",", 41);
}

/* The longest value of 'x' that still fits in a record begun by begin(). */
static size_t
longest_fit(struct fix *f, char *big, size_t cap)
{
	struct audit_rec r;
	size_t lo = 0, hi = cap - 2, mid;

	while (lo < hi) {
		mid = (lo + hi + 1) / 2;
		begin(f, &r);
		big[mid] = '\0';
		audit_str(&r, "v", big);
		big[mid] = 'x';
		if (r.overflow)
			hi = mid - 1;
		else
			lo = mid;
	}
	return lo;
}

static void
test_overflow(void **state)
{
	struct fix *f = *state;
	struct audit_rec r;
	static char big[AUDIT_REC_MAX + 100];
	char want[AUDIT_REC_MAX + 100], key[16];
	size_t max, len;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';

	/* The field that does not fit, and every later one, is dropped. */
	begin(f, &r);
	audit_str(&r, "user.name", "alice");
	len = r.len;
	audit_str(&r, "user_agent.original", big);
	assert_true(r.overflow);
	assert_int_equal(r.len, len);
	audit_str(&r, "event.reason", "short");
	audit_int(&r, "process.pid", 1);
	audit_uint(&r, "source.port", 2);
	audit_bytes(&r, "rampart.session.id", "s", 1);
	assert_int_equal(r.len, len);
	write_back(f, &r);
	expect_line(f, HEAD ",\"user.name\":\"alice\"" TRUNC "}\n");

	/* The escaped length counts: 1500 bytes become 9000. */
	begin(f, &r);
	memset(want, 0x01, 1500);
	audit_bytes(&r, "v", want, 1500);
	assert_true(r.overflow);
	write_back(f, &r);
	expect_line(f, HEAD TRUNC "}\n");

	/* At the limit exactly: fits, and the marker still fits after. */
	max = longest_fit(f, big, sizeof(big));
	assert_true(max > AUDIT_REC_MAX - 300 && max < AUDIT_REC_MAX);
	begin(f, &r);
	big[max] = '\0';
	audit_str(&r, "v", big);
	assert_false(r.overflow);
	audit_str(&r, "w", "");
	assert_true(r.overflow);
	write_back(f, &r);
	assert_int_equal(f->linelen, AUDIT_REC_MAX);
	snprintf(want, sizeof(want), HEAD ",\"v\":\"%s\"" TRUNC "}\n", big);
	expect_line(f, want);
	big[max] = 'x';

	/* A character that would cross the limit is not split. */
	begin(f, &r);
	memcpy(big + max - 1, "\xc3\xa9", 3);
	audit_str(&r, "v", big);
	assert_true(r.overflow);
	write_back(f, &r);
	expect_line(f, HEAD TRUNC "}\n");
	begin(f, &r);
	memcpy(big + max - 2, "\xc3\xa9", 3);
	audit_str(&r, "v", big);
	assert_false(r.overflow);
	memset(big + max - 2, 'x', 4);

	/* Many small fields: cut between two of them. */
	begin(f, &r);
	for (len = 0; len < AUDIT_REC_MAX && !r.overflow; len++) {
		snprintf(key, sizeof(key), "n%zu", len);
		audit_uint(&r, key, len);
	}
	assert_true(r.overflow);
	write_back(f, &r);
	assert_true(f->linelen <= AUDIT_REC_MAX);
	assert_memory_equal(f->line + f->linelen - strlen(TRUNC "}\n"),
	    TRUNC "}\n", strlen(TRUNC "}\n"));
}

static void
test_record_state(void **state)
{
	struct fix *f = *state;
	struct audit_rec r;
	size_t len;

	/* Never begun. */
	memset(&r, 0, sizeof(r));
	audit_str(&r, "v", "x");
	assert_int_equal(r.len, 0);
	errno = 0;
	assert_int_equal(audit_write(f->a, &r), -1);
	assert_int_equal(errno, EINVAL);

	/* Written: further fields are ignored, a rewrite is the same line. */
	begin(f, &r);
	audit_str(&r, "v", "x");
	write_back(f, &r);
	len = r.len;
	audit_str(&r, "w", "y");
	assert_int_equal(r.len, len);
	write_back(f, &r);
	expect_line(f, HEAD ",\"v\":\"x\"}\n");

	/* Without a handle: no service.name, nothing written. */
	audit_begin(NULL, &r, "test", "success", &when0);
	assert_null(memmem(r.buf, r.len, "service.name", 12));
	errno = 0;
	assert_int_equal(audit_write(NULL, &r), -1);
	assert_int_equal(errno, EINVAL);
}

/* Keys are our constants: a bad one is a bug and aborts (assert). */
static void
test_bad_key_asserts(void **state)
{
	static const char *const bad[] = {
		"", "User.name", "a b", "a\"b", "a\nb", "k\xc3\xa9",
	};
	struct fix *f = *state;
	struct audit_rec r;
	size_t i;
	pid_t pid;
	int status, devnull;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_true((pid = fork()) != -1);
		if (pid == 0) {
			if ((devnull = open("/dev/null", O_WRONLY)) != -1)
				dup2(devnull, STDERR_FILENO);
			begin(f, &r);
			audit_str(&r, bad[i], "x");
			_exit(0);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT) {
			fail_msg("key \"%s\" accepted", bad[i]);
		}
	}
	/* Every allowed character. */
	begin(f, &r);
	audit_str(&r, "@abcdefghijklmnopqrstuvwxyz_0123456789.", "x");
	assert_false(r.overflow);
}

static void
test_open_checks(void **state)
{
	struct fix *f = *state;
	struct audit *a;
	struct stat st;
	char p[PATH_MAX], q[PATH_MAX], err[256];
	mode_t old;
	int fd;

	/* Created 0640 under a permissive umask; existing lines kept. */
	old = umask(0);
	snprintf(p, sizeof(p), "%s/new.jsonl", f->dir);
	assert_non_null(a = audit_open(p, "rampart-test", 0, err,
	    sizeof(err)));
	umask(old);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	audit_close(a);
	assert_true((fd = open(p, O_WRONLY | O_APPEND)) != -1);
	assert_int_equal(write(fd, "{}\n", 3), 3);
	close(fd);
	assert_non_null(a = audit_open(p, "rampart-test", 0, err,
	    sizeof(err)));
	audit_close(a);
	assert_int_equal(slurp(p, 0, q, sizeof(q)), 3);

	/* A directory, a device, a symlink, a FIFO, a hard link. */
	assert_null(audit_open(f->dir, "t", 0, err, sizeof(err)));
	assert_non_null(strstr(err, f->dir));
	assert_null(audit_open("/dev/null", "t", 0, err, sizeof(err)));
	assert_string_equal(err, "/dev/null: not a regular file");

	snprintf(q, sizeof(q), "%s/target", f->dir);
	snprintf(p, sizeof(p), "%s/link", f->dir);
	assert_int_equal(symlink(q, p), 0);
	assert_null(audit_open(p, "t", 0, err, sizeof(err)));
	assert_int_equal(lstat(q, &st), -1);	/* not created through it */

	snprintf(p, sizeof(p), "%s/fifo", f->dir);
	assert_int_equal(mkfifo(p, 0600), 0);
	alarm(10);				/* must not block */
	assert_null(audit_open(p, "t", 0, err, sizeof(err)));
	alarm(0);

	snprintf(p, sizeof(p), "%s/new.jsonl", f->dir);
	snprintf(q, sizeof(q), "%s/hard.jsonl", f->dir);
	assert_int_equal(link(p, q), 0);
	assert_null(audit_open(p, "t", 0, err, sizeof(err)));
	assert_non_null(strstr(err, "hard links"));
	unlink(q);
	assert_non_null(a = audit_open(p, "t", 0, err, sizeof(err)));
	audit_close(a);

	assert_null(audit_open(p, "a service name longer than sixty-four "
	    "characters is refused ........", 0, err, sizeof(err)));
	assert_null(audit_open(NULL, "t", 0, NULL, 0));
	audit_close(NULL);
}

/* With syslog on, the file gets the same bytes. */
static void
test_syslog(void **state)
{
	struct fix *f = *state;
	struct audit_rec r;
	struct audit *a;
	char err[256];

	assert_non_null(a = audit_open(f->path, "rampart-test", 1, err,
	    sizeof(err)));
	audit_close(f->a);
	f->a = a;
	begin(f, &r);
	audit_str(&r, "v", "to syslog\n");
	write_back(f, &r);
	expect_line(f, HEAD ",\"v\":\"to syslog\\n\"}\n");
}

static void
set_fsize(rlim_t lim)
{
	struct rlimit rl;

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &rl), 0);
	rl.rlim_cur = lim;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
}

/*
 * A write past RLIMIT_FSIZE fails as a full disk would (EFBIG instead of
 * ENOSPC), whole or after part of the line.  The caller is told; a
 * fragment stays a line of its own that fails parsing; the next record
 * and a retry of the failed one are whole lines.
 */
static void
test_write_failure(void **state)
{
	struct fix *f = *state;
	struct audit_rec r1, r2, r3;
	struct audit *a;
	struct rlimit saved;
	char err[256], buf[4 * AUDIT_REC_MAX], want[4 * AUDIT_REC_MAX];
	off_t s1;
	size_t len;
	int fd;

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
	signal(SIGXFSZ, SIG_IGN);
	assert_non_null(a = audit_open(f->priv, "rampart-test", 0, err,
	    sizeof(err)));
	audit_begin(a, &r1, "test", "success", &when0);
	audit_str(&r1, "v", "one");
	audit_begin(a, &r2, "test", "success", &when0);
	audit_str(&r2, "v", "two");
	audit_begin(a, &r3, "test", "success", &when0);
	audit_str(&r3, "v", "three");

	/* Nothing fits: nothing written, no stray newline after. */
	assert_int_equal(audit_write(a, &r1), 0);
	s1 = file_size(f->priv);
	set_fsize((rlim_t)s1);
	errno = 0;
	assert_int_equal(audit_write(a, &r2), -1);
	assert_int_equal(errno, EFBIG);
	assert_int_equal(file_size(f->priv), s1);
	set_fsize(saved.rlim_cur);
	assert_int_equal(audit_write(a, &r3), 0);
	len = slurp(f->priv, 0, buf, sizeof(buf));
	snprintf(want, sizeof(want), "%.*s%.*s", (int)r1.len, r1.buf,
	    (int)r3.len, r3.buf);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(buf, want, len);

	/* Ten bytes fit: the fragment is ended before the next record. */
	assert_true((fd = open(f->priv, O_WRONLY | O_CLOEXEC)) != -1);
	assert_int_equal(ftruncate(fd, 0), 0);
	close(fd);
	assert_int_equal(audit_write(a, &r1), 0);
	set_fsize((rlim_t)s1 + 10);
	errno = 0;
	assert_int_equal(audit_write(a, &r2), -1);
	assert_int_equal(errno, EFBIG);
	assert_int_equal(file_size(f->priv), s1 + 10);
	set_fsize(saved.rlim_cur);
	assert_int_equal(audit_write(a, &r3), 0);
	assert_int_equal(audit_write(a, &r2), 0);	/* the retry */
	len = slurp(f->priv, 0, buf, sizeof(buf));
	snprintf(want, sizeof(want), "%.*s%.10s\n%.*s%.*s", (int)r1.len,
	    r1.buf, r2.buf, (int)r3.len, r3.buf, (int)r2.len, r2.buf);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(buf, want, len);
	audit_close(a);
	signal(SIGXFSZ, SIG_DFL);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 2685821657736338717ULL) >> 32);
}

/*
 * Hostile values for the JSON check in tests/ctl/audit_json.sh: every
 * byte alone, every pair of high bytes, and random strings weighted to
 * controls, quotes and UTF-8 lead and continuation bytes.  Here: the line
 * holds no raw control byte and ends where it should.
 */
static void
test_hostile(void **state)
{
	static const unsigned char pick[] = "\"\\\n\r\t\x00\x01\x1b\x7f"
	    "\x80\x85\xa0\xa8\xbf\xc0\xc2\xc3\xe0\xe2\xed\xef\xf0\xf4\xf5"
	    "\xff{}:,aZ ";
	struct fix *f = *state;
	struct audit_rec r;
	unsigned char v[601];
	size_t i, j, len;

	for (i = 0; i < 256 + 1024 + 3000; i++) {
		if (i < 256) {
			v[0] = (unsigned char)i;
			len = 1;
		} else if (i < 256 + 1024) {
			/* A sample of the high pairs, each with a tail. */
			j = (i - 256) * 16 + rng() % 16;
			v[0] = (unsigned char)(0x80 + j / 128);
			v[1] = (unsigned char)(0x80 + j % 128);
			v[2] = (unsigned char)(0x80 + rng() % 64);
			len = 3;
		} else {
			len = rng() % (sizeof(v) - 1);
			for (j = 0; j < len; j++)
				v[j] = rng() % 4 ? pick[rng() %
				    (sizeof(pick) - 1)] : (unsigned char)rng();
		}
		v[len] = '\0';
		begin(f, &r);
		audit_bytes(&r, "user_agent.original", v, len);
		audit_str(&r, "user.name", (const char *)v);	/* to NUL */
		audit_uint(&r, "n", i);
		write_back(f, &r);
		for (j = 0; j + 1 < f->linelen; j++) {
			if ((unsigned char)f->line[j] < 0x20 ||
			    f->line[j] == 0x7f) {
				fail_msg("raw 0x%02x in record %zu", f->line[j],
				    i);
			}
		}
		assert_int_equal(f->line[f->linelen - 1], '\n');
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_plain_record, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_escape_ascii, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_escape_invalid_utf8, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_escape_valid_utf8, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_timestamp, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_overflow, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_record_state, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_key_asserts, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_open_checks, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_syslog, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hostile, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
