/*
 * authkeys: the authorized_keys line format, options checked strictly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authkeys.h"
#include "textfile.h"

/* Options that only switch off what the gateway never provides. */
static const char *const harmless_options[] = {
	"no-pty", "no-x11-forwarding", "no-agent-forwarding", "no-user-rc",
};

static int
is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Next whitespace-separated field at *pos; returns its length (0 at end). */
static size_t
next_field(const char *line, size_t len, size_t *pos, const char **field)
{
	size_t start;

	while (*pos < len && is_space(line[*pos]))
		(*pos)++;
	start = *pos;
	while (*pos < len && !is_space(line[*pos]))
		(*pos)++;
	*field = line + start;
	return *pos - start;
}

/* The options field may hold quoted strings with spaces in them. */
static size_t
options_field(const char *line, size_t len, size_t *pos, const char **field)
{
	size_t start;
	int quoted = 0;

	while (*pos < len && is_space(line[*pos]))
		(*pos)++;
	start = *pos;
	for (; *pos < len; (*pos)++) {
		if (line[*pos] == '\\' && quoted && *pos + 1 < len)
			(*pos)++;
		else if (line[*pos] == '"')
			quoted = !quoted;
		else if (!quoted && is_space(line[*pos]))
			break;
	}
	*field = line + start;
	return quoted ? 0 : *pos - start;
}

static int
check_options(const char *opts, size_t len, char *err, size_t errlen)
{
	size_t i, start = 0, n, k;
	int quoted = 0, ok;

	for (i = 0; i <= len; i++) {
		if (i < len && opts[i] == '"')
			quoted = !quoted;
		if (i < len && (quoted || opts[i] != ','))
			continue;
		n = i - start;
		ok = 0;
		for (k = 0; k < sizeof(harmless_options) /
		    sizeof(harmless_options[0]); k++) {
			if (strlen(harmless_options[k]) == n &&
			    strncasecmp(opts + start, harmless_options[k],
			    n) == 0)
				ok = 1;
		}
		if (!ok) {
			for (k = start; k < i && opts[k] != '='; k++)
				;
			snprintf(err, errlen, "key option \"%.*s\" is not "
			    "supported; express limits with the policy's "
			    "from/allow keywords instead", (int)(k - start),
			    opts + start);
			return -1;
		}
		start = i + 1;
	}
	return 0;
}

static void
set_comment(struct pubkey *k, const char *s, size_t len)
{
	while (len > 0 && is_space(s[len - 1]))
		len--;
	/* A comment is only a label: cut it at a UTF-8 boundary if long. */
	if (len >= sizeof(k->comment)) {
		len = sizeof(k->comment) - 1;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	memcpy(k->comment, s, len);
	k->comment[len] = '\0';
}

int
authkeys_parse_line(const char *line, size_t len, int allow_options,
    struct pubkey *out, char *err, size_t errlen)
{
	const char *f, *opts = NULL, *b64;
	char type[64];
	size_t pos = 0, flen, b64len, optlen = 0;

	memset(out, 0, sizeof(*out));
	flen = next_field(line, len, &pos, &f);
	if (flen == 0 || f[0] == '#')
		return 0;
	if (!pubkey_is_type_name(f, flen)) {
		if (!allow_options) {
			snprintf(err, errlen, "unknown key type \"%.*s\"",
			    (int)(flen > 40 ? 40 : flen), f);
			return -1;
		}
		pos = (size_t)(f - line);
		if ((optlen = options_field(line, len, &pos, &opts)) == 0) {
			snprintf(err, errlen, "unterminated quote in options");
			return -1;
		}
		flen = next_field(line, len, &pos, &f);
	}
	if (flen == 0 || flen >= sizeof(type) ||
	    !pubkey_is_type_name(f, flen)) {
		/* Name what came first: a misspelt type, most likely. */
		f = opts != NULL ? opts : f;
		flen = opts != NULL ? optlen : flen;
		snprintf(err, errlen, "unknown key type \"%.*s\"",
		    (int)(flen > 40 ? 40 : flen), f);
		return -1;
	}
	memcpy(type, f, flen);
	type[flen] = '\0';
	if ((b64len = next_field(line, len, &pos, &b64)) == 0) {
		snprintf(err, errlen, "missing key data after %s", type);
		return -1;
	}
	if (opts != NULL && check_options(opts, optlen, err, errlen) != 0)
		return -1;
	if (pubkey_parse(type, b64, b64len, out, err, errlen) != 0)
		return -1;
	while (pos < len && is_space(line[pos]))
		pos++;
	set_comment(out, line + pos, len - pos);
	return 1;
}

int
authkeys_parse(const char *file, const char *buf, size_t len, struct diag *d,
    authkeys_fn *cb, void *ctx)
{
	struct pubkey k;
	const char *line;
	char err[DIAG_MSG_MAX];
	size_t off = 0, linelen;
	unsigned long lineno = 0;
	unsigned int before = d->count;
	int r, nkeys = 0;

	while (textfile_next(buf, len, &off, &line, &linelen)) {
		lineno++;
		if (textfile_check_line(line, linelen, err, sizeof(err))) {
			diag_at(d, file, lineno, "%s", err);
			continue;
		}
		r = authkeys_parse_line(line, linelen, 1, &k, err, sizeof(err));
		if (r < 0) {
			diag_at(d, file, lineno, "%s", err);
			continue;
		}
		if (r == 0)
			continue;
		r = cb(ctx, &k, lineno);
		pubkey_clear(&k);
		if (r != 0) {
			diag_at(d, file, lineno, "out of memory");
			return -1;
		}
		nkeys++;
	}
	return d->count == before ? nkeys : -1;
}

int
authkeys_load(const char *path, struct diag *d, authkeys_fn *cb, void *ctx)
{
	char err[DIAG_MSG_MAX], *buf;
	size_t len;
	int r;

	if (textfile_read(path, &buf, &len, err, sizeof(err)) != 0) {
		diag_at(d, path, 0, "%s", err);
		return -1;
	}
	r = authkeys_parse(path, buf, len, d, cb, ctx);
	free(buf);
	return r;
}
