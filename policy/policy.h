/*
 * policy: who may log in, with what, from where, and reach what.
 *
 * The language is described in docs/policy.md.  A policy is loaded whole
 * or not at all: any error leaves the caller with nothing, so a bad file
 * can never be half-applied.  A loaded policy is immutable and answers
 * questions; the gateway's master holds one and swaps it on SIGHUP.
 *
 * Destination decisions are made on resolved addresses: the caller resolves
 * the requested name, passes every address it got, and connects only to an
 * address that was allowed.  Deny always wins, wherever it is written.
 */
#ifndef RAMPART_POLICY_H
#define RAMPART_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "addr.h"
#include "diag.h"

struct policy;
struct policy_user;
struct policy_parser;

/* keys-file is refused: for fuzzers and tests that must not touch files. */
#define POLICY_F_NO_FILES	0x1

#define POLICY_NAME_MAX		32	/* user and group names */
#define POLICY_MAX_ADDRS	32	/* addresses one decision may weigh */
#define POLICY_WHERE_MAX	96	/* "file:line" */
#define POLICY_REASON_MAX	256

/* Built-in defaults; a policy may override them globally or per user. */
#define POLICY_DEF_MAX_CONNECTIONS	10
#define POLICY_DEF_MAX_CHANNELS		32
#define POLICY_DEF_IDLE_TIMEOUT		3600		/* 1h */
#define POLICY_DEF_MAX_SESSION_TIME	43200		/* 12h */

struct policy_limits {
	unsigned long	max_connections;	/* per user, concurrent */
	unsigned long	max_channels;		/* per connection */
	unsigned long	idle_timeout;		/* seconds */
	unsigned long	max_session_time;	/* seconds */
};

/* Streaming parser (init/line/finish) so a fuzzer can drive it. */
struct policy_parser *policy_parser_new(const char *name, int flags,
	    diag_fn *fn, void *ctx);
/* Feed one line, without its newline. */
void	policy_parser_line(struct policy_parser *p, const char *line,
	    size_t len);
/* Frees p.  0 and *out set, or -1 if any line had an error. */
int	policy_parser_finish(struct policy_parser *p, struct policy **out);

/* Whole-buffer and whole-file loaders on top of the parser. */
int	policy_load_buf(const char *name, const char *buf, size_t len,
	    int flags, diag_fn *fn, void *ctx, struct policy **out);
int	policy_load_file(const char *path, int flags, diag_fn *fn, void *ctx,
	    struct policy **out);
void	policy_free(struct policy *pol);

/* Users.  NULL if unknown. */
const struct policy_user *policy_user_find(const struct policy *pol,
	    const char *name);
const char *policy_user_name(const struct policy_user *u);
int	policy_user_totp_required(const struct policy_user *u);
/* 1 if the account has expired at now. */
int	policy_user_expired(const struct policy_user *u, time_t now);
/* 1 if src may log in as u (no "from" means any source). */
int	policy_user_source_ok(const struct policy_user *u,
	    const struct addr *src);
/* 1 if the key blob is one of u's keys. */
int	policy_user_has_key(const struct policy_user *u, const uint8_t *blob,
	    size_t len);
void	policy_user_limits(const struct policy_user *u,
	    struct policy_limits *out);

/*
 * Knocking (docs/PROTOCOL.knock).  1 if u may log in only from an address
 * u opened with a knock ("knock required" on the user, or at top level
 * unless the user says "knock optional").
 */
int	policy_user_knock_required(const struct policy_user *u);
/* How many users need a knock; the gateway warns if it cannot hear any. */
size_t	policy_knock_required_users(const struct policy *pol);

/*
 * Find the ssh-ed25519 key of u -- from "key", "keys-file" or "knock-key"
 * lines -- whose key_id (SHA-256 of its key blob) is key_id, and copy its
 * 32-byte public key to pk.  1 if found, else 0.  "knock-key" keys may
 * knock but are never accepted by policy_user_has_key() for login.
 */
int	policy_user_knock_key(const struct policy_user *u,
	    const uint8_t key_id[32], uint8_t pk[32]);

/*
 * DNS for sshuttle: 1 if the gateway may relay u's DNS queries ("dns
 * allow|deny": the user's line, else its groups' -- any deny wins --, else
 * the top level's, else deny).
 */
int	policy_user_dns_allowed(const struct policy_user *u);

/*
 * The IPv4 networks worth routing through the gateway for user (sshuttle's
 * ROUTES): the address networks of the allow rules that apply to the user
 * (host name patterns cannot be routes; ports are ignored, the gateway
 * decides each connection), minus every net denied to the user on every
 * port (global, group and user deny rules, and the built-in deny list
 * where no lift-default-deny lifts it), minus the addresses in self (the
 * gateway's own; a route to them would capture the client's own ssh
 * connection).  The result is the smallest list of prefixes covering
 * exactly that set, sorted by address; *out is malloc'd (NULL if empty)
 * and the caller frees it.  0, or -1 if the user is unknown or memory ran
 * out.
 */
int	policy_user_routes(const struct policy *pol, const char *user,
	    const struct addr *self, size_t nself, struct addr_net **out,
	    size_t *nout);

struct policy_verdict {
	struct addr	addr;
	int		allowed;
	char		rule[POLICY_WHERE_MAX];		/* file:line or "" */
	char		reason[POLICY_REASON_MAX];
};

struct policy_decision {
	int			allowed;
	char			rule[POLICY_WHERE_MAX];	/* deciding rule */
	char			reason[POLICY_REASON_MAX];
	size_t			naddrs;
	struct policy_verdict	addr[POLICY_MAX_ADDRS];
};

/*
 * Decide whether user may reach host:port, where host resolved to addrs
 * (for an IP literal, addrs holds that address).  The name is allowed only
 * if every address is.  Returns 0 and fills *d (d->allowed says the
 * answer); -1 only if arguments are unusable, with d->reason set.
 */
int	policy_decide(const struct policy *pol, const char *user,
	    const char *host, const struct addr *addrs, size_t naddrs,
	    unsigned int port, time_t now, struct policy_decision *d);

/*
 * What user may reach, one rule per line ("  allow 10.0.0.0/8 port 22"),
 * for the text a shell request gets.  Always NUL-terminated; cut with
 * "..." if it does not fit.
 */
void	policy_user_rules_text(const struct policy *pol, const char *user,
	    char *buf, size_t len);

/* Print the normalised effective policy in the policy language. */
void	policy_dump(const struct policy *pol, FILE *f);

#endif /* RAMPART_POLICY_H */
