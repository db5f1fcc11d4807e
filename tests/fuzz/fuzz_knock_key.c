/*
 * libFuzzer target for the OpenSSH private key parser of knock_key
 * (openssh-key-v1): whatever parses must be a consistent ed25519 key pair
 * that formats and parses back to the same key.  The server public key
 * parser gets the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "knock_key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct knock_key_ed25519 k, back;
	static char text[4096];
	char err[KNOCK_KEY_ERR_MAX];
	uint8_t pk[32], sk[64];
	size_t len;

	if (sodium_init() < 0)
		abort();
	(void)knock_key_parse_pub((const char *)data, size, pk, err,
	    sizeof(err));
	if (knock_key_openssh_parse("fuzz", (const char *)data, size, &k, err,
	    sizeof(err)) != 0)
		return 0;
	crypto_sign_seed_keypair(pk, sk, k.sk);
	if (memcmp(pk, k.pk, 32) != 0 || memcmp(sk, k.sk, 64) != 0)
		abort();
	if (knock_key_openssh_format(&k, text, sizeof(text), &len) != 0 ||
	    knock_key_openssh_parse("again", text, len, &back, err,
	    sizeof(err)) != 0 || memcmp(&k, &back, sizeof(k)) != 0)
		abort();
	return 0;
}
