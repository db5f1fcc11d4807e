/*
 * policy_parse: the policy language, line by line.
 *
 * A keyword table with one small handler per keyword.  Blocks are made by
 * indentation: "user NAME" or "group NAME" at the start of a line opens a
 * block, indented lines belong to it, and the next unindented line closes
 * it.  Errors are reported with file and line and parsing goes on, so one
 * run shows every mistake; any error discards the whole policy.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "authkeys.h"
#include "policy_int.h"
#include "textfile.h"

#define MAX_WORDS	256
#define ED25519_BLOB_LEN 51	/* string "ssh-ed25519", string key[32] */
#define MAX_DESTS	64
#define MAX_USERS	100000
#define MAX_GROUPS	10000
#define MAX_RULES	100000

#define C_TOP		0x1
#define C_USER		0x2
#define C_GROUP		0x4
#define C_SKIP		0x8	/* inside a block whose header was bad */

struct pending_member {
	size_t		user;
	char		name[POLICY_NAME_MAX + 1];
	unsigned long	line;
};

struct policy_parser {
	struct policy		*pol;
	struct diag		 d;
	int			 flags;
	unsigned long		 line;
	unsigned int		 ctx;		/* C_TOP, C_USER, C_GROUP */
	size_t			 cur;		/* open user or group */
	struct pending_member	*members;
	size_t			 nmembers;
};

const char *const policy_builtin_deny[] = {
	"0.0.0.0/8",		/* "this network"; 0.0.0.0 reaches localhost */
	"127.0.0.0/8",		/* the bastion's own loopback */
	"169.254.0.0/16",	/* link-local, cloud metadata 169.254.169.254 */
	"::/128",		/* unspecified */
	"::1/128",		/* loopback */
	"fe80::/10",		/* link-local */
	"fd00:ec2::254/128",	/* AWS instance metadata over IPv6 */
};
const size_t policy_builtin_ndeny =
    sizeof(policy_builtin_deny) / sizeof(policy_builtin_deny[0]);

static void
perr(struct policy_parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
perr(struct policy_parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vat(&p->d, p->pol->file, p->line, fmt, ap);
	va_end(ap);
}

void *
policy_grow(void *arr, size_t *n, size_t sz)
{
	void *na;

	if (*n >= ((size_t)-1) / sz / 2)
		return NULL;
	/* Grow geometrically but only track the count: capacity = pow2. */
	if (*n == 0 || (*n & (*n - 1)) == 0) {
		if ((na = realloc(arr, (*n == 0 ? 1 : *n * 2) * sz)) == NULL)
			return NULL;
		arr = na;
	}
	memset((char *)arr + *n * sz, 0, sz);
	(*n)++;
	return arr;
}

#define GROW(p, arr, n) \
	grow_or_fail((p), (void **)&(arr), &(n), sizeof(*(arr)))

static int
grow_or_fail(struct policy_parser *p, void **arr, size_t *n, size_t sz)
{
	void *na;

	if ((na = policy_grow(*arr, n, sz)) == NULL) {
		perr(p, "out of memory");
		return -1;
	}
	*arr = na;
	return 0;
}

static int
valid_name(const char *s)
{
	return conv_name_ok(s, POLICY_NAME_MAX);
}

static int
check_name(struct policy_parser *p, const char *what, const char *s)
{
	char safe[80];

	if (valid_name(s))
		return 0;
	perr(p, "\"%s\" is not a valid %s name (lower case letters, digits, "
	    "'_', '-', '.'; starting with a letter or '_'; at most %d "
	    "characters)",
	    diag_safe(s, strlen(s), safe, sizeof(safe)), what,
	    POLICY_NAME_MAX);
	return -1;
}

static int
parse_net(struct policy_parser *p, const char *s, struct addr_net *out)
{
	char safe[80], hint[ADDR_STRLEN];

	diag_safe(s, strlen(s), safe, sizeof(safe));
	switch (addr_parse_net(s, out)) {
	case 0:
		return 0;
	case -2:
		perr(p, "prefix length in %s is out of range (0-32 for IPv4, "
		    "0-128 for IPv6)", safe);
		return -1;
	case -3:
		if (addr_net_suggest(s, hint, sizeof(hint)) != 0)
			snprintf(hint, sizeof(hint), "the network address");
		perr(p, "%s has host bits set (write the network address, "
		    "e.g. %s)", safe, hint);
		return -1;
	default:
		perr(p, "\"%s\" is not an IP address or CIDR", safe);
		return -1;
	}
}

static struct policy_user *
cur_user(struct policy_parser *p)
{
	return &p->pol->users[p->cur];
}

/* ---- top level ---- */

static int
kw_user(struct policy_parser *p, int ac, char **av)
{
	struct policy *pol = p->pol;
	struct policy_user *u;
	size_t i;

	(void)ac;
	if (check_name(p, "user", av[1]) != 0)
		return -1;
	for (i = 0; i < pol->nusers; i++) {
		if (strcmp(pol->users[i].name, av[1]) == 0) {
			perr(p, "duplicate user %s (first defined at line "
			    "%lu)", av[1], pol->users[i].line);
			return -1;
		}
	}
	if (pol->nusers >= MAX_USERS) {
		perr(p, "more than %d users", MAX_USERS);
		return -1;
	}
	if (GROW(p, pol->users, pol->nusers) != 0)
		return -1;
	u = &pol->users[pol->nusers - 1];
	snprintf(u->name, sizeof(u->name), "%s", av[1]);
	u->line = p->line;
	p->ctx = C_USER;
	p->cur = pol->nusers - 1;
	return 0;
}

static int
kw_group(struct policy_parser *p, int ac, char **av)
{
	struct policy *pol = p->pol;
	size_t i;

	(void)ac;
	if (check_name(p, "group", av[1]) != 0)
		return -1;
	for (i = 0; i < pol->ngroups; i++) {
		if (strcmp(pol->groups[i].name, av[1]) == 0) {
			perr(p, "duplicate group %s (first defined at line "
			    "%lu)", av[1], pol->groups[i].line);
			return -1;
		}
	}
	if (pol->ngroups >= MAX_GROUPS) {
		perr(p, "more than %d groups", MAX_GROUPS);
		return -1;
	}
	if (GROW(p, pol->groups, pol->ngroups) != 0)
		return -1;
	snprintf(pol->groups[pol->ngroups - 1].name, POLICY_NAME_MAX + 1,
	    "%s", av[1]);
	pol->groups[pol->ngroups - 1].line = p->line;
	p->ctx = C_GROUP;
	p->cur = pol->ngroups - 1;
	return 0;
}

static int
kw_lift(struct policy_parser *p, int ac, char **av)
{
	struct addr_net net, builtin;
	struct lift *l;
	size_t i;

	(void)ac;
	if (parse_net(p, av[1], &net) != 0)
		return -1;
	for (i = 0; i < policy_builtin_ndeny; i++) {
		if (addr_parse_net(policy_builtin_deny[i], &builtin) == 0 &&
		    addr_net_within(&net, &builtin))
			break;
	}
	if (i == policy_builtin_ndeny) {
		perr(p, "%s is not inside the built-in deny list, so there "
		    "is nothing to lift", av[1]);
		return -1;
	}
	if (GROW(p, p->pol->lifts, p->pol->nlifts) != 0)
		return -1;
	l = &p->pol->lifts[p->pol->nlifts - 1];
	l->net = net;
	l->line = p->line;
	return 0;
}

/* ---- rules ---- */

static int
parse_dest(struct policy_parser *p, const char *s, struct dest *d)
{
	char err[DIAG_MSG_MAX], safe[80];

	/* Anything with ':' or '/' or made of digits and dots is an address. */
	if (strchr(s, ':') != NULL || strchr(s, '/') != NULL ||
	    strspn(s, "0123456789.") == strlen(s))
		return parse_net(p, s, &d->net);
	if (hostname_pattern(s, d->pattern, sizeof(d->pattern), err,
	    sizeof(err)) != 0) {
		perr(p, "destination \"%s\": %s",
		    diag_safe(s, strlen(s), safe, sizeof(safe)), err);
		return -1;
	}
	d->is_name = 1;
	return 0;
}

static int
parse_rule(struct policy_parser *p, enum rule_action act, int ac, char **av)
{
	struct rule r;
	char err[DIAG_MSG_MAX];
	int i, ndest, bad = 0;

	memset(&r, 0, sizeof(r));
	for (ndest = 1; ndest < ac && strcasecmp(av[ndest], "port") != 0;
	    ndest++)
		;
	if (ndest == 1) {
		perr(p, "%s needs at least one destination", av[0]);
		return -1;
	}
	if (ndest - 1 > MAX_DESTS) {
		perr(p, "more than %d destinations in one rule", MAX_DESTS);
		return -1;
	}
	if (ndest == ac && act == RULE_ALLOW) {
		perr(p, "allow needs 'port PORTS' (use 'port any' for every "
		    "port)");
		return -1;
	}
	if (ndest < ac && ndest + 2 != ac) {
		perr(p, "'port' takes exactly one list, like 22,443,8000-8999");
		return -1;
	}
	if (ndest < ac) {
		if (conv_ports(av[ndest + 1], r.ports, &r.nports, err,
		    sizeof(err)) != 0) {
			perr(p, "%s", err);
			return -1;
		}
	} else
		conv_ports("any", r.ports, &r.nports, err, sizeof(err));
	if ((r.dests = calloc((size_t)(ndest - 1), sizeof(*r.dests))) == NULL) {
		perr(p, "out of memory");
		return -1;
	}
	for (i = 1; i < ndest; i++) {
		if (parse_dest(p, av[i], &r.dests[i - 1]) != 0)
			bad = 1;
	}
	if (bad || p->pol->nrules >= MAX_RULES ||
	    GROW(p, p->pol->rules, p->pol->nrules) != 0) {
		if (!bad && p->pol->nrules >= MAX_RULES)
			perr(p, "more than %d rules", MAX_RULES);
		free(r.dests);
		return -1;
	}
	r.ndests = (size_t)(ndest - 1);
	r.action = act;
	r.line = p->line;
	r.scope = p->ctx == C_USER ? SCOPE_USER :
	    p->ctx == C_GROUP ? SCOPE_GROUP : SCOPE_GLOBAL;
	r.owner = p->cur;
	p->pol->rules[p->pol->nrules - 1] = r;
	return 0;
}

static int
kw_allow(struct policy_parser *p, int ac, char **av)
{
	return parse_rule(p, RULE_ALLOW, ac, av);
}

static int
kw_deny(struct policy_parser *p, int ac, char **av)
{
	return parse_rule(p, RULE_DENY, ac, av);
}

/* ---- user block ---- */

/*
 * A knock names its key by key_id (docs/PROTOCOL.knock 3.2); computed
 * once here so that knockd's lookup is a comparison.
 */
static void
key_set_id(struct ukey *uk)
{
	if (strcmp(uk->key.type, "ssh-ed25519") != 0 ||
	    uk->key.bloblen != ED25519_BLOB_LEN)
		return;
	crypto_hash_sha256(uk->key_id, uk->key.blob, uk->key.bloblen);
	uk->has_id = 1;
}

static int
add_key(struct policy_parser *p, const struct pubkey *k, const char *file,
    unsigned long line, int knock_only)
{
	struct policy_user *u = cur_user(p);
	struct ukey *uk;
	size_t i;

	for (i = 0; i < u->nkeys; i++) {
		if (!pubkey_blob_eq(&u->keys[i].key, k->blob, k->bloblen))
			continue;
		if (u->keys[i].knock_only != knock_only)
			diag_at(&p->d, file, line, "this key is both a login "
			    "key and a knock-key of user %s (the other is at "
			    "%s): a knock key must not log in", u->name,
			    u->keys[i].where);
		else
			diag_at(&p->d, file, line, "duplicate key for user "
			    "%s (already at %s)", u->name, u->keys[i].where);
		return 0;
	}
	if (GROW(p, u->keys, u->nkeys) != 0)
		return -1;
	uk = &u->keys[u->nkeys - 1];
	if (pubkey_copy(&uk->key, k) != 0) {
		u->nkeys--;
		perr(p, "out of memory");
		return -1;
	}
	snprintf(uk->where, sizeof(uk->where), "%s:%lu", file, line);
	uk->knock_only = knock_only;
	key_set_id(uk);
	return 0;
}

/* The words after the keyword, as one authorized_keys line: 0 and *k. */
static int
key_from_words(struct policy_parser *p, int ac, char **av, struct pubkey *k)
{
	char line[TEXTFILE_LINE_MAX + 1], err[DIAG_MSG_MAX];
	size_t o = 0;
	int i, r;

	for (i = 1; i < ac; i++)
		o += (size_t)snprintf(line + o, sizeof(line) - o, "%s%s",
		    i > 1 ? " " : "", av[i]);
	r = authkeys_parse_line(line, strlen(line), 0, k, err, sizeof(err));
	if (r <= 0) {
		perr(p, "%s", r < 0 ? err : "missing key");
		return -1;
	}
	return 0;
}

static int
kw_key(struct policy_parser *p, int ac, char **av)
{
	struct pubkey k;
	int r;

	cur_user(p)->has_keyspec = 1;
	if (key_from_words(p, ac, av, &k) != 0)
		return -1;
	r = add_key(p, &k, p->pol->file, p->line, 0);
	pubkey_clear(&k);
	return r;
}

/*
 * A key that may knock for the user but never log in.  Only ssh-ed25519:
 * a knock carries a plain Ed25519 signature (docs/PROTOCOL.knock 14.8).
 */
static int
kw_knock_key(struct policy_parser *p, int ac, char **av)
{
	struct pubkey k;
	char safe[64];
	int r = -1;

	if (key_from_words(p, ac, av, &k) != 0)
		return -1;
	if (strcmp(k.type, "ssh-ed25519") != 0)
		perr(p, "knock-key must be an ssh-ed25519 key, not %s (knocks "
		    "are signed with Ed25519 only)",
		    diag_safe(k.type, strlen(k.type), safe, sizeof(safe)));
	else
		r = add_key(p, &k, p->pol->file, p->line, 1);
	pubkey_clear(&k);
	return r;
}

struct keyfile_ctx {
	struct policy_parser	*p;
	const char		*path;
};

static int
keyfile_cb(void *ctx, const struct pubkey *k, unsigned long line)
{
	struct keyfile_ctx *kc = ctx;

	return add_key(kc->p, k, kc->path, line, 0);
}

static int
kw_keys_file(struct policy_parser *p, int ac, char **av)
{
	struct policy_user *u = cur_user(p);
	struct keyfile_ctx kc;
	char *copy;

	(void)ac;
	u->has_keyspec = 1;
	if (p->flags & POLICY_F_NO_FILES) {
		perr(p, "keys-file is not allowed here");
		return -1;
	}
	if (av[1][0] != '/') {
		perr(p, "keys-file path must be absolute");
		return -1;
	}
	if ((copy = strdup(av[1])) == NULL ||
	    GROW(p, u->keyfiles, u->nkeyfiles) != 0) {
		free(copy);
		return -1;
	}
	u->keyfiles[u->nkeyfiles - 1] = copy;
	kc.p = p;
	kc.path = copy;
	if (authkeys_load(copy, &p->d, keyfile_cb, &kc) < 0) {
		perr(p, "keys-file %s could not be used", copy);
		return -1;
	}
	return 0;
}

static int
kw_member(struct policy_parser *p, int ac, char **av)
{
	struct pending_member *m;
	size_t j;
	int i;

	for (i = 1; i < ac; i++) {
		if (check_name(p, "group", av[i]) != 0)
			return -1;
		for (j = 0; j < p->nmembers; j++) {
			if (p->members[j].user == p->cur &&
			    strcmp(p->members[j].name, av[i]) == 0) {
				perr(p, "%s is already a member of %s (line "
				    "%lu)", cur_user(p)->name, av[i],
				    p->members[j].line);
				return -1;
			}
		}
		if (GROW(p, p->members, p->nmembers) != 0)
			return -1;
		m = &p->members[p->nmembers - 1];
		m->user = p->cur;
		m->line = p->line;
		snprintf(m->name, sizeof(m->name), "%s", av[i]);
	}
	return 0;
}

static int
once(struct policy_parser *p, const char *what, unsigned long *line)
{
	if (*line != 0) {
		perr(p, "%s given twice (first at line %lu)", what, *line);
		return -1;
	}
	*line = p->line;
	return 0;
}

/*
 * A once-per-scope keyword whose value is one of two words: 0 for the
 * first, 1 for the second, -1 (reported) otherwise.
 */
static int
one_of(struct policy_parser *p, const char *what, unsigned long *line,
    const char *v, const char *first, const char *second)
{
	if (once(p, what, line) != 0)
		return -1;
	if (strcasecmp(v, first) == 0)
		return 0;
	if (strcasecmp(v, second) == 0)
		return 1;
	perr(p, "%s must be '%s' or '%s'", what, first, second);
	return -1;
}

static int
kw_totp(struct policy_parser *p, int ac, char **av)
{
	struct policy_user *u = cur_user(p);
	int r;

	(void)ac;
	if ((r = one_of(p, "totp", &u->totp_line, av[1], "required",
	    "none")) == -1)
		return -1;
	u->totp_none = r;
	return 0;
}

static int
kw_from(struct policy_parser *p, int ac, char **av)
{
	struct policy_user *u = cur_user(p);
	struct addr_net net;
	int i;

	for (i = 1; i < ac; i++) {
		if (parse_net(p, av[i], &net) != 0)
			return -1;
		if (GROW(p, u->from, u->nfrom) != 0)
			return -1;
		u->from[u->nfrom - 1] = net;
	}
	return 0;
}

static int
kw_expires(struct policy_parser *p, int ac, char **av)
{
	struct policy_user *u = cur_user(p);
	char err[DIAG_MSG_MAX];

	(void)ac;
	if (once(p, "expires", &u->expires_line) != 0)
		return -1;
	if (conv_date(av[1], &u->expires, err, sizeof(err)) != 0) {
		perr(p, "%s", err);
		return -1;
	}
	snprintf(u->expires_text, sizeof(u->expires_text), "%s", av[1]);
	return 0;
}

static int
kw_knock(struct policy_parser *p, int ac, char **av)
{
	enum knock_mode *m = p->ctx == C_USER ? &cur_user(p)->knock :
	    &p->pol->knock;
	unsigned long *line = p->ctx == C_USER ? &cur_user(p)->knock_line :
	    &p->pol->knock_line;

	int r;

	(void)ac;
	if ((r = one_of(p, "knock", line, av[1], "required", "optional")) ==
	    -1)
		return -1;
	*m = r == 0 ? KNOCK_REQUIRED : KNOCK_OPTIONAL;
	return 0;
}

static int
kw_dns(struct policy_parser *p, int ac, char **av)
{
	enum dns_mode *m;
	unsigned long *line;
	int r;

	(void)ac;
	if (p->ctx == C_USER) {
		m = &cur_user(p)->dns;
		line = &cur_user(p)->dns_line;
	} else if (p->ctx == C_GROUP) {
		m = &p->pol->groups[p->cur].dns;
		line = &p->pol->groups[p->cur].dns_line;
	} else {
		m = &p->pol->dns;
		line = &p->pol->dns_line;
	}
	if ((r = one_of(p, "dns", line, av[1], "allow", "deny")) == -1)
		return -1;
	*m = r == 0 ? DNS_ALLOW : DNS_DENY;
	return 0;
}

static const struct limit_kw {
	const char	*name;
	unsigned int	 bit;
	int		 duration;
	unsigned long	 max;
} limit_kws[] = {
	{ "max-connections", LIM_CONN, 0, 10000 },
	{ "max-channels", LIM_CHAN, 0, 10000 },
	{ "idle-timeout", LIM_IDLE, 1, 30 * 86400 },
	{ "max-session-time", LIM_LIFE, 1, 365 * 86400 },
};

static int
kw_limit(struct policy_parser *p, int ac, char **av)
{
	struct limits_src *ls = p->ctx == C_USER ? &cur_user(p)->lim :
	    &p->pol->defaults;
	char err[DIAG_MSG_MAX];
	unsigned long v, *dst[4];
	size_t i;

	(void)ac;
	dst[0] = &ls->v.max_connections;
	dst[1] = &ls->v.max_channels;
	dst[2] = &ls->v.idle_timeout;
	dst[3] = &ls->v.max_session_time;
	for (i = 0; strcasecmp(limit_kws[i].name, av[0]) != 0; i++)
		;
	if (once(p, limit_kws[i].name, &ls->line[i]) != 0)
		return -1;
	if ((limit_kws[i].duration ? conv_duration(av[1], limit_kws[i].max,
	    &v, err, sizeof(err)) : conv_uint(av[1], 1, limit_kws[i].max, &v,
	    err, sizeof(err))) != 0) {
		perr(p, "%s: %s", limit_kws[i].name, err);
		return -1;
	}
	*dst[i] = v;
	ls->set |= limit_kws[i].bit;
	return 0;
}

static const struct keyword {
	const char	*name;
	unsigned int	 where;
	int		 minargs, maxargs;
	const char	*usage;
	int		(*fn)(struct policy_parser *, int, char **);
} keywords[] = {
	{ "user", C_TOP, 1, 1, "user NAME", kw_user },
	{ "group", C_TOP, 1, 1, "group NAME", kw_group },
	{ "allow", C_TOP | C_USER | C_GROUP, 1, MAX_WORDS,
	    "allow DEST... port PORTS", kw_allow },
	{ "deny", C_TOP | C_USER | C_GROUP, 1, MAX_WORDS,
	    "deny DEST... [port PORTS]", kw_deny },
	{ "lift-default-deny", C_TOP, 1, 1, "lift-default-deny CIDR",
	    kw_lift },
	{ "key", C_USER, 2, MAX_WORDS, "key TYPE BASE64 [COMMENT]", kw_key },
	{ "keys-file", C_USER, 1, 1, "keys-file /PATH", kw_keys_file },
	{ "knock-key", C_USER, 2, MAX_WORDS, "knock-key ssh-ed25519 BASE64 "
	    "[COMMENT]", kw_knock_key },
	{ "knock", C_TOP | C_USER, 1, 1, "knock required|optional",
	    kw_knock },
	{ "dns", C_TOP | C_USER | C_GROUP, 1, 1, "dns allow|deny", kw_dns },
	{ "member", C_USER, 1, MAX_WORDS, "member GROUP...", kw_member },
	{ "totp", C_USER, 1, 1, "totp required|none", kw_totp },
	{ "from", C_USER, 1, MAX_WORDS, "from CIDR...", kw_from },
	{ "expires", C_USER, 1, 1, "expires YYYY-MM-DD", kw_expires },
	{ "max-connections", C_TOP | C_USER, 1, 1, "max-connections N",
	    kw_limit },
	{ "max-channels", C_TOP | C_USER, 1, 1, "max-channels N", kw_limit },
	{ "idle-timeout", C_TOP | C_USER, 1, 1, "idle-timeout DURATION",
	    kw_limit },
	{ "max-session-time", C_TOP | C_USER, 1, 1,
	    "max-session-time DURATION", kw_limit },
};

static const char *
ctx_name(unsigned int ctx)
{
	return ctx == C_USER ? "a user block" : ctx == C_GROUP ?
	    "a group block" : "the top level";
}

static int
check_place(struct policy_parser *p, const struct keyword *kw, int indented)
{
	if (!indented && !(kw->where & C_TOP)) {
		perr(p, "'%s' belongs inside a %s block: indent it under a "
		    "'%s' line", kw->name, kw->where & C_USER ? "user" :
		    "group", kw->where & C_USER ? "user" : "group");
		return -1;
	}
	if (indented && p->ctx == C_SKIP)
		return -1;	/* already reported at the block's header */
	if (indented && p->ctx == C_TOP) {
		perr(p, "indented line outside a user or group block");
		return -1;
	}
	if (indented && kw->where == C_TOP) {
		perr(p, "'%s' must start at the beginning of the line",
		    kw->name);
		return -1;
	}
	if (indented && !(kw->where & p->ctx)) {
		perr(p, "'%s' is not allowed in %s", kw->name,
		    ctx_name(p->ctx));
		return -1;
	}
	return 0;
}

static void
dispatch(struct policy_parser *p, int ac, char **av, int indented)
{
	const struct keyword *kw = NULL;
	char safe[80];
	size_t i;
	int r;

	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
		if (strcasecmp(keywords[i].name, av[0]) == 0)
			kw = &keywords[i];
	}
	if (!indented)
		p->ctx = C_TOP;
	if (kw == NULL) {
		perr(p, "unknown keyword \"%s\"",
		    diag_safe(av[0], strlen(av[0]), safe, sizeof(safe)));
		return;
	}
	if (check_place(p, kw, indented) != 0)
		return;
	if (ac - 1 < kw->minargs || ac - 1 > kw->maxargs) {
		perr(p, "wrong number of values; usage: %s", kw->usage);
		r = -1;
	} else {
		av[0] = (char *)kw->name;
		r = kw->fn(p, ac, av);
	}
	/* A bad block header was reported once: skip its lines. */
	if (r != 0 && (kw->fn == kw_user || kw->fn == kw_group))
		p->ctx = C_SKIP;
}

void
policy_parser_line(struct policy_parser *p, const char *line, size_t len)
{
	char buf[TEXTFILE_LINE_MAX + 1], err[DIAG_MSG_MAX];
	char *av[MAX_WORDS];
	int ac;

	p->line++;
	ac = textfile_words(line, len, buf, av, MAX_WORDS, 1, err,
	    sizeof(err));
	if (ac == -1 || ac == -2) {
		if (ac == -1)
			perr(p, "%s", err);
		else
			perr(p, "more than %d words on one line", MAX_WORDS);
		return;
	}
	if (ac == 0)
		return;
	dispatch(p, ac, av, buf[0] == ' ' || buf[0] == '\t');
}

struct policy_parser *
policy_parser_new(const char *name, int flags, diag_fn *fn, void *ctx)
{
	struct policy_parser *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if ((p->pol = calloc(1, sizeof(*p->pol))) == NULL ||
	    (p->pol->file = strdup(name)) == NULL) {
		free(p->pol);
		free(p);
		return NULL;
	}
	p->d.fn = fn;
	p->d.ctx = ctx;
	p->flags = flags;
	p->ctx = C_TOP;
	return p;
}

static void
resolve_members(struct policy_parser *p)
{
	struct policy *pol = p->pol;
	struct pending_member *m;
	struct policy_user *u;
	size_t i, g;

	for (i = 0; i < p->nmembers; i++) {
		m = &p->members[i];
		u = &pol->users[m->user];
		for (g = 0; g < pol->ngroups; g++) {
			if (strcmp(pol->groups[g].name, m->name) == 0)
				break;
		}
		if (g == pol->ngroups) {
			diag_at(&p->d, pol->file, m->line, "user %s is a "
			    "member of unknown group \"%s\"", u->name,
			    m->name);
			continue;
		}
		if (grow_or_fail(p, (void **)&u->groups, &u->ngroups,
		    sizeof(*u->groups)) == 0)
			u->groups[u->ngroups - 1] = g;
	}
}

static void
effective_limits(const struct limits_src *user, const struct limits_src *def,
    struct policy_limits *out)
{
	static const struct policy_limits builtin = {
		POLICY_DEF_MAX_CONNECTIONS, POLICY_DEF_MAX_CHANNELS,
		POLICY_DEF_IDLE_TIMEOUT, POLICY_DEF_MAX_SESSION_TIME,
	};

#define PICK(bit, f) (user->set & (bit) ? user->v.f : \
	def->set & (bit) ? def->v.f : builtin.f)
	out->max_connections = PICK(LIM_CONN, max_connections);
	out->max_channels = PICK(LIM_CHAN, max_channels);
	out->idle_timeout = PICK(LIM_IDLE, idle_timeout);
	out->max_session_time = PICK(LIM_LIFE, max_session_time);
#undef PICK
}

/*
 * May u have DNS relayed?  The user's own line decides; else its groups,
 * where one "deny" outweighs any "allow" (deny always wins); else the top
 * level; else no.
 */
static int
effective_dns(const struct policy *pol, const struct policy_user *u)
{
	enum dns_mode m = DNS_UNSET, g;
	size_t i;

	if (u->dns != DNS_UNSET)
		return u->dns == DNS_ALLOW;
	for (i = 0; i < u->ngroups; i++) {
		g = pol->groups[u->groups[i]].dns;
		if (g == DNS_DENY)
			return 0;
		if (g == DNS_ALLOW)
			m = DNS_ALLOW;
	}
	if (m != DNS_UNSET)
		return 1;
	return pol->dns == DNS_ALLOW;
}

static void
check_users(struct policy_parser *p)
{
	struct policy *pol = p->pol;
	struct policy_user *u;
	size_t i;

	for (i = 0; i < pol->nusers; i++) {
		u = &pol->users[i];
		if (!u->has_keyspec)
			diag_at(&p->d, pol->file, u->line, "user %s has no "
			    "key or keys-file", u->name);
		if (u->totp_none && u->nfrom == 0)
			diag_at(&p->d, pol->file, u->totp_line, "totp none "
			    "for user %s requires 'from': a key-only account "
			    "must be limited to known source addresses",
			    u->name);
		effective_limits(&u->lim, &pol->defaults, &u->eff);
		u->knock_required = u->knock == KNOCK_REQUIRED ||
		    (u->knock == KNOCK_UNSET && pol->knock == KNOCK_REQUIRED);
		u->dns_allowed = effective_dns(pol, u);
	}
}

int
policy_parser_finish(struct policy_parser *p, struct policy **out)
{
	int ok;

	*out = NULL;
	resolve_members(p);
	check_users(p);
	ok = p->d.count == 0;
	if (ok)
		*out = p->pol;
	else
		policy_free(p->pol);
	free(p->members);
	free(p);
	return ok ? 0 : -1;
}

int
policy_load_buf(const char *name, const char *buf, size_t len, int flags,
    diag_fn *fn, void *ctx, struct policy **out)
{
	struct policy_parser *p;
	const char *line;
	size_t off = 0, linelen;

	*out = NULL;
	if ((p = policy_parser_new(name, flags, fn, ctx)) == NULL) {
		if (fn != NULL)
			fn(ctx, "out of memory");
		return -1;
	}
	while (textfile_next(buf, len, &off, &line, &linelen))
		policy_parser_line(p, line, linelen);
	return policy_parser_finish(p, out);
}

int
policy_load_file(const char *path, int flags, diag_fn *fn, void *ctx,
    struct policy **out)
{
	struct diag d = { fn, ctx, 0 };
	char err[DIAG_MSG_MAX], *buf;
	size_t len;
	int r;

	*out = NULL;
	if (textfile_read(path, &buf, &len, err, sizeof(err)) != 0) {
		diag_at(&d, path, 0, "%s", err);
		return -1;
	}
	r = policy_load_buf(path, buf, len, flags, fn, ctx, out);
	free(buf);
	return r;
}

void
policy_free(struct policy *pol)
{
	struct policy_user *u;
	size_t i, j;

	if (pol == NULL)
		return;
	for (i = 0; i < pol->nusers; i++) {
		u = &pol->users[i];
		for (j = 0; j < u->nkeys; j++)
			pubkey_clear(&u->keys[j].key);
		for (j = 0; j < u->nkeyfiles; j++)
			free(u->keyfiles[j]);
		free(u->keys);
		free(u->keyfiles);
		free(u->groups);
		free(u->from);
	}
	for (i = 0; i < pol->nrules; i++)
		free(pol->rules[i].dests);
	free(pol->users);
	free(pol->groups);
	free(pol->rules);
	free(pol->lifts);
	free(pol->file);
	free(pol);
}
