/*
 * libFuzzer target for the IPC decoder: whatever decodes must encode
 * again, to exactly the bytes it came from (the encoding is unique), and
 * decode once more to a message that encodes the same.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ipc_msg m, m2;
	static uint8_t b1[IPC_MSG_MAX], b2[IPC_MSG_MAX];
	int n1, n2;

	if (ipc_decode(data, size, &m) != 0)
		return 0;
	(void)ipc_type_name(m.type);
	(void)ipc_allowed(IPC_PHASE_PREAUTH, m.type);
	if ((n1 = ipc_encode(&m, b1, sizeof(b1))) < 0)
		abort();
	if ((size_t)n1 != size || memcmp(b1, data, size) != 0)
		abort();
	if (ipc_decode(b1, (size_t)n1, &m2) != 0)
		abort();
	if ((n2 = ipc_encode(&m2, b2, sizeof(b2))) != n1 ||
	    memcmp(b1, b2, (size_t)n1) != 0)
		abort();
	return 0;
}
