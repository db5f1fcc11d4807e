/*
 * libFuzzer target for the sshuttle exec-string recogniser
 * (gateway/shuttle_exec.c).  Whatever it accepts must be within bounds
 * (V <= 9, N in 1..65536, a printable interpreter word only where the
 * form has one), the answer must not depend on the bytes after len (the
 * input is copied into a buffer followed by junk), and a "-- " prefix
 * must give the same answer as the string without it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shuttle_exec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_ok(const struct shuttle_exec *e)
{
	size_t i, n = strlen(e->python);

	if (e->verbosity > SHUTTLE_EXEC_V_MAX ||
	    e->assembler_len < SHUTTLE_EXEC_N_MIN ||
	    e->assembler_len > SHUTTLE_EXEC_N_MAX || n > SHUTTLE_EXEC_PY_MAX)
		abort();
	if ((e->form == SHUTTLE_FORM_SH) != (n == 0))
		abort();
	for (i = 0; i < n; i++)
		if (e->python[i] < 0x20 || e->python[i] >= 0x7f)
			abort();
	if (strcmp(shuttle_exec_form_name(e->form), "unknown") == 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[SHUTTLE_EXEC_MAX + 64];
	struct shuttle_exec e1, e2;
	int r1, r2;

	if (size > SHUTTLE_EXEC_MAX + 8)
		return 0;
	memset(buf, '9', sizeof(buf));	/* digits after the end must not count */
	memcpy(buf + 3, data, size);
	r1 = shuttle_exec_parse(buf + 3, size, &e1);
	(void)shuttle_exec_strerror(r1);
	if (r1 > 0)
		abort();
	if (r1 == 0)
		check_ok(&e1);
	if (size + 3 > SHUTTLE_EXEC_MAX || (size >= 3 &&
	    memcmp(data, "-- ", 3) == 0))
		return 0;
	memcpy(buf, "-- ", 3);
	r2 = shuttle_exec_parse(buf, size + 3, &e2);
	if (r1 != r2)
		abort();
	if (r1 == 0 && (e1.form != e2.form || e1.verbosity != e2.verbosity ||
	    e1.assembler_len != e2.assembler_len || e1.v12 != e2.v12 ||
	    strcmp(e1.python, e2.python) != 0))
		abort();
	return 0;
}
