/*
 * test_totp_code: the codes -- RFC 6238's test vectors, codes made by
 * oathtool(1), the window's edges, scratch codes, new entries and the
 * otpauth:// URI.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <liboath/oath.h>

#include "totp.h"

/* 2026-01-01 00:00:00 UTC */
#define T2026	1767225600

static struct totp_entry
entry(enum totp_alg alg, const char *secret, unsigned int digits,
    unsigned int period)
{
	struct totp_entry e;

	memset(&e, 0, sizeof(e));
	snprintf(e.user, sizeof(e.user), "alice");
	e.alg = alg;
	e.digits = digits;
	e.period = period;
	e.secretlen = strlen(secret);
	memcpy(e.secret, secret, e.secretlen);
	return e;
}

/* The code of e for the step at t, by liboath directly. */
static void
gen(const struct totp_entry *e, time_t t, char *out)
{
	int flags = e->alg == TOTP_SHA256 ? OATH_TOTP_HMAC_SHA256 :
	    e->alg == TOTP_SHA512 ? OATH_TOTP_HMAC_SHA512 : 0;

	assert_int_equal(oath_totp_generate2((const char *)e->secret,
	    e->secretlen, t, e->period, 0, e->digits, flags, out), OATH_OK);
}

static void
test_rfc6238_vectors(void **state)
{
	static const char s1[] = "12345678901234567890";
	static const char s256[] = "12345678901234567890123456789012";
	static const char s512[] = "1234567890123456789012345678901234567890"
	    "123456789012345678901234";
	static const struct {
		time_t		 t;
		const char	*sha1, *sha256, *sha512;
	} v[] = {
		{ 59, "94287082", "46119246", "90693936" },
		{ 1111111109, "07081804", "68084774", "25091201" },
		{ 1111111111, "14050471", "67062674", "99943326" },
		{ 1234567890, "89005924", "91819424", "93441116" },
		{ 2000000000, "69279037", "90698825", "38618901" },
		{ 20000000000, "65353130", "77737706", "47863826" },
	};
	struct totp_entry e1, e256, e512;
	uint64_t step;
	size_t i;

	(void)state;
	e1 = entry(TOTP_SHA1, s1, 8, 30);
	e256 = entry(TOTP_SHA256, s256, 8, 30);
	e512 = entry(TOTP_SHA512, s512, 8, 30);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(totp_code_step(&e1, v[i].sha1, v[i].t, 0,
		    &step), 0);
		assert_int_equal(step, (uint64_t)v[i].t / 30);
		assert_int_equal(totp_code_step(&e256, v[i].sha256, v[i].t, 0,
		    &step), 0);
		assert_int_equal(step, (uint64_t)v[i].t / 30);
		assert_int_equal(totp_code_step(&e512, v[i].sha512, v[i].t, 0,
		    &step), 0);
		assert_int_equal(step, (uint64_t)v[i].t / 30);
		/* Each is the code of its own algorithm only. */
		assert_int_equal(totp_code_step(&e1, v[i].sha256, v[i].t, 0,
		    &step), -1);
		assert_int_equal(totp_code_step(&e512, v[i].sha1, v[i].t, 0,
		    &step), -1);
	}
}

/* Run oathtool and return its code. */
static void
oathtool(const char *args, char *code, size_t len)
{
	char cmd[512];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "oathtool %s --now '2026-01-01 00:00:00 "
	    "UTC' 2>&1", args);
	assert_non_null(p = popen(cmd, "r"));
	assert_non_null(fgets(code, (int)len, p));
	assert_int_equal(pclose(p), 0);
	code[strcspn(code, "\n")] = '\0';
}

static void
test_oathtool_codes(void **state)
{
	static const struct {
		const char	*args;
		enum totp_alg	 alg;
		unsigned int	 digits, period;
	} c[] = {
		{ "--totp -b JBSWY3DPEHPK3PXP", TOTP_SHA1, 6, 30 },
		{ "--totp -d 8 -b JBSWY3DPEHPK3PXP", TOTP_SHA1, 8, 30 },
		{ "--totp -d 7 -b JBSWY3DPEHPK3PXP", TOTP_SHA1, 7, 30 },
		{ "--totp=sha256 -b JBSWY3DPEHPK3PXP", TOTP_SHA256, 6, 30 },
		{ "--totp=sha256 -d 8 -b JBSWY3DPEHPK3PXP", TOTP_SHA256, 8,
		    30 },
		{ "--totp=sha512 -d 8 -b JBSWY3DPEHPK3PXP", TOTP_SHA512, 8,
		    30 },
		{ "--totp -s 60 -b JBSWY3DPEHPK3PXP", TOTP_SHA1, 6, 60 },
	};
	struct totp_entry e;
	char code[32];
	uint64_t step;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		/* JBSWY3DPEHPK3PXP is "Hello!\xde\xad\xbe\xef". */
		e = entry(c[i].alg, "Hello!\xde\xad\xbe\xef", c[i].digits,
		    c[i].period);
		oathtool(c[i].args, code, sizeof(code));
		assert_int_equal(strlen(code), c[i].digits);
		if (totp_code_step(&e, code, T2026, 0, &step) != 0)
			fail_msg("oathtool %s: %s refused", c[i].args, code);
		assert_int_equal(step, (uint64_t)T2026 / c[i].period);
		/* One period later it is the previous step's code. */
		assert_int_equal(totp_code_step(&e, code, T2026 + c[i].period,
		    1, &step), 0);
		assert_int_equal(step, (uint64_t)T2026 / c[i].period);
	}
}

static void
test_window_edges(void **state)
{
	struct totp_entry e = entry(TOTP_SHA1, "12345678901234567890", 6, 30);
	uint64_t step, now = T2026 / 30;
	char code[16];
	int d;

	(void)state;
	for (d = -3; d <= 3; d++) {
		gen(&e, (time_t)(now + (uint64_t)d) * 30, code);
		if (d == 0 || d == 1 || d == -1) {
			assert_int_equal(totp_code_step(&e, code, T2026, 1,
			    &step), 0);
			assert_int_equal(step, now + (uint64_t)d);
		} else
			assert_int_equal(totp_code_step(&e, code, T2026, 1,
			    &step), -1);
		if (d >= -2 && d <= 2)
			assert_int_equal(totp_code_step(&e, code, T2026, 2,
			    &step), 0);
		if (d != 0)
			assert_int_equal(totp_code_step(&e, code, T2026, 0,
			    &step), -1);
	}
	/* The last second of a step and the first of the next. */
	gen(&e, T2026, code);
	assert_int_equal(totp_code_step(&e, code, T2026 + 29, 0, &step), 0);
	assert_int_equal(totp_code_step(&e, code, T2026 + 30, 0, &step), -1);
	assert_int_equal(totp_code_step(&e, code, T2026 - 1, 0, &step), -1);
	/* A window wider than TotpWindow allows is refused outright. */
	assert_int_equal(totp_code_step(&e, code, T2026, 11, &step), -1);
}

static void
test_code_shape(void **state)
{
	struct totp_entry e = entry(TOTP_SHA1, "12345678901234567890", 6, 30);
	uint64_t step;
	char code[16], longer[16];

	(void)state;
	gen(&e, T2026, code);
	assert_int_equal(totp_code_step(&e, code, T2026, 1, &step), 0);
	snprintf(longer, sizeof(longer), "%s0", code);
	assert_int_equal(totp_code_step(&e, longer, T2026, 1, &step), -1);
	assert_int_equal(totp_code_step(&e, code + 1, T2026, 1, &step), -1);
	assert_int_equal(totp_code_step(&e, "", T2026, 1, &step), -1);
	assert_int_equal(totp_code_step(&e, "12345a", T2026, 1, &step), -1);
	assert_int_equal(totp_code_step(&e, " 12345", T2026, 1, &step), -1);
	assert_int_equal(totp_code_step(&e, "-12345", T2026, 1, &step), -1);
	assert_int_equal(totp_code_step(&e, NULL, T2026, 1, &step), -1);
	assert_int_equal(totp_code_step(NULL, code, T2026, 1, &step), -1);
	assert_int_equal(totp_code_step(&e, code, -1, 1, &step), -1);
	/* An entry outside the documented ranges never matches. */
	e.digits = 9;
	assert_int_equal(totp_code_step(&e, "123456789", T2026, 1, &step), -1);
	e.digits = 6;
	e.secretlen = TOTP_SECRET_MIN - 1;
	assert_int_equal(totp_code_step(&e, code, T2026, 1, &step), -1);
}

static void
test_scratch(void **state)
{
	static const char *const codes[] = { "12345678", "00000000",
	    "99999999" };
	struct totp_entry e = entry(TOTP_SHA1, "abcdefghijklmnopqrst", 6, 30);
	struct totp_entry e2;
	static const char *const dup[] = { "12345678", "12345678" };
	static const char *const bad[] = { "1234567" };
	static const char *const bad2[] = { "1234567x" };

	(void)state;
	assert_int_equal(totp_entry_set_scratch(&e, codes, 3), 0);
	assert_int_equal(e.nscratch, 3);
	assert_int_equal(totp_scratch_match(&e, "12345678"), 0);
	assert_int_equal(totp_scratch_match(&e, "00000000"), 1);
	assert_int_equal(totp_scratch_match(&e, "99999999"), 2);
	assert_int_equal(totp_scratch_match(&e, "12345679"), -1);
	assert_int_equal(totp_scratch_match(&e, "1234567"), -1);
	assert_int_equal(totp_scratch_match(&e, "123456789"), -1);
	assert_int_equal(totp_scratch_match(&e, NULL), -1);
	/* Only hashes are kept, and each under its own salt. */
	assert_memory_not_equal(e.scratch[0].salt, e.scratch[1].salt, 16);
	assert_null(memmem(&e, sizeof(e), "12345678", 8));
	e2 = e;
	assert_int_equal(totp_entry_set_scratch(&e2, codes, 1), 0);
	assert_memory_not_equal(e.scratch[0].hash, e2.scratch[0].hash,
	    TOTP_SCRATCH_HASH);
	assert_int_equal(totp_scratch_match(&e2, "12345678"), 0);
	assert_int_equal(totp_scratch_match(&e2, "00000000"), -1);
	/* Refused sets leave the entry as it was. */
	assert_int_equal(totp_entry_set_scratch(&e2, dup, 2), -1);
	assert_int_equal(totp_entry_set_scratch(&e2, bad, 1), -1);
	assert_int_equal(totp_entry_set_scratch(&e2, bad2, 1), -1);
	assert_int_equal(totp_entry_set_scratch(&e2, codes,
	    TOTP_SCRATCH_MAX + 1), -1);
	assert_int_equal(e2.nscratch, 1);
	assert_int_equal(totp_entry_set_scratch(&e2, NULL, 0), 0);
	assert_int_equal(e2.nscratch, 0);
	assert_int_equal(totp_scratch_match(&e2, "12345678"), -1);
}

static void
test_generate(void **state)
{
	char codes[TOTP_SCRATCH_MAX][TOTP_SCRATCH_LEN + 1];
	struct totp_entry e, f;
	uint64_t step;
	char code[16];
	size_t i, j;

	(void)state;
	assert_int_equal(totp_entry_generate(&e, "bob", TOTP_SHA256, 8, 60,
	    20, codes, TOTP_SCRATCH_MAX), 0);
	assert_string_equal(e.user, "bob");
	assert_int_equal(e.alg, TOTP_SHA256);
	assert_int_equal(e.digits, 8);
	assert_int_equal(e.period, 60);
	assert_int_equal(e.secretlen, 20);
	assert_int_equal(e.nscratch, TOTP_SCRATCH_MAX);
	for (i = 0; i < TOTP_SCRATCH_MAX; i++) {
		assert_int_equal(strlen(codes[i]), TOTP_SCRATCH_LEN);
		assert_int_equal(strspn(codes[i], "0123456789"),
		    TOTP_SCRATCH_LEN);
		assert_int_equal(totp_scratch_match(&e, codes[i]), (int)i);
		for (j = 0; j < i; j++)
			assert_string_not_equal(codes[i], codes[j]);
	}
	gen(&e, T2026, code);
	assert_int_equal(totp_code_step(&e, code, T2026, 0, &step), 0);
	assert_int_equal(totp_entry_generate(&f, "bob", TOTP_SHA256, 8, 60,
	    20, NULL, 0), 0);
	assert_memory_not_equal(e.secret, f.secret, 20);
	assert_int_equal(f.nscratch, 0);
	/* Out of range: nothing is generated. */
	assert_int_equal(totp_entry_generate(&f, "Bob", TOTP_SHA1, 6, 30, 20,
	    NULL, 0), -1);
	assert_int_equal(totp_entry_generate(&f, "bob", TOTP_SHA1, 5, 30, 20,
	    NULL, 0), -1);
	assert_int_equal(totp_entry_generate(&f, "bob", TOTP_SHA1, 6, 14, 20,
	    NULL, 0), -1);
	assert_int_equal(totp_entry_generate(&f, "bob", TOTP_SHA1, 6, 301, 20,
	    NULL, 0), -1);
	assert_int_equal(totp_entry_generate(&f, "bob", TOTP_SHA1, 6, 30, 9,
	    NULL, 0), -1);
	assert_int_equal(totp_entry_generate(&f, "bob", TOTP_SHA1, 6, 30, 65,
	    NULL, 0), -1);
	assert_int_equal(totp_entry_generate(&f, "bob", 7, 6, 30, 20, NULL,
	    0), -1);
	assert_int_equal(totp_entry_generate(&f, "bob", TOTP_SHA1, 6, 30, 20,
	    codes, TOTP_SCRATCH_MAX + 1), -1);
}

static void
test_uri(void **state)
{
	struct totp_entry e = entry(TOTP_SHA1, "Hello!\xde\xad\xbe\xef", 6, 30);
	char buf[512], small[40];

	(void)state;
	assert_int_equal(totp_uri(&e, "Rampart", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "otpauth://totp/Rampart:alice?secret="
	    "JBSWY3DPEHPK3PXP&issuer=Rampart&algorithm=SHA1&digits=6&"
	    "period=30");
	e.alg = TOTP_SHA512;
	e.digits = 8;
	e.period = 60;
	snprintf(e.user, sizeof(e.user), "a.b-c_d");
	assert_int_equal(totp_uri(&e, "ACME bastion/eu&co=1 ü", buf,
	    sizeof(buf)), 0);
	assert_string_equal(buf, "otpauth://totp/ACME%20bastion%2Feu%26co%3D1"
	    "%20%C3%BC:a.b-c_d?secret=JBSWY3DPEHPK3PXP&issuer=ACME%20bastion"
	    "%2Feu%26co%3D1%20%C3%BC&algorithm=SHA512&digits=8&period=60");
	/* Padding is left out: 20 bytes are 32 characters, 11 are 18. */
	memcpy(e.secret, "12345678901", 11);
	e.secretlen = 11;
	e.alg = TOTP_SHA256;
	assert_int_equal(totp_uri(&e, NULL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "otpauth://totp/a.b-c_d?secret="
	    "GEZDGNBVGY3TQOJQGE&algorithm=SHA256&digits=8&period=60");
	assert_int_equal(totp_uri(&e, "", buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "totp/a.b-c_d?"));
	/* A colon would split the label wrongly; a short buffer is empty. */
	assert_int_equal(totp_uri(&e, "a:b", buf, sizeof(buf)), -1);
	assert_int_equal(totp_uri(&e, "Rampart", small, sizeof(small)), -1);
	assert_string_equal(small, "");
}

static void
test_alg_names(void **state)
{
	enum totp_alg a;

	(void)state;
	assert_string_equal(totp_alg_name(TOTP_SHA1), "sha1");
	assert_string_equal(totp_alg_name(TOTP_SHA256), "sha256");
	assert_string_equal(totp_alg_name(TOTP_SHA512), "sha512");
	assert_string_equal(totp_alg_name((enum totp_alg)9), "unknown");
	assert_int_equal(totp_alg_parse("sha256", &a), 0);
	assert_int_equal(a, TOTP_SHA256);
	assert_int_equal(totp_alg_parse("SHA512", &a), 0);
	assert_int_equal(a, TOTP_SHA512);
	assert_int_equal(totp_alg_parse("md5", &a), -1);
	assert_int_equal(totp_alg_parse("sha", &a), -1);
	assert_int_equal(totp_alg_parse("", &a), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc6238_vectors),
		cmocka_unit_test(test_oathtool_codes),
		cmocka_unit_test(test_window_edges),
		cmocka_unit_test(test_code_shape),
		cmocka_unit_test(test_scratch),
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_uri),
		cmocka_unit_test(test_alg_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
