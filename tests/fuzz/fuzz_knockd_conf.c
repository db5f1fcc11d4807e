/*
 * libFuzzer target for the knockd.conf parser and its dump.  Whatever
 * loads must dump, the dump (what -T prints, which an operator may paste
 * back) must load again, and dumping that gives the same text.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "knockd_conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The dump of c, malloc'ed; NULL if memory ran out. */
static char *
dump(const struct knockd_conf *c, size_t *len)
{
	char *text = NULL;
	FILE *f;

	if ((f = open_memstream(&text, len)) == NULL)
		return NULL;
	knockd_conf_dump(c, f);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct knockd_conf c, again;
	char *d1 = NULL, *d2 = NULL;
	size_t l1 = 0, l2 = 0;

	if (knockd_conf_load_buf("fuzz.conf", (const char *)data, size, &c,
	    NULL, NULL) != 0)
		return 0;
	if ((d1 = dump(&c, &l1)) == NULL)
		return 0;
	if (knockd_conf_load_buf("dump.conf", d1, l1, &again, NULL,
	    NULL) != 0)
		abort();
	if ((d2 = dump(&again, &l2)) != NULL &&
	    (l1 != l2 || memcmp(d1, d2, l1) != 0))
		abort();
	free(d1);
	free(d2);
	return 0;
}
