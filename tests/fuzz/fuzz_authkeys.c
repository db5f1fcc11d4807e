/*
 * libFuzzer target for the authorized_keys and public key parsers.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "authkeys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
take(void *ctx, const struct pubkey *k, unsigned long line)
{
	char fp[PUBKEY_FP_LEN], *s;

	(void)ctx;
	(void)line;
	pubkey_fingerprint(k, fp, sizeof(fp));
	if ((s = pubkey_to_line(k)) != NULL)
		free(s);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag d = { NULL, NULL, 0 };

	(void)authkeys_parse("fuzz_keys", (const char *)data, size, &d, take,
	    NULL);
	return 0;
}
