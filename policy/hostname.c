/*
 * hostname: normalising requested names and matching them against globs.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "hostname.h"

static int
label_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	    c == '_';
}

/* 1 if the label could be read as a number by inet_aton (decimal, 0x..). */
static int
numeric_label(const char *s, size_t len)
{
	size_t i = 0;

	if (len > 2 && s[0] == '0' && s[1] == 'x')
		i = 2;
	for (; i < len; i++) {
		if (!(s[i] >= '0' && s[i] <= '9') &&
		    !(len > 2 && s[1] == 'x' && s[i] >= 'a' && s[i] <= 'f'))
			return 0;
	}
	return 1;
}

static int
bad_char(int c, char *err, size_t errlen)
{
	if (isprint(c))
		snprintf(err, errlen, "character '%c' is not allowed in a "
		    "host name", c);
	else
		snprintf(err, errlen, "byte 0x%02x is not allowed in a host "
		    "name", c);
	return -1;
}

/*
 * Shared syntax check over a lower-cased copy: labels of 1..63 characters
 * from [a-z0-9_-] (and '*' in patterns), not starting or ending with '-',
 * and a last label that no resolver could take for a number.
 */
static int
check_labels(const char *s, int glob, char *err, size_t errlen)
{
	size_t label = 0, i, len = strlen(s);
	int addrlike = 1, c;

	if (len == 0) {
		snprintf(err, errlen, "empty host name");
		return -1;
	}
	for (i = 0; i <= len; i++) {
		c = (unsigned char)s[i];
		if (c == '.' || c == '\0') {
			if (label == 0) {
				snprintf(err, errlen, "empty label in host "
				    "name");
				return -1;
			}
			if (s[i - 1] == '-' || s[i - label] == '-') {
				snprintf(err, errlen, "label starts or ends "
				    "with '-'");
				return -1;
			}
			if (c == '\0' && numeric_label(s + i - label, label))
				addrlike = 1;
			else if (c == '\0' && !addrlike)
				break;
			label = 0;
			continue;
		}
		if (!label_char(c) && !(glob && c == '*'))
			return bad_char(c, err, errlen);
		if (!(c >= '0' && c <= '9') && c != '*')
			addrlike = 0;
		if (++label > 63) {
			snprintf(err, errlen, "label longer than 63 "
			    "characters");
			return -1;
		}
	}
	if (addrlike) {
		snprintf(err, errlen, "looks like an address but is not a "
		    "valid one%s", glob ? "; use a CIDR such as 10.0.0.0/24" :
		    "");
		return -1;
	}
	return 0;
}

/* Lower-case the first len bytes of in into out, NUL-terminated. */
static int
lower_copy(const char *in, size_t len, char *out, size_t outlen, char *err,
    size_t errlen)
{
	size_t i;

	if (len > HOSTNAME_MAX || len >= outlen) {
		snprintf(err, errlen, "host name longer than %d characters",
		    HOSTNAME_MAX);
		return -1;
	}
	for (i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[len] = '\0';
	return 0;
}

int
hostname_normalise(const char *name, char *out, size_t outlen, char *err,
    size_t errlen)
{
	size_t len = strlen(name);

	/*
	 * "name." and "name" are the same host: drop exactly one dot, before
	 * the length check, so the longest name fits with or without it.
	 */
	if (len > 1 && name[len - 1] == '.')
		len--;
	if (lower_copy(name, len, out, outlen, err, errlen) != 0)
		return -1;
	return check_labels(out, 0, err, errlen);
}

int
hostname_pattern(const char *pat, char *out, size_t outlen, char *err,
    size_t errlen)
{
	size_t len = strlen(pat);

	if (lower_copy(pat, len, out, outlen, err, errlen) != 0)
		return -1;
	if (len > 1 && out[len - 1] == '.') {
		snprintf(err, errlen, "host pattern must not end with '.'");
		return -1;
	}
	if (strcmp(out, "*") == 0)
		return 0;
	return check_labels(out, 1, err, errlen);
}

int
hostname_match(const char *pat, const char *name)
{
	const char *star_p = NULL, *star_n = NULL;

	/* Iterative glob with single backtrack point: linear, no recursion. */
	while (*name != '\0') {
		if (*pat == '*') {
			star_p = ++pat;
			star_n = name;
		} else if (*pat == *name) {
			pat++;
			name++;
		} else if (star_p != NULL) {
			pat = star_p;
			name = ++star_n;
		} else
			return 0;
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}
