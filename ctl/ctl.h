/*
 * ctl: rampartctl's subcommands.  Each takes the arguments after its own
 * name and returns the process exit code: 0 success, 1 refused or invalid
 * input, 2 usage error.
 */
#ifndef RAMPART_CTL_H
#define RAMPART_CTL_H

#define CTL_OK		0
#define CTL_REFUSED	1
#define CTL_USAGE	2

#define CTL_DEFAULT_POLICY	"/etc/rampart/policy.conf"
#define CTL_DEFAULT_TOTP_SECRETS "/etc/rampart/totp.secrets"

int	ctl_policy(int argc, char **argv);

/* ctl_util.c: what every subcommand family shares. */
/* A diag callback printing each message on stderr. */
void	ctl_print_err(void *ctx, const char *msg);
/* 1 if any argument after argv[0] is --help or -h. */
int	ctl_help_wanted(int argc, char **argv);
int	ctl_totp(int argc, char **argv);
int	ctl_knock(int argc, char **argv);

#endif /* RAMPART_CTL_H */
