/*
 * libFuzzer target for the TOTP secrets parser.  Whatever loads is used
 * the way the gateway and rampartctl use it -- codes, scratch codes, the
 * otpauth:// URI -- and written back: the written file must load again
 * and write the same bytes (abort otherwise).  The file lives in
 * /dev/shm, one per process.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "totp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const users[] = { "alice", "bob", "_svc.ci-1", "a" };

static void
use(const struct totp_secrets *s)
{
	static const char digits[] = "12345678";
	const struct totp_entry *e;
	char uri[1024];
	uint64_t step;
	size_t i;

	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		if ((e = totp_secrets_find(s, users[i])) == NULL)
			continue;
		(void)totp_code_step(e, digits + (8 - e->digits), 1767225600,
		    1, &step);
		(void)totp_scratch_match(e, "12345678");
		(void)totp_uri(e, "Rampart bastion", uri, sizeof(uri));
	}
}

static char *
slurp(const char *path, size_t *len)
{
	char *buf;
	FILE *f;
	long n;

	if ((f = fopen(path, "r")) == NULL)
		abort();
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 ||
	    (buf = malloc((size_t)n + 1)) == NULL ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n)
		abort();
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

static void
round_trip(const struct totp_secrets *s)
{
	static char path[64];
	struct totp_secrets *s2 = NULL;
	char err[256], *first, *second;
	size_t n1, n2;

	if (path[0] == '\0')
		snprintf(path, sizeof(path), "/dev/shm/fuzz_totp_secrets.%ld",
		    (long)getpid());
	if (totp_secrets_write(s, path, err, sizeof(err)) != 0)
		return;		/* no /dev/shm here */
	first = slurp(path, &n1);
	if (totp_secrets_load_buf("again", first, n1, NULL, NULL, &s2) != 0 ||
	    totp_secrets_count(s2) != totp_secrets_count(s) ||
	    totp_secrets_write(s2, path, err, sizeof(err)) != 0)
		abort();
	second = slurp(path, &n2);
	if (n1 != n2 || memcmp(first, second, n1) != 0)
		abort();
	unlink(path);
	free(first);
	free(second);
	totp_secrets_free(s2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct totp_secrets *s = NULL;

	if (totp_secrets_load_buf("fuzz.secrets", (const char *)data, size,
	    NULL, NULL, &s) == 0) {
		use(s);
		round_trip(s);
		totp_secrets_free(s);
	}
	return 0;
}
