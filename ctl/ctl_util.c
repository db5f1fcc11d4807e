/*
 * ctl_util: small helpers every rampartctl subcommand family uses.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

void
ctl_print_err(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "%s\n", msg);
}

int
ctl_help_wanted(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return 1;
	}
	return 0;
}
