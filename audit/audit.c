/*
 * audit: one flat JSON object per line, ECS field names (docs/audit.md).
 *
 * A record is built in the caller's fixed buffer.  Keys are constants from
 * our own code; values may come from the network and are escaped so that
 * the line is always valid JSON and valid UTF-8, whatever the bytes: no
 * value can close its string, add a field or end the line.  Fields stop at
 * AUDIT_FIELDS_MAX, which keeps room for the truncation marker and the
 * closing "}\n", so even a cut record is a whole JSON object.
 */
#include <sys/stat.h>

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"

#define AUDIT_TRUNC	",\"rampart.truncated\":true"
#define AUDIT_END	"}\n"
#define AUDIT_FIELDS_MAX \
	(AUDIT_REC_MAX - (sizeof(AUDIT_TRUNC) - 1) - (sizeof(AUDIT_END) - 1))

struct audit {
	int	fd;
	int	to_syslog;
	int	torn;		/* the file ends inside a line */
	char	service[64];
};

struct audit *
audit_open(const char *path, const char *service, int to_syslog, char *err,
    size_t errlen)
{
	struct audit *a = NULL;
	struct stat st;
	int fd = -1, flags;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (path == NULL || service == NULL ||
	    strlen(service) >= sizeof(a->service)) {
		if (err != NULL)
			snprintf(err, errlen, "invalid audit_open arguments");
		return NULL;
	}
	/*
	 * O_NONBLOCK: a FIFO planted at path must not block the open until
	 * a reader comes; O_NOCTTY: nor may a terminal become ours.  Both
	 * are refused below and mean nothing for a regular file.
	 */
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0640)) == -1) {
		if (err != NULL)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (fstat(fd, &st) == -1) {
		if (err != NULL)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		if (err != NULL)
			snprintf(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	/* A hard link planted in the log directory would be appended to. */
	if (st.st_nlink != 1) {
		if (err != NULL)
			snprintf(err, errlen, "%s: has %lu hard links", path,
			    (unsigned long)st.st_nlink);
		goto fail;
	}
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == -1) {
		if (err != NULL)
			snprintf(err, errlen, "%s: fcntl: %s", path,
			    strerror(errno));
		goto fail;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		if (err != NULL)
			snprintf(err, errlen, "out of memory");
		goto fail;
	}
	a->fd = fd;
	a->to_syslog = to_syslog;
	memcpy(a->service, service, strlen(service) + 1);
	return a;
 fail:
	if (fd != -1)
		close(fd);
	return NULL;
}

void
audit_close(struct audit *a)
{
	if (a == NULL)
		return;
	close(a->fd);
	free(a);
}

/* Begun by audit_begin, not yet closed by audit_write. */
static int
rec_open(const struct audit_rec *r)
{
	/* Values are escaped, so a raw '\n' can only be the final one. */
	return r->len >= 1 && r->len <= AUDIT_FIELDS_MAX &&
	    r->buf[0] == '{' && r->buf[r->len - 1] != '\n';
}

static int
put(struct audit_rec *r, const void *p, size_t n)
{
	if (n > AUDIT_FIELDS_MAX - r->len)
		return -1;
	memcpy(r->buf + r->len, p, n);
	r->len += n;
	return 0;
}

/*
 * Length of the strict UTF-8 sequence at s (no overlong forms, no
 * surrogates, nothing above U+10FFFF), with its code point, or 0.
 */
static size_t
utf8_seq(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t i, n;
	uint32_t c;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		c = s[0] & 0x0f;
		if (s[0] == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (s[0] == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		c = s[0] & 0x07;
		if (s[0] == 0xf0)
			lo = 0x90;	/* overlong */
		else if (s[0] == 0xf4)
			hi = 0x8f;	/* above U+10FFFF */
	} else
		return 0;
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	*cp = c;
	return n;
}

/*
 * Valid JSON, but written as \uXXXX all the same: controls, and what a
 * terminal or a line splitter could take for a line end or use to reorder
 * text (Python's splitlines() ends lines at U+0085, U+2028 and U+2029).
 */
static int
must_escape(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
	    cp == 0x2028 || cp == 0x2029 ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

static int
put_escaped(struct audit_rec *r, const unsigned char *s, size_t len)
{
	char u[8];
	const char *e;
	size_t i, n;
	uint32_t cp;

	for (i = 0; i < len; i += n) {
		n = 1;
		cp = s[i];
		if (cp >= 0x80 && (n = utf8_seq(s + i, len - i, &cp)) == 0) {
			/* One replacement per invalid byte. */
			n = 1;
			if (put(r, "\\ufffd", 6) == -1)
				return -1;
			continue;
		}
		e = NULL;
		switch (cp) {
		case '"':
			e = "\\\"";
			break;
		case '\\':
			e = "\\\\";
			break;
		case '\n':
			e = "\\n";
			break;
		case '\r':
			e = "\\r";
			break;
		case '\t':
			e = "\\t";
			break;
		default:
			if (must_escape(cp)) {
				snprintf(u, sizeof(u), "\\u%04x",
				    (unsigned int)cp);
				e = u;
			}
			break;
		}
		if (e != NULL ? put(r, e, strlen(e)) : put(r, s + i, n))
			return -1;
	}
	return 0;
}

static int
key_ok(const char *key)
{
	const char *p;

	if (key == NULL || *key == '\0')
		return 0;
	for (p = key; *p != '\0'; p++) {
		if ((*p < 'a' || *p > 'z') && (*p < '0' || *p > '9') &&
		    *p != '_' && *p != '.' && *p != '@')
			return 0;
	}
	return 1;
}

/*
 * Start a field: `,"key":`.  Returns the length to roll back to, or -1 if
 * the record takes no more fields.
 */
static ssize_t
field_start(struct audit_rec *r, const char *key)
{
	size_t start = r->len;

	/* A programming error; the key is still escaped if NDEBUG. */
	assert(key_ok(key));
	if (!rec_open(r) || r->overflow)
		return -1;
	if (key == NULL)
		key = "invalid";
	if ((r->len > 1 && put(r, ",", 1) == -1) || put(r, "\"", 1) == -1 ||
	    put_escaped(r, (const unsigned char *)key, strlen(key)) == -1 ||
	    put(r, "\":", 2) == -1) {
		r->len = start;
		r->overflow = 1;
		return -1;
	}
	return (ssize_t)start;
}

/* Drop a field that did not fit whole; no later field is added. */
static void
field_end(struct audit_rec *r, ssize_t start, int rc)
{
	if (rc == -1) {
		r->len = (size_t)start;
		r->overflow = 1;
	}
}

void
audit_bytes(struct audit_rec *r, const char *key, const void *val,
    size_t len)
{
	ssize_t start;

	if (val == NULL && len > 0)
		return;
	if ((start = field_start(r, key)) == -1)
		return;
	field_end(r, start, (put(r, "\"", 1) == -1 ||
	    put_escaped(r, val, len) == -1 || put(r, "\"", 1) == -1) ? -1 : 0);
}

void
audit_str(struct audit_rec *r, const char *key, const char *val)
{
	/* NULL omits the field: an absent value is not an empty one. */
	if (val == NULL)
		return;
	audit_bytes(r, key, val, strlen(val));
}

void
audit_int(struct audit_rec *r, const char *key, int64_t val)
{
	char num[32];
	ssize_t start;

	if ((start = field_start(r, key)) == -1)
		return;
	snprintf(num, sizeof(num), "%" PRId64, val);
	field_end(r, start, put(r, num, strlen(num)));
}

void
audit_uint(struct audit_rec *r, const char *key, uint64_t val)
{
	char num[32];
	ssize_t start;

	if ((start = field_start(r, key)) == -1)
		return;
	snprintf(num, sizeof(num), "%" PRIu64, val);
	field_end(r, start, put(r, num, strlen(num)));
}

/*
 * UTC with milliseconds.  gmtime_r, never localtime: that may open
 * /etc/localtime, and the log would then depend on the host's zone.
 */
static void
put_timestamp(struct audit_rec *r, const struct timespec *when)
{
	struct timespec now;
	struct tm tm;
	time_t zero = 0;
	long ms;
	char ts[64];

	if (when == NULL) {
		if (clock_gettime(CLOCK_REALTIME, &now) == -1)
			now.tv_sec = now.tv_nsec = 0;
		when = &now;
	}
	/*
	 * Only a caller's nonsense gets here.  The epoch keeps the field in
	 * the one format date parsers (Elasticsearch's) take.
	 */
	if (gmtime_r(&when->tv_sec, &tm) == NULL ||
	    tm.tm_year < -1900 || tm.tm_year > 9999 - 1900)
		gmtime_r(&zero, &tm);
	ms = when->tv_nsec / 1000000;
	if (ms < 0 || ms > 999)
		ms = 0;
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ms);
	audit_str(r, "@timestamp", ts);
}

void
audit_begin(struct audit *a, struct audit_rec *r, const char *action,
    const char *outcome, const struct timespec *when)
{
	assert(outcome != NULL && (strcmp(outcome, "success") == 0 ||
	    strcmp(outcome, "failure") == 0 || strcmp(outcome, "unknown") == 0));
	r->buf[0] = '{';
	r->len = 1;
	r->overflow = 0;
	put_timestamp(r, when);
	audit_str(r, "ecs.version", AUDIT_ECS_VERSION);
	audit_str(r, "event.kind", "event");
	audit_str(r, "event.action", action);
	audit_str(r, "event.outcome", outcome);
	if (a != NULL)
		audit_str(r, "service.name", a->service);
}

/*
 * Append buf whole, or fail with errno.  On a full disk (ENOSPC) or over
 * RLIMIT_FSIZE (EFBIG) write() may take part of the line first.  That part
 * stays: cutting it off again would make tailing shippers (Filebeat) think
 * the file was truncated and send it all again.  What a reader sees at the
 * end of the file is then a line without its closing brace and newline,
 * which fails JSON parsing and so cannot pass for a record.  (One edge: if
 * all but the newline went out, the line is the whole record, a true one
 * though the caller was told the write failed.)  The next audit_write
 * starts with a newline, so the fragment stays a line of its own and the
 * records after it parse.
 */
static int
write_all(int fd, const char *buf, size_t len, size_t *done)
{
	ssize_t n;

	*done = 0;
	while (*done < len) {
		if ((n = write(fd, buf + *done, len - *done)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = ENOSPC;
			return -1;
		}
		*done += (size_t)n;
	}
	return 0;
}

int
audit_write(struct audit *a, struct audit_rec *r)
{
	size_t done;
	int rc = -1, saved_errno;

	if (a == NULL || r->len < 1 || r->len > AUDIT_REC_MAX ||
	    r->buf[0] != '{') {
		errno = EINVAL;
		return -1;
	}
	/* Close once; a closed record may be written again (a retry). */
	if (rec_open(r)) {
		if (r->overflow) {
			memcpy(r->buf + r->len, AUDIT_TRUNC,
			    sizeof(AUDIT_TRUNC) - 1);
			r->len += sizeof(AUDIT_TRUNC) - 1;
		}
		memcpy(r->buf + r->len, AUDIT_END, sizeof(AUDIT_END) - 1);
		r->len += sizeof(AUDIT_END) - 1;
	} else if (r->buf[r->len - 1] != '\n') {
		errno = EINVAL;
		return -1;
	}
	if (a->torn) {
		if (write_all(a->fd, "\n", 1, &done) == -1)
			goto out;
		a->torn = 0;
	}
	if (write_all(a->fd, r->buf, r->len, &done) == -1) {
		if (done > 0)
			a->torn = 1;
		goto out;
	}
	rc = 0;
 out:
	saved_errno = errno;
	/* Even when the file failed: syslog may still carry the event. */
	if (a->to_syslog)
		syslog(LOG_AUTHPRIV | LOG_INFO, "%.*s", (int)(r->len - 1),
		    r->buf);
	errno = saved_errno;
	return rc;
}
