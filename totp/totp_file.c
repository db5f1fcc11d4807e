/*
 * totp_file: the secrets file (TotpSecrets) -- one line per user, parsed
 * strictly with "file:line: message" errors and loaded all-or-nothing,
 * and written back atomically in the same format.
 *
 *	alice sha1 6 30 JBSWY3DPEHPK3PXP scratch=SALT:HASH,SALT:HASH
 *
 * Comment and blank lines are kept, in place, so that rampartctl can
 * rewrite a file an administrator has annotated; load -> write gives the
 * same bytes for a file written in the canonical form (docs/totp.md).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <liboath/oath.h>
#include <sodium.h>

#include "textfile.h"
#include "totp_int.h"

#define SECRETS_MAX_USERS	100000
#define MAX_FIELDS		16
#define SALT_HEX		32
#define HASH_HEX		(TOTP_SCRATCH_HASH * 2)

struct totp_item {
	struct totp_entry	*e;	/* NULL: a comment or blank line */
	char			*text;	/* that line, as it was */
};

struct totp_secrets {
	struct totp_item	 *items;	/* in file order */
	size_t			  nitems, capitems;
	struct totp_entry	**index;	/* the entries, by user */
	size_t			  nentries, capindex;
};

struct parser {
	struct totp_secrets	*s;
	struct diag		 d;
	const char		*file;
	unsigned long		 line;
};

/* What a new file starts with; a loaded file keeps its own comments. */
static const char *const new_header[] = {
	"# Rampart TOTP secrets (docs/totp.md); managed by rampartctl totp.",
	"# USER ALG DIGITS PERIOD BASE32-SECRET [scratch=SALT:HASH,...]",
	"# The secrets are in clear: keep this file mode 0600 (0640 to the "
	    "gateway's group).",
};

static void
perr(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
perr(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vat(&p->d, p->file, p->line, fmt, ap);
	va_end(ap);
}

static void
entry_free(struct totp_entry *e)
{
	if (e == NULL)
		return;
	sodium_memzero(e, sizeof(*e));
	free(e);
}

/* ---- the container ---- */

static int
grow(void **arr, size_t *cap, size_t need, size_t sz)
{
	size_t ncap;
	void *na;

	if (need <= *cap)
		return 0;
	ncap = *cap == 0 ? 16 : *cap * 2;
	if (ncap < need || ncap > SIZE_MAX / sz)
		return -1;
	if ((na = realloc(*arr, ncap * sz)) == NULL)
		return -1;
	*arr = na;
	*cap = ncap;
	return 0;
}

static int
add_item(struct totp_secrets *s, struct totp_entry *e, char *text)
{
	if (grow((void **)&s->items, &s->capitems, s->nitems + 1,
	    sizeof(*s->items)) != 0)
		return -1;
	if (e != NULL && grow((void **)&s->index, &s->capindex,
	    s->nentries + 1, sizeof(*s->index)) != 0)
		return -1;
	s->items[s->nitems].e = e;
	s->items[s->nitems].text = text;
	s->nitems++;
	if (e != NULL)
		s->index[s->nentries++] = e;	/* the caller sorts it */
	return 0;
}

/* The position of user in the index, or where it would go. */
static size_t
index_pos(const struct totp_secrets *s, const char *user, int *found)
{
	size_t lo = 0, hi = s->nentries, mid;
	int c;

	*found = 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(s->index[mid]->user, user)) == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct totp_entry *ea = *(const struct totp_entry *const *)a;
	const struct totp_entry *eb = *(const struct totp_entry *const *)b;
	int c;

	if ((c = strcmp(ea->user, eb->user)) != 0)
		return c;
	return ea->line < eb->line ? -1 : ea->line > eb->line;
}

struct totp_secrets *
totp_secrets_new(void)
{
	struct totp_secrets *s;
	char *t;
	size_t i;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	for (i = 0; i < sizeof(new_header) / sizeof(new_header[0]); i++) {
		if ((t = strdup(new_header[i])) == NULL ||
		    add_item(s, NULL, t) != 0) {
			free(t);
			totp_secrets_free(s);
			return NULL;
		}
	}
	return s;
}

void
totp_secrets_free(struct totp_secrets *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nitems; i++) {
		entry_free(s->items[i].e);
		free(s->items[i].text);
	}
	free(s->items);
	free(s->index);
	free(s);
}

const struct totp_entry *
totp_secrets_find(const struct totp_secrets *s, const char *user)
{
	size_t pos;
	int found;

	if (s == NULL || user == NULL)
		return NULL;
	pos = index_pos(s, user, &found);
	return found ? s->index[pos] : NULL;
}

size_t
totp_secrets_count(const struct totp_secrets *s)
{
	return s == NULL ? 0 : s->nentries;
}

int
totp_secrets_put(struct totp_secrets *s, const struct totp_entry *e)
{
	struct totp_entry *ne;
	size_t pos;
	int found;

	if (s == NULL || e == NULL || strnlen(e->user, sizeof(e->user)) ==
	    sizeof(e->user) || !totp_entry_valid(e))
		return -1;
	pos = index_pos(s, e->user, &found);
	if (found) {
		*s->index[pos] = *e;
		return 0;
	}
	if (s->nentries >= SECRETS_MAX_USERS ||
	    (ne = malloc(sizeof(*ne))) == NULL)
		return -1;
	*ne = *e;
	if (add_item(s, ne, NULL) != 0) {
		entry_free(ne);
		return -1;
	}
	/* add_item appended it to the index: move it to its place. */
	memmove(&s->index[pos + 1], &s->index[pos],
	    (s->nentries - 1 - pos) * sizeof(*s->index));
	s->index[pos] = ne;
	return 0;
}

int
totp_secrets_remove(struct totp_secrets *s, const char *user)
{
	struct totp_entry *e;
	size_t pos, i;
	int found;

	if (s == NULL || user == NULL)
		return 0;
	pos = index_pos(s, user, &found);
	if (!found)
		return 0;
	e = s->index[pos];
	memmove(&s->index[pos], &s->index[pos + 1],
	    (s->nentries - pos - 1) * sizeof(*s->index));
	s->nentries--;
	for (i = 0; i < s->nitems && s->items[i].e != e; i++)
		;
	if (i < s->nitems) {
		memmove(&s->items[i], &s->items[i + 1],
		    (s->nitems - i - 1) * sizeof(*s->items));
		s->nitems--;
	}
	entry_free(e);
	return 1;
}

/* ---- parsing ---- */

/* A decimal in [min, max] written without sign or leading zeros. */
static int
parse_num(const char *s, unsigned int min, unsigned int max,
    unsigned int *out)
{
	unsigned long v = 0;
	size_t i, len = strlen(s);

	if (len == 0 || len > 9 || (s[0] == '0' && len > 1))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

static void
parse_user(struct parser *p, const char *w, struct totp_entry *e, int *bad)
{
	char safe[80];

	if (totp_valid_user(w)) {
		snprintf(e->user, sizeof(e->user), "%s", w);
		return;
	}
	perr(p, "\"%s\" is not a valid user name (lower case letters, digits, "
	    "'_', '-', '.'; starting with a letter or '_'; at most %d "
	    "characters)", diag_safe(w, strlen(w), safe, sizeof(safe)),
	    TOTP_USER_MAX);
	*bad = 1;
}

static void
parse_params(struct parser *p, char **av, struct totp_entry *e, int *bad)
{
	char safe[80];

	if (totp_alg_parse(av[1], &e->alg) != 0) {
		perr(p, "unknown algorithm \"%s\" (sha1, sha256 or sha512)",
		    diag_safe(av[1], strlen(av[1]), safe, sizeof(safe)));
		*bad = 1;
	}
	if (parse_num(av[2], 6, 8, &e->digits) != 0) {
		perr(p, "digits must be 6, 7 or 8");
		*bad = 1;
	}
	if (parse_num(av[3], 15, 300, &e->period) != 0) {
		perr(p, "period must be a number of seconds from 15 to 300");
		*bad = 1;
	}
}

static int
is_b32(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '2' && c <= '7');
}

/* Base32 of n bytes, without padding, into out (NUL terminated). */
static int
b32_encode(const uint8_t *in, size_t n, char *out, size_t outlen)
{
	char *b = NULL;
	size_t blen = 0;
	int r = -1;

	if (oath_base32_encode((const char *)in, n, &b, &blen) != OATH_OK)
		return -1;
	while (blen > 0 && b[blen - 1] == '=')
		blen--;
	if (blen < outlen) {
		memcpy(out, b, blen);
		out[blen] = '\0';
		r = 0;
	}
	sodium_memzero(b, blen);
	free(b);
	return r;
}

/* The secret: base32 of TOTP_SECRET_MIN..MAX bytes, canonical. */
static const char *
decode_secret(const char *w, struct totp_entry *e, char *msg, size_t len)
{
	char *bin = NULL, canon[TOTP_SECRET_MAX * 2];
	size_t i, n, binlen = 0;
	const char *why = NULL;

	for (n = strlen(w); n > 0 && w[n - 1] == '='; n--)
		;
	for (i = 0; i < n && is_b32(w[i]); i++)
		;
	if (i < n || n == 0)
		return "the secret is not base32 (RFC 4648: A-Z and 2-7)";
	if (n > (TOTP_SECRET_MAX * 8 + 4) / 5) {
		snprintf(msg, len, "the secret is longer than %d bytes",
		    TOTP_SECRET_MAX);
		return msg;
	}
	if (oath_base32_decode(w, strlen(w), &bin, &binlen) != OATH_OK)
		return "the secret is not valid base32 (wrong length or "
		    "padding)";
	if (binlen < TOTP_SECRET_MIN) {
		snprintf(msg, len, "the secret is %zu bytes; at least %d "
		    "(%d bits) are needed", binlen, TOTP_SECRET_MIN,
		    TOTP_SECRET_MIN * 8);
		why = msg;
	} else if (binlen > TOTP_SECRET_MAX) {
		snprintf(msg, len, "the secret is longer than %d bytes",
		    TOTP_SECRET_MAX);
		why = msg;
	} else if (b32_encode((uint8_t *)bin, binlen, canon,
	    sizeof(canon)) != 0 || strlen(canon) != n ||
	    strncasecmp(canon, w, n) != 0)
		why = "the secret is not canonical base32 (its last character "
		    "carries bits that are not part of any byte)";
	else {
		memcpy(e->secret, bin, binlen);
		e->secretlen = binlen;
	}
	sodium_memzero(canon, sizeof(canon));
	if (bin != NULL) {
		sodium_memzero(bin, binlen);
		free(bin);
	}
	return why;
}

static int
hex_decode(const char *s, size_t n, uint8_t *out)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < n / 2; i++) {
		hi = s[2 * i];
		lo = s[2 * i + 1];
#define HV(c) ((c) >= '0' && (c) <= '9' ? (c) - '0' : \
	(c) >= 'a' && (c) <= 'f' ? (c) - 'a' + 10 : -1)
		if (HV(hi) < 0 || HV(lo) < 0)
			return -1;
		out[i] = (uint8_t)(HV(hi) << 4 | HV(lo));
#undef HV
	}
	return 0;
}

/* "scratch=SALT:HASH,..." with lower-case hex (32 and 64 digits). */
static void
parse_scratch(struct parser *p, const char *v, struct totp_entry *e,
    int *bad)
{
	const char *c, *end;
	size_t n = 0;

	if (*v == '\0') {
		perr(p, "scratch= needs at least one SALT:HASH");
		*bad = 1;
		return;
	}
	for (c = v;; c = end + 1) {
		if ((end = strchr(c, ',')) == NULL)
			end = c + strlen(c);
		if (n == TOTP_SCRATCH_MAX) {
			perr(p, "more than %d scratch codes", TOTP_SCRATCH_MAX);
			*bad = 1;
			return;
		}
		if (end - c != SALT_HEX + 1 + HASH_HEX || c[SALT_HEX] != ':' ||
		    hex_decode(c, SALT_HEX, e->scratch[n].salt) != 0 ||
		    hex_decode(c + SALT_HEX + 1, HASH_HEX,
		    e->scratch[n].hash) != 0) {
			perr(p, "scratch code %zu is malformed: expected "
			    "SALT:HASH, %d and %d lower-case hex digits", n + 1,
			    SALT_HEX, HASH_HEX);
			*bad = 1;
			return;
		}
		n++;
		if (*end == '\0')
			break;
	}
	e->nscratch = n;
}

static void
parse_extra(struct parser *p, const char *w, struct totp_entry *e,
    int *seen, int *bad)
{
	char safe[80];

	diag_safe(w, strlen(w), safe, sizeof(safe));
	if (w[0] == '#') {
		perr(p, "a comment must be on a line of its own");
		*bad = 1;
	} else if (strncmp(w, "scratch=", 8) == 0) {
		if ((*seen)++ > 0) {
			perr(p, "scratch= given twice");
			*bad = 1;
		} else
			parse_scratch(p, w + 8, e, bad);
	} else if (strchr(w, '=') != NULL) {
		perr(p, "unknown field \"%s\" (only scratch= may follow the "
		    "secret)", safe);
		*bad = 1;
	} else {
		perr(p, "unexpected \"%s\" after the secret", safe);
		*bad = 1;
	}
}

static void
parse_entry(struct parser *p, int ac, char **av)
{
	struct totp_entry *e;
	char msg[DIAG_MSG_MAX];
	const char *why;
	int i, bad = 0, seen = 0;

	if (ac < 5) {
		perr(p, "expected USER ALG DIGITS PERIOD SECRET "
		    "[scratch=SALT:HASH,...]");
		return;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		perr(p, "out of memory");
		return;
	}
	e->line = p->line;
	parse_user(p, av[0], e, &bad);
	parse_params(p, av, e, &bad);
	if ((why = decode_secret(av[4], e, msg, sizeof(msg))) != NULL) {
		perr(p, "%s", why);
		bad = 1;
	}
	for (i = 5; i < ac; i++)
		parse_extra(p, av[i], e, &seen, &bad);
	if (!bad && p->s->nentries >= SECRETS_MAX_USERS) {
		perr(p, "more than %d users", SECRETS_MAX_USERS);
		bad = 1;
	}
	if (!bad && add_item(p->s, e, NULL) != 0) {
		perr(p, "out of memory");
		bad = 1;
	}
	if (bad)
		entry_free(e);
}

static void
parse_line(struct parser *p, const char *line, size_t len)
{
	char buf[TEXTFILE_LINE_MAX + 1], err[DIAG_MSG_MAX], *text;
	char *av[MAX_FIELDS];
	int ac;

	p->line++;
	ac = textfile_words(line, len, buf, av, MAX_FIELDS, 0, err,
	    sizeof(err));
	if (ac == -1) {
		perr(p, "%s", err);
		return;
	}
	if (ac == 0 || (ac > 0 && av[0][0] == '#')) {
		if ((text = strndup(line, len)) == NULL ||
		    add_item(p->s, NULL, text) != 0) {
			free(text);
			perr(p, "out of memory");
		}
	} else if (ac < 0)
		perr(p, "more than %d fields", MAX_FIELDS);
	else
		parse_entry(p, ac, av);
	sodium_memzero(buf, len + 1);
}

static void
check_duplicates(struct parser *p)
{
	struct totp_secrets *s = p->s;
	size_t i, first = 0;

	if (s->nentries < 2)
		return;
	qsort(s->index, s->nentries, sizeof(*s->index), entry_cmp);
	for (i = 1; i < s->nentries; i++) {
		if (strcmp(s->index[i]->user, s->index[first]->user) != 0) {
			first = i;
			continue;
		}
		diag_at(&p->d, p->file, s->index[i]->line, "duplicate user %s "
		    "(first at line %lu)", s->index[i]->user,
		    s->index[first]->line);
	}
}

int
totp_secrets_load_buf(const char *name, const char *buf, size_t len,
    diag_fn *fn, void *ctx, struct totp_secrets **out)
{
	struct parser p;
	const char *line;
	size_t off = 0, linelen;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.d.fn = fn;
	p.d.ctx = ctx;
	p.file = name;
	if (totp_lib_init() != 0) {
		diag_at(&p.d, name, 0, "cannot initialise libsodium or "
		    "liboath");
		return -1;
	}
	if ((p.s = calloc(1, sizeof(*p.s))) == NULL) {
		diag_at(&p.d, name, 0, "out of memory");
		return -1;
	}
	while (textfile_next(buf, len, &off, &line, &linelen))
		parse_line(&p, line, linelen);
	check_duplicates(&p);
	if (p.d.count != 0) {
		totp_secrets_free(p.s);
		return -1;
	}
	*out = p.s;
	return 0;
}

/* ---- ownership and mode ---- */

static const char *
uid_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw;

	if ((pw = getpwuid(uid)) != NULL)
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "uid %lu", (unsigned long)uid);
	return buf;
}

static const char *
gid_name(gid_t gid, char *buf, size_t len)
{
	struct group *gr;

	if ((gr = getgrgid(gid)) != NULL)
		snprintf(buf, len, "%s", gr->gr_name);
	else
		snprintf(buf, len, "gid %lu", (unsigned long)gid);
	return buf;
}

static void
add_what(char *buf, size_t len, const char *s)
{
	size_t off = strlen(buf);

	snprintf(buf + off, len - off, "%s%s", off > 0 ? ", " : "", s);
}

/*
 * Who may read the file: its owner (root or the gateway's user), and its
 * group only if that is the gateway's group.  Nobody else may write it.
 */
static int
check_mode(const char *path, const struct stat *st, uid_t owner_uid,
    gid_t group_gid, struct diag *d)
{
	mode_t mode = st->st_mode & 07777, fix;
	int group_ok = group_gid != (gid_t)-1 && st->st_gid == group_gid;
	char what[128] = "", a[64], b[64];
	unsigned int before = d->count;

	if (st->st_uid != 0 && st->st_uid != owner_uid)
		diag_at(d, path, 0, "owned by %s, not by root or %s; run: "
		    "chown root %s", uid_name(st->st_uid, a, sizeof(a)),
		    uid_name(owner_uid, b, sizeof(b)), path);
	if (mode & 020)
		add_what(what, sizeof(what), "writable by group");
	if (mode & 002)
		add_what(what, sizeof(what), "writable by others");
	if (mode & 004)
		add_what(what, sizeof(what), "readable by others");
	if ((mode & 040) && !group_ok) {
		snprintf(a, sizeof(a), "readable by group %s",
		    gid_name(st->st_gid, b, sizeof(b)));
		add_what(what, sizeof(what), a);
	}
	if (*what != '\0') {
		fix = group_ok && (mode & 040) ? 0640 : 0600;
		diag_at(d, path, 0, "%s (mode %04o); run: chmod %04o %s", what,
		    (unsigned int)mode, (unsigned int)fix, path);
	}
	return d->count == before ? 0 : -1;
}

static int
check_file(const char *path, uid_t owner_uid, gid_t group_gid,
    struct diag *d)
{
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
	    O_NOCTTY);
	if (fd < 0) {
		if (errno == ELOOP)
			diag_at(d, path, 0, "is a symbolic link; name the file "
			    "itself");
		else
			diag_at(d, path, 0, "cannot open: %s",
			    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		diag_at(d, path, 0, "cannot stat: %s", strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	if (!S_ISREG(st.st_mode)) {
		diag_at(d, path, 0, "is not a regular file");
		return -1;
	}
	return check_mode(path, &st, owner_uid, group_gid, d);
}

int
totp_secrets_load(const char *path, int check_owner, uid_t owner_uid,
    gid_t group_gid, diag_fn *fn, void *ctx, struct totp_secrets **out)
{
	struct diag d = { fn, ctx, 0 };
	char err[DIAG_MSG_MAX], *buf;
	size_t len;
	int r;

	*out = NULL;
	/*
	 * The directory (/etc/rampart) belongs to root, so the file checked
	 * here is the one textfile_read() opens next.
	 */
	if (check_owner && check_file(path, owner_uid, group_gid, &d) != 0)
		return -1;
	if (textfile_read(path, &buf, &len, err, sizeof(err)) != 0) {
		diag_at(&d, path, 0, "%s", err);
		return -1;
	}
	r = totp_secrets_load_buf(path, buf, len, fn, ctx, out);
	sodium_memzero(buf, len);
	free(buf);
	return r;
}

/* ---- writing ---- */

static int
format_entry(const struct totp_entry *e, char *buf, size_t len)
{
	char b32[TOTP_SECRET_MAX * 2];
	size_t off, i;
	int n;

	if (b32_encode(e->secret, e->secretlen, b32, sizeof(b32)) != 0)
		return -1;
	n = snprintf(buf, len, "%s %s %u %u %s", e->user,
	    totp_alg_name(e->alg), e->digits, e->period, b32);
	sodium_memzero(b32, sizeof(b32));
	if (n < 0 || (size_t)n >= len)
		return -1;
	off = (size_t)n;
	for (i = 0; i < e->nscratch; i++) {
		if (off + 1 + 8 + SALT_HEX + 1 + HASH_HEX + 2 > len)
			return -1;
		memcpy(buf + off, i == 0 ? " scratch=" : ",", i == 0 ? 9 : 1);
		off += i == 0 ? 9 : 1;
		sodium_bin2hex(buf + off, SALT_HEX + 1, e->scratch[i].salt, 16);
		off += SALT_HEX;
		buf[off++] = ':';
		sodium_bin2hex(buf + off, HASH_HEX + 1, e->scratch[i].hash,
		    TOTP_SCRATCH_HASH);
		off += HASH_HEX;
	}
	buf[off++] = '\n';
	buf[off] = '\0';
	return (int)off;
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
write_items(const struct totp_secrets *s, int fd)
{
	char line[TEXTFILE_LINE_MAX + 2];
	size_t i;
	int n, r = 0;

	for (i = 0; i < s->nitems && r == 0; i++) {
		if (s->items[i].e == NULL) {
			n = snprintf(line, sizeof(line), "%s\n",
			    s->items[i].text);
			if (n < 0 || (size_t)n >= sizeof(line))
				n = -1;
		} else
			n = format_entry(s->items[i].e, line, sizeof(line));
		if (n < 0)
			errno = EOVERFLOW;
		if (n < 0 || write_all(fd, line, (size_t)n) != 0)
			r = -1;
	}
	sodium_memzero(line, sizeof(line));
	return r;
}

/* dir and base of path into dir (for mkstemp) and a template. */
static int
temp_name(const char *path, char *dir, size_t dlen, char *tmp, size_t tlen)
{
	const char *slash = strrchr(path, '/');
	int n;

	if (slash == NULL)
		n = snprintf(dir, dlen, ".");
	else if (slash == path)
		n = snprintf(dir, dlen, "/");
	else
		n = snprintf(dir, dlen, "%.*s", (int)(slash - path), path);
	if (n < 0 || (size_t)n >= dlen)
		return -1;
	n = snprintf(tmp, tlen, "%s/.%s.XXXXXX", dir,
	    slash == NULL ? path : slash + 1);
	return n < 0 || (size_t)n >= tlen ? -1 : 0;
}

static int
fsync_dir(const char *dir)
{
	int fd, r;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

int
totp_secrets_write(const struct totp_secrets *s, const char *path,
    char *err, size_t errlen)
{
	char dir[PATH_MAX], tmp[PATH_MAX + 16];
	const char *what;
	struct stat st;
	int fd = -1, have;

	if (s == NULL || path == NULL || temp_name(path, dir, sizeof(dir), tmp,
	    sizeof(tmp)) != 0) {
		snprintf(err, errlen, "%s: bad path", path ? path : "(null)");
		return -1;
	}
	if ((have = lstat(path, &st) == 0) && !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: is not a regular file", path);
		return -1;
	}
	if (!have && errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	what = "create a temporary file";
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		goto fail;
	what = "keep the owner";
	if (have && (st.st_uid != geteuid() || st.st_gid != getegid()) &&
	    fchown(fd, st.st_uid, st.st_gid) != 0)
		goto fail;
	what = "set the mode";
	if (fchmod(fd, have ? st.st_mode & 07777 : 0600) != 0)
		goto fail;
	what = "write";
	if (write_items(s, fd) != 0 || fsync(fd) != 0)
		goto fail;
	what = "close";
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	what = "rename";
	if (rename(tmp, path) != 0)
		goto fail;
	if (fsync_dir(dir) != 0) {
		snprintf(err, errlen, "%s: written, but syncing %s failed: %s",
		    path, dir, strerror(errno));
		return -1;
	}
	return 0;
 fail:
	snprintf(err, errlen, "%s: cannot %s: %s", path, what,
	    strerror(errno));
	if (fd >= 0)
		close(fd);
	if (strcmp(what, "create a temporary file") != 0)
		unlink(tmp);
	return -1;
}
