/*
 * conv: strict converters for the values in policy and config files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conv.h"

static int
parse_digits(const char *s, size_t len, unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 9 || (s[0] == '0' && len > 1))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int
conv_name_ok(const char *s, size_t max)
{
	size_t i, len = strlen(s);

	if (len == 0 || len > max)
		return 0;
	if (!((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return 0;
	for (i = 1; i < len; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		    s[i] == '-' || s[i] == '.'))
			return 0;
	}
	return 1;
}

int
conv_uint(const char *s, unsigned long min, unsigned long max,
    unsigned long *out, char *err, size_t errlen)
{
	unsigned long v;

	if (parse_digits(s, strlen(s), &v) != 0) {
		snprintf(err, errlen, "\"%.32s\" is not a number", s);
		return -1;
	}
	if (v < min || v > max) {
		snprintf(err, errlen, "%lu is out of range (%lu-%lu)", v, min,
		    max);
		return -1;
	}
	*out = v;
	return 0;
}

int
conv_duration(const char *s, unsigned long max, unsigned long *out,
    char *err, size_t errlen)
{
	unsigned long total = 0, v, mult, last = 0;
	const char *p = s, *start;

	if (*s == '\0')
		goto bad;
	while (*p != '\0') {
		for (start = p; *p >= '0' && *p <= '9'; p++)
			;
		if (parse_digits(start, (size_t)(p - start), &v) != 0)
			goto bad;
		switch (*p) {
		case '\0':
			/* A bare number is seconds, but only on its own. */
			if (start != s)
				goto bad;
			mult = 1;
			break;
		case 's': mult = 1; p++; break;
		case 'm': mult = 60; p++; break;
		case 'h': mult = 3600; p++; break;
		case 'd': mult = 86400; p++; break;
		default:
			goto bad;
		}
		/* "1h30m", not "30m1h" or "1h1h": each unit once, largest first. */
		if (last != 0 && mult >= last)
			goto bad;
		last = mult;
		if (v > max / mult || total > max - v * mult)
			goto range;
		total += v * mult;
	}
	if (total == 0)
		goto range;
	*out = total;
	return 0;
 bad:
	snprintf(err, errlen, "\"%.32s\" is not a duration (examples: 90s, "
	    "15m, 8h, 1h30m, 2d)", s);
	return -1;
 range:
	snprintf(err, errlen, "duration \"%.32s\" is out of range (1s to "
	    "%lud)", s, max / 86400);
	return -1;
}

void
conv_duration_str(unsigned long secs, char *buf, size_t len)
{
	static const struct { unsigned long n; char c; } units[] = {
		{ 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' },
	};
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < 4 && o < len; i++) {
		if (secs / units[i].n == 0)
			continue;
		o += (size_t)snprintf(buf + o, len - o, "%lu%c",
		    secs / units[i].n, units[i].c);
		secs %= units[i].n;
	}
	if (buf[0] == '\0')
		snprintf(buf, len, "0s");
}

static int
leap(unsigned long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian, y >= 1970). */
static long long
days_from_civil(unsigned long y, unsigned long m, unsigned long d)
{
	static const int cum[] = {
		0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334
	};
	long long days = 0;
	unsigned long yy;

	for (yy = 1970; yy < y; yy++)
		days += leap(yy) ? 366 : 365;
	days += cum[m - 1] + (long long)d - 1;
	if (m > 2 && leap(y))
		days++;
	return days;
}

/* Exactly n decimal digits, leading zeros allowed (dates, times). */
static int
fixed_digits(const char *s, size_t n, unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static int
date_fields(const char *s, size_t len, unsigned long f[6])
{
	f[3] = f[4] = f[5] = 0;
	if ((len != 10 && len != 20) || s[4] != '-' || s[7] != '-' ||
	    fixed_digits(s, 4, &f[0]) != 0 ||
	    fixed_digits(s + 5, 2, &f[1]) != 0 ||
	    fixed_digits(s + 8, 2, &f[2]) != 0)
		return -1;
	if (len == 20 && (s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
	    s[19] != 'Z' || fixed_digits(s + 11, 2, &f[3]) != 0 ||
	    fixed_digits(s + 14, 2, &f[4]) != 0 ||
	    fixed_digits(s + 17, 2, &f[5]) != 0))
		return -1;
	return 0;
}

int
conv_date(const char *s, time_t *out, char *err, size_t errlen)
{
	static const unsigned long mdays[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	unsigned long f[6], dim;
	size_t len = strlen(s);
	long long t;

	if (date_fields(s, len, f) != 0) {
		snprintf(err, errlen, "\"%.32s\" is not a date (YYYY-MM-DD "
		    "or YYYY-MM-DDTHH:MM:SSZ)", s);
		return -1;
	}
	if (f[0] < 1970 || f[1] < 1 || f[1] > 12 || f[2] < 1 || f[3] > 23 ||
	    f[4] > 59 || f[5] > 59)
		goto invalid;
	dim = mdays[f[1] - 1] + (f[1] == 2 && leap(f[0]) ? 1 : 0);
	if (f[2] > dim)
		goto invalid;
	t = days_from_civil(f[0], f[1], f[2]) * 86400LL;
	if (len == 10)
		t += 86400;
	else
		t += (long long)(f[3] * 3600 + f[4] * 60 + f[5]);
	*out = (time_t)t;
	return 0;
 invalid:
	snprintf(err, errlen, "\"%.32s\" is not a valid date", s);
	return -1;
}

static int
port_number(const char *s, size_t len, unsigned long *out, char *err,
    size_t errlen)
{
	if (parse_digits(s, len, out) != 0) {
		snprintf(err, errlen, "\"%.*s\" is not a port number",
		    (int)(len > 32 ? 32 : len), s);
		return -1;
	}
	if (*out == 0 || *out > 65535) {
		snprintf(err, errlen, "port %lu is out of range (1-65535)",
		    *out);
		return -1;
	}
	return 0;
}

int
conv_ports(const char *s, struct port_range *out, size_t *n, char *err,
    size_t errlen)
{
	const char *p = s, *end, *dash;
	unsigned long lo, hi;

	*n = 0;
	if (strcasecmp(s, "any") == 0) {
		out[0].lo = 1;
		out[0].hi = 65535;
		*n = 1;
		return 0;
	}
	for (;;) {
		if ((end = strchr(p, ',')) == NULL)
			end = p + strlen(p);
		if (*n == CONV_PORTS_MAX) {
			snprintf(err, errlen, "more than %d entries in a port "
			    "list", CONV_PORTS_MAX);
			return -1;
		}
		dash = memchr(p, '-', (size_t)(end - p));
		if (port_number(p, (size_t)((dash ? dash : end) - p), &lo,
		    err, errlen) != 0)
			return -1;
		hi = lo;
		if (dash != NULL && port_number(dash + 1,
		    (size_t)(end - dash - 1), &hi, err, errlen) != 0)
			return -1;
		if (hi < lo) {
			snprintf(err, errlen, "port range %lu-%lu is reversed",
			    lo, hi);
			return -1;
		}
		out[*n].lo = (uint16_t)lo;
		out[*n].hi = (uint16_t)hi;
		(*n)++;
		if (*end == '\0')
			return 0;
		p = end + 1;
	}
}

int
conv_ports_match(const struct port_range *r, size_t n, unsigned int port)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (port >= r[i].lo && port <= r[i].hi)
			return 1;
	}
	return 0;
}

void
conv_ports_str(const struct port_range *r, size_t n, char *buf, size_t len)
{
	size_t i, o = 0;

	buf[0] = '\0';
	if (n == 1 && r[0].lo == 1 && r[0].hi == 65535) {
		snprintf(buf, len, "any");
		return;
	}
	for (i = 0; i < n && o < len; i++) {
		if (r[i].lo == r[i].hi)
			o += (size_t)snprintf(buf + o, len - o, "%s%u",
			    i ? "," : "", r[i].lo);
		else
			o += (size_t)snprintf(buf + o, len - o, "%s%u-%u",
			    i ? "," : "", r[i].lo, r[i].hi);
	}
}
