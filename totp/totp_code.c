/*
 * totp_code: the codes themselves -- RFC 6238 through liboath, scratch
 * codes kept only as salted hashes, fresh secrets, and the otpauth:// URI
 * an authenticator app reads from a QR code.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <liboath/oath.h>
#include <sodium.h>

#include "totp_int.h"

static const struct {
	const char	*name;		/* secrets file, messages */
	const char	*uri;		/* otpauth:// algorithm= */
	int		 flag;		/* liboath */
} algs[] = {
	[TOTP_SHA1] = { "sha1", "SHA1", 0 },
	[TOTP_SHA256] = { "sha256", "SHA256", OATH_TOTP_HMAC_SHA256 },
	[TOTP_SHA512] = { "sha512", "SHA512", OATH_TOTP_HMAC_SHA512 },
};
#define NALGS	(sizeof(algs) / sizeof(algs[0]))

int
totp_lib_init(void)
{
	static int done;

	if (done)
		return 0;
	if (sodium_init() < 0 || oath_init() != OATH_OK)
		return -1;
	done = 1;
	return 0;
}

const char *
totp_alg_name(enum totp_alg alg)
{
	if ((unsigned int)alg >= NALGS)
		return "unknown";
	return algs[alg].name;
}

int
totp_alg_parse(const char *s, enum totp_alg *out)
{
	size_t i;

	for (i = 0; i < NALGS; i++) {
		if (strcasecmp(s, algs[i].name) == 0) {
			*out = (enum totp_alg)i;
			return 0;
		}
	}
	return -1;
}

int
totp_valid_user(const char *s)
{
	size_t i, len;

	if (s == NULL || (len = strnlen(s, TOTP_USER_MAX + 1)) == 0 ||
	    len > TOTP_USER_MAX)
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
totp_entry_valid(const struct totp_entry *e)
{
	return totp_valid_user(e->user) && (unsigned int)e->alg < NALGS &&
	    e->digits >= 6 && e->digits <= 8 &&
	    e->period >= 15 && e->period <= 300 &&
	    e->secretlen >= TOTP_SECRET_MIN &&
	    e->secretlen <= TOTP_SECRET_MAX &&
	    e->nscratch <= TOTP_SCRATCH_MAX;
}

static int
all_digits(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
	}
	return 1;
}

/* liboath compares with strcmp; this one does not leak where it differs. */
static int
code_cmp(void *handle, const char *otp)
{
	const char *code = handle;
	size_t len = strlen(code);

	if (strlen(otp) != len)
		return 1;
	return sodium_memcmp(code, otp, len) != 0;
}

int
totp_code_step(const struct totp_entry *e, const char *code, time_t now,
    unsigned int window, uint64_t *step)
{
	uint64_t counter = 0;
	size_t len;
	int pos, r;

	if (e == NULL || code == NULL || step == NULL || now < 0 ||
	    window > TOTP_WINDOW_LIMIT || !totp_entry_valid(e))
		return -1;
	len = strnlen(code, TOTP_CODE_MAX + 1);
	if (len != e->digits || !all_digits(code, len))
		return -1;
	if (totp_lib_init() != 0)
		return -1;
	r = oath_totp_validate4_callback((const char *)e->secret,
	    e->secretlen, now, e->period, OATH_TOTP_DEFAULT_START_TIME,
	    e->digits, window, &pos, &counter, algs[e->alg].flag, code_cmp,
	    (void *)(uintptr_t)code);
	if (r < 0)
		return -1;
	*step = counter;
	return 0;
}

/* ---- scratch codes ---- */

static int
scratch_hash(const uint8_t salt[16], const char *code,
    uint8_t out[TOTP_SCRATCH_HASH])
{
	return crypto_generichash(out, TOTP_SCRATCH_HASH,
	    (const unsigned char *)code, TOTP_SCRATCH_LEN, salt, 16);
}

static int
scratch_code_ok(const char *code)
{
	return code != NULL &&
	    strnlen(code, TOTP_SCRATCH_LEN + 1) == TOTP_SCRATCH_LEN &&
	    all_digits(code, TOTP_SCRATCH_LEN);
}

int
totp_scratch_match(const struct totp_entry *e, const char *code)
{
	uint8_t h[TOTP_SCRATCH_HASH];
	size_t i;
	int found = -1;

	if (e == NULL || !scratch_code_ok(code) ||
	    e->nscratch > TOTP_SCRATCH_MAX || totp_lib_init() != 0)
		return -1;
	/* Hash against every salt: the time does not say which one matched. */
	for (i = 0; i < e->nscratch; i++) {
		if (scratch_hash(e->scratch[i].salt, code, h) != 0)
			continue;
		if (sodium_memcmp(h, e->scratch[i].hash, sizeof(h)) == 0 &&
		    found < 0)
			found = (int)i;
	}
	sodium_memzero(h, sizeof(h));
	return found;
}

uint64_t
totp_scratch_id(const struct totp_entry *e)
{
	crypto_generichash_state gs;
	uint8_t out[8];
	uint64_t id = 0;
	size_t i;

	if (e == NULL || e->nscratch == 0 || totp_lib_init() != 0)
		return 0;
	crypto_generichash_init(&gs, NULL, 0, sizeof(out));
	for (i = 0; i < e->nscratch && i < TOTP_SCRATCH_MAX; i++)
		crypto_generichash_update(&gs, (const unsigned char *)
		    &e->scratch[i], sizeof(e->scratch[i]));
	crypto_generichash_final(&gs, out, sizeof(out));
	for (i = 0; i < sizeof(out); i++)
		id = id << 8 | out[i];
	return id == 0 ? 1 : id;
}

int
totp_entry_set_scratch(struct totp_entry *e, const char *const *codes,
    size_t n)
{
	struct totp_scratch sc[TOTP_SCRATCH_MAX];
	size_t i, j;
	int r = -1;

	if (e == NULL || n > TOTP_SCRATCH_MAX || (n > 0 && codes == NULL) ||
	    totp_lib_init() != 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (!scratch_code_ok(codes[i]))
			return -1;
		for (j = 0; j < i; j++) {
			if (strcmp(codes[i], codes[j]) == 0)
				return -1;
		}
	}
	memset(sc, 0, sizeof(sc));
	for (i = 0; i < n; i++) {
		randombytes_buf(sc[i].salt, sizeof(sc[i].salt));
		if (scratch_hash(sc[i].salt, codes[i], sc[i].hash) != 0)
			goto out;
	}
	memcpy(e->scratch, sc, sizeof(sc));
	e->nscratch = n;
	r = 0;
 out:
	sodium_memzero(sc, sizeof(sc));
	return r;
}

static void
random_code(char code[TOTP_SCRATCH_LEN + 1])
{
	size_t i;

	for (i = 0; i < TOTP_SCRATCH_LEN; i++)
		code[i] = (char)('0' + randombytes_uniform(10));
	code[TOTP_SCRATCH_LEN] = '\0';
}

int
totp_entry_generate(struct totp_entry *e, const char *user,
    enum totp_alg alg, unsigned int digits, unsigned int period,
    size_t secretlen, char codes[][TOTP_SCRATCH_LEN + 1], size_t n)
{
	const char *ptrs[TOTP_SCRATCH_MAX] = { NULL };
	struct totp_entry ne;
	size_t i, j;
	int r = -1;

	if (e == NULL || user == NULL || n > TOTP_SCRATCH_MAX ||
	    (n > 0 && codes == NULL) || totp_lib_init() != 0)
		return -1;
	memset(&ne, 0, sizeof(ne));
	snprintf(ne.user, sizeof(ne.user), "%s", user);
	ne.alg = alg;
	ne.digits = digits;
	ne.period = period;
	ne.secretlen = secretlen;
	if (strlen(user) > TOTP_USER_MAX || !totp_entry_valid(&ne))
		return -1;
	randombytes_buf(ne.secret, secretlen);
	for (i = 0; i < n; i++) {
		do {
			random_code(codes[i]);
			for (j = 0; j < i && strcmp(codes[i], codes[j]); j++)
				;
		} while (j < i);
		ptrs[i] = codes[i];
	}
	if (totp_entry_set_scratch(&ne, ptrs, n) != 0)
		goto out;
	*e = ne;
	r = 0;
 out:
	sodium_memzero(&ne, sizeof(ne));
	if (r != 0 && n > 0)
		sodium_memzero(codes, n * sizeof(codes[0]));
	return r;
}

/* ---- otpauth:// ---- */

struct ubuf {
	char	*p;
	size_t	 len, off;
	int	 overflow;
};

static void
ub_add(struct ubuf *b, const char *s, size_t n)
{
	if (b->overflow || n >= b->len - b->off) {
		b->overflow = 1;
		return;
	}
	memcpy(b->p + b->off, s, n);
	b->off += n;
	b->p[b->off] = '\0';
}

static void
ub_str(struct ubuf *b, const char *s)
{
	ub_add(b, s, strlen(s));
}

/* RFC 3986 percent-encoding: only unreserved characters stay as they are. */
static void
ub_pct(struct ubuf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;
	char enc[3];

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			ub_add(b, s, 1);
			continue;
		}
		enc[0] = '%';
		enc[1] = hex[c >> 4];
		enc[2] = hex[c & 0xf];
		ub_add(b, enc, 3);
	}
}

int
totp_uri(const struct totp_entry *e, const char *issuer, char *buf,
    size_t len)
{
	struct ubuf b = { buf, len, 0, 0 };
	char *b32 = NULL, num[32];
	size_t b32len = 0;

	if (buf == NULL || len == 0)
		return -1;
	buf[0] = '\0';
	/* The format has no escape for ':', the issuer/account separator. */
	if (e == NULL || !totp_entry_valid(e) ||
	    (issuer != NULL && strchr(issuer, ':') != NULL) ||
	    totp_lib_init() != 0)
		return -1;
	if (oath_base32_encode((const char *)e->secret, e->secretlen, &b32,
	    &b32len) != OATH_OK)
		return -1;
	while (b32len > 0 && b32[b32len - 1] == '=')
		b32[--b32len] = '\0';
	ub_str(&b, "otpauth://totp/");
	if (issuer != NULL && *issuer != '\0') {
		ub_pct(&b, issuer);
		ub_str(&b, ":");
	}
	ub_pct(&b, e->user);
	ub_str(&b, "?secret=");
	ub_str(&b, b32);
	if (issuer != NULL && *issuer != '\0') {
		ub_str(&b, "&issuer=");
		ub_pct(&b, issuer);
	}
	ub_str(&b, "&algorithm=");
	ub_str(&b, algs[e->alg].uri);
	snprintf(num, sizeof(num), "&digits=%u&period=%u", e->digits,
	    e->period);
	ub_str(&b, num);
	sodium_memzero(b32, b32len);
	free(b32);
	if (b.overflow) {
		sodium_memzero(buf, len);
		return -1;
	}
	return 0;
}
