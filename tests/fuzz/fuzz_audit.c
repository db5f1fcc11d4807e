/*
 * libFuzzer target for the audit record writer.  Arbitrary bytes go in as
 * values through audit_str, audit_bytes, audit_int and audit_uint, the
 * record is written by audit_write to a real (unlinked) file and read
 * back, and a small strict parser here checks the line: one line, one
 * flat JSON object, every string closed, strict UTF-8 with nothing raw
 * that should have been escaped, the common fields first.  Each value
 * must decode to exactly what went in, invalid bytes replaced by U+FFFD
 * (decided by a UTF-8 decoder written differently from audit.c's), and a
 * record may only be cut where the next field could not have fit; then it
 * must end in "rampart.truncated":true.  Anything else abort()s.
 *
 * Input: a flags byte (bit 0: a timestamp follows in 16 bytes; bits 1-2:
 * the outcome), then fields: an op byte (str, bytes, int, uint), a key
 * byte, and for strings a 16-bit little-endian length and the value, for
 * numbers 8 bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FIELDS	512

static const char *const keys[] = {
	"user.name", "source.ip", "source.port", "destination.address",
	"destination.ip", "destination.port", "event.reason", "rule.name",
	"user_agent.original", "rampart.session.id", "network.bytes",
	"event.duration", "process.pid", "@metadata", "a", "x_9.y",
};

static const char *const outcomes[] = {
	"success", "failure", "unknown", "failure",
};

struct want {
	const char	*key;
	int		 kind;		/* 's', 'i', 'u' */
	const uint8_t	*val;
	size_t		 len;
	uint64_t	 num;
};

static struct audit *au;
static int rfd = -1;
static struct want want[MAX_FIELDS];
static size_t nwant;

/* The line under test, and a parse position in it. */
static const uint8_t *J;
static size_t JL, pos;

static void
init(void)
{
	const char *tmp;
	char path[4096], err[256];
	int fd;

	if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(path, sizeof(path), "%s/fuzz_audit.XXXXXX", tmp);
	if ((fd = mkstemp(path)) == -1)
		abort();
	close(fd);
	if ((au = audit_open(path, "rampart-fuzz", 0, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "audit_open: %s\n", err);
		abort();
	}
	if ((rfd = open(path, O_RDWR | O_CLOEXEC)) == -1)
		abort();
	unlink(path);
}

/*
 * Strict UTF-8, decoded the long way round: take the length from the
 * lead byte, then reject overlong forms, surrogates and > U+10FFFF.
 */
static size_t
dec_utf8(const uint8_t *s, size_t len, uint32_t *cpp)
{
	static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	uint32_t cp;
	size_t i, n;

	if (s[0] < 0x80) {
		n = 1;
		cp = s[0];
	} else if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min[n] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	*cpp = cp;
	return n;
}

/* Must never appear raw in a record, though JSON would allow some. */
static int
raw_forbidden(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
	    cp == 0x2028 || cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069);
}

static size_t
enc_utf8(uint32_t cp, uint8_t *out)
{
	if (cp < 0x80) {
		out[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (uint8_t)(0xc0 | (cp >> 6));
		out[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	out[0] = (uint8_t)(0xe0 | (cp >> 12));
	out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
	out[2] = (uint8_t)(0x80 | (cp & 0x3f));
	return 3;
}

/* What a value should decode to: each invalid byte becomes U+FFFD. */
static size_t
expected(const uint8_t *in, size_t len, uint8_t *out)
{
	size_t i = 0, n = 0, k;
	uint32_t cp;

	while (i < len) {
		if ((k = dec_utf8(in + i, len - i, &cp)) == 0) {
			memcpy(out + n, "\xef\xbf\xbd", 3);
			n += 3;
			i++;
			continue;
		}
		memcpy(out + n, in + i, k);
		n += k;
		i += k;
	}
	return n;
}

static void
expect(uint8_t c)
{
	if (pos >= JL || J[pos] != c)
		abort();
	pos++;
}

static uint32_t
hex4(void)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 4; i++, pos++) {
		if (pos >= JL)
			abort();
		v <<= 4;
		if (J[pos] >= '0' && J[pos] <= '9')
			v |= J[pos] - '0';
		else if (J[pos] >= 'a' && J[pos] <= 'f')
			v |= J[pos] - 'a' + 10;
		else if (J[pos] >= 'A' && J[pos] <= 'F')
			v |= J[pos] - 'A' + 10;
		else
			abort();
	}
	return v;
}

/* A JSON string at pos, decoded into out (never longer than its text). */
static size_t
jstring(uint8_t *out)
{
	static const char esc[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
	const char *e;
	size_t n = 0, k;
	uint32_t cp;

	expect('"');
	for (;;) {
		if (pos >= JL)
			abort();		/* never closed */
		if (J[pos] == '"') {
			pos++;
			return n;
		}
		if (J[pos] == '\\') {
			if (++pos >= JL)
				abort();
			if (J[pos] == 'u') {
				pos++;
				if ((cp = hex4()) >= 0xd800 && cp <= 0xdfff)
					abort();	/* we never pair */
				n += enc_utf8(cp, out + n);
				continue;
			}
			for (e = esc; *e != '\0'; e += 2)
				if (*e == J[pos])
					break;
			if (*e == '\0')
				abort();
			out[n++] = (uint8_t)e[1];
			pos++;
			continue;
		}
		if ((k = dec_utf8(J + pos, JL - pos, &cp)) == 0 ||
		    raw_forbidden(cp))
			abort();
		memcpy(out + n, J + pos, k);
		n += k;
		pos += k;
	}
}

/* A JSON integer at pos, as text. */
static size_t
jnumber(char *out)
{
	size_t start = pos;

	if (pos < JL && J[pos] == '-')
		pos++;
	if (pos >= JL || J[pos] < '0' || J[pos] > '9')
		abort();
	if (J[pos] == '0' && pos + 1 < JL && J[pos + 1] >= '0' &&
	    J[pos + 1] <= '9')
		abort();		/* leading zero */
	while (pos < JL && J[pos] >= '0' && J[pos] <= '9')
		pos++;
	if (pos - start > 20)
		abort();
	memcpy(out, J + start, pos - start);
	out[pos - start] = '\0';
	return pos - start;
}

static void
str_is(const uint8_t *got, size_t n, const char *s)
{
	if (n != strlen(s) || memcmp(got, s, n) != 0)
		abort();
}

/* YYYY-MM-DDTHH:MM:SS.mmmZ, always: a bad time becomes the epoch. */
static void
check_timestamp(const uint8_t *t, size_t n)
{
	static const char pat[] = "9999-99-99T99:99:99.999Z";
	size_t i;

	if (n != sizeof(pat) - 1)
		abort();
	for (i = 0; i < n; i++) {
		if (pat[i] == '9' ? (t[i] < '0' || t[i] > '9') :
		    t[i] != (uint8_t)pat[i])
			abort();
	}
}

static void
check_record(const uint8_t *line, size_t len, const char *outcome,
    int overflow)
{
	static const char *const common[] = {
		"@timestamp", "ecs.version", "event.kind", "event.action",
		"event.outcome", "service.name",
	};
	static uint8_t key[AUDIT_REC_MAX], val[AUDIT_REC_MAX],
	    exp[3 * 65536];
	const char *fixed[6];
	char num[32], wnum[32];
	size_t f, kn, vn, en;
	struct want *w;

	fixed[1] = AUDIT_ECS_VERSION;
	fixed[2] = "event";
	fixed[3] = "fuzz";
	fixed[4] = outcome;
	fixed[5] = "rampart-fuzz";
	J = line;
	JL = len;
	pos = 0;
	if (len < 3 || len > AUDIT_REC_MAX || line[len - 1] != '\n' ||
	    memchr(line, '\n', len - 1) != NULL || line[len - 2] != '}')
		abort();
	expect('{');
	for (f = 0;; f++) {
		kn = jstring(key);
		expect(':');
		if (f < 6) {
			str_is(key, kn, common[f]);
			vn = jstring(val);
			if (f == 0)
				check_timestamp(val, vn);
			else
				str_is(val, vn, fixed[f]);
		} else if (f - 6 < nwant) {
			w = &want[f - 6];
			str_is(key, kn, w->key);
			if (w->kind == 's') {
				vn = jstring(val);
				en = expected(w->val, w->len, exp);
				if (vn != en || memcmp(val, exp, vn) != 0)
					abort();
			} else {
				jnumber(num);
				if (w->kind == 'i')
					snprintf(wnum, sizeof(wnum), "%lld",
					    (long long)(int64_t)w->num);
				else
					snprintf(wnum, sizeof(wnum), "%llu",
					    (unsigned long long)w->num);
				if (strcmp(num, wnum) != 0)
					abort();
			}
		} else if (f - 6 == nwant && overflow) {
			str_is(key, kn, "rampart.truncated");
			if (JL - pos < 4 || memcmp(J + pos, "true", 4) != 0)
				abort();
			pos += 4;
		} else
			abort();		/* a field too many */
		if (pos < JL && J[pos] == ',') {
			pos++;
			continue;
		}
		expect('}');
		break;
	}
	if (pos != JL - 1 || f + 1 != 6 + nwant + (overflow ? 1 : 0))
		abort();
}

static uint64_t
get64(const uint8_t **p, const uint8_t *end)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8 && *p < end; i++, (*p)++)
		v |= (uint64_t)**p << (8 * i);
	return v;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char sval[65536 + 1];
	static uint8_t line[AUDIT_REC_MAX + 1];
	const uint8_t *p = data, *end = data + size;
	struct audit_rec r;
	struct timespec ts, *when = NULL;
	const char *key, *outcome;
	size_t before, take, len;
	uint64_t num;
	ssize_t n;
	int op, was;

	if (au == NULL)
		init();
	if (size < 1)
		return 0;
	outcome = outcomes[(*p >> 1) & 3];
	if (*p++ & 1) {
		ts.tv_sec = (time_t)get64(&p, end);
		ts.tv_nsec = (long)get64(&p, end);
		when = &ts;
	}
	audit_begin(au, &r, "fuzz", outcome, when);
	nwant = 0;
	while (end - p >= 2 && nwant < MAX_FIELDS) {
		op = *p++ % 4;
		key = keys[*p++ % (sizeof(keys) / sizeof(keys[0]))];
		before = r.len;
		was = r.overflow;
		take = len = 0;
		num = 0;
		if (op < 2) {
			if (end - p >= 2) {
				take = (size_t)(p[0] | p[1] << 8);
				p += 2;
			}
			if (take > (size_t)(end - p))
				take = (size_t)(end - p);
			len = take;
			if (op == 0) {
				memcpy(sval, p, take);
				sval[take] = '\0';
				audit_str(&r, key, sval);
				len = strlen(sval);	/* up to a NUL */
			} else
				audit_bytes(&r, key, p, len);
		} else {
			num = get64(&p, end);
			if (op == 2)
				audit_int(&r, key, (int64_t)num);
			else
				audit_uint(&r, key, num);
		}
		if (was || r.overflow) {
			/* Cut: nothing of the field may remain. */
			if (r.len != before)
				abort();
			/* Each byte escapes to at most 6: it had to fit. */
			if (!was && before + strlen(key) + 6 * len + 32 +
			    64 <= AUDIT_REC_MAX)
				abort();
		} else {
			if (r.len <= before)
				abort();
			want[nwant].key = key;
			want[nwant].kind = op < 2 ? 's' : op == 2 ? 'i' : 'u';
			want[nwant].val = p;
			want[nwant].len = len;
			want[nwant].num = num;
			nwant++;
		}
		p += take;
	}

	if (ftruncate(rfd, 0) == -1)
		abort();
	if (audit_write(au, &r) == -1) {
		fprintf(stderr, "audit_write: %s\n", strerror(errno));
		abort();
	}
	if ((n = pread(rfd, line, sizeof(line), 0)) < 0 ||
	    (size_t)n != r.len || memcmp(line, r.buf, r.len) != 0)
		abort();
	check_record(line, (size_t)n, outcome, r.overflow);
	return 0;
}
