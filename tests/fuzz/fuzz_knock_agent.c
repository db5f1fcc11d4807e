/*
 * libFuzzer target for the ssh-agent reply parsers of knock_agent: the
 * input is a reply body (what follows the length), parsed both as an
 * identities answer and as a sign response.  Whatever parses must hold
 * only what the input held.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "knock_agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pks[8][32];
	char err[512];
	uint8_t sig[64];
	size_t n, others, i;

	if (knock_agent_parse_identities(data, size, pks, 8, &n, &others,
	    err, sizeof(err)) == 0) {
		if (n > 8 || (n + others) * 8 + 5 > size)
			abort();
		for (i = 0; i < n; i++) {
			if (memmem(data, size, pks[i], 32) == NULL)
				abort();
		}
	}
	if (knock_agent_parse_sign(data, size, sig, err, sizeof(err)) == 0 &&
	    (size != 1 + 4 + 83 || memcmp(sig, data + size - 64, 64) != 0))
		abort();
	return 0;
}
