/*
 * config: gateway.conf, sshd_config style ("Keyword value", keywords
 * case-insensitive, '#' comments).  Loaded whole or not at all, with every
 * error as "file:line: message"; see docs/gateway.conf.5.
 */
#ifndef RAMPART_CONFIG_H
#define RAMPART_CONFIG_H

#include <limits.h>
#include <stdio.h>

#include "addr.h"
#include "diag.h"

#define CONFIG_DEFAULT_PATH	"/etc/rampart/gateway.conf"
#define CONFIG_MAX_LISTEN	16
#define CONFIG_MAX_HOSTKEYS	4
#define CONFIG_MAX_EXEMPT	64

struct config_listen {
	struct addr	addr;		/* 0.0.0.0 / :: for "any" */
	unsigned int	port;		/* 0: use Port */
};

struct config {
	struct config_listen	listen[CONFIG_MAX_LISTEN];	/* ListenAddress */
	size_t			nlisten;	/* 0: 0.0.0.0 and :: */
	unsigned int		port;		/* Port, default 22 */
	char			hostkeys[CONFIG_MAX_HOSTKEYS][PATH_MAX];
	size_t			nhostkeys;	/* default: one ed25519 path */
	char			policy[PATH_MAX];
	char			totp_secrets[PATH_MAX];
	char			totp_state[PATH_MAX];	/* TotpState */
	unsigned long		totp_window;	/* TotpWindow, steps; 1 */
	char			audit_log[PATH_MAX];
	char			user[33];	/* User, default "rampart" */
	unsigned long		login_grace;	/* LoginGraceTime, s; 30 */
	unsigned long		max_auth_tries;	/* MaxAuthTries; 3 */
	/* MaxStartups start:rate:full, default 30:30:100 */
	unsigned long		startups_begin, startups_rate, startups_full;
	unsigned long		per_source_startups;	/* PerSourceMaxStartups; 10 */
	unsigned long		connect_timeout;	/* ConnectTimeout, s; 10 */
	/* PerSourcePenalties: seconds per offence, doubled on repeat */
	unsigned long		penalty_authfail;	/* 5 */
	unsigned long		penalty_noauth;		/* 2: grace expired */
	unsigned long		penalty_error;		/* 10: protocol error */
	unsigned long		penalty_max;		/* 600 */
	unsigned long		penalty_table;		/* 8192 sources */
	struct addr_net		exempt[CONFIG_MAX_EXEMPT];
	size_t			nexempt;	/* PerSourcePenaltyExemptList */
	int			log_level;	/* enum log_level; info */
	/* Knock bindings (docs/PROTOCOL.knock section 12); "" is none. */
	char			knock_bind_socket[108];	/* KnockBindSocket */
	char			knockd_user[33];	/* KnockdUser */
};

/* The built-in defaults (what a file with no lines means). */
void	config_defaults(struct config *c);

/* Load path over the defaults.  0, or -1 after reporting through fn. */
int	config_load(const char *path, struct config *c, diag_fn *fn,
	    void *ctx);

/* Parse from a buffer (for tests and the fuzzer). */
int	config_load_buf(const char *name, const char *buf, size_t len,
	    struct config *c, diag_fn *fn, void *ctx);

/* Print every setting, defaults included, as lower-case "keyword value". */
void	config_dump(const struct config *c, FILE *f);

#endif /* RAMPART_CONFIG_H */
