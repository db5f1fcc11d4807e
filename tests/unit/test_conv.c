/*
 * test_conv: the typed converters behind every value in a policy file.
 * Dates are checked against the C library's timegm() as an independent
 * oracle; error texts are checked where a user reads them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "conv.h"

static void
assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL) {
		fail_msg("\"%s\" does not contain \"%s\"", hay, needle);
	}
}

static unsigned long
uint_ok(const char *s, unsigned long min, unsigned long max)
{
	char err[256];
	unsigned long v = 12345;

	if (conv_uint(s, min, max, &v, err, sizeof(err)) != 0) {
		fail_msg("conv_uint(\"%s\"): %s", s, err);
	}
	return v;
}

static void
uint_bad(const char *s, unsigned long min, unsigned long max,
    const char *want)
{
	char err[256] = "";
	unsigned long v = 12345;

	if (conv_uint(s, min, max, &v, err, sizeof(err)) != -1) {
		fail_msg("conv_uint accepted \"%s\"", s);
	}
	assert_int_equal(v, 12345);
	assert_contains(err, want);
}

static unsigned long
dur_ok(const char *s, unsigned long max)
{
	char err[256];
	unsigned long v = 0;

	if (conv_duration(s, max, &v, err, sizeof(err)) != 0) {
		fail_msg("conv_duration(\"%s\"): %s", s, err);
	}
	return v;
}

static void
dur_bad(const char *s, unsigned long max, const char *want)
{
	char err[256] = "";
	unsigned long v = 777;

	if (conv_duration(s, max, &v, err, sizeof(err)) != -1) {
		fail_msg("conv_duration accepted \"%s\" as %lu", s, v);
	}
	assert_int_equal(v, 777);
	assert_contains(err, want);
}

static time_t
date_ok(const char *s)
{
	char err[256];
	time_t t = 0;

	if (conv_date(s, &t, err, sizeof(err)) != 0) {
		fail_msg("conv_date(\"%s\"): %s", s, err);
	}
	return t;
}

static void
date_bad(const char *s, const char *want)
{
	char err[256] = "";
	time_t t = 42;

	if (conv_date(s, &t, err, sizeof(err)) != -1) {
		fail_msg("conv_date accepted \"%s\" as %lld", s,
		    (long long)t);
	}
	assert_int_equal(t, 42);
	assert_contains(err, want);
}

static void
ports_bad(const char *s, const char *want)
{
	struct port_range r[CONV_PORTS_MAX];
	char err[256] = "";
	size_t n;

	if (conv_ports(s, r, &n, err, sizeof(err)) != -1) {
		fail_msg("conv_ports accepted \"%s\"", s);
	}
	assert_contains(err, want);
}

static size_t
ports_ok(const char *s, struct port_range *r)
{
	char err[256];
	size_t n = 999;

	if (conv_ports(s, r, &n, err, sizeof(err)) != 0) {
		fail_msg("conv_ports(\"%s\"): %s", s, err);
	}
	return n;
}

static void
test_uint(void **state)
{
	(void)state;
	assert_int_equal(uint_ok("0", 0, 10), 0);
	assert_int_equal(uint_ok("10", 0, 10), 10);
	assert_int_equal(uint_ok("1", 1, 10000), 1);
	assert_int_equal(uint_ok("10000", 1, 10000), 10000);
	assert_int_equal(uint_ok("999999999", 0, 999999999), 999999999);
	uint_bad("0", 1, 10000, "0 is out of range (1-10000)");
	uint_bad("10001", 1, 10000, "10001 is out of range (1-10000)");
	uint_bad("", 0, 10, "is not a number");
	uint_bad("010", 0, 100, "\"010\" is not a number");
	uint_bad("-1", 0, 10, "is not a number");
	uint_bad("+1", 0, 10, "is not a number");
	uint_bad(" 1", 0, 10, "is not a number");
	uint_bad("1 ", 0, 10, "is not a number");
	uint_bad("1e3", 0, 10000, "is not a number");
	uint_bad("0x10", 0, 100, "is not a number");
	/* Too many digits to be a count: refused, never wrapped. */
	uint_bad("18446744073709551617", 0, 10, "is not a number");
}

static void
test_duration(void **state)
{
	(void)state;
	assert_int_equal(dur_ok("90", 86400), 90);
	assert_int_equal(dur_ok("90s", 86400), 90);
	assert_int_equal(dur_ok("15m", 86400), 900);
	assert_int_equal(dur_ok("8h", 86400), 28800);
	assert_int_equal(dur_ok("1h30m", 86400), 5400);
	assert_int_equal(dur_ok("2d", 30 * 86400), 172800);
	assert_int_equal(dur_ok("1d2h3m4s", 30 * 86400), 93784);
	assert_int_equal(dur_ok("1s", 1), 1);
	/* The maximum itself is allowed. */
	assert_int_equal(dur_ok("30d", 30 * 86400), 30 * 86400);
	assert_int_equal(dur_ok("2592000", 30 * 86400), 30 * 86400);
}

static void
test_duration_bad(void **state)
{
	(void)state;
	/* A bare number only on its own: "1h30" is ambiguous. */
	dur_bad("1h30", 86400, "\"1h30\" is not a duration");
	dur_bad("1h30", 86400, "examples: 90s, 15m, 8h, 1h30m, 2d");
	dur_bad("5x", 86400, "is not a duration");
	dur_bad("", 86400, "is not a duration");
	dur_bad("h", 86400, "is not a duration");
	dur_bad("m5", 86400, "is not a duration");
	dur_bad("-5m", 86400, "is not a duration");
	dur_bad("+5m", 86400, "is not a duration");
	dur_bad("1.5h", 86400, "is not a duration");
	dur_bad(" 5m", 86400, "is not a duration");
	dur_bad("5m ", 86400, "is not a duration");
	dur_bad("05m", 86400, "is not a duration");
	dur_bad("5M", 86400, "is not a duration");
	dur_bad("5 m", 86400, "is not a duration");
	dur_bad("1w", 86400, "is not a duration");
	/* Zero is not a timeout. */
	dur_bad("0", 86400, "out of range");
	dur_bad("0s", 86400, "out of range");
	dur_bad("0h0m", 86400, "out of range");
}

static void
test_duration_overflow(void **state)
{
	(void)state;
	dur_bad("31d", 30 * 86400, "duration \"31d\" is out of range (1s to "
	    "30d)");
	dur_bad("30d1s", 30 * 86400, "out of range");
	dur_bad("2592001", 30 * 86400, "out of range");
	dur_bad("999999999d", 30 * 86400, "out of range");
	dur_bad("999999999d999999999h", 30 * 86400, "out of range");
	/* A sum that would wrap an unsigned long is refused, not wrapped. */
	dur_bad("999999999d999999999h", 999999999UL * 86400, "out of range");
	/* Each unit once, largest first: "1h1h" and "30m1h" are typos. */
	dur_bad("1h1h", 30 * 86400, "is not a duration");
	dur_bad("30m1h", 30 * 86400, "is not a duration");
	dur_bad("1d1d1s", 30 * 86400, "is not a duration");
	assert_int_equal(dur_ok("999999999d", 999999999UL * 86400),
	    999999999UL * 86400);
	/* Ten digits are refused outright. */
	dur_bad("1000000000", (unsigned long)-1, "is not a duration");
}

static void
assert_duration_str(unsigned long secs, const char *want)
{
	char buf[64];

	conv_duration_str(secs, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void
test_duration_str(void **state)
{
	static const unsigned long samples[] = {
		1, 59, 60, 61, 90, 3599, 3600, 3601, 5400, 86399, 86400,
		86401, 93784, 30 * 86400, 365 * 86400,
	};
	char buf[64];
	size_t i;

	(void)state;
	assert_duration_str(0, "0s");
	assert_duration_str(1, "1s");
	assert_duration_str(90, "1m30s");
	assert_duration_str(3600, "1h");
	assert_duration_str(5400, "1h30m");
	assert_duration_str(86400, "1d");
	assert_duration_str(93784, "1d2h3m4s");
	assert_duration_str(43200, "12h");
	/* Every text it prints reads back as the same number. */
	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		conv_duration_str(samples[i], buf, sizeof(buf));
		assert_int_equal(dur_ok(buf, 365 * 86400), samples[i]);
	}
	/* A short buffer is cut, but stays terminated. */
	memset(buf, 'x', sizeof(buf));
	conv_duration_str(93784, buf, 4);
	assert_non_null(memchr(buf, '\0', 4));
}

static time_t
utc(int y, int m, int d, int hh, int mm, int ss)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	return timegm(&tm);
}

static void
test_date_end_of_day(void **state)
{
	(void)state;
	/* "2027-06-30" has passed at 2027-07-01T00:00:00Z, not before. */
	assert_int_equal(date_ok("2027-06-30"), 1814400000);
	assert_int_equal(date_ok("2027-06-30"), utc(2027, 7, 1, 0, 0, 0));
	assert_int_equal(date_ok("1970-01-01"), 86400);
	assert_int_equal(date_ok("2027-12-31"), utc(2028, 1, 1, 0, 0, 0));
}

static void
test_date_time_form(void **state)
{
	(void)state;
	assert_int_equal(date_ok("2027-06-30T12:00:00Z"), 1814356800);
	assert_int_equal(date_ok("2027-06-30T23:59:59Z"), 1814399999);
	assert_int_equal(date_ok("2027-07-01T00:00:00Z"),
	    date_ok("2027-06-30"));
	assert_int_equal(date_ok("2030-01-01T12:00:00Z"), 1893499200);
	assert_int_equal(date_ok("1970-01-01T00:00:01Z"), 1);
	date_bad("2027-06-30T24:00:00Z", "is not a valid date");
	date_bad("2027-06-30T23:60:00Z", "is not a valid date");
	date_bad("2027-06-30T23:59:60Z", "is not a valid date");
	date_bad("2027-06-30T12:00:00", "is not a date");
	date_bad("2027-06-30T12:00:00z", "is not a date");
	date_bad("2027-06-30 12:00:00Z", "is not a date");
	date_bad("2027-06-30T12:00Z", "is not a date");
	date_bad("2027-06-30T12:00:00+00:00", "is not a date");
	date_bad("2027-06-30T1:00:00ZZ", "is not a date");
}

static void
test_date_leap(void **state)
{
	(void)state;
	date_bad("2027-02-29", "\"2027-02-29\" is not a valid date");
	assert_int_equal(date_ok("2028-02-29"), 1835481600);
	assert_int_equal(date_ok("2028-02-29"), utc(2028, 3, 1, 0, 0, 0));
	/* Divisible by 400 is leap, by 100 only is not. */
	assert_int_equal(date_ok("2000-02-29"), utc(2000, 3, 1, 0, 0, 0));
	date_bad("2100-02-29", "is not a valid date");
	assert_int_equal(date_ok("2400-02-29"), utc(2400, 3, 1, 0, 0, 0));
	assert_int_equal(date_ok("2027-02-28"), utc(2027, 3, 1, 0, 0, 0));
}

static void
test_date_bad(void **state)
{
	(void)state;
	date_bad("", "is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)");
	date_bad("tomorrow", "is not a date");
	date_bad("2027-6-30", "is not a date");
	date_bad("2027/06/30", "is not a date");
	date_bad("27-06-30", "is not a date");
	date_bad("2027-06-30x", "is not a date");
	date_bad(" 2027-06-30", "is not a date");
	date_bad("+027-06-30", "is not a date");
	date_bad("2027-0a-30", "is not a date");
	date_bad("2027-13-01", "is not a valid date");
	date_bad("2027-00-10", "is not a valid date");
	date_bad("2027-06-00", "is not a valid date");
	date_bad("2027-06-31", "is not a valid date");
	date_bad("2027-04-31", "is not a valid date");
	date_bad("2027-01-32", "is not a valid date");
	date_bad("1969-12-31", "is not a valid date");
}

static void
test_date_against_timegm(void **state)
{
	static const int mdays[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	char s[32];
	int y, m, d, dim;

	(void)state;
	/* The last day of every month from 1970 to 2120. */
	for (y = 1970; y <= 2120; y++) {
		for (m = 1; m <= 12; m++) {
			dim = mdays[m - 1];
			if (m == 2 && ((y % 4 == 0 && y % 100 != 0) ||
			    y % 400 == 0)) {
				dim++;
			}
			for (d = dim - 1; d <= dim; d++) {
				snprintf(s, sizeof(s), "%04d-%02d-%02d", y, m,
				    d);
				assert_int_equal(date_ok(s),
				    utc(y, m, d, 0, 0, 0) + 86400);
				snprintf(s, sizeof(s), "%04d-%02d-%02dT13:"
				    "07:59Z", y, m, d);
				assert_int_equal(date_ok(s),
				    utc(y, m, d, 13, 7, 59));
			}
			snprintf(s, sizeof(s), "%04d-%02d-%02d", y, m,
			    dim + 1);
			date_bad(s, "is not a valid date");
		}
	}
}

static void
test_ports(void **state)
{
	struct port_range r[CONV_PORTS_MAX];

	(void)state;
	assert_int_equal(ports_ok("22", r), 1);
	assert_int_equal(r[0].lo, 22);
	assert_int_equal(r[0].hi, 22);
	assert_int_equal(ports_ok("22,443,8000-8999", r), 3);
	assert_int_equal(r[0].lo, 22);
	assert_int_equal(r[0].hi, 22);
	assert_int_equal(r[1].lo, 443);
	assert_int_equal(r[1].hi, 443);
	assert_int_equal(r[2].lo, 8000);
	assert_int_equal(r[2].hi, 8999);
	assert_int_equal(ports_ok("any", r), 1);
	assert_int_equal(r[0].lo, 1);
	assert_int_equal(r[0].hi, 65535);
	assert_int_equal(ports_ok("ANY", r), 1);
	assert_int_equal(r[0].hi, 65535);
	assert_int_equal(ports_ok("1", r), 1);
	assert_int_equal(r[0].lo, 1);
	assert_int_equal(ports_ok("65535", r), 1);
	assert_int_equal(r[0].hi, 65535);
	assert_int_equal(ports_ok("1-65535", r), 1);
	assert_int_equal(ports_ok("80-80", r), 1);
	assert_int_equal(r[0].lo, 80);
	assert_int_equal(r[0].hi, 80);
}

static void
test_ports_bad(void **state)
{
	(void)state;
	ports_bad("0", "port 0 is out of range (1-65535)");
	ports_bad("65536", "port 65536 is out of range (1-65535)");
	ports_bad("22,0", "port 0 is out of range");
	ports_bad("0-22", "port 0 is out of range");
	ports_bad("22-65536", "port 65536 is out of range");
	ports_bad("90-80", "port range 90-80 is reversed");
	ports_bad("22,90-80", "port range 90-80 is reversed");
	ports_bad("", "is not a port number");
	ports_bad("22,", "\"\" is not a port number");
	ports_bad(",22", "is not a port number");
	ports_bad("22,,23", "is not a port number");
	ports_bad("ANYTHING", "\"ANYTHING\" is not a port number");
	ports_bad("any,22", "is not a port number");
	ports_bad("ANY,22", "is not a port number");
	ports_bad("22,any", "\"any\" is not a port number");
	ports_bad("-22", "is not a port number");
	ports_bad("22-", "is not a port number");
	ports_bad("1-2-3", "is not a port number");
	ports_bad("022", "\"022\" is not a port number");
	ports_bad("0x16", "is not a port number");
	ports_bad(" 22", "is not a port number");
	ports_bad("22 ", "is not a port number");
	ports_bad("ssh", "\"ssh\" is not a port number");
	ports_bad("9999999999", "is not a port number");
}

static void
test_ports_max_entries(void **state)
{
	struct port_range r[CONV_PORTS_MAX + 1];
	char list[1024];
	size_t i, o = 0;

	(void)state;
	for (i = 0; i < CONV_PORTS_MAX; i++) {
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%zu",
		    i ? "," : "", 1000 + i);
	}
	assert_int_equal(ports_ok(list, r), CONV_PORTS_MAX);
	assert_int_equal(r[CONV_PORTS_MAX - 1].lo, 1000 + CONV_PORTS_MAX - 1);
	snprintf(list + o, sizeof(list) - o, ",2000");
	ports_bad(list, "more than 64 entries in a port list");
}

static void
test_ports_match(void **state)
{
	struct port_range r[CONV_PORTS_MAX];
	size_t n;

	(void)state;
	n = ports_ok("22,443,8000-8999", r);
	assert_true(conv_ports_match(r, n, 22));
	assert_true(conv_ports_match(r, n, 443));
	assert_true(conv_ports_match(r, n, 8000));
	assert_true(conv_ports_match(r, n, 8500));
	assert_true(conv_ports_match(r, n, 8999));
	assert_false(conv_ports_match(r, n, 21));
	assert_false(conv_ports_match(r, n, 23));
	assert_false(conv_ports_match(r, n, 444));
	assert_false(conv_ports_match(r, n, 7999));
	assert_false(conv_ports_match(r, n, 9000));
	n = ports_ok("any", r);
	assert_true(conv_ports_match(r, n, 1));
	assert_true(conv_ports_match(r, n, 65535));
	assert_false(conv_ports_match(r, n, 0));
	assert_false(conv_ports_match(r, n, 65536));
	n = ports_ok("1,65535", r);
	assert_true(conv_ports_match(r, n, 1));
	assert_true(conv_ports_match(r, n, 65535));
	assert_false(conv_ports_match(r, n, 2));
	assert_false(conv_ports_match(r, n, 65534));
	assert_false(conv_ports_match(r, 0, 22));
}

static void
assert_ports_roundtrip(const char *in, const char *want)
{
	struct port_range r[CONV_PORTS_MAX];
	char buf[CONV_PORTS_MAX * 12];
	size_t n;

	n = ports_ok(in, r);
	conv_ports_str(r, n, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void
test_ports_str(void **state)
{
	(void)state;
	assert_ports_roundtrip("22", "22");
	assert_ports_roundtrip("22,443,8000-8999", "22,443,8000-8999");
	assert_ports_roundtrip("any", "any");
	assert_ports_roundtrip("1-65535", "any");
	assert_ports_roundtrip("80-80", "80");
	assert_ports_roundtrip("1,65535", "1,65535");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uint),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_duration_bad),
		cmocka_unit_test(test_duration_overflow),
		cmocka_unit_test(test_duration_str),
		cmocka_unit_test(test_date_end_of_day),
		cmocka_unit_test(test_date_time_form),
		cmocka_unit_test(test_date_leap),
		cmocka_unit_test(test_date_bad),
		cmocka_unit_test(test_date_against_timegm),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_ports_bad),
		cmocka_unit_test(test_ports_max_entries),
		cmocka_unit_test(test_ports_match),
		cmocka_unit_test(test_ports_str),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
