/*
 * rampartctl: the administrator's tool.  This file only dispatches to the
 * subcommand families in ctl_*.c.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "ctl.h"

static const struct family {
	const char	*name;
	int		(*fn)(int, char **);
	const char	*summary;
} families[] = {
	{ "policy", ctl_policy, "check, explain and dump a policy file" },
	{ "totp", ctl_totp, "enrol, import, test and reset TOTP secrets" },
	{ "knock", ctl_knock, "make knock keys (users' and knockd's)" },
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: rampartctl COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		fprintf(f, "  %-10s %s\n", families[i].name,
		    families[i].summary);
	fprintf(f, "\n'rampartctl COMMAND --help' describes each command.\n");
}

int
main(int argc, char **argv)
{
	size_t i;

	if (sodium_init() < 0) {
		fprintf(stderr, "rampartctl: libsodium failed to initialise\n");
		return CTL_REFUSED;
	}
	if (argc < 2) {
		usage(stderr);
		return CTL_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return CTL_OK;
	}
	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		if (strcmp(argv[1], families[i].name) == 0)
			return families[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "rampartctl: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return CTL_USAGE;
}
