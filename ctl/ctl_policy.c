/*
 * ctl_policy: "rampartctl policy check|explain|dump".
 *
 * explain resolves names with the system resolver, the way an
 * administrator's shell would see them; the gateway's own resolver is
 * asynchronous and may differ (search domains, caching), so explain prints
 * the addresses it weighed.
 */
#include <sys/socket.h>
#include <netdb.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conv.h"
#include "ctl.h"
#include "hostname.h"
#include "policy.h"

static const char *const usage_text =
    "usage: rampartctl policy check FILE\n"
    "       rampartctl policy explain [-f FILE] [-a DATE] USER HOST PORT\n"
    "       rampartctl policy dump [-f FILE]\n"
    "\n"
    "check    validate FILE; errors go to stderr as file:line: message.\n"
    "         Exit 0 if valid, 1 if not.\n"
    "explain  say whether USER may reach HOST:PORT, which rule decides,\n"
    "         and for a name what each resolved address decided.\n"
    "         -a DATE decides as of DATE (YYYY-MM-DD or\n"
    "         YYYY-MM-DDTHH:MM:SSZ) instead of now.  Exit 0 if allowed,\n"
    "         1 if denied.\n"
    "dump     print the normalised effective policy.\n"
    "\n"
    "FILE defaults to " CTL_DEFAULT_POLICY ".\n";

static int
usage(FILE *f, int code)
{
	fputs(usage_text, f);
	return code;
}

static int
load(const char *path, struct policy **pol)
{
	if (policy_load_file(path, 0, ctl_print_err, NULL, pol) != 0) {
		fprintf(stderr, "%s: policy not loaded\n", path);
		return -1;
	}
	return 0;
}

static int
cmd_check(int argc, char **argv)
{
	struct policy *pol;

	if (argc != 2)
		return usage(stderr, CTL_USAGE);
	if (load(argv[1], &pol) != 0)
		return CTL_REFUSED;
	policy_free(pol);
	printf("%s: OK\n", argv[1]);
	return CTL_OK;
}

static int
cmd_dump(int argc, char **argv)
{
	const char *file = CTL_DEFAULT_POLICY;
	struct policy *pol;
	int ch;

	optind = 1;
	while ((ch = getopt(argc, argv, "f:")) != -1) {
		if (ch != 'f')
			return usage(stderr, CTL_USAGE);
		file = optarg;
	}
	if (optind != argc)
		return usage(stderr, CTL_USAGE);
	if (load(file, &pol) != 0)
		return CTL_REFUSED;
	policy_dump(pol, stdout);
	policy_free(pol);
	return CTL_OK;
}

/* Resolve name into addrs (deduplicated); returns the count, 0 on failure. */
static size_t
resolve(const char *name, struct addr *addrs, size_t max)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct addr a;
	size_t n = 0, i;
	int r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(name, NULL, &hints, &res)) != 0) {
		fprintf(stderr, "%s: %s\n", name, gai_strerror(r));
		return 0;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (addr_from_sockaddr(ai->ai_addr, ai->ai_addrlen, &a) != 0)
			continue;
		for (i = 0; i < n && !addr_eq(&addrs[i], &a); i++)
			;
		if (i < n)
			continue;
		if (n == max) {
			/* Let the policy refuse it as too many. */
			n = max + 1;
			break;
		}
		addrs[n++] = a;
	}
	freeaddrinfo(res);
	return n;
}

static void
print_decision(const struct policy_decision *d, const char *user,
    const char *host, unsigned long port, int is_name)
{
	char a[ADDR_STRLEN];
	size_t i;

	printf("%s: %s -> %s port %lu\n", d->allowed ? "allow" : "deny", user,
	    host, port);
	printf("  rule:   %s\n", d->rule[0] ? d->rule : "(none)");
	printf("  reason: %s\n", d->reason);
	if (!is_name || d->naddrs == 0)
		return;
	printf("  addresses:\n");
	for (i = 0; i < d->naddrs; i++) {
		addr_ntop(&d->addr[i].addr, a, sizeof(a));
		printf("    %-39s %-5s %s\n", a,
		    d->addr[i].allowed ? "allow" : "deny", d->addr[i].reason);
	}
}

static int
cmd_explain(int argc, char **argv)
{
	const char *file = CTL_DEFAULT_POLICY;
	struct addr addrs[POLICY_MAX_ADDRS + 1], lit;
	struct policy_decision *d = NULL;
	struct policy *pol = NULL;
	char err[256], name[HOSTNAME_MAX + 1];
	unsigned long port;
	size_t naddrs = 0;
	time_t now = time(NULL);
	int ch, is_name, rc = CTL_REFUSED;

	optind = 1;
	while ((ch = getopt(argc, argv, "f:a:")) != -1) {
		if (ch == 'f')
			file = optarg;
		else if (ch == 'a') {
			if (conv_date(optarg, &now, err, sizeof(err)) != 0) {
				fprintf(stderr, "rampartctl: -a: %s\n", err);
				return CTL_USAGE;
			}
			/* A bare date means that day's start, not its end. */
			if (strlen(optarg) == 10)
				now -= 86400;
		} else
			return usage(stderr, CTL_USAGE);
	}
	if (argc - optind != 3)
		return usage(stderr, CTL_USAGE);
	if (conv_uint(argv[optind + 2], 1, 65535, &port, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "rampartctl: port: %s\n", err);
		return CTL_USAGE;
	}
	if (load(file, &pol) != 0)
		return CTL_REFUSED;
	is_name = addr_parse(argv[optind + 1], &lit) != 0;
	if (is_name && hostname_normalise(argv[optind + 1], name,
	    sizeof(name), err, sizeof(err)) == 0)
		naddrs = resolve(name, addrs, POLICY_MAX_ADDRS);
	if ((d = malloc(sizeof(*d))) == NULL) {
		fprintf(stderr, "rampartctl: out of memory\n");
		goto out;
	}
	if (policy_decide(pol, argv[optind], argv[optind + 1], addrs,
	    naddrs, (unsigned int)port, now, d) != 0) {
		fprintf(stderr, "rampartctl: %s\n", d->reason);
		goto out;
	}
	print_decision(d, argv[optind], argv[optind + 1], port, is_name);
	rc = d->allowed ? CTL_OK : CTL_REFUSED;
 out:
	free(d);
	policy_free(pol);
	return rc;
}

int
ctl_policy(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr, CTL_USAGE);
	if (ctl_help_wanted(argc, argv))
		return usage(stdout, CTL_OK);
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "explain") == 0)
		return cmd_explain(argc - 1, argv + 1);
	if (strcmp(argv[1], "dump") == 0)
		return cmd_dump(argc - 1, argv + 1);
	fprintf(stderr, "rampartctl: unknown policy command \"%s\"\n",
	    argv[1]);
	return usage(stderr, CTL_USAGE);
}
