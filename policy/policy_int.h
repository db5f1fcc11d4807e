/*
 * policy_int: the loaded policy's data, shared by policy_parse.c,
 * policy_match.c and policy_dump.c only.  Nothing outside policy/ includes
 * this file; everyone else uses the questions in policy.h.
 */
#ifndef RAMPART_POLICY_INT_H
#define RAMPART_POLICY_INT_H

#include "addr.h"
#include "conv.h"
#include "hostname.h"
#include "policy.h"
#include "pubkey.h"

enum rule_action { RULE_ALLOW, RULE_DENY };
enum rule_scope { SCOPE_GLOBAL, SCOPE_GROUP, SCOPE_USER };

struct dest {
	int		 is_name;	/* pattern, else net */
	char		 pattern[HOSTNAME_MAX + 1];
	struct addr_net	 net;
};

struct rule {
	enum rule_action	 action;
	enum rule_scope		 scope;
	size_t			 owner;		/* group or user index */
	unsigned long		 line;
	struct dest		*dests;
	size_t			 ndests;
	struct port_range	 ports[CONV_PORTS_MAX];
	size_t			 nports;
};

struct ukey {
	struct pubkey	 key;
	char		 where[POLICY_WHERE_MAX];	/* file:line */
	int		 knock_only;	/* "knock-key": never a login key */
	int		 has_id;	/* ssh-ed25519: key_id below is set */
	uint8_t		 key_id[32];	/* SHA-256 of the blob */
};

/* "knock required|optional", on a user or at top level. */
enum knock_mode { KNOCK_UNSET, KNOCK_REQUIRED, KNOCK_OPTIONAL };

/* "dns allow|deny", at top level, on a group or on a user. */
enum dns_mode { DNS_UNSET, DNS_ALLOW, DNS_DENY };

/* Which limits a user or the global defaults set explicitly. */
#define LIM_CONN	0x1
#define LIM_CHAN	0x2
#define LIM_IDLE	0x4
#define LIM_LIFE	0x8

struct limits_src {
	struct policy_limits	v;
	unsigned int		set;	/* LIM_* */
	unsigned long		line[4];
};

struct policy_user {
	char		 name[POLICY_NAME_MAX + 1];
	unsigned long	 line;
	struct ukey	*keys;
	size_t		 nkeys;
	char		**keyfiles;	/* for dump */
	size_t		 nkeyfiles;
	int		 has_keyspec;
	size_t		*groups;	/* indices into policy.groups */
	size_t		 ngroups;
	int		 totp_none;
	unsigned long	 totp_line;
	struct addr_net	*from;
	size_t		 nfrom;
	enum knock_mode	 knock;		/* as written for this user */
	unsigned long	 knock_line;
	int		 knock_required;	/* effective */
	enum dns_mode	 dns;		/* as written for this user */
	unsigned long	 dns_line;
	int		 dns_allowed;	/* effective: user, groups, top, deny */
	time_t		 expires;	/* if expires_line != 0 */
	char		 expires_text[24];
	unsigned long	 expires_line;
	struct limits_src lim;		/* as written for this user */
	struct policy_limits eff;	/* user, else global, else built-in */
};

struct policy_group {
	char		 name[POLICY_NAME_MAX + 1];
	unsigned long	 line;
	enum dns_mode	 dns;
	unsigned long	 dns_line;
};

struct lift {
	struct addr_net	 net;
	unsigned long	 line;
};

struct policy {
	char			*file;
	struct policy_user	*users;
	size_t			 nusers;
	struct policy_group	*groups;
	size_t			 ngroups;
	struct rule		*rules;		/* file order */
	size_t			 nrules;
	struct lift		*lifts;
	size_t			 nlifts;
	struct limits_src	 defaults;
	enum knock_mode		 knock;		/* top level */
	unsigned long		 knock_line;
	enum dns_mode		 dns;		/* top level */
	unsigned long		 dns_line;
};

/* The built-in deny list: never reachable unless explicitly lifted. */
extern const char *const policy_builtin_deny[];
extern const size_t policy_builtin_ndeny;

/* Grow *arr (of *n elements of size sz) by one zeroed element. */
void	*policy_grow(void *arr, size_t *n, size_t sz);

/* 1 if rule r applies to user u (global, one of u's groups, or u). */
int	policy_rule_applies(const struct policy *pol,
	    const struct policy_user *u, const struct rule *r);

/* The rule's text in normalised form ("allow 10.0.0.0/8 port 22"). */
void	policy_rule_str(const struct rule *r, char *buf, size_t len);

#endif /* RAMPART_POLICY_INT_H */
