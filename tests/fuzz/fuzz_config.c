/*
 * libFuzzer target for the gateway.conf parser and dump.  Whatever loads
 * must dump without trouble, and the dump must load again: config_dump is
 * what -T prints, and an operator may paste it back into a file.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct config c, again;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
		return 0;
	if (config_load_buf("fuzz.conf", (const char *)data, size, &c, NULL,
	    NULL) != 0)
		return 0;
	config_dump(&c, devnull);
	if ((f = open_memstream(&text, &len)) == NULL)
		return 0;
	config_dump(&c, f);
	if (fclose(f) != 0) {
		free(text);
		return 0;
	}
	if (config_load_buf("dump.conf", text, len, &again, NULL, NULL) != 0)
		abort();
	free(text);
	return 0;
}
