/*
 * policy_match: answering questions with a loaded policy.
 *
 * Destination decisions go address by address.  For each address: any
 * matching deny rule (global, group or user, file order) denies; else the
 * built-in deny list denies unless a lift-default-deny covers the address;
 * else the first matching allow rule allows; else nothing matched and it is
 * denied.  A name is allowed only if every address it resolved to is.
 */
#include <sys/socket.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "policy_int.h"

const struct policy_user *
policy_user_find(const struct policy *pol, const char *name)
{
	size_t i;

	for (i = 0; i < pol->nusers; i++) {
		if (strcmp(pol->users[i].name, name) == 0)
			return &pol->users[i];
	}
	return NULL;
}

const char *
policy_user_name(const struct policy_user *u)
{
	return u->name;
}

int
policy_user_totp_required(const struct policy_user *u)
{
	return !u->totp_none;
}

int
policy_user_expired(const struct policy_user *u, time_t now)
{
	/* expires_line, not expires: 1970-01-01T00:00:00Z is time 0. */
	return u->expires_line != 0 && now >= u->expires;
}

int
policy_user_source_ok(const struct policy_user *u, const struct addr *src)
{
	size_t i;

	if (u->nfrom == 0)
		return 1;
	for (i = 0; i < u->nfrom; i++) {
		if (addr_in_net(src, &u->from[i]))
			return 1;
	}
	return 0;
}

int
policy_user_has_key(const struct policy_user *u, const uint8_t *blob,
    size_t len)
{
	size_t i;

	for (i = 0; i < u->nkeys; i++) {
		/* A knock key file has no passphrase: it never logs in. */
		if (!u->keys[i].knock_only &&
		    pubkey_blob_eq(&u->keys[i].key, blob, len))
			return 1;
	}
	return 0;
}

int
policy_user_knock_required(const struct policy_user *u)
{
	return u->knock_required;
}

size_t
policy_knock_required_users(const struct policy *pol)
{
	size_t i, n = 0;

	for (i = 0; i < pol->nusers; i++)
		n += pol->users[i].knock_required != 0;
	return n;
}

int
policy_user_knock_key(const struct policy_user *u, const uint8_t key_id[32],
    uint8_t pk[32])
{
	const struct ukey *k;
	size_t i;

	for (i = 0; i < u->nkeys; i++) {
		k = &u->keys[i];
		if (k->has_id && memcmp(k->key_id, key_id, 32) == 0) {
			/* The blob ends with the 32-byte public key. */
			memcpy(pk, k->key.blob + k->key.bloblen - 32, 32);
			return 1;
		}
	}
	return 0;
}

int
policy_user_dns_allowed(const struct policy_user *u)
{
	return u->dns_allowed;
}

void
policy_user_limits(const struct policy_user *u, struct policy_limits *out)
{
	*out = u->eff;
}

int
policy_rule_applies(const struct policy *pol, const struct policy_user *u,
    const struct rule *r)
{
	size_t i;

	switch (r->scope) {
	case SCOPE_GLOBAL:
		return 1;
	case SCOPE_USER:
		return r->owner == (size_t)(u - pol->users);
	case SCOPE_GROUP:
		for (i = 0; i < u->ngroups; i++) {
			if (u->groups[i] == r->owner)
				return 1;
		}
		return 0;
	}
	return 0;
}

static int
rule_matches(const struct rule *r, const char *name, const struct addr *a,
    unsigned int port)
{
	const struct dest *d;
	size_t i;

	if (!conv_ports_match(r->ports, r->nports, port))
		return 0;
	for (i = 0; i < r->ndests; i++) {
		d = &r->dests[i];
		if (d->is_name ? name != NULL && hostname_match(d->pattern,
		    name) : addr_in_net(a, &d->net))
			return 1;
	}
	return 0;
}

static void
verdict_rule(const struct policy *pol, const struct rule *r,
    struct policy_verdict *v)
{
	char text[POLICY_REASON_MAX];

	policy_rule_str(r, text, sizeof(text));
	snprintf(v->rule, sizeof(v->rule), "%s:%lu", pol->file, r->line);
	snprintf(v->reason, sizeof(v->reason), "%s by %s (%s)",
	    r->action == RULE_DENY ? "denied" : "allowed", v->rule, text);
}

/* The first explicit rule of the given action that matches, or NULL. */
static const struct rule *
first_match(const struct policy *pol, const struct policy_user *u,
    enum rule_action act, const char *name, const struct addr *a,
    unsigned int port)
{
	size_t i;

	for (i = 0; i < pol->nrules; i++) {
		if (pol->rules[i].action == act &&
		    policy_rule_applies(pol, u, &pol->rules[i]) &&
		    rule_matches(&pol->rules[i], name, a, port))
			return &pol->rules[i];
	}
	return NULL;
}

static int
builtin_denied(const struct policy *pol, const struct addr *a,
    struct policy_verdict *v)
{
	struct addr_net net;
	size_t i;

	for (i = 0; i < pol->nlifts; i++) {
		if (addr_in_net(a, &pol->lifts[i].net))
			return 0;
	}
	for (i = 0; i < policy_builtin_ndeny; i++) {
		if (addr_parse_net(policy_builtin_deny[i], &net) == 0 &&
		    addr_in_net(a, &net)) {
			snprintf(v->rule, sizeof(v->rule), "built-in");
			snprintf(v->reason, sizeof(v->reason), "denied by the "
			    "built-in deny list (%s)", policy_builtin_deny[i]);
			return 1;
		}
	}
	return 0;
}

static void
decide_addr(const struct policy *pol, const struct policy_user *u,
    const char *name, unsigned int port, struct policy_verdict *v)
{
	const struct rule *r;

	v->allowed = 0;
	if ((r = first_match(pol, u, RULE_DENY, name, &v->addr, port))
	    != NULL) {
		verdict_rule(pol, r, v);
		return;
	}
	if (builtin_denied(pol, &v->addr, v))
		return;
	if ((r = first_match(pol, u, RULE_ALLOW, name, &v->addr, port))
	    != NULL) {
		verdict_rule(pol, r, v);
		v->allowed = 1;
		return;
	}
	v->rule[0] = '\0';
	snprintf(v->reason, sizeof(v->reason), "no rule matches");
}

static int
refuse(struct policy_decision *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
refuse(struct policy_decision *d, const char *fmt, ...)
{
	va_list ap;

	d->allowed = 0;
	d->rule[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
	va_end(ap);
	return 0;
}

/* Fill d->addr from the literal or the resolved list; 0 or refuse(). */
static int
collect_addrs(const char *host, const struct addr *addrs, size_t naddrs,
    char *name, size_t namelen, struct policy_decision *d)
{
	char err[POLICY_REASON_MAX], safe[80];
	struct addr lit;
	size_t i;

	if (addr_parse(host, &lit) == 0) {
		/* A literal is decided on itself, whatever was passed. */
		name[0] = '\0';
		d->naddrs = 1;
		d->addr[0].addr = lit;
		return 1;
	}
	if (hostname_normalise(host, name, namelen, err, sizeof(err)) != 0) {
		snprintf(d->reason, sizeof(d->reason), "invalid host name "
		    "\"%s\": %s", diag_safe(host, strlen(host), safe,
		    sizeof(safe)), err);
		d->allowed = 0;
		return 0;
	}
	if (naddrs == 0)
		return refuse(d, "%s did not resolve to any address", name);
	if (naddrs > POLICY_MAX_ADDRS)
		return refuse(d, "%s resolved to too many addresses", name);
	d->naddrs = naddrs;
	for (i = 0; i < naddrs; i++) {
		d->addr[i].addr = addrs[i];
		addr_normalise(&d->addr[i].addr);
	}
	return 1;
}

int
policy_decide(const struct policy *pol, const char *user, const char *host,
    const struct addr *addrs, size_t naddrs, unsigned int port, time_t now,
    struct policy_decision *d)
{
	const struct policy_user *u;
	const struct policy_verdict *bad = NULL;
	char name[HOSTNAME_MAX + 1], a[ADDR_STRLEN];
	size_t i;

	memset(d, 0, sizeof(*d));
	if (port < 1 || port > 65535) {
		snprintf(d->reason, sizeof(d->reason), "port %u is not valid",
		    port);
		return -1;
	}
	if ((u = policy_user_find(pol, user)) == NULL)
		return refuse(d, "unknown user");
	if (policy_user_expired(u, now))
		return refuse(d, "account expired (%s)", u->expires_text);
	if (!collect_addrs(host, addrs, naddrs, name, sizeof(name), d))
		return 0;
	for (i = 0; i < d->naddrs; i++) {
		decide_addr(pol, u, name[0] ? name : NULL, port, &d->addr[i]);
		if (!d->addr[i].allowed && bad == NULL)
			bad = &d->addr[i];
	}
	d->allowed = bad == NULL;
	if (bad == NULL)
		bad = &d->addr[0];
	snprintf(d->rule, sizeof(d->rule), "%s", bad->rule);
	if (name[0] != '\0' && !d->allowed && d->naddrs > 1) {
		addr_ntop(&bad->addr, a, sizeof(a));
		snprintf(d->reason, sizeof(d->reason), "%s resolves to %s, "
		    "%s", name, a, bad->reason);
	} else
		snprintf(d->reason, sizeof(d->reason), "%s", bad->reason);
	return 0;
}
